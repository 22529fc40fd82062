//! # Why the log?
//!
//! Cross-entropy charges a classifier `−log p`, where `p` is the probability
//! it gave to the true class. Why a logarithm, and not, say, the squared
//! distance `(1 − p)²` from a perfect answer? This notebook shows:
//!
//! 1. `−log p` is 0 for a sure right answer and grows without limit as
//!    `p → 0`; a table of the loss and its gradient, computed by tapegrad
//!    next to the formulas;
//! 2. what the model actually feels, the gradient with respect to its
//!    *logits*: `p − 1` for the log loss, which never vanishes, against
//!    `−2p(1 − p)²` for the squared error, which vanishes exactly when the
//!    model is confidently wrong;
//! 3. one confident mistake in a batch: a large loss, and a gradient of about
//!    `−1/N` on its true class;
//! 4. a race: the same confidently wrong linear classifier trained with each
//!    penalty. The log loss fixes it; the squared error barely moves.
//!
//! ```sh
//! cargo run --release --example why_the_log
//! cargo run --release --example why_the_log -- --epochs 200 --lr 0.5
//! cargo run --release --example why_the_log -- --help
//! ```

mod support;

use support::chart::{report_curves, Chart};
use support::checks::Checks;
use support::epochs::EpochLog;
use support::flags::{Args, Spec};
use support::notebook::Notebook;
use support::prose::count;
use tapegrad::data::{accuracy, one_hot};
use tapegrad::nn::functional::Reduction;
use tapegrad::nn::functional::{cross_entropy, cross_entropy_with, nll_loss, CrossEntropyOptions};
use tapegrad::optim::{Optimizer, SgdConfig, SGD};
use tapegrad::{grad, seeded_rng, DType, Tensor};

const PROBS: [f64; 9] = [0.9, 0.5, 0.1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8];

const SPEC: Spec = Spec {
    epochs: Some(120),
    lr: Some(1.0),
    seed: Some("the clusters of points in the race"),
    out: Some("the race's loss and accuracy charts (SVG)"),
    ..Spec::new(
        "why_the_log",
        "Why classifiers are trained with −log p: the penalty and its gradient as p → 0, the \
         gradient the logits feel (p − 1 for the log loss, vanishing for the squared error), \
         one confident mistake in a batch, and a race between the two losses fixing a \
         confidently wrong classifier. --epochs, --lr and --seed set the race.",
    )
};

