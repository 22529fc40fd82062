//! [`DataLoader`]: mini-batches over a [`Dataset`].

use rand::{Rng, RngExt};

use super::dataset::{gather_rows, Dataset};
use crate::error::{Error, Result};
use crate::tensor::create::seeded_rng;
use crate::tensor::Tensor;

/// Splits a [`Dataset`] into mini-batches (`torch.utils.data.DataLoader`
/// over a `TensorDataset`).
///
/// Each call to [`epoch`](DataLoader::epoch) yields `(features, labels)`
/// batches that cover every sample exactly once (or all full batches, with
/// [`drop_last`](DataLoader::drop_last)). With [`shuffle`](DataLoader::shuffle)
/// the order of epoch `e` is a permutation drawn from an RNG seeded by
/// `(seed, e)`: each epoch is shuffled differently, and the same seed and
/// epoch always give the same order, whatever was iterated before.
///
/// ```
/// use tapegrad::data::{DataLoader, Dataset};
/// use tapegrad::Tensor;
/// let ds = Dataset::new(Tensor::zeros(&[10, 3]), Tensor::zeros(&[10])).unwrap();
/// let loader = DataLoader::new(&ds, 4).unwrap().shuffle(0).drop_last(true);
/// for epoch in 0..3 {
///     for (x, y) in loader.epoch(epoch) {
///         assert_eq!(x.dims(), &[4, 3]);
///         assert_eq!(y.dims(), &[4]);
///     }
/// }
/// assert_eq!(loader.num_batches(), 2);
/// ```
#[derive(Clone)]
pub struct DataLoader<'a> {
    dataset: &'a Dataset,
    batch_size: usize,
    seed: Option<u64>,
    drop_last: bool,
}

impl<'a> DataLoader<'a> {
    /// Batches of `batch_size` (at least 1) samples in dataset order.
    pub fn new(dataset: &'a Dataset, batch_size: usize) -> Result<DataLoader<'a>> {
        if batch_size == 0 {
            return Err(Error::invalid(
                "DataLoader",
                "batch_size must be at least 1",
            ));
        }
        Ok(DataLoader {
            dataset,
            batch_size,
            seed: None,
            drop_last: false,
        })
    }

    /// Shuffles the samples every epoch, reproducibly from `seed`
    /// (`shuffle=True` with a seeded `generator`).
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Drops the last batch when it would be smaller than `batch_size`
    /// (`drop_last=True`).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// Batches per epoch (`len(loader)`).
    pub fn num_batches(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// The order in which epoch `epoch` visits the samples.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.seed {
            // Mixing (seed, epoch) into one seed makes each epoch's order
            // independent of how many epochs were iterated before.
            let mixed = splitmix64(seed ^ splitmix64(epoch.wrapping_add(0x5EED)));
            shuffle(&mut order, &mut seeded_rng(mixed));
        }
        order
    }

    /// The batches of epoch `epoch`.
    pub fn epoch(&self, epoch: u64) -> Batches<'a> {
        Batches {
            dataset: self.dataset,
            order: self.order(epoch),
            batch_size: self.batch_size,
            drop_last: self.drop_last,
            next: 0,
        }
    }
}

/// The batches of one epoch, as `(features, labels)` pairs; made by
/// [`DataLoader::epoch`].
pub struct Batches<'a> {
    dataset: &'a Dataset,
    order: Vec<usize>,
    batch_size: usize,
    drop_last: bool,
    next: usize,
}

impl Iterator for Batches<'_> {
    type Item = (Tensor, Tensor);

    fn next(&mut self) -> Option<(Tensor, Tensor)> {
        let remaining = self.order.len() - self.next;
        if remaining == 0 || (self.drop_last && remaining < self.batch_size) {
            return None;
        }
        let end = self.next + remaining.min(self.batch_size);
        let idx = &self.order[self.next..end];
        self.next = end;
        Some((
            gather_rows(self.dataset.features(), idx),
            gather_rows(self.dataset.labels(), idx),
        ))
    }
}

/// Fisher–Yates shuffle.
pub(crate) fn shuffle<R: Rng + ?Sized>(v: &mut [usize], rng: &mut R) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The loader's settings, as the arguments of PyTorch's `DataLoader`, and
/// the batches per epoch, e.g. `DataLoader(batch_size=32, shuffle=true,
/// seed=7, drop_last=false, batches=4, dataset=Dataset(len=120, ...))`.
impl std::fmt::Display for DataLoader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataLoader(batch_size={}, shuffle=", self.batch_size)?;
        match self.seed {
            Some(seed) => write!(f, "true, seed={seed}")?,
            None => f.write_str("false")?,
        }
        write!(
            f,
            ", drop_last={}, batches={}, dataset={})",
            self.drop_last,
            self.num_batches(),
            self.dataset
        )
    }
}

/// The `Display` line.
impl std::fmt::Debug for DataLoader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
