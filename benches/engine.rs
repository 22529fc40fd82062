//! Engine benchmark: the workloads of issue 7 (W1–W5 and peak memory).
//!
//! ```text
//! cargo bench --bench engine                 # every workload, a table
//! cargo bench --bench engine -- W3 W5        # only some
//! cargo bench --bench engine -- K            # the kernels behind W1 alone
//! cargo bench --bench engine -- --quick      # fewer repeats (bench/compare.py)
//! target/release/deps/engine-* --run W2-64 100   # untimed, for perf / callgrind
//! ```
//!
//! No framework: each case is warmed up, then timed a fixed number of times;
//! the table gives the median and the min–max range. Every case also prints
//! a machine-readable line `RESULT <case> <threads> <median_s> <min_s>
//! <max_s>` (seconds per iteration; for W3 seconds per recorded op), which
//! `bench/compare.py` pairs with `bench/torch_bench.py`.
//!
//! Data is synthetic and seeded. Results are recorded in
//! `docs/benchmarks.md`.

use std::hint::black_box;
use std::time::Instant;

use rand::RngExt;
use tapegrad::nn::functional::cross_entropy;
use tapegrad::nn::{mlp, Activation, Module, Sequential};
use tapegrad::optim::{Optimizer, SgdConfig, SGD};
use tapegrad::{no_grad, seeded_rng, set_num_threads, tape_len, DType, Tensor};

/// Wall-clock seconds of each timed run, sorted.
struct Samples(Vec<f64>);

impl Samples {
    fn median(&self) -> f64 {
        let v = &self.0;
        let mid = v.len() / 2;
        if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        }
    }
    fn min(&self) -> f64 {
        self.0[0]
    }
    fn max(&self) -> f64 {
        self.0[self.0.len() - 1]
    }
    fn scaled(&self, factor: f64) -> Samples {
        Samples(self.0.iter().map(|v| v * factor).collect())
    }
}

/// Runs `f` `warmup` times untimed, then `reps` times timed.
fn time(warmup: usize, reps: usize, mut f: impl FnMut()) -> Samples {
    for _ in 0..warmup {
        f();
    }
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    Samples(v)
}

/// A human-readable figure: a time or a throughput.
fn human_time(seconds: f64) -> String {
    if seconds < 1e-6 {
        format!("{:.0} ns", seconds * 1e9)
    } else if seconds < 1e-3 {
        format!("{:.2} µs", seconds * 1e6)
    } else {
        format!("{:.3} ms", seconds * 1e3)
    }
}

struct Report {
    quick: bool,
}

impl Report {
    fn reps(&self, full: usize) -> usize {
        if self.quick {
            full.div_ceil(3).max(5)
        } else {
            full
        }
    }

    /// One table row (times) plus the RESULT line.
    fn time_row(
        &self,
        id: &str,
        case: &str,
        threads: usize,
        s: &Samples,
        unit: &str,
        target: &str,
    ) {
        println!(
            "| {case} | {threads} | {}{unit} | {} – {}{unit} | {} | {target} |",
            human_time(s.median()),
            human_time(s.min()),
            human_time(s.max()),
            s.0.len()
        );
        result_line(id, threads, s);
    }

    /// One table row in GFLOP/s plus the RESULT line (in seconds).
    #[allow(clippy::too_many_arguments)]
    fn gflops_row(
        &self,
        id: &str,
        case: &str,
        threads: usize,
        s: &Samples,
        flops: f64,
        target: &str,
    ) {
        let g = |t: f64| flops / t / 1e9;
        println!(
            "| {case} | {threads} | {:.1} GFLOP/s ({}) | {:.1} – {:.1} GFLOP/s | {} | {target} |",
            g(s.median()),
            human_time(s.median()),
            g(s.max()),
            g(s.min()),
            s.0.len()
        );
        result_line(id, threads, s);
    }
}

/// `id` is the case name shared with `bench/torch_bench.py`.
fn result_line(id: &str, threads: usize, s: &Samples) {
    eprintln!(
        "RESULT {id} {threads} {:e} {:e} {:e}",
        s.median(),
        s.min(),
        s.max()
    );
}

