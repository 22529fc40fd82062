//! Anomaly mode (`torch.autograd.detect_anomaly`): stop at the first op whose
//! output or gradient holds a NaN or an infinity, and name it.

use std::cell::Cell;

use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
}

/// True inside a [`detect_anomaly`] scope.
pub fn is_anomaly_enabled() -> bool {
    ENABLED.with(Cell::get)
}

/// Runs `f` with anomaly detection on: every recorded op checks its output
/// and every backward rule checks the gradients it produces for NaN and
/// infinity. The first one found becomes an [`Error::Anomaly`] naming the op,
/// its tape entry and the shapes, instead of spreading silently.
///
/// It costs one pass over every value, so it is for debugging, not training.
///
/// ```
/// use tapegrad::{detect_anomaly, Tensor};
/// let x = Tensor::new([-1.0f32, 4.0]).requires_grad_(true);
/// let err = detect_anomaly(|| x.try_sqrt().map(|_| ())).unwrap_err();
/// assert!(err.to_string().contains("Sqrt"), "{err}");
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> Result<R>) -> Result<R> {
    // Restores the previous state when dropped, so that a panic unwinding
    // out of `f` does not leave anomaly mode on for the rest of the thread.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ENABLED.with(|e| e.set(self.0));
        }
    }
    let _restore = Restore(ENABLED.with(|e| e.replace(true)));
    f()
}

/// True if every element is finite.
pub(crate) fn all_finite(t: &Tensor) -> bool {
    if !t.dtype().is_floating_point() {
        return true;
    }
    dispatch!(t.dtype(), T => t.with_contiguous::<T, _>(|d| d.iter().all(|v| Element::is_finite(*v))))
}

/// In anomaly mode, fails if the forward output of `op` is not finite.
pub(crate) fn check_output(op: &'static str, entry: usize, output: &Tensor) -> Result<()> {
    if is_anomaly_enabled() && !all_finite(output) {
        return Err(Error::Anomaly {
            detail: format!(
                "the forward output of {op} (tape entry {entry}, shape {}) contains NaN or Inf",
                output.shape()
            ),
        });
    }
    Ok(())
}

/// In anomaly mode, fails if the gradient `op` produced for input `k` is not
/// finite.
pub(crate) fn check_gradient(
    op: &'static str,
    entry: usize,
    k: usize,
    grad: &Tensor,
) -> Result<()> {
    if is_anomaly_enabled() && !all_finite(grad) {
        return Err(Error::Anomaly {
            detail: format!(
                "the backward of {op} (tape entry {entry}) produced a gradient for input {k} \
                 (shape {}) that contains NaN or Inf",
                grad.shape()
            ),
        });
    }
    Ok(())
}
