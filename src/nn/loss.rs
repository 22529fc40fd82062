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
    huber_loss_with, kl_div_with, l1_loss_with, mse_loss_with, nll_loss_with, smooth_l1_loss_with,
    BceOptions, BceWithLogitsOptions, CrossEntropyOptions, HuberLossOptions, KlDivOptions,
    KlReduction, L1LossOptions, MseLossOptions, NllLossOptions, Reduction, SmoothL1LossOptions,
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

/// `torch.nn.MSELoss`: see [`mse_loss_with`].
///
/// ```
/// use tapegrad::nn::loss::MSELoss;
/// use tapegrad::nn::functional::Reduction;
/// use tapegrad::Tensor;
/// let criterion = MSELoss::new().reduction(Reduction::Sum);
/// let loss = criterion.forward(&Tensor::new([1.0f32, 3.0]), &Tensor::new([0.0f32, 1.0])).unwrap();
/// assert_eq!(loss.item::<f32>(), 5.0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MSELoss {
    /// The options passed to the functional form.
    pub options: MseLossOptions,
}

impl MSELoss {
    /// With PyTorch's defaults (`reduction='mean'`).
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// `none` / `sum` / `mean` (default).
        reduction: Reduction;
    }
    /// The squared error of `input` against `target` (same shape).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        mse_loss_with(input, target, &self.options)
    }
}

/// `torch.nn.L1Loss`: see [`l1_loss_with`].
#[derive(Clone, Debug, Default)]
pub struct L1Loss {
    /// The options passed to the functional form.
    pub options: L1LossOptions,
}

impl L1Loss {
    /// With PyTorch's defaults (`reduction='mean'`).
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// `none` / `sum` / `mean` (default).
        reduction: Reduction;
    }
    /// The absolute error of `input` against `target` (same shape).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        l1_loss_with(input, target, &self.options)
    }
}

/// `torch.nn.SmoothL1Loss`: see [`smooth_l1_loss_with`].
#[derive(Clone, Debug, Default)]
pub struct SmoothL1Loss {
    /// The options passed to the functional form.
    pub options: SmoothL1LossOptions,
}

impl SmoothL1Loss {
    /// With PyTorch's defaults (`reduction='mean'`, `beta=1.0`).
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// `none` / `sum` / `mean` (default).
        reduction: Reduction;
        /// Where the loss turns from quadratic to linear (`>= 0`; 0 is L1).
        beta: f64;
    }
    /// The smooth L1 loss of `input` against `target` (same shape).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        smooth_l1_loss_with(input, target, &self.options)
    }
}

/// `torch.nn.HuberLoss`: see [`huber_loss_with`].
#[derive(Clone, Debug, Default)]
pub struct HuberLoss {
    /// The options passed to the functional form.
    pub options: HuberLossOptions,
}

impl HuberLoss {
    /// With PyTorch's defaults (`reduction='mean'`, `delta=1.0`).
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// `none` / `sum` / `mean` (default).
        reduction: Reduction;
        /// Where the loss turns from quadratic to linear (`> 0`).
        delta: f64;
    }
    /// The Huber loss of `input` against `target` (same shape).
    pub fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        huber_loss_with(input, target, &self.options)
    }
}
