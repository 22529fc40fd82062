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
    Io,
    Format,
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
        Error::Io { .. } => "Io",
        Error::Format { .. } => "Format",
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
    (
        "arange stepping away from its end",
        Kind::Invalid,
        &["arange", "inconsistent with step sign"],
        || ok(Tensor::arange(5.0, 0.0, 1.0)),
    ),
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
    for &(what, kind, words, call) in CASES.iter().chain(NN_CASES) {
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
        CASES.len() + NN_CASES.len(),
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

// ---------------------------------------------------------------------------
// Losses, optimizers and checkpoints.

use tapegrad::nn::functional as F;
use tapegrad::nn::{mlp, Activation, Linear, Module};
use tapegrad::optim::{Adam, AdamConfig, Optimizer, SgdConfig, SGD};
use tapegrad::{checkpoint, seeded_rng};

fn logits() -> Tensor {
    Tensor::new([[0.1f32, 0.2, 0.3], [0.4, 0.5, 0.6]])
}
fn ids(a: f32, b: f32) -> Tensor {
    Tensor::new([a, b])
}
fn param() -> Tensor {
    Tensor::new([1.0f32, 2.0]).requires_grad_(true)
}
fn sgd(cfg: SgdConfig) -> Result<()> {
    ok(SGD::new([param()], cfg))
}
fn adam(cfg: AdamConfig) -> Result<()> {
    ok(Adam::new([param()], cfg))
}
fn model(sizes: &[usize]) -> tapegrad::nn::Sequential {
    mlp(sizes, Activation::Tanh, &mut seeded_rng(0)).unwrap()
}

/// A scratch directory for this test process's checkpoint files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapegrad-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A checkpoint of `mlp([2, 3, 1])` transformed by `f`, loaded into a
/// fresh `mlp([2, 3, 1])`.
fn load_altered(name: &str, f: fn(Vec<u8>) -> Vec<u8>) -> Result<()> {
    let path = scratch(name);
    checkpoint::save(&model(&[2, 3, 1]), &path).unwrap();
    let bytes = f(std::fs::read(&path).unwrap());
    std::fs::write(&path, bytes).unwrap();
    checkpoint::load(&model(&[2, 3, 1]), &path)
}

/// `saved` written to a checkpoint, loaded into `target`.
fn load_into(name: &str, saved: &dyn Module, target: &dyn Module) -> Result<()> {
    let path = scratch(name);
    checkpoint::save(saved, &path).unwrap();
    checkpoint::load(target, &path)
}

const NN_CASES: &[Case] = &[
    // --- class ids ---
    (
        "cross_entropy class id out of range",
        Kind::Index,
        &["cross_entropy", "index 3", "size 3", "target row 1"],
        || ok(F::cross_entropy(&logits(), &ids(0.0, 3.0))),
    ),
    (
        "nll_loss negative class id",
        Kind::Index,
        &["nll_loss", "index -1", "target row 0"],
        || ok(F::nll_loss(&logits(), &ids(-1.0, 0.0))),
    ),
    (
        "cross_entropy non-integral class id",
        Kind::Invalid,
        &["cross_entropy", "1.5", "target row 1", "not an integer"],
        || ok(F::cross_entropy(&logits(), &ids(0.0, 1.5))),
    ),
    (
        "cross_entropy NaN class id",
        Kind::Invalid,
        &["cross_entropy", "NaN", "target row 0"],
        || ok(F::cross_entropy(&logits(), &ids(f32::NAN, 0.0))),
    ),
    (
        "nll_loss K-dim class id out of range",
        Kind::Index,
        &["nll_loss", "index 5", "target at [1, 0]"],
        || {
            let x = Tensor::zeros([2usize, 3, 2]);
            ok(F::nll_loss(&x, &Tensor::new([[0.0f32, 1.0], [5.0, 0.0]])))
        },
    ),
    // --- weights and shapes ---
    (
        "cross_entropy weight length",
        Kind::BadShape,
        &["cross_entropy", "weight", "[2]", "3 classes"],
        || {
            let o = F::CrossEntropyOptions::default().weight(Tensor::new([1.0f32, 2.0]));
            ok(F::cross_entropy_with(&logits(), &ids(0.0, 1.0), &o))
        },
    ),
    (
        "nll_loss weight length",
        Kind::BadShape,
        &["nll_loss", "weight", "[4]", "3 classes"],
        || {
            let o = F::NllLossOptions::default().weight(Tensor::ones([4usize]));
            ok(F::nll_loss_with(&logits(), &ids(0.0, 1.0), &o))
        },
    ),
    (
        "bce_with_logits pos_weight length",
        Kind::ShapeMismatch,
        &["pos_weight", "[2]", "[2, 3]"],
        || {
            let o = F::BceWithLogitsOptions::default().pos_weight(Tensor::ones([2usize]));
            ok(F::binary_cross_entropy_with_logits_with(
                &logits(),
                &logits(),
                &o,
            ))
        },
    ),
    (
        "cross_entropy target rows",
        Kind::ShapeMismatch,
        &["cross_entropy", "[3]", "[2]"],
        || {
            ok(F::cross_entropy(
                &logits(),
                &Tensor::new([0.0f32, 1.0, 2.0]),
            ))
        },
    ),
    (
        "bce target shape",
        Kind::ShapeMismatch,
        &["binary_cross_entropy", "[2, 3]", "[3]"],
        || {
            ok(F::binary_cross_entropy(
                &logits(),
                &Tensor::new([0.0f32, 1.0, 0.0]),
            ))
        },
    ),
    (
        "kl_div target shape",
        Kind::ShapeMismatch,
        &["kl_div", "[2, 3]", "[2]"],
        || ok(F::kl_div(&logits(), &ids(0.5, 0.5))),
    ),
    (
        "cross_entropy 0-d input",
        Kind::BadShape,
        &["cross_entropy", "[]"],
        || {
            ok(F::cross_entropy(
                &Tensor::scalar(1.0f32),
                &Tensor::scalar(0.0f32),
            ))
        },
    ),
    // An empty batch is valid for the losses (mean gives NaN = 0/0, as in
    // PyTorch); where a batch must not be empty, it is an error:
    (
        "Standardizer::fit empty batch",
        Kind::BadShape,
        &["Standardizer::fit", "at least one sample", "[0, 3]"],
        || {
            ok(tapegrad::data::Standardizer::fit(&Tensor::zeros([
                0usize, 3,
            ])))
        },
    ),
    (
        "DataLoader batch size 0",
        Kind::Invalid,
        &["DataLoader", "batch_size"],
        || {
            let ds = tapegrad::data::Dataset::new(logits(), ids(0.0, 1.0))?;
            ok(tapegrad::data::DataLoader::new(&ds, 0))
        },
    ),
    ("softmax dim", Kind::Dim, &["softmax", "2"], || {
        ok(F::softmax(&logits(), 2))
    }),
    // --- values ---
    (
        "bce probability above 1",
        Kind::Invalid,
        &["binary_cross_entropy", "between 0 and 1", "1.5", "index 1"],
        || {
            let p = Tensor::new([0.5f32, 1.5]);
            ok(F::binary_cross_entropy(&p, &Tensor::new([0.0f32, 1.0])))
        },
    ),
    (
        "bce NaN probability",
        Kind::Invalid,
        &["binary_cross_entropy", "NaN"],
        || {
            let p = Tensor::new([f32::NAN, 0.5]);
            ok(F::binary_cross_entropy(&p, &Tensor::new([0.0f32, 1.0])))
        },
    ),
    (
        "bce NaN target",
        Kind::Invalid,
        &["binary_cross_entropy", "NaN", "target"],
        || {
            let p = Tensor::new([0.5f32, 0.5]);
            ok(F::binary_cross_entropy(
                &p,
                &Tensor::new([0.0f32, f32::NAN]),
            ))
        },
    ),
    (
        "cross_entropy NaN probability target",
        Kind::Invalid,
        &["cross_entropy", "NaN", "target"],
        || {
            let t = Tensor::new([[0.5f32, 0.5, 0.0], [f32::NAN, 0.0, 1.0]]);
            ok(F::cross_entropy(&logits(), &t))
        },
    ),
    (
        "cross_entropy label_smoothing above 1",
        Kind::Invalid,
        &["cross_entropy", "label_smoothing", "1.5"],
        || {
            let o = F::CrossEntropyOptions::default().label_smoothing(1.5);
            ok(F::cross_entropy_with(&logits(), &ids(0.0, 1.0), &o))
        },
    ),
    // --- optimizers ---
    (
        "SGD lr 0",
        Kind::Invalid,
        &["SGD", "learning rate", "0"],
        || {
            sgd(SgdConfig {
                lr: 0.0,
                ..Default::default()
            })
        },
    ),
    (
        "SGD lr negative",
        Kind::Invalid,
        &["SGD", "learning rate", "-0.1"],
        || {
            sgd(SgdConfig {
                lr: -0.1,
                ..Default::default()
            })
        },
    ),
    (
        "SGD lr NaN",
        Kind::Invalid,
        &["SGD", "learning rate", "NaN"],
        || {
            sgd(SgdConfig {
                lr: f64::NAN,
                ..Default::default()
            })
        },
    ),
    (
        "Adam lr inf",
        Kind::Invalid,
        &["Adam", "learning rate", "inf"],
        || {
            adam(AdamConfig {
                lr: f64::INFINITY,
                ..Default::default()
            })
        },
    ),
    (
        "SGD momentum 1",
        Kind::Invalid,
        &["SGD", "momentum", "1", "[0, 1)"],
        || {
            sgd(SgdConfig {
                lr: 0.1,
                momentum: 1.0,
                ..Default::default()
            })
        },
    ),
    (
        "SGD momentum negative",
        Kind::Invalid,
        &["SGD", "momentum", "-0.5"],
        || {
            sgd(SgdConfig {
                lr: 0.1,
                momentum: -0.5,
                ..Default::default()
            })
        },
    ),
    (
        "SGD nesterov without momentum",
        Kind::Invalid,
        &["SGD", "Nesterov", "momentum=0"],
        || {
            sgd(SgdConfig {
                lr: 0.1,
                nesterov: true,
                ..Default::default()
            })
        },
    ),
    (
        "Adam beta1 = 1",
        Kind::Invalid,
        &["Adam", "beta", "index 0", "1"],
        || {
            adam(AdamConfig {
                betas: (1.0, 0.999),
                ..Default::default()
            })
        },
    ),
    (
        "Adam beta2 NaN",
        Kind::Invalid,
        &["Adam", "beta", "index 1", "NaN"],
        || {
            adam(AdamConfig {
                betas: (0.9, f64::NAN),
                ..Default::default()
            })
        },
    ),
    (
        "Adam eps negative",
        Kind::Invalid,
        &["Adam", "epsilon", "-1"],
        || {
            adam(AdamConfig {
                eps: -1.0,
                ..Default::default()
            })
        },
    ),
    (
        "set_lr NaN",
        Kind::Invalid,
        &["SGD", "learning rate", "NaN"],
        || {
            let mut o = SGD::new([param()], SgdConfig::default())?;
            o.set_lr(f64::NAN)
        },
    ),
    (
        "optimizer with no parameters",
        Kind::Invalid,
        &["SGD", "empty"],
        || ok(SGD::new(Vec::new(), SgdConfig::default())),
    ),
    (
        "a gradient of the wrong shape (refused by set_grad, so no step sees it)",
        Kind::ShapeMismatch,
        &["set_grad", "[3]", "[2]"],
        || {
            let p = param();
            p.try_set_grad(Some(Tensor::zeros([3usize])))?;
            SGD::new([p], SgdConfig::default())?.step()
        },
    ),
    // --- checkpoints ---
    (
        "checkpoint missing file",
        Kind::Io,
        &["load_checkpoint", "no-such.safetensors"],
        || checkpoint::load(&model(&[2, 3, 1]), scratch("no-such.safetensors")),
    ),
    (
        "checkpoint truncated",
        Kind::Format,
        &[
            "load_checkpoint",
            "truncated.safetensors",
            "truncated or corrupted",
        ],
        || {
            load_altered("truncated.safetensors", |mut b| {
                b.truncate(b.len() - 5);
                b
            })
        },
    ),
    (
        "checkpoint garbage header",
        Kind::Format,
        &[
            "load_checkpoint",
            "garbage.safetensors",
            "not a valid safetensors file",
        ],
        || {
            load_altered("garbage.safetensors", |mut b| {
                for v in &mut b[8..20] {
                    *v = b'#';
                }
                b
            })
        },
    ),
    (
        "checkpoint empty file",
        Kind::Format,
        &["load_checkpoint", "empty.safetensors"],
        || load_altered("empty.safetensors", |_| Vec::new()),
    ),
    (
        "checkpoint missing tensor",
        Kind::Format,
        &["load_checkpoint", "missing tensor '2.weight'"],
        || load_into("missing.safetensors", &model(&[2, 3]), &model(&[2, 3, 1])),
    ),
    (
        "checkpoint extra tensor",
        Kind::Format,
        &["load_checkpoint", "unexpected tensor '2.bias'"],
        || load_into("extra.safetensors", &model(&[2, 3, 1]), &model(&[2, 3])),
    ),
    (
        "checkpoint wrong shape",
        Kind::Format,
        &["load_checkpoint", "'0.weight'", "[4, 2]", "[3, 2]"],
        || load_into("shape.safetensors", &model(&[2, 4, 1]), &model(&[2, 3, 1])),
    ),
    (
        "checkpoint wrong dtype",
        Kind::Format,
        &["load_checkpoint", "'weight'", "float64", "float32"],
        || {
            let f64_layer = Linear::with_dtype(2, 3, true, DType::F64, &mut seeded_rng(0));
            let f32_layer = Linear::new(2, 3, true, &mut seeded_rng(0));
            load_into("dtype.safetensors", &f64_layer, &f32_layer)
        },
    ),
    (
        "optimizer checkpoint into the wrong optimizer",
        Kind::Format,
        &["load_optimizer", "belongs to a SGD optimizer, not Adam"],
        || {
            let path = scratch("opt-kind.safetensors");
            let m = model(&[2, 1]);
            let o = SGD::new(m.parameters(), SgdConfig::default())?;
            checkpoint::save_optimizer(&o, &path)?;
            let mut a = Adam::new(m.parameters(), AdamConfig::default())?;
            checkpoint::load_optimizer(&mut a, &path)
        },
    ),
    (
        "model checkpoint loaded as optimizer state",
        Kind::Format,
        &["load_optimizer", "not an optimizer state file"],
        || {
            let path = scratch("model-as-opt.safetensors");
            let m = model(&[2, 1]);
            checkpoint::save(&m, &path)?;
            let mut o = SGD::new(m.parameters(), SgdConfig::default())?;
            checkpoint::load_optimizer(&mut o, &path)
        },
    ),
];

/// Values and gradients of `params` as bits.
fn param_bits(params: &[Tensor]) -> Vec<(Vec<u32>, Option<Vec<u32>>)> {
    let b = |t: &Tensor| t.to_vec::<f32>().iter().map(|v| v.to_bits()).collect();
    params
        .iter()
        .map(|p| (b(p), p.grad().map(|g| b(&g))))
        .collect()
}

/// The optimizer state (kind, hyperparameters, state tensors) as bits.
fn opt_bits(o: &dyn Optimizer) -> Vec<(String, Vec<u64>)> {
    let s = o.state_dict();
    let mut out = vec![(s.kind.clone(), vec![])];
    for (k, v) in &s.hyperparameters {
        out.push((k.clone(), vec![v.to_bits()]));
    }
    for (k, t) in &s.tensors {
        out.push((
            k.clone(),
            t.to_vec::<f64>().iter().map(|v| v.to_bits()).collect(),
        ));
    }
    out
}

/// After each failing optimizer step or constructor, failing checkpoint
/// load and failing loss call, the model's parameters, their gradients and
/// the optimizer state are bit-identical to before.
#[test]
fn failed_training_calls_change_nothing() {
    let net = model(&[2, 3, 2]);
    let params = net.parameters();
    let x = Tensor::new([[0.5f32, -1.0], [2.0, 0.25], [1.0, 1.0]]);
    let y = Tensor::new([0.0f32, 1.0, 1.0]);
    let cfg = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let mut sgd = SGD::new(params.clone(), cfg).unwrap();
    let mut adam = Adam::new(params.clone(), AdamConfig::default()).unwrap();
    // Real state to protect: two steps each, then a fresh gradient.
    for _ in 0..2 {
        F::cross_entropy(&net.forward(&x), &y).unwrap().backward();
        sgd.step().unwrap();
        adam.step().unwrap();
        sgd.zero_grad();
    }
    F::cross_entropy(&net.forward(&x), &y).unwrap().backward();
    let path = scratch("good.safetensors");
    checkpoint::save(&net, &path).unwrap();
    let opt_path = scratch("good.optim.safetensors");
    checkpoint::save_optimizer(&sgd, &opt_path).unwrap();

    let before = param_bits(&params);
    let (sgd_before, adam_before) = (opt_bits(&sgd), opt_bits(&adam));
    let same = |what: &str, sgd: &SGD, adam: &Adam| {
        assert_eq!(param_bits(&params), before, "{what} changed the model");
        assert_eq!(opt_bits(sgd), sgd_before, "{what} changed the SGD state");
        assert_eq!(opt_bits(adam), adam_before, "{what} changed the Adam state");
        assert_eq!(tapegrad::tape_len(), 0, "{what} left a graph behind");
    };

    // Failing losses (on the model's output: the graph must be released).
    for (what, target) in [
        ("class id out of range", Tensor::new([0.0f32, 7.0, 1.0])),
        ("NaN class id", Tensor::new([0.0f32, f32::NAN, 1.0])),
        ("target shape", Tensor::new([0.0f32, 1.0])),
    ] {
        let out = net.forward(&x);
        assert!(F::cross_entropy(&out, &target).is_err(), "{what}");
        assert!(F::nll_loss(&out, &target).is_err(), "{what}");
        drop(out);
        same(what, &sgd, &adam);
    }
    // Probabilities above 1 (PyTorch checks the input's range, not the
    // target's).
    let out = net.forward(&x).sigmoid().add_scalar(1.0);
    assert!(F::binary_cross_entropy(&out, &Tensor::full([3usize, 2], 0.5)).is_err());
    drop(out);
    same("BCE input out of [0, 1]", &sgd, &adam);

    // Failing constructors over the same parameters.
    let bad = SgdConfig {
        lr: f64::NAN,
        ..Default::default()
    };
    assert!(SGD::new(params.clone(), bad).is_err());
    let bad = AdamConfig {
        betas: (1.5, 0.9),
        ..Default::default()
    };
    assert!(Adam::new(params.clone(), bad).is_err());
    same("failed constructors", &sgd, &adam);

    // A bad gradient on the last parameter: refused when it is set (a
    // step can no longer meet one), leaving parameters and state as they
    // were.
    let last = params.last().unwrap();
    let good = last.grad();
    let before_bad = param_bits(&params);
    assert!(last.try_set_grad(Some(Tensor::zeros([5usize]))).is_err());
    assert_eq!(
        last.grad().map(|g| g.to_vec::<f32>()),
        good.as_ref().map(|g| g.to_vec::<f32>())
    );
    assert_eq!(
        param_bits(&params),
        before_bad,
        "a failed set_grad moved a parameter"
    );
    assert_eq!(opt_bits(&sgd), sgd_before);
    assert_eq!(opt_bits(&adam), adam_before);
    last.set_grad(good);
    assert!(sgd.set_lr(-1.0).is_err());
    same("failed steps and set_lr", &sgd, &adam);

    // Failing checkpoint loads: truncated, corrupted, mismatched, missing.
    let bytes = std::fs::read(&path).unwrap();
    let bad_path = scratch("bad.safetensors");
    let mut corrupted = bytes.clone();
    corrupted[9] = b'!';
    for (what, data) in [
        ("truncated", bytes[..bytes.len() - 3].to_vec()),
        ("corrupted", corrupted),
        ("empty", Vec::new()),
    ] {
        std::fs::write(&bad_path, data).unwrap();
        assert!(checkpoint::load(&net, &bad_path).is_err(), "{what}");
        assert!(
            checkpoint::load_optimizer(&mut sgd, &bad_path).is_err(),
            "{what}"
        );
        same(what, &sgd, &adam);
    }
    checkpoint::save(&model(&[2, 4, 2]), &bad_path).unwrap();
    assert!(checkpoint::load(&net, &bad_path).is_err());
    same("mismatched checkpoint", &sgd, &adam);
    assert!(checkpoint::load(&net, scratch("missing.safetensors")).is_err());
    same("missing checkpoint", &sgd, &adam);
    // The optimizer state of another model's optimizer (other shapes).
    let other = model(&[2, 4, 2]);
    let mut other_sgd = SGD::new(other.parameters(), cfg).unwrap();
    F::cross_entropy(&other.forward(&x), &y).unwrap().backward();
    other_sgd.step().unwrap();
    checkpoint::save_optimizer(&other_sgd, &bad_path).unwrap();
    assert!(checkpoint::load_optimizer(&mut sgd, &bad_path).is_err());
    same("mismatched optimizer state", &sgd, &adam);

    // The good files still load, and change nothing either (same values).
    checkpoint::load(&net, &path).unwrap();
    checkpoint::load_optimizer(&mut sgd, &opt_path).unwrap();
    same("reloading the saved state", &sgd, &adam);
}
