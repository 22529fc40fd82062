//! The contract between an op and the backward sweep.
//!
//! An op's forward computes its output, then calls
//! [`record`](super::tape::record) with a value implementing [`Backward`]
//! that holds what the gradient needs ([`Saved`] tensors, scalars, shapes).
//!
//! An op's backward has one definition and at most one accelerator:
//!
//! - [`Backward::backward`] is the **definition**: the gradients written
//!   with the same differentiable tensor ops as forward code. It is what
//!   makes second order work: with `create_graph`, grad mode is on and
//!   [`BackwardCtx::input`] / [`BackwardCtx::output`] re-attach saved
//!   tensors to their tape entries, so the gradient is itself recorded.
//! - [`Backward::first_order`] is an optional **accelerator**: the same
//!   numbers in one fused pass, for an ordinary (first-order) backward. It
//!   owns the incoming gradient, so it may write its result into that
//!   buffer when nothing else shares it ([`Tensor::is_exclusive`]).
//!
//! Only the sweep (src/autograd/backward.rs) chooses between them: under
//! `create_graph` it calls the definition, otherwise the accelerator, and
//! the definition when the accelerator declines. No rule asks which kind of
//! backward is running. `gradcheck` computes every Jacobian both ways and
//! names the one that disagrees with finite differences.

use std::rc::Rc;

use smallvec::SmallVec;

use super::tape::{GradMeta, GraphToken, InputRef, NodeRef};
use crate::error::Result;
use crate::tensor::Tensor;

/// One gradient per op input; `None` where the input needs none.
pub(crate) type GradInputs = SmallVec<[Option<Tensor>; 2]>;

/// What an accelerator did with the gradient it was handed.
pub(crate) enum Accelerated {
    /// It computed the input gradients.
    Done(GradInputs),
    /// It does not apply here (a layout or case it has no fused pass for);
    /// the gradient is handed back for the definition.
    Declined(Tensor),
}

/// The backward half of an op.
pub(crate) trait Backward {
    /// The op's name, shown in printed tapes and `grad_fn`.
    fn name(&self) -> &'static str;

    /// The definition: given the gradient of the loss with respect to the
    /// op's output, the gradients with respect to its inputs, in input
    /// order, written with differentiable ops.
    fn backward(&self, ctx: &BackwardCtx<'_>, grad: &Tensor) -> Result<GradInputs>;

    /// The optional first-order accelerator: the same numbers as
    /// [`backward`](Backward::backward) in a fused pass. Called only for a
    /// backward that builds no graph; the default declines.
    fn first_order(&self, ctx: &BackwardCtx<'_>, grad: Tensor) -> Result<Accelerated> {
        let _ = ctx;
        Ok(Accelerated::Declined(grad))
    }
}

/// Shorthand for an accelerator's result: one gradient per input.
pub(crate) fn done(grads: impl IntoIterator<Item = Option<Tensor>>) -> Result<Accelerated> {
    Ok(Accelerated::Done(grads.into_iter().collect()))
}

/// A tensor saved for backward, stripped of its graph links so the tape
/// never keeps itself alive. [`BackwardCtx`] restores the links when a graph
/// of the gradient is being built.
///
/// It also remembers the version of its storage when it was saved. Reading
/// it after an in-place write to that storage (an optimizer step, `copy_`,
/// a re-initialisation, a checkpoint load) is noted here and turned into an
/// error by the sweep when the rule returns ([`take_stale`]): the rule's
/// result, computed from the new values, is never used. Every read goes
/// through [`Saved::value`] or the context, so no rule can skip the check.
#[derive(Clone)]
pub(crate) struct Saved {
    tensor: Tensor,
    version: u64,
}

impl Saved {
    /// Saves `t`'s value (sharing its storage) and its current version.
    pub(crate) fn new(t: &Tensor) -> Saved {
        Saved {
            tensor: t.detach(),
            version: t.version(),
        }
    }

    /// The saved value, as a constant.
    #[inline]
    pub(crate) fn value(&self) -> &Tensor {
        let now = self.tensor.version();
        if now != self.version {
            note_stale(&self.tensor, now, self.version);
        }
        &self.tensor
    }
}

/// A saved tensor found modified after it was saved.
pub(crate) struct Stale {
    pub(crate) shape: crate::shape::Shape,
    pub(crate) dtype: crate::dtype::DType,
    pub(crate) version: u64,
    pub(crate) expected: u64,
}

thread_local! {
    /// Whether [`STALE`] holds something: a plain flag, so that the sweep's
    /// check after every rule is one thread-local load.
    static ANY_STALE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static STALE: std::cell::RefCell<Option<Stale>> = const { std::cell::RefCell::new(None) };
}

fn note_stale(t: &Tensor, version: u64, expected: u64) {
    ANY_STALE.with(|a| a.set(true));
    STALE.with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none() {
            *s = Some(Stale {
                shape: t.shape().clone(),
                dtype: t.dtype(),
                version,
                expected,
            });
        }
    });
}

/// The first stale read since the last call, if any (the sweep asks after
/// every rule, and once before it starts).
#[inline]
pub(crate) fn take_stale() -> Option<Stale> {
    if !ANY_STALE.with(std::cell::Cell::get) {
        return None;
    }
    ANY_STALE.with(|a| a.set(false));
    STALE.with(|s| s.borrow_mut().take())
}

/// What the sweep tells an op's backward.
pub(crate) struct BackwardCtx<'a> {
    index: usize,
    inputs: &'a [InputRef],
    /// `Some` when building a differentiable gradient (`create_graph`).
    /// Private: rules do not branch on it; only the sweep sets it.
    token: Option<Rc<GraphToken>>,
}

impl<'a> BackwardCtx<'a> {
    /// The context of entry `index` with the given input references;
    /// `token` is `Some` exactly when the gradient is being recorded.
    pub(super) fn new(index: usize, inputs: &'a [InputRef], token: Option<Rc<GraphToken>>) -> Self {
        BackwardCtx {
            index,
            inputs,
            token,
        }
    }

    /// Whether input `k` needs a gradient; rules skip work for constants
    /// (e.g. the data matrix of a first layer).
    pub(crate) fn needs_grad(&self, k: usize) -> bool {
        !matches!(self.inputs.get(k), Some(InputRef::Constant) | None)
    }

    /// The saved input `k`, linked to its tape entry when `create_graph` is
    /// on (so the gradient depends on it differentiably), else a constant.
    pub(crate) fn input(&self, k: usize, saved: &Saved) -> Tensor {
        match (&self.token, self.inputs.get(k)) {
            (Some(token), Some(InputRef::Entry(j))) => attach(saved, token, *j),
            _ => saved.value().clone(),
        }
    }

    /// The saved output of this op, linked to its entry under `create_graph`.
    pub(crate) fn output(&self, saved: &Saved) -> Tensor {
        match &self.token {
            Some(token) => attach(saved, token, self.index),
            None => saved.value().clone(),
        }
    }
}

fn attach(saved: &Saved, token: &Rc<GraphToken>, index: usize) -> Tensor {
    let mut t = saved.value().clone();
    t.meta = GradMeta::Node(NodeRef {
        token: token.clone(),
        index,
    });
    t
}
