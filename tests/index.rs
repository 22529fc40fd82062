//! Indexing and joining ops: values against hand-computed results, first
//! and second order gradient checks, and error messages.

use tapegrad::{
    gradcheck, gradgradcheck, seeded_rng, DType, Error, GradcheckOptions, Result, Tensor,
};

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn_dtype(shape, DType::F64, &mut seeded_rng(seed))
}

fn f64s(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape).unwrap()
}

fn idx(values: &[f64]) -> Tensor {
    f64s(values, &[values.len()])
}

/// gradcheck and gradgradcheck of `f`, which should end in a non-linear op
/// so that the second-order check exercises the backward's own backward.
#[track_caller]
fn check(f: impl Fn(&[Tensor]) -> Result<Tensor>, inputs: &[Tensor]) {
    let opts = GradcheckOptions::default();
    let report = gradcheck(&f, inputs, opts).unwrap();
    assert!(report.passed(), "gradcheck:\n{report}");
    let report = gradgradcheck(&f, inputs, opts).unwrap();
    assert!(report.passed(), "gradgradcheck:\n{report}");
}

/// Row-major values of `t`.
fn vals(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>()
}

// ---------------------------------------------------------------- narrow

#[test]
fn narrow_values_and_view() {
    let x = f64s(&[0., 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11.], &[3, 4]);
    assert_eq!(
        vals(&x.narrow(0, 1, 2)),
        vec![4., 5., 6., 7., 8., 9., 10., 11.]
    );
    assert_eq!(vals(&x.narrow(1, 0, 1)), vec![0., 4., 8.]);
    assert_eq!(vals(&x.narrow(1, 3, 1)), vec![3., 7., 11.]);
    assert_eq!(vals(&x.narrow(-1, -2, 2)), vec![2., 3., 6., 7., 10., 11.]);
    assert_eq!(vals(&x.narrow(0, 0, 3)), vals(&x));
    // Length 0 at the very end, and at the start.
    assert_eq!(x.narrow(0, 3, 0).dims(), &[0, 4]);
    assert_eq!(x.narrow(1, 0, 0).dims(), &[3, 0]);
    assert!(vals(&x.narrow(1, 4, 0)).is_empty());
    // A view: same strides, no copy.
    let v = x.narrow(1, 1, 2);
    assert_eq!(v.strides(), x.strides());
    assert!(!v.is_contiguous());
    // Narrowing a transposed view reads the right elements.
    let t = x.transpose(0, 1); // [4, 3]
    assert_eq!(vals(&t.narrow(0, 2, 1)), vec![2., 6., 10.]);
    assert_eq!(
        vals(&t.narrow(1, 1, 2)),
        vec![4., 8., 5., 9., 6., 10., 7., 11.]
    );
}

#[test]
fn narrow_gradient_is_the_slice_placed_into_zeros() {
    let x = Tensor::new([1.0f64, 2.0, 3.0, 4.0]).requires_grad_(true);
    x.narrow(0, 1, 2).mul_scalar(3.0).sum().backward();
    assert_eq!(vals(&x.grad().unwrap()), vec![0.0, 3.0, 3.0, 0.0]);
}

#[test]
fn narrow_gradcheck() {
    let x = randn(&[3, 4], 1);
    for &(dim, start, len) in &[
        (0, 0, 3),
        (0, 2, 1),
        (0, -1, 1),
        (1, 0, 1),
        (1, 3, 1),
        (1, 1, 2),
        (1, 4, 0),
        (0, 0, 0),
    ] {
        check(
            |xs| Ok(xs[0].try_narrow(dim, start, len)?.tanh()),
            std::slice::from_ref(&x),
        );
    }
    // Non-contiguous: narrow a transpose.
    check(
        |xs| Ok(xs[0].transpose(0, 1).try_narrow(1, 1, 2)?.tanh()),
        &[randn(&[3, 4], 2)],
    );
    // Size-1 and empty dims.
    check(
        |xs| Ok(xs[0].narrow(1, 0, 1).tanh()),
        &[randn(&[2, 1, 3], 3)],
    );
    check(|xs| Ok(xs[0].narrow(1, 1, 2).tanh()), &[randn(&[0, 3], 4)]);
    // Narrow of a narrow.
    check(
        |xs| Ok(xs[0].narrow(0, 1, 3).narrow(0, 1, 1).tanh()),
        &[randn(&[5, 2], 5)],
    );
}

