//! The [`Module`] trait: a layer or model with a forward pass, named
//! parameters and a train/eval mode (`torch.nn.Module`).

use crate::error::{or_panic, Result};
use crate::tensor::Tensor;

/// A layer or a whole model (`torch.nn.Module`).
///
/// A module owns its parameters: leaf tensors made with
/// `.requires_grad_(true)` whose gradients [`Tensor::backward`] accumulates.
/// Cloning one of them (as [`parameters`](Module::parameters) does) gives a
/// handle to the *same* parameter, so an optimizer built from
/// `model.parameters()` updates the model in place.
///
/// Parameter names are dotted paths, as in PyTorch's `state_dict`: a
/// [`Linear`](crate::nn::Linear) has `weight` and `bias`; inside a
/// [`Sequential`](crate::nn::Sequential) they become `0.weight`, `0.bias`,
/// `2.weight`, ...; a struct holding that `Sequential` in a field `layers`
/// reports `layers.0.weight` (use [`prefixed`]). The names are the tensor
/// names of a checkpoint, so they must be stable and match the PyTorch model
/// you exchange weights with.
///
/// ```
/// use tapegrad::nn::{self, Module};
/// use tapegrad::{seeded_rng, Result, Tensor};
///
/// /// A model with a named sub-module, like a PyTorch class with `self.layers`.
/// struct Net {
///     layers: nn::Sequential,
/// }
///
/// impl Module for Net {
///     fn try_forward(&self, x: &Tensor) -> Result<Tensor> {
///         self.layers.try_forward(x)
///     }
///     fn named_parameters(&self) -> Vec<(String, Tensor)> {
///         nn::prefixed("layers", &self.layers)
///     }
///     fn set_training(&mut self, training: bool) {
///         self.layers.set_training(training);
///     }
///     fn is_training(&self) -> bool {
///         self.layers.is_training()
///     }
/// }
///
/// let net = Net { layers: nn::mlp(&[4, 8, 3], nn::Activation::Relu, &mut seeded_rng(0)).unwrap() };
/// let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]);
/// ```
pub trait Module {
    /// The forward pass (`Module.forward`), returning an error for inputs of
    /// the wrong shape or dtype.
    fn try_forward(&self, input: &Tensor) -> Result<Tensor>;

    /// Panicking form of [`try_forward`](Module::try_forward) (calling a
    /// PyTorch module, `model(x)`).
    #[track_caller]
    fn forward(&self, input: &Tensor) -> Tensor {
        or_panic(self.try_forward(input))
    }

    /// Every parameter with its dotted name, recursively, in registration
    /// order (`Module.named_parameters`). Modules without parameters return an
    /// empty list.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// The parameters in the order of [`named_parameters`](Module::named_parameters)
    /// (`Module.parameters`): what an optimizer is built from.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// Switches training mode on or off, recursively (`Module.train(mode)`).
    /// Only some modules behave differently, e.g. [`Dropout`](crate::nn::Dropout).
    fn set_training(&mut self, _training: bool) {}

    /// True in training mode (`Module.training`). Modules without a mode of
    /// their own report `true`, PyTorch's default.
    fn is_training(&self) -> bool {
        true
    }

    /// Training mode (`Module.train()`).
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Evaluation mode (`Module.eval()`): dropout off.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Clears every parameter's gradient (`Module.zero_grad()`, which sets
    /// them to `None`).
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// Total number of scalar parameters.
    fn num_parameters(&self) -> usize {
        self.named_parameters().iter().map(|(_, t)| t.numel()).sum()
    }

    /// This module as PyTorch's `print(model)` shows it: its name, its
    /// settings and its children, nested (`Module.__repr__`).
    ///
    /// The crate's layers implement it, and `Display` on them (and on
    /// `dyn Module`) prints it. A model of your own prints as `Net()` by
    /// default; to show its children, return
    /// [`nn::repr_with_children`](crate::nn::repr_with_children):
    ///
    /// ```
    /// # use tapegrad::nn::{self, Module};
    /// # use tapegrad::{seeded_rng, Result, Tensor};
    /// struct Net { layers: nn::Sequential }
    /// impl Module for Net {
    /// #   fn try_forward(&self, x: &Tensor) -> Result<Tensor> { self.layers.try_forward(x) }
    ///     // ...
    ///     fn repr(&self) -> String {
    ///         nn::repr_with_children("Net", "", &[("layers", &self.layers)])
    ///     }
    /// }
    /// let net = Net { layers: nn::Sequential::new().append(nn::ReLU) };
    /// assert_eq!(net.repr(), "Net(\n  (layers): Sequential(\n    (0): ReLU()\n  )\n)");
    /// ```
    fn repr(&self) -> String {
        let full = std::any::type_name::<Self>();
        // `my_crate::model::Net<f32>` -> `Net`
        let base = full.split('<').next().unwrap_or(full);
        format!("{}()", base.rsplit("::").next().unwrap_or(base))
    }
}

impl<M: Module + ?Sized> Module for Box<M> {
    fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
        (**self).try_forward(input)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        (**self).named_parameters()
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
    fn is_training(&self) -> bool {
        (**self).is_training()
    }
    fn repr(&self) -> String {
        (**self).repr()
    }
}

/// The named parameters of `child` with `prefix.` in front of each name, for
/// implementing [`Module::named_parameters`] on a struct whose field
/// `prefix` holds `child`.
pub fn prefixed(prefix: &str, child: &dyn Module) -> Vec<(String, Tensor)> {
    child
        .named_parameters()
        .into_iter()
        .map(|(name, t)| (format!("{prefix}.{name}"), t))
        .collect()
}
