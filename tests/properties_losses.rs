//! Property tests for softmax / log_softmax and every loss: gradients
//! (input and, where differentiable, target) agree with central finite
//! differences in f64 on random shapes, class dims, weights, ignore_index,
//! label smoothing and reductions (`tapegrad::gradcheck`, first-order and
//! `create_graph` paths, default tolerances); and softmax, log_softmax,
//! cross_entropy and BCE-with-logits stay finite, with finite gradients,
//! for logits up to ±1e4 in f32 and f64.
//!
//! Inputs keep clear of invalid domains: BCE probabilities in [0.05, 0.95],
//! targets in [0, 1], probability targets on the simplex, weights positive,
//! and a mean reduction always has at least one class target that is not
//! ignored (else it is 0/0, NaN as in PyTorch).

mod common;

use common::*;
use proptest::prelude::*;
use tapegrad::nn::functional as F;
use tapegrad::nn::functional::{KlReduction, Reduction};
use tapegrad::{DType, Tensor};

const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Sum, Reduction::Mean];

/// An input of shape `[N, C, d...]` (class dim 1) with N 1–3, C 1–4 and
/// 0–2 extra dims of size 1–2; values in [-2, 2].
fn class_input() -> impl Strategy<Value = Tensor> {
    (1..=3usize, 1..=4usize, shape(0..=2, 1..=2)).prop_flat_map(|(n, c, extra)| {
        let mut dims = vec![n, c];
        dims.extend(extra);
        values(dims, Domain::Any)
    })
}

/// `x` mapped into [lo, hi].
fn into_range(x: &Tensor, lo: f64, hi: f64) -> Tensor {
    // values are in [-2, 2]
    x.add_scalar(2.0).mul_scalar((hi - lo) / 4.0).add_scalar(lo)
}

/// Class ids for an input of `dims` (class dim 1): `picks` reduced mod C,
/// with entries where `ignore` is set replaced by `ignore_index`. The first
/// entry is never ignored.
fn class_ids(dims: &[usize], picks: &[usize], ignore: &[bool], ignore_index: i64) -> Tensor {
    let c = dims[1];
    let mut tdims = vec![dims[0]];
    tdims.extend(&dims[2..]);
    let n: usize = tdims.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|k| {
            if k > 0 && ignore[k % ignore.len()] {
                ignore_index as f64
            } else {
                (picks[k % picks.len()] % c) as f64
            }
        })
        .collect();
    Tensor::from_vec(v, tdims.as_slice()).unwrap()
}

/// Per-class weights in [0.5, 2.5].
fn class_weight(c: usize, raw: &[f64]) -> Tensor {
    let v: Vec<f64> = (0..c).map(|k| 0.5 + raw[k % raw.len()]).collect();
    Tensor::from_vec(v, [c]).unwrap()
}

