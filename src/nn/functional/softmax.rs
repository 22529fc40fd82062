//! `softmax` and `log_softmax` over one dim: fused, max-subtracted kernels.
//!
//! Both view the input as `[outer, n, inner]` (`n` the size of `dim`) and
//! make one pass per slice for the max, one for the sum of exponentials and
//! one to write. Subtracting the max first means no exponential ever sees a
//! positive argument, so any finite input (logits of ±1e4) gives finite
//! values; `log_softmax` is `x − max − log Σ exp(x − max)`, never
//! `log(softmax(x))`, which would turn underflowed probabilities into −inf.

use crate::autograd::function::{Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::private::Sealed;
use crate::dtype::{dispatch, Element};
use crate::error::Result;
use crate::shape::{normalize_dim, Shape};
use crate::tensor::Tensor;

/// `shape` seen as `[outer, shape[dim], inner]`.
pub(crate) fn split_at_dim(shape: &Shape, dim: usize) -> (usize, usize, usize) {
    let dims = shape.dims();
    if dims.is_empty() {
        return (1, 1, 1);
    }
    let outer = dims[..dim].iter().product();
    let inner = dims[dim + 1..].iter().product();
    (outer, dims[dim], inner)
}

/// Calls `f(base, stride)` for each 1-d slice along the middle dim of
/// `[outer, n, inner]`: element `k` of the slice is at `base + k·stride`.
#[inline]
pub(crate) fn for_each_slice(
    outer: usize,
    n: usize,
    inner: usize,
    mut f: impl FnMut(usize, usize),
) {
    for o in 0..outer {
        for i in 0..inner {
            f(o * n * inner + i, inner);
        }
    }
}

/// Max and Σ exp(x − max) of one slice. A NaN anywhere makes the max NaN,
/// so it propagates to every output of the slice, as in PyTorch.
#[inline]
pub(crate) fn slice_max_sumexp<T: Element>(
    x: &[T],
    base: usize,
    stride: usize,
    n: usize,
) -> (T, T) {
    let mut m = T::NEG_INFINITY;
    for k in 0..n {
        m = m.max_nan(x[base + k * stride]);
    }
    let mut s = T::ZERO;
    for k in 0..n {
        s += (x[base + k * stride] - m).exp();
    }
    (m, s)
}

fn softmax_kernel<T: Element>(x: &Tensor, dim: usize, log: bool) -> Vec<T> {
    let (outer, n, inner) = split_at_dim(x.shape(), dim);
    x.with_contiguous::<T, _>(|x| {
        let mut out = crate::tensor::cache::zeroed::<T>(x.len());
        if inner == 1 && n > 0 {
            // Contiguous rows: the whole-matrix kernel (vectorised exp).
            let mut maxes = vec![T::ZERO; outer];
            let mut log_sums = vec![T::ZERO; outer];
            <T as Sealed>::softmax_rows(x, n, &mut out, &mut maxes, &mut log_sums);
            if log {
                let rows = out.chunks_exact_mut(n).zip(x.chunks_exact(n));
                for ((out, x), (&m, &log_s)) in rows.zip(maxes.iter().zip(&log_sums)) {
                    for (o, &v) in out.iter_mut().zip(x) {
                        *o = (v - m) - log_s;
                    }
                }
            }
            return out;
        }
        for_each_slice(outer, n, inner, |base, stride| {
            let (m, s) = slice_max_sumexp(x, base, stride, n);
            if log {
                let log_s = s.ln();
                for k in 0..n {
                    let j = base + k * stride;
                    out[j] = (x[j] - m) - log_s;
                }
            } else {
                for k in 0..n {
                    let j = base + k * stride;
                    out[j] = (x[j] - m).exp() / s;
                }
            }
        });
        out
    })
}

fn softmax_op(x: &Tensor, dim: isize, log: bool) -> Result<Tensor> {
    let op = if log { "log_softmax" } else { "softmax" };
    let d = normalize_dim(op, dim, x.ndim())?;
    let out = dispatch!(x.dtype(), T => Tensor::from_parts(softmax_kernel::<T>(x, d, log), x.shape().clone()));
    record(out, &[x], |out| SoftmaxBackward {
        dim: d,
        log,
        y: Saved::new(out),
    })
}

impl Tensor {
    /// `exp(xᵢ) / Σⱼ exp(xⱼ)` along `dim` (`torch.softmax(x, dim)`,
    /// `torch.nn.functional.softmax`). Computed with the max subtracted, so
    /// any finite input gives finite probabilities.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let p = Tensor::new([[1.0f64, 2.0, 3.0], [1e4, 0.0, -1e4]]).softmax(1);
    /// let rows = p.sum_dim(1, false).to_vec::<f64>();
    /// assert!(rows.iter().all(|s| (s - 1.0).abs() < 1e-12));
    /// assert_eq!(p.to_vec::<f64>()[3], 1.0);
    /// ```
    pub fn try_softmax(&self, dim: isize) -> Result<Tensor> {
        softmax_op(self, dim, false)
    }
    crate::ops::panicking!(softmax => try_softmax(dim: isize) -> Tensor);

    /// `xᵢ − log Σⱼ exp(xⱼ)` along `dim` (`torch.log_softmax(x, dim)`,
    /// `torch.nn.functional.log_softmax`), computed as
    /// `x − max − log Σ exp(x − max)`: finite for any finite input, even
    /// where the probability underflows.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let lp = Tensor::new([0.0f64, -1e4]).log_softmax(0);
    /// assert_eq!(lp.to_vec::<f64>(), vec![0.0, -1e4]);
    /// ```
    pub fn try_log_softmax(&self, dim: isize) -> Result<Tensor> {
        softmax_op(self, dim, true)
    }
    crate::ops::panicking!(log_softmax => try_log_softmax(dim: isize) -> Tensor);
}

/// Gradients in terms of the output `y`:
/// softmax: `y ⊙ (g − Σ g⊙y)`; log_softmax: `g − exp(y) ⊙ Σ g`.
struct SoftmaxBackward {
    dim: usize,
    log: bool,
    y: Saved,
}

impl SoftmaxBackward {
    fn fused<T: Element>(&self, g: &Tensor) -> Vec<T> {
        let y = self.y.value();
        let (outer, n, inner) = split_at_dim(y.shape(), self.dim);
        let log = self.log;
        y.with_contiguous::<T, _>(|y| {
            g.with_contiguous::<T, _>(|g| {
                let mut out = vec![T::ZERO; y.len()];
                for_each_slice(outer, n, inner, |base, stride| {
                    let mut dot = T::ZERO;
                    for k in 0..n {
                        let j = base + k * stride;
                        dot += if log { g[j] } else { g[j] * y[j] };
                    }
                    for k in 0..n {
                        let j = base + k * stride;
                        out[j] = if log {
                            g[j] - y[j].exp() * dot
                        } else {
                            y[j] * (g[j] - dot)
                        };
                    }
                });
                out
            })
        })
    }
}

impl Backward for SoftmaxBackward {
    fn name(&self) -> &'static str {
        if self.log {
            "LogSoftmax"
        } else {
            "Softmax"
        }
    }

    /// Accelerator: the same gradients in one fused pass.
    fn first_order(&self, _ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        let g = &g;
        let shape = g.shape().clone();
        let gx = dispatch!(g.dtype(), T => Tensor::from_parts(self.fused::<T>(g), shape));
        Ok(Accelerated::Done(smallvec::smallvec![Some(gx)]))
    }

    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let y = ctx.output(&self.y);
        let dim = [self.dim as isize];
        let gx = if self.log {
            g.try_sub(&y.try_exp()?.try_mul(&g.try_sum_dims(&dim, true)?)?)?
        } else {
            let gy = g.try_mul(&y)?;
            gy.try_sub(&y.try_mul(&gy.try_sum_dims(&dim, true)?)?)?
        };
        Ok(smallvec::smallvec![Some(gx)])
    }
}

/// `torch.nn.functional.softmax(input, dim)`; see [`Tensor::try_softmax`].
pub fn softmax(input: &Tensor, dim: isize) -> Result<Tensor> {
    input.try_softmax(dim)
}

/// `torch.nn.functional.log_softmax(input, dim)`; see
/// [`Tensor::try_log_softmax`].
pub fn log_softmax(input: &Tensor, dim: isize) -> Result<Tensor> {
    input.try_log_softmax(dim)
}

/// `torch.sigmoid(input)` / `torch.nn.functional.sigmoid`:
/// `1 / (1 + e^−x)`, stable for any input; see [`Tensor::try_sigmoid`].
pub fn sigmoid(input: &Tensor) -> Result<Tensor> {
    input.try_sigmoid()
}
