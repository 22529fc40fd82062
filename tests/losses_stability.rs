//! Extreme inputs: logits of ±1e4 give finite losses and gradients (first
//! and second order) in f32 and f64, with values checked against their
//! analytic limits; and the documented non-finite edge cases.

use tapegrad::nn::functional as F;
use tapegrad::{grad, DType, Tensor};

fn all_finite(t: &Tensor) -> bool {
    t.to_vec::<f64>().iter().all(|v| v.is_finite())
}

fn huge(dtype: DType) -> Tensor {
    Tensor::from_vec(vec![1e4, -1e4, 0.0, -1e4, 1e4, 1e4], [2, 3])
        .unwrap()
        .to_dtype(dtype)
}

/// Mutation check (run once by hand, then reverted): with log(softmax(x))
/// instead of log_softmax(x) (−∞ for logits of 1e4), this test fails.
#[test]
fn huge_logits_give_finite_losses_and_gradients() {
    for dtype in [DType::F32, DType::F64] {
        let x = huge(dtype).requires_grad_(true);
        let classes = Tensor::from_vec(vec![1.0, 0.0], [2])
            .unwrap()
            .to_dtype(dtype);
        let probs = Tensor::from_vec(vec![0.2, 0.3, 0.5, 0.5, 0.25, 0.25], [2, 3])
            .unwrap()
            .to_dtype(dtype);
        let y = Tensor::full_dtype([2, 3], 0.5, dtype);
        type LossFn<'a> = Box<dyn Fn(&Tensor) -> Tensor + 'a>;
        let losses: Vec<(&str, LossFn)> = vec![
            (
                "softmax",
                Box::new(|x| F::softmax(x, 1).unwrap().square().sum()),
            ),
            (
                "log_softmax",
                Box::new(|x| F::log_softmax(x, 1).unwrap().sum()),
            ),
            ("ce", Box::new(|x| F::cross_entropy(x, &classes).unwrap())),
            (
                "ce smoothed",
                Box::new(|x| {
                    let opts = F::CrossEntropyOptions::default().label_smoothing(0.1);
                    F::cross_entropy_with(x, &classes, &opts).unwrap()
                }),
            ),
            (
                "ce soft",
                Box::new(|x| F::cross_entropy(x, &probs).unwrap()),
            ),
            (
                "bce logits",
                Box::new(|x| {
                    let pw = Tensor::full_dtype([3], 2.0, dtype);
                    let opts = F::BceWithLogitsOptions::default().pos_weight(pw);
                    F::binary_cross_entropy_with_logits_with(x, &y, &opts).unwrap()
                }),
            ),
        ];
        for (name, f) in losses {
            let loss = f(&x);
            assert!(
                all_finite(&loss),
                "{name} {dtype}: loss {:?}",
                loss.to_vec::<f64>()
            );
            let g = grad(&[&loss], &[&x], true).unwrap();
            assert!(
                all_finite(&g[0]),
                "{name} {dtype}: gradient {:?}",
                g[0].to_vec::<f64>()
            );
            let gg = grad(&[&g[0].square().sum()], &[&x], false).unwrap();
            assert!(
                all_finite(&gg[0]),
                "{name} {dtype}: second order {:?}",
                gg[0].to_vec::<f64>()
            );
        }
    }
}

/// Mutation check (run once by hand, then reverted): with a wrong limit (0.5,
/// 0) for the last row's gradient, this test fails.
#[test]
fn huge_logit_values_match_their_limits() {
    let x = huge(DType::F64).requires_grad_(true);
    // row 0: true class 1 scores −1e4 against a max of 1e4 → loss 2e4
    // row 1: true class 0 scores −1e4 against two scores of 1e4 → 2e4 + ln 2
    let loss = F::cross_entropy(&x, &Tensor::new([1.0f64, 0.0])).unwrap();
    let want = (2e4 + 2e4 + 2f64.ln()) / 2.0;
    assert!((loss.item::<f64>() - want).abs() < 1e-9);
    loss.backward();
    let g = x.grad().unwrap().to_vec::<f64>();
    let want = [0.5, -0.5, 0.0, -0.5, 0.25, 0.25];
    for (a, b) in g.iter().zip(want) {
        assert!((a - b).abs() < 1e-15, "{g:?}");
    }
    let lsm = F::log_softmax(&huge(DType::F32), 1)
        .unwrap()
        .to_vec::<f32>();
    assert_eq!(lsm[..3], [0.0, -2e4, -1e4]);
}

