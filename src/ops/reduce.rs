//! Reductions other than `sum`/`mean`: extrema (`amax`, `amin`, `max`,
//! `min`, `max_dim`, `min_dim`), their positions (`argmax`, `argmin`),
//! `logsumexp`, and `var`/`std`.
//!
//! Conventions shared by every op here, all following PyTorch:
//! - an empty `dims` list means every dim (`torch.amax(x, dim=())`);
//! - a 0-d tensor accepts dim 0 / -1 and reduces over nothing;
//! - extrema of an empty slice are an error (there is no identity), while
//!   `logsumexp` of one is −inf and `var` of one is NaN, as in PyTorch.

use super::panicking;
use super::sum::{all_dims, reduced_shape};
use crate::autograd::function::{done, Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, require_float};
use crate::error::{Error, Result};
use crate::kernels::elementwise::zip3;
use crate::kernels::reduce::{
    arg_extremum, kept_shape, logsumexp_dims, one_hot_weights, tie_weights, Extremum,
};
use crate::shape::{normalize_dim, normalize_dims, Dims, Shape};
use crate::tensor::Tensor;

/// Sorted dims to reduce; empty means all. Dims of a 0-d tensor are
/// accepted and dropped (there is nothing to reduce).
fn reduction_dims(op: &'static str, x: &Tensor, dims: &[isize]) -> Result<Dims> {
    let mut out = if dims.is_empty() {
        all_dims(x.ndim())
    } else {
        normalize_dims(op, dims, x.ndim())?
    };
    out.retain(|d| *d < x.ndim());
    Ok(out)
}

/// The one dim an index-returning reduction works along.
fn single_dim(op: &'static str, x: &Tensor, dim: isize) -> Result<Dims> {
    let d = normalize_dim(op, dim, x.ndim())?;
    Ok(if d < x.ndim() {
        Dims::from_slice(&[d])
    } else {
        Dims::new()
    })
}

/// Extrema and arg-extrema have no identity element, so an empty slice has
/// no answer (PyTorch raises too).
fn reject_empty(op: &'static str, x: &Tensor, dims: &[usize]) -> Result<()> {
    if let Some(&d) = dims.iter().find(|&&d| x.dims()[d] == 0) {
        return Err(Error::bad_shape(
            op,
            format!("cannot reduce over dim {d} of size 0 (the reduction has no identity)"),
            x.shape(),
        ));
    }
    Ok(())
}

/// Positions as an `int64` tensor, as PyTorch returns them.
fn index_tensor(pos: &[usize], shape: Shape) -> Tensor {
    Tensor::from_parts(pos.iter().map(|&p| p as i64).collect::<Vec<i64>>(), shape)
}

