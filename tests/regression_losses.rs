//! The regression losses (`mse_loss`, `l1_loss`, `smooth_l1_loss`,
//! `huber_loss`) against PyTorch, by gradcheck / gradgradcheck, through their
//! module forms, and on bad input.
//!
//! PyTorch's values are in `tests/fixtures/regression_losses.json`, written by
//! `tests/fixtures/make_regression_fixtures.py`: outputs, the gradients of
//! input and target, and the second derivatives `∂(Σ ∂ℓ/∂x)/∂x` and
//! `∂(Σ ∂ℓ/∂x)/∂y`, in float64 and float32, including exact kinks
//! (`d = 0`, `|d| = β`), empty tensors, scalars and infinite inputs.
//! Tolerance: 1e-12 relative in f64, 1e-5 relative in f32, no absolute
//! floor (a value PyTorch gives as exactly 0 must be exactly 0 here).

use serde_json::Value;
use tapegrad::nn::functional::{self as F, Reduction};
use tapegrad::nn::loss::{HuberLoss, L1Loss, MSELoss, SmoothL1Loss};
use tapegrad::{
    grad_with, gradcheck, gradgradcheck, seeded_rng, BackwardOptions, DType, Error,
    GradcheckOptions, Result, Tensor,
};

const REDUCTIONS: [Reduction; 3] = [Reduction::None, Reduction::Sum, Reduction::Mean];

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => other.as_f64().expect("a number"),
    }
}

fn tensor(v: &Value, dtype: DType) -> Tensor {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data: Vec<f64> = v["data"].as_array().unwrap().iter().map(number).collect();
    Tensor::from_vec(data, shape.as_slice())
        .unwrap()
        .to_dtype(dtype)
}

/// Calls the loss a fixture case names, with its options.
fn call(function: &str, options: &Value, x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let reduction: Reduction = options["reduction"].as_str().unwrap().parse().unwrap();
    match function {
        "mse_loss" => F::mse_loss_with(x, y, &F::MseLossOptions { reduction }),
        "l1_loss" => F::l1_loss_with(x, y, &F::L1LossOptions { reduction }),
        "smooth_l1_loss" => F::smooth_l1_loss_with(
            x,
            y,
            &F::SmoothL1LossOptions {
                reduction,
                beta: options["beta"].as_f64().unwrap(),
            },
        ),
        "huber_loss" => F::huber_loss_with(
            x,
            y,
            &F::HuberLossOptions {
                reduction,
                delta: options["delta"].as_f64().unwrap(),
            },
        ),
        other => panic!("unknown function {other}"),
    }
}

/// Largest relative error seen, per dtype (reported by the test).
#[derive(Default)]
struct Worst {
    rel: f64,
    at: String,
}

/// Asserts `got` equals PyTorch's `want` to `rtol` relative (NaN matches
/// NaN, infinities and zeros must match exactly).
fn assert_close(what: &str, got: &Tensor, want: &Value, rtol: f64, worst: &mut Worst) {
    let want = tensor(want, DType::F64);
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    for (k, (a, b)) in got
        .to_vec::<f64>()
        .iter()
        .zip(want.to_vec::<f64>())
        .enumerate()
    {
        let ok = if a.is_nan() || b.is_nan() {
            a.is_nan() && b.is_nan()
        } else if a.is_infinite() || b.is_infinite() || b == 0.0 {
            *a == b
        } else {
            let rel = (a - b).abs() / b.abs();
            if rel > worst.rel {
                *worst = Worst {
                    rel,
                    at: format!("{what}[{k}]"),
                };
            }
            rel <= rtol
        };
        assert!(ok, "{what}: element {k}: tapegrad {a:e}, PyTorch {b:e}");
    }
}

fn zeros_unless_connected(g: Tensor, wrt: &[&Tensor]) -> Vec<Tensor> {
    if !g.requires_grad() {
        // The first derivative does not depend on the inputs (e.g. l1's
        // sign): the second derivative is 0, as PyTorch reports it.
        return wrt.iter().map(|t| Tensor::zeros_like(t)).collect();
    }
    let s = g.sum();
    grad_with(&[&s], &[], wrt, BackwardOptions::default()).unwrap()
}

