//! Reductions: amax/amin/max/min, max_dim/min_dim, argmax/argmin,
//! logsumexp, var/std. Expected values are derived by hand in the comments.

use tapegrad::{
    grad, gradcheck, gradgradcheck, seeded_rng, DType, Error, GradcheckOptions, Result, Tensor,
};

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

fn t64(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape).unwrap()
}

/// Random f64 input: continuous, so ties have probability 0.
fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_dtype(shape, DType::F64, &mut seeded_rng(seed))
}

/// First- and second-order gradient checks of a one-input function.
#[track_caller]
fn check(f: impl Fn(&Tensor) -> Result<Tensor>, x: &Tensor) {
    let opts = GradcheckOptions::default();
    let report = gradcheck(|xs| f(&xs[0]), std::slice::from_ref(x), opts).unwrap();
    assert!(
        report.passed(),
        "gradcheck failed for {:?}:\n{report}",
        x.dims()
    );
    let report = gradgradcheck(|xs| f(&xs[0]), std::slice::from_ref(x), opts).unwrap();
    assert!(
        report.passed(),
        "gradgradcheck failed for {:?}:\n{report}",
        x.dims()
    );
}

/// d(Σ seed · f(x)) / dx, with seed = 1 when `None`.
fn grad_of(x: &Tensor, seed: Option<&Tensor>, f: impl Fn(&Tensor) -> Tensor) -> Vec<f64> {
    let x = x.detach().requires_grad_(true);
    let y = f(&x);
    let loss = match seed {
        Some(s) => y.mul(s).sum(),
        None => y.sum(),
    };
    grad(&[&loss], &[&x], false).unwrap()[0].to_vec::<f64>()
}