fn main() {
    let args = Args::parse(SPEC);
    let mut nb = Notebook::new("Why the log?", &args);
    let mut checks = Checks::new(&args);

    // ------------------------------------------------------------------
    nb.section("−log p as a penalty");
    nb.say(
        "Say the model gives probability p to the class that turns out to be true. A good \
         penalty is 0 when p = 1 and grows as p falls. −log p does that: it is 0 at p = 1, 0.69 \
         at p = ½, and it goes to infinity as p → 0, so a confident mistake is never cheap. The \
         squared error (1 − p)² is also 0 at p = 1, but it can never exceed 1, however sure and \
         wrong the model was. Below, the 'tapegrad' columns come from nll_loss on log p (and from \
         the same ops for the squared error), with gradients from the tape; the 'formula' \
         columns are −log p, −1/p and −2(1 − p) written out.",
    );
    let mut worst = 0.0f64;
    let mut rows = Vec::new();
    for &p in &PROBS {
        let probs = Tensor::new([[p, 1.0 - p]]).requires_grad_(true);
        let nll = nll_loss(&probs.log(), &Tensor::new([0.0f64])).unwrap();
        let g_nll = grad(&[&nll], &[&probs], false).unwrap()[0].to_vec::<f64>()[0];
        let sq = probs.narrow(1, 0, 1).rsub_scalar(1.0).square().sum();
        let g_sq = grad(&[&sq], &[&probs], false).unwrap()[0].to_vec::<f64>()[0];
        let (nll, sq) = (nll.item::<f64>(), sq.item::<f64>());
        worst = worst
            .max(rel(nll, -p.ln()))
            .max(rel(g_nll, -1.0 / p))
            .max(rel(sq, (1.0 - p).powi(2)))
            .max(rel(g_sq, -2.0 * (1.0 - p)));
        rows.push(vec![
            show_p(p),
            format!("{nll:.4}"),
            format!("{:.4}", -p.ln()),
            format!("{g_nll:.4e}"),
            format!("{:.4e}", -1.0 / p),
            format!("{sq:.6}"),
            format!("{g_sq:.6}"),
        ]);
    }
    nb.table(
        &[
            "p",
            "−log p (tapegrad)",
            "formula",
            "d/dp (tapegrad)",
            "−1/p",
            "(1 − p)²",
            "d/dp",
        ],
        &rows,
    );
    checks.claim(
        worst < 1e-9,
        &format!("the penalties match their formulas to 1e-9 (worst relative error {worst:.1e})"),
    );
    nb.say(
        "Going from p = 10⁻⁴ to 10⁻⁸ adds another 9.2 to the log loss; the squared error does \
         not notice (0.9999 vs 0.99999999). Its slope in p stays near −2, while −1/p explodes.",
    );

    // ------------------------------------------------------------------
    nb.section("What the model feels: gradients with respect to the logits");
    nb.say(
        "A network does not output p; it outputs logits s, and p = softmax(s). The gradient \
         that trains it is ∂loss/∂s. For two classes with p = softmax(s)₀, the chain rule \
         through softmax multiplies ∂/∂p by ∂p/∂s₀ = p(1 − p). For the log loss, −1/p · p(1 − p) \
         = p − 1: the 1/p blow-up cancels exactly and leaves a gradient that tends to −1 as the \
         mistake grows, never to 0. For the squared error, −2(1 − p) · p(1 − p) = −2p(1 − p)², \
         which goes to 0 with p: the more confidently wrong the model is, the less it hears \
         about it. Logits s = (log p, log(1 − p)) give exactly the p in the first column.",
    );
    let mut worst = 0.0f64;
    let mut rows = Vec::new();
    for &p in &PROBS {
        let z = Tensor::new([[p.ln(), (1.0 - p).ln()]]).requires_grad_(true);
        let ce = cross_entropy(&z, &Tensor::new([0.0f64])).unwrap();
        let g_ce = grad(&[&ce], &[&z], false).unwrap()[0].to_vec::<f64>()[0];
        let sq = z.softmax(1).narrow(1, 0, 1).rsub_scalar(1.0).square().sum();
        let g_sq = grad(&[&sq], &[&z], false).unwrap()[0].to_vec::<f64>()[0];
        let sq_formula = -2.0 * p * (1.0 - p).powi(2);
        worst = worst
            .max(rel(ce.item::<f64>(), -p.ln()))
            .max((g_ce - (p - 1.0)).abs())
            .max(rel(g_sq, sq_formula));
        rows.push(vec![
            show_p(p),
            format!("{:.4}", ce.item::<f64>()),
            format!("{g_ce:.8}"),
            format!("{:.8}", p - 1.0),
            format!("{g_sq:.4e}"),
            format!("{sq_formula:.4e}"),
        ]);
    }
    nb.table(
        &[
            "p",
            "cross_entropy",
            "∂/∂s₀ (tapegrad)",
            "p − 1",
            "squared ∂/∂s₀ (tapegrad)",
            "−2p(1 − p)²",
        ],
        &rows,
    );
    checks.claim(
        worst < 1e-9,
        &format!("the logit gradients match their formulas to 1e-9 (worst error {worst:.1e})"),
    );
    nb.say(
        "Read the last two columns from top to bottom: the squared error's push is largest \
         near p = ⅓ and then fades to 10⁻⁸ exactly where help is needed most. The log loss \
         pushes with strength close to 1 for every bad prediction.",
    );

    // ------------------------------------------------------------------
    nb.section("A confident mistake in a batch");
    let logits_v = [
        [3.0, 0.5, -1.0],
        [0.2, 1.5, 0.1],
        [0.3, 0.1, 0.4],
        [12.0, 0.0, -3.0],
    ];
    let targets_v = [0.0, 1.0, 2.0, 2.0];
    let n = logits_v.len();
    nb.say(&format!(
        "Four samples, three classes. The first three are right or nearly so; the last one \
         puts logit 12 on class 0 while the truth is class 2 (logit −3). With the mean over \
         N = {n} samples, ∂loss/∂s = (softmax(s) − onehot)/N, so the wrong sample's row is \
         close to (+1, 0, −1)/N = (+{:.2}, 0, −{:.2}): the largest push in the batch, aimed at \
         the right logits.",
        1.0 / n as f64,
        1.0 / n as f64
    ));
    let z = Tensor::new(logits_v).requires_grad_(true);
    let targets = Tensor::new(targets_v);
    let per_sample = cross_entropy_with(
        &z,
        &targets,
        &CrossEntropyOptions::default().reduction(Reduction::None),
    )
    .unwrap()
    .to_vec::<f64>();
    let mean = cross_entropy(&z, &targets).unwrap();
    mean.backward();
    let g = z.grad().unwrap().to_vec::<f64>();
    let p = z.detach().softmax(1).to_vec::<f64>();
    // The squared-error gradient of the same batch, for comparison.
    let zs = z.detach().requires_grad_(true);
    let onehot = one_hot(&targets, 3, DType::F64).unwrap();
    let sq = zs
        .softmax(1)
        .mul(&onehot)
        .sum_dim(1, false)
        .rsub_scalar(1.0)
        .square()
        .mean();
    let gs = grad(&[&sq], &[&zs], false).unwrap()[0].to_vec::<f64>();
    let rows: Vec<Vec<String>> = (0..n)
        .map(|i| {
            let t = targets_v[i] as usize;
            vec![
                format!("{i}"),
                format!("{t}"),
                format!("{:.2e}", p[i * 3 + t]),
                format!("{:.4}", per_sample[i]),
                format!(
                    "({:+.4}, {:+.4}, {:+.4})",
                    g[i * 3],
                    g[i * 3 + 1],
                    g[i * 3 + 2]
                ),
                format!("{:+.2e}", gs[i * 3 + t]),
            ]
        })
        .collect();
    nb.table(
        &[
            "sample",
            "true",
            "p(true)",
            "−log p",
            "∂(mean CE)/∂s",
            "squared: ∂/∂s_true",
        ],
        &rows,
    );
    let loss = mean.item::<f64>();
    nb.result(&format!(
        "batch loss {loss:.4}: the mistake alone contributes {:.4} of it; its true-class gradient is {:.6} (−1/N = {:.6})",
        per_sample[3] / n as f64,
        g[3 * 3 + 2],
        -1.0 / n as f64
    ));
    checks.claim(
        (g[3 * 3 + 2] + 1.0 / n as f64).abs() < 1e-4,
        "the confident mistake's true-class gradient is about −1/N",
    );
    nb.say(&format!(
        "The squared error's gradient on that sample is {:.1e}: it would spend its effort \
         polishing the samples that are already nearly right.",
        gs[3 * 3 + 2]
    ));

    // ------------------------------------------------------------------
    nb.section("A race: fixing a confidently wrong classifier");
    let (x, y) = blobs(40, args.seed);
    let m = y.dims()[0];
    let onehot = one_hot(&y, 3, DType::F64).unwrap();
    let mut log_run = Run::new(&x, &y, &onehot, args.lr, true);
    let mut sq_run = Run::new(&x, &y, &onehot, args.lr, false);
    let start_p = log_run.mean_p_true();
    nb.say(&format!(
        "{m} points in the plane, three round clusters (seed {}), and a linear classifier s = x·W \
         + b. We start it confidently wrong: W points each cluster at the *next* class, so the \
         true class gets a probability of {start_p:.1e} on average. Two copies of that \
         classifier are trained \
         with full-batch gradient descent, the same learning rate ({}) and the same number of \
         epochs ({}); one minimises the mean of −log p(true), the other the mean of \
         (1 − p(true))². The epoch lines are the log-loss run.",
        args.seed, args.lr, args.epochs
    ));
    let mut log = EpochLog::new("training", &args);
    let every = (args.epochs / 10).max(1);
    let mut race_rows = Vec::new();
    for epoch in 1..=args.epochs {
        let (l1, a1, p1) = log_run.step();
        let (l2, a2, p2) = sq_run.step();
        log.epoch(epoch, l1, Some(a1));
        if epoch == 1 || epoch.is_multiple_of(every) {
            race_rows.push(vec![
                format!("{epoch}"),
                format!("{l1:.4}"),
                format!("{a1:.3}"),
                format!("{p1:.2e}"),
                format!("{l2:.6}"),
                format!("{a2:.3}"),
                format!("{p2:.2e}"),
            ]);
        }
    }
    if race_rows.is_empty() {
        nb.say("No race with --epochs 0: neither classifier takes a step.");
    } else {
        nb.say(
            "Side by side (losses are measured before each epoch's step; mean p(true) is the \
             average probability given to the true class):",
        );
        nb.table(
            &[
                "epoch",
                "log: −log p",
                "log: acc",
                "log: mean p",
                "sq: (1 − p)²",
                "sq: acc",
                "sq: mean p",
            ],
            &race_rows,
        );
    }
    report_curves(
        &nb,
        "why_the_log_loss.svg",
        "why_the_log: log-loss run, mean −log p(true)",
        &[("log loss", &log_run.losses)],
    );
    if !log_run.accs.is_empty() {
        let series: [(&str, &[f64]); 2] =
            [("log loss", &log_run.accs), ("squared error", &sq_run.accs)];
        let accuracy = Chart {
            allow_log_y: false,
            ..Chart::per_epoch(
                "why_the_log: accuracy of the two runs",
                "training accuracy",
                &series,
            )
        };
        nb.save(
            "why_the_log_accuracy.svg",
            "accuracy of both runs",
            &accuracy.svg(),
        );
    }
    let reach = |accs: &[f64]| match first_reaching(accs, 0.9) {
        Some(e) => format!("at epoch {e}"),
        None => format!("not within {}", count(args.epochs, "epoch")),
    };
    match (log_run.losses.first(), log_run.losses.last()) {
        (Some(first), Some(last)) => nb.result(&format!(
            "log-loss run: loss {first:.4} -> {last:.4} in {}",
            count(args.epochs, "epoch")
        )),
        _ => nb.result("log-loss run: no training (--epochs 0)"),
    }
    if let (Some(a_log), Some(a_sq)) = (log_run.accs.last(), sq_run.accs.last()) {
        nb.result(&format!(
            "90% training accuracy: log loss {}, squared error {}; final accuracy {a_log:.3} vs \
             {a_sq:.3}",
            reach(&log_run.accs),
            reach(&sq_run.accs)
        ));
    }
    nb.say(
        "Same start, same step size, same number of steps. The log loss pulls hard on every \
         confidently wrong point, so its loss falls at once and the accuracy follows. The \
         squared error sees gradients of size about p(true), tiny at the start: it sits on a \
         plateau while p(true) creeps up, and only once p(true) is no longer small does it \
         suddenly learn (with the defaults, after about a hundred epochs). That plateau is the \
         practical reason classifiers are trained with −log p.",
    );
    checks.loss_fell("log-loss run", &log_run.losses, 0.5);
    let first_log = first_reaching(&log_run.accs, 0.9).unwrap_or(usize::MAX);
    let first_sq = first_reaching(&sq_run.accs, 0.9).unwrap_or(usize::MAX);
    checks.claim(
        first_log < first_sq,
        "the log loss reaches 90% training accuracy before the squared error",
    );
    checks.finish();
}

