//! The call into `matrixmultiply`, the one `unsafe` line of the GEMM.
//!
//! Why `unsafe` is allowed here: the library takes raw pointers plus
//! strides (that is how it reads transposed and broadcast operands in
//! place, without copying) and is several times faster than the best safe
//! loop (docs/benchmarks.md, "Figures behind the code"). [`library_gemm`] is safe to call
//! with any arguments: it checks every operand itself right before the
//! call, with [`checked_strides`] and [`non_aliasing`] (safe functions in
//! `gemm.rs`, which also uses them to refuse bad operands on its other
//! paths), so its soundness rests on this file and those two functions.
#![allow(unsafe_code)]

use super::element::KernelElement;
use super::gemm::{checked_strides, non_aliasing, MatMut, MatRef};

/// `C ← α·A·B + β·C` by the library (`m × k` times `k × n`).
///
/// # Panics
/// If a size is 0, an operand's strides address elements outside its
/// slice, or `C`'s strides alias (see [`super::gemm::gemm`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn library_gemm<T: KernelElement>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) {
    assert!(
        m > 0 && k > 0 && n > 0,
        "tapegrad internal error: empty gemm"
    );
    let (rsa, csa) = checked_strides(
        "A",
        a.data.len(),
        a.offset,
        m,
        k,
        a.row_stride,
        a.col_stride,
    );
    let (rsb, csb) = checked_strides(
        "B",
        b.data.len(),
        b.offset,
        k,
        n,
        b.row_stride,
        b.col_stride,
    );
    let (rsc, csc) = checked_strides(
        "C",
        c.data.len(),
        c.offset,
        m,
        n,
        c.row_stride,
        c.col_stride,
    );
    assert!(
        non_aliasing(m, n, c.row_stride, c.col_stride),
        "tapegrad internal error: gemm output strides alias"
    );
    let a_ptr = a.data[a.offset..].as_ptr();
    let b_ptr = b.data[b.offset..].as_ptr();
    let c_ptr = c.data[c.offset..].as_mut_ptr();
    // SAFETY: `T::RAW_GEMM` is `matrixmultiply::sgemm` or `dgemm`, whose
    // contract is that every element addressed is in a live allocation,
    // `C` is valid for writes and no element of `C` is reachable another way.
    // - Bounds: `checked_strides` verified that the largest index each
    //   operand addresses, offset + (rows-1)·rs + (cols-1)·cs, is inside its
    //   slice; strides are non-negative, so every addressed index lies in
    //   [offset, that maximum]. The pointers start at `offset` of slices
    //   borrowed for the whole call.
    // - Aliasing: `c` is a `&mut` slice, so the borrow checker guarantees `a`
    //   and `b` do not overlap it; `non_aliasing` verified that distinct
    //   (i, j) of C address distinct elements, as the library requires.
    //   A and B are only read, so their strides may be anything (even 0).
    // - Initialisation: all slices hold initialised `T` values.
    // - m, k, n > 0 (asserted above), and strides fit in `isize` (checked).
    unsafe {
        (T::RAW_GEMM)(
            m, k, n, alpha, a_ptr, rsa, csa, b_ptr, rsb, csb, beta, c_ptr, rsc, csc,
        );
    }
}
