//! `sort` and `topk`: values in order along one dim, with their positions.
//!
//! The positions are found once, without autograd; the values are then
//! taken with [`gather`](Tensor::gather), whose backward scatters the
//! gradient back to those positions (and whose backward is a gather
//! again), so values are differentiable to any order. Indices carry no
//! gradient.

use std::cmp::Ordering;

use super::cumsum::split_at_dim;
use super::index_out::index_tensor;
use super::panicking;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::shape::{normalize_dim, Dims, Shape};
use crate::tensor::Tensor;

/// Ascending order with NaN above every number (PyTorch's order for sort
/// and topk); −0 and +0 are equal.
fn ascending<T: Element>(a: T, b: T) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

impl Tensor {
    /// Like [`sort`](Tensor::sort), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_sort(&self, dim: isize, descending: bool) -> Result<(Tensor, Tensor)> {
        let d = normalize_dim("sort", dim, self.ndim())?;
        let size = self.dims().get(d).copied().unwrap_or(1);
        self.ordered("sort", d, size, descending)
    }
    panicking!(
        /// The elements sorted along `dim`, and where each came from
        /// (`torch.sort(x, dim, descending, stable=True)`), as
        /// `(values, indices)`. NaN sorts above every number (last in ascending
        /// order, first in descending order), as in PyTorch.
        ///
        /// The sort is stable in both directions: equal elements keep their
        /// order of position. PyTorch's default (`stable=False`) promises no
        /// order for ties; `stable=True` gives the same order as this.
        ///
        /// `indices` is an int64 tensor (as [`argmax`](Tensor::argmax)
        /// returns) and does not require grad. The gradient of `values` goes
        /// back to the positions the values came from. A 0-d tensor accepts dim
        /// 0 or -1 and gives itself and index 0.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([3.0f32, 1.0, 2.0, 1.0]);
        /// let (values, indices) = x.sort(0, false);
        /// assert_eq!(values.to_vec::<f32>(), vec![1.0, 1.0, 2.0, 3.0]);
        /// assert_eq!(indices.to_vec::<f32>(), vec![1.0, 3.0, 2.0, 0.0]);
        /// let (values, _) = x.sort(-1, true);
        /// assert_eq!(values.to_vec::<f32>(), vec![3.0, 2.0, 1.0, 1.0]);
        /// ```
        sort => try_sort(dim: isize, descending: bool) -> (Tensor, Tensor)
    );

    /// Like [`topk`](Tensor::topk), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_topk(
        &self,
        k: usize,
        dim: isize,
        largest: bool,
        sorted: bool,
    ) -> Result<(Tensor, Tensor)> {
        // Both orders are sorted here; `sorted` only relaxes PyTorch's promise.
        let _ = sorted;
        let d = normalize_dim("topk", dim, self.ndim())?;
        let size = self.dims().get(d).copied().unwrap_or(1);
        if k > size {
            return Err(Error::bad_shape(
                "topk",
                format!("k = {k} is larger than the size {size} of dim {d}"),
                self.shape(),
            ));
        }
        self.ordered("topk", d, k, largest)
    }
    panicking!(
        /// The `k` largest (or, with `largest = false`, smallest) elements along
        /// `dim` and their positions (`torch.topk(x, k, dim, largest, sorted)`),
        /// as `(values, indices)`; `dim` keeps its place with size `k`. NaN
        /// counts as larger than every number, as in PyTorch.
        ///
        /// The result is always in sorted order (largest first, or smallest
        /// first); `sorted = false` allows any order in PyTorch, and tapegrad
        /// returns the sorted one then too. Among equal elements the one at the
        /// lower position is taken first (PyTorch does not specify which).
        /// Indices are an int64 tensor, as for
        /// [`try_sort`](Tensor::try_sort); values are differentiable.
        ///
        /// `k` larger than the size of `dim` is an error. A 0-d tensor counts
        /// as one element: `k` of 0 or 1 gives the tensor itself and index 0,
        /// as in PyTorch.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([[1.0f32, 5.0, 3.0], [4.0, 0.0, 2.0]]);
        /// let (values, indices) = x.topk(2, 1, true, true);
        /// assert_eq!(values.to_vec::<f32>(), vec![5.0, 3.0, 4.0, 2.0]);
        /// assert_eq!(indices.to_vec::<f32>(), vec![1.0, 2.0, 0.0, 2.0]);
        /// ```
        topk => try_topk(k: usize, dim: isize, largest: bool, sorted: bool) -> (Tensor, Tensor)
    );

    /// The first `keep` elements of each line along the valid dim `d` in
    /// ascending (or descending) order, with their positions.
    fn ordered(
        &self,
        op: &'static str,
        d: usize,
        keep: usize,
        descending: bool,
    ) -> Result<(Tensor, Tensor)> {
        crate::dtype::require_float(op, self.dtype())?;
        if self.ndim() == 0 {
            // One element, returned as is (PyTorch does so for k = 0 too).
            let indices = index_tensor(vec![0], Shape::scalar());
            return Ok((self.clone(), indices));
        }
        let (outer, size, inner) = split_at_dim(self.dims(), d);
        let positions = dispatch!(self.dtype(), T => self.with_contiguous::<T, _>(|x| {
            let mut out = vec![0usize; outer * keep * inner];
            let mut line: Vec<usize> = Vec::with_capacity(size);
            for o in 0..outer {
                for j in 0..inner {
                    let at = |i: usize| x[(o * size + i) * inner + j];
                    line.clear();
                    line.extend(0..size);
                    // `sort_by` is stable: ties stay in position order.
                    if descending {
                        line.sort_by(|&a, &b| ascending(at(b), at(a)));
                    } else {
                        line.sort_by(|&a, &b| ascending(at(a), at(b)));
                    }
                    for (i, &p) in line[..keep].iter().enumerate() {
                        out[(o * keep + i) * inner + j] = p;
                    }
                }
            }
            out
        }));
        let mut dims = Dims::from_slice(self.dims());
        dims[d] = keep;
        let indices = index_tensor(positions, Shape(dims));
        let values = self.try_gather(d as isize, &indices)?;
        Ok((values, indices))
    }
}
