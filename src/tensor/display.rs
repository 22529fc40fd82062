//! `Display` and `Debug` in PyTorch's style:
//! `tensor([[0.1000, 0.2000]], grad_fn=<MatMul>)`.
//!
//! The number format follows PyTorch's printing rules: integers print as
//! `1.`, ordinary values with 4 decimals, and scientific notation when the
//! magnitudes span more than three orders or leave the range [1e-4, 1e8).
//! Tensors with more than 1000 elements are summarised with `...`, keeping
//! three items at each edge of every dim.

use std::fmt;

use super::Tensor;
use crate::autograd::tape::{self, GradMeta};
use crate::dtype::DType;

const SUMMARIZE_ABOVE: usize = 1000;
const EDGE_ITEMS: usize = 3;

/// How every element of one tensor is written.
enum NumberStyle {
    /// An int64 tensor: `3`, as PyTorch prints `tensor([0, 1, 3])`.
    Int,
    Integer,
    Fixed,
    Scientific,
}

fn choose_style(values: &[f64]) -> NumberStyle {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || finite.iter().all(|v| v.fract() == 0.0) {
        // PyTorch also switches integers to scientific when they are huge.
        let max = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        return if max > 1e8 {
            NumberStyle::Scientific
        } else {
            NumberStyle::Integer
        };
    }
    let nonzero: Vec<f64> = finite
        .iter()
        .map(|v| v.abs())
        .filter(|&v| v > 0.0)
        .collect();
    let max = nonzero.iter().fold(0.0f64, |m, &v| m.max(v));
    let min = nonzero.iter().fold(f64::INFINITY, |m, &v| m.min(v));
    if max / min > 1000.0 || max > 1e8 || min < 1e-4 {
        NumberStyle::Scientific
    } else {
        NumberStyle::Fixed
    }
}

fn format_number(v: f64, style: &NumberStyle) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    match style {
        NumberStyle::Int => format!("{v:.0}"),
        NumberStyle::Integer => format!("{v:.0}."),
        NumberStyle::Fixed => format!("{v:.4}"),
        NumberStyle::Scientific => {
            let s = format!("{v:.4e}");
            // Rust writes 1.0000e-5; PyTorch writes 1.0000e-05.
            match s.split_once('e') {
                Some((mantissa, exp)) => {
                    let (sign, digits) = match exp.strip_prefix('-') {
                        Some(d) => ('-', d),
                        None => ('+', exp),
                    };
                    format!("{mantissa}e{sign}{digits:0>2}")
                }
                None => s,
            }
        }
    }
}

/// The indices shown along a dim of `size`: all, or the edges around a gap
/// (`None` marks the `...`).
fn shown_indices(size: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && size > 2 * EDGE_ITEMS {
        let mut v: Vec<Option<usize>> = (0..EDGE_ITEMS).map(Some).collect();
        v.push(None);
        v.extend((size - EDGE_ITEMS..size).map(Some));
        v
    } else {
        (0..size).map(Some).collect()
    }
}

struct Printer<'a> {
    dims: &'a [usize],
    strides: Vec<usize>,
    summarize: bool,
    cells: Vec<String>,
    width: usize,
}

impl Printer<'_> {
    fn write(&self, out: &mut String, depth: usize, offset: usize, indent: usize) {
        if depth == self.dims.len() {
            let text = &self.cells[offset];
            out.push_str(&format!("{text:>width$}", width = self.width));
            return;
        }
        out.push('[');
        let shown = shown_indices(self.dims[depth], self.summarize);
        let last_dim = depth + 1 == self.dims.len();
        for (k, idx) in shown.iter().enumerate() {
            if k > 0 {
                out.push(',');
                if last_dim {
                    out.push(' ');
                } else {
                    let blank_lines = self.dims.len() - depth - 1;
                    out.push_str(&"\n".repeat(blank_lines));
                    out.push_str(&" ".repeat(indent + depth + 1));
                }
            }
            match idx {
                Some(i) => self.write(out, depth + 1, offset + i * self.strides[depth], indent),
                None => out.push_str("..."),
            }
        }
        out.push(']');
    }
}

