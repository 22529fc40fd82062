//! The data, models and training loop of the three real-data examples
//! (`binary_logistic_regression`, `softmax_regression`, `mlp_digits`).
//!
//! They live here, not in the examples, so that `tests/examples_reference.rs`
//! runs exactly the code the examples run and compares its loss curves with
//! PyTorch's (`examples/reference/make_references.py`).
//!
//! Training is full-batch gradient descent: every step sees all training
//! rows, so there is no shuffling and a step of tapegrad is the same
//! computation as a step of PyTorch. That is what makes the curves
//! comparable number by number.

use std::path::PathBuf;

use tapegrad::data::{accuracy, binary_accuracy, read_csv, Dataset, Standardizer};
use tapegrad::nn::functional as F;
use tapegrad::nn::{mlp, Activation, Linear, Module};
use tapegrad::optim::{Optimizer, SgdConfig, SGD};
use tapegrad::{no_grad, seeded_rng, DType, Result, Tensor};

/// Where the datasets are, whatever the working directory.
pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(format!("{name}.csv"))
}

/// Where the PyTorch reference files are.
pub fn reference_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("reference")
        .join(file)
}

/// A dataset from `data/`, split and standardised as `data/README.md` says.
pub struct Split {
    /// `iris`, `breast_cancer` or `digits`.
    pub name: &'static str,
    /// The first `n_train` rows, standardised.
    pub train: Dataset,
    /// The other rows, standardised with the training statistics.
    pub test: Dataset,
    /// The training rows before standardisation (to show them to a reader).
    pub train_raw: Dataset,
    /// The test rows before standardisation.
    pub test_raw: Dataset,
    /// Column names of the features.
    pub feature_names: Vec<String>,
    /// Number of classes.
    pub classes: usize,
    /// The fitted standardiser (training statistics).
    pub scaler: Standardizer,
}

/// Rows used for training in each dataset (`data/README.md`).
pub fn n_train(name: &str) -> usize {
    match name {
        "iris" => 120,
        "breast_cancer" => 454,
        "digits" => 1433,
        other => panic!("unknown dataset {other}"),
    }
}

/// Loads `data/<name>.csv` as float32: the first `n_train` rows are train;
/// both parts are standardised with the training rows' mean and
/// population std (std 0 → divide by 1).
pub fn load(name: &'static str) -> Result<Split> {
    let table = read_csv(data_path(name), "label", DType::F32)?;
    let (train_raw, test_raw) = table.dataset()?.split_at(n_train(name))?;
    let scaler = Standardizer::fit(train_raw.features())?;
    let train = train_raw.map_features(|x| scaler.transform(x))?;
    let test = test_raw.map_features(|x| scaler.transform(x))?;
    let classes = match name {
        "breast_cancer" => 2,
        "iris" => 3,
        _ => 10,
    };
    Ok(Split {
        name,
        train,
        test,
        train_raw,
        test_raw,
        feature_names: table.feature_names.clone(),
        classes,
        scaler,
    })
}