#[test]
fn pad_dim_values_and_gradcheck() {
    let x = f64s(&[1., 2., 3., 4.], &[2, 2]);
    assert_eq!(vals(&x.pad_dim(1, 1, 0)), vec![0., 1., 2., 0., 3., 4.]);
    assert_eq!(vals(&x.pad_dim(0, 0, 1)), vec![1., 2., 3., 4., 0., 0.]);
    assert_eq!(
        vals(&x.transpose(0, 1).pad_dim(0, 1, 1)),
        vec![0., 0., 1., 3., 2., 4., 0., 0.]
    );
    check(|xs| Ok(xs[0].pad_dim(1, 2, 1).tanh()), &[randn(&[2, 3], 6)]);
    check(
        |xs| Ok(xs[0].transpose(0, 1).pad_dim(0, 0, 2).tanh()),
        &[randn(&[2, 3], 7)],
    );
    check(|xs| Ok(xs[0].pad_dim(0, 1, 1).tanh()), &[randn(&[0, 2], 8)]);
}

#[test]
fn narrow_errors() {
    let x = Tensor::zeros([3, 4]);
    let err = x.try_narrow(1, 2, 3).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }));
    assert_eq!(
        err.to_string(),
        "narrow: start 2 + length 3 exceeds the size 4 of dim 1"
    );
    let err = x.try_narrow(0, 4, 0).unwrap_err();
    assert!(
        err.to_string()
            .contains("start 4 is out of range for dim 0 of size 3"),
        "{err}"
    );
    let err = x.try_narrow(0, -4, 1).unwrap_err();
    assert!(err.to_string().contains("start -4"), "{err}");
    assert!(matches!(
        x.try_narrow(2, 0, 1).unwrap_err(),
        Error::DimOutOfRange { op: "narrow", .. }
    ));
    let err = Tensor::scalar(1.0f32).try_narrow(0, 0, 1).unwrap_err();
    assert!(matches!(err, Error::BadShape { op: "narrow", .. }), "{err}");
}

// ------------------------------------------------------------- cat/stack

/// Reference concatenation written from the definition: output position
/// `p` comes from the input whose span along `dim` contains `p[dim]`.
fn reference_cat(parts: &[(Vec<f64>, Vec<usize>)], dim: usize) -> (Vec<f64>, Vec<usize>) {
    let mut shape = parts[0].1.clone();
    shape[dim] = parts.iter().map(|p| p.1[dim]).sum();
    let numel: usize = shape.iter().product();
    let mut out = Vec::with_capacity(numel);
    for flat in 0..numel {
        let mut coord = vec![0; shape.len()];
        let mut rest = flat;
        for d in (0..shape.len()).rev() {
            coord[d] = rest % shape[d];
            rest /= shape[d];
        }
        let mut along = coord[dim];
        let mut k = 0;
        while along >= parts[k].1[dim] {
            along -= parts[k].1[dim];
            k += 1;
        }
        coord[dim] = along;
        let ps = &parts[k].1;
        let mut at = 0;
        for d in 0..ps.len() {
            at = at * ps[d] + coord[d];
        }
        out.push(parts[k].0[at]);
    }
    (out, shape)
}

#[test]
fn cat_literal_example() {
    let a = f64s(&[1., 2., 3., 4.], &[2, 2]);
    let b = f64s(&[5., 6.], &[2, 1]);
    let c = f64s(&[7., 8., 9., 10., 11., 12.], &[2, 3]);
    let out = Tensor::cat(&[&a, &b, &c], 1);
    assert_eq!(out.dims(), &[2, 6]);
    assert_eq!(
        vals(&out),
        vec![1., 2., 5., 7., 8., 9., 3., 4., 6., 10., 11., 12.]
    );
    let out = Tensor::cat(&[&a, &a.transpose(0, 1)], 0);
    assert_eq!(vals(&out), vec![1., 2., 3., 4., 1., 3., 2., 4.]);
}

