//! The op-sequence fuzz harness on stable Rust: a bounded number of random
//! programs (fixed seeds, so every run checks the same ones) plus every
//! input the fuzzer ever crashed on, kept as regression tests.
//!
//! The interpreter lives in `tests/fuzz_ops/mod.rs` and is shared with the
//! cargo-fuzz target `fuzz/fuzz_targets/ops.rs`
//! (`cargo +nightly fuzz run ops`).

#[path = "fuzz_ops/mod.rs"]
mod fuzz_ops;

use rand::RngExt;

/// Runs one program, reporting its bytes if it panics so that the failure
/// can be replayed and kept as a regression input.
fn run_reporting(data: &[u8]) {
    let result = std::panic::catch_unwind(|| fuzz_ops::run(data));
    if let Err(panic) = result {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("the program {data:?} panicked: {msg}");
    }
}

/// Replays every input kept in `tests/fuzz_regressions/` (crash, leak and
/// timeout inputs from `cargo fuzz`, copied from `fuzz/artifacts/ops/`).
#[test]
fn fuzzer_regression_inputs_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("the regression directory exists") {
        let path = entry.unwrap().path();
        run_reporting(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count > 0);
}

/// The bugs the fuzzer found, each as a direct check of the fixed
/// behaviour (the raw inputs above exercise them through the interpreter).
mod found_by_fuzzing {
    use tapegrad::{detect_anomaly, Error, Tensor};

