//! Special functions the standard library lacks: the stable logistic
//! function, `erf`, `erfc` and the standard normal CDF / PDF used by GELU.
//!
//! Written for full `f64` accuracy (relative error around 1e-15), because
//! gradient checks in `f64` compare GELU's analytic derivative with finite
//! differences of its value: an approximate `erf` would show up as a
//! spurious gradient error.

use std::f64::consts::PI;

use crate::dtype::Element;

/// The logistic function 1 / (1 + e^−x), evaluated so that it never
/// exponentiates a positive number: ±1e4 give exactly 1 and 0, no overflow.
#[inline]
pub(crate) fn sigmoid<T: Element>(x: T) -> T {
    if x >= T::ZERO {
        T::ONE / (T::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::ONE + e)
    }
}

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
