//! The derivations of the pages in `docs/`, checked one by one.
//!
//! Each test names the page and the equation it checks. One side of every
//! comparison comes from tapegrad (its ops, losses or tape), the other is
//! computed independently: by hand in plain `f64` loops, from a closed form,
//! or with a different tapegrad function. Claims already checked by other
//! test files are listed on each page with their file and test name.
//!
//! Every test here (and in `docs_claims_practice.rs`, `losses_seed_claims.rs`
//! and `losses_stability.rs`) was mutated once by hand, falsifying the claim
//! on the reference side, and seen to fail; its "Mutation check" line says how.

use tapegrad::nn::functional as F;
use tapegrad::{
    grad, grad_with, gradcheck, seeded_rng, BackwardOptions, DType, GradcheckOptions, Tensor,
};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// `a` agrees with `b` to a relative tolerance, however small `b` is (for
/// values far below 1, where `close` would accept 0).
fn rel_close(a: f64, b: f64, rtol: f64) -> bool {
    (a - b).abs() <= rtol * b.abs()
}

fn assert_all_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(close(*a, *b, tol), "{what}[{k}]: {a} vs {b}");
    }
}

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_dtype(shape, DType::F64, &mut seeded_rng(seed))
}

fn t(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape).unwrap()
}

/// Textbook softmax of one row, with the max subtracted.
fn softmax_row(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

fn sigma(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// log(1 + e^z) without overflow.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// A random distribution over `n` outcomes; `zeros` entries forced to 0.
fn distribution(n: usize, zeros: &[usize], seed: u64) -> Vec<f64> {
    let mut p = F::softmax(&randn(&[n], seed).mul_scalar(2.0), 0)
        .unwrap()
        .to_vec::<f64>();
    for &k in zeros {
        p[k] = 0.0;
    }
    let s: f64 = p.iter().sum();
    p.iter().map(|v| v / s).collect()
}

// ------------------------------------------------------- 01-scores.md

/// docs/01-scores.md, eq. (1.3): adding the same vector `u` to every class's
/// weights and the same `c` to every bias adds `u·x + c` to every score, so
/// no probability changes (only differences of scores matter).
///
/// Mutation check (run once by hand, then reverted): with biases scaled by
/// 1.01 instead of shifted by a common constant (and u dropped), this test
/// fails.
#[test]
fn shifting_every_class_by_the_same_weights_changes_no_probability() {
    let x = randn(&[5, 3], 1);
    let w = randn(&[4, 3], 2);
    let b = randn(&[4], 3);
    let u = randn(&[1, 3], 4);
    let scores = &x.matmul(&w.t()) + &b;
    let shifted = &x.matmul(&(&w + &u).t()) + &b.add_scalar(7.5);
    // The scores themselves did change ...
    let (s0, s1) = (scores.to_vec::<f64>(), shifted.to_vec::<f64>());
    assert!(s0.iter().zip(&s1).any(|(a, b)| (a - b).abs() > 1e-3));
    // ... by the same amount u·x + c within each row ...
    for r in 0..5 {
        let d0 = s1[r * 4] - s0[r * 4];
        for k in 1..4 {
            assert!(close(s1[r * 4 + k] - s0[r * 4 + k], d0, 1e-12));
        }
    }
    // ... so the probabilities did not.
    assert_all_close(
        &scores.softmax(1).to_vec::<f64>(),
        &shifted.softmax(1).to_vec::<f64>(),
        1e-13,
        "softmax",
    );
}

// ------------------------------------------------------ 02-sigmoid.md

/// docs/02-sigmoid.md, eqs. (2.4)–(2.5): dσ/ds = e^−s / (1 + e^−s)², which
/// simplifies to σ(1 − σ). The tape's gradient is compared with both forms,
/// computed by hand, and with central finite differences. Relative
/// tolerances: at s = −30 the derivative is 9.4e-14, and an absolute
/// tolerance would accept 0.
///
/// At s = +30 the tape's y(1 − y), formed from the rounded output y, is the
/// case page 2 discusses: its relative error is about 1e-3, its absolute
/// error below 2⁻⁵³, and it equals σ(1 − σ) computed by hand from the same
/// rounded σ to the last bit.
///
/// Mutation check (run once by hand, then reverted): with the reference
/// e^−s/(1 + e^−s)² multiplied by 1 + 1e-12, this test fails.
#[test]
fn sigmoid_derivative_is_sigma_times_one_minus_sigma() {
    let values = [-30.0, -6.0, -1.5, -0.2, 0.0, 0.4, 2.0, 7.0, 30.0];
    let s = t(&values, &[values.len()]).requires_grad_(true);
    s.sigmoid().sum().backward();
    let got = s.grad().unwrap().to_vec::<f64>();
    for (k, &v) in values.iter().enumerate() {
        let unsimplified = (-v).exp() / (1.0 + (-v).exp()).powi(2);
        let simplified = sigma(v) * (1.0 - sigma(v));
        if v < 10.0 {
            assert!(rel_close(got[k], unsimplified, 1e-13), "s = {v}");
            assert!(rel_close(got[k], simplified, 1e-13), "s = {v}");
        } else {
            assert_eq!(got[k], simplified, "s = {v}: y(1 − y) from the output");
            assert!((got[k] - unsimplified).abs() < f64::EPSILON / 2.0);
            assert!(!rel_close(got[k], unsimplified, 1e-6), "s = {v}");
        }
    }
    let report = gradcheck(
        |xs| xs[0].try_sigmoid(),
        &[t(&values[1..8], &[7])],
        GradcheckOptions::default(),
    )
    .unwrap();
    assert!(report.passed(), "{report}");
}

/// docs/02-sigmoid.md, eq. (2.6) and "Evaluating it without overflow":
/// σ(−s) = 1 − σ(s); the two-branch evaluation gives exact limits at ±1e4
/// (no NaN, f32 and f64), and keeps full relative precision for tiny
/// probabilities, where 1 − σ(s) has cancelled to 0.
///
/// Mutation check (run once by hand, then reverted): with σ(−40) taken as 0
/// (what the cancelled 1 − σ(40) gives); with the old absolute tolerance of
/// 1e-15 this passed, this test fails.
#[test]
fn sigmoid_symmetry_and_stable_evaluation() {
    let s = randn(&[20], 5).mul_scalar(4.0);
    let left = s.neg().sigmoid().to_vec::<f64>();
    let right = s.sigmoid().rsub_scalar(1.0).to_vec::<f64>();
    assert_all_close(&left, &right, 1e-14, "σ(−s) vs 1 − σ(s)");

    assert_eq!(
        Tensor::new([1e4f32, -1e4]).sigmoid().to_vec::<f32>(),
        vec![1.0, 0.0]
    );
    assert_eq!(
        Tensor::new([1e4f64, -1e4]).sigmoid().to_vec::<f64>(),
        vec![1.0, 0.0]
    );

    let tiny = Tensor::new([-40.0f64]).sigmoid().item::<f64>();
    let exact = (-40.0f64).exp() / (1.0 + (-40.0f64).exp());
    assert!(rel_close(tiny, exact, 1e-15), "{tiny} vs {exact}");
    // The same probability computed as 1 − σ(40) has lost every digit.
    let cancelled = 1.0 - Tensor::new([40.0f64]).sigmoid().item::<f64>();
    assert_eq!(cancelled, 0.0);
}

/// docs/02-sigmoid.md, eq. (2.7): the second derivative, from the tape's
/// second-order backward, is σ(1 − σ)(1 − 2σ).
///
/// Mutation check (run once by hand, then reverted): with the factor (1 − 2σ)
/// written as (1 − σ), this test fails.
#[test]
fn sigmoid_second_derivative_from_the_tape() {
    let values = [-3.0, -0.7, 0.0, 0.5, 2.5];
    let s = t(&values, &[5]).requires_grad_(true);
    let d1 = grad(&[&s.sigmoid().sum()], &[&s], true).unwrap().remove(0);
    let d2 = grad(&[&d1.sum()], &[&s], false).unwrap().remove(0);
    for (v, got) in values.iter().zip(d2.to_vec::<f64>()) {
        let p = sigma(*v);
        assert!(
            close(got, p * (1.0 - p) * (1.0 - 2.0 * p), 1e-14),
            "s = {v}"
        );
    }
}

// ------------------------------------------------------ 03-softmax.md

/// docs/03-softmax.md, eqs. (3.6)–(3.7): ∂p_i/∂s_j = p_i(δ_ij − p_j), i.e. the
/// Jacobian diag(p) − ppᵀ. Each row i comes from one reverse pass of the
/// tape (the gradient of p_i). Its rows sum to 0 because softmax ignores a
/// common shift (J·1 = 0, eq. (3.5)); its columns sum to 0 because Σ p = 1
/// (1ᵀJ = 0); both sums are checked on the tape's matrix.
///
/// Mutation check (run once by hand, then reverted): with the expected
/// diagonal p_i instead of p_i − p_i², this test fails.
#[test]
fn softmax_jacobian_is_diag_p_minus_p_p_transpose() {
    for (n, seed) in [(2usize, 6u64), (4, 7), (6, 8)] {
        let sv = randn(&[n], seed).mul_scalar(1.5).to_vec::<f64>();
        let s = t(&sv, &[n]).requires_grad_(true);
        let p = softmax_row(&sv);
        let mut column_sums = vec![0.0; n];
        for i in 0..n {
            let pi = s.softmax(0).narrow(0, i as isize, 1).sum();
            let row = grad(&[&pi], &[&s], false)
                .unwrap()
                .remove(0)
                .to_vec::<f64>();
            let want: Vec<f64> = (0..n)
                .map(|j| {
                    if i == j {
                        p[i] - p[i] * p[j]
                    } else {
                        -p[i] * p[j]
                    }
                })
                .collect();
            assert_all_close(&row, &want, 1e-14, "Jacobian row");
            assert!(row.iter().sum::<f64>().abs() < 1e-15, "row sum");
            for (sum, v) in column_sums.iter_mut().zip(&row) {
                *sum += v;
            }
        }
        assert!(column_sums.iter().all(|c| c.abs() < 1e-15), "column sums");
    }
}

/// docs/03-softmax.md, eqs. (3.8)–(3.9): log softmax(z)_k = z_k − LSE(z)
/// with LSE(z) = m + log Σ e^(z_j − m); computed this way it is finite
/// where log(softmax(z)) is −∞.
///
/// Mutation check (run once by hand, then reverted): with the expected
/// log-sum-exp term scaled by 0.99, this test fails.
#[test]
fn log_softmax_is_scores_minus_logsumexp_and_stays_finite() {
    let rows = [
        vec![1.0, -2.0, 0.5, 3.0],
        vec![1e4, 0.0, -1e4, 9999.0],
        vec![-800.0, -801.0, -802.0, -900.0],
    ];
    for z in rows {
        let x = t(&z, &[4]);
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let log_sum = z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let lse = m + log_sum;
        // (z_k − m) − log Σ e^(z_j − m): z_k − lse rounded at the scale of m.
        let want: Vec<f64> = z.iter().map(|v| (v - m) - log_sum).collect();
        let got = x.log_softmax(0).to_vec::<f64>();
        assert_all_close(&got, &want, 1e-14, "log_softmax");
        assert!(close(x.logsumexp(&[0], false).item::<f64>(), lse, 1e-14));
    }
    // The naive route underflows: softmax([0, −1e4]) = [1, 0] and log 0 = −∞.
    let x = Tensor::new([0.0f64, -1e4]);
    assert_eq!(x.softmax(0).log().to_vec::<f64>()[1], f64::NEG_INFINITY);
    assert_eq!(x.log_softmax(0).to_vec::<f64>(), vec![0.0, -1e4]);
}

// --------------------------------------- 04-one-hot-and-likelihood.md

/// docs/04-one-hot-and-likelihood.md, eqs. (4.4)–(4.6): the negative log of
/// the likelihood Π p_{i,T_i} is N times the mean cross-entropy; for a
/// realistic N the product underflows to 0 while the sum of logs is fine.
///
/// Mutation check (run once by hand, then reverted): with N + 1 instead of N,
/// this test fails.
#[test]
fn negative_log_likelihood_is_n_times_mean_cross_entropy() {
    for n in [5usize, 2000] {
        let c = 10;
        let x = randn(&[n, c], 9).mul_scalar(0.5);
        let labels: Vec<f64> = (0..n).map(|i| ((i * 7) % c) as f64).collect();
        let xv = x.to_vec::<f64>();
        let p_true: Vec<f64> = (0..n)
            .map(|i| softmax_row(&xv[i * c..(i + 1) * c])[labels[i] as usize])
            .collect();
        let likelihood: f64 = p_true.iter().product();
        let nll: f64 = -p_true.iter().map(|p| p.ln()).sum::<f64>();
        let ce = F::cross_entropy(&x, &t(&labels, &[n]))
            .unwrap()
            .item::<f64>();
        assert!(close(ce * n as f64, nll, 1e-12), "N = {n}");
        if n == 5 {
            assert!(close(-likelihood.ln(), nll, 1e-12));
        } else {
            assert_eq!(likelihood, 0.0, "the product underflows");
            assert!(nll.is_finite() && nll > 1000.0);
        }
    }
}

/// docs/04-one-hot-and-likelihood.md, eqs. (4.7)–(4.8): with one shared
/// score vector z for all samples, the gradient of the mean cross-entropy is
/// softmax(z) − f (f = class frequencies), so the maximum-likelihood
/// probabilities are the frequencies; there the loss is the entropy of f.
///
/// Mutation check (run once by hand, then reverted): with frequencies (3/8,
/// 1/8, 4/8) instead of the true (2/8, 1/8, 5/8), this test fails.
#[test]
fn maximum_likelihood_without_features_gives_the_class_frequencies() {
    let labels = [0.0, 2.0, 2.0, 1.0, 2.0, 0.0, 2.0, 2.0];
    let freq = [2.0 / 8.0, 1.0 / 8.0, 5.0 / 8.0];
    let target = t(&labels, &[8]);
    let loss_at = |z: &Tensor| F::cross_entropy(&z.unsqueeze(0).expand(&[8, 3]), &target).unwrap();

    let z0 = Tensor::new([0.3f64, -1.0, 0.8]).requires_grad_(true);
    loss_at(&z0).backward();
    let p0 = softmax_row(&z0.detach().to_vec::<f64>());
    let want: Vec<f64> = (0..3).map(|k| p0[k] - freq[k]).collect();
    assert_all_close(&z0.grad().unwrap().to_vec::<f64>(), &want, 1e-14, "p − f");

    let z = t(&freq.map(f64::ln), &[3]).requires_grad_(true);
    let loss = loss_at(&z);
    let entropy: f64 = -freq.iter().map(|f| f * f.ln()).sum::<f64>();
    assert!(close(loss.item::<f64>(), entropy, 1e-14));
    loss.backward();
    assert!(z
        .grad()
        .unwrap()
        .to_vec::<f64>()
        .iter()
        .all(|g| g.abs() < 1e-15));
}

// ------------------------------------------------ 05-cross-entropy.md

/// docs/05-cross-entropy.md, eq. (5.8): label smoothing ε replaces the
/// one-hot target by q = (1 − ε)·onehot + ε/C; the loss equals
/// cross-entropy against that distribution, and the gradient is (p − q)/N.
///
/// Mutation check (run once by hand, then reverted): with ε/(C − 1) instead
/// of ε/C in q, this test fails.
#[test]
fn label_smoothing_is_cross_entropy_against_the_smoothed_target() {
    let (n, c, eps) = (4usize, 5usize, 0.2);
    let labels = [3.0, 0.0, 4.0, 1.0];
    let x = randn(&[n, c], 10).requires_grad_(true);
    let opts = F::CrossEntropyOptions::default().label_smoothing(eps);
    let smoothed = F::cross_entropy_with(&x, &t(&labels, &[n]), &opts).unwrap();

    let xv = x.detach().to_vec::<f64>();
    let mut q = vec![eps / c as f64; n * c];
    for (i, &y) in labels.iter().enumerate() {
        q[i * c + y as usize] += 1.0 - eps;
    }
    let mut by_hand = 0.0;
    let mut grad_by_hand = vec![0.0; n * c];
    for i in 0..n {
        let p = softmax_row(&xv[i * c..(i + 1) * c]);
        for k in 0..c {
            by_hand -= q[i * c + k] * p[k].ln() / n as f64;
            grad_by_hand[i * c + k] = (p[k] - q[i * c + k]) / n as f64;
        }
    }
    assert!(close(smoothed.item::<f64>(), by_hand, 1e-14));
    let against_q = F::cross_entropy(&x.detach(), &t(&q, &[n, c])).unwrap();
    assert!(close(against_q.item::<f64>(), by_hand, 1e-14));
    smoothed.backward();
    assert_all_close(
        &x.grad().unwrap().to_vec::<f64>(),
        &grad_by_hand,
        1e-14,
        "(p − q)/N",
    );
}

/// docs/05-cross-entropy.md, eqs. (5.9)–(5.10): with class weights, the mean
/// divides Σ w[yᵢ]·(−log p_{i,yᵢ}) by Σ w[yᵢ]; positions whose target is
/// ignore_index count in neither sum.
///
/// Mutation check (run once by hand, then reverted): with the divisor
/// counting positions (1 each) instead of summing their weights, this test
/// fails.
#[test]
fn weighted_mean_divides_by_the_summed_weights_of_kept_positions() {
    let (n, c) = (5usize, 3usize);
    let labels = [2.0, -100.0, 0.0, 2.0, 1.0];
    let w = [0.5, 2.0, 3.0];
    let x = randn(&[n, c], 11);
    let xv = x.to_vec::<f64>();
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &y) in labels.iter().enumerate() {
        if y < 0.0 {
            continue;
        }
        let k = y as usize;
        num -= w[k] * softmax_row(&xv[i * c..(i + 1) * c])[k].ln();
        den += w[k];
    }
    let opts = F::CrossEntropyOptions::default().weight(t(&w, &[c]));
    let got = F::cross_entropy_with(&x, &t(&labels, &[n]), &opts)
        .unwrap()
        .item::<f64>();
    assert!(close(got, num / den, 1e-14), "{got} vs {}", num / den);
    let sum_opts = opts.reduction(F::Reduction::Sum);
    let sum = F::cross_entropy_with(&x, &t(&labels, &[n]), &sum_opts)
        .unwrap()
        .item::<f64>();
    assert!(close(sum, num, 1e-14));
}

/// docs/05-cross-entropy.md, eqs. (5.11)–(5.13): class weights and label
/// smoothing together, as the code computes them. At a kept position n with
/// label yₙ the target is q_c = (1 − ε)·w[yₙ]·[c = yₙ] + (ε/C)·w_c, its
/// total Sₙ = (1 − ε)·w[yₙ] + (ε/C)·Σ_c w_c, the gradient of the mean is
/// (Sₙ·p − q)/D with D = Σ_kept w[yₙ] (smoothing does not change the
/// divisor), ignored positions get 0, and the gradient vanishes at p = q/Sₙ.
///
/// Mutation check (run once by hand, then reverted): with the expected
/// gradient (p − q)/D, i.e. S_n replaced by 1, this test fails.
#[test]
fn weighted_smoothed_gradient_is_s_p_minus_q_over_the_summed_label_weights() {
    let (n, c, eps) = (5usize, 4usize, 0.3);
    let labels = [3.0, -100.0, 0.0, 3.0, 1.0];
    let w = [0.5, 2.0, 3.0, 1.25];
    let x = randn(&[n, c], 60).requires_grad_(true);
    let opts = F::CrossEntropyOptions::default()
        .weight(t(&w, &[c]))
        .label_smoothing(eps);
    let loss = F::cross_entropy_with(&x, &t(&labels, &[n]), &opts).unwrap();

    let xv = x.detach().to_vec::<f64>();
    let w_total: f64 = w.iter().sum();
    let den: f64 = labels
        .iter()
        .filter(|&&y| y >= 0.0)
        .map(|&y| w[y as usize])
        .sum();
    let (mut num, mut grad_by_hand) = (0.0, vec![0.0; n * c]);
    for (i, &y) in labels.iter().enumerate() {
        if y < 0.0 {
            continue; // ignored: contributes nothing, gradient 0
        }
        let y = y as usize;
        let p = softmax_row(&xv[i * c..(i + 1) * c]);
        let q: Vec<f64> = (0..c)
            .map(|k| (1.0 - eps) * w[y] * f64::from(u8::from(k == y)) + eps / c as f64 * w[k])
            .collect();
        let s_n = (1.0 - eps) * w[y] + eps / c as f64 * w_total;
        assert!(close(q.iter().sum::<f64>(), s_n, 1e-15));
        for k in 0..c {
            num -= q[k] * p[k].ln();
            grad_by_hand[i * c + k] = (s_n * p[k] - q[k]) / den;
        }
    }
    assert!(close(loss.item::<f64>(), num / den, 1e-14));
    loss.backward();
    let g = x.grad().unwrap().to_vec::<f64>();
    assert_all_close(&g, &grad_by_hand, 1e-14, "(S·p − q)/D");
    assert!(g[c..2 * c].iter().all(|&v| v == 0.0), "ignored row");

    // One position, logits log(q/S): the gradient is 0 there, and the
    // optimum is q/S, not the unweighted smoothed target of (5.8).
    let y = 0usize;
    let q: Vec<f64> = (0..c)
        .map(|k| (1.0 - eps) * w[y] * f64::from(u8::from(k == y)) + eps / c as f64 * w[k])
        .collect();
    let s_n: f64 = q.iter().sum();
    let at_opt = t(
        &q.iter().map(|v| (v / s_n).ln()).collect::<Vec<_>>(),
        &[1, c],
    )
    .requires_grad_(true);
    F::cross_entropy_with(&at_opt, &t(&[y as f64], &[1]), &opts)
        .unwrap()
        .backward();
    let g = at_opt.grad().unwrap().to_vec::<f64>();
    assert!(g.iter().all(|v| v.abs() < 1e-15), "{g:?}");
    let unweighted_q0 = 1.0 - eps + eps / c as f64;
    assert!((q[0] / s_n - unweighted_q0).abs() > 0.01);
}

/// docs/05-cross-entropy.md, eq. (5.14): with probability targets and class
/// weights, the loss at a position is −Σ_k w_k t_k log p_k and the mean
/// divides by the number of positions, not by any sum of weights.
///
/// Mutation check (run once by hand, then reverted): with dividing by the
/// summed class weights instead of the number of positions, this test fails.
#[test]
fn probability_targets_with_weights_average_over_positions() {
    let (n, c) = (3usize, 4usize);
    let w = [1.0, 0.25, 2.0, 1.5];
    let x = randn(&[n, c], 12);
    let target = F::softmax(&randn(&[n, c], 13), 1).unwrap();
    let (xv, tv) = (x.to_vec::<f64>(), target.to_vec::<f64>());
    let mut total = 0.0;
    for i in 0..n {
        let p = softmax_row(&xv[i * c..(i + 1) * c]);
        for k in 0..c {
            total -= w[k] * tv[i * c + k] * p[k].ln();
        }
    }
    let opts = F::CrossEntropyOptions::default().weight(t(&w, &[c]));
    let got = F::cross_entropy_with(&x, &target, &opts)
        .unwrap()
        .item::<f64>();
    assert!(close(got, total / n as f64, 1e-14));
}

// ---------------------------------------- 06-binary-cross-entropy.md

/// docs/06-binary-cross-entropy.md, eqs. (6.3)–(6.6): with p = σ(z),
/// −[y log p + (1 − y) log(1 − p)] = softplus(z) − y·z, using
/// log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z) and
/// softplus(z) − softplus(−z) = z.
///
/// Mutation check (run once by hand, then reverted): with the closed form
/// softplus(s) − 0.999·y·s, this test fails.
#[test]
fn bce_with_logits_is_softplus_minus_y_times_s() {
    let zv: Vec<f64> = randn(&[12], 14).mul_scalar(3.0).to_vec::<f64>();
    let yv: Vec<f64> = (0..12).map(|i| [0.0, 1.0, 0.3][i % 3]).collect();
    let (z, y) = (t(&zv, &[12]), t(&yv, &[12]));
    let none = F::BceWithLogitsOptions::default().reduction(F::Reduction::None);
    let got = F::binary_cross_entropy_with_logits_with(&z, &y, &none)
        .unwrap()
        .to_vec::<f64>();
    let via_probabilities = F::binary_cross_entropy_with(
        &z.sigmoid(),
        &y,
        &F::BceOptions::default().reduction(F::Reduction::None),
    )
    .unwrap()
    .to_vec::<f64>();
    for k in 0..12 {
        let (zk, yk) = (zv[k], yv[k]);
        let p = sigma(zk);
        let definition = -(yk * p.ln() + (1.0 - yk) * (1.0 - p).ln());
        let steps = yk * softplus(-zk) + (1.0 - yk) * softplus(zk);
        let closed = softplus(zk) - yk * zk;
        assert!(close(softplus(zk) - softplus(-zk), zk, 1e-14));
        assert!(close(steps, definition, 1e-12), "step, z = {zk}");
        assert!(close(got[k], closed, 1e-14), "closed form, z = {zk}");
        assert!(close(got[k], definition, 1e-12), "definition, z = {zk}");
        assert!(close(via_probabilities[k], closed, 1e-12));
    }
    // Far out, only the closed form survives in f32: σ(−200) rounds to 0,
    // so the probability route hits the −100 clamp, while softplus(−200)
    // + 200 − 0 is the exact 200.
    let z32 = Tensor::new([-200.0f32]);
    let y32 = Tensor::new([1.0f32]);
    let logits_loss = F::binary_cross_entropy_with_logits(&z32, &y32).unwrap();
    let prob_loss = F::binary_cross_entropy(&z32.sigmoid(), &y32).unwrap();
    assert_eq!(logits_loss.item::<f32>(), 200.0);
    assert_eq!(prob_loss.item::<f32>(), 100.0);
}

/// docs/06-binary-cross-entropy.md, eq. (6.7): d/dz [softplus(z) − yz] =
/// σ(z) − y, from the tape's fused and composed (create_graph) backward,
/// and the second derivative σ(1 − σ) that Newton's method uses.
///
/// Mutation check (run once by hand, then reverted): with the expected
/// gradient σ(s) − 0.99·y, this test fails.
#[test]
fn bce_with_logits_gradient_is_sigmoid_minus_y() {
    let zv = [-9.0, -2.0, -0.1, 0.0, 0.6, 3.0, 12.0];
    let yv = [1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0];
    let y = t(&yv, &[7]);
    let sum = F::BceWithLogitsOptions::default().reduction(F::Reduction::Sum);
    let z = t(&zv, &[7]).requires_grad_(true);
    let loss = F::binary_cross_entropy_with_logits_with(&z, &y, &sum).unwrap();
    let fused = grad(&[&loss], &[&z], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let loss = F::binary_cross_entropy_with_logits_with(&z, &y, &sum).unwrap();
    let g = grad(&[&loss], &[&z], true).unwrap().remove(0);
    let composed = g.to_vec::<f64>();
    let second = grad(&[&g.sum()], &[&z], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    for k in 0..7 {
        let want = sigma(zv[k]) - yv[k];
        assert!(close(fused[k], want, 1e-15), "fused, z = {}", zv[k]);
        assert!(close(composed[k], want, 1e-15), "composed, z = {}", zv[k]);
        let p = sigma(zv[k]);
        assert!(
            close(second[k], p * (1.0 - p), 1e-14),
            "second, z = {}",
            zv[k]
        );
    }
}

/// docs/06-binary-cross-entropy.md, eqs. (6.8)–(6.9): pos_weight a scales
/// the positive term, ℓ = −[a·y·log σ(z) + (1 − y)·log(1 − σ(z))], with
/// gradient (a·y + 1 − y)·σ(z) − a·y.
///
/// Mutation check (run once by hand, then reverted): with the expected
/// gradient σ(s) − a·y, without the factor (a·y + 1 − y), this test fails.
#[test]
fn pos_weight_scales_the_positive_term() {
    let zv = [-1.5, 0.2, 2.5, -0.4];
    let yv = [1.0, 0.0, 1.0, 0.25];
    let a = 3.0;
    let z = t(&zv, &[4]).requires_grad_(true);
    let opts = F::BceWithLogitsOptions::default()
        .pos_weight(t(&[a], &[1]))
        .reduction(F::Reduction::Sum);
    let loss = F::binary_cross_entropy_with_logits_with(&z, &t(&yv, &[4]), &opts).unwrap();
    let mut want_loss = 0.0;
    for k in 0..4 {
        let p = sigma(zv[k]);
        want_loss -= a * yv[k] * p.ln() + (1.0 - yv[k]) * (1.0 - p).ln();
    }
    assert!(close(loss.item::<f64>(), want_loss, 1e-13));
    loss.backward();
    let g = z.grad().unwrap().to_vec::<f64>();
    for k in 0..4 {
        let want = (a * yv[k] + 1.0 - yv[k]) * sigma(zv[k]) - a * yv[k];
        assert!(close(g[k], want, 1e-14), "z = {}", zv[k]);
    }
}

/// docs/06-binary-cross-entropy.md, eq. (6.10): binary_cross_entropy clamps
/// each log at −100, so p = 0 or 1 costs at most 100 per element, and the
/// gradient divides by max(p(1 − p), 1e-12).
///
/// Mutation check (run once by hand, then reverted): with a gradient floor of
/// 1e-11 expected instead of 1e-12, this test fails.
#[test]
fn bce_clamps_each_log_term_at_minus_100() {
    let none = F::BceOptions::default().reduction(F::Reduction::None);
    let p = Tensor::new([0.0f64, 1.0, (-150.0f64).exp(), 0.5]).requires_grad_(true);
    let y = Tensor::new([1.0f64, 0.0, 1.0, 1.0]);
    let loss = F::binary_cross_entropy_with(&p, &y, &none).unwrap();
    let v = loss.to_vec::<f64>();
    assert_eq!(v[..3], [100.0, 100.0, 100.0]); // the true value of the third is 150
    assert!(close(v[3], 2f64.ln(), 1e-15));
    loss.sum().backward();
    let g = p.grad().unwrap().to_vec::<f64>();
    assert_eq!(g[0], -1e12); // (0 − 1) / 1e-12
    assert_eq!(g[1], 1e12);
    assert!(close(g[3], -2.0, 1e-15)); // (p − y)/(p(1 − p)) = −0.5/0.25
}

/// docs/06-binary-cross-entropy.md, "where the clamp and the floor are
/// active": for y = 1 and p = 1e-14 the loss is exact (32.2) but the
/// gradient is (p − 1)/1e-12 ≈ −1e12, a hundred times smaller than the
/// true derivative −1/p; for p = e^−150 the clamped loss is flat (100 at p
/// and at 2p, so its derivative is 0) while the gradient is still ≈ −1e12.
/// Both are surrogates, not derivatives of the loss that is reported.
///
/// Mutation check (run once by hand, then reverted): with the true
/// derivative −1/p expected at p = 1e-14, this test fails.
#[test]
fn bce_gradient_is_a_surrogate_where_the_clamp_or_the_floor_is_active() {
    let none = F::BceOptions::default().reduction(F::Reduction::None);
    let y = Tensor::new([1.0f64]);
    let loss_at = |p: f64| {
        F::binary_cross_entropy_with(&Tensor::new([p]), &y, &none)
            .unwrap()
            .item::<f64>()
    };
    let grad_at = |p: f64| {
        let x = Tensor::new([p]).requires_grad_(true);
        F::binary_cross_entropy_with(&x, &y, &none)
            .unwrap()
            .sum()
            .backward();
        x.grad().unwrap().item::<f64>()
    };
    // Floor only: the loss is −log p, its derivative −1/p = −1e14.
    let p = 1e-14;
    assert!(rel_close(loss_at(p), -p.ln(), 1e-15));
    let h = p * 1e-4;
    let derivative = (loss_at(p + h) - loss_at(p - h)) / (2.0 * h);
    assert!(rel_close(derivative, -1.0 / p, 1e-6), "{derivative}");
    assert!(rel_close(grad_at(p), (p - 1.0) / 1e-12, 1e-15));
    assert!(grad_at(p) / derivative < 0.011);
    // Clamp: the reported loss is 100 on a whole interval, so it is flat.
    let p = (-150.0f64).exp();
    assert_eq!(loss_at(p), 100.0);
    assert_eq!(loss_at(2.0 * p), 100.0);
    assert!(rel_close(grad_at(p), (p - 1.0) / 1e-12, 1e-15));
}

// -------------------------------------------------- 07-why-the-log.md

/// docs/07-why-the-log.md, eqs. (7.1)–(7.3): −log p grows without bound as
/// p → 0 and its derivative is −1/p; seen from the true class's score the
/// gradient is p − 1, which tends to −1 and never blows up.
///
/// Mutation check (run once by hand, then reverted): with −1/p² expected
/// instead of −1/p, this test fails.
#[test]
fn neg_log_penalty_and_its_gradients_as_p_goes_to_zero() {
    for p in [0.9f64, 0.5, 0.1, 1e-3, 1e-8] {
        let x = Tensor::new([p]).requires_grad_(true);
        let loss = x.log().neg().sum();
        assert!(close(loss.item::<f64>(), -p.ln(), 1e-15));
        loss.backward();
        assert!(close(x.grad().unwrap().item::<f64>(), -1.0 / p, 1e-15));
    }
    // Two classes, true class 0, its probability e^m/(e^m + 1) for margin m.
    for m in [2.0, -2.0, -10.0, -30.0] {
        let z = Tensor::new([[m, 0.0f64]]).requires_grad_(true);
        F::cross_entropy(&z, &Tensor::new([0.0f64]))
            .unwrap()
            .backward();
        let g = z.grad().unwrap().to_vec::<f64>();
        let p = sigma(m);
        assert!(close(g[0], p - 1.0, 1e-15) && g[0] >= -1.0);
        assert!(close(g[1], 1.0 - p, 1e-15));
    }
}

/// docs/07-why-the-log.md, eqs. (7.4)–(7.6): squared error on σ(z) has
/// gradient 2(σ − y)·σ(1 − σ), which vanishes on a confident mistake;
/// cross-entropy's σ − y does not. The same holds for softmax outputs.
///
/// Mutation check (run once by hand, then reverted): with the claim that the
/// squared-error gradient at s = −20 is above 1e-3, this test fails.
#[test]
fn squared_error_stalls_on_confident_mistakes_cross_entropy_does_not() {
    for z0 in [-2.0, -8.0, -20.0] {
        let z = Tensor::new([z0]).requires_grad_(true);
        let y = Tensor::new([1.0f64]);
        let se = (&z.sigmoid() - &y).square().sum();
        let g_se = grad(&[&se], &[&z], false).unwrap().remove(0).item::<f64>();
        let ce = F::binary_cross_entropy_with_logits(&z, &y).unwrap();
        let g_ce = grad(&[&ce], &[&z], false).unwrap().remove(0).item::<f64>();
        let p = sigma(z0);
        assert!(close(g_se, 2.0 * (p - 1.0) * p * (1.0 - p), 1e-14));
        assert!(close(g_ce, p - 1.0, 1e-15));
        if z0 == -20.0 {
            assert!(g_se.abs() < 1e-8, "{g_se}");
            assert!(g_ce < -0.999_999, "{g_ce}");
        }
    }
    // Softmax, three classes: sure of class 1 by a margin of 25, truth 0.
    let z = Tensor::new([[0.0f64, 25.0, 0.0]]).requires_grad_(true);
    let onehot = Tensor::new([[1.0f64, 0.0, 0.0]]);
    let se = (&z.softmax(1) - &onehot).square().sum();
    let g_se = grad(&[&se], &[&z], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let ce = F::cross_entropy(&z, &Tensor::new([0.0f64])).unwrap();
    let g_ce = grad(&[&ce], &[&z], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    assert!(g_se.iter().all(|g| g.abs() < 1e-9), "{g_se:?}");
    assert!(g_ce[0] < -0.999_999 && g_ce[1] > 0.999_999, "{g_ce:?}");
}

// ------------------------------------------------ 08-kl-divergence.md

/// docs/08-kl-divergence.md, eqs. (8.3)–(8.5), Gibbs' inequality step by
/// step: −KL(P‖Q) = Σ_{p>0} p log(q/p) ≤ Σ_{p>0} p (q/p − 1) = Σ_{p>0} q − 1
/// ≤ 0, on random distributions (some with zeros in P), with KL from
/// kl_div; equality exactly when Q = P.
///
/// Mutation check (run once by hand, then reverted): with the linear bound
/// lowered by 0.5 (a bound that does not hold), this test fails.
#[test]
fn gibbs_inequality_step_by_step_on_random_distributions() {
    for seed in 0..30u64 {
        let zeros: &[usize] = match seed % 3 {
            0 => &[],
            1 => &[2],
            _ => &[0, 4],
        };
        let p = distribution(6, zeros, 300 + seed);
        let q = distribution(6, &[], 400 + seed);
        let kl = F::kl_div_with(
            &t(&q, &[6]).log(),
            &t(&p, &[6]),
            &F::KlDivOptions::default().reduction(F::KlReduction::Sum),
        )
        .unwrap()
        .item::<f64>();
        let support: Vec<usize> = (0..6).filter(|&k| p[k] > 0.0).collect();
        let minus_kl: f64 = support.iter().map(|&k| p[k] * (q[k] / p[k]).ln()).sum();
        let linear_bound: f64 = support.iter().map(|&k| p[k] * (q[k] / p[k] - 1.0)).sum();
        let mass_on_support: f64 = support.iter().map(|&k| q[k]).sum();
        assert!(close(-kl, minus_kl, 1e-13), "seed {seed}");
        assert!(
            minus_kl <= linear_bound + 1e-15,
            "log x ≤ x − 1, seed {seed}"
        );
        assert!(close(linear_bound, mass_on_support - 1.0, 1e-13));
        assert!(mass_on_support <= 1.0 + 1e-15);
        assert!(kl > 0.0, "P ≠ Q gives a positive KL, seed {seed}");
        let self_kl = F::kl_div_with(
            &t(&p, &[6]).log(),
            &t(&p, &[6]),
            &F::KlDivOptions::default().reduction(F::KlReduction::Sum),
        )
        .unwrap()
        .item::<f64>();
        assert_eq!(self_kl, 0.0);
    }
}

/// docs/08-kl-divergence.md, eq. (8.7): H(P, Q) − KL(P‖Q) = H(P) is the same
/// number for every Q, so the Q that minimises one minimises the other.
///
/// Mutation check (run once by hand, then reverted): with H − 0.9·KL instead
/// of H − KL, this test fails.
#[test]
fn cross_entropy_minus_kl_does_not_depend_on_q() {
    let p = F::softmax(&randn(&[3, 5], 15), 1).unwrap();
    let pv = p.to_vec::<f64>();
    let entropy = -pv.iter().map(|v| v * v.ln()).sum::<f64>() / 3.0;
    let batchmean = F::KlDivOptions::default().reduction(F::KlReduction::BatchMean);
    for seed in 16..22u64 {
        let logits = randn(&[3, 5], seed).mul_scalar(2.0);
        let h = F::cross_entropy(&logits, &p).unwrap().item::<f64>();
        let kl = F::kl_div_with(&logits.log_softmax(1), &p, &batchmean)
            .unwrap()
            .item::<f64>();
        assert!(
            close(h - kl, entropy, 1e-13),
            "seed {seed}: {} vs {entropy}",
            h - kl
        );
    }
}

/// docs/08-kl-divergence.md, eq. (8.8): kl_div's 'batchmean' divides the sum
/// by the batch size N (the KL per sample); 'mean' divides by every element
/// N·C, which is not a KL divergence.
///
/// Mutation check (run once by hand, then reverted): with batchmean expected
/// to divide by C instead of N, this test fails.
#[test]
fn kl_batchmean_divides_by_the_batch_and_mean_by_every_element() {
    let (n, c) = (4usize, 3usize);
    let p = F::softmax(&randn(&[n, c], 23), 1).unwrap();
    let logq = randn(&[n, c], 24).log_softmax(1);
    let (pv, qv) = (p.to_vec::<f64>(), logq.to_vec::<f64>());
    let total: f64 = (0..n * c).map(|k| pv[k] * (pv[k].ln() - qv[k])).sum();
    let with = |r: F::KlReduction| {
        F::kl_div_with(&logq, &p, &F::KlDivOptions::default().reduction(r))
            .unwrap()
            .item::<f64>()
    };
    assert!(close(with(F::KlReduction::Sum), total, 1e-14));
    assert!(close(
        with(F::KlReduction::BatchMean),
        total / n as f64,
        1e-14
    ));
    assert!(close(
        with(F::KlReduction::Mean),
        total / (n * c) as f64,
        1e-14
    ));
}

// ---------------------------------------------- 09-backward-rules.md

/// docs/09-backward-rules.md, eq. (9.6): for C = A·B and upstream gradient
/// G, ∂L/∂A = G·Bᵀ and ∂L/∂B = Aᵀ·G, compared with hand-written loops;
/// with a batch of A against one B, B's gradient is summed over the batch.
///
/// Mutation check (run once by hand, then reverted): with a shifted index
/// into B in the hand loop for G·Bᵀ, this test fails.
#[test]
fn matmul_backward_is_g_b_transpose_and_a_transpose_g() {
    let (n, k, m) = (3usize, 4usize, 2usize);
    let a = randn(&[n, k], 25).requires_grad_(true);
    let b = randn(&[k, m], 26).requires_grad_(true);
    let g = randn(&[n, m], 27);
    let c = a.matmul(&b);
    let grads = grad_with(&[&c], &[&g], &[&a, &b], BackwardOptions::default()).unwrap();
    let (av, bv, gv) = (
        a.detach().to_vec::<f64>(),
        b.detach().to_vec::<f64>(),
        g.to_vec::<f64>(),
    );
    let mut ga = vec![0.0; n * k];
    let mut gb = vec![0.0; k * m];
    for i in 0..n {
        for p in 0..k {
            for j in 0..m {
                ga[i * k + p] += gv[i * m + j] * bv[p * m + j];
                gb[p * m + j] += av[i * k + p] * gv[i * m + j];
            }
        }
    }
    assert_all_close(&grads[0].to_vec::<f64>(), &ga, 1e-14, "G·Bᵀ");
    assert_all_close(&grads[1].to_vec::<f64>(), &gb, 1e-14, "Aᵀ·G");

    // A batch [2, n, k] against one B [k, m]: B was broadcast over the batch.
    let a2 = randn(&[2, n, k], 28).requires_grad_(true);
    let g2 = randn(&[2, n, m], 29);
    let c2 = a2.matmul(&b);
    let gb2 = grad_with(&[&c2], &[&g2], &[&b], BackwardOptions::default())
        .unwrap()
        .remove(0);
    let (av2, gv2) = (a2.detach().to_vec::<f64>(), g2.to_vec::<f64>());
    let mut want = vec![0.0; k * m];
    for s in 0..2 {
        for i in 0..n {
            for p in 0..k {
                for j in 0..m {
                    want[p * m + j] += av2[s * n * k + i * k + p] * gv2[s * n * m + i * m + j];
                }
            }
        }
    }
    assert_all_close(&gb2.to_vec::<f64>(), &want, 1e-14, "Σ_batch Aᵀ·G");
}

/// docs/09-backward-rules.md, eqs. (9.8)–(9.9): expand and sum_to are
/// adjoint, ⟨expand(x), y⟩ = ⟨x, sum_to(y)⟩, which is why the gradient of
/// a broadcast is a sum; and the gradient of a broadcasting mul is the
/// elementwise rule followed by sum_to.
///
/// Mutation check (run once by hand, then reverted): with the right-hand side
/// ⟨x, sum_to(y)⟩ scaled by 1.001, this test fails.
#[test]
fn expand_and_sum_to_are_adjoint_and_undo_broadcasting() {
    let cases: [(&[usize], &[usize]); 4] = [
        (&[3, 1], &[3, 4]),
        (&[4], &[2, 3, 4]),
        (&[1, 3, 1], &[2, 3, 5]),
        (&[], &[2, 2]),
    ];
    for (seed, (small, big)) in cases.iter().enumerate() {
        let x = randn(small, 30 + seed as u64);
        let y = randn(big, 40 + seed as u64);
        let lhs = (&x.expand(big) * &y).sum().item::<f64>();
        let rhs = (&x * &y.sum_to(small)).sum().item::<f64>();
        assert!(close(lhs, rhs, 1e-13), "{small:?} → {big:?}");
        // The tape's gradient of Σ y ⊙ expand(x) is sum_to(y).
        let xl = x.requires_grad_(true);
        let gx = grad(&[&(&xl.expand(big) * &y).sum()], &[&xl], false)
            .unwrap()
            .remove(0);
        assert_all_close(
            &gx.to_vec::<f64>(),
            &y.sum_to(small).to_vec::<f64>(),
            1e-14,
            "grad of expand",
        );
    }
    // a [3, 1] ⊙ b [1, 4] with upstream G: ∂/∂a_i = Σ_j G_ij b_j.
    let a = randn(&[3, 1], 50).requires_grad_(true);
    let b = randn(&[1, 4], 51).requires_grad_(true);
    let g = randn(&[3, 4], 52);
    let grads = grad_with(&[&(&a * &b)], &[&g], &[&a, &b], BackwardOptions::default()).unwrap();
    let (av, bv, gv) = (
        a.detach().to_vec::<f64>(),
        b.detach().to_vec::<f64>(),
        g.to_vec::<f64>(),
    );
    let ga: Vec<f64> = (0..3)
        .map(|i| (0..4).map(|j| gv[i * 4 + j] * bv[j]).sum())
        .collect();
    let gb: Vec<f64> = (0..4)
        .map(|j| (0..3).map(|i| gv[i * 4 + j] * av[i]).sum())
        .collect();
    assert_all_close(&grads[0].to_vec::<f64>(), &ga, 1e-14, "∂/∂a");
    assert_all_close(&grads[1].to_vec::<f64>(), &gb, 1e-14, "∂/∂b");
}

/// docs/09-backward-rules.md, eq. (9.7): the backward of a sum copies the
/// upstream gradient to every summed element, and the mean divides it by
/// the count.
///
/// Mutation check (run once by hand, then reverted): with the mean's gradient
/// expected as 1/5 instead of 1/6, this test fails.
#[test]
fn sum_and_mean_backward_copy_the_gradient() {
    let x = randn(&[2, 3], 53).requires_grad_(true);
    let g = t(&[1.5, -2.0], &[2]);
    let gs = grad_with(
        &[&x.sum_dim(1, false)],
        &[&g],
        &[&x],
        BackwardOptions::default(),
    )
    .unwrap()
    .remove(0);
    assert_eq!(gs.to_vec::<f64>(), vec![1.5, 1.5, 1.5, -2.0, -2.0, -2.0]);
    let gm = grad(&[&x.mean()], &[&x], false).unwrap().remove(0);
    assert!(gm
        .to_vec::<f64>()
        .iter()
        .all(|v| close(*v, 1.0 / 6.0, 1e-15)));
}

/// docs/09-backward-rules.md, eq. (9.10): softmax's backward returns
/// Jᵀg = p ⊙ (g − ⟨g, p⟩) without forming J; compared with the explicit
/// (diag(p) − ppᵀ)·g.
///
/// Mutation check (run once by hand, then reverted): with J·g summed with g_i
/// instead of g_j, this test fails.
#[test]
fn softmax_backward_is_the_jacobian_times_g_without_forming_it() {
    let n = 5;
    let zv = randn(&[n], 54).to_vec::<f64>();
    let gv = randn(&[n], 55).to_vec::<f64>();
    let z = t(&zv, &[n]).requires_grad_(true);
    let got = grad_with(
        &[&z.softmax(0)],
        &[&t(&gv, &[n])],
        &[&z],
        BackwardOptions::default(),
    )
    .unwrap()
    .remove(0)
    .to_vec::<f64>();
    let p = softmax_row(&zv);
    let want: Vec<f64> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    let jac = if i == j {
                        p[i] - p[i] * p[j]
                    } else {
                        -p[i] * p[j]
                    };
                    jac * gv[j]
                })
                .sum()
        })
        .collect();
    assert_all_close(&got, &want, 1e-14, "Jᵀg");
}

/// docs/09-backward-rules.md, eq. (9.12): a Hessian-vector product is the
/// gradient of ⟨∇f, v⟩; for f(x) = Σ tanh(x)·x the Hessian is diagonal with
/// entries 2(1 − tanh²) − 2x·tanh·(1 − tanh²).
///
/// Mutation check (run once by hand, then reverted): with the Hessian's
/// second term with factor 1 instead of 2, this test fails.
#[test]
fn hessian_vector_product_is_the_gradient_of_a_dot_product() {
    let xv = [-1.2, -0.3, 0.4, 1.1];
    let vv = [0.5, -1.0, 2.0, 0.25];
    let x = t(&xv, &[4]).requires_grad_(true);
    let f = (&x.tanh() * &x).sum();
    let g = grad(&[&f], &[&x], true).unwrap().remove(0);
    let hv = grad(&[&(&g * &t(&vv, &[4])).sum()], &[&x], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    for k in 0..4 {
        let th = xv[k].tanh();
        let d = 1.0 - th * th;
        let h = 2.0 * d - 2.0 * xv[k] * th * d;
        assert!(close(hv[k], h * vv[k], 1e-14), "k = {k}");
    }
}
