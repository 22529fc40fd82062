//! Ops between a tensor and a scalar constant: `x + c`, `x * c`, `x / c`,
//! `c - x`, `c / x`, `a·x + b` and `x^p`.
//!
//! They are separate from the tensor–tensor ops because they are the
//! cheapest possible recorded op (no broadcast, no second buffer, no
//! gradient for the constant) and training loops are full of them.

use super::panicking;
use crate::autograd::function::{done, Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::Scalar;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::kernels::elementwise::map;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug)]
enum ScalarOp {
    Add(f64),
    Mul(f64),
    Div(f64),
    /// `c - x`
    RSub(f64),
    /// `c / x`
    RDiv(f64),
    /// `a·x + b`
    Affine(f64, f64),
    /// `x^p`
    Pow(f64),
}

impl ScalarOp {
    fn name(self) -> &'static str {
        match self {
            ScalarOp::Add(_) => "AddScalar",
            ScalarOp::Mul(_) => "MulScalar",
            ScalarOp::Div(_) => "DivScalar",
            ScalarOp::RSub(_) => "RSubScalar",
            ScalarOp::RDiv(_) => "RDivScalar",
            ScalarOp::Affine(..) => "Affine",
            ScalarOp::Pow(_) => "PowScalar",
        }
    }

    fn apply(self, x: &Tensor) -> Tensor {
        dispatch!(x.dtype(), T => {
            let data = match self {
                ScalarOp::Add(c) => { let c = T::from_f64(c); map::<T>(x, |v| v + c) }
                ScalarOp::Mul(c) => { let c = T::from_f64(c); map::<T>(x, |v| v * c) }
                ScalarOp::Div(c) => { let c = T::from_f64(c); map::<T>(x, |v| v / c) }
                ScalarOp::RSub(c) => { let c = T::from_f64(c); map::<T>(x, |v| c - v) }
                ScalarOp::RDiv(c) => { let c = T::from_f64(c); map::<T>(x, |v| c / v) }
                ScalarOp::Affine(a, b) => {
                    let (a, b) = (T::from_f64(a), T::from_f64(b));
                    map::<T>(x, |v| v * a + b)
                }
                ScalarOp::Pow(p) => pow_values::<T>(x, p),
            };
            Tensor::from_parts(data, x.shape().clone())
        })
    }
}

/// `x^p`, with the common integer powers spelled out: they are both faster
/// and exact where `powf` rounds.
fn pow_values<T: Element>(x: &Tensor, p: f64) -> Vec<T> {
    match p {
        1.0 => map::<T>(x, |v| v),
        2.0 => map::<T>(x, |v| v * v),
        3.0 => map::<T>(x, |v| v * v * v),
        -1.0 => map::<T>(x, |v| T::ONE / v),
        0.5 => map::<T>(x, |v| v.sqrt()),
        _ => {
            let p = T::from_f64(p);
            map::<T>(x, |v| v.powf(p))
        }
    }
}

fn checked(op: &'static str, c: f64) -> Result<()> {
    if c.is_nan() {
        return Err(Error::invalid(op, "the scalar operand is NaN"));
    }
    Ok(())
}

fn scalar_op(x: &Tensor, op: ScalarOp) -> Result<Tensor> {
    crate::dtype::require_float(op.name(), x.dtype())?;
    let out = op.apply(x);
    record(out, &[x], |out| ScalarBackward {
        op,
        x: matches!(op, ScalarOp::RDiv(_) | ScalarOp::Pow(_)).then(|| Box::new(Saved::new(x))),
        out: matches!(op, ScalarOp::RDiv(_)).then(|| Box::new(Saved::new(out))),
    })
}

