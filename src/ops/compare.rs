//! Comparisons, `where` and `masked_fill`.
//!
//! tapegrad has no boolean dtype: a comparison returns a mask of 0s and 1s
//! with the inputs' dtype, and `where`/`masked_fill` treat any non-zero
//! element of a mask as true. Masks carry no gradient.

use super::{panicking, same_dtype};
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::{dispatch_scalar, DType, Scalar};
use crate::error::Result;
use crate::kernels::elementwise::{map, zip, zip3};
use crate::shape::Shape;
use crate::tensor::create::check_alloc;
use crate::tensor::Tensor;

macro_rules! comparison {
    ($(#[$doc:meta])* $try_name:ident, $name:ident, $try_scalar:ident, $scalar:ident, $op:literal, |$x:ident, $y:ident| $test:expr) => {
        $(#[$doc])*
        pub fn $try_name(&self, other: &Tensor) -> Result<Tensor> {
            let dtype = same_dtype($op, self, other)?;
            let shape = Shape::broadcast($op, self.shape(), other.shape())?;
            check_alloc($op, shape.dims(), dtype)?;
            Ok(dispatch_scalar!(dtype, T => Tensor::from_parts(
                zip::<T>(self, other, &shape, |$x, $y| T::from_f64(if $test { 1.0 } else { 0.0 })),
                shape.clone(),
            )))
        }
        panicking!($name => $try_name(other: &Tensor) -> Tensor);

        #[doc = concat!("Compares every element with a scalar; see [`", stringify!($try_name), "`](Tensor::", stringify!($try_name), ").")]
        pub fn $try_scalar(&self, value: f64) -> Result<Tensor> {
            Ok(dispatch_scalar!(self.dtype(), T => {
                let (one, zero) = (T::from_f64(1.0), T::from_f64(0.0));
                // Integers are compared with the value as given (an int64
                // tensor against 0.5 is not against 0); floats in their own
                // precision, as PyTorch does.
                let values = if T::DTYPE == DType::I64 {
                    map::<T>(self, |v| {
                        let ($x, $y) = (v.to_f64(), value);
                        if $test { one } else { zero }
                    })
                } else {
                    let threshold = T::from_f64(value);
                    map::<T>(self, |v| {
                        let ($x, $y) = (v, threshold);
                        if $test { one } else { zero }
                    })
                };
                Tensor::from_parts(values, self.shape().clone())
            }))
        }
        panicking!($scalar => $try_scalar(value: f64) -> Tensor);
    };
}

impl Tensor {
    comparison!(
        /// Mask of `self == other` with broadcasting (`torch.eq`).
        try_eq, eq, try_eq_scalar, eq_scalar, "eq", |x, y| x == y);
    comparison!(
        /// Mask of `self != other` with broadcasting (`torch.ne`).
        try_ne, ne, try_ne_scalar, ne_scalar, "ne", |x, y| x != y);
    comparison!(
        /// Mask of `self < other` with broadcasting (`torch.lt`).
        try_lt, lt, try_lt_scalar, lt_scalar, "lt", |x, y| x < y);
    comparison!(
        /// Mask of `self <= other` with broadcasting (`torch.le`).
        try_le, le, try_le_scalar, le_scalar, "le", |x, y| x <= y);
    comparison!(
        /// Mask of `self > other` with broadcasting (`torch.gt`).
        try_gt, gt, try_gt_scalar, gt_scalar, "gt", |x, y| x > y);
    comparison!(
        /// Mask of `self >= other` with broadcasting (`torch.ge`).
        try_ge, ge, try_ge_scalar, ge_scalar, "ge", |x, y| x >= y);

    /// Picks `x` where `condition` is non-zero and `y` elsewhere, broadcasting
    /// all three (`torch.where`). Gradients flow to `x` and `y` through the
    /// positions each was picked at.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::new([1.0f32, -2.0, 3.0]);
    /// let relu = Tensor::where_(&x.gt_scalar(0.0), &x, &Tensor::zeros(&[3]));
    /// assert_eq!(relu.to_vec::<f32>(), vec![1.0, 0.0, 3.0]);
    /// ```
    pub fn try_where_(condition: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let dtype = same_dtype("where", x, y)?;
        let shape = Shape::broadcast("where", x.shape(), y.shape())?;
        let shape = Shape::broadcast("where", condition.shape(), &shape)?;
        check_alloc("where", shape.dims(), dtype)?;
        let cond = if condition.dtype() == dtype {
            condition.detach()
        } else {
            // Any non-zero is true: made 0/1 before a conversion could
            // truncate 0.5 to 0 (or a NaN condition could fail to convert).
            condition.detach().try_ne_scalar(0.0)?.try_to_dtype(dtype)?
        };
        let out = dispatch_scalar!(dtype, T => Tensor::from_parts(
            zip3::<T>(&cond, x, y, &shape, |c, a, b| if c != T::default() { a } else { b }),
            shape.clone(),
        ));
        record(out, &[x, y], |_| WhereBackward {
            condition: cond,
            shapes: [x.shape().clone(), y.shape().clone()],
        })
    }

    /// Panicking form of [`try_where_`](Tensor::try_where_).
    #[track_caller]
    pub fn where_(condition: &Tensor, x: &Tensor, y: &Tensor) -> Tensor {
        crate::error::or_panic(Tensor::try_where_(condition, x, y))
    }

    /// Like [`masked_fill`](Tensor::masked_fill), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_masked_fill(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
        let shape = Shape::broadcast("masked_fill", mask.shape(), self.shape())?;
        if &shape != self.shape() {
            return Err(crate::Error::mismatch(
                "masked_fill",
                "the mask must broadcast to the tensor's shape",
                mask.shape(),
                self.shape(),
            ));
        }
        let fill = Tensor::full_dtype(Shape::scalar(), value, self.dtype());
        Tensor::try_where_(mask, &fill, self)
    }
    panicking!(
        /// `value` where `mask` is non-zero, `self` elsewhere; the mask
        /// broadcasts to `self`'s shape (`torch.Tensor.masked_fill`). No gradient
        /// flows through the filled positions.
        masked_fill => try_masked_fill(mask: &Tensor, value: f64) -> Tensor
    );
}

struct WhereBackward {
    condition: Tensor,
    shapes: [Shape; 2],
}

impl Backward for WhereBackward {
    fn name(&self) -> &'static str {
        "Where"
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let zeros = Tensor::full_dtype(Shape::scalar(), 0.0, g.dtype());
        let gx = if ctx.needs_grad(0) {
            Some(Tensor::try_where_(&self.condition, g, &zeros)?.try_sum_to(&self.shapes[0])?)
        } else {
            None
        };
        let gy = if ctx.needs_grad(1) {
            Some(Tensor::try_where_(&self.condition, &zeros, g)?.try_sum_to(&self.shapes[1])?)
        } else {
            None
        };
        Ok(smallvec::smallvec![gx, gy])
    }
}
