//! Indexing along one dim: `index_select` / `index_add`, `gather` /
//! `scatter_add`, and `one_hot`.
//!
//! Indices are int64 tensors (float tensors of integral values are accepted
//! too, checked). They are validated once, in the public `try_` entry
//! points, and kept as `usize`s by the backward rules. Each gathering op's
//! backward is the matching scatter into zeros, and vice versa, so second
//! order gradients work. Indices themselves get no gradient.

use std::rc::Rc;

use super::{panicking, same_dtype};
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, dispatch_scalar, require_float, DType, Scalar};
use crate::error::{Error, Result};
use crate::kernels::index::{copy_into, gather_dim, scatter_add_dim};
use crate::shape::{normalize_dim, Dims, Shape};
use crate::tensor::create::check_alloc;
use crate::tensor::layout::Layout;
use crate::tensor::Tensor;

/// Validated indices, flattened row-major, with the index tensor's shape.
#[derive(Clone)]
struct Indices {
    values: Rc<[usize]>,
    shape: Shape,
}

/// The row-major multi-index of flat position `k` in `shape`, as `[i, j]`.
fn position(shape: &Shape, mut k: usize) -> String {
    let mut coords = vec![0; shape.rank()];
    for (c, &s) in coords.iter_mut().zip(shape.dims()).rev() {
        *c = k % s;
        k /= s;
    }
    format!("{coords:?}")
}

/// Whether `v` is a finite integer (for index tensors and class ids given
/// as floats). Without a `trunc` call, which `f64::fract`
/// is on baseline x86-64, once per value: every finite `f64` of magnitude
/// at least 2⁵² is an integer, and below that the round trip through `i64`
/// is exact.
pub(crate) fn is_integral(v: f64) -> bool {
    v.is_finite() && (v.abs() >= 4_503_599_627_370_496.0 || v as i64 as f64 == v)
}

/// Reads an index tensor, checking that every value is a finite integer in
/// `0..size`. Errors name the op, the first bad value and where it is.
pub(crate) fn checked_indices(
    op: &'static str,
    index: &Tensor,
    dim: usize,
    size: usize,
) -> Result<Rc<[usize]>> {
    let range = || {
        if size == 0 {
            "the dim is empty".to_string()
        } else {
            format!("valid indices are 0..={}", size - 1)
        }
    };
    if index.dtype() == DType::I64 {
        let raw = index.to_vec::<i64>();
        let mut out = Vec::with_capacity(raw.len());
        for (k, &v) in raw.iter().enumerate() {
            match usize::try_from(v) {
                Ok(i) if i < size => out.push(i),
                _ => {
                    let at = position(index.shape(), k);
                    return Err(Error::index_out_of_range(
                        op,
                        v,
                        dim,
                        size,
                        format!(" at index position {at} ({})", range()),
                    ));
                }
            }
        }
        return Ok(out.into());
    }
    // Float indices (accepted for compatibility): integral values only.
    let raw = index.to_vec::<f64>();
    let mut out = Vec::with_capacity(raw.len());
    for (k, &v) in raw.iter().enumerate() {
        let at = || position(index.shape(), k);
        if !is_integral(v) {
            return Err(Error::invalid(
                op,
                format!(
                    "index {v} at index position {} is not a finite integer \
                     (indices are int64 tensors, or float tensors holding integral values)",
                    at()
                ),
            ));
        }
        if v < 0.0 || v >= size as f64 {
            return Err(Error::index_out_of_range(
                op,
                v,
                dim,
                size,
                format!(" at index position {} ({})", at(), range()),
            ));
        }
        out.push(v as usize);
    }
    Ok(out.into())
}

fn require_rank(op: &'static str, t: &Tensor) -> Result<()> {
    if t.ndim() == 0 {
        return Err(Error::bad_shape(
            op,
            "expects a tensor with at least 1 dim",
            t.shape(),
        ));
    }
    Ok(())
}

/// The layout of `layout`'s slice `at` along `dim`, keeping the dim as size 1.
fn slice_at(layout: &Layout, dim: usize, at: usize) -> Layout {
    let mut slice = layout.clone();
    slice.shape.0[dim] = 1;
    slice.offset += at * layout.strides[dim];
    slice
}

/// `t`'s shape with dim `dim` resized to `n`, if such a tensor can exist.
fn with_size(op: &'static str, t: &Tensor, dim: usize, n: usize) -> Result<Shape> {
    let mut dims = Dims::from_slice(t.dims());
    dims[dim] = n;
    check_alloc(op, &dims, t.dtype())?;
    Ok(Shape(dims))
}

