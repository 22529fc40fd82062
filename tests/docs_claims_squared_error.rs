//! The claims of `docs/10-squared-error.md`, checked one by one.
//!
//! Each test names the equation it checks. One side of every comparison
//! comes from tapegrad (its losses, ops or tape); the other is computed
//! independently in plain `f64`: from the formula, by finite differences, or
//! with a small Gaussian elimination written here. Tolerances are relative.

use tapegrad::nn::functional::{self as F, Reduction};
use tapegrad::{grad, grad_with, seeded_rng, BackwardOptions, DType, Tensor};

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_dtype(shape, DType::F64, &mut seeded_rng(seed))
}

fn t(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape).unwrap()
}

/// `|a − b| <= rtol·|b|`, with `scale` standing in for `|b|` when the
/// expected value is (near) zero and the natural size of the quantity is
/// known.
fn close(a: f64, b: f64, rtol: f64, scale: f64) -> bool {
    (a - b).abs() <= rtol * b.abs().max(scale)
}

fn assert_all_close(got: &[f64], want: &[f64], rtol: f64, scale: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(close(*a, *b, rtol, scale), "{what}[{k}]: {a:e} vs {b:e}");
    }
}

fn sum_reduction() -> F::MseLossOptions {
    F::MseLossOptions::default().reduction(Reduction::Sum)
}

