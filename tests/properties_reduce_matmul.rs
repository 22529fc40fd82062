//! Property tests for reductions and matmul: gradients against finite
//! differences, `keepdim` true and false agreeing, matmul against a naive
//! triple loop for every rank combination (1–4 × 1–4, broadcast batch
//! dims), and finite results for inputs up to ±1e4 where the function is
//! finite.

mod common;

use common::*;
use proptest::prelude::*;
use tapegrad::{DType, Result, Tensor};

type Reduce = fn(&Tensor, &[isize], bool) -> Result<Tensor>;

/// Reductions over a list of dims with a keepdim flag. Extrema get
/// distinct values (no ties); var/std a correction their slices exceed.
const REDUCE: &[(&str, Reduce, bool)] = &[
    ("sum_dims", |x, d, k| x.try_sum_dims(d, k), false),
    ("mean_dims", |x, d, k| x.try_mean_dims(d, k), false),
    ("amax", |x, d, k| x.try_amax(d, k), true),
    ("amin", |x, d, k| x.try_amin(d, k), true),
    ("logsumexp", |x, d, k| x.try_logsumexp(d, k), false),
    ("var", |x, d, k| x.try_var(d, 1, k), false),
    ("std", |x, d, k| x.try_std(d, 0, k), false),
    (
        "max_dim",
        |x, d, k| Ok(x.try_max_dim(d.first().copied().unwrap_or(0), k)?.0),
        true,
    ),
    (
        "min_dim",
        |x, d, k| Ok(x.try_min_dim(d.first().copied().unwrap_or(0), k)?.0),
        true,
    ),
];

/// `x` with distinct values (a shuffled grid), so extrema have no ties.
fn distinct(x: &Tensor, order: &[usize]) -> Tensor {
    let n = x.numel();
    let v: Vec<f64> = (0..n)
        .map(|k| (order[k % order.len()] * n + k) as f64 * 0.37 % 3.1 - 1.5 + k as f64 * 1e-3)
        .collect();
    Tensor::from_vec(v, x.dims()).unwrap()
}

