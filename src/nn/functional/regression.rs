//! Regression losses: `mse_loss`, `l1_loss`, `smooth_l1_loss` and
//! `huber_loss`, with the semantics of `torch.nn.functional`.
//!
//! Each loss is a composition of differentiable tensor ops (`sub`, `abs`,
//! `square`, `where`, scalar arithmetic, then the [`Reduction`]), so it
//! needs no backward rule of its own: first and second derivatives, and
//! gradients with respect to the target, come from the ops it is built of.
//! The compositions are chosen so that the gradients at the kinks are
//! PyTorch's: `l1_loss` goes through `abs`, whose derivative at 0 is
//! `sign(0) = 0`; the piecewise losses pick the quadratic piece only where
//! `|d| < beta` (strictly), so at `|d| == beta` the first derivative is
//! `±1` (both pieces agree) and the second derivative is 0, as in
//! PyTorch's double-backward formulas.
//!
//! One deliberate difference: PyTorch broadcasts an `input` and a `target`
//! of different shapes (with a warning, since it is almost always a bug
//! such as `[N, 1]` against `[N]`); here it is an error naming both shapes.

use super::reduction::Reduction;
use crate::error::{Error, Result};
use crate::ops::same_dtype;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// Options of [`mse_loss_with`]: PyTorch's default is `reduction='mean'`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MseLossOptions {
    /// How to combine the element-wise losses (`mean` divides by `numel`).
    pub reduction: Reduction,
}

impl MseLossOptions {
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

/// Options of [`l1_loss_with`]: PyTorch's default is `reduction='mean'`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L1LossOptions {
    /// How to combine the element-wise losses (`mean` divides by `numel`).
    pub reduction: Reduction,
}

impl L1LossOptions {
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

/// Options of [`smooth_l1_loss_with`]: PyTorch's defaults are
/// `reduction='mean'` and `beta=1.0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmoothL1LossOptions {
    /// How to combine the element-wise losses (`mean` divides by `numel`).
    pub reduction: Reduction,
    /// Where the loss changes from quadratic to linear; finite and `>= 0`
    /// (0 gives exactly `l1_loss`).
    pub beta: f64,
}

impl Default for SmoothL1LossOptions {
    fn default() -> Self {
        SmoothL1LossOptions {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
}

impl SmoothL1LossOptions {
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets `beta`.
    pub fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }
}

/// Options of [`huber_loss_with`]: PyTorch's defaults are
/// `reduction='mean'` and `delta=1.0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HuberLossOptions {
    /// How to combine the element-wise losses (`mean` divides by `numel`).
    pub reduction: Reduction,
    /// Where the loss changes from quadratic to linear; finite and `> 0`.
    pub delta: f64,
}

impl Default for HuberLossOptions {
    fn default() -> Self {
        HuberLossOptions {
            reduction: Reduction::Mean,
            delta: 1.0,
        }
    }
}

impl HuberLossOptions {
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets `delta`.
    pub fn delta(mut self, delta: f64) -> Self {
        self.delta = delta;
        self
    }
}

/// Checks what every regression loss needs and returns `input − target`:
/// same dtype, same shape (no broadcasting, see the module docs), no NaN in
/// the target. A NaN in the input is the model's output and propagates, as
/// in the classification losses.
fn difference(op: &'static str, input: &Tensor, target: &Tensor) -> Result<Tensor> {
    crate::dtype::require_float(op, input.dtype())?;
    same_dtype(op, input, target)?;
    if input.shape() != target.shape() {
        return Err(Error::mismatch(
            op,
            "target must have the same shape as input (tapegrad does not broadcast them)",
            input.shape(),
            target.shape(),
        ));
    }
    if let Some(k) = target.to_vec::<f64>().iter().position(|v| v.is_nan()) {
        return Err(Error::invalid(
            op,
            format!("target is NaN at flat index {k}"),
        ));
    }
    input.try_sub(target)
}

fn reduce(losses: Tensor, reduction: Reduction) -> Result<Tensor> {
    let n = losses.numel() as f64;
    reduction.reduce(losses, n)
}

/// [`mse_loss_with`] with the default options (`reduction='mean'`).
pub fn mse_loss(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    mse_loss_with(input, target, &MseLossOptions::default())
}