/// `n` class ids in `0..classes` (integral floats: tapegrad has no integer
/// dtype).
fn class_ids(n: usize, classes: usize, rng: &mut impl rand::Rng) -> Tensor {
    let ids: Vec<f32> = (0..n)
        .map(|_| rng.random_range(0..classes) as f32)
        .collect();
    Tensor::from_vec(ids, [n]).unwrap()
}

/// W1: softmax regression on a digits-sized problem, full batch: logits =
/// X·W + b, cross-entropy, backward, one SGD step (lr 0.1).
struct SoftmaxRegression {
    x: Tensor,
    y: Tensor,
    w: Tensor,
    b: Tensor,
    opt: SGD,
}

impl SoftmaxRegression {
    fn new() -> SoftmaxRegression {
        let mut rng = seeded_rng(1);
        let x = Tensor::randn([1797, 64], &mut rng);
        let y = class_ids(1797, 10, &mut rng);
        let w = Tensor::randn([64, 10], &mut rng)
            .mul_scalar(0.01)
            .requires_grad_(true);
        let b = Tensor::zeros([10]).requires_grad_(true);
        let cfg = SgdConfig {
            lr: 0.1,
            ..Default::default()
        };
        let opt = SGD::new([w.clone(), b.clone()], cfg).unwrap();
        SoftmaxRegression { x, y, w, b, opt }
    }

    fn step(&mut self) {
        self.opt.zero_grad();
        let logits = self.x.matmul(&self.w).add(&self.b);
        cross_entropy(&logits, &self.y).unwrap().backward();
        self.opt.step().unwrap();
    }
}

/// W2: an MLP 784-256-128-10 with ReLU (`nn::mlp`), SGD with momentum 0.9
/// (lr 0.01), one training step on a fixed random batch.
struct MlpStep {
    model: Sequential,
    opt: SGD,
    x: Tensor,
    y: Tensor,
}

impl MlpStep {
    fn new(batch: usize) -> MlpStep {
        let mut rng = seeded_rng(2);
        let model = mlp(&[784, 256, 128, 10], Activation::Relu, &mut rng).unwrap();
        let cfg = SgdConfig {
            lr: 0.01,
            momentum: 0.9,
            ..Default::default()
        };
        let opt = SGD::new(model.parameters(), cfg).unwrap();
        let x = Tensor::randn([batch, 784], &mut rng);
        let y = class_ids(batch, 10, &mut rng);
        MlpStep { model, opt, x, y }
    }

    fn step(&mut self) {
        self.opt.zero_grad();
        let logits = self.model.forward(&self.x);
        cross_entropy(&logits, &self.y).unwrap().backward();
        self.opt.step().unwrap();
    }
}

/// W3: 3,000 recorded ops on a [16] tensor (1,000 × {mul, add, tanh}), then
/// sum and backward.
fn w3_op_chain(x: &Tensor) {
    let mut y = x.clone();
    for _ in 0..1000 {
        y = y.mul_scalar(0.9).add_scalar(0.1).tanh();
    }
    y.sum().backward();
    debug_assert_eq!(tape_len(), 0);
    black_box(x.grad());
    x.zero_grad();
}
const W3_OPS: f64 = 3000.0;

/// W5: micrograd's `MLP(3, [4, 4, 1])`: tanh after every layer but the
/// last, weights uniform in [-1, 1] as micrograd initialises them.
struct MicroMlp {
    layers: Vec<(Tensor, Tensor)>,
}

impl MicroMlp {
    fn new(seed: u64) -> MicroMlp {
        let mut rng = seeded_rng(seed);
        let sizes = [3, 4, 4, 1];
        let layers = sizes
            .windows(2)
            .map(|w| {
                let u = |shape: &[usize], rng: &mut _| {
                    Tensor::uniform(shape, -1.0, 1.0, DType::F32, rng)
                        .unwrap()
                        .requires_grad_(true)
                };
                (u(&[w[0], w[1]], &mut rng), u(&[w[1]], &mut rng))
            })
            .collect();
        MicroMlp { layers }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let last = self.layers.len() - 1;
        let mut h = x.clone();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            h = h.matmul(w).add(b);
            if i < last {
                h = h.tanh();
            }
        }
        h
    }

    fn step(&self, x: &Tensor) {
        for (w, b) in &self.layers {
            w.zero_grad();
            b.zero_grad();
        }
        let out = self.forward(x); // shape [1]
        out.backward();
        black_box(self.layers[0].0.grad());
    }
}

