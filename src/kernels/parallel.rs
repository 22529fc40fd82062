//! Splitting one large GEMM across threads, by blocks of rows of `C` (tall
//! products) or of columns (short, wide ones).
//!
//! Safe code only: each thread writes a disjoint `&mut` block (rows of `C`
//! from `chunks_mut`, or a buffer of its own for a block of columns, copied
//! into `C` afterwards), reads shared `&` views of `A` and `B`, and calls
//! the same bounds-checked [`gemm`] as the single-threaded path, so every
//! element is computed exactly as it would be on one thread.
//!
//! The calling thread computes the first block and a persistent rayon pool
//! (one worker fewer than the CPUs) the others: starting a thread per call
//! (`std::thread::scope`) cost more than W4 n = 256 could gain from it
//! (docs/benchmarks.md, "Threads"). Handing work to a worker
//! still costs some microseconds, so only products of at least
//! [`PARALLEL_MIN_WORK`] multiply-adds are split, and never into blocks of
//! fewer than [`MIN_ROWS_PER_THREAD`] rows: small work always stays on the
//! calling thread, so it is never slower with more threads (see
//! docs/benchmarks.md, W4 and "Threads").

use std::sync::OnceLock;

use super::element::KernelElement;
use super::gemm::{gemm, MatMut, MatRef};

/// Worker threads that help the calling thread: one fewer than the CPUs, so
/// caller plus helpers fill the machine without oversubscribing it. Started
/// once, on the first split product, and kept (rayon parks idle workers).
fn helpers() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(cpus.saturating_sub(1).max(1))
            .thread_name(|i| format!("tapegrad-gemm-{i}"))
            .build()
            .expect("tapegrad: could not start the matmul worker threads")
    })
}

/// Products below this many multiply-adds run on the calling thread. The
/// batch-64 MLP step of docs/benchmarks.md (W2) has two 64×784×256 products
/// (12.8 M) and several of 2.1 M: splitting the two large ones pays, while
/// a threshold of 2²¹ or 2²², which also splits the 2.1 M products, made
/// the step slower on 2 threads than on one (docs/benchmarks.md,
/// "Threads" and "Figures behind the code").
pub(crate) const PARALLEL_MIN_WORK: usize = 1 << 23;

/// Blocks of fewer rows (or columns) than this are not worth a thread (the
/// GEMM kernel works on 16-wide panels).
pub(crate) const MIN_ROWS_PER_THREAD: usize = 32;

/// How many threads a `m × k × n` product should use, given the limit
/// [`crate::get_num_threads`].
pub(crate) fn threads_for(m: usize, k: usize, n: usize) -> usize {
    let work = m.saturating_mul(k).saturating_mul(n);
    if work < PARALLEL_MIN_WORK {
        return 1;
    }
    crate::threads::get_num_threads()
        .min(m.max(n) / MIN_ROWS_PER_THREAD)
        .max(1)
}

/// `C ← A·B` (α = 1, β = 0) with `C` a row-major `m × n` slice (row stride
/// `n`, column stride 1), split into `threads` blocks of rows or columns.
pub(crate) fn gemm_split<T: KernelElement + Send + Sync>(
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
) {
    let whole = |rows: usize, row0: usize, block: &mut [T]| {
        let a_block = MatRef {
            offset: a.offset + row0 * a.row_stride,
            ..a
        };
        gemm(
            rows,
            k,
            n,
            T::ONE,
            a_block,
            b,
            T::ZERO,
            MatMut::row_major(block, n),
        );
    };
    if threads <= 1 || n == 0 {
        whole(m, 0, c);
        return;
    }
    if split_by_rows(threads, m, k, n) {
        split_rows(threads, m, n, c, &whole);
    } else {
        split_cols(threads, m, k, n, a, b, c);
    }
}

/// Whether to split `C` by rows rather than by columns. A row split makes
/// every worker pack all of `B` (`k·n` elements each); a column split makes
/// every worker pack all of `A` (`k·m`) and write its block into a buffer
/// that is then copied into `C` (`2·m·n`). Take the cheaper, as long as
/// each thread gets [`MIN_ROWS_PER_THREAD`] rows (or columns).
///
/// Why not simply the longer side: the weight gradient of W2's first layer
/// at batch 64 (`gᵀ·x`, 256×64×784) is wide, but its `B` is only 64×784;
/// split by columns it was slower on 2 threads than on one (each worker
/// packed all of `A`, and its block was copied into `C`; docs/benchmarks.md,
/// "Phase 3", the two-thread split).
fn split_by_rows(threads: usize, m: usize, k: usize, n: usize) -> bool {
    if m / threads < MIN_ROWS_PER_THREAD {
        return false;
    }
    if n / threads < MIN_ROWS_PER_THREAD {
        return true;
    }
    let rows_cost = k.saturating_mul(n);
    let cols_cost = k
        .saturating_mul(m)
        .saturating_add(m.saturating_mul(n).saturating_mul(2));
    rows_cost <= cols_cost
}

