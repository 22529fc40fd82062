//! Copying strided regions between buffers, and the gather / scatter-add
//! loops along one dim. Indices arrive already validated.

use super::strided::for_each_offsets;
use crate::dtype::{Element, Scalar};
use crate::tensor::layout::Layout;

/// Writes (or, with `add`, adds) the elements `src_layout` addresses in
/// `src` into `dst`, at the positions that `dst_strides` / `dst_offset`
/// give for the same shape.
pub(crate) fn copy_into<T: Scalar + std::ops::AddAssign>(
    src: &[T],
    src_layout: &Layout,
    dst: &mut [T],
    dst_strides: &[usize],
    dst_offset: usize,
    add: bool,
) {
    let strides = [src_layout.strides.as_slice(), dst_strides];
    let offsets = [src_layout.offset, dst_offset];
    if add {
        for_each_offsets(src_layout.shape.dims(), strides, offsets, |[i, j]| {
            dst[j] += src[i]
        });
    } else {
        for_each_offsets(src_layout.shape.dims(), strides, offsets, |[i, j]| {
            dst[j] = src[i]
        });
    }
}

/// `out[p] = src[p with coordinate dim replaced by idx[p]]` for every
/// position `p` of `index_shape`, in row-major order (`idx` is the index
/// tensor flattened row-major).
pub(crate) fn gather_dim<T: Scalar>(
    src: &[T],
    layout: &Layout,
    dim: usize,
    idx: &[usize],
    index_shape: &[usize],
) -> Vec<T> {
    let step = layout.strides[dim];
    // With the dim's stride zeroed the walker yields the offset of the rest
    // of the coordinates; the index supplies the dim's part.
    let mut strides = layout.strides.clone();
    strides[dim] = 0;
    let mut out = Vec::with_capacity(idx.len());
    let mut k = 0;
    for_each_offsets(index_shape, [&strides], [layout.offset], |[o]| {
        out.push(src[o + idx[k] * step]);
        k += 1;
    });
    out
}

/// `out[p with coordinate dim replaced by idx[p]] += src[p]` for every
/// position `p` of `index_shape`; `out` is row-major with strides
/// `out_strides`.
pub(crate) fn scatter_add_dim<T: Element>(
    out: &mut [T],
    out_strides: &[usize],
    dim: usize,
    idx: &[usize],
    index_shape: &[usize],
    src: (&[T], &Layout),
) {
    let (data, layout) = src;
    let step = out_strides[dim];
    let mut strides = smallvec::SmallVec::<[usize; 4]>::from_slice(out_strides);
    strides[dim] = 0;
    let mut k = 0;
    for_each_offsets(
        index_shape,
        [&strides, &layout.strides],
        [0, layout.offset],
        |[o, s]| {
            out[o + idx[k] * step] += data[s];
            k += 1;
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;

    #[test]
    fn gather_and_scatter_add_along_dim_one() {
        // src = [[1, 2, 3], [4, 5, 6]]
        let src = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let layout = Layout::contiguous(Shape::new(&[2, 3]));
        let got = gather_dim(&src, &layout, 1, &[2, 2, 0, 1], &[2, 2]);
        assert_eq!(got, vec![3.0, 3.0, 4.0, 5.0]);

        let mut out = vec![0.0f64; 6];
        let vals = [1.0f64, 10.0, 100.0, 1000.0];
        let vl = Layout::contiguous(Shape::new(&[2, 2]));
        scatter_add_dim(&mut out, &[3, 1], 1, &[2, 2, 0, 1], &[2, 2], (&vals, &vl));
        assert_eq!(out, vec![0.0, 0.0, 11.0, 100.0, 1000.0, 0.0]);
    }

    #[test]
    fn copy_into_a_column_block() {
        let src = [1.0f32, 2.0];
        let layout = Layout::contiguous(Shape::new(&[2, 1]));
        let mut dst = vec![0.0f32; 6];
        copy_into(&src, &layout, &mut dst, &[3, 1], 2, false);
        copy_into(&src, &layout, &mut dst, &[3, 1], 2, true);
        assert_eq!(dst, vec![0.0, 0.0, 2.0, 0.0, 0.0, 4.0]);
    }
}
