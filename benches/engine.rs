//! Engine benchmark: per-op overhead of the tape, and matmul throughput.
//!
//! Run with `cargo bench --bench engine`. No framework: each case is warmed
//! up, then timed `reps` times; the table shows the median and the min–max
//! range. Results are recorded in `docs/benchmarks.md`.

use std::hint::black_box;
use std::time::Instant;

use tapegrad::{no_grad, seeded_rng, tape_len, Tensor};

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

/// 3,000 recorded ops on a [16] tensor (1,000 × {mul, add, tanh}), then
/// sum and backward.
fn op_chain(x: &Tensor) {
    let mut y = x.clone();
    for _ in 0..1000 {
        y = y.mul_scalar(0.9).add_scalar(0.1).tanh();
    }
    y.sum().backward();
    debug_assert_eq!(tape_len(), 0);
    black_box(x.grad());
    x.zero_grad();
}

/// C = A·B for n × n row-major matrices, i-k-j order, safe indexing: the
/// baseline the unsafe GEMM kernel has to beat.
fn naive_matmul(n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    c.fill(0.0);
    for i in 0..n {
        let row = &mut c[i * n..(i + 1) * n];
        for p in 0..n {
            let aip = a[i * n + p];
            let brow = &b[p * n..(p + 1) * n];
            for (cj, &bj) in row.iter_mut().zip(brow) {
                *cj += aip * bj;
            }
        }
    }
}

fn gflops(n: usize, seconds: f64) -> f64 {
    2.0 * (n as f64).powi(3) / seconds / 1e9
}

fn main() {
    println!("| case | median | range (min – max) | reps |");
    println!("|---|---|---|---|");

    let x = Tensor::randn([16], &mut seeded_rng(0)).requires_grad_(true);
    let ops = 3000.0;
    let s = time(3, 30, || op_chain(&x));
    println!(
        "| (a) op chain, [16] f32, forward+backward | {:.0} ns/op | {:.0} – {:.0} ns/op | 30 |",
        s.median() * 1e9 / ops,
        s.min() * 1e9 / ops,
        s.max() * 1e9 / ops
    );

    let mut gemm_256 = 0.0;
    for (n, reps) in [(256, 50), (512, 20), (1024, 10)] {
        let mut rng = seeded_rng(n as u64);
        let a = Tensor::randn([n, n], &mut rng);
        let b = Tensor::randn([n, n], &mut rng);
        let s = time(2, reps, || {
            black_box(no_grad(|| a.matmul(&b)));
        });
        if n == 256 {
            gemm_256 = s.median();
        }
        println!(
            "| (b) matmul f32 n={n} (GEMM) | {:.1} GFLOP/s | {:.1} – {:.1} GFLOP/s | {reps} |",
            gflops(n, s.median()),
            gflops(n, s.max()),
            gflops(n, s.min())
        );
    }

    let n = 256;
    let mut rng = seeded_rng(7);
    let a = Tensor::randn([n, n], &mut rng).to_vec::<f32>();
    let b = Tensor::randn([n, n], &mut rng).to_vec::<f32>();
    let mut c = vec![0.0f32; n * n];
    let s = time(2, 20, || {
        naive_matmul(n, black_box(&a), black_box(&b), &mut c);
        black_box(&c);
    });
    println!(
        "| (c) matmul f32 n={n}, naive safe i-k-j loop | {:.1} GFLOP/s | {:.1} – {:.1} GFLOP/s | 20 |",
        gflops(n, s.median()),
        gflops(n, s.max()),
        gflops(n, s.min())
    );
    println!();
    println!(
        "GEMM vs naive at n=256 (median times): {:.1}x faster",
        s.median() / gemm_256
    );
}