fn close(got: &[f64], want: &[f64]) -> bool {
    got.len() == want.len()
        && got.iter().zip(want).all(|(&a, &b)| {
            (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-12 * b.abs().max(1.0)
        })
}

#[track_caller]
fn assert_vals(t: &Tensor, shape: &[usize], want: &[f64]) {
    assert_eq!(t.dims(), shape, "shape");
    let got = t.to_vec::<f64>();
    assert!(close(&got, want), "got {got:?}, want {want:?}");
}

/// x = [[1, 5, 2], [4, 0, 3]]
fn small() -> Tensor {
    t64(&[1., 5., 2., 4., 0., 3.], &[2, 3])
}

/// 0..24 as [2, 3, 4]: element (i, j, k) = 12i + 4j + k.
fn ramp() -> Tensor {
    Tensor::arange_dtype(0.0, 24.0, 1.0, DType::F64)
        .unwrap()
        .reshape([2, 3, 4])
}

// ---------------------------------------------------------------- values

#[test]
fn amax_amin_values() {
    let x = small();
    assert_vals(&x.amax(&[0], false), &[3], &[4., 5., 3.]);
    assert_vals(&x.amax(&[1], false), &[2], &[5., 4.]);
    assert_vals(&x.amax(&[-1], true), &[2, 1], &[5., 4.]);
    assert_vals(&x.amax(&[0, 1], false), &[], &[5.]);
    assert_vals(&x.amax(&[], false), &[], &[5.]);
    assert_vals(&x.amax(&[], true), &[1, 1], &[5.]);
    assert_vals(&x.amin(&[0], false), &[3], &[1., 0., 2.]);
    assert_vals(&x.amin(&[1], true), &[2, 1], &[1., 0.]);
    assert_vals(&x.amin(&[], false), &[], &[0.]);

    let r = ramp();
    assert_vals(&r.amax(&[1, 2], false), &[2], &[11., 23.]);
    assert_vals(&r.amin(&[1, 2], false), &[2], &[0., 12.]);
    assert_vals(
        &r.amax(&[-1], false),
        &[2, 3],
        &[3., 7., 11., 15., 19., 23.],
    );
    assert_vals(&r.amin(&[0, 2], false), &[3], &[0., 4., 8.]);
    let top: Vec<f64> = (12..24).map(f64::from).collect();
    assert_vals(&r.amax(&[0], false), &[3, 4], &top);
}

#[test]
fn amax_on_non_contiguous_and_f32_inputs() {
    // small()ᵀ = [[1, 4], [5, 0], [2, 3]]
    let xt = small().transpose(0, 1);
    assert!(!xt.is_contiguous());
    assert_vals(&xt.amax(&[1], false), &[3], &[4., 5., 3.]);
    assert_vals(&xt.amin(&[0], false), &[2], &[1., 0.]);
    let (v, i) = xt.max_dim(0, false);
    assert_vals(&v, &[2], &[5., 4.]);
    assert_vals(&i, &[2], &[1., 0.]);

    let x32 = Tensor::new([[1.0f32, 5.0, 2.0], [4.0, 0.0, 3.0]]);
    let m = x32.amax(&[1], false);
    assert_eq!(m.dtype(), DType::F32);
    assert_eq!(m.to_vec::<f32>(), vec![5.0, 4.0]);
    // Indices are int64 whatever the input's dtype, as in PyTorch.
    assert_eq!(x32.argmin(1, false).dtype(), DType::I64);
    assert_eq!(x32.argmin(1, false).to_vec::<i64>(), vec![0, 1]);
}

#[test]
fn max_min_of_all_elements_are_0d() {
    let x = small();
    assert_vals(&x.max(), &[], &[5.]);
    assert_vals(&x.min(), &[], &[0.]);
    assert_vals(&ramp().max(), &[], &[23.]);
    let s = Tensor::scalar(2.5f64);
    assert_vals(&s.max(), &[], &[2.5]);
    assert_vals(&s.amax(&[0], false), &[], &[2.5]);
    assert_vals(&s.amin(&[-1], true), &[], &[2.5]);
}

#[test]
fn max_dim_min_dim_values_and_first_index_on_ties() {
    let x = t64(&[1., 5., 5., 4., 0., 4.], &[2, 3]);
    let (v, i) = x.max_dim(1, false);
    assert_vals(&v, &[2], &[5., 4.]);
    assert_vals(&i, &[2], &[1., 0.]);
    let (v, i) = x.min_dim(1, true);
    assert_vals(&v, &[2, 1], &[1., 0.]);
    assert_vals(&i, &[2, 1], &[0., 1.]);
    let (v, i) = x.max_dim(0, false);
    assert_vals(&v, &[3], &[4., 5., 5.]);
    assert_vals(&i, &[3], &[1., 0., 0.]);
    // dim -1 of the ramp: the last element of each row, index 3.
    let (v, i) = ramp().max_dim(-1, false);
    assert_vals(&v, &[2, 3], &[3., 7., 11., 15., 19., 23.]);
    assert_vals(&i, &[2, 3], &[3.; 6]);
    let (v, i) = Tensor::scalar(7.0f64).max_dim(0, false);
    assert_vals(&v, &[], &[7.]);
    assert_vals(&i, &[], &[0.]);
}

#[test]
fn indices_carry_no_gradient() {
    let x = small().requires_grad_(true);
    let (v, i) = x.max_dim(1, false);
    assert!(v.requires_grad());
    assert!(!i.requires_grad());
    assert!(!x.argmax(0, false).requires_grad());
    assert!(!x.argmin_all().requires_grad());
}

#[test]
fn argmax_argmin_values() {
    // [[1, 7, 7], [7, 0, 0]]: ties resolve to the first occurrence.
    let x = t64(&[1., 7., 7., 7., 0., 0.], &[2, 3]);
    assert_vals(&x.argmax(1, false), &[2], &[1., 0.]);
    assert_vals(&x.argmax(0, false), &[3], &[1., 0., 0.]);
    assert_vals(&x.argmin(1, true), &[2, 1], &[0., 1.]);
    assert_vals(&x.argmin(-2, false), &[3], &[0., 1., 1.]);
    assert_vals(&x.argmax_all(), &[], &[1.]);
    assert_vals(&x.argmin_all(), &[], &[4.]);
    assert_vals(&ramp().argmax_all(), &[], &[23.]);
    assert_vals(&ramp().argmax(1, false), &[2, 4], &[2.; 8]);
    // Non-contiguous: xᵀ = [[1, 7], [7, 0], [7, 0]]; flat index in xᵀ's order.
    let xt = x.transpose(0, 1);
    assert_vals(&xt.argmax_all(), &[], &[1.]);
    assert_vals(&xt.argmin_all(), &[], &[3.]);
    assert_vals(&Tensor::scalar(3.0f64).argmax_all(), &[], &[0.]);
}

#[test]
fn nan_propagates_and_wins_the_index() {
    let x = t64(&[1., NAN, 3., NAN], &[4]);
    assert!(x.amax(&[0], false).item::<f64>().is_nan());
    assert!(x.amin(&[0], false).item::<f64>().is_nan());
    assert!(x.max().item::<f64>().is_nan());
    assert!(x.min().item::<f64>().is_nan());
    let (v, i) = x.max_dim(0, false);
    assert!(v.item::<f64>().is_nan());
    assert_eq!(i.item::<f64>(), 1.0);
    let (v, i) = x.min_dim(0, false);
    assert!(v.item::<f64>().is_nan());
    assert_eq!(i.item::<f64>(), 1.0);
    assert_eq!(x.argmax(0, false).item::<f64>(), 1.0);
    assert_eq!(x.argmin_all().item::<f64>(), 1.0);
    // Only the slice holding the NaN is affected.
    let y = t64(&[1., 2., NAN, 0.], &[2, 2]);
    assert_vals(&y.amax(&[1], false), &[2], &[2., NAN]);
    assert_vals(&y.amin(&[0], false), &[2], &[NAN, 0.]);
}

#[test]
fn infinities_are_ordinary_extremes() {
    let x = t64(&[-INF, -INF, 1., INF], &[2, 2]);
    assert_vals(&x.amax(&[1], false), &[2], &[-INF, INF]);
    assert_vals(&x.amin(&[1], false), &[2], &[-INF, 1.]);
    assert_vals(&x.argmax(1, false), &[2], &[0., 1.]);
}

// ------------------------------------------------------ tie gradients

#[test]
fn amax_and_max_split_the_gradient_among_ties() {
    let x = t64(&[1., 3., 3.], &[3]);
    assert!(close(
        &grad_of(&x, None, |x| x.amax(&[0], false)),
        &[0., 0.5, 0.5]
    ));
    assert!(close(&grad_of(&x, None, |x| x.max()), &[0., 0.5, 0.5]));
    let y = t64(&[2., 1., 1., 5.], &[4]);
    assert!(close(
        &grad_of(&y, None, |y| y.amin(&[], false)),
        &[0., 0.5, 0.5, 0.]
    ));
    assert!(close(&grad_of(&y, None, |y| y.min()), &[0., 0.5, 0.5, 0.]));
    // Per slice, with a seed: [[2, 2], [1, 3]] over dim 1, seed [1, 2].
    let z = t64(&[2., 2., 1., 3.], &[2, 2]);
    let seed = t64(&[1., 2.], &[2]);
    let g = grad_of(&z, Some(&seed), |z| z.amax(&[1], false));
    assert!(close(&g, &[0.5, 0.5, 0., 2.]), "{g:?}");
    // Three-way tie over two dims: [[3, 1], [3, 3]].
    let w = t64(&[3., 1., 3., 3.], &[2, 2]);
    let third = 1.0 / 3.0;
    let g = grad_of(&w, None, |w| w.amax(&[0, 1], true));
    assert!(close(&g, &[third, 0., third, third]), "{g:?}");
}

#[test]
fn max_dim_sends_the_whole_gradient_to_the_first_index() {
    let x = t64(&[1., 3., 3.], &[3]);
    assert!(close(
        &grad_of(&x, None, |x| x.max_dim(0, false).0),
        &[0., 1., 0.]
    ));
    let y = t64(&[2., 1., 1., 5.], &[4]);
    assert!(close(
        &grad_of(&y, None, |y| y.min_dim(0, true).0),
        &[0., 1., 0., 0.]
    ));
    // [[2, 2], [1, 3]] along dim 0 with seed [1, 2]: column maxima at rows 0, 1.
    let z = t64(&[2., 2., 1., 3.], &[2, 2]);
    let seed = t64(&[1., 2.], &[2]);
    let g = grad_of(&z, Some(&seed), |z| z.max_dim(0, false).0);
    assert!(close(&g, &[1., 0., 0., 2.]), "{g:?}");
}

#[test]
fn nan_maximum_sends_the_gradient_to_the_nans() {
    let x = t64(&[1., NAN, NAN], &[3]);
    assert!(close(
        &grad_of(&x, None, |x| x.amax(&[0], false)),
        &[0., 0.5, 0.5]
    ));
    assert!(close(
        &grad_of(&x, None, |x| x.max_dim(0, false).0),
        &[0., 1., 0.]
    ));
}

// --------------------------------------------------- gradient checks

/// Every (dims, keepdim) combination the tests sweep on a [2, 3, 4] input.
fn dim_sets() -> Vec<(Vec<isize>, bool)> {
    let mut out = Vec::new();
    for dims in [vec![0], vec![1, 2], vec![-1], vec![], vec![0, 1, 2]] {
        for keepdim in [false, true] {
            out.push((dims.clone(), keepdim));
        }
    }
    out
}

#[test]
fn amax_amin_gradcheck() {
    check(|x| x.try_amax(&[0], false), &randn(&[5], 1));
    check(|x| x.try_amin(&[], true), &randn(&[5], 2));
    let x = randn(&[2, 3, 4], 3);
    for (dims, keepdim) in dim_sets() {
        check(|x| x.try_amax(&dims, keepdim), &x);
        check(|x| x.try_amin(&dims, keepdim), &x);
    }
    // Size-1 dims, reduced and kept.
    let y = randn(&[3, 1, 2], 4);
    check(|x| x.try_amax(&[1], false), &y);
    check(|x| x.try_amin(&[0, 1], true), &y);
    // Non-contiguous input.
    let z = randn(&[4, 3], 5);
    check(|x| x.try_transpose(0, 1)?.try_amax(&[1], false), &z);
    check(|x| x.try_permute(&[1, 0])?.try_amin(&[0], true), &z);
    // Empty but not reduced over the empty dim: an empty Jacobian.
    check(|x| x.try_amax(&[1], false), &randn(&[0, 3], 6));
}

#[test]
fn max_min_all_gradcheck() {
    check(|x| x.try_max(), &randn(&[5], 7));
    check(|x| x.try_min(), &randn(&[2, 3, 4], 8));
    check(|x| x.try_transpose(0, 1)?.try_max(), &randn(&[3, 2], 9));
    check(|x| x.try_max(), &Tensor::scalar(0.7f64));
}

#[test]
fn max_dim_min_dim_gradcheck() {
    check(|x| Ok(x.try_max_dim(0, false)?.0), &randn(&[5], 10));
    let x = randn(&[2, 3, 4], 11);
    for dim in [0, 1, -1] {
        for keepdim in [false, true] {
            check(|x| Ok(x.try_max_dim(dim, keepdim)?.0), &x);
            check(|x| Ok(x.try_min_dim(dim, keepdim)?.0), &x);
        }
    }
    check(|x| Ok(x.try_max_dim(1, true)?.0), &randn(&[3, 1, 2], 12));
    check(
        |x| Ok(x.try_transpose(0, 1)?.try_min_dim(1, false)?.0),
        &randn(&[4, 3], 13),
    );
    check(|x| Ok(x.try_max_dim(1, false)?.0), &randn(&[0, 3], 14));
}

#[test]
fn logsumexp_gradcheck() {
    check(|x| x.try_logsumexp(&[0], false), &randn(&[5], 15));
    let x = randn(&[2, 3, 4], 16);
    for (dims, keepdim) in dim_sets() {
        check(|x| x.try_logsumexp(&dims, keepdim), &x);
    }
    check(|x| x.try_logsumexp(&[1], false), &randn(&[3, 1, 2], 17));
    check(
        |x| x.try_transpose(0, 1)?.try_logsumexp(&[-1], true),
        &randn(&[4, 3], 18),
    );
    check(|x| x.try_logsumexp(&[0], false), &Tensor::scalar(0.3f64));
    check(|x| x.try_logsumexp(&[1], false), &randn(&[0, 3], 19));
}

#[test]
fn var_std_gradcheck() {
    check(|x| x.try_var(&[0], 1, false), &randn(&[5], 20));
    check(|x| x.try_std(&[], 0, false), &randn(&[5], 21));
    let x = randn(&[2, 3, 4], 22);
    for (dims, keepdim) in dim_sets() {
        for correction in [0, 1] {
            check(|x| x.try_var(&dims, correction, keepdim), &x);
            check(|x| x.try_std(&dims, correction, keepdim), &x);
        }
    }
    check(|x| x.try_var(&[-1], 2, true), &x);
    check(|x| x.try_std(&[0, 2], 1, false), &randn(&[3, 1, 2], 23));
    check(
        |x| x.try_transpose(0, 1)?.try_std(&[1], 1, false),
        &randn(&[4, 3], 24),
    );
    check(
        |x| x.try_permute(&[1, 0])?.try_var(&[0], 0, true),
        &randn(&[4, 3], 25),
    );
}

// ----------------------------------------------------------- logsumexp

#[test]
fn logsumexp_values() {
    // log(1 + 2 + 3) = log 6
    let x = t64(&[0., 2f64.ln(), 3f64.ln()], &[3]);
    assert_vals(&x.logsumexp(&[0], false), &[], &[6f64.ln()]);
    // rows [0, 0] and [ln 3, ln 5]: log 2 and log 8
    let y = t64(&[0., 0., 3f64.ln(), 5f64.ln()], &[2, 2]);
    assert_vals(&y.logsumexp(&[1], false), &[2], &[2f64.ln(), 8f64.ln()]);
    assert_vals(&y.logsumexp(&[-1], true), &[2, 1], &[2f64.ln(), 8f64.ln()]);
    // columns [0, ln 3], [0, ln 5]: log 4, log 6; everything: log 10
    assert_vals(&y.logsumexp(&[0], false), &[2], &[4f64.ln(), 6f64.ln()]);
    assert_vals(&y.logsumexp(&[], false), &[], &[10f64.ln()]);
    assert_vals(&Tensor::scalar(1.5f64).logsumexp(&[0], false), &[], &[1.5]);
}

#[test]
fn logsumexp_is_stable_at_large_magnitudes() {
    let x = t64(&[1e4, 1e4, -1e4, -1e4], &[2, 2]);
    let y = x.logsumexp(&[1], false).to_vec::<f64>();
    assert!((y[0] - (1e4 + 2f64.ln())).abs() < 1e-9, "{y:?}");
    assert!((y[1] - (-1e4 + 2f64.ln())).abs() < 1e-9, "{y:?}");
    // 1e4 and 1e4 − 1: log(e^1e4 (1 + e^−1))
    let z = t64(&[1e4, 1e4 - 1.0], &[2]);
    let want = 1e4 + (1.0 + (-1f64).exp()).ln();
    assert!((z.logsumexp(&[0], false).item::<f64>() - want).abs() < 1e-9);
    let x32 = Tensor::new([1e4f32, 1e4]);
    let y32 = x32.logsumexp(&[0], false).item::<f32>();
    assert!(
        y32.is_finite() && (y32 - (1e4 + 2f32.ln())).abs() < 2e-3,
        "{y32}"
    );
    // The gradient is the softmax: [½, ½], finite.
    let big = t64(&[1e4, 1e4], &[2]);
    let g = grad_of(&big, None, |x| x.logsumexp(&[0], false));
    assert!(close(&g, &[0.5, 0.5]), "{g:?}");
}

#[test]
fn logsumexp_with_infinities() {
    // −inf entries contribute e^−inf = 0.
    let x = t64(&[-INF, 0., 0.], &[3]);
    assert_vals(&x.logsumexp(&[0], false), &[], &[2f64.ln()]);
    assert!(close(
        &grad_of(&x, None, |x| x.logsumexp(&[0], false)),
        &[0., 0.5, 0.5]
    ));
    // An all −inf slice: the value is −inf, and its gradient e^(−inf + inf)
    // is NaN, as in PyTorch (documented).
    let dead = t64(&[-INF, -INF, 0., 0.], &[2, 2]);
    let g = grad_of(&dead, None, |x| x.logsumexp(&[1], false));
    assert!(close(&g, &[NAN, NAN, 0.5, 0.5]), "{g:?}");
    let rows = t64(&[-INF, -INF, 1., INF, NAN, 0.], &[3, 2]);
    assert_vals(&rows.logsumexp(&[1], false), &[3], &[-INF, INF, NAN]);
    // log 0 for an empty slice, as in PyTorch.
    let empty = Tensor::zeros([2, 0]).to_dtype(DType::F64);
    assert_vals(&empty.logsumexp(&[1], false), &[2], &[-INF, -INF]);
}

#[test]
fn logsumexp_fused_and_differentiable_backward_agree() {
    let x = randn(&[3, 4], 40).transpose(0, 1).requires_grad_(true);
    let seed = randn(&[3], 41);
    let loss = x.logsumexp(&[0], false).mul(&seed).sum();
    let fused = grad(&[&loss], &[&x], false).unwrap()[0].to_vec::<f64>();
    let loss = x.logsumexp(&[0], false).mul(&seed).sum();
    let graph = grad(&[&loss], &[&x], true).unwrap()[0].to_vec::<f64>();
    assert_eq!(fused, graph);
}

// -------------------------------------------------------------- var / std

#[test]
fn var_std_values() {
    let x = t64(&[1., 2., 3., 4.], &[4]);
    // mean 2.5, squared deviations sum to 5
    assert_vals(&x.var(&[0], 1, false), &[], &[5. / 3.]);
    assert_vals(&x.var(&[], 0, false), &[], &[1.25]);
    assert_vals(&x.var(&[0], 2, false), &[], &[2.5]);
    assert_vals(&x.std(&[0], 0, false), &[], &[1.25f64.sqrt()]);
    // [[1, 2, 3], [2, 4, 6]]: rows have sample variance 1 and 4.
    let y = t64(&[1., 2., 3., 2., 4., 6.], &[2, 3]);
    assert_vals(&y.var(&[1], 1, false), &[2], &[1., 4.]);
    assert_vals(&y.std(&[-1], 1, true), &[2, 1], &[1., 2.]);
    // Columns (a, b): Σ dev² = (b − a)²/2 → [0.5, 2, 4.5] with correction 1.
    assert_vals(&y.var(&[0], 1, false), &[3], &[0.5, 2., 4.5]);
    // All six: mean 3, Σ dev² = 16.
    assert_vals(&y.var(&[], 1, false), &[], &[3.2]);
    assert_vals(&y.var(&[0, 1], 0, true), &[1, 1], &[16. / 6.]);
    // Non-contiguous: yᵀ's dim 0 is y's dim 1.
    assert_vals(&y.transpose(0, 1).var(&[0], 1, false), &[2], &[1., 4.]);
    let y32 = Tensor::new([[1.0f32, 2.0, 3.0], [2.0, 4.0, 6.0]]);
    assert_eq!(y32.std(&[1], 1, false).to_vec::<f32>(), vec![1.0, 2.0]);
}

#[test]
fn var_nan_and_inf_only_where_pytorch_gives_them() {
    // One element, correction 1: 0/0.
    assert!(t64(&[5.], &[1]).var(&[0], 1, false).item::<f64>().is_nan());
    assert!(Tensor::scalar(5.0f64)
        .std(&[], 1, false)
        .item::<f64>()
        .is_nan());
    // One element, correction 0: a plain 0.
    assert_vals(&t64(&[5.], &[1]).var(&[0], 0, false), &[], &[0.]);
    // Two distinct elements, correction 3: 0.5 / max(2 − 3, 0) = +inf.
    assert_vals(&t64(&[1., 2.], &[2]).var(&[0], 3, false), &[], &[INF]);
    // Empty slice: NaN.
    let empty = Tensor::zeros([3, 0]).to_dtype(DType::F64);
    assert_vals(&empty.var(&[1], 1, false), &[3], &[NAN; 3]);
    // A constant slice with enough elements is 0, not NaN.
    assert_vals(&t64(&[2., 2., 2.], &[3]).std(&[0], 1, false), &[], &[0.]);
}

#[test]
fn std_gradient_is_zero_on_a_constant_slice() {
    // Row 0 is constant; row 1 = [1, 2, 3] has std 1, and
    // d std / dx_i = (x_i − mean) / ((n − 1) std) = [−½, 0, ½].
    let x = t64(&[5., 5., 5., 1., 2., 3.], &[2, 3]);
    let g = grad_of(&x, None, |x| x.std(&[1], 1, false));
    assert!(close(&g, &[0., 0., 0., -0.5, 0., 0.5]), "{g:?}");
    // d var / dx_i = 2 (x_i − mean) / (n − 1) = [−1, 0, 1] on row 1.
    let g = grad_of(&x, None, |x| x.var(&[1], 1, false));
    assert!(close(&g, &[0., 0., 0., -1., 0., 1.]), "{g:?}");
}

// ------------------------------------------------ keepdim consistency

#[test]
fn keepdim_true_matches_false_after_unsqueeze() {
    let x = randn(&[2, 3, 4], 30);
    type Op = fn(&Tensor, &[isize], bool) -> Tensor;
    let ops: [(&str, Op); 6] = [
        ("amax", |x, d, k| x.amax(d, k)),
        ("amin", |x, d, k| x.amin(d, k)),
        ("logsumexp", |x, d, k| x.logsumexp(d, k)),
        ("var", |x, d, k| x.var(d, 1, k)),
        ("std", |x, d, k| x.std(d, 0, k)),
        ("max_dim", |x, d, k| x.max_dim(d[0], k).0),
    ];
    for (name, op) in ops {
        for dims in [vec![0isize], vec![1], vec![-1], vec![0, 2], vec![1, 2]] {
            if name == "max_dim" && dims.len() > 1 {
                continue;
            }
            let kept = op(&x, &dims, true);
            let mut dropped = op(&x, &dims, false);
            let mut sorted: Vec<usize> = dims
                .iter()
                .map(|&d| x.shape().dim("t", d).unwrap())
                .collect();
            sorted.sort();
            for d in sorted {
                dropped = dropped.unsqueeze(d as isize);
            }
            assert_eq!(kept.dims(), dropped.dims(), "{name} {dims:?}");
            assert_eq!(
                kept.to_vec::<f64>(),
                dropped.to_vec::<f64>(),
                "{name} {dims:?}"
            );
        }
    }
    for dim in [0isize, 1, -1] {
        let kept = x.argmax(dim, true);
        let dropped = x
            .argmax(dim, false)
            .unsqueeze(x.shape().dim("t", dim).unwrap() as isize);
        assert_eq!(kept.to_vec::<f64>(), dropped.to_vec::<f64>());
        assert_eq!(kept.dims(), dropped.dims());
    }
}

// ---------------------------------------------------------------- errors

#[test]
fn dim_out_of_range_is_reported() {
    let x = ramp();
    let err = x.try_amax(&[3], false).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DimOutOfRange {
                op: "amax",
                dim: 3,
                rank: 3
            }
        ),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .starts_with("amax: dim 3 is out of range for a tensor of rank 3"));
    let err = x.try_max_dim(-4, false).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DimOutOfRange {
                op: "max_dim",
                dim: -4,
                ..
            }
        ),
        "{err:?}"
    );
    let err = x.try_argmin(5, false).unwrap_err();
    assert!(
        err.to_string().starts_with("argmin: dim 5 is out of range"),
        "{err}"
    );
    for (name, err) in [
        ("logsumexp", x.try_logsumexp(&[0, 7], false).unwrap_err()),
        ("var", x.try_var(&[-9], 1, false).unwrap_err()),
        ("std", x.try_std(&[3], 1, true).unwrap_err()),
        ("amin", x.try_amin(&[4], true).unwrap_err()),
    ] {
        assert!(matches!(err, Error::DimOutOfRange { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with(&format!("{name}: dim")),
            "{err}"
        );
    }
}

#[test]
fn duplicate_dims_are_rejected() {
    let x = ramp();
    let err = x.try_amax(&[0, -3], false).unwrap_err();
    assert!(
        matches!(err, Error::DuplicateDim { op: "amax", dim: 0 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "amax: dim 0 appears more than once");
    let err = x.try_logsumexp(&[1, 1], true).unwrap_err();
    assert_eq!(err.to_string(), "logsumexp: dim 1 appears more than once");
    let err = x.try_var(&[2, -1], 1, false).unwrap_err();
    assert_eq!(err.to_string(), "var: dim 2 appears more than once");
}

#[test]
fn reducing_an_empty_dim_is_an_error() {
    let x = Tensor::zeros([2, 0]).to_dtype(DType::F64);
    let err = x.try_amax(&[1], false).unwrap_err();
    assert!(matches!(err, Error::BadShape { op: "amax", .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "amax: cannot reduce over dim 1 of size 0 (the reduction has no identity) (got shape [2, 0])"
    );
    for (name, err) in [
        ("amin", x.try_amin(&[], true).unwrap_err()),
        ("max", x.try_max().unwrap_err()),
        ("min", x.try_min().unwrap_err()),
        (
            "max_dim",
            x.try_max_dim(-1, false).map(|p| p.0).unwrap_err(),
        ),
        ("min_dim", x.try_min_dim(1, true).map(|p| p.0).unwrap_err()),
        ("argmax", x.try_argmax(1, false).unwrap_err()),
        ("argmax", x.try_argmax_all().unwrap_err()),
        ("argmin", x.try_argmin_all().unwrap_err()),
    ] {
        assert!(matches!(err, Error::BadShape { .. }), "{name}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{name}: cannot reduce over dim 1 of size 0")),
            "{msg}"
        );
        assert!(msg.ends_with("(got shape [2, 0])"), "{msg}");
    }
    // Reducing the non-empty dim of an empty tensor is fine: empty result.
    assert_eq!(x.amax(&[0], false).dims(), &[0]);
    assert_eq!(x.argmax(0, true).dims(), &[1, 0]);
}

#[test]
#[should_panic(expected = "max: cannot reduce over dim 0 of size 0")]
fn panicking_form_reports_the_same_message() {
    Tensor::zeros([0]).max();
}
