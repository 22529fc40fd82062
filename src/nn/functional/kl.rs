//! `kl_div`: the Kullback–Leibler divergence `KL(target ‖ input)` with
//! `input` given as log-probabilities.

use super::reduction::KlReduction;
use crate::autograd::function::{Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::Scalar;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::ops::same_dtype;
use crate::tensor::Tensor;

/// Options of [`kl_div_with`]. PyTorch's defaults: `reduction='mean'`
/// (which averages over *every element*; use
/// [`BatchMean`](KlReduction::BatchMean) for the KL divergence per sample)
/// and `log_target=False`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KlDivOptions {
    /// How to combine the element-wise terms.
    pub reduction: KlReduction,
    /// Whether `target` holds log-probabilities instead of probabilities.
    pub log_target: bool,
}

impl KlDivOptions {
    /// Sets the reduction (a [`Reduction`](super::Reduction) converts too).
    pub fn reduction(mut self, reduction: impl Into<KlReduction>) -> Self {
        self.reduction = reduction.into();
        self
    }
    /// Sets `log_target`.
    pub fn log_target(mut self, log_target: bool) -> Self {
        self.log_target = log_target;
        self
    }
}

/// [`kl_div_with`] with the default options.
pub fn kl_div(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    kl_div_with(input, target, &KlDivOptions::default())
}

/// `torch.nn.functional.kl_div(input, target, reduction='mean',
/// log_target=False)`: the terms of `KL(P ‖ Q) = Σ P·(log P − log Q)` with
/// `input = log Q` and `target = P` (or `log P` with `log_target`):
///
/// * `log_target = false`: `ℓ = t·(log t − x)`, and `ℓ = 0` where `t = 0`
///   (0·log 0 = 0);
/// * `log_target = true`: `ℓ = eᵗ·(t − x)`, and `ℓ = 0` where `t = −∞`.
///
/// **Unlike PyTorch**, that 0 holds even where PyTorch returns NaN: for a
/// target of 0 against an input of `−∞` (it computes `0·(−∞)`), and for a
/// log-target of `−∞` against any input (`e^(−∞)·(−∞ − x)`). This is deliberate (an outcome the
/// target never produces contributes nothing); see
/// `docs/differences-from-pytorch.md`.
///
/// Reductions: `none` (element-wise), `sum`, `mean` (over every element),
/// `batchmean` (sum / `input.size(0)`, or the sum for a 0-d input) — only
/// `batchmean` is the KL divergence per sample.
///
/// Gradients: `−t` (or `−eᵗ`) for the input; for the target, `log t + 1 − x`
/// (NaN where `t = 0`, exactly as PyTorch) or `eᵗ·(t − x + 1)`.
///
/// Errors: shapes or dtypes that differ; a NaN target; a probability target
/// that is negative or infinite; a log-target of +inf.
///
/// ```
/// use tapegrad::nn::functional::{kl_div_with, KlDivOptions, KlReduction};
/// use tapegrad::Tensor;
/// let p = Tensor::new([[0.5f64, 0.5, 0.0]]);
/// let log_q = Tensor::new([[0.25f64, 0.5, 0.25]]).log();
/// let opts = KlDivOptions::default().reduction(KlReduction::BatchMean);
/// let kl = kl_div_with(&log_q, &p, &opts).unwrap().item::<f64>();
/// assert!((kl - 0.5 * 2.0f64.ln()).abs() < 1e-15);
/// ```
pub fn kl_div_with(input: &Tensor, target: &Tensor, options: &KlDivOptions) -> Result<Tensor> {
    const OP: &str = "kl_div";
    crate::dtype::require_float(OP, input.dtype())?;
    same_dtype(OP, input, target)?;
    if input.shape() != target.shape() {
        return Err(Error::mismatch(
            OP,
            "target must have the same shape as input",
            input.shape(),
            target.shape(),
        ));
    }
    let log_target = options.log_target;
    if let Some((k, v)) = target.to_vec::<f64>().iter().enumerate().find(|(_, v)| {
        if log_target {
            v.is_nan() || **v == f64::INFINITY
        } else {
            !v.is_finite() || **v < 0.0
        }
    }) {
        return Err(Error::invalid(
            OP,
            format!(
                "target {v} at flat index {k} is not a {}",
                if log_target {
                    "log-probability"
                } else {
                    "probability (must be >= 0)"
                }
            ),
        ));
    }
    let out = dispatch!(input.dtype(), T => {
        let (x, t) = (input.to_vec::<T>(), target.to_vec::<T>());
        let data: Vec<T> = x.iter().zip(&t).map(|(&x, &t)| term(x, t, log_target)).collect();
        Tensor::from_parts(data, input.shape().clone())
    });
    let losses = record(out, &[input, target], |_| KlDivBackward {
        x: Saved::new(input),
        t: Saved::new(target),
        log_target,
    })?;
    match options.reduction {
        KlReduction::None => Ok(losses),
        KlReduction::Sum => losses.try_sum(),
        KlReduction::Mean => losses.try_mean(),
        KlReduction::BatchMean if input.ndim() == 0 => losses.try_sum(),
        KlReduction::BatchMean => losses.try_sum()?.try_div_scalar(input.dims()[0] as f64),
    }
}

