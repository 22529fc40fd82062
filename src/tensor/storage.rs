//! The flat buffer behind a tensor.
//!
//! Tensors share a buffer through `Rc<StorageCell>`: cloning a tensor or
//! taking a view (transpose, narrow, expand...) copies no data. The
//! `RefCell` inside exists for the few in-place updates (optimizers,
//! `copy_`, the `nn::init` fills, checkpoint loads); ops never mutate their
//! inputs.
//!
//! Every mutable borrow bumps the storage's version counter (PyTorch's
//! `_version`). A tensor saved for backward remembers the version it saw,
//! so a gradient computed from values that changed after the forward is
//! reported instead of silently used (see `autograd::function::Saved`).

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::marker::PhantomData;
use std::rc::Rc;

use crate::dtype::private::{Concrete, Family};
use crate::dtype::{DType, Scalar};

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
    /// `int64` data.
    I64(Vec<i64>),
}

impl Buffer {
    /// The dtype of the elements.
    pub(crate) fn dtype(&self) -> DType {
        match self {
            Buffer::F32(_) => DType::F32,
            Buffer::F64(_) => DType::F64,
            Buffer::I64(_) => DType::I64,
        }
    }

    /// Number of elements held.
    pub(crate) fn len(&self) -> usize {
        match self {
            Buffer::F32(v) => v.len(),
            Buffer::F64(v) => v.len(),
            Buffer::I64(v) => v.len(),
        }
    }

    /// The data if the buffer holds `T`.
    #[inline]
    pub(crate) fn slice<T: Scalar>(&self) -> Option<&[T]> {
        match self {
            Buffer::F32(v) => T::if_f32::<Slice<'_>>(v),
            Buffer::F64(v) => T::if_f64::<Slice<'_>>(v),
            Buffer::I64(v) => T::if_i64::<Slice<'_>>(v),
        }
    }

    /// Mutable access to the data if the buffer holds `T`.
    #[inline]
    pub(crate) fn slice_mut<T: Scalar>(&mut self) -> Option<&mut [T]> {
        match self {
            Buffer::F32(v) => T::if_f32::<SliceMut<'_>>(v),
            Buffer::F64(v) => T::if_f64::<SliceMut<'_>>(v),
            Buffer::I64(v) => T::if_i64::<SliceMut<'_>>(v),
        }
    }

    /// Wraps a vector of `T` as a buffer.
    #[inline]
    pub(crate) fn wrap<T: Scalar>(data: Vec<T>) -> Buffer {
        match T::concrete::<Owned>(data) {
            Concrete::F32(v) => Buffer::F32(v),
            Concrete::F64(v) => Buffer::F64(v),
            Concrete::I64(v) => Buffer::I64(v),
        }
    }
}

// Containers for the element-type witnesses of `Scalar` (see
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
            Buffer::I64(v) if super::cache::worth_keeping::<i64>(v.capacity()) => {
                super::cache::recycle(std::mem::take(v))
            }
            _ => {}
        }
    }
}

/// A buffer and the count of in-place writes made to it.
pub(crate) struct StorageCell {
    buffer: RefCell<Buffer>,
    version: Cell<u64>,
}

impl StorageCell {
    /// A fresh storage at version 0.
    pub(crate) fn new(buffer: Buffer) -> StorageCell {
        StorageCell {
            buffer: RefCell::new(buffer),
            version: Cell::new(0),
        }
    }

    /// Read access.
    #[inline]
    pub(crate) fn borrow(&self) -> Ref<'_, Buffer> {
        self.buffer.borrow()
    }

    /// Write access, for an in-place update: counts as a new version, so
    /// that tensors saved before it are known to be stale.
    #[inline]
    pub(crate) fn borrow_mut(&self) -> RefMut<'_, Buffer> {
        self.version.set(self.version.get() + 1);
        self.buffer.borrow_mut()
    }

    /// How many in-place writes this storage has seen.
    #[inline]
    pub(crate) fn version(&self) -> u64 {
        self.version.get()
    }
}

/// Shared storage with interior mutability and a version counter.
pub(crate) type Storage = Rc<StorageCell>;

/// Wraps a typed vector as shared storage.
pub(crate) fn storage_from_vec<T: Scalar>(data: Vec<T>) -> Storage {
    Rc::new(StorageCell::new(Buffer::wrap(data)))
}
