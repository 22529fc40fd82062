//! Memory: 10,000 training steps of a small MLP (`nn::mlp`,
//! `cross_entropy`, `optim::SGD` with momentum, `zero_grad`) leave the tape
//! empty after every step and resident memory flat.
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

use tapegrad::nn::functional::cross_entropy;
use tapegrad::nn::{mlp, Activation, Module};
use tapegrad::optim::{Optimizer, SgdConfig, SGD};
use tapegrad::{seeded_rng, tape_len, Tensor};

fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn ten_thousand_mlp_steps_keep_tape_empty_and_memory_flat() {
    let mut rng = seeded_rng(11);
    let model = mlp(&[4, 16, 3], Activation::Relu, &mut rng).unwrap();
    let x = Tensor::randn([16usize, 4], &mut rng);
    // Labels that depend on the inputs, so there is something to learn.
    let labels: Vec<f32> = x
        .to_vec::<f32>()
        .chunks(4)
        .map(|r| {
            if r[0] + r[1] > 0.5 {
                2.0
            } else if r[2] > 0.0 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let y = Tensor::from_vec(labels, [16usize]).unwrap();
    let cfg = SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        ..Default::default()
    };
    let mut opt = SGD::new(model.parameters(), cfg).unwrap();

    let mut step = || -> f32 {
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(&x), &y).unwrap();
        let value = loss.item::<f32>();
        loss.backward();
        assert_eq!(tape_len(), 0, "backward released the step's tape");
        opt.step().unwrap();
        assert_eq!(tape_len(), 0, "the optimizer step records nothing");
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
    assert!(last < first * 0.5, "the MLP trains: loss {first} -> {last}");
    assert!(opt.momentum_buffer(0).is_some(), "momentum is in use");
    if let (Some(warm), Some(end)) = (warm, end) {
        let growth = end.saturating_sub(warm);
        println!("VmRSS after warm-up {warm} kB, after 10,000 steps {end} kB (+{growth} kB)");
        assert!(growth < 2048, "resident memory grew by {growth} kB");
    }
}
