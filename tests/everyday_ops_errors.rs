//! Bad input to the everyday ops: each is a `tapegrad::Error` naming the op
//! and the offending value or shape, never a panic of the `try_` form.

use tapegrad::nn::utils::{clip_grad_norm_, clip_grad_norm_with, clip_grad_value_};
use tapegrad::{seeded_rng, DType, Tensor};

fn message<T: std::fmt::Debug>(r: tapegrad::Result<T>) -> String {
    r.expect_err("an error").to_string()
}

#[test]
fn cumsum_tril_triu_repeat_refuse_bad_dims_and_sizes() {
    let x = Tensor::zeros([2, 3]);
    assert_eq!(
        message(x.try_cumsum(2)),
        "cumsum: dim 2 is out of range for a tensor of rank 2 (expected a dim in -2..=1)"
    );
    assert_eq!(
        message(Tensor::zeros([4]).try_tril(0)),
        "tril: the input must have at least 2 dims (got shape [4])"
    );
    assert_eq!(
        message(Tensor::zeros([]).try_triu(1)),
        "triu: the input must have at least 2 dims (got shape [])"
    );
    assert_eq!(
        message(x.try_repeat(&[2])),
        "repeat: the number of repeat sizes (1, got [2]) cannot be smaller than the number of \
         dims of the tensor (got shape [2, 3])"
    );
    let m = message(x.try_repeat(&[usize::MAX, 2]));
    assert!(m.starts_with("repeat: repeating shape [2, 3] by ["), "{m}");
    let m = message(Tensor::zeros([2]).try_repeat(&[1 << 40, 1 << 20]));
    assert!(
        m.starts_with("repeat: a float32 tensor of shape [1099511627776, 2097152]"),
        "{m}"
    );
}

#[test]
fn sort_and_topk_refuse_bad_dims_and_k() {
    let x = Tensor::zeros([2, 3]);
    assert_eq!(
        message(x.try_sort(-3, false)),
        "sort: dim -3 is out of range for a tensor of rank 2 (expected a dim in -2..=1)"
    );
    assert_eq!(
        message(x.try_topk(4, 1, true, true)),
        "topk: k = 4 is larger than the size 3 of dim 1 (got shape [2, 3])"
    );
    assert_eq!(
        message(x.try_topk(3, 0, false, true)),
        "topk: k = 3 is larger than the size 2 of dim 0 (got shape [2, 3])"
    );
    assert_eq!(
        message(Tensor::zeros([]).try_topk(2, 0, true, true)),
        "topk: k = 2 is larger than the size 1 of dim 0 (got shape [])"
    );
    assert!(message(x.try_topk(1, 2, true, true)).starts_with("topk: dim 2 is out of range"));
}

#[test]
fn the_panicking_form_reports_the_same_message() {
    let panic = std::panic::catch_unwind(|| Tensor::zeros([3]).topk(5, 0, true, true)).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().unwrap(),
        "topk: k = 5 is larger than the size 3 of dim 0 (got shape [3])"
    );
}

#[test]
fn norm_refuses_other_orders_bad_dims_and_an_empty_inf_norm() {
    let x = Tensor::zeros([2, 3]);
    assert_eq!(
        message(x.try_norm(3.0, &[], false)),
        "norm: p = 3 is not supported (use 1, 2 or f64::INFINITY)"
    );
    assert!(message(x.try_norm(f64::NAN, &[], false)).starts_with("norm: p = NaN"));
    assert!(message(x.try_norm(f64::NEG_INFINITY, &[], false)).starts_with("norm: p = -inf"));
    assert_eq!(
        message(x.try_norm(2.0, &[1, -1], false)),
        "norm: dim 1 appears more than once"
    );
    assert!(message(x.try_norm(1.0, &[2], false)).starts_with("norm: dim 2 is out of range"));
    let empty = Tensor::zeros([2, 0]);
    assert_eq!(
        message(empty.try_norm(f64::INFINITY, &[1], false)),
        "norm: the inf norm of an empty slice is undefined (the maximum has no identity) \
         (got shape [2, 0])"
    );
    // Reducing the non-empty dim only leaves nothing empty to reduce.
    assert_eq!(
        empty.norm(f64::INFINITY, &[0], false).dims(),
        &[0],
        "an empty result is fine"
    );
    // The 1- and 2-norms of an empty slice are 0, as in PyTorch.
    assert_eq!(empty.norm(2.0, &[1], false).to_vec::<f32>(), vec![0.0, 0.0]);
}

