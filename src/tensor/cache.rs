//! A per-thread cache of large tensor buffers, reused by size.
//!
//! A training step frees and allocates the same large buffers every time
//! (activations, logits, gradients). Left to glibc, that costs page faults:
//! blocks of 128 KiB and more are `mmap`ed and unmapped on every step, and
//! freeing smaller ones at the top of the heap returns their pages to the
//! system, so the next step touches fresh pages again: a large part of the
//! softmax regression step (W1) went to page faults (docs/benchmarks.md,
//! "Phase 3", why a buffer cache). The cache keeps freed buffers of at least
//! [`MIN_BYTES`] and hands one back when a kernel asks for a buffer of
//! exactly that length (PyTorch's CUDA allocator caches the same way; see
//! [`empty_cache`] for its `torch.cuda.empty_cache`).
//!
//! It holds at most [`MAX_BYTES`] per thread, oldest buffers evicted first.
//! Each thread has its own cache, like its own tape (tensors never cross
//! threads); a thread's cache is freed when the thread ends.

use std::cell::RefCell;

use crate::dtype::private::Family;
use crate::dtype::Scalar;

/// Smaller buffers go straight back to the allocator, which serves them
/// quickly from its own free lists.
pub(crate) const MIN_BYTES: usize = 16 * 1024;

/// The most a thread's cache holds.
pub(crate) const MAX_BYTES: usize = 64 * 1024 * 1024;

/// The most buffers of one dtype a thread's cache holds, which bounds the
/// search for a matching length.
const MAX_ENTRIES: usize = 128;

/// Freed buffers per dtype, oldest first.
#[derive(Debug)]
pub(crate) struct Cache {
    f32: Vec<Vec<f32>>,
    f64: Vec<Vec<f64>>,
    i64: Vec<Vec<i64>>,
    bytes: usize,
}

impl Cache {
    const fn new() -> Cache {
        Cache {
            f32: Vec::new(),
            f64: Vec::new(),
            i64: Vec::new(),
            bytes: 0,
        }
    }
}

/// The list of buffers of `T`.
#[inline]
fn list<T: Scalar>(cache: &mut Cache) -> &mut Vec<Vec<T>> {
    let (f32s, f64s, i64s) = (&mut cache.f32, &mut cache.f64, &mut cache.i64);
    if let Some(list) = T::if_f32::<Lists<'_>>(f32s) {
        return list;
    }
    if let Some(list) = T::if_f64::<Lists<'_>>(f64s) {
        return list;
    }
    T::if_i64::<Lists<'_>>(i64s).expect("Scalar is f32, f64 or i64")
}

/// The per-dtype lists, for the element-type witnesses of `Scalar`.
struct Lists<'a>(std::marker::PhantomData<&'a ()>);
impl<'a> Family for Lists<'a> {
    type Of<T: 'static> = &'a mut Vec<Vec<T>>;
}

thread_local! {
    static CACHE: RefCell<Cache> = const { RefCell::new(Cache::new()) };
}

fn bytes_of<T>(capacity: usize) -> usize {
    capacity.saturating_mul(std::mem::size_of::<T>())
}

/// Takes back a buffer whose tensor storage is being dropped. Small or
/// huge buffers, and any buffer while the thread is shutting down, are
/// simply freed.
#[inline]
pub(crate) fn recycle<T: Scalar>(buffer: Vec<T>) {
    // Most tensors are small: decide that here, inline, and keep the
    // thread-local lookup out of their path (W3 in docs/benchmarks.md).
    if bytes_of::<T>(buffer.capacity()) >= MIN_BYTES {
        keep(buffer);
    }
}

#[inline(never)]
fn keep<T: Scalar>(buffer: Vec<T>) {
    let bytes = bytes_of::<T>(buffer.capacity());
    if bytes > MAX_BYTES {
        return;
    }
    let _ = CACHE.try_with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return;
        };
        let cache = &mut *cache;
        let mut total = cache.bytes;
        let list = list::<T>(cache);
        while !list.is_empty() && (total + bytes > MAX_BYTES || list.len() >= MAX_ENTRIES) {
            let evicted = list.remove(0);
            total -= bytes_of::<T>(evicted.capacity());
        }
        if total + bytes <= MAX_BYTES {
            list.push(buffer);
            total += bytes;
        }
        cache.bytes = total;
    });
}

/// A cached buffer with capacity exactly `len`, if there is one: emptied,
/// or with `full` one whose length is also `len`, contents kept.
#[inline(never)]
fn take<T: Scalar>(len: usize, full: bool) -> Option<Vec<T>> {
    CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            let list = list::<T>(&mut cache);
            let at = list
                .iter()
                .rposition(|v| v.capacity() == len && (!full || v.len() == len))?;
            let mut buffer = list.remove(at);
            cache.bytes -= bytes_of::<T>(len);
            if !full {
                buffer.clear();
            }
            Some(buffer)
        })
        .ok()
        .flatten()
}

fn is_large<T>(len: usize) -> bool {
    bytes_of::<T>(len) >= MIN_BYTES
}

/// Whether a buffer of this capacity is one the cache would keep.
#[inline]
pub(crate) fn worth_keeping<T>(capacity: usize) -> bool {
    is_large::<T>(capacity)
}

/// An empty vector with room for `len` elements, from the cache if it
/// holds one of that size.
#[inline]
pub(crate) fn with_capacity<T: Scalar>(len: usize) -> Vec<T> {
    if is_large::<T>(len) {
        if let Some(buffer) = take(len, false) {
            return buffer;
        }
    }
    Vec::with_capacity(len)
}