fn sigma(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// (10.3): the mean negative log of the Gaussian density (10.2), evaluated
/// as a density and then logged, equals MSE/(2σ²) + ½·log(2πσ²).
#[test]
fn mse_is_the_gaussian_negative_log_likelihood_up_to_scale_and_shift() {
    let yhat = randn(&[50], 1);
    let y = randn(&[50], 2).mul_scalar(1.5);
    let mse = F::mse_loss(&yhat, &y).unwrap().item::<f64>();
    let (p, q) = (yhat.to_vec::<f64>(), y.to_vec::<f64>());
    for s in [0.7, 1.0, 2.5] {
        let density = |yh: f64, y: f64| {
            (-(y - yh) * (y - yh) / (2.0 * s * s)).exp()
                / (2.0 * std::f64::consts::PI * s * s).sqrt()
        };
        let nll = -p
            .iter()
            .zip(&q)
            .map(|(&a, &b)| density(a, b).ln())
            .sum::<f64>()
            / 50.0;
        let claim = mse / (2.0 * s * s) + 0.5 * (2.0 * std::f64::consts::PI * s * s).ln();
        assert!(close(claim, nll, 1e-12, 0.0), "σ = {s}: {claim} vs {nll}");
    }
}

/// After (10.3): the σ² that maximises the likelihood is the MSE. The
/// derivative of the mean negative log-likelihood in σ², by f64 central
/// differences, is zero there and has opposite signs on either side.
#[test]
fn the_likelihood_variance_is_the_mse() {
    let yhat = randn(&[40], 3);
    let y = randn(&[40], 4).add_scalar(0.5);
    let mse = F::mse_loss(&yhat, &y).unwrap().item::<f64>();
    let (p, q) = (yhat.to_vec::<f64>(), y.to_vec::<f64>());
    let nll = |v: f64| {
        p.iter()
            .zip(&q)
            .map(|(a, b)| {
                (a - b) * (a - b) / (2.0 * v) + 0.5 * (2.0 * std::f64::consts::PI * v).ln()
            })
            .sum::<f64>()
            / 40.0
    };
    let slope = |v: f64| {
        let h = 1e-6 * v;
        (nll(v + h) - nll(v - h)) / (2.0 * h)
    };
    // The derivative's natural size is 1/(2σ²).
    let scale = 1.0 / (2.0 * mse);
    assert!(
        slope(mse).abs() <= 1e-6 * scale,
        "slope at the MSE: {}",
        slope(mse)
    );
    assert!(slope(0.9 * mse) < -0.01 * scale);
    assert!(slope(1.1 * mse) > 0.01 * scale);
}

/// (10.4): the tape's gradient of the mean squared error is 2(ŷ − y)/N; of
/// ½·Σ(ŷ − y)², ŷ − y.
#[test]
fn mse_gradient_is_prediction_minus_target() {
    let yhat = randn(&[3, 7], 5).requires_grad_(true);
    let y = randn(&[3, 7], 6);
    let (p, q) = (yhat.to_vec::<f64>(), y.to_vec::<f64>());
    let mean = F::mse_loss(&yhat, &y).unwrap();
    let g = grad(&[&mean], &[&yhat], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let want: Vec<f64> = p
        .iter()
        .zip(&q)
        .map(|(a, b)| 2.0 * (a - b) / 21.0)
        .collect();
    assert_all_close(&g, &want, 1e-14, 0.0, "mean");
    let half = F::mse_loss_with(&yhat, &y, &sum_reduction())
        .unwrap()
        .mul_scalar(0.5);
    let g = grad(&[&half], &[&yhat], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let want: Vec<f64> = p.iter().zip(&q).map(|(a, b)| a - b).collect();
    assert_all_close(&g, &want, 1e-14, 0.0, "half sum");
}

/// (10.6) and its table. For each family: the negative log-likelihood is
/// A(η) − ηᵀT(t) (up to log h), the tape's gradient of A is the model's mean
/// (identity, sigmoid, softmax, computed by hand), and the tape's gradient of
/// the loss is that mean minus T(t).
#[test]
fn nll_gradients_are_model_mean_minus_target_in_all_three_families() {
    // Gaussian, σ = 1: NLL = ½(y − η)² + const; A(η) = η²/2.
    let eta = randn(&[6], 7).requires_grad_(true);
    let y = randn(&[6], 8);
    let a = eta.square().sum().mul_scalar(0.5);
    let grad_a = grad(&[&a], &[&eta], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    assert_all_close(&grad_a, &eta.to_vec::<f64>(), 1e-15, 0.0, "Gaussian ∇A");
    let nll = F::mse_loss_with(&eta, &y, &sum_reduction())
        .unwrap()
        .mul_scalar(0.5);
    let g = grad(&[&nll], &[&eta], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let want: Vec<f64> = eta
        .to_vec::<f64>()
        .iter()
        .zip(y.to_vec::<f64>())
        .map(|(e, y)| e - y)
        .collect();
    assert_all_close(&g, &want, 1e-14, 0.0, "Gaussian NLL gradient");

    // Bernoulli: NLL = softplus(z) − y·z; A = softplus, ∇A = σ.
    let z = randn(&[8], 9).mul_scalar(3.0).requires_grad_(true);
    let zs = z.to_vec::<f64>();
    let yb: Vec<f64> = (0..8).map(|k| f64::from(k % 3 == 0)).collect();
    let a = z.softplus().sum();
    let grad_a = grad(&[&a], &[&z], false).unwrap().remove(0).to_vec::<f64>();
    let sig: Vec<f64> = zs.iter().map(|&v| sigma(v)).collect();
    assert_all_close(&grad_a, &sig, 1e-14, 0.0, "Bernoulli ∇A");
    let sum = F::BceWithLogitsOptions::default().reduction(Reduction::Sum);
    let nll = F::binary_cross_entropy_with_logits_with(&z, &t(&yb, &[8]), &sum).unwrap();
    let by_hand: f64 = zs
        .iter()
        .zip(&yb)
        .map(|(&z, &y)| z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z)
        .sum();
    assert!(close(nll.item::<f64>(), by_hand, 1e-14, 0.0));
    let g = grad(&[&nll], &[&z], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let want: Vec<f64> = sig.iter().zip(&yb).map(|(p, y)| p - y).collect();
    assert_all_close(&g, &want, 1e-14, 0.0, "Bernoulli NLL gradient");

    // Categorical: NLL = LSE(s) − s_T; A = LSE, ∇A = softmax.
    let s = randn(&[4, 5], 10).mul_scalar(2.0).requires_grad_(true);
    let ids = [3.0, 0.0, 4.0, 1.0];
    let a = s.logsumexp(&[1], false).sum();
    let grad_a = grad(&[&a], &[&s], false).unwrap().remove(0).to_vec::<f64>();
    let sv = s.to_vec::<f64>();
    let mut softmax = vec![0.0; 20];
    let mut by_hand = 0.0;
    for i in 0..4 {
        let row = &sv[i * 5..i * 5 + 5];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for k in 0..5 {
            softmax[i * 5 + k] = (row[k] - m).exp() / z;
        }
        by_hand += m + z.ln() - row[ids[i] as usize];
    }
    assert_all_close(&grad_a, &softmax, 1e-14, 0.0, "categorical ∇A");
    let sum = F::CrossEntropyOptions::default().reduction(Reduction::Sum);
    let nll = F::cross_entropy_with(&s, &t(&ids, &[4]), &sum).unwrap();
    assert!(close(nll.item::<f64>(), by_hand, 1e-14, 0.0));
    let g = grad(&[&nll], &[&s], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let want: Vec<f64> = (0..20)
        .map(|j| softmax[j] - f64::from(ids[j / 5] as usize == j % 5))
        .collect();
    assert_all_close(&g, &want, 1e-13, 0.0, "categorical NLL gradient");
}

/// After (10.6): the Hessians of the three negative log-likelihoods in the
/// natural parameter are the covariances of T: 1, σ(1 − σ) and
/// diag(p) − ppᵀ (by the tape, second order; by hand).
#[test]
fn nll_hessians_are_the_covariances_of_t() {
    // Gaussian: d²/dη² ½(η − y)² = 1 for every element.
    let eta = randn(&[5], 11).requires_grad_(true);
    let nll = F::mse_loss_with(&eta, &randn(&[5], 12), &sum_reduction())
        .unwrap()
        .mul_scalar(0.5);
    let g = grad(&[&nll], &[&eta], true).unwrap().remove(0);
    let h = grad(&[&g.sum()], &[&eta], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    assert_all_close(&h, &[1.0; 5], 1e-15, 0.0, "Gaussian");

    // Bernoulli: the Hessian is diagonal, σ(z)(1 − σ(z)).
    let z = randn(&[6], 13).mul_scalar(2.0).requires_grad_(true);
    let y = t(&[1.0, 0.0, 0.0, 1.0, 1.0, 0.0], &[6]);
    let sum = F::BceWithLogitsOptions::default().reduction(Reduction::Sum);
    let nll = F::binary_cross_entropy_with_logits_with(&z, &y, &sum).unwrap();
    let g = grad(&[&nll], &[&z], true).unwrap().remove(0);
    let h = grad(&[&g.sum()], &[&z], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let want: Vec<f64> = z
        .to_vec::<f64>()
        .iter()
        .map(|&v| sigma(v) * (1.0 - sigma(v)))
        .collect();
    assert_all_close(&h, &want, 1e-13, 0.0, "Bernoulli");

    // Categorical: row j of the Hessian is the gradient of ∂ℓ/∂s_j.
    let s = randn(&[4], 14).requires_grad_(true);
    let nll = F::cross_entropy(&s.unsqueeze(0), &t(&[2.0], &[1])).unwrap();
    let g = grad(&[&nll], &[&s], true).unwrap().remove(0);
    let sv = s.to_vec::<f64>();
    let z: f64 = sv.iter().map(|v| v.exp()).sum();
    let p: Vec<f64> = sv.iter().map(|v| v.exp() / z).collect();
    for j in 0..4 {
        let gj = g.narrow(0, j as isize, 1).sum();
        // The graph of g is shared by the four rows: keep it.
        let keep = BackwardOptions {
            retain_graph: true,
            create_graph: false,
            ..Default::default()
        };
        let row = grad_with(&[&gj], &[], &[&s], keep)
            .unwrap()
            .remove(0)
            .to_vec::<f64>();
        let want: Vec<f64> = (0..4)
            .map(|k| f64::from(j == k) * p[j] - p[j] * p[k])
            .collect();
        assert_all_close(&row, &want, 1e-12, 1e-3, &format!("categorical row {j}"));
    }
}

/// (10.7): mean((y − c)²) = Var(y) + (ȳ − c)², the population variance
/// computed by a two-pass loop.
#[test]
fn mse_to_a_constant_is_variance_plus_squared_bias() {
    let y = randn(&[37], 15).mul_scalar(3.0).add_scalar(2.0);
    let v = y.to_vec::<f64>();
    let mean = v.iter().sum::<f64>() / 37.0;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 37.0;
    for c in [-4.0, 0.0, mean, 2.5, 10.0] {
        let mse = F::mse_loss(&Tensor::full_dtype([37], c, DType::F64), &y)
            .unwrap()
            .item::<f64>();
        let claim = var + (mean - c) * (mean - c);
        assert!(close(mse, claim, 1e-13, 0.0), "c = {c}: {mse} vs {claim}");
    }
}

/// (10.7) and the paragraph after (10.8): on a skewed sample (odd size), the
/// tape's gradient of the MSE with respect to a constant prediction is zero
/// at the mean and ±2·offset beside it; the gradient of the L1 loss is zero
/// at the median, ±1/N just beside it, and not zero at the mean.
#[test]
fn the_mse_minimiser_is_the_mean_and_the_l1_minimiser_the_median() {
    let n = 41;
    let y = randn(&[n], 16).exp(); // log-normal: mean > median
    let mut v = y.to_vec::<f64>();
    let mean = v.iter().sum::<f64>() / n as f64;
    v.sort_by(f64::total_cmp);
    let median = v[n / 2];
    let gap = (v[n / 2 + 1] - median).min(median - v[n / 2 - 1]);
    assert!(mean - median > 0.05, "the sample should be skewed");
    let gradient_at = |c: f64, l1: bool| {
        let c = Tensor::full_dtype([1], c, DType::F64).requires_grad_(true);
        let prediction = c.expand(&[n]);
        let loss = if l1 {
            F::l1_loss(&prediction, &y).unwrap()
        } else {
            F::mse_loss(&prediction, &y).unwrap()
        };
        grad(&[&loss], &[&c], false)
            .unwrap()
            .remove(0)
            .item::<f64>()
    };
    // MSE: d/dc mean((c − y)²) = 2(c − ȳ); its natural size is 2·mean|y|.
    let scale = 2.0 * mean;
    assert!(gradient_at(mean, false).abs() <= 1e-14 * scale);
    for offset in [-0.3, 0.1] {
        let g = gradient_at(mean + offset, false);
        assert!(close(g, 2.0 * offset, 1e-12, 0.0), "offset {offset}: {g}");
    }
    // L1: d/dc mean|c − y| = (#{y < c} − #{y > c}) / N.
    // ±1/N summed over the rows: zero up to the rounding of the sum.
    assert!(gradient_at(median, true).abs() <= 1e-15);
    let step = gap / 2.0;
    assert!(close(
        gradient_at(median + step, true),
        1.0 / n as f64,
        1e-15,
        0.0
    ));
    assert!(close(
        gradient_at(median - step, true),
        -1.0 / n as f64,
        1e-15,
        0.0
    ));
    let at_mean = gradient_at(mean, true);
    assert!(at_mean > 0.0, "the mean is above the median: {at_mean}");
}

/// Solves `m x = b` (`p × p`, row-major) by Gaussian elimination with
/// partial pivoting: the independent reference for the normal equations.
fn solve(mut m: Vec<f64>, mut b: Vec<f64>, p: usize) -> Vec<f64> {
    for col in 0..p {
        let pivot = (col..p)
            .max_by(|&i, &j| m[i * p + col].abs().total_cmp(&m[j * p + col].abs()))
            .unwrap();
        for k in 0..p {
            m.swap(col * p + k, pivot * p + k);
        }
        b.swap(col, pivot);
        for row in col + 1..p {
            let f = m[row * p + col] / m[col * p + col];
            for k in col..p {
                m[row * p + k] -= f * m[col * p + k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; p];
    for row in (0..p).rev() {
        let s: f64 = (row + 1..p).map(|k| m[row * p + k] * x[k]).sum();
        x[row] = (b[row] - s) / m[row * p + row];
    }
    x
}

/// `AᵀA` and `Aᵀy` by plain loops.
fn normal_terms(a: &[f64], y: &[f64], n: usize, p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut ata = vec![0.0; p * p];
    let mut aty = vec![0.0; p];
    for i in 0..n {
        for j in 0..p {
            aty[j] += a[i * p + j] * y[i];
            for k in 0..p {
                ata[j * p + k] += a[i * p + j] * a[i * p + k];
            }
        }
    }
    (ata, aty)
}

/// (10.8), (10.10): a linear model with an intercept and dummy columns for
/// groups 1 and 2 (group 0 is the baseline), fitted by solving the normal
/// equations, predicts each row's group mean; and the tape's MSE gradient
/// vanishes there.
#[test]
fn least_squares_on_groups_predicts_the_group_means() {
    let groups = [0, 1, 2, 1, 0, 2, 2, 1, 0, 1, 2, 2, 1, 0, 1, 2];
    let n = groups.len();
    let y = randn(&[n], 17).add_scalar(1.0).to_vec::<f64>();
    let a: Vec<f64> = groups
        .iter()
        .flat_map(|&g| [1.0, f64::from(g == 1), f64::from(g == 2)])
        .collect();
    let (ata, aty) = normal_terms(&a, &y, n, 3);
    let theta = solve(ata, aty, 3);
    let mut means = [0.0; 3];
    let mut counts = [0.0; 3];
    for (&g, &v) in groups.iter().zip(&y) {
        means[g] += v;
        counts[g] += 1.0;
    }
    for g in 0..3 {
        means[g] /= counts[g];
    }
    let at = t(&a, &[n, 3]);
    let theta_t = t(&theta, &[3, 1]).requires_grad_(true);
    let prediction = at.matmul(&theta_t);
    let predicted = prediction.to_vec::<f64>();
    for (i, &g) in groups.iter().enumerate() {
        assert!(
            close(predicted[i], means[g], 1e-13, 1.0),
            "row {i} (group {g}): {} vs mean {}",
            predicted[i],
            means[g]
        );
    }
    let loss = F::mse_loss(&prediction, &t(&y, &[n, 1])).unwrap();
    let g = grad(&[&loss], &[&theta_t], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let scale = 2.0 * y.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
    assert_all_close(&g, &[0.0; 3], 1e-13, scale, "gradient at the solution");
}

/// A random design with an intercept column, targets and a point θ.
fn linear_problem(n: usize, p: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut a = randn(&[n, p], seed).to_vec::<f64>();
    for i in 0..n {
        a[i * p] = 1.0;
    }
    let y = randn(&[n], seed + 1)
        .mul_scalar(2.0)
        .add_scalar(0.5)
        .to_vec::<f64>();
    let theta = randn(&[p], seed + 2).to_vec::<f64>();
    (a, y, theta)
}

fn plain_mse(a: &[f64], y: &[f64], theta: &[f64], n: usize, p: usize) -> f64 {
    (0..n)
        .map(|i| {
            let r = (0..p).map(|k| a[i * p + k] * theta[k]).sum::<f64>() - y[i];
            r * r
        })
        .sum::<f64>()
        / n as f64
}

/// (10.9): the tape's gradient of mse_loss(Aθ, y) is (2/N)·Aᵀ(Aθ − y), by
/// plain loops and by f64 central differences; its Hessian-vector product is
/// (2/N)·AᵀA·v.
#[test]
fn linear_model_gradient_and_hessian_are_the_normal_equation_terms() {
    let (n, p) = (30, 4);
    let (a, y, theta) = linear_problem(n, p, 18);
    let theta_t = t(&theta, &[p, 1]).requires_grad_(true);
    let loss = F::mse_loss(&t(&a, &[n, p]).matmul(&theta_t), &t(&y, &[n, 1])).unwrap();
    let g = grad(&[&loss], &[&theta_t], true).unwrap().remove(0);
    let residual: Vec<f64> = (0..n)
        .map(|i| (0..p).map(|k| a[i * p + k] * theta[k]).sum::<f64>() - y[i])
        .collect();
    let want: Vec<f64> = (0..p)
        .map(|k| 2.0 / n as f64 * (0..n).map(|i| a[i * p + k] * residual[i]).sum::<f64>())
        .collect();
    assert_all_close(&g.to_vec::<f64>(), &want, 1e-13, 0.0, "gradient");
    let fd: Vec<f64> = (0..p)
        .map(|k| {
            let h = 1e-5;
            let (mut up, mut down) = (theta.clone(), theta.clone());
            up[k] += h;
            down[k] -= h;
            (plain_mse(&a, &y, &up, n, p) - plain_mse(&a, &y, &down, n, p)) / (2.0 * h)
        })
        .collect();
    // A central difference of a quadratic is exact up to rounding:
    // about 1e-16·loss/h ≈ 1e-10 here.
    assert_all_close(&g.to_vec::<f64>(), &fd, 1e-8, 1.0, "finite differences");
    let v = [0.5, -1.0, 2.0, 0.25];
    let gv = g.mul(&t(&v, &[p, 1])).sum();
    let hv = grad(&[&gv], &[&theta_t], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    let (ata, _) = normal_terms(&a, &y, n, p);
    let want: Vec<f64> = (0..p)
        .map(|j| 2.0 / n as f64 * (0..p).map(|k| ata[j * p + k] * v[k]).sum::<f64>())
        .collect();
    assert_all_close(&hv, &want, 1e-13, 0.0, "Hessian-vector product");
}

/// (10.10), (10.11): at the solution of the normal equations (solved here
/// by Gaussian elimination) the tape's gradient vanishes, the residuals sum
/// to 0 (there is an intercept column), and any other θ* + δ has a loss
/// larger by exactly ‖Aδ‖²/N.
#[test]
fn normal_equations_give_the_minimum_with_residuals_summing_to_zero() {
    let (n, p) = (50, 5);
    let (a, y, _) = linear_problem(n, p, 19);
    let (ata, aty) = normal_terms(&a, &y, n, p);
    let theta = solve(ata, aty, p);
    let theta_t = t(&theta, &[p, 1]).requires_grad_(true);
    let prediction = t(&a, &[n, p]).matmul(&theta_t);
    let loss = F::mse_loss(&prediction, &t(&y, &[n, 1])).unwrap();
    let g = grad(&[&loss], &[&theta_t], false)
        .unwrap()
        .remove(0)
        .to_vec::<f64>();
    // The gradient's natural size: (2/N)·Σ|a_ik·y_i| per component.
    let scale = 2.0 / n as f64
        * (0..n)
            .map(|i| a[i * p..i * p + p].iter().map(|v| v.abs()).sum::<f64>() * y[i].abs())
            .sum::<f64>();
    assert_all_close(&g, &[0.0; 5], 1e-13, scale, "gradient at θ*");
    let predicted = prediction.to_vec::<f64>();
    let residual_sum: f64 = y.iter().zip(&predicted).map(|(y, p)| y - p).sum();
    let y_scale: f64 = y.iter().map(|v| v.abs()).sum();
    assert!(
        residual_sum.abs() <= 1e-13 * y_scale,
        "Σ residuals = {residual_sum}"
    );
    let best = loss.item::<f64>();
    for seed in 0..5 {
        let delta = randn(&[p], 100 + seed).mul_scalar(0.1).to_vec::<f64>();
        let moved: Vec<f64> = theta.iter().zip(&delta).map(|(a, b)| a + b).collect();
        let other = F::mse_loss(&t(&a, &[n, p]).matmul(&t(&moved, &[p, 1])), &t(&y, &[n, 1]))
            .unwrap()
            .item::<f64>();
        let a_delta_sq: f64 = (0..n)
            .map(|i| {
                let r: f64 = (0..p).map(|k| a[i * p + k] * delta[k]).sum();
                r * r
            })
            .sum::<f64>()
            / n as f64;
        assert!(other > best);
        // The excess is a difference of two losses: its rounding is about
        // 1e-16·loss, far below 1e-9 of the excess.
        assert!(
            close(other - best, a_delta_sq, 1e-9, 0.0),
            "excess {} vs ‖Aδ‖²/N {a_delta_sq}",
            other - best
        );
    }
}
