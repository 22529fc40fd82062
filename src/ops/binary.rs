//! Binary element-wise ops with NumPy/PyTorch broadcasting:
//! add, sub, mul, div, pow, maximum, minimum.
//!
//! Each backward computes the gradient at the broadcast shape and hands it
//! to [`sum_to`](Tensor::try_sum_to), the one rule that undoes broadcasting.

use super::{panicking, same_dtype};
use crate::autograd::function::{Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::Scalar;
use crate::dtype::{dispatch, Element};
use crate::error::Result;
use crate::kernels::elementwise::zip;
use crate::shape::Shape;
use crate::tensor::create::check_alloc;
use crate::tensor::Tensor;

/// Broadcasts the operands, runs `$f` elementwise, and returns the output
/// (not yet recorded) with the broadcast shape.
///
/// With an `ints:` closure the op also takes two `int64` tensors (integer
/// arithmetic wraps on overflow, as PyTorch's does); without one, integer
/// operands are an error naming the op.
macro_rules! forward {
    ($op:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {{
        let dtype = same_dtype($op, $a, $b)?;
        crate::dtype::require_float($op, dtype)?;
        forward!(@floats $op, $a, $b, dtype, |$x, $y| $body)
    }};
    ($op:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $body:expr, ints: |$i:ident, $j:ident| $int_body:expr) => {{
        let dtype = same_dtype($op, $a, $b)?;
        if dtype == crate::dtype::DType::I64 {
            let shape = Shape::broadcast($op, $a.shape(), $b.shape())?;
            check_alloc($op, shape.dims(), dtype)?;
            Tensor::from_parts(zip::<i64>($a, $b, &shape, |$i: i64, $j: i64| $int_body), shape)
        } else {
            forward!(@floats $op, $a, $b, dtype, |$x, $y| $body)
        }
    }};
    (@floats $op:expr, $a:expr, $b:expr, $dtype:expr, |$x:ident, $y:ident| $body:expr) => {{
        let shape = Shape::broadcast($op, $a.shape(), $b.shape())?;
        check_alloc($op, shape.dims(), $dtype)?;
        let out = dispatch!($dtype, T => {
            Tensor::from_parts(zip::<T>($a, $b, &shape, |$x: T, $y: T| $body), shape.clone())
        });
        out
    }};
}

/// Gradient for input `k` of a broadcasting binary op: `g` summed back to
/// that input's shape, if the input needs one.
fn reduce_to(
    ctx: &BackwardCtx<'_>,
    k: usize,
    g: Result<Tensor>,
    shape: &Shape,
) -> Result<Option<Tensor>> {
    if !ctx.needs_grad(k) {
        return Ok(None);
    }
    Ok(Some(g?.try_sum_to(shape)?))
}

impl Tensor {
    /// Like [`add`](Tensor::add), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_add(&self, other: &Tensor) -> Result<Tensor> {
        let out = forward!("add", self, other, |x, y| x + y, ints: |i, j| i.wrapping_add(j));
        record(out, &[self, other], |_| AddBackward {
            shapes: [self.shape().clone(), other.shape().clone()],
        })
    }
    panicking!(
        /// Element-wise `self + other` with broadcasting (`torch.add`).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let a = Tensor::new([[1.0f32], [2.0]]);      // [2, 1]
        /// let b = Tensor::new([10.0f32, 20.0, 30.0]);  // [3]
        /// assert_eq!(a.add(&b).dims(), &[2, 3]);
        /// ```
        add => try_add(other: &Tensor) -> Tensor
    );

    /// Like [`sub`](Tensor::sub), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sub(&self, other: &Tensor) -> Result<Tensor> {
        let out = forward!("sub", self, other, |x, y| x - y, ints: |i, j| i.wrapping_sub(j));
        record(out, &[self, other], |_| SubBackward {
            shapes: [self.shape().clone(), other.shape().clone()],
        })
    }
    panicking!(
        /// Element-wise `self - other` with broadcasting (`torch.sub`).
        sub => try_sub(other: &Tensor) -> Tensor
    );

    /// Like [`mul`](Tensor::mul), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_mul(&self, other: &Tensor) -> Result<Tensor> {
        let out = forward!("mul", self, other, |x, y| x * y, ints: |i, j| i.wrapping_mul(j));
        record(out, &[self, other], |_| MulBackward {
            a: Saved::new(self),
            b: Saved::new(other),
        })
    }
    panicking!(
        /// Element-wise `self * other` with broadcasting (`torch.mul`).
        mul => try_mul(other: &Tensor) -> Tensor
    );

    /// Like [`div`](Tensor::div), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_div(&self, other: &Tensor) -> Result<Tensor> {
        let out = forward!("div", self, other, |x, y| x / y);
        record(out, &[self, other], |_| DivBackward {
            a: Saved::new(self),
            b: Saved::new(other),
        })
    }
    panicking!(
        /// Element-wise `self / other` with broadcasting (`torch.div`).
        div => try_div(other: &Tensor) -> Tensor
    );

    /// Like [`pow`](Tensor::pow), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_pow(&self, exponent: &Tensor) -> Result<Tensor> {
        let out = forward!("pow", self, exponent, |x, y| x.powf(y));
        record(out, &[self, exponent], |out| PowBackward {
            a: Saved::new(self),
            b: Saved::new(exponent),
            out: Saved::new(out),
        })
    }
    panicking!(
        /// Element-wise `self ^ exponent` with broadcasting (`torch.pow`).
        ///
        /// Gradients follow PyTorch: `d/da = b·a^(b−1)` (0 where `b == 0`), and
        /// `d/db = a^b·ln a` (0 where `a == 0` and `b >= 0`).
        pow => try_pow(exponent: &Tensor) -> Tensor
    );

    /// Like [`maximum`](Tensor::maximum), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_maximum(&self, other: &Tensor) -> Result<Tensor> {
        let out = forward!("maximum", self, other, |x, y| x.max_nan(y), ints: |i, j| i.max(j));
        record(out, &[self, other], |_| ExtremumBackward {
            a: Saved::new(self),
            b: Saved::new(other),
            is_max: true,
        })
    }
    panicking!(
        /// Element-wise maximum with broadcasting (`torch.maximum`). Where the
        /// two are equal, each input receives half of the gradient, as in
        /// PyTorch. A NaN in either input gives NaN.
        maximum => try_maximum(other: &Tensor) -> Tensor
    );

    /// Like [`minimum`](Tensor::minimum), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_minimum(&self, other: &Tensor) -> Result<Tensor> {
        let out = forward!("minimum", self, other, |x, y| x.min_nan(y), ints: |i, j| i.min(j));
        record(out, &[self, other], |_| ExtremumBackward {
            a: Saved::new(self),
            b: Saved::new(other),
            is_max: false,
        })
    }
    panicking!(
        /// Element-wise minimum with broadcasting (`torch.minimum`); ties split
        /// the gradient evenly.
        minimum => try_minimum(other: &Tensor) -> Tensor
    );
}

