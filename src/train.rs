//! The training loop, written out.
//!
//! tapegrad has no `fit()` that hides the loop: the loop is short, and
//! seeing each step is what makes it easy to change. This is the pattern
//! (PyTorch's), on the iris data shipped in `data/`:
//!
//! ```
//! use tapegrad::data::{accuracy, read_csv, DataLoader, Standardizer};
//! use tapegrad::nn::functional::cross_entropy;
//! use tapegrad::nn::{mlp, Activation, Module};
//! use tapegrad::optim::{Adam, AdamConfig, Optimizer};
//! use tapegrad::train::evaluate;
//! use tapegrad::{no_grad, seeded_rng, DType, Result, Tensor};
//!
//! # fn main() -> Result<()> {
//! // Data: the first 120 rows are the training part; standardise with its statistics only.
//! let table = read_csv("data/iris.csv", "label", DType::F32)?;
//! let (train, test) = table.dataset()?.split_at(120)?;
//! let scaler = Standardizer::fit(train.features())?;
//! let train = train.map_features(|x| scaler.transform(x))?;
//! let test = test.map_features(|x| scaler.transform(x))?;
//!
//! // Model and optimizer, all randomness from seeds.
//! let mut model = mlp(&[4, 16, 3], Activation::Relu, &mut seeded_rng(0))?;
//! let mut optimizer = Adam::new(model.parameters(), AdamConfig { lr: 0.02, ..Default::default() })?;
//! let loader = DataLoader::new(&train, 16)?.shuffle(42);
//! // The model outputs logits; cross_entropy takes them with the class ids and returns
//! // the batch's mean −log p(true class) (torch.nn.functional.cross_entropy).
//! let loss_fn = |out: &Tensor, labels: &Tensor| -> Result<Tensor> { cross_entropy(out, labels) };
//!
//! for epoch in 0..30 {
//!     model.train();
//!     let mut total = 0.0;
//!     for (x, y) in loader.epoch(epoch) {
//!         optimizer.zero_grad();            // clear last step's gradients
//!         let out = model.try_forward(&x)?; // forward
//!         let loss = loss_fn(&out, &y)?;    // loss
//!         loss.backward();                  // backward: fills each parameter's .grad()
//!         optimizer.step()?;                // update the parameters
//!         total += loss.item::<f64>() * x.dims()[0] as f64;
//!     }
//!     let train_loss = total / train.len() as f64;
//!     // Evaluate: eval mode (dropout off) and no graph recorded.
//!     let stats = evaluate(&mut model, &test, 64, loss_fn)?;
//!     if epoch % 10 == 9 {
//!         println!("epoch {epoch}: train loss {train_loss:.4}, test loss {:.4}, test accuracy {:.3}",
//!                  stats.loss, stats.accuracy.unwrap());
//!     }
//! }
//! model.eval();
//! let logits = no_grad(|| model.forward(test.features()));
//! assert!(accuracy(&logits, test.labels())? > 0.9);
//! # Ok(())
//! # }
//! ```
//!
//! Notes:
//! - `zero_grad` matters: gradients accumulate across `backward` calls, as
//!   in PyTorch.
//! - `backward` releases the tape; a forward pass that is never
//!   backpropagated (evaluation) should run under [`no_grad`]
//!   so nothing is recorded. [`evaluate`] does that.
//! - An LR scheduler steps once per epoch, after the batches:
//!   `scheduler.step(&mut optimizer)?` (see [`crate::optim::StepLR`]).
//! - To stop and resume, save both files with
//!   [`checkpoint::save`](crate::checkpoint::save) and
//!   [`checkpoint::save_optimizer`](crate::checkpoint::save_optimizer).
//!
//! The one helper here is [`evaluate`], because getting it right takes
//! three easy-to-forget details: eval mode, `no_grad`, and restoring the
//! previous mode afterwards.

use crate::autograd::no_grad;
use crate::data::{accuracy, DataLoader, Dataset};
use crate::error::Result;
use crate::nn::Module;
use crate::tensor::Tensor;

/// Loss and accuracy over a dataset, as [`evaluate`] reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalStats {
    /// Mean loss per sample (each batch's mean loss weighted by its size).
    pub loss: f64,
    /// Fraction of samples whose highest output is the label, when the model
    /// outputs `[batch, classes]` scores with at least 2 classes; `None`
    /// otherwise.
    pub accuracy: Option<f64>,
    /// Number of samples seen.
    pub samples: usize,
}

/// Runs `model` over `dataset` in evaluation mode without recording a graph,
/// in batches of `batch_size`, and reports the mean of `loss_fn(output,
/// labels)` (which must return the batch's mean loss, as PyTorch's losses do
/// by default) and the accuracy. The model's previous train/eval mode is
/// restored afterwards.
pub fn evaluate(
    model: &mut dyn Module,
    dataset: &Dataset,
    batch_size: usize,
    loss_fn: impl Fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> Result<EvalStats> {
    let was_training = model.is_training();
    model.eval();
    let result = no_grad(|| -> Result<EvalStats> {
        let (mut loss, mut correct, mut n, mut classified) = (0.0, 0.0, 0usize, true);
        for (x, y) in DataLoader::new(dataset, batch_size)?.epoch(0) {
            let out = model.try_forward(&x)?;
            let b = x.dims()[0];
            loss += loss_fn(&out, &y)?.try_item::<f64>()? * b as f64;
            if out.ndim() == 2 && out.dims()[1] >= 2 && classified {
                correct += accuracy(&out, &y)? * b as f64;
            } else {
                classified = false;
            }
            n += b;
        }
        let mean = |v: f64| if n == 0 { 0.0 } else { v / n as f64 };
        Ok(EvalStats {
            loss: mean(loss),
            accuracy: classified.then(|| mean(correct)),
            samples: n,
        })
    });
    model.set_training(was_training);
    result
}
