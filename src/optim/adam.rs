//! [`Adam`] and [`AdamW`] (`torch.optim.Adam`, `torch.optim.AdamW`).

use std::collections::BTreeMap;

use super::{check_lr, collect_params, grads_of, Optimizer, OptimizerState};
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Settings of [`Adam`] and [`AdamW`]. `Default` gives `torch.optim.Adam`'s
/// defaults; [`AdamConfig::adamw`] gives `torch.optim.AdamW`'s (the same but
/// `weight_decay = 0.01`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (default 1e-3); finite and `>= 0`.
    pub lr: f64,
    /// Decay rates of the first and second moment averages (default
    /// (0.9, 0.999)); each in `[0, 1)`.
    pub betas: (f64, f64),
    /// Added to the denominator for stability (default 1e-8); finite and `>= 0`.
    pub eps: f64,
    /// Weight decay (Adam: 0, an L2 term added to the gradient; AdamW:
    /// 0.01, decoupled); finite and `>= 0`.
    pub weight_decay: f64,
    /// Use the AMSGrad variant (default off).
    pub amsgrad: bool,
    /// Maximise the objective instead of minimising it (default off).
    pub maximize: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl AdamConfig {
    /// `torch.optim.AdamW`'s defaults: as `Default`, with `weight_decay = 0.01`.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 1e-2,
            ..Default::default()
        }
    }

    /// `allow_zero_lr`: a loaded state may carry the lr of 0 that a schedule
    /// set through `set_lr`; a new optimizer may not.
    fn validate(&self, op: &'static str, allow_zero_lr: bool) -> Result<()> {
        check_lr(op, self.lr, allow_zero_lr)?;
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return Err(Error::invalid(
                op,
                format!("Invalid epsilon value: {}", self.eps),
            ));
        }
        for (k, b) in [self.betas.0, self.betas.1].into_iter().enumerate() {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::invalid(
                    op,
                    format!("Invalid beta parameter at index {k}: {b} (must be in [0, 1))"),
                ));
            }
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::invalid(
                op,
                format!("Invalid weight_decay value: {}", self.weight_decay),
            ));
        }
        Ok(())
    }
}

struct ParamState {
    step: u64,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    max_exp_avg_sq: Option<Tensor>,
}

/// Adam, exactly as `torch.optim.Adam` computes it. For each parameter `p`
/// with gradient `g`, at step `t` (counted per parameter, from 1):
///
/// ```text
/// g = maximize ? -g : g
/// Adam:  if weight_decay ≠ 0: g = g + weight_decay·p
/// AdamW: if weight_decay ≠ 0: p = p·(1 − lr·weight_decay)
/// m = lerp(m, g, 1 − β₁)                 // m + (1 − β₁)(g − m)
/// v = v·β₂ + (1 − β₂)·g·g
/// v̂ = amsgrad ? (vmax = max(vmax, v)) : v
/// p = p − lr/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
/// ```
///
/// `m`, `v` (and `vmax`) start at zero. Each parameter is updated in one pass.
pub struct Adam {
    params: Vec<Tensor>,
    config: AdamConfig,
    decoupled: bool,
    state: Vec<Option<ParamState>>,
}

impl Adam {
    /// An Adam optimizer over `params` (usually `model.parameters()`).
    ///
    /// ```
    /// use tapegrad::optim::{Adam, AdamConfig, Optimizer};
    /// use tapegrad::Tensor;
    /// let w = Tensor::new([1.0f64]).requires_grad_(true);
    /// let mut opt = Adam::new([w.clone()], AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
    /// w.square().sum().backward();
    /// opt.step().unwrap();
    /// // The first Adam step moves each weight by about lr.
    /// assert!((w.item::<f64>() - 0.9).abs() < 1e-7);
    /// ```
    pub fn new(params: impl IntoIterator<Item = Tensor>, config: AdamConfig) -> Result<Adam> {
        Adam::build("Adam", params, config, false)
    }

    fn build(
        op: &'static str,
        params: impl IntoIterator<Item = Tensor>,
        config: AdamConfig,
        decoupled: bool,
    ) -> Result<Adam> {
        config.validate(op, false)?;
        let params = collect_params(op, params)?;
        let state = params.iter().map(|_| None).collect();
        Ok(Adam {
            params,
            config,
            decoupled,
            state,
        })
    }