impl Tensor {
    /// Like [`amax`](Tensor::amax), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_amax(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        require_float("amax", self.dtype())?;
        let dims = reduction_dims("amax", self, dims)?;
        self.extremum("amax", "Amax", Extremum::Max, &dims, keepdim)
    }
    panicking!(
        /// Maximum over `dims` (`torch.amax(x, dim, keepdim)`); an empty `dims`
        /// reduces every dim. A NaN in a slice makes its result NaN.
        ///
        /// Gradient: split evenly among the elements equal to the maximum (as
        /// `torch.amax` does), so `amax([1, 3, 3])` sends `[0, ½, ½]`; a NaN
        /// maximum shares it among the NaN elements. Reducing a dim of size 0 is
        /// an error.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 5.0, 2.0], [4.0, 0.0, 3.0]]);
        /// assert_eq!(x.amax(&[1], false).to_vec::<f32>(), vec![5.0, 4.0]);
        /// assert_eq!(x.amax(&[], false).item::<f32>(), 5.0);
        /// ```
        amax => try_amax(dims: &[isize], keepdim: bool) -> Tensor
    );

    /// Like [`amin`](Tensor::amin), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_amin(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        require_float("amin", self.dtype())?;
        let dims = reduction_dims("amin", self, dims)?;
        self.extremum("amin", "Amin", Extremum::Min, &dims, keepdim)
    }
    panicking!(
        /// Minimum over `dims` (`torch.amin(x, dim, keepdim)`); ties share the
        /// gradient evenly, as for [`try_amax`](Tensor::try_amax).
        amin => try_amin(dims: &[isize], keepdim: bool) -> Tensor
    );

    /// Like [`max`](Tensor::max), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_max(&self) -> Result<Tensor> {
        require_float("max", self.dtype())?;
        self.extremum("max", "Max", Extremum::Max, &all_dims(self.ndim()), false)
    }
    panicking!(
        /// Maximum of all elements as a 0-d tensor (`torch.max(x)`); ties share
        /// the gradient evenly (PyTorch's `evenly_distribute_backward`). An
        /// empty tensor is an error.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// assert_eq!(Tensor::new([1.0f32, 7.0, 3.0]).max().item::<f32>(), 7.0);
        /// ```
        max => try_max() -> Tensor
    );

    /// Like [`min`](Tensor::min), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_min(&self) -> Result<Tensor> {
        require_float("min", self.dtype())?;
        self.extremum("min", "Min", Extremum::Min, &all_dims(self.ndim()), false)
    }
    panicking!(
        /// Minimum of all elements as a 0-d tensor (`torch.min(x)`).
        min => try_min() -> Tensor
    );

    /// Like [`max_dim`](Tensor::max_dim), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_max_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        require_float("max_dim", self.dtype())?;
        self.extremum_dim("max_dim", "MaxDim", Extremum::Max, dim, keepdim)
    }
    panicking!(
        /// Maximum along `dim` and where it is (`torch.max(x, dim, keepdim)`),
        /// returned as `(values, indices)`. Indices are a float tensor of the
        /// input's dtype holding integral values (tapegrad has no integer
        /// dtype) and carry no gradient. On ties the first occurrence is
        /// returned; a NaN wins, and its index is returned.
        ///
        /// Gradient: the whole gradient goes to the returned index (as PyTorch
        /// on CPU), unlike [`try_amax`](Tensor::try_amax) which splits it.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 5.0, 5.0], [4.0, 0.0, 3.0]]);
        /// let (values, indices) = x.max_dim(1, false);
        /// assert_eq!(values.to_vec::<f32>(), vec![5.0, 4.0]);
        /// assert_eq!(indices.to_vec::<f32>(), vec![1.0, 0.0]);
        /// ```
        max_dim => try_max_dim(dim: isize, keepdim: bool) -> (Tensor, Tensor)
    );

    /// Like [`min_dim`](Tensor::min_dim), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_min_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        require_float("min_dim", self.dtype())?;
        self.extremum_dim("min_dim", "MinDim", Extremum::Min, dim, keepdim)
    }
    panicking!(
        /// Minimum along `dim` and its index (`torch.min(x, dim, keepdim)`);
        /// see [`try_max_dim`](Tensor::try_max_dim).
        min_dim => try_min_dim(dim: isize, keepdim: bool) -> (Tensor, Tensor)
    );

    /// Like [`argmax`](Tensor::argmax), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_argmax(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        require_float("argmax", self.dtype())?;
        let dims = single_dim("argmax", self, dim)?;
        self.arg_extremum_of("argmax", Extremum::Max, &dims, keepdim)
    }
    panicking!(
        /// Index of the maximum along `dim` (`torch.argmax(x, dim, keepdim)`),
        /// first occurrence on ties, a NaN counting as the maximum. The result
        /// is an int64 tensor, as in PyTorch; it does not require grad.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 5.0, 5.0], [4.0, 0.0, 3.0]]);
        /// assert_eq!(x.argmax(1, false).to_vec::<f32>(), vec![1.0, 0.0]);
        /// ```
        argmax => try_argmax(dim: isize, keepdim: bool) -> Tensor
    );

    /// Like [`argmin`](Tensor::argmin), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_argmin(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        require_float("argmin", self.dtype())?;
        let dims = single_dim("argmin", self, dim)?;
        self.arg_extremum_of("argmin", Extremum::Min, &dims, keepdim)
    }
    panicking!(
        /// Index of the minimum along `dim` (`torch.argmin(x, dim, keepdim)`);
        /// see [`try_argmax`](Tensor::try_argmax).
        argmin => try_argmin(dim: isize, keepdim: bool) -> Tensor
    );

    /// Like [`argmax_all`](Tensor::argmax_all), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_argmax_all(&self) -> Result<Tensor> {
        require_float("argmax_all", self.dtype())?;
        self.arg_extremum_of("argmax", Extremum::Max, &all_dims(self.ndim()), false)
    }
    panicking!(
        /// Row-major flat index of the maximum of all elements, as a 0-d int64
        /// tensor (`torch.argmax(x)`).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 5.0], [7.0, 0.0]]);
        /// assert_eq!(x.argmax_all().item::<i64>(), 2);
        /// ```
        argmax_all => try_argmax_all() -> Tensor
    );

    /// Like [`argmin_all`](Tensor::argmin_all), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_argmin_all(&self) -> Result<Tensor> {
        require_float("argmin_all", self.dtype())?;
        self.arg_extremum_of("argmin", Extremum::Min, &all_dims(self.ndim()), false)
    }
    panicking!(
        /// Row-major flat index of the minimum of all elements (`torch.argmin(x)`).
        argmin_all => try_argmin_all() -> Tensor
    );

    /// Like [`logsumexp`](Tensor::logsumexp), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_logsumexp(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        require_float("logsumexp", self.dtype())?;
        let dims = reduction_dims("logsumexp", self, dims)?;
        let kept = kept_shape(self.shape(), &dims);
        let shape = reduced_shape(self.shape(), &dims, keepdim);
        let out = dispatch!(self.dtype(), T => Tensor::from_parts(logsumexp_dims::<T>(self, &dims), shape));
        record(out, &[self], |out| LogsumexpBackward {
            x: Saved::new(self),
            out: Saved::new(out),
            kept,
        })
    }
    panicking!(
        /// `log Σ exp(x)` over `dims` (`torch.logsumexp(x, dim, keepdim)`); an
        /// empty `dims` reduces every dim.
        ///
        /// Numerically stable: each slice is shifted by its maximum, so inputs
        /// of ±1e4 do not overflow. A slice of only −inf gives −inf (not NaN), a
        /// +inf gives +inf, an empty slice gives −inf (log 0), as in PyTorch.
        /// The gradient is `softmax` over the slice, `exp(x − out)`; for an
        /// all −inf slice that is NaN, as in PyTorch.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([1e4f64, 1e4]);
        /// let y = x.logsumexp(&[0], false).item::<f64>();
        /// assert!((y - (1e4 + 2f64.ln())).abs() < 1e-9);
        /// ```
        logsumexp => try_logsumexp(dims: &[isize], keepdim: bool) -> Tensor
    );

    /// Like [`var`](Tensor::var), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_var(&self, dims: &[isize], correction: usize, keepdim: bool) -> Result<Tensor> {
        require_float("var", self.dtype())?;
        let dims = reduction_dims("var", self, dims)?;
        self.variance(&dims, correction, keepdim)
    }
    panicking!(
        /// Variance over `dims` (`torch.var(x, dim, correction=correction,
        /// keepdim=keepdim)`); an empty `dims` reduces every dim. `correction`
        /// is Bessel's correction: 1 (PyTorch's default) for the unbiased
        /// sample variance, 0 for the population variance.
        ///
        /// The sum of squared deviations is divided by `max(N − correction, 0)`
        /// exactly as PyTorch does, so when a slice has no more than
        /// `correction` elements the result is NaN (0/0, e.g. one element with
        /// `correction = 1`, or an empty slice) or +inf (when the deviations are
        /// not all 0). PyTorch warns there; tapegrad returns the same values
        /// silently.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([1.0f32, 2.0, 3.0, 4.0]);
        /// assert_eq!(x.var(&[0], 1, false).item::<f32>(), 5.0 / 3.0);
        /// assert_eq!(x.var(&[0], 0, false).item::<f32>(), 1.25);
        /// ```
        var => try_var(dims: &[isize], correction: usize, keepdim: bool) -> Tensor
    );

    /// Like [`std`](Tensor::std), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_std(&self, dims: &[isize], correction: usize, keepdim: bool) -> Result<Tensor> {
        require_float("std", self.dtype())?;
        let dims = reduction_dims("std", self, dims)?;
        let var = self.variance(&dims, correction, keepdim)?;
        // sqrt has an infinite slope at 0; route those slots around it so
        // both their value (0) and their gradient (0) stay finite.
        let zero = var.try_eq_scalar(0.0)?;
        let safe = Tensor::try_where_(&zero, &Tensor::ones_like(&var), &var)?;
        Tensor::try_where_(&zero, &Tensor::zeros_like(&var), &safe.try_sqrt()?)
    }
    panicking!(
        /// Standard deviation over `dims` (`torch.std(x, dim,
        /// correction=correction, keepdim=keepdim)`), the square root of
        /// [`try_var`](Tensor::try_var) with the same NaN/inf cases.
        ///
        /// Where the standard deviation is 0 (a constant slice) the gradient is
        /// 0 rather than NaN, as in PyTorch's `std_backward`.
        std => try_std(dims: &[isize], correction: usize, keepdim: bool) -> Tensor
    );

    fn extremum(
        &self,
        op: &'static str,
        name: &'static str,
        which: Extremum,
        dims: &[usize],
        keepdim: bool,
    ) -> Result<Tensor> {
        reject_empty(op, self, dims)?;
        let kept = kept_shape(self.shape(), dims);
        let shape = reduced_shape(self.shape(), dims, keepdim);
        let out = dispatch!(self.dtype(), T => Tensor::from_parts(arg_extremum::<T>(self, dims, which).0, shape));
        record(out, &[self], |out| ExtremumBackward {
            name,
            x: Saved::new(self),
            kept,
            share: Share::Ties(Saved::new(out)),
        })
    }

    fn extremum_dim(
        &self,
        op: &'static str,
        name: &'static str,
        which: Extremum,
        dim: isize,
        keepdim: bool,
    ) -> Result<(Tensor, Tensor)> {
        let dims = single_dim(op, self, dim)?;
        reject_empty(op, self, &dims)?;
        let kept = kept_shape(self.shape(), &dims);
        let shape = reduced_shape(self.shape(), &dims, keepdim);
        let (values, pos) = dispatch!(self.dtype(), T => {
            let (best, pos) = arg_extremum::<T>(self, &dims, which);
            (Tensor::from_parts(best, shape.clone()), pos)
        });
        let indices = index_tensor(&pos, shape);
        let values = record(values, &[self], |_| ExtremumBackward {
            name,
            x: Saved::new(self),
            kept,
            share: Share::Index(pos),
        })?;
        Ok((values, indices))
    }

    fn arg_extremum_of(
        &self,
        op: &'static str,
        which: Extremum,
        dims: &[usize],
        keepdim: bool,
    ) -> Result<Tensor> {
        reject_empty(op, self, dims)?;
        let pos = dispatch!(self.dtype(), T => arg_extremum::<T>(self, dims, which).1);
        Ok(index_tensor(
            &pos,
            reduced_shape(self.shape(), dims, keepdim),
        ))
    }

    /// `Σ (x − mean)² / max(N − correction, 0)` over `dims` (sorted, valid).
    fn variance(&self, dims: &[usize], correction: usize, keepdim: bool) -> Result<Tensor> {
        let n: usize = dims.iter().map(|&d| self.dims()[d]).product();
        let signed: Vec<isize> = dims.iter().map(|&d| d as isize).collect();
        let mean = self.try_mean_dims(&signed, true)?;
        let squares = self.try_sub(&mean)?.try_square()?;
        squares
            .try_sum_dims(&signed, keepdim)?
            .try_div_scalar(n.saturating_sub(correction) as f64)
    }
}

