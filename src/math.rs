//! Scalar special functions of `f32` and `f64`, below every other module:
//! [`Element`](crate::Element)'s `tanh` (for `f32`) and `erf` call them, so
//! they cannot live in `kernels`, which sits above the element types.
//!
//! `erf`, `erfc` and the standard normal CDF / PDF (for GELU) are written
//! for full `f64` accuracy (relative error around 1e-15), because gradient
//! checks in `f64` compare GELU's analytic derivative with finite
//! differences of its value: an approximate `erf` would show up as a
//! spurious gradient error. `tanh_f32` is a branch-free `f32` tanh.

use std::f64::consts::PI;

/// The error function, erf(x) = 2/√π ∫₀ˣ e^(−t²) dt.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    let value = if ax < 2.5 {
        erf_series(ax)
    } else {
        1.0 - erfc_continued_fraction(ax)
    };
    value.copysign(x)
}

/// The complementary error function 1 − erf(x), accurate in the tails.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        1.0 - erf_series(x)
    } else {
        erfc_continued_fraction(x)
    }
}

/// Φ(x), the standard normal CDF, computed through `erfc` so that the left
/// tail keeps its relative accuracy.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// φ(x), the standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·5···(2n+1)).
///
/// Every term is positive, so there is no cancellation; for x < 2.5 the
/// series converges to machine precision in under 80 terms.
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term > sum * 1e-17 {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    2.0 / PI.sqrt() * (-x2).exp() * sum
}

/// erfc(x) for x ≥ 2.5 by the continued fraction
/// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))),
/// evaluated with the modified Lentz algorithm.
fn erfc_continued_fraction(x: f64) -> f64 {
    if x > 27.0 {
        return 0.0;
    }
    const TINY: f64 = 1e-300;
    let mut f = x;
    let mut c = x;
    let mut d = 0.0;
    for k in 1..500 {
        let a = k as f64 / 2.0;
        d = x + a * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = x + a / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    (-x * x).exp() / PI.sqrt() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_tabulated_values() {
        // Values from Abramowitz & Stegun, Table 7.1, and erfc tails from
        // the asymptotic series e^(-x²)/(x√π)(1 - 1/(2x²) + 3/(4x⁴) - ...).
        let table = [
            (0.0, 0.0),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.5, 0.999_593_047_982_555),
            (3.0, 0.999_977_909_503_001_4),
        ];
        for (x, want) in table {
            assert!((erf(x) - want).abs() < 1e-15, "erf({x}) = {}", erf(x));
            assert!((erf(-x) + want).abs() < 1e-15);
        }
        // erfc(5) = 1.5374597944280349e-12 (A&S 7.1.26 tables, to 14 digits).
        assert!((erfc(5.0) / 1.537_459_794_428_035e-12 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn erf_is_continuous_where_the_methods_switch() {
        let below = erf(2.5 - 1e-12);
        let above = erf(2.5 + 1e-12);
        assert!((below - above).abs() < 1e-14);
    }

    #[test]
    fn normal_cdf_tails() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-16);
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-15);
        assert!(normal_cdf(-40.0) >= 0.0 && normal_cdf(40.0) == 1.0);
    }
}

/// `tanh` for `f32`, computed in `f64` as (e²ˣ − 1)/(e²ˣ + 1) with an
/// inline, branch-free `exp`, so that a loop over a slice vectorises.
///
/// Why: glibc's `tanhf` is a scalar call through `expm1f`, and was the
/// largest single item in the profile of small tanh networks (W3/W5;
/// docs/benchmarks.md, "Figures behind the code"). A version calling
/// `f64::exp` was tried and was not faster: the calls were the cost.
///
/// Accuracy: `exp_small` has a relative error of a few 1e-15 (see there).
/// For |x| ≥ 2⁻¹², e²ˣ − 1 ≥ 2⁻¹¹, so the quotient's relative error stays
/// below ~1e-11, far inside half an `f32` ulp (3e-8): the result is the
/// correctly rounded tanh except, at worst, within 1e-11 of a rounding tie
/// (the test below allows one ulp). Below 2⁻¹², tanh x = x(1 − x²/3 + …)
/// with x²/3 < 2⁻²⁵, so `x` itself is the correctly rounded value. Inputs
/// are clamped to ±10, where the `f32` result is already ±1
/// (1 − tanh 10 ≈ 4e-9). NaN propagates (`clamp` keeps it).
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    let xd = f64::from(x);
    let e = exp_small(2.0 * xd.clamp(-10.0, 10.0));
    let t = (e - 1.0) / (e + 1.0);
    (if xd.abs() < 1.0 / 4096.0 { xd } else { t }) as f32
}

