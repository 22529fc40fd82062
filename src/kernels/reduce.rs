//! Reduction kernels over a set of dims.
//!
//! The output is laid out with the reduced dims kept as size 1; callers
//! drop them for `keepdim = false`. Sums accumulate in `f64` so that long
//! `f32` reductions (a batch mean over thousands of rows) keep their digits.

use smallvec::SmallVec;

use super::strided::for_each_offsets;
use crate::dtype::Element;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// The shape with `dims` (sorted, distinct) set to 1.
pub(crate) fn kept_shape(shape: &Shape, dims: &[usize]) -> Shape {
    let mut out = shape.clone();
    for &d in dims {
        out.0[d] = 1;
    }
    out
}

/// Walks every element of `x` together with the flat index of the output
/// slot it reduces into (`kept` = `x`'s shape with reduced dims set to 1).
pub(crate) fn for_each_reduced<T: Element>(x: &Tensor, kept: &Shape, mut f: impl FnMut(usize, T)) {
    let mut out_strides = kept.contiguous_strides();
    for (s, &size) in out_strides.iter_mut().zip(kept.dims()) {
        if size == 1 {
            *s = 0;
        }
    }
    x.with_strided::<T, _>(|data, layout| {
        for_each_offsets(
            layout.shape.dims(),
            [&layout.strides, &out_strides],
            [layout.offset, 0],
            |[i, o]| f(o, data[i]),
        );
    });
}

/// Sum over `dims` (sorted, distinct); output has `kept_shape`'s layout.
pub(crate) fn sum_dims<T: Element>(x: &Tensor, dims: &[usize]) -> Vec<T> {
    let kept = kept_shape(x.shape(), dims);
    let n_out = kept.numel();
    if n_out == 1 {
        let total: f64 = x.with_contiguous::<T, _>(|d| d.iter().map(|v| v.to_f64()).sum());
        return vec![T::from_f64(total)];
    }
    let rank = x.ndim();
    let last_only: SmallVec<[usize; 1]> = SmallVec::from_slice(&[rank.saturating_sub(1)]);
    if x.is_contiguous() && dims == last_only.as_slice() {
        // Row sums: one contiguous run per output element.
        let row = x.dims()[rank - 1];
        return x.with_contiguous::<T, _>(|d| {
            if row == 0 {
                return vec![T::ZERO; n_out];
            }
            d.chunks_exact(row)
                .map(|r| T::from_f64(r.iter().map(|v| v.to_f64()).sum()))
                .collect()
        });
    }
    let mut acc = vec![0.0f64; n_out];
    for_each_reduced::<T>(x, &kept, |o, v| acc[o] += v.to_f64());
    acc.into_iter().map(T::from_f64).collect()
}
