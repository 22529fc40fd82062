//! # Cross-entropy, entropy and the KL divergence
//!
//! Training a classifier with cross-entropy is the same as making its
//! predicted distribution Q as close as possible to the true distribution P,
//! measured by the Kullback–Leibler divergence. This notebook shows:
//!
//! 1. the identity H(P, Q) = H(P) + KL(P‖Q), checked numerically with
//!    tapegrad's `cross_entropy` and `kl_div` for a few P and Q;
//! 2. that KL is never negative and is not symmetric, KL(P‖Q) ≠ KL(Q‖P);
//! 3. fitting Q = softmax(θ) to a fixed P by minimising cross-entropy with
//!    SGD: the loss levels off at H(P), not at 0, while KL(P‖Q) goes to 0;
//! 4. what the asymmetry does when Q cannot match P: a one-bump Q fitted to
//!    a two-bump P covers both bumps under KL(P‖Q) and picks one under
//!    KL(Q‖P).
//!
//! ```sh
//! cargo run --release --example kl_divergence
//! cargo run --release --example kl_divergence -- --help
//! ```

mod support;

use support::chart::{report_curves, Chart};
use support::checks::Checks;
use support::epochs::EpochLog;
use support::flags::{Args, Spec};
use support::notebook::Notebook;
use tapegrad::nn::functional::{cross_entropy, kl_div_with, KlDivOptions, KlReduction, Reduction};
use tapegrad::optim::{Adam, AdamConfig, Optimizer, SgdConfig, SGD};
use tapegrad::{seeded_rng, DType, Tensor};

const SPEC: Spec = Spec {
    epochs: Some(200),
    lr: Some(2.0),
    seed: Some("the 2000 random pairs of distributions"),
    out: Some("two charts (SVG)"),
    ..Spec::new(
        "kl_divergence",
        "Cross-entropy, entropy and the KL divergence: H(P, Q) = H(P) + KL(P‖Q) checked \
         numerically, KL's sign and asymmetry, fitting Q = softmax(θ) to P with SGD (the loss \
         levels off at H(P)), and forward against reverse KL when a one-bump Q is fitted to a \
         two-bump P. --epochs and --lr set the SGD fit.",
    )
};

