//! Property tests: gradients of every differentiable op agree with central
//! finite differences in f64 (`tapegrad::gradcheck`, which checks both the
//! first-order and the `create_graph` code paths) on random shapes, dims
//! and values; broadcast gradients sum back to the input's shape.
//!
//! Shapes have rank 0–4. Gradient checks use sizes 0–3 (a full Jacobian of
//! a 5^4 tensor would take minutes in a debug build); shape-only properties
//! use sizes 0–5. Values are drawn away from each op's kinks and poles
//! (relu/abs at 0, clamp at its bounds, ties in max/min, log/sqrt near 0,
//! division by ~0).
//!
//! Reductions (`keepdim`), matmul against a naive reference, and finiteness
//! at ±1e4 are in `tests/properties_reduce_matmul.rs`.

mod common;

use common::*;
use proptest::prelude::*;
use tapegrad::{Result, Tensor};

type Unary = fn(&Tensor) -> Result<Tensor>;

/// Every unary op (and scalar op) with the domain its values come from.
const UNARY: &[(&str, Unary, Domain)] = &[
    ("neg", |x| x.try_neg(), Domain::Any),
    ("exp", |x| x.try_exp(), Domain::Any),
    ("log", |x| x.try_log(), Domain::Positive),
    ("sqrt", |x| x.try_sqrt(), Domain::Positive),
    ("abs", |x| x.try_abs(), Domain::AwayFromZero),
    ("square", |x| x.try_square(), Domain::Any),
    ("relu", |x| x.try_relu(), Domain::AwayFromZero),
    (
        "leaky_relu",
        |x| x.try_leaky_relu(0.1),
        Domain::AwayFromZero,
    ),
    ("sigmoid", |x| x.try_sigmoid(), Domain::Any),
    ("tanh", |x| x.try_tanh(), Domain::Any),
    ("softplus", |x| x.try_softplus(), Domain::Any),
    // beta·x crosses the threshold 1 at x = 0.5; AwayFromHalf keeps clear.
    (
        "softplus_with",
        |x| x.try_softplus_with(2.0, 1.0),
        Domain::AwayFromHalf,
    ),
    ("gelu", |x| x.try_gelu(), Domain::Any),
    ("clamp", |x| x.try_clamp(-0.5, 0.5), Domain::AwayFromHalf),
    ("add_scalar", |x| x.try_add_scalar(1.5), Domain::Any),
    ("sub_scalar", |x| x.try_sub_scalar(-0.5), Domain::Any),
    ("mul_scalar", |x| x.try_mul_scalar(-3.0), Domain::Any),
    ("div_scalar", |x| x.try_div_scalar(4.0), Domain::Any),
    ("rsub_scalar", |x| x.try_rsub_scalar(2.0), Domain::Any),
    (
        "rdiv_scalar",
        |x| x.try_rdiv_scalar(2.0),
        Domain::AwayFromZero,
    ),
    ("affine", |x| x.try_affine(0.5, -1.0), Domain::Any),
    ("powf 2", |x| x.try_powf(2.0), Domain::Any),
    ("powf 3", |x| x.try_powf(3.0), Domain::Any),
    ("powf -1", |x| x.try_powf(-1.0), Domain::AwayFromZero),
    ("powf 0.5", |x| x.try_powf(0.5), Domain::Positive),
    ("powf 1.7", |x| x.try_powf(1.7), Domain::Positive),
    ("powf 0", |x| x.try_powf(0.0), Domain::Any),
];

type Binary = fn(&Tensor, &Tensor) -> Result<Tensor>;

