//! Memory: 10,000 training steps of a small MLP leave the tape empty after
//! every step and resident memory flat.
//!
//! How it is measured: on Linux, VmRSS (resident set size, in kB) is read
//! from /proc/self/status after 500 warm-up steps (allocator pools and
//! buffer sizes have settled by then) and again after the remaining 9,500
//! steps; the growth must stay below 2 MB. A leak of even one 4x16 f32
//! tensor (256 bytes) per step would add ~2.4 MB, and leaking a step's
//! tape (dozens of tensors) far more. Elsewhere the RSS part is skipped;
//! the tape check still runs. Test threads run concurrently in one
//! process, so this file holds this single test, to keep other tests'
//! allocations out of the measurement.

use tapegrad::{no_grad, seeded_rng, tape_len, Tensor};

fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// w ← w − lr·∇w in place, without recording (PyTorch's `p -= lr * p.grad`
/// under `no_grad`).
fn sgd_step(params: &[&Tensor], lr: f64) {
    no_grad(|| {
        for p in params {
            let g = p.grad().expect("every parameter gets a gradient");
            p.copy_(&p.sub(&g.mul_scalar(lr)));
            p.zero_grad();
        }
    });
}

#[test]
fn ten_thousand_mlp_steps_keep_tape_empty_and_memory_flat() {
    let mut rng = seeded_rng(11);
    let x = Tensor::randn([16usize, 4], &mut rng);
    let target = Tensor::randn([16usize, 1], &mut rng);
    let w1 = Tensor::randn([4usize, 16], &mut rng)
        .mul_scalar(0.5)
        .requires_grad_(true);
    let b1 = Tensor::zeros([16usize]).requires_grad_(true);
    let w2 = Tensor::randn([16usize, 1], &mut rng)
        .mul_scalar(0.25)
        .requires_grad_(true);
    let b2 = Tensor::zeros([1usize]).requires_grad_(true);
    let params = [&w1, &b1, &w2, &b2];

    let step = || -> f32 {
        let hidden = x.matmul(&w1).add(&b1).relu();
        let out = hidden.matmul(&w2).add(&b2);
        let loss = out.sub(&target).square().mean();
        let value = loss.item::<f32>();
        loss.backward();
        assert_eq!(tape_len(), 0, "backward released the step's tape");
        sgd_step(&params, 0.05);
        value
    };

    let first = step();
    for _ in 1..500 {
        step();
    }
    let warm = rss_kb();
    let mut last = 0.0;
    for _ in 500..10_000 {
        last = step();
    }
    let end = rss_kb();
    assert!(last < first, "the MLP trains: loss {first} -> {last}");
    if let (Some(warm), Some(end)) = (warm, end) {
        let growth = end.saturating_sub(warm);
        println!("VmRSS after warm-up {warm} kB, after 10,000 steps {end} kB (+{growth} kB)");
        assert!(growth < 2048, "resident memory grew by {growth} kB");
    }
}
