//! Changing the element type.

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, DType, Element};
use crate::error::Result;
use crate::tensor::Tensor;

impl Tensor {
    /// The values converted to `dtype` (`torch.Tensor.to(dtype)`); returns
    /// `self` when it already has that dtype. Differentiable: the gradient is
    /// converted back.
    pub fn try_to_dtype(&self, dtype: DType) -> Result<Tensor> {
        let from = self.dtype();
        if from == dtype {
            return Ok(self.clone());
        }
        let out = dispatch!(from, S => dispatch!(dtype, T => {
            let data: Vec<T> = self.with_contiguous::<S, _>(|d| d.iter().map(|&v| T::from_f64(v.to_f64())).collect());
            Tensor::from_parts(data, self.shape().clone())
        }));
        record(out, &[self], |_| ToDTypeBackward { from })
    }
    panicking!(to_dtype => try_to_dtype(dtype: DType) -> Tensor);

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
