//! Every element-wise, scalar, view and sum op checked against central finite
//! differences in f64 (full Jacobian), first and second order, on shapes
//! that exercise broadcasting, size-1 dims, empty tensors and
//! non-contiguous inputs.

use tapegrad::{gradcheck, gradgradcheck, seeded_rng, DType, GradcheckOptions, Result, Tensor};

/// Random f64 values in `[lo, hi)`, away from zero when `avoid_zero`
/// (kinks and poles of abs, relu, log, div live there).
fn input(shape: &[usize], lo: f64, hi: f64, seed: u64, avoid_zero: bool) -> Tensor {
    let mut rng = seeded_rng(seed);
    let u = Tensor::rand_dtype(shape, DType::F64, &mut rng);
    let mut values = u.affine(hi - lo, lo).to_vec::<f64>();
    if avoid_zero {
        for v in &mut values {
            if v.abs() < 0.1 {
                *v = if *v < 0.0 {
                    -0.1 - v.abs()
                } else {
                    0.1 + v.abs()
                };
            }
        }
    }
    Tensor::from_vec(values, shape).unwrap()
}

fn check(name: &str, f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    let opts = GradcheckOptions::default();
    let first = gradcheck(&f, inputs, opts).unwrap();
    assert!(first.passed(), "{name}: first order\n{first}");
    let second = gradgradcheck(&f, inputs, opts).unwrap();
    assert!(second.passed(), "{name}: second order\n{second}");
}

/// Broadcast-compatible shape pairs, including scalars, size-1 dims and
/// empty dims.
const PAIRS: &[(&[usize], &[usize])] = &[
    (&[3], &[3]),
    (&[2, 3], &[3]),
    (&[2, 1, 3], &[4, 1]),
    (&[], &[2, 2]),
    (&[1], &[3, 1]),
    (&[0, 3], &[1, 3]),
    (&[2, 0], &[2, 1]),
];

#[test]
fn binary_ops_with_broadcasting() {
    for (i, (sa, sb)) in PAIRS.iter().enumerate() {
        let a = input(sa, -2.0, 2.0, 10 + i as u64, true);
        let b = input(sb, -2.0, 2.0, 20 + i as u64, true);
        let pair = [a.clone(), b.clone()];
        check("add", |x| x[0].try_add(&x[1]), &pair);
        check("sub", |x| x[0].try_sub(&x[1]), &pair);
        check("mul", |x| x[0].try_mul(&x[1]), &pair);
        check("div", |x| x[0].try_div(&x[1]), &pair);
        check("maximum", |x| x[0].try_maximum(&x[1]), &pair);
        check("minimum", |x| x[0].try_minimum(&x[1]), &pair);
        let base = input(sa, 0.5, 2.0, 30 + i as u64, false);
        check("pow", |x| x[0].try_pow(&x[1]), &[base, b]);
    }
}

#[test]
fn binary_ops_on_non_contiguous_inputs() {
    let a = input(&[3, 2], -2.0, 2.0, 1, true);
    let b = input(&[2, 3], -2.0, 2.0, 2, true);
    check(
        "mul of a transpose",
        |x| x[0].try_transpose(0, 1)?.try_mul(&x[1]),
        &[a.clone(), b.clone()],
    );
    let c = input(&[2, 3, 4], -2.0, 2.0, 3, true);
    check(
        "div of a permute",
        |x| {
            x[0].try_permute(&[2, 0, 1])?
                .try_div(&x[1].try_add_scalar(3.0)?)
        },
        &[c, input(&[4, 1, 3], 0.5, 1.0, 4, false)],
    );
}

#[test]
fn maximum_splits_ties_evenly() {
    let a = Tensor::new([1.0f64, 2.0, 3.0]).requires_grad_(true);
    let b = Tensor::new([1.0f64, 5.0, 0.0]).requires_grad_(true);
    a.maximum(&b).sum().backward();
    assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![0.5, 0.0, 1.0]);
    assert_eq!(b.grad().unwrap().to_vec::<f64>(), vec![0.5, 1.0, 0.0]);
}

#[test]
fn pow_gradient_limits_match_pytorch() {
    // d/db a^b at a = 0, b >= 0 is taken as 0 (not 0·(−inf) = NaN).
    let a = Tensor::new([0.0f64, 2.0]).requires_grad_(true);
    let b = Tensor::new([2.0f64, 3.0]).requires_grad_(true);
    a.pow(&b).sum().backward();
    let gb = b.grad().unwrap().to_vec::<f64>();
    assert_eq!(gb[0], 0.0);
    assert!((gb[1] - 8.0 * 2f64.ln()).abs() < 1e-12);
    assert_eq!(a.grad().unwrap().to_vec::<f64>(), vec![0.0, 12.0]);
}