    fn kind(&self) -> &'static str {
        if self.decoupled {
            "AdamW"
        } else {
            "Adam"
        }
    }

    /// The current settings.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// How many steps parameter `index` has taken (0 before its first).
    pub fn step_count(&self, index: usize) -> u64 {
        self.state
            .get(index)
            .and_then(Option::as_ref)
            .map_or(0, |s| s.step)
    }
}

impl Optimizer for Adam {
    fn step(&mut self) -> Result<()> {
        let cfg = self.config;
        let kind = self.kind();
        let grads = grads_of(kind, &self.params)?;
        for (i, (p, g)) in self.params.iter().zip(grads).enumerate() {
            let Some(g) = g else {
                continue;
            };
            let st = self.state[i].get_or_insert_with(|| ParamState {
                step: 0,
                exp_avg: Tensor::zeros_like(p),
                exp_avg_sq: Tensor::zeros_like(p),
                max_exp_avg_sq: cfg.amsgrad.then(|| Tensor::zeros_like(p)),
            });
            if cfg.amsgrad && st.max_exp_avg_sq.is_none() {
                st.max_exp_avg_sq = Some(Tensor::zeros_like(p));
            }
            st.step += 1;
            let scalars = AdamScalars::new(&cfg, self.decoupled, st.step);
            let vmax = st.max_exp_avg_sq.as_ref().filter(|_| cfg.amsgrad);
            let g = super::unaliased(g, &[&st.exp_avg, &st.exp_avg_sq]);
            let g = match vmax {
                Some(vm) => super::unaliased(g, &[vm]),
                None => g,
            };
            dispatch!(p.dtype(), T => {
                p.update_data::<T>(|pd| {
                    g.with_contiguous::<T, _>(|gd| {
                        st.exp_avg.update_data::<T>(|m| {
                            st.exp_avg_sq.update_data::<T>(|v| match vmax {
                                Some(vm) => vm.update_data::<T>(|vm| adam_kernel(pd, gd, m, v, Some(vm), &scalars)),
                                None => adam_kernel(pd, gd, m, v, None, &scalars),
                            })
                        })
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
        check_lr(self.kind(), lr, true)?;
        self.config.lr = lr;
        Ok(())
    }

    fn state_dict(&self) -> OptimizerState {
        let c = &self.config;
        let hyper = BTreeMap::from([
            ("lr".to_string(), c.lr),
            ("betas0".to_string(), c.betas.0),
            ("betas1".to_string(), c.betas.1),
            ("eps".to_string(), c.eps),
            ("weight_decay".to_string(), c.weight_decay),
            ("amsgrad".to_string(), c.amsgrad as u8 as f64),
            ("maximize".to_string(), c.maximize as u8 as f64),
        ]);
        let mut tensors = Vec::new();
        for (i, s) in self.state.iter().enumerate() {
            let Some(s) = s else { continue };
            tensors.push((format!("{i}.step"), Tensor::scalar(s.step as f64)));
            tensors.push((format!("{i}.exp_avg"), s.exp_avg.contiguous_copy()));
            tensors.push((format!("{i}.exp_avg_sq"), s.exp_avg_sq.contiguous_copy()));
            if let Some(vm) = &s.max_exp_avg_sq {
                tensors.push((format!("{i}.max_exp_avg_sq"), vm.contiguous_copy()));
            }
        }
        OptimizerState {
            kind: self.kind().to_string(),
            hyperparameters: hyper,
            tensors,
        }
    }

    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()> {
        state.check_kind(self.kind())?;
        let config = AdamConfig {
            lr: state.hyper("lr")?,
            betas: (state.hyper("betas0")?, state.hyper("betas1")?),
            eps: state.hyper("eps")?,
            weight_decay: state.hyper("weight_decay")?,
            amsgrad: state.flag("amsgrad")?,
            maximize: state.flag("maximize")?,
        };
        config.validate(self.kind(), true)?;
        let n = self.params.len();
        let mut steps: Vec<Option<u64>> = vec![None; n];
        let mut m: Vec<Option<Tensor>> = vec![None; n];
        let mut v: Vec<Option<Tensor>> = vec![None; n];
        let mut vmax: Vec<Option<Tensor>> = vec![None; n];
        for (index, slot, t) in state.per_param(&self.params)? {
            match slot {
                "step" => {
                    let s = t.to_vec::<f64>()[0];
                    if !(s >= 1.0 && s.fract() == 0.0 && s < 2f64.powi(53)) {
                        return Err(Error::Format {
                            op: "load_state_dict",
                            detail: format!(
                                "state tensor '{index}.step': must be a positive integer, got {s}"
                            ),
                        });
                    }
                    steps[index] = Some(s as u64);
                }
                "exp_avg" => m[index] = Some(t),
                "exp_avg_sq" => v[index] = Some(t),
                "max_exp_avg_sq" => vmax[index] = Some(t),
                other => return Err(state.unknown_slot(index, other)),
            }
        }
        let mut new_state = Vec::with_capacity(n);
        for i in 0..n {
            let entry = match (steps[i], m[i].take(), v[i].take()) {
                (None, None, None) if vmax[i].is_none() => None,
                (Some(step), Some(exp_avg), Some(exp_avg_sq)) => {
                    if config.amsgrad && vmax[i].is_none() {
                        return Err(Error::Format {
                            op: "load_state_dict",
                            detail: format!("state of parameter {i} lacks 'max_exp_avg_sq', which amsgrad needs"),
                        });
                    }
                    Some(ParamState {
                        step,
                        exp_avg,
                        exp_avg_sq,
                        max_exp_avg_sq: vmax[i].take(),
                    })
                }
                _ => {
                    return Err(Error::Format {
                        op: "load_state_dict",
                        detail: format!("state of parameter {i} is incomplete: it needs 'step', 'exp_avg' and 'exp_avg_sq'"),
                    })
                }
            };
            new_state.push(entry);
        }
        self.config = config;
        self.state = new_state;
        Ok(())
    }
}

/// AdamW: Adam with decoupled weight decay, exactly as `torch.optim.AdamW`
/// (see [`Adam`] for the update). Build it with [`AdamConfig::adamw`] to get
/// PyTorch's AdamW defaults.
///
/// ```
/// use tapegrad::optim::{AdamConfig, AdamW};
/// use tapegrad::Tensor;
/// let w = Tensor::ones(&[3]).requires_grad_(true);
/// let opt = AdamW::new([w], AdamConfig { lr: 1e-2, ..AdamConfig::adamw() }).unwrap();
/// assert_eq!(opt.config().weight_decay, 0.01);
/// ```
pub struct AdamW(Adam);

impl AdamW {
    /// An AdamW optimizer over `params`.
    pub fn new(params: impl IntoIterator<Item = Tensor>, config: AdamConfig) -> Result<AdamW> {
        Adam::build("AdamW", params, config, true).map(AdamW)
    }

    /// The current settings.
    pub fn config(&self) -> &AdamConfig {
        &self.0.config
    }

    /// How many steps parameter `index` has taken (0 before its first).
    pub fn step_count(&self, index: usize) -> u64 {
        self.0.step_count(index)
    }
}

impl Optimizer for AdamW {
    fn step(&mut self) -> Result<()> {
        self.0.step()
    }
    fn params(&self) -> &[Tensor] {
        self.0.params()
    }
    fn lr(&self) -> f64 {
        self.0.lr()
    }
    fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.0.set_lr(lr)
    }
    fn state_dict(&self) -> OptimizerState {
        self.0.state_dict()
    }
    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<()> {
        self.0.load_state_dict(state)
    }
}

/// The per-step scalars, computed in `f64` as PyTorch does in Python.
struct AdamScalars {
    decay_factor: Option<f64>,
    l2: Option<f64>,
    lerp_weight: f64,
    beta2: f64,
    one_minus_beta2: f64,
    bias_correction2_sqrt: f64,
    eps: f64,
    neg_step_size: f64,
    maximize: bool,
}

impl AdamScalars {
    fn new(cfg: &AdamConfig, decoupled: bool, step: u64) -> Self {
        let t = step as f64;
        let (beta1, beta2) = cfg.betas;
        let wd = (cfg.weight_decay != 0.0).then_some(cfg.weight_decay);
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        AdamScalars {
            decay_factor: wd.filter(|_| decoupled).map(|wd| 1.0 - cfg.lr * wd),
            l2: wd.filter(|_| !decoupled),
            lerp_weight: 1.0 - beta1,
            beta2,
            one_minus_beta2: 1.0 - beta2,
            bias_correction2_sqrt: bias_correction2.sqrt(),
            eps: cfg.eps,
            neg_step_size: -(cfg.lr / bias_correction1),
            maximize: cfg.maximize,
        }
    }
}

/// One fused pass of the Adam update over a parameter; the comments give the
/// PyTorch line each expression mirrors.
#[inline]
fn adam_kernel<T: Element>(
    p: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    mut vmax: Option<&mut [T]>,
    s: &AdamScalars,
) {
    let decay = s.decay_factor.map(T::from_f64);
    let l2 = s.l2.map(T::from_f64);
    let w = T::from_f64(s.lerp_weight);
    let one_minus_w = T::from_f64(1.0 - s.lerp_weight);
    let small_weight = s.lerp_weight < 0.5;
    let beta2 = T::from_f64(s.beta2);
    let one_minus_beta2 = T::from_f64(s.one_minus_beta2);
    let bc2_sqrt = T::from_f64(s.bias_correction2_sqrt);
    let eps = T::from_f64(s.eps);
    let neg_step = T::from_f64(s.neg_step_size);
    for i in 0..p.len() {
        // grad = grads[i] if not maximize else -grads[i]
        let mut gi = if s.maximize { -g[i] } else { g[i] };
        if let Some(f) = decay {
            // param.mul_(1 - lr * weight_decay)
            p[i] *= f;
        }
        if let Some(wd) = l2 {
            // grad = grad.add(param, alpha=weight_decay)
            gi += wd * p[i];
        }
        // exp_avg.lerp_(grad, 1 - beta1), with ATen's two-branch lerp
        m[i] = if small_weight {
            m[i] + w * (gi - m[i])
        } else {
            gi - (gi - m[i]) * one_minus_w
        };
        // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        v[i] = v[i] * beta2 + one_minus_beta2 * gi * gi;
        let second = match vmax.as_deref_mut() {
            Some(vm) => {
                // torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=max_exp_avg_sqs[i])
                vm[i] = vm[i].max_nan(v[i]);
                vm[i]
            }
            None => v[i],
        };
        // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        let denom = second.sqrt() / bc2_sqrt + eps;
        // param.addcdiv_(exp_avg, denom, value=-step_size)
        p[i] += neg_step * (m[i] / denom);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_by_lr_and_state_roundtrips() {
        let w = Tensor::new([1.0f64, -2.0]).requires_grad_(true);
        let mut opt = Adam::new(
            [w.clone()],
            AdamConfig {
                lr: 0.01,
                amsgrad: true,
                ..Default::default()
            },
        )
        .unwrap();
        w.square().sum().backward();
        opt.step().unwrap();
        let v = w.to_vec::<f64>();
        assert!(
            (v[0] - 0.99).abs() < 1e-8 && (v[1] + 1.99).abs() < 1e-8,
            "{v:?}"
        );
        assert_eq!(opt.step_count(0), 1);

        let saved = opt.state_dict();
        let mut other = Adam::new([w.clone()], AdamConfig::default()).unwrap();
        other.load_state_dict(&saved).unwrap();
        assert_eq!(other.config(), opt.config());
        assert_eq!(other.step_count(0), 1);

        let mut sgd_state = saved.clone();
        sgd_state.kind = "SGD".into();
        assert!(other.load_state_dict(&sgd_state).is_err());
        let mut adamw = AdamW::new([w.clone()], AdamConfig::adamw()).unwrap();
        let e = adamw.load_state_dict(&saved).unwrap_err();
        assert!(e.to_string().contains("Adam optimizer, not AdamW"), "{e}");
    }
}
