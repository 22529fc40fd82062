//! The fast paths taken by `f32` tensors on CPUs with AVX2 + FMA (narrow
//! products, whole-matrix softmax rows with a vectorised `exp`) and the
//! buffer cache, checked against the same computations in `f64` (which
//! use neither the narrow kernels nor the vectorised `exp`) and against
//! runs with the cache emptied.
//!
//! Tolerances: an `f32` result of `k` rounded terms of size up to `s`
//! differs from the exact value by at most about `k·s·ε₃₂`; the bounds
//! below are that estimate, not fitted to the observed errors.

use tapegrad::nn::functional::{self as F, CrossEntropyOptions};
use tapegrad::nn::{self, Module};
use tapegrad::optim::{Optimizer, SgdConfig, SGD};
use tapegrad::{seeded_rng, DType, Tensor};

const EPS32: f64 = f32::EPSILON as f64;

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_dtype(shape.to_vec(), DType::F64, &mut seeded_rng(seed))
}

/// f32 rounding of an f64 tensor, and back: the f32 computation then starts
/// from exactly the f64 computation's inputs.
fn as_f32(t: &Tensor) -> Tensor {
    t.to_dtype(DType::F32)
}

fn exact_inputs(t: &Tensor) -> Tensor {
    as_f32(t).to_dtype(DType::F64)
}

fn assert_close(got: &Tensor, want: &Tensor, tol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    let (g, w) = (got.to_vec::<f64>(), want.to_vec::<f64>());
    for (i, (g, w)) in g.iter().zip(&w).enumerate() {
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: {g} vs {w} (tol {tol:e})"
        );
    }
}

#[test]
fn narrow_products_and_their_gradients_match_f64() {
    // (m, k, n): softmax-regression logits, a classifier head, and a product
    // narrow on the left (computed as its transpose).
    for (m, k, n) in [(1797, 64, 10), (64, 128, 10), (300, 33, 16), (10, 300, 200)] {
        let x = exact_inputs(&randn(&[m, k], 1));
        let w = exact_inputs(&randn(&[k, n], 2));
        let r = exact_inputs(&randn(&[m, n], 3));
        let run = |x: &Tensor, w: &Tensor, r: &Tensor| {
            let x = x.clone().requires_grad_(true);
            let w = w.clone().requires_grad_(true);
            let y = x.matmul(&w);
            y.mul(r).sum().backward();
            (y, x.grad().unwrap(), w.grad().unwrap())
        };
        let (y64, gx64, gw64) = run(&x, &w, &r);
        let (y32, gx32, gw32) = run(&as_f32(&x), &as_f32(&w), &as_f32(&r));
        // Terms are products of two N(0, 1) values: |term| ≤ ~25.
        let tol = |terms: usize| 25.0 * terms as f64 * EPS32;
        assert_close(&y32, &y64, tol(k), &format!("{m}x{k}x{n} forward"));
        assert_close(&gx32, &gx64, tol(n), &format!("{m}x{k}x{n} grad x"));
        assert_close(&gw32, &gw64, tol(m), &format!("{m}x{k}x{n} grad w"));
    }
}

#[test]
fn linear_layer_with_ten_outputs_matches_f64() {
    // `Linear` computes x·Wᵀ: the narrow kernel reads a transposed weight.
    let layer = nn::Linear::new(128, 10, true, &mut seeded_rng(4));
    let x = exact_inputs(&randn(&[64, 128], 5));
    let w = layer.weight().to_dtype(DType::F64);
    let b = layer.bias().unwrap().to_dtype(DType::F64);
    let got = layer.forward(&as_f32(&x));
    let want = x.matmul(&w.t()).add(&b);
    // |x·w| ≤ 4·(1/√128) per term.
    assert_close(&got, &want, 128.0 * 0.4 * EPS32 + 1e-6, "linear");
}

