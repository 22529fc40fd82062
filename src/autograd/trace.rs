//! Seeing the tape: capture what was recorded (and the gradients a backward
//! pass sent through it), then print it as a table or export it as a
//! Graphviz DOT or Mermaid graph.

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write};

use super::tape::InputRef;
use crate::shape::Shape;
use crate::tensor::Tensor;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static ENTRIES: RefCell<Vec<TraceEntry>> = const { RefCell::new(Vec::new()) };
}

/// One recorded step: a parameter entering the tape, or an op.
#[derive(Clone, Debug)]
pub struct TraceEntry {
    /// Position in the trace (entries only refer to earlier ones).
    pub id: usize,
    /// The op's name (`"Leaf"` for a parameter).
    pub op: &'static str,
    /// The ids of the inputs that require grad (constants are not entries).
    pub inputs: Vec<usize>,
    /// Number of inputs that are constants (data, targets, masks).
    pub constant_inputs: usize,
    /// Shape of the output.
    pub shape: Shape,
    /// The output's value when it was recorded.
    pub value: Tensor,
    /// The gradient of the backward root with respect to this output, if a
    /// backward pass went through it while tracing.
    pub grad: Option<Tensor>,
    key: (u64, usize),
}

/// Everything recorded on this thread's tape while [`trace`] ran.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    entries: Vec<TraceEntry>,
}

/// Runs `f` and captures every tape entry recorded meanwhile, with output
/// values, and the gradients of any backward pass run inside `f`.
///
/// Tracing keeps every intermediate value alive until the trace is dropped:
/// it is for small graphs you want to look at, not for training.
///
/// ```
/// use tapegrad::{trace, Tensor};
/// let w = Tensor::new([0.5f64, -1.0]).requires_grad_(true);
/// let (_, t) = trace(|| (&w * 3.0).tanh().sum().backward());
/// let ops: Vec<_> = t.entries().iter().map(|e| e.op).collect();
/// assert_eq!(ops, ["Leaf", "MulScalar", "Tanh", "Sum"]);
/// assert!(t.entries()[0].grad.is_some()); // dloss/dw
/// println!("{}", t.table(true));
/// ```
pub fn trace<R>(f: impl FnOnce() -> R) -> (R, Trace) {
    let outer = ACTIVE.with(|a| a.replace(true));
    let saved = ENTRIES.with(|e| std::mem::take(&mut *e.borrow_mut()));
    let result = f();
    let entries = ENTRIES.with(|e| std::mem::replace(&mut *e.borrow_mut(), saved));
    ACTIVE.with(|a| a.set(outer));
    (result, Trace { entries })
}

#[inline]
pub(crate) fn is_active() -> bool {
    ACTIVE.with(Cell::get)
}

/// Called by the tape when it appends an entry.
pub(crate) fn on_entry(
    generation: u64,
    index: usize,
    op: &'static str,
    inputs: &[InputRef],
    output: &Tensor,
) {
    ENTRIES.with(|cell| {
        let mut entries = cell.borrow_mut();
        let find = |j: usize| entries.iter().rposition(|e| e.key == (generation, j));
        let ids: Vec<usize> = inputs
            .iter()
            .filter_map(|r| match r {
                InputRef::Entry(j) => find(*j),
                _ => None,
            })
            .collect();
        let constant_inputs = inputs.iter().filter(|r| **r == InputRef::Constant).count();
        let id = entries.len();
        entries.push(TraceEntry {
            id,
            op,
            inputs: ids,
            constant_inputs,
            shape: output.shape().clone(),
            value: output.detach(),
            grad: None,
            key: (generation, index),
        });
    });
}

/// Called by the backward sweep with the total gradient reaching an entry.
pub(crate) fn on_grad(generation: u64, index: usize, grad: &Tensor) {
    ENTRIES.with(|cell| {
        let mut entries = cell.borrow_mut();
        if let Some(e) = entries
            .iter_mut()
            .rev()
            .find(|e| e.key == (generation, index))
        {
            e.grad = Some(grad.detach());
        }
    });
}

