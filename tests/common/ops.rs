//! The op registry: every differentiable public op, with a generator of
//! valid inputs. One list feeds the gradcheck sweep (tests/op_sweep.rs),
//! the property tests over it (tests/properties_registry.rs) and the
//! op-sequence fuzzer (tests/fuzz_ops/mod.rs), and tests/op_registry.rs
//! fails when a public fallible op is neither here nor in its commented
//! list of exemptions.
//!
//! Adding an op: one [`Op`] entry in [`registry`] naming the public
//! functions it exercises, how to draw its inputs, and how to apply it.

#![allow(dead_code)]

use rand::rngs::ChaCha12Rng;
use rand::RngExt;
use tapegrad::nn::functional as F;
use tapegrad::{seeded_rng, DType, GradcheckOptions, Result, Tensor};

/// Where an input's values are drawn, to keep clear of kinks and poles
/// (finite differences are wrong across them).
#[derive(Clone, Copy, Debug)]
pub enum Domain {
    /// Uniform in [-2, 2].
    Any,
    /// Uniform in [0.5, 2.5]: log, sqrt, fractional powers.
    Positive,
    /// |x| uniform in [0.25, 2.25], either sign: relu, abs, 1/x.
    AwayFromZero,
    /// Uniform in [-2, 2] but at least 0.1 from ±0.5 (clamp bounds).
    AwayFromHalf,
    /// Uniform in [0.05, 0.95]: probabilities.
    Probability,
}

/// Draws shapes, values and indices from a seeded generator, so that a
/// case is reproducible from its seed alone.
pub struct Gen {
    rng: ChaCha12Rng,
}

impl Gen {
    /// A generator for one case.
    pub fn new(seed: u64) -> Gen {
        Gen {
            rng: seeded_rng(seed),
        }
    }

    /// A number in `lo..=hi`.
    pub fn int(&mut self, lo: usize, hi: usize) -> usize {
        self.rng.random_range(lo..=hi)
    }

    /// True with probability one half.
    pub fn coin(&mut self) -> bool {
        self.rng.random_range(0..2) == 1
    }

    /// A shape of rank in `ranks` with sizes in `1..=max_size` (small: the
    /// gradient checks build full Jacobians).
    pub fn shape(&mut self, ranks: std::ops::RangeInclusive<usize>, max_size: usize) -> Vec<usize> {
        let rank = self.int(*ranks.start(), *ranks.end());
        (0..rank).map(|_| self.int(1, max_size)).collect()
    }

    /// An f64 tensor of `shape` with values in `domain`.
    pub fn values(&mut self, shape: &[usize], domain: Domain) -> Tensor {
        let n: usize = shape.iter().product();
        let data: Vec<f64> = (0..n)
            .map(|_| {
                let u: f64 = self.rng.random_range(0.0..1.0);
                match domain {
                    Domain::Any => 4.0 * u - 2.0,
                    Domain::Positive => 0.5 + 2.0 * u,
                    Domain::AwayFromZero => {
                        let m = 0.25 + 2.0 * u;
                        if self.coin() {
                            m
                        } else {
                            -m
                        }
                    }
                    Domain::AwayFromHalf => {
                        let v = 4.0 * u - 2.0;
                        if (v.abs() - 0.5).abs() < 0.1 {
                            v + 0.25
                        } else {
                            v
                        }
                    }
                    Domain::Probability => 0.05 + 0.9 * u,
                }
            })
            .collect();
        Tensor::from_vec(data, shape).unwrap()
    }

    /// An `int64` tensor of `shape` holding indices in `0..bound`.
    pub fn indices(&mut self, shape: &[usize], bound: usize) -> Tensor {
        let n: usize = shape.iter().product();
        let data: Vec<i64> = (0..n).map(|_| self.int(0, bound - 1) as i64).collect();
        Tensor::from_vec(data, shape).unwrap()
    }

    /// A dim of a tensor of rank `rank` (≥ 1), sometimes negative.
    pub fn dim(&mut self, rank: usize) -> isize {
        let d = self.int(0, rank - 1) as isize;
        if self.coin() {
            d - rank as isize
        } else {
            d
        }
    }

    /// A shape that broadcasts with `shape`: some sizes replaced by 1, some
    /// leading dims dropped.
    pub fn broadcastable(&mut self, shape: &[usize]) -> Vec<usize> {
        let drop = self.int(0, shape.len());
        shape[drop..]
            .iter()
            .map(|&s| if self.int(0, 3) == 0 { 1 } else { s })
            .collect()
    }
}

/// One drawn case: the inputs that gradients are checked against, the
/// constants the op also reads (indices, targets, masks), and integer
/// arguments (dims, sizes).
pub struct Case {
    pub inputs: Vec<Tensor>,
    pub consts: Vec<Tensor>,
    pub ints: Vec<isize>,
}

