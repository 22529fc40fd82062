//! Branch-free `f32` math that vectorises: `exp` and the rows of a softmax.
//!
//! The bodies are generic over `FMA`: `true` uses fused multiply-adds (the
//! AVX2 + FMA build chosen at run time by [`super::simd`]), `false` a
//! multiply then an add, which is what the baseline build can do without
//! a library call (`f32::mul_add` without the FMA instruction is a slow
//! software routine).

use crate::dtype::Element;

/// `a·b + c`, fused when `FMA`.
#[inline(always)]
pub(crate) fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// e^x for `f32`, within one ulp of the correctly rounded value over the
/// whole range (the test sweeps it), with no branch or library call, so a
/// loop over a slice runs eight lanes wide.
///
/// Why not `f32::exp`: glibc's `expf` is a scalar call, and the 18k of
/// them in the softmax-regression step (W1) were a tenth of its time. Why
/// not the `f64` kernel behind `tanh_f32` (`math::exp_small`): it runs
/// four lanes and a degree-11 polynomial, several times slower over those
/// values (figures in docs/benchmarks.md, "Phase 3").
///
/// How: `x = k·ln 2 + r` with `k` the integer nearest `x/ln 2` (adding
/// 1.5·2²³ rounds and leaves `k` in the low bits), `|r| ≤ ln 2 / 2`; `e^r`
/// by its Taylor series to `r⁷` (truncation below 0.35⁸/8! ≈ 6e-9, a tenth
/// of an ulp), and `2^k` applied as two powers of two built from their bits
/// so that results down in the subnormals are rounded once. `ln 2` is split
/// in two (`LN2_HI` has 9 significant bits, so `k·LN2_HI` is exact for the
/// `|k| ≤ 151` that reach here). Inputs are clamped to [−104, 89]: below,
/// the result rounds to 0; above, it overflows to +∞. NaN propagates.
#[inline(always)]
pub(crate) fn exp_f32<const FMA: bool>(x: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5 · 2²³
    const LN2_HI: f32 = f32::from_bits(0x3F31_8000); // 0.693359375 exactly
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-104.0, 89.0);
    let shifted = madd::<FMA>(x, std::f32::consts::LOG2_E, SHIFT);
    let k = shifted - SHIFT;
    let r = madd::<FMA>(k, -LN2_LO, madd::<FMA>(k, -LN2_HI, x));
    // e^r = 1 + r + r²·(1/2 + r/6 + r²/24 + r³/120 + r⁴/720 + r⁵/5040)
    let mut p = 1.0 / 5040.0;
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5] {
        p = madd::<FMA>(p, r, c);
    }
    let e = madd::<FMA>(p, r * r, r) + 1.0;
    // k sits in the low bits of `shifted` (two's complement offset from SHIFT).
    let k = (shifted.to_bits() as i32).wrapping_sub(SHIFT.to_bits() as i32);
    let half = k >> 1;
    let two_to = |k: i32| f32::from_bits(((k + 127) << 23) as u32);
    e * two_to(half) * two_to(k - half)
}

/// The softmax of each row of a row-major `[rows, classes]` `f32` matrix,
/// with [`exp_f32`]; see [`softmax_rows_with`].
#[inline(always)]
pub(crate) fn softmax_rows<const FMA: bool>(
    x: &[f32],
    classes: usize,
    probs: &mut [f32],
    maxes: &mut [f32],
    log_sums: &mut [f32],
) {
    softmax_rows_with(x, classes, probs, maxes, log_sums, exp_f32::<FMA>);
}