#[test]
fn every_loss_matches_pytorch_values_gradients_and_second_derivatives() {
    let path = format!(
        "{}/tests/fixtures/regression_losses.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = file["cases"].as_array().unwrap();
    let (mut worst64, mut worst32) = (Worst::default(), Worst::default());
    let mut per_function = std::collections::BTreeMap::<&str, usize>::new();
    for c in cases {
        let function = c["function"].as_str().unwrap();
        *per_function.entry(function).or_default() += 1;
        let (dtype, rtol, worst) = match c["dtype"].as_str().unwrap() {
            "f64" => (DType::F64, 1e-12, &mut worst64),
            _ => (DType::F32, 1e-5, &mut worst32),
        };
        let label = format!("{function}/{}/{dtype}", c["name"].as_str().unwrap());
        let x = tensor(&c["input"], dtype).requires_grad_(true);
        let y = tensor(&c["target"], dtype).requires_grad_(true);
        let out = call(function, &c["options"], &x, &y).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(out.dtype(), dtype, "{label}: dtype");
        assert_close(&format!("{label}: output"), &out, &c["output"], rtol, worst);

        let seed = tensor(&c["seed"], dtype);
        let create = BackwardOptions {
            retain_graph: true,
            create_graph: true,
            ..Default::default()
        };
        let g = grad_with(&[&out], &[&seed], &[&x, &y], create).unwrap();
        let [gx, gy] = [g[0].clone(), g[1].clone()];
        assert_close(
            &format!("{label}: grad input"),
            &gx,
            &c["grad_input"],
            rtol,
            worst,
        );
        assert_close(
            &format!("{label}: grad target"),
            &gy,
            &c["grad_target"],
            rtol,
            worst,
        );
        let h = zeros_unless_connected(gx, &[&x, &y]);
        for (name, got) in [("second_input", &h[0]), ("second_target", &h[1])] {
            assert_close(&format!("{label}: {name}"), got, &c[name], rtol, worst);
        }
    }
    println!(
        "{} cases {per_function:?}; worst relative error f64 {:.2e} at {}, f32 {:.2e} at {}",
        cases.len(),
        worst64.rel,
        worst64.at,
        worst32.rel,
        worst32.at
    );
    assert_eq!(cases.len(), 432);
}

/// `n` values of `input − target` kept at least 0.1 away from 0 and from
/// ±`kink`, so that central differences never straddle a kink.
fn away_from_kinks(shape: &[usize], kink: f64, seed: u64) -> (Tensor, Tensor) {
    let y = Tensor::randn_dtype(shape, DType::F64, &mut seeded_rng(seed));
    let u = Tensor::rand_dtype(shape, DType::F64, &mut seeded_rng(seed + 1)).to_vec::<f64>();
    let d: Vec<f64> = u
        .iter()
        .enumerate()
        .map(|(k, &u)| {
            let mut m = 0.1 + 2.8 * u;
            if (m - kink).abs() < 0.1 {
                m += 0.2;
            }
            if k % 2 == 0 {
                m
            } else {
                -m
            }
        })
        .collect();
    let d = Tensor::from_vec(d, shape).unwrap();
    (y.add(&d), y)
}

type Loss = fn(&Tensor, &Tensor, Reduction) -> Result<Tensor>;
/// A loss with its options captured.
type BoxedLoss = Box<dyn Fn(&Tensor, &Tensor, Reduction) -> Result<Tensor>>;

/// Every loss and option, as (name, kink, function).
fn all_losses() -> Vec<(String, f64, BoxedLoss)> {
    let mse: Loss = |x, y, r| F::mse_loss_with(x, y, &F::MseLossOptions { reduction: r });
    let l1: Loss = |x, y, r| F::l1_loss_with(x, y, &F::L1LossOptions { reduction: r });
    let mut all: Vec<(String, f64, BoxedLoss)> = vec![
        ("mse_loss".into(), 0.0, Box::new(mse)),
        ("l1_loss".into(), 0.0, Box::new(l1)),
    ];
    for beta in [0.0, 0.7, 1.0, 2.5] {
        all.push((
            format!("smooth_l1_loss beta={beta}"),
            beta,
            Box::new(move |x, y, r| {
                let o = F::SmoothL1LossOptions::default().beta(beta).reduction(r);
                F::smooth_l1_loss_with(x, y, &o)
            }),
        ));
    }
    for delta in [0.3, 1.0, 2.5] {
        all.push((
            format!("huber_loss delta={delta}"),
            delta,
            Box::new(move |x, y, r| {
                let o = F::HuberLossOptions::default().delta(delta).reduction(r);
                F::huber_loss_with(x, y, &o)
            }),
        ));
    }
    all
}

#[test]
fn gradcheck_and_gradgradcheck_away_from_kinks() {
    let opts = GradcheckOptions::default();
    let mut checked = 0;
    for (name, kink, loss) in all_losses() {
        for (s, shape) in [vec![7], vec![3, 4], vec![2, 1, 3], vec![0, 2]]
            .into_iter()
            .enumerate()
        {
            let (x, y) = away_from_kinks(&shape, kink, 40 + s as u64);
            for r in REDUCTIONS {
                let what = format!("{name} {r} {shape:?}");
                let f = |xs: &[Tensor]| loss(&xs[0], &xs[1], r);
                let first = gradcheck(f, &[x.clone(), y.clone()], opts).unwrap();
                assert!(first.passed(), "{what}: gradcheck\n{first}");
                let second = gradgradcheck(f, &[x.clone(), y.clone()], opts).unwrap();
                assert!(second.passed(), "{what}: gradgradcheck\n{second}");
                // A non-contiguous input: the transpose is inside the
                // checked function.
                if shape.len() == 2 {
                    let xt = x.t().contiguous();
                    let g = |xs: &[Tensor]| loss(&xs[0].t(), &xs[1], r);
                    let first = gradcheck(g, &[xt.clone(), y.clone()], opts).unwrap();
                    assert!(first.passed(), "{what} transposed: gradcheck\n{first}");
                    let second = gradgradcheck(g, &[xt, y.clone()], opts).unwrap();
                    assert!(
                        second.passed(),
                        "{what} transposed: gradgradcheck\n{second}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 9 * 4 * 3);
}

#[test]
fn modules_equal_the_functional_forms() {
    let (x, y) = away_from_kinks(&[4, 5], 1.5, 7);
    for r in REDUCTIONS {
        let pairs = [
            (
                MSELoss::new().reduction(r).forward(&x, &y).unwrap(),
                F::mse_loss_with(&x, &y, &F::MseLossOptions { reduction: r }).unwrap(),
            ),
            (
                L1Loss::new().reduction(r).forward(&x, &y).unwrap(),
                F::l1_loss_with(&x, &y, &F::L1LossOptions { reduction: r }).unwrap(),
            ),
            (
                SmoothL1Loss::new()
                    .beta(1.5)
                    .reduction(r)
                    .forward(&x, &y)
                    .unwrap(),
                F::smooth_l1_loss_with(
                    &x,
                    &y,
                    &F::SmoothL1LossOptions {
                        reduction: r,
                        beta: 1.5,
                    },
                )
                .unwrap(),
            ),
            (
                HuberLoss::new()
                    .delta(1.5)
                    .reduction(r)
                    .forward(&x, &y)
                    .unwrap(),
                F::huber_loss_with(
                    &x,
                    &y,
                    &F::HuberLossOptions {
                        reduction: r,
                        delta: 1.5,
                    },
                )
                .unwrap(),
            ),
        ];
        for (module, functional) in pairs {
            assert_eq!(module.to_vec::<f64>(), functional.to_vec::<f64>());
        }
    }
    // PyTorch's defaults.
    assert_eq!(SmoothL1Loss::new().options.beta, 1.0);
    assert_eq!(HuberLoss::new().options.delta, 1.0);
    assert_eq!(MSELoss::new().options.reduction, Reduction::Mean);
    // The plain forms use the defaults.
    let (a, b) = (
        F::smooth_l1_loss(&x, &y).unwrap().item::<f64>(),
        F::smooth_l1_loss_with(&x, &y, &F::SmoothL1LossOptions::default())
            .unwrap()
            .item::<f64>(),
    );
    assert_eq!(a, b);
}

/// Independent of the fixture: the definitions, written out per element in
/// f64, for a few differences on both sides of the kink.
#[test]
fn values_equal_the_formulas() {
    let y = Tensor::new([0.0f64, 1.0, -2.0, 0.5, 3.0]);
    let x = Tensor::new([0.3f64, -1.5, -2.0, 4.0, 2.9]);
    let d: Vec<f64> = [0.3, -2.5, 0.0, 3.5, -0.1].to_vec();
    let none = Reduction::None;
    let beta = 0.8;
    let smooth: Vec<f64> = d
        .iter()
        .map(|&d: &f64| {
            if d.abs() < beta {
                0.5 * d * d / beta
            } else {
                d.abs() - 0.5 * beta
            }
        })
        .collect();
    let huber: Vec<f64> = d
        .iter()
        .map(|&d: &f64| {
            if d.abs() < beta {
                0.5 * d * d
            } else {
                beta * (d.abs() - 0.5 * beta)
            }
        })
        .collect();
    let got_smooth = F::smooth_l1_loss_with(
        &x,
        &y,
        &F::SmoothL1LossOptions {
            reduction: none,
            beta,
        },
    )
    .unwrap()
    .to_vec::<f64>();
    let got_huber = F::huber_loss_with(
        &x,
        &y,
        &F::HuberLossOptions {
            reduction: none,
            delta: beta,
        },
    )
    .unwrap()
    .to_vec::<f64>();
    let got_mse = F::mse_loss_with(&x, &y, &F::MseLossOptions { reduction: none })
        .unwrap()
        .to_vec::<f64>();
    let got_l1 = F::l1_loss_with(&x, &y, &F::L1LossOptions { reduction: none })
        .unwrap()
        .to_vec::<f64>();
    for k in 0..5 {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs().max(1.0);
        assert!(close(got_smooth[k], smooth[k]), "smooth_l1 {k}");
        assert!(close(got_huber[k], huber[k]), "huber {k}");
        assert!(close(got_mse[k], d[k] * d[k]), "mse {k}");
        assert!(close(got_l1[k], d[k].abs()), "l1 {k}");
        // Huber is δ times smooth L1 with β = δ.
        assert!(
            close(got_huber[k], beta * got_smooth[k]),
            "huber = δ·smooth_l1 {k}"
        );
    }
}

fn message_has(err: &Error, parts: &[&str]) {
    let msg = err.to_string();
    for p in parts {
        assert!(msg.contains(p), "message {msg:?} should contain {p:?}");
    }
}

#[test]
fn shape_and_dtype_mismatches_are_errors_naming_the_op() {
    let x = Tensor::zeros([3, 1]).double();
    let y = Tensor::zeros([3]).double();
    let ops: [(&str, Loss); 4] = [
        ("mse_loss", |x, y, r| {
            F::mse_loss_with(x, y, &F::MseLossOptions { reduction: r })
        }),
        ("l1_loss", |x, y, r| {
            F::l1_loss_with(x, y, &F::L1LossOptions { reduction: r })
        }),
        ("smooth_l1_loss", |x, y, r| {
            F::smooth_l1_loss_with(x, y, &F::SmoothL1LossOptions::default().reduction(r))
        }),
        ("huber_loss", |x, y, r| {
            F::huber_loss_with(x, y, &F::HuberLossOptions::default().reduction(r))
        }),
    ];
    for (op, f) in ops {
        // PyTorch would broadcast [3, 1] with [3] to [3, 3] (with a warning).
        let err = f(&x, &y, Reduction::Mean).unwrap_err();
        message_has(&err, &[op, "[3, 1]", "[3]", "same shape"]);
        let err = f(&y, &x, Reduction::None).unwrap_err();
        message_has(&err, &[op, "[3, 1]", "[3]"]);
        let err = f(&y, &Tensor::zeros([3]), Reduction::Sum).unwrap_err();
        message_has(&err, &[op]);
        assert!(matches!(err, Error::DTypeMismatch { .. }), "{err}");
        let err = f(&y, &Tensor::new([0.0, f64::NAN, 2.0]), Reduction::Mean).unwrap_err();
        message_has(&err, &[op, "target is NaN", "flat index 1"]);
    }
}

#[test]
fn bad_beta_and_delta_are_errors_naming_the_op_and_value() {
    let x = Tensor::new([1.0f64, 2.0]);
    let y = Tensor::new([0.0f64, 0.0]);
    for beta in [-0.5, f64::NAN, f64::INFINITY] {
        let err = F::smooth_l1_loss_with(&x, &y, &F::SmoothL1LossOptions::default().beta(beta))
            .unwrap_err();
        message_has(&err, &["smooth_l1_loss", "beta", ">= 0", &beta.to_string()]);
    }
    for delta in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
        let err =
            F::huber_loss_with(&x, &y, &F::HuberLossOptions::default().delta(delta)).unwrap_err();
        message_has(&err, &["huber_loss", "delta", "> 0", &delta.to_string()]);
    }
    // The module forms report the same.
    let err = SmoothL1Loss::new().beta(-1.0).forward(&x, &y).unwrap_err();
    message_has(&err, &["smooth_l1_loss", "-1"]);
    let err = HuberLoss::new().delta(0.0).forward(&x, &y).unwrap_err();
    message_has(&err, &["huber_loss", "got 0"]);
}

#[test]
fn a_nan_input_propagates_like_the_classification_losses() {
    // The input is the model's output: NaN there is reported as NaN, not
    // hidden (the same rule as cross_entropy's logits).
    let x = Tensor::new([f64::NAN, 1.0]);
    let y = Tensor::new([0.0f64, 0.0]);
    assert!(F::mse_loss(&x, &y).unwrap().item::<f64>().is_nan());
    assert!(F::huber_loss(&x, &y).unwrap().item::<f64>().is_nan());
}

#[test]
fn the_target_gets_the_negated_input_gradient() {
    let (x, y) = away_from_kinks(&[6], 1.0, 3);
    let (x, y) = (x.requires_grad_(true), y.requires_grad_(true));
    for (name, _, loss) in all_losses() {
        let out = loss(&x, &y, Reduction::Mean).unwrap();
        let g = grad_with(&[&out], &[], &[&x, &y], BackwardOptions::default()).unwrap();
        let (gx, gy) = (g[0].to_vec::<f64>(), g[1].to_vec::<f64>());
        for k in 0..6 {
            assert_eq!(gx[k], -gy[k], "{name} element {k}");
            assert!(gx[k] != 0.0, "{name}: a non-trivial gradient");
        }
    }
}
