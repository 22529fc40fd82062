//! Unary element-wise ops: neg, exp, log, sqrt, abs, square, clamp, relu,
//! leaky_relu, sigmoid, tanh, softplus, gelu.
//!
//! Each op's value and derivative sit next to each other in
//! [`UnaryOp::apply`] and [`UnaryOp::derivative`]. The derivative is written
//! with differentiable ops, so gradients of gradients work; during ordinary
//! training (no `create_graph`) the hot activations use a fused loop that
//! computes the same numbers in one pass.

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::kernels::elementwise::{map, zip};
use crate::kernels::special::{self, sigmoid};
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq)]
enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Square,
    Relu,
    LeakyRelu(f64),
    Sigmoid,
    Tanh,
    Softplus {
        beta: f64,
        threshold: f64,
    },
    Gelu,
    /// d gelu / dx = Φ(x) + x φ(x): an op of its own so that GELU's
    /// gradient can be differentiated again.
    GeluDerivative,
    Clamp(f64, f64),
}

impl UnaryOp {
    fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "Neg",
            UnaryOp::Exp => "Exp",
            UnaryOp::Log => "Log",
            UnaryOp::Sqrt => "Sqrt",
            UnaryOp::Abs => "Abs",
            UnaryOp::Square => "Square",
            UnaryOp::Relu => "Relu",
            UnaryOp::LeakyRelu(_) => "LeakyRelu",
            UnaryOp::Sigmoid => "Sigmoid",
            UnaryOp::Tanh => "Tanh",
            UnaryOp::Softplus { .. } => "Softplus",
            UnaryOp::Gelu => "Gelu",
            UnaryOp::GeluDerivative => "GeluDerivative",
            UnaryOp::Clamp(..) => "Clamp",
        }
    }

    /// Which tensor backward needs: the input (`x`), the output (`y`) or none.
    fn saves(self) -> Saves {
        match self {
            UnaryOp::Neg => Saves::Nothing,
            UnaryOp::Exp | UnaryOp::Sqrt | UnaryOp::Sigmoid | UnaryOp::Tanh => Saves::Output,
            _ => Saves::Input,
        }
    }

    fn apply(self, x: &Tensor) -> Tensor {
        dispatch!(x.dtype(), T => {
            let data: Vec<T> = match self {
                UnaryOp::Neg => map(x, |v: T| -v),
                UnaryOp::Exp => map(x, |v: T| v.exp()),
                UnaryOp::Log => map(x, |v: T| v.ln()),
                UnaryOp::Sqrt => map(x, |v: T| v.sqrt()),
                UnaryOp::Abs => map(x, |v: T| v.abs()),
                UnaryOp::Square => map(x, |v: T| v * v),
                UnaryOp::Relu => map(x, |v: T| if v > T::ZERO || v.is_nan() { v } else { T::ZERO }),
                UnaryOp::LeakyRelu(slope) => {
                    let s = T::from_f64(slope);
                    map(x, |v: T| if v > T::ZERO { v } else { v * s })
                }
                UnaryOp::Sigmoid => map(x, sigmoid::<T>),
                // `Element::tanh`, not the inherent `f32::tanh` (T is a concrete
                // type inside `dispatch!`): f32 has its own kernel.
                UnaryOp::Tanh => map(x, |v: T| Element::tanh(v)),
                UnaryOp::Softplus { beta, threshold } => {
                    let (b, t) = (T::from_f64(beta), T::from_f64(threshold));
                    // log(1 + e^z) = max(z, 0) + log1p(e^−|z|): no overflow.
                    map(x, |v: T| {
                        let z = v * b;
                        if z > t {
                            v
                        } else {
                            (z.max_nan(T::ZERO) + (-z.abs()).exp().ln_1p()) / b
                        }
                    })
                }
                UnaryOp::Gelu => map(x, |v: T| {
                    let f = v.to_f64();
                    T::from_f64(f * special::normal_cdf(f))
                }),
                UnaryOp::GeluDerivative => map(x, |v: T| {
                    let f = v.to_f64();
                    T::from_f64(special::normal_cdf(f) + f * special::normal_pdf(f))
                }),
                UnaryOp::Clamp(lo, hi) => {
                    let (lo, hi) = (T::from_f64(lo), T::from_f64(hi));
                    map(x, |v: T| if v < lo { lo } else if v > hi { hi } else { v })
                }
            };
            Tensor::from_parts(data, x.shape().clone())
        })
    }

    /// dy/dx as a tensor, built from differentiable ops on the (re-attached)
    /// input `x` or output `y`.
    fn derivative(self, x: Option<&Tensor>, y: Option<&Tensor>) -> Result<Tensor> {
        let x = || x.expect("input saved");
        let y = || y.expect("output saved");
        match self {
            UnaryOp::Neg => unreachable!("handled without a derivative tensor"),
            UnaryOp::Exp => Ok(y().clone()),
            UnaryOp::Log => x().try_rdiv_scalar(1.0),
            // d√x = 1 / (2√x)
            UnaryOp::Sqrt => y().try_mul_scalar(2.0)?.try_rdiv_scalar(1.0),
            // sign(x); 0 at 0, as in PyTorch
            UnaryOp::Abs => Ok(sign(x())),
            UnaryOp::Square => x().try_mul_scalar(2.0),
            UnaryOp::Relu => x().try_gt_scalar(0.0),
            UnaryOp::LeakyRelu(slope) => {
                let positive = x().try_gt_scalar(0.0)?;
                positive.try_affine(1.0 - slope, slope)
            }
            // σ' = σ(1 − σ)
            UnaryOp::Sigmoid => y().try_mul(&y().try_rsub_scalar(1.0)?),
            // tanh' = 1 − tanh²
            UnaryOp::Tanh => y().try_square()?.try_rsub_scalar(1.0),
            // softplus' = σ(βx), and 1 where the op is linear
            UnaryOp::Softplus { beta, threshold } => {
                let s = x().try_mul_scalar(beta)?.try_sigmoid()?;
                let linear = x().try_mul_scalar(beta)?.try_gt_scalar(threshold)?;
                Tensor::try_where_(&linear, &Tensor::ones_like(&s), &s)
            }
            UnaryOp::Gelu => scalar_unary(x(), UnaryOp::GeluDerivative),
            // d/dx (Φ + xφ) = φ(x)(2 − x²)
            UnaryOp::GeluDerivative => {
                let x2 = x().try_square()?;
                let pdf = x2
                    .try_mul_scalar(-0.5)?
                    .try_exp()?
                    .try_mul_scalar(1.0 / (2.0 * std::f64::consts::PI).sqrt())?;
                pdf.try_mul(&x2.try_rsub_scalar(2.0)?)
            }
            // 1 inside [lo, hi], 0 outside
            UnaryOp::Clamp(lo, hi) => x().try_ge_scalar(lo)?.try_mul(&x().try_le_scalar(hi)?),
        }
    }

    /// `g · dy/dx` in one pass, for ordinary (first-order) backward, from
    /// the saved tensor [`UnaryBackward::fused_operand`] names.
    fn fused_grad(self, g: &Tensor, saved: &Tensor) -> Option<Tensor> {
        let shape = g.shape().clone();
        Some(dispatch!(g.dtype(), T => {
            let data = match self {
                UnaryOp::Tanh => zip::<T>(g, saved, &shape, |g, y| g * (T::ONE - y * y)),
                UnaryOp::Sigmoid => zip::<T>(g, saved, &shape, |g, y| g * y * (T::ONE - y)),
                UnaryOp::Exp => zip::<T>(g, saved, &shape, |g, y| g * y),
                UnaryOp::Relu => zip::<T>(g, saved, &shape, relu_grad),
                _ => return None,
            };
            Tensor::from_parts(data, shape)
        }))
    }
}

