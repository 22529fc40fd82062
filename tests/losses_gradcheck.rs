//! gradcheck (f64, full Jacobian vs central differences) and gradgradcheck
//! for the probability maps and every loss and option, including
//! non-contiguous inputs, size-1 and empty dims. Class-index targets and
//! weights are constants captured by the checked closures.

use tapegrad::nn::functional as F;
use tapegrad::nn::functional::Reduction;
use tapegrad::{gradcheck, gradgradcheck, seeded_rng, DType, GradcheckOptions, Result, Tensor};

const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Sum, Reduction::Mean];

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_dtype(shape, DType::F64, &mut seeded_rng(seed))
}

fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> Tensor {
    Tensor::rand_dtype(shape, DType::F64, &mut seeded_rng(seed)).affine(hi - lo, lo)
}

fn t(data: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(data, shape).unwrap()
}

/// Both checks must pass.
fn check(what: &str, f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    let opts = GradcheckOptions::default();
    let first = gradcheck(&f, inputs, opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(first.passed(), "{what}: gradcheck\n{first}");
    let second = gradgradcheck(&f, inputs, opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(second.passed(), "{what}: gradgradcheck\n{second}");
}

#[test]
fn softmax_and_log_softmax() {
    let cases: Vec<(&str, Tensor, isize)> = vec![
        ("rows", randn(&[3, 4], 1), 1),
        ("cols", randn(&[3, 4], 2), 0),
        ("3d", randn(&[2, 3, 2], 3), 1),
        ("last", randn(&[2, 3, 2], 4), -1),
        ("size1", randn(&[4, 1], 5), 1),
        ("empty", randn(&[0, 3], 6), 1),
        ("scalar", Tensor::scalar(0.4f64), 0),
        ("large", randn(&[2, 3], 7).mul_scalar(30.0), 1),
    ];
    for (name, x, dim) in cases {
        check(name, |xs| F::softmax(&xs[0], dim), std::slice::from_ref(&x));
        check(
            name,
            |xs| F::log_softmax(&xs[0], dim),
            std::slice::from_ref(&x),
        );
        // weight the outputs so that the sum-to-1 constraint hides nothing
        let w = randn(x.dims(), 99);
        check(
            name,
            |xs| F::softmax(&xs[0], dim)?.try_mul(&w),
            std::slice::from_ref(&x),
        );
        check(
            name,
            |xs| F::log_softmax(&xs[0], dim)?.try_mul(&w),
            std::slice::from_ref(&x),
        );
    }
    // non-contiguous: the input is transposed inside the checked closure
    let x = randn(&[4, 3], 8);
    check(
        "transposed",
        |xs| F::softmax(&xs[0].try_transpose(0, 1)?, 1),
        std::slice::from_ref(&x),
    );
    check(
        "transposed",
        |xs| F::log_softmax(&xs[0].try_transpose(0, 1)?, 0),
        &[x],
    );
}

#[test]
fn nll_loss_every_option() {
    let targets = t(&[2.0, 0.0, -100.0, 1.0, 2.0], &[5]);
    let kd_targets = t(&[0.0, 2.0, 1.0, -100.0, 1.0, 0.0], &[2, 3]);
    let weight = t(&[0.5, 2.0, 1.5], &[3]);
    for reduction in REDUCTIONS {
        for w in [None, Some(weight.clone())] {
            for ignore_index in [-100, 1] {
                let opts = F::NllLossOptions {
                    weight: w.clone(),
                    ignore_index,
                    reduction,
                };
                let what = format!("nll {reduction} w={} ii={ignore_index}", w.is_some());
                // with an in-range ignore_index, -100 would be a bad id
                let (targets, kd_targets) = if ignore_index == -100 {
                    (targets.clone(), kd_targets.clone())
                } else {
                    (targets.relu(), kd_targets.relu())
                };
                check(
                    &what,
                    |xs| F::nll_loss_with(&xs[0], &targets, &opts),
                    &[randn(&[5, 3], 10)],
                );
                check(
                    &what,
                    |xs| F::nll_loss_with(&xs[0].try_transpose(0, 1)?, &targets, &opts),
                    &[randn(&[3, 5], 11)],
                );
                check(
                    &what,
                    |xs| F::nll_loss_with(&xs[0], &kd_targets, &opts),
                    &[randn(&[2, 3, 3], 12)],
                );
                check(
                    &what,
                    |xs| F::nll_loss_with(&xs[0], &Tensor::scalar(2.0f64), &opts),
                    &[randn(&[3], 13)],
                );
            }
        }
    }
}

#[test]
fn cross_entropy_class_targets_every_option() {
    let targets = t(&[2.0, 0.0, -100.0, 1.0, 2.0], &[5]);
    let kd_targets = t(&[0.0, 2.0, 1.0, -100.0, 1.0, 0.0], &[2, 3]);
    let weight = t(&[0.5, 2.0, 1.5], &[3]);
    for reduction in REDUCTIONS {
        for w in [None, Some(weight.clone())] {
            for label_smoothing in [0.0, 0.2] {
                let opts = F::CrossEntropyOptions {
                    weight: w.clone(),
                    ignore_index: -100,
                    reduction,
                    label_smoothing,
                };
                let what = format!("ce {reduction} w={} ls={label_smoothing}", w.is_some());
                check(
                    &what,
                    |xs| F::cross_entropy_with(&xs[0], &targets, &opts),
                    &[randn(&[5, 3], 20)],
                );
                check(
                    &what,
                    |xs| F::cross_entropy_with(&xs[0].try_transpose(0, 1)?, &targets, &opts),
                    &[randn(&[3, 5], 21)],
                );
                check(
                    &what,
                    |xs| F::cross_entropy_with(&xs[0], &kd_targets, &opts),
                    &[randn(&[2, 3, 3], 22)],
                );
                check(
                    &what,
                    |xs| F::cross_entropy_with(&xs[0], &Tensor::scalar(1.0f64), &opts),
                    &[randn(&[3], 23)],
                );
                let in_range = F::CrossEntropyOptions {
                    ignore_index: 0,
                    ..opts.clone()
                };
                check(
                    &what,
                    |xs| F::cross_entropy_with(&xs[0], &targets.relu(), &in_range),
                    &[randn(&[5, 3], 24)],
                );
            }
        }
    }
    // an empty batch and large logits
    check(
        "ce empty",
        |xs| F::cross_entropy(&xs[0], &Tensor::zeros([0]).double()),
        &[randn(&[0, 3], 25)],
    );
    check(
        "ce large",
        |xs| F::cross_entropy(&xs[0], &t(&[0.0, 2.0], &[2])),
        &[randn(&[2, 3], 26).mul_scalar(20.0)],
    );
}

#[test]
fn cross_entropy_probability_targets_every_option() {
    let weight = t(&[0.5, 2.0, 1.5], &[3]);
    for reduction in REDUCTIONS {
        for w in [None, Some(weight.clone())] {
            for label_smoothing in [0.0, 0.2] {
                let opts = F::CrossEntropyOptions {
                    weight: w.clone(),
                    reduction,
                    label_smoothing,
                    ..Default::default()
                };
                let what = format!("ce soft {reduction} w={} ls={label_smoothing}", w.is_some());
                let p = F::softmax(&randn(&[4, 3], 30), 1).unwrap();
                check(
                    &what,
                    |xs| F::cross_entropy_with(&xs[0], &xs[1], &opts),
                    &[randn(&[4, 3], 31), p],
                );
                let p = F::softmax(&randn(&[2, 3, 2], 32), 1).unwrap();
                check(
                    &what,
                    |xs| F::cross_entropy_with(&xs[0], &xs[1], &opts),
                    &[randn(&[2, 3, 2], 33), p],
                );
                let p = F::softmax(&randn(&[3, 4], 34), 0).unwrap();
                check(
                    &what,
                    |xs| {
                        F::cross_entropy_with(
                            &xs[0].try_transpose(0, 1)?,
                            &xs[1].try_transpose(0, 1)?,
                            &opts,
                        )
                    },
                    &[randn(&[3, 4], 35), p],
                );
            }
        }
    }
}

#[test]
fn binary_cross_entropy_every_option() {
    let row_weight = t(&[0.5, 2.0, 1.5], &[3]);
    let full_weight = uniform(&[4, 3], 0.5, 2.0, 40);
    for reduction in REDUCTIONS {
        for w in [None, Some(row_weight.clone()), Some(full_weight.clone())] {
            let opts = F::BceOptions {
                weight: w.clone(),
                reduction,
            };
            let what = format!(
                "bce {reduction} w={:?}",
                w.as_ref().map(|w| w.dims().to_vec())
            );
            let p = uniform(&[4, 3], 0.05, 0.95, 41);
            let y = uniform(&[4, 3], 0.0, 1.0, 42);
            check(
                &what,
                |xs| F::binary_cross_entropy_with(&xs[0], &xs[1], &opts),
                &[p, y],
            );
            let p = uniform(&[3, 4], 0.05, 0.95, 43);
            let y = uniform(&[3, 4], 0.0, 1.0, 44);
            check(
                &what,
                |xs| {
                    F::binary_cross_entropy_with(
                        &xs[0].try_transpose(0, 1)?,
                        &xs[1].try_transpose(0, 1)?,
                        &opts,
                    )
                },
                &[p, y],
            );
        }
    }
}

#[test]
fn binary_cross_entropy_with_logits_every_option() {
    let row_weight = t(&[0.5, 2.0, 1.5], &[3]);
    let pos_weight = t(&[3.0, 0.25, 1.0], &[3]);
    for reduction in REDUCTIONS {
        for w in [None, Some(row_weight.clone())] {
            for pw in [None, Some(pos_weight.clone())] {
                let opts = F::BceWithLogitsOptions {
                    weight: w.clone(),
                    pos_weight: pw.clone(),
                    reduction,
                };
                let what = format!(
                    "bce logits {reduction} w={} pw={}",
                    w.is_some(),
                    pw.is_some()
                );
                let x = randn(&[4, 3], 50).mul_scalar(2.0);
                let y = uniform(&[4, 3], 0.0, 1.0, 51);
                check(
                    &what,
                    |xs| F::binary_cross_entropy_with_logits_with(&xs[0], &xs[1], &opts),
                    &[x, y],
                );
                let x = randn(&[3, 4], 52);
                let y = uniform(&[3, 4], 0.0, 1.0, 53);
                check(
                    &what,
                    |xs| {
                        F::binary_cross_entropy_with_logits_with(
                            &xs[0].try_transpose(0, 1)?,
                            &xs[1].try_transpose(0, 1)?,
                            &opts,
                        )
                    },
                    &[x, y],
                );
            }
        }
    }
}

#[test]
fn kl_div_every_option() {
    use F::KlReduction::*;
    for reduction in [None, Sum, Mean, BatchMean] {
        for log_target in [false, true] {
            let opts = F::KlDivOptions {
                reduction,
                log_target,
            };
            let what = format!("kl {reduction} log_target={log_target}");
            let x = F::log_softmax(&randn(&[3, 4], 60), 1).unwrap();
            let p = F::softmax(&randn(&[3, 4], 61), 1).unwrap();
            let target = if log_target { p.log() } else { p };
            check(
                &what,
                |xs| F::kl_div_with(&xs[0], &xs[1], &opts),
                &[x, target],
            );
            let x = randn(&[4, 3], 62);
            let target = uniform(&[4, 3], 0.1, 1.0, 63);
            check(
                &what,
                |xs| {
                    F::kl_div_with(
                        &xs[0].try_transpose(0, 1)?,
                        &xs[1].try_transpose(0, 1)?,
                        &opts,
                    )
                },
                &[x, target],
            );
        }
    }
}

#[test]
fn kl_div_zero_targets_give_zero_input_gradient() {
    // gradcheck with respect to the input only (the target gradient at
    // t = 0 is NaN, as in PyTorch).
    let p = t(&[0.5, 0.0, 0.5, 0.2, 0.8, 0.0], &[2, 3]);
    let opts = F::KlDivOptions::default().reduction(F::KlReduction::BatchMean);
    check(
        "kl zero targets",
        |xs| F::kl_div_with(&xs[0], &p, &opts),
        &[randn(&[2, 3], 64)],
    );
}

/// The gradient built from differentiable ops under `create_graph` must
/// equal the fused first-order gradient (gradgradcheck alone would accept a
/// composed gradient that is wrong but self-consistent).
fn same_first_order(what: &str, f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    let run = |create_graph: bool| -> Vec<Vec<f64>> {
        let leaves: Vec<Tensor> = inputs
            .iter()
            .map(|x| x.detach().requires_grad_(true))
            .collect();
        let y = f(&leaves).unwrap();
        let seed = Tensor::from_vec(
            (0..y.numel()).map(|k| 0.5 + (k % 5) as f64 * 0.3).collect(),
            y.dims(),
        )
        .unwrap();
        let refs: Vec<&Tensor> = leaves.iter().collect();
        let opts = tapegrad::BackwardOptions {
            retain_graph: false,
            create_graph,
            ..Default::default()
        };
        tapegrad::grad_with(&[&y], &[&seed], &refs, opts)
            .unwrap()
            .iter()
            .map(|g| g.to_vec::<f64>())
            .collect()
    };
    let (fused, composed) = (run(false), run(true));
    for (i, (a, b)) in fused.iter().zip(&composed).enumerate() {
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12 * (1.0 + x.abs()),
                "{what}: input {i} element {k}: fused {x}, composed {y}"
            );
        }
    }
}

