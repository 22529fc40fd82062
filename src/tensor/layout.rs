//! How a tensor's elements sit in its buffer: shape, strides and offset.

use crate::shape::{Dims, Shape};

/// Shape, per-dim strides (in elements) and starting offset into the buffer.
///
/// Views (transpose, permute, narrow, expand, squeeze...) only change the
/// layout; a stride of 0 repeats an element along a broadcast dim.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) shape: Shape,
    pub(crate) strides: Dims,
    pub(crate) offset: usize,
}

impl Clone for Layout {
    /// Slice copies instead of SmallVec's element-wise clone (see `Shape`).
    #[inline]
    fn clone(&self) -> Self {
        Layout {
            shape: self.shape.clone(),
            strides: Dims::from_slice(&self.strides),
            offset: self.offset,
        }
    }
}

impl Layout {
    /// The row-major layout of a fresh buffer of this shape.
    pub(crate) fn contiguous(shape: Shape) -> Self {
        let strides = shape.contiguous_strides();
        Layout {
            shape,
            strides,
            offset: 0,
        }
    }

    /// True when the elements are stored row-major with no gaps, so the data
    /// is the slice `offset..offset + numel`. Strides of size-1 dims do not
    /// matter.
    pub(crate) fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&size, &stride) in self.shape.0.iter().zip(self.strides.iter()).rev() {
            if size != 1 && stride != expected {
                return false;
            }
            expected *= size;
        }
        true
    }

    /// Number of elements.
    pub(crate) fn numel(&self) -> usize {
        self.shape.numel()
    }

    /// The buffer range read by a contiguous layout.
    pub(crate) fn contiguous_range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.numel()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguity_ignores_size_one_dims() {
        let mut l = Layout::contiguous(Shape::new(&[2, 1, 3]));
        assert!(l.is_contiguous());
        l.strides[1] = 99;
        assert!(l.is_contiguous());
        l.strides.swap(0, 2);
        assert!(!l.is_contiguous());
    }
}
