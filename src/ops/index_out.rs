//! The one place where ops that *return* indices (`sort`, `topk`,
//! `multinomial`) build their index tensors.
//!
//! Indices are float tensors holding integers today (the same convention as
//! `argmax`); when an integer dtype lands, [`index_tensor`] is the only
//! function to change.

use crate::dtype::{dispatch, DType, Element};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// The largest count of positions whose indices `float32` holds exactly:
/// every integer up to 2^24 is representable, so positions `0..=2^24`.
const F32_EXACT_POSITIONS: usize = (1 << 24) + 1;

/// Refuses a dim of `size` positions whose indices would round in `dtype`.
pub(crate) fn check_index_exact(
    op: &'static str,
    size: usize,
    dtype: DType,
    shape: &Shape,
) -> Result<()> {
    if dtype == DType::F32 && size > F32_EXACT_POSITIONS {
        return Err(Error::bad_shape(
            op,
            format!(
                "indices up to {} cannot all be represented exactly in float32 (exact up to \
                 2^24); convert the input to float64",
                size - 1
            ),
            shape,
        ));
    }
    Ok(())
}

/// An index tensor of `shape` holding `indices` (row-major), as a float
/// tensor of `dtype` (the input's dtype, as `argmax` returns).
pub(crate) fn index_tensor(indices: Vec<usize>, shape: Shape, dtype: DType) -> Tensor {
    debug_assert_eq!(indices.len(), shape.numel());
    dispatch!(dtype, T => Tensor::from_parts(
        indices.into_iter().map(|i| T::from_f64(i as f64)).collect::<Vec<T>>(),
        shape,
    ))
}
