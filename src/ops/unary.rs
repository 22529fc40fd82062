//! Unary element-wise ops, as a table: one [`UnaryRule`] impl per op.
//!
//! A row gives the op's name, which tensor its derivative is written from
//! (the input `x`, the output `y`, or nothing), the value `f` for one
//! element, the derivative `dy/dx` written with differentiable ops (the
//! definition, which second order differentiates again) and, where a
//! benchmark showed it pays, a fused scalar form of `g · dy/dx` that the
//! first-order accelerator runs in one pass. Everything else (dispatch on
//! dtype, recording, saving, the in-place reuse of the gradient buffer) is
//! shared by [`unary`] and [`UnaryBackward`].
//!
//! Adding an op: one `impl UnaryRule`, the `try_x`/`x` pair below, and one
//! entry in the test registry (tests/common/ops.rs).

use super::panicking;
use crate::autograd::function::{done, Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::kernels::elementwise::{map, zip};
use crate::kernels::special::sigmoid;
use crate::math::{normal_cdf, normal_pdf};
use crate::tensor::Tensor;

/// Which tensor a unary op's derivative is written from: never both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Saves {
    /// The derivative is a constant (`neg`).
    Nothing,
    /// The input `x`.
    Input,
    /// The output `y` (cheaper where `dy/dx` is a function of `y`: exp,
    /// tanh, sigmoid).
    Output,
}

/// One row of the element-wise table. The methods are generic over the
/// element type, so `x.tanh()` here is always [`Element::tanh`] (the crate's
/// own `f32` kernel), never the inherent `f32::tanh`.
pub(crate) trait UnaryRule: Copy + 'static {
    /// The op's name on the tape.
    const NAME: &'static str;
    /// What [`derivative`](UnaryRule::derivative) reads.
    const SAVES: Saves;
    /// Whether [`fused_grad`](UnaryRule::fused_grad) is written.
    const FUSED: bool = false;

    /// `f(x)` for one element.
    fn value<T: Element>(self, x: T) -> T;

    /// `dy/dx` in differentiable ops, from the saved tensor named by
    /// [`SAVES`](UnaryRule::SAVES) (for `Nothing`, the incoming gradient is
    /// passed and must not be read).
    fn derivative(self, saved: &Tensor) -> Result<Tensor>;

    /// The definition of the input gradient, `g · dy/dx`.
    fn grad(self, g: &Tensor, saved: &Tensor) -> Result<Tensor> {
        g.try_mul(&self.derivative(saved)?)
    }

    /// `g · dy/dx` for one element from the saved value, for the fused
    /// first-order pass. Only called when [`FUSED`](UnaryRule::FUSED).
    fn fused_grad<T: Element>(self, g: T, saved: T) -> T {
        let _ = (g, saved);
        unreachable!("{} has no fused gradient", Self::NAME)
    }
}

/// Applies a unary op and records it.
pub(crate) fn unary<R: UnaryRule>(x: &Tensor, rule: R) -> Result<Tensor> {
    crate::dtype::require_float(R::NAME, x.dtype())?;
    let out = dispatch!(x.dtype(), T => {
        Tensor::from_parts(map(x, |v: T| rule.value(v)), x.shape().clone())
    });
    record(out, &[x], |out| UnaryBackward {
        rule,
        saved: match R::SAVES {
            Saves::Nothing => None,
            Saves::Input => Some(Saved::new(x)),
            Saves::Output => Some(Saved::new(out)),
        },
    })
}

struct UnaryBackward<R: UnaryRule> {
    rule: R,
    /// The input or the output, as `R::SAVES` says.
    saved: Option<Saved>,
}

