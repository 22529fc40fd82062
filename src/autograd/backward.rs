//! The backward sweep, and the two ways to ask for gradients:
//! [`Tensor::backward`] (accumulate into parameters' `.grad`, as in PyTorch)
//! and [`grad`] (return gradients as tensors, optionally differentiable).

use std::rc::Rc;

use smallvec::SmallVec;

use super::anomaly;
use super::function::{take_stale, Accelerated, BackwardCtx, GradInputs};
use super::mode::GradModeGuard;
use super::tape::{EntryKind, GradMeta, GraphToken, InputRef, LeafMeta, TAPE};
use super::trace;
use crate::error::{or_panic, Error, Result};
use crate::tensor::Tensor;

/// Options for [`Tensor::backward_with`] and [`grad_with`].
#[derive(Clone, Debug, Default)]
pub struct BackwardOptions {
    /// Keep the tape after the sweep so the same graph can be swept again
    /// (`retain_graph=True`). Without it the tape is released.
    pub retain_graph: bool,
    /// Record the backward computation itself, so gradients can be
    /// differentiated again (`create_graph=True`). Implies `retain_graph`.
    pub create_graph: bool,
    /// For [`grad_with`]: an input that the outputs do not depend on gets a
    /// zero gradient instead of an error (`allow_unused=True` with
    /// `materialize_grads=True` in PyTorch).
    pub allow_unused: bool,
}

const RELEASED: &str = "trying to backward through a graph that has already been released \
    (by an earlier backward() or because all of its tensors were dropped); pass \
    retain_graph: true to the first backward if you need to go through the graph twice";

impl Tensor {
    /// Computes the gradient of this scalar with respect to every leaf that
    /// requires grad, adding it into their [`grad`](Tensor::grad)
    /// (`torch.Tensor.backward()`), then releases the tape.
    ///
    /// Gradients accumulate across calls until cleared with
    /// [`zero_grad`](Tensor::zero_grad), so several micro-batches can be
    /// summed. A leaf used several times in the graph gets one summed
    /// gradient.
    pub fn try_backward(&self) -> Result<()> {
        self.try_backward_with(None, BackwardOptions::default())
    }

    /// Panicking form of [`try_backward`](Tensor::try_backward).
    #[track_caller]
    pub fn backward(&self) {
        or_panic(self.try_backward())
    }

    /// Backward with an explicit seed gradient (required for non-scalar
    /// outputs) and options (`torch.Tensor.backward(gradient, retain_graph,
    /// create_graph)`).
    pub fn try_backward_with(
        &self,
        gradient: Option<&Tensor>,
        options: BackwardOptions,
    ) -> Result<()> {
        let seed = seed_for(self, gradient, "backward", options.create_graph)?;
        let roots = [(self, seed)];
        let (grads, leaves) = sweep(&roots, &[], options.create_graph)?;
        // Op entries were emptied by the sweep, so what is left is (almost
        // only) leaf gradients: size the list once instead of growing it.
        let remaining = grads.iter().filter(|g| g.is_some()).count() + leaves.len();
        let mut to_accumulate: Vec<(Rc<LeafMeta>, Tensor)> = Vec::with_capacity(remaining);
        TAPE.with(|cell| {
            let tape = cell.borrow();
            for (i, g) in grads.into_iter().enumerate() {
                if let (Some(g), Some(EntryKind::Leaf(leaf))) =
                    (g, tape.entries.get(i).map(|e| &e.kind))
                {
                    to_accumulate.push((leaf.clone(), g));
                }
            }
        });
        // Entries name each leaf at most once; only a bare-leaf root can
        // repeat one of them.
        let from_entries = to_accumulate.len();
        to_accumulate.extend(leaves);
        let _mode = GradModeGuard::set(options.create_graph);
        // All or nothing: every new `.grad` is computed first, and only
        // when all of them succeeded are they stored, so a failure leaves
        // every gradient as it was and a retry gives the first try's result.
        let mut totals: Vec<(Rc<LeafMeta>, Tensor)> = Vec::with_capacity(to_accumulate.len());
        for (k, (leaf, g)) in to_accumulate.into_iter().enumerate() {
            // A gradient that is itself a leaf (the seed of a bare-leaf root,
            // under create_graph) would make `.grad` own a LeafMeta: with the
            // leaf itself that is an Rc cycle never freed. Storing a recorded
            // copy instead links it through the tape, which is released.
            let g = if matches!(g.meta, GradMeta::Leaf(_)) {
                g.try_mul_scalar(1.0)?
            } else {
                g
            };
            let repeated = if k >= from_entries {
                totals.iter().position(|(l, _)| Rc::ptr_eq(l, &leaf))
            } else {
                None
            };
            let previous = match repeated {
                Some(j) => Some(totals.swap_remove(j).1),
                None => leaf.grad.borrow().clone(),
            };
            let total = match previous {
                None => g,
                Some(previous) => add_same_shape(&previous, &g)?,
            };
            totals.push((leaf, total));
        }
        for (leaf, total) in totals {
            *leaf.grad.borrow_mut() = Some(total);
        }
        finish(&options);
        Ok(())
    }

