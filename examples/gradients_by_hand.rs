//! # Gradients three ways
//!
//! A small network, logits = tanh(x·W₁ + b₁)·W₂ + b₂ with a softmax
//! cross-entropy loss, on a batch of four samples. Its gradients are
//! computed three independent ways and printed side by side:
//!
//! 1. by the tape (reverse-mode autodiff, `tapegrad::grad`);
//! 2. by central finite differences in f64, nudging one weight at a time;
//! 3. by the hand-derived formulas, in plain Rust loops with no tapegrad at
//!    all: δ = (softmax − onehot)/N at the logits, then back through each
//!    layer, dW = xᵀ·δ, db = Σ δ, and (1 − h²) through tanh.
//!
//! Then you see the tape itself: the table of recorded entries with their
//! values and gradients, and the graph as Graphviz DOT and Mermaid files.
//! Finally one gradient step shows the loss going down. The program exits
//! with an error if the three gradients disagree.
//!
//! ```sh
//! cargo run --release --example gradients_by_hand
//! dot -Tsvg out/gradients_by_hand.dot > tape.svg   # if Graphviz is installed
//! cargo run --release --example gradients_by_hand -- --help
//! ```

mod support;

use support::checks::Checks;
use support::flags::{Args, Spec};
use support::notebook::Notebook;
use tapegrad::nn::functional::cross_entropy;
use tapegrad::{
    grad, gradcheck, no_grad, seeded_rng, trace, DType, GradcheckOptions, Tensor, TraceEntry,
};

const N: usize = 4; // samples
const D: usize = 3; // input features
const H: usize = 4; // hidden units
const C: usize = 3; // classes
const NAMES: [&str; 4] = ["W1", "b1", "W2", "b2"];

const SPEC: Spec = Spec {
    lr: Some(0.1),
    seed: Some("the network's random weights"),
    out: Some("the tape as Graphviz DOT and Mermaid files"),
    ..Spec::new(
        "gradients_by_hand",
        "A small tanh network's gradients three ways (the tape, central finite differences, \
         and the hand-derived formulas in plain Rust), tapegrad::gradcheck, the recorded tape \
         as a table and as a graph, and one gradient step (of size --lr) going downhill.",
    )
};