#[test]
fn cat_three_inputs_along_each_dim() {
    let base = [2usize, 3, 4];
    for dim in 0..3 {
        let sizes = [1usize, 3, 2];
        let inputs: Vec<Tensor> = sizes
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                let mut shape = base;
                shape[dim] = s;
                randn(&shape, 10 + k as u64)
            })
            .collect();
        let refs: Vec<&Tensor> = inputs.iter().collect();
        let out = Tensor::cat(&refs, dim as isize);
        let parts: Vec<(Vec<f64>, Vec<usize>)> = inputs
            .iter()
            .map(|t| (vals(t), t.dims().to_vec()))
            .collect();
        let (expected, shape) = reference_cat(&parts, dim);
        assert_eq!(out.dims(), shape.as_slice());
        assert_eq!(vals(&out), expected);
        // Negative dim gives the same.
        assert_eq!(vals(&Tensor::cat(&refs, dim as isize - 3)), expected);
        check(
            |xs| {
                let r: Vec<&Tensor> = xs.iter().collect();
                Ok(Tensor::try_cat(&r, dim as isize)?.tanh())
            },
            &inputs,
        );
    }
}

#[test]
fn cat_gradients_with_views_empty_and_size_one() {
    // One transposed input, one with size 0 along dim, one of size 1.
    check(
        |xs| {
            let t = xs[0].transpose(0, 1); // [3, 2]
            Ok(Tensor::try_cat(&[&t, &xs[1], &xs[2]], 1)?.tanh())
        },
        &[randn(&[2, 3], 20), randn(&[3, 0], 21), randn(&[3, 1], 22)],
    );
    // All empty.
    check(
        |xs| Ok(Tensor::try_cat(&[&xs[0], &xs[1]], 0)?.tanh()),
        &[randn(&[0, 2], 23), randn(&[0, 2], 24)],
    );
    // The same tensor twice: its gradients add up.
    let x = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
    Tensor::cat(&[&x, &x.mul_scalar(3.0)], 0).sum().backward();
    assert_eq!(vals(&x.grad().unwrap()), vec![4.0, 4.0]);
    // Only some inputs need grad.
    let c = Tensor::new([5.0f64]);
    let y = Tensor::new([1.0f64]).requires_grad_(true);
    Tensor::cat(&[&c, &y], 0).square().sum().backward();
    assert_eq!(vals(&y.grad().unwrap()), vec![2.0]);
}

#[test]
fn cat_errors_name_position_and_shapes() {
    let a = Tensor::zeros([2, 3]);
    let b = Tensor::zeros([2, 4]);
    let c = Tensor::zeros([3, 4]);
    let err = Tensor::try_cat(&[&a, &b, &c], 1).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { op: "cat", .. }));
    assert_eq!(
        err.to_string(),
        "cat: sizes must match except in dim 1, but tensor 2 differs from tensor 0 \
         (got [2, 3] and [3, 4])"
    );
    let err = Tensor::try_cat(&[&a, &Tensor::zeros([2, 3, 1])], 0).unwrap_err();
    assert!(
        err.to_string()
            .contains("tensor 1 has a different number of dims"),
        "{err}"
    );
    assert!(err.to_string().contains("[2, 3, 1]"), "{err}");
    let err = Tensor::try_cat(&[&a, &a.double()], 0).unwrap_err();
    assert!(err.to_string().contains("tensor 1 is float64"), "{err}");
    let err = Tensor::try_cat(&[], 0).unwrap_err();
    assert_eq!(err.to_string(), "cat: expects a non-empty list of tensors");
    let s = Tensor::scalar(1.0f32);
    let err = Tensor::try_cat(&[&s], 0).unwrap_err();
    assert!(err.to_string().contains("tensor 0 is 0-d"), "{err}");
    assert!(matches!(
        Tensor::try_cat(&[&a, &a], 2).unwrap_err(),
        Error::DimOutOfRange {
            op: "cat",
            dim: 2,
            rank: 2
        }
    ));
}

