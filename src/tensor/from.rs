//! `From` conversions into [`Tensor`], so data from other Rust code goes in
//! with `.into()` or `Tensor::from(..)`.

use super::create::TensorData;
use super::Tensor;
use crate::shape::Shape;

/// A 1-d tensor from a vector, taking its buffer without a copy; the dtype
/// follows the element type.
///
/// ```
/// use tapegrad::{DType, Tensor};
/// let t = Tensor::from(vec![1.0f32, 2.0, 3.0]);
/// assert_eq!((t.dims(), t.dtype()), (&[3][..], DType::F32));
/// let u: Tensor = vec![0.5f64; 4].into();
/// assert_eq!(u.dtype(), DType::F64);
/// // Other shapes: Tensor::from_vec(data, &[rows, cols]), which checks the length.
/// ```
impl From<Vec<f32>> for Tensor {
    fn from(data: Vec<f32>) -> Tensor {
        let shape = Shape::new(&[data.len()]);
        Tensor::from_parts(data, shape)
    }
}

/// A 1-d `float64` tensor from a vector, without a copy.
impl From<Vec<f64>> for Tensor {
    fn from(data: Vec<f64>) -> Tensor {
        let shape = Shape::new(&[data.len()]);
        Tensor::from_parts(data, shape)
    }
}

/// A 1-d `int64` tensor from a vector, without a copy (class ids, tokens).
///
/// ```
/// use tapegrad::{DType, Tensor};
/// let ids: Tensor = vec![2i64, 0, 1].into();
/// assert_eq!(ids.dtype(), DType::I64);
/// let positions: Tensor = [0usize, 1, 2].as_slice().into();
/// assert_eq!(positions.to_vec::<i64>(), vec![0, 1, 2]);
/// ```
impl From<Vec<i64>> for Tensor {
    fn from(data: Vec<i64>) -> Tensor {
        let shape = Shape::new(&[data.len()]);
        Tensor::from_parts(data, shape)
    }
}

/// A 1-d `int64` tensor copied from a slice of `i64`.
impl From<&[i64]> for Tensor {
    fn from(data: &[i64]) -> Tensor {
        Tensor::from(data.to_vec())
    }
}

/// A 1-d `int64` tensor of positions or indices.
impl From<&[usize]> for Tensor {
    fn from(data: &[usize]) -> Tensor {
        Tensor::from(
            data.iter()
                .map(|&i| i64::try_from(i).unwrap_or(i64::MAX))
                .collect::<Vec<i64>>(),
        )
    }
}

/// A 1-d `float32` tensor copied from a slice.
impl From<&[f32]> for Tensor {
    fn from(data: &[f32]) -> Tensor {
        Tensor::from(data.to_vec())
    }
}

/// A 1-d `float64` tensor copied from a slice.
impl From<&[f64]> for Tensor {
    fn from(data: &[f64]) -> Tensor {
        Tensor::from(data.to_vec())
    }
}

/// A 0-d `float32` tensor (`torch.tensor(2.5)`).
impl From<f32> for Tensor {
    fn from(value: f32) -> Tensor {
        Tensor::scalar(value)
    }
}

/// A 0-d `float64` tensor.
impl From<f64> for Tensor {
    fn from(value: f64) -> Tensor {
        Tensor::scalar(value)
    }
}

/// A tensor from (nested) fixed-size arrays, as [`Tensor::new`].
///
/// ```
/// use tapegrad::Tensor;
/// let t: Tensor = [[1.0f32, 2.0], [3.0, 4.0]].into();
/// assert_eq!(t.dims(), &[2, 2]);
/// ```
impl<D: TensorData, const N: usize> From<[D; N]> for Tensor {
    fn from(data: [D; N]) -> Tensor {
        Tensor::new(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    #[test]
    fn conversions_keep_values_shape_and_dtype() {
        let v = Tensor::from(vec![1.0f32, -2.0]);
        assert_eq!((v.dims(), v.dtype()), (&[2][..], DType::F32));
        assert_eq!(v.to_vec::<f32>(), vec![1.0, -2.0]);
        let s = Tensor::from(&[3.0f64, 4.0, 5.0][..]);
        assert_eq!((s.dims(), s.dtype()), (&[3][..], DType::F64));
        let e = Tensor::from(Vec::<f32>::new());
        assert_eq!(e.dims(), &[0]);
        let z = Tensor::from(2.5f32);
        assert_eq!((z.ndim(), z.item::<f32>()), (0, 2.5));
        let a: Tensor = [[1.0f64], [2.0]].into();
        assert_eq!(a.dims(), &[2, 1]);
    }
}
