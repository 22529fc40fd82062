//! The crate's error type.
//!
//! Every fallible operation returns [`Result<T>`]. Messages name the operation
//! and the offending shapes, dims or values, so that the plain (panicking) form
//! of an op can report the same text at the caller's line.

use crate::dtype::DType;
use crate::shape::Shape;

/// Everything that can go wrong in tapegrad.
///
/// ```
/// use tapegrad::{Error, Tensor};
/// let a = Tensor::zeros(&[2, 3]);
/// let b = Tensor::zeros(&[4]);
/// let err = a.try_add(&b).unwrap_err();
/// assert!(matches!(err, Error::Broadcast { .. }));
/// assert_eq!(err.to_string(), "add: shapes [2, 3] and [4] cannot be broadcast together");
/// // `{:?}` (what `.unwrap()` and `fn main() -> Result<..>` print) shows the same sentence.
/// assert_eq!(format!("{err:?}"), err.to_string());
/// ```
#[derive(Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two shapes that an op needs to broadcast are incompatible.
    #[error("{op}: shapes {lhs} and {rhs} cannot be broadcast together")]
    Broadcast {
        /// The operation.
        op: &'static str,
        /// Left operand's shape.
        lhs: Shape,
        /// Right operand's shape.
        rhs: Shape,
    },
    /// Shapes that must agree (in some op-specific way) do not.
    #[error("{op}: {detail} (got {lhs} and {rhs})")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// What had to agree.
        detail: String,
        /// First shape involved.
        lhs: Shape,
        /// Second shape involved.
        rhs: Shape,
    },
    /// A single tensor has a shape the op cannot accept.
    #[error("{op}: {detail} (got shape {shape})")]
    BadShape {
        /// The operation.
        op: &'static str,
        /// What was expected.
        detail: String,
        /// The shape received.
        shape: Shape,
    },
    /// A dim argument outside `-rank..rank`.
    #[error("{op}: dim {dim} is out of range for a tensor of rank {rank} (expected a dim in {lo}..={hi})", lo = -(*rank as i64).max(1), hi = (*rank as i64 - 1).max(0))]
    DimOutOfRange {
        /// The operation.
        op: &'static str,
        /// The dim as given.
        dim: isize,
        /// The tensor's rank.
        rank: usize,
    },
    /// The same dim was given twice.
    #[error("{op}: dim {dim} appears more than once")]
    DuplicateDim {
        /// The operation.
        op: &'static str,
        /// The repeated dim (normalised to be non-negative).
        dim: usize,
    },
    /// An index (into a dim, or a class id) outside its valid range.
    #[error("{op}: index {index} is out of range for dim {dim} of size {size}{at}")]
    IndexOutOfRange {
        /// The operation.
        op: &'static str,
        /// The offending index.
        index: i64,
        /// The dim it indexes.
        dim: usize,
        /// The size of that dim.
        size: usize,
        /// Where the index was found, e.g. " (target row 3)"; may be empty.
        at: String,
    },
    /// Two tensors of different element types met in one op.
    #[error("{op}: dtype mismatch: {lhs} and {rhs} (convert one with .to_dtype())")]
    DTypeMismatch {
        /// The operation.
        op: &'static str,
        /// First dtype.
        lhs: DType,
        /// Second dtype.
        rhs: DType,
    },
    /// The number of values does not match the number of elements of a shape.
    #[error("{op}: {len} values cannot fill shape {shape} ({numel} elements)")]
    DataLength {
        /// The operation.
        op: &'static str,
        /// Values given.
        len: usize,
        /// Shape requested.
        shape: Shape,
        /// Elements that shape holds.
        numel: usize,
    },
    /// An argument value is not allowed (a negative size, a NaN learning rate,
    /// a probability outside `[0, 1]`, ...).
    #[error("{op}: {detail}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What was wrong, with the offending value.
        detail: String,
    },
    /// Misuse of the autograd machinery: backward on a non-scalar without a
    /// seed, on a tensor that does not require grad, through a released graph...
    #[error("{op}: {detail}")]
    Autograd {
        /// The operation (`backward`, `grad`, ...).
        op: &'static str,
        /// What went wrong and how to fix it.
        detail: String,
    },
    /// A NaN or infinity detected by anomaly mode.
    #[error("anomaly: {detail}")]
    Anomaly {
        /// Which op and tape entry produced it, with shapes.
        detail: String,
    },
    /// Reading or writing a file failed.
    #[error("{op}: {path}: {detail}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The file.
        path: String,
        /// The underlying error, as text.
        detail: String,
    },
    /// A file or text could be read but its contents are not what was expected.
    #[error("{op}: {detail}")]
    Format {
        /// The operation (`load_checkpoint`, `read_csv`, ...).
        op: &'static str,
        /// What was wrong, naming the tensor, line or column.
        detail: String,
    },
}

