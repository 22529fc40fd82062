//! Conversions to and from [`ndarray::ArrayD`] (the optional `ndarray`
//! feature).
//!
//! Into a tensor, a standard-layout (row-major) array hands over its buffer
//! without a copy; other layouts are copied into row-major order.
//!
//! Out of a tensor, a copy is made unless the tensor is the only owner of a
//! contiguous buffer it covers whole: tensors share their buffer through
//! `Rc<RefCell<..>>` (clones, views, the tape's saved values), and an owned
//! `ArrayD` cannot borrow from it, so a shared buffer has to be copied.
//! Converting a tensor by value (`ArrayD::try_from(t)`) takes the buffer when
//! nothing else holds it.

use std::any::Any;
use std::rc::Rc;

use ndarray::{ArrayD, IxDyn};

use super::storage::Buffer;
use super::Tensor;
use crate::dtype::Scalar;
use crate::error::{Error, Result};
use crate::shape::Shape;

/// A tensor from an `ndarray` array of `f32` or `f64`; without a copy when
/// the array is in standard (row-major) layout.
///
/// ```
/// use ndarray::ArrayD;
/// use tapegrad::Tensor;
/// let a = ArrayD::from_shape_vec(vec![2, 3], vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// let t = Tensor::from(a);
/// assert_eq!(t.dims(), &[2, 3]);
/// let back = ndarray::ArrayD::<f32>::try_from(&t).unwrap();
/// assert_eq!(back[[1, 2]], 6.0);
/// ```
impl<T: Scalar> From<ArrayD<T>> for Tensor {
    fn from(array: ArrayD<T>) -> Tensor {
        let shape = Shape::new(array.shape());
        let data = if array.is_standard_layout() {
            let (mut data, offset) = array.into_raw_vec_and_offset();
            // A standard-layout array that is a slice of a bigger buffer
            // starts at `offset`; drop what lies before and after it.
            let start = offset.unwrap_or(0);
            let numel = shape.numel();
            if start != 0 || data.len() != numel {
                data.drain(..start);
                data.truncate(numel);
            }
            data
        } else {
            array.iter().copied().collect()
        };
        Tensor::from_parts(data, shape)
    }
}

/// A copy of the tensor's values as an array; an error if its dtype is not
/// `T` (convert first with `to_dtype`).
impl<T: Scalar> TryFrom<&Tensor> for ArrayD<T> {
    type Error = Error;

    fn try_from(t: &Tensor) -> Result<ArrayD<T>> {
        check_dtype::<T>(t)?;
        let data = t.with_contiguous::<T, _>(|d| d.to_vec());
        Ok(ArrayD::from_shape_vec(IxDyn(t.dims()), data).expect("length matches the shape"))
    }
}

/// The tensor's values as an array, taking its buffer without a copy when
/// the tensor is its only owner and covers it whole (otherwise a copy, as
/// for `&Tensor`); an error if its dtype is not `T`.
///
/// ```
/// use tapegrad::Tensor;
/// let t = Tensor::from(vec![1.0f64, 2.0, 3.0]);
/// let a = ndarray::ArrayD::<f64>::try_from(t).unwrap(); // moved, not copied
/// assert_eq!(a.as_slice().unwrap(), &[1.0, 2.0, 3.0]);
/// ```
impl<T: Scalar> TryFrom<Tensor> for ArrayD<T> {
    type Error = Error;

    fn try_from(t: Tensor) -> Result<ArrayD<T>> {
        check_dtype::<T>(&t)?;
        let whole = t.layout.is_contiguous()
            && t.layout.offset == 0
            && t.storage.borrow().len() == t.numel();
        if whole && Rc::strong_count(&t.storage) == 1 {
            let taken: Box<dyn Any> = match &mut *t.storage.borrow_mut() {
                Buffer::F32(v) => Box::new(std::mem::take(v)),
                Buffer::F64(v) => Box::new(std::mem::take(v)),
                Buffer::I64(v) => Box::new(std::mem::take(v)),
            };
            if let Ok(data) = taken.downcast::<Vec<T>>() {
                return Ok(ArrayD::from_shape_vec(IxDyn(t.dims()), *data)
                    .expect("length matches the shape"));
            }
            unreachable!("dtype checked above");
        }
        ArrayD::try_from(&t)
    }
}

fn check_dtype<T: Scalar>(t: &Tensor) -> Result<()> {
    if t.dtype() != T::DTYPE {
        return Err(Error::DTypeMismatch {
            op: "to ndarray",
            lhs: t.dtype(),
            rhs: T::DTYPE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, Axis};

    #[test]
    fn standard_layout_round_trip_keeps_the_buffer() {
        let a = ArrayD::from_shape_vec(vec![2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
        let ptr = a.as_ptr();
        let t = Tensor::from(a);
        assert_eq!(t.with_contiguous::<f32, _>(|d| d.as_ptr()), ptr);
        let back = ArrayD::<f32>::try_from(t).unwrap();
        assert_eq!(back.as_ptr(), ptr);
    }

    #[test]
    fn other_layouts_and_shared_buffers_are_copied() {
        let a = ArrayD::from_shape_vec(vec![2, 3], (0..6).map(f64::from).collect()).unwrap();
        let t = Tensor::from(a.t().to_owned().reversed_axes().reversed_axes());
        assert_eq!(t.dims(), &[3, 2]);
        let transposed = Tensor::from(a.clone().reversed_axes());
        assert_eq!(
            transposed.to_vec::<f64>(),
            vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
        );
        let sliced = Tensor::from(a.index_axis(Axis(0), 1).to_owned());
        assert_eq!(sliced.to_vec::<f64>(), vec![3.0, 4.0, 5.0]);
        let shared = Tensor::from(vec![1.0f64, 2.0]);
        let keep = shared.clone();
        let arr = ArrayD::<f64>::try_from(shared).unwrap();
        assert_eq!(arr.as_slice().unwrap(), &[1.0, 2.0]);
        assert_eq!(keep.to_vec::<f64>(), vec![1.0, 2.0]);
        let view = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]).transpose(0, 1);
        let arr = ArrayD::<f32>::try_from(view).unwrap();
        assert_eq!(
            arr.iter().copied().collect::<Vec<_>>(),
            vec![1.0, 3.0, 2.0, 4.0]
        );
        assert!(ArrayD::<f32>::try_from(&Tensor::from(vec![1.0f64])).is_err());
    }
}
