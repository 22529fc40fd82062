//! Bad input to every public fallible function of the engine and the
//! tensor ops: each row calls one function with one kind of bad argument
//! and states the error variant expected and words its message must
//! contain (the op's name and the offending value or shape).
//!
//! Kinds covered: wrong shape, bad dim, negative or huge sizes,
//! out-of-range / non-integral / NaN indices, dtype mismatch, empty tensors
//! where not allowed, NaN scalars, misuse of autograd. A failed call must
//! also leave its inputs unchanged (checked for the in-place ones).

use tapegrad::{grad, grad_with, BackwardOptions, DType, Error, Result, Tensor};

#[derive(Debug, Clone, Copy)]
enum Kind {
    Broadcast,
    ShapeMismatch,
    BadShape,
    Dim,
    DuplicateDim,
    Index,
    DType,
    DataLength,
    Invalid,
    Autograd,
}

fn kind_of(e: &Error) -> &'static str {
    match e {
        Error::Broadcast { .. } => "Broadcast",
        Error::ShapeMismatch { .. } => "ShapeMismatch",
        Error::BadShape { .. } => "BadShape",
        Error::DimOutOfRange { .. } => "Dim",
        Error::DuplicateDim { .. } => "DuplicateDim",
        Error::IndexOutOfRange { .. } => "Index",
        Error::DTypeMismatch { .. } => "DType",
        Error::DataLength { .. } => "DataLength",
        Error::InvalidArgument { .. } => "Invalid",
        Error::Autograd { .. } => "Autograd",
        _ => "other",
    }
}

type Case = (
    &'static str,
    Kind,
    &'static [&'static str],
    fn() -> Result<()>,
);

fn m23() -> Tensor {
    Tensor::new([[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]])
}
fn v3() -> Tensor {
    Tensor::new([1.0f32, 2.0, 3.0])
}
fn s() -> Tensor {
    Tensor::scalar(1.0f32)
}
fn empty() -> Tensor {
    Tensor::from_vec(Vec::<f32>::new(), [0usize]).unwrap()
}
fn d64() -> Tensor {
    Tensor::new([1.0f64, 2.0, 3.0])
}
fn idx(v: f32) -> Tensor {
    Tensor::new([0.0f32, v])
}
fn ok<T>(r: Result<T>) -> Result<()> {
    r.map(|_| ())
}

const HUGE: usize = 1 << 40;