/// Checks the shape rule shared by gather and scatter_add: `index` has the
/// tensor's rank and is no larger than it in any dim but `dim`.
fn check_index_shape(
    op: &'static str,
    what: &str,
    t: &Tensor,
    index: &Tensor,
    dim: usize,
    including_dim: bool,
) -> Result<()> {
    if index.ndim() != t.ndim() {
        return Err(Error::mismatch(
            op,
            format!("index must have the same number of dims as {what}"),
            index.shape(),
            t.shape(),
        ));
    }
    for d in 0..t.ndim() {
        if (including_dim || d != dim) && index.dims()[d] > t.dims()[d] {
            return Err(Error::mismatch(
                op,
                format!(
                    "index size {} in dim {d} exceeds the size {} of {what}",
                    index.dims()[d],
                    t.dims()[d]
                ),
                index.shape(),
                t.shape(),
            ));
        }
    }
    Ok(())
}

impl Tensor {
    /// Like [`index_select`](Tensor::index_select), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_index_select(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        require_rank("index_select", self)?;
        let d = normalize_dim("index_select", dim, self.ndim())?;
        if index.ndim() > 1 {
            return Err(Error::bad_shape(
                "index_select",
                "the index must be 1-d",
                index.shape(),
            ));
        }
        let idx = checked_indices("index_select", index, d, self.dims()[d])?;
        self.index_select_valid(d, idx)
    }
    panicking!(
        /// Selects the slices `index[0], index[1], ...` of dim `dim`
        /// (`torch.index_select`). `index` is a 1-d (or 0-d) tensor of integral
        /// values in `0..size(dim)`; repeats are allowed and their gradients add
        /// up. The result has `index.numel()` entries along `dim`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        /// let rows = x.index_select(0, &Tensor::new([2.0f32, 0.0, 2.0]));
        /// assert_eq!(rows.to_vec::<f32>(), vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
        /// ```
        index_select => try_index_select(dim: isize, index: &Tensor) -> Tensor
    );

    fn index_select_valid(&self, d: usize, idx: Rc<[usize]>) -> Result<Tensor> {
        let shape = with_size("index_select", self, d, idx.len())?;
        let strides = shape.contiguous_strides();
        let out = dispatch_scalar!(self.dtype(), T => {
            let mut data = vec![T::default(); shape.numel()];
            self.with_strided::<T, _>(|src, layout| {
                for (k, &i) in idx.iter().enumerate() {
                    copy_into(src, &slice_at(layout, d, i), &mut data, &strides, k * strides[d], false);
                }
            });
            Tensor::from_parts(data, shape.clone())
        });
        record(out, &[self], |_| IndexSelectBackward {
            dim: d,
            idx,
            input_shape: self.shape().clone(),
        })
    }

    /// Like [`index_add`](Tensor::index_add), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_index_add(&self, dim: isize, index: &Tensor, source: &Tensor) -> Result<Tensor> {
        require_float("index_add", self.dtype())?;
        require_rank("index_add", self)?;
        let d = normalize_dim("index_add", dim, self.ndim())?;
        same_dtype("index_add", self, source)?;
        if index.ndim() > 1 {
            return Err(Error::bad_shape(
                "index_add",
                "the index must be 1-d",
                index.shape(),
            ));
        }
        let expected = with_size("index_add", self, d, index.numel())?;
        if source.shape() != &expected {
            return Err(Error::mismatch(
                "index_add",
                format!(
                    "source must have self's shape except {} entries (one per index) in dim {d}",
                    index.numel()
                ),
                source.shape(),
                &expected,
            ));
        }
        let idx = checked_indices("index_add", index, d, self.dims()[d])?;
        self.index_add_valid(d, idx, source)
    }
    panicking!(
        /// Out-of-place `torch.Tensor.index_add`: a copy of `self` where slice
        /// `index[k]` of dim `dim` has slice `k` of `source` added to it.
        /// `source` has `self`'s shape except `index.numel()` entries along
        /// `dim`; repeated indices accumulate. Differentiable in `self` and
        /// `source`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::zeros(&[3]);
        /// let y = x.index_add(0, &Tensor::new([2.0f32, 2.0, 0.0]), &Tensor::new([1.0f32, 2.0, 5.0]));
        /// assert_eq!(y.to_vec::<f32>(), vec![5.0, 0.0, 3.0]);
        /// ```
        index_add => try_index_add(dim: isize, index: &Tensor, source: &Tensor) -> Tensor
    );

    fn index_add_valid(&self, d: usize, idx: Rc<[usize]>, source: &Tensor) -> Result<Tensor> {
        let shape = self.shape().clone();
        let strides = shape.contiguous_strides();
        let out = dispatch!(self.dtype(), T => {
            let mut data = self.with_contiguous::<T, _>(|v| v.to_vec());
            source.with_strided::<T, _>(|src, layout| {
                for (k, &i) in idx.iter().enumerate() {
                    copy_into(src, &slice_at(layout, d, k), &mut data, &strides, i * strides[d], true);
                }
            });
            Tensor::from_parts(data, shape)
        });
        record(out, &[self, source], |_| IndexAddBackward { dim: d, idx })
    }

    /// Like [`gather`](Tensor::gather), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_gather(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        require_rank("gather", self)?;
        let d = normalize_dim("gather", dim, self.ndim())?;
        check_index_shape("gather", "the input", self, index, d, false)?;
        let idx = Indices {
            values: checked_indices("gather", index, d, self.dims()[d])?,
            shape: index.shape().clone(),
        };
        self.gather_valid(d, idx)
    }
    panicking!(
        /// Picks, along `dim`, the element that `index` names at every position
        /// (`torch.gather`): for `dim = 1`, `out[i][j] = self[i][index[i][j]]`.
        /// `index` has `self`'s rank, is no larger than `self` in the other
        /// dims, and gives the output's shape. Repeats are allowed; their
        /// gradients add up.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]);
        /// let g = x.gather(1, &Tensor::new([[0.0f32, 0.0], [1.0, 0.0]]));
        /// assert_eq!(g.to_vec::<f32>(), vec![1.0, 1.0, 4.0, 3.0]);
        /// ```
        gather => try_gather(dim: isize, index: &Tensor) -> Tensor
    );

    fn gather_valid(&self, d: usize, idx: Indices) -> Result<Tensor> {
        let out = dispatch_scalar!(self.dtype(), T => {
            let data = self.with_strided::<T, _>(|src, layout| {
                gather_dim(src, layout, d, &idx.values, idx.shape.dims())
            });
            Tensor::from_parts(data, idx.shape.clone())
        });
        record(out, &[self], |_| GatherBackward {
            dim: d,
            idx,
            input_shape: self.shape().clone(),
        })
    }

    /// Like [`scatter_add`](Tensor::scatter_add), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        require_float("scatter_add", self.dtype())?;
        require_rank("scatter_add", self)?;
        let d = normalize_dim("scatter_add", dim, self.ndim())?;
        same_dtype("scatter_add", self, src)?;
        check_index_shape("scatter_add", "self", self, index, d, false)?;
        check_index_shape("scatter_add", "src", src, index, d, true)?;
        let idx = Indices {
            values: checked_indices("scatter_add", index, d, self.dims()[d])?,
            shape: index.shape().clone(),
        };
        self.scatter_add_valid(d, idx, src)
    }
    panicking!(
        /// Out-of-place `torch.Tensor.scatter_add`: a copy of `self` where, for
        /// every position `p` of `index`, `src[p]` is added at `p` with its
        /// `dim` coordinate replaced by `index[p]`. `index` has the rank of
        /// `self` and `src`, is no larger than `src` in any dim and no larger
        /// than `self` in the dims other than `dim`; elements of `src` outside
        /// `index`'s shape are ignored. Differentiable in `self` and `src`.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::zeros(&[2, 3]);
        /// let index = Tensor::new([[2.0f32, 2.0], [0.0, 1.0]]);
        /// let src = Tensor::new([[1.0f32, 10.0], [100.0, 1000.0]]);
        /// assert_eq!(x.scatter_add(1, &index, &src).to_vec::<f32>(),
        ///            vec![0.0, 0.0, 11.0, 100.0, 1000.0, 0.0]);
        /// ```
        scatter_add => try_scatter_add(dim: isize, index: &Tensor, src: &Tensor) -> Tensor
    );

    fn scatter_add_valid(&self, d: usize, idx: Indices, src: &Tensor) -> Result<Tensor> {
        let shape = self.shape().clone();
        let strides = shape.contiguous_strides();
        let out = dispatch!(self.dtype(), T => {
            let mut data = self.with_contiguous::<T, _>(|v| v.to_vec());
            src.with_strided::<T, _>(|s, layout| {
                scatter_add_dim(&mut data, &strides, d, &idx.values, idx.shape.dims(), (s, layout))
            });
            Tensor::from_parts(data, shape)
        });
        record(out, &[self, src], |_| ScatterAddBackward {
            dim: d,
            idx,
            src_shape: src.shape().clone(),
        })
    }

    /// Like [`one_hot`](Tensor::one_hot), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_one_hot(&self, num_classes: usize) -> Result<Tensor> {
        if num_classes == 0 {
            return Err(Error::invalid(
                "one_hot",
                "num_classes must be greater than 0, got 0",
            ));
        }
        let ids = checked_indices("one_hot", self, self.ndim(), num_classes)?;
        let mut dims = Dims::from_slice(self.dims());
        dims.push(num_classes);
        check_alloc("one_hot", &dims, self.dtype())?;
        let shape = Shape(dims);
        Ok(dispatch_scalar!(self.dtype(), T => {
            let mut data = vec![T::default(); shape.numel()];
            for (k, &c) in ids.iter().enumerate() {
                data[k * num_classes + c] = T::from_f64(1.0);
            }
            Tensor::from_parts(data, shape)
        }))
    }
    panicking!(
        /// One-hot encoding of class ids (`torch.nn.functional.one_hot` with an
        /// explicit `num_classes > 0`): the output has shape
        /// `self.shape + [num_classes]` and `self`'s dtype, with 1 at each id.
        /// Ids must be integral values in `0..num_classes`. Not differentiable.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let ids = Tensor::new([2.0f32, 0.0]);
        /// assert_eq!(ids.one_hot(3).to_vec::<f32>(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        /// ```
        one_hot => try_one_hot(num_classes: usize) -> Tensor
    );
}

