//! `multinomial`: draw category indices from rows of probabilities.
//!
//! Sampling is not differentiable; the result is an index tensor built by
//! [`index_tensor`](super::index_out::index_tensor).

use crate::dtype::Scalar;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1};

use super::index_out::index_tensor;
use crate::dtype::dispatch;
use crate::error::{or_panic, Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// PyTorch refuses more categories than `float32` counts exactly.
const MAX_CATEGORIES: usize = 1 << 24;

impl Tensor {
    /// Draws `num_samples` category indices from each row of this 1-d or
    /// 2-d tensor of non-negative weights (`torch.multinomial(input,
    /// num_samples, replacement, generator=rng)`). Rows need not sum to 1;
    /// each is used in proportion to its sum. The result has shape
    /// `[num_samples]` for a 1-d input and `[rows, num_samples]` for a 2-d
    /// one, and holds int64 category ids (as [`argmax`](Tensor::argmax)
    /// returns indices).
    ///
    /// - With `replacement`, the draws are independent and a category of
    ///   weight 0 is never drawn.
    /// - Without, each draw is from the categories not drawn yet, in
    ///   proportion to their weights. tapegrad runs PyTorch's algorithm (an
    ///   exponential race: the largest `w / E`, `E ~ Exp(1)`). When the
    ///   categories of positive weight run out, PyTorch goes on with those of
    ///   weight 0; so does tapegrad, taking them in order of position.
    ///   `num_samples` may not exceed the number of categories.
    ///
    /// Draws come from `rng` (see [`seeded_rng`](crate::seeded_rng)), so a
    /// seed reproduces them; they cannot reproduce PyTorch's random stream,
    /// only its distribution. Errors (naming the value and row): a tensor
    /// that is not 1-d or 2-d, `num_samples = 0`, a negative, infinite or
    /// NaN weight, a row summing to 0, more samples than categories without
    /// replacement, and more than 2^24 categories.
    ///
    /// ```
    /// use tapegrad::{seeded_rng, Tensor};
    /// let probs = Tensor::new([0.0f64, 0.3, 0.7]);
    /// let draws = probs.multinomial(5, true, &mut seeded_rng(0));
    /// assert_eq!(draws.dims(), &[5]);
    /// assert!(draws.to_vec::<f64>().iter().all(|&i| i == 1.0 || i == 2.0));
    /// let all = probs.multinomial(3, false, &mut seeded_rng(0)).to_vec::<f64>();
    /// assert_eq!(all[2], 0.0); // weight 0: drawn only once the others are gone
    /// ```
    pub fn try_multinomial<R: Rng + ?Sized>(
        &self,
        num_samples: usize,
        replacement: bool,
        rng: &mut R,
    ) -> Result<Tensor> {
        const OP: &str = "multinomial";
        if self.ndim() != 1 && self.ndim() != 2 {
            return Err(Error::bad_shape(
                OP,
                "the probabilities must be a 1-d or 2-d tensor",
                self.shape(),
            ));
        }
        if num_samples == 0 {
            return Err(Error::invalid(OP, "num_samples must be at least 1, got 0"));
        }
        let categories = self.dims()[self.ndim() - 1];
        if categories > MAX_CATEGORIES {
            return Err(Error::bad_shape(
                OP,
                format!("the number of categories ({categories}) cannot exceed 2^24"),
                self.shape(),
            ));
        }
        if !replacement && num_samples > categories {
            return Err(Error::invalid(
                OP,
                format!(
                    "cannot draw {num_samples} samples without replacement from \
                     {categories} categories"
                ),
            ));
        }
        crate::dtype::require_float(OP, self.dtype())?;
        let rows = if self.ndim() == 1 { 1 } else { self.dims()[0] };
        let weights = dispatch!(self.dtype(), T => self.with_contiguous::<T, _>(|w| {
            w.iter().map(|v| v.to_f64()).collect::<Vec<f64>>()
        }));
        for r in 0..rows {
            check_row(&weights[r * categories..(r + 1) * categories], r)?;
        }
        let mut drawn = Vec::with_capacity(rows * num_samples);
        for r in 0..rows {
            let row = &weights[r * categories..(r + 1) * categories];
            if replacement {
                draw_with_replacement(row, num_samples, rng, &mut drawn);
            } else {
                draw_without_replacement(row, num_samples, rng, &mut drawn);
            }
        }
        let shape = if self.ndim() == 1 {
            Shape::new(&[num_samples])
        } else {
            Shape::new(&[rows, num_samples])
        };
        Ok(index_tensor(drawn, shape))
    }

    /// Panicking form of [`try_multinomial`](Tensor::try_multinomial).
    #[track_caller]
    pub fn multinomial<R: Rng + ?Sized>(
        &self,
        num_samples: usize,
        replacement: bool,
        rng: &mut R,
    ) -> Tensor {
        or_panic(self.try_multinomial(num_samples, replacement, rng))
    }
}

/// A row must be finite, non-negative weights with a positive sum.
fn check_row(row: &[f64], r: usize) -> Result<()> {
    if let Some((c, w)) = row
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(Error::invalid(
            "multinomial",
            format!(
                "probabilities must be finite and non-negative, but row {r} has {w} at \
                 category {c}"
            ),
        ));
    }
    if row.iter().sum::<f64>() <= 0.0 {
        return Err(Error::invalid(
            "multinomial",
            format!("row {r} has no positive probability (its sum is 0)"),
        ));
    }
    Ok(())
}

/// Independent draws by inverting the cumulative sum with a uniform number.
fn draw_with_replacement<R: Rng + ?Sized>(
    row: &[f64],
    n: usize,
    rng: &mut R,
    out: &mut Vec<usize>,
) {
    let mut cumulative = Vec::with_capacity(row.len());
    let mut total = 0.0;
    for &w in row {
        total += w;
        cumulative.push(total);
    }
    for _ in 0..n {
        let u = rng.random_range(0.0..1.0) * total;
        // The first category whose running sum exceeds u: a weight of 0 adds
        // nothing to the sum, so it is never the first to exceed it.
        let c = cumulative.partition_point(|&s| s <= u);
        out.push(c.min(last_positive(row)));
    }
}

/// Draws without replacement by PyTorch's exponential race: each category
/// gets the key `w / E` with `E ~ Exp(1)`, and the `n` largest keys win, in
/// order. That is the same distribution as drawing one at a time from the
/// categories left in proportion to their weights, in `O(C log C)` instead
/// of `O(n·C)`. Weight-0 categories have key 0 and come last, in position
/// order (the sort is stable).
fn draw_without_replacement<R: Rng + ?Sized>(
    row: &[f64],
    n: usize,
    rng: &mut R,
    out: &mut Vec<usize>,
) {
    let keys: Vec<f64> = row
        .iter()
        .map(|&w| {
            let e: f64 = Exp1.sample(rng);
            w / e
        })
        .collect();
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]));
    out.extend_from_slice(&order[..n]);
}

/// The last category with a positive weight (the row has one).
fn last_positive(row: &[f64]) -> usize {
    row.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}
