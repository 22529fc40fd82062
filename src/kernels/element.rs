//! [`KernelElement`]: the kernels' per-dtype hooks, the one place where a
//! kernel picks a different implementation for `f32` and `f64`.
//!
//! `Element` (src/dtype.rs) gathers the arithmetic every kernel needs and
//! sits below the kernels; this trait holds what only the kernels know
//! about: the GEMM library entry point, the narrow-product kernels and the
//! whole-matrix softmax rows (both with an AVX2 build for `f32` only).
//! Its callers run inside `dispatch!`, where the element type is concrete,
//! so every hook is resolved at compile time.

use super::gemm::{MatMut, MatRef};
use super::{narrow, simd, vector_math};
use crate::dtype::Element;

/// `matrixmultiply`'s `sgemm` / `dgemm` signature: sizes, `α`, `A` and `B`
/// as pointer plus row and column strides, `β`, then `C` the same way.
/// Only [`super::gemm_ffi`] calls it.
pub(crate) type RawGemm<T> = unsafe fn(
    usize,
    usize,
    usize,
    T,
    *const T,
    isize,
    isize,
    *const T,
    isize,
    isize,
    T,
    *mut T,
    isize,
    isize,
);

/// An element type the kernels have specialised code for: `f32` and `f64`.
pub(crate) trait KernelElement: Element {
    /// The library GEMM for this type (naming it is safe; calling it is
    /// [`super::gemm_ffi`]'s job).
    const RAW_GEMM: RawGemm<Self>;

    /// Computes `C ← α·A·B + β·C` with a kernel for narrow results
    /// ([`super::narrow`]) if one applies, returning `false` otherwise
    /// (always, unless the type overrides it: only `f32` has such kernels).
    /// Operand bounds were checked by the caller.
    #[allow(clippy::too_many_arguments)]
    fn gemm_narrow(
        _m: usize,
        _k: usize,
        _n: usize,
        _alpha: Self,
        _a: MatRef<'_, Self>,
        _b: MatRef<'_, Self>,
        _beta: Self,
        _c: MatMut<'_, Self>,
    ) -> bool {
        false
    }

    /// The softmax of each row of a row-major `[rows, classes]` matrix,
    /// with each row's max and log-sum (see
    /// [`vector_math::softmax_rows_with`]); the `f32` build picks an AVX2
    /// kernel at run time.
    fn softmax_rows(
        x: &[Self],
        classes: usize,
        probs: &mut [Self],
        maxes: &mut [Self],
        log_sums: &mut [Self],
    );
}

impl KernelElement for f32 {
    const RAW_GEMM: RawGemm<f32> = matrixmultiply::sgemm;

    #[inline]
    fn gemm_narrow(
        m: usize,
        k: usize,
        n: usize,
        alpha: f32,
        a: MatRef<'_, f32>,
        b: MatRef<'_, f32>,
        beta: f32,
        c: MatMut<'_, f32>,
    ) -> bool {
        narrow::gemm_narrow(m, k, n, alpha, a, b, beta, c)
    }

    #[inline]
    fn softmax_rows(
        x: &[f32],
        classes: usize,
        probs: &mut [f32],
        maxes: &mut [f32],
        log_sums: &mut [f32],
    ) {
        simd::softmax_rows(x, classes, probs, maxes, log_sums)
    }
}

impl KernelElement for f64 {
    const RAW_GEMM: RawGemm<f64> = matrixmultiply::dgemm;

    #[inline]
    fn softmax_rows(
        x: &[f64],
        classes: usize,
        probs: &mut [f64],
        maxes: &mut [f64],
        log_sums: &mut [f64],
    ) {
        vector_math::softmax_rows_with(x, classes, probs, maxes, log_sums, f64::exp)
    }
}
