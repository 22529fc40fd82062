//! The flat buffer behind a tensor.
//!
//! Tensors share a buffer through `Rc<RefCell<Buffer>>`: cloning a tensor
//! or taking a view (transpose, narrow, expand...) copies no data. The
//! `RefCell` exists for the few in-place updates (optimizers, `copy_`); ops
//! never mutate their inputs.

use std::cell::RefCell;
use std::rc::Rc;

use crate::dtype::DType;

/// Typed storage for every supported dtype.
///
/// `pub` only so that the sealed [`Element`](crate::Element) trait can name
/// it; it is not reachable from outside the crate.
#[derive(Clone, Debug)]
pub enum Buffer {
    /// `float32` data.
    F32(Vec<f32>),
    /// `float64` data.
    F64(Vec<f64>),
}

impl Buffer {
    /// The dtype of the elements.
    pub(crate) fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::F64(_) => DType::F64,
        }
    }

    /// Number of elements held.
    pub(crate) fn len(&self) -> usize {
        match self {
            Buffer::F32(v) => v.len(),
            Buffer::F64(v) => v.len(),
        }
    }
}

impl Drop for Buffer {
    /// Hands large buffers to the thread's cache (see [`super::cache`]).
    fn drop(&mut self) {
        // Most buffers are small: they are freed as usual, without moving
        // the vector out first.
        match self {
            Buffer::F32(v) if super::cache::worth_keeping::<f32>(v.capacity()) => {
                super::cache::recycle(std::mem::take(v))
            }
            Buffer::F64(v) if super::cache::worth_keeping::<f64>(v.capacity()) => {
                super::cache::recycle(std::mem::take(v))
            }
            _ => {}
        }
    }
}

/// Shared, interior-mutable storage.
pub(crate) type Storage = Rc<RefCell<Buffer>>;

/// Wraps a typed vector as shared storage.
pub(crate) fn storage_from_vec<T: crate::Element>(data: Vec<T>) -> Storage {
    Rc::new(RefCell::new(T::wrap(data)))
}
