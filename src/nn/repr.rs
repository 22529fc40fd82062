//! How modules print: the text of PyTorch's `print(model)`, and a parameter
//! count.
//!
//! `Display` (`{}`) gives PyTorch's text, nested children indented by two
//! spaces per level; the one difference is that booleans are Rust's `true`
//! and `false`. `Debug` (`{:?}`) adds a last line with the number of scalar
//! parameters, which PyTorch users usually compute by hand.
//!
//! ```
//! use tapegrad::nn::{mlp, Activation, Module};
//! use tapegrad::seeded_rng;
//! let model = mlp(&[4, 8, 3], Activation::Relu, &mut seeded_rng(0)).unwrap();
//! assert_eq!(
//!     model.to_string(),
//!     "Sequential(
//!   (0): Linear(in_features=4, out_features=8, bias=true)
//!   (1): ReLU()
//!   (2): Linear(in_features=8, out_features=3, bias=true)
//! )"
//! );
//! assert!(format!("{model:?}").ends_with(")\n67 parameters"));
//! ```

use std::fmt;

use super::activation::{LeakyReLU, ReLU, Sigmoid, Tanh, GELU};
use super::dropout::Dropout;
use super::linear::Linear;
use super::module::Module;
use super::sequential::Sequential;

/// The PyTorch-style text of a module with settings `extra` (e.g.
/// `"p=0.5"`, may be empty) and named children (`Module.__repr__`): one line
/// when there are no children, otherwise one line per child, indented.
///
/// ```
/// use tapegrad::nn::{repr_with_children, ReLU, Tanh};
/// assert_eq!(repr_with_children("Block", "", &[]), "Block()");
/// assert_eq!(
///     repr_with_children("Block", "scale=2", &[("act", &ReLU), ("out", &Tanh)]),
///     "Block(\n  scale=2\n  (act): ReLU()\n  (out): Tanh()\n)"
/// );
/// ```
pub fn repr_with_children(name: &str, extra: &str, children: &[(&str, &dyn Module)]) -> String {
    let mut lines: Vec<String> = extra.lines().map(str::to_string).collect();
    if lines.len() == 1 && children.is_empty() {
        return format!("{name}({})", lines[0]);
    }
    for (key, child) in children {
        // Lines after a child's first are indented once more, as PyTorch's
        // `_addindent` does.
        lines.push(format!("({key}): {}", child.repr().replace('\n', "\n  ")));
    }
    if lines.is_empty() {
        return format!("{name}()");
    }
    format!("{name}(\n  {}\n)", lines.join("\n  "))
}

/// A float as Python's `repr` writes it (`0.01`, `1.0`, `1e-08`), so that
/// settings read as in PyTorch. Zero is written `0`, as PyTorch shows its
/// integer defaults (`weight_decay: 0`).
pub(crate) fn py_float(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let a = x.abs();
    if (1e-4..1e16).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // Rust writes `1e-8`; Python `1e-08`.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').expect("{:e} has an exponent");
        let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
        format!("{mantissa}e{sign}{digits:0>2}")
    }
}

/// `Display` and `Debug` for a module type, from its [`Module::repr`].
macro_rules! print_as_module {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&Module::repr(self))
            }
        }
    )*};
}

/// `Debug`: the `Display` text and the parameter count.
macro_rules! debug_as_module {
    ($($ty:ty),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_with_count(self, f)
            }
        }
    )*};
}

fn write_with_count(m: &dyn Module, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let n = m.num_parameters();
    write!(
        f,
        "{}\n{n} parameter{}",
        m.repr(),
        if n == 1 { "" } else { "s" }
    )
}

print_as_module!(Linear, Sequential, Dropout, LeakyReLU, ReLU, Tanh, Sigmoid, GELU);
debug_as_module!(Linear, Sequential, Dropout);

/// Prints any module, e.g. a `Box<dyn Module>`, as its [`Module::repr`].
impl fmt::Display for dyn Module + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr())
    }
}

/// Prints any module as its [`Module::repr`] and its parameter count.
impl fmt::Debug for dyn Module + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_count(self, f)
    }
}

impl Linear {
    /// PyTorch's `extra_repr` of `nn.Linear`.
    fn settings(&self) -> String {
        format!(
            "in_features={}, out_features={}, bias={}",
            self.in_features(),
            self.out_features(),
            self.bias().is_some()
        )
    }
}

/// The texts of the layers without children; `Module::repr` implementations
/// call these.
pub(crate) fn linear_repr(l: &Linear) -> String {
    repr_with_children("Linear", &l.settings(), &[])
}

pub(crate) fn dropout_repr(d: &Dropout) -> String {
    // PyTorch shows `inplace=False`; tapegrad's dropout never works in place.
    repr_with_children(
        "Dropout",
        &format!("p={}, inplace=false", py_float(d.p())),
        &[],
    )
}

pub(crate) fn leaky_relu_repr(l: &LeakyReLU) -> String {
    repr_with_children(
        "LeakyReLU",
        &format!("negative_slope={}", py_float(l.negative_slope())),
        &[],
    )
}

pub(crate) fn sequential_repr(s: &Sequential) -> String {
    let keys: Vec<String> = (0..s.len()).map(|i| i.to_string()).collect();
    let children: Vec<(&str, &dyn Module)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), s.get(i).expect("index below len")))
        .collect();
    repr_with_children("Sequential", "", &children)
}

#[cfg(test)]
mod tests {
    use super::py_float;

    #[test]
    fn floats_read_as_python_writes_them() {
        for (x, want) in [
            (0.5, "0.5"),
            (0.01, "0.01"),
            (1.0, "1.0"),
            (0.0, "0"),
            (1e-8, "1e-08"),
            (0.999, "0.999"),
            (1e-3, "0.001"),
            (2.5e-5, "2.5e-05"),
            (1e20, "1e+20"),
        ] {
            assert_eq!(py_float(x), want);
        }
    }
}