/// Binary broadcasting ops with the domains of their two operands.
const BINARY: &[(&str, Binary, Domain, Domain)] = &[
    ("add", |a, b| a.try_add(b), Domain::Any, Domain::Any),
    ("sub", |a, b| a.try_sub(b), Domain::Any, Domain::Any),
    ("mul", |a, b| a.try_mul(b), Domain::Any, Domain::Any),
    (
        "div",
        |a, b| a.try_div(b),
        Domain::Any,
        Domain::AwayFromZero,
    ),
    ("pow", |a, b| a.try_pow(b), Domain::Positive, Domain::Any),
    // Quarter grid vs offset grid: never equal, so no ties.
    (
        "maximum",
        |a, b| a.try_maximum(b),
        Domain::Grid,
        Domain::OffGrid,
    ),
    (
        "minimum",
        |a, b| a.try_minimum(b),
        Domain::Grid,
        Domain::OffGrid,
    ),
    (
        "where",
        |a, b| {
            let c = a.try_gt_scalar(0.0)?;
            Tensor::try_where_(&c, a, b)
        },
        Domain::AwayFromZero,
        Domain::Any,
    ),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Every unary op, contiguous or through a transposed view.
    #[test]
    fn unary_gradients_match_finite_differences(
        op in 0..UNARY.len(),
        x in shape(0..=4, 0..=3).prop_flat_map(|s| values(s, Domain::Any)),
        transposed in any::<bool>(),
    ) {
        let (name, f, domain) = UNARY[op];
        let x = domain.apply(&x);
        let view = transposed && x.ndim() >= 2;
        check_grad(name, |xs| {
            if view {
                f(&xs[0].try_transpose(0, -1)?)
            } else {
                f(&xs[0])
            }
        }, &[x])?;
    }

    /// Binary ops on broadcast-compatible pairs (1s inserted, leading dims
    /// dropped, either side).
    #[test]
    fn binary_broadcast_gradients_match_finite_differences(
        op in 0..BINARY.len(),
        (a, b) in broadcast_pair(0..=4, 0..=3).prop_flat_map(|(sa, sb)| {
            (values(sa, Domain::Any), values(sb, Domain::Any))
        }),
    ) {
        let (name, f, da, db) = BINARY[op];
        let (a, b) = (da.apply(&a), db.apply(&b));
        check_grad(name, |xs| f(&xs[0], &xs[1]), &[a, b])?;
    }

    /// The gradient of a broadcast op has each input's shape (it is summed
    /// back by sum_to), and equals the explicitly expanded computation.
    #[test]
    fn broadcast_gradients_sum_back_to_input_shapes(
        (a, b) in broadcast_pair(0..=4, 0..=5).prop_flat_map(|(sa, sb)| {
            (values(sa, Domain::Any), values(sb, Domain::Any))
        }),
    ) {
        let a = a.requires_grad_(true);
        let b = b.requires_grad_(true);
        let y = a.try_mul(&b).unwrap();
        let seed = Tensor::full_like(&y, 1.0);
        y.backward_with(Some(&seed), Default::default());
        let (ga, gb) = (a.grad().unwrap(), b.grad().unwrap());
        prop_assert_eq!(ga.shape(), a.shape());
        prop_assert_eq!(gb.shape(), b.shape());
        // d/da Σ a·b = Σ over the broadcast dims of b, i.e. b expanded to
        // the output and summed back to a's shape.
        let want_a = b.detach().expand(y.dims()).sum_to(a.dims());
        let want_b = a.detach().expand(y.dims()).sum_to(b.dims());
        assert_close(&ga, &want_a, 1e-12)?;
        assert_close(&gb, &want_b, 1e-12)?;
    }

    /// Layout ops: gradients through views and copies.
    #[test]
    fn view_gradients_match_finite_differences(
        x in shape(0..=4, 0..=3).prop_flat_map(|s| values(s, Domain::Any)),
        d0 in -4isize..4,
        d1 in -4isize..4,
        which in 0..7usize,
    ) {
        let rank = x.ndim() as isize;
        let r = rank.max(1);
        let (d0, d1) = (d0.rem_euclid(r), d1.rem_euclid(r));
        check_grad("view", |xs| {
            let x = &xs[0];
            match which {
                0 => x.try_reshape([-1i32]),
                1 => x.try_transpose(d0, d1)?.try_mul_scalar(2.0),
                2 => {
                    let order: Vec<isize> = (0..rank).rev().collect();
                    x.try_permute(&order)?.try_square()
                }
                3 => x.try_unsqueeze(d0)?.try_squeeze(d0)?.try_unsqueeze(-1)?.try_exp(),
                4 => x.try_flatten(0, -1)?.try_tanh()?.try_mul_scalar(3.0),
                5 => x.try_unsqueeze(0)?.try_expand(
                    std::iter::once(2).chain(x.dims().iter().copied()).collect::<Vec<_>>().as_slice(),
                )?.try_square(),
                _ => x.try_squeeze_all()?.try_tanh(),
            }
        }, &[x])?;
    }

    /// narrow, pad_dim, cat, stack, split along random dims.
    #[test]
    fn slicing_and_joining_gradients_match_finite_differences(
        (x, y) in shape(1..=4, 0..=3).prop_flat_map(|s| (values(s.clone(), Domain::Any), values(s, Domain::Any))),
        dim in 0..4isize,
        start in 0..4usize,
        which in 0..5usize,
    ) {
        let d = dim % x.ndim() as isize;
        let size = x.dims()[d as usize];
        let start = start.min(size);
        let length = (size - start).min(2);
        check_grad("join", |xs| {
            let (x, y) = (&xs[0], &xs[1]);
            match which {
                0 => x.try_narrow(d, start as isize, length)?.try_square(),
                1 => x.try_pad_dim(d, 1, 2)?.try_exp(),
                2 => Tensor::try_cat(&[x, y, x], d)?.try_square(),
                3 => Tensor::try_stack(&[x, y], d)?.try_mul(&Tensor::try_stack(&[y, x], d)?),
                _ => {
                    let parts = x.try_split(2, d)?;
                    let mut acc = parts[0].try_sum()?;
                    for (k, p) in parts.iter().enumerate() {
                        acc = acc.try_add(&p.try_mul_scalar(k as f64 + 1.0)?.try_square()?.try_sum()?)?;
                    }
                    acc.try_add(&y.try_sum()?)
                }
            }
        }, &[x, y])?;
    }

    /// index_select / index_add / gather / scatter_add with random valid
    /// indices (repeats included), differentiable in the data operands.
    #[test]
    fn index_gradients_match_finite_differences(
        x in shape(1..=3, 1..=3).prop_flat_map(|s| values(s, Domain::Any)),
        dim in 0..3usize,
        picks in prop::collection::vec(0usize..64, 0..5),
        which in 0..4usize,
    ) {
        let d = dim % x.ndim();
        let size = x.dims()[d];
        let idx: Vec<f64> = picks.iter().map(|p| (p % size) as f64).collect();
        let index = Tensor::from_vec(idx.clone(), [idx.len()]).unwrap();
        // An index of x's shape for gather / scatter_add.
        let full: Vec<f64> = (0..x.numel()).map(|k| (picks.get(k % picks.len().max(1)).copied().unwrap_or(k) % size) as f64).collect();
        let full = Tensor::from_vec(full, x.dims()).unwrap();
        let d = d as isize;
        match which {
            0 => check_grad("index_select", |xs| xs[0].try_index_select(d, &index)?.try_square(), &[x])?,
            1 => {
                let src = Tensor::ones_like(&x.index_select(d, &index)).mul_scalar(0.5);
                check_grad("index_add", |xs| xs[0].try_index_add(d, &index, &xs[1])?.try_square(), &[x, src])?
            }
            2 => check_grad("gather", |xs| xs[0].try_gather(d, &full)?.try_square(), &[x])?,
            _ => {
                let src = x.mul_scalar(0.3);
                check_grad("scatter_add", |xs| xs[0].try_scatter_add(d, &full, &xs[1])?.try_square(), &[x, src])?
            }
        }
    }
}
