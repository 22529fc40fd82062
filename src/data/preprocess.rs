//! [`Standardizer`]: per-feature standardisation fitted on training data.

use crate::dtype::dispatch;
use crate::dtype::Scalar;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// x' = (x − mean) / std per feature column, with the mean and the
/// population standard deviation (ddof = 0) of the data it was fitted on;
/// a column with std 0 is divided by 1 instead
/// (`sklearn.preprocessing.StandardScaler`).
///
/// Fit it on the training part only and apply the same statistics to the
/// test part, so no information leaks from the test set. Statistics are
/// computed in `f64` whatever the dtype.
///
/// ```
/// use tapegrad::data::Standardizer;
/// use tapegrad::Tensor;
/// let train = Tensor::new([[1.0f64, 5.0], [3.0, 5.0]]);
/// let s = Standardizer::fit(&train).unwrap();
/// assert_eq!(s.mean(), &[2.0, 5.0]);
/// assert_eq!(s.std(), &[1.0, 1.0]); // the constant column keeps std 1
/// let test = Tensor::new([[4.0f64, 6.0]]);
/// assert_eq!(s.transform(&test).unwrap().to_vec::<f64>(), vec![2.0, 1.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Standardizer {
    /// Per-column statistics of `x` `[n, features]` (n ≥ 1).
    pub fn fit(x: &Tensor) -> Result<Standardizer> {
        // No features at all is refused as sklearn's StandardScaler does (and
        // the per-row loop below needs rows of at least one value).
        if x.ndim() != 2 || x.dims()[0] == 0 || x.dims()[1] == 0 {
            return Err(Error::bad_shape(
                "Standardizer::fit",
                "expected a 2-d [samples, features] tensor with at least one sample and one feature",
                x.shape(),
            ));
        }
        crate::dtype::require_float("Standardizer::fit", x.dtype())?;
        let (n, f) = (x.dims()[0], x.dims()[1]);
        let (mean, std) = dispatch!(x.dtype(), T => x.with_contiguous::<T, _>(|d| {
            let mut mean = vec![0.0f64; f];
            for row in d.chunks_exact(f) {
                for (m, v) in mean.iter_mut().zip(row) {
                    *m += v.to_f64();
                }
            }
            mean.iter_mut().for_each(|m| *m /= n as f64);
            let mut var = vec![0.0f64; f];
            for row in d.chunks_exact(f) {
                for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                    let c = v.to_f64() - m;
                    *s += c * c;
                }
            }
            let std: Vec<f64> = var
                .iter()
                .map(|s| (s / n as f64).sqrt())
                .map(|s| if s == 0.0 { 1.0 } else { s })
                .collect();
            (mean, std)
        }));
        Ok(Standardizer { mean, std })
    }

    /// The fitted means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The fitted standard deviations (1 where the data was constant).
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// Standardises `x` `[n, features]` with the fitted statistics, keeping
    /// its dtype.
    pub fn transform(&self, x: &Tensor) -> Result<Tensor> {
        if x.ndim() != 2 || x.dims()[1] != self.mean.len() {
            return Err(Error::bad_shape(
                "Standardizer::transform",
                format!("expected [samples, {}]", self.mean.len()),
                x.shape(),
            ));
        }
        crate::dtype::require_float("Standardizer::transform", x.dtype())?;
        let f = self.mean.len();
        Ok(dispatch!(x.dtype(), T => x.with_contiguous::<T, _>(|d| {
            let out: Vec<T> = d
                .iter()
                .enumerate()
                .map(|(i, v)| T::from_f64((v.to_f64() - self.mean[i % f]) / self.std[i % f]))
                .collect();
            Tensor::from_parts(out, x.shape().clone())
        })))
    }
}
