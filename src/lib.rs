//! # tapegrad
//!
//! A tape-based reverse-mode automatic differentiation engine with n-d
//! tensors, PyTorch-style ops, losses, modules and optimizers.
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
//! Where things are:
//! - [`Tensor`]: constructors, ops (elementwise with broadcasting, reductions,
//!   matmul, shape and indexing), `backward`, `grad`.
//! - [`autograd`]: grad mode ([`no_grad`]), [`grad`] for second order,
//!   [`gradcheck`] / [`gradgradcheck`], [`detect_anomaly`], [`trace`] to
//!   print or draw the tape.
//! - [`nn`]: `Module`, `Linear`, `Sequential`, activations, `Dropout`,
//!   initialisers; [`nn::functional`] and [`nn::loss`] hold softmax and the
//!   losses (cross-entropy, NLL, BCE, KL) with PyTorch's semantics.
//! - [`optim`]: `SGD`, `Adam`, `AdamW`, learning-rate schedules.
//! - [`data`]: CSV reading, datasets, a shuffling `DataLoader`,
//!   standardisation, accuracy and confusion matrices.
//! - [`checkpoint`]: safetensors files that PyTorch and candle can load.
//! - [`train`]: the training loop, written out.
//!
//! - [`guide`]: the math pages, from scores to the backward rules, each
//!   derived step by step and linked to the example that runs it; and
//!   [how to continue in PyTorch or candle](guide::outgrowing).
//!
//! How the crate is built and how to add an op:
//! [docs/architecture.md](https://github.com/tapegrad/tapegrad/blob/main/docs/architecture.md).

// `unsafe` is allowed in two small kernel modules only, each because a
// benchmark showed the safe alternative several times slower:
// src/kernels/gemm_ffi.rs (the call into matrixmultiply's pointer API) and
// src/kernels/simd.rs (calling AVX2 builds of a few loops after the CPU
// check). docs/architecture.md, "Kernels".
#![deny(unsafe_code)]
// clippy.toml lists inherent methods the crate replaces with its own kernel
// (`f32::tanh`): calling one inside `dispatch!` is an error, not a review note.
#![deny(clippy::disallowed_methods)]
#![warn(missing_docs)]

pub mod autograd;
pub mod checkpoint;
pub mod data;
mod dtype;
mod error;
pub mod guide;
mod kernels;
mod math;
pub mod nn;
mod ops;
pub mod optim;
mod shape;
mod tensor;
mod threads;
pub mod train;

pub use autograd::{
    clear_tape, detect_anomaly, enable_grad, grad, grad_with, gradcheck, gradcheck_outputs,
    gradgradcheck, is_grad_enabled, no_grad, tape_len, trace, BackwardOptions, GradPath,
    GradcheckOptions, GradcheckReport, NoGradGuard, Trace, TraceEntry,
};
pub use dtype::{DType, Element, Scalar};
pub use error::{Error, Result};
pub use ops::view::ShapeArg;
pub use shape::Shape;
pub use tensor::cache::empty_cache;
pub use tensor::create::seeded_rng;
pub use tensor::{Tensor, TensorData};
pub use threads::{get_num_threads, set_num_threads};

/// Compiles and runs every `rust` block of README.md as a doctest, so the
/// README's snippets cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// The code in the math pages of `docs/` runs as doctests through `guide`.