/// ReLU's first-order rule: `g` times the mask `x > 0` as `derivative`
/// builds it (1 or 0, so `g·0` keeps its sign and NaN as the composed
/// product does).
#[inline(always)]
fn relu_grad<T: Element>(g: T, x: T) -> T {
    g * if x > T::ZERO { T::ONE } else { T::ZERO }
}

/// sign(x) as a constant mask: −1, 0 or 1.
fn sign(x: &Tensor) -> Tensor {
    dispatch!(x.dtype(), T => Tensor::from_parts(map(x, |v: T| v.signum0()), x.shape().clone()))
}

fn scalar_unary(x: &Tensor, op: UnaryOp) -> Result<Tensor> {
    let out = op.apply(x);
    record(out, &[x], |out| UnaryBackward {
        op,
        saved: match op.saves() {
            Saves::Nothing => None,
            Saves::Input => Some(Saved::new(x)),
            Saves::Output => Some(Saved::new(out)),
        },
    })
}

impl Tensor {
    /// `−self` (`torch.neg`).
    pub fn try_neg(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Neg)
    }
    panicking!(neg => try_neg() -> Tensor);

    /// `e^self` (`torch.exp`).
    pub fn try_exp(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Exp)
    }
    panicking!(exp => try_exp() -> Tensor);

    /// Natural logarithm (`torch.log`); `log(0) = −inf`, negative inputs give
    /// NaN, exactly as in PyTorch (use [`detect_anomaly`](crate::detect_anomaly)
    /// to catch them).
    pub fn try_log(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Log)
    }
    panicking!(log => try_log() -> Tensor);

    /// Square root (`torch.sqrt`).
    pub fn try_sqrt(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Sqrt)
    }
    panicking!(sqrt => try_sqrt() -> Tensor);

    /// Absolute value (`torch.abs`); the gradient at 0 is 0.
    pub fn try_abs(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Abs)
    }
    panicking!(abs => try_abs() -> Tensor);

    /// `self²` (`torch.square`).
    pub fn try_square(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Square)
    }
    panicking!(square => try_square() -> Tensor);

    /// `max(self, 0)` (`torch.relu`); the gradient at 0 is 0.
    pub fn try_relu(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Relu)
    }
    panicking!(relu => try_relu() -> Tensor);

    /// `self` where positive, `negative_slope · self` elsewhere
    /// (`torch.nn.functional.leaky_relu`, default slope 0.01).
    pub fn try_leaky_relu(&self, negative_slope: f64) -> Result<Tensor> {
        if !negative_slope.is_finite() {
            return Err(Error::invalid(
                "leaky_relu",
                format!("negative_slope must be finite, got {negative_slope}"),
            ));
        }
        scalar_unary(self, UnaryOp::LeakyRelu(negative_slope))
    }
    panicking!(leaky_relu => try_leaky_relu(negative_slope: f64) -> Tensor);

    /// The logistic function 1 / (1 + e^−x) (`torch.sigmoid`), computed
    /// without overflow for any input.
    pub fn try_sigmoid(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Sigmoid)
    }
    panicking!(sigmoid => try_sigmoid() -> Tensor);

    /// Hyperbolic tangent (`torch.tanh`).
    pub fn try_tanh(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Tanh)
    }
    panicking!(tanh => try_tanh() -> Tensor);

    /// `log(1 + e^x)` with PyTorch's defaults `beta = 1`, `threshold = 20`
    /// (`torch.nn.functional.softplus`).
    pub fn try_softplus(&self) -> Result<Tensor> {
        self.try_softplus_with(1.0, 20.0)
    }
    panicking!(softplus => try_softplus() -> Tensor);

    /// `(1/β)·log(1 + e^(βx))`, and `x` itself where `βx > threshold`
    /// (`torch.nn.functional.softplus(x, beta, threshold)`).
    pub fn try_softplus_with(&self, beta: f64, threshold: f64) -> Result<Tensor> {
        if !(beta.is_finite() && beta != 0.0) || threshold.is_nan() {
            return Err(Error::invalid(
                "softplus",
                format!("need a finite non-zero beta and a threshold, got beta={beta}, threshold={threshold}"),
            ));
        }
        scalar_unary(self, UnaryOp::Softplus { beta, threshold })
    }
    panicking!(softplus_with => try_softplus_with(beta: f64, threshold: f64) -> Tensor);

    /// GELU with the exact normal CDF, `x·Φ(x)` (`torch.nn.functional.gelu`
    /// with `approximate='none'`).
    pub fn try_gelu(&self) -> Result<Tensor> {
        scalar_unary(self, UnaryOp::Gelu)
    }
    panicking!(gelu => try_gelu() -> Tensor);

    /// Limits every element to `[min, max]` (`torch.clamp`). The gradient
    /// is passed where `min <= x <= max` and is 0 outside the range.
    pub fn try_clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        if min.is_nan() || max.is_nan() || min > max {
            return Err(Error::invalid(
                "clamp",
                format!("need min <= max (neither NaN), got min={min}, max={max}"),
            ));
        }
        scalar_unary(self, UnaryOp::Clamp(min, max))
    }
    panicking!(clamp => try_clamp(min: f64, max: f64) -> Tensor);
}