#[test]
fn stack_values_gradients_and_errors() {
    let a = f64s(&[1., 2., 3.], &[3]);
    let b = f64s(&[4., 5., 6.], &[3]);
    let s0 = Tensor::stack(&[&a, &b], 0);
    assert_eq!(s0.dims(), &[2, 3]);
    assert_eq!(vals(&s0), vec![1., 2., 3., 4., 5., 6.]);
    let s1 = Tensor::stack(&[&a, &b], -1);
    assert_eq!(s1.dims(), &[3, 2]);
    assert_eq!(vals(&s1), vec![1., 4., 2., 5., 3., 6.]);
    // 0-d tensors stack into a vector.
    let v = Tensor::stack(&[&Tensor::scalar(1.0f64), &Tensor::scalar(2.0f64)], 0);
    assert_eq!(v.dims(), &[2]);

    for dim in [0isize, -1, 1] {
        check(
            |xs| {
                let t = xs[2].transpose(0, 1);
                Ok(Tensor::try_stack(&[&xs[0], &xs[1], &t], dim)?.tanh())
            },
            &[randn(&[2, 3], 30), randn(&[2, 3], 31), randn(&[3, 2], 32)],
        );
    }
    check(
        |xs| Ok(Tensor::try_stack(&[&xs[0], &xs[1]], -1)?.tanh()),
        &[randn(&[0, 2], 33), randn(&[0, 2], 34)],
    );

    let err = Tensor::try_stack(&[&a, &Tensor::zeros([4]).double()], 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stack: expects tensors of equal shape, but tensor 1 differs from tensor 0 \
         (got [3] and [4])"
    );
    let err = Tensor::try_stack(&[&a, &a, &a.to_dtype(DType::F32)], 0).unwrap_err();
    assert!(
        err.to_string().starts_with("stack: dtype mismatch"),
        "{err}"
    );
    assert!(err.to_string().contains("tensor 2"), "{err}");
    assert!(matches!(
        Tensor::try_stack(&[&a], 2).unwrap_err(),
        Error::DimOutOfRange { op: "stack", .. }
    ));
}

// ------------------------------------------------------------ split/chunk

#[test]
fn split_and_chunk_sizes_match_pytorch() {
    let x = Tensor::arange_dtype(0.0, 10.0, 1.0, DType::F64)
        .unwrap()
        .reshape([5, 2]);
    let sizes = |parts: &[Tensor]| parts.iter().map(|p| p.dims()[0]).collect::<Vec<_>>();
    assert_eq!(sizes(&x.split(2, 0)), vec![2, 2, 1]);
    assert_eq!(sizes(&x.split(5, 0)), vec![5]);
    assert_eq!(sizes(&x.split(7, 0)), vec![5]);
    assert_eq!(sizes(&x.chunk(2, 0)), vec![3, 2]);
    // 5 rows in 4 chunks: split size 2, so only 3 chunks (as torch.chunk).
    assert_eq!(sizes(&x.chunk(4, 0)), vec![2, 2, 1]);
    assert_eq!(sizes(&x.chunk(5, 0)), vec![1, 1, 1, 1, 1]);
    assert_eq!(sizes(&x.split_with_sizes(&[0, 4, 1], 0)), vec![0, 4, 1]);
    let parts = x.split(2, 0);
    assert_eq!(vals(&parts[1]), vec![4., 5., 6., 7.]);
    assert_eq!(vals(&parts[2]), vec![8., 9.]);
    let cols = x.chunk(2, -1);
    assert_eq!(vals(&cols[1]), vec![1., 3., 5., 7., 9.]);
    // Empty dims: split gives one empty piece, chunk gives `chunks`.
    let e = Tensor::zeros([0, 3]);
    assert_eq!(sizes(&e.split(2, 0)), vec![0]);
    assert_eq!(sizes(&e.split(0, 0)), vec![0]);
    assert_eq!(sizes(&e.chunk(3, 0)), vec![0, 0, 0]);
}