/// One training run of the linear classifier from the confidently wrong start.
struct Run {
    x: Tensor,
    y: Tensor,
    onehot: Tensor,
    w: Tensor,
    b: Tensor,
    opt: SGD,
    log_loss: bool,
    losses: Vec<f64>,
    accs: Vec<f64>,
}

impl Run {
    fn new(x: &Tensor, y: &Tensor, onehot: &Tensor, lr: f64, log_loss: bool) -> Run {
        // Column k of W is the centre of cluster k − 1 (cyclically):
        // every cluster's logits favour the wrong class by a wide margin.
        let c = centres();
        let mut w = vec![0.0; 6];
        for k in 0..3 {
            let from = (k + 2) % 3;
            w[k] = c[from].0;
            w[3 + k] = c[from].1;
        }
        let w = Tensor::from_vec(w, vec![2, 3])
            .unwrap()
            .requires_grad_(true);
        let b = Tensor::full_dtype(vec![3], 0.0, DType::F64).requires_grad_(true);
        let opt = SGD::new(
            [w.clone(), b.clone()],
            SgdConfig {
                lr,
                ..Default::default()
            },
        )
        .unwrap();
        Run {
            x: x.clone(),
            y: y.clone(),
            onehot: onehot.clone(),
            w,
            b,
            opt,
            log_loss,
            losses: Vec::new(),
            accs: Vec::new(),
        }
    }