/// A random subset of the dims of a tensor of rank `rank`, some negative.
fn dims_subset(rank: usize, mask: &[bool], negative: bool) -> Vec<isize> {
    (0..rank)
        .filter(|&d| mask[d])
        .map(|d| {
            if negative {
                d as isize - rank as isize
            } else {
                d as isize
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Gradients of every reduction over random dims, keepdim or not.
    #[test]
    fn reduction_gradients_match_finite_differences(
        op in 0..REDUCE.len(),
        x in shape(0..=4, 1..=3).prop_flat_map(|s| values(s, Domain::Any)),
        mask in prop::collection::vec(any::<bool>(), 4),
        order in prop::collection::vec(0usize..7, 1..8),
        negative in any::<bool>(),
        keepdim in any::<bool>(),
    ) {
        let (name, f, needs_distinct) = REDUCE[op];
        let x = if needs_distinct { distinct(&x, &order) } else { x };
        let dims = dims_subset(x.ndim(), &mask, negative);
        let slice: usize = if dims.is_empty() { x.numel() } else {
            dims.iter().map(|&d| x.dims()[d.rem_euclid(x.ndim().max(1) as isize) as usize]).product()
        };
        // var with correction 1 of a single element is 0/0 (NaN, as torch).
        prop_assume!(!(name == "var" && slice <= 1));
        // std at a constant slice (one element) has a kink at 0.
        prop_assume!(!(name == "std" && slice <= 1));
        check_grad(name, |xs| f(&xs[0], &dims, keepdim), &[x])?;
    }

    /// keepdim = true and false give the same values (up to the kept size-1
    /// dims) and the same gradients.
    #[test]
    fn keepdim_true_and_false_agree(
        op in 0..REDUCE.len(),
        x in shape(0..=4, 1..=5).prop_flat_map(|s| values(s, Domain::Any)),
        mask in prop::collection::vec(any::<bool>(), 4),
        order in prop::collection::vec(0usize..7, 1..8),
    ) {
        let (_, f, needs_distinct) = REDUCE[op];
        let x = if needs_distinct { distinct(&x, &order) } else { x };
        let dims = dims_subset(x.ndim(), &mask, false);
        let run = |keepdim: bool| {
            let leaf = x.detach().requires_grad_(true);
            let y = f(&leaf, &dims, keepdim).unwrap();
            // A seed that is not all ones, so misplaced gradients show.
            let seed: Vec<f64> = (0..y.numel()).map(|k| 1.0 + k as f64 * 0.5).collect();
            let seed = Tensor::from_vec(seed, y.dims()).unwrap();
            y.backward_with(Some(&seed), Default::default());
            (y.detach(), leaf.grad().unwrap())
        };
        let (kept, g_kept) = run(true);
        let (dropped, g_dropped) = run(false);
        prop_assert_eq!(kept.ndim(), x.ndim());
        prop_assert_eq!(kept.numel(), dropped.numel());
        let squeezed = kept.reshape(dropped.dims());
        assert_close(&squeezed, &dropped, 0.0)?;
        assert_close(&g_kept, &g_dropped, 0.0)?;
    }

    /// matmul equals a naive triple loop for every pair of ranks 1–4, with
    /// broadcast batch dims, transposed operands and empty sizes.
    #[test]
    fn matmul_matches_naive_reference(
        ra in 1..=4usize,
        rb in 1..=4usize,
        (n, k, m) in (0..=4usize, 0..=4usize, 0..=4usize),
        batch in shape(2..=2, 0..=3),
        ones in prop::collection::vec(any::<bool>(), 4),
        transpose_b in any::<bool>(),
        seed in any::<u64>(),
    ) {
        // Batch dims: up to two, each side keeps the trailing ones it needs
        // and may have some replaced by 1 (broadcast).
        let batch_of = |r: usize, ones: &[bool]| -> Vec<usize> {
            let nb = r.saturating_sub(2);
            batch[2 - nb..].iter().zip(ones).map(|(&s, &one)| if one { 1 } else { s }).collect()
        };
        let mut sa = batch_of(ra, &ones[..2]);
        let mut sb = batch_of(rb, &ones[2..]);
        if ra == 1 { sa = vec![k]; } else { sa.extend([n, k]); }
        if rb == 1 { sb = vec![k]; } else { sb.extend([k, m]); }
        let mut rng = tapegrad::seeded_rng(seed);
        let a = Tensor::randn_dtype(sa.as_slice(), DType::F64, &mut rng);
        let b = if transpose_b && rb >= 2 {
            let mut st = sb.clone();
            let r = st.len();
            st.swap(r - 1, r - 2);
            Tensor::randn_dtype(st.as_slice(), DType::F64, &mut rng).transpose(-1, -2)
        } else {
            Tensor::randn_dtype(sb.as_slice(), DType::F64, &mut rng)
        };
        let got = a.matmul(&b);
        let want = naive_matmul(&a, &b);
        assert_close(&got, &want, 1e-12)?;
    }

    /// matmul gradients for every rank pair, including broadcast batches.
    #[test]
    fn matmul_gradients_match_finite_differences(
        ra in 1..=3usize,
        rb in 1..=3usize,
        (n, k, m) in (1..=3usize, 0..=3usize, 1..=3usize),
        bsize in 1..=2usize,
        broadcast_a in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let sa: Vec<usize> = match ra { 1 => vec![k], 2 => vec![n, k], _ => vec![if broadcast_a { 1 } else { bsize }, n, k] };
        let sb: Vec<usize> = match rb { 1 => vec![k], 2 => vec![k, m], _ => vec![bsize, k, m] };
        let mut rng = tapegrad::seeded_rng(seed);
        let a = Tensor::randn_dtype(sa.as_slice(), DType::F64, &mut rng);
        let b = Tensor::randn_dtype(sb.as_slice(), DType::F64, &mut rng);
        check_grad("matmul", |xs| xs[0].try_matmul(&xs[1]), &[a, b])?;
    }

    /// Functions that are finite on all of ℝ stay finite, with finite
    /// gradients, for inputs up to ±1e4, in f32 and f64.
    #[test]
    fn ops_stay_finite_up_to_1e4(
        v in prop::collection::vec(prop_oneof![-1e4f64..1e4, Just(1e4), Just(-1e4), -30.0f64..30.0], 1..12),
        f64_dtype in any::<bool>(),
        op in 0..7usize,
    ) {
        let n = v.len();
        let x = Tensor::from_vec(v, [n]).unwrap();
        let x = if f64_dtype { x } else { x.to_dtype(DType::F32) };
        let x = x.requires_grad_(true);
        let y = match op {
            0 => x.sigmoid(),
            1 => x.tanh(),
            2 => x.softplus(),
            3 => x.logsumexp(&[0], false),
            4 => x.gelu(),
            5 => x.softplus_with(0.5, 20.0),
            _ => x.reshape([1i32, -1]).logsumexp(&[1], true),
        };
        let values = y.to_vec::<f64>();
        prop_assert!(values.iter().all(|v| v.is_finite()), "op {}: {:?}", op, values);
        y.sum().backward();
        let g = x.grad().unwrap().to_vec::<f64>();
        prop_assert!(g.iter().all(|v| v.is_finite()), "op {} gradient: {:?}", op, g);
    }
}

/// `a @ b` by the definition: vectors lifted to matrices, batch dims
/// broadcast by index arithmetic, one dot product per output element.
fn naive_matmul(a: &Tensor, b: &Tensor) -> Tensor {
    let (av, bv) = (a.ndim() == 1, b.ndim() == 1);
    let a2 = if av { a.unsqueeze(0) } else { a.clone() };
    let b2 = if bv { b.unsqueeze(1) } else { b.clone() };
    let (ad, bd) = (a2.dims().to_vec(), b2.dims().to_vec());
    let (n, k, m) = (ad[ad.len() - 2], ad[ad.len() - 1], bd[bd.len() - 1]);
    let (ba, bb) = (&ad[..ad.len() - 2], &bd[..bd.len() - 2]);
    let rank = ba.len().max(bb.len());
    let pad = |s: &[usize]| -> Vec<usize> {
        let mut v = vec![1; rank - s.len()];
        v.extend_from_slice(s);
        v
    };
    let (pa, pb) = (pad(ba), pad(bb));
    let batch: Vec<usize> = pa
        .iter()
        .zip(&pb)
        .map(|(&x, &y)| if x == 1 { y } else { x })
        .collect();
    let av_ = a2.contiguous().to_vec::<f64>();
    let bv_ = b2.contiguous().to_vec::<f64>();
    let count: usize = batch.iter().product();
    let mut out = Vec::with_capacity(count * n * m);
    for flat in 0..count {
        // The batch index, and each operand's (broadcast) batch offset.
        let mut rem = flat;
        let mut idx = vec![0; rank];
        for d in (0..rank).rev() {
            idx[d] = rem % batch[d];
            rem /= batch[d];
        }
        let offset = |p: &[usize]| -> usize {
            idx.iter()
                .zip(p)
                .fold(0, |acc, (&i, &s)| acc * s + if s == 1 { 0 } else { i })
        };
        let (oa, ob) = (offset(&pa) * n * k, offset(&pb) * k * m);
        for i in 0..n {
            for j in 0..m {
                let mut s = 0.0;
                for t in 0..k {
                    s += av_[oa + i * k + t] * bv_[ob + t * m + j];
                }
                out.push(s);
            }
        }
    }
    let mut dims = batch;
    if !av {
        dims.push(n);
    }
    if !bv {
        dims.push(m);
    }
    Tensor::from_vec(out, dims.as_slice()).unwrap()
}