/// Peak resident set size of this process, in kB (`VmHWM`), if known.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs one workload in a fresh child process (this binary with `--rss
/// <name>`) and returns the child's peak RSS in kB, so that each figure
/// starts from an empty heap.
fn child_peak_rss(workload: &str) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .args(["--rss", workload])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("PEAK_RSS_KB "))
        .and_then(|v| v.trim().parse().ok())
}

/// The body of a `--rss` child: run the workload on one thread, print the
/// peak.
fn rss_child(workload: &str) {
    set_num_threads(1);
    match workload {
        "baseline" => {}
        "W3" => {
            let x = Tensor::randn([16], &mut seeded_rng(0)).requires_grad_(true);
            for _ in 0..200 {
                w3_op_chain(&x);
            }
        }
        "W5" => {
            let mlp = MicroMlp::new(5);
            let x = Tensor::new([2.0f32, 3.0, -1.0]);
            for _ in 0..200 {
                mlp.step(&x);
            }
        }
        "W2" => {
            // Batch 64, as in issue 7.
            let mut w2 = MlpStep::new(64);
            for _ in 0..200 {
                w2.step();
            }
        }
        other => {
            eprintln!("unknown --rss workload {other}");
            std::process::exit(2);
        }
    }
    println!("PEAK_RSS_KB {}", peak_rss_kb().unwrap_or(0));
}