impl<R: UnaryRule> Backward for UnaryBackward<R> {
    fn name(&self) -> &'static str {
        R::NAME
    }

    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let saved = match (&self.saved, R::SAVES) {
            (Some(s), Saves::Input) => ctx.input(0, s),
            (Some(s), Saves::Output) => ctx.output(s),
            _ => g.clone(),
        };
        Ok(smallvec::smallvec![Some(self.rule.grad(g, &saved)?)])
    }

    fn first_order(&self, _ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        if !R::FUSED {
            return Ok(Accelerated::Declined(g));
        }
        let rule = self.rule;
        let Some(saved) = self.saved.as_ref().map(Saved::value) else {
            // Nothing saved: the fused gradient depends on g alone.
            if g.is_exclusive() {
                dispatch!(g.dtype(), T => g.update_data::<T>(|gd| {
                    gd.iter_mut().for_each(|g| *g = rule.fused_grad(*g, *g));
                }));
                return done([Some(g)]);
            }
            return done([Some(fused_map(&g, rule))]);
        };
        let same_layout = saved.shape() == g.shape() && saved.dtype() == g.dtype();
        if g.is_exclusive() && same_layout {
            // Written into g's own buffer: nobody else can see it.
            dispatch!(g.dtype(), T => saved.with_contiguous::<T, _>(|sd| {
                g.update_data::<T>(|gd| {
                    gd.iter_mut().zip(sd).for_each(|(g, &s)| *g = rule.fused_grad(*g, s));
                })
            }));
            return done([Some(g)]);
        }
        let shape = g.shape().clone();
        let out = dispatch!(g.dtype(), T => Tensor::from_parts(
            zip::<T>(&g, saved, &shape, |g, s| rule.fused_grad(g, s)),
            shape,
        ));
        done([Some(out)])
    }
}

fn fused_map<R: UnaryRule>(g: &Tensor, rule: R) -> Tensor {
    dispatch!(g.dtype(), T => {
        Tensor::from_parts(map(g, |v: T| rule.fused_grad(v, v)), g.shape().clone())
    })
}

/// sign(x) as a constant mask: −1, 0 or 1.
fn sign(x: &Tensor) -> Tensor {
    dispatch!(x.dtype(), T => Tensor::from_parts(map(x, |v: T| v.signum0()), x.shape().clone()))
}

/// 1/√(2π), the standard normal density at 0.
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
/// √(2/π), the scale inside GELU's tanh approximation.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of GELU's tanh approximation.
const GELU_CUBIC: f64 = 0.044715;

// ---------------------------------------------------------------------------
// The table. Each row: value, derivative (definition), optional fused form.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Neg;
impl UnaryRule for Neg {
    const NAME: &'static str = "Neg";
    const SAVES: Saves = Saves::Nothing;
    const FUSED: bool = true;
    fn value<T: Element>(self, x: T) -> T {
        -x
    }
    fn derivative(self, g: &Tensor) -> Result<Tensor> {
        Ok(Tensor::full_dtype(Vec::<usize>::new(), -1.0, g.dtype()))
    }
    fn grad(self, g: &Tensor, _: &Tensor) -> Result<Tensor> {
        g.try_neg()
    }
    fn fused_grad<T: Element>(self, g: T, _: T) -> T {
        -g
    }
}

#[derive(Clone, Copy)]
struct Exp;
impl UnaryRule for Exp {
    const NAME: &'static str = "Exp";
    const SAVES: Saves = Saves::Output;
    const FUSED: bool = true;
    fn value<T: Element>(self, x: T) -> T {
        x.exp()
    }
    // d eˣ = eˣ = y
    fn derivative(self, y: &Tensor) -> Result<Tensor> {
        Ok(y.clone())
    }
    fn fused_grad<T: Element>(self, g: T, y: T) -> T {
        g * y
    }
}

#[derive(Clone, Copy)]
struct Expm1;
impl UnaryRule for Expm1 {
    const NAME: &'static str = "Expm1";
    const SAVES: Saves = Saves::Output;
    fn value<T: Element>(self, x: T) -> T {
        x.exp_m1()
    }
    // d(eˣ − 1) = eˣ = y + 1
    fn derivative(self, y: &Tensor) -> Result<Tensor> {
        y.try_add_scalar(1.0)
    }
}

#[derive(Clone, Copy)]
struct Log;
impl UnaryRule for Log {
    const NAME: &'static str = "Log";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        x.ln()
    }
    // d ln x = 1/x
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        x.try_rdiv_scalar(1.0)
    }
}

#[derive(Clone, Copy)]
struct Log1p;
impl UnaryRule for Log1p {
    const NAME: &'static str = "Log1p";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        x.ln_1p()
    }
    // d ln(1 + x) = 1/(1 + x)
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        x.try_add_scalar(1.0)?.try_rdiv_scalar(1.0)
    }
}

