//! What the PyTorch fixtures cannot pin down: `multinomial`'s sampling
//! distribution (tapegrad cannot reproduce PyTorch's random stream, so the
//! draws are tested statistically), the tie rules of `sort`/`topk` that
//! PyTorch leaves open, and how `clip_grad_norm_`/`clip_grad_value_` write
//! gradients that share buffers.
//!
//! The chi-square tests use fixed seeds, so they are deterministic; each
//! threshold is the 0.1% critical value of its chi-square distribution,
//! which a correct sampler exceeds for one seed in a thousand.

use tapegrad::nn::utils::{clip_grad_norm_, clip_grad_value_};
use tapegrad::{seeded_rng, BackwardOptions, DType, Tensor};

/// Pearson's statistic of observed counts against expected ones.
fn chi_square(observed: &[usize], expected: &[f64]) -> f64 {
    observed
        .iter()
        .zip(expected)
        .map(|(&o, &e)| (o as f64 - e).powi(2) / e)
        .sum()
}

fn counts(draws: &[f64], categories: usize) -> Vec<usize> {
    let mut c = vec![0; categories];
    for &d in draws {
        assert_eq!(d, d.trunc(), "an index is an integer");
        c[d as usize] += 1;
    }
    c
}

#[test]
fn multinomial_with_replacement_follows_the_weights() {
    // Weights need not sum to 1; the zero weight is never drawn.
    let w = Tensor::new([1.0f64, 2.0, 3.0, 4.0, 0.0]);
    let n = 20_000;
    let draws = w.multinomial(n, true, &mut seeded_rng(7));
    assert_eq!(draws.dims(), &[n]);
    assert_eq!(draws.dtype(), DType::I64);
    let c = counts(&draws.to_vec::<f64>(), 5);
    assert_eq!(c[4], 0, "a weight of 0 is never drawn");
    let expected: Vec<f64> = [0.1, 0.2, 0.3, 0.4].iter().map(|p| p * n as f64).collect();
    let stat = chi_square(&c[..4], &expected);
    // 3 degrees of freedom: P(χ² > 16.27) = 0.001.
    assert!(stat < 16.27, "chi-square {stat} for counts {c:?}");
}

#[test]
fn multinomial_draws_each_row_of_a_matrix_from_its_own_weights() {
    let w = Tensor::new([[1.0f32, 1.0, 2.0], [5.0, 0.0, 5.0]]);
    let n = 10_000;
    let draws = w.multinomial(n, true, &mut seeded_rng(11));
    assert_eq!(draws.dims(), &[2, n]);
    assert_eq!(draws.dtype(), DType::I64);
    let all = draws.to_vec::<f64>();
    let first = counts(&all[..n], 3);
    let second = counts(&all[n..], 3);
    let e = n as f64;
    // 2 degrees of freedom: P(χ² > 13.82) = 0.001.
    let stat = chi_square(&first, &[0.25 * e, 0.25 * e, 0.5 * e]);
    assert!(stat < 13.82, "row 0: chi-square {stat} for {first:?}");
    assert_eq!(second[1], 0);
    // 1 degree of freedom: P(χ² > 10.83) = 0.001.
    let stat = chi_square(&[second[0], second[2]], &[0.5 * e, 0.5 * e]);
    assert!(stat < 10.83, "row 1: chi-square {stat} for {second:?}");
}

#[test]
fn multinomial_without_replacement_draws_in_proportion_to_what_is_left() {
    // The ordered pair (first, second) of a draw without replacement has
    // probability p_i · p_j / (1 − p_i).
    let p = [0.1, 0.2, 0.3, 0.4];
    let rows = 20_000;
    let w = Tensor::new(p).reshape([1, 4]).expand(&[rows, 4]);
    let draws = w.multinomial(2, false, &mut seeded_rng(3)).to_vec::<f64>();
    let mut observed = [0usize; 16];
    for pair in draws.chunks(2) {
        assert_ne!(pair[0], pair[1], "no category twice");
        observed[pair[0] as usize * 4 + pair[1] as usize] += 1;
    }
    let (mut obs, mut exp) = (Vec::new(), Vec::new());
    for i in 0..4 {
        for j in 0..4 {
            if i != j {
                obs.push(observed[i * 4 + j]);
                exp.push(rows as f64 * p[i] * p[j] / (1.0 - p[i]));
            }
        }
    }
    let stat = chi_square(&obs, &exp);
    // 12 cells, 11 degrees of freedom: P(χ² > 31.26) = 0.001.
    assert!(stat < 31.26, "chi-square {stat} for {obs:?}");
}

#[test]
fn multinomial_without_replacement_takes_zero_weights_last_in_order() {
    let w = Tensor::new([0.0f64, 1.0, 0.0, 2.0]);
    for seed in 0..20 {
        let d = w
            .multinomial(4, false, &mut seeded_rng(seed))
            .to_vec::<f64>();
        let mut head = d[..2].to_vec();
        head.sort_by(f64::total_cmp);
        assert_eq!(head, vec![1.0, 3.0], "seed {seed}: {d:?}");
        assert_eq!(&d[2..], &[0.0, 2.0], "seed {seed}: {d:?}");
    }
}

