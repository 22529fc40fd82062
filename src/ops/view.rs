//! Shape ops that only change the layout: reshape, transpose, permute,
//! squeeze, unsqueeze, flatten. They share storage with their input (reshape
//! copies only when the input is not contiguous).

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::error::{Error, Result};
use crate::shape::{normalize_dim, normalize_dims, Dims, Shape};
use crate::tensor::layout::Layout;
use crate::tensor::Tensor;

/// A target shape for [`reshape`](Tensor::reshape): sizes, where one entry
/// may be `-1` (inferred) when given as `i32`s.
pub trait ShapeArg {
    /// The concrete shape for a tensor of `numel` elements.
    fn resolve(&self, op: &'static str, from: &Shape) -> Result<Shape>;
}

fn resolve_signed(op: &'static str, dims: &[i64], from: &Shape) -> Result<Shape> {
    let mut inferred = None;
    let mut known: usize = 1;
    for (i, &d) in dims.iter().enumerate() {
        match d {
            -1 if inferred.is_none() => inferred = Some(i),
            -1 => return Err(Error::invalid(op, "only one dim can be inferred (-1)")),
            d if d < 0 => return Err(Error::invalid(op, format!("invalid size {d} in {dims:?}"))),
            d => {
                known = known
                    .checked_mul(d as usize)
                    .ok_or_else(|| Error::invalid(op, format!("the sizes {dims:?} overflow")))?
            }
        }
    }
    let numel = from.numel();
    let mut out: Dims = dims.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(i) = inferred {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(Error::bad_shape(
                op,
                format!("cannot reshape into {dims:?}"),
                from,
            ));
        }
        out[i] = numel / known;
    }
    let shape = Shape(out);
    if shape.numel() != numel {
        return Err(Error::mismatch(
            op,
            "the element counts differ",
            from,
            &shape,
        ));
    }
    Ok(shape)
}

macro_rules! shape_arg_unsigned {
    ($($t:ty),*) => {$(
        impl ShapeArg for $t {
            fn resolve(&self, op: &'static str, from: &Shape) -> Result<Shape> {
                let dims: Vec<i64> = self.iter().map(|&d| i64::try_from(d).unwrap_or(i64::MAX)).collect();
                resolve_signed(op, &dims, from)
            }
        }
    )*};
}
shape_arg_unsigned!(&[usize], Vec<usize>, &Vec<usize>);

impl<const N: usize> ShapeArg for [usize; N] {
    fn resolve(&self, op: &'static str, from: &Shape) -> Result<Shape> {
        self.as_slice().resolve(op, from)
    }
}
impl<const N: usize> ShapeArg for &[usize; N] {
    fn resolve(&self, op: &'static str, from: &Shape) -> Result<Shape> {
        self.as_slice().resolve(op, from)
    }
}
impl ShapeArg for &Shape {
    fn resolve(&self, op: &'static str, from: &Shape) -> Result<Shape> {
        self.dims().resolve(op, from)
    }
}
impl ShapeArg for &[i32] {
    fn resolve(&self, op: &'static str, from: &Shape) -> Result<Shape> {
        resolve_signed(
            op,
            &self.iter().map(|&d| d as i64).collect::<Vec<_>>(),
            from,
        )
    }
}
impl<const N: usize> ShapeArg for [i32; N] {
    fn resolve(&self, op: &'static str, from: &Shape) -> Result<Shape> {
        self.as_slice().resolve(op, from)
    }
}
impl<const N: usize> ShapeArg for &[i32; N] {
    fn resolve(&self, op: &'static str, from: &Shape) -> Result<Shape> {
        self.as_slice().resolve(op, from)
    }
}

/// Records a layout-only op whose backward reshapes the gradient back.
fn reshaped_view(input: &Tensor, output: Tensor, name: &'static str) -> Result<Tensor> {
    record(output, &[input], |_| ReshapeBackward {
        name,
        input_shape: input.shape().clone(),
    })
}