fn main() {
    let args = Args::parse(SPEC);
    let mut nb = Notebook::new("Gradients three ways", &args);
    let mut checks = Checks::new(&args);

    // ------------------------------------------------------------------
    nb.section("A small network and a tiny batch");
    let x = Tensor::new([
        [0.5f64, -1.2, 0.3],
        [1.5, 0.2, -0.7],
        [-0.3, 0.8, 1.1],
        [0.9, -0.4, -1.5],
    ]);
    let labels = [0usize, 2, 1, 2];
    let y = Tensor::new(labels.map(|l| l as f64));
    let mut rng = seeded_rng(args.seed);
    let shapes: [Vec<usize>; 4] = [vec![D, H], vec![H], vec![H, C], vec![C]];
    let params: Vec<Tensor> = shapes
        .iter()
        .map(|s| {
            Tensor::randn_dtype(s.clone(), DType::F64, &mut rng)
                .mul_scalar(0.8)
                .requires_grad_(true)
        })
        .collect();
    nb.say(&format!(
        "Four samples with three features each, three classes, and a network with one hidden \
         layer of {H} tanh units: h = tanh(x·W₁ + b₁), s = h·W₂ + b₂, loss = mean over the batch \
         of −log softmax(s)[true class]. Weights are drawn from N(0, 0.8²) with seed {}, in f64 \
         so that the comparisons below are accurate to many digits. That is {} numbers to \
         differentiate: W₁ is {D}×{H}, b₁ has {H}, W₂ is {H}×{C}, b₂ has {C}.",
        args.seed,
        params.iter().map(Tensor::numel).sum::<usize>()
    ));
    let xv = x.to_vec::<f64>();
    let rows: Vec<Vec<String>> = (0..N)
        .map(|n| {
            let mut row = vec![format!("{n}")];
            row.extend((0..D).map(|j| format!("{:+.2}", xv[n * D + j])));
            row.push(format!("{}", labels[n]));
            row
        })
        .collect();
    nb.table(&["sample", "x₁", "x₂", "x₃", "class"], &rows);

    // ------------------------------------------------------------------
    nb.section("The backward pass, derived by hand");
    nb.say(
        "Write a = x·W₁ + b₁, h = tanh(a), s = h·W₂ + b₂, p = softmax(s) row by row, and L = \
         −(1/N) Σₙ log pₙ,yₙ. The chain rule, from the loss backwards:",
    );
    nb.block(
        &[
            "  δs = ∂L/∂s  = (p − onehot(y)) / N          the softmax + log cancel (see why_the_log)",
            "  ∂L/∂W₂      = hᵀ · δs                      each weight collects (input × error)",
            "  ∂L/∂b₂      = Σₙ δsₙ                       a bias is a weight on a constant 1",
            "  δh = ∂L/∂h  = δs · W₂ᵀ                     the error sent back to the hidden layer",
            "  δa = ∂L/∂a  = δh ⊙ (1 − h²)                tanh'(a) = 1 − tanh(a)²",
            "  ∂L/∂W₁      = xᵀ · δa",
            "  ∂L/∂b₁      = Σₙ δaₙ",
            "",
        ]
        .join("\n"),
    );
    let hand = hand_gradients(&xv, &labels, &params);
    nb.say(
        "The first step is the one every classifier shares. Here it is for our batch, computed \
         in plain Rust (no tapegrad): each row of δs is the predicted distribution minus the \
         label, divided by N = 4, so each row sums to 0, and the true class gets a negative \
         entry whose size is (1 − p(true))/N.",
    );
    let rows: Vec<Vec<String>> = (0..N)
        .map(|n| {
            let p = &hand.p[n * C..(n + 1) * C];
            let dz = &hand.dz[n * C..(n + 1) * C];
            vec![
                format!("{n}"),
                format!("{}", labels[n]),
                format!("({:.4}, {:.4}, {:.4})", p[0], p[1], p[2]),
                format!("({:+.4}, {:+.4}, {:+.4})", dz[0], dz[1], dz[2]),
            ]
        })
        .collect();
    nb.table(
        &["sample", "class", "p = softmax(s)", "δs = (p − onehot)/N"],
        &rows,
    );

    // ------------------------------------------------------------------
    nb.section("Three ways, side by side");
    let loss = network_loss(&x, &y, &params);
    let refs: Vec<&Tensor> = params.iter().collect();
    let tape: Vec<Vec<f64>> = grad(&[&loss], &refs, false)
        .unwrap()
        .iter()
        .map(|g| g.to_vec::<f64>())
        .collect();
    let eps = 1e-6;
    let numeric = finite_differences(&x, &y, &params, eps);
    nb.say(&format!(
        "The tape's gradients come from one backward sweep. The finite differences need two \
         forward passes per weight: (L(w + ε) − L(w − ε)) / 2ε with ε = {eps:e}, accurate to \
         about ε² ≈ 1e-12 plus rounding (≈ 1e-16/ε = 1e-10). The hand formulas are the lines \
         above. Every entry of the output layer's gradients:"
    ));
    let mut rows = Vec::new();
    for k in [2usize, 3] {
        for (i, &t) in tape[k].iter().enumerate() {
            let at = if shapes[k].len() == 2 {
                format!("{}[{},{}]", NAMES[k], i / shapes[k][1], i % shapes[k][1])
            } else {
                format!("{}[{i}]", NAMES[k])
            };
            rows.push(vec![
                at,
                format!("{t:+.10}"),
                format!("{:+.10}", numeric[k][i]),
                format!("{:+.10}", hand.grads[k][i]),
                format!("{:.1e}", (t - numeric[k][i]).abs()),
                format!("{:.1e}", (t - hand.grads[k][i]).abs()),
            ]);
        }
    }
    nb.table(
        &[
            "weight",
            "tape",
            "finite diff",
            "by hand",
            "|tape − fd|",
            "|tape − hand|",
        ],
        &rows,
    );
    let max_diff = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(u, v)| (u - v).abs())
            .fold(0.0, f64::max)
    };
    let mut worst_fd = 0.0f64;
    let mut worst_hand = 0.0f64;
    let mut rows = Vec::new();
    for k in 0..4 {
        let (fd, hd, fh) = (
            max_diff(&tape[k], &numeric[k]),
            max_diff(&tape[k], &hand.grads[k]),
            max_diff(&numeric[k], &hand.grads[k]),
        );
        worst_fd = worst_fd.max(fd);
        worst_hand = worst_hand.max(hd);
        let largest = tape[k].iter().map(|v| v.abs()).fold(0.0, f64::max);
        rows.push(vec![
            NAMES[k].to_string(),
            format!("{}", tape[k].len()),
            format!("{largest:.4}"),
            format!("{fd:.1e}"),
            format!("{hd:.1e}"),
            format!("{fh:.1e}"),
        ]);
    }
    nb.say("Over all parameters, the largest disagreement of each pair:");
    nb.table(
        &[
            "param",
            "entries",
            "max |grad|",
            "tape vs fd",
            "tape vs hand",
            "fd vs hand",
        ],
        &rows,
    );
    let report = gradcheck(
        |ps| Ok(network_loss(&x, &y, ps)),
        &params,
        GradcheckOptions::default(),
    )
    .unwrap();
    nb.say(
        "tapegrad::gradcheck runs the same comparison automatically (central differences over \
         the full Jacobian, in f64, with tight tolerances):",
    );
    nb.table(
        &[
            "input",
            "result",
            "max abs error",
            "max rel error",
            "worst entry: analytic",
            "numeric",
        ],
        &report
            .inputs
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let (analytic, numeric) = c.worst_values;
                vec![
                    NAMES[k].to_string(),
                    if c.passed { "ok" } else { "FAILED" }.to_string(),
                    format!("{:.3e}", c.max_abs_error),
                    format!("{:.3e}", c.max_rel_error),
                    format!("{analytic:+.10}"),
                    format!("{numeric:+.10}"),
                ]
            })
            .collect::<Vec<_>>(),
    );
    nb.result(&format!(
        "gradients: max |tape − finite diff| = {worst_fd:.1e}, max |tape − hand| = {worst_hand:.1e}, gradcheck {}",
        if report.passed() { "passed" } else { "FAILED" }
    ));
    nb.say(
        "The tape and the hand formulas agree to rounding (they do the same arithmetic in a \
         slightly different order); finite differences agree to the accuracy they can offer. \
         Finite differences are the referee: slow (two passes per weight) and approximate, but \
         they cannot share a mistake with the other two.",
    );
    checks.claim(
        worst_hand < 1e-12,
        &format!("the tape and hand gradients agree to 1e-12 (they differ by {worst_hand:.1e})"),
    );
    checks.claim(
        worst_fd < 1e-7,
        &format!("the tape and finite differences agree to 1e-7 (they differ by {worst_fd:.1e})"),
    );
    checks.claim(report.passed(), "gradcheck passes");

    // ------------------------------------------------------------------
    nb.section("The tape, printed");
    let (traced_loss, tape_trace) = trace(|| {
        let loss = network_loss(&x, &y, &params);
        loss.backward();
        loss.item::<f64>()
    });
    nb.say(
        "tapegrad::trace records everything that lands on the tape while a closure runs: here \
         one forward pass and its backward. Each entry is a parameter entering the tape (Leaf) \
         or an op; 'inputs' names the earlier entries it read (and how many constants, like x \
         and the labels); 'value' is what the forward pass produced and 'grad' is ∂L/∂(that \
         value), filled in by the backward sweep, which visits the entries from the last to \
         the first. The Leaf rows' grads are the gradients printed above. Notice how the mean \
         over the batch is recorded: a Sum, then a DivScalar by N, so every per-sample loss \
         receives the gradient 1/N = 0.25; that is where the /N in δs comes from.",
    );
    nb.table(
        &["entry", "op", "inputs", "shape", "value", "grad"],
        &tape_trace
            .entries()
            .iter()
            .map(trace_row)
            .collect::<Vec<_>>(),
    );
    let ops: Vec<&str> = tape_trace.entries().iter().map(|e| e.op).collect();
    nb.result(&format!(
        "tape: {} entries ({}), loss {traced_loss:.6}",
        ops.len(),
        ops.join(" → ")
    ));
    let root_grad = tape_trace.entries().last().and_then(|e| e.grad.as_ref());
    checks.claim(
        root_grad.map(|g| g.item::<f64>()) == Some(1.0),
        "the root of the backward pass receives the gradient 1",
    );

    // ------------------------------------------------------------------
    nb.section("The tape as a graph");
    let dot = tape_trace.to_dot();
    let mermaid = tape_trace.to_mermaid();
    for (file, text) in [
        ("gradients_by_hand.dot", &dot),
        ("gradients_by_hand.mmd", &mermaid),
    ] {
        nb.save(file, "tape graph", text);
    }
    nb.say(
        "The same entries as a graph: parameters are boxes, ops are rounded, and an arrow goes \
         from each input to the op that used it. The backward pass runs the arrows in reverse. \
         The .dot file renders with Graphviz (dot -Tsvg); the Mermaid text renders on GitHub \
         inside a ```mermaid block. Here it is:",
    );
    nb.block(&mermaid);

    // ------------------------------------------------------------------
    nb.section("One step downhill");
    nb.say(&format!(
        "What the gradient is for: move every weight a little against it, w ← w − lr·∂L/∂w \
         (lr = {}), here with the hand-derived gradients, and the loss goes down. To first \
         order it drops by lr·‖∇L‖², the sum of the squared gradients times lr; the smaller \
         lr, the closer the real drop is to that prediction.",
        args.lr
    ));
    let before = loss.item::<f64>();
    let stepped: Vec<Tensor> = params
        .iter()
        .zip(&hand.grads)
        .map(|(p, g)| {
            let values: Vec<f64> = p
                .to_vec::<f64>()
                .iter()
                .zip(g)
                .map(|(w, g)| w - args.lr * g)
                .collect();
            Tensor::from_vec(values, p.shape().clone()).unwrap()
        })
        .collect();
    let after = no_grad(|| network_loss(&x, &y, &stepped).item::<f64>());
    let first_order: f64 = hand.grads.iter().flatten().map(|g| g * g).sum::<f64>() * args.lr;
    nb.table(
        &["", "loss"],
        &[
            vec!["before".into(), format!("{before:.6}")],
            vec!["after one step".into(), format!("{after:.6}")],
            vec!["drop".into(), format!("{:.6}", before - after)],
            vec![
                "predicted drop lr·‖∇L‖²".into(),
                format!("{first_order:.6}"),
            ],
        ],
    );
    nb.result(&format!(
        "one gradient step (lr {}): loss {before:.6} -> {after:.6}",
        args.lr
    ));
    checks.claim(
        after < before,
        &format!("one step against the gradient lowers the loss ({before:.6} -> {after:.6})"),
    );
    checks.finish();
}

