//! Element-wise kernels: map one tensor, or zip two with broadcasting.
//!
//! Fast paths cover what training spends its time on: contiguous operands of
//! the same shape, and a scalar on either side. Everything else (broadcast,
//! transposed views) goes through the strided walker.

use crate::dtype::Scalar;
use crate::shape::{Dims, Shape};
use crate::tensor::cache;
use crate::tensor::layout::Layout;
use crate::tensor::Tensor;

use super::strided::for_each_offsets;

/// `f` applied to every element, in row-major order.
#[inline]
pub(crate) fn map<T: Scalar>(x: &Tensor, f: impl Fn(T) -> T) -> Vec<T> {
    x.with_contiguous::<T, _>(|d| cache::collect(d.iter().map(|&v| f(v))))
}

/// Strides that read `layout` as if broadcast to `out` (stride 0 along
/// dims that are 1 in `layout` or missing on its left).
pub(crate) fn broadcast_strides(layout: &Layout, out: &Shape) -> Dims {
    let rank = out.rank();
    let offset = rank - layout.shape.rank();
    let mut strides = Dims::from_elem(0, rank);
    for (d, s) in strides.iter_mut().enumerate().skip(offset) {
        let k = d - offset;
        if layout.shape.0[k] != 1 {
            *s = layout.strides[k];
        }
    }
    strides
}

/// `f(a, b)` for every element of the broadcast shape `out`.
#[inline]
pub(crate) fn zip<T: Scalar>(a: &Tensor, b: &Tensor, out: &Shape, f: impl Fn(T, T) -> T) -> Vec<T> {
    let n = out.numel();
    let same_shape = a.shape() == out && b.shape() == out;
    if same_shape && a.is_contiguous() && b.is_contiguous() {
        return a.with_contiguous::<T, _>(|x| {
            b.with_contiguous::<T, _>(|y| cache::collect(x.iter().zip(y).map(|(&p, &q)| f(p, q))))
        });
    }
    if b.numel() == 1 && a.shape() == out {
        let s = b.to_vec::<T>()[0];
        return map(a, |v| f(v, s));
    }
    if a.numel() == 1 && b.shape() == out {
        let s = a.to_vec::<T>()[0];
        return map(b, |v| f(s, v));
    }
    // A bias added to a batch: one operand full, the other repeated along
    // the leading dims; zip it row by row.
    if a.shape() == out && a.is_contiguous() && b.is_contiguous() && repeats_rows(b.shape(), out) {
        return a.with_contiguous::<T, _>(|x| b.with_contiguous::<T, _>(|row| rowwise(x, row, &f)));
    }
    if b.shape() == out && b.is_contiguous() && a.is_contiguous() && repeats_rows(a.shape(), out) {
        return b.with_contiguous::<T, _>(|y| {
            a.with_contiguous::<T, _>(|row| rowwise(y, row, |q, p| f(p, q)))
        });
    }
    let mut result = cache::with_capacity(n);
    a.with_strided::<T, _>(|da, la| {
        b.with_strided::<T, _>(|db, lb| {
            let sa = broadcast_strides(la, out);
            let sb = broadcast_strides(lb, out);
            for_each_offsets(out.dims(), [&sa, &sb], [la.offset, lb.offset], |[i, j]| {
                result.push(f(da[i], db[j]))
            });
        })
    });
    result
}

/// Whether `small` broadcast to `out` is `small` repeated: its dims, leading
/// 1s aside, are the trailing dims of `out` (and it is not empty).
fn repeats_rows(small: &Shape, out: &Shape) -> bool {
    let dims = small.dims();
    let first = dims.iter().position(|&d| d != 1).unwrap_or(dims.len());
    small.numel() > 0 && out.dims().ends_with(&dims[first..])
}

/// `f(x, row)` with `row` repeated along `x`, in row-major order.
#[inline]
fn rowwise<T: Scalar>(x: &[T], row: &[T], f: impl Fn(T, T) -> T) -> Vec<T> {
    let mut out = cache::with_capacity(x.len());
    for chunk in x.chunks_exact(row.len()) {
        out.extend(chunk.iter().zip(row).map(|(&p, &q)| f(p, q)));
    }
    out
}

/// `f(c, a, b)` over the broadcast of three tensors (used by `where`).
pub(crate) fn zip3<T: Scalar>(
    c: &Tensor,
    a: &Tensor,
    b: &Tensor,
    out: &Shape,
    f: impl Fn(T, T, T) -> T,
) -> Vec<T> {
    let mut result = cache::with_capacity(out.numel());
    c.with_strided::<T, _>(|dc, lc| {
        a.with_strided::<T, _>(|da, la| {
            b.with_strided::<T, _>(|db, lb| {
                let sc = broadcast_strides(lc, out);
                let sa = broadcast_strides(la, out);
                let sb = broadcast_strides(lb, out);
                for_each_offsets(
                    out.dims(),
                    [&sc, &sa, &sb],
                    [lc.offset, la.offset, lb.offset],
                    |[k, i, j]| result.push(f(dc[k], da[i], db[j])),
                );
            })
        })
    });
    result
}
