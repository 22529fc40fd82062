//! [`OptimizerState`]: what `Optimizer.state_dict()` holds, in a form that
//! a safetensors file can store.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// An optimizer's hyperparameters and per-parameter state
/// (`Optimizer.state_dict()`).
///
/// Per-parameter tensors are keyed `"{index}.{slot}"`, where `index` is the
/// parameter's position in the optimizer (PyTorch keys its state the same
/// way) and `slot` is PyTorch's name for the buffer: `momentum_buffer` for
/// SGD; `step`, `exp_avg`, `exp_avg_sq` and `max_exp_avg_sq` for Adam/AdamW.
/// Booleans are stored as 0/1. [`crate::checkpoint::save_optimizer`] writes
/// it to a safetensors file.
#[derive(Debug, Clone)]
pub struct OptimizerState {
    /// `SGD`, `Adam` or `AdamW`.
    pub kind: String,
    /// Hyperparameters by PyTorch name (`lr`, `momentum`, `betas0`, ...).
    pub hyperparameters: BTreeMap<String, f64>,
    /// Per-parameter state tensors, keyed `"{index}.{slot}"`.
    pub tensors: Vec<(String, Tensor)>,
}

impl OptimizerState {
    pub(crate) fn check_kind(&self, expected: &str) -> Result<()> {
        if self.kind != expected {
            return Err(Error::Format {
                op: "load_state_dict",
                detail: format!(
                    "the state belongs to a {} optimizer, not {expected}",
                    self.kind
                ),
            });
        }
        Ok(())
    }

    pub(crate) fn hyper(&self, name: &str) -> Result<f64> {
        self.hyperparameters
            .get(name)
            .copied()
            .ok_or_else(|| Error::Format {
                op: "load_state_dict",
                detail: format!("{} state has no hyperparameter '{name}'", self.kind),
            })
    }

    pub(crate) fn flag(&self, name: &str) -> Result<bool> {
        let v = self.hyper(name)?;
        if v == 0.0 || v == 1.0 {
            return Ok(v == 1.0);
        }
        Err(Error::Format {
            op: "load_state_dict",
            detail: format!("hyperparameter '{name}' must be 0 or 1, got {v}"),
        })
    }

    /// Splits each key into (parameter index, slot) and checks the index,
    /// and that the tensor has the parameter's shape and dtype (except
    /// `step`, a scalar). Returns deep copies, so the optimizer never aliases
    /// the tensors of this state.
    pub(crate) fn per_param(&self, params: &[Tensor]) -> Result<Vec<(usize, &str, Tensor)>> {
        let mut out = Vec::with_capacity(self.tensors.len());
        for (key, t) in &self.tensors {
            let bad = |detail: String| Error::Format {
                op: "load_state_dict",
                detail: format!("state tensor '{key}': {detail}"),
            };
            let (index, slot) = key
                .split_once('.')
                .and_then(|(i, s)| i.parse::<usize>().ok().map(|i| (i, s)))
                .ok_or_else(|| bad("the key must be '<parameter index>.<slot>'".into()))?;
            let p = params.get(index).ok_or_else(|| {
                bad(format!(
                    "parameter index {index} is out of range for {} parameters",
                    params.len()
                ))
            })?;
            if slot == "step" {
                if t.numel() != 1 {
                    return Err(bad(format!(
                        "step must hold one value, got shape {}",
                        t.shape()
                    )));
                }
            } else {
                if t.shape() != p.shape() {
                    return Err(bad(format!(
                        "shape {} does not match the parameter's shape {}",
                        t.shape(),
                        p.shape()
                    )));
                }
                if t.dtype() != p.dtype() {
                    return Err(bad(format!(
                        "dtype {} does not match the parameter's dtype {}",
                        t.dtype(),
                        p.dtype()
                    )));
                }
            }
            out.push((index, slot, t.contiguous_copy()));
        }
        Ok(out)
    }

    pub(crate) fn unknown_slot(&self, index: usize, slot: &str) -> Error {
        Error::Format {
            op: "load_state_dict",
            detail: format!(
                "state tensor '{index}.{slot}': {} has no state named '{slot}'",
                self.kind
            ),
        }
    }
}
