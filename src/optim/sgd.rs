//! [`SGD`] (`torch.optim.SGD`).

use std::collections::BTreeMap;

use super::{check_lr, collect_params, grads_of, Optimizer, OptimizerState};
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Settings of [`SGD`], with PyTorch's defaults (`torch.optim.SGD`).
///
/// ```
/// use tapegrad::optim::SgdConfig;
/// let cfg = SgdConfig { lr: 0.05, momentum: 0.9, nesterov: true, ..Default::default() };
/// assert_eq!(cfg.dampening, 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (default 1e-3); finite and `>= 0`.
    pub lr: f64,
    /// Momentum factor in `[0, 1)` (default 0: plain SGD).
    pub momentum: f64,
    /// Dampening for momentum (default 0); finite.
    pub dampening: f64,
    /// L2 penalty added to the gradient (default 0); finite and `>= 0`.
    pub weight_decay: f64,
    /// Nesterov momentum (default off); needs `momentum > 0` and `dampening == 0`.
    pub nesterov: bool,
    /// Maximise the objective instead of minimising it (default off).
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

impl SgdConfig {
    /// `allow_zero_lr`: a loaded state may carry the lr of 0 that a schedule
    /// set through `set_lr`; a new optimizer may not.
    fn validate(&self, allow_zero_lr: bool) -> Result<()> {
        check_lr("SGD", self.lr, allow_zero_lr)?;
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(Error::invalid(
                "SGD",
                format!(
                    "Invalid momentum value: {} (must be in [0, 1))",
                    self.momentum
                ),
            ));
        }
        if !self.dampening.is_finite() {
            return Err(Error::invalid(
                "SGD",
                format!(
                    "Invalid dampening value: {} (must be finite)",
                    self.dampening
                ),
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::invalid(
                "SGD",
                format!(
                    "Invalid weight_decay value: {} (must be finite and >= 0)",
                    self.weight_decay
                ),
            ));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                "SGD",
                format!(
                    "Nesterov momentum requires a momentum and zero dampening (got momentum={}, dampening={})",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }
}

/// Stochastic gradient descent, optionally with momentum, exactly as
/// `torch.optim.SGD` computes it. For each parameter `p` with gradient `g`:
///
/// ```text
/// d = maximize ? -g : g
/// if weight_decay ≠ 0:  d = d + weight_decay·p
/// if momentum ≠ 0:
///     buf = first step ? d : momentum·buf + (1 − dampening)·d
///     d = nesterov ? d + momentum·buf : buf
/// p = p − lr·d
/// ```
///
/// The momentum buffer starts as a copy of the first `d` (not zeros, and
/// without dampening), as in PyTorch. Each parameter is updated in one pass
/// over its elements.
pub struct SGD {
    params: Vec<Tensor>,
    config: SgdConfig,
    momentum_buffers: Vec<Option<Tensor>>,
}

impl SGD {
    /// An optimizer over `params` (usually `model.parameters()`). Fails on
    /// invalid settings, an empty list, a non-leaf or repeated parameter.
    pub fn new(params: impl IntoIterator<Item = Tensor>, config: SgdConfig) -> Result<SGD> {
        config.validate(false)?;
        let params = collect_params("SGD", params)?;
        let momentum_buffers = vec![None; params.len()];
        Ok(SGD {
            params,
            config,
            momentum_buffers,
        })
    }

    /// The current settings.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

    /// The momentum buffer of parameter `index`, once a step has made it.
    pub fn momentum_buffer(&self, index: usize) -> Option<&Tensor> {
        self.momentum_buffers.get(index).and_then(Option::as_ref)
    }
}

impl Optimizer for SGD {
    fn step(&mut self) -> Result<()> {
        let cfg = self.config;
        let grads = grads_of("SGD", &self.params)?;
        for (i, (p, g)) in self.params.iter().zip(grads).enumerate() {
            let Some(g) = g else {
                continue;
            };
            let first = cfg.momentum != 0.0 && self.momentum_buffers[i].is_none();
            if first {
                self.momentum_buffers[i] = Some(Tensor::zeros_like(p));
            }
            let buf = self.momentum_buffers[i]
                .as_ref()
                .filter(|_| cfg.momentum != 0.0);
            let g = super::unaliased(g, buf.as_slice());
            dispatch!(p.dtype(), T => {
                p.update_data::<T>(|pd| {
                    g.with_contiguous::<T, _>(|gd| match buf {
                        Some(b) => b.update_data::<T>(|bd| sgd_kernel(pd, gd, Some(bd), first, &cfg)),
                        None => sgd_kernel(pd, gd, None, false, &cfg),
                    })
                })
            });
        }
        Ok(())
    }

    fn params(&self) -> &[Tensor] {
        &self.params
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_lr("SGD", lr, true)?;
        self.config.lr = lr;
        Ok(())
    }

    fn state_dict(&self) -> OptimizerState {
        let c = &self.config;
        let hyper = BTreeMap::from([
            ("lr".to_string(), c.lr),
            ("momentum".to_string(), c.momentum),
            ("dampening".to_string(), c.dampening),
            ("weight_decay".to_string(), c.weight_decay),
            ("nesterov".to_string(), c.nesterov as u8 as f64),
            ("maximize".to_string(), c.maximize as u8 as f64),
        ]);
        let tensors = self
            .momentum_buffers
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                b.as_ref()
                    .map(|b| (format!("{i}.momentum_buffer"), b.contiguous_copy()))
            })
            .collect();
        OptimizerState {
            kind: "SGD".to_string(),
            hyperparameters: hyper,
            tensors,
        }
    }

    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()> {
        state.check_kind("SGD")?;
        let config = SgdConfig {
            lr: state.hyper("lr")?,
            momentum: state.hyper("momentum")?,
            dampening: state.hyper("dampening")?,
            weight_decay: state.hyper("weight_decay")?,
            nesterov: state.flag("nesterov")?,
            maximize: state.flag("maximize")?,
        };
        config.validate(true)?;
        let mut buffers = vec![None; self.params.len()];
        for (index, slot, t) in state.per_param(&self.params)? {
            match slot {
                "momentum_buffer" => buffers[index] = Some(t),
                other => return Err(state.unknown_slot(index, other)),
            }
        }
        self.config = config;
        self.momentum_buffers = buffers;
        Ok(())
    }
}