/// One row of the tape table: values and gradients with 2 decimals, and
/// only their count for tensors of more than 4 numbers (the library's own
/// `Trace::table` shows 4 decimals, which would not fit 100 columns).
fn trace_row(e: &TraceEntry) -> Vec<String> {
    let brief = |t: &Tensor| {
        let v = t.to_vec::<f64>();
        match v.len() {
            1 if t.dims().is_empty() => format!("{:.4}", v[0]),
            n if n <= 4 => {
                let parts: Vec<String> = v.iter().map(|x| format!("{x:.2}")).collect();
                format!("[{}]", parts.join(", "))
            }
            n => format!("<{n} values>"),
        }
    };
    let mut inputs: Vec<String> = e.inputs.iter().map(|i| format!("#{i}")).collect();
    if e.constant_inputs > 0 {
        inputs.push(format!("{} const", e.constant_inputs));
    }
    vec![
        format!("#{}", e.id),
        e.op.to_string(),
        inputs.join(", "),
        e.shape.to_string(),
        brief(&e.value),
        e.grad.as_ref().map_or_else(|| "-".to_string(), brief),
    ]
}

/// The network's mean cross-entropy on the batch, with the tape.
fn network_loss(x: &Tensor, y: &Tensor, p: &[Tensor]) -> Tensor {
    let h = x.matmul(&p[0]).add(&p[1]).tanh();
    let z = h.matmul(&p[2]).add(&p[3]);
    cross_entropy(&z, y).unwrap()
}