impl Tensor {
    /// The same elements in a new shape (`torch.reshape`); `-1` infers one
    /// size. Shares storage when the input is contiguous, copies otherwise.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::arange(0.0, 6.0, 1.0).unwrap();
    /// assert_eq!(x.reshape([2, -1]).dims(), &[2, 3]);
    /// assert_eq!(x.reshape(&[3usize, 2]).dims(), &[3, 2]);
    /// ```
    pub fn try_reshape(&self, shape: impl ShapeArg) -> Result<Tensor> {
        let shape = shape.resolve("reshape", self.shape())?;
        // Sizes of 0 can hide huge other sizes; keep every shape allocatable.
        crate::tensor::create::check_alloc("reshape", shape.dims(), self.dtype())?;
        if &shape == self.shape() {
            return Ok(self.clone());
        }
        let base = if self.is_contiguous() {
            self.detach()
        } else {
            self.contiguous().detach()
        };
        let layout = Layout {
            strides: shape.contiguous_strides(),
            shape,
            offset: base.layout.offset,
        };
        reshaped_view(self, base.view_with(layout), "Reshape")
    }

    /// Panicking form of [`try_reshape`](Tensor::try_reshape).
    #[track_caller]
    pub fn reshape(&self, shape: impl ShapeArg) -> Tensor {
        crate::error::or_panic(self.try_reshape(shape))
    }

    /// Like [`transpose`](Tensor::transpose), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_transpose(&self, dim0: isize, dim1: isize) -> Result<Tensor> {
        let rank = self.ndim();
        let a = normalize_dim("transpose", dim0, rank)?;
        let b = normalize_dim("transpose", dim1, rank)?;
        if rank < 2 || a == b {
            return reshaped_view(self, self.detach(), "Transpose");
        }
        let mut layout = self.layout.clone();
        layout.shape.0.swap(a, b);
        layout.strides.swap(a, b);
        record(self.view_with(layout), &[self], |_| TransposeBackward {
            a,
            b,
        })
    }
    panicking!(
        /// Swaps two dims (`torch.transpose`); a view, no copy.
        transpose => try_transpose(dim0: isize, dim1: isize) -> Tensor
    );

    /// Like [`t`](Tensor::t), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_t(&self) -> Result<Tensor> {
        if self.ndim() > 2 {
            return Err(Error::bad_shape(
                "t",
                "expects a tensor with at most 2 dims",
                self.shape(),
            ));
        }
        self.try_transpose(0, -1)
    }
    panicking!(
        /// The transpose of a matrix (`torch.Tensor.t`); 0-d and 1-d tensors are
        /// returned as they are.
        t => try_t() -> Tensor
    );

    /// Like [`permute`](Tensor::permute), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_permute(&self, dims: &[isize]) -> Result<Tensor> {
        let rank = self.ndim();
        if dims.len() != rank {
            return Err(Error::bad_shape(
                "permute",
                format!("{} dims given for a tensor of rank {rank}", dims.len()),
                self.shape(),
            ));
        }
        normalize_dims("permute", dims, rank)?; // rejects repeats
        let order: Dims = dims
            .iter()
            .map(|&d| normalize_dim("permute", d, rank))
            .collect::<Result<_>>()?;
        let layout = Layout {
            shape: Shape(order.iter().map(|&d| self.dims()[d]).collect()),
            strides: order.iter().map(|&d| self.layout.strides[d]).collect(),
            offset: self.layout.offset,
        };
        let mut inverse = Dims::from_elem(0, rank);
        for (i, &d) in order.iter().enumerate() {
            inverse[d] = i;
        }
        record(self.view_with(layout), &[self], |_| PermuteBackward {
            inverse,
        })
    }
    panicking!(
        /// Reorders the dims (`torch.permute`); `dims` must be a permutation of
        /// `0..rank` (negative dims allowed). A view, no copy.
        permute => try_permute(dims: &[isize]) -> Tensor
    );

    /// Like [`unsqueeze`](Tensor::unsqueeze), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let rank = self.ndim();
        let d = normalize_dim("unsqueeze", dim, rank + 1)?;
        let mut layout = self.layout.clone();
        let stride = if d < rank {
            layout.strides[d] * layout.shape.0[d]
        } else {
            1
        };
        layout.shape.0.insert(d, 1);
        layout.strides.insert(d, stride);
        reshaped_view(self, self.view_with(layout), "Unsqueeze")
    }
    panicking!(
        /// Inserts a dim of size 1 at `dim` (`torch.unsqueeze`); `dim` ranges
        /// over `-(rank+1)..=rank`.
        unsqueeze => try_unsqueeze(dim: isize) -> Tensor
    );

    /// Like [`squeeze`](Tensor::squeeze), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_squeeze(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim("squeeze", dim, self.ndim())?;
        if self.ndim() == 0 || self.dims()[d] != 1 {
            return Ok(self.clone());
        }
        let mut layout = self.layout.clone();
        layout.shape.0.remove(d);
        layout.strides.remove(d);
        reshaped_view(self, self.view_with(layout), "Squeeze")
    }
    panicking!(
        /// Removes `dim` if its size is 1, else returns the tensor unchanged
        /// (`torch.squeeze(x, dim)`).
        squeeze => try_squeeze(dim: isize) -> Tensor
    );

    /// Like [`squeeze_all`](Tensor::squeeze_all), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_squeeze_all(&self) -> Result<Tensor> {
        let mut layout = self.layout.clone();
        let keep: Vec<bool> = self.dims().iter().map(|&s| s != 1).collect();
        if keep.iter().all(|&k| k) {
            return Ok(self.clone());
        }
        layout.shape = Shape(
            self.dims()
                .iter()
                .zip(&keep)
                .filter(|(_, &k)| k)
                .map(|(&s, _)| s)
                .collect(),
        );
        layout.strides = self
            .layout
            .strides
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(&s, _)| s)
            .collect();
        reshaped_view(self, self.view_with(layout), "Squeeze")
    }
    panicking!(
        /// Removes every dim of size 1 (`torch.squeeze(x)`).
        ///
        /// Fails only in [`detect_anomaly`](crate::detect_anomaly) mode, when the
        /// values hold a NaN or an infinity.
        squeeze_all => try_squeeze_all() -> Tensor
    );

    /// Like [`flatten`](Tensor::flatten), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_flatten(&self, start_dim: isize, end_dim: isize) -> Result<Tensor> {
        let rank = self.ndim();
        if rank == 0 {
            return self.try_reshape([1usize]);
        }
        let s = normalize_dim("flatten", start_dim, rank)?;
        let e = normalize_dim("flatten", end_dim, rank)?;
        if s > e {
            return Err(Error::invalid(
                "flatten",
                format!("start_dim {start_dim} comes after end_dim {end_dim}"),
            ));
        }
        let mut dims: Vec<usize> = self.dims()[..s].to_vec();
        dims.push(self.dims()[s..=e].iter().product());
        dims.extend_from_slice(&self.dims()[e + 1..]);
        self.try_reshape(dims)
    }
    panicking!(
        /// Merges dims `start_dim..=end_dim` into one (`torch.flatten`).
        flatten => try_flatten(start_dim: isize, end_dim: isize) -> Tensor
    );
}

