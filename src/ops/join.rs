//! Slicing and joining along one dim: `narrow` (a view) and its backward
//! `pad_dim` (place into zeros), `cat`, `stack`, `split`, `chunk`.
//!
//! `narrow` and `pad_dim` are each other's backward, so gradients of any
//! order flow through slices and concatenations.

use super::panicking;
use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::dispatch_scalar;
use crate::error::{or_panic, Error, Result};
use crate::kernels::index::copy_into;
use crate::shape::{normalize_dim, Dims, Shape};
use crate::tensor::create::check_alloc;
use crate::tensor::Tensor;

impl Tensor {
    /// Like [`narrow`](Tensor::narrow), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_narrow(&self, dim: isize, start: isize, length: usize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return Err(Error::bad_shape(
                "narrow",
                "cannot be applied to a 0-d tensor",
                self.shape(),
            ));
        }
        let d = normalize_dim("narrow", dim, self.ndim())?;
        let size = self.dims()[d];
        let begin = if start < 0 {
            start + size as isize
        } else {
            start
        };
        if begin < 0 || begin as usize > size {
            return Err(Error::invalid(
                "narrow",
                format!(
                    "start {start} is out of range for dim {d} of size {size} \
                     (expected -{size}..={size})"
                ),
            ));
        }
        let begin = begin as usize;
        if length > size - begin {
            return Err(Error::invalid(
                "narrow",
                format!("start {begin} + length {length} exceeds the size {size} of dim {d}"),
            ));
        }
        let mut layout = self.layout.clone();
        layout.shape.0[d] = length;
        // An empty view reads nothing; offset 0 keeps it inside any buffer.
        layout.offset = if layout.numel() == 0 {
            0
        } else {
            layout.offset + begin * layout.strides[d]
        };
        record(self.view_with(layout), &[self], |_| NarrowBackward {
            dim: d,
            before: begin,
            after: size - begin - length,
        })
    }
    panicking!(
        /// The slice `start..start + length` of dim `dim` (`torch.narrow`); a
        /// view sharing storage, no copy. A negative `start` counts from the end
        /// of the dim.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        /// assert_eq!(x.narrow(1, 1, 2).to_vec::<f32>(), vec![2.0, 3.0, 5.0, 6.0]);
        /// assert_eq!(x.narrow(-1, -1, 1).to_vec::<f32>(), vec![3.0, 6.0]);
        /// ```
        narrow => try_narrow(dim: isize, start: isize, length: usize) -> Tensor
    );

    /// Like [`pad_dim`](Tensor::pad_dim), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_pad_dim(&self, dim: isize, before: usize, after: usize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return Err(Error::bad_shape(
                "pad_dim",
                "cannot be applied to a 0-d tensor",
                self.shape(),
            ));
        }
        let d = normalize_dim("pad_dim", dim, self.ndim())?;
        let size = self.dims()[d];
        let mut dims = Dims::from_slice(self.dims());
        dims[d] = size
            .checked_add(before)
            .and_then(|s| s.checked_add(after))
            .ok_or_else(|| Error::invalid("pad_dim", "the padded size overflows"))?;
        check_alloc("pad_dim", &dims, self.dtype())?;
        let shape = Shape(dims);
        let strides = shape.contiguous_strides();
        let out = dispatch_scalar!(self.dtype(), T => {
            let mut data = vec![T::default(); shape.numel()];
            self.with_strided::<T, _>(|src, layout| {
                copy_into(src, layout, &mut data, &strides, before * strides[d], false)
            });
            Tensor::from_parts(data, shape.clone())
        });
        record(out, &[self], |_| PadDimBackward {
            dim: d,
            start: before,
            length: size,
        })
    }
    panicking!(
        /// Adds `before` zeros in front of and `after` zeros behind dim `dim`
        /// (`torch.nn.functional.pad` with constant 0 along one dim). This
        /// places the tensor into a larger zero tensor; it is the backward of
        /// [`narrow`](Tensor::narrow), and `narrow` is its backward.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([1.0f32, 2.0]);
        /// assert_eq!(x.pad_dim(0, 1, 2).to_vec::<f32>(), vec![0.0, 1.0, 2.0, 0.0, 0.0]);
        /// ```
        pad_dim => try_pad_dim(dim: isize, before: usize, after: usize) -> Tensor
    );

    /// Concatenates tensors along `dim` (`torch.cat`). All must have the
    /// same dtype and rank, and equal sizes except along `dim`; sizes of 0
    /// along `dim` are fine.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let a = Tensor::new([[1.0f32, 2.0]]);
    /// let b = Tensor::new([[3.0f32, 4.0], [5.0, 6.0]]);
    /// let c = Tensor::cat(&[&a, &b], 0);
    /// assert_eq!(c.dims(), &[3, 2]);
    /// assert_eq!(c.to_vec::<f32>(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// ```
    pub fn try_cat(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let first = *tensors
            .first()
            .ok_or_else(|| Error::invalid("cat", "expects a non-empty list of tensors"))?;
        for (k, t) in tensors.iter().enumerate() {
            if t.ndim() == 0 {
                return Err(Error::bad_shape(
                    "cat",
                    format!("tensor {k} is 0-d and cannot be concatenated"),
                    t.shape(),
                ));
            }
        }
        let d = normalize_dim("cat", dim, first.ndim())?;
        let dtype = first.dtype();
        let mut total = 0usize;
        for (k, t) in tensors.iter().enumerate() {
            if t.dtype() != dtype {
                return Err(Error::invalid(
                    "cat",
                    format!(
                        "dtype mismatch: tensor 0 is {dtype} but tensor {k} is {} \
                         (convert one with .to_dtype())",
                        t.dtype()
                    ),
                ));
            }
            if t.ndim() != first.ndim() {
                return Err(Error::mismatch(
                    "cat",
                    format!("tensor {k} has a different number of dims than tensor 0"),
                    first.shape(),
                    t.shape(),
                ));
            }
            let same_elsewhere =
                (0..first.ndim()).all(|i| i == d || t.dims()[i] == first.dims()[i]);
            if !same_elsewhere {
                return Err(Error::mismatch(
                    "cat",
                    format!(
                        "sizes must match except in dim {d}, but tensor {k} differs from tensor 0"
                    ),
                    first.shape(),
                    t.shape(),
                ));
            }
            total = total
                .checked_add(t.dims()[d])
                .ok_or_else(|| Error::invalid("cat", "the concatenated size overflows"))?;
        }
        let mut dims = Dims::from_slice(first.dims());
        dims[d] = total;
        check_alloc("cat", &dims, dtype)?;
        let shape = Shape(dims);
        let strides = shape.contiguous_strides();
        let mut spans = Vec::with_capacity(tensors.len());
        let out = dispatch_scalar!(dtype, T => {
            let mut data = vec![T::default(); shape.numel()];
            let mut at = 0;
            for t in tensors {
                t.with_strided::<T, _>(|src, layout| {
                    copy_into(src, layout, &mut data, &strides, at * strides[d], false)
                });
                spans.push((at, t.dims()[d]));
                at += t.dims()[d];
            }
            Tensor::from_parts(data, shape.clone())
        });
        record(out, tensors, |_| CatBackward { dim: d, spans })
    }

    /// Panicking form of [`try_cat`](Tensor::try_cat).
    #[track_caller]
    pub fn cat(tensors: &[&Tensor], dim: isize) -> Tensor {
        or_panic(Tensor::try_cat(tensors, dim))
    }

    /// Joins tensors of equal shape along a new dim `dim` (`torch.stack`);
    /// `dim` ranges over `-(rank+1)..=rank`.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let a = Tensor::new([1.0f32, 2.0]);
    /// let b = Tensor::new([3.0f32, 4.0]);
    /// assert_eq!(Tensor::stack(&[&a, &b], 0).dims(), &[2, 2]);
    /// assert_eq!(Tensor::stack(&[&a, &b], -1).to_vec::<f32>(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    pub fn try_stack(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let first = *tensors
            .first()
            .ok_or_else(|| Error::invalid("stack", "expects a non-empty list of tensors"))?;
        for (k, t) in tensors.iter().enumerate() {
            if t.shape() != first.shape() {
                return Err(Error::mismatch(
                    "stack",
                    format!("expects tensors of equal shape, but tensor {k} differs from tensor 0"),
                    first.shape(),
                    t.shape(),
                ));
            }
        }
        let d = normalize_dim("stack", dim, first.ndim() + 1)?;
        let expanded: Vec<Tensor> = tensors
            .iter()
            .map(|t| t.try_unsqueeze(d as isize))
            .collect::<Result<_>>()?;
        let refs: Vec<&Tensor> = expanded.iter().collect();
        Tensor::try_cat(&refs, d as isize).map_err(|e| match e {
            // Shapes were checked above; only the dtype can still differ.
            Error::InvalidArgument { detail, .. } => Error::invalid("stack", detail),
            other => other,
        })
    }

    /// Panicking form of [`try_stack`](Tensor::try_stack).
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], dim: isize) -> Tensor {
        or_panic(Tensor::try_stack(tensors, dim))
    }

    /// Splits into views of `split_size` along `dim`, the last one smaller
    /// if the size does not divide evenly (`torch.split` with an int).
    /// `split_size` may be 0 only when the dim is empty.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::arange(0.0, 5.0, 1.0).unwrap();
    /// let parts = x.split(2, 0);
    /// assert_eq!(parts.len(), 3);
    /// assert_eq!(parts[2].to_vec::<f32>(), vec![4.0]);
    /// ```
    pub fn try_split(&self, split_size: usize, dim: isize) -> Result<Vec<Tensor>> {
        if self.ndim() == 0 {
            return Err(Error::bad_shape(
                "split",
                "expects a tensor with at least 1 dim",
                self.shape(),
            ));
        }
        let d = normalize_dim("split", dim, self.ndim())?;
        let size = self.dims()[d];
        if split_size == 0 && size != 0 {
            return Err(Error::invalid(
                "split",
                format!("split_size can be 0 only if dim {d} is empty, but its size is {size}"),
            ));
        }
        // A split size larger than the dim (or an empty dim) gives one piece.
        let count = if split_size == 0 {
            1
        } else {
            size.div_ceil(split_size).max(1)
        };
        (0..count)
            .map(|i| {
                let start = i * split_size;
                self.try_narrow(d as isize, start as isize, split_size.min(size - start))
            })
            .collect()
    }

    /// Panicking form of [`try_split`](Tensor::try_split).
    #[track_caller]
    pub fn split(&self, split_size: usize, dim: isize) -> Vec<Tensor> {
        or_panic(self.try_split(split_size, dim))
    }

    /// Splits into views of the given sizes along `dim`, which must add up to
    /// the dim's size (`torch.split` with a list of sizes).
    pub fn try_split_with_sizes(&self, sizes: &[usize], dim: isize) -> Result<Vec<Tensor>> {
        if self.ndim() == 0 {
            return Err(Error::bad_shape(
                "split_with_sizes",
                "expects a tensor with at least 1 dim",
                self.shape(),
            ));
        }
        let d = normalize_dim("split_with_sizes", dim, self.ndim())?;
        let size = self.dims()[d];
        let total = sizes.iter().try_fold(0usize, |a, &s| a.checked_add(s));
        if total != Some(size) {
            return Err(Error::invalid(
                "split_with_sizes",
                format!("the sizes {sizes:?} must sum to the size {size} of dim {d}"),
            ));
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&len| {
                let part = self.try_narrow(d as isize, start as isize, len);
                start += len;
                part
            })
            .collect()
    }

    /// Panicking form of [`try_split_with_sizes`](Tensor::try_split_with_sizes).
    #[track_caller]
    pub fn split_with_sizes(&self, sizes: &[usize], dim: isize) -> Vec<Tensor> {
        or_panic(self.try_split_with_sizes(sizes, dim))
    }

    /// Splits into at most `chunks` views of equal size (the last may be
    /// smaller) along `dim` (`torch.chunk`). As in PyTorch, fewer chunks come
    /// back when the size does not allow `chunks` pieces (5 in 4 chunks gives
    /// sizes 2, 2, 1), and an empty dim gives `chunks` empty views.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::zeros(&[6, 2]);
    /// let parts = x.chunk(3, 0);
    /// assert_eq!(parts.iter().map(|p| p.dims()[0]).collect::<Vec<_>>(), vec![2, 2, 2]);
    /// ```
    pub fn try_chunk(&self, chunks: usize, dim: isize) -> Result<Vec<Tensor>> {
        if self.ndim() == 0 {
            return Err(Error::bad_shape(
                "chunk",
                "expects a tensor with at least 1 dim",
                self.shape(),
            ));
        }
        if chunks == 0 {
            return Err(Error::invalid(
                "chunk",
                "chunks must be greater than 0, got 0",
            ));
        }
        let d = normalize_dim("chunk", dim, self.ndim())?;
        let size = self.dims()[d];
        if size == 0 {
            // `chunks` empty views, as PyTorch; a count no memory can hold
            // is an error rather than an allocation abort.
            let mut views = Vec::new();
            views.try_reserve_exact(chunks).map_err(|_| {
                Error::invalid(
                    "chunk",
                    format!("cannot make {chunks} empty chunks of an empty dim"),
                )
            })?;
            let empty = self.try_narrow(d as isize, 0, 0)?;
            views.resize(chunks, empty);
            return Ok(views);
        }
        self.try_split(size.div_ceil(chunks), d as isize)
    }

    /// Panicking form of [`try_chunk`](Tensor::try_chunk).
    #[track_caller]
    pub fn chunk(&self, chunks: usize, dim: isize) -> Vec<Tensor> {
        or_panic(self.try_chunk(chunks, dim))
    }
}

struct NarrowBackward {
    dim: usize,
    before: usize,
    after: usize,
}

impl Backward for NarrowBackward {
    fn name(&self) -> &'static str {
        "Narrow"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let g = g.try_pad_dim(self.dim as isize, self.before, self.after)?;
        Ok(smallvec::smallvec![Some(g)])
    }
}

struct PadDimBackward {
    dim: usize,
    start: usize,
    length: usize,
}

impl Backward for PadDimBackward {
    fn name(&self) -> &'static str {
        "PadDim"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let g = g.try_narrow(self.dim as isize, self.start as isize, self.length)?;
        Ok(smallvec::smallvec![Some(g)])
    }
}

struct CatBackward {
    dim: usize,
    /// (start, length) of each input along `dim`.
    spans: Vec<(usize, usize)>,
}

impl Backward for CatBackward {
    fn name(&self) -> &'static str {
        "Cat"
    }
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        self.spans
            .iter()
            .enumerate()
            .map(|(k, &(start, len))| {
                if !ctx.needs_grad(k) {
                    return Ok(None);
                }
                g.try_narrow(self.dim as isize, start as isize, len)
                    .map(Some)
            })
            .collect()
    }
}