/// Central differences of the loss for every parameter entry.
fn finite_differences(x: &Tensor, y: &Tensor, params: &[Tensor], eps: f64) -> Vec<Vec<f64>> {
    let base: Vec<Vec<f64>> = params.iter().map(|p| p.to_vec::<f64>()).collect();
    let eval = |values: &[Vec<f64>]| -> f64 {
        let ps: Vec<Tensor> = values
            .iter()
            .zip(params)
            .map(|(v, p)| Tensor::from_vec(v.clone(), p.shape().clone()).unwrap())
            .collect();
        no_grad(|| network_loss(x, y, &ps).item::<f64>())
    };
    (0..params.len())
        .map(|k| {
            (0..base[k].len())
                .map(|i| {
                    let mut plus = base.clone();
                    plus[k][i] += eps;
                    let mut minus = base.clone();
                    minus[k][i] -= eps;
                    (eval(&plus) - eval(&minus)) / (2.0 * eps)
                })
                .collect()
        })
        .collect()
}

/// The hand-derived backward pass, in plain f64 loops.
struct Hand {
    p: Vec<f64>,
    dz: Vec<f64>,
    grads: [Vec<f64>; 4],
}

fn hand_gradients(x: &[f64], labels: &[usize], params: &[Tensor]) -> Hand {
    let w1 = params[0].to_vec::<f64>();
    let b1 = params[1].to_vec::<f64>();
    let w2 = params[2].to_vec::<f64>();
    let b2 = params[3].to_vec::<f64>();
    // Forward.
    let mut h = [0.0; N * H];
    for n in 0..N {
        for j in 0..H {
            let a: f64 = b1[j] + (0..D).map(|i| x[n * D + i] * w1[i * H + j]).sum::<f64>();
            h[n * H + j] = a.tanh();
        }
    }
    let mut p = vec![0.0; N * C];
    for n in 0..N {
        let z: Vec<f64> = (0..C)
            .map(|c| b2[c] + (0..H).map(|j| h[n * H + j] * w2[j * C + c]).sum::<f64>())
            .collect();
        let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = z.iter().map(|v| (v - m).exp()).sum();
        for c in 0..C {
            p[n * C + c] = (z[c] - m).exp() / total;
        }
    }
    // δz = (p − onehot)/N.
    let mut dz = p.clone();
    for n in 0..N {
        dz[n * C + labels[n]] -= 1.0;
    }
    dz.iter_mut().for_each(|v| *v /= N as f64);
    // Output layer: dW₂ = hᵀ·δz, db₂ = Σₙ δz.
    let mut dw2 = vec![0.0; H * C];
    let mut db2 = vec![0.0; C];
    for n in 0..N {
        for c in 0..C {
            db2[c] += dz[n * C + c];
            for j in 0..H {
                dw2[j * C + c] += h[n * H + j] * dz[n * C + c];
            }
        }
    }
    // Hidden layer: δa = (δz·W₂ᵀ) ⊙ (1 − h²); dW₁ = xᵀ·δa, db₁ = Σₙ δa.
    let mut dw1 = vec![0.0; D * H];
    let mut db1 = vec![0.0; H];
    for n in 0..N {
        for j in 0..H {
            let dh: f64 = (0..C).map(|c| dz[n * C + c] * w2[j * C + c]).sum();
            let da = dh * (1.0 - h[n * H + j] * h[n * H + j]);
            db1[j] += da;
            for i in 0..D {
                dw1[i * H + j] += x[n * D + i] * da;
            }
        }
    }
    Hand {
        p,
        dz,
        grads: [dw1, db1, dw2, db2],
    }
}
