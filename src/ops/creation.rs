//! Constructors added with the everyday ops: `linspace` and the
//! rectangular identity `eye_m`. (They sit here rather than in
//! src/tensor/create.rs only so that this change and the integer-dtype
//! work there touch different files; they record nothing.)

use crate::dtype::Scalar;
use crate::dtype::{dispatch, DType};
use crate::error::{or_panic, Error, Result};
use crate::shape::Shape;
use crate::tensor::create::check_alloc;
use crate::tensor::Tensor;

impl Tensor {
    /// `steps` evenly spaced `float32` values from `start` to `end`, both
    /// included (`torch.linspace(start, end, steps)`). `steps = 0` gives an
    /// empty tensor and `steps = 1` gives `[start]`.
    ///
    /// The values are computed as PyTorch's CPU kernel does: with
    /// `step = (end − start)/(steps − 1)` in the output dtype, the first half
    /// as `start + step·i` and the second half as `end − step·(steps − 1 −
    /// i)`, each rounded once (a fused multiply-add), so both ends are exact. A non-finite `start` or `end` is an error
    /// (PyTorch returns NaNs).
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let x = Tensor::linspace(-1.0, 1.0, 5).unwrap();
    /// assert_eq!(x.to_vec::<f32>(), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
    /// ```
    pub fn linspace(start: f64, end: f64, steps: usize) -> Result<Tensor> {
        Tensor::linspace_dtype(start, end, steps, DType::F32)
    }

    /// [`linspace`](Tensor::linspace) with a chosen dtype.
    ///
    /// ```
    /// use tapegrad::{DType, Tensor};
    /// let x = Tensor::linspace_dtype(0.0, 1.0, 3, DType::F64).unwrap();
    /// assert_eq!(x.to_vec::<f64>(), vec![0.0, 0.5, 1.0]);
    /// ```
    pub fn linspace_dtype(start: f64, end: f64, steps: usize, dtype: DType) -> Result<Tensor> {
        if !(start.is_finite() && end.is_finite()) {
            return Err(Error::invalid(
                "linspace",
                format!("need a finite start and end, got start={start}, end={end}"),
            ));
        }
        crate::dtype::require_float("linspace", dtype)?;
        check_alloc("linspace", &[steps], dtype)?;
        Ok(dispatch!(dtype, T => {
            let (first, last) = (T::from_f64(start), T::from_f64(end));
            let data: Vec<T> = if steps <= 1 {
                vec![first; steps]
            } else {
                let step = ((last - first) / T::from_f64((steps - 1) as f64)).to_f64();
                let (first, last) = (first.to_f64(), last.to_f64());
                let half = steps / 2;
                // `a + step·k` rounded once (a fused multiply-add), as
                // PyTorch's kernel is compiled: `step·k` is exact in f64 for
                // f32 operands, and `mul_add` is exact for f64 ones.
                (0..steps)
                    .map(|i| {
                        T::from_f64(if i < half {
                            step.mul_add(i as f64, first)
                        } else {
                            (-step).mul_add((steps - 1 - i) as f64, last)
                        })
                    })
                    .collect()
            };
            Tensor::from_parts(data, Shape::new(&[steps]))
        }))
    }

    /// The `n × m` `float32` matrix with ones on the main diagonal and zeros
    /// elsewhere (`torch.eye(n, m)`); [`eye`](Tensor::eye) is the square
    /// case. Panics, with the error's message, only if the matrix could not
    /// be allocated.
    ///
    /// ```
    /// use tapegrad::Tensor;
    /// let i = Tensor::eye_m(2, 3);
    /// assert_eq!(i.to_vec::<f32>(), vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn eye_m(n: usize, m: usize) -> Tensor {
        Tensor::eye_m_dtype(n, m, DType::F32)
    }

    /// [`eye_m`](Tensor::eye_m) with a chosen dtype.
    #[track_caller]
    pub fn eye_m_dtype(n: usize, m: usize, dtype: DType) -> Tensor {
        let count = or_panic(check_alloc("eye", &[n, m], dtype));
        crate::dtype::dispatch_scalar!(dtype, T => {
            let mut data = vec![T::default(); count];
            for i in 0..n.min(m) {
                data[i * m + i] = T::from_f64(1.0);
            }
            Tensor::from_parts(data, Shape::new(&[n, m]))
        })
    }
}