/// The items of `iter` collected into a cached buffer if there is one of
/// that size (small results are collected as usual).
#[inline]
pub(crate) fn collect<T: Scalar>(iter: impl ExactSizeIterator<Item = T>) -> Vec<T> {
    let len = iter.len();
    if is_large::<T>(len) {
        if let Some(mut buffer) = take(len, false) {
            buffer.extend(iter);
            return buffer;
        }
    }
    iter.collect()
}

/// `len` elements of unspecified value (whatever a cached buffer held, or
/// zeros), for a caller that overwrites them all, such as a GEMM with
/// `β = 0`: a reused buffer then costs no `memset`.
#[inline]
pub(crate) fn scratch<T: Scalar>(len: usize) -> Vec<T> {
    if is_large::<T>(len) {
        if let Some(buffer) = take(len, true) {
            return buffer;
        }
    }
    vec![T::default(); len]
}

/// `len` zeros, in a cached buffer if there is one of that size.
#[inline]
pub(crate) fn zeroed<T: Scalar>(len: usize) -> Vec<T> {
    if is_large::<T>(len) {
        if let Some(mut buffer) = take(len, false) {
            buffer.resize(len, T::default());
            return buffer;
        }
    }
    vec![T::default(); len]
}

/// Frees every buffer the calling thread's cache holds (tensors that are
/// still alive are not affected), as `torch.cuda.empty_cache()` does for
/// PyTorch's GPU cache. The cache refills as tensors are dropped; call this
/// after a phase that used much more memory than what follows.
///
/// ```
/// let big = tapegrad::Tensor::zeros([1000, 1000]);
/// drop(big); // its 4 MB buffer is kept for the next tensor of that size
/// tapegrad::empty_cache(); // and now returned to the allocator
/// ```
pub fn empty_cache() {
    let _ = CACHE.try_with(|cache| {
        if let Ok(mut cache) = cache.try_borrow_mut() {
            *cache = Cache::new();
        }
    });
}

/// Bytes held by the calling thread's cache.
#[cfg(test)]
pub(crate) fn cached_bytes() -> usize {
    CACHE
        .try_with(|cache| cache.try_borrow().map_or(0, |c| c.bytes))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_buffer_is_reused_for_the_same_length_only() {
        empty_cache();
        let len = 10_000; // 40 kB of f32
        let mut v = zeroed::<f32>(len);
        v[7] = 3.0;
        let ptr = v.as_ptr();
        recycle(v);
        assert_eq!(cached_bytes(), 40_000);
        // Another length, or another dtype, takes nothing from the cache.
        drop(with_capacity::<f32>(len + 1));
        drop(zeroed::<f64>(len));
        assert_eq!(cached_bytes(), 40_000);
        let again = zeroed::<f32>(len);
        assert_eq!(again.as_ptr(), ptr);
        assert!(again.iter().all(|&x| x == 0.0), "a reused buffer is zeroed");
        assert_eq!(cached_bytes(), 0);
    }

    #[test]
    fn scratch_reuses_a_full_buffer_without_clearing_it() {
        empty_cache();
        let len = 5000;
        let v = vec![2.5f32; len];
        let ptr = v.as_ptr();
        recycle(v);
        let s = scratch::<f32>(len);
        assert_eq!((s.as_ptr(), s.len()), (ptr, len));
        assert!(s.iter().all(|&x| x == 2.5), "contents kept: no memset");
        assert!(
            scratch::<f32>(len).iter().all(|&x| x == 0.0),
            "fresh: zeros"
        );
    }

    #[test]
    fn small_and_oversized_buffers_are_not_kept() {
        empty_cache();
        recycle(vec![1.0f32; 100]);
        assert_eq!(cached_bytes(), 0);
        // Capacity counts, not length.
        let mut v = Vec::<f64>::with_capacity(MAX_BYTES / 8 + 1);
        v.push(1.0);
        recycle(v);
        assert_eq!(cached_bytes(), 0);
    }

    #[test]
    fn the_cache_stays_within_its_limits_evicting_the_oldest() {
        empty_cache();
        let len = MAX_BYTES / 16; // a quarter of the cache each (f32)
        let first = zeroed::<f32>(len);
        let first_ptr = first.as_ptr();
        recycle(first);
        assert_eq!(cached_bytes(), len * 4);
        for i in 1..=3 {
            recycle(zeroed::<f32>(len + i)); // the fourth is a little over
        }
        assert!(cached_bytes() <= MAX_BYTES);
        CACHE.with(|c| {
            let cache = c.borrow();
            assert_eq!(cache.f32.len(), 3);
            assert!(
                cache.f32.iter().all(|v| v.as_ptr() != first_ptr),
                "the oldest went first"
            );
        });
        empty_cache();
        for i in 0..MAX_ENTRIES + 10 {
            recycle(vec![0.0f32; 4096 + i]);
        }
        CACHE.with(|c| assert_eq!(c.borrow().f32.len(), MAX_ENTRIES));
        empty_cache();
        assert_eq!(cached_bytes(), 0);
    }

    #[test]
    fn dropping_a_tensor_fills_the_cache() {
        empty_cache();
        let t = crate::Tensor::zeros([100, 100]);
        drop(t);
        assert_eq!(cached_bytes(), 40_000);
        empty_cache();
    }
}
