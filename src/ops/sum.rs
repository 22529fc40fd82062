//! `sum` over dims, and `sum_to`, the rule that undoes broadcasting.

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, require_float};
use crate::error::{Error, Result};
use crate::kernels::reduce::{kept_shape, sum_dims};
use crate::shape::{normalize_dims, Dims, Shape};
use crate::tensor::Tensor;

/// Output shape of a reduction over `dims` (sorted).
pub(crate) fn reduced_shape(shape: &Shape, dims: &[usize], keepdim: bool) -> Shape {
    if keepdim {
        return kept_shape(shape, dims);
    }
    Shape(
        shape
            .dims()
            .iter()
            .enumerate()
            .filter(|(d, _)| !dims.contains(d))
            .map(|(_, &s)| s)
            .collect(),
    )
}

/// All dims of a tensor of rank `rank`.
pub(crate) fn all_dims(rank: usize) -> Dims {
    (0..rank).collect()
}

impl Tensor {
    /// Like [`sum`](Tensor::sum), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sum(&self) -> Result<Tensor> {
        require_float("sum", self.dtype())?;
        self.sum_over(&all_dims(self.ndim()), false)
    }
    panicking!(
        /// Sum of all elements, as a 0-d tensor (`torch.sum`).
        sum => try_sum() -> Tensor
    );

    /// Like [`sum_dims`](Tensor::sum_dims), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sum_dims(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        require_float("sum_dims", self.dtype())?;
        if dims.is_empty() {
            return self.sum_over(&all_dims(self.ndim()), keepdim);
        }
        let dims = normalize_dims("sum", dims, self.ndim())?;
        self.sum_over(&dims, keepdim)
    }
    panicking!(
        /// Sum over the given dims (negative dims count from the end), keeping
        /// them as size 1 if `keepdim` (`torch.sum(x, dim, keepdim)`).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        /// assert_eq!(x.sum_dims(&[0], false).to_vec::<f32>(), vec![5.0, 7.0, 9.0]);
        /// assert_eq!(x.sum_dims(&[-1], true).dims(), &[2, 1]);
        /// ```
        ///
        /// An empty `dims` list reduces every dim, as `torch.sum(x, dim=[])` and
        /// `torch.amax` do.
        sum_dims => try_sum_dims(dims: &[isize], keepdim: bool) -> Tensor
    );

    /// Like [`sum_dim`](Tensor::sum_dim), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sum_dim(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        require_float("sum_dim", self.dtype())?;
        self.try_sum_dims(&[dim], keepdim)
    }
    panicking!(
        /// Sum over one dim (`torch.sum(x, dim)`).
        sum_dim => try_sum_dim(dim: isize, keepdim: bool) -> Tensor
    );

    fn sum_over(&self, dims: &[usize], keepdim: bool) -> Result<Tensor> {
        let dims: Dims = dims.iter().copied().filter(|&d| d < self.ndim()).collect();
        let out_shape = reduced_shape(self.shape(), &dims, keepdim);
        let out = dispatch!(self.dtype(), T => Tensor::from_parts(sum_dims::<T>(self, &dims), out_shape.clone()));
        record(out, &[self], |_| SumBackward {
            input_shape: self.shape().clone(),
            kept: kept_shape(self.shape(), &dims),
        })
    }

    /// Like [`sum_to`](Tensor::sum_to), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sum_to(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        require_float("sum_to", self.dtype())?;
        let target: Shape = shape.into();
        if self.shape() == &target {
            return Ok(self.clone());
        }
        let rank = self.ndim();
        let lead = rank.checked_sub(target.rank()).ok_or_else(|| {
            Error::mismatch(
                "sum_to",
                "the target must have no more dims than the tensor",
                self.shape(),
                &target,
            )
        })?;
        let mut dims = Dims::new();
        for d in 0..rank {
            if d < lead {
                dims.push(d);
                continue;
            }
            let (have, want) = (self.dims()[d], target.dims()[d - lead]);
            if want == 1 && have != 1 {
                dims.push(d);
            } else if want != have {
                return Err(Error::mismatch(
                    "sum_to",
                    "the tensor's shape must be a broadcast of the target",
                    self.shape(),
                    &target,
                ));
            }
        }
        let summed = self.sum_over(&dims, true)?;
        summed.try_reshape(target.dims())
    }
    panicking!(
        /// Sums a (broadcast) tensor down to `shape`, the shape it was broadcast
        /// from: leading dims are summed away and dims that are 1 in `shape` are
        /// summed with keepdim. This is the backward of every broadcast.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let g = Tensor::ones(&[4, 2, 3]);
        /// assert_eq!(g.sum_to(&[2, 1]).to_vec::<f32>(), vec![12.0, 12.0]);
        /// ```
        sum_to => try_sum_to(shape: &[usize]) -> Tensor
    );

    /// Like [`mean`](Tensor::mean), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_mean(&self) -> Result<Tensor> {
        require_float("mean", self.dtype())?;
        let n = self.numel();
        self.try_sum()?.try_div_scalar(n as f64)
    }
    panicking!(
        /// Mean of all elements (`torch.mean`); NaN for an empty tensor, as in
        /// PyTorch.
        mean => try_mean() -> Tensor
    );

    /// Like [`mean_dims`](Tensor::mean_dims), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_mean_dims(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        require_float("mean_dims", self.dtype())?;
        let norm = if dims.is_empty() {
            all_dims(self.ndim())
        } else {
            normalize_dims("mean", dims, self.ndim())?
        };
        let count: usize = norm
            .iter()
            .filter(|&&d| d < self.ndim())
            .map(|&d| self.dims()[d])
            .product();
        self.sum_over(&norm, keepdim)?.try_div_scalar(count as f64)
    }
    panicking!(
        /// Mean over the given dims (`torch.mean(x, dim, keepdim)`).
        /// An empty `dims` list averages over every dim.
        mean_dims => try_mean_dims(dims: &[isize], keepdim: bool) -> Tensor
    );

    /// Like [`mean_dim`](Tensor::mean_dim), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_mean_dim(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        require_float("mean_dim", self.dtype())?;
        self.try_mean_dims(&[dim], keepdim)
    }
    panicking!(
        /// Mean over one dim.
        mean_dim => try_mean_dim(dim: isize, keepdim: bool) -> Tensor
    );
}

struct SumBackward {
    input_shape: Shape,
    kept: Shape,
}

impl Backward for SumBackward {
    fn name(&self) -> &'static str {
        "Sum"
    }
    // Every input element contributed once: broadcast the gradient back.
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let g = g.try_reshape(self.kept.dims())?;
        Ok(smallvec::smallvec![Some(
            g.try_expand(self.input_shape.dims())?
        )])
    }
}
