//! `cross_entropy`: log-softmax and negative log-likelihood fused into one
//! op, for class-index or class-probability targets, with label smoothing.
//!
//! Every target form reduces to a per-position distribution `q` over the
//! classes (already multiplied by the class weights), and the per-position
//! loss is `ℓ = −Σ_c q_c · log p_c` with `log p = log_softmax(x)`. Its
//! gradient is `∂ℓ/∂x_c = S·p_c − q_c` with `S = Σ_c q_c`: the fused
//! backward computes exactly that from the logits, in one pass, and under
//! `create_graph` the same formula is built from differentiable ops.

use crate::dtype::Scalar;
use std::rc::Rc;

use super::class_target::{
    class_target_setters, read_class_targets, read_class_weight, total_weight, ClassLayout,
};
use super::nll::DEFAULT_IGNORE_INDEX;
use super::reduction::Reduction;
use crate::autograd::function::{Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::kernels::softmax::{self as kernel, RowTarget};
use crate::ops::same_dtype;
use crate::tensor::{cache, Tensor};

/// Options of [`cross_entropy_with`], with PyTorch's defaults (no weight,
/// `ignore_index = -100`, mean reduction, no label smoothing).
///
/// ```
/// use tapegrad::nn::functional::CrossEntropyOptions;
/// use tapegrad::Tensor;
/// let opts = CrossEntropyOptions::default()
///     .label_smoothing(0.1)
///     .weight(Tensor::new([1.0f32, 2.0, 1.0]));
/// assert_eq!(opts.label_smoothing, 0.1);
/// ```
#[derive(Clone, Debug)]
pub struct CrossEntropyOptions {
    /// Per-class weights `w` (1-d, length C), a constant; `None` means all 1.
    pub weight: Option<Tensor>,
    /// Class-index targets equal to this contribute nothing (not even to
    /// the mean's divisor). Not used with probability targets.
    pub ignore_index: i64,
    /// How to combine the per-position losses.
    pub reduction: Reduction,
    /// `ε` in `[0, 1]`: the target becomes `(1 − ε)·target + ε/C`.
    pub label_smoothing: f64,
}

impl Default for CrossEntropyOptions {
    fn default() -> Self {
        CrossEntropyOptions {
            weight: None,
            ignore_index: DEFAULT_IGNORE_INDEX,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
        }
    }
}

class_target_setters!(CrossEntropyOptions);

impl CrossEntropyOptions {
    /// Sets the label smoothing `ε`.
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = label_smoothing;
        self
    }
}

/// [`cross_entropy_with`] with the default options.
pub fn cross_entropy(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    cross_entropy_with(input, target, &CrossEntropyOptions::default())
}

