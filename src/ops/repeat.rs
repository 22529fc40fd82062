//! `repeat`: tile a tensor along each dim (`torch.Tensor.repeat`).
//!
//! Written with differentiable views, so its backward (summing the tiles)
//! and every higher order come from theirs: each dim of size `s` repeated
//! `r` times is a new size-1 dim in front of it expanded to `r`
//! (`[1, s] -> [r, s]`), and merging the pair gives the `r·s` tiles. The
//! expand's backward sums over the `r` copies, which is the sum of the tiles.

use super::panicking;
use crate::error::{Error, Result};
use crate::shape::{Dims, Shape};
use crate::tensor::create::check_alloc;
use crate::tensor::Tensor;

impl Tensor {
    /// Like [`repeat`](Tensor::repeat), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_repeat(&self, sizes: &[usize]) -> Result<Tensor> {
        if sizes.len() < self.ndim() {
            return Err(Error::bad_shape(
                "repeat",
                format!(
                    "the number of repeat sizes ({}, got {sizes:?}) cannot be smaller than the \
                     number of dims of the tensor",
                    sizes.len()
                ),
                self.shape(),
            ));
        }
        let lead = sizes.len() - self.ndim();
        let padded: Dims = std::iter::repeat_n(1, lead)
            .chain(self.dims().iter().copied())
            .collect();
        let mut out_dims = Dims::new();
        for (&s, &r) in padded.iter().zip(sizes) {
            out_dims.push(s.checked_mul(r).ok_or_else(|| {
                Error::invalid(
                    "repeat",
                    format!("repeating shape {} by {sizes:?} overflows", self.shape()),
                )
            })?);
        }
        check_alloc("repeat", &out_dims, self.dtype())?;
        // [s0, s1, ..] viewed as [1, s0, 1, s1, ..], expanded to
        // [r0, s0, r1, s1, ..], then each (r, s) pair merged.
        let pairs_one: Dims = padded.iter().flat_map(|&s| [1, s]).collect();
        let pairs: Dims = padded
            .iter()
            .zip(sizes)
            .flat_map(|(&s, &r)| [r, s])
            .collect();
        self.try_reshape(pairs_one.as_slice())?
            .try_expand(Shape(pairs))?
            .try_reshape(out_dims.as_slice())
    }
    panicking!(
        /// The tensor tiled `sizes[i]` times along dim `i`
        /// (`torch.Tensor.repeat(*sizes)`); the tiles are copied, unlike
        /// [`expand`](Tensor::expand)'s (when every size is 1 there is nothing
        /// to tile, and the result shares storage as a
        /// [`reshape`](Tensor::reshape) does). `sizes` may be longer than the rank: the
        /// tensor is then treated as having leading dims of size 1, so a `[2]`
        /// tensor repeated `[3, 2]` is `[3, 4]`. A size of 0 gives an empty
        /// result. The gradient of each input element is the sum of the
        /// gradients of its copies.
        ///
        /// Fewer sizes than dims is an error, as in PyTorch.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let x = Tensor::new([1.0f32, 2.0]);
        /// assert_eq!(x.repeat(&[2]).to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0]);
        /// let y = x.repeat(&[2, 1]);
        /// assert_eq!(y.dims(), &[2, 2]);
        /// assert_eq!(y.to_vec::<f32>(), vec![1.0, 2.0, 1.0, 2.0]);
        /// ```
        repeat => try_repeat(sizes: &[usize]) -> Tensor
    );
}