    /// Panicking form of [`try_backward_with`](Tensor::try_backward_with).
    #[track_caller]
    pub fn backward_with(&self, gradient: Option<&Tensor>, options: BackwardOptions) {
        or_panic(self.try_backward_with(gradient, options))
    }
}

/// Gradients of the scalar `outputs` with respect to `inputs`, returned
/// instead of accumulated (`torch.autograd.grad`).
///
/// With `create_graph` the returned gradients are themselves recorded, so
/// they can be differentiated again: Hessian-vector products, gradient
/// penalties, Newton steps. An input the outputs do not depend on is an
/// error naming it (PyTorch's "appears to not have been used in the
/// graph"); [`grad_with`] with `allow_unused` gives it zeros instead.
///
/// ```
/// use tapegrad::{grad, Tensor};
/// let x = Tensor::new([2.0f64]).requires_grad_(true);
/// let y = x.powf(3.0).sum();                          // y = x³
/// let dy = &grad(&[&y], &[&x], true).unwrap()[0];     // 3x² = 12
/// let d2y = &grad(&[&dy.sum()], &[&x], false).unwrap()[0]; // 6x = 12
/// assert_eq!(dy.to_vec::<f64>(), vec![12.0]);
/// assert_eq!(d2y.to_vec::<f64>(), vec![12.0]);
/// ```
pub fn grad(outputs: &[&Tensor], inputs: &[&Tensor], create_graph: bool) -> Result<Vec<Tensor>> {
    grad_with(
        outputs,
        &[],
        inputs,
        BackwardOptions {
            retain_graph: create_graph,
            create_graph,
            allow_unused: false,
        },
    )
}