/// Cross-entropy between the softmax of `input` (logits, class dim 1, or 0
/// for a 1-d input) and the target: `torch.nn.functional.cross_entropy(input,
/// target, weight, ignore_index=-100, reduction='mean', label_smoothing=0)`.
///
/// **`input` must be logits (raw scores), not probabilities.** The log-softmax
/// is applied here; passing `softmax(x)` raises no error but computes a
/// softmax of probabilities: the loss can no longer reach 0 (at best
/// `log(1 + (C − 1)/e)`) and the gradient shrinks, to almost nothing on a
/// confident mistake (`docs/13-in-practice.md`).
///
/// **Which target form** follows PyTorch: an `int64` target holds class ids
/// (shape: the input's minus the class dim, `[]`, `[N]`, `[N, d1, …]`); a
/// float target with the input's shape holds class probabilities. A float
/// target of the class-id shape is still read as class ids (integral
/// values), for compatibility with code written before `int64` existed.
///
/// With `log p = log_softmax(input)`, `C` classes, weights `w` (default 1)
/// and smoothing `ε`, the loss at position `n` is `ℓₙ = −Σ_c q_{n,c} log p_{n,c}`:
///
/// * class ids: `q_{n,c} = (1 − ε)·w[yₙ]·[c = yₙ] + (ε/C)·w_c`, and `ℓₙ = 0`
///   if `yₙ == ignore_index`; `mean` divides `Σ ℓₙ` by `Σₙ w[yₙ]` over the
///   non-ignored positions (all ignored: **NaN**, as in PyTorch);
/// * probabilities `t`: `q_{n,c} = w_c·((1 − ε)·t_{n,c} + ε/C)`; `mean`
///   divides by the number of positions (`numel / C`), whatever the weights.
///
/// The gradient with respect to the logits is `g·(Sₙ·softmax(x) − q)` with
/// `Sₙ = Σ_c q_{n,c}` — `(softmax − onehot)/N` for plain mean cross-entropy
/// — computed directly; probability targets also receive
/// `−g·(1 − ε)·w·log p`.
///
/// Errors: as [`nll_loss_with`](super::nll_loss_with), plus
/// `label_smoothing` outside `[0, 1]` and non-finite probability targets.
///
/// ```
/// use tapegrad::nn::functional::cross_entropy;
/// use tapegrad::Tensor;
/// let logits = Tensor::new([[1e4f32, 0.0, -1e4]]).requires_grad_(true);
/// let loss = cross_entropy(&logits, &Tensor::new([2.0f32])).unwrap();
/// assert_eq!(loss.item::<f32>(), 2e4); // finite, even for huge logits
/// loss.backward();
/// assert_eq!(logits.grad().unwrap().to_vec::<f32>(), vec![1.0, 0.0, -1.0]);
/// ```
pub fn cross_entropy_with(
    input: &Tensor,
    target: &Tensor,
    options: &CrossEntropyOptions,
) -> Result<Tensor> {
    const OP: &str = "cross_entropy";
    let eps = options.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        return Err(Error::invalid(
            OP,
            format!("label_smoothing must be between 0.0 and 1.0, got {eps}"),
        ));
    }
    crate::dtype::require_float(OP, input.dtype())?;
    let layout = ClassLayout::new(OP, input.shape())?;
    let weight = read_class_weight(OP, options.weight.as_ref(), layout.classes)?;
    if target.shape() == input.shape() && target.dtype().is_floating_point() {
        same_dtype(OP, input, target)?;
        let values = target.to_vec::<f64>();
        if let Some((k, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::invalid(
                OP,
                format!("target probability {v} at flat index {k} is not finite"),
            ));
        }
        let divisor = if input.numel() == 0 {
            0.0
        } else {
            layout.len() as f64
        };
        let spec = Rc::new(Spec {
            layout,
            weight,
            eps,
            targets: None,
        });
        let losses = forward(input, Some(target), spec)?;
        return options.reduction.reduce(losses, divisor);
    }
    let targets = read_class_targets(OP, target, &layout, options.ignore_index)?;
    let divisor = total_weight(&targets, weight.as_deref());
    let spec = Rc::new(Spec {
        layout,
        weight,
        eps,
        targets: Some(targets),
    });
    let losses = forward(input, None, spec)?;
    options.reduction.reduce(losses, divisor)
}

struct Spec {
    layout: ClassLayout,
    weight: Option<Rc<[f64]>>,
    eps: f64,
    /// Class ids per position (`None` = ignored); `None` for probability
    /// targets.
    targets: Option<Vec<Option<usize>>>,
}

impl Spec {
    fn is_ignored(&self, p: usize) -> bool {
        matches!(&self.targets, Some(t) if t[p].is_none())
    }

    /// `(y, w[y])` when position `p`'s target distribution is `w[y]` at
    /// class `y` and 0 elsewhere: class ids without label smoothing, not
    /// ignored. Its loss and gradient then need no `q` vector.
    fn one_hot(&self, p: usize) -> Option<(usize, f64)> {
        match &self.targets {
            Some(targets) if self.eps == 0.0 => targets[p].map(|y| (y, self.w(y))),
            _ => None,
        }
    }

    fn w(&self, c: usize) -> f64 {
        self.weight.as_ref().map_or(1.0, |w| w[c])
    }

    /// Fills `q` with the weighted target distribution of position `p`;
    /// `t` are the probability targets if any.
    fn fill_q<T: Element>(&self, p: usize, t: Option<&[T]>, q: &mut [T]) {
        let l = &self.layout;
        let n = l.classes as f64;
        let keep = T::from_f64(1.0 - self.eps);
        let spread = T::from_f64(self.eps / n);
        match (&self.targets, t) {
            (Some(targets), _) => {
                q.fill(T::ZERO);
                let Some(y) = targets[p] else { return };
                if self.eps > 0.0 {
                    for (c, qc) in q.iter_mut().enumerate() {
                        *qc = spread * T::from_f64(self.w(c));
                    }
                }
                q[y] += keep * T::from_f64(self.w(y));
            }
            (None, Some(t)) => {
                for (c, qc) in q.iter_mut().enumerate() {
                    let smoothed = if self.eps > 0.0 {
                        t[l.at(p, c)] * keep + spread
                    } else {
                        t[l.at(p, c)]
                    };
                    *qc = smoothed * T::from_f64(self.w(c));
                }
            }
            (None, None) => unreachable!("probability targets are always passed"),
        }
    }