impl Tensor {
    /// The body of the printed form, e.g. `[[1., 2.], [3., 4.]]`, with
    /// continuation lines indented by `indent` columns.
    fn format_values(&self, indent: usize) -> String {
        let values: Vec<f64> = self.to_vec();
        let summarize = values.len() > SUMMARIZE_ABOVE;
        let strides: Vec<usize> = self.shape().contiguous_strides().to_vec();
        let dims = self.dims();
        // Only the elements that will be printed decide the number style.
        let mut shown = Vec::new();
        collect_shown(dims, &strides, 0, 0, summarize, &mut |o| shown.push(o));
        let style = if self.dtype() == crate::DType::I64 {
            NumberStyle::Int
        } else {
            choose_style(&shown.iter().map(|&o| values[o]).collect::<Vec<_>>())
        };
        // Integers are printed from their exact values (f64 is exact only
        // up to 2^53).
        let ints: Vec<i64> = match style {
            NumberStyle::Int => self.to_vec(),
            _ => Vec::new(),
        };
        let mut cells = vec![String::new(); values.len()];
        let mut width = 0;
        for &o in &shown {
            cells[o] = match style {
                NumberStyle::Int => ints[o].to_string(),
                _ => format_number(values[o], &style),
            };
            width = width.max(cells[o].len());
        }
        let printer = Printer {
            dims,
            strides,
            summarize,
            cells,
            width,
        };
        let mut out = String::new();
        printer.write(&mut out, 0, 0, indent);
        out
    }

    /// The name of the op that produced this tensor, if it is on the tape.
    pub fn grad_fn(&self) -> Option<&'static str> {
        match &self.meta {
            GradMeta::Node(node) => tape::entry_name(node),
            _ => None,
        }
    }
}

fn collect_shown(
    dims: &[usize],
    strides: &[usize],
    depth: usize,
    offset: usize,
    summarize: bool,
    f: &mut impl FnMut(usize),
) {
    if depth == dims.len() {
        f(offset);
        return;
    }
    for i in shown_indices(dims[depth], summarize).into_iter().flatten() {
        collect_shown(
            dims,
            strides,
            depth + 1,
            offset + i * strides[depth],
            summarize,
            f,
        );
    }
}

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const PREFIX: &str = "tensor(";
        let mut text = String::from(PREFIX);
        if self.numel() == 0 && self.ndim() == 1 {
            text.push_str("[]");
        } else if self.numel() == 0 {
            text.push_str(&format!("[], size={}", self.shape()));
        } else {
            text.push_str(&self.format_values(PREFIX.len()));
        }
        if self.dtype() == DType::F64 {
            text.push_str(", dtype=float64");
        }
        match (&self.meta, self.grad_fn()) {
            (GradMeta::Leaf(_), _) => text.push_str(", requires_grad=True"),
            (GradMeta::Node(_), Some(name)) => text.push_str(&format!(", grad_fn=<{name}>")),
            (GradMeta::Node(_), None) => text.push_str(", grad_fn=<released>"),
            (GradMeta::None, _) => {}
        }
        text.push(')');
        f.write_str(&text)
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn prints_like_pytorch() {
        // Expected strings written from PyTorch's documented print format.
        let t = Tensor::new([[0.1f32, 0.2]]);
        assert_eq!(t.to_string(), "tensor([[0.1000, 0.2000]])");
        let t = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]);
        assert_eq!(t.to_string(), "tensor([[1., 2.],\n        [3., 4.]])");
        let t = Tensor::new([1.0f64, 1e-5]);
        assert_eq!(
            t.to_string(),
            "tensor([1.0000e+00, 1.0000e-05], dtype=float64)"
        );
        let t = Tensor::new([-1.5f32, 10.25]);
        assert_eq!(t.to_string(), "tensor([-1.5000, 10.2500])");
        assert_eq!(Tensor::scalar(3.0f32).to_string(), "tensor(3.)");
        assert_eq!(Tensor::zeros([0]).to_string(), "tensor([])");
        assert_eq!(Tensor::zeros([2, 0]).to_string(), "tensor([], size=[2, 0])");
    }

    #[test]
    fn large_tensors_are_summarised() {
        let t = Tensor::arange(0.0, 2000.0, 1.0).unwrap();
        assert_eq!(
            t.to_string(),
            "tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.])"
        );
    }

    #[test]
    fn shows_requires_grad_and_grad_fn() {
        let w = Tensor::new([1.0f32, 2.0]).requires_grad_(true);
        assert_eq!(w.to_string(), "tensor([1., 2.], requires_grad=True)");
        let y = w.mul_scalar(2.0);
        assert!(y.to_string().ends_with(", grad_fn=<MulScalar>)"), "{y}");
    }
}
