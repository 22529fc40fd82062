//! `matmul`, `mm`, `bmm`: values against an independent f64 triple loop,
//! non-contiguous operands, gradients (first and second order), errors.

use tapegrad::{gradcheck, gradgradcheck, seeded_rng, DType, Error, GradcheckOptions, Tensor};

/// torch.matmul written out by hand: lift vectors to a row / column,
/// broadcast the batch dims by index arithmetic, triple loop in f64.
/// Returns the output shape and values.
fn reference(a: &Tensor, b: &Tensor) -> (Vec<usize>, Vec<f64>) {
    let (ad, bd) = (a.dims().to_vec(), b.dims().to_vec());
    let (av, bv) = (a.to_vec::<f64>(), b.to_vec::<f64>());
    let a2 = if ad.len() == 1 {
        vec![1, ad[0]]
    } else {
        ad.clone()
    };
    let b2 = if bd.len() == 1 {
        vec![bd[0], 1]
    } else {
        bd.clone()
    };
    let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    assert_eq!(k, k2, "reference: inner dims");
    let rank = (a2.len() - 2).max(b2.len() - 2);
    let pad = |batch: &[usize]| {
        let mut p = vec![1; rank - batch.len()];
        p.extend_from_slice(batch);
        p
    };
    let (ab, bb) = (pad(&a2[..a2.len() - 2]), pad(&b2[..b2.len() - 2]));
    let batch: Vec<usize> = ab
        .iter()
        .zip(&bb)
        .map(|(&x, &y)| if x == 1 { y } else { x })
        .collect();
    let count: usize = batch.iter().product();
    let mut out = vec![0.0; count * m * n];
    for t in 0..count {
        // Unravel t into a batch index, then ravel it into each operand.
        let mut rest = t;
        let mut idx = vec![0; rank];
        for d in (0..rank).rev() {
            idx[d] = rest % batch[d];
            rest /= batch[d];
        }
        let ravel = |dims: &[usize]| {
            idx.iter()
                .zip(dims)
                .fold(0, |acc, (&i, &s)| acc * s + if s == 1 { 0 } else { i })
        };
        let (ta, tb) = (ravel(&ab), ravel(&bb));
        for i in 0..m {
            for p in 0..k {
                for j in 0..n {
                    out[t * m * n + i * n + j] +=
                        av[ta * m * k + i * k + p] * bv[tb * k * n + p * n + j];
                }
            }
        }
    }
    let mut shape = batch;
    if ad.len() >= 2 {
        shape.push(m);
    }
    if bd.len() >= 2 {
        shape.push(n);
    }
    (shape, out)
}

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_dtype(shape, DType::F64, &mut seeded_rng(seed))
}

#[track_caller]
fn assert_matches_reference(a: &Tensor, b: &Tensor) {
    let (shape, want) = reference(a, b);
    let got = a.matmul(b);
    assert_eq!(
        got.dims(),
        shape.as_slice(),
        "{:?}·{:?}",
        a.dims(),
        b.dims()
    );
    let got = got.to_vec::<f64>();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
            "{:?}·{:?} element {i}: got {g}, want {w}",
            a.dims(),
            b.dims()
        );
    }
}

const RANK_CASES: &[(&[usize], &[usize], &[usize])] = &[
    (&[4], &[4], &[]),                             // 1·1: dot
    (&[3], &[3, 5], &[5]),                         // 1·2
    (&[2, 3], &[3], &[2]),                         // 2·1
    (&[2, 3], &[3, 4], &[2, 4]),                   // 2·2
    (&[3], &[2, 3, 4], &[2, 4]),                   // 1·3
    (&[2, 3, 4], &[4], &[2, 3]),                   // 3·1
    (&[2, 3, 4], &[2, 4, 5], &[2, 3, 5]),          // 3·3
    (&[2, 1, 3, 4], &[5, 4, 6], &[2, 5, 3, 6]),    // 4·3 broadcast
    (&[2, 3, 4], &[4, 5], &[2, 3, 5]),             // 3·2 (batch folded into rows)
    (&[3, 1, 4], &[4, 5], &[3, 1, 5]),             // 3·2 with one row per batch
    (&[3, 4], &[2, 4, 5], &[2, 3, 5]),             // 2·3
    (&[1, 1], &[1, 1], &[1, 1]),                   // all size 1
    (&[1, 3, 1], &[2, 1, 4], &[2, 3, 4]),          // k = 1, batch 1 vs 2
    (&[2, 1, 1, 3], &[1, 4, 3, 2], &[2, 4, 1, 2]), // both sides broadcast
];