/// How an extremum's gradient is shared within a slice.
enum Share {
    /// Evenly among the elements equal to the saved output (`amax`, `max()`).
    Ties(Saved),
    /// All to the element at this flat position in each slice (`max_dim`).
    Index(Vec<usize>),
}

struct ExtremumBackward {
    name: &'static str,
    x: Saved,
    kept: Shape,
    share: Share,
}

impl Backward for ExtremumBackward {
    fn name(&self) -> &'static str {
        self.name
    }
    // The gradient is g times constant weights, so it is linear in g with a
    // locally constant slope in x: second order works through `try_mul`.
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let x = self.x.value();
        let weights = dispatch!(x.dtype(), T => {
            let w = match &self.share {
                Share::Ties(out) => out
                    .value()
                    .with_contiguous::<T, _>(|ext| tie_weights::<T>(x, &self.kept, ext)),
                Share::Index(pos) => one_hot_weights::<T>(x, &self.kept, pos),
            };
            Tensor::from_parts(w, x.shape().clone())
        });
        let g = g.try_reshape(self.kept.dims())?;
        Ok(smallvec::smallvec![Some(g.try_mul(&weights)?)])
    }
}

struct LogsumexpBackward {
    x: Saved,
    out: Saved,
    kept: Shape,
}

impl Backward for LogsumexpBackward {
    fn name(&self) -> &'static str {
        "Logsumexp"
    }
    // d/dx log Σ e^x = e^(x − out), the softmax of the slice; `out` is
    // re-attached so the gradient is itself differentiable.
    /// Accelerator: the same g · e^(x − out), in one pass.
    fn first_order(&self, _ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        let x = self.x.value();
        let out = self.out.value().try_reshape(self.kept.dims())?;
        let g = g.try_reshape(self.kept.dims())?;
        let grad = dispatch!(x.dtype(), T => Tensor::from_parts(
            zip3::<T>(x, &out, &g, x.shape(), |x, o, g| g * (x - o).exp()),
            x.shape().clone(),
        ));
        done([Some(grad)])
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let x = ctx.input(0, &self.x);
        let out = ctx.output(&self.out).try_reshape(self.kept.dims())?;
        let softmax = x.try_sub(&out)?.try_exp()?;
        let g = g.try_reshape(self.kept.dims())?;
        Ok(smallvec::smallvec![Some(g.try_mul(&softmax)?)])
    }
}
