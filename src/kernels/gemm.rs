//! General matrix multiply, `C ← α·A·B + β·C`, on strided matrices.
//!
//! [`gemm`] picks one of three paths: a plain loop for tiny products, the
//! narrow `f32` kernels ([`super::narrow`]) for a classifier's products,
//! and otherwise `matrixmultiply`, called from [`super::gemm_ffi`] (the
//! library takes raw pointers; a safe loop was several times slower, see
//! docs/benchmarks.md, "Figures behind the code"). This file is safe code: it checks every
//! operand up front, so a bad layout is refused with the same message
//! whichever path would have run.

use super::element::KernelElement;
use super::gemm_ffi::library_gemm;
use crate::dtype::Element;

/// A read-only strided matrix: element `(i, j)` is
/// `data[offset + i * row_stride + j * col_stride]`. Strides may be 0
/// (a broadcast operand).
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) offset: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

/// A writable strided matrix, laid out like [`MatRef`].
#[derive(Debug)]
pub(crate) struct MatMut<'a, T> {
    pub(crate) data: &'a mut [T],
    pub(crate) offset: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl<'a, T: Copy> MatRef<'a, T> {
    /// Element `(i, j)`.
    #[inline(always)]
    pub(crate) fn at(&self, i: usize, j: usize) -> T {
        self.data[self.offset + i * self.row_stride + j * self.col_stride]
    }

    /// The transposed view (strides swapped, no copy).
    pub(crate) fn t(self) -> MatRef<'a, T> {
        MatRef {
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

impl<'a, T> MatMut<'a, T> {
    /// A whole slice as a row-major matrix with `cols` columns.
    pub(crate) fn row_major(data: &'a mut [T], cols: usize) -> MatMut<'a, T> {
        MatMut {
            data,
            offset: 0,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// Element `(i, j)`, to write.
    #[inline(always)]
    pub(crate) fn at_mut(&mut self, i: usize, j: usize) -> &mut T {
        &mut self.data[self.offset + i * self.row_stride + j * self.col_stride]
    }

    /// The transposed view (strides swapped, no copy).
    pub(crate) fn t(self) -> MatMut<'a, T> {
        MatMut {
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// The same view, borrowed again (so it can be handed on and used after).
    fn reborrow(&mut self) -> MatMut<'_, T> {
        MatMut {
            data: self.data,
            offset: self.offset,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }
}

/// The largest index addressed by a `rows × cols` matrix (both non-zero),
/// or `None` on overflow.
fn max_index(offset: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> Option<usize> {
    let r = (rows - 1).checked_mul(rs)?;
    let c = (cols - 1).checked_mul(cs)?;
    offset.checked_add(r)?.checked_add(c)
}

/// Checks that a `rows × cols` strided view lies inside a slice of length
/// `len` and that its strides fit the library's `isize`; returns them.
pub(crate) fn checked_strides(
    what: &str,
    len: usize,
    offset: usize,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
) -> (isize, isize) {
    let last = max_index(offset, rows, cols, rs, cs);
    assert!(
        matches!(last, Some(i) if i < len),
        "tapegrad internal error: gemm operand {what} ({rows}x{cols}, offset {offset}, \
         strides [{rs}, {cs}]) exceeds its buffer of {len} elements"
    );
    match (isize::try_from(rs), isize::try_from(cs)) {
        (Ok(r), Ok(c)) => (r, c),
        _ => panic!("tapegrad internal error: gemm operand {what} has a stride beyond isize"),
    }
}

/// True when no two indices `(i, j) != (i', j')` of an `m × n` matrix with
/// these strides address the same element: one stride must step over a
/// whole row/column of the other (a sufficient condition, and the one every
/// row- or column-major layout meets).
pub(crate) fn non_aliasing(m: usize, n: usize, rs: usize, cs: usize) -> bool {
    match (m > 1, n > 1) {
        (false, false) => true,
        (true, false) => rs >= 1,
        (false, true) => cs >= 1,
        (true, true) => {
            let steps_over = |outer: usize, inner: usize, count: usize| {
                inner >= 1 && inner.checked_mul(count).is_some_and(|w| outer >= w)
            };
            steps_over(rs, cs, n) || steps_over(cs, rs, m)
        }
    }
}

/// `C ← α·A·B + β·C` with `A` of size `m × k`, `B` of size `k × n` and `C`
/// of size `m × n`, each read through its strides (so transposed or
/// broadcast operands need no copy).
///
/// With `β == 0` the old contents of `C` are ignored (even NaN), as in BLAS.
///
/// # Panics
/// If an operand's strides address elements outside its slice, or `C`'s
/// strides alias. Callers build these from tensor layouts, so a panic here
/// is an internal bug, never a user error.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: KernelElement>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    mut c: MatMut<'_, T>,
) {
    if m == 0 || n == 0 {
        return;
    }
    checked_strides(
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
        "tapegrad internal error: gemm output strides [{}, {}] alias for a {m}x{n} matrix",
        c.row_stride,
        c.col_stride
    );
    if k == 0 {
        // The product is an empty sum: C ← β·C (exactly 0 when β == 0).
        for i in 0..m {
            for j in 0..n {
                let x = c.at_mut(i, j);
                *x = blend(T::ZERO, T::ZERO, beta, *x);
            }
        }
        return;
    }
    checked_strides(
        "A",
        a.data.len(),
        a.offset,
        m,
        k,
        a.row_stride,
        a.col_stride,
    );
    checked_strides(
        "B",
        b.data.len(),
        b.offset,
        k,
        n,
        b.row_stride,
        b.col_stride,
    );
    if m * k * n <= SMALL_GEMM {
        small_products(m, k, n, a, b, |i, j, acc| {
            let out = c.at_mut(i, j);
            // With β = 0 the old value is ignored (even NaN), as in BLAS.
            *out = blend(alpha, acc, beta, *out);
        });
        return;
    }
    if T::gemm_narrow(m, k, n, alpha, a, b, beta, c.reborrow()) {
        return;
    }
    library_gemm(m, k, n, alpha, a, b, beta, c);
}

/// `α·value + β·old`, where `β = 0` ignores `old` (even NaN), as in BLAS.
#[inline(always)]
pub(crate) fn blend<T: Element>(alpha: T, value: T, beta: T, old: T) -> T {
    if beta == T::ZERO {
        alpha * value
    } else {
        alpha * value + beta * old
    }
}

/// Products with at most this many multiply-adds (`m·k·n`) skip the
/// library: its packing buffers are allocated on every call, a fixed cost
/// that a tiny product never earns back against a few instructions per
/// multiply-add in the plain loop below. Micrograd-sized layers (W5, at
/// most 4×4) live here (docs/benchmarks.md, "Figures behind the code").
pub(crate) const SMALL_GEMM: usize = 512;

/// `A·B` for a tiny product (`m·k·n <= SMALL_GEMM`) as a new row-major
/// vector, built by pushing: unlike a zero-filled output (`calloc`) and a
/// second pass, one allocation and one write per element.
pub(crate) fn small_product<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(m * n);
    small_products(m, k, n, a, b, |_, _, acc| out.push(acc));
    out
}

/// The plain safe loop for tiny products: hands each `(i, j, Σₚ A[i,p]·B[p,j])`
/// to `store`, row by row, reading every operand through its strides.
/// Summation runs over `p` in order, like the library's kernels.
#[inline(always)]
fn small_products<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    mut store: impl FnMut(usize, usize, T),
) {
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::ZERO;
            for p in 0..k {
                acc += a.at(i, p) * b.at(p, j);
            }
            store(i, j, acc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    c[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        c
    }

    fn mat<T>(data: &[T], offset: usize, rs: usize, cs: usize) -> MatRef<'_, T> {
        MatRef {
            data,
            offset,
            row_stride: rs,
            col_stride: cs,
        }
    }

    #[test]
    fn matches_naive_for_row_major_and_transposed_operands() {
        let (m, k, n) = (3, 4, 2);
        let a: Vec<f64> = (0..m * k).map(|v| v as f64 * 0.5 - 1.0).collect();
        let b: Vec<f64> = (0..k * n).map(|v| 2.0 - v as f64).collect();
        let want = naive(m, k, n, &a, &b);
        // B stored transposed (n × k row-major), read with swapped strides.
        let bt: Vec<f64> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        for (bm, rs, cs) in [(&b, n, 1), (&bt, 1, k)] {
            let mut c = vec![f64::NAN; m * n];
            let out = MatMut {
                data: &mut c,
                offset: 0,
                row_stride: n,
                col_stride: 1,
            };
            gemm(m, k, n, 1.0, mat(&a, 0, k, 1), mat(bm, 0, rs, cs), 0.0, out);
            assert_eq!(c, want);
        }
    }

    #[test]
    fn small_and_library_paths_agree_on_strided_operands() {
        // 8·8·9 = 576 > SMALL_GEMM goes to the library, 4·4·4 does not.
        for (m, k, n) in [(4, 4, 4), (8, 8, 9), (1, 3, 4), (5, 1, 2)] {
            let a: Vec<f64> = (0..m * k).map(|v| (v as f64 * 0.37).sin()).collect();
            let bt: Vec<f64> = (0..n * k).map(|v| (v as f64 * 0.11).cos()).collect();
            // B is read transposed from a n × k buffer.
            let b: Vec<f64> = (0..k * n).map(|i| bt[(i % n) * k + i / n]).collect();
            let want = naive(m, k, n, &a, &b);
            let mut c = vec![1.0; m * n];
            let out = MatMut {
                data: &mut c,
                offset: 0,
                row_stride: n,
                col_stride: 1,
            };
            gemm(m, k, n, 2.0, mat(&a, 0, k, 1), mat(&bt, 0, 1, k), 0.5, out);
            for (got, w) in c.iter().zip(&want) {
                assert!((got - (2.0 * w + 0.5)).abs() < 1e-12, "{m}x{k}x{n}");
            }
        }
    }

    #[test]
    fn empty_inner_dim_zero_fills_or_scales() {
        let empty: [f32; 0] = [];
        for (beta, want) in [(0.0f32, [0.0f32; 4]), (2.0, [2.0, 4.0, 6.0, 8.0])] {
            // With β = 0 even NaN in C must become 0.
            let mut c = if beta == 0.0 {
                vec![f32::NAN; 4]
            } else {
                vec![1.0, 2.0, 3.0, 4.0]
            };
            let out = MatMut {
                data: &mut c,
                offset: 0,
                row_stride: 2,
                col_stride: 1,
            };
            gemm(
                2,
                0,
                2,
                1.0,
                mat(&empty, 0, 0, 1),
                mat(&empty, 0, 2, 1),
                beta,
                out,
            );
            assert_eq!(c, want);
        }
    }

    #[test]
    #[should_panic(expected = "exceeds its buffer")]
    fn out_of_bounds_operand_is_refused() {
        let a = vec![1.0f32; 5]; // a 2x3 matrix needs 6
        let b = vec![1.0f32; 3];
        let mut c = vec![0.0f32; 2];
        let out = MatMut {
            data: &mut c,
            offset: 0,
            row_stride: 1,
            col_stride: 1,
        };
        gemm(2, 3, 1, 1.0, mat(&a, 0, 3, 1), mat(&b, 0, 1, 1), 0.0, out);
    }

    #[test]
    #[should_panic(expected = "alias")]
    fn aliasing_output_is_refused() {
        let a = vec![1.0f32; 4];
        let mut c = vec![0.0f32; 4];
        let out = MatMut {
            data: &mut c,
            offset: 0,
            row_stride: 1,
            col_stride: 1,
        };
        gemm(2, 2, 2, 1.0, mat(&a, 0, 2, 1), mat(&a, 0, 2, 1), 0.0, out);
    }

    #[test]
    fn aliasing_rule_accepts_row_and_column_major() {
        assert!(non_aliasing(3, 4, 4, 1));
        assert!(non_aliasing(3, 4, 1, 3));
        assert!(non_aliasing(3, 4, 5, 1)); // padded rows
        assert!(!non_aliasing(3, 4, 0, 1));
        assert!(!non_aliasing(3, 4, 2, 1));
        assert!(non_aliasing(1, 4, 0, 1));
    }
}
