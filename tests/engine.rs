//! The tape's contract: what backward accumulates, when the tape is
//! released, what is an error, and second-order gradients.

use tapegrad::{
    clear_tape, grad, no_grad, tape_len, BackwardOptions, DType, Error, NoGradGuard, Tensor,
};

fn leaf(values: &[f64]) -> Tensor {
    Tensor::from_slice(values, [values.len()])
        .unwrap()
        .requires_grad_(true)
}

#[test]
fn backward_accumulates_until_zero_grad() {
    let x = leaf(&[1.0, 2.0]);
    // y = Σ 3x → dy/dx = 3, twice → 6
    x.mul_scalar(3.0).sum().backward();
    x.mul_scalar(3.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![6.0, 6.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    x.mul_scalar(3.0).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![3.0, 3.0]);
}

#[test]
fn a_leaf_used_twice_gets_one_summed_gradient() {
    let x = leaf(&[2.0, -1.0]);
    // y = Σ (x·x + x) → 2x + 1
    let y = (&x * &x + &x).sum();
    y.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![5.0, -1.0]);
}

#[test]
fn diamond_graph_sums_both_paths() {
    let x = leaf(&[0.5]);
    let a = x.exp();
    let b = a.mul_scalar(2.0);
    let c = a.square();
    let y = (&b + &c).sum(); // y = 2eˣ + e²ˣ → y' = 2eˣ + 2e²ˣ
    y.backward();
    let want = 2.0 * 0.5f64.exp() + 2.0 * 1.0f64.exp();
    assert!((x.grad().unwrap().item::<f64>() - want).abs() < 1e-12);
}

#[test]
fn backward_releases_the_tape_and_a_second_backward_is_an_error() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.tanh().sum();
    assert!(tape_len() > 0);
    y.backward();
    assert_eq!(tape_len(), 0);
    let err = y.try_backward().unwrap_err();
    assert!(matches!(err, Error::Autograd { .. }));
    assert!(err.to_string().contains("already been released"), "{err}");
    assert!(err.to_string().contains("retain_graph"), "{err}");
}

#[test]
fn retain_graph_allows_a_second_backward() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.square().sum();
    let keep = BackwardOptions {
        retain_graph: true,
        create_graph: false,
        ..Default::default()
    };
    y.backward_with(None, keep);
    y.backward();
    // 2x, twice
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![4.0, 8.0]);
}

#[test]
fn using_a_released_intermediate_fails_at_backward() {
    let x = leaf(&[1.0]);
    let h = x.exp();
    let first = h.sum();
    first.backward(); // releases h's graph
    let second = h.mul_scalar(2.0).sum();
    let err = second.try_backward().unwrap_err();
    assert!(err.to_string().contains("released"), "{err}");
}

#[test]
fn backward_on_a_non_scalar_needs_a_seed() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.mul_scalar(2.0);
    let err = y.try_backward().unwrap_err();
    assert!(err.to_string().contains("shape [2]"), "{err}");
    let seed = Tensor::new([1.0f64, 10.0]);
    y.backward_with(Some(&seed), BackwardOptions::default());
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![2.0, 20.0]);
}

#[test]
fn seed_shape_and_dtype_are_checked() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.mul_scalar(2.0);
    let bad = Tensor::new([1.0f64, 2.0, 3.0]);
    assert!(matches!(
        y.try_backward_with(Some(&bad), BackwardOptions::default()),
        Err(Error::ShapeMismatch { .. })
    ));
    let bad = Tensor::new([1.0f32, 2.0]);
    assert!(matches!(
        y.try_backward_with(Some(&bad), BackwardOptions::default()),
        Err(Error::DTypeMismatch { .. })
    ));
}

#[test]
fn backward_of_a_constant_is_an_error() {
    let y = Tensor::new([1.0f32]).sum();
    let err = y.try_backward().unwrap_err();
    assert!(err.to_string().contains("does not require grad"), "{err}");
}

#[test]
fn no_grad_records_nothing() {
    clear_tape();
    let x = leaf(&[1.0, 2.0]);
    let y = no_grad(|| x.square().sum());
    assert!(!y.requires_grad());
    assert_eq!(tape_len(), 0);
    {
        let _guard = NoGradGuard::new();
        let z = x.exp();
        assert!(!z.requires_grad());
    }
    assert!(x.exp().requires_grad());
}

#[test]
fn detach_stops_the_gradient() {
    let x = leaf(&[3.0]);
    // y = x · stop(x) → dy/dx = stop(x) = 3 (not 2x = 6)
    let y = (&x * &x.detach()).sum();
    y.backward();
    assert_eq!(x.grad().unwrap().item::<f64>(), 3.0);
}