    /// Mean probability of the true class at the current weights.
    fn mean_p_true(&self) -> f64 {
        let z = self.x.matmul(&self.w).add(&self.b).detach();
        z.softmax(1)
            .mul(&self.onehot)
            .sum_dim(1, false)
            .mean()
            .item::<f64>()
    }

    /// One full-batch step; returns the loss, accuracy and mean p(true)
    /// before it.
    fn step(&mut self) -> (f64, f64, f64) {
        let z = self.x.matmul(&self.w).add(&self.b);
        let p_true = z.softmax(1).mul(&self.onehot).sum_dim(1, false);
        let loss = if self.log_loss {
            cross_entropy(&z, &self.y).unwrap()
        } else {
            p_true.rsub_scalar(1.0).square().mean()
        };
        let acc = accuracy(&z.detach(), &self.y).unwrap();
        let mean_p = p_true.detach().mean().item::<f64>();
        self.opt.zero_grad();
        loss.backward();
        self.opt.step().unwrap();
        let l = loss.item::<f64>();
        self.losses.push(l);
        self.accs.push(acc);
        (l, acc, mean_p)
    }
}

fn centres() -> [(f64, f64); 3] {
    let r = 2.5;
    let angle = |k: f64| std::f64::consts::FRAC_PI_2 + k * 2.0 * std::f64::consts::PI / 3.0;
    [0.0, 1.0, 2.0].map(|k| (r * angle(k).cos(), r * angle(k).sin()))
}