/// (what is tried, expected kind, words the message must contain, call)
const CASES: &[Case] = &[
    // --- construction ---
    (
        "from_vec wrong length",
        Kind::DataLength,
        &["from_vec", "5 values", "[2, 3]"],
        || ok(Tensor::from_vec(vec![1.0f32; 5], [2usize, 3])),
    ),
    (
        "from_vec huge shape",
        Kind::Invalid,
        &["from_vec", "cannot be allocated"],
        || ok(Tensor::from_vec(Vec::<f32>::new(), [HUGE, HUGE])),
    ),
    (
        "from_vec empty with huge sizes",
        Kind::Invalid,
        &["from_vec", "[0, 1099511627776, 8]"],
        || ok(Tensor::from_vec(Vec::<f32>::new(), [0, HUGE, 8])),
    ),
    (
        "arange zero step",
        Kind::Invalid,
        &["arange", "step=0"],
        || ok(Tensor::arange(0.0, 1.0, 0.0)),
    ),
    ("arange NaN end", Kind::Invalid, &["arange", "NaN"], || {
        ok(Tensor::arange(0.0, f64::NAN, 1.0))
    }),
    ("arange too many", Kind::Invalid, &["arange"], || {
        ok(Tensor::arange(0.0, 1e300, 1.0))
    }),
    (
        "uniform low > high",
        Kind::Invalid,
        &["uniform", "low=2"],
        || {
            ok(Tensor::uniform(
                [2usize],
                2.0,
                1.0,
                DType::F32,
                &mut tapegrad::seeded_rng(0),
            ))
        },
    ),
    ("uniform NaN", Kind::Invalid, &["uniform", "NaN"], || {
        ok(Tensor::uniform(
            [2usize],
            f64::NAN,
            1.0,
            DType::F32,
            &mut tapegrad::seeded_rng(0),
        ))
    }),
    // --- element-wise ---
    (
        "add incompatible shapes",
        Kind::Broadcast,
        &["add", "[2, 3]", "[2]"],
        || ok(m23().try_add(&Tensor::new([1.0f32, 2.0]))),
    ),
    (
        "mul dtype mismatch",
        Kind::DType,
        &["mul", "float32", "float64"],
        || ok(v3().try_mul(&d64())),
    ),
    (
        "div broadcast too large",
        Kind::Invalid,
        &["div", "cannot be allocated"],
        || ok(Tensor::zeros([1usize << 20, 1]).try_div(&Tensor::zeros([1, 1usize << 20]))),
    ),
    ("pow dtype mismatch", Kind::DType, &["pow"], || {
        ok(d64().try_pow(&v3()))
    }),
    (
        "maximum incompatible",
        Kind::Broadcast,
        &["maximum"],
        || ok(v3().try_maximum(&Tensor::zeros([2usize]))),
    ),
    (
        "add_scalar NaN",
        Kind::Invalid,
        &["add_scalar", "NaN"],
        || ok(v3().try_add_scalar(f64::NAN)),
    ),
    (
        "mul_scalar NaN",
        Kind::Invalid,
        &["mul_scalar", "NaN"],
        || ok(v3().try_mul_scalar(f64::NAN)),
    ),
    (
        "div_scalar NaN",
        Kind::Invalid,
        &["div_scalar", "NaN"],
        || ok(v3().try_div_scalar(f64::NAN)),
    ),
    (
        "rsub_scalar NaN",
        Kind::Invalid,
        &["rsub_scalar", "NaN"],
        || ok(v3().try_rsub_scalar(f64::NAN)),
    ),
    (
        "rdiv_scalar NaN",
        Kind::Invalid,
        &["rdiv_scalar", "NaN"],
        || ok(v3().try_rdiv_scalar(f64::NAN)),
    ),
    (
        "affine NaN shift",
        Kind::Invalid,
        &["affine", "NaN"],
        || ok(v3().try_affine(1.0, f64::NAN)),
    ),
    ("powf NaN", Kind::Invalid, &["powf", "NaN"], || {
        ok(v3().try_powf(f64::NAN))
    }),
    (
        "leaky_relu NaN slope",
        Kind::Invalid,
        &["leaky_relu", "NaN"],
        || ok(v3().try_leaky_relu(f64::NAN)),
    ),
    (
        "softplus beta 0",
        Kind::Invalid,
        &["softplus", "beta=0"],
        || ok(v3().try_softplus_with(0.0, 20.0)),
    ),
    (
        "softplus NaN threshold",
        Kind::Invalid,
        &["softplus", "threshold=NaN"],
        || ok(v3().try_softplus_with(1.0, f64::NAN)),
    ),
    (
        "clamp min > max",
        Kind::Invalid,
        &["clamp", "min=2", "max=1"],
        || ok(v3().try_clamp(2.0, 1.0)),
    ),
    ("clamp NaN", Kind::Invalid, &["clamp", "NaN"], || {
        ok(v3().try_clamp(f64::NAN, 1.0))
    }),
    // --- compare / where ---
    (
        "lt incompatible",
        Kind::Broadcast,
        &["lt", "[2, 3]", "[2]"],
        || ok(m23().try_lt(&Tensor::zeros([2usize]))),
    ),
    ("eq dtype mismatch", Kind::DType, &["eq"], || {
        ok(v3().try_eq(&d64()))
    }),
    ("where x/y dtype mismatch", Kind::DType, &["where"], || {
        ok(Tensor::try_where_(&v3(), &v3(), &d64()))
    }),
    (
        "where condition shape",
        Kind::Broadcast,
        &["where", "[2]"],
        || ok(Tensor::try_where_(&Tensor::zeros([2usize]), &v3(), &v3())),
    ),
    (
        "masked_fill mask larger",
        Kind::ShapeMismatch,
        &["masked_fill", "[2, 3]", "[3]"],
        || ok(v3().try_masked_fill(&m23(), 0.0)),
    ),
    // --- reductions ---
    (
        "sum_dims dim out of range",
        Kind::Dim,
        &["sum", "dim 2", "rank 2"],
        || ok(m23().try_sum_dims(&[2], false)),
    ),
    (
        "sum_dims duplicate",
        Kind::DuplicateDim,
        &["sum", "dim 1"],
        || ok(m23().try_sum_dims(&[1, -1], false)),
    ),
    (
        "mean_dim huge negative dim",
        Kind::Dim,
        &["mean", "dim -9223372036854775808"],
        || ok(m23().try_mean_dim(isize::MIN, true)),
    ),
    (
        "sum_to not a broadcast",
        Kind::ShapeMismatch,
        &["sum_to", "[2, 3]", "[2]"],
        || ok(m23().try_sum_to([2usize])),
    ),
    (
        "sum_to more dims",
        Kind::ShapeMismatch,
        &["sum_to", "no more dims"],
        || ok(v3().try_sum_to([1usize, 3])),
    ),
    (
        "amax dim out of range",
        Kind::Dim,
        &["amax", "dim -3"],
        || ok(m23().try_amax(&[-3], false)),
    ),
    (
        "amax of an empty dim",
        Kind::BadShape,
        &["amax", "size 0"],
        || ok(empty().try_amax(&[0], false)),
    ),
    (
        "max of empty tensor",
        Kind::BadShape,
        &["max", "size 0"],
        || ok(empty().try_max()),
    ),
    (
        "min_dim empty",
        Kind::BadShape,
        &["min_dim", "size 0"],
        || ok(Tensor::zeros([2usize, 0]).try_min_dim(1, false)),
    ),
    (
        "argmax dim out of range",
        Kind::Dim,
        &["argmax", "dim 5"],
        || ok(m23().try_argmax(5, false)),
    ),
    (
        "argmin_all empty",
        Kind::BadShape,
        &["argmin", "size 0"],
        || ok(empty().try_argmin_all()),
    ),
    (
        "logsumexp duplicate dim",
        Kind::DuplicateDim,
        &["logsumexp"],
        || ok(m23().try_logsumexp(&[0, 0], false)),
    ),
    ("var dim out of range", Kind::Dim, &["var", "dim 7"], || {
        ok(m23().try_var(&[7], 1, false))
    }),
    (
        "std dim out of range",
        Kind::Dim,
        &["std", "dim -7"],
        || ok(m23().try_std(&[-7], 1, false)),
    ),
    // --- views ---
    (
        "reshape wrong count",
        Kind::ShapeMismatch,
        &["reshape", "element counts", "[4]"],
        || ok(m23().try_reshape([4usize])),
    ),
    (
        "reshape two -1",
        Kind::Invalid,
        &["reshape", "only one dim"],
        || ok(m23().try_reshape([-1i32, -1])),
    ),
    (
        "reshape negative size",
        Kind::Invalid,
        &["reshape", "-3"],
        || ok(m23().try_reshape([-3i32, -2])),
    ),
    (
        "reshape -1 impossible",
        Kind::BadShape,
        &["reshape", "[4, -1]"],
        || ok(m23().try_reshape([4i32, -1])),
    ),
    (
        "reshape empty into huge",
        Kind::Invalid,
        &["reshape", "cannot be allocated"],
        || ok(empty().try_reshape([0usize, HUGE, HUGE])),
    ),
    (
        "transpose bad dim",
        Kind::Dim,
        &["transpose", "dim 2"],
        || ok(m23().try_transpose(0, 2)),
    ),
    ("t of 3-d", Kind::BadShape, &["t", "at most 2 dims"], || {
        ok(Tensor::zeros([1usize, 2, 3]).try_t())
    }),
    (
        "permute wrong length",
        Kind::BadShape,
        &["permute", "1 dims given", "rank 2"],
        || ok(m23().try_permute(&[0])),
    ),
    (
        "permute repeated",
        Kind::DuplicateDim,
        &["permute", "dim 0"],
        || ok(m23().try_permute(&[0, -2])),
    ),
    (
        "unsqueeze bad dim",
        Kind::Dim,
        &["unsqueeze", "dim 3"],
        || ok(m23().try_unsqueeze(3)),
    ),
    ("squeeze bad dim", Kind::Dim, &["squeeze", "dim -3"], || {
        ok(m23().try_squeeze(-3))
    }),
    (
        "flatten start after end",
        Kind::Invalid,
        &["flatten", "start_dim 1", "end_dim 0"],
        || ok(m23().try_flatten(1, 0)),
    ),
    ("flatten bad dim", Kind::Dim, &["flatten", "dim 4"], || {
        ok(m23().try_flatten(0, 4))
    }),
    (
        "expand incompatible",
        Kind::ShapeMismatch,
        &["expand", "[3]", "[2, 4]"],
        || ok(v3().try_expand([2usize, 4])),
    ),
    (
        "expand fewer dims",
        Kind::ShapeMismatch,
        &["expand"],
        || ok(m23().try_expand([3usize])),
    ),
    (
        "expand huge",
        Kind::Invalid,
        &["expand", "[1099511627776, 1099511627776]"],
        || ok(s().try_expand([HUGE, HUGE])),
    ),
    ("size bad dim", Kind::Dim, &["size", "dim 2"], || {
        ok(m23().try_size(2))
    }),
    (
        "item of non-scalar",
        Kind::BadShape,
        &["item", "exactly one element", "[3]"],
        || ok(v3().try_item::<f32>()),
    ),
    (
        "copy_ wrong shape",
        Kind::ShapeMismatch,
        &["copy_", "[3]", "[2, 3]"],
        || ok(m23().try_copy_(&v3())),
    ),
    ("copy_ dtype mismatch", Kind::DType, &["copy_"], || {
        ok(v3().try_copy_(&d64()))
    }),
    (
        "copy_ into a view",
        Kind::Invalid,
        &["copy_", "contiguous"],
        || ok(m23().t().try_copy_(&m23().t())),
    ),
    // --- matmul ---
    (
        "matmul inner mismatch",
        Kind::ShapeMismatch,
        &["matmul", "3 columns", "2 rows", "[2, 3]"],
        || ok(m23().try_matmul(&m23())),
    ),
    (
        "matmul 0-d",
        Kind::ShapeMismatch,
        &["matmul", "at least 1 dim"],
        || ok(s().try_matmul(&v3())),
    ),
    (
        "matmul batch mismatch",
        Kind::ShapeMismatch,
        &["matmul", "batch dims [2] and [3]"],
        || ok(Tensor::zeros([2usize, 2, 3]).try_matmul(&Tensor::zeros([3usize, 3, 2]))),
    ),
    ("matmul dtype mismatch", Kind::DType, &["matmul"], || {
        ok(v3().try_matmul(&d64()))
    }),
    (
        "matmul empty inner, huge output",
        Kind::Invalid,
        &["matmul", "cannot be allocated"],
        || ok(Tensor::zeros([1usize << 20, 0]).try_matmul(&Tensor::zeros([0usize, 1 << 20]))),
    ),
    ("mm on vectors", Kind::ShapeMismatch, &["mm", "2-D"], || {
        ok(v3().try_mm(&v3()))
    }),
    (
        "bmm batch sizes",
        Kind::ShapeMismatch,
        &["bmm", "batch sizes"],
        || ok(Tensor::zeros([2usize, 2, 3]).try_bmm(&Tensor::zeros([3usize, 3, 2]))),
    ),
    // --- index / join ---
    (
        "index_select out of range",
        Kind::Index,
        &["index_select", "index 3", "size 3", "[1]"],
        || ok(v3().try_index_select(0, &idx(3.0))),
    ),
    (
        "index_select negative",
        Kind::Index,
        &["index_select", "index -1"],
        || ok(v3().try_index_select(0, &idx(-1.0))),
    ),
    (
        "index_select fractional",
        Kind::Invalid,
        &["index_select", "0.5", "not a finite integer"],
        || ok(v3().try_index_select(0, &idx(0.5))),
    ),
    (
        "index_select NaN",
        Kind::Invalid,
        &["index_select", "NaN"],
        || ok(v3().try_index_select(0, &idx(f32::NAN))),
    ),
    (
        "index_select inf",
        Kind::Invalid,
        &["index_select", "inf"],
        || ok(v3().try_index_select(0, &idx(f32::INFINITY))),
    ),
    (
        "index_select 2-d index",
        Kind::BadShape,
        &["index_select", "1-d"],
        || ok(v3().try_index_select(0, &m23())),
    ),
    (
        "index_select 0-d input",
        Kind::BadShape,
        &["index_select", "at least 1 dim"],
        || ok(s().try_index_select(0, &idx(0.0))),
    ),
    (
        "index_select of an empty dim",
        Kind::Index,
        &["index_select", "empty"],
        || ok(empty().try_index_select(0, &idx(0.0))),
    ),
    (
        "index_add source shape",
        Kind::ShapeMismatch,
        &["index_add", "source"],
        || ok(v3().try_index_add(0, &idx(1.0), &v3())),
    ),
    ("index_add dtype", Kind::DType, &["index_add"], || {
        ok(v3().try_index_add(0, &idx(1.0), &Tensor::new([1.0f64, 2.0])))
    }),
    (
        "gather rank mismatch",
        Kind::ShapeMismatch,
        &["gather", "same number of dims"],
        || ok(m23().try_gather(1, &idx(0.0))),
    ),
    (
        "gather index too large",
        Kind::ShapeMismatch,
        &["gather", "index size 3", "dim 0"],
        || ok(m23().try_gather(1, &Tensor::zeros([3usize, 1]))),
    ),
    (
        "gather out of range",
        Kind::Index,
        &["gather", "index 7", "[1, 0]"],
        || ok(m23().try_gather(1, &Tensor::new([[0.0f32], [7.0]]))),
    ),
    (
        "scatter_add src too small",
        Kind::ShapeMismatch,
        &["scatter_add", "src"],
        || ok(m23().try_scatter_add(1, &Tensor::zeros([2usize, 2]), &Tensor::zeros([2usize, 1]))),
    ),
    (
        "one_hot zero classes",
        Kind::Invalid,
        &["one_hot", "num_classes"],
        || ok(v3().try_one_hot(0)),
    ),
    (
        "one_hot id too large",
        Kind::Index,
        &["one_hot", "index 3", "size 3"],
        || ok(v3().try_one_hot(3)),
    ),
    ("one_hot NaN id", Kind::Invalid, &["one_hot", "NaN"], || {
        ok(Tensor::new([f32::NAN]).try_one_hot(3))
    }),
    (
        "one_hot huge",
        Kind::Invalid,
        &["one_hot", "cannot be allocated"],
        || ok(v3().try_one_hot(HUGE)),
    ),
    ("narrow 0-d", Kind::BadShape, &["narrow", "0-d"], || {
        ok(s().try_narrow(0, 0, 1))
    }),
    (
        "narrow start out of range",
        Kind::Invalid,
        &["narrow", "start 4"],
        || ok(v3().try_narrow(0, 4, 0)),
    ),
    (
        "narrow too long",
        Kind::Invalid,
        &["narrow", "length 3", "size 3"],
        || ok(v3().try_narrow(0, 1, 3)),
    ),
    (
        "narrow huge negative start",
        Kind::Invalid,
        &["narrow", "start -9223372036854775808"],
        || ok(v3().try_narrow(0, isize::MIN, 0)),
    ),
    (
        "pad_dim overflow",
        Kind::Invalid,
        &["pad_dim", "overflows"],
        || ok(v3().try_pad_dim(0, usize::MAX, 1)),
    ),
    (
        "pad_dim huge",
        Kind::Invalid,
        &["pad_dim", "cannot be allocated"],
        || ok(v3().try_pad_dim(0, HUGE, HUGE)),
    ),
    (
        "cat empty list",
        Kind::Invalid,
        &["cat", "non-empty"],
        || ok(Tensor::try_cat(&[], 0)),
    ),
    ("cat 0-d", Kind::BadShape, &["cat", "0-d"], || {
        ok(Tensor::try_cat(&[&s()], 0))
    }),
    (
        "cat sizes differ",
        Kind::ShapeMismatch,
        &["cat", "except in dim 0", "tensor 1"],
        || ok(Tensor::try_cat(&[&m23(), &Tensor::zeros([1usize, 2])], 0)),
    ),
    (
        "cat rank differs",
        Kind::ShapeMismatch,
        &["cat", "number of dims"],
        || ok(Tensor::try_cat(&[&m23(), &v3()], 0)),
    ),
    ("cat dtype", Kind::Invalid, &["cat", "float64"], || {
        ok(Tensor::try_cat(&[&v3(), &d64()], 0))
    }),
    (
        "stack shapes differ",
        Kind::ShapeMismatch,
        &["stack", "tensor 1"],
        || ok(Tensor::try_stack(&[&v3(), &Tensor::zeros([2usize])], 0)),
    ),
    ("stack bad dim", Kind::Dim, &["stack", "dim 2"], || {
        ok(Tensor::try_stack(&[&v3()], 2))
    }),
    (
        "split size 0",
        Kind::Invalid,
        &["split", "split_size"],
        || ok(v3().try_split(0, 0)),
    ),
    (
        "split_with_sizes wrong sum",
        Kind::Invalid,
        &["split_with_sizes", "[1, 1]", "size 3"],
        || ok(v3().try_split_with_sizes(&[1, 1], 0)),
    ),
    (
        "split_with_sizes overflow",
        Kind::Invalid,
        &["split_with_sizes"],
        || ok(v3().try_split_with_sizes(&[usize::MAX, 4], 0)),
    ),
    (
        "chunk 0",
        Kind::Invalid,
        &["chunk", "greater than 0"],
        || ok(v3().try_chunk(0, 0)),
    ),
    ("chunk huge on empty dim", Kind::Invalid, &["chunk"], || {
        ok(empty().try_chunk(HUGE, 0))
    }),
    // --- autograd ---
    (
        "backward on a constant",
        Kind::Autograd,
        &["backward", "does not require grad"],
        || v3().sum().try_backward(),
    ),
    (
        "backward of non-scalar",
        Kind::Autograd,
        &["backward", "only for a scalar", "[3]"],
        || v3().requires_grad_(true).mul_scalar(2.0).try_backward(),
    ),
    (
        "backward seed shape",
        Kind::ShapeMismatch,
        &["backward", "seed gradient", "[2]", "[3]"],
        || {
            let y = v3().requires_grad_(true).mul_scalar(2.0);
            y.try_backward_with(Some(&Tensor::zeros([2usize])), BackwardOptions::default())
        },
    ),
    ("backward seed dtype", Kind::DType, &["backward"], || {
        let y = v3().requires_grad_(true).mul_scalar(2.0);
        y.try_backward_with(Some(&d64()), BackwardOptions::default())
    }),
    (
        "backward twice",
        Kind::Autograd,
        &["backward", "released", "retain_graph"],
        || {
            let y = v3().requires_grad_(true).mul_scalar(2.0).sum();
            y.backward();
            y.try_backward()
        },
    ),
    (
        "grad of a constant input",
        Kind::Autograd,
        &["grad", "input 0 does not require grad"],
        || {
            let x = v3().requires_grad_(true);
            ok(grad(&[&x.sum()], &[&v3()], false))
        },
    ),
    (
        "grad with wrong grad_outputs count",
        Kind::Autograd,
        &["grad", "2 grad_outputs for 1 outputs"],
        || {
            let x = v3().requires_grad_(true);
            let y = x.sum();
            ok(grad_with(
                &[&y],
                &[&s(), &s()],
                &[&x],
                BackwardOptions::default(),
            ))
        },
    ),
    (
        "requires_grad_ on a non-leaf",
        Kind::Autograd,
        &["requires_grad_", "leaf"],
        || {
            ok(v3()
                .requires_grad_(true)
                .mul_scalar(2.0)
                .try_requires_grad_(false))
        },
    ),
];

