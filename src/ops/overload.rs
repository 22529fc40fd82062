//! Operator overloads, so that `a * b + c` reads like the formula.
//!
//! They panic on bad input (with the `try_` form's message, at the caller's
//! line); use the `try_` methods where a shape error must be handled.
//!
//! ```
//! use tapegrad::Tensor;
//! let a = Tensor::new([1.0f32, 2.0]);
//! let b = Tensor::new([3.0f32, 4.0]);
//! let y = &a * &b + 1.0 - &a / 2.0;
//! assert_eq!(y.to_vec::<f32>(), vec![3.5, 8.0]);
//! assert_eq!((-&a).to_vec::<f32>(), vec![-1.0, -2.0]);
//! ```

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::error::or_panic;
use crate::tensor::Tensor;

macro_rules! tensor_tensor {
    ($trait:ident, $method:ident, $try:ident) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                or_panic(self.$try(rhs))
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                or_panic(self.$try(&rhs))
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                or_panic(self.$try(rhs))
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                or_panic(self.$try(&rhs))
            }
        }
    };
}

tensor_tensor!(Add, add, try_add);
tensor_tensor!(Sub, sub, try_sub);
tensor_tensor!(Mul, mul, try_mul);
tensor_tensor!(Div, div, try_div);

macro_rules! tensor_scalar {
    ($scalar:ty) => {
        tensor_scalar!(@one $scalar, Add, add, |t: &Tensor, s: f64| t.try_add_scalar(s), |t: &Tensor, s: f64| t.try_add_scalar(s));
        tensor_scalar!(@one $scalar, Sub, sub, |t: &Tensor, s: f64| t.try_sub_scalar(s), |t: &Tensor, s: f64| t.try_rsub_scalar(s));
        tensor_scalar!(@one $scalar, Mul, mul, |t: &Tensor, s: f64| t.try_mul_scalar(s), |t: &Tensor, s: f64| t.try_mul_scalar(s));
        tensor_scalar!(@one $scalar, Div, div, |t: &Tensor, s: f64| t.try_div_scalar(s), |t: &Tensor, s: f64| t.try_rdiv_scalar(s));
    };
    (@one $scalar:ty, $trait:ident, $method:ident, $tensor_lhs:expr, $scalar_lhs:expr) => {
        impl $trait<$scalar> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: $scalar) -> Tensor {
                or_panic(($tensor_lhs)(self, rhs as f64))
            }
        }
        impl $trait<$scalar> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: $scalar) -> Tensor {
                or_panic(($tensor_lhs)(&self, rhs as f64))
            }
        }
        impl $trait<&Tensor> for $scalar {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                or_panic(($scalar_lhs)(rhs, self as f64))
            }
        }
        impl $trait<Tensor> for $scalar {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                or_panic(($scalar_lhs)(&rhs, self as f64))
            }
        }
    };
}

tensor_scalar!(f64);

impl Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        or_panic(self.try_neg())
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        or_panic(self.try_neg())
    }
}