struct IndexSelectBackward {
    dim: usize,
    idx: Rc<[usize]>,
    input_shape: Shape,
}

impl Backward for IndexSelectBackward {
    fn name(&self) -> &'static str {
        "IndexSelect"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let zeros = Tensor::full_dtype(&self.input_shape, 0.0, g.dtype());
        let grad = zeros.index_add_valid(self.dim, self.idx.clone(), g)?;
        Ok(smallvec::smallvec![Some(grad)])
    }
}

struct IndexAddBackward {
    dim: usize,
    idx: Rc<[usize]>,
}

impl Backward for IndexAddBackward {
    fn name(&self) -> &'static str {
        "IndexAdd"
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let to_self = ctx.needs_grad(0).then(|| g.clone());
        let to_source = if ctx.needs_grad(1) {
            Some(g.index_select_valid(self.dim, self.idx.clone())?)
        } else {
            None
        };
        Ok(smallvec::smallvec![to_self, to_source])
    }
}

struct GatherBackward {
    dim: usize,
    idx: Indices,
    input_shape: Shape,
}

impl Backward for GatherBackward {
    fn name(&self) -> &'static str {
        "Gather"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let zeros = Tensor::full_dtype(&self.input_shape, 0.0, g.dtype());
        let grad = zeros.scatter_add_valid(self.dim, self.idx.clone(), g)?;
        Ok(smallvec::smallvec![Some(grad)])
    }
}