/// One term; a target of probability 0 contributes 0 whatever the input.
#[inline]
fn term<T: Element>(x: T, t: T, log_target: bool) -> T {
    if log_target {
        if t == T::NEG_INFINITY {
            T::ZERO
        } else {
            t.exp() * (t - x)
        }
    } else if t == T::ZERO {
        T::ZERO
    } else {
        t * t.ln() - t * x
    }
}

struct KlDivBackward {
    x: Saved,
    t: Saved,
    log_target: bool,
}

impl Backward for KlDivBackward {
    fn name(&self) -> &'static str {
        "KlDiv"
    }

    /// Accelerator: the same gradients in one fused pass.
    fn first_order(&self, ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        let g = &g;
        let log_target = self.log_target;
        let (want_x, want_t) = (ctx.needs_grad(0), ctx.needs_grad(1));
        let shape = g.shape().clone();
        let (gx, gt) = dispatch!(g.dtype(), T => {
            let (x, t, g) = (self.x.value().to_vec::<T>(), self.t.value().to_vec::<T>(), g.to_vec::<T>());
            let gx: Option<Vec<T>> = want_x.then(|| (0..x.len())
                .map(|k| {
                    let p = if log_target { prob_of_log(t[k]) } else { t[k] };
                    -(g[k] * p)
                })
                .collect());
            let gt: Option<Vec<T>> = want_t.then(|| (0..x.len())
                .map(|k| {
                    let (x, t) = (x[k], t[k]);
                    let d = if log_target {
                        if t == T::NEG_INFINITY { T::ZERO } else { t.exp() * (t - x + T::ONE) }
                    } else {
                        // PyTorch differentiates xlogy(t, t) as log t (0 at
                        // t = 0) plus t/t, which is NaN at t = 0.
                        if t == T::ZERO { T::from_f64(f64::NAN) } else { t.ln() + T::ONE - x }
                    };
                    g[k] * d
                })
                .collect());
            (
                gx.map(|d| Tensor::from_parts(d, shape.clone())),
                gt.map(|d| Tensor::from_parts(d, shape.clone())),
            )
        });
        Ok(Accelerated::Done(smallvec::smallvec![gx, gt]))
    }

    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let log_target = self.log_target;
        let (want_x, want_t) = (ctx.needs_grad(0), ctx.needs_grad(1));
        let x = ctx.input(0, &self.x);
        let t = ctx.input(1, &self.t);
        let raw_t = self.t.value();
        let zero = Tensor::zeros_like(&t);
        // Where the target probability is 0, select constants so that no
        // −inf·0 reaches the gradient.
        let vanishing = if log_target {
            raw_t.try_eq_scalar(f64::NEG_INFINITY)?
        } else {
            raw_t.try_eq_scalar(0.0)?
        };
        let safe_t = Tensor::try_where_(&vanishing, &zero, &t)?;
        let gx = if want_x {
            let p = if log_target {
                Tensor::try_where_(&vanishing, &zero, &safe_t.try_exp()?)?
            } else {
                t.clone()
            };
            Some(g.try_mul(&p)?.try_neg()?)
        } else {
            None
        };
        let gt = if want_t {
            let d = if log_target {
                let e = safe_t.try_exp()?;
                let d = e.try_mul(&safe_t.try_sub(&x)?.try_add_scalar(1.0)?)?;
                Tensor::try_where_(&vanishing, &zero, &d)?
            } else {
                // log of 1 (not of 0) where unselected, so log's backward
                // never multiplies 0 by 1/0.
                let one = Tensor::ones_like(&t);
                let safe_log = Tensor::try_where_(&vanishing, &one, &t)?.try_log()?;
                let log = Tensor::try_where_(&vanishing, &zero, &safe_log)?;
                log.try_add(&t.try_div(&t)?)?.try_sub(&x)?
            };
            Some(g.try_mul(&d)?)
        } else {
            None
        };
        Ok(smallvec::smallvec![gx, gt])
    }
}

#[inline]
fn prob_of_log<T: Element>(t: T) -> T {
    t.exp()
}