/// A weight that broadcasts over `x`'s last dim (a scalar for a 0-d `x`,
/// which a `[1]` weight would not broadcast to).
fn weight_dims(x: &Tensor) -> Vec<usize> {
    x.dims().last().map(|&d| vec![d]).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// softmax and log_softmax over every dim (negative too), through a
    /// transposed view or not.
    #[test]
    fn softmax_gradients_match_finite_differences(
        x in shape(1..=4, 1..=3).prop_flat_map(|s| values(s, Domain::Any)),
        dim in -4isize..4,
        log in any::<bool>(),
        transposed in any::<bool>(),
    ) {
        let r = x.ndim() as isize;
        let dim = dim.rem_euclid(r) - if dim < 0 { r } else { 0 };
        let view = transposed && r >= 2;
        check_grad(if log { "log_softmax" } else { "softmax" }, |xs| {
            let x = if view { xs[0].try_transpose(0, -1)? } else { xs[0].clone() };
            if log { F::log_softmax(&x, dim) } else { F::softmax(&x, dim) }
        }, &[x])?;
    }

    /// cross_entropy with class ids: weights, ignore_index (a class or
    /// -100), label smoothing, every reduction, K-dim inputs.
    #[test]
    fn cross_entropy_class_id_gradients_match(
        x in class_input(),
        picks in prop::collection::vec(0usize..16, 1..8),
        ignore in prop::collection::vec(any::<bool>(), 1..6),
        raw_w in prop::collection::vec(0.0f64..2.0, 1..5),
        use_weight in any::<bool>(),
        ignore_class in any::<bool>(),
        smoothing in prop::sample::select(vec![0.0, 0.1, 0.45]),
        red in 0..3usize,
    ) {
        let c = x.dims()[1];
        let ignore_index = if ignore_class { (c - 1) as i64 } else { -100 };
        let y = class_ids(x.dims(), &picks, &ignore, ignore_index);
        let mut opts = F::CrossEntropyOptions::default()
            .ignore_index(ignore_index)
            .reduction(REDUCTIONS[red])
            .label_smoothing(smoothing);
        if use_weight {
            opts = opts.weight(class_weight(c, &raw_w));
        }
        // With ignore_index a real class, every target may be that class.
        let all_ignored = y.to_vec::<f64>().iter().all(|&t| t == ignore_index as f64);
        prop_assume!(!(all_ignored && REDUCTIONS[red] == Reduction::Mean));
        check_grad("cross_entropy ids", |xs| F::cross_entropy_with(&xs[0], &y, &opts), &[x])?;
    }

    /// cross_entropy with probability targets (differentiable in both).
    #[test]
    fn cross_entropy_probability_gradients_match(
        (x, t) in class_input().prop_flat_map(|x| {
            let dims = x.dims().to_vec();
            (Just(x), values(dims, Domain::Any))
        }),
        raw_w in prop::collection::vec(0.0f64..2.0, 1..5),
        use_weight in any::<bool>(),
        smoothing in prop::sample::select(vec![0.0, 0.2]),
        red in 0..3usize,
    ) {
        let p = F::softmax(&t, 1).unwrap();
        let mut opts = F::CrossEntropyOptions::default()
            .reduction(REDUCTIONS[red])
            .label_smoothing(smoothing);
        if use_weight {
            opts = opts.weight(class_weight(x.dims()[1], &raw_w));
        }
        check_grad("cross_entropy probs", |xs| F::cross_entropy_with(&xs[0], &xs[1], &opts), &[x, p])?;
    }

    /// nll_loss on log-probabilities, K-dim included.
    #[test]
    fn nll_loss_gradients_match(
        x in class_input(),
        picks in prop::collection::vec(0usize..16, 1..8),
        ignore in prop::collection::vec(any::<bool>(), 1..6),
        raw_w in prop::collection::vec(0.0f64..2.0, 1..5),
        use_weight in any::<bool>(),
        red in 0..3usize,
    ) {
        let y = class_ids(x.dims(), &picks, &ignore, -100);
        let mut opts = F::NllLossOptions::default().reduction(REDUCTIONS[red]);
        if use_weight {
            opts = opts.weight(class_weight(x.dims()[1], &raw_w));
        }
        check_grad("nll_loss", |xs| F::nll_loss_with(&F::log_softmax(&xs[0], 1)?, &y, &opts), &[x])?;
    }

    /// binary_cross_entropy: probabilities in [0.05, 0.95], targets in
    /// [0, 1], optional broadcast weight (differentiable in both inputs).
    #[test]
    fn bce_gradients_match(
        (p, y) in shape(0..=3, 1..=3).prop_flat_map(|s| (values(s.clone(), Domain::Any), values(s, Domain::Any))),
        use_weight in any::<bool>(),
        red in 0..3usize,
    ) {
        let (p, y) = (into_range(&p, 0.05, 0.95), into_range(&y, 0.0, 1.0));
        let mut opts = F::BceOptions::default().reduction(REDUCTIONS[red]);
        if use_weight {
            // Broadcast over the last dim.
            let last = p.dims().last().copied().unwrap_or(1);
            let w: Vec<f64> = (0..last).map(|k| 0.5 + k as f64 * 0.7).collect();
            opts.weight = Some(Tensor::from_vec(w, weight_dims(&p)).unwrap());
        }
        check_grad("bce", |xs| F::binary_cross_entropy_with(&xs[0], &xs[1], &opts), &[p, y])?;
    }

    /// binary_cross_entropy_with_logits with weight and pos_weight.
    #[test]
    fn bce_with_logits_gradients_match(
        (x, y) in shape(0..=3, 1..=3).prop_flat_map(|s| (values(s.clone(), Domain::Any), values(s, Domain::Any))),
        use_weight in any::<bool>(),
        use_pos in any::<bool>(),
        red in 0..3usize,
    ) {
        let x = x.mul_scalar(2.0);
        let y = into_range(&y, 0.0, 1.0);
        let last = x.dims().last().copied().unwrap_or(1);
        let mut opts = F::BceWithLogitsOptions::default().reduction(REDUCTIONS[red]);
        if use_weight {
            let w: Vec<f64> = (0..last).map(|k| 1.5 - k as f64 * 0.4).collect();
            opts.weight = Some(Tensor::from_vec(w, weight_dims(&x)).unwrap());
        }
        if use_pos {
            let w: Vec<f64> = (0..last).map(|k| 0.25 + k as f64 * 1.5).collect();
            opts.pos_weight = Some(Tensor::from_vec(w, weight_dims(&x)).unwrap());
        }
        check_grad("bce_with_logits", |xs| F::binary_cross_entropy_with_logits_with(&xs[0], &xs[1], &opts), &[x, y])?;
    }

    /// kl_div: every reduction, log_target or not (differentiable in both).
    #[test]
    fn kl_div_gradients_match(
        (x, t) in shape(1..=3, 1..=3).prop_flat_map(|s| (values(s.clone(), Domain::Any), values(s, Domain::Any))),
        red in 0..4usize,
        log_target in any::<bool>(),
    ) {
        let reduction = [KlReduction::None, KlReduction::Sum, KlReduction::Mean, KlReduction::BatchMean][red];
        let x = F::log_softmax(&x, -1).unwrap();
        // Positive targets (0.1 to 1.1), or their logs.
        let t = into_range(&t, 0.1, 1.1);
        let t = if log_target { t.log() } else { t };
        let opts = F::KlDivOptions::default().reduction(reduction).log_target(log_target);
        check_grad("kl_div", |xs| F::kl_div_with(&xs[0], &xs[1], &opts), &[x, t])?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Logits up to ±1e4 in f32 and f64: softmax, log_softmax,
    /// cross_entropy (ids and probabilities) and BCE-with-logits are
    /// finite, and so are their gradients.
    #[test]
    fn large_logits_stay_finite(
        raw in prop::collection::vec(-1.0f64..1.0, 12),
        extreme in prop::collection::vec(any::<bool>(), 12),
        picks in prop::collection::vec(0usize..4, 3),
        f32_ in any::<bool>(),
        which in 0..5usize,
    ) {
        let v: Vec<f64> = raw.iter().zip(&extreme).map(|(&r, &e)| if e { r.signum() * 1e4 } else { r * 1e4 }).collect();
        let dtype = if f32_ { DType::F32 } else { DType::F64 };
        let x = Tensor::from_vec(v, [3usize, 4]).unwrap().to_dtype(dtype).requires_grad_(true);
        let ids = Tensor::from_vec(picks.iter().map(|&p| p as f64).collect::<Vec<_>>(), [3usize]).unwrap().to_dtype(dtype);
        let probs = F::softmax(&Tensor::from_vec(raw.clone(), [3usize, 4]).unwrap(), 1).unwrap().to_dtype(dtype);
        let targets01 = Tensor::from_vec(raw.iter().map(|r| r.abs()).collect::<Vec<_>>(), [3usize, 4]).unwrap().to_dtype(dtype);
        let y = match which {
            0 => F::softmax(&x, 1).unwrap().square().sum(),
            1 => F::log_softmax(&x, 1).unwrap().sum(),
            2 => F::cross_entropy(&x, &ids).unwrap(),
            3 => F::cross_entropy_with(&x, &probs, &F::CrossEntropyOptions::default().label_smoothing(0.1)).unwrap(),
            _ => F::binary_cross_entropy_with_logits(&x, &targets01).unwrap(),
        };
        let vals = y.to_vec::<f64>();
        prop_assert!(vals.iter().all(|v| v.is_finite()), "value {:?} (case {})", vals, which);
        y.backward();
        let g = x.grad().unwrap().to_vec::<f64>();
        prop_assert!(g.iter().all(|v| v.is_finite()), "gradient {:?} (case {})", g, which);
    }
}
