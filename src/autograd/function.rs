//! The contract between an op and the backward sweep.
//!
//! An op's forward computes its output, then calls
//! [`record`](super::tape::record) with a value implementing [`Backward`]
//! that holds what the gradient needs ([`Saved`] tensors, scalars, shapes).
//!
//! Backward rules are written with the same differentiable tensor ops as
//! forward code. During an ordinary `backward()` grad mode is off, so those
//! ops record nothing and cost no more than plain kernels. With
//! `create_graph`, grad mode is on and [`BackwardCtx::input`] /
//! [`BackwardCtx::output`] re-attach saved tensors to their tape entries, so
//! the gradient is itself part of the graph and can be differentiated again.

use std::rc::Rc;

use smallvec::SmallVec;

use super::tape::{GradMeta, GraphToken, InputRef, NodeRef};
use crate::error::Result;
use crate::tensor::Tensor;

/// One gradient per op input; `None` where the input needs none.
pub(crate) type GradInputs = SmallVec<[Option<Tensor>; 2]>;

/// The backward half of an op.
pub(crate) trait Backward {
    /// The op's name, shown in printed tapes and `grad_fn`.
    fn name(&self) -> &'static str;

    /// Given the gradient of the loss with respect to the op's output,
    /// returns the gradients with respect to its inputs, in input order.
    fn backward(&self, ctx: &BackwardCtx<'_>, grad: &Tensor) -> Result<GradInputs>;

    /// [`backward`](Backward::backward) given ownership of `grad`, which the
    /// sweep no longer needs: a rule whose result has `grad`'s shape may
    /// compute it in `grad`'s own buffer when nothing else shares it (see
    /// [`Tensor::is_exclusive`]), saving an allocation per op. Only for
    /// first-order backward (`ctx.token.is_none()`). The default borrows.
    fn backward_owned(&self, ctx: &BackwardCtx<'_>, grad: Tensor) -> Result<GradInputs> {
        self.backward(ctx, &grad)
    }
}

/// A tensor saved for backward, stripped of its graph links so the tape
/// never keeps itself alive. [`BackwardCtx`] restores the links when a graph
/// of the gradient is being built.
#[derive(Clone)]
pub(crate) struct Saved(Tensor);

impl Saved {
    /// Saves `t`'s value (sharing its storage).
    pub(crate) fn new(t: &Tensor) -> Saved {
        Saved(t.detach())
    }

    /// The saved value, as a constant.
    pub(crate) fn value(&self) -> &Tensor {
        &self.0
    }
}

/// What the sweep tells an op's backward.
pub(crate) struct BackwardCtx<'a> {
    pub(crate) index: usize,
    pub(crate) inputs: &'a [InputRef],
    /// `Some` when building a differentiable gradient (`create_graph`).
    pub(crate) token: Option<Rc<GraphToken>>,
}

impl BackwardCtx<'_> {
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
            _ => saved.0.clone(),
        }
    }

    /// The saved output of this op, linked to its entry under `create_graph`.
    pub(crate) fn output(&self, saved: &Saved) -> Tensor {
        match &self.token {
            Some(token) => attach(saved, token, self.index),
            None => saved.0.clone(),
        }
    }
}

fn attach(saved: &Saved, token: &Rc<GraphToken>, index: usize) -> Tensor {
    let mut t = saved.0.clone();
    t.meta = GradMeta::Node(NodeRef {
        token: token.clone(),
        index,
    });
    t
}
