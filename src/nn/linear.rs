//! [`Linear`] (`torch.nn.Linear`).

use rand::Rng;

use super::init::{self, FanMode, Nonlinearity};
use super::module::Module;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// y = x·Wᵀ + b (`torch.nn.Linear`).
///
/// The weight is stored `[out_features, in_features]` and the bias
/// `[out_features]`, as in PyTorch, so their parameter names (`weight`,
/// `bias`) and shapes match a PyTorch `state_dict`. The input may have any
/// number of leading dims: `[*, in_features] → [*, out_features]`.
///
/// Default initialisation is PyTorch's: weight and bias uniform in
/// ±1/√in_features (`kaiming_uniform_(a=√5)` for the weight).
///
/// ```
/// use tapegrad::nn::{Linear, Module};
/// use tapegrad::{seeded_rng, Tensor};
/// let layer = Linear::new(3, 2, true, &mut seeded_rng(0));
/// assert_eq!(layer.weight().dims(), &[2, 3]);
/// let y = layer.forward(&Tensor::ones(&[5, 3]));
/// assert_eq!(y.dims(), &[5, 2]);
/// ```
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// A `float32` layer with PyTorch's default initialisation drawn from
    /// `rng` (weight first, then bias).
    pub fn new<R: Rng + ?Sized>(
        in_features: usize,
        out_features: usize,
        bias: bool,
        rng: &mut R,
    ) -> Linear {
        Linear::with_dtype(in_features, out_features, bias, DType::F32, rng)
    }

    /// [`new`](Linear::new) with a chosen dtype.
    pub fn with_dtype<R: Rng + ?Sized>(
        in_features: usize,
        out_features: usize,
        bias: bool,
        dtype: DType,
        rng: &mut R,
    ) -> Linear {
        let weight = Tensor::full_dtype([out_features, in_features], 0.0, dtype);
        // Cannot fail: the weight is a contiguous 2-d leaf and the bounds are finite.
        init::kaiming_uniform_(
            &weight,
            FanMode::FanIn,
            Nonlinearity::LeakyRelu(5f64.sqrt()),
            rng,
        )
        .expect("Linear init");
        let bias = bias.then(|| {
            let b = Tensor::full_dtype([out_features], 0.0, dtype);
            let bound = if in_features > 0 {
                1.0 / (in_features as f64).sqrt()
            } else {
                0.0
            };
            init::uniform_(&b, -bound, bound, rng).expect("Linear init");
            b.requires_grad_(true)
        });
        Linear {
            weight: weight.requires_grad_(true),
            bias,
        }
    }

    /// A layer from given values: `weight` `[out, in]`, `bias` `[out]`, same
    /// dtype. They are copied into fresh parameters, so the layer never
    /// aliases the tensors passed in.
    pub fn from_tensors(weight: &Tensor, bias: Option<&Tensor>) -> Result<Linear> {
        crate::dtype::require_float("Linear::from_tensors", weight.dtype())?;
        if weight.ndim() != 2 {
            return Err(Error::bad_shape(
                "Linear",
                "the weight must be 2-d [out_features, in_features]",
                weight.shape(),
            ));
        }
        let weight_param = fresh_parameter(weight);
        let bias = match bias {
            Some(b) => {
                if b.dims() != [weight.dims()[0]] {
                    return Err(Error::mismatch(
                        "Linear",
                        "the bias must be [out_features] for a weight [out_features, in_features]",
                        b.shape(),
                        weight.shape(),
                    ));
                }
                if b.dtype() != weight.dtype() {
                    return Err(Error::DTypeMismatch {
                        op: "Linear",
                        lhs: weight.dtype(),
                        rhs: b.dtype(),
                    });
                }
                Some(fresh_parameter(b))
            }
            None => None,
        };
        Ok(Linear {
            weight: weight_param,
            bias,
        })
    }

    /// The weight parameter, `[out_features, in_features]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias parameter, `[out_features]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// Size of each input sample.
    pub fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Size of each output sample.
    pub fn out_features(&self) -> usize {
        self.weight.dims()[0]
    }
}

fn fresh_parameter(t: &Tensor) -> Tensor {
    t.contiguous_copy().requires_grad_(true)
}

impl Module for Linear {
    fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
        let last = input.dims().last().copied();
        if last != Some(self.in_features()) {
            return Err(Error::mismatch(
                "Linear",
                format!(
                    "the input's last dim must be in_features = {}",
                    self.in_features()
                ),
                input.shape(),
                self.weight.shape(),
            ));
        }
        let y = input.try_matmul(&self.weight.try_t()?)?;
        match &self.bias {
            Some(b) => y.try_add(b),
            None => Ok(y),
        }
    }

    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = vec![("weight".to_string(), self.weight.clone())];
        if let Some(b) = &self.bias {
            out.push(("bias".to_string(), b.clone()));
        }
        out
    }
    fn repr(&self) -> String {
        super::repr::linear_repr(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    #[test]
    fn default_init_bound_and_seed() {
        let l = Linear::new(50, 40, true, &mut seeded_rng(9));
        let bound = 1.0 / 50f32.sqrt();
        let w = l.weight().to_vec::<f32>();
        assert!(w.iter().all(|v| v.abs() <= bound));
        // Uniform on ±bound: the extremes are approached.
        assert!(w.iter().any(|v| v.abs() > 0.95 * bound));
        assert!(l
            .bias()
            .unwrap()
            .to_vec::<f32>()
            .iter()
            .all(|v| v.abs() <= bound));
        let again = Linear::new(50, 40, true, &mut seeded_rng(9));
        assert_eq!(again.weight().to_vec::<f32>(), w);
        assert!(l.weight().requires_grad() && l.weight().is_leaf());
    }

    #[test]
    fn forward_matches_formula_and_checks_shape() {
        let w = Tensor::new([[1.0f64, 2.0, 3.0], [-1.0, 0.0, 1.0]]);
        let b = Tensor::new([0.5f64, -0.5]);
        let l = Linear::from_tensors(&w, Some(&b)).unwrap();
        let x = Tensor::new([[1.0f64, 1.0, 1.0], [2.0, 0.0, -1.0]]);
        assert_eq!(l.forward(&x).to_vec::<f64>(), vec![6.5, -0.5, -0.5, -3.5]);
        // 1-d input and extra leading dims.
        assert_eq!(
            l.forward(&Tensor::new([1.0f64, 1.0, 1.0])).to_vec::<f64>(),
            vec![6.5, -0.5]
        );
        assert_eq!(l.forward(&x.reshape([1, 2, 3])).dims(), &[1, 2, 2]);
        let e = l.try_forward(&Tensor::zeros([2, 4]).double()).unwrap_err();
        assert!(e.to_string().contains("in_features = 3"), "{e}");
        let nobias = Linear::from_tensors(&w, None).unwrap();
        assert_eq!(nobias.named_parameters().len(), 1);
        assert!(Linear::from_tensors(&w, Some(&Tensor::new([1.0f64]))).is_err());
    }
}