#[derive(Clone, Copy)]
struct Sqrt;
impl UnaryRule for Sqrt {
    const NAME: &'static str = "Sqrt";
    const SAVES: Saves = Saves::Output;
    fn value<T: Element>(self, x: T) -> T {
        x.sqrt()
    }
    // d√x = 1 / (2√x)
    fn derivative(self, y: &Tensor) -> Result<Tensor> {
        y.try_mul_scalar(2.0)?.try_rdiv_scalar(1.0)
    }
}

#[derive(Clone, Copy)]
struct Rsqrt;
impl UnaryRule for Rsqrt {
    const NAME: &'static str = "Rsqrt";
    const SAVES: Saves = Saves::Output;
    fn value<T: Element>(self, x: T) -> T {
        T::ONE / x.sqrt()
    }
    // d x^(−1/2) = −½ x^(−3/2) = −½ y³
    fn derivative(self, y: &Tensor) -> Result<Tensor> {
        y.try_square()?.try_mul(y)?.try_mul_scalar(-0.5)
    }
}

#[derive(Clone, Copy)]
struct Abs;
impl UnaryRule for Abs {
    const NAME: &'static str = "Abs";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        x.abs()
    }
    // sign(x); 0 at 0, as in PyTorch
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        Ok(sign(x))
    }
}

#[derive(Clone, Copy)]
struct Square;
impl UnaryRule for Square {
    const NAME: &'static str = "Square";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        x * x
    }
    // d x² = 2x
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        x.try_mul_scalar(2.0)
    }
}

#[derive(Clone, Copy)]
struct Sin;
impl UnaryRule for Sin {
    const NAME: &'static str = "Sin";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        x.sin()
    }
    // d sin x = cos x
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        x.try_cos()
    }
}

#[derive(Clone, Copy)]
struct Cos;
impl UnaryRule for Cos {
    const NAME: &'static str = "Cos";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        x.cos()
    }
    // d cos x = −sin x
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        x.try_sin()?.try_neg()
    }
}

#[derive(Clone, Copy)]
struct Relu;
impl UnaryRule for Relu {
    const NAME: &'static str = "Relu";
    const SAVES: Saves = Saves::Input;
    const FUSED: bool = true;
    fn value<T: Element>(self, x: T) -> T {
        if x > T::ZERO || x.is_nan() {
            x
        } else {
            T::ZERO
        }
    }
    // 1 where x > 0, else 0 (0 at 0, as in PyTorch)
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        x.try_gt_scalar(0.0)
    }
    // g times the same 1/0 mask, so g·0 keeps its sign and NaN exactly as
    // the composed product does.
    fn fused_grad<T: Element>(self, g: T, x: T) -> T {
        g * if x > T::ZERO { T::ONE } else { T::ZERO }
    }
}

#[derive(Clone, Copy)]
struct LeakyRelu(f64);
impl UnaryRule for LeakyRelu {
    const NAME: &'static str = "LeakyRelu";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        if x > T::ZERO {
            x
        } else {
            x * T::from_f64(self.0)
        }
    }
    // 1 where x > 0, the slope elsewhere
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        x.try_gt_scalar(0.0)?.try_affine(1.0 - self.0, self.0)
    }
}

#[derive(Clone, Copy)]
struct Sigmoid;
impl UnaryRule for Sigmoid {
    const NAME: &'static str = "Sigmoid";
    const SAVES: Saves = Saves::Output;
    const FUSED: bool = true;
    fn value<T: Element>(self, x: T) -> T {
        sigmoid(x)
    }
    // σ' = σ(1 − σ)
    fn derivative(self, y: &Tensor) -> Result<Tensor> {
        y.try_mul(&y.try_rsub_scalar(1.0)?)
    }
    fn fused_grad<T: Element>(self, g: T, y: T) -> T {
        g * y * (T::ONE - y)
    }
}

#[derive(Clone, Copy)]
struct Tanh;
impl UnaryRule for Tanh {
    const NAME: &'static str = "Tanh";
    const SAVES: Saves = Saves::Output;
    const FUSED: bool = true;
    fn value<T: Element>(self, x: T) -> T {
        x.tanh()
    }
    // tanh' = 1 − tanh²
    fn derivative(self, y: &Tensor) -> Result<Tensor> {
        y.try_square()?.try_rsub_scalar(1.0)
    }
    fn fused_grad<T: Element>(self, g: T, y: T) -> T {
        g * (T::ONE - y * y)
    }
}

