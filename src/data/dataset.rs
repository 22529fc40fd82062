//! [`Dataset`]: features and labels held in memory.

use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::create::seeded_rng;
use crate::tensor::Tensor;

/// Samples held in memory: `features` `[n, ...]` and `labels` `[n, ...]`,
/// row `i` of each being sample `i` (a `TensorDataset` in PyTorch terms).
///
/// Both are stored detached from any graph: a dataset is input, not
/// something to differentiate.
#[derive(Clone)]
pub struct Dataset {
    features: Tensor,
    labels: Tensor,
}

impl Dataset {
    /// A dataset from features and labels with the same first dim.
    pub fn new(features: Tensor, labels: Tensor) -> Result<Dataset> {
        if features.ndim() == 0 || labels.ndim() == 0 {
            return Err(Error::mismatch(
                "Dataset",
                "features and labels need a first (sample) dim",
                features.shape(),
                labels.shape(),
            ));
        }
        if features.dims()[0] != labels.dims()[0] {
            return Err(Error::mismatch(
                "Dataset",
                "features and labels must have the same number of rows",
                features.shape(),
                labels.shape(),
            ));
        }
        Ok(Dataset {
            features: features.detach(),
            labels: labels.detach(),
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.dims()[0]
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All features, `[n, ...]`.
    pub fn features(&self) -> &Tensor {
        &self.features
    }

    /// All labels, `[n, ...]`.
    pub fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// The samples at `indices`, in that order (indices may repeat).
    pub fn select(&self, indices: &[usize]) -> Result<Dataset> {
        if let Some((pos, &i)) = indices.iter().enumerate().find(|(_, &i)| i >= self.len()) {
            return Err(Error::index_out_of_range(
                "Dataset::select",
                i,
                0,
                self.len(),
                format!(" (position {pos})"),
            ));
        }
        Ok(Dataset {
            features: gather_rows(&self.features, indices),
            labels: gather_rows(&self.labels, indices),
        })
    }

    /// The first `n` samples and the rest, in file order (the split rule of
    /// the datasets in `data/`).
    pub fn split_at(&self, n: usize) -> Result<(Dataset, Dataset)> {
        if n > self.len() {
            return Err(Error::invalid(
                "Dataset::split_at",
                format!("cannot take {n} samples from a dataset of {}", self.len()),
            ));
        }
        let head: Vec<usize> = (0..n).collect();
        let tail: Vec<usize> = (n..self.len()).collect();
        Ok((self.select(&head)?, self.select(&tail)?))
    }

    /// The same samples with the features replaced by `f(features)`, e.g. a
    /// [`Standardizer`](crate::data::Standardizer)'s transform.
    pub fn map_features(&self, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Dataset> {
        Dataset::new(f(&self.features)?, self.labels.clone())
    }
}

/// A random train/test split (`sklearn.model_selection.train_test_split`
/// without stratification): the samples are shuffled with `seed`, then the
/// last ⌈test_fraction·n⌉ go to the test part.
pub fn train_test_split(
    dataset: &Dataset,
    test_fraction: f64,
    seed: u64,
) -> Result<(Dataset, Dataset)> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(Error::invalid(
            "train_test_split",
            format!("test_fraction must be in (0, 1), got {test_fraction}"),
        ));
    }
    let n = dataset.len();
    let n_test = (test_fraction * n as f64).ceil() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    crate::data::loader::shuffle(&mut order, &mut seeded_rng(seed));
    let (train_idx, test_idx) = order.split_at(n - n_test);
    Ok((dataset.select(train_idx)?, dataset.select(test_idx)?))
}

/// Copies rows `indices` of `t` (first dim) into a new contiguous tensor.
pub(crate) fn gather_rows(t: &Tensor, indices: &[usize]) -> Tensor {
    let row: usize = t.dims()[1..].iter().product();
    let mut dims = t.dims().to_vec();
    dims[0] = indices.len();
    crate::dtype::dispatch_scalar!(t.dtype(), T => t.with_contiguous::<T, _>(|d| {
        let mut out = Vec::with_capacity(indices.len() * row);
        for &i in indices {
            out.extend_from_slice(&d[i * row..(i + 1) * row]);
        }
        Tensor::from_parts(out, Shape::new(&dims))
    }))
}

/// One line: the sample count and each tensor's shape and dtype, e.g.
/// `Dataset(len=150, features=[150, 4] float32, labels=[150] float32)`.
impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Dataset(len={}, features={} {}, labels={} {})",
            self.len(),
            self.features.shape(),
            self.features.dtype(),
            self.labels.shape(),
            self.labels.dtype()
        )
    }
}

/// The `Display` line: the values themselves are rarely what one wants
/// printed.
impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: usize) -> Dataset {
        let x = Tensor::arange(0.0, (2 * n) as f64, 1.0)
            .unwrap()
            .reshape([n, 2]);
        let y = Tensor::arange(0.0, n as f64, 1.0).unwrap();
        Dataset::new(x, y).unwrap()
    }

    #[test]
    fn select_split_and_errors() {
        let ds = toy(5);
        let s = ds.select(&[4, 0]).unwrap();
        assert_eq!(s.features().to_vec::<f32>(), vec![8.0, 9.0, 0.0, 1.0]);
        assert_eq!(s.labels().to_vec::<f32>(), vec![4.0, 0.0]);
        let (a, b) = ds.split_at(3).unwrap();
        assert_eq!((a.len(), b.len()), (3, 2));
        assert_eq!(b.labels().to_vec::<f32>(), vec![3.0, 4.0]);
        assert!(matches!(
            ds.select(&[5]),
            Err(Error::IndexOutOfRange { index: 5, .. })
        ));
        assert!(ds.split_at(6).is_err());
        assert!(Dataset::new(Tensor::zeros([3, 2]), Tensor::zeros([4])).is_err());
    }

    #[test]
    fn random_split_is_a_seeded_partition() {
        let ds = toy(10);
        let (tr, te) = train_test_split(&ds, 0.3, 1).unwrap();
        assert_eq!((tr.len(), te.len()), (7, 3));
        let mut all: Vec<f32> = tr.labels().to_vec::<f32>();
        all.extend(te.labels().to_vec::<f32>());
        all.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(all, (0..10).map(|i| i as f32).collect::<Vec<_>>());
        let (_, te2) = train_test_split(&ds, 0.3, 1).unwrap();
        assert_eq!(te2.labels().to_vec::<f32>(), te.labels().to_vec::<f32>());
        assert!(train_test_split(&ds, 1.0, 1).is_err());
    }
}
