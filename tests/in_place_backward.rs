//! Backward writes some gradients into buffers it owns alone (scalar ops and
//! the fused tanh/sigmoid/exp rules). These tests pin down that no tensor the
//! caller can see is ever overwritten, and that values stay exact.

use tapegrad::{grad, BackwardOptions, Tensor};

#[test]
fn a_seed_gradient_passed_by_the_caller_is_not_modified() {
    let x = Tensor::new([0.5f32, -1.0, 2.0]).requires_grad_(true);
    let y = x.mul_scalar(3.0).tanh().div_scalar(2.0).exp();
    let seed = Tensor::new([1.0f32, 2.0, 3.0]);
    y.backward_with(Some(&seed), BackwardOptions::default());
    assert_eq!(seed.to_vec::<f32>(), vec![1.0, 2.0, 3.0]);
    // The gradient itself, by hand: d/dx exp(tanh(3x)/2) = y · (1 − t²) · 3/2.
    let xs = [0.5f64, -1.0, 2.0];
    let want: Vec<f64> = xs
        .iter()
        .zip([1.0, 2.0, 3.0])
        .map(|(&x, s)| {
            let t = (3.0 * x).tanh();
            s * (t / 2.0).exp() * (1.0 - t * t) * 1.5
        })
        .collect();
    let got = x.grad().unwrap().to_vec::<f64>();
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g - w).abs() < 1e-5 * w.abs().max(1.0),
            "{got:?} vs {want:?}"
        );
    }
}

#[test]
fn gradients_returned_by_grad_for_intermediates_are_not_overwritten() {
    // `h` is both a target and on the path to `x`: its gradient is kept and
    // handed back, so the rules below it must not write into it.
    let x = Tensor::new([0.3f64, -0.7]).requires_grad_(true);
    let h = x.mul_scalar(2.0);
    let y = h.tanh().mul_scalar(5.0).sum();
    let g = grad(&[&y], &[&h, &x], false).unwrap();
    let t: Vec<f64> = [0.6f64, -1.4].iter().map(|v| v.tanh()).collect();
    let gh: Vec<f64> = t.iter().map(|t| 5.0 * (1.0 - t * t)).collect();
    assert_eq!(g[0].to_vec::<f64>(), gh);
    assert_eq!(
        g[1].to_vec::<f64>(),
        gh.iter().map(|v| v * 2.0).collect::<Vec<_>>()
    );
}

#[test]
fn a_gradient_shared_by_two_inputs_is_not_scaled_twice() {
    // Add hands the same gradient tensor to both inputs; each branch then
    // scales it. In-place scaling of a shared buffer would corrupt the other.
    let x = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
    let a = x.mul_scalar(3.0);
    let b = x.mul_scalar(5.0);
    a.add(&b).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![8.0, 8.0]);
}