#[test]
fn split_and_chunk_gradients() {
    // Weight the pieces differently so a mix-up would show.
    check(
        |xs| {
            let parts = xs[0].try_split(2, 1)?;
            let mut acc = parts[0].tanh();
            for (k, p) in parts.iter().enumerate().skip(1) {
                acc = acc.add(&p.sum_dim(1, true).mul_scalar(k as f64 + 1.0).tanh());
            }
            Ok(acc)
        },
        &[randn(&[3, 5], 40)],
    );
    check(
        |xs| {
            let parts = xs[0].transpose(0, 1).try_chunk(3, 0)?;
            Ok(Tensor::try_cat(&[&parts[2], &parts[0], &parts[1]], 0)?.tanh())
        },
        &[randn(&[2, 6], 41)],
    );
}

#[test]
fn split_and_chunk_errors() {
    let x = Tensor::zeros([4, 2]);
    let err = x.try_split(0, 0).unwrap_err();
    assert!(
        err.to_string()
            .contains("split_size can be 0 only if dim 0 is empty"),
        "{err}"
    );
    let err = x.try_chunk(0, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "chunk: chunks must be greater than 0, got 0"
    );
    let err = x.try_split_with_sizes(&[1, 2], 0).unwrap_err();
    assert!(
        err.to_string()
            .contains("[1, 2] must sum to the size 4 of dim 0"),
        "{err}"
    );
    assert!(Tensor::scalar(1.0f32).try_split(1, 0).is_err());
}

// ------------------------------------------------------ index_select/add

#[test]
fn index_select_values() {
    let x = f64s(&[1., 2., 3., 4., 5., 6.], &[3, 2]);
    assert_eq!(
        vals(&x.index_select(0, &idx(&[2., 0., 2.]))),
        vec![5., 6., 1., 2., 5., 6.]
    );
    let cols = x.index_select(1, &idx(&[1., 1., 0.]));
    assert_eq!(cols.dims(), &[3, 3]);
    assert_eq!(vals(&cols), vec![2., 2., 1., 4., 4., 3., 6., 6., 5.]);
    // Non-contiguous input, f32 index for an f64 tensor.
    let t = x.transpose(0, 1); // [[1,3,5],[2,4,6]]
    let i32idx = Tensor::new([2.0f32, 1.0]);
    assert_eq!(vals(&t.index_select(1, &i32idx)), vec![5., 3., 6., 4.]);
    // Empty index, and a 0-d index keeps the dim with size 1.
    assert_eq!(x.index_select(0, &idx(&[])).dims(), &[0, 2]);
    assert_eq!(x.index_select(0, &Tensor::scalar(1.0f64)).dims(), &[1, 2]);
}

#[test]
fn index_select_repeated_indices_accumulate() {
    let x = Tensor::new([10.0f64, 20.0, 30.0]).requires_grad_(true);
    let y = x.index_select(0, &idx(&[0., 2., 0., 0.]));
    y.mul(&Tensor::new([1.0f64, 2.0, 3.0, 4.0]))
        .sum()
        .backward();
    assert_eq!(vals(&x.grad().unwrap()), vec![8.0, 0.0, 2.0]);
}

#[test]
fn index_select_gradcheck() {
    let i = idx(&[1., 0., 1., 3.]);
    check(
        |xs| Ok(xs[0].try_index_select(0, &i)?.tanh()),
        &[randn(&[4, 3], 50)],
    );
    check(
        |xs| Ok(xs[0].try_index_select(1, &i)?.tanh()),
        &[randn(&[2, 4], 51)],
    );
    check(
        |xs| Ok(xs[0].transpose(0, 1).try_index_select(-1, &i)?.tanh()),
        &[randn(&[4, 2], 52)],
    );
    check(
        |xs| Ok(xs[0].try_index_select(0, &idx(&[0., 0.]))?.tanh()),
        &[randn(&[1, 3], 53)],
    );
    // Empty index, and an input that is empty in another dim.
    check(
        |xs| Ok(xs[0].try_index_select(0, &idx(&[]))?.tanh()),
        &[randn(&[3, 2], 54)],
    );
    check(
        |xs| Ok(xs[0].try_index_select(1, &i)?.tanh()),
        &[randn(&[0, 4], 55)],
    );
}

