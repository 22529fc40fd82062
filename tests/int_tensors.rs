//! int64 tensors (PyTorch's `long`): creation, reading, conversion,
//! arithmetic, every place that takes indices, the ops that return them,
//! checkpoints and printing; and the errors for what ints cannot do.
//! Expected values are written out by hand from PyTorch's documented
//! semantics.

use tapegrad::nn::functional::{self as F, CrossEntropyOptions, NllLossOptions};
use tapegrad::{checkpoint, DType, Tensor};

#[test]
fn integers_make_int64_tensors() {
    let t = Tensor::new([[0, 1], [2, 3]]);
    assert_eq!(t.dtype(), DType::I64);
    assert_eq!(t.dims(), &[2, 2]);
    assert_eq!(t.to_vec::<i64>(), vec![0, 1, 2, 3]);
    assert_eq!(Tensor::new(7usize).item::<i64>(), 7);
    let from_vec = Tensor::from_vec(vec![5i64, -6], [2usize]).unwrap();
    assert_eq!(from_vec.to_vec::<i64>(), vec![5, -6]);
    let positions = Tensor::from([3usize, 1].as_slice());
    assert_eq!(positions.to_vec::<i64>(), vec![3, 1]);
    let r = Tensor::arange_dtype(0.0, 5.0, 2.0, DType::I64).unwrap();
    assert_eq!(r.to_vec::<i64>(), vec![0, 2, 4]);
    assert_eq!(Tensor::zeros_like(&r).to_vec::<i64>(), vec![0, 0, 0]);
    // Reading as floats converts, as `.tolist()` then `float()` would.
    assert_eq!(r.to_vec::<f32>(), vec![0.0, 2.0, 4.0]);
    // Values past 2^53 survive exactly (no trip through f64).
    let big = Tensor::new([i64::MAX, i64::MIN + 1]);
    assert_eq!(big.to_vec::<i64>(), vec![i64::MAX, i64::MIN + 1]);
}

#[test]
fn conversion_truncates_toward_zero_and_refuses_what_has_no_int() {
    let x = Tensor::new([2.9f64, -2.9, 0.4, -0.0]);
    assert_eq!(x.to_dtype(DType::I64).to_vec::<i64>(), vec![2, -2, 0, 0]);
    let back = Tensor::new([3, -4]).to_dtype(DType::F32);
    assert_eq!(back.dtype(), DType::F32);
    assert_eq!(back.to_vec::<f32>(), vec![3.0, -4.0]);
    for bad in [f64::NAN, f64::INFINITY, 1e19, -1e19] {
        let err = Tensor::new([bad]).try_to_dtype(DType::I64).unwrap_err();
        assert!(err.to_string().starts_with("to_dtype"), "{err}");
    }
    // A conversion to or from int64 is not differentiable: no graph.
    let w = Tensor::new([1.5f32]).requires_grad_(true);
    assert!(!w.to_dtype(DType::I64).requires_grad());
}

#[test]
fn integer_tensors_never_require_grad() {
    let err = Tensor::new([1, 2]).try_requires_grad_(true).unwrap_err();
    assert!(err.to_string().contains("int64"), "{err}");
    assert!(Tensor::new([1, 2]).try_requires_grad_(false).is_ok());
}

#[test]
fn arithmetic_and_comparisons_among_integers() {
    let a = Tensor::new([[1, -2], [3, 4]]);
    let b = Tensor::new([10, 20]); // broadcasts over rows
    assert_eq!((&a + &b).to_vec::<i64>(), vec![11, 18, 13, 24]);
    assert_eq!((&a - &b).to_vec::<i64>(), vec![-9, -22, -7, -16]);
    assert_eq!((&a * &b).to_vec::<i64>(), vec![10, -40, 30, 80]);
    assert_eq!(a.maximum(&Tensor::new(0)).to_vec::<i64>(), vec![1, 0, 3, 4]);
    assert_eq!(
        a.minimum(&Tensor::new(0)).to_vec::<i64>(),
        vec![0, -2, 0, 0]
    );
    // Wrapping, as PyTorch's int64 arithmetic.
    let max = Tensor::new([i64::MAX]);
    assert_eq!((&max + &Tensor::new([1])).to_vec::<i64>(), vec![i64::MIN]);
    // Comparisons give 0/1 masks of the operands' dtype.
    let m = a.gt(&Tensor::new([2, -3]));
    assert_eq!(m.dtype(), DType::I64);
    assert_eq!(m.to_vec::<i64>(), vec![0, 1, 1, 1]);
    // A scalar is compared as given: 0.5 is not truncated to 0.
    assert_eq!(
        Tensor::new([0, 1]).gt_scalar(0.5).to_vec::<i64>(),
        vec![0, 1]
    );
    assert_eq!(
        Tensor::new([0, 1]).eq_scalar(0.5).to_vec::<i64>(),
        vec![0, 0]
    );
    // where_ with a float mask of fractional values: non-zero is true.
    let picked = Tensor::where_(
        &Tensor::new([0.5f32, 0.0]),
        &Tensor::new([1, 2]),
        &Tensor::new([7, 8]),
    );
    assert_eq!(picked.to_vec::<i64>(), vec![1, 8]);
}

