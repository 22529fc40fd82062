//! Activation modules (`torch.nn.ReLU`, `Tanh`, `Sigmoid`, `GELU`,
//! `LeakyReLU`) and the [`Activation`] choice used by [`mlp`](crate::nn::mlp).

use super::module::Module;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, $torch:literal, $method:ident $(, $repr:literal)?) => {
        $(#[$doc])*
        #[doc = concat!("Mirrors `torch.nn.", $torch, "`; has no parameters.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl Module for $name {
            fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
                input.$method()
            }
            fn repr(&self) -> String {
                // PyTorch's text: `ReLU()`, or the given one.
                [concat!($torch, "()") $(, $repr)?].last().expect("one").to_string()
            }
        }
    };
}

activation!(
    /// max(0, x), elementwise.
    ReLU, "ReLU", try_relu
);
activation!(
    /// tanh(x), elementwise.
    Tanh, "Tanh", try_tanh
);
activation!(
    /// 1 / (1 + e^−x), elementwise.
    Sigmoid, "Sigmoid", try_sigmoid
);
activation!(
    /// x·Φ(x) with the exact (erf) form, elementwise.
    GELU, "GELU", try_gelu, "GELU(approximate='none')"
);

/// x for x ≥ 0, `negative_slope`·x otherwise (`torch.nn.LeakyReLU`, default
/// slope 0.01).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyReLU {
    negative_slope: f64,
}

impl LeakyReLU {
    /// A leaky ReLU with the given slope for negative inputs; it must be finite.
    pub fn new(negative_slope: f64) -> Result<Self> {
        if !negative_slope.is_finite() {
            return Err(Error::invalid(
                "LeakyReLU",
                format!("negative_slope must be finite, got {negative_slope}"),
            ));
        }
        Ok(LeakyReLU { negative_slope })
    }

    /// The slope for negative inputs.
    pub fn negative_slope(&self) -> f64 {
        self.negative_slope
    }
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU {
            negative_slope: 0.01,
        }
    }
}

impl Module for LeakyReLU {
    fn try_forward(&self, input: &Tensor) -> Result<Tensor> {
        input.try_leaky_relu(self.negative_slope)
    }
    fn repr(&self) -> String {
        super::repr::leaky_relu_repr(self)
    }
}

/// Which activation [`mlp`](crate::nn::mlp) puts between its layers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// [`ReLU`].
    Relu,
    /// [`Tanh`].
    Tanh,
    /// [`Sigmoid`].
    Sigmoid,
    /// [`GELU`].
    Gelu,
    /// [`LeakyReLU`] with this negative slope.
    LeakyRelu(f64),
}

impl Activation {
    /// The activation as a boxed module.
    pub fn to_module(self) -> Result<Box<dyn Module>> {
        Ok(match self {
            Activation::Relu => Box::new(ReLU),
            Activation::Tanh => Box::new(Tanh),
            Activation::Sigmoid => Box::new(Sigmoid),
            Activation::Gelu => Box::new(GELU),
            Activation::LeakyRelu(slope) => Box::new(LeakyReLU::new(slope)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_values() {
        let x = Tensor::new([-2.0f64, 0.5]);
        assert_eq!(ReLU.forward(&x).to_vec::<f64>(), vec![0.0, 0.5]);
        assert_eq!(
            LeakyReLU::new(0.1).unwrap().forward(&x).to_vec::<f64>(),
            vec![-0.2, 0.5]
        );
        assert_eq!(LeakyReLU::default().negative_slope(), 0.01);
        assert_eq!(Tanh.forward(&x).to_vec::<f64>()[1], 0.5f64.tanh());
        assert_eq!(
            Sigmoid.forward(&x).to_vec::<f64>()[0],
            1.0 / (1.0 + 2f64.exp())
        );
        // GELU(0.5) = 0.5·Φ(0.5), Φ(0.5) = 0.6914624612740131.
        assert!(
            (GELU.forward(&x).to_vec::<f64>()[1] - 0.5 * 0.691_462_461_274_013_1).abs() < 1e-12
        );
        assert!(LeakyReLU::new(f64::NAN).is_err());
        assert!(ReLU.named_parameters().is_empty());
    }
}