/// [`grad`] with seed gradients for non-scalar outputs (`grad_outputs`, one
/// per output, or empty for scalars) and explicit options.
pub fn grad_with(
    outputs: &[&Tensor],
    grad_outputs: &[&Tensor],
    inputs: &[&Tensor],
    options: BackwardOptions,
) -> Result<Vec<Tensor>> {
    if !grad_outputs.is_empty() && grad_outputs.len() != outputs.len() {
        return Err(Error::autograd(
            "grad",
            format!(
                "got {} grad_outputs for {} outputs",
                grad_outputs.len(),
                outputs.len()
            ),
        ));
    }
    let mut roots = Vec::with_capacity(outputs.len());
    for (k, out) in outputs.iter().enumerate() {
        roots.push((
            *out,
            seed_for(
                out,
                grad_outputs.get(k).copied(),
                "grad",
                options.create_graph,
            )?,
        ));
    }
    // Where each input sits on the tape (None: not reached by the outputs).
    let mut targets: Vec<Option<usize>> = Vec::with_capacity(inputs.len());
    TAPE.with(|cell| -> Result<()> {
        let tape = cell.borrow();
        for (k, input) in inputs.iter().enumerate() {
            targets.push(match &input.meta {
                GradMeta::None => {
                    return Err(Error::autograd(
                        "grad",
                        format!("input {k} does not require grad"),
                    ))
                }
                GradMeta::Leaf(leaf) => tape.leaf_index(leaf),
                GradMeta::Node(node) if node.token.generation == tape.generation => {
                    Some(node.index)
                }
                GradMeta::Node(_) => return Err(Error::autograd("grad", RELEASED)),
            });
        }
        Ok(())
    })?;
    let keep: SmallVec<[usize; 4]> = targets.iter().flatten().copied().collect();
    let (grads, leaf_roots) = sweep(&roots, &keep, options.create_graph)?;
    let _mode = GradModeGuard::set(options.create_graph);
    let mut result = Vec::with_capacity(inputs.len());
    for (k, input) in inputs.iter().enumerate() {
        let mut total = targets[k].and_then(|i| grads.get(i).cloned().flatten());
        if let GradMeta::Leaf(leaf) = &input.meta {
            for (root, seed) in &leaf_roots {
                if Rc::ptr_eq(root, leaf) {
                    total = Some(match total {
                        Some(t) => t.try_add(seed)?,
                        None => seed.clone(),
                    });
                }
            }
        }
        match total {
            Some(t) => result.push(t),
            None if options.allow_unused => result.push(Tensor::zeros_like(input)),
            None => {
                return Err(Error::autograd(
                    "grad",
                    format!(
                        "input {k} (shape {}) appears to not have been used in the graph \
                         of the outputs, so it has no gradient; pass allow_unused: true \
                         in BackwardOptions (to grad_with) to get zeros for it, and check \
                         the order of the arguments: outputs, grad_outputs, inputs",
                        input.shape()
                    ),
                ))
            }
        }
    }
    finish(&options);
    Ok(result)
}

/// Releases the tape unless asked to keep it.
fn finish(options: &BackwardOptions) {
    if !(options.retain_graph || options.create_graph) {
        let old = TAPE.with(|cell| cell.borrow_mut().release());
        super::tape::recycle(old);
    }
}

/// The seed gradient for `output`: the given one (checked), or 1 for a
/// scalar.
fn seed_for(
    output: &Tensor,
    gradient: Option<&Tensor>,
    op: &'static str,
    create_graph: bool,
) -> Result<Tensor> {
    if !output.requires_grad() {
        return Err(Error::autograd(
            op,
            "the tensor does not require grad and has no grad_fn, so there is nothing to \
             differentiate (call requires_grad_(true) on the parameters, outside no_grad)",
        ));
    }
    match gradient {
        Some(g) => {
            if g.shape() != output.shape() {
                return Err(Error::mismatch(
                    op,
                    "the seed gradient must have the output's shape",
                    g.shape(),
                    output.shape(),
                ));
            }
            if g.dtype() != output.dtype() {
                return Err(Error::DTypeMismatch {
                    op,
                    lhs: g.dtype(),
                    rhs: output.dtype(),
                });
            }
            // Kept attached under create_graph, where the gradient may depend
            // on it. Otherwise detached: a seed that requires grad would
            // reach `.grad` unchanged (through a bare-leaf root or an op
            // that passes its gradient through), making the gradient
            // require grad and, when the seed is the leaf itself, an `Rc`
            // cycle (leaf -> .grad -> leaf) that is never freed.
            Ok(if create_graph { g.clone() } else { g.detach() })
        }
        None if output.numel() == 1 => Ok(Tensor::ones_like(output)),
        None => Err(Error::autograd(
            op,
            format!(
                "a gradient can be created implicitly only for a scalar output, but the \
                 output has shape {}; pass a seed gradient of that shape",
                output.shape()
            ),
        )),
    }
}

/// Seeds of roots that are bare leaves (not on the tape): their gradient is
/// the seed itself.
type LeafRoots = Vec<(Rc<LeafMeta>, Tensor)>;

