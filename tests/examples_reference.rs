//! The real-data examples against PyTorch.
//!
//! The examples' data loading, models and training loop live in
//! `examples/support/fit.rs`; this test includes that same file and trains
//! every case from the initial weights the PyTorch reference started from
//! (`examples/reference/<case>.init.safetensors`), with the same full-batch
//! SGD settings, and compares the loss curve epoch by epoch with PyTorch's
//! (`examples/reference/<case>.json`, made by
//! `examples/reference/make_references.py`).

// The examples' training code, included on its own: this test uses the
// cases, data and training loop, not the parts only the notebooks print.
#[allow(dead_code)]
#[path = "../examples/support/fit.rs"]
mod fit;

use fit::{Case, Loss, CASES, MLP_DIGITS, SOFTMAX_DIGITS};
use tapegrad::checkpoint;

/// float32 curves: tapegrad and PyTorch sum in different orders, so each
/// step differs by rounding. Measured: at most 2.4e-7 over 100–200 steps
/// (losses between 0.006 and 2.3); the bound leaves 40× room.
const LOSS_TOLERANCE: f64 = 1e-5;

fn loss_name(loss: Loss) -> &'static str {
    match loss {
        Loss::BceOfSigmoid => "bce_of_sigmoid",
        Loss::BceWithLogits => "bce_with_logits",
        Loss::CrossEntropy => "cross_entropy",
    }
}