impl Tensor {
    /// Like [`logaddexp`](Tensor::logaddexp), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_logaddexp(&self, other: &Tensor) -> Result<Tensor> {
        let out = forward!("logaddexp", self, other, |x, y| {
            if x == y {
                // Also the case of two equal infinities, where x − y is NaN.
                x + T::from_f64(std::f64::consts::LN_2)
            } else {
                x.max_nan(y) + (-(x - y).abs()).exp().ln_1p()
            }
        });
        record(out, &[self, other], |_| LogaddexpBackward {
            a: Saved::new(self),
            b: Saved::new(other),
        })
    }
    panicking!(
        /// `log(e^self + e^other)` with broadcasting, computed without overflow
        /// (`torch.logaddexp`): `max + log1p(e^−|self − other|)`. Two equal
        /// infinities give that infinity, as in PyTorch.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let a = Tensor::new([1000.0f64, 0.0]);
        /// let b = Tensor::new([1000.0f64, f64::NEG_INFINITY]);
        /// let y = a.logaddexp(&b).to_vec::<f64>();
        /// assert!((y[0] - (1000.0 + 2f64.ln())).abs() < 1e-12 && y[1] == 0.0);
        /// ```
        logaddexp => try_logaddexp(other: &Tensor) -> Tensor
    );
}

struct LogaddexpBackward {
    a: Saved,
    b: Saved,
}

impl Backward for LogaddexpBackward {
    fn name(&self) -> &'static str {
        "Logaddexp"
    }
    // ∂/∂a log(eᵃ + eᵇ) = eᵃ / (eᵃ + eᵇ) = σ(a − b), and σ(b − a) for b:
    // each input's share of the sum, summed back to its shape. Written with
    // the sigmoid of the difference rather than e^(a − out), which would
    // inherit the rounding of `out` at large magnitudes and give NaN for an
    // infinite input (PyTorch's formula is this one).
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let (a, b) = (ctx.input(0, &self.a), ctx.input(1, &self.b));
        let share = |k: usize, x: &Tensor, y: &Tensor, shape: &Shape| -> Result<Option<Tensor>> {
            if !ctx.needs_grad(k) {
                return Ok(None);
            }
            let d = x.try_sub(y)?.try_sigmoid()?;
            reduce_to(ctx, k, g.try_mul(&d), shape)
        };
        Ok(smallvec::smallvec![
            share(0, &a, &b, self.a.value().shape())?,
            share(1, &b, &a, self.b.value().shape())?,
        ])
    }
}

struct AddBackward {
    shapes: [Shape; 2],
}

impl Backward for AddBackward {
    fn name(&self) -> &'static str {
        "Add"
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![
            reduce_to(ctx, 0, Ok(g.clone()), &self.shapes[0])?,
            reduce_to(ctx, 1, Ok(g.clone()), &self.shapes[1])?,
        ])
    }

    /// Accelerator for the common case of a bias or residual add without
    /// broadcasting: both gradients are `g` itself, handed on without
    /// `sum_to` calls or a clone for an input that needs none.
    fn first_order(&self, ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        if self.shapes.iter().any(|s| s != g.shape()) {
            return Ok(Accelerated::Declined(g));
        }
        let grads = match (ctx.needs_grad(0), ctx.needs_grad(1)) {
            (true, true) => [Some(g.clone()), Some(g)],
            (true, false) => [Some(g), None],
            (false, true) => [None, Some(g)],
            (false, false) => [None, None],
        };
        Ok(Accelerated::Done(GradInputs::from_buf(grads)))
    }
}