/// An 8×8 digit (intensities 0..16) drawn with characters.
pub fn digit_art(pixels: &[f32]) -> String {
    let shades = [' ', '.', ':', '+', '#'];
    pixels
        .chunks(8)
        .map(|row| {
            let line: String = row
                .iter()
                .map(|&v| shades[((v / 16.0 * 4.0).round() as usize).min(4)])
                .flat_map(|c| [c, c])
                .collect();
            format!("    |{line}|")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The loss a case trains with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// `binary_cross_entropy(sigmoid(z), y)` on one logit per row: the
    /// textbook form.
    BceOfSigmoid,
    /// `binary_cross_entropy_with_logits(z, y)`: the same loss, computed stably.
    BceWithLogits,
    /// `cross_entropy(z, y)` on one logit per class.
    CrossEntropy,
}

impl Loss {
    /// The mean loss of `logits` against `labels`.
    pub fn compute(self, logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
        match self {
            Loss::BceOfSigmoid => {
                F::binary_cross_entropy(&F::sigmoid(&logits.try_squeeze(1)?)?, labels)
            }
            Loss::BceWithLogits => {
                F::binary_cross_entropy_with_logits(&logits.try_squeeze(1)?, labels)
            }
            Loss::CrossEntropy => F::cross_entropy(logits, labels),
        }
    }

    /// The fraction of rows whose predicted class is the label: for one
    /// logit per row the prediction is `z > 0` (P > 0.5), otherwise the
    /// largest logit.
    pub fn accuracy(self, logits: &Tensor, labels: &Tensor) -> Result<f64> {
        match self {
            Loss::CrossEntropy => accuracy(logits, labels),
            _ => binary_accuracy(logits, labels, 0.0),
        }
    }
}

/// One training recipe: the data, the model, the loss and the defaults.
/// `make_references.py` trains the same recipes with PyTorch.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// File stem of the reference files in `examples/reference/`.
    pub name: &'static str,
    /// The dataset in `data/`.
    pub dataset: &'static str,
    /// Layer sizes: `[inputs, outputs]` for a linear model,
    /// `[inputs, hidden, outputs]` for an MLP with ReLU.
    pub sizes: &'static [usize],
    /// The loss.
    pub loss: Loss,
    /// Default number of full-batch steps (one per epoch).
    pub epochs: usize,
    /// Default learning rate.
    pub lr: f64,
    /// SGD momentum (0: plain gradient descent).
    pub momentum: f64,
    /// The lowest test accuracy the example accepts (it exits with an error
    /// below it; CI runs the examples with `--quick`). Each floor is
    /// justified from the PyTorch reference next to it, and
    /// tests/examples_reference.rs checks that the reference clears it both
    /// after the quick run's epochs and after the full run's.
    pub floor: f64,
}

/// Logistic regression on breast cancer: P(benign) = σ(w·x + b).
pub const LOGISTIC: Case = Case {
    name: "breast_cancer_logistic",
    dataset: "breast_cancer",
    sizes: &[30, 1],
    loss: Loss::BceOfSigmoid,
    epochs: 100,
    lr: 0.5,
    momentum: 0.0,
    // PyTorch from the same init: 0.9739 test accuracy after 25 epochs (--quick)
    // and after 100; scikit-learn's LogisticRegression: 0.9826. tapegrad with
    // seeds 0-5: 0.974-0.983, quick or not. The floor allows 2 more mistakes
    // among 115 than the worst of those (the majority class alone scores 0.626).
    floor: 0.95,
};

/// Softmax regression on iris.
pub const SOFTMAX_IRIS: Case = Case {
    name: "iris_softmax",
    dataset: "iris",
    sizes: &[4, 3],
    loss: Loss::CrossEntropy,
    epochs: 100,
    lr: 0.5,
    momentum: 0.0,
    // PyTorch: 0.9000 after 25 epochs, 0.9667 after 100; scikit-learn 0.9667.
    // tapegrad, seeds 0-5: 0.867-0.900 quick, 0.967 full. 30 test rows, so one
    // mistake is 0.033: the floor allows 1 more mistake than the worst quick
    // run (chance is 0.333).
    floor: 0.83,
};

/// Softmax regression on digits.
pub const SOFTMAX_DIGITS: Case = Case {
    name: "digits_softmax",
    dataset: "digits",
    sizes: &[64, 10],
    loss: Loss::CrossEntropy,
    epochs: 100,
    lr: 0.5,
    momentum: 0.0,
    // PyTorch: 0.9341 after 25 epochs, 0.9560 after 100; scikit-learn 0.9670.
    // tapegrad, seeds 0-5: 0.926-0.937 quick, 0.953-0.956 full. The floor
    // allows ~9 more mistakes of 364 than the worst quick run (chance: 0.1).
    floor: 0.90,
};

/// A 64-64-10 ReLU MLP on digits, SGD with momentum 0.9.
pub const MLP_DIGITS: Case = Case {
    name: "digits_mlp",
    dataset: "digits",
    sizes: &[64, 64, 10],
    loss: Loss::CrossEntropy,
    epochs: 200,
    lr: 0.1,
    momentum: 0.9,
    // PyTorch: 0.9560 after 50 epochs, 0.9670 after 200 (softmax regression:
    // 0.9341 and 0.9560). tapegrad, seeds 0-5: 0.950-0.964 quick, 0.964-0.973
    // full. The floor allows ~7 more mistakes of 364 than the worst quick run.
    floor: 0.93,
};

/// All cases with a PyTorch reference.
pub const CASES: [Case; 4] = [LOGISTIC, SOFTMAX_IRIS, SOFTMAX_DIGITS, MLP_DIGITS];

impl Case {
    /// The model with PyTorch's default initialisation drawn from `seed`:
    /// a `Linear` for two sizes, an MLP (`0.weight`, `0.bias`, `2.weight`,
    /// `2.bias`, as PyTorch's `nn.Sequential` names them) for more.
    pub fn model(&self, seed: u64) -> Result<Box<dyn Module>> {
        let mut rng = seeded_rng(seed);
        Ok(if self.sizes.len() == 2 {
            Box::new(Linear::new(self.sizes[0], self.sizes[1], true, &mut rng))
        } else {
            Box::new(mlp(self.sizes, Activation::Relu, &mut rng)?)
        })
    }

    /// The SGD optimizer of this case at learning rate `lr`.
    pub fn optimizer(&self, model: &dyn Module, lr: f64) -> Result<SGD> {
        SGD::new(
            model.parameters(),
            SgdConfig {
                lr,
                momentum: self.momentum,
                ..Default::default()
            },
        )
    }
}

/// What one training run records, one entry per epoch.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Mean training loss of the forward pass each step differentiates
    /// (measured before that step's update, as PyTorch loops log it).
    pub loss: Vec<f64>,
    /// Training accuracy of that same forward pass.
    pub acc: Vec<f64>,
}

