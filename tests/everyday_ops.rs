//! The everyday ops against PyTorch: values, indices and input gradients
//! from `tests/fixtures/everyday/*.json`, written by
//! `tests/fixtures/make_everyday_fixtures.py` (PyTorch, float64 and
//! float32 from the same float64 draws). Each differentiable case applies
//! the op to a leaf (or to a transposed, non-contiguous view of it, when the
//! case says so), seeds the output with the case's `g`, and compares the
//! leaf's gradient. Tolerances: relative error, against
//! `max(|expected|, 1e-3)`, of 1e-12 in f64 and 1e-5 in f32.

use serde_json::Value;
use tapegrad::nn::utils::{clip_grad_norm_, clip_grad_value_};
use tapegrad::{DType, Tensor};

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

fn dtype(case: &Value) -> DType {
    match case["dtype"].as_str().unwrap() {
        "float64" => DType::F64,
        "float32" => DType::F32,
        other => panic!("unknown dtype {other}"),
    }
}

fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 1e-12,
        DType::F32 | DType::I64 => 1e-5,
    }
}

fn cases(family: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/everyday/{family}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

/// The largest relative error of `got` against `want` (shapes must match;
/// NaN must meet NaN).
fn rel_error(what: &str, got: &Tensor, want: &Tensor) -> f64 {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let mut worst = 0.0f64;
    for (k, (a, b)) in got
        .to_vec::<f64>()
        .into_iter()
        .zip(want.to_vec::<f64>())
        .enumerate()
    {
        if b.is_nan() || a.is_nan() {
            assert!(a.is_nan() && b.is_nan(), "{what}[{k}]: got {a}, want {b}");
            continue;
        }
        if b.is_infinite() || a.is_infinite() {
            assert_eq!(a, b, "{what}[{k}]");
            continue;
        }
        worst = worst.max((a - b).abs() / b.abs().max(1e-3));
    }
    worst
}

fn check(what: &str, got: &Tensor, want: &Tensor, dtype: DType) -> f64 {
    let err = rel_error(what, got, want);
    assert!(
        err <= tolerance(dtype),
        "{what}: relative error {err:e} (got {:?}, want {:?})",
        got.to_vec::<f64>(),
        want.to_vec::<f64>()
    );
    err
}

fn int(args: &Value, key: &str) -> isize {
    args[key].as_i64().unwrap() as isize
}

/// Runs a differentiable case's op on `x`: the output and, for sort/topk,
/// the indices.
fn apply(op: &str, x: &Tensor, a: &Value) -> (Tensor, Option<Tensor>) {
    match op {
        "cumsum" => (x.cumsum(int(a, "dim")), None),
        "tril" => (x.tril(int(a, "diagonal")), None),
        "triu" => (x.triu(int(a, "diagonal")), None),
        "repeat" => {
            let sizes: Vec<usize> = a["sizes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_u64().unwrap() as usize)
                .collect();
            (x.repeat(&sizes), None)
        }
        "sort" => {
            let (v, i) = x.sort(int(a, "dim"), a["descending"].as_bool().unwrap());
            (v, Some(i))
        }
        "topk" => {
            let (v, i) = x.topk(
                a["k"].as_u64().unwrap() as usize,
                int(a, "dim"),
                a["largest"].as_bool().unwrap(),
                a["sorted"].as_bool().unwrap(),
            );
            (v, Some(i))
        }
        "norm" => {
            let dims: Vec<isize> = a["dims"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_i64().unwrap() as isize)
                .collect();
            (
                x.norm(number(&a["p"]), &dims, a["keepdim"].as_bool().unwrap()),
                None,
            )
        }
        other => panic!("unknown op {other}"),
    }
}

/// Checks every case of a family of differentiable ops; returns the count
/// and the largest errors seen in f64 and f32.
fn differentiable(family: &str) -> (usize, f64, f64) {
    let all = cases(family);
    let (mut worst64, mut worst32) = (0.0f64, 0.0f64);
    for (n, case) in all.iter().enumerate() {
        let dt = dtype(case);
        let op = case["op"].as_str().unwrap();
        let what = format!("{family} case {n} ({op} {}, {dt})", case["args"]);
        let base = tensor(&case["base"], dt).requires_grad_(true);
        let x = match case["transpose"].as_array() {
            Some(t) => {
                let x = base.transpose(
                    t[0].as_i64().unwrap() as isize,
                    t[1].as_i64().unwrap() as isize,
                );
                assert!(
                    !x.is_contiguous() || x.numel() <= 1,
                    "{what}: the view is contiguous"
                );
                x
            }
            None => base.clone(),
        };
        let (out, indices) = apply(op, &x, &case["args"]);
        let mut err = check(
            &format!("{what} output"),
            &out,
            &tensor(&case["output"], dt),
            dt,
        );
        if let Some(want) = case.get("indices") {
            let got = indices.expect("the op returns indices");
            assert!(!got.requires_grad(), "{what}: indices require grad");
            // Indices are exact integers: compared exactly.
            assert_eq!(
                got.dims(),
                tensor(want, DType::F64).dims(),
                "{what} indices shape"
            );
            assert_eq!(
                got.to_vec::<f64>(),
                tensor(want, DType::F64).to_vec::<f64>(),
                "{what} indices"
            );
        }
        let g = tensor(&case["g"], dt);
        out.mul(&g).sum().backward();
        let grad = base.grad().expect("a gradient");
        err = err.max(check(
            &format!("{what} grad"),
            &grad,
            &tensor(&case["grad"], dt),
            dt,
        ));
        match dt {
            DType::F64 => worst64 = worst64.max(err),
            DType::F32 | DType::I64 => worst32 = worst32.max(err),
        }
    }
    (all.len(), worst64, worst32)
}

fn report(family: &str) {
    let (n, e64, e32) = differentiable(family);
    assert!(n > 0);
    println!("{family}: {n} cases, max relative error f64 {e64:e}, f32 {e32:e}");
}

#[test]
fn cumsum_matches_pytorch() {
    report("cumsum");
}

#[test]
fn tril_triu_match_pytorch() {
    report("triangle");
}

#[test]
fn repeat_matches_pytorch() {
    report("repeat");
}

#[test]
fn sort_matches_pytorch_stable_sort() {
    report("sort");
}

#[test]
fn topk_matches_pytorch() {
    report("topk");
}

#[test]
fn norm_matches_pytorch_vector_norm() {
    report("norm");
}

#[test]
fn linspace_arange_eye_match_pytorch() {
    let all = cases("creation");
    let (mut worst64, mut worst32) = (0.0f64, 0.0f64);
    for (n, case) in all.iter().enumerate() {
        let dt = dtype(case);
        let a = &case["args"];
        let what = format!("creation case {n} ({} {a}, {dt})", case["op"]);
        let got = match case["op"].as_str().unwrap() {
            "linspace" => Tensor::linspace_dtype(
                number(&a["start"]),
                number(&a["end"]),
                a["steps"].as_u64().unwrap() as usize,
                dt,
            )
            .unwrap(),
            "arange" => Tensor::arange_dtype(
                number(&a["start"]),
                number(&a["end"]),
                number(&a["step"]),
                dt,
            )
            .unwrap(),
            "eye" => Tensor::eye_m_dtype(
                a["n"].as_u64().unwrap() as usize,
                a["m"].as_u64().unwrap() as usize,
                dt,
            ),
            other => panic!("unknown op {other}"),
        };
        assert_eq!(got.dtype(), dt, "{what}");
        let err = check(&what, &got, &tensor(&case["output"], dt), dt);
        match dt {
            DType::F64 => worst64 = worst64.max(err),
            DType::F32 | DType::I64 => worst32 = worst32.max(err),
        }
    }
    println!(
        "creation: {} cases, max relative error f64 {worst64:e}, f32 {worst32:e}",
        all.len()
    );
}

/// Parameters of the shapes of a case's gradients, with those gradients
/// set (a `null` gradient: a parameter without one).
fn params_with_grads(case: &Value, dt: DType) -> Vec<Tensor> {
    case["grads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            if g.is_null() {
                return Tensor::zeros_like(&Tensor::zeros([2]).to_dtype(dt)).requires_grad_(true);
            }
            let g = tensor(g, dt);
            let p = Tensor::zeros_like(&g).requires_grad_(true);
            p.set_grad(Some(g));
            p
        })
        .collect()
}

