//! Binary cross-entropy, on probabilities (`binary_cross_entropy`) and on
//! logits (`binary_cross_entropy_with_logits`).
//!
//! Both are element-wise ops producing weighted per-element losses, then a
//! [`Reduction`]. Their kernels and fused gradients follow PyTorch's CPU
//! formulas term by term, so results agree to rounding.

use super::class_target::check_constant;
use super::reduction::Reduction;
use crate::autograd::function::{Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::Scalar;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::kernels::special::sigmoid;
use crate::ops::same_dtype;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// PyTorch clamps each log term of `binary_cross_entropy` at −100.
const LOG_FLOOR: f64 = -100.0;
/// PyTorch's lower bound on `p(1 − p)` in the gradient of
/// `binary_cross_entropy`.
const GRAD_EPS: f64 = 1e-12;

/// Options of [`binary_cross_entropy_with`]: PyTorch's defaults are no
/// weight and mean reduction.
#[derive(Clone, Debug, Default)]
pub struct BceOptions {
    /// A constant weight, broadcast to the input's shape; `None` means 1.
    pub weight: Option<Tensor>,
    /// How to combine the element-wise losses (`mean` divides by `numel`).
    pub reduction: Reduction,
}

impl BceOptions {
    /// Sets the weight.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

/// Options of [`binary_cross_entropy_with_logits_with`]: PyTorch's defaults
/// are no weight, no `pos_weight` and mean reduction.
#[derive(Clone, Debug, Default)]
pub struct BceWithLogitsOptions {
    /// A constant weight, broadcast to the input's shape; `None` means 1.
    pub weight: Option<Tensor>,
    /// A constant weight of the positive term, broadcast to the input's
    /// shape (typically one entry per class, i.e. per last-dim entry).
    pub pos_weight: Option<Tensor>,
    /// How to combine the element-wise losses (`mean` divides by `numel`).
    pub reduction: Reduction,
}

impl BceWithLogitsOptions {
    /// Sets the weight.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    /// Sets the weight of positive examples.
    pub fn pos_weight(mut self, pos_weight: Tensor) -> Self {
        self.pos_weight = Some(pos_weight);
        self
    }
    /// Sets the reduction.
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

/// Common checks: same shape and dtype, no NaN target; returns a weight-like
/// tensor's values broadcast to the input's shape.
fn check_pair(op: &'static str, input: &Tensor, target: &Tensor) -> Result<()> {
    same_dtype(op, input, target)?;
    if input.shape() != target.shape() {
        return Err(Error::mismatch(
            op,
            "target must have the same shape as input",
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
    Ok(())
}

fn broadcast_weight(
    op: &'static str,
    what: &str,
    weight: Option<&Tensor>,
    shape: &Shape,
) -> Result<Option<Vec<f64>>> {
    let Some(w) = weight else { return Ok(None) };
    check_constant(op, what, w)?;
    let fits = Shape::broadcast(op, w.shape(), shape).is_ok_and(|s| &s == shape);
    if !fits {
        return Err(Error::mismatch(
            op,
            format!("{what} must broadcast to the input's shape"),
            w.shape(),
            shape,
        ));
    }
    let values = w.try_expand(shape.clone())?.to_vec::<f64>();
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(
            op,
            format!(
                "{what} is not finite ({}) at broadcast flat index {k}",
                values[k]
            ),
        ));
    }
    Ok(Some(values))
}

/// `w` as a tensor of `like`'s dtype and shape (for composed gradients).
fn constant(values: &[f64], like: &Tensor) -> Tensor {
    Tensor::from_parts(values.to_vec(), like.shape().clone()).to_dtype(like.dtype())
}

fn times(t: Tensor, w: Option<&[f64]>) -> Result<Tensor> {
    match w {
        Some(w) => {
            let c = constant(w, &t);
            t.try_mul(&c)
        }
        None => Ok(t),
    }
}

/// [`binary_cross_entropy_with`] with the default options.
pub fn binary_cross_entropy(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    binary_cross_entropy_with(input, target, &BceOptions::default())
}

/// Binary cross-entropy between probabilities `p` and targets `y`,
/// `torch.nn.functional.binary_cross_entropy(input, target, weight,
/// reduction='mean')`:
///
/// `ℓ = −w·(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100))`
///
/// The clamp makes `p` of exactly 0 or 1 give finite losses (at most 100·w).
/// The gradient is PyTorch's `w·(p − y) / max(p(1 − p), 1e-12)`; the target
/// receives `−w·logit(p)`.
///
/// Errors: `p` outside `[0, 1]` (or NaN), a NaN target, shapes that differ,
/// a weight that does not broadcast to the input (or requires grad).
///
/// ```
/// use tapegrad::nn::functional::binary_cross_entropy;
/// use tapegrad::Tensor;
/// let p = Tensor::new([0.0f64, 1.0]);
/// let loss = binary_cross_entropy(&p, &Tensor::new([1.0f64, 1.0])).unwrap();
/// assert_eq!(loss.item::<f64>(), 50.0); // (100 + 0) / 2
/// assert!(binary_cross_entropy(&Tensor::new([1.5f64]), &Tensor::new([1.0f64])).is_err());
/// ```
pub fn binary_cross_entropy_with(
    input: &Tensor,
    target: &Tensor,
    options: &BceOptions,
) -> Result<Tensor> {
    const OP: &str = "binary_cross_entropy";
    crate::dtype::require_float(OP, input.dtype())?;
    check_pair(OP, input, target)?;
    if let Some((k, v)) = input
        .to_vec::<f64>()
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(Error::invalid(
            OP,
            format!("all elements of input should be between 0 and 1, got {v} at flat index {k}"),
        ));
    }
    let weight = broadcast_weight(OP, "weight", options.weight.as_ref(), input.shape())?;
    let out = dispatch!(input.dtype(), T => {
        let (p, y) = (input.to_vec::<T>(), target.to_vec::<T>());
        let floor = T::from_f64(LOG_FLOOR);
        let data: Vec<T> = (0..p.len())
            .map(|k| {
                let (p, y) = (p[k], y[k]);
                let l = (y - T::ONE) * (-p).ln_1p().max_nan(floor) - y * p.ln().max_nan(floor);
                match &weight {
                    Some(w) => l * T::from_f64(w[k]),
                    None => l,
                }
            })
            .collect();
        Tensor::from_parts(data, input.shape().clone())
    });
    let losses = record(out, &[input, target], |_| BceBackward {
        p: Saved::new(input),
        y: Saved::new(target),
        weight: weight.clone(),
    })?;
    options.reduction.reduce(losses, input.numel() as f64)
}

struct BceBackward {
    p: Saved,
    y: Saved,
    weight: Option<Vec<f64>>,
}

impl Backward for BceBackward {
    fn name(&self) -> &'static str {
        "BinaryCrossEntropy"
    }

    /// Accelerator: the same gradients in one fused pass.
    fn first_order(&self, ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        let g = &g;
        let w = self.weight.as_deref();
        let (want_p, want_y) = (ctx.needs_grad(0), ctx.needs_grad(1));
        let shape = self.p.value().shape().clone();
        let (gp, gy) = dispatch!(g.dtype(), T => {
            let (p, y, g) = (self.p.value().to_vec::<T>(), self.y.value().to_vec::<T>(), g.to_vec::<T>());
            let wk = |k: usize| w.map_or(T::ONE, |w| T::from_f64(w[k]));
            let eps = T::from_f64(GRAD_EPS);
            let gp: Option<Vec<T>> = want_p.then(|| (0..p.len())
                .map(|k| g[k] * (p[k] - y[k]) / ((T::ONE - p[k]) * p[k]).max_nan(eps) * wk(k))
                .collect());
            let gy: Option<Vec<T>> = want_y.then(|| (0..p.len())
                .map(|k| -(p[k] / (T::ONE - p[k])).ln() * g[k] * wk(k))
                .collect());
            (
                gp.map(|d| Tensor::from_parts(d, shape.clone())),
                gy.map(|d| Tensor::from_parts(d, shape.clone())),
            )
        });
        Ok(Accelerated::Done(smallvec::smallvec![gp, gy]))
    }

    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let w = self.weight.as_deref();
        let (want_p, want_y) = (ctx.needs_grad(0), ctx.needs_grad(1));
        let p = ctx.input(0, &self.p);
        let y = ctx.input(1, &self.y);
        let gw = times(g.clone(), w)?;
        let gp = if want_p {
            let denom = p
                .try_mul(&p.try_rsub_scalar(1.0)?)?
                .try_clamp(GRAD_EPS, f64::INFINITY)?;
            Some(gw.try_mul(&p.try_sub(&y)?)?.try_div(&denom)?)
        } else {
            None
        };
        let gy = if want_y {
            let minus_logit = p.try_rsub_scalar(1.0)?.try_log()?.try_sub(&p.try_log()?)?;
            Some(gw.try_mul(&minus_logit)?)
        } else {
            None
        };
        Ok(smallvec::smallvec![gp, gy])
    }
}

/// [`binary_cross_entropy_with_logits_with`] with the default options.
pub fn binary_cross_entropy_with_logits(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    binary_cross_entropy_with_logits_with(input, target, &BceWithLogitsOptions::default())
}

/// `log σ(x) = min(x, 0) − log1p(e^−|x|)`: never exponentiates a positive
/// number.
#[inline]
fn log_sigmoid<T: Element>(x: T) -> T {
    let min = if x < T::ZERO { x } else { T::ZERO };
    min - (-x.abs()).exp().ln_1p()
}

/// Binary cross-entropy on logits `x` with targets `y`,
/// `torch.nn.functional.binary_cross_entropy_with_logits(input, target,
/// weight, reduction='mean', pos_weight)`, by the stable formula (no
/// sigmoid followed by a log):
///
/// `ℓ = w·((1 − y)·x − (1 + (pos_weight − 1)·y)·log σ(x))`,
/// with `log σ(x) = min(x, 0) − log1p(e^−|x|)`,
///
/// i.e. `−w·(pos_weight·y·log σ(x) + (1 − y)·log(1 − σ(x)))`. The gradient
/// is `w·((pos_weight·y + 1 − y)·σ(x) − pos_weight·y)`; the target receives
/// `w·(log σ(−x) − pos_weight·log σ(x))`.
///
/// Errors: shapes that differ, a NaN target, a weight or `pos_weight` that
/// does not broadcast to the input's shape (or requires grad).
///
/// ```
/// use tapegrad::nn::functional::binary_cross_entropy_with_logits;
/// use tapegrad::Tensor;
/// let x = Tensor::new([1e4f32, -1e4]);
/// let loss = binary_cross_entropy_with_logits(&x, &Tensor::new([0.0f32, 1.0])).unwrap();
/// assert_eq!(loss.item::<f32>(), 1e4); // confident and wrong, yet finite
/// ```
pub fn binary_cross_entropy_with_logits_with(
    input: &Tensor,
    target: &Tensor,
    options: &BceWithLogitsOptions,
) -> Result<Tensor> {
    const OP: &str = "binary_cross_entropy_with_logits";
    crate::dtype::require_float(OP, input.dtype())?;
    check_pair(OP, input, target)?;
    let weight = broadcast_weight(OP, "weight", options.weight.as_ref(), input.shape())?;
    let pos_weight =
        broadcast_weight(OP, "pos_weight", options.pos_weight.as_ref(), input.shape())?;
    let out = dispatch!(input.dtype(), T => {
        let (x, y) = (input.to_vec::<T>(), target.to_vec::<T>());
        let data: Vec<T> = (0..x.len())
            .map(|k| {
                let mut ls = log_sigmoid(x[k]);
                if let Some(pw) = &pos_weight {
                    ls *= (T::from_f64(pw[k]) - T::ONE) * y[k] + T::ONE;
                }
                let l = (T::ONE - y[k]) * x[k] - ls;
                match &weight {
                    Some(w) => l * T::from_f64(w[k]),
                    None => l,
                }
            })
            .collect();
        Tensor::from_parts(data, input.shape().clone())
    });
    let losses = record(out, &[input, target], |_| BceWithLogitsBackward {
        x: Saved::new(input),
        y: Saved::new(target),
        weight: weight.clone(),
        pos_weight: pos_weight.clone(),
    })?;
    options.reduction.reduce(losses, input.numel() as f64)
}

struct BceWithLogitsBackward {
    x: Saved,
    y: Saved,
    weight: Option<Vec<f64>>,
    pos_weight: Option<Vec<f64>>,
}

impl Backward for BceWithLogitsBackward {
    fn name(&self) -> &'static str {
        "BinaryCrossEntropyWithLogits"
    }

    /// Accelerator: the same gradients in one fused pass.
    fn first_order(&self, ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        let g = &g;
        let (w, pw) = (self.weight.as_deref(), self.pos_weight.as_deref());
        let (want_x, want_y) = (ctx.needs_grad(0), ctx.needs_grad(1));
        let shape = self.x.value().shape().clone();
        let (gx, gy) = dispatch!(g.dtype(), T => {
            let (x, y, g) = (self.x.value().to_vec::<T>(), self.y.value().to_vec::<T>(), g.to_vec::<T>());
            let wk = |k: usize| w.map_or(T::ONE, |w| T::from_f64(w[k]));
            let gx: Option<Vec<T>> = want_x.then(|| (0..x.len())
                .map(|k| {
                    let d = match pw {
                        Some(pw) => {
                            let t = T::from_f64(pw[k]) * y[k];
                            (t + T::ONE - y[k]) * sigmoid(x[k]) - t
                        }
                        None => sigmoid(x[k]) - y[k],
                    };
                    d * g[k] * wk(k)
                })
                .collect());
            let gy: Option<Vec<T>> = want_y.then(|| (0..x.len())
                .map(|k| {
                    let d = match pw {
                        Some(pw) => log_sigmoid(-x[k]) - log_sigmoid(x[k]) * T::from_f64(pw[k]),
                        None => -x[k],
                    };
                    d * g[k] * wk(k)
                })
                .collect());
            (
                gx.map(|d| Tensor::from_parts(d, shape.clone())),
                gy.map(|d| Tensor::from_parts(d, shape.clone())),
            )
        });
        Ok(Accelerated::Done(smallvec::smallvec![gx, gy]))
    }

    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let (w, pw) = (self.weight.as_deref(), self.pos_weight.as_deref());
        let (want_x, want_y) = (ctx.needs_grad(0), ctx.needs_grad(1));
        let x = ctx.input(0, &self.x);
        let y = ctx.input(1, &self.y);
        let gw = times(g.clone(), w)?;
        let gx = if want_x {
            let s = x.try_sigmoid()?;
            let d = match pw {
                Some(pw) => {
                    let t = y.try_mul(&constant(pw, &y))?;
                    t.try_add_scalar(1.0)?
                        .try_sub(&y)?
                        .try_mul(&s)?
                        .try_sub(&t)?
                }
                None => s.try_sub(&y)?,
            };
            Some(gw.try_mul(&d)?)
        } else {
            None
        };
        let gy = if want_y {
            let d = match pw {
                Some(pw) => {
                    // log σ(−x) = −softplus(x), log σ(x) = −softplus(−x)
                    let ls_neg = x.try_softplus()?.try_neg()?;
                    let ls = x.try_neg()?.try_softplus()?.try_neg()?;
                    ls_neg.try_sub(&ls.try_mul(&constant(pw, &x))?)?
                }
                None => x.try_neg()?,
            };
            Some(gw.try_mul(&d)?)
        } else {
            None
        };
        Ok(smallvec::smallvec![gx, gy])
    }
}
