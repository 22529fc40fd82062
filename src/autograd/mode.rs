//! Grad mode: whether ops record onto the tape.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// True when ops on tensors that require grad are being recorded
/// (`torch.is_grad_enabled`).
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Restores the previous grad mode when dropped. Made by [`NoGradGuard::new`]
/// or by [`GradModeGuard::set`].
#[must_use = "grad mode is restored as soon as the guard is dropped"]
pub struct GradModeGuard {
    previous: bool,
}

impl GradModeGuard {
    /// Sets grad mode to `enabled` until the guard is dropped
    /// (`torch.set_grad_enabled`).
    pub fn set(enabled: bool) -> Self {
        let previous = GRAD_ENABLED.with(|g| g.replace(enabled));
        GradModeGuard { previous }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.previous));
    }
}

/// A scope in which nothing is recorded (`with torch.no_grad():`).
pub struct NoGradGuard;

impl NoGradGuard {
    /// Disables recording until the returned guard is dropped.
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> GradModeGuard {
        GradModeGuard::set(false)
    }
}

/// Runs `f` without recording anything on the tape (`torch.no_grad`):
/// results do not require grad and cost no tape memory.
///
/// ```
/// use tapegrad::{no_grad, Tensor};
/// let w = Tensor::ones(&[2]).requires_grad_(true);
/// let y = no_grad(|| w.mul_scalar(3.0));
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::set(false);
    f()
}

/// Runs `f` with recording enabled, even inside a [`no_grad`] scope
/// (`torch.enable_grad`).
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradModeGuard::set(true);
    f()
}