#[test]
fn composed_gradients_equal_fused_gradients() {
    let x = randn(&[4, 3], 70).mul_scalar(2.0);
    let kd = randn(&[2, 3, 2], 71);
    let targets = t(&[2.0, -100.0, 0.0, 1.0], &[4]);
    let weight = t(&[0.5, 2.0, 1.5], &[3]);
    let p = F::softmax(&randn(&[4, 3], 72), 1).unwrap();
    for dim in [0isize, 1] {
        same_first_order(
            "softmax",
            |xs| F::softmax(&xs[0], dim),
            std::slice::from_ref(&x),
        );
        same_first_order(
            "log_softmax",
            |xs| F::log_softmax(&xs[0], dim),
            std::slice::from_ref(&x),
        );
    }
    for reduction in REDUCTIONS {
        let ce = F::CrossEntropyOptions::default()
            .weight(weight.clone())
            .label_smoothing(0.15)
            .reduction(reduction);
        same_first_order(
            "ce class",
            |xs| F::cross_entropy_with(&xs[0], &targets, &ce),
            std::slice::from_ref(&x),
        );
        same_first_order(
            "ce soft",
            |xs| F::cross_entropy_with(&xs[0], &xs[1], &ce),
            &[x.clone(), p.clone()],
        );
        same_first_order(
            "ce kdim",
            |xs| F::cross_entropy_with(&xs[0], &t(&[0.0, 2.0, 1.0, 1.0], &[2, 2]), &ce),
            std::slice::from_ref(&kd),
        );
        let nll = F::NllLossOptions::default()
            .weight(weight.clone())
            .reduction(reduction);
        same_first_order(
            "nll",
            |xs| F::nll_loss_with(&xs[0], &targets, &nll),
            std::slice::from_ref(&x),
        );
        let bce = F::BceOptions::default()
            .weight(weight.clone())
            .reduction(reduction);
        same_first_order(
            "bce",
            |xs| F::binary_cross_entropy_with(&xs[0], &xs[1], &bce),
            &[
                uniform(&[4, 3], 0.05, 0.95, 73),
                uniform(&[4, 3], 0.0, 1.0, 74),
            ],
        );
        let bcel = F::BceWithLogitsOptions::default()
            .weight(weight.clone())
            .pos_weight(t(&[3.0, 0.25, 1.0], &[3]))
            .reduction(reduction);
        same_first_order(
            "bce logits",
            |xs| F::binary_cross_entropy_with_logits_with(&xs[0], &xs[1], &bcel),
            &[x.clone(), uniform(&[4, 3], 0.0, 1.0, 75)],
        );
        for log_target in [false, true] {
            let kl = F::KlDivOptions::default()
                .reduction(reduction)
                .log_target(log_target);
            let target = if log_target { p.log() } else { p.clone() };
            same_first_order(
                "kl",
                |xs| F::kl_div_with(&xs[0], &xs[1], &kl),
                &[F::log_softmax(&x, 1).unwrap(), target],
            );
        }
    }
}