fn main() {
    let args = Args::parse(SPEC);
    let mut nb = Notebook::new("Cross-entropy, entropy and the KL divergence", &args);
    let mut checks = Checks::new(&args);

    // ------------------------------------------------------------------
    nb.section("H(P, Q) = H(P) + KL(P‖Q)");
    nb.say(
        "Three quantities, all in nats (divide by ln 2 ≈ 0.693 for bits). The entropy \
         H(P) = −Σ pᵢ log pᵢ is the average surprise of outcomes drawn from P, if you know P. \
         The cross-entropy H(P, Q) = −Σ pᵢ log qᵢ is the average surprise when outcomes come \
         from P but you expected Q. The KL divergence KL(P‖Q) = Σ pᵢ log(pᵢ/qᵢ) is the extra \
         surprise caused by the wrong expectation. Splitting log(pᵢ/qᵢ) = log pᵢ − log qᵢ gives \
         KL(P‖Q) = H(P, Q) − H(P) term by term. Below, H(P, Q) is tapegrad's cross_entropy \
         (with probability targets, and log Q as the logits, since log_softmax(log Q) = log Q), \
         KL is kl_div with reduction 'sum', and H(P) is the formula (with 0·log 0 = 0).",
    );
    let pairs: [(&str, [f64; 4], [f64; 4]); 5] = [
        ("uniform vs peaked", [0.25; 4], [0.7, 0.1, 0.1, 0.1]),
        ("peaked vs uniform", [0.7, 0.1, 0.1, 0.1], [0.25; 4]),
        ("one-hot label", [0.0, 0.0, 1.0, 0.0], [0.1, 0.2, 0.6, 0.1]),
        ("Q = P", [0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1]),
        ("disjoint-ish", [0.5, 0.5, 0.0, 0.0], [0.1, 0.1, 0.4, 0.4]),
    ];
    let mut worst = 0.0f64;
    let mut rows = Vec::new();
    let mut kls = Vec::new();
    for (name, p, q) in &pairs {
        let h_p = entropy(p);
        let (h_pq, kl) = cross_entropy_and_kl(p, q);
        let gap = (h_pq - (h_p + kl)).abs();
        worst = worst.max(gap);
        kls.push(kl);
        rows.push(vec![
            name.to_string(),
            format!("{h_p:.6}"),
            format!("{h_pq:.6}"),
            format!("{kl:.6}"),
            format!("{:.6}", h_p + kl),
            format!("{gap:.1e}"),
        ]);
    }
    nb.table(
        &["pair", "P", "Q"],
        &pairs
            .iter()
            .map(|(name, p, q)| vec![name.to_string(), show(p), show(q)])
            .collect::<Vec<_>>(),
    );
    nb.table(
        &["pair", "H(P)", "H(P,Q)", "KL(P‖Q)", "H(P) + KL", "|diff|"],
        &rows,
    );
    nb.result(&format!(
        "H(P,Q) = H(P) + KL(P‖Q): worst |difference| over {} pairs = {worst:.1e}",
        pairs.len()
    ));
    checks.claim(
        worst < 1e-12,
        &format!("H(P,Q) = H(P) + KL(P‖Q) to 1e-12 (worst difference {worst:.1e})"),
    );
    nb.say(
        "The 'one-hot label' row is a classifier's situation: P is the label, so H(P) = 0 and \
         the cross-entropy, the KL divergence and −log q(true class) = −log 0.6 are one and the \
         same number. In general H(P) does not depend on Q, so minimising H(P, Q) over Q and \
         minimising KL(P‖Q) over Q are the same problem: training with cross-entropy is \
         minimising a KL divergence in disguise.",
    );

    // ------------------------------------------------------------------
    nb.section("KL is never negative, and not symmetric");
    nb.say(
        "KL(P‖Q) ≥ 0, with equality only when Q = P: by Jensen's inequality (log is concave), \
         −KL = Σ pᵢ log(qᵢ/pᵢ) ≤ log Σ pᵢ·qᵢ/pᵢ ≤ log 1 = 0. But swapping the arguments changes \
         the number, because each direction averages over a different distribution. Where P \
         has no mass and Q does, KL(Q‖P) is even infinite: Q expects outcomes that never \
         happen under P, which is infinitely surprising in that direction.",
    );
    let mut rows = Vec::new();
    for (k, (name, p, q)) in pairs.iter().enumerate() {
        let (_, back) = cross_entropy_and_kl(q, p);
        rows.push(vec![
            name.to_string(),
            format!("{:.6}", kls[k]),
            format!("{back:.6}"),
            format!("{:.6}", back - kls[k]),
        ]);
    }
    nb.table(&["pair", "KL(P‖Q)", "KL(Q‖P)", "difference"], &rows);

    let trials = 2000;
    let mut rng = seeded_rng(args.seed);
    let c = 6;
    let p = Tensor::randn_dtype(vec![trials, c], DType::F64, &mut rng)
        .mul_scalar(2.0)
        .softmax(1);
    let q = Tensor::randn_dtype(vec![trials, c], DType::F64, &mut rng)
        .mul_scalar(2.0)
        .softmax(1);
    let none = KlDivOptions::default().reduction(Reduction::None);
    let forward = kl_div_with(&q.log(), &p, &none)
        .unwrap()
        .sum_dim(1, false)
        .to_vec::<f64>();
    let backward = kl_div_with(&p.log(), &q, &none)
        .unwrap()
        .sum_dim(1, false)
        .to_vec::<f64>();
    let min_kl = forward
        .iter()
        .chain(&backward)
        .copied()
        .fold(f64::INFINITY, f64::min);
    let max_asym = forward
        .iter()
        .zip(&backward)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let median_ratio = {
        let mut r: Vec<f64> = forward.iter().zip(&backward).map(|(a, b)| a / b).collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    nb.result(&format!(
        "{trials} random pairs over {c} classes (seed {}): smallest KL = {min_kl:.3e}, \
         largest |KL(P‖Q) − KL(Q‖P)| = {max_asym:.3}, median KL(P‖Q)/KL(Q‖P) = {median_ratio:.3}",
        args.seed
    ));
    checks.claim(
        min_kl >= -1e-12,
        &format!("KL(P‖Q) ≥ 0 for every random pair (smallest {min_kl:.3e})"),
    );

    // ------------------------------------------------------------------
    nb.section("Fitting Q = softmax(θ) to P by minimising cross-entropy");
    let target = [0.01, 0.02, 0.85, 0.07, 0.03, 0.02];
    let h_target = entropy(&target);
    nb.say(&format!(
        "Now P is fixed, P = {}, and Q = softmax(θ) has six free logits. θ starts at \
         (4, 0, 0, 0, 0, 0): Q is confident in class 0, where P has almost no mass. Each epoch \
         is one SGD step (lr {}) on H(P, Q) = cross_entropy(θ, P), whose gradient is simply \
         Q − P. The loss cannot go below H(P) = {h_target:.6}: that part of the surprise is in \
         P itself. What goes to zero is KL(P‖Q) = loss − H(P).",
        show(&target),
        args.lr
    ));
    let p_t = Tensor::from_vec(target.to_vec(), vec![1, 6]).unwrap();
    let theta = Tensor::from_vec(vec![4.0, 0.0, 0.0, 0.0, 0.0, 0.0], vec![1, 6])
        .unwrap()
        .requires_grad_(true);
    let mut opt = SGD::new(
        [theta.clone()],
        SgdConfig {
            lr: args.lr,
            ..Default::default()
        },
    )
    .unwrap();
    let mut losses = Vec::with_capacity(args.epochs);
    let mut log = EpochLog::new("fitting", &args);
    let every = (args.epochs / 8).max(1);
    let mut rows = Vec::new();
    for epoch in 1..=args.epochs {
        let loss = cross_entropy(&theta, &p_t).unwrap();
        opt.zero_grad();
        loss.backward();
        opt.step().unwrap();
        let l = loss.item::<f64>();
        losses.push(l);
        log.epoch(epoch, l, None);
        if epoch == 1 || epoch.is_multiple_of(every) {
            rows.push(vec![
                format!("{epoch}"),
                format!("{l:.6}"),
                format!("{:.3e}", l - h_target),
            ]);
        }
    }
    let q_fit = theta.detach().softmax(1).to_vec::<f64>();
    let (final_h, final_kl) = cross_entropy_and_kl(&target, &q_fit);
    if rows.is_empty() {
        nb.say("With --epochs 0 θ does not move: Q is still its starting point.");
    } else {
        nb.table(&["epoch", "H(P, Q)", "KL(P‖Q)"], &rows);
    }
    let q_rows: Vec<Vec<String>> = (0..6)
        .map(|i| {
            vec![
                format!("{i}"),
                format!("{:.4}", target[i]),
                format!("{:.4}", q_fit[i]),
            ]
        })
        .collect();
    nb.table(&["class", "P", "fitted Q"], &q_rows);
    report_curves(
        &nb,
        "kl_divergence_fit.svg",
        "kl_divergence: H(P, Q) while fitting Q = softmax(θ)",
        &[("H(P, Q)", &losses)],
    );
    let first = losses.first().copied().unwrap_or(final_h);
    nb.result(&format!(
        "fit: loss {first:.6} -> {final_h:.6} (H(P) = {h_target:.6}), KL(P‖Q) {:.3e} -> \
         {final_kl:.3e} in {} SGD steps",
        first - h_target,
        args.epochs
    ));
    checks.loss_fell("fitting Q", &losses, 0.5);
    checks.claim(
        final_kl < 1e-3 * (first - h_target),
        &format!("KL(P‖Q) falls below 1/1000 of its start (ends at {final_kl:.3e})"),
    );

    // ------------------------------------------------------------------
    nb.section("Forward and reverse KL: covering the modes or picking one");
    let grid: Vec<f64> = (0..=120).map(|i| -6.0 + 0.1 * i as f64).collect();
    let p_grid = bimodal(&grid);
    nb.say(
        "When Q can match P exactly, both directions of KL reach 0 at the same place. When it \
         cannot, they disagree about what 'close' means. Here P is two bumps, at −2.5 and +2.5 \
         (width 0.6), on a grid of 121 points from −6 to 6, and Q is a single bump: a \
         discretised Gaussian with a learnable mean μ and log-width log σ, Q = softmax(−(x − μ)² / \
         2σ²). We fit Q twice with Adam (lr 0.05), from μ = 1, σ = 1: once minimising \
         KL(P‖Q) (forward, what cross-entropy training does) and once minimising KL(Q‖P) \
         (reverse, computed with kl_div's log_target option and the gradient flowing into its \
         target).",
    );
    let steps = if args.quick { 200 } else { 400 };
    let x_t = Tensor::from_vec(grid.clone(), vec![grid.len()]).unwrap();
    let p_t = Tensor::from_vec(p_grid.clone(), vec![grid.len()]).unwrap();
    let fwd = fit_gaussian(&x_t, &p_t, true, steps);
    let rev = fit_gaussian(&x_t, &p_t, false, steps);
    let mut rows = Vec::new();
    for (name, fit) in [("KL(P‖Q), forward", &fwd), ("KL(Q‖P), reverse", &rev)] {
        let left: f64 = grid
            .iter()
            .zip(&fit.q)
            .filter(|(x, _)| **x < 0.0)
            .map(|(_, q)| q)
            .sum();
        let right: f64 = grid
            .iter()
            .zip(&fit.q)
            .filter(|(x, _)| **x > 0.0)
            .map(|(_, q)| q)
            .sum();
        rows.push(vec![
            name.to_string(),
            format!("{:+.3}", fit.mu),
            format!("{:.3}", fit.sigma),
            format!("{:.4}", kl_sum(&p_grid, &fit.q)),
            format!("{:.4}", kl_sum(&fit.q, &p_grid)),
            format!("{left:.3}"),
            format!("{right:.3}"),
        ]);
    }
    nb.table(
        &[
            "minimised",
            "μ",
            "σ",
            "KL(P‖Q)",
            "KL(Q‖P)",
            "Q mass x<0",
            "Q mass x>0",
        ],
        &rows,
    );
    nb.block(&format!(
        "{}{}{}{:>6}-6{:>29}0{:>29}6\n",
        profile("P: two bumps", &p_grid, 7),
        profile("Q fitted by KL(P‖Q): covers both", &fwd.q, 7),
        profile("Q fitted by KL(Q‖P): picks one", &rev.q, 7),
        "",
        "",
        ""
    ));
    let chart = Chart {
        title: "P (two bumps) and the one-bump Q fitted by each KL",
        x_label: "x",
        y_label: "probability",
        x_first: grid[0],
        x_step: grid[1] - grid[0],
        series: &[
            ("P", &p_grid),
            ("Q, forward KL(P‖Q)", &fwd.q),
            ("Q, reverse KL(Q‖P)", &rev.q),
        ],
        allow_log_y: false,
    };
    nb.save("kl_divergence_modes.svg", "P and both fits", &chart.svg());
    nb.say(
        "Forward KL(P‖Q) = Σ P log(P/Q) is an average over P: wherever P has mass, a small Q is \
         punished without limit, so Q stretches to cover both bumps and puts its own peak in the \
         valley between them, where P has almost nothing (mode-covering). Reverse KL(Q‖P) is an \
         average over Q: Q is punished for putting mass where P has none, and not at all for \
         missing part of P, so it settles on one bump and fits it snugly (mode-seeking). \
         Which bump it picks depends on where it starts: here μ = 1 leans right. (Reverse KL has \
         more than one local minimum; started exactly between the bumps, it can also stall on \
         a wide, symmetric compromise.)",
    );
    nb.say(&format!(
        "The reverse fit's KL(Q‖P) = {:.4} is ln 2 = {:.4}: Q matches the right bump exactly, \
         and P gives that bump only half of its mass. Its forward KL, on the other hand, is \
         huge ({:.1}): judged by P, a Q that ignores the left bump is terrible.",
        kl_sum(&rev.q, &p_grid),
        std::f64::consts::LN_2,
        kl_sum(&p_grid, &rev.q)
    ));
    nb.result(&format!(
        "forward fit: μ = {:+.3}, σ = {:.3}; reverse fit: μ = {:+.3}, σ = {:.3}",
        fwd.mu, fwd.sigma, rev.mu, rev.sigma
    ));
    checks.claim(
        fwd.mu.abs() < 0.3 && fwd.sigma > 2.0,
        "the forward-KL fit sits between the bumps and is wide",
    );
    checks.claim(
        (rev.mu - 2.5).abs() < 0.3 && rev.sigma < 1.0,
        "the reverse-KL fit sits on the right bump and is narrow",
    );
    checks.finish();
}

/// A fitted one-bump Q.
struct GaussianFit {
    mu: f64,
    sigma: f64,
    q: Vec<f64>,
}

/// Fits Q = softmax(−(x − μ)²/2σ²) over the grid by minimising KL(P‖Q)
/// (`forward`) or KL(Q‖P).
fn fit_gaussian(x: &Tensor, p: &Tensor, forward: bool, steps: usize) -> GaussianFit {
    let mu = Tensor::new([1.0f64]).requires_grad_(true);
    let log_sigma = Tensor::new([0.0f64]).requires_grad_(true);
    let mut opt = Adam::new(
        [mu.clone(), log_sigma.clone()],
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
    )
    .unwrap();
    let log_p = p.log();
    let sum = KlDivOptions::default().reduction(KlReduction::Sum);
    let log_q = || {
        x.sub(&mu)
            .square()
            .mul(&log_sigma.mul_scalar(-2.0).exp())
            .mul_scalar(-0.5)
            .log_softmax(0)
    };
    for _ in 0..steps {
        let loss = if forward {
            kl_div_with(&log_q(), p, &sum).unwrap()
        } else {
            // kl_div(input, target) = Σ target·(log target − input): with the
            // target log Q and the input log P, that is KL(Q‖P).
            kl_div_with(&log_p, &log_q(), &sum.log_target(true)).unwrap()
        };
        opt.zero_grad();
        loss.backward();
        opt.step().unwrap();
    }
    GaussianFit {
        mu: mu.item::<f64>(),
        sigma: log_sigma.item::<f64>().exp(),
        q: log_q().exp().detach().to_vec::<f64>(),
    }
}

/// Two equal Gaussian bumps at ±2.5 (width 0.6), normalised over the grid.
fn bimodal(grid: &[f64]) -> Vec<f64> {
    let bump = |x: f64, m: f64| (-(x - m) * (x - m) / (2.0 * 0.36)).exp();
    let raw: Vec<f64> = grid.iter().map(|&x| bump(x, -2.5) + bump(x, 2.5)).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|v| v / total).collect()
}

