//! Element types: the runtime [`DType`] tag and the [`Element`] trait that
//! kernels are generic over.
//!
//! A tensor carries its dtype at run time (like `torch.dtype`), so models,
//! optimizers and losses are written once. Each op dispatches on the dtype
//! once, then runs a kernel monomorphised for `f32` or `f64`: there is no
//! per-element dynamic dispatch.
//!
//! Besides the two float dtypes there is `int64` (PyTorch's `long`) for
//! class ids, token ids, positions and the indices ops return. Every
//! element type is a [`Scalar`]; the float ones are also [`Element`]s,
//! which is what differentiable kernels need. Integer tensors never
//! require grad. There is no separate `bool` dtype: masks are 0/1 tensors
//! of the dtype of what they compare, as before (one dtype fewer for every
//! kernel to handle, and `where_`/`masked_fill` read any non-zero as true).

use std::fmt;

/// The element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DType {
    /// 32-bit float, the default (as in PyTorch).
    #[default]
    F32,
    /// 64-bit float: use it for strict gradient checks.
    F64,
    /// 64-bit signed integer (`torch.long`): class ids, tokens, indices.
    I64,
}

impl DType {
    /// Size of one element in bytes.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }

    /// True for `float32` and `float64` (`torch.dtype.is_floating_point`).
    pub fn is_floating_point(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::I64 => "int64",
        })
    }
}

/// A type tensors can hold: `f32`, `f64` or `i64` (one per [`DType`]).
///
/// Reading values out (`to_vec`, `item`) and building tensors from data
/// take any `Scalar`, converting between types as `as` casts do (floats to
/// integers truncate toward zero).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tensor element type",
    label = "tensors hold `f32`, `f64` or `i64`, not `{Self}`",
    note = "tensor element types: f32, f64, i64 (one per `DType` variant); class ids and indices are i64"
)]
pub trait Scalar:
    Copy
    + Default
    + PartialOrd
    + PartialEq
    + fmt::Debug
    + fmt::Display
    + Send
    + Sync
    + 'static
    + private::Sealed
{
    /// The runtime tag of this type.
    const DTYPE: DType;
    /// Converts from `f64` as an `as` cast does (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact for floats, and for integers up to 2^53).
    fn to_f64(self) -> f64;
    /// Converts from `i64` as an `as` cast does.
    fn from_i64(v: i64) -> Self;
    /// Converts to `i64` as an `as` cast does (truncating floats).
    fn to_i64(self) -> i64;
    /// This value as another scalar type: exact between equal types and
    /// for integers read as integers.
    #[inline(always)]
    fn cast<U: Scalar>(self) -> U {
        if Self::DTYPE == DType::I64 {
            U::from_i64(self.to_i64())
        } else {
            U::from_f64(self.to_f64())
        }
    }
}

impl Scalar for i64 {
    const DTYPE: DType = DType::I64;
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as i64
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn from_i64(v: i64) -> Self {
        v
    }
    #[inline(always)]
    fn to_i64(self) -> i64 {
        self
    }
}

/// A floating-point element type tensors can hold: `f32` or `f64`.
///
/// Kernels are written once, generic over `T: Element`; the trait gathers the
/// arithmetic and the transcendental functions they need.
// The list in the note is the one place to extend when a dtype is added.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tensor element type",
    label = "tensors hold `f32` or `f64`, not `{Self}`",
    note = "tensor element types: f32, f64 (one per `DType` variant); convert the values first, e.g. `x as f32`"
)]
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
    + Scalar
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Negative infinity.
    const NEG_INFINITY: Self;
    /// Positive infinity.
    const INFINITY: Self;
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

    /// A container of one of the three element types.
    pub enum Concrete<F: Family> {
        /// Of `f32`.
        F32(F::Of<f32>),
        /// Of `f64`.
        F64(F::Of<f64>),
        /// Of `i64`.
        I64(F::Of<i64>),
    }

    /// Seals [`Scalar`](super::Scalar) to `f32`, `f64` and `i64`, and
    /// witnesses which of them `Self` is: generic code (the tensor's typed
    /// buffer access, the buffer cache) turns a container of the concrete
    /// type into one of `Self` and back without `unsafe` or a runtime type
    /// check. Every method is an identity or a constant `None`, so nothing
    /// remains of it once inlined (a `std::any::Any` downcast did not fold
    /// away: docs/benchmarks.md). Per-dtype *behaviour* lives with the
    /// layer that needs it (`kernels::element::KernelElement`).
    pub trait Sealed: Sized + 'static {
        /// `Some(x)` when `Self` is `f32`.
        fn if_f32<F: Family>(x: F::Of<f32>) -> Option<F::Of<Self>>;
        /// `Some(x)` when `Self` is `f64`.
        fn if_f64<F: Family>(x: F::Of<f64>) -> Option<F::Of<Self>>;
        /// `Some(x)` when `Self` is `i64`.
        fn if_i64<F: Family>(x: F::Of<i64>) -> Option<F::Of<Self>>;
        /// `x` as a container of the concrete type.
        fn concrete<F: Family>(x: F::Of<Self>) -> Concrete<F>;
    }

    macro_rules! witness {
        ($t:ident, $variant:ident, $yes:ident, [$($no:ident: $other:ident),*]) => {
            impl Sealed for $t {
                #[inline(always)]
                fn $yes<F: Family>(x: F::Of<$t>) -> Option<F::Of<$t>> {
                    Some(x)
                }
                $(
                    #[inline(always)]
                    fn $no<F: Family>(_: F::Of<$other>) -> Option<F::Of<$t>> {
                        None
                    }
                )*
                #[inline(always)]
                fn concrete<F: Family>(x: F::Of<$t>) -> Concrete<F> {
                    Concrete::$variant(x)
                }
            }
        };
    }
    witness!(f32, F32, if_f32, [if_f64: f64, if_i64: i64]);
    witness!(f64, F64, if_f64, [if_f32: f32, if_i64: i64]);
    witness!(i64, I64, if_i64, [if_f32: f32, if_f64: f64]);
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
            $crate::dtype::DType::I64 => $crate::dtype::float_kernel_on_int(),
        }
    };
}
pub(crate) use dispatch;

/// [`dispatch!`] over every dtype, integers included, for code that only
/// moves or compares values (`$T: Scalar`).
macro_rules! dispatch_scalar {
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
            $crate::dtype::DType::I64 => {
                type $T = i64;
                $body
            }
        }
    };
}
pub(crate) use dispatch_scalar;

/// Where an `int64` tensor reached a float kernel. Ops refuse integer
/// inputs up front ([`require_float`]) with an error naming them, so this
/// is a bug in tapegrad if it is ever reached.
#[cold]
#[track_caller]
pub(crate) fn float_kernel_on_int() -> ! {
    panic!("tapegrad internal error: an int64 tensor reached a floating-point kernel")
}

/// The error for an op that needs a float tensor and got an integer one.
pub(crate) fn require_float(op: &'static str, dtype: DType) -> crate::error::Result<()> {
    if dtype.is_floating_point() {
        return Ok(());
    }
    Err(crate::error::Error::invalid(
        op,
        format!(
            "expected a floating-point tensor (float32 or float64), got {dtype}; convert with \
             to_dtype(DType::F32)"
        ),
    ))
}

macro_rules! impl_element {
    ($t:ident, $dtype:expr, $tanh:path) => {
        impl Scalar for $t {
            const DTYPE: DType = $dtype;
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                self as i64
            }
        }

        impl Element for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NEG_INFINITY: Self = $t::NEG_INFINITY;
            const INFINITY: Self = $t::INFINITY;
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
