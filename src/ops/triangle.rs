//! `tril` and `triu`: keep the lower or upper triangle of the last two dims
//! and zero the rest.
//!
//! Each is linear with a 0/1 pattern, so its backward is the same op on the
//! gradient, and gradients of every order follow.

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Which triangle to keep.
#[derive(Clone, Copy)]
enum Triangle {
    /// Column − row ≤ diagonal.
    Lower,
    /// Column − row ≥ diagonal.
    Upper,
}

impl Triangle {
    fn op(self) -> &'static str {
        match self {
            Triangle::Lower => "tril",
            Triangle::Upper => "triu",
        }
    }

    fn keeps(self, row: usize, col: usize, diagonal: isize) -> bool {
        let offset = col as i128 - row as i128;
        match self {
            Triangle::Lower => offset <= diagonal as i128,
            Triangle::Upper => offset >= diagonal as i128,
        }
    }
}

impl Tensor {
    /// Like [`tril`](Tensor::tril), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_tril(&self, diagonal: isize) -> Result<Tensor> {
        self.triangle(Triangle::Lower, diagonal)
    }
    panicking!(
        /// The lower triangle of the last two dims, the rest set to 0
        /// (`torch.tril(x, diagonal)`). Element `(i, j)` of each matrix is kept
        /// when `j − i ≤ diagonal`: 0 keeps the main diagonal, a positive
        /// `diagonal` also keeps that many diagonals above it, a negative one
        /// drops diagonals. Leading dims are a batch. The tensor needs at least
        /// 2 dims. Zeroed positions are exactly 0 even where the input is NaN or
        /// infinite (they are not multiplied by 0).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        /// assert_eq!(x.tril(0).to_vec::<f32>(), vec![1.0, 0.0, 0.0, 4.0, 5.0, 0.0]);
        /// assert_eq!(x.tril(-1).to_vec::<f32>(), vec![0.0, 0.0, 0.0, 4.0, 0.0, 0.0]);
        /// ```
        tril => try_tril(diagonal: isize) -> Tensor
    );

    /// Like [`triu`](Tensor::triu), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_triu(&self, diagonal: isize) -> Result<Tensor> {
        self.triangle(Triangle::Upper, diagonal)
    }
    panicking!(
        /// The upper triangle of the last two dims, the rest set to 0
        /// (`torch.triu(x, diagonal)`): element `(i, j)` is kept when
        /// `j − i ≥ diagonal`. See [`try_tril`](Tensor::try_tril).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        /// assert_eq!(x.triu(1).to_vec::<f32>(), vec![0.0, 2.0, 3.0, 0.0, 0.0, 6.0]);
        /// ```
        triu => try_triu(diagonal: isize) -> Tensor
    );

    fn triangle(&self, which: Triangle, diagonal: isize) -> Result<Tensor> {
        if self.ndim() < 2 {
            return Err(Error::bad_shape(
                which.op(),
                "the input must have at least 2 dims",
                self.shape(),
            ));
        }
        crate::dtype::require_float(which.op(), self.dtype())?;
        let rank = self.ndim();
        let (rows, cols) = (self.dims()[rank - 2], self.dims()[rank - 1]);
        let out = dispatch!(self.dtype(), T => {
            let data = self.with_contiguous::<T, _>(|x| {
                let mut out = x.to_vec();
                for (k, v) in out.iter_mut().enumerate() {
                    let (row, col) = ((k / cols) % rows, k % cols);
                    if !which.keeps(row, col, diagonal) {
                        *v = T::ZERO;
                    }
                }
                out
            });
            Tensor::from_parts(data, self.shape().clone())
        });
        record(out, &[self], |_| TriangleBackward { which, diagonal })
    }
}

struct TriangleBackward {
    which: Triangle,
    diagonal: isize,
}

impl Backward for TriangleBackward {
    fn name(&self) -> &'static str {
        match self.which {
            Triangle::Lower => "Tril",
            Triangle::Upper => "Triu",
        }
    }
    // A fixed 0/1 pattern: the gradient is g with the same pattern.
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let g = g.triangle(self.which, self.diagonal)?;
        Ok(smallvec::smallvec![Some(g)])
    }
}
