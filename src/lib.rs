//! # tapegrad
//!
//! A tape-based reverse-mode automatic differentiation engine with n-d
//! tensors, PyTorch-style ops and losses, and an SGD optimizer.
//!
//! Every op on tensors that require grad is appended to a per-thread tape
//! (a Wengert list); [`Tensor::backward`] walks it once in reverse. Backward
//! rules are written with the same differentiable ops, so gradients of
//! gradients work ([`grad`] with `create_graph`).
//!
//! ```
//! use tapegrad::Tensor;
//! let x = Tensor::new([1.0f32, 2.0, 3.0]).requires_grad_(true);
//! let y = (&x * &x).sum();        // y = Σ x²
//! y.backward();
//! assert_eq!(x.grad().unwrap().to_vec::<f32>(), vec![2.0, 4.0, 6.0]);
//! ```
//!
//! See `docs/architecture.md` for how the crate is built and how to add an
//! op.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod autograd;
mod dtype;
mod error;
mod kernels;
mod ops;
mod shape;
mod tensor;
mod threads;

pub use autograd::{
    clear_tape, detect_anomaly, enable_grad, grad, grad_with, gradcheck, gradcheck_outputs,
    gradgradcheck, is_grad_enabled, no_grad, tape_len, trace, BackwardOptions, GradcheckOptions,
    GradcheckReport, NoGradGuard, Trace, TraceEntry,
};
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use ops::view::ShapeArg;
pub use shape::Shape;
pub use tensor::create::seeded_rng;
pub use tensor::{Tensor, TensorData};
pub use threads::{get_num_threads, set_num_threads};