#[test]
fn every_bad_input_gives_the_named_error() {
    let mut failures = Vec::new();
    for &(what, kind, words, call) in CASES {
        match call() {
            Ok(()) => failures.push(format!("{what}: succeeded")),
            Err(e) => {
                let msg = e.to_string();
                if kind_of(&e) != format!("{kind:?}") {
                    failures.push(format!(
                        "{what}: expected {kind:?}, got {} ({msg})",
                        kind_of(&e)
                    ));
                }
                for w in words {
                    if !msg.contains(w) {
                        failures.push(format!("{what}: message {msg:?} does not contain {w:?}"));
                    }
                }
            }
        }
        tapegrad::clear_tape();
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// A failed call leaves its operands and any accumulated gradient as they
/// were.
#[test]
fn failed_calls_change_nothing() {
    let w = Tensor::new([1.0f32, 2.0, 3.0]).requires_grad_(true);
    w.mul_scalar(2.0).sum().backward();
    let before = (w.to_vec::<f32>(), w.grad().unwrap().to_vec::<f32>());
    assert!(w.try_copy_(&Tensor::zeros([2usize])).is_err());
    assert!(w
        .try_index_add(0, &idx(9.0), &Tensor::zeros([2usize]))
        .is_err());
    assert!(w.try_add(&Tensor::zeros([2usize])).is_err());
    let y = w.mul_scalar(3.0);
    assert!(y.try_backward().is_err()); // non-scalar
    assert_eq!(
        (w.to_vec::<f32>(), w.grad().unwrap().to_vec::<f32>()),
        before
    );
    assert_eq!(
        tapegrad::tape_len(),
        2,
        "the failed backward left the graph in place"
    );
    tapegrad::clear_tape();
}

/// The panicking forms report the same message as the `try_` forms.
#[test]
fn panicking_forms_carry_the_same_message() {
    let err = m23().try_sum_dims(&[2], false).unwrap_err().to_string();
    let panic = std::panic::catch_unwind(|| m23().sum_dims(&[2], false)).unwrap_err();
    assert_eq!(panic.downcast_ref::<String>().unwrap(), &err);
}
