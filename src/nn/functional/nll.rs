//! `nll_loss`: the negative log-likelihood of class-index targets, given
//! log-probabilities.

use std::rc::Rc;

use super::class_target::{
    class_target_setters, pick, read_class_targets, read_class_weight, total_weight, ClassLayout,
    Selection,
};
use super::reduction::Reduction;
use crate::error::Result;
use crate::tensor::Tensor;

/// PyTorch's default `ignore_index`.
pub const DEFAULT_IGNORE_INDEX: i64 = -100;

/// Options of [`nll_loss_with`], with PyTorch's defaults (no weight,
/// `ignore_index = -100`, mean reduction).
///
/// ```
/// use tapegrad::nn::functional::{NllLossOptions, Reduction};
/// let opts = NllLossOptions::default().ignore_index(0).reduction(Reduction::Sum);
/// assert_eq!(opts.ignore_index, 0);
/// ```
#[derive(Clone, Debug)]
pub struct NllLossOptions {
    /// Per-class weights `w` (1-d, length C), a constant; `None` means all 1.
    pub weight: Option<Tensor>,
    /// Positions whose target equals this value contribute nothing, not even
    /// to the mean's divisor.
    pub ignore_index: i64,
    /// How to combine the per-position losses.
    pub reduction: Reduction,
}

impl Default for NllLossOptions {
    fn default() -> Self {
        NllLossOptions {
            weight: None,
            ignore_index: DEFAULT_IGNORE_INDEX,
            reduction: Reduction::Mean,
        }
    }
}

class_target_setters!(NllLossOptions);

/// [`nll_loss_with`] with the default options.
pub fn nll_loss(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    nll_loss_with(input, target, &NllLossOptions::default())
}

/// Negative log-likelihood loss, `torch.nn.functional.nll_loss(input,
/// target, weight, ignore_index=-100, reduction='mean')`.
///
/// `input` holds log-probabilities of shape `[C]`, `[N, C]` or
/// `[N, C, d1, …]`; `target` holds class ids (int64, or integral floats) of shape
/// `[]`, `[N]` or `[N, d1, …]`. For each position `n` with target `yₙ`:
///
/// `ℓₙ = −w[yₙ] · input[n, yₙ]`, and `ℓₙ = 0` if `yₙ == ignore_index`.
///
/// * `none`: the `ℓₙ`, shaped like `target`;
/// * `sum`: `Σₙ ℓₙ`;
/// * `mean`: `Σₙ ℓₙ / Σₙ w[yₙ]`, the sums over non-ignored positions only.
///   A batch whose targets are all ignored gives 0/0 = **NaN**, exactly as
///   PyTorch does (its gradient is 0).
///
/// Errors: a target that is not an integer, or outside `[0, C)` without
/// being `ignore_index` (the message names the value and its row); a target
/// shape that is not the input's without the class dim; a weight that is not
/// 1-d of length C (or requires grad).
///
/// ```
/// use tapegrad::nn::functional::{log_softmax, nll_loss};
/// use tapegrad::Tensor;
/// let logp = log_softmax(&Tensor::new([[2.0f64, 0.0], [0.0, 2.0]]), 1).unwrap();
/// let loss = nll_loss(&logp, &Tensor::new([0.0f64, 1.0])).unwrap();
/// // Both rows give the true class probability e²/(e²+1).
/// assert!((loss.item::<f64>() - (1.0 + (-2.0f64).exp()).ln()).abs() < 1e-12);
/// ```
pub fn nll_loss_with(input: &Tensor, target: &Tensor, options: &NllLossOptions) -> Result<Tensor> {
    const OP: &str = "nll_loss";
    crate::dtype::require_float(OP, input.dtype())?;
    let layout = ClassLayout::new(OP, input.shape())?;
    let targets = read_class_targets(OP, target, &layout, options.ignore_index)?;
    let weight = read_class_weight(OP, options.weight.as_ref(), layout.classes)?;
    let coef = targets
        .iter()
        .map(|t| match t {
            Some(c) => -weight.as_ref().map_or(1.0, |w| w[*c]),
            None => 0.0,
        })
        .collect();
    let divisor = total_weight(&targets, weight.as_deref());
    let selection = Rc::new(Selection {
        layout,
        targets,
        coef,
    });
    let losses = pick(input, &selection)?;
    options.reduction.reduce(losses, divisor)
}