impl Case {
    fn new(inputs: Vec<Tensor>) -> Case {
        Case {
            inputs,
            consts: Vec::new(),
            ints: Vec::new(),
        }
    }
    fn consts(mut self, consts: Vec<Tensor>) -> Case {
        self.consts = consts;
        self
    }
    fn ints(mut self, ints: Vec<isize>) -> Case {
        self.ints = ints;
        self
    }
}

/// The constants and integer arguments of a case, as the op sees them.
pub struct Args<'a> {
    pub consts: &'a [Tensor],
    pub ints: &'a [isize],
}

impl Args<'_> {
    fn dim(&self, k: usize) -> isize {
        self.ints[k]
    }
    fn size(&self, k: usize) -> usize {
        self.ints[k] as usize
    }
    /// Constant `k` in the dtype of `like` (cases are drawn in f64; the
    /// property tests also run them in f32); integer constants (indices,
    /// class ids) stay `int64`.
    fn c(&self, k: usize, like: &Tensor) -> Tensor {
        let c = &self.consts[k];
        if c.dtype() == DType::I64 {
            c.clone()
        } else {
            c.to_dtype(like.dtype())
        }
    }
}

/// A registry entry.
pub struct Op {
    /// A name for reports.
    pub name: &'static str,
    /// The public fallible functions this entry exercises (`try_x`
    /// methods, or `nn::functional` functions), for tests/op_registry.rs.
    pub covers: &'static [&'static str],
    /// Gradcheck step and tolerances, where the defaults cannot apply
    /// (`None`: the defaults).
    pub gradcheck: Option<GradcheckOptions>,
    /// Draws a valid case.
    pub make: fn(&mut Gen) -> Case,
    /// Applies the op to the inputs (one tensor out).
    pub apply: fn(&[Tensor], &Args) -> Result<Tensor>,
}

impl Op {
    /// Runs the op on `inputs` with the constants of `case`.
    pub fn run(&self, inputs: &[Tensor], case: &Case) -> Result<Tensor> {
        (self.apply)(
            inputs,
            &Args {
                consts: &case.consts,
                ints: &case.ints,
            },
        )
    }
}

fn one(g: &mut Gen, domain: Domain) -> Case {
    let s = g.shape(0..=3, 3);
    Case::new(vec![g.values(&s, domain)])
}

fn pair(g: &mut Gen, da: Domain, db: Domain) -> Case {
    let s = g.shape(0..=3, 3);
    let t = g.broadcastable(&s);
    let (sa, sb) = if g.coin() { (s, t) } else { (t, s) };
    Case::new(vec![g.values(&sa, da), g.values(&sb, db)])
}

fn with_dim(g: &mut Gen, domain: Domain) -> Case {
    let s = g.shape(1..=3, 3);
    let d = g.dim(s.len());
    Case::new(vec![g.values(&s, domain)]).ints(vec![d])
}

/// Class scores `[N, C]` (or `[C]`) and class ids in `0..C`.
fn classes(g: &mut Gen) -> Case {
    let c = g.int(2, 4);
    if g.int(0, 3) == 0 {
        let x = g.values(&[c], Domain::Any);
        return Case::new(vec![x]).consts(vec![g.indices(&[], c)]);
    }
    let n = g.int(1, 3);
    let x = g.values(&[n, c], Domain::Any);
    Case::new(vec![x]).consts(vec![g.indices(&[n], c)])
}

/// Builds the registry entries for unary ops from `(name, method, domain)`.
macro_rules! unary {
    ($($name:literal, $covers:literal, $domain:ident, |$x:ident| $body:expr;)*) => {
        vec![$(Op {
            name: $name,
            covers: &[$covers],
            gradcheck: None,
            make: |g| one(g, Domain::$domain),
            apply: |xs, _| { let $x = &xs[0]; $body },
        }),*]
    };
}

