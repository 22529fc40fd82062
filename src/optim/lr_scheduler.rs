//! Learning-rate schedules (`torch.optim.lr_scheduler`).
//!
//! A scheduler does not hold the optimizer (so the training loop keeps
//! `&mut` access to it); pass the optimizer to each
//! [`step`](LrScheduler::step), once per epoch, after the epoch's optimizer
//! steps, as in PyTorch:
//!
//! ```
//! use tapegrad::optim::{LrScheduler, Optimizer, SgdConfig, StepLR, SGD};
//! use tapegrad::Tensor;
//! let w = Tensor::ones(&[2]).requires_grad_(true);
//! let mut opt = SGD::new([w], SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
//! let mut sched = StepLR::new(&opt, 2, 0.5).unwrap();
//! let mut lrs = Vec::new();
//! for _epoch in 0..5 {
//!     lrs.push(opt.lr());
//!     // ... train one epoch: opt.step() per batch ...
//!     sched.step(&mut opt).unwrap();
//! }
//! assert_eq!(lrs, [0.1, 0.1, 0.05, 0.05, 0.025]);
//! ```
//!
//! The new rate is computed from the optimizer's current one with PyTorch's
//! recursive ("chainable") formulas, not the closed forms, so the values agree
//! with PyTorch to the last bit. Resuming a schedule in the middle
//! (`last_epoch` ≠ −1) is not supported: build the scheduler at the start
//! of training.

use std::f64::consts::PI;

use super::Optimizer;
use crate::error::{Error, Result};

/// A learning-rate schedule.
pub trait LrScheduler {
    /// Advances one epoch and sets the optimizer's learning rate
    /// (`scheduler.step()`).
    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()>;

    /// Epochs stepped so far (`last_epoch`; 0 right after construction).
    fn last_epoch(&self) -> u64;

    /// The rate set by the last step, or the initial one
    /// (`get_last_lr()[0]`).
    fn last_lr(&self) -> f64;
}

/// Multiplies the learning rate by `gamma` every `step_size` epochs
/// (`torch.optim.lr_scheduler.StepLR`): lr = base_lr·gamma^⌊epoch/step_size⌋.
#[derive(Debug, Clone)]
pub struct StepLR {
    step_size: u64,
    gamma: f64,
    last_epoch: u64,
    last_lr: f64,
}

impl StepLR {
    /// A schedule starting from the optimizer's current learning rate.
    /// `step_size` must be at least 1 and `gamma` finite and `>= 0`.
    pub fn new(optimizer: &dyn Optimizer, step_size: u64, gamma: f64) -> Result<StepLR> {
        if step_size == 0 {
            return Err(Error::invalid("StepLR", "step_size must be at least 1"));
        }
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(Error::invalid(
                "StepLR",
                format!("gamma must be finite and >= 0, got {gamma}"),
            ));
        }
        Ok(StepLR {
            step_size,
            gamma,
            last_epoch: 0,
            last_lr: optimizer.lr(),
        })
    }
}

impl LrScheduler for StepLR {
    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        // The epoch advances only once set_lr accepted the new rate, so a
        // failed step leaves the schedule as it was.
        let epoch = self.last_epoch + 1;
        let lr = optimizer.lr();
        let new = if !epoch.is_multiple_of(self.step_size) {
            lr
        } else {
            lr * self.gamma
        };
        optimizer.set_lr(new)?;
        self.last_epoch = epoch;
        self.last_lr = new;
        Ok(())
    }

    fn last_epoch(&self) -> u64 {
        self.last_epoch
    }

    fn last_lr(&self) -> f64 {
        self.last_lr
    }
}

/// Cosine annealing from the initial rate down to `eta_min` over `t_max`
/// epochs, then back up (a period of 2·t_max)
/// (`torch.optim.lr_scheduler.CosineAnnealingLR`):
/// lr = eta_min + (base_lr − eta_min)(1 + cos(π·epoch/t_max))/2.
#[derive(Debug, Clone)]
pub struct CosineAnnealingLR {
    t_max: u64,
    eta_min: f64,
    base_lr: f64,
    last_epoch: u64,
    last_lr: f64,
}

impl CosineAnnealingLR {
    /// A schedule starting from the optimizer's current learning rate.
    /// `t_max` must be at least 1 and `eta_min` finite and `>= 0`.
    pub fn new(optimizer: &dyn Optimizer, t_max: u64, eta_min: f64) -> Result<CosineAnnealingLR> {
        if t_max == 0 {
            return Err(Error::invalid(
                "CosineAnnealingLR",
                "T_max must be at least 1",
            ));
        }
        if !(eta_min.is_finite() && eta_min >= 0.0) {
            return Err(Error::invalid(
                "CosineAnnealingLR",
                format!("eta_min must be finite and >= 0, got {eta_min}"),
            ));
        }
        Ok(CosineAnnealingLR {
            t_max,
            eta_min,
            base_lr: optimizer.lr(),
            last_epoch: 0,
            last_lr: optimizer.lr(),
        })
    }
}

impl LrScheduler for CosineAnnealingLR {
    fn step(&mut self, optimizer: &mut dyn Optimizer) -> Result<()> {
        let epoch = self.last_epoch + 1;
        let (e, t) = (epoch as f64, self.t_max as f64);
        let lr = optimizer.lr();
        // In u128: 2·t_max and last_epoch + t_max overflow u64 for huge t_max.
        let (e128, t128) = (u128::from(self.last_epoch), u128::from(self.t_max));
        let new = if (e128 + t128) % (2 * t128) == 0 {
            // Python's (last_epoch - 1 - T_max) % (2 T_max) == 0, kept
            // non-negative: the denominator below would be 0 here.
            lr + (self.base_lr - self.eta_min) * (1.0 - (PI / t).cos()) / 2.0
        } else {
            (1.0 + (PI * e / t).cos()) / (1.0 + (PI * (e - 1.0) / t).cos()) * (lr - self.eta_min)
                + self.eta_min
        };
        // Rounding can take the rate a hair below 0 at the bottom of the curve
        // when eta_min = 0; PyTorch keeps such a value, but set_lr rejects it.
        let new = if new < 0.0 && new > -1e-15 { 0.0 } else { new };
        optimizer.set_lr(new)?;
        self.last_epoch = epoch;
        self.last_lr = new;
        Ok(())
    }

    fn last_epoch(&self) -> u64 {
        self.last_epoch
    }

    fn last_lr(&self) -> f64 {
        self.last_lr
    }
}
