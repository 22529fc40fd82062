//! The tape: an append-only list (a Wengert list) of the ops applied to
//! tensors that require grad.
//!
//! Entry `i` only refers to entries `j < i`, so the list is already in
//! topological order and backward is a plain reverse loop over it.
//!
//! Lifetime rules:
//! - There is one tape per thread (tensors are `!Send`).
//! - Parameters (leaves) outlive tapes; they enter the current tape as a
//!   `Leaf` entry the first time an op uses them.
//! - The tape is released (emptied, and its generation bumped) after a
//!   `backward` that does not retain the graph, or as soon as the last tensor
//!   produced on it is dropped. A tensor from an older generation is
//!   "released": gradients cannot flow through it any more.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use smallvec::SmallVec;

use super::anomaly;
use super::function::Backward;
use super::mode::is_grad_enabled;
use super::trace;
use crate::dtype::DType;
use crate::error::Result;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// What a tensor knows about its place in the graph.
#[derive(Clone, Default)]
pub(crate) enum GradMeta {
    /// A constant: no gradient flows to it.
    #[default]
    None,
    /// A leaf that requires grad (a parameter).
    Leaf(Rc<LeafMeta>),
    /// The output of a recorded op.
    Node(NodeRef),
}

/// The gradient slot of a parameter, shared by all its clones.
#[derive(Default)]
pub(crate) struct LeafMeta {
    /// Gradient accumulated by `backward` (PyTorch's `.grad`).
    pub(crate) grad: RefCell<Option<Tensor>>,
    /// `(generation, entry)` of this leaf's entry on the current tape.
    slot: Cell<Option<(u64, usize)>>,
}

/// A reference to a tape entry, valid while its generation is current.
#[derive(Clone)]
pub(crate) struct NodeRef {
    pub(crate) token: Rc<GraphToken>,
    pub(crate) index: usize,
}

/// Shared by every tensor recorded in one tape generation. When the last of
/// them is dropped, nothing can reach the tape any more and it is released.
pub(crate) struct GraphToken {
    pub(crate) generation: u64,
}

impl Drop for GraphToken {
    fn drop(&mut self) {
        let generation = self.generation;
        // `try_with`/`try_borrow_mut`: this can run during thread teardown or
        // while the tape itself is being cleared; then there is nothing to do.
        let _ = TAPE.try_with(|cell| {
            let released = match cell.try_borrow_mut() {
                Ok(mut tape) if tape.generation == generation => Some(tape.release()),
                _ => None,
            };
            if let Some(old) = released {
                recycle(old);
            }
        });
    }
}

/// How an op entry refers to one of its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InputRef {
    /// The input needs no gradient.
    Constant,
    /// The input is entry `j` (an op output or a leaf).
    Entry(usize),
    /// The input came from a tape that has been released.
    Released,
}

pub(crate) enum EntryKind {
    Leaf(Rc<LeafMeta>),
    Op {
        /// `None` only while backward is running this entry.
        backward: Option<Box<dyn Backward>>,
        inputs: SmallVec<[InputRef; 2]>,
    },
}

pub(crate) struct Entry {
    pub(crate) name: &'static str,
    pub(crate) kind: EntryKind,
    pub(crate) shape: Shape,
    pub(crate) dtype: DType,
}

pub(crate) struct Tape {
    pub(crate) entries: Vec<Entry>,
    pub(crate) generation: u64,
    token: Weak<GraphToken>,
}

thread_local! {
    pub(crate) static TAPE: RefCell<Tape> = const {
        RefCell::new(Tape { entries: Vec::new(), generation: 0, token: Weak::new() })
    };
}

impl Tape {
    /// Empties the tape and starts a new generation. Returns the old entries
    /// so the caller can drop them after releasing its borrow.
    pub(crate) fn release(&mut self) -> Vec<Entry> {
        self.generation += 1;
        self.token = Weak::new();
        std::mem::take(&mut self.entries)
    }

    fn current_token(&mut self) -> Rc<GraphToken> {
        if let Some(token) = self.token.upgrade() {
            return token;
        }
        let token = Rc::new(GraphToken {
            generation: self.generation,
        });
        self.token = Rc::downgrade(&token);
        token
    }

