//! `f32` products with a narrow side (at most [`MAX_NARROW`] columns, or
//! rows, of the result): the logits of a classifier (`X·W`, 10 classes)
//! and their weight gradient (`Xᵀ·G`).
//!
//! `matrixmultiply` computes 16 columns at a time and first copies
//! ("packs") both operands into panels; with 10 output columns and a large
//! `X` that does not change between steps, the copy of `X` and the unused
//! columns cost more than the arithmetic. These kernels read `A` in place
//! and keep a block of the result in registers, in two layouts:
//!
//! * [`rows_times_narrow`]: rows of `A` contiguous (`X·W`): four rows of
//!   `C` at a time, `C[i, :] += A[i, p]·B[p, :]` over a copy of `B` padded
//!   to 16 columns (two 8-lane registers per row).
//! * [`columns_times_narrow`]: columns of `A` contiguous (`Xᵀ·G`, where `A`
//!   is the transposed view of `X`): 16 rows × 5 columns of `C` at a time,
//!   `C[:, j] += A[:, p]·B[p, j]` (two registers × five columns).
//!
//! Each sum runs over `p` in order, one fused multiply-add per term, so
//! the result does not depend on how the work is blocked or threaded.
//! Against `matrixmultiply` they roughly halve both products of W1
//! (docs/benchmarks.md, "Phase 3", `engine -- K`). The kernels only pay
//! off with AVX2 + FMA ([`super::simd`]); without them, [`gemm_narrow`]
//! declines and the library runs.

use super::gemm::{blend, MatMut, MatRef};
use super::simd;
use super::vector_math::madd;

/// The widest narrow side these kernels take.
pub(crate) const MAX_NARROW: usize = 16;

/// Products smaller than this many multiply-adds stay with the library
/// (the narrow kernels' setup, a padded copy of `B`, is not worth it).
const MIN_WORK: usize = 4096;

/// `m × k` times `k × n`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dims {
    pub(crate) m: usize,
    pub(crate) k: usize,
    pub(crate) n: usize,
}

/// `B` (`k × n`, `n ≤ 16`) copied into `k` rows of 16, zero-padded.
pub(crate) fn pack_narrow(k: usize, n: usize, b: MatRef<'_, f32>) -> Vec<f32> {
    let mut packed = vec![0.0; k * MAX_NARROW];
    for (p, row) in packed.chunks_exact_mut(MAX_NARROW).enumerate() {
        for (j, v) in row[..n].iter_mut().enumerate() {
            *v = b.at(p, j);
        }
    }
    packed
}

/// `out ← A·B` with `out` row-major `m × n`, `A`'s rows contiguous
/// (column stride 1) and `B` given packed by [`pack_narrow`].
#[inline(always)]
pub(crate) fn rows_times_narrow<const FMA: bool>(
    shape: Dims,
    a: MatRef<'_, f32>,
    packed_b: &[f32],
    out: &mut [f32],
) {
    let mut i = 0;
    while i + 4 <= shape.m {
        rows_block::<4, FMA>(shape, i, a, packed_b, out);
        i += 4;
    }
    while i < shape.m {
        rows_block::<1, FMA>(shape, i, a, packed_b, out);
        i += 1;
    }
}