#[test]
fn moving_ints_around_keeps_them_ints() {
    let a = Tensor::new([[1, 2, 3], [4, 5, 6]]);
    let c = Tensor::cat(&[&a, &a], 0);
    assert_eq!(c.dtype(), DType::I64);
    assert_eq!(c.dims(), &[4, 3]);
    let s = Tensor::stack(&[&a, &a], 0);
    assert_eq!(s.dims(), &[2, 2, 3]);
    assert_eq!(a.t().contiguous().to_vec::<i64>(), vec![1, 4, 2, 5, 3, 6]);
    assert_eq!(
        a.t().reshape([6i32]).to_vec::<i64>(),
        vec![1, 4, 2, 5, 3, 6]
    );
    assert_eq!(a.narrow(1, 1, 1).to_vec::<i64>(), vec![2, 5]);
    assert_eq!(
        a.pad_dim(0, 1, 0).to_vec::<i64>(),
        vec![0, 0, 0, 1, 2, 3, 4, 5, 6]
    );
    let idx = Tensor::new([2, 0]);
    assert_eq!(a.index_select(1, &idx).to_vec::<i64>(), vec![3, 1, 6, 4]);
    assert_eq!(
        a.gather(1, &Tensor::new([[2], [1]])).to_vec::<i64>(),
        vec![3, 5]
    );
    let oh = Tensor::new([2, 0]).one_hot(3);
    assert_eq!(oh.dtype(), DType::I64);
    assert_eq!(oh.to_vec::<i64>(), vec![0, 0, 1, 1, 0, 0]);
}