/// A distribution over the grid drawn as columns, every second point.
fn profile(title: &str, values: &[f64], height: usize) -> String {
    let hi = values.iter().copied().fold(0.0, f64::max).max(1e-12);
    let cols: Vec<f64> = values.iter().step_by(2).copied().collect();
    let mut out = format!("{title}\n");
    for r in (0..height).rev() {
        let line: String = cols
            .iter()
            .map(|&v| {
                let level = v / hi * height as f64;
                if level > r as f64 + 0.5 {
                    '#'
                } else if level > r as f64 + 0.05 && r == 0 {
                    '.'
                } else {
                    ' '
                }
            })
            .collect();
        let label = if r == height - 1 {
            format!("{hi:.3}")
        } else {
            String::new()
        };
        out.push_str(&format!("{label:>6} |{}\n", line.trim_end()));
    }
    out.push_str(&format!("{:>6} +{}\n", "", "-".repeat(cols.len())));
    out
}

/// H(P, Q) from `cross_entropy` and KL(P‖Q) from `kl_div`, for one pair.
fn cross_entropy_and_kl(p: &[f64], q: &[f64]) -> (f64, f64) {
    let n = p.len();
    let p_t = Tensor::from_vec(p.to_vec(), vec![1, n]).unwrap();
    let log_q = Tensor::from_vec(q.to_vec(), vec![1, n]).unwrap().log();
    let h = cross_entropy(&log_q, &p_t).unwrap().item::<f64>();
    let sum = KlDivOptions::default().reduction(KlReduction::Sum);
    let kl = kl_div_with(&log_q, &p_t, &sum).unwrap().item::<f64>();
    (h, kl)
}

/// Σ p log(p/q) with 0·log 0 = 0, in plain f64.
fn kl_sum(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, q)| p * (p / q).ln())
        .sum()
}

/// −Σ p log p with 0·log 0 = 0.
fn entropy(p: &[f64]) -> f64 {
    // + 0.0 turns the −0.0 of a one-hot P into 0.0 for printing.
    -p.iter()
        .filter(|&&v| v > 0.0)
        .map(|v| v * v.ln())
        .sum::<f64>()
        + 0.0
}

fn show(p: &[f64]) -> String {
    let items: Vec<String> = p.iter().map(|v| format!("{v}")).collect();
    format!("({})", items.join(", "))
}