/// Every differentiable public op.
pub fn registry() -> Vec<Op> {
    let mut ops = unary! {
        "neg", "try_neg", Any, |x| x.try_neg();
        "exp", "try_exp", Any, |x| x.try_exp();
        "expm1", "try_expm1", Any, |x| x.try_expm1();
        "log", "try_log", Positive, |x| x.try_log();
        "log1p", "try_log1p", Positive, |x| x.try_log1p();
        "sqrt", "try_sqrt", Positive, |x| x.try_sqrt();
        "rsqrt", "try_rsqrt", Positive, |x| x.try_rsqrt();
        "abs", "try_abs", AwayFromZero, |x| x.try_abs();
        "square", "try_square", Any, |x| x.try_square();
        "sin", "try_sin", Any, |x| x.try_sin();
        "cos", "try_cos", Any, |x| x.try_cos();
        "relu", "try_relu", AwayFromZero, |x| x.try_relu();
        "leaky_relu", "try_leaky_relu", AwayFromZero, |x| x.try_leaky_relu(0.1);
        "sigmoid", "try_sigmoid", Any, |x| x.try_sigmoid();
        "functional sigmoid", "sigmoid", Any, |x| F::sigmoid(x);
        "tanh", "try_tanh", Any, |x| x.try_tanh();
        "silu", "try_silu", Any, |x| x.try_silu();
        "softplus", "try_softplus", Any, |x| x.try_softplus();
        "softplus beta 2, threshold 1", "try_softplus_with", AwayFromHalf,
            |x| x.try_softplus_with(2.0, 1.0);
        "gelu", "try_gelu", Any, |x| x.try_gelu();
        "gelu tanh", "try_gelu_with", Any, |x| x.try_gelu_with("tanh");
        "clamp", "try_clamp", AwayFromHalf, |x| x.try_clamp(-0.5, 0.5);
        "add_scalar", "try_add_scalar", Any, |x| x.try_add_scalar(1.5);
        "sub_scalar", "try_sub_scalar", Any, |x| x.try_sub_scalar(1.5);
        "mul_scalar", "try_mul_scalar", Any, |x| x.try_mul_scalar(-2.5);
        "div_scalar", "try_div_scalar", Any, |x| x.try_div_scalar(4.0);
        "rsub_scalar", "try_rsub_scalar", Any, |x| x.try_rsub_scalar(1.5);
        "rdiv_scalar", "try_rdiv_scalar", AwayFromZero, |x| x.try_rdiv_scalar(2.0);
        "affine", "try_affine", Any, |x| x.try_affine(-1.5, 0.25);
        "powf", "try_powf", Positive, |x| x.try_powf(2.7);
        "sum", "try_sum", Any, |x| x.try_sum();
        "mean", "try_mean", Any, |x| x.try_mean();
        "max", "try_max", Any, |x| x.try_max();
        "min", "try_min", Any, |x| x.try_min();
        "squeeze_all", "try_squeeze_all", Any, |x| x.try_squeeze_all();
    };
    ops.push(Op {
        // Through f32 and back: finite differences need a step far above
        // f32's rounding (1e-7 relative), and a tolerance for it.
        name: "to_dtype f32 and back",
        covers: &["try_to_dtype"],
        gradcheck: Some(GradcheckOptions {
            eps: 1e-2,
            atol: 1e-4,
            rtol: 1e-4,
        }),
        make: |g| one(g, Domain::Any),
        apply: |x, _| x[0].try_to_dtype(DType::F32)?.try_to_dtype(DType::F64),
    });
    ops.extend(binary_ops());
    ops.extend(reduction_ops());
    ops.extend(view_ops());
    ops.extend(index_ops());
    ops.extend(matmul_ops());
    ops.extend(loss_ops());
    ops.extend(regression_ops());
    ops.extend(everyday_ops());
    ops
}

fn binary_ops() -> Vec<Op> {
    vec![
        Op {
            name: "add",
            covers: &["try_add"],
            gradcheck: None,
            make: |g| pair(g, Domain::Any, Domain::Any),
            apply: |x, _| x[0].try_add(&x[1]),
        },
        Op {
            name: "sub",
            covers: &["try_sub"],
            gradcheck: None,
            make: |g| pair(g, Domain::Any, Domain::Any),
            apply: |x, _| x[0].try_sub(&x[1]),
        },
        Op {
            name: "mul",
            covers: &["try_mul"],
            gradcheck: None,
            make: |g| pair(g, Domain::Any, Domain::Any),
            apply: |x, _| x[0].try_mul(&x[1]),
        },
        Op {
            name: "div",
            covers: &["try_div"],
            gradcheck: None,
            make: |g| pair(g, Domain::Any, Domain::AwayFromZero),
            apply: |x, _| x[0].try_div(&x[1]),
        },
        Op {
            name: "pow",
            covers: &["try_pow"],
            gradcheck: None,
            make: |g| pair(g, Domain::Positive, Domain::Any),
            apply: |x, _| x[0].try_pow(&x[1]),
        },
        Op {
            // Drawn independently, so ties have probability zero.
            name: "maximum",
            covers: &["try_maximum"],
            gradcheck: None,
            make: |g| pair(g, Domain::Any, Domain::Any),
            apply: |x, _| x[0].try_maximum(&x[1]),
        },
        Op {
            name: "minimum",
            covers: &["try_minimum"],
            gradcheck: None,
            make: |g| pair(g, Domain::Any, Domain::Any),
            apply: |x, _| x[0].try_minimum(&x[1]),
        },
        Op {
            name: "logaddexp",
            covers: &["try_logaddexp"],
            gradcheck: None,
            make: |g| pair(g, Domain::Any, Domain::Any),
            apply: |x, _| x[0].try_logaddexp(&x[1]),
        },
        Op {
            name: "where",
            covers: &["try_where_"],
            gradcheck: None,
            make: |g| {
                let c = pair(g, Domain::Any, Domain::Any);
                let s = c.inputs[0].dims().to_vec();
                let ms = g.broadcastable(&s);
                let mask = g.values(&ms, Domain::Any);
                let mask = mask.gt_scalar(0.0);
                c.consts(vec![mask])
            },
            apply: |x, a| Tensor::try_where_(&a.c(0, &x[0]), &x[0], &x[1]),
        },
        Op {
            name: "masked_fill",
            covers: &["try_masked_fill"],
            gradcheck: None,
            make: |g| {
                let c = one(g, Domain::Any);
                let s = c.inputs[0].dims().to_vec();
                let mask = g.values(&s, Domain::Any).gt_scalar(0.0);
                c.consts(vec![mask])
            },
            apply: |x, a| x[0].try_masked_fill(&a.c(0, &x[0]), -3.0),
        },
    ]
}