#[test]
fn every_index_consumer_takes_int64() {
    let x = Tensor::new([[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]]).requires_grad_(true);
    let idx = Tensor::new([2, 2, 0]);
    let y = x.index_select(1, &idx);
    assert_eq!(y.to_vec::<f64>(), vec![3.0, 3.0, 1.0, 6.0, 6.0, 4.0]);
    y.sum().backward();
    assert_eq!(
        x.grad().unwrap().to_vec::<f64>(),
        vec![1.0, 0.0, 2.0, 1.0, 0.0, 2.0]
    );

    let g = x.gather(1, &Tensor::new([[0, 0], [2, 1]]));
    assert_eq!(g.to_vec::<f64>(), vec![1.0, 1.0, 6.0, 5.0]);
    let z = Tensor::zeros_like(&x).double();
    let s = z.scatter_add(1, &Tensor::new([[1], [1]]), &Tensor::new([[7.0f64], [8.0]]));
    assert_eq!(s.to_vec::<f64>(), vec![0.0, 7.0, 0.0, 0.0, 8.0, 0.0]);
    let a = z.index_add(0, &Tensor::new([1]), &Tensor::new([[1.0f64, 1.0, 1.0]]));
    assert_eq!(a.to_vec::<f64>(), vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);

    // An out-of-range id names the value, its position and the size.
    let err = x
        .try_index_select(1, &Tensor::new([0, 3]))
        .unwrap_err()
        .to_string();
    assert!(err.contains('3') && err.contains("size 3"), "{err}");
    let err = x
        .try_index_select(1, &Tensor::new([-1]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("-1"), "{err}");
}

#[test]
fn int64_targets_are_class_ids() {
    let logits = Tensor::new([[2.0f64, 0.5, -1.0], [0.1, 0.2, 0.3]]);
    let ids = Tensor::new([0, 2]);
    let float_ids = Tensor::new([0.0f64, 2.0]);
    let a = F::cross_entropy(&logits, &ids).unwrap().item::<f64>();
    let b = F::cross_entropy(&logits, &float_ids).unwrap().item::<f64>();
    assert_eq!(a, b, "float class ids stay accepted and agree");
    // By hand: mean of −log softmax at the true ids.
    let lse = |r: [f64; 3]| r.iter().map(|v| v.exp()).sum::<f64>().ln();
    let want = ((lse([2.0, 0.5, -1.0]) - 2.0) + (lse([0.1, 0.2, 0.3]) - 0.3)) / 2.0;
    assert!((a - want).abs() < 1e-12, "{a} vs {want}");
    // ignore_index with int64 ids.
    let opts = CrossEntropyOptions::default().ignore_index(2);
    let one = F::cross_entropy_with(&logits, &ids, &opts)
        .unwrap()
        .item::<f64>();
    assert!((one - (lse([2.0, 0.5, -1.0]) - 2.0)).abs() < 1e-12);
    let nll = F::nll_loss_with(&logits.log_softmax(1), &ids, &NllLossOptions::default())
        .unwrap()
        .item::<f64>();
    assert!((nll - want).abs() < 1e-12);
    // An int64 target of the input's shape is still class ids, so it is a
    // shape error rather than probabilities.
    let err = F::cross_entropy(&logits, &Tensor::new([[0, 1, 0], [1, 0, 0]])).unwrap_err();
    assert!(err.to_string().contains("cross_entropy"), "{err}");
    let err = F::cross_entropy(&logits, &Tensor::new([0, 3]))
        .unwrap_err()
        .to_string();
    assert!(err.contains('3'), "{err}");
}

#[test]
fn ops_that_return_indices_return_int64() {
    let x = Tensor::new([[1.0f32, 5.0, 2.0], [4.0, 0.0, 3.0]]);
    let am = x.argmax(1, false);
    assert_eq!(am.dtype(), DType::I64);
    assert_eq!(am.to_vec::<i64>(), vec![1, 0]);
    assert_eq!(x.argmin_all().to_vec::<i64>(), vec![4]);
    let (values, idx) = x.max_dim(0, false);
    assert_eq!(values.dtype(), DType::F32);
    assert_eq!(idx.to_vec::<i64>(), vec![1, 0, 1]);
    let (_, idx) = x.min_dim(1, true);
    assert_eq!(idx.dims(), &[2, 1]);
    assert_eq!(idx.to_vec::<i64>(), vec![0, 1]);
    let (_, order) = x.sort(1, true);
    assert_eq!(order.dtype(), DType::I64);
    assert_eq!(order.to_vec::<i64>(), vec![1, 2, 0, 0, 2, 1]);
    let (_, top) = x.topk(1, 1, true, true);
    assert_eq!(top.to_vec::<i64>(), vec![1, 0]);
    // The indices feed straight back into the index consumers.
    let picked = x.gather(1, &x.argmax(1, true));
    assert_eq!(picked.to_vec::<f32>(), vec![5.0, 4.0]);
}

#[test]
fn float_ops_refuse_ints_naming_the_op() {
    let t = Tensor::new([1, 2, 3]);
    let cases: Vec<(&str, tapegrad::Result<Tensor>)> = vec![
        ("Exp", t.try_exp()),
        ("MulScalar", t.try_mul_scalar(2.0)),
        ("div", t.try_div(&t)),
        ("sum", t.try_sum()),
        ("softmax", t.try_softmax(0)),
        ("matmul", t.try_matmul(&t)),
        ("argmax", t.try_argmax(0, false)),
        (
            "cross_entropy",
            F::cross_entropy(&t.reshape([1i32, 3]), &Tensor::new([0])),
        ),
    ];
    for (op, r) in cases {
        let err = r.expect_err(op).to_string();
        assert!(err.starts_with(op) && err.contains("int64"), "{op}: {err}");
    }
}

#[test]
fn int64_tensors_round_trip_through_safetensors_and_print_as_ints() {
    let dir = std::env::temp_dir().join(format!("tapegrad-int-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ids.safetensors");
    let mut map = std::collections::BTreeMap::new();
    map.insert("ids".to_string(), Tensor::new([[3, -1], [i64::MAX, 0]]));
    checkpoint::write_tensors(&path, &map).unwrap();
    let back = checkpoint::read_tensors(&path).unwrap();
    let ids = &back["ids"];
    assert_eq!(ids.dtype(), DType::I64);
    assert_eq!(ids.to_vec::<i64>(), vec![3, -1, i64::MAX, 0]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        format!("{}", Tensor::new([0, 1, 12])),
        "tensor([ 0,  1, 12])"
    );
}