struct ScatterAddBackward {
    dim: usize,
    idx: Indices,
    src_shape: Shape,
}

impl Backward for ScatterAddBackward {
    fn name(&self) -> &'static str {
        "ScatterAdd"
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let to_self = ctx.needs_grad(0).then(|| g.clone());
        let to_src = if ctx.needs_grad(1) {
            // Only the part of src covered by the index was used; the rest
            // gets zeros.
            let mut grad = g.gather_valid(self.dim, self.idx.clone())?;
            for (d, (&have, &want)) in self
                .idx
                .shape
                .dims()
                .iter()
                .zip(self.src_shape.dims())
                .enumerate()
            {
                if have < want {
                    grad = grad.try_pad_dim(d as isize, 0, want - have)?;
                }
            }
            Some(grad)
        } else {
            None
        };
        Ok(smallvec::smallvec![to_self, to_src])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_row_major_multi_indices() {
        let shape = Shape::new(&[2, 3]);
        assert_eq!(position(&shape, 0), "[0, 0]");
        assert_eq!(position(&shape, 5), "[1, 2]");
        assert_eq!(position(&Shape::scalar(), 0), "[]");
    }
}

#[cfg(test)]
mod integral_tests {
    #[test]
    fn is_integral_agrees_with_fract() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            2.0f64.powi(52),
            2.0f64.powi(52) + 1.0,
            2.0f64.powi(52) - 0.5,
            1e300,
            -1e300,
            9.3e18,
            -9.3e18,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            99.999,
            -100.0,
        ];
        for v in values {
            let want = v.is_finite() && v.fract() == 0.0;
            assert_eq!(super::is_integral(v), want, "{v}");
        }
    }
}