const EMPTY_CASES: &[(&[usize], &[usize], &[usize])] = &[
    (&[0, 3], &[3, 4], &[0, 4]),
    (&[2, 0], &[0, 3], &[2, 3]), // empty inner dim: zeros
    (&[0], &[0], &[]),           // empty dot: 0
    (&[2, 3], &[3, 0], &[2, 0]),
    (&[0, 2, 3], &[3, 4], &[0, 2, 4]),
    (&[0, 1, 2, 3], &[5, 3, 2], &[0, 5, 2, 2]),
    (&[4, 2, 0], &[4, 0, 3], &[4, 2, 3]),
];

#[test]
fn every_rank_combination_matches_the_triple_loop() {
    for (i, &(sa, sb, out)) in RANK_CASES.iter().enumerate() {
        let (a, b) = (randn(sa, 10 + i as u64), randn(sb, 100 + i as u64));
        assert_eq!(a.matmul(&b).dims(), out, "{sa:?}·{sb:?}");
        assert_matches_reference(&a, &b);
    }
}

#[test]
fn empty_dims_give_empty_or_zero_results() {
    for (i, &(sa, sb, out)) in EMPTY_CASES.iter().enumerate() {
        let (a, b) = (randn(sa, 20 + i as u64), randn(sb, 200 + i as u64));
        let c = a.matmul(&b);
        assert_eq!(c.dims(), out, "{sa:?}·{sb:?}");
        assert!(c.to_vec::<f64>().iter().all(|&v| v == 0.0));
        assert_matches_reference(&a, &b);
    }
}

#[test]
fn hand_computed_products() {
    let a = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]);
    let b = Tensor::new([[5.0f32, 6.0], [7.0, 8.0]]);
    assert_eq!(a.matmul(&b).to_vec::<f32>(), vec![19.0, 22.0, 43.0, 50.0]);
    let v = Tensor::new([1.0f32, 2.0, 3.0]);
    let d = v.matmul(&v);
    assert_eq!(d.dims(), &[] as &[usize]);
    assert_eq!(d.item::<f32>(), 14.0);
    // [2,1,2] · [2] → [2,1]
    let batch = Tensor::new([[[1.0f64, 2.0]], [[3.0, 4.0]]]);
    let c = batch.matmul(&Tensor::new([10.0f64, 1.0]));
    assert_eq!(c.dims(), &[2, 1]);
    assert_eq!(c.to_vec::<f64>(), vec![12.0, 34.0]);
}

#[test]
fn non_contiguous_operands_are_read_correctly() {
    // Transposed weight, as in a linear layer: x · wᵀ.
    let x = randn(&[5, 3], 1);
    let w = randn(&[4, 3], 2);
    let wt = w.t();
    assert!(!wt.is_contiguous());
    assert_matches_reference(&x, &wt);
    assert_matches_reference(&wt.t(), &x.t());
    // Permuted batch: [4,2,5] viewed as [2,4,5].
    let b = randn(&[4, 2, 5], 3).permute(&[1, 0, 2]);
    let a = randn(&[2, 3, 4], 4);
    assert_matches_reference(&a, &b);
    // Matrices transposed inside a batch, and a batch that cannot be folded.
    let a = randn(&[2, 4, 3], 5).transpose(1, 2);
    assert_matches_reference(&a, &randn(&[4, 6], 6));
    let a = randn(&[3, 2, 4], 7).transpose(0, 1);
    assert_matches_reference(&a, &randn(&[4, 6], 8));
    // One row per batch, where the size-1 row dim has an unusual stride.
    let a = randn(&[1, 3, 4], 17).permute(&[1, 0, 2]);
    assert_eq!(a.strides(), &[4, 12, 1]);
    assert_matches_reference(&a, &randn(&[4, 5], 18));
    // An expanded (stride-0) batch and an expanded row.
    let a = randn(&[1, 3, 4], 9).expand(&[5, 3, 4]);
    assert_matches_reference(&a, &randn(&[5, 4, 2], 10));
    let a = randn(&[1, 4], 11).expand(&[3, 4]);
    assert_matches_reference(&a, &randn(&[4, 2], 12));
    // Stride-0 (expanded) vectors on either side.
    let v = randn(&[1], 13).expand(&[4]);
    assert_matches_reference(&randn(&[2, 3, 4], 14), &v);
    let v = randn(&[1], 15).expand(&[3]);
    assert_matches_reference(&v, &randn(&[2, 3], 16).t().expand(&[2, 3, 2]));
    // Both operands the same storage.
    assert_matches_reference(&x, &x.t());
}

