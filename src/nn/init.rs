//! Parameter initialisers (`torch.nn.init`).
//!
//! Each function fills an existing tensor in place, without recording
//! anything, like PyTorch's trailing-underscore initialisers. Random ones
//! draw from the `rng` they are given: the same seed gives bit-identical
//! weights on every run and platform.
//!
//! ```
//! use tapegrad::nn::init::{self, FanMode, Nonlinearity};
//! use tapegrad::{seeded_rng, Tensor};
//! let w = Tensor::zeros(&[64, 32]).requires_grad_(true);
//! init::kaiming_uniform_(&w, FanMode::FanIn, Nonlinearity::Relu, &mut seeded_rng(1)).unwrap();
//! let bound = (2.0f32).sqrt() * (3.0f32 / 32.0).sqrt();
//! assert!(w.to_vec::<f32>().iter().all(|v| v.abs() <= bound));
//! ```

use crate::dtype::Scalar;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};

use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The non-linearity that follows a layer, for [`calculate_gain`]
/// (the `nonlinearity` argument of `torch.nn.init`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nonlinearity {
    /// No non-linearity (also conv layers): gain 1.
    Linear,
    /// Sigmoid: gain 1.
    Sigmoid,
    /// Tanh: gain 5/3.
    Tanh,
    /// ReLU: gain √2.
    Relu,
    /// Leaky ReLU with this negative slope: gain √(2 / (1 + slope²)).
    LeakyRelu(f64),
    /// SELU: gain 3/4.
    Selu,
}

/// Which fan Kaiming initialisation preserves the variance of
/// (`mode='fan_in'` / `'fan_out'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanMode {
    /// Preserve the variance of activations in the forward pass (default).
    FanIn,
    /// Preserve the variance of gradients in the backward pass.
    FanOut,
}

/// The recommended gain for a non-linearity (`torch.nn.init.calculate_gain`).
pub fn calculate_gain(nonlinearity: Nonlinearity) -> f64 {
    match nonlinearity {
        Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
        Nonlinearity::Selu => 0.75,
    }
}

/// `(fan_in, fan_out)` of a weight of shape `[out, in, *kernel]`
/// (`torch.nn.init._calculate_fan_in_and_fan_out`). Needs at least 2 dims.
pub fn fan_in_and_fan_out(tensor: &Tensor) -> Result<(usize, usize)> {
    let dims = tensor.dims();
    if dims.len() < 2 {
        return Err(Error::bad_shape(
            "init",
            "fan in and fan out need a tensor with at least 2 dims",
            tensor.shape(),
        ));
    }
    let receptive: usize = dims[2..].iter().product();
    Ok((dims[1] * receptive, dims[0] * receptive))
}

/// Fills with samples from U(low, high) (`torch.nn.init.uniform_`).
pub fn uniform_<R: Rng + ?Sized>(tensor: &Tensor, low: f64, high: f64, rng: &mut R) -> Result<()> {
    if !(low.is_finite() && high.is_finite()) || low > high {
        return Err(Error::invalid(
            "init.uniform_",
            format!("need finite low <= high, got low={low}, high={high}"),
        ));
    }
    check_target("init.uniform_", tensor)?;
    dispatch!(tensor.dtype(), T => fill_uniform::<T, R>(tensor, low, high, rng));
    Ok(())
}

/// Fills with samples from N(mean, std²) (`torch.nn.init.normal_`).
pub fn normal_<R: Rng + ?Sized>(tensor: &Tensor, mean: f64, std: f64, rng: &mut R) -> Result<()> {
    if !(mean.is_finite() && std.is_finite()) || std < 0.0 {
        return Err(Error::invalid(
            "init.normal_",
            format!("need a finite mean and a finite std >= 0, got mean={mean}, std={std}"),
        ));
    }
    check_target("init.normal_", tensor)?;
    dispatch!(tensor.dtype(), T => fill_normal::<T, R>(tensor, mean, std, rng));
    Ok(())
}

/// Fills with `value` (`torch.nn.init.constant_`).
pub fn constant_(tensor: &Tensor, value: f64) -> Result<()> {
    check_target("init.constant_", tensor)?;
    dispatch!(tensor.dtype(), T => {
        let v = T::from_f64(value);
        tensor.update_data::<T>(|d| d.fill(v));
    });
    Ok(())
}

/// Fills with zeros (`torch.nn.init.zeros_`).
pub fn zeros_(tensor: &Tensor) -> Result<()> {
    constant_(tensor, 0.0)
}

/// Fills with ones (`torch.nn.init.ones_`).
pub fn ones_(tensor: &Tensor) -> Result<()> {
    constant_(tensor, 1.0)
}

/// Glorot uniform: U(−a, a) with a = gain·√(6 / (fan_in + fan_out))
/// (`torch.nn.init.xavier_uniform_`).
pub fn xavier_uniform_<R: Rng + ?Sized>(tensor: &Tensor, gain: f64, rng: &mut R) -> Result<()> {
    let (fan_in, fan_out) = fan_in_and_fan_out(tensor)?;
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    let a = 3f64.sqrt() * std;
    uniform_(tensor, -a, a, rng)
}

/// Glorot normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out))
/// (`torch.nn.init.xavier_normal_`).
pub fn xavier_normal_<R: Rng + ?Sized>(tensor: &Tensor, gain: f64, rng: &mut R) -> Result<()> {
    let (fan_in, fan_out) = fan_in_and_fan_out(tensor)?;
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    normal_(tensor, 0.0, std, rng)
}