/// One fused pass of the SGD update over a parameter; the comments give the
/// PyTorch line each expression mirrors.
///
/// The settings are tested once, outside the loop: each case is its own
/// branch-free loop over zipped slices (no bounds checks), which the
/// compiler vectorises.
#[inline]
fn sgd_kernel<T: Element>(
    p: &mut [T],
    g: &[T],
    buf: Option<&mut [T]>,
    first: bool,
    cfg: &SgdConfig,
) {
    let wd = T::from_f64(cfg.weight_decay);
    let momentum = T::from_f64(cfg.momentum);
    let one_minus_damp = T::from_f64(1.0 - cfg.dampening);
    let neg_lr = T::from_f64(-cfg.lr);
    let (use_wd, nesterov, maximize) = (cfg.weight_decay != 0.0, cfg.nesterov, cfg.maximize);
    // grad = grads[i] if not maximize else -grads[i]
    // grad = grad.add(param, alpha=weight_decay)
    let direction = |g: T, p: T| {
        let d = if maximize { -g } else { g };
        if use_wd {
            d + wd * p
        } else {
            d
        }
    };
    match buf {
        // The common cases: plain SGD, and heavy-ball momentum after the
        // first step.
        None if !use_wd && !maximize => {
            for (p, &g) in p.iter_mut().zip(g) {
                *p += neg_lr * g;
            }
        }
        Some(b) if !first && !use_wd && !maximize && !nesterov => {
            for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
                // buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                *b = *b * momentum + one_minus_damp * g;
                // param.add_(buf, alpha=-lr)
                *p += neg_lr * *b;
            }
        }
        None => {
            for (p, &g) in p.iter_mut().zip(g) {
                // param.add_(grad, alpha=-lr)
                *p += neg_lr * direction(g, *p);
            }
        }
        Some(b) => {
            for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
                let d = direction(g, *p);
                // buf = grad.clone() on the first step, else buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                let nb = if first {
                    d
                } else {
                    *b * momentum + one_minus_damp * d
                };
                *b = nb;
                // grad = grad.add(buf, alpha=momentum) if nesterov else buf
                let d = if nesterov { d + momentum * nb } else { nb };
                *p += neg_lr * d;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(v: &[f64]) -> Tensor {
        Tensor::from_slice(v, [v.len()])
            .unwrap()
            .requires_grad_(true)
    }

    #[test]
    fn momentum_by_hand() {
        // loss = Σ p², grad = 2p. momentum 0.5, dampening 0.5, lr 0.1.
        let p = param(&[1.0]);
        let cfg = SgdConfig {
            lr: 0.1,
            momentum: 0.5,
            dampening: 0.5,
            ..Default::default()
        };
        let mut opt = SGD::new([p.clone()], cfg).unwrap();
        p.square().sum().backward();
        opt.step().unwrap(); // buf = 2 (no dampening on the first step); p = 1 − 0.2 = 0.8
        assert_eq!(p.to_vec::<f64>(), vec![0.8]);
        opt.zero_grad();
        p.square().sum().backward(); // g = 1.6
        opt.step().unwrap(); // buf = 0.5·2 + 0.5·1.6 = 1.8; p = 0.8 − 0.18 = 0.62
        assert!((p.to_vec::<f64>()[0] - 0.62).abs() < 1e-15);
        assert!((opt.momentum_buffer(0).unwrap().to_vec::<f64>()[0] - 1.8).abs() < 1e-15);
    }

    #[test]
    fn params_without_grad_are_skipped() {
        let a = param(&[1.0]);
        let b = param(&[1.0]);
        let mut opt = SGD::new(
            [a.clone(), b.clone()],
            SgdConfig {
                lr: 1.0,
                momentum: 0.9,
                ..Default::default()
            },
        )
        .unwrap();
        a.sum().backward();
        opt.step().unwrap();
        assert_eq!(a.to_vec::<f64>(), vec![0.0]);
        assert_eq!(b.to_vec::<f64>(), vec![1.0]);
        assert!(opt.momentum_buffer(1).is_none());
    }
}