/// Mean squared error, `torch.nn.functional.mse_loss(input, target,
/// reduction='mean')`: `ℓ = (x − y)²` per element, then the reduction
/// (`mean` divides by the number of elements; an empty input gives NaN, as
/// in PyTorch).
///
/// The gradient is `2(x − y)` (over `numel` for `mean`); the target receives
/// its negative. Second derivatives exist (`2`).
///
/// Errors: dtypes or shapes that differ (PyTorch would broadcast), a NaN
/// target.
///
/// ```
/// use tapegrad::nn::functional::mse_loss;
/// use tapegrad::Tensor;
/// let pred = Tensor::new([1.0f64, 2.0, 4.0]).requires_grad_(true);
/// let loss = mse_loss(&pred, &Tensor::new([1.0f64, 0.0, 1.0])).unwrap();
/// assert_eq!(loss.item::<f64>(), (0.0 + 4.0 + 9.0) / 3.0);
/// loss.backward();
/// assert_eq!(pred.grad().unwrap().to_vec::<f64>(), vec![0.0, 4.0 / 3.0, 2.0]);
/// ```
pub fn mse_loss_with(input: &Tensor, target: &Tensor, options: &MseLossOptions) -> Result<Tensor> {
    let d = difference("mse_loss", input, target)?;
    reduce(d.try_square()?, options.reduction)
}

/// [`l1_loss_with`] with the default options (`reduction='mean'`).
pub fn l1_loss(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    l1_loss_with(input, target, &L1LossOptions::default())
}

/// Mean absolute error, `torch.nn.functional.l1_loss(input, target,
/// reduction='mean')`: `ℓ = |x − y|` per element, then the reduction.
///
/// The gradient is `sign(x − y)`, which is 0 where `x == y` (as in
/// PyTorch); the second derivative is 0 everywhere.
///
/// Errors: dtypes or shapes that differ (PyTorch would broadcast), a NaN
/// target.
///
/// ```
/// use tapegrad::nn::functional::{l1_loss_with, L1LossOptions, Reduction};
/// use tapegrad::Tensor;
/// let pred = Tensor::new([1.0f64, 2.0, -4.0]).requires_grad_(true);
/// let options = L1LossOptions::default().reduction(Reduction::Sum);
/// let loss = l1_loss_with(&pred, &Tensor::new([1.0f64, 0.0, 1.0]), &options).unwrap();
/// assert_eq!(loss.item::<f64>(), 7.0);
/// loss.backward();
/// assert_eq!(pred.grad().unwrap().to_vec::<f64>(), vec![0.0, 1.0, -1.0]);
/// ```
pub fn l1_loss_with(input: &Tensor, target: &Tensor, options: &L1LossOptions) -> Result<Tensor> {
    let d = difference("l1_loss", input, target)?;
    reduce(d.try_abs()?, options.reduction)
}

/// Checks a `beta` / `delta`: finite, and `>= 0` (or `> 0` when zero is not
/// allowed).
fn check_threshold(op: &'static str, name: &str, value: f64, zero_ok: bool) -> Result<()> {
    let ok = value.is_finite() && (value > 0.0 || (zero_ok && value == 0.0));
    if !ok {
        let wanted = if zero_ok { ">= 0" } else { "> 0" };
        return Err(Error::invalid(
            op,
            format!("{name} must be a finite number {wanted}, got {value}"),
        ));
    }
    Ok(())
}

