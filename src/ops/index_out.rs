//! The one place where ops that *return* indices (`sort`, `topk`,
//! `multinomial`) build their index tensors: `int64`, as PyTorch returns
//! them (and as `argmax` does).

use crate::shape::Shape;
use crate::tensor::Tensor;

/// An `int64` tensor of `shape` holding `indices` (row-major).
pub(crate) fn index_tensor(indices: Vec<usize>, shape: Shape) -> Tensor {
    let values: Vec<i64> = indices.into_iter().map(|i| i as i64).collect();
    Tensor::from_parts(values, shape)
}
