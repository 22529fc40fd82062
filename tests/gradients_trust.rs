//! Gradients that cannot be corrupted silently (issue 12): each test is a
//! class of mistake that used to give wrong gradients or no training with
//! no error, and must now give an error or the right answer.
//! - in-place writes into tensors saved for backward (the version counter);
//! - `.grad` holding something that is not a gradient of its tensor;
//! - a backward that fails part-way;
//! - copies of parameters posing as parameters;
//! - a `.grad` aliasing optimizer state;
//! - `grad()` asked for an input the outputs do not use.

use tapegrad::nn::{init, Linear, Module};
use tapegrad::optim::{Adam, AdamConfig, Optimizer, SgdConfig, SGD};
use tapegrad::{
    checkpoint, detect_anomaly, grad, grad_with, seeded_rng, BackwardOptions, DType, Tensor,
};

const MODIFIED: &str = "modified by an in-place operation";

fn backward_error(loss: &Tensor) -> String {
    match loss.try_backward() {
        Ok(()) => panic!("backward succeeded on modified saved values"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn writing_into_a_saved_intermediate_is_detected() {
    let x = Tensor::new([0.5f64, -1.0, 2.0]).requires_grad_(true);
    let y = x.exp(); // Exp saves its output y
    let loss = y.mul_scalar(3.0).sum();
    y.copy_(&Tensor::new([1.0f64, 1.0, 1.0]));
    let msg = backward_error(&loss);
    assert!(msg.contains(MODIFIED), "{msg}");
    assert!(
        msg.contains("Exp") && msg.contains("version 1, expected 0"),
        "{msg}"
    );
    assert!(x.grad().is_none());
}

#[test]
fn writing_into_a_leaf_used_in_a_product_is_detected() {
    let w = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]).requires_grad_(true);
    let x = Tensor::new([[0.5f32, -1.0]]);
    let loss = x.matmul(&w.t()).sum(); // matmul saves w (for x's gradient) and x
    let v = w.detach();
    // A write through another handle on the same storage counts too.
    v.copy_(&Tensor::zeros([2, 2]));
    let _ = backward_error(&loss);
    // x needs no gradient here, but matmul's rule for w reads x only: the
    // product of a constant x with a modified w is still refused, because
    // w itself was saved.
    let w2 = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]).requires_grad_(true);
    let loss = (&w2 * &w2).sum();
    w2.copy_(&Tensor::ones([2, 2]));
    assert!(backward_error(&loss).contains("Mul"));
}

#[test]
fn writing_through_a_view_is_detected() {
    let x = Tensor::new([[0.5f64, -1.0], [2.0, 0.25]]).requires_grad_(true);
    let y = x.tanh(); // saves y
    let loss = y.sum();
    let row = y.narrow(0, 1, 1); // a contiguous view sharing y's storage
    row.copy_(&Tensor::new([[0.0f64, 0.0]]));
    assert!(backward_error(&loss).contains("Tanh"));
}

#[test]
fn re_initialising_a_weight_between_forward_and_backward_is_detected() {
    let mut rng = seeded_rng(0);
    let layer = Linear::new(3, 2, true, &mut rng);
    let x = Tensor::ones([4, 3]);
    let loss = layer.forward(&x).sum();
    init::uniform_(layer.weight(), -0.1, 0.1, &mut rng).unwrap();
    let _ = backward_error(&loss);
}

#[test]
fn an_optimizer_step_between_forward_and_backward_is_detected() {
    // The GAN-style mistake: a loss computed with the old weights, then a
    // step, then that loss's backward.
    let mut rng = seeded_rng(1);
    let layer = Linear::new(3, 2, true, &mut rng);
    let x = Tensor::ones([4, 3]);
    let mut opt = SGD::new(layer.parameters(), SgdConfig::default()).unwrap();
    layer.forward(&x).square().sum().backward(); // gives every parameter a .grad
    let stale = layer.forward(&x).square().sum();
    opt.step().unwrap();
    let msg = backward_error(&stale);
    assert!(msg.contains(MODIFIED), "{msg}");
}

#[test]
fn loading_a_checkpoint_between_forward_and_backward_is_detected() {
    let mut rng = seeded_rng(2);
    let layer = Linear::new(3, 2, true, &mut rng);
    let dir = std::env::temp_dir().join(format!("tapegrad-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.safetensors");
    checkpoint::save(&layer, &path).unwrap();
    let x = Tensor::ones([4, 3]);
    let loss = layer.forward(&x).square().sum();
    checkpoint::load(&layer, &path).unwrap();
    let _ = backward_error(&loss);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn writes_that_no_rule_reads_are_allowed() {
    // Add saves nothing: writing into its inputs after the forward does not
    // change its gradient, so backward must work (as in PyTorch).
    let a = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
    let b = Tensor::new([3.0f64, 4.0]).requires_grad_(true);
    let loss = a.add(&b).sum();
    a.detach().copy_(&Tensor::new([9.0f64, 9.0]));
    loss.backward();
    assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![1.0, 1.0]);
    // And a write before the forward is just the new value.
    let w = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
    w.copy_(&Tensor::new([3.0f64, 5.0]));
    (&w * &w).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec::<f64>(), vec![6.0, 10.0]);
}

