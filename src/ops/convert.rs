//! Changing the element type.

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::{dispatch_scalar, DType, Scalar};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

impl Tensor {
    /// Like [`to_dtype`](Tensor::to_dtype), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_to_dtype(&self, dtype: DType) -> Result<Tensor> {
        let from = self.dtype();
        if from == dtype {
            return Ok(self.clone());
        }
        if dtype == DType::I64 {
            // i64::MAX as f64 rounds up to 2^63, which is out of range.
            const LIMIT: f64 = 9_223_372_036_854_775_808.0;
            let values = self.to_vec::<f64>();
            if let Some(bad) = values.iter().find(|v| v.is_nan() || v.abs() >= LIMIT) {
                return Err(Error::invalid(
                    "to_dtype",
                    format!("{bad} has no int64 value (NaN, infinite or beyond ±2^63)"),
                ));
            }
        }
        let out = dispatch_scalar!(from, S => dispatch_scalar!(dtype, T => {
            let data: Vec<T> = self.with_contiguous::<S, _>(|d| d.iter().map(|&v| v.cast::<T>()).collect());
            Tensor::from_parts(data, self.shape().clone())
        }));
        if !(from.is_floating_point() && dtype.is_floating_point()) {
            return Ok(out);
        }
        record(out, &[self], |_| ToDTypeBackward { from })
    }
    panicking!(
        /// The values converted to `dtype` (`torch.Tensor.to(dtype)`); returns
        /// `self` when it already has that dtype. Between the float dtypes it is
        /// differentiable (the gradient is converted back). Floats become
        /// `int64` by truncation toward zero, as in PyTorch; a NaN, an infinity
        /// or a value beyond the range of `int64` is an error (PyTorch leaves it
        /// undefined). The result of a conversion to or from `int64` never
        /// requires grad.
        ///
        /// ```
        /// use tapegrad::{DType, Tensor};
        /// let x = Tensor::new([2.7f32, -2.7, 0.5]);
        /// assert_eq!(x.to_dtype(DType::I64).to_vec::<i64>(), vec![2, -2, 0]);
        /// assert_eq!(Tensor::new([3, 4]).to_dtype(DType::F64).to_vec::<f64>(), vec![3.0, 4.0]);
        /// ```
        to_dtype => try_to_dtype(dtype: DType) -> Tensor
    );

    /// Converts to `float64` (`torch.Tensor.double`).
    pub fn double(&self) -> Tensor {
        self.to_dtype(DType::F64)
    }

    /// Converts to `float32` (`torch.Tensor.float`).
    pub fn float(&self) -> Tensor {
        self.to_dtype(DType::F32)
    }
}

struct ToDTypeBackward {
    from: DType,
}

impl Backward for ToDTypeBackward {
    fn name(&self) -> &'static str {
        "ToDType"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![Some(g.try_to_dtype(self.from)?)])
    }
}