#[derive(Clone, Copy)]
struct Silu;
impl UnaryRule for Silu {
    const NAME: &'static str = "Silu";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        x * sigmoid(x)
    }
    // d(x·σ(x)) = σ(x)·(1 + x·(1 − σ(x)))
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        let s = x.try_sigmoid()?;
        let inner = x.try_mul(&s.try_rsub_scalar(1.0)?)?.try_add_scalar(1.0)?;
        s.try_mul(&inner)
    }
}

#[derive(Clone, Copy)]
struct Softplus {
    beta: f64,
    threshold: f64,
}
impl UnaryRule for Softplus {
    const NAME: &'static str = "Softplus";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, v: T) -> T {
        let (b, t) = (T::from_f64(self.beta), T::from_f64(self.threshold));
        // log(1 + e^z) = max(z, 0) + log1p(e^−|z|): no overflow.
        let z = v * b;
        if z > t {
            v
        } else {
            (z.max_nan(T::ZERO) + (-z.abs()).exp().ln_1p()) / b
        }
    }
    // softplus' = σ(βx), and 1 where the op is linear
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        let s = x.try_mul_scalar(self.beta)?.try_sigmoid()?;
        let linear = x.try_mul_scalar(self.beta)?.try_gt_scalar(self.threshold)?;
        Tensor::try_where_(&linear, &Tensor::ones_like(&s), &s)
    }
}

#[derive(Clone, Copy)]
struct Gelu;
impl UnaryRule for Gelu {
    const NAME: &'static str = "Gelu";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        let f = x.to_f64();
        T::from_f64(f * normal_cdf(f))
    }
    // d(xΦ(x)) = Φ(x) + xφ(x): an op of its own (it needs erf), whose own
    // derivative is written below.
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        unary(x, GeluDerivative)
    }
}

/// `Φ(x) + xφ(x)`, GELU's derivative, as an op so that it can be
/// differentiated again.
#[derive(Clone, Copy)]
struct GeluDerivative;
impl UnaryRule for GeluDerivative {
    const NAME: &'static str = "GeluDerivative";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        let f = x.to_f64();
        T::from_f64(normal_cdf(f) + f * normal_pdf(f))
    }
    // d/dx (Φ + xφ) = φ(x)(2 − x²)
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        let x2 = x.try_square()?;
        let pdf = x2
            .try_mul_scalar(-0.5)?
            .try_exp()?
            .try_mul_scalar(INV_SQRT_2PI)?;
        pdf.try_mul(&x2.try_rsub_scalar(2.0)?)
    }
}

/// GELU's tanh approximation `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
#[derive(Clone, Copy)]
struct GeluTanh;
impl UnaryRule for GeluTanh {
    const NAME: &'static str = "GeluTanh";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, x: T) -> T {
        let (half, k, c) = (
            T::from_f64(0.5),
            T::from_f64(SQRT_2_OVER_PI),
            T::from_f64(GELU_CUBIC),
        );
        let inner = k * (x + c * x * x * x);
        half * x * (T::ONE + inner.tanh())
    }
    // With u = k(x + cx³) and t = tanh u:
    // d/dx = ½(1 + t) + ½x(1 − t²)·k(1 + 3cx²)
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        let x2 = x.try_square()?;
        let u = x
            .try_mul(&x2.try_affine(GELU_CUBIC, 1.0)?)?
            .try_mul_scalar(SQRT_2_OVER_PI)?;
        let t = u.try_tanh()?;
        let du = x2.try_affine(3.0 * GELU_CUBIC * SQRT_2_OVER_PI, SQRT_2_OVER_PI)?;
        let left = t.try_affine(0.5, 0.5)?;
        let right = x
            .try_mul(&t.try_square()?.try_rsub_scalar(1.0)?)?
            .try_mul(&du)?
            .try_mul_scalar(0.5)?;
        left.try_add(&right)
    }
}