    /// The targets `q` as a `[outer, C, inner]` constant (class ids only).
    fn q_tensor<T: Element>(&self) -> Tensor {
        let l = &self.layout;
        let mut data = vec![T::ZERO; l.input.numel()];
        let mut q = vec![T::ZERO; l.classes];
        for p in 0..l.len() {
            self.fill_q::<T>(p, None, &mut q);
            for (c, &qc) in q.iter().enumerate() {
                data[l.at(p, c)] = qc;
            }
        }
        Tensor::from_parts(data, crate::shape::Shape::new(&l.dims3()))
    }

    /// The weights as a `[1, C, 1]` constant.
    fn w_tensor(&self, like: &Tensor) -> Option<Tensor> {
        let w = self.weight.as_ref()?;
        let t = Tensor::from_parts(w.to_vec(), crate::shape::Shape::new(&[1, w.len(), 1]));
        Some(t.to_dtype(like.dtype()))
    }
}

/// Per-position losses, recorded as one op.
///
/// The pass that finds each position's log-sum-exp also keeps the
/// softmax, so that the first-order backward is one pass over it with no
/// `exp` (the composed `create_graph` path recomputes it from the logits).
fn forward(x: &Tensor, t: Option<&Tensor>, spec: Rc<Spec>) -> Result<Tensor> {
    let l = &spec.layout;
    let (out, probs) = dispatch!(x.dtype(), T => {
        let t_data: Option<Vec<T>> = t.map(|t| t.to_vec::<T>());
        let (losses, probs): (Vec<T>, Vec<T>) = x.with_contiguous::<T, _>(|x| {
            let mut probs = cache::zeroed::<T>(x.len());
            let mut maxes = vec![T::ZERO; l.len()];
            let mut log_sums = vec![T::ZERO; l.len()];
            kernel::softmax(x, l.rows(), &mut probs, &mut maxes, &mut log_sums);
            let mut q = vec![T::ZERO; l.classes];
            let losses = (0..l.len())
                .map(|p| {
                    let base = l.at(p, 0);
                    let log_p = |c: usize| (x[base + c * l.inner] - maxes[p]) - log_sums[p];
                    if let Some((y, w)) = spec.one_hot(p) {
                        // q is w·onehot(y): the one non-zero term of the sum below.
                        return -(T::from_f64(w) * log_p(y));
                    }
                    spec.fill_q(p, t_data.as_deref(), &mut q);
                    let mut loss = T::ZERO;
                    for (c, &qc) in q.iter().enumerate() {
                        if qc != T::ZERO {
                            loss -= qc * log_p(c);
                        }
                    }
                    loss
                })
                .collect();
            (losses, probs)
        });
        (
            Tensor::from_parts(losses, l.positions.clone()),
            Tensor::from_parts(probs, l.input.clone()),
        )
    });
    let inputs: Vec<&Tensor> = std::iter::once(x).chain(t).collect();
    record(out, &inputs, |_| CrossEntropyBackward {
        x: Saved::new(x),
        t: t.map(Saved::new),
        probs,
        spec: spec.clone(),
    })
}

struct CrossEntropyBackward {
    x: Saved,
    t: Option<Saved>,
    /// softmax(x) along the class dim, computed by the forward (a constant).
    probs: Tensor,
    spec: Rc<Spec>,
}