/// One reverse pass over the tape, from the highest root down to entry 0.
///
/// Returns the gradient reaching each entry at or below the highest root
/// (op entries are cleared as they are consumed, except those in `keep`),
/// and the seed of a root that is a bare leaf.
fn sweep(
    roots: &[(&Tensor, Tensor)],
    keep: &[usize],
    create_graph: bool,
) -> Result<(Vec<Option<Tensor>>, LeafRoots)> {
    let mut seeds: Vec<(usize, Tensor)> = Vec::new();
    let mut leaf_roots: LeafRoots = Vec::new();
    let mut generation = 0;
    let token: Option<Rc<GraphToken>> = TAPE.with(|cell| -> Result<Option<Rc<GraphToken>>> {
        let tape = cell.borrow();
        generation = tape.generation;
        let mut token = None;
        for (out, seed) in roots {
            match &out.meta {
                GradMeta::Node(node) if node.token.generation == tape.generation => {
                    seeds.push((node.index, seed.clone()));
                    token = Some(node.token.clone());
                }
                GradMeta::Node(_) => return Err(Error::autograd("backward", RELEASED)),
                GradMeta::Leaf(leaf) => match tape.leaf_index(leaf) {
                    Some(i) => seeds.push((i, seed.clone())),
                    None => leaf_roots.push((leaf.clone(), seed.clone())),
                },
                GradMeta::None => {}
            }
        }
        Ok(token)
    })?;
    let n = seeds.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
    let mut grads: Vec<Option<Tensor>> = vec![None; n];
    let _mode = GradModeGuard::set(create_graph);
    // A stale read noted outside a sweep (none should be) is not ours.
    let _ = take_stale();
    for (i, seed) in seeds {
        accumulate(&mut grads[i], seed)?;
    }
    let ctx_token = if create_graph { token } else { None };
    for i in (0..n).rev() {
        if grads[i].is_none() {
            continue;
        }
        let Some((backward, inputs)) = take_op(i)? else {
            // A leaf: its gradient stays in `grads`.
            if trace::is_active() {
                if let Some(g) = &grads[i] {
                    trace::on_grad(generation, i, g);
                }
            }
            continue;
        };
        if trace::is_active() {
            if let Some(g) = &grads[i] {
                trace::on_grad(generation, i, g);
            }
        }
        let g = if keep.contains(&i) {
            grads[i].clone()
        } else {
            grads[i].take()
        }
        .expect("checked above");
        let ctx = BackwardCtx::new(i, &inputs, ctx_token.clone());
        let name = backward.name();
        let outcome = (|| -> Result<()> {
            // The results are used in place, through references: moving the
            // inline list (two tensors' worth) out of a `Result` or an
            // `Accelerated` would copy it each time.
            let mut fast: Result<Accelerated>;
            let mut slow: Result<GradInputs>;
            let input_grads = match choose(create_graph) {
                Rule::Definition => {
                    slow = backward.backward(&ctx, &g);
                    slow.as_mut()
                }
                Rule::Accelerator => {
                    fast = backward.first_order(&ctx, g);
                    match fast {
                        Ok(Accelerated::Declined(g)) => {
                            slow = backward.backward(&ctx, &g);
                            slow.as_mut()
                        }
                        Ok(Accelerated::Done(ref mut grads)) => Ok(grads),
                        Err(ref mut e) => Err(e),
                    }
                }
            };
            if let Some(stale) = take_stale() {
                return Err(Error::autograd(
                    "backward",
                    format!(
                        "a tensor of shape {} ({}) that {name} saved for its gradient was \
                         modified by an in-place operation after it was saved (copy_, an \
                         optimizer step, nn::init, a checkpoint load); version {}, expected \
                         {}. Run backward before changing the values (e.g. optimizer.step() \
                         after loss.backward()), or change a copy",
                        stale.shape, stale.dtype, stale.version, stale.expected
                    ),
                ));
            }
            let input_grads = match input_grads {
                Ok(grads) => grads,
                Err(e) => return Err(std::mem::replace(e, Error::autograd("backward", ""))),
            };
            check_shapes(name, &inputs, input_grads)?;
            // Taken out one by one rather than by `into_iter`, which would
            // first move the whole inline list (two tensors' worth).
            for (k, gk) in input_grads.iter_mut().enumerate() {
                let Some(gk) = gk.take() else { continue };
                match inputs.get(k) {
                    Some(InputRef::Entry(j)) => {
                        anomaly::check_gradient(name, i, k, &gk)?;
                        accumulate(&mut grads[*j], gk)?;
                    }
                    Some(InputRef::Released) => return Err(Error::autograd("backward", RELEASED)),
                    Some(InputRef::Constant) | None => {}
                }
            }
            Ok(())
        })();
        put_back(i, backward, inputs);
        outcome?;
    }
    Ok((grads, leaf_roots))
}

