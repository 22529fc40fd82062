//! Shapes, broadcasting and dim arguments.

use std::fmt;

use smallvec::SmallVec;

use crate::error::{Error, Result};

/// Dims are stored inline up to rank 4 (no heap allocation for common tensors).
pub(crate) type Dims = SmallVec<[usize; 4]>;

/// The shape of a tensor: one size per dim, outermost first (row-major).
///
/// A 0-d tensor (a scalar) has the empty shape `[]`.
#[derive(PartialEq, Eq, Hash, Default)]
pub struct Shape(pub(crate) Dims);

// SmallVec's own `clone` goes through a generic element-by-element
// `extend`; copying the slice is a few instructions. Every op clones a
// shape or two, so this shows up (W3: see docs/benchmarks.md).
impl Clone for Shape {
    #[inline]
    fn clone(&self) -> Self {
        Shape(Dims::from_slice(&self.0))
    }
}

impl Shape {
    /// A shape from its dims.
    pub fn new(dims: &[usize]) -> Self {
        Shape(Dims::from_slice(dims))
    }

    /// The shape of a scalar: `[]`.
    pub fn scalar() -> Self {
        Shape(Dims::new())
    }

    /// The dims as a slice.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dims.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar, 0 if any dim is 0).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }

    /// Row-major strides of a contiguous tensor of this shape.
    pub(crate) fn contiguous_strides(&self) -> Dims {
        let dims = self.dims();
        let mut acc = 1;
        if dims.len() <= 4 {
            // Every op output computes this: fill the inline buffer directly
            // rather than going through SmallVec's generic constructors.
            let mut buf = [0usize; 4];
            for (stride, &size) in buf[..dims.len()].iter_mut().zip(dims).rev() {
                *stride = acc;
                acc *= size;
            }
            return Dims::from_buf_and_len(buf, dims.len());
        }
        let mut strides = Dims::from_elem(0, dims.len());
        for (stride, &size) in strides.iter_mut().zip(dims).rev() {
            *stride = acc;
            acc *= size;
        }
        strides
    }

    /// Normalises a possibly negative dim (PyTorch style: -1 is the last).
    pub fn dim(&self, op: &'static str, dim: isize) -> Result<usize> {
        normalize_dim(op, dim, self.rank())
    }

    /// The NumPy / PyTorch broadcast of two shapes: align on the right; each
    /// pair of sizes must be equal or one of them 1.
    pub fn broadcast(op: &'static str, lhs: &Shape, rhs: &Shape) -> Result<Shape> {
        if lhs == rhs {
            return Ok(lhs.clone());
        }
        let rank = lhs.rank().max(rhs.rank());
        let mut out = Dims::from_elem(0, rank);
        for (i, slot) in out.iter_mut().enumerate() {
            let a = dim_from_right(lhs, rank - 1 - i);
            let b = dim_from_right(rhs, rank - 1 - i);
            *slot = match (a, b) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => {
                    return Err(Error::Broadcast {
                        op,
                        lhs: lhs.clone(),
                        rhs: rhs.clone(),
                    })
                }
            };
        }
        Ok(Shape(out))
    }
}

/// Size of the dim `k` places from the right, or 1 past the left end.
fn dim_from_right(shape: &Shape, k: usize) -> usize {
    if k < shape.rank() {
        shape.0[shape.rank() - 1 - k]
    } else {
        1
    }
}

/// Normalises a dim in `-rank..rank` to `0..rank`.
///
/// A 0-d tensor accepts dims 0 and -1, as in PyTorch.
pub(crate) fn normalize_dim(op: &'static str, dim: isize, rank: usize) -> Result<usize> {
    let effective = rank.max(1) as isize;
    let d = if dim < 0 { dim + effective } else { dim };
    if d < 0 || d >= effective {
        return Err(Error::DimOutOfRange { op, dim, rank });
    }
    Ok(d as usize)
}

/// Normalises a list of dims, rejecting repeats; returns them sorted.
pub(crate) fn normalize_dims(op: &'static str, dims: &[isize], rank: usize) -> Result<Dims> {
    let mut out = Dims::new();
    for &d in dims {
        let n = normalize_dim(op, d, rank)?;
        if out.contains(&n) {
            return Err(Error::DuplicateDim { op, dim: n });
        }
        out.push(n);
    }
    out.sort_unstable();
    Ok(out)
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Self {
        Shape::new(dims)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Self {
        Shape::new(&dims)
    }
}

impl<const N: usize> From<&[usize; N]> for Shape {
    fn from(dims: &[usize; N]) -> Self {
        Shape::new(dims)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Self {
        Shape::new(&dims)
    }
}

impl From<&Shape> for Shape {
    fn from(shape: &Shape) -> Self {
        shape.clone()
    }
}

impl PartialEq<[usize]> for Shape {
    fn eq(&self, other: &[usize]) -> bool {
        self.dims() == other
    }
}

impl<const N: usize> PartialEq<[usize; N]> for Shape {
    fn eq(&self, other: &[usize; N]) -> bool {
        self.dims() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_follows_numpy_rules() {
        let s = |d: &[usize]| Shape::new(d);
        assert_eq!(
            Shape::broadcast("t", &s(&[2, 1, 3]), &s(&[4, 1])).unwrap(),
            s(&[2, 4, 3])
        );
        assert_eq!(Shape::broadcast("t", &s(&[]), &s(&[5])).unwrap(), s(&[5]));
        assert_eq!(
            Shape::broadcast("t", &s(&[0, 1]), &s(&[1, 7])).unwrap(),
            s(&[0, 7])
        );
        assert!(Shape::broadcast("t", &s(&[2, 3]), &s(&[3, 2])).is_err());
    }

    #[test]
    fn dims_normalise_like_pytorch() {
        assert_eq!(normalize_dim("t", -1, 3).unwrap(), 2);
        assert_eq!(normalize_dim("t", 0, 0).unwrap(), 0);
        assert_eq!(normalize_dim("t", -1, 0).unwrap(), 0);
        let err = normalize_dim("sum", 3, 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sum: dim 3 is out of range for a tensor of rank 3 (expected a dim in -3..=2)"
        );
        assert!(normalize_dims("t", &[0, -3], 3).is_err());
        assert_eq!(normalize_dims("t", &[2, 0], 3).unwrap().as_slice(), &[0, 2]);
    }

    #[test]
    fn contiguous_strides_are_row_major() {
        assert_eq!(
            Shape::new(&[2, 3, 4]).contiguous_strides().as_slice(),
            &[12, 4, 1]
        );
        assert_eq!(Shape::scalar().contiguous_strides().len(), 0);
    }
}