#[test]
fn clip_grad_norm_and_value_match_pytorch() {
    let all = cases("clip_grad");
    let (mut worst64, mut worst32) = (0.0f64, 0.0f64);
    for (n, case) in all.iter().enumerate() {
        let dt = dtype(case);
        let a = &case["args"];
        let what = format!("clip case {n} ({} {a}, {dt})", case["op"]);
        let params = params_with_grads(case, dt);
        let mut err = 0.0f64;
        match case["op"].as_str().unwrap() {
            "clip_grad_norm_" => {
                let total =
                    clip_grad_norm_(&params, number(&a["max_norm"]), number(&a["norm_type"]))
                        .unwrap();
                let want = case["total_norm"].as_f64().unwrap();
                let e = (total - want).abs() / want.abs().max(1e-3);
                assert!(
                    e <= tolerance(dt),
                    "{what}: total norm {total}, want {want}"
                );
                err = err.max(e);
            }
            "clip_grad_value_" => {
                clip_grad_value_(&params, a["clip_value"].as_f64().unwrap()).unwrap();
            }
            other => panic!("unknown op {other}"),
        }
        for (k, (p, want)) in params
            .iter()
            .zip(case["clipped"].as_array().unwrap())
            .enumerate()
        {
            match (p.grad(), want.is_null()) {
                (None, true) => {}
                (Some(g), false) => {
                    err = err.max(check(
                        &format!("{what} grad {k}"),
                        &g,
                        &tensor(want, dt),
                        dt,
                    ))
                }
                (got, _) => panic!("{what}: grad {k} is {got:?}, want {want}"),
            }
        }
        match dt {
            DType::F64 => worst64 = worst64.max(err),
            DType::F32 | DType::I64 => worst32 = worst32.max(err),
        }
    }
    println!(
        "clip_grad: {} cases, max relative error f64 {worst64:e}, f32 {worst32:e}",
        all.len()
    );
}