fn reference_json(case: &Case) -> serde_json::Value {
    let path = fit::reference_path(&format!("{}.json", case.name));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn references_used_the_examples_settings() {
    for case in CASES {
        let j = reference_json(&case);
        let r = fit::reference(&case).unwrap();
        assert_eq!(j["dataset"], case.dataset, "{}", case.name);
        assert_eq!(j["loss"], loss_name(case.loss), "{}", case.name);
        let sizes: Vec<usize> = j["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(sizes, case.sizes, "{}", case.name);
        assert_eq!(
            (r.epochs, r.lr, r.momentum, r.seed),
            (case.epochs, case.lr, case.momentum, 0),
            "{}",
            case.name
        );
        assert_eq!(
            j["n_train"].as_u64().unwrap() as usize,
            fit::n_train(case.dataset)
        );
        assert_eq!(r.train_loss.len(), case.epochs);
    }
}

#[test]
fn seed_zero_starts_from_the_reference_weights() {
    // The examples' default run (--seed 0) is the run the references describe.
    for case in CASES {
        let seeded = case.model(0).unwrap();
        let loaded = case.model(12345).unwrap();
        checkpoint::load(
            &*loaded,
            fit::reference_path(&format!("{}.init.safetensors", case.name)),
        )
        .unwrap();
        for ((name, a), (_, b)) in seeded
            .named_parameters()
            .iter()
            .zip(loaded.named_parameters())
        {
            assert_eq!(
                a.to_vec::<f32>(),
                b.to_vec::<f32>(),
                "{} {name}: seed 0 no longer gives the reference's initial weights \
                 (rand changed?); rerun examples/reference/make_references.py",
                case.name
            );
        }
    }
}

/// Trains `case` from the reference's initial weights; returns the history
/// and the test accuracy.
fn train_from_reference_init(case: &Case, epochs: usize) -> (fit::History, f64) {
    let data = fit::load(case.dataset).unwrap();
    let model = case.model(7).unwrap();
    checkpoint::load(
        &*model,
        fit::reference_path(&format!("{}.init.safetensors", case.name)),
    )
    .unwrap();
    let mut optimizer = case.optimizer(&*model, case.lr).unwrap();
    let history = fit::train(
        &*model,
        &data.train,
        case.loss,
        &mut optimizer,
        epochs,
        |_, _, _| {},
    )
    .unwrap();
    let test_acc = fit::evaluate(&*model, &data.test, case.loss).unwrap();
    (history, test_acc)
}

fn check_case(case: Case) {
    let r = fit::reference(&case).unwrap();
    let data = fit::load(case.dataset).unwrap();
    let (n_train, n_test) = (data.train.len() as f64, data.test.len() as f64);
    let (history, test_acc) = train_from_reference_init(&case, case.epochs);

    let mut worst = (0.0f64, 0);
    for (e, (a, b)) in history.loss.iter().zip(&r.train_loss).enumerate() {
        let d = (a - b).abs();
        if d > worst.0 {
            worst = (d, e + 1);
        }
    }
    eprintln!(
        "{}: largest loss gap to PyTorch {:.2e} (epoch {}); final loss {:.6} vs {:.6}; test acc {:.4} vs {:.4}",
        case.name,
        worst.0,
        worst.1,
        history.loss.last().unwrap(),
        r.train_loss.last().unwrap(),
        test_acc,
        r.test_acc.last().unwrap()
    );
    assert!(
        worst.0 <= LOSS_TOLERANCE,
        "{}: epoch {} loss differs from PyTorch by {:.3e}",
        case.name,
        worst.1,
        worst.0
    );
    // Accuracy counts whole rows: a logit within rounding of the decision
    // boundary may flip, so allow one row either way.
    for (e, (a, b)) in history.acc.iter().zip(&r.train_acc).enumerate() {
        assert!(
            (a - b).abs() <= 1.0 / n_train + 1e-9,
            "{}: epoch {} train acc {a} vs {b}",
            case.name,
            e + 1
        );
    }
    assert!(
        (test_acc - r.test_acc.last().unwrap()).abs() <= 1.0 / n_test + 1e-9,
        "{}: test acc {test_acc} vs PyTorch {}",
        case.name,
        r.test_acc.last().unwrap()
    );
    // The learning claims every example asserts.
    assert!(
        history.loss.last().unwrap() < &(0.5 * history.loss[0]),
        "{}: loss did not halve",
        case.name
    );
    assert!(
        test_acc >= case.floor,
        "{}: test acc {test_acc} under the floor {}",
        case.name,
        case.floor
    );
}

#[test]
fn logistic_regression_matches_pytorch() {
    check_case(fit::LOGISTIC);
}

#[test]
fn softmax_regression_iris_matches_pytorch() {
    check_case(fit::SOFTMAX_IRIS);
}

#[test]
fn softmax_regression_digits_matches_pytorch() {
    check_case(fit::SOFTMAX_DIGITS);
}

#[test]
fn mlp_digits_matches_pytorch() {
    check_case(MLP_DIGITS);
}

#[test]
fn floors_are_cleared_by_the_references_in_quick_and_full_runs() {
    // CI runs the examples with --quick (epochs / 4): the floors must hold
    // there too, with room to spare, according to PyTorch.
    for case in CASES {
        let r = fit::reference(&case).unwrap();
        // The same count as support::flags::quick_epochs.
        let quick = (case.epochs / 4).max(1);
        for (what, acc) in [
            ("quick", r.test_acc[quick - 1]),
            ("full", *r.test_acc.last().unwrap()),
        ] {
            assert!(
                acc >= case.floor + 0.01,
                "{} {what}: reference {acc} too close to floor {}",
                case.name,
                case.floor
            );
        }
        assert!(
            r.sklearn_test_acc >= case.floor,
            "{}: sklearn {}",
            case.name,
            r.sklearn_test_acc
        );
        let (quick_loss, first) = (r.train_loss[quick - 1], r.train_loss[0]);
        assert!(
            quick_loss < 0.5 * first,
            "{}: quick run's loss {quick_loss} vs first {first}",
            case.name
        );
    }
}

#[test]
fn the_mlp_beats_softmax_regression_on_digits() {
    // mlp_digits's claim, on the reference numbers (same init, same test rows)
    // for the default run and the --quick run.
    let mlp = fit::reference(&MLP_DIGITS).unwrap();
    let softmax = fit::reference(&SOFTMAX_DIGITS).unwrap();
    let last = |v: &[f64], epochs: usize| v[epochs - 1];
    assert!(
        last(&mlp.test_acc, MLP_DIGITS.epochs) > last(&softmax.test_acc, SOFTMAX_DIGITS.epochs)
    );
    assert!(
        last(&mlp.test_acc, MLP_DIGITS.epochs / 4)
            > last(&softmax.test_acc, SOFTMAX_DIGITS.epochs / 4)
    );
}