#[test]
fn unary_ops() {
    let shapes: &[&[usize]] = &[&[5], &[2, 3], &[1, 4, 1], &[0, 2], &[]];
    for (i, shape) in shapes.iter().enumerate() {
        let s = i as u64;
        let any = input(shape, -3.0, 3.0, 100 + s, true);
        let pos = input(shape, 0.2, 3.0, 200 + s, false);
        check("neg", |x| x[0].try_neg(), std::slice::from_ref(&any));
        check("exp", |x| x[0].try_exp(), std::slice::from_ref(&any));
        check("log", |x| x[0].try_log(), std::slice::from_ref(&pos));
        check("sqrt", |x| x[0].try_sqrt(), std::slice::from_ref(&pos));
        check("abs", |x| x[0].try_abs(), std::slice::from_ref(&any));
        check("square", |x| x[0].try_square(), std::slice::from_ref(&any));
        check("relu", |x| x[0].try_relu(), std::slice::from_ref(&any));
        check(
            "leaky_relu",
            |x| x[0].try_leaky_relu(0.1),
            std::slice::from_ref(&any),
        );
        check(
            "sigmoid",
            |x| x[0].try_sigmoid(),
            std::slice::from_ref(&any),
        );
        check("tanh", |x| x[0].try_tanh(), std::slice::from_ref(&any));
        check(
            "softplus",
            |x| x[0].try_softplus(),
            std::slice::from_ref(&any),
        );
        check(
            "softplus beta=2 threshold=1",
            |x| x[0].try_softplus_with(2.0, 1.0),
            std::slice::from_ref(&any),
        );
        check("gelu", |x| x[0].try_gelu(), std::slice::from_ref(&any));
        check(
            "clamp",
            |x| x[0].try_clamp(-1.05, 1.05),
            std::slice::from_ref(&any),
        );
    }
}

#[test]
fn unary_ops_on_a_transposed_input() {
    let x = input(&[3, 4], -2.0, 2.0, 7, true);
    check(
        "tanh(xᵀ)",
        |x| x[0].try_transpose(0, 1)?.try_tanh(),
        std::slice::from_ref(&x),
    );
    check(
        "gelu(xᵀ)·xᵀ",
        |x| {
            let t = x[0].try_transpose(0, 1)?;
            t.try_gelu()?.try_mul(&t)
        },
        std::slice::from_ref(&x),
    );
}

#[test]
fn scalar_ops() {
    let x = input(&[2, 3], -2.0, 2.0, 5, true);
    let xs = std::slice::from_ref(&x);
    check("add_scalar", |x| x[0].try_add_scalar(1.5), xs);
    check("sub_scalar", |x| x[0].try_sub_scalar(1.5), xs);
    check("mul_scalar", |x| x[0].try_mul_scalar(-2.5), xs);
    check("div_scalar", |x| x[0].try_div_scalar(4.0), xs);
    check("rsub_scalar", |x| x[0].try_rsub_scalar(4.0), xs);
    check("rdiv_scalar", |x| x[0].try_rdiv_scalar(4.0), xs);
    check("affine", |x| x[0].try_affine(0.5, -1.0), xs);
    let pos = input(&[2, 3], 0.3, 2.0, 6, false);
    let ps = std::slice::from_ref(&pos);
    for p in [0.0, 1.0, 2.0, 3.0, -1.0, 0.5, 2.7, -1.3] {
        check("powf", move |x| x[0].try_powf(p), ps);
    }
}

#[test]
fn where_and_masked_fill() {
    let cond = Tensor::new([[1.0f64, 0.0, 1.0], [0.0, 0.0, 1.0]]);
    let a = input(&[2, 3], -2.0, 2.0, 8, false);
    let b = input(&[3], -2.0, 2.0, 9, false);
    let c2 = cond.clone();
    check(
        "where",
        move |x| Tensor::try_where_(&c2, &x[0], &x[1]),
        &[a.clone(), b],
    );
    let mask = Tensor::new([0.0f64, 1.0, 0.0]);
    check(
        "masked_fill",
        move |x| x[0].try_masked_fill(&mask, -7.0),
        std::slice::from_ref(&a),
    );
}

#[test]
fn view_ops() {
    let x = input(&[2, 3, 4], -2.0, 2.0, 11, false);
    let xs = std::slice::from_ref(&x);
    // Each view is followed by a non-linear op so that a wrong index mapping
    // shows up in the Jacobian.
    check("reshape", |x| x[0].try_reshape([4, -1])?.try_tanh(), xs);
    check("transpose", |x| x[0].try_transpose(0, 2)?.try_square(), xs);
    check(
        "permute",
        |x| x[0].try_permute(&[1, 2, 0])?.try_sigmoid(),
        xs,
    );
    check("flatten", |x| x[0].try_flatten(1, 2)?.try_exp(), xs);
    check("unsqueeze", |x| x[0].try_unsqueeze(1)?.try_square(), xs);
    check(
        "reshape of transpose",
        |x| x[0].try_transpose(1, 2)?.try_reshape([6, 4])?.try_tanh(),
        xs,
    );
    let y = input(&[3, 1, 2], -2.0, 2.0, 12, false);
    check(
        "squeeze",
        |x| x[0].try_squeeze(1)?.try_square(),
        std::slice::from_ref(&y),
    );
    check(
        "squeeze_all",
        |x| Ok(x[0].squeeze_all().square()),
        std::slice::from_ref(&y),
    );
    check(
        "expand",
        |x| x[0].try_expand([4, 3, 5, 2])?.try_tanh(),
        std::slice::from_ref(&y),
    );
}

