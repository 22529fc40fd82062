//! The [`Tensor`] type: shared storage, a strided layout, and autograd metadata.

mod access;
pub(crate) mod cache;
pub(crate) mod create;
mod display;
mod from;
pub(crate) mod layout;
#[cfg(feature = "ndarray")]
mod ndarray;
pub(crate) mod storage;

use std::rc::Rc;

pub use create::TensorData;

use crate::autograd::tape::{GradMeta, LeafMeta};
use crate::dtype::DType;
use crate::error::{or_panic, Error, Result};
use crate::shape::Shape;
use layout::Layout;
use storage::{storage_from_vec, Storage};

/// An n-dimensional array of `f32` or `f64` that can record the operations
/// applied to it, so that gradients can be computed by [`Tensor::backward`].
///
/// Cloning is cheap: clones share the same buffer. Views such as
/// [`transpose`](Tensor::transpose), [`narrow`](Tensor::narrow) or [`expand`](Tensor::expand) share it too.
/// Tensors are immutable values for ops; only optimizers (and
/// [`copy_`](Tensor::copy_)) update a buffer in place.
///
/// # Threads
///
/// A tensor is `!Send` and `!Sync`: it shares its buffer through `Rc`, and
/// its place in the graph is an index into the tape of the thread that made
/// it (see `docs/architecture.md`, "Threads"). Every thread has its own
/// tape, grad mode and anomaly mode, so threads can build and train separate
/// models concurrently without locks, each getting exactly the result it
/// would get alone (`tests/threads.rs`). Moving a tensor to another thread,
/// or sharing a reference to one, is a compile error:
///
/// ```compile_fail
/// let t = tapegrad::Tensor::zeros([2]);
/// std::thread::spawn(move || t.numel()); // Tensor is not Send
/// ```
///
/// ```compile_fail
/// let t = tapegrad::Tensor::zeros([2]);
/// std::thread::scope(|s| {
///     s.spawn(|| t.numel()); // &Tensor is not Send: Tensor is not Sync
/// });
/// ```
///
/// Values cross threads as plain data, which is `Send`: `to_vec` and
/// `dims` on one side, [`from_vec`](Tensor::from_vec) on the other.
/// [`Shape`](crate::Shape), [`DType`](crate::DType) and
/// [`Error`](crate::Error) are `Send + Sync`.
///
/// ```
/// use tapegrad::Tensor;
/// let w = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]).requires_grad_(true);
/// let x = Tensor::new([1.0f32, -1.0]);
/// let loss = (&w * &x).sum_dim(1, false).square().sum();
/// loss.backward();
/// // d/dw Σᵢ (Σⱼ wᵢⱼ xⱼ)² = 2 (w x) xᵀ
/// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![-2.0, 2.0, -2.0, 2.0]);
/// ```
#[derive(Clone)]
pub struct Tensor {
    pub(crate) storage: Storage,
    pub(crate) layout: Layout,
    pub(crate) meta: GradMeta,
}

impl Tensor {
    /// Wraps a typed vector; the length must match the shape.
    pub(crate) fn from_parts<T: crate::dtype::Scalar>(data: Vec<T>, shape: Shape) -> Tensor {
        debug_assert_eq!(data.len(), shape.numel());
        Tensor {
            storage: storage_from_vec(data),
            layout: Layout::contiguous(shape),
            meta: GradMeta::None,
        }
    }

    /// A view of the same storage with a new layout and the given metadata.
    pub(crate) fn view_with(&self, layout: Layout) -> Tensor {
        Tensor {
            storage: self.storage.clone(),
            layout,
            meta: GradMeta::None,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.layout.shape
    }

    /// The shape as a slice of sizes.
    pub fn dims(&self) -> &[usize] {
        self.layout.shape.dims()
    }

    /// Number of dims (0 for a scalar).
    pub fn ndim(&self) -> usize {
        self.layout.shape.rank()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.layout.numel()
    }

    /// Size of one dim; negative dims count from the end.
    pub fn try_size(&self, dim: isize) -> Result<usize> {
        let d = self.shape().dim("size", dim)?;
        Ok(self.dims().get(d).copied().unwrap_or(1))
    }

    /// Size of one dim; panics if `dim` is out of range.
    #[track_caller]
    pub fn size(&self, dim: isize) -> usize {
        or_panic(self.try_size(dim))
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.storage.borrow().dtype()
    }

    /// Strides of each dim, in elements.
    pub fn strides(&self) -> &[usize] {
        &self.layout.strides
    }

    /// True when the elements are laid out row-major without gaps.
    pub fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }

    /// True if gradients flow to this tensor: it is a leaf created with
    /// [`requires_grad_`](Tensor::requires_grad_), or the result of a recorded
    /// op on such tensors.
    pub fn requires_grad(&self) -> bool {
        !matches!(self.meta, GradMeta::None)
    }

    /// True for tensors not produced by a recorded op (constants and
    /// parameters), as `torch.Tensor.is_leaf`.
    pub fn is_leaf(&self) -> bool {
        !matches!(self.meta, GradMeta::Node(_))
    }