/// He uniform: U(−b, b) with b = gain·√(3 / fan) (`torch.nn.init.kaiming_uniform_`).
///
/// PyTorch's default `a=0, nonlinearity='leaky_relu'` is
/// `Nonlinearity::LeakyRelu(0.0)`; [`Linear`](crate::nn::Linear)'s default
/// initialisation is `LeakyRelu(√5)` with `FanIn`, which gives b = 1/√fan_in.
pub fn kaiming_uniform_<R: Rng + ?Sized>(
    tensor: &Tensor,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut R,
) -> Result<()> {
    let std = kaiming_std(tensor, mode, nonlinearity)?;
    let bound = 3f64.sqrt() * std;
    uniform_(tensor, -bound, bound, rng)
}

/// He normal: N(0, std²) with std = gain / √fan (`torch.nn.init.kaiming_normal_`).
pub fn kaiming_normal_<R: Rng + ?Sized>(
    tensor: &Tensor,
    mode: FanMode,
    nonlinearity: Nonlinearity,
    rng: &mut R,
) -> Result<()> {
    let std = kaiming_std(tensor, mode, nonlinearity)?;
    normal_(tensor, 0.0, std, rng)
}

fn kaiming_std(tensor: &Tensor, mode: FanMode, nonlinearity: Nonlinearity) -> Result<f64> {
    let (fan_in, fan_out) = fan_in_and_fan_out(tensor)?;
    let fan = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    if fan == 0 {
        // PyTorch warns and leaves the (empty) tensor alone; with no elements
        // there is nothing to fill, so a zero std is harmless.
        return Ok(0.0);
    }
    Ok(calculate_gain(nonlinearity) / (fan as f64).sqrt())
}

/// Initialisers write into the buffer directly, which is only possible for a
/// contiguous tensor that no recorded op depends on.
fn check_target(op: &'static str, tensor: &Tensor) -> Result<()> {
    crate::dtype::require_float(op, tensor.dtype())?;
    if !tensor.is_leaf() {
        return Err(Error::invalid(
            op,
            "can only initialise a leaf tensor (a parameter), not the result of an op",
        ));
    }
    if !tensor.is_contiguous() {
        return Err(Error::invalid(op, "the tensor must be contiguous"));
    }
    Ok(())
}

fn fill_uniform<T: Element, R: Rng + ?Sized>(tensor: &Tensor, low: f64, high: f64, rng: &mut R) {
    let (low_t, span) = (T::from_f64(low), T::from_f64(high - low));
    tensor.update_data::<T>(|d| {
        for v in d {
            let u: f64 = StandardUniform.sample(rng);
            *v = low_t + span * T::from_f64(u);
        }
    });
}

fn fill_normal<T: Element, R: Rng + ?Sized>(tensor: &Tensor, mean: f64, std: f64, rng: &mut R) {
    tensor.update_data::<T>(|d| {
        for v in d {
            let z: f64 = StandardNormal.sample(rng);
            *v = T::from_f64(mean + std * z);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeded_rng;

    #[test]
    fn same_seed_gives_identical_weights() {
        let a = Tensor::zeros([5, 7]);
        let b = Tensor::zeros([5, 7]);
        kaiming_normal_(&a, FanMode::FanIn, Nonlinearity::Relu, &mut seeded_rng(3)).unwrap();
        kaiming_normal_(&b, FanMode::FanIn, Nonlinearity::Relu, &mut seeded_rng(3)).unwrap();
        let (va, vb) = (a.to_vec::<f32>(), b.to_vec::<f32>());
        assert!(va.iter().zip(&vb).all(|(x, y)| x.to_bits() == y.to_bits()));
        let c = Tensor::zeros([5, 7]);
        kaiming_normal_(&c, FanMode::FanIn, Nonlinearity::Relu, &mut seeded_rng(4)).unwrap();
        assert_ne!(va, c.to_vec::<f32>());
    }

    #[test]
    fn bounds_and_statistics() {
        // xavier_uniform on [200, 300]: bound √(6/500).
        let w = Tensor::zeros([200, 300]).double();
        xavier_uniform_(&w, 1.0, &mut seeded_rng(0)).unwrap();
        let v = w.to_vec::<f64>();
        let bound = (6.0f64 / 500.0).sqrt();
        assert!(v.iter().all(|x| x.abs() <= bound));
        let var = v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64;
        assert!((var - bound * bound / 3.0).abs() < 0.05 * bound * bound / 3.0);

        // kaiming_normal fan_out, relu: std = √2/√200.
        kaiming_normal_(&w, FanMode::FanOut, Nonlinearity::Relu, &mut seeded_rng(1)).unwrap();
        let v = w.to_vec::<f64>();
        let var = v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64;
        assert!((var - 2.0 / 200.0).abs() < 0.05 * 2.0 / 200.0);
    }

    #[test]
    fn gains_match_pytorch() {
        assert_eq!(calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
        assert_eq!(calculate_gain(Nonlinearity::Relu), 2f64.sqrt());
        // Linear's default: kaiming_uniform(a=√5) → bound = 1/√fan_in.
        let gain = calculate_gain(Nonlinearity::LeakyRelu(5f64.sqrt()));
        assert!((gain * 3f64.sqrt() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn errors() {
        let v = Tensor::zeros([3]);
        let e = xavier_uniform_(&v, 1.0, &mut seeded_rng(0)).unwrap_err();
        assert!(e.to_string().contains("at least 2 dims"), "{e}");
        let w = Tensor::zeros([3, 3]);
        assert!(uniform_(&w, 1.0, 0.0, &mut seeded_rng(0)).is_err());
        assert!(normal_(&w, 0.0, f64::NAN, &mut seeded_rng(0)).is_err());
        assert!(constant_(&w.t(), 1.0).is_err());
        constant_(&w, 2.5).unwrap();
        assert!(w.to_vec::<f32>().iter().all(|&x| x == 2.5));
    }
}