#[test]
fn set_grad_only_accepts_a_gradient_of_the_tensor() {
    let w = Tensor::zeros([2, 3]).requires_grad_(true);
    w.set_grad(Some(Tensor::ones([2, 3])));
    let wrong_shape = w.try_set_grad(Some(Tensor::ones([3]))).unwrap_err();
    assert!(
        wrong_shape.to_string().contains("set_grad"),
        "{wrong_shape}"
    );
    let wrong_dtype = w.try_set_grad(Some(Tensor::full_dtype([2usize, 3], 1.0, DType::F64)));
    assert!(wrong_dtype.is_err());
    // Both failures left the gradient as it was.
    assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![1.0; 6]);
    // A tensor that is not a leaf has no .grad to set; clearing is fine.
    let y = w.mul_scalar(2.0);
    assert!(y.try_set_grad(Some(Tensor::ones([2, 3]))).is_err());
    y.set_grad(None);
    // Accumulation never broadcasts: the gradient keeps its shape.
    (&w * &Tensor::ones([3])).sum().backward();
    assert_eq!(w.grad().unwrap().dims(), &[2, 3]);
    assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![2.0; 6]);
}

#[test]
fn a_failed_backward_changes_no_gradient_and_a_retry_matches_a_first_try() {
    let run = |x: &Tensor, w: &Tensor| {
        // log of a value that is 0 at one element: an infinite gradient,
        // which anomaly mode reports.
        let y = (x * w).relu().log().sum();
        y.mul_scalar(1.0)
    };
    let x = Tensor::new([1.0f64, 0.0, 2.0]);
    let w = Tensor::new([0.5f64, 1.5, -1.0]).requires_grad_(true);
    let v = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
    w.set_grad(Some(Tensor::new([10.0f64, 20.0, 30.0])));
    v.set_grad(Some(Tensor::new([7.0f64, 8.0])));
    let loss = run(&x, &w).add(&v.sum());
    let failed = detect_anomaly(|| loss.try_backward());
    assert!(failed.is_err());
    assert_eq!(w.grad().unwrap().to_vec::<f64>(), vec![10.0, 20.0, 30.0]);
    assert_eq!(v.grad().unwrap().to_vec::<f64>(), vec![7.0, 8.0]);
    // Retry without anomaly mode: the same as a first try on fresh leaves.
    loss.backward();
    let w0 = Tensor::new([0.5f64, 1.5, -1.0]).requires_grad_(true);
    let v0 = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
    run(&x, &w0).add(&v0.sum()).backward();
    let expect_w: Vec<f64> = w0
        .grad()
        .unwrap()
        .to_vec::<f64>()
        .iter()
        .zip([10.0, 20.0, 30.0])
        .map(|(g, a)| g + a)
        .collect();
    let (got, want) = (w.grad().unwrap().to_vec::<f64>(), expect_w);
    for (g, e) in got.iter().zip(&want) {
        assert!(g == e || (g.is_nan() && e.is_nan()), "{got:?} vs {want:?}");
    }
    assert_eq!(v.grad().unwrap().to_vec::<f64>(), vec![8.0, 9.0]);
}

#[test]
fn a_copy_of_a_parameter_is_not_the_parameter() {
    let w = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]).requires_grad_(true);
    let copy = w.t().contiguous();
    assert!(!copy.is_leaf());
    let err = SGD::new(vec![copy.clone()], SgdConfig::default())
        .expect_err("an optimizer refuses a copy")
        .to_string();
    assert!(
        err.contains("Contiguous") && err.contains("parameters themselves"),
        "{err}"
    );
    // Gradients through the copy reach the parameter.
    copy.mul_scalar(2.0).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![2.0; 4]);
    // A contiguous parameter's contiguous() is the parameter itself.
    assert!(w.contiguous().same_as(&w));
}

#[test]
fn a_grad_aliasing_optimizer_state_steps_as_a_copy_would() {
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let make = || Tensor::new([1.0f32, -2.0, 3.0]).requires_grad_(true);
    let (p, q) = (make(), make());
    let mut aliased = SGD::new(vec![p.clone()], config).unwrap();
    let mut copied = SGD::new(vec![q.clone()], config).unwrap();
    for (t, opt) in [(&p, &mut aliased), (&q, &mut copied)] {
        t.square().sum().backward();
        opt.step().unwrap();
    }
    // p's .grad is now the momentum buffer itself; q's a copy of it.
    let buffer = aliased.momentum_buffer(0).unwrap().clone();
    p.set_grad(Some(buffer));
    let copy = copied.momentum_buffer(0).unwrap().mul_scalar(1.0);
    q.set_grad(Some(copy));
    aliased.step().unwrap();
    copied.step().unwrap();
    assert_eq!(p.to_vec::<f32>(), q.to_vec::<f32>());

    // Adam: a .grad that is the parameter itself.
    let r = make();
    let mut adam = Adam::new(vec![r.clone()], AdamConfig::default()).unwrap();
    r.set_grad(Some(r.clone()));
    adam.step().unwrap();
    assert!(r.to_vec::<f32>().iter().all(|v| v.is_finite()));
}

#[test]
fn grad_of_an_unused_input_is_an_error_naming_it() {
    let x = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
    let unused = Tensor::new([3.0f64]).requires_grad_(true);
    let y = x.square().sum();
    let err = grad(&[&y], &[&x, &unused], false).unwrap_err().to_string();
    assert!(
        err.contains("input 1") && err.contains("not have been used"),
        "{err}"
    );
    // The failed call released nothing: with allow_unused it gives zeros.
    let y = x.square().sum();
    let grads = grad_with(
        &[&y],
        &[],
        &[&x, &unused],
        BackwardOptions {
            allow_unused: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(grads[0].to_vec::<f64>(), vec![2.0, 4.0]);
    assert_eq!(grads[1].to_vec::<f64>(), vec![0.0]);
    // Swapping grad_outputs and inputs is caught: the seed does not
    // require grad, so it cannot be an input.
    let y = x.mul_scalar(3.0);
    let seed = Tensor::full_dtype([2usize], 1.0, DType::F64);
    assert!(grad_with(&[&y], &[&x], &[&seed], BackwardOptions::default()).is_err());
}