#[derive(Clone, Copy)]
struct Clamp(f64, f64);
impl UnaryRule for Clamp {
    const NAME: &'static str = "Clamp";
    const SAVES: Saves = Saves::Input;
    fn value<T: Element>(self, v: T) -> T {
        let (lo, hi) = (T::from_f64(self.0), T::from_f64(self.1));
        if v < lo {
            lo
        } else if v > hi {
            hi
        } else {
            v
        }
    }
    // 1 inside [lo, hi], 0 outside
    fn derivative(self, x: &Tensor) -> Result<Tensor> {
        x.try_ge_scalar(self.0)?.try_mul(&x.try_le_scalar(self.1)?)
    }
}

impl Tensor {
    /// Like [`neg`](Tensor::neg), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_neg(&self) -> Result<Tensor> {
        unary(self, Neg)
    }
    panicking!(
        /// `−self` (`torch.neg`).
        neg => try_neg() -> Tensor
    );

    /// Like [`exp`](Tensor::exp), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_exp(&self) -> Result<Tensor> {
        unary(self, Exp)
    }
    panicking!(
        /// `e^self` (`torch.exp`).
        exp => try_exp() -> Tensor
    );

    /// Like [`expm1`](Tensor::expm1), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_expm1(&self) -> Result<Tensor> {
        unary(self, Expm1)
    }
    panicking!(
        /// `e^self − 1`, accurate for small inputs (`torch.expm1`).
        expm1 => try_expm1() -> Tensor
    );

    /// Like [`log`](Tensor::log), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_log(&self) -> Result<Tensor> {
        unary(self, Log)
    }
    panicking!(
        /// Natural logarithm (`torch.log`); `log(0) = −inf`, negative inputs give
        /// NaN, exactly as in PyTorch (use [`detect_anomaly`](crate::detect_anomaly)
        /// to catch them).
        log => try_log() -> Tensor
    );

    /// Like [`log1p`](Tensor::log1p), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_log1p(&self) -> Result<Tensor> {
        unary(self, Log1p)
    }
    panicking!(
        /// `log(1 + self)`, accurate for small inputs (`torch.log1p`).
        log1p => try_log1p() -> Tensor
    );

    /// Like [`sqrt`](Tensor::sqrt), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sqrt(&self) -> Result<Tensor> {
        unary(self, Sqrt)
    }
    panicking!(
        /// Square root (`torch.sqrt`).
        sqrt => try_sqrt() -> Tensor
    );

    /// Like [`rsqrt`](Tensor::rsqrt), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_rsqrt(&self) -> Result<Tensor> {
        unary(self, Rsqrt)
    }
    panicking!(
        /// `1 / √self` (`torch.rsqrt`).
        rsqrt => try_rsqrt() -> Tensor
    );

    /// Like [`abs`](Tensor::abs), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_abs(&self) -> Result<Tensor> {
        unary(self, Abs)
    }
    panicking!(
        /// Absolute value (`torch.abs`); the gradient at 0 is 0.
        abs => try_abs() -> Tensor
    );

    /// Like [`square`](Tensor::square), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_square(&self) -> Result<Tensor> {
        unary(self, Square)
    }
    panicking!(
        /// `self²` (`torch.square`).
        square => try_square() -> Tensor
    );

    /// Like [`sin`](Tensor::sin), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sin(&self) -> Result<Tensor> {
        unary(self, Sin)
    }
    panicking!(
        /// Sine, in radians (`torch.sin`).
        sin => try_sin() -> Tensor
    );

    /// Like [`cos`](Tensor::cos), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_cos(&self) -> Result<Tensor> {
        unary(self, Cos)
    }
    panicking!(
        /// Cosine, in radians (`torch.cos`).
        cos => try_cos() -> Tensor
    );

    /// Like [`relu`](Tensor::relu), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_relu(&self) -> Result<Tensor> {
        unary(self, Relu)
    }
    panicking!(
        /// `max(self, 0)` (`torch.relu`); the gradient at 0 is 0.
        relu => try_relu() -> Tensor
    );

    /// Like [`leaky_relu`](Tensor::leaky_relu), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_leaky_relu(&self, negative_slope: f64) -> Result<Tensor> {
        if !negative_slope.is_finite() {
            return Err(Error::invalid(
                "leaky_relu",
                format!("negative_slope must be finite, got {negative_slope}"),
            ));
        }
        unary(self, LeakyRelu(negative_slope))
    }
    panicking!(
        /// `self` where positive, `negative_slope · self` elsewhere
        /// (`torch.nn.functional.leaky_relu`, default slope 0.01).
        leaky_relu => try_leaky_relu(negative_slope: f64) -> Tensor
    );

    /// Like [`sigmoid`](Tensor::sigmoid), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sigmoid(&self) -> Result<Tensor> {
        unary(self, Sigmoid)
    }
    panicking!(
        /// The logistic function 1 / (1 + e^−x) (`torch.sigmoid`), computed
        /// without overflow for any input.
        sigmoid => try_sigmoid() -> Tensor
    );

    /// Like [`tanh`](Tensor::tanh), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_tanh(&self) -> Result<Tensor> {
        unary(self, Tanh)
    }
    panicking!(
        /// Hyperbolic tangent (`torch.tanh`).
        tanh => try_tanh() -> Tensor
    );

    /// Like [`silu`](Tensor::silu), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_silu(&self) -> Result<Tensor> {
        unary(self, Silu)
    }
    panicking!(
        /// `x · σ(x)`, the sigmoid-weighted linear unit
        /// (`torch.nn.functional.silu`).
        silu => try_silu() -> Tensor
    );

    /// Like [`softplus`](Tensor::softplus), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_softplus(&self) -> Result<Tensor> {
        self.try_softplus_with(1.0, 20.0)
    }
    panicking!(
        /// `log(1 + e^x)` with PyTorch's defaults `beta = 1`, `threshold = 20`
        /// (`torch.nn.functional.softplus`).
        softplus => try_softplus() -> Tensor
    );

    /// Like [`softplus_with`](Tensor::softplus_with), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_softplus_with(&self, beta: f64, threshold: f64) -> Result<Tensor> {
        if !(beta.is_finite() && beta != 0.0) || threshold.is_nan() {
            return Err(Error::invalid(
                "softplus",
                format!("need a finite non-zero beta and a threshold, got beta={beta}, threshold={threshold}"),
            ));
        }
        unary(self, Softplus { beta, threshold })
    }
    panicking!(
        /// `(1/β)·log(1 + e^(βx))`, and `x` itself where `βx > threshold`
        /// (`torch.nn.functional.softplus(x, beta, threshold)`).
        softplus_with => try_softplus_with(beta: f64, threshold: f64) -> Tensor
    );

    /// Like [`gelu`](Tensor::gelu), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_gelu(&self) -> Result<Tensor> {
        unary(self, Gelu)
    }
    panicking!(
        /// GELU with the exact normal CDF, `x·Φ(x)` (`torch.nn.functional.gelu`
        /// with `approximate='none'`).
        gelu => try_gelu() -> Tensor
    );

    /// Like [`gelu_with`](Tensor::gelu_with), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_gelu_with(&self, approximate: &str) -> Result<Tensor> {
        match approximate {
            "none" => unary(self, Gelu),
            "tanh" => unary(self, GeluTanh),
            other => Err(Error::invalid(
                "gelu",
                format!("approximate must be \"none\" or \"tanh\", got {other:?}"),
            )),
        }
    }
    panicking!(
        /// GELU with the given `approximate` mode, as
        /// `torch.nn.functional.gelu(x, approximate=...)`: `"none"` is the
        /// exact `x·Φ(x)`, `"tanh"` is `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([1.0f64]);
        /// let exact = x.gelu_with("none").item::<f64>();
        /// let approx = x.gelu_with("tanh").item::<f64>();
        /// assert!((exact - 0.841344746).abs() < 1e-9 && (approx - exact).abs() < 1e-3);
        /// ```
        gelu_with => try_gelu_with(approximate: &str) -> Tensor
    );

    /// Like [`clamp`](Tensor::clamp), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        if min.is_nan() || max.is_nan() || min > max {
            return Err(Error::invalid(
                "clamp",
                format!("need min <= max (neither NaN), got min={min}, max={max}"),
            ));
        }
        unary(self, Clamp(min, max))
    }
    panicking!(
        /// Limits every element to `[min, max]` (`torch.clamp`). The gradient
        /// is passed where `min <= x <= max` and is 0 outside the range.
        clamp => try_clamp(min: f64, max: f64) -> Tensor
    );
}
