//! `expand` / `broadcast_to`: repeat size-1 dims without copying (stride 0).
//! Its backward is [`sum_to`](Tensor::try_sum_to), and `sum_to`'s backward
//! is `expand`: the pair that makes broadcasting differentiable.

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::error::{Error, Result};
use crate::kernels::elementwise::broadcast_strides;
use crate::shape::Shape;
use crate::tensor::layout::Layout;
use crate::tensor::Tensor;

impl Tensor {
    /// Like [`expand`](Tensor::expand), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_expand(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let target: Shape = shape.into();
        if &target == self.shape() {
            return Ok(self.clone());
        }
        let compatible = Shape::broadcast("expand", self.shape(), &target)
            .map(|s| s == target)
            .unwrap_or(false);
        if !compatible {
            return Err(Error::mismatch(
                "expand",
                "the tensor cannot be broadcast to the requested shape",
                self.shape(),
                &target,
            ));
        }
        crate::tensor::create::check_alloc("expand", target.dims(), self.dtype())?;
        let layout = Layout {
            strides: broadcast_strides(&self.layout, &target),
            shape: target,
            offset: self.layout.offset,
        };
        record(self.view_with(layout), &[self], |_| ExpandBackward {
            input_shape: self.shape().clone(),
        })
    }
    panicking!(
        /// A view of this tensor broadcast to `shape` (`torch.broadcast_to`):
        /// dims of size 1 repeat, and new dims may be added on the left. No data
        /// is copied.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let b = Tensor::new([1.0f32, 2.0]).expand(&[3, 2]);
        /// assert_eq!(b.to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
        /// ```
        expand => try_expand(shape: &[usize]) -> Tensor
    );

    /// Like [`broadcast_to`](Tensor::broadcast_to), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_broadcast_to(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        self.try_expand(shape)
    }
    panicking!(
        /// Same as [`try_expand`](Tensor::try_expand) (`torch.broadcast_to`).
        broadcast_to => try_broadcast_to(shape: &[usize]) -> Tensor
    );
}

struct ExpandBackward {
    input_shape: Shape,
}

impl Backward for ExpandBackward {
    fn name(&self) -> &'static str {
        "Expand"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![Some(g.try_sum_to(&self.input_shape)?)])
    }
}