struct ReshapeBackward {
    name: &'static str,
    input_shape: Shape,
}

impl Backward for ReshapeBackward {
    fn name(&self) -> &'static str {
        self.name
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![Some(g.try_reshape(&self.input_shape)?)])
    }
}

struct TransposeBackward {
    a: usize,
    b: usize,
}

impl Backward for TransposeBackward {
    fn name(&self) -> &'static str {
        "Transpose"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![Some(
            g.try_transpose(self.a as isize, self.b as isize)?
        )])
    }
}

struct PermuteBackward {
    inverse: Dims,
}

impl Backward for PermuteBackward {
    fn name(&self) -> &'static str {
        "Permute"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let dims: Vec<isize> = self.inverse.iter().map(|&d| d as isize).collect();
        Ok(smallvec::smallvec![Some(g.try_permute(&dims)?)])
    }
}

impl Tensor {
    /// Like [`contiguous`](Tensor::contiguous), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        let out = crate::autograd::no_grad(|| self.contiguous_copy());
        record(out, &[self], |_| ContiguousBackward)
    }
    panicking!(
        /// A tensor with the same values laid out row-major without gaps
        /// (`torch.Tensor.contiguous`): `self` itself (shared, no copy) when it
        /// already is; otherwise a copy with a buffer of its own, recorded as an
        /// op so gradients flow back to `self`. Like PyTorch's, such a copy of a
        /// parameter is not the parameter: it is not a leaf, and an optimizer
        /// refuses it (pass the parameter itself).
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let w = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]).requires_grad_(true);
        /// let c = w.t().contiguous();
        /// assert!(c.is_contiguous() && !c.is_leaf());
        /// c.sum().backward();
        /// assert_eq!(w.grad().unwrap().to_vec::<f32>(), vec![1.0; 4]);
        /// ```
        contiguous => try_contiguous() -> Tensor
    );
}

/// A copy passes its gradient through unchanged.
struct ContiguousBackward;

impl Backward for ContiguousBackward {
    fn name(&self) -> &'static str {
        "Contiguous"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![Some(g.clone())])
    }
}