fn reduction_ops() -> Vec<Op> {
    vec![
        Op {
            name: "sum_dim",
            covers: &["try_sum_dim"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_sum_dim(a.dim(0), true),
        },
        Op {
            name: "sum_dims",
            covers: &["try_sum_dims"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_sum_dims(&[a.dim(0)], false),
        },
        Op {
            name: "sum_to",
            covers: &["try_sum_to"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=3, 3);
                let to = g.broadcastable(&s);
                Case::new(vec![g.values(&s, Domain::Any)])
                    .ints(to.iter().map(|&d| d as isize).collect())
            },
            apply: |x, a| {
                let to: Vec<usize> = a.ints.iter().map(|&d| d as usize).collect();
                x[0].try_sum_to(to.as_slice())
            },
        },
        Op {
            name: "mean_dim",
            covers: &["try_mean_dim"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_mean_dim(a.dim(0), false),
        },
        Op {
            name: "mean_dims",
            covers: &["try_mean_dims"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_mean_dims(&[a.dim(0)], true),
        },
        Op {
            name: "amax",
            covers: &["try_amax"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_amax(&[a.dim(0)], false),
        },
        Op {
            name: "amin",
            covers: &["try_amin"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_amin(&[a.dim(0)], true),
        },
        Op {
            name: "max_dim values",
            covers: &["try_max_dim"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| Ok(x[0].try_max_dim(a.dim(0), false)?.0),
        },
        Op {
            name: "min_dim values",
            covers: &["try_min_dim"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| Ok(x[0].try_min_dim(a.dim(0), true)?.0),
        },
        Op {
            name: "logsumexp",
            covers: &["try_logsumexp"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_logsumexp(&[a.dim(0)], false),
        },
        Op {
            name: "var",
            covers: &["try_var"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_var(&[a.dim(0)], 0, false),
        },
        Op {
            // std has a pole where the variance is 0: sizes of 2 or more.
            name: "std",
            covers: &["try_std"],
            gradcheck: None,
            make: |g| {
                let mut s = g.shape(1..=3, 3);
                let d = g.int(0, s.len() - 1);
                s[d] = g.int(2, 4);
                Case::new(vec![g.values(&s, Domain::Any)]).ints(vec![d as isize])
            },
            apply: |x, a| x[0].try_std(&[a.dim(0)], 1, true),
        },
        Op {
            name: "softmax",
            covers: &["try_softmax", "softmax"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| F::softmax(&x[0], a.dim(0)),
        },
        Op {
            name: "log_softmax",
            covers: &["try_log_softmax", "log_softmax"],
            gradcheck: None,
            make: |g| with_dim(g, Domain::Any),
            apply: |x, a| x[0].try_log_softmax(a.dim(0)),
        },
    ]
}

fn view_ops() -> Vec<Op> {
    vec![
        Op {
            name: "reshape",
            covers: &["try_reshape"],
            gradcheck: None,
            make: |g| one(g, Domain::Any),
            apply: |x, _| x[0].try_reshape([-1i32]),
        },
        Op {
            name: "flatten",
            covers: &["try_flatten"],
            gradcheck: None,
            make: |g| one(g, Domain::Any),
            apply: |x, _| x[0].try_flatten(0, -1),
        },
        Op {
            name: "transpose",
            covers: &["try_transpose"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=3, 3);
                let (a, b) = (g.dim(s.len()), g.dim(s.len()));
                Case::new(vec![g.values(&s, Domain::Any)]).ints(vec![a, b])
            },
            apply: |x, a| x[0].try_transpose(a.dim(0), a.dim(1)),
        },
        Op {
            name: "t",
            covers: &["try_t"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(0..=2, 3);
                Case::new(vec![g.values(&s, Domain::Any)])
            },
            apply: |x, _| x[0].try_t(),
        },
        Op {
            // A copy, recorded: the gradient reaches the original.
            name: "contiguous of a transpose",
            covers: &["try_contiguous"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(2..=3, 3);
                Case::new(vec![g.values(&s, Domain::Any)])
            },
            apply: |x, _| {
                x[0].try_transpose(0, -1)?
                    .try_contiguous()?
                    .try_mul_scalar(2.0)
            },
        },
        Op {
            name: "permute",
            covers: &["try_permute"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(3..=3, 3);
                Case::new(vec![g.values(&s, Domain::Any)])
            },
            apply: |x, _| x[0].try_permute(&[2, 0, 1]),
        },
        Op {
            name: "squeeze",
            covers: &["try_squeeze"],
            gradcheck: None,
            make: |g| {
                let mut s = g.shape(1..=3, 3);
                let d = g.int(0, s.len() - 1);
                s[d] = 1;
                Case::new(vec![g.values(&s, Domain::Any)]).ints(vec![d as isize])
            },
            apply: |x, a| x[0].try_squeeze(a.dim(0)),
        },
        Op {
            name: "unsqueeze",
            covers: &["try_unsqueeze"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(0..=3, 3);
                let d = g.int(0, s.len()) as isize;
                Case::new(vec![g.values(&s, Domain::Any)]).ints(vec![d])
            },
            apply: |x, a| x[0].try_unsqueeze(a.dim(0)),
        },
        Op {
            name: "expand",
            covers: &["try_expand", "try_broadcast_to"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=3, 3);
                let small = g.broadcastable(&s);
                Case::new(vec![g.values(&small, Domain::Any)])
                    .ints(s.iter().map(|&d| d as isize).collect())
            },
            apply: |x, a| {
                let to: Vec<usize> = a.ints.iter().map(|&d| d as usize).collect();
                x[0].try_expand(to.as_slice())?
                    .try_mul_scalar(2.0)?
                    .try_add(&x[0].try_broadcast_to(to.as_slice())?)
            },
        },
        Op {
            name: "narrow",
            covers: &["try_narrow"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=3, 4);
                let d = g.int(0, s.len() - 1);
                let start = g.int(0, s[d] - 1);
                let len = g.int(0, s[d] - start);
                Case::new(vec![g.values(&s, Domain::Any)]).ints(vec![
                    d as isize,
                    start as isize,
                    len as isize,
                ])
            },
            apply: |x, a| x[0].try_narrow(a.dim(0), a.dim(1), a.size(2)),
        },
        Op {
            name: "pad_dim",
            covers: &["try_pad_dim"],
            gradcheck: None,
            make: |g| {
                let c = with_dim(g, Domain::Any);
                let (before, after) = (g.int(0, 2) as isize, g.int(0, 2) as isize);
                let d = c.ints[0];
                c.ints(vec![d, before, after])
            },
            apply: |x, a| x[0].try_pad_dim(a.dim(0), a.size(1), a.size(2)),
        },
        Op {
            name: "cat",
            covers: &["try_cat"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=3, 3);
                let d = g.int(0, s.len() - 1);
                let mut t = s.clone();
                t[d] = g.int(0, 3);
                Case::new(vec![g.values(&s, Domain::Any), g.values(&t, Domain::Any)])
                    .ints(vec![d as isize])
            },
            apply: |x, a| Tensor::try_cat(&[&x[0], &x[1]], a.dim(0)),
        },
        Op {
            name: "stack",
            covers: &["try_stack"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(0..=2, 3);
                let d = g.int(0, s.len()) as isize;
                Case::new(vec![g.values(&s, Domain::Any), g.values(&s, Domain::Any)]).ints(vec![d])
            },
            apply: |x, a| Tensor::try_stack(&[&x[0], &x[1]], a.dim(0)),
        },
        Op {
            // The pieces are weighted differently before summing, so a
            // gradient routed to the wrong piece shows.
            name: "split, split_with_sizes, chunk",
            covers: &["try_split", "try_split_with_sizes", "try_chunk"],
            gradcheck: None,
            make: |g| {
                let mut s = g.shape(1..=3, 3);
                let d = g.int(0, s.len() - 1);
                s[d] = g.int(2, 5);
                Case::new(vec![g.values(&s, Domain::Any)]).ints(vec![d as isize, s[d] as isize])
            },
            apply: |x, a| {
                let (d, n) = (a.dim(0), a.size(1));
                let weighted = |parts: Vec<Tensor>| -> Result<Tensor> {
                    let mut total = Tensor::full_dtype(Vec::<usize>::new(), 0.0, x[0].dtype());
                    for (k, p) in parts.iter().enumerate() {
                        total = total.try_add(&p.try_mul_scalar(k as f64 + 1.0)?.try_sum()?)?;
                    }
                    Ok(total)
                };
                let a = weighted(x[0].try_split(2, d)?)?;
                let b = weighted(x[0].try_split_with_sizes(&[1, n - 1], d)?)?;
                let c = weighted(x[0].try_chunk(2, d)?)?;
                Tensor::try_stack(&[&a, &b, &c], 0)
            },
        },
    ]
}

fn index_ops() -> Vec<Op> {
    vec![
        Op {
            name: "index_select",
            covers: &["try_index_select"],
            gradcheck: None,
            make: |g| {
                let c = with_dim(g, Domain::Any);
                let n = c.inputs[0].dims()[norm(c.ints[0], c.inputs[0].ndim())];
                let k = g.int(0, 4);
                let idx = g.indices(&[k], n);
                c.consts(vec![idx])
            },
            apply: |x, a| x[0].try_index_select(a.dim(0), &a.c(0, &x[0])),
        },
        Op {
            name: "index_add",
            covers: &["try_index_add"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=3, 3);
                let d = g.int(0, s.len() - 1);
                let k = g.int(0, 4);
                let mut src = s.clone();
                src[d] = k;
                let idx = g.indices(&[k], s[d]);
                Case::new(vec![g.values(&s, Domain::Any), g.values(&src, Domain::Any)])
                    .consts(vec![idx])
                    .ints(vec![d as isize])
            },
            apply: |x, a| x[0].try_index_add(a.dim(0), &a.c(0, &x[0]), &x[1]),
        },
        Op {
            name: "gather",
            covers: &["try_gather"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=3, 3);
                let d = g.int(0, s.len() - 1);
                let mut is = s.clone();
                is[d] = g.int(0, 4);
                let idx = g.indices(&is, s[d]);
                Case::new(vec![g.values(&s, Domain::Any)])
                    .consts(vec![idx])
                    .ints(vec![d as isize])
            },
            apply: |x, a| x[0].try_gather(a.dim(0), &a.c(0, &x[0])),
        },
        Op {
            name: "scatter_add",
            covers: &["try_scatter_add"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=3, 3);
                let d = g.int(0, s.len() - 1);
                let mut is = s.clone();
                is[d] = g.int(0, 4);
                let idx = g.indices(&is, s[d]);
                Case::new(vec![g.values(&s, Domain::Any), g.values(&is, Domain::Any)])
                    .consts(vec![idx])
                    .ints(vec![d as isize])
            },
            apply: |x, a| x[0].try_scatter_add(a.dim(0), &a.c(0, &x[0]), &x[1]),
        },
    ]
}

fn norm(dim: isize, rank: usize) -> usize {
    if dim < 0 {
        (dim + rank as isize) as usize
    } else {
        dim as usize
    }
}

fn matmul_ops() -> Vec<Op> {
    vec![
        Op {
            // Every rank pair torch.matmul accepts, batch dims broadcast.
            name: "matmul",
            covers: &["try_matmul"],
            gradcheck: None,
            make: |g| {
                let (m, k, n) = (g.int(1, 3), g.int(1, 3), g.int(1, 3));
                let a: Vec<usize> = match g.int(0, 2) {
                    0 => vec![k],
                    1 => vec![m, k],
                    _ => vec![g.int(1, 2), m, k],
                };
                let b: Vec<usize> = match g.int(0, 2) {
                    0 => vec![k],
                    1 => vec![k, n],
                    _ => vec![g.int(1, 2), k, n],
                };
                let b = if a.len() == 3 && b.len() == 3 {
                    vec![if g.coin() { 1 } else { a[0] }, k, n]
                } else {
                    b
                };
                Case::new(vec![g.values(&a, Domain::Any), g.values(&b, Domain::Any)])
            },
            apply: |x, _| x[0].try_matmul(&x[1]),
        },
        Op {
            // A transposed weight, as `Linear` uses it.
            name: "mm with a transposed operand",
            covers: &["try_mm"],
            gradcheck: None,
            make: |g| {
                let (m, k, n) = (g.int(1, 3), g.int(1, 3), g.int(1, 3));
                Case::new(vec![
                    g.values(&[m, k], Domain::Any),
                    g.values(&[n, k], Domain::Any),
                ])
            },
            apply: |x, _| x[0].try_mm(&x[1].try_t()?),
        },
        Op {
            name: "bmm",
            covers: &["try_bmm"],
            gradcheck: None,
            make: |g| {
                let (b, m, k, n) = (g.int(1, 2), g.int(1, 3), g.int(1, 3), g.int(1, 3));
                Case::new(vec![
                    g.values(&[b, m, k], Domain::Any),
                    g.values(&[b, k, n], Domain::Any),
                ])
            },
            apply: |x, _| x[0].try_bmm(&x[1]),
        },
    ]
}

/// An input and a target of one shape, both differentiable.
fn regression_pair(g: &mut Gen) -> Case {
    let s = g.shape(0..=3, 3);
    Case::new(vec![g.values(&s, Domain::Any), g.values(&s, Domain::Any)])
}

fn regression_ops() -> Vec<Op> {
    use tapegrad::nn::functional::{
        HuberLossOptions, L1LossOptions, MseLossOptions, Reduction, SmoothL1LossOptions,
    };
    vec![
        Op {
            name: "mse_loss",
            covers: &["mse_loss"],
            gradcheck: None,
            make: regression_pair,
            apply: |x, _| F::mse_loss(&x[0], &x[1]),
        },
        Op {
            name: "mse_loss, sum",
            covers: &["mse_loss_with"],
            gradcheck: None,
            make: regression_pair,
            apply: |x, _| {
                let o = MseLossOptions::default().reduction(Reduction::Sum);
                F::mse_loss_with(&x[0], &x[1], &o)
            },
        },
        Op {
            name: "l1_loss",
            covers: &["l1_loss"],
            gradcheck: None,
            make: regression_pair,
            apply: |x, _| F::l1_loss(&x[0], &x[1]),
        },
        Op {
            name: "l1_loss, no reduction",
            covers: &["l1_loss_with"],
            gradcheck: None,
            make: regression_pair,
            apply: |x, _| {
                let o = L1LossOptions::default().reduction(Reduction::None);
                F::l1_loss_with(&x[0], &x[1], &o)
            },
        },
        Op {
            name: "smooth_l1_loss",
            covers: &["smooth_l1_loss"],
            gradcheck: None,
            make: regression_pair,
            apply: |x, _| F::smooth_l1_loss(&x[0], &x[1]),
        },
        Op {
            name: "smooth_l1_loss, beta 0.5, no reduction",
            covers: &["smooth_l1_loss_with"],
            gradcheck: None,
            make: regression_pair,
            apply: |x, _| {
                let o = SmoothL1LossOptions::default()
                    .beta(0.5)
                    .reduction(Reduction::None);
                F::smooth_l1_loss_with(&x[0], &x[1], &o)
            },
        },
        Op {
            name: "huber_loss",
            covers: &["huber_loss"],
            gradcheck: None,
            make: regression_pair,
            apply: |x, _| F::huber_loss(&x[0], &x[1]),
        },
        Op {
            name: "huber_loss, delta 0.7, sum",
            covers: &["huber_loss_with"],
            gradcheck: None,
            make: regression_pair,
            apply: |x, _| {
                let o = HuberLossOptions::default()
                    .delta(0.7)
                    .reduction(Reduction::Sum);
                F::huber_loss_with(&x[0], &x[1], &o)
            },
        },
    ]
}

fn loss_ops() -> Vec<Op> {
    use tapegrad::nn::functional::{
        BceOptions, BceWithLogitsOptions, CrossEntropyOptions, KlDivOptions, NllLossOptions,
    };
    use tapegrad::nn::functional::{KlReduction, Reduction};
    vec![
        Op {
            name: "cross_entropy",
            covers: &["cross_entropy"],
            gradcheck: None,
            make: classes,
            apply: |x, a| F::cross_entropy(&x[0], &a.c(0, &x[0])),
        },
        Op {
            name: "cross_entropy with label smoothing, sum",
            covers: &["cross_entropy_with"],
            gradcheck: None,
            make: classes,
            apply: |x, a| {
                let o = CrossEntropyOptions::default()
                    .label_smoothing(0.2)
                    .reduction(Reduction::Sum);
                F::cross_entropy_with(&x[0], &a.c(0, &x[0]), &o)
            },
        },
        Op {
            name: "cross_entropy with probabilities",
            covers: &["cross_entropy_with"],
            gradcheck: None,
            make: |g| {
                let n = g.int(1, 3);
                let c = g.int(2, 4);
                let x = g.values(&[n, c], Domain::Any);
                let t = g.values(&[n, c], Domain::Probability);
                Case::new(vec![x, t])
            },
            apply: |x, _| F::cross_entropy_with(&x[0], &x[1], &CrossEntropyOptions::default()),
        },
        Op {
            name: "nll_loss of log_softmax",
            covers: &["nll_loss"],
            gradcheck: None,
            make: classes,
            apply: |x, a| F::nll_loss(&x[0].try_log_softmax(-1)?, &a.c(0, &x[0])),
        },
        Op {
            name: "nll_loss, no reduction",
            covers: &["nll_loss_with"],
            gradcheck: None,
            make: classes,
            apply: |x, a| {
                let o = NllLossOptions::default().reduction(Reduction::None);
                F::nll_loss_with(&x[0], &a.c(0, &x[0]), &o)
            },
        },
        Op {
            name: "binary_cross_entropy",
            covers: &["binary_cross_entropy"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(0..=2, 3);
                Case::new(vec![
                    g.values(&s, Domain::Probability),
                    g.values(&s, Domain::Probability),
                ])
            },
            apply: |x, _| F::binary_cross_entropy(&x[0], &x[1]),
        },
        Op {
            name: "binary_cross_entropy, sum",
            covers: &["binary_cross_entropy_with"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(0..=2, 3);
                Case::new(vec![g.values(&s, Domain::Probability)])
                    .consts(vec![g.values(&s, Domain::Probability)])
            },
            apply: |x, a| {
                let o = BceOptions::default().reduction(Reduction::Sum);
                F::binary_cross_entropy_with(&x[0], &a.c(0, &x[0]), &o)
            },
        },
        Op {
            name: "binary_cross_entropy_with_logits",
            covers: &["binary_cross_entropy_with_logits"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(0..=2, 3);
                Case::new(vec![
                    g.values(&s, Domain::Any),
                    g.values(&s, Domain::Probability),
                ])
            },
            apply: |x, _| F::binary_cross_entropy_with_logits(&x[0], &x[1]),
        },
        Op {
            name: "binary_cross_entropy_with_logits, pos_weight",
            covers: &["binary_cross_entropy_with_logits_with"],
            gradcheck: None,
            make: |g| {
                let n = g.int(1, 3);
                let c = g.int(1, 3);
                Case::new(vec![
                    g.values(&[n, c], Domain::Any),
                    g.values(&[n, c], Domain::Probability),
                ])
                .consts(vec![g.values(&[c], Domain::Positive)])
            },
            apply: |x, a| {
                let o = BceWithLogitsOptions::default().pos_weight(a.c(0, &x[0]));
                F::binary_cross_entropy_with_logits_with(&x[0], &x[1], &o)
            },
        },
        Op {
            name: "kl_div",
            covers: &["kl_div"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=2, 3);
                Case::new(vec![
                    g.values(&s, Domain::Any),
                    g.values(&s, Domain::Probability),
                ])
            },
            apply: |x, _| F::kl_div(&x[0], &x[1]),
        },
        Op {
            name: "kl_div, batchmean, log_target",
            covers: &["kl_div_with"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(1..=2, 3);
                Case::new(vec![g.values(&s, Domain::Any), g.values(&s, Domain::Any)])
            },
            apply: |x, _| {
                let o = KlDivOptions::default()
                    .reduction(KlReduction::BatchMean)
                    .log_target(true);
                F::kl_div_with(&x[0], &x[1], &o)
            },
        },
    ]
}

/// cumsum, tril/triu, repeat, sort/topk values, norm.
fn everyday_ops() -> Vec<Op> {
    vec![
        Op {
            name: "cumsum",
            covers: &["try_cumsum"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(0..=3, 3);
                let d = if s.is_empty() { 0 } else { g.dim(s.len()) };
                Case::new(vec![g.values(&s, Domain::Any)]).ints(vec![d])
            },
            apply: |x, a| x[0].try_cumsum(a.dim(0)),
        },
        Op {
            // Weighted so a value kept in the wrong place shows.
            name: "tril and triu",
            covers: &["try_tril", "try_triu"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(2..=3, 4);
                let diagonal = g.int(0, 4) as isize - 2;
                Case::new(vec![g.values(&s, Domain::Any)]).ints(vec![diagonal])
            },
            apply: |x, a| {
                x[0].try_tril(a.dim(0))?
                    .try_add(&x[0].try_triu(a.dim(0))?.try_mul_scalar(3.0)?)
            },
        },
        Op {
            name: "repeat",
            covers: &["try_repeat"],
            gradcheck: None,
            make: |g| {
                let s = g.shape(0..=2, 3);
                let extra = g.int(0, 1);
                let sizes: Vec<isize> =
                    (0..s.len() + extra).map(|_| g.int(1, 3) as isize).collect();
                Case::new(vec![g.values(&s, Domain::Any)]).ints(sizes)
            },
            apply: |x, a| {
                let sizes: Vec<usize> = a.ints.iter().map(|&r| r as usize).collect();
                x[0].try_repeat(&sizes)
            },
        },
        Op {
            // Values drawn independently, so ties have probability zero.
            name: "sort values",
            covers: &["try_sort"],
            gradcheck: None,
            make: |g| {
                let c = with_dim(g, Domain::Any);
                let descending = g.int(0, 1) as isize;
                let d = c.ints[0];
                c.ints(vec![d, descending])
            },
            apply: |x, a| Ok(x[0].try_sort(a.dim(0), a.ints[1] == 1)?.0),
        },
        Op {
            name: "topk values",
            covers: &["try_topk"],
            gradcheck: None,
            make: |g| {
                let c = with_dim(g, Domain::Any);
                let d = c.ints[0];
                let size = c.inputs[0].dims()[norm(d, c.inputs[0].ndim())];
                let k = g.int(0, size) as isize;
                let largest = g.int(0, 1) as isize;
                c.ints(vec![d, k, largest])
            },
            apply: |x, a| Ok(x[0].try_topk(a.size(1), a.dim(0), a.ints[2] == 1, true)?.0),
        },
        Op {
            // Away from 0 (the 1-norm's kink) and from ties of |x| (the
            // inf-norm's); the three norms weighted differently.
            name: "norm p = 1, 2, inf",
            covers: &["try_norm"],
            gradcheck: None,
            make: |g| {
                let c = with_dim(g, Domain::AwayFromZero);
                let keepdim = g.int(0, 1) as isize;
                let d = c.ints[0];
                c.ints(vec![d, keepdim])
            },
            apply: |x, a| {
                let (dims, keep) = ([a.dim(0)], a.ints[1] == 1);
                let one = x[0].try_norm(1.0, &dims, keep)?;
                let two = x[0].try_norm(2.0, &dims, keep)?.try_mul_scalar(2.0)?;
                let inf = x[0]
                    .try_norm(f64::INFINITY, &dims, keep)?
                    .try_mul_scalar(-1.5)?;
                one.try_add(&two)?.try_add(&inf)
            },
        },
    ]
}
