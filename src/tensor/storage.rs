//! The flat buffer behind a tensor.
//!
//! Tensors share a buffer through `Rc<RefCell<Buffer>>`: cloning a tensor
//! or taking a view (transpose, narrow, expand...) copies no data. The
//! `RefCell` exists for the few in-place updates (optimizers, `copy_`); ops
//! never mutate their inputs.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;

use crate::dtype::private::Family;
use crate::dtype::{DType, Element};

/// Typed storage for every supported dtype.
///
/// Kernels reach the data as a typed slice through [`Buffer::slice`]
/// without a per-element match.
#[derive(Clone, Debug)]
pub(crate) enum Buffer {
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

    /// The data if the buffer holds `T`.
    #[inline]
    pub(crate) fn slice<T: Element>(&self) -> Option<&[T]> {
        match self {
            Buffer::F32(v) => T::if_f32::<Slice<'_>>(v),
            Buffer::F64(v) => T::if_f64::<Slice<'_>>(v),
        }
    }

    /// Mutable access to the data if the buffer holds `T`.
    #[inline]
    pub(crate) fn slice_mut<T: Element>(&mut self) -> Option<&mut [T]> {
        match self {
            Buffer::F32(v) => T::if_f32::<SliceMut<'_>>(v),
            Buffer::F64(v) => T::if_f64::<SliceMut<'_>>(v),
        }
    }

    /// Wraps a vector of `T` as a buffer.
    #[inline]
    pub(crate) fn wrap<T: Element>(data: Vec<T>) -> Buffer {
        match T::concrete::<Owned>(data) {
            Ok(v) => Buffer::F32(v),
            Err(v) => Buffer::F64(v),
        }
    }
}

// Containers for the element-type witnesses of `Element` (see
// `dtype::private::Sealed`): typed access without a per-type trait here.
struct Slice<'a>(PhantomData<&'a ()>);
impl<'a> Family for Slice<'a> {
    type Of<T: 'static> = &'a [T];
}
struct SliceMut<'a>(PhantomData<&'a ()>);
impl<'a> Family for SliceMut<'a> {
    type Of<T: 'static> = &'a mut [T];
}
struct Owned;
impl Family for Owned {
    type Of<T: 'static> = Vec<T>;
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
pub(crate) fn storage_from_vec<T: Element>(data: Vec<T>) -> Storage {
    Rc::new(RefCell::new(Buffer::wrap(data)))
}