/// `per_class` points around each of three centres (std 0.7) and their
/// labels, in f64.
fn blobs(per_class: usize, seed: u64) -> (Tensor, Tensor) {
    let mut rng = seeded_rng(seed);
    let noise = Tensor::randn_dtype(vec![3 * per_class, 2], DType::F64, &mut rng).to_vec::<f64>();
    let c = centres();
    let mut xs = Vec::with_capacity(6 * per_class);
    let mut ys = Vec::with_capacity(3 * per_class);
    for i in 0..3 * per_class {
        let k = i % 3;
        xs.push(c[k].0 + 0.7 * noise[2 * i]);
        xs.push(c[k].1 + 0.7 * noise[2 * i + 1]);
        ys.push(k as f64);
    }
    (
        Tensor::from_vec(xs, vec![3 * per_class, 2]).unwrap(),
        Tensor::from_vec(ys, vec![3 * per_class]).unwrap(),
    )
}

/// 0.9, 0.5, 0.1, then 1e-2, 1e-3, ...
fn show_p(p: f64) -> String {
    if p >= 0.1 {
        format!("{p}")
    } else {
        format!("{p:e}")
    }
}

/// The first epoch (1-based) whose accuracy reached `level`.
fn first_reaching(accs: &[f64], level: f64) -> Option<usize> {
    accs.iter().position(|&a| a >= level).map(|i| i + 1)
}

/// Relative error, safe for values near zero.
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}
