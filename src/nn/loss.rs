//! Loss modules in the style of `torch.nn` (`nn.CrossEntropyLoss(...)`):
//! configure once with builder methods, then call
//! [`forward`](CrossEntropyLoss::forward) on each batch. Each is a thin
//! wrapper around the matching [`functional`](super::functional) options.
//!
//! ```
//! use tapegrad::nn::loss::CrossEntropyLoss;
//! use tapegrad::Tensor;
//! let criterion = CrossEntropyLoss::new()
//!     .label_smoothing(0.1)
//!     .weight(Tensor::new([1.0f32, 2.0, 1.0]));
//! let logits = Tensor::new([[2.0f32, 0.1, -1.0], [0.3, 0.2, 2.5]]);
//! let loss = criterion.forward(&logits, &Tensor::new([0.0f32, 2.0])).unwrap();
//! assert!(loss.item::<f32>() > 0.0);
//! ```

use super::functional::{
    binary_cross_entropy_with, binary_cross_entropy_with_logits_with, cross_entropy_with,
    kl_div_with, nll_loss_with, BceOptions, BceWithLogitsOptions, CrossEntropyOptions,
    KlDivOptions, KlReduction, NllLossOptions, Reduction,
};
use crate::error::Result;
use crate::tensor::Tensor;

/// Builder methods that set a field of `self.options`.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, $name: $ty) -> Self {
            self.options = self.options.$name($name);
            self
        }
    )*};
}

/// `torch.nn.CrossEntropyLoss`: see
/// [`cross_entropy_with`].
#[derive(Clone, Debug, Default)]
pub struct CrossEntropyLoss {
    /// The options passed to the functional form.
    pub options: CrossEntropyOptions,
}

impl CrossEntropyLoss {
    /// With PyTorch's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// Per-class weights (1-d, length C).
        weight: Tensor;
        /// Class id whose positions are skipped (default −100).
        ignore_index: i64;
        /// `none` / `sum` / `mean` (default).
        reduction: Reduction;
        /// Label smoothing `ε` in `[0, 1]`.
        label_smoothing: f64;
    }
    /// The loss of `input` (logits) against `target` (class ids or
    /// probabilities).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        cross_entropy_with(input, target, &self.options)
    }
}

/// `torch.nn.NLLLoss`: see [`nll_loss_with`].
#[derive(Clone, Debug, Default)]
pub struct NLLLoss {
    /// The options passed to the functional form.
    pub options: NllLossOptions,
}

impl NLLLoss {
    /// With PyTorch's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// Per-class weights (1-d, length C).
        weight: Tensor;
        /// Class id whose positions are skipped (default −100).
        ignore_index: i64;
        /// `none` / `sum` / `mean` (default).
        reduction: Reduction;
    }
    /// The loss of `input` (log-probabilities) against class ids `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        nll_loss_with(input, target, &self.options)
    }
}

/// `torch.nn.BCELoss`: see
/// [`binary_cross_entropy_with`].
#[derive(Clone, Debug, Default)]
pub struct BCELoss {
    /// The options passed to the functional form.
    pub options: BceOptions,
}

impl BCELoss {
    /// With PyTorch's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// Element weights, broadcast to the input.
        weight: Tensor;
        /// `none` / `sum` / `mean` (default).
        reduction: Reduction;
    }
    /// The loss of probabilities `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        binary_cross_entropy_with(input, target, &self.options)
    }
}

/// `torch.nn.BCEWithLogitsLoss`: see
/// [`binary_cross_entropy_with_logits_with`].
#[derive(Clone, Debug, Default)]
pub struct BCEWithLogitsLoss {
    /// The options passed to the functional form.
    pub options: BceWithLogitsOptions,
}

impl BCEWithLogitsLoss {
    /// With PyTorch's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// Element weights, broadcast to the input.
        weight: Tensor;
        /// Weights of the positive term, broadcast to the input.
        pos_weight: Tensor;
        /// `none` / `sum` / `mean` (default).
        reduction: Reduction;
    }
    /// The loss of logits `input` against `target`.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        binary_cross_entropy_with_logits_with(input, target, &self.options)
    }
}

/// `torch.nn.KLDivLoss`: see [`kl_div_with`].
#[derive(Clone, Debug, Default)]
pub struct KLDivLoss {
    /// The options passed to the functional form.
    pub options: KlDivOptions,
}

impl KLDivLoss {
    /// With PyTorch's defaults (`reduction='mean'`, `log_target=False`).
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// `none` / `sum` / `mean` (default) / `batchmean`.
        reduction: KlReduction;
        /// Whether the target holds log-probabilities.
        log_target: bool;
    }
    /// `KL(target ‖ exp(input))` terms, reduced.
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        kl_div_with(input, target, &self.options)
    }
}
