//! Gradient clipping over a parameter list (`torch.nn.utils.clip_grad_norm_`
//! and `clip_grad_value_`).
//!
//! Both run after `backward` and before the optimizer step, and change the
//! parameters' `.grad` in place. Every check (arguments, each gradient's
//! shape and dtype, repeated parameters, a non-finite norm when asked) runs
//! before the first write, so an error leaves every gradient as it was.
//!
//! A gradient is written in its own buffer (bumping its version, as
//! PyTorch's `mul_`/`clamp_` do) when that buffer belongs to it alone;
//! otherwise `.grad` is replaced by a new tensor holding the clipped values.
//! That happens when a backward rule handed one buffer to several leaves
//! (`a + b` passes the same gradient to both), or `.grad` is a view (the
//! gradient of a `sum` is an expanded scalar), or the buffer is shared with
//! a parameter or a tensor the caller holds: writing it would clip twice or
//! change that other tensor. (PyTorch's `.grad` is always a buffer of its
//! own, so there the question does not arise.)

use crate::dtype::Scalar;
use std::rc::Rc;

use crate::dtype::dispatch;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Added to the total norm before dividing, as PyTorch does, so a zero norm
/// does not divide by zero.
const NORM_EPS: f64 = 1e-6;

/// Scales the gradients of `params` so that their total `norm_type`-norm
/// is at most `max_norm`, and returns the total norm they had
/// (`torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)`).
///
/// The total norm is the norm of all gradients taken together, as if
/// concatenated into one vector; parameters without a gradient are skipped
/// (none at all gives 0). With `clip_coef = max_norm / (total_norm + 1e-6)`,
/// every gradient is multiplied by `clip_coef` when it is below 1, and left
/// alone otherwise. `norm_type` is any `p > 0` or `f64::INFINITY` (the
/// largest absolute value). A NaN total norm makes every gradient NaN and an
/// infinite one scales them by 0, as in PyTorch; use
/// [`clip_grad_norm_with`] with `error_if_nonfinite` to get an error
/// instead.
///
/// Norms are computed in `f64` for both dtypes (PyTorch uses the gradients'
/// dtype, so `float32` results can differ in the last bits). Unlike PyTorch,
/// a gradient that is not clipped is not written, so its
/// [`version`](Tensor::version) does not change; a non-positive or
/// non-finite `max_norm`, a repeated parameter, and a gradient whose shape
/// or dtype is not its parameter's are errors (PyTorch accepts the first two
/// silently).
///
/// ```
/// use tapegrad::nn::utils::clip_grad_norm_;
/// use tapegrad::Tensor;
/// let w = Tensor::new([0.0f64, 0.0]).requires_grad_(true);
/// w.set_grad(Some(Tensor::new([3.0f64, 4.0])));
/// let total = clip_grad_norm_(&[w.clone()], 1.0, 2.0).unwrap();
/// assert_eq!(total, 5.0);
/// let g = w.grad().unwrap().to_vec::<f64>();
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// ```
pub fn clip_grad_norm_(params: &[Tensor], max_norm: f64, norm_type: f64) -> Result<f64> {
    clip_grad_norm_with(params, max_norm, norm_type, false)
}

/// [`clip_grad_norm_`] with PyTorch's `error_if_nonfinite`: when true, a
/// NaN or infinite total norm is an error and no gradient is changed.
pub fn clip_grad_norm_with(
    params: &[Tensor],
    max_norm: f64,
    norm_type: f64,
    error_if_nonfinite: bool,
) -> Result<f64> {
    const OP: &str = "clip_grad_norm_";
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(Error::invalid(
            OP,
            format!("max_norm must be finite and > 0, got {max_norm}"),
        ));
    }
    if norm_type.is_nan() || norm_type <= 0.0 {
        return Err(Error::invalid(
            OP,
            format!("norm_type must be > 0 (or f64::INFINITY), got {norm_type}"),
        ));
    }
    let grads = checked_grads(OP, params)?;
    let total = total_norm(&grads, norm_type);
    if error_if_nonfinite && !total.is_finite() {
        return Err(Error::invalid(
            OP,
            format!(
                "the total norm of order {norm_type} of the gradients is {total}, so they \
                 cannot be clipped (error_if_nonfinite is set)"
            ),
        ));
    }
    let coef = max_norm / (total + NORM_EPS);
    // NaN fails `coef < 1.0` but PyTorch still multiplies by it.
    if coef < 1.0 || coef.is_nan() {
        for (p, g) in params.iter().zip(&grads) {
            if let Some(g) = g {
                rewrite(p, g, |v| v * coef)?;
            }
        }
    }
    Ok(total)
}