    #[test]
    fn impossible_broadcast_is_an_error_not_an_abort() {
        let a = Tensor::zeros([1usize << 20, 1]);
        let b = Tensor::zeros([1, 1usize << 20]).to_dtype(tapegrad::DType::F32);
        let err = a.try_add(&b).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { op: "add", .. }),
            "{err}"
        );
        assert!(err.to_string().contains("cannot be allocated"), "{err}");
    }

    #[test]
    fn huge_expand_one_hot_pad_and_matmul_are_errors() {
        let x = Tensor::new([1.0f32]);
        let err = x.try_expand([1usize << 40, 1 << 40]).unwrap_err();
        assert!(
            err.to_string().contains("[1099511627776, 1099511627776]"),
            "{err}"
        );
        assert!(x.try_one_hot(1 << 40).is_err());
        assert!(x.try_pad_dim(0, 1 << 40, 0).is_err());
        let a = Tensor::from_vec(Vec::<f32>::new(), [1usize << 20, 0]).unwrap();
        let b = Tensor::from_vec(Vec::<f32>::new(), [0, 1usize << 20]).unwrap();
        let err = a.try_matmul(&b).unwrap_err();
        assert!(err.to_string().contains("matmul"), "{err}");
    }

    #[test]
    fn empty_shapes_with_huge_sizes_are_refused() {
        // [0, 2^40, 8] would reduce over dim 0 into a 32 TiB tensor, and
        // [0, 2^62, 2^62] overflows its strides.
        for dims in [[0usize, 1 << 40, 8], [0, 1 << 62, 1 << 62]] {
            let err = Tensor::from_vec(Vec::<f32>::new(), dims).unwrap_err();
            assert!(err.to_string().contains("cannot be allocated"), "{err}");
            let err = Tensor::from_vec(Vec::<f32>::new(), [0usize])
                .unwrap()
                .try_reshape(dims)
                .unwrap_err();
            assert!(err.to_string().starts_with("reshape"), "{err}");
        }
    }

    #[test]
    fn huge_chunk_count_of_an_empty_dim_is_an_error() {
        let x = Tensor::from_vec(Vec::<f32>::new(), [0usize]).unwrap();
        assert_eq!(x.try_chunk(3, 0).unwrap().len(), 3);
        let err = x.try_chunk(1 << 60, 0).unwrap_err();
        assert!(err.to_string().contains("chunk"), "{err}");
    }

    #[test]
    fn squeeze_all_in_anomaly_mode_returns_an_error() {
        let x = Tensor::new([[f32::NAN], [1.0]]).requires_grad_(true);
        let err = detect_anomaly(|| x.try_squeeze_all()).unwrap_err();
        assert!(err.to_string().contains("Squeeze"), "{err}");
    }

    #[test]
    fn mlp_with_a_layer_too_large_to_allocate_is_an_error() {
        use tapegrad::nn::{mlp, Activation};
        for sizes in [
            [4usize, 1 << 62, 2],
            [usize::MAX, 3, 1],
            [2, 1 << 40, 1 << 40],
        ] {
            let err = mlp(&sizes, Activation::Tanh, &mut tapegrad::seeded_rng(0))
                .err()
                .unwrap();
            assert!(
                matches!(err, Error::InvalidArgument { op: "mlp", .. }),
                "{err}"
            );
            assert!(err.to_string().contains("cannot be allocated"), "{err}");
        }
    }

    #[test]
    fn standardizer_of_zero_features_is_an_error() {
        let x = Tensor::from_vec(Vec::<f32>::new(), [3usize, 0]).unwrap();
        let err = tapegrad::data::Standardizer::fit(&x).unwrap_err();
        assert!(matches!(err, Error::BadShape { .. }), "{err}");
        assert!(err.to_string().contains("one feature"), "{err}");
        // A CSV with only a label column gives exactly such features.
        let table =
            tapegrad::data::parse_csv("label\n1\n0\n", "label", tapegrad::DType::F32).unwrap();
        assert!(tapegrad::data::Standardizer::fit(&table.features).is_err());
    }

    #[test]
    fn confusion_matrix_and_one_hot_with_huge_class_counts_are_errors() {
        let ids = Tensor::new([0.0f32, 1.0]);
        for n in [1usize << 40, 1 << 33, usize::MAX] {
            let err = tapegrad::data::confusion_matrix(&ids, &ids, n).unwrap_err();
            assert!(err.to_string().starts_with("confusion_matrix"), "{err}");
            assert!(err.to_string().contains("cannot be allocated"), "{err}");
            let err = tapegrad::data::one_hot(&ids, n, tapegrad::DType::F32).unwrap_err();
            assert!(err.to_string().starts_with("one_hot"), "{err}");
        }
    }

    #[test]
    fn a_wrong_gradient_on_a_later_parameter_is_refused_when_set() {
        // Found when a wrong-shaped `.grad` made a step fail half-way; now
        // `set_grad` refuses it, so no step can meet one.
        use tapegrad::optim::{Adam, AdamConfig, Optimizer, SgdConfig, SGD};
        let make = || {
            let a = Tensor::new([1.0f32, 2.0]).requires_grad_(true);
            let b = Tensor::new([3.0f32]).requires_grad_(true);
            a.set_grad(Some(Tensor::new([0.5f32, 0.5])));
            let err = b
                .try_set_grad(Some(Tensor::new([1.0f32, 1.0])))
                .unwrap_err();
            assert!(err.to_string().contains("set_grad"), "{err}");
            assert!(b.grad().is_none());
            (a, b)
        };
        let sgd = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        };
        let (a, b) = make();
        let mut opt = SGD::new([a.clone(), b.clone()], sgd).unwrap();
        opt.step().unwrap();
        assert_eq!(a.to_vec::<f32>(), vec![0.95, 1.95]);
        assert_eq!(b.to_vec::<f32>(), vec![3.0], "b has no gradient");
        let (a, b) = make();
        let mut opt = Adam::new([a.clone(), b], AdamConfig::default()).unwrap();
        opt.step().unwrap();
        assert_eq!(opt.step_count(0), 1);
        assert_eq!(opt.step_count(1), 0);
    }

    #[test]
    fn a_state_with_the_lr_a_schedule_annealed_to_zero_loads_back() {
        use tapegrad::optim::{
            Adam, AdamConfig, CosineAnnealingLR, LrScheduler, Optimizer, SgdConfig, SGD,
        };
        let w = Tensor::new([1.0f64]).requires_grad_(true);
        let sgd = SgdConfig {
            lr: 0.1,
            ..Default::default()
        };
        let mut opts: Vec<Box<dyn Optimizer>> = vec![
            Box::new(SGD::new([w.clone()], sgd).unwrap()),
            Box::new(Adam::new([w.clone()], AdamConfig::default()).unwrap()),
        ];
        for opt in &mut opts {
            let mut sched = CosineAnnealingLR::new(opt.as_ref(), 1, 0.0).unwrap();
            sched.step(opt.as_mut()).unwrap();
            assert_eq!(opt.lr(), 0.0);
            let state = opt.state_dict();
            opt.load_state_dict(&state).unwrap();
            let dir = std::env::temp_dir().join(format!("tapegrad-lr0-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("o.safetensors");
            tapegrad::checkpoint::save_optimizer(opt.as_ref(), &path).unwrap();
            tapegrad::checkpoint::load_optimizer(opt.as_mut(), &path).unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
        }
        // A new optimizer still needs a positive rate.
        let zero = SgdConfig {
            lr: 0.0,
            ..Default::default()
        };
        assert!(SGD::new([w], zero).is_err());
    }

    #[test]
    fn schedules_with_huge_periods_do_not_overflow_and_failed_steps_do_not_advance() {
        use tapegrad::optim::{CosineAnnealingLR, LrScheduler, Optimizer, SgdConfig, StepLR, SGD};
        let w = Tensor::new([1.0f64]).requires_grad_(true);
        let cfg = SgdConfig {
            lr: 0.5,
            ..Default::default()
        };
        let mut opt = SGD::new([w.clone()], cfg).unwrap();
        let mut cos = CosineAnnealingLR::new(&opt, u64::MAX, 0.0).unwrap();
        cos.step(&mut opt).unwrap();
        assert_eq!(cos.last_epoch(), 1);
        assert_eq!(opt.lr(), 0.5); // π/2^64 is no change at all
                                   // lr·gamma overflows to inf: set_lr refuses it, the epoch stays.
        let big = SgdConfig {
            lr: 1e308,
            ..Default::default()
        };
        let mut opt = SGD::new([w], big).unwrap();
        let mut step = StepLR::new(&opt, 1, 20.0).unwrap();
        assert!(step.step(&mut opt).is_err());
        assert_eq!(step.last_epoch(), 0);
        assert_eq!(opt.lr(), 1e308);
    }

    #[test]
    fn a_seed_that_requires_grad_is_detached_without_create_graph() {
        let x = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
        x.backward_with(Some(&x), Default::default());
        let g = x.grad().unwrap();
        assert!(
            !g.requires_grad(),
            "the gradient must not be part of a graph"
        );
        assert_eq!(g.to_vec::<f64>(), vec![1.0, 2.0]);
    }

    #[test]
    fn under_create_graph_a_leaf_seed_is_stored_as_a_recorded_copy() {
        let x = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
        x.backward_with(
            Some(&x),
            tapegrad::BackwardOptions {
                retain_graph: true,
                create_graph: true,
                ..Default::default()
            },
        );
        let g = x.grad().unwrap();
        // Differentiable (it is x), but not the leaf itself: .grad holding
        // its own leaf would be an Rc cycle that is never freed.
        assert!(g.requires_grad() && !g.is_leaf());
        assert_eq!(g.to_vec::<f64>(), vec![1.0, 2.0]);
        x.zero_grad();
        tapegrad::clear_tape();
    }
}

/// A graph 200,000 ops deep: backward is a loop over the tape, and dropping
/// the graph frees entries one by one, so neither recurses (no stack
/// overflow) nor takes more than linear time.
#[test]
fn deep_graphs_neither_overflow_nor_hang() {
    let x = tapegrad::Tensor::new([0.5f64]).requires_grad_(true);
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.add_scalar(1e-6);
    }
    let loss = y.sum();
    loss.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![1.0]);
    assert_eq!(tapegrad::tape_len(), 0);
    // The same depth dropped without backward: the tape is released when
    // its last tensor goes.
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.mul_scalar(1.0);
    }
    assert_eq!(tapegrad::tape_len(), 200_001);
    drop(y);
    assert_eq!(tapegrad::tape_len(), 0);
}