#[test]
fn index_add_values_and_gradcheck() {
    let x = f64s(&[1., 1., 1., 1., 1., 1.], &[3, 2]);
    let src = f64s(&[1., 2., 3., 4., 5., 6.], &[3, 2]);
    let out = x.index_add(0, &idx(&[2., 0., 2.]), &src);
    assert_eq!(vals(&out), vec![4., 5., 1., 1., 7., 9.]);
    let out = x.index_add(
        1,
        &idx(&[1., 1.]),
        &f64s(&[1., 2., 3., 4., 5., 6.], &[3, 2]),
    );
    assert_eq!(vals(&out), vec![1., 4., 1., 8., 1., 12.]);

    let i = idx(&[2., 0., 2.]);
    check(
        |xs| Ok(xs[0].try_index_add(0, &i, &xs[1])?.tanh()),
        &[randn(&[3, 2], 60), randn(&[3, 2], 61)],
    );
    check(
        |xs| Ok(xs[0].try_index_add(1, &i, &xs[1].transpose(0, 1))?.tanh()),
        &[randn(&[2, 4], 62), randn(&[3, 2], 63)],
    );
    let err = x.try_index_add(0, &idx(&[0.]), &src).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShapeMismatch {
                op: "index_add",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("1 entries"), "{err}");
}

// ------------------------------------------------------ gather/scatter_add