/// A short text for a value: the numbers when few, else the shape.
fn brief(t: &Tensor) -> String {
    if t.numel() <= 6 {
        let values: Vec<String> = t
            .to_vec::<f64>()
            .iter()
            .map(|v| format!("{v:.4}"))
            .collect();
        if t.ndim() == 0 {
            values.join("")
        } else {
            format!("[{}]", values.join(", "))
        }
    } else {
        format!("<{} values>", t.numel())
    }
}

impl Trace {
    /// The captured entries, in recording order.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// The tape as a text table: entry, op, inputs, output shape and,
    /// with `with_values`, output values and gradients.
    pub fn table(&self, with_values: bool) -> String {
        let mut rows: Vec<[String; 6]> = vec![[
            "entry".into(),
            "op".into(),
            "inputs".into(),
            "shape".into(),
            "value".into(),
            "grad".into(),
        ]];
        for e in &self.entries {
            let mut inputs: Vec<String> = e.inputs.iter().map(|i| format!("#{i}")).collect();
            if e.constant_inputs > 0 {
                inputs.push(format!("{} const", e.constant_inputs));
            }
            rows.push([
                format!("#{}", e.id),
                e.op.to_string(),
                inputs.join(", "),
                e.shape.to_string(),
                brief(&e.value),
                e.grad.as_ref().map(brief).unwrap_or_else(|| "-".into()),
            ]);
        }
        let columns = if with_values { 6 } else { 4 };
        let widths: Vec<usize> = (0..columns)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for (k, row) in rows.iter().enumerate() {
            let cells: Vec<String> = (0..columns)
                .map(|c| format!("{:<w$}", row[c], w = widths[c]))
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
            if k == 0 {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                let _ = writeln!(out, "{}", rule.join("  "));
            }
        }
        out
    }

    /// The graph in Graphviz DOT: one node per entry (parameters as boxes),
    /// an edge from each input to the op that used it.
    pub fn to_dot(&self) -> String {
        let mut out =
            String::from("digraph tape {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
        for e in &self.entries {
            let shape = if e.op == "Leaf" { "box" } else { "ellipse" };
            let _ = writeln!(
                out,
                "  n{} [shape={shape}, label=\"#{} {}\\n{}\"];",
                e.id, e.id, e.op, e.shape
            );
        }
        for e in &self.entries {
            for i in &e.inputs {
                let _ = writeln!(out, "  n{i} -> n{};", e.id);
            }
        }
        out.push_str("}\n");
        out
    }

    /// The graph as Mermaid flowchart text (renders on GitHub).
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for e in &self.entries {
            let (open, close) = if e.op == "Leaf" {
                ("[", "]")
            } else {
                ("(", ")")
            };
            let _ = writeln!(
                out,
                "  n{}{open}\"#{} {} {}\"{close}",
                e.id, e.id, e.op, e.shape
            );
        }
        for e in &self.entries {
            for i in &e.inputs {
                let _ = writeln!(out, "  n{i} --> n{}", e.id);
            }
        }
        out
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.table(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_entries_values_and_gradients() {
        let w = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
        let x = Tensor::new([3.0f64, 4.0]);
        let (_, t) = trace(|| (&w * &x).sum().backward());
        let e = t.entries();
        assert_eq!(e.len(), 3);
        assert_eq!((e[0].op, e[1].op, e[2].op), ("Leaf", "Mul", "Sum"));
        assert_eq!(e[1].inputs, vec![0]);
        assert_eq!(e[1].constant_inputs, 1);
        assert_eq!(e[1].value.to_vec::<f64>(), vec![3.0, 8.0]);
        // d sum / d (w·x) = 1, d / dw = x
        assert_eq!(e[1].grad.as_ref().unwrap().to_vec::<f64>(), vec![1.0, 1.0]);
        assert_eq!(e[0].grad.as_ref().unwrap().to_vec::<f64>(), vec![3.0, 4.0]);
        let table = t.table(true);
        assert!(table.contains("#1     Mul   #0, 1 const"), "{table}");
        assert!(t.to_dot().contains("n0 -> n1;"));
        assert!(t.to_mermaid().contains("n1 --> n2"));
    }

    #[test]
    fn nothing_is_captured_outside_a_trace() {
        let w = Tensor::new([1.0f64]).requires_grad_(true);
        let (_, t) = trace(|| ());
        w.exp().sum().backward();
        assert!(t.entries().is_empty());
    }
}