/// Which tensor a unary op's derivative needs: never both.
#[derive(Clone, Copy, PartialEq)]
enum Saves {
    Nothing,
    Input,
    Output,
}

struct UnaryBackward {
    op: UnaryOp,
    /// The input or the output, as `op.saves()` says.
    saved: Option<Saved>,
}

impl UnaryBackward {
    /// The saved tensor the fused first-order rule reads: the input for
    /// ReLU, the output for the others that have one.
    fn fused_operand(&self) -> Option<&Saved> {
        match (self.op, self.op.saves()) {
            (UnaryOp::Relu, _) | (_, Saves::Output) => self.saved.as_ref(),
            _ => None,
        }
    }
}

impl Backward for UnaryBackward {
    fn name(&self) -> &'static str {
        self.op.name()
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        if self.op == UnaryOp::Neg {
            return Ok(smallvec::smallvec![Some(g.try_neg()?)]);
        }
        let first_order = ctx.token.is_none();
        if first_order {
            if let Some(saved) = self.fused_operand() {
                if let Some(fused) = self.op.fused_grad(g, saved.value()) {
                    return Ok(smallvec::smallvec![Some(fused)]);
                }
            }
        }
        let saves = self.op.saves();
        let x = self.saved.as_ref().filter(|_| saves == Saves::Input);
        let y = self.saved.as_ref().filter(|_| saves == Saves::Output);
        let x = x.map(|s| ctx.input(0, s));
        let y = y.map(|s| ctx.output(s));
        let d = self.op.derivative(x.as_ref(), y.as_ref())?;
        Ok(smallvec::smallvec![Some(g.try_mul(&d)?)])
    }

    fn backward_owned(&self, ctx: &BackwardCtx<'_>, g: Tensor) -> Result<GradInputs> {
        // The fused first-order rule, written into g's buffer when it is
        // ours alone (same expression as `fused_grad`, no allocation).
        let (Some(y), None) = (self.fused_operand(), &ctx.token) else {
            return self.backward(ctx, &g);
        };
        let y = y.value();
        if !(g.is_exclusive() && y.shape() == g.shape() && y.dtype() == g.dtype()) {
            return self.backward(ctx, &g);
        }
        let op = self.op;
        let done = dispatch!(g.dtype(), T => {
            let mut done = true;
            y.with_contiguous::<T, _>(|yd| {
                g.update_data::<T>(|gd| {
                    let pairs = gd.iter_mut().zip(yd);
                    match op {
                        UnaryOp::Tanh => pairs.for_each(|(g, &y)| *g *= T::ONE - y * y),
                        UnaryOp::Sigmoid => pairs.for_each(|(g, &y)| *g = *g * y * (T::ONE - y)),
                        UnaryOp::Exp => pairs.for_each(|(g, &y)| *g *= y),
                        UnaryOp::Relu => pairs.for_each(|(g, &x)| *g = relu_grad(*g, x)),
                        _ => done = false,
                    }
                })
            });
            done
        });
        if done {
            Ok(smallvec::smallvec![Some(g)])
        } else {
            self.backward(ctx, &g)
        }
    }
}
