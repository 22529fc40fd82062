//! Classification metrics and label helpers.

use crate::dtype::Scalar;
use std::fmt;

use crate::dtype::{dispatch, DType};
use crate::error::{Error, Result};
use crate::shape::Shape;
use crate::tensor::Tensor;

/// The index of the largest score in each row of `[n, classes]` scores
/// (logits or probabilities), as a `[n]` tensor of class ids in the scores'
/// dtype (`scores.argmax(dim=1)`; ties go to the first index, NaN wins).
pub fn predicted_classes(scores: &Tensor) -> Result<Tensor> {
    if scores.ndim() != 2 || scores.dims()[1] == 0 {
        return Err(Error::bad_shape(
            "predicted_classes",
            "expected [samples, classes] scores with at least one class",
            scores.shape(),
        ));
    }
    crate::dtype::require_float("predicted_classes", scores.dtype())?;
    let k = scores.dims()[1];
    Ok(
        dispatch!(scores.dtype(), T => scores.with_contiguous::<T, _>(|d| {
            let ids: Vec<T> = d
                .chunks_exact(k)
                .map(|row| {
                    let mut best = 0;
                    for (j, &v) in row.iter().enumerate() {
                        if v.is_nan() {
                            best = j;
                            break;
                        }
                        if v > row[best] {
                            best = j;
                        }
                    }
                    T::from_f64(best as f64)
                })
                .collect();
            Tensor::from_parts(ids, Shape::new(&[scores.dims()[0]]))
        })),
    )
}

/// Fraction of correct predictions. `predictions` is either `[n, classes]`
/// scores (each row's argmax is the prediction) or `[n]` class ids; `targets`
/// is `[n]` class ids. Returns 0 for n = 0.
///
/// ```
/// use tapegrad::data::accuracy;
/// use tapegrad::Tensor;
/// let logits = Tensor::new([[2.0f32, 1.0], [0.0, 3.0], [1.0, 0.5]]);
/// let targets = Tensor::new([0.0f32, 1.0, 1.0]);
/// assert!((accuracy(&logits, &targets).unwrap() - 2.0 / 3.0).abs() < 1e-12);
/// ```
pub fn accuracy(predictions: &Tensor, targets: &Tensor) -> Result<f64> {
    let pred = match predictions.ndim() {
        2 => predicted_classes(predictions)?,
        1 => predictions.clone(),
        _ => {
            return Err(Error::bad_shape(
                "accuracy",
                "expected [samples, classes] scores or [samples] class ids",
                predictions.shape(),
            ))
        }
    };
    let (p, t) = paired_ids("accuracy", &pred, targets)?;
    if p.is_empty() {
        return Ok(0.0);
    }
    Ok(p.iter().zip(&t).filter(|(a, b)| a == b).count() as f64 / p.len() as f64)
}

/// Accuracy of a binary classifier with one output per sample: predicts 1
/// where `outputs > threshold` (use 0.5 for probabilities, 0 for logits).
/// `outputs` is `[n]` or `[n, 1]`; `targets` is `[n]` of 0/1.
pub fn binary_accuracy(outputs: &Tensor, targets: &Tensor, threshold: f64) -> Result<f64> {
    let n = outputs.dims().first().copied().unwrap_or(0);
    if !(outputs.ndim() == 1 || (outputs.ndim() == 2 && outputs.dims()[1] == 1)) {
        return Err(Error::bad_shape(
            "binary_accuracy",
            "expected [samples] or [samples, 1] outputs",
            outputs.shape(),
        ));
    }
    let pred: Vec<f64> = outputs
        .to_vec::<f64>()
        .iter()
        .map(|&v| if v > threshold { 1.0 } else { 0.0 })
        .collect();
    let pred = Tensor::from_vec(pred, [n])?;
    let (p, t) = paired_ids("binary_accuracy", &pred, targets)?;
    if p.is_empty() {
        return Ok(0.0);
    }
    Ok(p.iter().zip(&t).filter(|(a, b)| a == b).count() as f64 / p.len() as f64)
}