#[test]
fn multinomial_is_reproducible_from_its_seed() {
    let w = Tensor::new([0.3f64, 0.3, 0.4]);
    let a = w.multinomial(50, true, &mut seeded_rng(5)).to_vec::<f64>();
    let b = w.multinomial(50, true, &mut seeded_rng(5)).to_vec::<f64>();
    let c = w.multinomial(50, true, &mut seeded_rng(6)).to_vec::<f64>();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn sort_is_stable_in_both_directions() {
    let x = Tensor::new([1.0f64, 2.0, 1.0, 2.0, 1.0]);
    let (v, i) = x.sort(0, false);
    assert_eq!(v.to_vec::<f64>(), vec![1.0, 1.0, 1.0, 2.0, 2.0]);
    assert_eq!(i.to_vec::<f64>(), vec![0.0, 2.0, 4.0, 1.0, 3.0]);
    let (v, i) = x.sort(0, true);
    assert_eq!(v.to_vec::<f64>(), vec![2.0, 2.0, 1.0, 1.0, 1.0]);
    assert_eq!(i.to_vec::<f64>(), vec![1.0, 3.0, 0.0, 2.0, 4.0]);
    // -0 and +0 are equal, so they keep their order too.
    let (_, i) = Tensor::new([0.0f64, -0.0]).sort(0, false);
    assert_eq!(i.to_vec::<f64>(), vec![0.0, 1.0]);
}

#[test]
fn topk_takes_the_first_of_tied_elements_and_ignores_sorted() {
    let x = Tensor::new([3.0f32, 1.0, 3.0, 1.0]);
    let (v, i) = x.topk(1, 0, true, true);
    assert_eq!(
        (v.to_vec::<f32>(), i.to_vec::<f32>()),
        (vec![3.0], vec![0.0])
    );
    let (v, i) = x.topk(3, 0, false, false);
    assert_eq!(v.to_vec::<f32>(), vec![1.0, 1.0, 3.0]);
    assert_eq!(i.to_vec::<f32>(), vec![1.0, 3.0, 0.0]);
}

#[test]
fn sort_values_send_the_gradient_back_to_their_positions() {
    let x = Tensor::new([[3.0f64, 1.0, 2.0]]).requires_grad_(true);
    let (values, indices) = x.sort(1, false);
    assert!(!indices.requires_grad());
    // Weights 1, 10, 100 on the sorted values [1, 2, 3].
    values
        .mul(&Tensor::new([[1.0f64, 10.0, 100.0]]))
        .sum()
        .backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![100.0, 1.0, 10.0]);
}

/// `clip_coef` for a total norm, as PyTorch defines it.
fn coef(max_norm: f64, total: f64) -> f64 {
    max_norm / (total + 1e-6)
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - y).abs() <= 1e-15 * y.abs().max(1.0))
}

#[test]
fn clipping_writes_a_gradient_of_its_own_in_place() {
    let w = Tensor::new([1.5f64, 2.0]).requires_grad_(true);
    w.mul(&w).sum().backward(); // grad 2w = [3, 4]
    let before = w.grad().unwrap().version();
    let total = clip_grad_norm_(std::slice::from_ref(&w), 1.0, 2.0).unwrap();
    assert_eq!(total, 5.0);
    let c = coef(1.0, 5.0);
    assert!(close(
        &w.grad().unwrap().to_vec::<f64>(),
        &[3.0 * c, 4.0 * c]
    ));
    assert_eq!(
        w.grad().unwrap().version(),
        before + 1,
        "one in-place write"
    );
    // Below max_norm: nothing is written.
    let total = clip_grad_norm_(std::slice::from_ref(&w), 10.0, 2.0).unwrap();
    assert!((total - 5.0 * c).abs() < 1e-15);
    assert_eq!(w.grad().unwrap().version(), before + 1);
}

#[test]
fn a_buffer_shared_by_two_gradients_is_clipped_once_for_each() {
    // `add` hands its gradient to both inputs: a.grad and b.grad share it.
    let a = Tensor::new([1.0f64, 1.0]).requires_grad_(true);
    let b = Tensor::new([2.0f64, 2.0]).requires_grad_(true);
    let seed = Tensor::new([3.0f64, 4.0]);
    a.add(&b)
        .backward_with(Some(&seed), BackwardOptions::default());
    let total = clip_grad_norm_(&[a.clone(), b.clone()], 1.0, 2.0).unwrap();
    let expected_total = 50f64.sqrt();
    assert!((total - expected_total).abs() < 1e-15);
    let c = coef(1.0, expected_total);
    for p in [&a, &b] {
        assert!(close(
            &p.grad().unwrap().to_vec::<f64>(),
            &[3.0 * c, 4.0 * c]
        ));
    }
    // The caller's seed is not touched.
    assert_eq!(seed.to_vec::<f64>(), vec![3.0, 4.0]);
}