struct SubBackward {
    shapes: [Shape; 2],
}

impl Backward for SubBackward {
    fn name(&self) -> &'static str {
        "Sub"
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![
            reduce_to(ctx, 0, Ok(g.clone()), &self.shapes[0])?,
            reduce_to(ctx, 1, g.try_neg(), &self.shapes[1])?,
        ])
    }
}

struct MulBackward {
    a: Saved,
    b: Saved,
}

impl Backward for MulBackward {
    fn name(&self) -> &'static str {
        "Mul"
    }
    // d(ab)/da = b, d(ab)/db = a
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let (sa, sb) = (self.a.value().shape(), self.b.value().shape());
        let ga = if ctx.needs_grad(0) {
            reduce_to(ctx, 0, g.try_mul(&ctx.input(1, &self.b)), sa)?
        } else {
            None
        };
        let gb = if ctx.needs_grad(1) {
            reduce_to(ctx, 1, g.try_mul(&ctx.input(0, &self.a)), sb)?
        } else {
            None
        };
        Ok(smallvec::smallvec![ga, gb])
    }
}

struct DivBackward {
    a: Saved,
    b: Saved,
}

impl Backward for DivBackward {
    fn name(&self) -> &'static str {
        "Div"
    }
    // d(a/b)/da = 1/b, d(a/b)/db = −a/b²
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let b = ctx.input(1, &self.b);
        let ga = if ctx.needs_grad(0) {
            reduce_to(ctx, 0, g.try_div(&b), self.a.value().shape())?
        } else {
            None
        };
        let gb = if ctx.needs_grad(1) {
            let a = ctx.input(0, &self.a);
            let num = g.try_mul(&a)?.try_neg()?;
            reduce_to(ctx, 1, num.try_div(&b.try_mul(&b)?), self.b.value().shape())?
        } else {
            None
        };
        Ok(smallvec::smallvec![ga, gb])
    }
}

struct PowBackward {
    a: Saved,
    b: Saved,
    out: Saved,
}

impl Backward for PowBackward {
    fn name(&self) -> &'static str {
        "Pow"
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let a = ctx.input(0, &self.a);
        let b = ctx.input(1, &self.b);
        let ga = if ctx.needs_grad(0) {
            // b·a^(b−1), forced to 0 where b == 0 (a^0 is constant).
            let d = b.try_mul(&a.try_pow(&b.try_add_scalar(-1.0)?)?)?;
            let b_is_zero = self.b.value().try_eq_scalar(0.0)?;
            let d = Tensor::try_where_(&b_is_zero, &Tensor::zeros_like(&d), &d)?;
            reduce_to(ctx, 0, g.try_mul(&d), self.a.value().shape())?
        } else {
            None
        };
        let gb = if ctx.needs_grad(1) {
            // a^b·ln a, forced to 0 where a == 0 and b >= 0 (the limit).
            let out = ctx.output(&self.out);
            let d = out.try_mul(&a.try_log()?)?;
            let zero_a = self.a.value().try_eq_scalar(0.0)?;
            let nonneg_b = self.b.value().try_ge_scalar(0.0)?;
            let mask = zero_a.try_mul(&nonneg_b)?;
            let d = Tensor::try_where_(&mask, &Tensor::zeros_like(&d), &d)?;
            reduce_to(ctx, 1, g.try_mul(&d), self.b.value().shape())?
        } else {
            None
        };
        Ok(smallvec::smallvec![ga, gb])
    }
}

struct ExtremumBackward {
    a: Saved,
    b: Saved,
    is_max: bool,
}

impl Backward for ExtremumBackward {
    fn name(&self) -> &'static str {
        if self.is_max {
            "Maximum"
        } else {
            "Minimum"
        }
    }
    // The winner takes the gradient; a tie gives each half.
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let (a, b) = (self.a.value(), self.b.value());
        let is_max = self.is_max;
        let dtype = g.dtype();
        let shape = g.shape().clone();
        let share_a = dispatch!(dtype, T => {
            let half = T::from_f64(0.5);
            Tensor::from_parts(
                zip::<T>(a, b, &shape, |x, y| {
                    let wins = if is_max { x > y } else { x < y };
                    if wins { T::ONE } else if x == y { half } else { T::ZERO }
                }),
                shape.clone(),
            )
        });
        let ga = reduce_to(ctx, 0, g.try_mul(&share_a), a.shape())?;
        let gb = if ctx.needs_grad(1) {
            let share_b = share_a.try_neg()?.try_add_scalar(1.0)?;
            reduce_to(ctx, 1, g.try_mul(&share_b), b.shape())?
        } else {
            None
        };
        Ok(smallvec::smallvec![ga, gb])
    }
}