fn ce_cases() -> Vec<(&'static str, CrossEntropyOptions, bool)> {
    let w = Tensor::from_vec((1..=10).map(|c| c as f64 / 4.0).collect::<Vec<_>>(), [10]).unwrap();
    vec![
        ("plain", CrossEntropyOptions::default(), false),
        (
            "weights",
            CrossEntropyOptions::default().weight(w.clone()),
            false,
        ),
        (
            "ignore 3",
            CrossEntropyOptions::default().ignore_index(3),
            false,
        ),
        (
            "smoothing",
            CrossEntropyOptions::default().label_smoothing(0.2),
            false,
        ),
        (
            "all",
            CrossEntropyOptions::default()
                .weight(w.clone())
                .ignore_index(3)
                .label_smoothing(0.1),
            false,
        ),
        ("probabilities", CrossEntropyOptions::default(), true),
        (
            "probabilities, weights",
            CrossEntropyOptions::default().weight(w),
            true,
        ),
    ]
}

#[test]
fn cross_entropy_rows_match_f64_with_every_option() {
    let (n, c) = (1797, 10);
    // Logits of a few units, with some rows far out (±1e4) to exercise the
    // max subtraction and underflowing probabilities.
    let mut logits = randn(&[n, c], 6).mul_scalar(3.0).to_vec::<f64>();
    for row in [0, 17, 900] {
        logits[row * c] = 1e4;
        logits[row * c + 5] = -1e4;
    }
    let logits = exact_inputs(&Tensor::from_vec(logits, [n, c]).unwrap());
    let ids: Vec<f64> = (0..n).map(|i| ((i * 7) % c) as f64).collect();
    let ids = Tensor::from_vec(ids, [n]).unwrap();
    let probs = exact_inputs(&randn(&[n, c], 7).softmax(1));
    for (what, options, soft) in ce_cases() {
        let target = if soft { probs.clone() } else { ids.clone() };
        let run = |x: &Tensor, t: &Tensor, w: Option<Tensor>| {
            let mut opts = options.clone();
            opts.weight = w;
            let x = x.clone().requires_grad_(true);
            let loss = F::cross_entropy_with(&x, t, &opts).unwrap();
            loss.backward();
            (loss, x.grad().unwrap())
        };
        let (l64, g64) = run(&logits, &target, options.weight.clone());
        let (l32, g32) = run(
            &as_f32(&logits),
            &as_f32(&target),
            options.weight.as_ref().map(as_f32),
        );
        // The mean loss is a few units (rows at ±1e4 add up to 2e4/N each):
        // relative error of the per-row terms (~1e4 at most) times ε₃₂.
        assert_close(&l32, &l64, 4.0 * 2e4 * EPS32, &format!("{what}: loss"));
        // Gradients are (softmax − target)·w/N: entries below 2.5/N.
        assert_close(
            &g32,
            &g64,
            16.0 * EPS32 * 2.5 / n as f64,
            &format!("{what}: grad"),
        );
    }
}

#[test]
fn softmax_and_log_softmax_rows_match_f64() {
    let x = exact_inputs(&randn(&[300, 17], 8).mul_scalar(10.0));
    for (dim, n) in [(1, 17), (0, 300)] {
        // dim 1: contiguous rows (the vectorised kernel); dim 0: strided.
        // A probability is exp(x − max)/s with s a sum of n terms: relative
        // error up to ~n·ε₃₂ (p ≤ 1, so also absolute).
        let p64 = x.softmax(dim);
        let p32 = as_f32(&x).softmax(dim);
        assert_close(
            &p32,
            &p64,
            (n + 2) as f64 * EPS32,
            &format!("softmax dim {dim}"),
        );
        // (x − max) − ln s: |x − max| up to ~150 here, plus ln s off by ~n·ε₃₂.
        let l64 = x.log_softmax(dim);
        let l32 = as_f32(&x).log_softmax(dim);
        let tol = (n + 2) as f64 * EPS32 + 2.0 * 150.0 * EPS32;
        assert_close(&l32, &l64, tol, &format!("log_softmax dim {dim}"));
    }
}