/// Clamps every gradient of `params` to `[-clip_value, clip_value]`, in
/// place (`torch.nn.utils.clip_grad_value_(params, clip_value)`). NaN
/// gradients stay NaN. `clip_value` must be `>= 0` (infinity clips
/// nothing); PyTorch does not check it, but a negative one would set every
/// gradient to it. Parameters without a gradient are skipped.
///
/// ```
/// use tapegrad::nn::utils::clip_grad_value_;
/// use tapegrad::Tensor;
/// let w = Tensor::new([0.0f32, 0.0, 0.0]).requires_grad_(true);
/// w.set_grad(Some(Tensor::new([-3.0f32, 0.5, 2.0])));
/// clip_grad_value_(&[w.clone()], 1.0).unwrap();
/// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![-1.0, 0.5, 1.0]);
/// ```
pub fn clip_grad_value_(params: &[Tensor], clip_value: f64) -> Result<()> {
    const OP: &str = "clip_grad_value_";
    if clip_value.is_nan() || clip_value < 0.0 {
        return Err(Error::invalid(
            OP,
            format!("clip_value must be >= 0, got {clip_value}"),
        ));
    }
    let grads = checked_grads(OP, params)?;
    for (p, g) in params.iter().zip(&grads) {
        if let Some(g) = g {
            rewrite(p, g, |v| {
                if v > clip_value {
                    clip_value
                } else if v < -clip_value {
                    -clip_value
                } else {
                    v
                }
            })?;
        }
    }
    Ok(())
}

/// Each parameter's gradient (`None` if it has none), checked against its
/// parameter, with no parameter given twice.
fn checked_grads(op: &'static str, params: &[Tensor]) -> Result<Vec<Option<Tensor>>> {
    let mut grads = Vec::with_capacity(params.len());
    for (i, p) in params.iter().enumerate() {
        if let Some(j) = params[..i].iter().position(|q| q.same_as(p)) {
            return Err(Error::invalid(
                op,
                format!(
                    "parameters {j} and {i} are the same tensor; pass each parameter once \
                     (its gradient would be counted and clipped twice)"
                ),
            ));
        }
        let g = p.grad();
        if let Some(g) = &g {
            crate::optim::check_grad(op, i, p, g)?;
        }
        grads.push(g);
    }
    Ok(grads)
}

/// The norm of all gradients together, in `f64`; a NaN anywhere gives NaN.
fn total_norm(grads: &[Option<Tensor>], p: f64) -> f64 {
    let values = grads.iter().flatten().flat_map(|g| g.to_vec::<f64>());
    if p == f64::INFINITY {
        // `f64::max` would skip a NaN; PyTorch's norm returns it.
        values.fold(0.0, |m, v| {
            if v.is_nan() || m.is_nan() {
                f64::NAN
            } else {
                m.max(v.abs())
            }
        })
    } else if p == 1.0 {
        values.map(f64::abs).sum()
    } else if p == 2.0 {
        values.map(|v| v * v).sum::<f64>().sqrt()
    } else {
        values.map(|v| v.abs().powf(p)).sum::<f64>().powf(1.0 / p)
    }
}

/// Applies `f` to every element of parameter `p`'s gradient `g`: in `g`'s
/// own buffer when nothing else can see it, else as a new `.grad`.
fn rewrite(p: &Tensor, g: &Tensor, f: impl Fn(f64) -> f64) -> Result<()> {
    // Two handles are expected: the leaf's `.grad` and `g` itself.
    let own_buffer =
        g.is_contiguous() && Rc::strong_count(&g.storage) == 2 && Rc::weak_count(&g.storage) == 0;
    dispatch!(g.dtype(), T => {
        let apply = |v: T| T::from_f64(f(v.to_f64()));
        if own_buffer {
            g.update_data::<T>(|data| data.iter_mut().for_each(|v| *v = apply(*v)));
            Ok(())
        } else {
            let data: Vec<T> = g.with_contiguous::<T, _>(|d| d.iter().map(|&v| apply(v)).collect());
            p.try_set_grad(Some(Tensor::from_parts(data, g.shape().clone())))
        }
    })
}
