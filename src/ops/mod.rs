//! The differentiable ops. Each file holds one family, and each op's forward
//! and backward live side by side in it.
//!
//! Every op has a fallible `try_` form returning [`Result`](crate::Result)
//! and a plain form that panics with the same message at the caller's line.

pub(crate) mod binary;
pub(crate) mod broadcast;
pub(crate) mod compare;
pub(crate) mod convert;
pub(crate) mod creation;
pub(crate) mod cumsum;
pub(crate) mod index;
pub(crate) mod index_out;
pub(crate) mod join;
pub(crate) mod matmul;
pub(crate) mod multinomial;
pub(crate) mod norm;
pub(crate) mod overload;
pub(crate) mod reduce;
pub(crate) mod repeat;
pub(crate) mod scalar;
pub(crate) mod sort;
pub(crate) mod sum;
pub(crate) mod triangle;
pub(crate) mod unary;
pub(crate) mod view;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The common dtype of two operands, or an error naming the op.
pub(crate) fn same_dtype(op: &'static str, a: &Tensor, b: &Tensor) -> Result<DType> {
    let (da, db) = (a.dtype(), b.dtype());
    if da != db {
        return Err(Error::DTypeMismatch {
            op,
            lhs: da,
            rhs: db,
        });
    }
    Ok(da)
}

/// Defines the plain, panicking form of a `try_` method on `Tensor`.
///
/// `panicking!(/// docs... add => try_add(other: &Tensor) -> Tensor);`
/// expands to a `#[track_caller]` method `add` that calls `try_add` and
/// panics with the error's message at the caller's line. The op's
/// documentation and examples are written here, on the plain method users
/// call; the `try_` twin's rustdoc points to it.
macro_rules! panicking {
    ($(#[$doc:meta])* $name:ident => $try_name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty) => {
        $(#[$doc])*
        #[doc = ""]
        #[doc = concat!("Panics with the message of the error [`", stringify!($try_name), "`](Tensor::", stringify!($try_name), ") returns, reported at the caller's line.")]
        #[track_caller]
        #[inline]
        pub fn $name(&self, $($arg: $ty),*) -> $ret {
            crate::error::or_panic(self.$try_name($($arg),*))
        }
    };
}
pub(crate) use panicking;