#[test]
fn multinomial_refuses_bad_probabilities_and_counts() {
    let rng = &mut seeded_rng(1);
    let ok = Tensor::new([0.2f64, 0.8]);
    assert_eq!(
        message(Tensor::new(1.0f64).try_multinomial(1, true, rng)),
        "multinomial: the probabilities must be a 1-d or 2-d tensor (got shape [])"
    );
    assert_eq!(
        message(Tensor::zeros([2, 2, 2]).try_multinomial(1, true, rng)),
        "multinomial: the probabilities must be a 1-d or 2-d tensor (got shape [2, 2, 2])"
    );
    assert_eq!(
        message(ok.try_multinomial(0, true, rng)),
        "multinomial: num_samples must be at least 1, got 0"
    );
    assert_eq!(
        message(Tensor::new([[0.5f64, 0.5], [0.3, -0.1]]).try_multinomial(1, true, rng)),
        "multinomial: probabilities must be finite and non-negative, but row 1 has -0.1 at \
         category 1"
    );
    assert_eq!(
        message(Tensor::new([f64::NAN, 1.0]).try_multinomial(1, false, rng)),
        "multinomial: probabilities must be finite and non-negative, but row 0 has NaN at \
         category 0"
    );
    assert_eq!(
        message(Tensor::new([1.0f32, f32::INFINITY]).try_multinomial(1, true, rng)),
        "multinomial: probabilities must be finite and non-negative, but row 0 has inf at \
         category 1"
    );
    assert_eq!(
        message(Tensor::new([[1.0f64, 0.0], [0.0, 0.0]]).try_multinomial(1, true, rng)),
        "multinomial: row 1 has no positive probability (its sum is 0)"
    );
    assert_eq!(
        message(Tensor::zeros([2, 0]).try_multinomial(1, true, rng)),
        "multinomial: row 0 has no positive probability (its sum is 0)"
    );
    assert_eq!(
        message(ok.try_multinomial(3, false, rng)),
        "multinomial: cannot draw 3 samples without replacement from 2 categories"
    );
    // With replacement, more samples than categories is fine.
    assert_eq!(ok.multinomial(3, true, rng).dims(), &[3]);
}

#[test]
fn linspace_refuses_non_finite_ends() {
    assert_eq!(
        message(Tensor::linspace(0.0, f64::INFINITY, 3)),
        "linspace: need a finite start and end, got start=0, end=inf"
    );
    assert!(
        message(Tensor::linspace_dtype(f64::NAN, 1.0, 3, DType::F64))
            .starts_with("linspace: need a finite start and end")
    );
}

fn param_with_grad(values: &[f64]) -> Tensor {
    let p = Tensor::zeros([values.len()])
        .to_dtype(DType::F64)
        .requires_grad_(true);
    p.set_grad(Some(
        Tensor::from_slice(values, &[values.len()][..]).unwrap(),
    ));
    p
}

#[test]
fn clip_grad_norm_refuses_bad_max_norm_and_norm_type() {
    let p = param_with_grad(&[3.0, 4.0]);
    let params = [p.clone()];
    for (max_norm, shown) in [
        (0.0, "0"),
        (-1.0, "-1"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
    ] {
        assert_eq!(
            message(clip_grad_norm_(&params, max_norm, 2.0)),
            format!("clip_grad_norm_: max_norm must be finite and > 0, got {shown}")
        );
    }
    for norm_type in [0.0, -2.0, f64::NAN, f64::NEG_INFINITY] {
        let m = message(clip_grad_norm_(&params, 1.0, norm_type));
        assert!(
            m.starts_with("clip_grad_norm_: norm_type must be > 0"),
            "{m}"
        );
    }
    assert_eq!(
        message(clip_grad_norm_(&[p.clone(), p.clone()], 1.0, 2.0)),
        "clip_grad_norm_: parameters 0 and 1 are the same tensor; pass each parameter once \
         (its gradient would be counted and clipped twice)"
    );
    // Nothing was written by any of the refused calls.
    assert_eq!(p.grad().unwrap().to_vec::<f64>(), vec![3.0, 4.0]);
}

#[test]
fn error_if_nonfinite_refuses_and_leaves_every_gradient_as_it_was() {
    let a = param_with_grad(&[30.0, 40.0]);
    let b = param_with_grad(&[f64::INFINITY, 1.0]);
    let versions = [a.grad().unwrap().version(), b.grad().unwrap().version()];
    assert_eq!(
        message(clip_grad_norm_with(&[a.clone(), b.clone()], 1.0, 2.0, true)),
        "clip_grad_norm_: the total norm of order 2 of the gradients is inf, so they cannot be \
         clipped (error_if_nonfinite is set)"
    );
    assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![30.0, 40.0]);
    assert_eq!(b.grad().unwrap().to_vec::<f64>(), vec![f64::INFINITY, 1.0]);
    assert_eq!(
        [a.grad().unwrap().version(), b.grad().unwrap().version()],
        versions
    );
}

#[test]
fn clip_grad_value_refuses_a_negative_or_nan_clip_value() {
    let p = param_with_grad(&[3.0, -4.0]);
    assert_eq!(
        message(clip_grad_value_(std::slice::from_ref(&p), -0.5)),
        "clip_grad_value_: clip_value must be >= 0, got -0.5"
    );
    assert_eq!(
        message(clip_grad_value_(std::slice::from_ref(&p), f64::NAN)),
        "clip_grad_value_: clip_value must be >= 0, got NaN"
    );
    assert_eq!(p.grad().unwrap().to_vec::<f64>(), vec![3.0, -4.0]);
}