/// `--run <case> <n>`: run one case `n` times on one thread, untimed, for
/// `perf record` or `valgrind --tool=callgrind`.
fn run_only(case: &str, n: usize) {
    set_num_threads(1);
    match case {
        "W1" => {
            let mut w1 = SoftmaxRegression::new();
            (0..n).for_each(|_| w1.step());
        }
        "W2-64" | "W2-512" => {
            let mut w2 = MlpStep::new(if case == "W2-64" { 64 } else { 512 });
            (0..n).for_each(|_| w2.step());
        }
        "W3" => {
            let x = Tensor::randn([16], &mut seeded_rng(0)).requires_grad_(true);
            (0..n).for_each(|_| w3_op_chain(&x));
        }
        "W5" => {
            let mlp = MicroMlp::new(5);
            let x = Tensor::new([2.0f32, 3.0, -1.0]);
            (0..n).for_each(|_| mlp.step(&x));
        }
        other => {
            eprintln!("unknown --run case {other} (W1, W2-64, W2-512, W3, W5)");
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--run") {
        let n = args.get(i + 2).and_then(|v| v.parse().ok()).unwrap_or(100);
        run_only(args.get(i + 1).map(String::as_str).unwrap_or("W1"), n);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--rss") {
        rss_child(args.get(i + 1).map(String::as_str).unwrap_or("baseline"));
        return;
    }
    let report = Report {
        quick: args.iter().any(|a| a == "--quick"),
    };
    let selected: Vec<&str> = args
        .iter()
        .filter(|a| a.starts_with('W') || *a == "RSS" || *a == "K")
        .map(String::as_str)
        .collect();
    let wants = |w: &str| selected.is_empty() || selected.contains(&w);

    println!("| case | threads | median | range (min – max) | reps | target |");
    println!("|---|---|---|---|---|---|");

    if wants("W1") {
        for threads in [1, 2] {
            set_num_threads(threads);
            let mut w1 = SoftmaxRegression::new();
            let s = time(20, report.reps(201), || w1.step());
            black_box((&w1.w, &w1.b));
            report.time_row(
                "W1",
                "W1 softmax regression step (1797×64, 10 classes)",
                threads,
                &s,
                "",
                "≤ 170 µs",
            );
        }
    }
    if wants("W2") {
        for threads in [1, 2] {
            set_num_threads(threads);
            for (batch, reps, target) in [(64, 301, "≤ 0.67 ms"), (512, 61, "≤ 4.36 ms")] {
                let mut w2 = MlpStep::new(batch);
                let s = time(10, report.reps(reps), || w2.step());
                report.time_row(
                    &format!("W2-{batch}"),
                    &format!("W2 MLP 784-256-128-10 step, batch {batch}"),
                    threads,
                    &s,
                    "",
                    target,
                );
            }
        }
        set_num_threads(1);
    }

    if wants("W3") {
        set_num_threads(1);
        let x = Tensor::randn([16], &mut seeded_rng(0)).requires_grad_(true);
        let s = time(5, report.reps(41), || w3_op_chain(&x)).scaled(1.0 / W3_OPS);
        report.time_row(
            "W3",
            "W3 per recorded op, [16] f32, fwd+bwd",
            1,
            &s,
            "/op",
            "≤ 300 ns",
        );
    }

    if wants("W4") {
        for threads in [1, 2] {
            set_num_threads(threads);
            for (n, reps) in [(256, 101), (512, 31), (1024, 11)] {
                let mut rng = seeded_rng(n as u64);
                let a = Tensor::randn([n, n], &mut rng);
                let b = Tensor::randn([n, n], &mut rng);
                let s = time(3, report.reps(reps), || {
                    black_box(no_grad(|| a.matmul(&b)));
                });
                let flops = 2.0 * (n as f64).powi(3);
                // Issue 7: at least 0.85x PyTorch's GFLOP/s on the same
                // machine (bench/compare.py prints the ratio).
                let target = if threads == 1 {
                    "≥ 0.85× PyTorch"
                } else {
                    "≥ 0.85× PyTorch, ≥ 1 thread"
                };
                report.gflops_row(
                    &format!("W4-{n}"),
                    &format!("W4 matmul f32 n={n}"),
                    threads,
                    &s,
                    flops,
                    target,
                );
            }
        }
        set_num_threads(1);
    }

    if wants("W5") {
        set_num_threads(1);
        let mlp = MicroMlp::new(5);
        let x = Tensor::new([2.0f32, 3.0, -1.0]);
        let s = time(200, report.reps(2001), || mlp.step(&x));
        report.time_row(
            "W5",
            "W5 micrograd MLP(3,[4,4,1]) fwd+bwd",
            1,
            &s,
            "",
            "≤ 4 µs",
        );
    }

    if wants("K") {
        // The kernels behind W1 alone (no autograd), for A/B runs with
        // TAPEGRAD_CPU_CAPABILITY=default (baseline builds, matrixmultiply).
        set_num_threads(1);
        let mut rng = seeded_rng(7);
        let x = Tensor::randn([1797, 64], &mut rng);
        let w = Tensor::randn([64, 10], &mut rng);
        let g = Tensor::randn([1797, 10], &mut rng);
        let probes: [(&str, &str, &dyn Fn() -> Tensor); 3] = [
            ("K-mm", "X·W, 1797×64 · 64×10", &|| x.matmul(&w)),
            ("K-mmT", "Xᵀ·G, 64×1797 · 1797×10", &|| {
                x.t().matmul(&g)
            }),
            ("K-softmax", "softmax rows, 1797×10", &|| g.softmax(1)),
        ];
        for (case, label, f) in probes {
            let s = time(50, report.reps(1001), || {
                black_box(no_grad(f));
            });
            report.time_row(case, label, 1, &s, "", "–");
        }
    }

    if wants("RSS") {
        let base = child_peak_rss("baseline");
        for (w, target) in [("W2", "≤ 11 MB"), ("W3", "–"), ("W5", "–")] {
            match (child_peak_rss(w), base) {
                (Some(kb), Some(base)) => println!(
                    "| peak RSS, {w} ×200 (fresh process; empty process: {:.1} MB) | 1 | {:.1} MB | | 1 | {target} |",
                    base as f64 / 1024.0,
                    kb as f64 / 1024.0
                ),
                _ => println!("| peak RSS, {w} | 1 | unavailable (no /proc) | | | – |"),
            }
        }
    }
}
