//! Bad arguments to the losses are errors that name the problem: never a
//! panic, never a silent NaN.

use tapegrad::nn::functional as F;
use tapegrad::nn::loss::{BCELoss, CrossEntropyLoss, KLDivLoss, NLLLoss};
use tapegrad::{Error, Tensor};

fn t(data: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(data, shape).unwrap()
}

fn logits() -> Tensor {
    t(&[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], &[3, 3])
}

fn message_has(err: &Error, parts: &[&str]) {
    let msg = err.to_string();
    for p in parts {
        assert!(msg.contains(p), "message {msg:?} should contain {p:?}");
    }
}

#[test]
fn class_index_out_of_range_names_index_and_row() {
    for f in [
        |x: &Tensor, y: &Tensor| F::cross_entropy(x, y),
        |x: &Tensor, y: &Tensor| F::nll_loss(x, y),
    ] {
        let err = f(&logits(), &t(&[0.0, 2.0, 3.0], &[3])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::IndexOutOfRange {
                    index: 3,
                    size: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        message_has(
            &err,
            &["index 3", "size 3", "target row 2", "ignore_index (-100)"],
        );
        let err = f(&logits(), &t(&[-1.0, 0.0, 0.0], &[3])).unwrap_err();
        message_has(&err, &["index -1", "target row 0"]);
    }
    // K-dimensional: the position is given in full
    let x = Tensor::zeros([2, 3, 2]).double();
    let err = F::cross_entropy(&x, &t(&[0.0, 1.0, 2.0, 7.0], &[2, 2])).unwrap_err();
    message_has(&err, &["index 7", "target at [1, 1]"]);
    // an in-range ignore_index is skipped, -100 is then a bad id
    let opts = F::NllLossOptions::default().ignore_index(1);
    assert!(F::nll_loss_with(&logits(), &t(&[1.0, 1.0, 0.0], &[3]), &opts).is_ok());
    let err = F::nll_loss_with(&logits(), &t(&[1.0, -100.0, 0.0], &[3]), &opts).unwrap_err();
    message_has(&err, &["index -100", "target row 1", "ignore_index (1)"]);
}

#[test]
fn non_integral_or_non_finite_class_ids_are_rejected() {
    for (bad, shown) in [(1.5, "1.5"), (f64::NAN, "NaN"), (f64::INFINITY, "inf")] {
        let err = F::cross_entropy(&logits(), &t(&[0.0, bad, 1.0], &[3])).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                op: "cross_entropy",
                ..
            }
        ));
        message_has(&err, &[shown, "target row 1", "not an integer"]);
    }
}

#[test]
fn target_shape_must_match() {
    let err = F::cross_entropy(&logits(), &t(&[0.0, 1.0], &[2])).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
    message_has(&err, &["[3]", "[2]", "class dim"]);
    let err = F::nll_loss(&logits(), &Tensor::zeros([3, 1]).double()).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }));
    let err = F::cross_entropy(&Tensor::scalar(1.0f64), &Tensor::scalar(0.0f64)).unwrap_err();
    assert!(matches!(err, Error::BadShape { .. }));
    message_has(&err, &["0-d"]);
    for err in [
        F::binary_cross_entropy(&t(&[0.5, 0.5], &[2]), &t(&[1.0], &[1])).unwrap_err(),
        F::binary_cross_entropy_with_logits(&t(&[0.5, 0.5], &[2]), &t(&[1.0, 0.0, 1.0], &[3]))
            .unwrap_err(),
        F::kl_div(&t(&[0.5, 0.5], &[2]), &t(&[1.0, 0.0], &[1, 2])).unwrap_err(),
    ] {
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
        message_has(&err, &["same shape"]);
    }
}

