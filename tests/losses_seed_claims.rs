//! The claims of the seed post (scores → probabilities → losses), each
//! checked by computing both sides independently: one side with tapegrad's
//! losses, the other by hand with `f64` arithmetic on plain vectors (or with
//! a different tapegrad function).

use tapegrad::nn::functional as F;
use tapegrad::{seeded_rng, DType, Tensor};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

fn logits(rows: usize, cols: usize, scale: f64, seed: u64) -> Tensor {
    Tensor::randn_dtype([rows, cols], DType::F64, &mut seeded_rng(seed)).mul_scalar(scale)
}

/// softmax of one row, by the textbook formula (fine for moderate inputs).
fn softmax_by_hand(row: &[f64]) -> Vec<f64> {
    let e: Vec<f64> = row.iter().map(|v| v.exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Mutation check (run once by hand, then reverted): with rows expected to
/// sum to 0.999, this test fails.
#[test]
fn softmax_is_a_distribution_along_its_dim() {
    for (scale, seed) in [(1.0, 1), (30.0, 2), (1e4, 3)] {
        let x = logits(6, 5, scale, seed);
        for dim in [0isize, 1] {
            let p = F::softmax(&x, dim).unwrap();
            let v = p.to_vec::<f64>();
            assert!(v.iter().all(|&q| (0.0..=1.0).contains(&q)), "{v:?}");
            let (rows, cols) = (6, 5);
            let sums: Vec<f64> = if dim == 1 {
                (0..rows)
                    .map(|r| v[r * cols..(r + 1) * cols].iter().sum())
                    .collect()
            } else {
                (0..cols)
                    .map(|c| (0..rows).map(|r| v[r * cols + c]).sum())
                    .collect()
            };
            for s in sums {
                assert!(
                    (s - 1.0).abs() < 1e-12,
                    "sum {s} (scale {scale}, dim {dim})"
                );
            }
        }
    }
}

/// Mutation check (run once by hand, then reverted): with the reference's
/// classes rotated, this test fails.
#[test]
fn softmax_matches_the_textbook_formula() {
    let x = logits(4, 3, 2.0, 4);
    let p = F::softmax(&x, 1).unwrap().to_vec::<f64>();
    let v = x.to_vec::<f64>();
    for r in 0..4 {
        let want = softmax_by_hand(&v[r * 3..r * 3 + 3]);
        for c in 0..3 {
            assert!(close(p[r * 3 + c], want[c], 1e-14));
        }
    }
}

/// Mutation check (run once by hand, then reverted): with the shifted scores
/// also scaled by 1.01, this test fails.
#[test]
fn softmax_ignores_a_constant_added_to_every_score() {
    let x = logits(3, 4, 3.0, 5);
    let p = F::softmax(&x, 1).unwrap().to_vec::<f64>();
    for c in [-50.0, 7.5, 100.0] {
        let shifted = F::softmax(&x.add_scalar(c), 1).unwrap().to_vec::<f64>();
        for (a, b) in p.iter().zip(&shifted) {
            assert!(close(*a, *b, 1e-13), "shift {c}: {a} vs {b}");
        }
    }
}

/// Mutation check (run once by hand, then reverted): with the gap off by
/// 0.01, this test fails.
#[test]
fn sigmoid_of_a_score_gap_is_two_class_softmax() {
    for (s1, s2) in [(0.3f64, -1.2), (2.0, 2.0), (-4.0, 3.5), (40.0, -40.0)] {
        let gap = Tensor::new([s1 - s2]);
        let sig = F::sigmoid(&gap).unwrap().to_vec::<f64>()[0];
        let sm = F::softmax(&Tensor::new([s1, s2]), 0)
            .unwrap()
            .to_vec::<f64>()[0];
        assert!(close(sig, sm, 1e-15), "{sig} vs {sm}");
        // and the seed's formula 1 / (1 + e^−(s1 − s2))
        assert!(close(sig, 1.0 / (1.0 + (-(s1 - s2)).exp()), 1e-15));
    }
}

/// Mutation check (run once by hand, then reverted): with the class ids
/// swapped, this test fails.
#[test]
fn bce_on_p_equals_two_class_cross_entropy() {
    let scores = logits(8, 2, 2.0, 6);
    let s = scores.to_vec::<f64>();
    let y: Vec<f64> = (0..8).map(|i| (i % 3 == 0) as u8 as f64).collect();
    // BCE side: p = σ(s1 − s2), label 1 means "class 1" (column 0).
    let gap: Vec<f64> = (0..8).map(|i| s[2 * i] - s[2 * i + 1]).collect();
    let p = F::sigmoid(&Tensor::from_vec(gap, [8]).unwrap()).unwrap();
    let bce = F::binary_cross_entropy(&p, &Tensor::from_vec(y.clone(), [8]).unwrap())
        .unwrap()
        .item::<f64>();
    // CE side: class index 0 where y = 1, else 1.
    let classes: Vec<f64> = y.iter().map(|&v| 1.0 - v).collect();
    let ce = F::cross_entropy(&scores, &Tensor::from_vec(classes, [8]).unwrap())
        .unwrap()
        .item::<f64>();
    assert!(close(bce, ce, 1e-13), "bce {bce} vs ce {ce}");
}

/// Mutation check (run once by hand, then reverted): with the mean divided by
/// 4 instead of 5, this test fails.
#[test]
fn one_hot_cross_entropy_is_mean_neg_log_p_true_and_nll_of_log_softmax() {
    let x = logits(5, 4, 1.5, 7);
    let labels = [2usize, 0, 3, 3, 1];
    let v = x.to_vec::<f64>();
    let by_hand: f64 = (0..5)
        .map(|r| -softmax_by_hand(&v[r * 4..r * 4 + 4])[labels[r]].ln())
        .sum::<f64>()
        / 5.0;
    let target = Tensor::from_vec(labels.iter().map(|&c| c as f64).collect(), [5]).unwrap();
    let mut one_hot = vec![0.0; 20];
    for (r, &c) in labels.iter().enumerate() {
        one_hot[r * 4 + c] = 1.0;
    }
    let one_hot = Tensor::from_vec(one_hot, [5, 4]).unwrap();
    let ce_index = F::cross_entropy(&x, &target).unwrap().item::<f64>();
    let ce_onehot = F::cross_entropy(&x, &one_hot).unwrap().item::<f64>();
    let nll = F::nll_loss(&F::log_softmax(&x, 1).unwrap(), &target)
        .unwrap()
        .item::<f64>();
    for got in [ce_index, ce_onehot, nll] {
        assert!(close(got, by_hand, 1e-14), "{got} vs {by_hand}");
    }
}

/// Mutation check (run once by hand, then reverted): with KL scaled by 1.01,
/// this test fails.
#[test]
fn cross_entropy_is_entropy_plus_kl() {
    let x = logits(4, 6, 1.0, 8);
    let p = F::softmax(&logits(4, 6, 1.0, 9), 1).unwrap();
    let pv = p.to_vec::<f64>();
    let entropy: f64 = -pv.iter().map(|&q| q * q.ln()).sum::<f64>() / 4.0;
    let h_pq = F::cross_entropy(&x, &p).unwrap().item::<f64>();
    let kl = F::kl_div_with(
        &F::log_softmax(&x, 1).unwrap(),
        &p,
        &F::KlDivOptions::default().reduction(F::KlReduction::BatchMean),
    )
    .unwrap()
    .item::<f64>();
    assert!(
        close(h_pq, entropy + kl, 1e-14),
        "{h_pq} vs {entropy} + {kl}"
    );
}

/// Mutation check (run once by hand, then reverted): with KL summed instead
/// of batch-averaged, this test fails.
#[test]
fn minimising_cross_entropy_minimises_kl_same_gradient() {
    let p = F::softmax(&logits(3, 5, 1.0, 10), 1).unwrap();
    let x = logits(3, 5, 1.0, 11).requires_grad_(true);
    let g_ce = tapegrad::grad(&[&F::cross_entropy(&x, &p).unwrap()], &[&x], false).unwrap();
    let kl = F::kl_div_with(
        &F::log_softmax(&x, 1).unwrap(),
        &p,
        &F::KlDivOptions::default().reduction(F::KlReduction::BatchMean),
    )
    .unwrap();
    let g_kl = tapegrad::grad(&[&kl], &[&x], false).unwrap();
    for (a, b) in g_ce[0].to_vec::<f64>().iter().zip(g_kl[0].to_vec::<f64>()) {
        assert!(close(*a, b, 1e-14), "{a} vs {b}");
    }
}

/// KL(P‖Q) for one pair of distributions, by hand.
fn kl_by_hand(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .filter(|(a, _)| **a > 0.0)
        .map(|(a, b)| a * (a / b).ln())
        .sum()
}

fn kl_sum(p: &[f64], q: &[f64]) -> f64 {
    let n = p.len();
    let logq = Tensor::from_vec(q.iter().map(|v| v.ln()).collect(), [n]).unwrap();
    let p = Tensor::from_vec(p.to_vec(), [n]).unwrap();
    F::kl_div_with(
        &logq,
        &p,
        &F::KlDivOptions::default().reduction(F::KlReduction::Sum),
    )
    .unwrap()
    .item::<f64>()
}

/// Mutation check (run once by hand, then reverted): with claiming KL is
/// symmetric, this test fails.
#[test]
fn kl_is_non_negative_zero_on_equal_and_asymmetric() {
    for seed in 0..20 {
        let p = F::softmax(&logits(1, 5, 2.0, 100 + seed), 1)
            .unwrap()
            .to_vec::<f64>();
        let q = F::softmax(&logits(1, 5, 2.0, 200 + seed), 1)
            .unwrap()
            .to_vec::<f64>();
        let kl = kl_sum(&p, &q);
        assert!(kl >= 0.0, "KL = {kl}");
        assert!(close(kl, kl_by_hand(&p, &q), 1e-13));
        assert!(kl_sum(&p, &p).abs() < 1e-15);
    }
    let p = [0.9, 0.1];
    let q = [0.5, 0.5];
    let (pq, qp) = (kl_sum(&p, &q), kl_sum(&q, &p));
    assert!(close(pq, kl_by_hand(&p, &q), 1e-14) && close(qp, kl_by_hand(&q, &p), 1e-14));
    assert!((pq - qp).abs() > 0.1, "KL(P‖Q) = {pq}, KL(Q‖P) = {qp}");
    // 0·log 0 = 0: a zero in P contributes nothing.
    assert!(close(kl_sum(&[1.0, 0.0], &[0.5, 0.5]), 2.0f64.ln(), 1e-15));
}

/// Mutation check (run once by hand, then reverted): with N − 1 instead of N,
/// this test fails.
#[test]
fn mean_cross_entropy_gradient_is_softmax_minus_onehot_over_n() {
    let n = 6;
    let x = logits(n, 4, 2.0, 12).requires_grad_(true);
    let labels = [1usize, 3, 0, 0, 2, 1];
    let target = Tensor::from_vec(labels.iter().map(|&c| c as f64).collect(), [n]).unwrap();
    F::cross_entropy(&x, &target).unwrap().backward();
    let got = x.grad().unwrap().to_vec::<f64>();
    let v = x.detach().to_vec::<f64>();
    for r in 0..n {
        let p = softmax_by_hand(&v[r * 4..r * 4 + 4]);
        for c in 0..4 {
            let onehot = if c == labels[r] { 1.0 } else { 0.0 };
            let want = (p[c] - onehot) / n as f64;
            assert!(close(got[r * 4 + c], want, 1e-14), "[{r}, {c}]");
        }
    }
}

/// Mutation check (run once by hand, then reverted): with −1 instead of −1/N,
/// this test fails.
#[test]
fn confident_wrong_prediction_has_large_loss_and_gradient_near_minus_one_over_n() {
    let n = 4.0;
    // Every row is sure of class 1 (margin 25), but the truth is class 0.
    let x = Tensor::new([[0.0f64, 25.0, 0.0]; 4]).requires_grad_(true);
    let loss = F::cross_entropy(&x, &Tensor::new([0.0f64; 4])).unwrap();
    let value = loss.item::<f64>();
    // −log p_true = 25 + log(1 + 2e^−25) ≈ 25
    assert!(value > 24.99 && value < 25.01, "{value}");
    loss.backward();
    let g = x.grad().unwrap().to_vec::<f64>();
    for r in 0..4 {
        assert!(
            (g[r * 3] + 1.0 / n).abs() < 1e-10,
            "true class {}",
            g[r * 3]
        );
        assert!(
            (g[r * 3 + 1] - 1.0 / n).abs() < 1e-10,
            "predicted class {}",
            g[r * 3 + 1]
        );
    }
    // Same story with probabilities: BCE on a confident wrong p.
    let p = Tensor::new([1e-9f64]);
    let bce = F::binary_cross_entropy(&p, &Tensor::new([1.0f64]))
        .unwrap()
        .item::<f64>();
    assert!(close(bce, -(1e-9f64).ln(), 1e-12));
}