#[inline(always)]
fn rows_block<const R: usize, const FMA: bool>(
    Dims { k, n, .. }: Dims,
    i: usize,
    a: MatRef<'_, f32>,
    packed_b: &[f32],
    out: &mut [f32],
) {
    let rows: [&[f32]; R] = std::array::from_fn(|r| {
        let start = a.offset + (i + r) * a.row_stride;
        &a.data[start..start + k]
    });
    let mut acc = [[0.0f32; MAX_NARROW]; R];
    for (p, b) in packed_b.chunks_exact(MAX_NARROW).take(k).enumerate() {
        for r in 0..R {
            let x = rows[r][p];
            for (c, &b) in acc[r].iter_mut().zip(b) {
                *c = madd::<FMA>(x, b, *c);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        out[(i + r) * n..(i + r + 1) * n].copy_from_slice(&acc[..n]);
    }
}

/// Columns of `C` computed together by [`columns_times_narrow`].
const COLUMN_BLOCK: usize = 5;

/// `out_t ← (A·B)ᵀ`, i.e. `out_t` is `n × m` row-major, with `A`'s columns
/// contiguous (row stride 1).
#[inline(always)]
pub(crate) fn columns_times_narrow<const FMA: bool>(
    shape: Dims,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    out_t: &mut [f32],
) {
    for j in (0..shape.n).step_by(COLUMN_BLOCK) {
        let mut i = 0;
        while i + 16 <= shape.m {
            columns_block::<16, FMA>(shape, i, j, a, b, out_t);
            i += 16;
        }
        while i + 8 <= shape.m {
            columns_block::<8, FMA>(shape, i, j, a, b, out_t);
            i += 8;
        }
        while i < shape.m {
            columns_block::<1, FMA>(shape, i, j, a, b, out_t);
            i += 1;
        }
    }
}

#[inline(always)]
fn columns_block<const W: usize, const FMA: bool>(
    Dims { m, k, n }: Dims,
    i: usize,
    j: usize,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    out_t: &mut [f32],
) {
    let width = (n - j).min(COLUMN_BLOCK);
    let mut acc = [[0.0f32; W]; COLUMN_BLOCK];
    for p in 0..k {
        let start = a.offset + p * a.col_stride + i;
        let column: &[f32; W] = a.data[start..start + W].try_into().expect("W elements");
        for (q, acc) in acc.iter_mut().enumerate() {
            // Past the last column, repeat it (discarded below) rather than
            // branch inside the loop.
            let y = b.at(p, j + q.min(width - 1));
            for (c, &x) in acc.iter_mut().zip(column) {
                *c = madd::<FMA>(x, y, *c);
            }
        }
    }
    for (q, acc) in acc.iter().take(width).enumerate() {
        let start = (j + q) * m + i;
        out_t[start..start + W].copy_from_slice(acc);
    }
}

/// `C ← α·A·B + β·C` through a narrow kernel when one applies: `f32`, AVX2 +
/// FMA available, `n ≤ 16` (or `m ≤ 16`, computing `Cᵀ = Bᵀ·Aᵀ`), enough
/// work, and `A`'s rows or columns contiguous. Returns `false` (having
/// done nothing) otherwise. Operand bounds were checked by the caller.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_narrow(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: MatRef<'_, f32>,
    b: MatRef<'_, f32>,
    beta: f32,
    c: MatMut<'_, f32>,
) -> bool {
    if m.saturating_mul(k).saturating_mul(n) < MIN_WORK || !simd::has_avx2_fma() {
        return false;
    }
    if n > MAX_NARROW {
        if m > MAX_NARROW {
            return false;
        }
        // Cᵀ = Bᵀ·Aᵀ: the same product with the roles and strides swapped.
        return gemm_narrow(n, k, m, alpha, b.t(), a.t(), beta, c.t());
    }
    let shape = Dims { m, k, n };
    if a.col_stride == 1 {
        let packed = pack_narrow(k, n, b);
        if alpha == 1.0 && beta == 0.0 && c.col_stride == 1 && c.row_stride == n {
            let out = &mut c.data[c.offset..c.offset + m * n];
            simd::rows_times_narrow(shape, a, &packed, out);
        } else {
            let mut out = vec![0.0; m * n];
            simd::rows_times_narrow(shape, a, &packed, &mut out);
            store(m, n, alpha, beta, c, |i, j| out[i * n + j]);
        }
        true
    } else if a.row_stride == 1 {
        let mut out_t = vec![0.0; n * m];
        simd::columns_times_narrow(shape, a, b, &mut out_t);
        store(m, n, alpha, beta, c, |i, j| out_t[j * m + i]);
        true
    } else {
        false
    }
}

/// `C[i, j] ← α·value(i, j) + β·C[i, j]` (see [`blend`]).
fn store(
    m: usize,
    n: usize,
    alpha: f32,
    beta: f32,
    mut c: MatMut<'_, f32>,
    value: impl Fn(usize, usize) -> f32,
) {
    for i in 0..m {
        for j in 0..n {
            let out = c.at_mut(i, j);
            *out = blend(alpha, value(i, j), beta, *out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A·B` in f64 from element functions.
    fn reference(
        d: Dims,
        a: impl Fn(usize, usize) -> f32,
        b: impl Fn(usize, usize) -> f32,
    ) -> Vec<f64> {
        let mut c = vec![0.0; d.m * d.n];
        for i in 0..d.m {
            for j in 0..d.n {
                c[i * d.n + j] = (0..d.k)
                    .map(|p| f64::from(a(i, p)) * f64::from(b(p, j)))
                    .sum();
            }
        }
        c
    }

    fn mat(data: &[f32], row_stride: usize, col_stride: usize) -> MatRef<'_, f32> {
        MatRef {
            data,
            offset: 0,
            row_stride,
            col_stride,
        }
    }

    fn mat_mut(data: &mut [f32], row_stride: usize, col_stride: usize) -> MatMut<'_, f32> {
        MatMut {
            data,
            offset: 0,
            row_stride,
            col_stride,
        }
    }

    fn values(len: usize, seed: f32) -> Vec<f32> {
        (0..len).map(|i| (i as f32 * seed).sin()).collect()
    }

    fn assert_close(got: &[f32], want: &[f64], k: usize, what: &str) {
        assert_eq!(got.len(), want.len());
        for (idx, (g, w)) in got.iter().zip(want).enumerate() {
            // k terms of size ≤ 1, each rounded once.
            let tol = 2.0 * k as f64 * f64::from(f32::EPSILON) + 1e-30;
            assert!(
                (f64::from(*g) - w).abs() <= tol,
                "{what} [{idx}]: {g} vs {w}"
            );
        }
    }

    const SHAPES: [(usize, usize, usize); 7] = [
        (1, 1, 1),
        (3, 5, 2),
        (4, 8, 16),
        (9, 1, 10),
        (17, 13, 7),
        (37, 64, 10),
        (40, 0, 3),
    ];

    fn check_both_kernels<const FMA: bool>() {
        for (m, k, n) in SHAPES {
            let d = Dims { m, k, n };
            let b = values(k * n + 3, 0.71);
            // B stored transposed, as for `x·Wᵀ`.
            let bs = MatRef {
                offset: 3,
                ..mat(&b, 1, k)
            };
            let a_rows = values(2 + m * (k + 1), 0.37); // rows padded by 1
            let rows = MatRef {
                offset: 2,
                ..mat(&a_rows, k + 1, 1)
            };
            let want = reference(d, |i, p| a_rows[2 + i * (k + 1) + p], |p, j| bs.at(p, j));
            let mut out = vec![f32::NAN; m * n];
            rows_times_narrow::<FMA>(d, rows, &pack_narrow(k, n, bs), &mut out);
            assert_close(&out, &want, k, &format!("rows {m}x{k}x{n}"));

            let a_cols = values(1 + k * (m + 2), 0.53); // columns padded by 2
            let columns = MatRef {
                offset: 1,
                ..mat(&a_cols, 1, m + 2)
            };
            let want = reference(d, |i, p| a_cols[1 + p * (m + 2) + i], |p, j| bs.at(p, j));
            let mut out_t = vec![f32::NAN; n * m];
            columns_times_narrow::<FMA>(d, columns, bs, &mut out_t);
            let out: Vec<f32> = (0..m * n).map(|x| out_t[(x % n) * m + x / n]).collect();
            assert_close(&out, &want, k, &format!("columns {m}x{k}x{n}"));
        }
    }

    #[test]
    fn kernels_match_f64_reference_fused_and_unfused() {
        check_both_kernels::<true>();
        check_both_kernels::<false>();
    }

    #[test]
    fn gemm_narrow_handles_alpha_beta_strides_and_the_transposed_case() {
        // Shapes big enough for MIN_WORK; one narrow in n, one in m.
        for (m, k, n) in [(200, 30, 10), (10, 30, 200), (64, 100, 16)] {
            let a = values(m * k, 0.29);
            let b = values(k * n, 0.61);
            let want = reference(Dims { m, k, n }, |i, p| a[i * k + p], |p, j| b[p * n + j]);
            // A row-major and A column-major (read through a transposed copy).
            let a_t: Vec<f32> = (0..m * k).map(|x| a[(x % m) * k + x / m]).collect();
            for (a_mat, what) in [(mat(&a, k, 1), "rows"), (mat(&a_t, 1, m), "cols")] {
                let b_mat = mat(&b, n, 1);
                // C column-major, β = 0.5 on a C of ones, α = 2.
                let mut c = vec![1.0f32; m * n];
                let c_mat = mat_mut(&mut c, 1, m);
                if !gemm_narrow(m, k, n, 2.0, a_mat, b_mat, 0.5, c_mat) {
                    assert!(!simd::has_avx2_fma(), "declined {what} {m}x{k}x{n}");
                    continue;
                }
                let got: Vec<f32> = (0..m * n).map(|x| c[(x % n) * m + x / n]).collect();
                let want: Vec<f64> = want.iter().map(|w| 2.0 * w + 0.5).collect();
                assert_close(&got, &want, 2 * k, &format!("{what} {m}x{k}x{n}"));
            }
        }
    }

    #[test]
    fn declines_wide_products_and_scattered_operands() {
        let a = vec![1.0f32; 64 * 64];
        let wide = mat(&a, 64, 1);
        let mut c = vec![0.0f32; 64 * 64];
        let out = mat_mut(&mut c, 64, 1);
        assert!(!gemm_narrow(64, 64, 64, 1.0, wide, wide, 0.0, out));
        // Neither rows nor columns of A contiguous.
        let scattered = mat(&a, 128, 2);
        let b = mat(&a, 10, 1);
        let mut c = vec![0.0f32; 32 * 10];
        let out = mat_mut(&mut c, 10, 1);
        assert!(!gemm_narrow(32, 32, 10, 1.0, scattered, b, 0.0, out));
    }
}