/// docs/06-binary-cross-entropy.md: confident and wrong logits of ±1e4
/// (s = 1e4 for a negative, s = −1e4 for a positive, pos_weight 2) give the
/// exact values of ℓ = softplus(s) − y·s with the positive term doubled:
/// 1e4 and 2e4, gradients (a·y + 1 − y)·σ(s) − a·y = 1 and −2 (halved by
/// the mean), second derivative σ(1 − σ) = 0, in f32 and f64. Through
/// probabilities the same mistakes hit the −100 clamp.
///
/// Mutation check (run once by hand, then reverted): with targets of 0.5, as
/// the old finiteness-only test used (not wrong), this test fails.
#[test]
fn confident_wrong_logits_of_1e4_give_exact_bce_values_and_gradients() {
    for dtype in [DType::F32, DType::F64] {
        let s = Tensor::from_vec(vec![1e4, -1e4], [2])
            .unwrap()
            .to_dtype(dtype)
            .requires_grad_(true);
        let y = Tensor::from_vec(vec![0.0, 1.0], [2])
            .unwrap()
            .to_dtype(dtype);
        let opts = F::BceWithLogitsOptions::default()
            .pos_weight(Tensor::full_dtype([1], 2.0, dtype))
            .reduction(F::Reduction::None);
        let per_element = F::binary_cross_entropy_with_logits_with(&s, &y, &opts).unwrap();
        assert_eq!(per_element.to_vec::<f64>(), vec![1e4, 2e4], "{dtype}");
        let loss = per_element.mean();
        assert_eq!(loss.item::<f64>(), 1.5e4, "{dtype}");
        let g = grad(&[&loss], &[&s], true).unwrap().remove(0);
        assert_eq!(g.to_vec::<f64>(), vec![0.5, -1.0], "{dtype}");
        let gg = grad(&[&g.sum()], &[&s], false).unwrap().remove(0);
        assert_eq!(gg.to_vec::<f64>(), vec![0.0, 0.0], "{dtype}");

        let p = s.detach().sigmoid();
        assert_eq!(p.to_vec::<f64>(), vec![1.0, 0.0]);
        let none = F::BceOptions::default().reduction(F::Reduction::None);
        let clamped = F::binary_cross_entropy_with(&p, &y, &none).unwrap();
        assert_eq!(clamped.to_vec::<f64>(), vec![100.0, 100.0], "{dtype}");
    }
}

/// Mutation check (run once by hand, then reverted): with 0 expected instead
/// of NaN, this test fails.
#[test]
fn all_ignored_mean_is_nan_with_zero_gradient_as_in_pytorch() {
    let x = Tensor::new([[0.3f64, 0.1], [0.2, 0.9]]).requires_grad_(true);
    let loss = F::cross_entropy(&x, &Tensor::new([-100.0f64, -100.0])).unwrap();
    assert!(loss.item::<f64>().is_nan());
    loss.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.0; 4]);
}

/// Mutation check (run once by hand, then reverted): with a target of 1e-300
/// instead of 0 against the −∞ input, this test fails.
#[test]
fn kl_div_vanishing_targets_contribute_zero_even_against_infinite_inputs() {
    // PyTorch gives NaN for these two (0·(−inf) and e^(−inf)·(−inf − x));
    // tapegrad follows the definition: a zero-probability term is 0.
    let x = Tensor::new([f64::NEG_INFINITY, 0.0]);
    let kl = F::kl_div_with(
        &x,
        &Tensor::new([0.0f64, 1.0]),
        &F::KlDivOptions::default().reduction(F::KlReduction::Sum),
    )
    .unwrap();
    assert_eq!(kl.item::<f64>(), 0.0);
    let opts = F::KlDivOptions::default()
        .reduction(F::KlReduction::Sum)
        .log_target(true);
    let kl = F::kl_div_with(
        &Tensor::new([-1.0f64, 0.0]),
        &Tensor::new([f64::NEG_INFINITY, 0.0]),
        &opts,
    )
    .unwrap();
    assert_eq!(kl.item::<f64>(), 0.0);
}