/// Row blocks of `C` are disjoint slices: each worker writes its own. Every
/// worker packs all of `B`, so this suits tall products.
fn split_rows<T: KernelElement + Send + Sync>(
    threads: usize,
    m: usize,
    n: usize,
    c: &mut [T],
    whole: &(dyn Fn(usize, usize, &mut [T]) + Sync),
) {
    let rows_per = m.div_ceil(threads);
    run_blocks(c.chunks_mut(rows_per * n).enumerate(), &|(i, block): (
        usize,
        &mut [T],
    )| {
        whole(block.len() / n, i * rows_per, block)
    });
}

/// Runs `work` on every job: the calling thread takes the first job itself,
/// the pool's workers the others; returns when all are done.
fn run_blocks<J: Send>(mut jobs: impl Iterator<Item = J>, work: &(dyn Fn(J) + Sync)) {
    helpers().in_place_scope(|scope| {
        let first = jobs.next();
        for job in jobs {
            scope.spawn(move |_| work(job));
        }
        if let Some(job) = first {
            work(job);
        }
    });
}

/// Column blocks: each worker packs only its share of `B` (and all of the
/// short `A`) and computes into a buffer of its own; the blocks are then
/// copied into `C`'s rows.
fn split_cols<T: KernelElement + Send + Sync>(
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
) {
    let cols_per = n.div_ceil(threads);
    let blocks: Vec<(usize, usize)> = (0..n)
        .step_by(cols_per)
        .map(|j0| (j0, cols_per.min(n - j0)))
        .collect();
    // Every element of a block is written (β = 0): reused buffers need no zero-fill.
    let mut buffers: Vec<Vec<T>> = blocks
        .iter()
        .map(|&(_, w)| crate::tensor::cache::scratch::<T>(m * w))
        .collect();
    let product = |(j0, w): (usize, usize), out: &mut [T]| {
        let b_block = MatRef {
            offset: b.offset + j0 * b.col_stride,
            ..b
        };
        gemm(
            m,
            k,
            w,
            T::ONE,
            a,
            b_block,
            T::ZERO,
            MatMut::row_major(out, w),
        );
    };
    run_blocks(blocks.iter().copied().zip(buffers.iter_mut()), &|(
        block,
        out,
    )| {
        product(block, out)
    });
    for (&(j0, w), out) in blocks.iter().zip(&buffers) {
        for (row, src) in c.chunks_mut(n).zip(out.chunks(w)) {
            row[j0..j0 + w].copy_from_slice(src);
        }
    }
    for buffer in buffers {
        crate::tensor::cache::recycle(buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_product_equals_the_single_threaded_one_bit_for_bit() {
        // Tall (split by rows) and wide (split by columns).
        for (m, k, n) in [(70, 33, 45), (40, 21, 100)] {
            check_split(m, k, n);
        }
    }

    fn check_split(m: usize, k: usize, n: usize) {
        let a: Vec<f32> = (0..m * k)
            .map(|v| ((v * 7 % 13) as f32) * 0.25 - 1.0)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|v| ((v * 5 % 11) as f32) * 0.5 - 2.0)
            .collect();
        let am = MatRef {
            data: &a,
            offset: 0,
            row_stride: k,
            col_stride: 1,
        };
        let bm = MatRef {
            data: &b,
            offset: 0,
            row_stride: n,
            col_stride: 1,
        };
        let mut one = vec![f32::NAN; m * n];
        gemm_split(1, m, k, n, am, bm, &mut one);
        for threads in [2, 3, 4, 70, 100] {
            let mut many = vec![f32::NAN; m * n];
            gemm_split(threads, m, k, n, am, bm, &mut many);
            assert_eq!(
                one.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                many.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{threads} threads"
            );
        }
    }

    #[test]
    fn the_split_side_follows_the_packing_and_copy_costs() {
        // W2's first-layer weight gradient: wide, but B is only 64×784.
        assert!(split_by_rows(2, 256, 64, 784));
        // W2's first-layer forward at batch 64: 32 rows per thread would
        // each pack all of the 784×256 B.
        assert!(!split_by_rows(2, 64, 784, 256));
        // Square products, tall ones, and too few rows per thread.
        assert!(split_by_rows(2, 1024, 1024, 1024));
        assert!(split_by_rows(2, 784, 64, 256));
        assert!(!split_by_rows(2, 40, 1000, 1000));
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        assert_eq!(threads_for(64, 64, 64), 1);
        assert_eq!(threads_for(1000, 1000, 1), 1);
        // W2's batch-64 hidden layers (2.1 M multiply-adds) stay on one thread.
        assert_eq!(threads_for(64, 256, 128), 1);
        // Both sides of C short: not split whatever the work.
        assert_eq!(threads_for(16, 100_000, 16), 1);
        // A short, wide product splits (by columns).
        assert_eq!(
            threads_for(16, 100_000, 100_000).min(2),
            2.min(crate::get_num_threads())
        );
    }
}