impl Tensor {
    /// Like [`add_scalar`](Tensor::add_scalar), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_add_scalar(&self, value: f64) -> Result<Tensor> {
        checked("add_scalar", value)?;
        scalar_op(self, ScalarOp::Add(value))
    }
    panicking!(
        /// `self + value` (`torch.add` with a Python number).
        add_scalar => try_add_scalar(value: f64) -> Tensor
    );

    /// Like [`sub_scalar`](Tensor::sub_scalar), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sub_scalar(&self, value: f64) -> Result<Tensor> {
        checked("sub_scalar", value)?;
        scalar_op(self, ScalarOp::Add(-value))
    }
    panicking!(
        /// `self - value`.
        sub_scalar => try_sub_scalar(value: f64) -> Tensor
    );

    /// Like [`mul_scalar`](Tensor::mul_scalar), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_mul_scalar(&self, value: f64) -> Result<Tensor> {
        checked("mul_scalar", value)?;
        scalar_op(self, ScalarOp::Mul(value))
    }
    panicking!(
        /// `self * value`.
        mul_scalar => try_mul_scalar(value: f64) -> Tensor
    );

    /// Like [`div_scalar`](Tensor::div_scalar), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_div_scalar(&self, value: f64) -> Result<Tensor> {
        checked("div_scalar", value)?;
        scalar_op(self, ScalarOp::Div(value))
    }
    panicking!(
        /// `self / value`.
        div_scalar => try_div_scalar(value: f64) -> Tensor
    );

    /// Like [`rsub_scalar`](Tensor::rsub_scalar), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_rsub_scalar(&self, value: f64) -> Result<Tensor> {
        checked("rsub_scalar", value)?;
        scalar_op(self, ScalarOp::RSub(value))
    }
    panicking!(
        /// `value - self` (`torch.rsub`).
        rsub_scalar => try_rsub_scalar(value: f64) -> Tensor
    );

    /// Like [`rdiv_scalar`](Tensor::rdiv_scalar), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_rdiv_scalar(&self, value: f64) -> Result<Tensor> {
        checked("rdiv_scalar", value)?;
        scalar_op(self, ScalarOp::RDiv(value))
    }
    panicking!(
        /// `value / self`.
        rdiv_scalar => try_rdiv_scalar(value: f64) -> Tensor
    );

    /// Like [`affine`](Tensor::affine), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_affine(&self, scale: f64, shift: f64) -> Result<Tensor> {
        checked("affine", scale)?;
        checked("affine", shift)?;
        scalar_op(self, ScalarOp::Affine(scale, shift))
    }
    panicking!(
        /// `scale · self + shift` in one pass.
        affine => try_affine(scale: f64, shift: f64) -> Tensor
    );

    /// Like [`powf`](Tensor::powf), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_powf(&self, exponent: f64) -> Result<Tensor> {
        checked("powf", exponent)?;
        scalar_op(self, ScalarOp::Pow(exponent))
    }
    panicking!(
        /// `self ^ exponent` for a real exponent (`torch.pow` with a number).
        /// The gradient `p·x^(p−1)` is 0 when `p == 0`.
        powf => try_powf(exponent: f64) -> Tensor
    );
}

/// The saved tensors are boxed: only `rdiv` and `pow` keep any, and an
/// unboxed `Option<Saved>` pair would make every rule (the common `mul`,
/// `add`, ...) 264 bytes to copy into its box on the tape instead of 32.
struct ScalarBackward {
    op: ScalarOp,
    x: Option<Box<Saved>>,
    out: Option<Box<Saved>>,
}

impl Backward for ScalarBackward {
    fn name(&self) -> &'static str {
        self.op.name()
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let saved_x = || ctx.input(0, self.x.as_deref().expect("x saved"));
        let gx = match self.op {
            ScalarOp::Add(_) => g.clone(),
            ScalarOp::Mul(c) | ScalarOp::Affine(c, _) => g.try_mul_scalar(c)?,
            ScalarOp::Div(c) => g.try_div_scalar(c)?,
            ScalarOp::RSub(_) => g.try_neg()?,
            // d(c/x)/dx = −c/x² = −out/x
            ScalarOp::RDiv(_) => {
                let out = ctx.output(self.out.as_deref().expect("out saved"));
                g.try_mul(&out)?.try_div(&saved_x())?.try_neg()?
            }
            ScalarOp::Pow(0.0) => Tensor::zeros_like(g),
            ScalarOp::Pow(1.0) => g.clone(),
            ScalarOp::Pow(2.0) => g.try_mul(&saved_x().try_mul_scalar(2.0)?)?,
            ScalarOp::Pow(p) => g.try_mul(&saved_x().try_powf(p - 1.0)?.try_mul_scalar(p)?)?,
        };
        Ok(smallvec::smallvec![Some(gx)])
    }

    /// Accelerator: g·c and g/c written into g's own buffer when it is
    /// ours alone (the same element-wise expression as the definition,
    /// without an allocation).
    fn first_order(&self, _ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        let op = self.op;
        let scales = matches!(
            op,
            ScalarOp::Mul(_) | ScalarOp::Affine(..) | ScalarOp::Div(_)
        );
        if !scales || !g.is_exclusive() {
            return Ok(Accelerated::Declined(g));
        }
        dispatch!(g.dtype(), T => g.update_data::<T>(|d| match op {
            ScalarOp::Div(c) => {
                let c = T::from_f64(c);
                d.iter_mut().for_each(|v| *v /= c);
            }
            ScalarOp::Mul(c) | ScalarOp::Affine(c, _) => {
                let c = T::from_f64(c);
                d.iter_mut().for_each(|v| *v *= c);
            }
            _ => unreachable!("checked above"),
        }));
        done([Some(g)])
    }
}