#[test]
fn sums_and_means() {
    let x = input(&[2, 3, 4], -2.0, 2.0, 13, false);
    let xs = std::slice::from_ref(&x);
    check("sum", |x| x[0].try_square()?.try_sum(), xs);
    check(
        "sum dim 0",
        |x| x[0].try_square()?.try_sum_dims(&[0], false),
        xs,
    );
    check(
        "sum dims 0,2 keepdim",
        |x| x[0].try_square()?.try_sum_dims(&[0, 2], true),
        xs,
    );
    check(
        "sum dim -1 of transpose",
        |x| {
            x[0].try_transpose(0, 2)?
                .try_square()?
                .try_sum_dim(-1, false)
        },
        xs,
    );
    check("mean", |x| x[0].try_square()?.try_mean(), xs);
    check(
        "mean dim 1",
        |x| x[0].try_square()?.try_mean_dim(1, true),
        xs,
    );
    let empty = input(&[0, 3], -1.0, 1.0, 14, false);
    check(
        "sum over an empty dim",
        |x| x[0].try_sum_dim(0, false),
        std::slice::from_ref(&empty),
    );
    check("sum_to", |x| x[0].try_square()?.try_sum_to([3, 1]), xs);
}

#[test]
fn to_dtype_round_trips_the_gradient() {
    // Through float32 the finite differences need a large step; central
    // differences are exact for a quadratic, so only f32 rounding remains.
    let x = input(&[3], -1.0, 1.0, 15, false);
    let opts = GradcheckOptions {
        eps: 1e-2,
        atol: 1e-4,
        rtol: 1e-4,
    };
    let f = |x: &[Tensor]| {
        x[0].try_to_dtype(DType::F32)?
            .try_square()?
            .try_to_dtype(DType::F64)
    };
    let report = gradcheck(f, std::slice::from_ref(&x), opts).unwrap();
    assert!(report.passed(), "{report}");
}

#[test]
fn sum_and_mean_values() {
    let x = Tensor::new([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(x.sum().item::<f32>(), 21.0);
    assert_eq!(x.mean().item::<f32>(), 3.5);
    assert_eq!(x.sum_dim(1, false).to_vec::<f32>(), vec![6.0, 15.0]);
    assert_eq!(x.mean_dims(&[0], true).to_vec::<f32>(), vec![2.5, 3.5, 4.5]);
    assert_eq!(x.mean_dims(&[0], true).dims(), &[1, 3]);
    assert!(
        Tensor::zeros([0]).mean().item::<f32>().is_nan(),
        "PyTorch: mean of empty is nan"
    );
}

#[test]
fn activation_values() {
    let x = Tensor::new([-1e4f64, -1.0, 0.0, 1.0, 1e4]);
    let sig = x.sigmoid().to_vec::<f64>();
    assert_eq!(sig[0], 0.0);
    assert_eq!(sig[4], 1.0);
    assert!((sig[1] - 1.0 / (1.0 + 1f64.exp())).abs() < 1e-16);
    let sp = x.softplus().to_vec::<f64>();
    assert_eq!(sp[0], 0.0);
    assert_eq!(sp[4], 1e4);
    assert!((sp[3] - (1.0 + 1f64.exp()).ln()).abs() < 1e-15);
    let gelu = Tensor::new([1.0f64]).gelu().item::<f64>();
    // x·Φ(x) at 1 = 0.8413447460685429
    assert!((gelu - 0.841_344_746_068_542_9).abs() < 1e-15);
    let relu = Tensor::new([-2.0f32, 0.0, 3.0]).relu().to_vec::<f32>();
    assert_eq!(relu, vec![0.0, 0.0, 3.0]);
}

#[test]
fn argument_errors_name_the_problem() {
    let x = Tensor::zeros([2, 3]);
    let e = x.try_clamp(1.0, -1.0).unwrap_err();
    assert!(e.to_string().starts_with("clamp: need min <= max"), "{e}");
    let e = x.try_mul_scalar(f64::NAN).unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    let e = x.try_reshape([4, -1]).unwrap_err();
    assert!(e.to_string().contains("reshape"), "{e}");
    let e = x.try_permute(&[0, 0]).unwrap_err();
    assert!(e.to_string().contains("appears more than once"), "{e}");
    let e = x.try_transpose(0, 2).unwrap_err();
    assert_eq!(
        e.to_string(),
        "transpose: dim 2 is out of range for a tensor of rank 2 (expected a dim in -2..=1)"
    );
    let e = x.try_expand([3, 3]).unwrap_err();
    assert!(e.to_string().contains("[2, 3] and [3, 3]"), "{e}");
    let e = Tensor::from_vec(vec![1.0f32; 5], [2, 3]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "from_vec: 5 values cannot fill shape [2, 3] (6 elements)"
    );
}