#[test]
fn weights_of_the_wrong_shape_are_rejected() {
    let opts = F::CrossEntropyOptions::default().weight(t(&[1.0, 2.0], &[2]));
    let err = F::cross_entropy_with(&logits(), &t(&[0.0, 1.0, 2.0], &[3]), &opts).unwrap_err();
    assert!(matches!(err, Error::BadShape { .. }));
    message_has(&err, &["weight", "3 classes", "[2]"]);
    let err = NLLLoss::new()
        .weight(t(&[1.0, 2.0, 3.0, 4.0], &[4]))
        .forward(&logits(), &t(&[0.0, 1.0, 2.0], &[3]))
        .unwrap_err();
    message_has(&err, &["weight", "[4]"]);
    let err = BCELoss::new()
        .weight(t(&[1.0, 2.0], &[2]))
        .forward(&t(&[0.5; 3], &[3]), &t(&[1.0; 3], &[3]))
        .unwrap_err();
    message_has(&err, &["weight must broadcast"]);
    let opts = F::BceWithLogitsOptions::default().pos_weight(t(&[1.0, 2.0], &[2]));
    let err = F::binary_cross_entropy_with_logits_with(&logits(), &logits(), &opts).unwrap_err();
    message_has(&err, &["pos_weight must broadcast"]);
    let err = CrossEntropyLoss::new()
        .weight(t(&[1.0, f64::NAN, 1.0], &[3]))
        .forward(&logits(), &t(&[0.0, 1.0, 2.0], &[3]))
        .unwrap_err();
    message_has(&err, &["weight[1] = NaN"]);
    // weights are constants: one that requires grad is refused, not ignored
    let w = t(&[1.0, 2.0, 3.0], &[3]).requires_grad_(true);
    let err = CrossEntropyLoss::new()
        .weight(w)
        .forward(&logits(), &t(&[0.0, 1.0, 2.0], &[3]))
        .unwrap_err();
    message_has(&err, &["requires grad", "detach"]);
}

#[test]
fn dim_out_of_range() {
    let err = F::softmax(&logits(), 2).unwrap_err();
    assert!(matches!(
        err,
        Error::DimOutOfRange {
            dim: 2,
            rank: 2,
            ..
        }
    ));
    message_has(&err, &["softmax", "dim 2"]);
    let err = F::log_softmax(&logits(), -3).unwrap_err();
    message_has(&err, &["log_softmax", "dim -3"]);
}

#[test]
fn label_smoothing_outside_unit_interval() {
    for eps in [-0.1, 1.5, f64::NAN] {
        let err = CrossEntropyLoss::new()
            .label_smoothing(eps)
            .forward(&logits(), &t(&[0.0, 1.0, 2.0], &[3]))
            .unwrap_err();
        message_has(&err, &["label_smoothing must be between 0.0 and 1.0"]);
    }
}

#[test]
fn probability_targets_must_be_finite() {
    let mut p = vec![1.0 / 3.0; 9];
    p[4] = f64::NAN;
    let err = F::cross_entropy(&logits(), &t(&p, &[3, 3])).unwrap_err();
    message_has(&err, &["NaN", "flat index 4"]);
}

#[test]
fn bce_probabilities_outside_unit_interval_and_nan_targets() {
    for (bad, shown) in [(1.5, "1.5"), (-0.1, "-0.1"), (f64::NAN, "NaN")] {
        let err =
            F::binary_cross_entropy(&t(&[0.5, bad], &[2]), &t(&[1.0, 0.0], &[2])).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                op: "binary_cross_entropy",
                ..
            }
        ));
        message_has(&err, &["between 0 and 1", shown, "flat index 1"]);
    }
    let err =
        F::binary_cross_entropy(&t(&[0.5, 0.5], &[2]), &t(&[f64::NAN, 0.0], &[2])).unwrap_err();
    message_has(&err, &["target is NaN", "flat index 0"]);
    let err =
        F::binary_cross_entropy_with_logits(&t(&[0.5, 0.5], &[2]), &t(&[1.0, f64::NAN], &[2]))
            .unwrap_err();
    message_has(&err, &["target is NaN", "flat index 1"]);
}

#[test]
fn kl_div_bad_targets_and_dtypes() {
    let x = t(&[-1.0, -0.5], &[2]);
    let err = F::kl_div(&x, &t(&[-0.2, 1.2], &[2])).unwrap_err();
    message_has(&err, &["target -0.2", "probability"]);
    let err = KLDivLoss::new()
        .log_target(true)
        .forward(&x, &t(&[f64::NAN, 0.0], &[2]))
        .unwrap_err();
    message_has(&err, &["NaN", "log-probability"]);
    let err = F::kl_div(&x, &x.float()).unwrap_err();
    assert!(matches!(err, Error::DTypeMismatch { .. }));
}

#[test]
fn reductions_parse_like_pytorch_strings() {
    assert_eq!("none".parse::<F::Reduction>().unwrap(), F::Reduction::None);
    let err = "batchmean".parse::<F::Reduction>().unwrap_err();
    message_has(&err, &["only accepted by kl_div"]);
    let err = "avg".parse::<F::KlReduction>().unwrap_err();
    message_has(&err, &["unknown reduction 'avg'", "batchmean"]);
    assert_eq!(F::KlReduction::BatchMean.to_string(), "batchmean");
}