/// Five SGD steps of a small MLP; returns the final parameters.
fn train(empty_cache_every_step: bool) -> Vec<Vec<f32>> {
    let model = nn::mlp(
        &[64, 256, 128, 10],
        nn::Activation::Relu,
        &mut seeded_rng(9),
    )
    .unwrap();
    let config = SgdConfig {
        lr: 0.01,
        momentum: 0.9,
        ..Default::default()
    };
    let mut sgd = SGD::new(model.parameters(), config).unwrap();
    let x = as_f32(&randn(&[200, 64], 10));
    let y = Tensor::from_vec((0..200).map(|i| (i % 10) as f32).collect::<Vec<_>>(), [200]).unwrap();
    for _ in 0..5 {
        sgd.zero_grad();
        F::cross_entropy(&model.forward(&x), &y).unwrap().backward();
        sgd.step().unwrap();
        if empty_cache_every_step {
            tapegrad::empty_cache();
        }
    }
    model
        .parameters()
        .iter()
        .map(|p| p.to_vec::<f32>())
        .collect()
}

#[test]
fn reused_buffers_change_no_result() {
    // Stale contents of a reused buffer must never leak into a result: the
    // run that reuses buffers and the one that never can are bit-identical.
    let reused = train(false);
    let fresh = train(true);
    for (a, b) in reused.iter().zip(&fresh) {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b));
    }
}

mod any_shape {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// `f32` matmul against `f64` for shapes narrow on the right (n ≤ 20,
        /// around the kernels' limit of 16) or on the left, with either
        /// operand read through a transposed view.
        #[test]
        fn matmul_matches_f64(
            wide in 1usize..300,
            k in 1usize..80,
            narrow in 1usize..=20,
            narrow_left in any::<bool>(),
            a_transposed in any::<bool>(),
            b_transposed in any::<bool>(),
            seed in 0u64..1_000,
        ) {
            let (m, n) = if narrow_left { (narrow, wide) } else { (wide, narrow) };
            let operand = |rows: usize, cols: usize, transposed: bool, seed: u64| {
                if transposed {
                    exact_inputs(&randn(&[cols, rows], seed)).t()
                } else {
                    exact_inputs(&randn(&[rows, cols], seed))
                }
            };
            let a = operand(m, k, a_transposed, seed);
            let b = operand(k, n, b_transposed, seed + 1);
            let want = a.matmul(&b);
            let got = as_f32(&a).matmul(&as_f32(&b));
            // k products of two N(0, 1) values (|term| ≤ ~30), each rounded.
            assert_close(&got, &want, 30.0 * k as f64 * EPS32, &format!("{m}x{k}x{n}"));
        }

        /// Softmax and log-softmax rows of any width, with some entries far
        /// out, against `f64`.
        #[test]
        fn softmax_rows_match_f64(
            rows in 1usize..40,
            classes in 1usize..40,
            scale in 0.1f64..30.0,
            extreme in any::<bool>(),
            seed in 0u64..1_000,
        ) {
            let mut v = randn(&[rows, classes], seed).mul_scalar(scale).to_vec::<f64>();
            if extreme {
                let last = v.len() - 1;
                v[0] = 1e4;
                v[last] = -1e4;
            }
            let x = exact_inputs(&Tensor::from_vec(v, [rows, classes]).unwrap());
            let tol = (classes + 2) as f64 * EPS32;
            assert_close(&as_f32(&x).softmax(1), &x.softmax(1), tol, "softmax");
            // |x − max| reaches 2e4 with the extreme entries.
            let spread = if extreme { 2e4 } else { 12.0 * scale };
            let tol = tol + 2.0 * spread * EPS32;
            assert_close(&as_f32(&x).log_softmax(1), &x.log_softmax(1), tol, "log_softmax");
        }
    }
}