#[test]
fn f32_and_f64_agree() {
    let a = randn(&[2, 1, 16, 32], 30);
    let b = randn(&[3, 32, 8], 31);
    let want = a.matmul(&b).to_vec::<f64>();
    let (a32, b32) = (a.to_dtype(DType::F32), b.to_dtype(DType::F32));
    let c = a32.matmul(&b32);
    assert_eq!(c.dtype(), DType::F32);
    for (g, w) in c.to_vec::<f64>().iter().zip(&want) {
        assert!(
            (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
            "f32 {g} vs f64 {w}"
        );
    }
}

fn opts() -> GradcheckOptions {
    GradcheckOptions::default()
}

#[test]
fn gradcheck_over_rank_cases_and_empty_dims() {
    let cases = RANK_CASES
        .iter()
        .chain(&EMPTY_CASES[..2])
        .chain(&EMPTY_CASES[4..5]);
    for (i, &(sa, sb, _)) in cases.enumerate() {
        let inputs = [randn(sa, 40 + i as u64), randn(sb, 400 + i as u64)];
        let report = gradcheck(|x| x[0].try_matmul(&x[1]), &inputs, opts()).unwrap();
        assert!(report.passed(), "{sa:?}·{sb:?}\n{report}");
    }
}

#[test]
fn gradcheck_with_non_contiguous_inputs() {
    // x · wᵀ with w stored [out, in], as in a linear layer.
    let inputs = [randn(&[5, 3], 50), randn(&[4, 3], 51)];
    let report = gradcheck(|x| x[0].try_matmul(&x[1].try_t()?), &inputs, opts()).unwrap();
    assert!(report.passed(), "{report}");
    // Permuted batch on the right, transposed matrices on the left.
    let inputs = [randn(&[2, 4, 3], 52), randn(&[4, 2, 5], 53)];
    let report = gradcheck(
        |x| {
            x[0].try_transpose(1, 2)?
                .try_matmul(&x[1].try_permute(&[1, 0, 2])?)
        },
        &inputs,
        opts(),
    )
    .unwrap();
    assert!(report.passed(), "{report}");
    // An expanded batch: its gradient is summed back.
    let inputs = [randn(&[1, 3, 4], 54), randn(&[5, 4, 2], 55)];
    let report = gradcheck(
        |x| x[0].try_expand([5, 3, 4])?.try_matmul(&x[1]),
        &inputs,
        opts(),
    )
    .unwrap();
    assert!(report.passed(), "{report}");
}

#[test]
fn gradgradcheck_on_several_shapes() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[3], &[3]),
        (&[2, 3], &[3]),
        (&[3], &[3, 2]),
        (&[2, 3], &[3, 4]),
        (&[2, 1, 2, 3], &[3, 3, 2]),
        (&[2, 2, 3], &[3, 2]),
    ];
    for (i, &(sa, sb)) in cases.iter().enumerate() {
        let inputs = [randn(sa, 60 + i as u64), randn(sb, 600 + i as u64)];
        let report = gradgradcheck(|x| x[0].try_matmul(&x[1]), &inputs, opts()).unwrap();
        assert!(report.passed(), "{sa:?}·{sb:?}\n{report}");
    }
    // Second order through a transposed operand and a nonlinearity.
    let inputs = [randn(&[3, 2], 70), randn(&[4, 2], 71)];
    let report = gradgradcheck(
        |x| x[0].try_matmul(&x[1].try_t()?)?.try_tanh(),
        &inputs,
        opts(),
    )
    .unwrap();
    assert!(report.passed(), "{report}");
}

