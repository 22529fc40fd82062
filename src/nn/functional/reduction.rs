//! How a loss turns per-element values into its result: PyTorch's
//! `reduction=` argument.
//!
//! Two enums make the invalid combination unrepresentable: every loss takes a
//! [`Reduction`] (`none` / `sum` / `mean`), and only
//! [`kl_div`](super::kl_div) takes a [`KlReduction`], which adds `batchmean`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// `reduction=` of the `torch.nn.functional` losses (except `kl_div`, see
/// [`KlReduction`]). The default is [`Mean`](Reduction::Mean), as in PyTorch.
///
/// ```
/// use tapegrad::nn::functional::Reduction;
/// assert_eq!("sum".parse::<Reduction>().unwrap(), Reduction::Sum);
/// // batchmean only makes sense for kl_div, so it does not parse here.
/// assert!("batchmean".parse::<Reduction>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// One loss per element (per sample / position): `reduction='none'`.
    None,
    /// The sum of the losses: `reduction='sum'`.
    Sum,
    /// The average loss: `reduction='mean'`. What it divides by depends on
    /// the loss (e.g. the summed class weights for `nll_loss`); each loss
    /// documents it.
    #[default]
    Mean,
}

/// `reduction=` of `torch.nn.functional.kl_div`, whose default is
/// [`Mean`](KlReduction::Mean) (an average over *all* elements, as in
/// PyTorch); [`BatchMean`](KlReduction::BatchMean) gives the mathematical KL
/// divergence per sample.
///
/// ```
/// use tapegrad::nn::functional::{KlReduction, Reduction};
/// assert_eq!("batchmean".parse::<KlReduction>().unwrap(), KlReduction::BatchMean);
/// assert_eq!(KlReduction::from(Reduction::Sum), KlReduction::Sum);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KlReduction {
    /// Element-wise losses: `reduction='none'`.
    None,
    /// Their sum: `reduction='sum'`.
    Sum,
    /// Their average over every element: `reduction='mean'`.
    #[default]
    Mean,
    /// The sum divided by the batch size `input.size(0)`:
    /// `reduction='batchmean'`.
    BatchMean,
}

impl From<Reduction> for KlReduction {
    fn from(r: Reduction) -> Self {
        match r {
            Reduction::None => KlReduction::None,
            Reduction::Sum => KlReduction::Sum,
            Reduction::Mean => KlReduction::Mean,
        }
    }
}

impl FromStr for Reduction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(Reduction::None),
            "sum" => Ok(Reduction::Sum),
            "mean" => Ok(Reduction::Mean),
            "batchmean" => Err(Error::invalid(
                "reduction",
                "'batchmean' is only accepted by kl_div (use KlReduction::BatchMean)",
            )),
            other => Err(Error::invalid(
                "reduction",
                format!("unknown reduction '{other}' (expected 'none', 'sum' or 'mean')"),
            )),
        }
    }
}

impl FromStr for KlReduction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "batchmean" => Ok(KlReduction::BatchMean),
            other => other.parse::<Reduction>().map(KlReduction::from).map_err(|_| {
                Error::invalid(
                    "reduction",
                    format!("unknown reduction '{other}' (expected 'none', 'sum', 'mean' or 'batchmean')"),
                )
            }),
        }
    }
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reduction::None => "none",
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
        })
    }
}

impl fmt::Display for KlReduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KlReduction::None => "none",
            KlReduction::Sum => "sum",
            KlReduction::Mean => "mean",
            KlReduction::BatchMean => "batchmean",
        })
    }
}

impl Reduction {
    /// Reduces per-element losses; `mean` divides the sum by `divisor`
    /// (0/0 gives NaN, as PyTorch does for an empty or all-ignored batch).
    pub(crate) fn reduce(self, losses: Tensor, divisor: f64) -> Result<Tensor> {
        match self {
            Reduction::None => Ok(losses),
            Reduction::Sum => losses.try_sum(),
            Reduction::Mean => losses.try_sum()?.try_div_scalar(divisor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        for r in [Reduction::None, Reduction::Sum, Reduction::Mean] {
            assert_eq!(r.to_string().parse::<Reduction>().unwrap(), r);
        }
        for r in [
            KlReduction::None,
            KlReduction::Sum,
            KlReduction::Mean,
            KlReduction::BatchMean,
        ] {
            assert_eq!(r.to_string().parse::<KlReduction>().unwrap(), r);
        }
        assert_eq!(Reduction::default(), Reduction::Mean);
        assert_eq!(KlReduction::default(), KlReduction::Mean);
    }

    #[test]
    fn mean_divides_by_the_given_divisor() {
        let x = Tensor::new([1.0f64, 2.0, 3.0]);
        let m = Reduction::Mean.reduce(x.clone(), 4.0).unwrap();
        assert_eq!(m.item::<f64>(), 1.5);
        let empty = Tensor::zeros([0]).double();
        assert!(Reduction::Mean
            .reduce(empty, 0.0)
            .unwrap()
            .item::<f64>()
            .is_nan());
        assert_eq!(Reduction::None.reduce(x, 0.0).unwrap().dims(), &[3]);
    }
}
