//! Strategies and helpers shared by the property-test files.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tapegrad::{gradcheck, GradcheckOptions, Result, Tensor};

/// A shape of rank in `rank` with sizes in `size`.
pub fn shape(
    rank: std::ops::RangeInclusive<usize>,
    size: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(size, rank)
}

/// A float64 tensor of `shape` with values uniform in [-2, 2] (a domain is
/// applied by the test).
pub fn values(shape: Vec<usize>, _domain: Domain) -> impl Strategy<Value = Tensor> {
    let n: usize = shape.iter().product();
    prop::collection::vec(-2.0f64..2.0, n)
        .prop_map(move |v| Tensor::from_vec(v, shape.as_slice()).unwrap())
}

/// Two broadcast-compatible shapes made from one: each side gets some
/// sizes replaced by 1, one side loses some leading dims, and the sides
/// are swapped at random.
pub fn broadcast_pair(
    rank: std::ops::RangeInclusive<usize>,
    size: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape(rank, size).prop_flat_map(|full| {
        let r = full.len();
        (
            Just(full),
            prop::collection::vec(any::<bool>(), r),
            prop::collection::vec(any::<bool>(), r),
            0..=r,
            any::<bool>(),
        )
            .prop_map(|(full, ones_a, ones_b, drop, swap)| {
                let a: Vec<usize> = full
                    .iter()
                    .zip(&ones_a)
                    .map(|(&s, &one)| if one { 1 } else { s })
                    .collect();
                let b: Vec<usize> = full[drop..]
                    .iter()
                    .zip(&ones_b[drop..])
                    .map(|(&s, &one)| if one { 1 } else { s })
                    .collect();
                // Where a has a 1, b keeps the full size (and vice versa):
                // both still broadcast to a shape, which is all that's needed.
                if swap {
                    (b, a)
                } else {
                    (a, b)
                }
            })
    })
}

/// Where an op's inputs must stay, to keep clear of kinks and poles.
#[derive(Clone, Copy, Debug)]
pub enum Domain {
    /// [-2, 2] as drawn.
    Any,
    /// [0.5, 2.5]: log, sqrt, fractional powers, pow's base.
    Positive,
    /// |x| in [0.25, 2.25]: relu, abs, 1/x.
    AwayFromZero,
    /// At least 0.1 away from ±0.5 (clamp bounds, softplus threshold).
    AwayFromHalf,
    /// Multiples of 0.25: one side of maximum/minimum.
    Grid,
    /// Multiples of 0.25 plus 0.1: never equal to a Grid value.
    OffGrid,
}

impl Domain {
    fn map(self, v: f64) -> f64 {
        match self {
            Domain::Any => v,
            Domain::Positive => v.abs() + 0.5,
            Domain::AwayFromZero => v.signum() * (v.abs() + 0.25),
            Domain::AwayFromHalf => {
                if (v.abs() - 0.5).abs() < 0.1 {
                    v + 0.3 * v.signum()
                } else {
                    v
                }
            }
            Domain::Grid => (v * 4.0).round() / 4.0,
            Domain::OffGrid => (v * 4.0).round() / 4.0 + 0.1,
        }
    }

    /// `x` with every value moved into this domain.
    pub fn apply(self, x: &Tensor) -> Tensor {
        let v: Vec<f64> = x.to_vec::<f64>().into_iter().map(|v| self.map(v)).collect();
        Tensor::from_vec(v, x.dims()).unwrap()
    }
}

/// Fails the property if `f`'s gradient at `inputs` (first order and
/// create_graph paths) disagrees with central differences.
pub fn check_grad(
    name: &str,
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
) -> std::result::Result<(), TestCaseError> {
    let shapes: Vec<_> = inputs.iter().map(|x| x.shape().clone()).collect();
    let report = gradcheck(f, inputs, GradcheckOptions::default())
        .map_err(|e| TestCaseError::fail(format!("{name} on {shapes:?}: {e}")))?;
    prop_assert!(report.passed(), "{} on {:?}:\n{}", name, shapes, report);
    Ok(())
}

/// Fails unless `a` and `b` have the same shape and values within `tol`.
pub fn assert_close(a: &Tensor, b: &Tensor, tol: f64) -> std::result::Result<(), TestCaseError> {
    prop_assert_eq!(a.shape(), b.shape());
    for (x, y) in a.to_vec::<f64>().iter().zip(b.to_vec::<f64>()) {
        let ok = (x - y).abs() <= tol * (1.0 + y.abs()) || (x.is_nan() && y.is_nan());
        prop_assert!(ok, "{} vs {}", x, y);
    }
    Ok(())
}
pub mod ops;
