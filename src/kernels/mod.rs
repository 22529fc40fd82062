//! Low-level loops over buffers. Nothing here knows about autograd.

pub(crate) mod element;
pub(crate) mod elementwise;
pub(crate) mod gemm;
mod gemm_ffi;
pub(crate) mod index;
pub(crate) mod narrow;
pub(crate) mod parallel;
pub(crate) mod reduce;
pub(crate) mod simd;
pub(crate) mod softmax;
pub(crate) mod special;
pub(crate) mod strided;
pub(crate) mod vector_math;