#[test]
fn gradients_by_hand_and_constant_data_gets_none() {
    // loss = Σ (x · w): d/dw[p, j] = Σ_i x[i, p], d/dx[i, p] = Σ_j w[p, j].
    let x = Tensor::new([[1.0f64, 2.0], [3.0, 4.0], [5.0, 6.0]]); // data: no grad
    let w = Tensor::new([[1.0f64, -1.0, 0.5], [2.0, 0.0, -2.0]]).requires_grad_(true);
    x.matmul(&w).sum().backward();
    assert_eq!(
        w.grad().unwrap().to_vec::<f64>(),
        vec![9.0, 9.0, 9.0, 12.0, 12.0, 12.0]
    );
    assert!(x.grad().is_none());

    let x = x.requires_grad_(true);
    let w = w.detach();
    x.matmul(&w).sum().backward();
    assert_eq!(
        x.grad().unwrap().to_vec::<f64>(),
        vec![0.5, 0.0, 0.5, 0.0, 0.5, 0.0]
    );
}

#[test]
fn mm_and_bmm_match_matmul_and_check_ranks() {
    let (a, b) = (randn(&[3, 4], 80), randn(&[4, 2], 81));
    assert_eq!(a.mm(&b).to_vec::<f64>(), a.matmul(&b).to_vec::<f64>());
    let (a, b) = (randn(&[2, 3, 4], 82), randn(&[2, 4, 5], 83));
    assert_eq!(a.bmm(&b).dims(), &[2, 3, 5]);
    assert_matches_reference(&a, &b);
    assert_eq!(a.bmm(&b).to_vec::<f64>(), a.matmul(&b).to_vec::<f64>());
    let inputs = [randn(&[2, 3, 4], 84), randn(&[2, 4, 5], 85)];
    let report = gradcheck(|x| x[0].try_bmm(&x[1]), &inputs, opts()).unwrap();
    assert!(report.passed(), "{report}");

    let err = randn(&[2, 3, 4], 0).try_mm(&randn(&[4, 5], 0)).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { op: "mm", .. }));
    assert_eq!(
        err.to_string(),
        "mm: both operands must be 2-D matrices (got [2, 3, 4] and [4, 5])"
    );
    let err = randn(&[3], 0).try_mm(&randn(&[3, 2], 0)).unwrap_err();
    assert!(err.to_string().contains("2-D"), "{err}");
    let err = randn(&[3, 4], 0)
        .try_bmm(&randn(&[3, 4, 5], 0))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("bmm: both operands must be 3-D"),
        "{err}"
    );
    // bmm does not broadcast.
    let err = randn(&[1, 3, 4], 0)
        .try_bmm(&randn(&[2, 4, 5], 0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bmm: the batch sizes must be equal (got [1, 3, 4] and [2, 4, 5])"
    );
    let err = randn(&[2, 3, 4], 0)
        .try_bmm(&randn(&[2, 5, 5], 0))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("bmm: the inner dims must agree"),
        "{err}"
    );
}

#[test]
fn shape_errors_name_the_op_and_both_shapes() {
    let err = randn(&[2, 3], 0)
        .try_matmul(&randn(&[4, 5], 0))
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { op: "matmul", .. }));
    assert_eq!(
        err.to_string(),
        "matmul: the inner dims must agree (3 columns on the left, 4 rows on the right) \
         (got [2, 3] and [4, 5])"
    );
    let err = randn(&[3], 0).try_matmul(&randn(&[4], 0)).unwrap_err();
    assert!(err.to_string().contains("(got [3] and [4])"), "{err}");

    let err = Tensor::scalar(2.0f64)
        .try_matmul(&randn(&[3], 0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "matmul: both operands must have at least 1 dim (got [] and [3])"
    );
    let err = randn(&[3], 0)
        .try_matmul(&Tensor::scalar(2.0f64))
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");

    let err = randn(&[2, 3, 4], 0)
        .try_matmul(&randn(&[3, 4, 5], 0))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "matmul: the batch dims [2] and [3] cannot be broadcast together \
         (got [2, 3, 4] and [3, 4, 5])"
    );

    let err = randn(&[2, 3], 0)
        .try_matmul(&randn(&[3, 2], 0).to_dtype(DType::F32))
        .unwrap_err();
    assert!(matches!(err, Error::DTypeMismatch { op: "matmul", .. }));
}

#[test]
#[should_panic(expected = "matmul: the inner dims must agree")]
fn panicking_form_reports_the_same_message() {
    let _ = randn(&[2, 3], 0).matmul(&randn(&[2, 3], 0));
}