/// The softmax of each row of a row-major `[rows, classes]` matrix:
/// `probs = exp(x − max)/Σ exp(x − max)` per row, with each row's `max`
/// and `ln Σ exp(x − max)` (so `log_softmax = (x − max) − log_sum`).
///
/// A NaN in a row is skipped by the max but reaches the row's sum through
/// its own `exp`, so every output of that row is NaN, as in PyTorch. A row
/// holding `+∞` gets NaN (`∞ − ∞`), also as in PyTorch.
///
/// The work is done in whole-matrix passes (shift by the max, `exp`, sum
/// and divide) so that the `exp` pass runs over one long slice, not rows of
/// ten. Each row's sum runs in order, as the strided kernels do.
///
/// # Panics
/// If `classes` is 0 or the slice lengths disagree (callers check both).
#[inline(always)]
pub(crate) fn softmax_rows_with<T: Element>(
    x: &[T],
    classes: usize,
    probs: &mut [T],
    maxes: &mut [T],
    log_sums: &mut [T],
    exp: impl Fn(T) -> T,
) {
    assert!(
        classes > 0
            && x.len() == probs.len()
            && x.len() == maxes.len() * classes
            && maxes.len() == log_sums.len(),
        "softmax_rows: bad lengths"
    );
    let rows = x.chunks_exact(classes).zip(probs.chunks_exact_mut(classes));
    for ((row, out), max) in rows.zip(maxes.iter_mut()) {
        let m = row
            .iter()
            .fold(T::NEG_INFINITY, |m, &v| if v > m { v } else { m });
        for (o, &v) in out.iter_mut().zip(row) {
            *o = v - m;
        }
        *max = m;
    }
    for v in probs.iter_mut() {
        *v = exp(*v);
    }
    for (out, log_sum) in probs.chunks_exact_mut(classes).zip(log_sums.iter_mut()) {
        let mut s = T::ZERO;
        for &o in out.iter() {
            s += o;
        }
        for o in out.iter_mut() {
            *o = *o / s;
        }
        *log_sum = s.ln();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulps between two finite `f32` of the same sign.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    fn check_exp<const FMA: bool>() {
        // Every 1999th f32 in [−105, 90] (≈ 1.1 million values, all
        // binades, subnormal results included), against exp in f64 rounded
        // once to f32.
        let mut exact = 0usize;
        let mut total = 0usize;
        let positive = (0.0f32.to_bits(), 90.0f32.to_bits());
        let negative = ((-0.0f32).to_bits(), (-105.0f32).to_bits());
        for (first, last) in [positive, negative] {
            for bits in (first..=last).step_by(1999) {
                let x = f32::from_bits(bits);
                let want = (x as f64).exp() as f32;
                let got = exp_f32::<FMA>(x);
                assert!(ulps(got, want) <= 1, "exp({x:e}) = {got:e}, want {want:e}");
                exact += usize::from(got == want);
                total += 1;
            }
        }
        assert!(total > 100_000, "{total}");
        assert!(exact * 100 >= total * 98, "{exact} of {total} exact");
    }

    #[test]
    fn exp_is_within_one_ulp_fused_and_unfused() {
        check_exp::<true>();
        check_exp::<false>();
    }

    #[test]
    fn exp_special_values() {
        for fma in [true, false] {
            let e = |x: f32| {
                if fma {
                    exp_f32::<true>(x)
                } else {
                    exp_f32::<false>(x)
                }
            };
            assert_eq!(e(0.0), 1.0);
            assert_eq!(e(-0.0), 1.0);
            assert_eq!(e(f32::NEG_INFINITY), 0.0);
            assert_eq!(e(-1e4), 0.0);
            assert_eq!(e(f32::INFINITY), f32::INFINITY);
            assert_eq!(e(89.0), f32::INFINITY);
            assert_eq!(e(88.0), 88.0f64.exp() as f32);
            assert!(e(f32::NAN).is_nan());
            // The smallest subnormal, e^-103.28 ≈ 1.4e-45.
            assert_eq!(e(-103.2), (-103.2f64).exp() as f32);
        }
    }

    #[test]
    fn softmax_rows_match_f64_and_propagate_nan() {
        let x: Vec<f32> = vec![
            1.0,
            2.0,
            3.0, //
            -1e4,
            0.0,
            1e4, //
            f32::NAN,
            0.0,
            1.0, //
            f32::INFINITY,
            0.0,
            1.0,
        ];
        let mut p = vec![0.0; 12];
        let mut m = vec![0.0; 4];
        let mut l = vec![0.0; 4];
        softmax_rows::<false>(&x, 3, &mut p, &mut m, &mut l);
        let want: Vec<f64> = {
            let e: Vec<f64> = [1.0f64, 2.0, 3.0].iter().map(|v| (v - 3.0).exp()).collect();
            let s: f64 = e.iter().sum();
            e.iter().map(|v| v / s).collect()
        };
        for (got, want) in p[..3].iter().zip(&want) {
            assert!((f64::from(*got) - want).abs() < 1e-7);
        }
        assert_eq!(&p[3..6], &[0.0, 0.0, 1.0]);
        assert_eq!((m[1], l[1]), (1e4, 0.0));
        assert!(p[6..9].iter().all(|v| v.is_nan()) && l[2].is_nan());
        assert!(p[9..12].iter().all(|v| v.is_nan()));
    }
}
