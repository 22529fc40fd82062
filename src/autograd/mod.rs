//! Reverse-mode automatic differentiation: the tape, grad mode, the backward
//! sweep, second-order gradients and gradient checking.

pub(crate) mod anomaly;
pub(crate) mod backward;
pub(crate) mod function;
pub(crate) mod gradcheck;
pub(crate) mod mode;
pub(crate) mod tape;
pub(crate) mod trace;

pub use anomaly::{detect_anomaly, is_anomaly_enabled};
pub use backward::{grad, grad_with, BackwardOptions};
pub use gradcheck::{
    gradcheck, gradcheck_outputs, gradgradcheck, GradPath, GradcheckOptions, GradcheckReport,
    InputCheck,
};
pub use mode::{enable_grad, is_grad_enabled, no_grad, GradModeGuard, NoGradGuard};
pub use tape::{clear_tape, tape_len};
pub use trace::{trace, Trace, TraceEntry};
