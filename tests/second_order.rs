//! Second-order acceptance tests: Hessian-vector products and a Newton step,
//! each compared with its closed form computed by plain f64 loops.

use tapegrad::nn::functional::{binary_cross_entropy_with_logits, cross_entropy};
use tapegrad::{grad, seeded_rng, DType, Tensor};

fn softmax_row(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Mean cross-entropy built from primitive ops (log-sum-exp minus the true
/// logit), so the Hessian goes through logsumexp's and gather's rules.
fn mean_cross_entropy(logits: &Tensor, targets: &Tensor) -> Tensor {
    let lse = logits.logsumexp(&[1], false);
    let picked = logits.gather(1, &targets.unsqueeze(1)).squeeze(1);
    (&lse - &picked).mean()
}

#[test]
fn hvp_of_mean_cross_entropy_is_softmax_jacobian_times_v_over_n() {
    // Once through primitive ops, once through the library's fused
    // cross_entropy (whose create_graph path is separate code).
    check_cross_entropy_hvp(mean_cross_entropy);
    check_cross_entropy_hvp(|z, t| cross_entropy(z, t).unwrap());
}

fn check_cross_entropy_hvp(loss_fn: impl Fn(&Tensor, &Tensor) -> Tensor) {
    let (n, c) = (4, 5);
    let mut rng = seeded_rng(3);
    let z = Tensor::randn_dtype([n, c], DType::F64, &mut rng).requires_grad_(true);
    let v = Tensor::randn_dtype([n, c], DType::F64, &mut rng);
    let targets = Tensor::new([1.0f64, 4.0, 0.0, 2.0]);
    let loss = loss_fn(&z, &targets);
    let g = grad(&[&loss], &[&z], true).unwrap().remove(0);
    let hv = grad(&[&(&g * &v).sum()], &[&z], false).unwrap().remove(0);

    let zv = z.to_vec::<f64>();
    let vv = v.to_vec::<f64>();
    let got = hv.to_vec::<f64>();
    for i in 0..n {
        let p = softmax_row(&zv[i * c..(i + 1) * c]);
        let vi = &vv[i * c..(i + 1) * c];
        let pv: f64 = p.iter().zip(vi).map(|(a, b)| a * b).sum();
        for k in 0..c {
            // ((diag(p) − p pᵀ) v)_k / N = p_k (v_k − p·v) / N
            let want = p[k] * (vi[k] - pv) / n as f64;
            let have = got[i * c + k];
            assert!(
                (have - want).abs() < 1e-12,
                "row {i} class {k}: {have} vs {want}"
            );
        }
    }
}

/// Solves `a x = b` for a small dense system by Gaussian elimination with
/// partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let d = b.len();
    for col in 0..d {
        let pivot = (col..d)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for row in col + 1..d {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row].iter_mut().zip(&pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; d];
    for row in (0..d).rev() {
        let s: f64 = (row + 1..d).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x
}

#[test]
fn newton_step_on_logistic_regression_matches_the_closed_form() {
    // Data with a bias column; labels not linearly separable so the
    // optimum is finite.
    let x_rows = [
        [1.0, 0.5, -1.2],
        [1.0, -0.3, 0.8],
        [1.0, 1.5, 0.3],
        [1.0, -1.1, -0.4],
        [1.0, 0.2, 1.9],
        [1.0, 0.9, -0.7],
    ];
    let y = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    let (n, d) = (x_rows.len(), 3);
    let x = Tensor::from_vec(x_rows.concat(), [n, d]).unwrap();
    let yt = Tensor::from_slice(&y, [n]).unwrap();
    let w0 = [0.1, -0.2, 0.3];
    let w = Tensor::from_slice(&w0, [d]).unwrap().requires_grad_(true);

    // L(w) = mean(softplus(Xw) − y·Xw): binary cross-entropy with logits.
    let z = x.matmul(&w);
    let loss = binary_cross_entropy_with_logits(&z, &yt).unwrap();
    let by_hand = (z.softplus() - &yt * &z).mean();
    assert!((loss.item::<f64>() - by_hand.item::<f64>()).abs() < 1e-15);
    let g = grad(&[&loss], &[&w], true).unwrap().remove(0);
    let mut hessian = Vec::new();
    for k in 0..d {
        let gk = g.narrow(0, k as isize, 1).sum();
        hessian.push(grad(&[&gk], &[&w], true).unwrap().remove(0).to_vec::<f64>());
    }
    let g_tape = g.to_vec::<f64>();
    let step_tape = solve(hessian.clone(), g_tape.clone());

    // Closed form: g = Xᵀ(σ(Xw) − y)/N, H = Xᵀ diag(σ(1−σ)) X / N.
    let sigma = |t: f64| 1.0 / (1.0 + (-t).exp());
    let mut g_ref = [0.0; 3];
    let mut h_ref = vec![vec![0.0; d]; d];
    for i in 0..n {
        let zi: f64 = (0..d).map(|k| x_rows[i][k] * w0[k]).sum();
        let p = sigma(zi);
        for a in 0..d {
            g_ref[a] += x_rows[i][a] * (p - y[i]) / n as f64;
            for b in 0..d {
                h_ref[a][b] += x_rows[i][a] * p * (1.0 - p) * x_rows[i][b] / n as f64;
            }
        }
    }
    for a in 0..d {
        assert!((g_tape[a] - g_ref[a]).abs() < 1e-14);
        for b in 0..d {
            assert!((hessian[a][b] - h_ref[a][b]).abs() < 1e-14, "H[{a}][{b}]");
        }
    }
    let step_ref = solve(h_ref, g_ref.to_vec());
    for k in 0..d {
        assert!((step_tape[k] - step_ref[k]).abs() < 1e-12);
    }
    // The Newton step lowers the loss.
    let w1: Vec<f64> = (0..d).map(|k| w0[k] - step_tape[k]).collect();
    let w1 = Tensor::from_slice(&w1, [d]).unwrap();
    let z1 = x.matmul(&w1);
    let loss1 = (z1.softplus() - &yt * &z1).mean();
    assert!(loss1.item::<f64>() < loss.item::<f64>());
}

#[test]
fn hessian_of_a_matmul_quadratic_form_is_a_plus_a_transpose() {
    // f(x) = xᵀ A x → ∇f = (A + Aᵀ) x, ∇²f = A + Aᵀ
    let a = Tensor::new([[1.0f64, 2.0], [0.5, -3.0]]);
    let x = Tensor::new([0.7f64, -0.2]).requires_grad_(true);
    let f = x.matmul(&a.matmul(&x));
    let g = grad(&[&f], &[&x], true).unwrap().remove(0);
    let h0 = grad(&[&g.narrow(0, 0, 1).sum()], &[&x], true)
        .unwrap()
        .remove(0);
    let h1 = grad(&[&g.narrow(0, 1, 1).sum()], &[&x], false)
        .unwrap()
        .remove(0);
    assert_eq!(h0.to_vec::<f64>(), vec![2.0, 2.5]);
    assert_eq!(h1.to_vec::<f64>(), vec![2.5, -6.0]);
}
