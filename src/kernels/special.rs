//! The stable logistic function. The scalar special functions (`erf`,
//! the normal CDF, the `f32` tanh kernel) live in [`crate::math`], below
//! the element types that call them.

use crate::dtype::Element;

/// The logistic function 1 / (1 + e^−x), evaluated so that it never
/// exponentiates a positive number: ±1e4 give exactly 1 and 0, no overflow.
#[inline]
pub(crate) fn sigmoid<T: Element>(x: T) -> T {
    if x >= T::ZERO {
        T::ONE / (T::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::ONE + e)
    }
}