/// Full-batch training: `epochs` times zero_grad → forward on all training
/// rows → loss → backward → step. `on_epoch(epoch, loss, acc)` is called
/// after each step (epochs count from 1). The test rows are not touched.
pub fn train(
    model: &dyn Module,
    data: &Dataset,
    loss: Loss,
    optimizer: &mut dyn Optimizer,
    epochs: usize,
    mut on_epoch: impl FnMut(usize, f64, f64),
) -> Result<History> {
    let mut history = History::default();
    for epoch in 1..=epochs {
        optimizer.zero_grad();
        let logits = model.try_forward(data.features())?;
        let value = loss.compute(&logits, data.labels())?;
        let acc = no_grad(|| loss.accuracy(&logits.detach(), data.labels()))?;
        value.backward();
        optimizer.step()?;
        let value = value.try_item::<f64>()?;
        history.loss.push(value);
        history.acc.push(acc);
        on_epoch(epoch, value, acc);
    }
    Ok(history)
}

/// "final loss 0.060712" for a run's summary line, or "no training" when
/// it had no epochs.
pub fn final_loss(history: &History) -> String {
    match history.loss.last() {
        Some(loss) => format!("final loss {loss:.6}"),
        None => "no training (0 epochs)".into(),
    }
}

/// The model's logits on `x`, without recording a graph.
pub fn logits(model: &dyn Module, x: &Tensor) -> Result<Tensor> {
    no_grad(|| model.try_forward(x))
}

/// Accuracy of `model` on `data` under `loss`'s decision rule.
pub fn evaluate(model: &dyn Module, data: &Dataset, loss: Loss) -> Result<f64> {
    loss.accuracy(&logits(model, data.features())?, data.labels())
}