/// `std::result::Result` with [`Error`] as the error type.
pub type Result<T> = std::result::Result<T, Error>;

/// Unwraps a result or panics with the error's message at the caller's line.
///
/// The plain (non-`try_`) form of every op is written as
/// `or_panic(self.try_op(..))`, so both forms report the same text.
#[track_caller]
#[inline]
pub(crate) fn or_panic<T>(result: Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{err}"),
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub(crate) fn invalid(op: &'static str, detail: impl Into<String>) -> Self {
        Error::InvalidArgument {
            op,
            detail: detail.into(),
        }
    }

    /// Shorthand for [`Error::BadShape`].
    pub(crate) fn bad_shape(op: &'static str, detail: impl Into<String>, shape: &Shape) -> Self {
        Error::BadShape {
            op,
            detail: detail.into(),
            shape: shape.clone(),
        }
    }

    /// Shorthand for [`Error::ShapeMismatch`].
    pub(crate) fn mismatch(
        op: &'static str,
        detail: impl Into<String>,
        lhs: &Shape,
        rhs: &Shape,
    ) -> Self {
        Error::ShapeMismatch {
            op,
            detail: detail.into(),
            lhs: lhs.clone(),
            rhs: rhs.clone(),
        }
    }

    /// Shorthand for [`Error::Autograd`].
    pub(crate) fn autograd(op: &'static str, detail: impl Into<String>) -> Self {
        Error::Autograd {
            op,
            detail: detail.into(),
        }
    }
}

/// The same sentence as `Display`.
///
/// `Debug` is what `.unwrap()`, `.expect()` and a `main` returning
/// `Result<(), tapegrad::Error>` print, and a user reading
/// "cross_entropy: index 5 is out of range..." there learns more than from a
/// dump of the variant's fields. Match on the variant to get at the fields.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// An index outside `0..size`, reported with the value as given.
    ///
    /// [`Error::IndexOutOfRange`] holds the index as an `i64`; a value
    /// beyond that range (a float class id of `1e30`, a `usize` above
    /// `i64::MAX`) would be clamped or wrapped by `as i64`, so the error
    /// would name a number the user never passed. Such values get the same
    /// sentence as an [`Error::InvalidArgument`] instead.
    pub(crate) fn index_out_of_range(
        op: &'static str,
        index: impl IndexValue,
        dim: usize,
        size: usize,
        at: String,
    ) -> Self {
        match index.exact_i64() {
            Some(index) => Error::IndexOutOfRange {
                op,
                index,
                dim,
                size,
                at,
            },
            None => Error::InvalidArgument {
                op,
                detail: format!(
                    "index {} is out of range for dim {dim} of size {size}{at}",
                    index.text()
                ),
            },
        }
    }
}

/// An index as some caller holds it: a class id in a float tensor, or a
/// `usize` position.
pub(crate) trait IndexValue: Copy {
    /// The value as an `i64` if it is exactly one.
    fn exact_i64(self) -> Option<i64>;
    /// The value as the user wrote it.
    fn text(self) -> String;
}

impl IndexValue for usize {
    fn exact_i64(self) -> Option<i64> {
        i64::try_from(self).ok()
    }
    fn text(self) -> String {
        self.to_string()
    }
}

impl IndexValue for i64 {
    fn exact_i64(self) -> Option<i64> {
        Some(self)
    }
    fn text(self) -> String {
        self.to_string()
    }
}

impl IndexValue for f64 {
    fn exact_i64(self) -> Option<i64> {
        // 2^63 itself is not an i64; every float below it in magnitude that
        // is integral is one exactly.
        (self.fract() == 0.0 && self.abs() < 9_223_372_036_854_775_808.0).then_some(self as i64)
    }
    fn text(self) -> String {
        self.to_string()
    }
}
