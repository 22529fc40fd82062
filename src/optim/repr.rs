//! How optimizers print: PyTorch's `print(optimizer)` layout, with the
//! settings tapegrad has (no `foreach`, `fused`, `capturable` or
//! `differentiable` lines; booleans as Rust writes them).
//!
//! ```
//! use tapegrad::optim::{SgdConfig, SGD};
//! use tapegrad::Tensor;
//! let w = Tensor::zeros(&[3]).requires_grad_(true);
//! let opt = SGD::new([w], SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() }).unwrap();
//! assert_eq!(
//!     opt.to_string(),
//!     "SGD (
//! Parameter Group 0
//!     dampening: 0
//!     lr: 0.1
//!     maximize: false
//!     momentum: 0.9
//!     nesterov: false
//!     weight_decay: 0
//! )"
//! );
//! ```

use std::fmt;

use super::adam::{Adam, AdamConfig, AdamW};
use super::sgd::SGD;
use crate::nn::repr::py_float;

/// `name (\nParameter Group 0\n    key: value ...\n)`, keys sorted as
/// PyTorch sorts them.
fn write_group(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    mut settings: Vec<(&str, String)>,
) -> fmt::Result {
    settings.sort_by(|a, b| a.0.cmp(b.0));
    writeln!(f, "{name} (\nParameter Group 0")?;
    for (key, value) in settings {
        writeln!(f, "    {key}: {value}")?;
    }
    f.write_str(")")
}

fn adam_settings(c: &AdamConfig, decoupled: bool) -> Vec<(&'static str, String)> {
    vec![
        ("amsgrad", c.amsgrad.to_string()),
        (
            "betas",
            format!("({}, {})", py_float(c.betas.0), py_float(c.betas.1)),
        ),
        ("decoupled_weight_decay", decoupled.to_string()),
        ("eps", py_float(c.eps)),
        ("lr", py_float(c.lr)),
        ("maximize", c.maximize.to_string()),
        ("weight_decay", py_float(c.weight_decay)),
    ]
}

impl fmt::Display for SGD {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.config();
        write_group(
            f,
            "SGD",
            vec![
                ("dampening", py_float(c.dampening)),
                ("lr", py_float(c.lr)),
                ("maximize", c.maximize.to_string()),
                ("momentum", py_float(c.momentum)),
                ("nesterov", c.nesterov.to_string()),
                ("weight_decay", py_float(c.weight_decay)),
            ],
        )
    }
}

impl fmt::Display for Adam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_group(f, "Adam", adam_settings(self.config(), false))
    }
}

impl fmt::Display for AdamW {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_group(f, "AdamW", adam_settings(self.config(), true))
    }
}

/// `Debug` is the `Display` text: the settings are what one wants to see,
/// not the moment buffers.
macro_rules! debug_as_display {
    ($($ty:ty),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}

debug_as_display!(SGD, Adam, AdamW);