/// Which of an op's two backward forms the sweep runs.
enum Rule {
    /// The definition, in differentiable ops.
    Definition,
    /// The first-order accelerator (the definition if it declines).
    Accelerator,
}

/// The one place that chooses between an op's definition and its
/// accelerator: a backward that records a graph of the gradient runs the
/// definition; any other runs the accelerator, falling back to the
/// definition when it declines.
#[inline]
fn choose(create_graph: bool) -> Rule {
    if create_graph {
        Rule::Definition
    } else {
        Rule::Accelerator
    }
}

type TakenOp = (Box<dyn super::function::Backward>, SmallVec<[InputRef; 2]>);

/// Moves entry `i`'s backward and input list out of the tape so that it can
/// run while the tape is free to record (under `create_graph`); `put_back`
/// returns them. Moving instead of cloning keeps the sweep free of
/// allocations of its own. `None` for a leaf.
fn take_op(i: usize) -> Result<Option<TakenOp>> {
    TAPE.with(|cell| {
        let mut tape = cell.borrow_mut();
        let (backward, inputs) = match &mut tape.entries[i].kind {
            EntryKind::Leaf(_) => return Ok(None),
            EntryKind::Op { backward, inputs } => (backward.take(), std::mem::take(inputs)),
        };
        let backward = backward.ok_or_else(|| {
            Error::autograd(
                "backward",
                "internal error: re-entrant backward over one entry",
            )
        })?;
        Ok(Some((backward, inputs)))
    })
}

fn put_back(i: usize, op: Box<dyn super::function::Backward>, refs: SmallVec<[InputRef; 2]>) {
    TAPE.with(|cell| {
        if let EntryKind::Op { backward, inputs } = &mut cell.borrow_mut().entries[i].kind {
            *backward = Some(op);
            *inputs = refs;
        }
    });
}

/// Checks that each gradient an op returned has its input's shape and
/// dtype: a wrong rule fails here, naming the op, instead of corrupting a
/// sum further down.
fn check_shapes(name: &'static str, inputs: &[InputRef], grads: &GradInputs) -> Result<()> {
    TAPE.with(|cell| {
        let tape = cell.borrow();
        for (k, gk) in grads.iter().enumerate() {
            let (Some(gk), Some(InputRef::Entry(j))) = (gk, inputs.get(k)) else {
                continue;
            };
            let entry = &tape.entries[*j];
            if gk.shape() != &entry.shape || gk.dtype() != entry.dtype {
                return Err(Error::autograd(
                    "backward",
                    format!(
                        "internal error: {name} returned a gradient of shape {} ({}) for \
                         input {k} of shape {} ({})",
                        gk.shape(),
                        gk.dtype(),
                        entry.shape,
                        entry.dtype
                    ),
                ));
            }
        }
        Ok(())
    })
}

/// Adds `g` into a gradient slot.
fn accumulate(slot: &mut Option<Tensor>, g: Tensor) -> Result<()> {
    *slot = Some(match slot.take() {
        None => g,
        Some(previous) => add_same_shape(&previous, &g)?,
    });
    Ok(())
}

/// `a + b` for two gradients of one tensor: never broadcast, so a gradient
/// of the wrong shape is an error instead of silently spreading.
fn add_same_shape(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if a.shape() != b.shape() {
        return Err(Error::mismatch(
            "backward",
            "gradients of one tensor must have its shape to be accumulated",
            b.shape(),
            a.shape(),
        ));
    }
    a.try_add(b)
}
