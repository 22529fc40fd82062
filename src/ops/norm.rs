//! `norm`: vector p-norms over dims (`torch.linalg.vector_norm`) for
//! p = 1, 2 and ∞.
//!
//! Each is composed from differentiable ops, so gradients of every order
//! come from theirs; the compositions are chosen so that the gradient at 0
//! is PyTorch's subgradient:
//! - p = 1 is `Σ|x|`; `abs` has slope `sign(x)`, 0 at 0.
//! - p = 2 is `√Σx²`, with the square root routed around 0 (as `std`
//!   does), so the zero vector has value 0 and gradient 0 instead of NaN.
//! - p = ∞ is `amax(|x|)`; `amax` splits the gradient evenly among tied
//!   maxima and `abs` gives it the sign, 0 for a zero vector.

use super::panicking;
use crate::error::{Error, Result};
use crate::shape::normalize_dims;
use crate::tensor::Tensor;

impl Tensor {
    /// Like [`norm`](Tensor::norm), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_norm(&self, p: f64, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        // Validate here so that errors name `norm`, not the ops it is made of.
        let reduced = normalize_dims("norm", dims, self.ndim())?;
        if p == f64::INFINITY {
            let all = reduced.is_empty();
            let empty = self
                .dims()
                .iter()
                .enumerate()
                .any(|(d, &s)| s == 0 && (all || reduced.contains(&d)));
            if empty {
                return Err(Error::bad_shape(
                    "norm",
                    "the inf norm of an empty slice is undefined (the maximum has no identity)",
                    self.shape(),
                ));
            }
            return self.try_abs()?.try_amax(dims, keepdim);
        }
        if p == 1.0 {
            return self.try_abs()?.try_sum_dims(dims, keepdim);
        }
        if p == 2.0 {
            let squares = self.try_square()?.try_sum_dims(dims, keepdim)?;
            // √ has an infinite slope at 0: take it of 1 there instead and
            // put 0 back, so value and gradient at the zero vector are 0.
            let zero = squares.try_eq_scalar(0.0)?;
            let safe = Tensor::try_where_(&zero, &Tensor::ones_like(&squares), &squares)?;
            return Tensor::try_where_(&zero, &Tensor::zeros_like(&squares), &safe.try_sqrt()?);
        }
        Err(Error::invalid(
            "norm",
            format!("p = {p} is not supported (use 1, 2 or f64::INFINITY)"),
        ))
    }
    panicking!(
        /// The vector `p`-norm over `dims`
        /// (`torch.linalg.vector_norm(x, ord=p, dim=dims, keepdim=keepdim)`):
        /// `Σ|x|` for `p = 1`, `√Σx²` for `p = 2`, `max |x|` for
        /// `p = f64::INFINITY`. An empty `dims` reduces every dim, as PyTorch's
        /// `dim=None`. Other values of `p` are an error.
        ///
        /// Gradients follow PyTorch, including its choices where the norm has
        /// no derivative: for `p = 1` an element at 0 gets 0; for `p = 2` the
        /// zero vector gets 0; for `p = ∞` the gradient is shared evenly among
        /// the elements whose `|x|` ties for the maximum, with their signs (0
        /// for the zero vector).
        ///
        /// The ∞-norm of an empty slice is an error (the maximum has no
        /// identity); the 1- and 2-norms of one are 0.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[3.0f64, -4.0], [1.0, 0.0]]);
        /// assert_eq!(x.norm(2.0, &[1], false).to_vec::<f64>(), vec![5.0, 1.0]);
        /// assert_eq!(x.norm(1.0, &[], false).item::<f64>(), 8.0);
        /// assert_eq!(x.norm(f64::INFINITY, &[0], true).to_vec::<f64>(), vec![3.0, 4.0]);
        /// ```
        norm => try_norm(p: f64, dims: &[isize], keepdim: bool) -> Tensor
    );
}
