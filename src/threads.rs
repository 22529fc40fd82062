//! How many threads a large kernel (matmul) may use.
//!
//! Small ops always run on the calling thread: for them, waking a second
//! thread costs more than the work. Only a product big enough to amortise
//! a thread start (see [`crate::kernels::gemm`]'s threshold) is split.

use std::sync::atomic::{AtomicUsize, Ordering};

/// 0 = not yet decided (read `TAPEGRAD_NUM_THREADS` on first use).
static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets the number of threads large matmuls may use, for the whole process
/// (`torch.set_num_threads`). `0` is treated as `1`.
///
/// The default is the `TAPEGRAD_NUM_THREADS` environment variable if set,
/// else the number of CPUs the process may use.
///
/// ```
/// tapegrad::set_num_threads(1);
/// assert_eq!(tapegrad::get_num_threads(), 1);
/// ```
pub fn set_num_threads(n: usize) {
    NUM_THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The number of threads large matmuls may use (`torch.get_num_threads`).
pub fn get_num_threads() -> usize {
    match NUM_THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = default_threads();
            NUM_THREADS.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

fn default_threads() -> usize {
    std::env::var("TAPEGRAD_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}