/// e^y for |y| ≤ 20 without a library call or a branch: y = k·ln 2 + r
/// with k the nearest integer to y/ln 2 (the 1.5·2⁵² trick rounds and
/// leaves k in the low bits), |r| ≤ ln 2 / 2, e^r by its Taylor series to
/// r¹¹ (truncation error < 0.35¹²/12! ≈ 7e-15), and 2^k built from its bits.
/// ln 2 is split as fdlibm does (ln2_hi has trailing zero bits, so k·ln2_hi
/// is exact for |k| < 2²⁰).
#[inline]
fn exp_small(y: f64) -> f64 {
    const SHIFT: f64 = 6755399441055744.0; // 1.5 · 2⁵²
                                           // fdlibm's ln2_hi = 6.93147180369123816490e-01 (0x3fe62e42_fee00000)
                                           // and ln2_lo = 1.90821492927058770002e-10 (0x3dea39ef_35793c76).
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    let shifted = y * std::f64::consts::LOG2_E + SHIFT;
    let k = shifted - SHIFT;
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 39_916_800.0; // 1/11!
    for c in [
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // k sits in the low bits of `shifted` (two's complement offset from SHIFT).
    let k_int = shifted.to_bits().wrapping_sub(SHIFT.to_bits());
    let scale = f64::from_bits(k_int.wrapping_add(1023) << 52);
    p * scale
}

#[cfg(test)]
mod tanh_tests {
    use super::{exp_small, tanh_f32};

    /// Distance in f32 ulps (inputs of the same sign).
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn within_one_ulp_of_the_correctly_rounded_value() {
        // A dense sweep across every branch, both signs, against tanh in
        // f64 rounded once to f32.
        let mut x = 1e-9f32;
        let mut exact = 0usize;
        let mut total = 0usize;
        while x < 30.0 {
            for v in [x, -x] {
                let want = (v as f64).tanh() as f32;
                let got = tanh_f32(v);
                assert!(ulps(got, want) <= 1, "tanh({v}) = {got}, want {want}");
                exact += usize::from(got == want);
                total += 1;
            }
            x *= 1.0007;
        }
        // Off by one ulp only near rounding ties: practically never.
        assert!(exact * 1000 >= total * 999, "{exact} of {total} exact");
    }

    #[test]
    fn exp_kernel_is_accurate_over_its_range() {
        let mut y = -20.0f64;
        while y <= 20.0 {
            let rel = (exp_small(y) - y.exp()).abs() / y.exp();
            assert!(rel < 1e-14, "exp({y}): relative error {rel}");
            y += 0.0137;
        }
    }

    #[test]
    fn the_tanh_op_uses_this_kernel_for_f32() {
        // Inside `dispatch!` the element type is concrete, where a plain
        // `v.tanh()` would silently pick the inherent `f32::tanh` instead.
        let xs: Vec<f32> = (0..200).map(|i| (i as f32 - 100.0) * 0.037).collect();
        let got = crate::Tensor::from_slice(&xs, [200])
            .unwrap()
            .tanh()
            .to_vec::<f32>();
        for (x, g) in xs.iter().zip(&got) {
            assert_eq!(g.to_bits(), tanh_f32(*x).to_bits(), "tanh({x})");
        }
        // An input where the two differ: glibc 2.36's tanhf(1e-4) is one
        // ulp above the correctly rounded value, which is 1e-4 itself
        // (tanh x = x − x³/3 + …, and x³/3 is far below half an ulp).
        let x = 1e-4f32;
        assert_eq!(crate::Tensor::new([x]).tanh().to_vec::<f32>(), vec![x]);
    }

    #[test]
    fn special_values() {
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(-1e30), -1.0);
        assert_eq!(tanh_f32(1e-30), 1e-30);
        assert!(tanh_f32(f32::NAN).is_nan());
    }
}