    /// The tape index of `t`, registering it if it is a leaf not yet on
    /// this tape.
    fn input_ref(&mut self, t: &Tensor) -> InputRef {
        match &t.meta {
            GradMeta::None => InputRef::Constant,
            GradMeta::Node(node) if node.token.generation == self.generation => {
                InputRef::Entry(node.index)
            }
            GradMeta::Node(_) => InputRef::Released,
            GradMeta::Leaf(leaf) => {
                if let Some((generation, index)) = leaf.slot.get() {
                    if generation == self.generation {
                        return InputRef::Entry(index);
                    }
                }
                let index = self.entries.len();
                self.entries.push(Entry {
                    name: "Leaf",
                    kind: EntryKind::Leaf(leaf.clone()),
                    shape: t.shape().clone(),
                    dtype: t.dtype(),
                });
                leaf.slot.set(Some((self.generation, index)));
                if trace::is_active() {
                    trace::on_entry(self.generation, index, "Leaf", &[], t);
                }
                InputRef::Entry(index)
            }
        }
    }

    /// The tape index of a leaf in the current generation, if registered.
    pub(crate) fn leaf_index(&self, leaf: &LeafMeta) -> Option<usize> {
        match leaf.slot.get() {
            Some((generation, index)) if generation == self.generation => Some(index),
            _ => None,
        }
    }
}

/// The most entries whose buffer a released tape keeps for the next
/// generation (about 1.5 MB): a training step then records into a buffer of
/// the right size instead of regrowing it by doubling, which moved every
/// entry several times per step (W3: see docs/benchmarks.md).
const RECYCLED_CAPACITY: usize = 16 * 1024;

/// Drops the entries of a released tape (outside any borrow of it: dropping
/// them can drop tensors), then gives the emptied buffer back to the tape.
pub(crate) fn recycle(mut old: Vec<Entry>) {
    old.clear();
    if old.capacity() > RECYCLED_CAPACITY {
        return;
    }
    let _ = TAPE.try_with(|cell| {
        if let Ok(mut tape) = cell.try_borrow_mut() {
            if tape.entries.is_empty() && tape.entries.capacity() < old.capacity() {
                tape.entries = old;
            }
        }
    });
}

/// Records an op if grad mode is on and any input requires grad; otherwise
/// returns `output` unchanged, without building the backward state.
/// Fails only in anomaly mode, when the output is not finite.
///
/// `make_backward` receives the output so it can save it.
#[inline]
pub(crate) fn record<B: Backward + 'static>(
    output: Tensor,
    inputs: &[&Tensor],
    make_backward: impl FnOnce(&Tensor) -> B,
) -> Result<Tensor> {
    if !is_grad_enabled() || !inputs.iter().any(|t| t.requires_grad()) {
        return Ok(output);
    }
    let backward = make_backward(&output);
    let name = backward.name();
    let output = record_boxed(output, inputs, Box::new(backward));
    if let GradMeta::Node(node) = &output.meta {
        anomaly::check_output(name, node.index, &output)?;
    }
    Ok(output)
}

fn record_boxed(mut output: Tensor, inputs: &[&Tensor], backward: Box<dyn Backward>) -> Tensor {
    let node = TAPE.with(|cell| {
        let mut tape = cell.borrow_mut();
        let refs: SmallVec<[InputRef; 2]> = inputs.iter().map(|t| tape.input_ref(t)).collect();
        let index = tape.entries.len();
        if trace::is_active() {
            trace::on_entry(tape.generation, index, backward.name(), &refs, &output);
        }
        tape.entries.push(Entry {
            name: backward.name(),
            kind: EntryKind::Op {
                backward: Some(backward),
                inputs: refs,
            },
            shape: output.shape().clone(),
            dtype: output.dtype(),
        });
        NodeRef {
            token: tape.current_token(),
            index,
        }
    });
    output.meta = GradMeta::Node(node);
    output
}

/// The op name of a live tape entry.
pub(crate) fn entry_name(node: &NodeRef) -> Option<&'static str> {
    TAPE.with(|cell| {
        let tape = cell.borrow();
        if node.token.generation != tape.generation {
            return None;
        }
        tape.entries.get(node.index).map(|e| e.name)
    })
}

/// Number of entries on this thread's tape (ops plus registered leaves).
///
/// After a `backward()` that does not retain the graph this is 0: a training
/// loop can assert it to show that steps do not accumulate memory.
///
/// ```
/// use tapegrad::{tape_len, Tensor};
/// let w = Tensor::ones(&[3]).requires_grad_(true);
/// let loss = w.mul_scalar(2.0).sum();
/// assert_eq!(tape_len(), 3); // leaf, mul, sum
/// loss.backward();
/// assert_eq!(tape_len(), 0);
/// ```
pub fn tape_len() -> usize {
    TAPE.with(|cell| cell.borrow().entries.len())
}

/// Empties this thread's tape now. Tensors recorded on it become released:
/// they keep their values but gradients no longer flow through them.
pub fn clear_tape() {
    let old = TAPE.with(|cell| cell.borrow_mut().release());
    recycle(old);
}