#[test]
fn an_expanded_gradient_and_one_aliasing_its_parameter_are_replaced_not_written() {
    // The gradient of a sum is an expanded scalar (a stride-0 view).
    let a = Tensor::new([5.0f64, 6.0, 7.0, 8.0]).requires_grad_(true);
    a.sum().backward();
    // A gradient set to the parameter's own buffer.
    let b = Tensor::new([0.0f64, 2.0]).requires_grad_(true);
    b.set_grad(Some(b.detach()));
    let total = clip_grad_norm_(&[a.clone(), b.clone()], 1.0, 2.0).unwrap();
    assert!((total - 8f64.sqrt()).abs() < 1e-15);
    let c = coef(1.0, 8f64.sqrt());
    assert!(close(&a.grad().unwrap().to_vec::<f64>(), &[c; 4]));
    assert!(close(&b.grad().unwrap().to_vec::<f64>(), &[0.0, 2.0 * c]));
    assert_eq!(
        b.to_vec::<f64>(),
        vec![0.0, 2.0],
        "the parameter is unchanged"
    );
}

#[test]
fn a_held_handle_on_a_gradient_keeps_its_values() {
    // PyTorch would change the held tensor too; tapegrad replaces `.grad`
    // rather than write a buffer someone else can see.
    let w = Tensor::new([0.0f64, 0.0]).requires_grad_(true);
    w.set_grad(Some(Tensor::new([6.0f64, 8.0])));
    let held = w.grad().unwrap();
    clip_grad_norm_(std::slice::from_ref(&w), 1.0, 2.0).unwrap();
    assert_eq!(held.to_vec::<f64>(), vec![6.0, 8.0]);
    let c = coef(1.0, 10.0);
    assert!(close(
        &w.grad().unwrap().to_vec::<f64>(),
        &[6.0 * c, 8.0 * c]
    ));
}

#[test]
fn non_finite_norms_behave_as_in_pytorch_by_default() {
    // Values PyTorch 2.x gives: a NaN norm makes every gradient NaN; an
    // infinite one scales by 0 (so the infinite entry becomes NaN).
    let a = Tensor::new([0.0f64, 0.0, 0.0]).requires_grad_(true);
    a.set_grad(Some(Tensor::new([1.0f64, f64::NAN, 2.0])));
    assert!(clip_grad_norm_(std::slice::from_ref(&a), 1.0, 2.0)
        .unwrap()
        .is_nan());
    assert!(a.grad().unwrap().to_vec::<f64>().iter().all(|v| v.is_nan()));
    a.set_grad(Some(Tensor::new([1.0f64, f64::INFINITY, 2.0])));
    assert_eq!(
        clip_grad_norm_(std::slice::from_ref(&a), 1.0, 2.0).unwrap(),
        f64::INFINITY
    );
    let g = a.grad().unwrap().to_vec::<f64>();
    assert!(g[0] == 0.0 && g[1].is_nan() && g[2] == 0.0, "{g:?}");
    // The inf norm propagates NaN too.
    a.set_grad(Some(Tensor::new([1.0f64, f64::NAN, 2.0])));
    assert!(
        clip_grad_norm_(std::slice::from_ref(&a), 1.0, f64::INFINITY)
            .unwrap()
            .is_nan()
    );
}

#[test]
fn parameters_without_gradients_are_skipped() {
    let a = Tensor::zeros([2]).requires_grad_(true);
    assert_eq!(
        clip_grad_norm_(std::slice::from_ref(&a), 1.0, 2.0).unwrap(),
        0.0
    );
    assert!(a.grad().is_none());
    clip_grad_value_(std::slice::from_ref(&a), 1.0).unwrap();
    assert!(a.grad().is_none());
    assert_eq!(clip_grad_norm_(&[], 1.0, 2.0).unwrap(), 0.0);
}

#[test]
fn clip_grad_value_clamps_in_place_and_keeps_nan() {
    let w = Tensor::new([0.0f32; 4]).requires_grad_(true);
    w.set_grad(Some(Tensor::new([-3.0f32, 0.25, f32::NAN, 9.0])));
    let before = w.grad().unwrap().version();
    clip_grad_value_(std::slice::from_ref(&w), 0.5).unwrap();
    let g = w.grad().unwrap().to_vec::<f32>();
    assert_eq!((g[0], g[1], g[3]), (-0.5, 0.25, 0.5));
    assert!(g[2].is_nan());
    assert_eq!(w.grad().unwrap().version(), before + 1);
    // An infinite clip value changes nothing.
    clip_grad_value_(std::slice::from_ref(&w), f64::INFINITY).unwrap();
    assert_eq!(w.grad().unwrap().to_vec::<f32>()[3], 0.5);
}
