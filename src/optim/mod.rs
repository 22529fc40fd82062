//! Optimizers (`torch.optim`): [`SGD`], [`Adam`], [`AdamW`], and learning-rate
//! schedules ([`StepLR`], [`CosineAnnealingLR`]).
//!
//! An optimizer is built from a model's parameters and updates them in place
//! from their accumulated gradients. The update follows PyTorch's
//! single-tensor implementation line by line (same order of operations, same
//! first-step state), so a run matches PyTorch's to rounding. The update
//! itself is not recorded on the tape.
//!
//! ```
//! use tapegrad::optim::{Optimizer, SgdConfig, SGD};
//! use tapegrad::Tensor;
//! let w = Tensor::new([1.0f32, 2.0]).requires_grad_(true);
//! let mut opt = SGD::new([w.clone()], SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
//! w.square().sum().backward(); // grad = 2w
//! opt.step().unwrap();
//! opt.zero_grad();
//! assert_eq!(w.to_vec::<f32>(), vec![0.8, 1.6]);
//! assert!(w.grad().is_none());
//! ```
//!
//! Differences from PyTorch: one parameter group per optimizer (build one
//! optimizer per group if you need different settings); no `foreach`,
//! `fused`, `capturable` or `differentiable` flags (there is one CPU
//! implementation, and optimizer steps are never differentiated); no sparse
//! gradients; SGD's momentum must be below 1.

mod adam;
mod lr_scheduler;
mod repr;
mod sgd;
mod state;

pub use adam::{Adam, AdamConfig, AdamW};
pub use lr_scheduler::{CosineAnnealingLR, LrScheduler, StepLR};
pub use sgd::{SgdConfig, SGD};
pub use state::OptimizerState;

use std::rc::Rc;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// What every optimizer does (`torch.optim.Optimizer`).
pub trait Optimizer {
    /// One update of every parameter that has a gradient
    /// (`Optimizer.step()`); parameters whose gradient is `None` are skipped,
    /// as in PyTorch.
    fn step(&mut self) -> Result<()>;

    /// The parameters, in the order given at construction.
    fn params(&self) -> &[Tensor];

    /// Clears every parameter's gradient (`Optimizer.zero_grad()`, which sets
    /// them to `None`).
    fn zero_grad(&self) {
        for p in self.params() {
            p.zero_grad();
        }
    }

    /// The current learning rate (`param_groups[0]["lr"]`).
    fn lr(&self) -> f64;

    /// Sets the learning rate, as a scheduler does; it must be finite and
    /// `>= 0`.
    fn set_lr(&mut self, lr: f64) -> Result<()>;

    /// Hyperparameters and per-parameter state (`Optimizer.state_dict()`).
    fn state_dict(&self) -> OptimizerState;

    /// Restores what [`state_dict`](Optimizer::state_dict) returned
    /// (`Optimizer.load_state_dict`). Everything is validated first (the
    /// optimizer kind, the hyperparameters, each state tensor's parameter
    /// index, shape and dtype); on error the optimizer is unchanged.
    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()>;
}

/// Checks the parameter list an optimizer is built from.
pub(crate) fn collect_params(
    op: &'static str,
    params: impl IntoIterator<Item = Tensor>,
) -> Result<Vec<Tensor>> {
    let params: Vec<Tensor> = params.into_iter().collect();
    if params.is_empty() {
        return Err(Error::invalid(op, "optimizer got an empty parameter list"));
    }
    for (i, p) in params.iter().enumerate() {
        if !p.is_leaf() {
            return Err(Error::invalid(
                op,
                format!(
                    "can't optimize a non-leaf tensor (parameter {i}, shape {}): it is the \
                     result of an op ({}), such as contiguous() or arithmetic on a \
                     parameter, so updating it would not change the parameter; pass the \
                     parameters themselves (model.parameters()), or detach() it and call \
                     requires_grad_(true) to make it a parameter of its own",
                    p.shape(),
                    p.grad_fn().unwrap_or("released")
                ),
            ));
        }
        if !p.is_contiguous() {
            return Err(Error::invalid(
                op,
                format!("parameter {i} (shape {}) is a non-contiguous view; optimizers update parameters in place", p.shape()),
            ));
        }
        if let Some(j) = params[..i].iter().position(|q| q.same_as(p)) {
            return Err(Error::invalid(
                op,
                format!("parameters {j} and {i} are the same tensor; pass each parameter once"),
            ));
        }
    }
    Ok(params)
}

/// Checks a learning rate.
///
/// A new optimizer needs a positive learning rate (0 would silently train
/// nothing); a schedule may later lower it to exactly 0 through `set_lr`,
/// as cosine annealing to `eta_min = 0` does.
pub(crate) fn check_lr(op: &'static str, lr: f64, allow_zero: bool) -> Result<()> {
    let ok = lr.is_finite() && (lr > 0.0 || (allow_zero && lr == 0.0));
    if !ok {
        let need = if allow_zero {
            "finite and >= 0"
        } else {
            "finite and > 0"
        };
        return Err(Error::invalid(
            op,
            format!("Invalid learning rate: {lr} (must be {need})"),
        ));
    }
    Ok(())
}

/// Every parameter's gradient, all checked before any update: a bad
/// gradient on a later parameter must not leave the earlier ones stepped.
pub(crate) fn grads_of(op: &'static str, params: &[Tensor]) -> Result<Vec<Option<Tensor>>> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| grad_of(op, i, p))
        .collect()
}

/// The gradient of parameter `i`, checked against the parameter. `None` when
/// it has no gradient (the parameter is skipped).
///
/// A gradient that shares the parameter's buffer (possible when a backward
/// rule hands back an input unchanged) is copied, since the update borrows
/// the parameter's buffer mutably while reading the gradient.
pub(crate) fn grad_of(op: &'static str, i: usize, p: &Tensor) -> Result<Option<Tensor>> {
    let Some(g) = p.grad() else { return Ok(None) };
    check_grad(op, i, p, &g)?;
    Ok(Some(unaliased(g, &[p])))
}

/// Checks that `g` can be parameter `i`'s gradient: its shape and dtype.
/// (`set_grad` already refuses anything else; this keeps the error next to
/// the update that would misread it.)
pub(crate) fn check_grad(op: &'static str, i: usize, p: &Tensor, g: &Tensor) -> Result<()> {
    if g.shape() != p.shape() {
        return Err(Error::mismatch(
            op,
            format!("the gradient of parameter {i} must have the parameter's shape"),
            g.shape(),
            p.shape(),
        ));
    }
    if g.dtype() != p.dtype() {
        return Err(Error::DTypeMismatch {
            op,
            lhs: g.dtype(),
            rhs: p.dtype(),
        });
    }
    Ok(())
}

/// `g` itself, or a copy of it when it shares a buffer with one of the
/// tensors an update writes (the parameter, or optimizer state such as a
/// momentum buffer): the update borrows those mutably while it reads `g`,
/// and a `.grad` set to one of them must neither panic nor read values the
/// update is changing.
pub(crate) fn unaliased(g: Tensor, written: &[&Tensor]) -> Tensor {
    if written.iter().any(|w| Rc::ptr_eq(&g.storage, &w.storage)) {
        crate::autograd::no_grad(|| g.detach().contiguous_copy())
    } else {
        g
    }
}

impl Tensor {
    /// A deep copy with its own buffer.
    pub(crate) fn contiguous_copy(&self) -> Tensor {
        crate::dtype::dispatch_scalar!(self.dtype(), T => {
            Tensor::from_parts(self.with_contiguous::<T, _>(|d| d.to_vec()), self.shape().clone())
        })
    }
}