/// The two pieces of smooth L1 and Huber: `quadratic(d)` where
/// `|d| < threshold`, `linear(|d|)` elsewhere.
///
/// The quadratic piece is evaluated on `d` with the outside positions set to
/// 0, so that a huge (or infinite) `d` never reaches the square: `where`
/// sends no gradient to the piece it did not pick, but `0 · ∞` in the
/// square's backward would still be NaN.
fn piecewise(
    d: &Tensor,
    threshold: f64,
    quadratic: impl Fn(Tensor) -> Result<Tensor>,
    linear: impl Fn(Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let a = d.try_abs()?;
    let inside = a.try_lt_scalar(threshold)?;
    let zero = Tensor::full_dtype(Shape::scalar(), 0.0, d.dtype());
    let small = Tensor::try_where_(&inside, d, &zero)?;
    Tensor::try_where_(&inside, &quadratic(small)?, &linear(a)?)
}

/// [`smooth_l1_loss_with`] with the default options (`reduction='mean'`,
/// `beta=1.0`).
pub fn smooth_l1_loss(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    smooth_l1_loss_with(input, target, &SmoothL1LossOptions::default())
}

/// Smooth L1 loss, `torch.nn.functional.smooth_l1_loss(input, target,
/// reduction='mean', beta=1.0)`: with `d = x − y`,
///
/// `ℓ = 0.5·d²/β` where `|d| < β`, and `|d| − 0.5·β` elsewhere,
///
/// then the reduction. `β = 0` is exactly [`l1_loss`] (as in PyTorch, which
/// also dispatches to it). The gradient is `d/β` inside and `sign(d)`
/// outside; at `|d| == β` both give `±1`. The second derivative is `1/β`
/// inside and 0 elsewhere, including at `|d| == β`.
///
/// Errors: `beta` negative or not finite, dtypes or shapes that differ
/// (PyTorch would broadcast), a NaN target.
///
/// ```
/// use tapegrad::nn::functional::{smooth_l1_loss_with, Reduction, SmoothL1LossOptions};
/// use tapegrad::Tensor;
/// let pred = Tensor::new([0.5f64, 3.0]);
/// let options = SmoothL1LossOptions::default().beta(2.0).reduction(Reduction::None);
/// let loss = smooth_l1_loss_with(&pred, &Tensor::new([0.0f64, 0.0]), &options).unwrap();
/// assert_eq!(loss.to_vec::<f64>(), vec![0.5 * 0.25 / 2.0, 3.0 - 1.0]);
/// ```
pub fn smooth_l1_loss_with(
    input: &Tensor,
    target: &Tensor,
    options: &SmoothL1LossOptions,
) -> Result<Tensor> {
    const OP: &str = "smooth_l1_loss";
    check_threshold(OP, "beta", options.beta, true)?;
    let d = difference(OP, input, target)?;
    let beta = options.beta;
    let losses = if beta == 0.0 {
        // The quadratic piece is empty; skipping it also avoids a 0/0 in it.
        d.try_abs()?
    } else {
        // 0.5·d·d/β and |d| − 0.5·β, in PyTorch's order of operations.
        piecewise(
            &d,
            beta,
            |s| s.try_square()?.try_mul_scalar(0.5)?.try_div_scalar(beta),
            |a| a.try_sub_scalar(0.5 * beta),
        )?
    };
    reduce(losses, options.reduction)
}

/// [`huber_loss_with`] with the default options (`reduction='mean'`,
/// `delta=1.0`).
pub fn huber_loss(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    huber_loss_with(input, target, &HuberLossOptions::default())
}

/// Huber loss, `torch.nn.functional.huber_loss(input, target,
/// reduction='mean', delta=1.0)`: with `d = x − y`,
///
/// `ℓ = 0.5·d²` where `|d| < δ`, and `δ·(|d| − 0.5·δ)` elsewhere,
///
/// then the reduction. It equals `δ · smooth_l1_loss(β = δ)`. The gradient
/// is `d` inside and `δ·sign(d)` outside (both `±δ` at `|d| == δ`); the
/// second derivative is 1 inside and 0 elsewhere, including at `|d| == δ`.
///
/// Errors: `delta` not positive or not finite (PyTorch also rejects
/// `delta <= 0`), dtypes or shapes that differ (PyTorch would broadcast), a
/// NaN target.
///
/// ```
/// use tapegrad::nn::functional::{huber_loss_with, HuberLossOptions, Reduction};
/// use tapegrad::Tensor;
/// let pred = Tensor::new([0.5f64, 3.0]);
/// let options = HuberLossOptions::default().delta(2.0).reduction(Reduction::None);
/// let loss = huber_loss_with(&pred, &Tensor::new([0.0f64, 0.0]), &options).unwrap();
/// assert_eq!(loss.to_vec::<f64>(), vec![0.5 * 0.25, 2.0 * (3.0 - 1.0)]);
/// ```
pub fn huber_loss_with(
    input: &Tensor,
    target: &Tensor,
    options: &HuberLossOptions,
) -> Result<Tensor> {
    const OP: &str = "huber_loss";
    check_threshold(OP, "delta", options.delta, false)?;
    let d = difference(OP, input, target)?;
    let delta = options.delta;
    // 0.5·d·d and δ·(|d| − 0.5·δ), in PyTorch's order of operations.
    let losses = piecewise(
        &d,
        delta,
        |s| s.try_square()?.try_mul_scalar(0.5),
        |a| a.try_sub_scalar(0.5 * delta)?.try_mul_scalar(delta),
    )?;
    reduce(losses, options.reduction)
}