#[test]
fn dropping_every_tensor_of_a_graph_releases_the_tape() {
    clear_tape();
    let w = leaf(&[1.0, 2.0]);
    {
        let _unused = w.tanh().exp().sum();
        assert_eq!(tape_len(), 4);
    }
    assert_eq!(
        tape_len(),
        0,
        "the graph is unreachable, so it must be gone"
    );
}

#[test]
fn ten_thousand_steps_do_not_grow_the_tape() {
    clear_tape();
    let w = leaf(&[0.5, -0.25, 1.0]);
    let x = Tensor::new([1.0f64, 2.0, 3.0]);
    let mut max_len = 0;
    for _ in 0..10_000 {
        let loss = (&w * &x).tanh().square().sum();
        max_len = max_len.max(tape_len());
        loss.backward();
        assert_eq!(tape_len(), 0);
        no_grad(|| {
            let g = w.grad().unwrap();
            w.copy_(&(&w - &g.mul_scalar(0.01)));
        });
        w.zero_grad();
    }
    // leaf + mul + tanh + square + sum
    assert_eq!(max_len, 5);
}

#[test]
fn requires_grad_cannot_be_changed_on_a_non_leaf() {
    let x = leaf(&[1.0]);
    let y = x.exp();
    assert!(y.try_requires_grad_(false).is_err());
    assert!(x.is_leaf());
}

#[test]
fn second_derivative_of_tanh_is_minus_two_tanh_times_one_minus_tanh_squared() {
    let values = [-2.0, -0.3, 0.0, 0.7, 1.9];
    let x = leaf(&values);
    let y = x.tanh();
    let dy = grad(&[&y.sum()], &[&x], true).unwrap().remove(0);
    let d2y = grad(&[&dy.sum()], &[&x], false).unwrap().remove(0);
    for (v, got) in values.iter().zip(d2y.to_vec::<f64>()) {
        let t = v.tanh();
        let want = -2.0 * t * (1.0 - t * t);
        assert!((got - want).abs() < 1e-12, "x={v}: {got} vs {want}");
    }
}

#[test]
fn third_derivative_of_a_cube() {
    let x = leaf(&[1.5]);
    let y = x.powf(3.0).sum();
    let d1 = grad(&[&y], &[&x], true).unwrap().remove(0);
    let d2 = grad(&[&d1.sum()], &[&x], true).unwrap().remove(0);
    let d3 = grad(&[&d2.sum()], &[&x], false).unwrap().remove(0);
    assert_eq!(d1.item::<f64>(), 3.0 * 1.5 * 1.5);
    assert_eq!(d2.item::<f64>(), 6.0 * 1.5);
    assert_eq!(d3.item::<f64>(), 6.0);
}

#[test]
fn grad_returns_without_touching_dot_grad() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.square().sum();
    let g = grad(&[&y], &[&x], false).unwrap().remove(0);
    assert_eq!(g.to_vec::<f64>(), vec![2.0, 4.0]);
    assert!(x.grad().is_none());
}

#[test]
fn grad_of_an_unused_input_is_an_error_or_zero_if_allowed() {
    let x = leaf(&[1.0, 2.0]);
    let unused = leaf(&[5.0]);
    let y = x.sum();
    assert!(grad(&[&y], &[&x, &unused], false).is_err());
    let options = tapegrad::BackwardOptions {
        allow_unused: true,
        ..Default::default()
    };
    let g = tapegrad::grad_with(&[&y], &[], &[&x, &unused], options).unwrap();
    assert_eq!(g[1].to_vec::<f64>(), vec![0.0]);
}

#[test]
fn grad_with_respect_to_an_intermediate() {
    let x = leaf(&[1.0, 2.0]);
    let h = x.mul_scalar(3.0);
    let y = h.square().sum(); // dy/dh = 2h
    let g = grad(&[&y], &[&h], false).unwrap().remove(0);
    assert_eq!(g.to_vec::<f64>(), vec![6.0, 12.0]);
}

#[test]
fn f32_and_f64_both_work_and_do_not_mix() {
    let a = Tensor::ones([2]).requires_grad_(true);
    let b = Tensor::ones([2]).to_dtype(DType::F64);
    assert!(matches!(a.try_add(&b), Err(Error::DTypeMismatch { .. })));
    let y = a.to_dtype(DType::F64).mul(&b).sum();
    y.backward();
    let g = a.grad().unwrap();
    assert_eq!(g.dtype(), DType::F32);
    assert_eq!(g.to_vec::<f32>(), vec![1.0, 1.0]);
}

#[test]
fn panicking_forms_report_the_callers_line() {
    let result = std::panic::catch_unwind(|| {
        let a = Tensor::zeros([2, 3]);
        let b = Tensor::zeros([4]);
        let _ = &a + &b; // line of the panic
    });
    let payload = result.unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        message,
        "add: shapes [2, 3] and [4] cannot be broadcast together"
    );
}
