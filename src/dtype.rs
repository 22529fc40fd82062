//! Element types: the runtime [`DType`] tag and the [`Element`] trait that
//! kernels are generic over.
//!
//! A tensor carries its dtype at run time (like `torch.dtype`), so models,
//! optimizers and losses are written once. Each op dispatches on the dtype
//! once, then runs a kernel monomorphised for `f32` or `f64`: there is no
//! per-element dynamic dispatch.

use std::fmt;

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DType {
    /// 32-bit float, the default (as in PyTorch).
    #[default]
    F32,
    /// 64-bit float: use it for strict gradient checks.
    F64,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
        })
    }
}

/// A floating-point element type tensors can hold: `f32` or `f64`.
///
/// Kernels are written once, generic over `T: Element`; the trait gathers the
/// arithmetic and the transcendental functions they need.
pub trait Element:
    Copy
    + Default
    + PartialOrd
    + PartialEq
    + fmt::Debug
    + fmt::Display
    + Send
    + Sync
    + 'static
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::iter::Sum
    + private::Sealed
{
    /// The runtime tag of this type.
    const DTYPE: DType;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Negative infinity.
    const NEG_INFINITY: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// e^x.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// ln(1 + x), accurate near 0.
    fn ln_1p(self) -> Self;
    /// `e^x − 1`, accurate near 0.
    fn exp_m1(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// x^p for a real power.
    fn powf(self, p: Self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// The larger of two values; NaN if either is NaN.
    fn max_nan(self, other: Self) -> Self;
    /// The smaller of two values; NaN if either is NaN.
    fn min_nan(self, other: Self) -> Self;
    /// True for NaN.
    fn is_nan(self) -> bool;
    /// True for values that are neither NaN nor infinite.
    fn is_finite(self) -> bool;
    /// Sign: -1, 0 or 1 (0 for ±0, NaN for NaN).
    fn signum0(self) -> Self;
}

pub(crate) mod private {
    /// A container over an element type (`Vec<_>`, `&[_]`, ...), for the
    /// witnesses of [`Sealed`]. The layers above define their own.
    pub trait Family {
        /// The container of `T`.
        type Of<T: 'static>;
    }

    /// Seals [`Element`](super::Element) to `f32` and `f64`, and witnesses
    /// which of the two `Self` is: generic code (the tensor's typed
    /// buffer access, the buffer cache) turns a container of the concrete
    /// type into one of `Self` and back without `unsafe` or a runtime type
    /// check. Every method is an identity or a constant `None`, so nothing
    /// remains of it once inlined. Per-dtype *behaviour* lives with the
    /// layer that needs it (`kernels::element::KernelElement`).
    pub trait Sealed: Sized + 'static {
        /// `Some(x)` when `Self` is `f32`.
        fn if_f32<F: Family>(x: F::Of<f32>) -> Option<F::Of<Self>>;
        /// `Some(x)` when `Self` is `f64`.
        fn if_f64<F: Family>(x: F::Of<f64>) -> Option<F::Of<Self>>;
        /// `x` as a container of `f32` (`Ok`) or of `f64` (`Err`).
        fn concrete<F: Family>(x: F::Of<Self>) -> Result<F::Of<f32>, F::Of<f64>>;
    }

    impl Sealed for f32 {
        #[inline(always)]
        fn if_f32<F: Family>(x: F::Of<f32>) -> Option<F::Of<f32>> {
            Some(x)
        }
        #[inline(always)]
        fn if_f64<F: Family>(_: F::Of<f64>) -> Option<F::Of<f32>> {
            None
        }
        #[inline(always)]
        fn concrete<F: Family>(x: F::Of<f32>) -> Result<F::Of<f32>, F::Of<f64>> {
            Ok(x)
        }
    }

    impl Sealed for f64 {
        #[inline(always)]
        fn if_f32<F: Family>(_: F::Of<f32>) -> Option<F::Of<f64>> {
            None
        }
        #[inline(always)]
        fn if_f64<F: Family>(x: F::Of<f64>) -> Option<F::Of<f64>> {
            Some(x)
        }
        #[inline(always)]
        fn concrete<F: Family>(x: F::Of<f64>) -> Result<F::Of<f32>, F::Of<f64>> {
            Err(x)
        }
    }
}

/// Runs `$body` with `$T` bound to the Rust type of a runtime [`DType`].
///
/// This is the only place a dtype is matched: once per op, never per element.
macro_rules! dispatch {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::dtype::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::dtype::DType::F64 => {
                type $T = f64;
                $body
            }
        }
    };
}
pub(crate) use dispatch;

macro_rules! impl_element {
    ($t:ident, $dtype:expr, $tanh:path) => {
        impl Element for $t {
            const DTYPE: DType = $dtype;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NEG_INFINITY: Self = $t::NEG_INFINITY;
            const INFINITY: Self = $t::INFINITY;
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $t::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                $t::ln(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                $t::ln_1p(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                $t::exp_m1(self)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                $t::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                $t::cos(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline(always)]
            fn powf(self, p: Self) -> Self {
                $t::powf(self, p)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                crate::math::erf(self as f64) as $t
            }
            #[inline(always)]
            fn max_nan(self, other: Self) -> Self {
                if self.is_nan() || other.is_nan() {
                    $t::NAN
                } else if self >= other {
                    self
                } else {
                    other
                }
            }
            #[inline(always)]
            fn min_nan(self, other: Self) -> Self {
                if self.is_nan() || other.is_nan() {
                    $t::NAN
                } else if self <= other {
                    self
                } else {
                    other
                }
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn signum0(self) -> Self {
                if self > 0.0 {
                    1.0
                } else if self < 0.0 {
                    -1.0
                } else if self.is_nan() {
                    self
                } else {
                    0.0
                }
            }
        }
    };
}

// f32 tanh has its own branch-free kernel (see math::tanh_f32).
impl_element!(f32, DType::F32, crate::math::tanh_f32);
impl_element!(f64, DType::F64, f64::tanh);
