//! Losses and probability maps against PyTorch: outputs and input gradients
//! from `tests/fixtures/losses/*.json`, written by
//! `tests/fixtures/make_loss_fixtures.py` (torch.nn.functional, float64 and
//! float32). Tolerance: 1e-6 relative in f64 and 1e-5 in f32, plus a tiny
//! absolute floor for values that are zero up to rounding.

use serde_json::Value;
use tapegrad::nn::functional as F;
use tapegrad::{grad_with, BackwardOptions, DType, Tensor};

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "nan" => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        other => other.as_f64().expect("a number"),
    }
}

fn tensor(v: &Value, dtype: DType) -> Option<Tensor> {
    if v.is_null() {
        return None;
    }
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data: Vec<f64> = v["data"].as_array().unwrap().iter().map(number).collect();
    Some(
        Tensor::from_vec(data, shape.as_slice())
            .unwrap()
            .to_dtype(dtype),
    )
}

fn reduction(o: &Value) -> F::Reduction {
    o["reduction"].as_str().unwrap().parse().unwrap()
}

/// Runs the function a case names, with its options.
fn call(function: &str, o: &Value, ts: &std::collections::HashMap<String, Tensor>) -> Tensor {
    let input = &ts["input"];
    let target = ts.get("target");
    let weight = ts.get("weight").cloned();
    let result = match function {
        "softmax" => F::softmax(input, o["dim"].as_i64().unwrap() as isize),
        "log_softmax" => F::log_softmax(input, o["dim"].as_i64().unwrap() as isize),
        "nll_loss" => F::nll_loss_with(
            input,
            target.unwrap(),
            &F::NllLossOptions {
                weight,
                ignore_index: o["ignore_index"].as_i64().unwrap(),
                reduction: reduction(o),
            },
        ),
        "cross_entropy" => F::cross_entropy_with(
            input,
            target.unwrap(),
            &F::CrossEntropyOptions {
                weight,
                ignore_index: o["ignore_index"].as_i64().unwrap(),
                reduction: reduction(o),
                label_smoothing: o["label_smoothing"].as_f64().unwrap(),
            },
        ),
        "binary_cross_entropy" => F::binary_cross_entropy_with(
            input,
            target.unwrap(),
            &F::BceOptions {
                weight,
                reduction: reduction(o),
            },
        ),
        "binary_cross_entropy_with_logits" => F::binary_cross_entropy_with_logits_with(
            input,
            target.unwrap(),
            &F::BceWithLogitsOptions {
                weight,
                pos_weight: ts.get("pos_weight").cloned(),
                reduction: reduction(o),
            },
        ),
        "kl_div" => F::kl_div_with(
            input,
            target.unwrap(),
            &F::KlDivOptions {
                reduction: o["reduction"].as_str().unwrap().parse().unwrap(),
                log_target: o["log_target"].as_bool().unwrap(),
            },
        ),
        other => panic!("unknown function {other}"),
    };
    result.unwrap_or_else(|e| panic!("{function}: {e}"))
}

/// Asserts `got` matches PyTorch's `want` (NaN matches NaN, infinities
/// match exactly).
fn assert_close(what: &str, got: &Tensor, want: &Value, dtype: DType) {
    let want_t = tensor(want, DType::F64).unwrap();
    assert_eq!(got.dims(), want_t.dims(), "{what}: shape");
    let (rtol, atol) = match dtype {
        DType::F64 => (1e-6, 1e-12),
        DType::F32 | DType::I64 => (1e-5, 1e-6),
    };
    for (k, (a, b)) in got
        .to_vec::<f64>()
        .iter()
        .zip(want_t.to_vec::<f64>())
        .enumerate()
    {
        let ok = if b.is_nan() || a.is_nan() {
            a.is_nan() && b.is_nan()
        } else if b.is_infinite() || a.is_infinite() {
            *a == b
        } else {
            (a - b).abs() <= rtol * b.abs() + atol
        };
        assert!(ok, "{what}: element {k}: tapegrad {a:e}, PyTorch {b:e}");
    }
}

fn run_file(function: &str) -> usize {
    let path = format!(
        "{}/tests/fixtures/losses/{function}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let cases = file["cases"].as_array().unwrap();
    for c in cases {
        let dtype = match c["dtype"].as_str().unwrap() {
            "f64" => DType::F64,
            _ => DType::F32,
        };
        let label = format!("{function}/{}/{}", c["name"].as_str().unwrap(), dtype);
        let grads = c["grads"].as_object().unwrap();
        let mut ts = std::collections::HashMap::new();
        for (k, v) in c["tensors"].as_object().unwrap() {
            if let Some(t) = tensor(v, dtype) {
                let t = if grads.contains_key(k) {
                    t.requires_grad_(true)
                } else {
                    t
                };
                ts.insert(k.clone(), t);
            }
        }
        let out = call(function, &c["options"], &ts);
        assert_eq!(out.dtype(), dtype, "{label}: dtype");
        assert_close(&format!("{label}: output"), &out, &c["output"], dtype);
        if grads.is_empty() {
            continue;
        }
        let names: Vec<&String> = grads.keys().collect();
        let inputs: Vec<&Tensor> = names.iter().map(|k| &ts[k.as_str()]).collect();
        let seed = tensor(&c["seed"], dtype).unwrap();
        let got = grad_with(&[&out], &[&seed], &inputs, BackwardOptions::default())
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        for (name, g) in names.iter().zip(&got) {
            if !grads[name.as_str()].is_null() {
                assert_close(
                    &format!("{label}: grad of {name}"),
                    g,
                    &grads[name.as_str()],
                    dtype,
                );
            }
        }
    }
    cases.len()
}

#[test]
fn softmax_matches_pytorch() {
    assert_eq!(run_file("softmax"), 20);
}

#[test]
fn log_softmax_matches_pytorch() {
    assert_eq!(run_file("log_softmax"), 20);
}

#[test]
fn nll_loss_matches_pytorch() {
    assert_eq!(run_file("nll_loss"), 54);
}

#[test]
fn cross_entropy_matches_pytorch() {
    assert_eq!(run_file("cross_entropy"), 196);
}

#[test]
fn binary_cross_entropy_matches_pytorch() {
    assert_eq!(run_file("binary_cross_entropy"), 30);
}

#[test]
fn binary_cross_entropy_with_logits_matches_pytorch() {
    assert_eq!(run_file("binary_cross_entropy_with_logits"), 42);
}

#[test]
fn kl_div_matches_pytorch() {
    assert_eq!(run_file("kl_div"), 40);
}