#[test]
fn random_programs_never_panic() {
    // About 15 s in a debug build on a 2-core machine (~0.6M ops, with
    // the loss / module / optimizer / checkpoint / CSV steps).
    let cases = 20_000;
    let mut rng = tapegrad::seeded_rng(0x5eed_f022);
    for _ in 0..cases {
        let len = rng.random_range(8..400);
        let data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        run_reporting(&data);
    }
}

/// Exploration aid (ignored): runs many programs and prints each distinct
/// panic location with the shortest input that reached it.
#[test]
#[ignore]
fn explore() {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    let cases: usize = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let last = Arc::new(Mutex::new(String::new()));
    let hook_last = last.clone();
    std::panic::set_hook(Box::new(move |info| {
        let loc = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let bt = std::backtrace::Backtrace::force_capture().to_string();
        let frames: Vec<&str> = bt
            .lines()
            .filter(|l| l.contains("at ./src/") || l.contains("tapegrad::"))
            .take(6)
            .collect();
        *hook_last.lock().unwrap() = format!("{loc} {msg}\n{}", frames.join("\n"));
    }));
    let mut found: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut rng = tapegrad::seeded_rng(seed);
    for _ in 0..cases {
        let len = rng.random_range(8..400);
        let data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if std::panic::catch_unwind(|| fuzz_ops::run(&data)).is_err() {
            let key = last.lock().unwrap().clone();
            let e = found.entry(key).or_insert_with(|| data.clone());
            if data.len() < e.len() {
                *e = data;
            }
        }
    }
    let _ = std::panic::take_hook();
    let stats: Vec<usize> = fuzz_ops::STATS
        .iter()
        .map(|c| c.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    println!("ops run, ops ok, backward ok, optimizer steps ok, checkpoint loads ok: {stats:?}");
    let mut out = String::new();
    for (k, v) in &found {
        println!("=== ({} bytes) {k}\n", v.len());
        out.push_str(&format!("=== {k}\n{v:?}\n"));
    }
    std::fs::write("target/fuzz_explore.txt", out).unwrap();
}
