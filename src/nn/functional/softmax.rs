//! `softmax` and `log_softmax` over one dim, recorded as ops; the row
//! kernels (max-subtracted, so finite for any finite input) are in
//! `kernels::softmax`.

use crate::autograd::function::{Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, require_float};
use crate::error::Result;
use crate::kernels::element::KernelElement;
use crate::kernels::softmax::{self as kernel, Rows};
use crate::shape::normalize_dim;
use crate::tensor::Tensor;

fn softmax_kernel<T: KernelElement>(x: &Tensor, dim: usize, log: bool) -> Vec<T> {
    let rows = Rows::along(x.shape(), dim);
    x.with_contiguous::<T, _>(|x| {
        let mut out = crate::tensor::cache::zeroed::<T>(x.len());
        let mut maxes = vec![T::ZERO; rows.count()];
        let mut log_sums = vec![T::ZERO; rows.count()];
        kernel::softmax(x, rows, &mut out, &mut maxes, &mut log_sums);
        if log {
            kernel::log_softmax(x, rows, &maxes, &log_sums, &mut out);
        }
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
    /// Like [`softmax`](Tensor::softmax), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_softmax(&self, dim: isize) -> Result<Tensor> {
        require_float("softmax", self.dtype())?;
        softmax_op(self, dim, false)
    }
    crate::ops::panicking!(
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
        softmax => try_softmax(dim: isize) -> Tensor
    );

    /// Like [`log_softmax`](Tensor::log_softmax), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_log_softmax(&self, dim: isize) -> Result<Tensor> {
        require_float("log_softmax", self.dtype())?;
        softmax_op(self, dim, true)
    }
    crate::ops::panicking!(
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
        log_softmax => try_log_softmax(dim: isize) -> Tensor
    );
}

/// Gradients in terms of the output `y`:
/// softmax: `y ⊙ (g − Σ g⊙y)`; log_softmax: `g − exp(y) ⊙ Σ g`.
struct SoftmaxBackward {
    dim: usize,
    log: bool,
    y: Saved,
}

impl SoftmaxBackward {
    fn fused<T: KernelElement>(&self, g: &Tensor) -> Vec<T> {
        let y = self.y.value();
        let rows = Rows::along(y.shape(), self.dim);
        y.with_contiguous::<T, _>(|y| {
            g.with_contiguous::<T, _>(|g| kernel::softmax_backward(y, g, rows, self.log))
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
