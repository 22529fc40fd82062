//! `cumsum`: running sums along one dim.
//!
//! The backward of a running sum is a running sum taken from the other end
//! (`out[i] = Σ_{k≤i} x[k]`, so `∂L/∂x[k] = Σ_{i≥k} g[i]`). Both directions
//! are the one recorded op below, each the other's backward, so gradients of
//! every order are running sums again.

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::Scalar;
use crate::dtype::{dispatch, Element};
use crate::error::Result;
use crate::shape::normalize_dim;
use crate::tensor::Tensor;

/// Row-major `(outer, size, inner)` of `dims` around dim `d`: element
/// `(o, i, j)` sits at `(o * size + i) * inner + j`.
pub(crate) fn split_at_dim(dims: &[usize], d: usize) -> (usize, usize, usize) {
    let outer = dims[..d].iter().product();
    let inner = dims[d + 1..].iter().product();
    (outer, dims[d], inner)
}

impl Tensor {
    /// Like [`cumsum`](Tensor::cumsum), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_cumsum(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim("cumsum", dim, self.ndim())?;
        self.running_sum(d, false)
    }
    panicking!(
        /// Cumulative sum along `dim` (`torch.cumsum(x, dim)`): element `i` of
        /// the result is the sum of elements `0..=i` of the input along `dim`.
        /// A negative `dim` counts from the end; a 0-d tensor accepts 0 and -1.
        ///
        /// Sums accumulate in `f64` for both dtypes (PyTorch's CPU kernel
        /// accumulates `float32` in double too). The gradient is the cumulative
        /// sum of the incoming gradient taken from the far end.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        /// assert_eq!(x.cumsum(1).to_vec::<f32>(), vec![1.0, 3.0, 6.0, 4.0, 9.0, 15.0]);
        /// assert_eq!(x.cumsum(-2).to_vec::<f32>(), vec![1.0, 2.0, 3.0, 5.0, 7.0, 9.0]);
        /// ```
        cumsum => try_cumsum(dim: isize) -> Tensor
    );

    /// Running sum along the valid dim `d` (of a 0-d tensor: a copy), from
    /// the front or, with `reverse`, from the back.
    fn running_sum(&self, d: usize, reverse: bool) -> Result<Tensor> {
        crate::dtype::require_float("cumsum", self.dtype())?;
        let (outer, size, inner) = if self.ndim() == 0 {
            (1, 1, 1)
        } else {
            split_at_dim(self.dims(), d)
        };
        let out = dispatch!(self.dtype(), T => {
            let data = self.with_contiguous::<T, _>(|x| {
                let mut out = vec![T::ZERO; x.len()];
                let mut acc = vec![0.0f64; inner];
                for o in 0..outer {
                    acc.fill(0.0);
                    for step in 0..size {
                        let i = if reverse { size - 1 - step } else { step };
                        let row = (o * size + i) * inner;
                        for (j, a) in acc.iter_mut().enumerate() {
                            *a += x[row + j].to_f64();
                            out[row + j] = T::from_f64(*a);
                        }
                    }
                }
                out
            });
            Tensor::from_parts(data, self.shape().clone())
        });
        record(out, &[self], |_| CumsumBackward { dim: d, reverse })
    }
}

struct CumsumBackward {
    dim: usize,
    reverse: bool,
}

impl Backward for CumsumBackward {
    fn name(&self) -> &'static str {
        if self.reverse {
            "ReverseCumsum"
        } else {
            "Cumsum"
        }
    }
    // Each input element feeds every output at or after it (before it, for
    // the reversed sum), so its gradient is the opposite running sum of g.
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let g = g.running_sum(self.dim, !self.reverse)?;
        Ok(smallvec::smallvec![Some(g)])
    }
}
