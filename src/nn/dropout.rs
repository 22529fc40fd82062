//! [`Dropout`] (`torch.nn.Dropout`).

use crate::dtype::Scalar;
use std::cell::RefCell;

use rand::rngs::ChaCha12Rng;
use rand_distr::{Distribution, StandardUniform};

use super::module::Module;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::tensor::create::seeded_rng;
use crate::tensor::Tensor;

/// Zeroes each element with probability `p` during training and scales the
/// survivors by 1/(1−p), so the expected value is unchanged
/// (`torch.nn.Dropout`). In evaluation mode it is the identity.
///
/// The mask comes from the module's own RNG, seeded at construction: the same
/// seed gives the same masks, call after call.
///
/// ```
/// use tapegrad::nn::{Dropout, Module};
/// use tapegrad::Tensor;
/// let mut drop = Dropout::new(0.5, 42).unwrap();
/// let x = Tensor::ones(&[1000]);
/// let y = drop.forward(&x).to_vec::<f32>();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// drop.eval();
/// assert_eq!(drop.forward(&x).to_vec::<f32>(), x.to_vec::<f32>());
/// ```
pub struct Dropout {
    p: f64,
    training: bool,
    rng: RefCell<ChaCha12Rng>,
}

impl Dropout {
    /// Dropout with probability `p` in `[0, 1]`, its masks drawn from an RNG
    /// seeded with `seed`.
    pub fn new(p: f64, seed: u64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(
                "Dropout",
                format!("dropout probability has to be between 0 and 1, but got {p}"),
            ));
        }
        Ok(Dropout {
            p,
            training: true,
            rng: RefCell::new(seeded_rng(seed)),
        })
    }

    /// The drop probability.
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Module for Dropout {
    fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
        crate::dtype::require_float("Dropout", input.dtype())?;
        if !self.training || self.p == 0.0 {
            return Ok(input.clone());
        }
        // The mask is a constant, so gradients flow through the product:
        // d/dx = mask, as in PyTorch.
        let mask = dispatch!(input.dtype(), T => {
            let mut rng = self.rng.borrow_mut();
            let keep_scale = if self.p == 1.0 { T::ZERO } else { T::from_f64(1.0 / (1.0 - self.p)) };
            let data: Vec<T> = (0..input.numel())
                .map(|_| {
                    let u: f64 = StandardUniform.sample(&mut *rng);
                    if u < self.p { T::ZERO } else { keep_scale }
                })
                .collect();
            Tensor::from_parts(data, input.shape().clone())
        });
        input.try_mul(&mask)
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }
    fn repr(&self) -> String {
        super::repr::dropout_repr(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_scale_gradient_and_seed() {
        let x = Tensor::ones([10_000]).double().requires_grad_(true);
        let d = Dropout::new(0.3, 7).unwrap();
        let y = d.forward(&x);
        let v = y.to_vec::<f64>();
        let kept = v.iter().filter(|&&e| e != 0.0).count() as f64 / v.len() as f64;
        assert!((kept - 0.7).abs() < 0.02, "kept fraction {kept}");
        assert!(v.iter().all(|&e| e == 0.0 || (e - 1.0 / 0.7).abs() < 1e-15));
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec::<f64>(), v);

        let again = Dropout::new(0.3, 7).unwrap().forward(&x.detach());
        assert_eq!(again.to_vec::<f64>(), v);
        // A second call draws a new mask.
        assert_ne!(d.forward(&x.detach()).to_vec::<f64>(), v);
    }

    #[test]
    fn edge_probabilities() {
        let x = Tensor::ones([50]);
        assert!(Dropout::new(1.0, 0)
            .unwrap()
            .forward(&x)
            .to_vec::<f32>()
            .iter()
            .all(|&v| v == 0.0));
        assert_eq!(
            Dropout::new(0.0, 0).unwrap().forward(&x).to_vec::<f32>(),
            x.to_vec::<f32>()
        );
        let e = Dropout::new(1.5, 0).unwrap_err();
        assert!(e.to_string().contains("between 0 and 1"));
        assert!(Dropout::new(f64::NAN, 0).is_err());
    }
}