#[test]
fn gather_values() {
    // x = [[1, 2, 3], [4, 5, 6]]
    let x = f64s(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let i = f64s(&[2., 2., 0., 1., 0., 0.], &[2, 3]);
    assert_eq!(vals(&x.gather(1, &i)), vec![3., 3., 1., 5., 4., 4.]);
    // Along dim 0: out[i][j] = x[index[i][j]][j].
    let i0 = f64s(&[1., 0., 1.], &[1, 3]);
    assert_eq!(vals(&x.gather(0, &i0)), vec![4., 2., 6.]);
    // Index smaller than the input in the other dim, and larger along dim.
    let i1 = f64s(&[0., 0., 0., 0.], &[1, 4]);
    assert_eq!(vals(&x.gather(1, &i1)), vec![1., 1., 1., 1.]);
    // Non-contiguous input.
    let t = x.transpose(0, 1); // [[1,4],[2,5],[3,6]]
    let it = f64s(&[1., 1., 0.], &[3, 1]);
    assert_eq!(vals(&t.gather(1, &it)), vec![4., 5., 3.]);
    // Non-contiguous index: read in its logical (row-major) order.
    let ti = f64s(&[1., 2., 0., 1.], &[2, 2]).transpose(0, 1); // [[1, 0], [2, 1]]
    assert_eq!(vals(&x.gather(1, &ti)), vec![2., 1., 6., 5.]);
}

#[test]
fn gather_repeated_indices_accumulate() {
    let x = Tensor::new([[1.0f64, 2.0], [3.0, 4.0]]).requires_grad_(true);
    let i = f64s(&[1., 1., 1., 0., 0., 0.], &[2, 3]);
    x.gather(1, &i).sum().backward();
    assert_eq!(vals(&x.grad().unwrap()), vec![0.0, 3.0, 3.0, 0.0]);
}

#[test]
fn gather_gradcheck() {
    let i = f64s(&[2., 2., 0., 1., 0., 0.], &[2, 3]);
    check(
        |xs| Ok(xs[0].try_gather(1, &i)?.tanh()),
        &[randn(&[2, 3], 70)],
    );
    check(
        |xs| Ok(xs[0].try_gather(0, &i)?.tanh()),
        &[randn(&[3, 4], 71)],
    );
    check(
        |xs| Ok(xs[0].transpose(0, 1).try_gather(1, &i)?.tanh()),
        &[randn(&[3, 2], 72)],
    );
    let i3 = f64s(&[0., 0., 0., 0.], &[1, 4, 1]);
    check(
        |xs| Ok(xs[0].try_gather(1, &i3)?.tanh()),
        &[randn(&[2, 1, 2], 73)],
    );
    check(
        |xs| Ok(xs[0].try_gather(1, &f64s(&[], &[2, 0]))?.tanh()),
        &[randn(&[2, 3], 74)],
    );
    check(
        |xs| Ok(xs[0].try_gather(0, &f64s(&[], &[0, 3]))?.tanh()),
        &[randn(&[0, 3], 75)],
    );
}

#[test]
fn scatter_add_values() {
    let x = f64s(&[0., 0., 0., 0., 0., 0.], &[2, 3]);
    let i = f64s(&[2., 2., 0., 1.], &[2, 2]);
    let src = f64s(&[1., 10., 100., 1000.], &[2, 2]);
    assert_eq!(
        vals(&x.scatter_add(1, &i, &src)),
        vec![0., 0., 11., 100., 1000., 0.]
    );
    // src larger than the index: the extra elements are ignored.
    let big = f64s(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let i0 = f64s(&[1., 0.], &[1, 2]);
    let ones = Tensor::ones_like(&x);
    assert_eq!(
        vals(&ones.scatter_add(0, &i0, &big)),
        vec![1., 3., 1., 2., 1., 1.]
    );
}

#[test]
fn scatter_add_gradcheck() {
    let i = f64s(&[2., 2., 0., 1.], &[2, 2]);
    check(
        |xs| Ok(xs[0].try_scatter_add(1, &i, &xs[1])?.tanh()),
        &[randn(&[2, 3], 80), randn(&[2, 2], 81)],
    );
    // src larger than the index, given transposed.
    check(
        |xs| Ok(xs[0].try_scatter_add(1, &i, &xs[1].transpose(0, 1))?.tanh()),
        &[randn(&[2, 3], 82), randn(&[4, 3], 83)],
    );
    check(
        |xs| {
            Ok(xs[0]
                .try_scatter_add(0, &f64s(&[0., 0., 0.], &[3, 1]), &xs[1])?
                .tanh())
        },
        &[randn(&[1, 1], 84), randn(&[3, 1], 85)],
    );
    check(
        |xs| {
            Ok(xs[0]
                .try_scatter_add(0, &f64s(&[], &[0, 2]), &xs[1])?
                .tanh())
        },
        &[randn(&[2, 2], 86), randn(&[0, 2], 87)],
    );
}

#[test]
fn gather_and_scatter_shape_errors() {
    let x = Tensor::zeros([2, 3]);
    let err = x.try_gather(1, &Tensor::zeros([2])).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { op: "gather", .. }));
    assert!(err.to_string().contains("same number of dims"), "{err}");
    let err = x.try_gather(1, &Tensor::zeros([3, 1])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "gather: index size 3 in dim 0 exceeds the size 2 of the input (got [3, 1] and [2, 3])"
    );
    let err = x
        .try_scatter_add(1, &Tensor::zeros([2, 2]), &Tensor::zeros([2, 1]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("index size 2 in dim 1 exceeds the size 1 of src"),
        "{err}"
    );
    let err = x
        .try_scatter_add(0, &Tensor::zeros([1, 1]), &Tensor::zeros([1, 1]).double())
        .unwrap_err();
    assert!(matches!(
        err,
        Error::DTypeMismatch {
            op: "scatter_add",
            ..
        }
    ));
}

// ---------------------------------------------------------------- one_hot

#[test]
fn one_hot_values() {
    let ids = Tensor::new([[2.0f64, 0.0], [1.0, 2.0]]);
    let oh = ids.one_hot(3);
    assert_eq!(oh.dims(), &[2, 2, 3]);
    assert_eq!(oh.dtype(), DType::F64);
    assert_eq!(
        vals(&oh),
        vec![0., 0., 1., 1., 0., 0., 0., 1., 0., 0., 0., 1.]
    );
    let oh = Tensor::scalar(1.0f32).one_hot(2);
    assert_eq!(oh.dims(), &[2]);
    assert_eq!(oh.dtype(), DType::F32);
    assert_eq!(oh.to_vec::<f32>(), vec![0.0, 1.0]);
    assert_eq!(Tensor::zeros([0]).one_hot(4).dims(), &[0, 4]);
    // Transposed ids come out in the transposed order.
    let t = ids.transpose(0, 1); // [[2, 1], [0, 2]]
    assert_eq!(
        vals(&t.one_hot(3).narrow(0, 0, 1)),
        vec![0., 0., 1., 0., 1., 0.]
    );
    // No gradient, even from ids that require grad.
    let p = Tensor::new([0.0f64]).requires_grad_(true);
    assert!(!p.one_hot(2).requires_grad());
}

#[test]
fn one_hot_errors() {
    let err = Tensor::new([0.0f32, 3.0]).try_one_hot(3).unwrap_err();
    assert!(matches!(
        err,
        Error::IndexOutOfRange {
            op: "one_hot",
            index: 3,
            size: 3,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "one_hot: index 3 is out of range for dim 1 of size 3 at index position [1] \
         (valid indices are 0..=2)"
    );
    let err = Tensor::new([0.0f32]).try_one_hot(0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "one_hot: num_classes must be greater than 0, got 0"
    );
    let err = Tensor::new([0.5f32]).try_one_hot(2).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { op: "one_hot", .. }));
}

// ----------------------------------------------------------- index checks

#[test]
fn index_validation_names_op_value_position_and_range() {
    let x = Tensor::zeros([3, 2]);
    let err = x.try_index_select(0, &idx(&[0., 1., -1.])).unwrap_err();
    assert!(matches!(
        err,
        Error::IndexOutOfRange {
            op: "index_select",
            index: -1,
            dim: 0,
            size: 3,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "index_select: index -1 is out of range for dim 0 of size 3 at index position [2] \
         (valid indices are 0..=2)"
    );
    let err = x.try_index_select(1, &idx(&[2.])).unwrap_err();
    assert!(
        err.to_string()
            .contains("index 2 is out of range for dim 1 of size 2"),
        "{err}"
    );

    let err = x.try_index_select(0, &idx(&[0., 1.5])).unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidArgument {
            op: "index_select",
            ..
        }
    ));
    assert!(
        err.to_string()
            .contains("index 1.5 at index position [1] is not a finite integer"),
        "{err}"
    );
    let err = x.try_index_select(0, &idx(&[f64::NAN])).unwrap_err();
    assert!(
        err.to_string().contains("index NaN at index position [0]"),
        "{err}"
    );
    let err = x.try_index_select(0, &idx(&[f64::INFINITY])).unwrap_err();
    assert!(err.to_string().contains("index inf"), "{err}");

    let err = x
        .try_gather(1, &f64s(&[0., 1., 1., 2.], &[2, 2]))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::IndexOutOfRange {
            op: "gather",
            index: 2,
            dim: 1,
            size: 2,
            ..
        }
    ));
    assert!(
        err.to_string().contains("at index position [1, 1]"),
        "{err}"
    );
    let err = x
        .try_scatter_add(0, &f64s(&[-2.], &[1, 1]), &Tensor::zeros([1, 1]))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("scatter_add: index -2 is out of range"),
        "{err}"
    );
    let err = x
        .try_index_add(0, &idx(&[3.]), &Tensor::zeros([1, 2]))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("index_add: index 3 is out of range"),
        "{err}"
    );

    let err = Tensor::zeros([0])
        .try_index_select(0, &idx(&[0.]))
        .unwrap_err();
    assert!(err.to_string().contains("(the dim is empty)"), "{err}");

    let err = x.try_index_select(0, &Tensor::zeros([1, 1])).unwrap_err();
    assert!(matches!(
        err,
        Error::BadShape {
            op: "index_select",
            ..
        }
    ));
    let err = Tensor::scalar(1.0f32)
        .try_index_select(0, &idx(&[0.]))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::BadShape {
            op: "index_select",
            ..
        }
    ));
    assert!(matches!(
        x.try_index_select(2, &idx(&[0.])).unwrap_err(),
        Error::DimOutOfRange {
            op: "index_select",
            ..
        }
    ));
}

#[test]
fn plain_forms_panic_with_the_message() {
    let result = std::panic::catch_unwind(|| {
        Tensor::zeros([2]).index_select(0, &Tensor::new([5.0f32]));
    });
    let payload = result.unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(
        msg.starts_with("index_select: index 5 is out of range"),
        "{msg}"
    );
}
