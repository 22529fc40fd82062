//! Runtime dispatch to AVX2 + FMA builds of a few hot `f32` loops.
//!
//! The crate is compiled for its target's baseline (on x86-64: SSE2, no
//! FMA), so an ordinary loop runs four lanes wide with a separate multiply
//! and add. The loops listed here are compiled twice: once for the
//! baseline, once inside a `#[target_feature(enable = "avx2,fma")]`
//! function (eight lanes, fused multiply-add); each call picks one by the
//! CPU it runs on (`is_x86_feature_detected!` caches its answer). Their
//! bodies are ordinary safe Rust in [`super::vector_math`] and
//! [`super::narrow`], generic over whether `mul_add` is fused; this module
//! holds only the dispatch.
//!
//! Why `unsafe` is allowed here: calling a `target_feature` function on a
//! CPU without those features is undefined behaviour, so the call itself is
//! unsafe. Every such call below sits behind [`has_avx2_fma`]. Nothing
//! else in this module is unsafe.
//!
//! Why bother: a classifier's products and its softmax rows run about
//! twice as fast with AVX2 + FMA as in the baseline build
//! (`cargo bench --bench engine -- K` against the same run with
//! `TAPEGRAD_CPU_CAPABILITY=default`; figures in docs/benchmarks.md,
//! "Phase 3").
#![allow(unsafe_code)]

use super::gemm::MatRef;
use super::{narrow, vector_math};

/// True when the running CPU has AVX2 and FMA and the environment variable
/// `TAPEGRAD_CPU_CAPABILITY` is not `default`.
///
/// `TAPEGRAD_CPU_CAPABILITY=default` (read once per process, like
/// PyTorch's `ATEN_CPU_CAPABILITY=default`) keeps every kernel on its
/// baseline build and `matrixmultiply`: to compare the two
/// (docs/benchmarks.md) or to rule the vectorised kernels out when chasing
/// a numerical difference.
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| {
        let baseline_only = std::env::var("TAPEGRAD_CPU_CAPABILITY").is_ok_and(|v| v == "default");
        !baseline_only && cpu_has_avx2_fma()
    })
}

fn cpu_has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `pub(crate) fn $name(args)` that runs `$module::$body::<true>(args)`
/// compiled with AVX2 + FMA when the CPU has them, else
/// `$module::$body::<false>(args)` compiled for the baseline.
macro_rules! multiversion {
    ($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $module:ident::$body:ident) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn fast($($arg: $ty),*) {
                    $module::$body::<true>($($arg),*)
                }
                if has_avx2_fma() {
                    // SAFETY: `fast` only requires the CPU to support AVX2
                    // and FMA, which `has_avx2_fma` has just confirmed.
                    return unsafe { fast($($arg),*) };
                }
            }
            $module::$body::<false>($($arg),*)
        }
    };
}

multiversion! {
    /// See [`vector_math::softmax_rows`].
    fn softmax_rows(
        x: &[f32],
        classes: usize,
        probs: &mut [f32],
        maxes: &mut [f32],
        log_sums: &mut [f32],
    ) => vector_math::softmax_rows
}

multiversion! {
    /// See [`narrow::rows_times_narrow`].
    fn rows_times_narrow(
        shape: narrow::Dims,
        a: MatRef<'_, f32>,
        packed_b: &[f32],
        out: &mut [f32],
    ) => narrow::rows_times_narrow
}

multiversion! {
    /// See [`narrow::columns_times_narrow`].
    fn columns_times_narrow(
        shape: narrow::Dims,
        a: MatRef<'_, f32>,
        b: MatRef<'_, f32>,
        out_t: &mut [f32],
    ) => narrow::columns_times_narrow
}

#[cfg(test)]
mod tests {
    #[test]
    fn dispatch_matches_the_baseline_build_within_an_ulp() {
        // Whatever this CPU picks, both builds compute the same softmax up
        // to the rounding of a fused multiply-add.
        let x: Vec<f32> = (0..70).map(|i| (i as f32 * 0.73).sin() * 9.0).collect();
        let (mut p1, mut p2) = (vec![0.0; 70], vec![0.0; 70]);
        let (mut m1, mut m2) = (vec![0.0; 7], vec![0.0; 7]);
        let (mut l1, mut l2) = (vec![0.0; 7], vec![0.0; 7]);
        super::softmax_rows(&x, 10, &mut p1, &mut m1, &mut l1);
        super::vector_math::softmax_rows::<false>(&x, 10, &mut p2, &mut m2, &mut l2);
        assert_eq!(m1, m2);
        for (a, b) in p1.iter().zip(&p2).chain(l1.iter().zip(&l2)) {
            assert!((a - b).abs() <= 2.0 * f32::EPSILON * b.abs(), "{a} vs {b}");
        }
    }
}