    /// Marks a leaf tensor as a parameter whose gradient is accumulated into
    /// [`grad`](Tensor::grad) by [`backward`](Tensor::backward)
    /// (`torch.Tensor.requires_grad_`).
    ///
    /// Fails on a tensor produced by a recorded op: detach it first.
    pub fn try_requires_grad_(self, requires_grad: bool) -> Result<Tensor> {
        if requires_grad && !self.dtype().is_floating_point() {
            return Err(Error::autograd(
                "requires_grad_",
                format!(
                    "only floating-point tensors can require grad, and this one is {}; \
                     convert with to_dtype(DType::F32) first",
                    self.dtype()
                ),
            ));
        }
        let meta = match (&self.meta, requires_grad) {
            (GradMeta::Node(_), _) => {
                return Err(Error::autograd(
                    "requires_grad_",
                    "can only change requires_grad of a leaf tensor; call .detach() first",
                ))
            }
            (GradMeta::Leaf(_), true) => self.meta.clone(),
            (_, true) => GradMeta::Leaf(Rc::new(LeafMeta::default())),
            (_, false) => GradMeta::None,
        };
        Ok(Tensor { meta, ..self })
    }

    /// Panicking form of [`try_requires_grad_`](Tensor::try_requires_grad_).
    #[track_caller]
    pub fn requires_grad_(self, requires_grad: bool) -> Tensor {
        or_panic(self.try_requires_grad_(requires_grad))
    }

    /// The same values, cut off from the graph: no gradient flows through the
    /// result (`torch.Tensor.detach`). Shares storage.
    pub fn detach(&self) -> Tensor {
        Tensor {
            storage: self.storage.clone(),
            layout: self.layout.clone(),
            meta: GradMeta::None,
        }
    }

    /// The gradient accumulated by [`backward`](Tensor::backward) into this
    /// leaf, if any (`torch.Tensor.grad`).
    pub fn grad(&self) -> Option<Tensor> {
        match &self.meta {
            GradMeta::Leaf(leaf) => leaf.grad.borrow().clone(),
            _ => None,
        }
    }

    /// Replaces (or clears, with `None`) the accumulated gradient of a leaf
    /// (assigning `torch.Tensor.grad`). A gradient must have the tensor's
    /// shape and dtype, as in PyTorch; anything else is an error and
    /// leaves `.grad` as it was. On a tensor that is not a leaf requiring
    /// grad it is an error too (there is no `.grad` to set), except that
    /// clearing with `None` is always allowed.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w = Tensor::zeros(&[2]).requires_grad_(true);
    /// w.set_grad(Some(Tensor::ones(&[2])));
    /// assert!(w.try_set_grad(Some(Tensor::ones(&[3]))).is_err());
    /// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![1.0, 1.0]);
    /// ```
    pub fn try_set_grad(&self, grad: Option<Tensor>) -> Result<()> {
        let GradMeta::Leaf(leaf) = &self.meta else {
            return match grad {
                None => Ok(()),
                Some(_) => Err(crate::error::Error::autograd(
                    "set_grad",
                    "only a leaf that requires grad has a .grad to set (call \
                     requires_grad_(true) on it first)",
                )),
            };
        };
        if let Some(g) = &grad {
            if g.shape() != self.shape() {
                return Err(crate::error::Error::mismatch(
                    "set_grad",
                    "a gradient must have its tensor's shape",
                    g.shape(),
                    self.shape(),
                ));
            }
            if g.dtype() != self.dtype() {
                return Err(crate::error::Error::DTypeMismatch {
                    op: "set_grad",
                    lhs: g.dtype(),
                    rhs: self.dtype(),
                });
            }
        }
        *leaf.grad.borrow_mut() = grad;
        Ok(())
    }

    /// Panicking form of [`try_set_grad`](Tensor::try_set_grad).
    #[track_caller]
    pub fn set_grad(&self, grad: Option<Tensor>) {
        or_panic(self.try_set_grad(grad))
    }

    /// How many in-place writes the storage behind this tensor has seen
    /// (PyTorch's `Tensor._version`): `copy_`, the `nn::init` fills,
    /// optimizer steps and checkpoint loads each add one. Backward compares
    /// it with the version each saved tensor had when its op ran.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let w = Tensor::zeros(&[2]);
    /// let v = w.version();
    /// w.copy_(&Tensor::ones(&[2]));
    /// assert_eq!(w.version(), v + 1);
    /// ```
    pub fn version(&self) -> u64 {
        self.storage.version()
    }

    /// Clears the accumulated gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        self.set_grad(None);
    }

    /// True if `self` and `other` are the same parameter (share one leaf
    /// identity), or the same view of the same storage.
    pub fn same_as(&self, other: &Tensor) -> bool {
        match (&self.meta, &other.meta) {
            (GradMeta::Leaf(a), GradMeta::Leaf(b)) => Rc::ptr_eq(a, b),
            _ => Rc::ptr_eq(&self.storage, &other.storage) && self.layout == other.layout,
        }
    }
}
