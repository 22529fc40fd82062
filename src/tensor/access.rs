//! Reading values out of a tensor, and the typed buffer access kernels use.

use super::layout::Layout;
use super::Tensor;
use crate::dtype::{dispatch_scalar, Scalar};
use crate::error::{or_panic, Error, Result};
use crate::kernels::strided::for_each_offsets;

impl Tensor {
    /// The elements in row-major order, converted to `T` if the dtype differs
    /// (`torch.Tensor.tolist`, flattened).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let t = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]).transpose(0, 1);
    /// assert_eq!(t.to_vec::<f64>(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    pub fn to_vec<T: Scalar>(&self) -> Vec<T> {
        dispatch_scalar!(self.dtype(), S => {
            self.with_contiguous::<S, _>(|data| data.iter().map(|&v| v.cast::<T>()).collect())
        })
    }

    /// The value of a one-element tensor (`torch.Tensor.item`).
    pub fn try_item<T: Scalar>(&self) -> Result<T> {
        if self.numel() != 1 {
            return Err(Error::bad_shape(
                "item",
                "a tensor with exactly one element is required",
                self.shape(),
            ));
        }
        Ok(self.to_vec::<T>()[0])
    }

    /// Panicking form of [`try_item`](Tensor::try_item).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// assert_eq!(Tensor::new([2.0f32, 3.0]).sum().item::<f32>(), 5.0);
    /// ```
    #[track_caller]
    pub fn item<T: Scalar>(&self) -> T {
        or_panic(self.try_item())
    }

    /// Copies `src`'s values into this tensor's buffer, in place and without
    /// recording anything (`torch.Tensor.copy_` under `no_grad`). Shapes and
    /// dtypes must match exactly; `self` must be contiguous.
    ///
    /// This is how checkpoints are loaded into existing parameters.
    pub fn try_copy_(&self, src: &Tensor) -> Result<()> {
        if self.shape() != src.shape() {
            return Err(Error::mismatch(
                "copy_",
                "source and destination shapes must be equal",
                src.shape(),
                self.shape(),
            ));
        }
        if self.dtype() != src.dtype() {
            return Err(Error::DTypeMismatch {
                op: "copy_",
                lhs: src.dtype(),
                rhs: self.dtype(),
            });
        }
        if !self.is_contiguous() {
            return Err(Error::invalid(
                "copy_",
                "the destination must be contiguous",
            ));
        }
        dispatch_scalar!(self.dtype(), T => {
            let values = src.with_contiguous::<T, _>(|d| d.to_vec());
            self.update_data::<T>(|dst| dst.copy_from_slice(&values));
        });
        Ok(())
    }

    /// Panicking form of [`try_copy_`](Tensor::try_copy_).
    #[track_caller]
    pub fn copy_(&self, src: &Tensor) {
        or_panic(self.try_copy_(src))
    }

    /// Runs `f` on the elements in row-major order, borrowing the buffer when
    /// the layout is contiguous and gathering a copy otherwise.
    ///
    /// `T` must be this tensor's element type (callers dispatch on `dtype()`).
    #[inline]
    pub(crate) fn with_contiguous<T: Scalar, R>(&self, f: impl FnOnce(&[T]) -> R) -> R {
        let buffer = self.storage.borrow();
        let data = buffer
            .slice::<T>()
            .expect("tapegrad internal error: kernel dtype mismatch");
        if self.layout.is_contiguous() {
            f(&data[self.layout.contiguous_range()])
        } else {
            f(&gather(data, &self.layout))
        }
    }

    /// Runs `f` on the whole buffer and the layout that indexes it.
    #[inline]
    pub(crate) fn with_strided<T: Scalar, R>(&self, f: impl FnOnce(&[T], &Layout) -> R) -> R {
        let buffer = self.storage.borrow();
        let data = buffer
            .slice::<T>()
            .expect("tapegrad internal error: kernel dtype mismatch");
        f(data, &self.layout)
    }

    /// True when this tensor is the only handle on its buffer, covers all
    /// of it contiguously, and is not part of a graph: a kernel may then
    /// overwrite it in place instead of allocating its result, and nobody
    /// can observe the difference. Backward uses this for gradients it
    /// owns.
    pub(crate) fn is_exclusive(&self) -> bool {
        std::rc::Rc::strong_count(&self.storage) == 1
            && std::rc::Rc::weak_count(&self.storage) == 0
            && matches!(self.meta, crate::autograd::tape::GradMeta::None)
            && self.layout.offset == 0
            && self.layout.is_contiguous()
            && self.storage.borrow().len() == self.numel()
    }

    /// Mutates the elements in place (row-major). Only for contiguous tensors;
    /// used by optimizers and [`copy_`](Tensor::copy_), never by ops.
    pub(crate) fn update_data<T: Scalar>(&self, f: impl FnOnce(&mut [T])) {
        assert!(
            self.is_contiguous(),
            "tapegrad internal error: in-place update of a view"
        );
        let range = self.layout.contiguous_range();
        let mut buffer = self.storage.borrow_mut();
        let data = buffer
            .slice_mut::<T>()
            .expect("tapegrad internal error: kernel dtype mismatch");
        f(&mut data[range]);
    }
}

/// Copies the elements a layout addresses into a new row-major vector.
pub(crate) fn gather<T: Scalar>(data: &[T], layout: &Layout) -> Vec<T> {
    let mut out = super::cache::with_capacity(layout.numel());
    for_each_offsets(
        layout.shape.dims(),
        [&layout.strides],
        [layout.offset],
        |[o]| out.push(data[o]),
    );
    out
}
