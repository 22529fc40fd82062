//! [`Sequential`] (`torch.nn.Sequential`) and the [`mlp`] convenience.

use rand::Rng;

use super::activation::Activation;
use super::linear::Linear;
use super::module::{prefixed, Module};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Modules applied one after the other (`torch.nn.Sequential`).
///
/// Children are named by their position, as in PyTorch: the parameters of
/// the first child are `0.weight`, `0.bias`, and so on. Parameter-free
/// children (activations, dropout) still take a position, so
/// `Linear, ReLU, Linear` has `0.*` and `2.*`, exactly like the PyTorch
/// `nn.Sequential` with the same layers, and checkpoints move between the two.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    training: bool,
}

impl Sequential {
    /// An empty sequence (the identity), in training mode.
    pub fn new() -> Self {
        Sequential {
            layers: Vec::new(),
            training: true,
        }
    }

    /// Appends a module, builder style (`Sequential.append`).
    pub fn append(mut self, layer: impl Module + 'static) -> Self {
        self.push(Box::new(layer));
        self
    }

    /// Appends a boxed module (`Sequential.append`). It is put in this
    /// sequence's current mode.
    pub fn push(&mut self, mut layer: Box<dyn Module>) {
        layer.set_training(self.training);
        self.layers.push(layer);
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when there are no children.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The child at `index`, if any.
    pub fn get(&self, index: usize) -> Option<&dyn Module> {
        self.layers.get(index).map(|b| &**b)
    }
}

impl Module for Sequential {
    fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
        let mut x = input.clone();
        for layer in &self.layers {
            x = layer.try_forward(&x)?;
        }
        Ok(x)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| prefixed(&i.to_string(), &**layer))
            .collect()
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }

    fn is_training(&self) -> bool {
        self.training
    }
    fn repr(&self) -> String {
        super::repr::sequential_repr(self)
    }
}

/// A multi-layer perceptron: `Linear(sizes[0], sizes[1])`, activation,
/// `Linear(sizes[1], sizes[2])`, activation, ..., and a final `Linear` with
/// no activation after it (the output is logits).
///
/// The layers get PyTorch's default initialisation drawn from `rng`, in
/// order (first layer's weight, its bias, second layer's weight, ...), so a
/// seed fixes the whole model. Parameter names are those of the equivalent
/// PyTorch `nn.Sequential`: `0.weight`, `0.bias`, `2.weight`, ...
///
/// ```
/// use tapegrad::nn::{mlp, Activation, Module};
/// use tapegrad::{seeded_rng, Tensor};
/// let model = mlp(&[784, 256, 128, 10], Activation::Relu, &mut seeded_rng(0)).unwrap();
/// assert_eq!(model.num_parameters(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
/// let logits = model.forward(&Tensor::zeros(&[32, 784]));
/// assert_eq!(logits.dims(), &[32, 10]);
/// ```
pub fn mlp<R: Rng + ?Sized>(
    sizes: &[usize],
    activation: Activation,
    rng: &mut R,
) -> Result<Sequential> {
    if sizes.len() < 2 {
        return Err(Error::invalid(
            "mlp",
            format!("need at least an input and an output size, got {sizes:?}"),
        ));
    }
    // Linear::new panics on a weight that cannot be allocated; mlp reports it.
    for pair in sizes.windows(2) {
        crate::tensor::create::check_alloc("mlp", &[pair[1], pair[0]], crate::DType::F32)?;
    }
    let mut model = Sequential::new();
    for (i, pair) in sizes.windows(2).enumerate() {
        if i > 0 {
            model.push(activation.to_module()?);
        }
        model.push(Box::new(Linear::new(pair[0], pair[1], true, rng)));
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Dropout, ReLU};
    use crate::seeded_rng;

    #[test]
    fn names_follow_pytorch_sequential() {
        let model = mlp(&[3, 4, 5, 2], Activation::Tanh, &mut seeded_rng(0)).unwrap();
        let names: Vec<String> = model
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
        );
        assert_eq!(model.len(), 5);
        assert!(mlp(&[3], Activation::Relu, &mut seeded_rng(0)).is_err());
        let err = mlp(&[4, 1 << 62, 2], Activation::Relu, &mut seeded_rng(0))
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("mlp:"), "{err}");
        assert!(err.to_string().contains("cannot be allocated"), "{err}");
    }

    #[test]
    fn mode_propagates_to_children() {
        let mut model = Sequential::new()
            .append(ReLU)
            .append(Dropout::new(0.5, 1).unwrap());
        assert!(model.is_training() && model.get(1).unwrap().is_training());
        model.eval();
        assert!(!model.is_training() && !model.get(1).unwrap().is_training());
        let x = Tensor::new([1.0f32, -1.0, 2.0]);
        assert_eq!(model.forward(&x).to_vec::<f32>(), vec![1.0, 0.0, 2.0]);
        model.train();
        assert!(model.get(1).unwrap().is_training());
    }
}