impl CrossEntropyBackward {
    /// One pass over the logits: `g·(S·p − q)` for the logits and
    /// `−g·(1 − ε)·w·log p` for probability targets.
    fn fused<T: Element>(&self, g: &Tensor, want_x: bool, want_t: bool) -> (Vec<T>, Vec<T>) {
        let spec = &self.spec;
        let l = &spec.layout;
        let t_data: Option<Vec<T>> = self.t.as_ref().map(|t| t.value().to_vec::<T>());
        let g = g.to_vec::<T>();
        let numel = l.input.numel();
        let mut gx = if want_x {
            cache::zeroed::<T>(numel)
        } else {
            Vec::new()
        };
        let mut gt = if want_t {
            vec![T::ZERO; numel]
        } else {
            Vec::new()
        };
        let keep = T::from_f64(1.0 - spec.eps);
        if want_x {
            self.probs.with_contiguous::<T, _>(|probs| {
                kernel::cross_entropy_grad(probs, l.rows(), &g, &mut gx, |p, q| {
                    // An ignored position gets exactly 0, even when the
                    // mean's divisor is 0 (all ignored) and g is infinite,
                    // as in PyTorch.
                    if spec.is_ignored(p) {
                        RowTarget::Ignored
                    } else if let Some((class, w)) = spec.one_hot(p) {
                        // q = w·onehot(y), so S = w.
                        RowTarget::OneHot {
                            class,
                            weight: T::from_f64(w),
                        }
                    } else {
                        spec.fill_q(p, t_data.as_deref(), q);
                        RowTarget::Dist
                    }
                });
            });
        }
        if want_t {
            self.x.value().with_contiguous::<T, _>(|x| {
                for (p, &gp) in g.iter().enumerate() {
                    if spec.is_ignored(p) {
                        continue;
                    }
                    let base = l.at(p, 0);
                    let (m, s) = kernel::max_sum_exp(x, l.rows(), p, |_, _| {});
                    let log_s = s.ln();
                    for c in 0..l.classes {
                        let j = base + c * l.inner;
                        let w = T::from_f64(spec.w(c));
                        gt[j] = -(gp * keep * w * ((x[j] - m) - log_s));
                    }
                }
            });
        }
        (gx, gt)
    }

    /// The same gradients from differentiable ops, for `create_graph`.
    fn composed(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let spec = &self.spec;
        let l = &spec.layout;
        let x3 = ctx.input(0, &self.x).try_reshape(l.dims3())?;
        let mut g3 = g.try_reshape(l.dims3_positions())?;
        if let Some(targets) = &spec.targets {
            if targets.iter().any(Option::is_none) {
                let ignored: Vec<f64> = targets
                    .iter()
                    .map(|t| f64::from(u8::from(t.is_none())))
                    .collect();
                let mask = Tensor::from_vec(ignored, l.dims3_positions())?;
                g3 = Tensor::try_where_(&mask, &Tensor::zeros_like(&g3), &g3)?;
            }
        }
        let w3 = spec.w_tensor(g);
        let weighted = |t: Tensor| match &w3 {
            Some(w) => t.try_mul(w),
            None => Ok(t),
        };
        let t3 = match &self.t {
            Some(t) => Some(ctx.input(1, t).try_reshape(l.dims3())?),
            None => None,
        };
        let gx = if ctx.needs_grad(0) {
            let q = match &t3 {
                Some(t3) => weighted(t3.try_affine(1.0 - spec.eps, spec.eps / l.classes as f64)?)?,
                None => dispatch!(g.dtype(), T => spec.q_tensor::<T>()),
            };
            let total = q.try_sum_dim(1, true)?;
            let p = x3.try_softmax(1)?;
            let d = total.try_mul(&p)?.try_sub(&q)?;
            Some(g3.try_mul(&d)?.try_reshape(&l.input)?)
        } else {
            None
        };
        let gt = match &t3 {
            Some(_) if ctx.needs_grad(1) => {
                let logp = x3.try_log_softmax(1)?;
                let d = weighted(logp.try_mul_scalar(-(1.0 - spec.eps))?)?;
                Some(g3.try_mul(&d)?.try_reshape(&l.input)?)
            }
            _ => None,
        };
        Ok([gx, gt]
            .into_iter()
            .take(1 + usize::from(self.t.is_some()))
            .collect())
    }
}

impl Backward for CrossEntropyBackward {
    fn name(&self) -> &'static str {
        "CrossEntropy"
    }

    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        self.composed(ctx, g)
    }

    /// Accelerator: `g · (softmax − target)` per position, from the
    /// softmax the forward kept, in one pass.
    fn first_order(&self, ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        let g = &g;
        let want_x = ctx.needs_grad(0);
        let want_t = self.t.is_some() && ctx.needs_grad(1);
        let shape = self.spec.layout.input.clone();
        let (gx, gt) = dispatch!(g.dtype(), T => {
            let (gx, gt) = self.fused::<T>(g, want_x, want_t);
            (
                want_x.then(|| Tensor::from_parts(gx, shape.clone())),
                want_t.then(|| Tensor::from_parts(gt, shape.clone())),
            )
        });
        Ok(Accelerated::Done(
            [gx, gt]
                .into_iter()
                .take(1 + usize::from(self.t.is_some()))
                .collect(),
        ))
    }
}
