//! Anomaly mode (`detect_anomaly`, as `torch.autograd.detect_anomaly`):
//! names the first op whose forward output or backward gradient holds NaN
//! or Inf, with its tape entry and shapes; reports nothing outside the
//! scope; restores the previous state on every exit path.

use tapegrad::{
    autograd::is_anomaly_enabled, detect_anomaly, grad, tape_len, Error, Result, Tensor,
};

fn message(err: Error) -> String {
    assert!(
        matches!(err, Error::Anomaly { .. }),
        "not an anomaly: {err}"
    );
    err.to_string()
}

#[test]
fn forward_nan_names_the_op_entry_and_shape() {
    let x = Tensor::new([[4.0f64, -1.0, 9.0], [1.0, 2.0, 3.0]]).requires_grad_(true);
    let err = detect_anomaly(|| {
        let y = x.try_mul_scalar(2.0)?; // entries 0 (leaf) and 1: fine
        let z = y.try_sqrt()?; // entry 2: sqrt(-2) is NaN
        z.try_sum()
    })
    .unwrap_err();
    let msg = message(err);
    assert!(msg.contains("forward output of Sqrt"), "{msg}");
    assert!(msg.contains("tape entry 2"), "{msg}");
    assert!(msg.contains("shape [2, 3]"), "{msg}");
    tapegrad::clear_tape();
}

#[test]
fn forward_log_of_zero_is_reported() {
    let x = Tensor::new([0.0f32, 1.0]).requires_grad_(true);
    let msg = message(detect_anomaly(|| x.try_log()).unwrap_err());
    assert!(msg.contains("Log") && msg.contains("shape [2]"), "{msg}");
    tapegrad::clear_tape();
}

#[test]
fn backward_inf_is_reported_at_the_op_that_made_it() {
    // sqrt(0) = 0 is finite, but d/dx sqrt(x) = 1/(2·sqrt(x)) is +inf at 0.
    let x = Tensor::new([0.0f64, 4.0]).requires_grad_(true);
    let err = detect_anomaly(|| {
        let y = x.try_sqrt()?.try_mul_scalar(3.0)?.try_sum()?;
        y.try_backward()
    })
    .unwrap_err();
    let msg = message(err);
    assert!(msg.contains("backward of Sqrt"), "{msg}");
    assert!(msg.contains("tape entry 1"), "{msg}");
    assert!(msg.contains("input 0 (shape [2])"), "{msg}");
    // The error stopped the sweep before the bad gradient reached x.
    assert!(x.grad().is_none());
    tapegrad::clear_tape();
}

#[test]
fn backward_of_log_at_zero_through_grad_is_reported() {
    // log(x)·0 is finite in forward (0·-inf would be NaN, so use x+1 > 0 and
    // a separate 1/x path): d/dx log(x) at 0 is inf.
    let x = Tensor::new([0.0f64, 1.0]).requires_grad_(true);
    let err = detect_anomaly(|| {
        let y = x.try_add_scalar(1.0)?.try_log()?; // finite
        let z = y.try_sum()?;
        grad(&[&z], &[&x], false)
    });
    assert!(err.is_ok(), "log(x+1) at 0 is fine");
    let err = detect_anomaly(|| {
        let y = x.try_abs()?.try_powf(0.5)?.try_sum()?; // |x|^0.5: slope inf at 0
        grad(&[&y], &[&x], false)
    })
    .unwrap_err();
    let msg = message(err);
    assert!(msg.contains("backward of PowScalar"), "{msg}");
    tapegrad::clear_tape();
}

#[test]
fn nothing_is_reported_outside_the_scope() {
    let x = Tensor::new([-1.0f64, 0.0]).requires_grad_(true);
    // The same computations succeed silently (NaN/Inf values, as PyTorch).
    let y = x.try_sqrt().unwrap();
    assert!(y.to_vec::<f64>()[0].is_nan());
    y.sum().backward();
    assert!(x.grad().unwrap().to_vec::<f64>()[1].is_infinite());
    assert!(!is_anomaly_enabled());
}

#[test]
fn the_scope_restores_the_previous_state_on_every_exit() {
    assert!(!is_anomaly_enabled());
    // Early return with an error from inside.
    let r: Result<()> = detect_anomaly(|| {
        assert!(is_anomaly_enabled());
        Err(Error::Anomaly {
            detail: "test".into(),
        })
    });
    assert!(r.is_err());
    assert!(!is_anomaly_enabled());
    // Nested scopes: the inner one leaves the outer one on.
    detect_anomaly(|| {
        detect_anomaly(|| Ok(()))?;
        assert!(is_anomaly_enabled());
        Ok(())
    })
    .unwrap();
    assert!(!is_anomaly_enabled());
    // A panic unwinding out of the scope.
    let caught = std::panic::catch_unwind(|| {
        let _ = detect_anomaly(|| -> Result<()> { panic!("boom") });
    });
    assert!(caught.is_err());
    assert!(
        !is_anomaly_enabled(),
        "state leaked out of a panicking scope"
    );
}

#[test]
fn finite_computations_pass_and_leave_the_tape_as_usual() {
    let w = Tensor::new([0.5f32, -0.25]).requires_grad_(true);
    detect_anomaly(|| {
        let loss = w.try_tanh()?.try_square()?.try_sum()?;
        loss.try_backward()
    })
    .unwrap();
    assert!(w.grad().is_some());
    assert_eq!(tape_len(), 0);
}