/// A case trained with its own defaults at seed `seed`, quietly: the final
/// history and test accuracy. `mlp_digits` uses it for its softmax baseline.
pub fn run_defaults(
    case: &Case,
    split: &Split,
    seed: u64,
    epochs: usize,
) -> Result<(History, f64)> {
    let model = case.model(seed)?;
    let mut optimizer = case.optimizer(&*model, case.lr)?;
    let history = train(
        &*model,
        &split.train,
        case.loss,
        &mut optimizer,
        epochs,
        |_, _, _| {},
    )?;
    let acc = evaluate(&*model, &split.test, case.loss)?;
    Ok((history, acc))
}

/// The PyTorch run of a case, as `make_references.py` wrote it.
pub struct Reference {
    /// Training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Training accuracy per epoch.
    pub train_acc: Vec<f64>,
    /// Test accuracy after each epoch's step.
    pub test_acc: Vec<f64>,
    /// scikit-learn's `LogisticRegression()` (C = 1) test accuracy on the
    /// same split and standardisation.
    pub sklearn_test_acc: f64,
    /// Epochs, learning rate, momentum and seed of the reference run.
    pub epochs: usize,
    /// Learning rate.
    pub lr: f64,
    /// Momentum.
    pub momentum: f64,
    /// The seed whose tapegrad initialisation the reference started from.
    pub seed: u64,
}

/// Reads `examples/reference/<case>.json`.
pub fn reference(case: &Case) -> std::result::Result<Reference, String> {
    let path = reference_path(&format!("{}.json", case.name));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let list = |key: &str| -> std::result::Result<Vec<f64>, String> {
        v[key]
            .as_array()
            .ok_or_else(|| format!("{}: no list '{key}'", path.display()))?
            .iter()
            .map(|x| x.as_f64().ok_or_else(|| format!("{key}: not a number")))
            .collect()
    };
    let num = |key: &str| -> std::result::Result<f64, String> {
        v[key]
            .as_f64()
            .ok_or_else(|| format!("{}: no number '{key}'", path.display()))
    };
    Ok(Reference {
        train_loss: list("train_loss")?,
        train_acc: list("train_acc")?,
        test_acc: list("test_acc")?,
        sklearn_test_acc: num("sklearn_logistic_regression_test_acc")?,
        epochs: num("epochs")? as usize,
        lr: num("lr")?,
        momentum: num("momentum")?,
        seed: num("seed")? as u64,
    })
}

/// One printed line comparing a run with its PyTorch reference, when the
/// run used the reference's settings (otherwise a note saying so).
pub fn compare_with_reference(case: &Case, history: &History, lr: f64, seed: u64) -> String {
    let r = match reference(case) {
        Ok(r) => r,
        Err(e) => return format!("(no PyTorch reference: {e})"),
    };
    let n = history.loss.len();
    if lr != r.lr || seed != r.seed || n == 0 || n > r.epochs {
        return format!(
            "(the PyTorch reference used --epochs {} --lr {} --seed {}; this run differs, so no comparison)",
            r.epochs, r.lr, r.seed
        );
    }
    let max_diff = history
        .loss
        .iter()
        .zip(&r.train_loss)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    format!(
        "PyTorch from the same initial weights, {n} steps: final loss {:.6}, test accuracy {:.4} \
         (largest per-epoch loss gap to tapegrad: {max_diff:.1e})\n\
         scikit-learn LogisticRegression() on the same split: test accuracy {:.4}",
        r.train_loss[n - 1],
        r.test_acc[n - 1],
        r.sklearn_test_acc
    )
}

/// Writes the initial weights of `case` at `seed` to
/// `dir/<case>.init.safetensors` (the `--save-init` flag), for the PyTorch
/// reference to start from.
pub fn save_init(case: &Case, seed: u64, dir: &std::path::Path) -> Result<PathBuf> {
    // The checkpoint writer reports its own I/O errors; the directory must exist first.
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{}.init.safetensors", case.name));
    tapegrad::checkpoint::save(&*case.model(seed)?, &path)?;
    Ok(path)
}