/// Counts of (true class, predicted class) pairs; rows are true classes and
/// columns predictions (`sklearn.metrics.confusion_matrix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    num_classes: usize,
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// Number of samples of true class `actual` predicted as `predicted`.
    pub fn get(&self, actual: usize, predicted: usize) -> usize {
        self.counts[actual * self.num_classes + predicted]
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// The matrix as rows (one per true class).
    pub fn rows(&self) -> Vec<Vec<usize>> {
        self.counts
            .chunks(self.num_classes.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// Total number of samples counted.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Fraction on the diagonal (the accuracy); 0 when empty.
    pub fn accuracy(&self) -> f64 {
        let diag: usize = (0..self.num_classes).map(|c| self.get(c, c)).sum();
        if self.total() == 0 {
            0.0
        } else {
            diag as f64 / self.total() as f64
        }
    }
}

impl fmt::Display for ConfusionMatrix {
    /// One row per true class, columns = predicted class.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(1);
        writeln!(
            f,
            "true\\pred {}",
            (0..self.num_classes)
                .map(|c| format!("{c:>width$}"))
                .collect::<Vec<_>>()
                .join(" ")
        )?;
        for (c, row) in self.rows().iter().enumerate() {
            writeln!(
                f,
                "{c:>9} {}",
                row.iter()
                    .map(|v| format!("{v:>width$}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )?;
        }
        Ok(())
    }
}

/// The confusion matrix of class-id `predictions` (`[n]`, or `[n, classes]`
/// scores whose argmax is taken) against `targets` (`[n]`), for classes
/// `0..num_classes`. Ids must be integral and in range.
///
/// ```
/// use tapegrad::data::confusion_matrix;
/// use tapegrad::Tensor;
/// let pred = Tensor::new([0.0f32, 1.0, 1.0, 2.0]);
/// let truth = Tensor::new([0.0f32, 1.0, 2.0, 2.0]);
/// let cm = confusion_matrix(&pred, &truth, 3).unwrap();
/// assert_eq!(cm.rows(), vec![vec![1, 0, 0], vec![0, 1, 0], vec![0, 1, 1]]);
/// ```
pub fn confusion_matrix(
    predictions: &Tensor,
    targets: &Tensor,
    num_classes: usize,
) -> Result<ConfusionMatrix> {
    let pred = if predictions.ndim() == 2 {
        predicted_classes(predictions)?
    } else {
        predictions.clone()
    };
    let (p, t) = paired_ids("confusion_matrix", &pred, targets)?;
    // num_classes² counters (8 bytes each, as an f64): refuse what cannot be
    // allocated instead of overflowing or aborting.
    crate::tensor::create::check_alloc(
        "confusion_matrix",
        &[num_classes, num_classes],
        DType::F64,
    )?;
    let mut counts = vec![0usize; num_classes * num_classes];
    for (i, (&a, &b)) in t.iter().zip(&p).enumerate() {
        for (what, v) in [("target", a), ("prediction", b)] {
            if v >= num_classes {
                return Err(Error::index_out_of_range(
                    "confusion_matrix",
                    v,
                    0,
                    num_classes,
                    format!(" ({what} {i})"),
                ));
            }
        }
        counts[a * num_classes + b] += 1;
    }
    Ok(ConfusionMatrix {
        num_classes,
        counts,
    })
}

/// `[n]` class ids → `[n, num_classes]` one-hot rows in `dtype`
/// (`torch.nn.functional.one_hot`, as floats).
pub fn one_hot(labels: &Tensor, num_classes: usize, dtype: DType) -> Result<Tensor> {
    if labels.ndim() != 1 {
        return Err(Error::bad_shape(
            "one_hot",
            "expected [samples] class ids",
            labels.shape(),
        ));
    }
    let ids = class_ids("one_hot", labels)?;
    if let Some((i, &c)) = ids.iter().enumerate().find(|(_, &c)| c >= num_classes) {
        return Err(Error::index_out_of_range(
            "one_hot",
            c,
            1,
            num_classes,
            format!(" (label {i})"),
        ));
    }
    crate::tensor::create::check_alloc("one_hot", &[ids.len(), num_classes], dtype)?;
    Ok(crate::dtype::dispatch_scalar!(dtype, T => {
        let mut out = vec![T::default(); ids.len() * num_classes];
        for (i, &c) in ids.iter().enumerate() {
            out[i * num_classes + c] = T::from_f64(1.0);
        }
        Tensor::from_parts(out, Shape::new(&[ids.len(), num_classes]))
    }))
}

/// Class ids as integers, validated: finite, integral, non-negative.
fn class_ids(op: &'static str, t: &Tensor) -> Result<Vec<usize>> {
    t.to_vec::<f64>()
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 2f64.powi(53) {
                Ok(v as usize)
            } else {
                Err(Error::invalid(
                    op,
                    format!("class id {v} at position {i} is not a non-negative integer"),
                ))
            }
        })
        .collect()
}

fn paired_ids(
    op: &'static str,
    pred: &Tensor,
    targets: &Tensor,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if targets.ndim() != 1 || pred.dims() != targets.dims() {
        return Err(Error::mismatch(
            op,
            "predictions and targets must both be [samples]",
            pred.shape(),
            targets.shape(),
        ));
    }
    Ok((class_ids(op, pred)?, class_ids(op, targets)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_ties_and_one_hot() {
        let s = Tensor::new([[1.0f64, 3.0, 3.0], [5.0, 0.0, 1.0]]);
        assert_eq!(
            predicted_classes(&s).unwrap().to_vec::<f64>(),
            vec![1.0, 0.0]
        );
        let oh = one_hot(&Tensor::new([2.0f32, 0.0]), 3, DType::F32).unwrap();
        assert_eq!(oh.to_vec::<f32>(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        assert!(one_hot(&Tensor::new([3.0f32]), 3, DType::F32).is_err());
        let e = one_hot(&Tensor::new([0.5f32]), 3, DType::F32).unwrap_err();
        assert!(e.to_string().contains("0.5 at position 0"), "{e}");
    }

    #[test]
    fn accuracies_and_confusion() {
        let t = Tensor::new([1.0f32, 0.0, 1.0, 1.0]);
        assert_eq!(
            binary_accuracy(&Tensor::new([0.9f32, 0.2, 0.4, 0.7]), &t, 0.5).unwrap(),
            0.75
        );
        assert_eq!(
            accuracy(&Tensor::new([1.0f32, 0.0, 1.0, 0.0]), &t).unwrap(),
            0.75
        );
        let cm = confusion_matrix(&Tensor::new([1.0f32, 0.0, 1.0, 0.0]), &t, 2).unwrap();
        assert_eq!(cm.rows(), vec![vec![1, 0], vec![1, 2]]);
        assert_eq!(cm.accuracy(), 0.75);
        assert!(cm.to_string().contains("true\\pred"));
        assert!(confusion_matrix(&Tensor::new([2.0f32]), &Tensor::new([0.0f32]), 2).is_err());
        assert!(accuracy(&Tensor::new([1.0f32]), &t).is_err());
    }
}
