//! An op-sequence interpreter for fuzzing tapegrad's fallible API.
//!
//! [`run`] decodes a byte string into a short program: create tensors (of
//! random, often huge or inconsistent shapes and dtypes), apply random ops
//! with random (often invalid) dims, sizes, indices and scalars through the
//! `try_` API, and run backward / `grad` on random results. Every call must
//! return `Ok` or `Err`; a panic, an abort or a hang is a bug.
//!
//! The same file is compiled by the stable test `tests/fuzz_ops.rs` (fixed
//! seeds plus regression inputs) and by the cargo-fuzz target
//! `fuzz/fuzz_targets/ops.rs`, both through `#[path]`, so the crate needs no
//! fuzz-only code.
//!
//! Besides "no panic", it checks a few invariants that must hold whatever
//! the input: `to_vec` has `numel` elements, and every gradient that
//! `backward`/`grad` hands back has the shape and dtype of its tensor.

#![allow(dead_code)]

mod nn;
#[path = "../common/ops.rs"]
pub mod registry;

use std::sync::atomic::{AtomicUsize, Ordering};

use tapegrad::{clear_tape, detect_anomaly, grad, no_grad, BackwardOptions, DType, Result, Tensor};

/// Counters for judging how much of the API a set of programs reaches:
/// ops run, ops that returned `Ok`, backward calls that returned `Ok`,
/// optimizer steps that returned `Ok` and checkpoint loads that returned
/// `Ok`.
pub static STATS: [AtomicUsize; 5] = [const { AtomicUsize::new(0) }; 5];

/// Programs longer than this are cut, so that no input can run for long.
pub const MAX_OPS: usize = 48;
/// Tensors with more elements than this are not kept on the stack: ops on
/// them would be slow, not wrong. Valid shapes from the size pool stay far
/// below it; the huge sizes in the pool make shapes that must be refused.
const MAX_KEPT: usize = 1 << 14;
const MAX_STACK: usize = 8;

/// Reads the program's arguments from the input bytes; past the end it
/// reads zeros.
pub struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bytes { data, at: 0 }
    }
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn pick(&mut self, n: usize) -> usize {
        self.u8() as usize % n
    }
    fn flag(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    /// A dim size: mostly 0..=5, sometimes one whose products overflow or
    /// cannot be allocated.
    fn size(&mut self) -> usize {
        match self.u8() {
            b @ 0..=239 => (b % 6) as usize,
            240..=243 => 1 << 40,
            244..=246 => 1 << 62,
            247..=249 => usize::MAX,
            250..=252 => isize::MAX as usize,
            _ => 1 << 44,
        }
    }
    /// A count such as a pad width or a split size.
    fn count(&mut self) -> usize {
        match self.u8() {
            b @ 0..=247 => (b % 7) as usize,
            248..=251 => 1 << 40,
            _ => usize::MAX,
        }
    }
    fn dims(&mut self) -> Vec<usize> {
        let rank = self.pick(6); // 5 is rank 5: beyond what most tests use
        (0..rank).map(|_| self.size()).collect()
    }
    /// A dim argument: mostly -5..=5, sometimes extreme.
    fn dim(&mut self) -> isize {
        match self.u8() {
            b @ 0..=249 => (b % 11) as isize - 5,
            250..=252 => isize::MIN,
            _ => isize::MAX,
        }
    }
    fn dim_list(&mut self) -> Vec<isize> {
        let n = self.pick(5);
        (0..n).map(|_| self.dim()).collect()
    }
    /// A signed size for `reshape`, including -1 (infer) and other negatives.
    /// No large positive sizes: a single i32 (up to 2^31 elements, 16 GiB
    /// in f64) can be a valid allocation on a large machine; huge sizes come
    /// through the `usize` shapes of [`Bytes::dims`].
    fn signed_size(&mut self) -> i32 {
        match self.u8() {
            b @ 0..=229 => (b % 7) as i32 - 1,
            230..=247 => -2,
            _ => i32::MIN,
        }
    }
    fn scalar(&mut self) -> f64 {
        const POOL: [f64; 16] = [
            0.0,
            1.0,
            -1.0,
            0.5,
            2.0,
            -2.5,
            3.0,
            1e4,
            -1e4,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e308,
            -1e-310,
            0.01,
            20.0,
        ];
        POOL[self.pick(POOL.len())]
    }
    /// An element value: mostly ordinary numbers, sometimes special ones.
    fn value(&mut self) -> f64 {
        let b = self.u8();
        match b {
            0..=199 => (b as f64 - 100.0) / 16.0,
            _ => self.scalar(),
        }
    }
    /// An index value: mostly valid small integers, sometimes negative,
    /// fractional, NaN, infinite or huge.
    fn index_value(&mut self) -> f64 {
        match self.u8() {
            b @ 0..=219 => (b % 6) as f64,
            220..=227 => -1.0,
            228..=235 => 0.5,
            236..=241 => f64::NAN,
            242..=245 => f64::INFINITY,
            246..=249 => 1e20,
            _ => 9.223372036854776e18,
        }
    }
    fn dtype(&mut self) -> DType {
        match self.pick(5) {
            0 | 1 => DType::F32,
            2 | 3 => DType::F64,
            // Integer tensors reach every op: each must take them or refuse
            // them with an error, never reach a float kernel.
            _ => DType::I64,
        }
    }
}

/// The element count of `dims` if the shape is small enough to fill with
/// data. Sizes of 0 count as 1 in the bound: tapegrad refuses shapes whose
/// other sizes could not be allocated, even when one size is 0.
fn small_numel(dims: &[usize]) -> Option<usize> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d.max(1)))
        .filter(|&n| n <= 256)
        .map(|_| dims.iter().product())
}

fn from_values(values: Vec<f64>, dims: &[usize], dtype: DType) -> Result<Tensor> {
    match dtype {
        DType::F64 => Tensor::from_vec(values, dims),
        DType::I64 => Tensor::from_vec(values.iter().map(|&v| v as i64).collect::<Vec<_>>(), dims),
        DType::F32 => Tensor::from_vec(values.iter().map(|&v| v as f32).collect::<Vec<_>>(), dims),
    }
}

/// Checks what must hold for every tensor an op returns.
fn check_tensor(t: &Tensor) {
    let n = t.numel();
    assert_eq!(t.dims().iter().product::<usize>(), n, "numel vs dims");
    if n <= MAX_KEPT {
        assert_eq!(t.to_vec::<f64>().len(), n, "to_vec length");
    }
}

/// The interpreter's state: a small stack of tensors and the leaves made.
struct Machine {
    stack: Vec<Tensor>,
    leaves: Vec<Tensor>,
    /// Nesting of scoped steps (anomaly mode, no_grad), bounded so that no
    /// input can overflow the stack.
    depth: usize,
    /// The model, optimizer and schedule that training steps use.
    model: Option<Box<dyn tapegrad::nn::Module>>,
    optimizer: Option<Box<dyn tapegrad::optim::Optimizer>>,
    scheduler: Option<Box<dyn tapegrad::optim::LrScheduler>>,
}

impl Machine {
    /// This thread's scratch file for checkpoints (the stable test runs
    /// programs on several threads at once).
    fn temp_path(&self) -> std::path::PathBuf {
        let id = format!("{:?}", std::thread::current().id());
        let id: String = id.chars().filter(char::is_ascii_digit).collect();
        std::env::temp_dir().join(format!(
            "tapegrad-fuzz-{}-{id}.safetensors",
            std::process::id()
        ))
    }

    fn push(&mut self, r: Result<Tensor>) {
        if let Ok(t) = r {
            STATS[1].fetch_add(1, Ordering::Relaxed);
            check_tensor(&t);
            if t.numel() > MAX_KEPT {
                return;
            }
            if self.stack.len() >= MAX_STACK {
                self.stack.remove(0);
            }
            self.stack.push(t);
        }
    }
    fn push_all(&mut self, r: Result<Vec<Tensor>>) {
        if let Ok(parts) = r {
            for t in parts.into_iter().take(3) {
                self.push(Ok(t));
            }
        }
    }
    /// An operand from the stack (or a fresh scalar when it is empty).
    fn get(&self, b: &mut Bytes) -> Tensor {
        if self.stack.is_empty() {
            return Tensor::scalar(1.0f32);
        }
        self.stack[b.pick(self.stack.len())].clone()
    }

    /// An operand that requires grad when there is one (mostly), so that
    /// backward calls reach the sweep rather than failing up front.
    fn get_tracked(&self, b: &mut Bytes) -> Tensor {
        let tracked: Vec<&Tensor> = self.stack.iter().filter(|t| t.requires_grad()).collect();
        if tracked.is_empty() || b.u8() < 32 {
            return self.get(b);
        }
        tracked[b.pick(tracked.len())].clone()
    }

    /// A leaf that requires grad (mostly), else any operand.
    fn get_leaf(&self, b: &mut Bytes) -> Tensor {
        if self.leaves.is_empty() || b.u8() < 32 {
            return self.get(b);
        }
        self.leaves[b.pick(self.leaves.len())].clone()
    }

    fn new_tensor(&mut self, b: &mut Bytes, index_values: bool) {
        let dims = b.dims();
        let dtype = b.dtype();
        let requires_grad = !index_values && b.flag();
        let Some(n) = small_numel(&dims) else {
            // Too large to fill: no data matches unless the shape is empty,
            // and the pool's large sizes can never be allocated, so from_vec
            // must refuse an empty vector too.
            let r = from_values(Vec::new(), &dims, dtype);
            let huge = dims.iter().any(|&d| d >= 1 << 40);
            let empty = dims.contains(&0);
            if huge || !empty {
                assert!(r.is_err(), "from_vec accepted no data for shape {dims:?}");
            } else {
                assert!(r.is_ok(), "from_vec refused an empty {dims:?}");
            }
            return;
        };
        let values: Vec<f64> = (0..n)
            .map(|_| {
                if index_values {
                    b.index_value()
                } else {
                    b.value()
                }
            })
            .collect();
        // Sometimes the wrong number of values: must be an error.
        if b.u8() > 250 {
            let mut wrong = values.clone();
            wrong.push(0.0);
            assert!(from_values(wrong, &dims, dtype).is_err());
        }
        let t = from_values(values, &dims, dtype).expect("a matching length is accepted");
        let t = match t.clone().try_requires_grad_(requires_grad) {
            Ok(t) if requires_grad => {
                self.leaves.push(t.clone());
                t
            }
            Ok(t) => t,
            // Integer tensors cannot require grad.
            Err(_) => t,
        };
        self.push(Ok(t));
    }

    fn backward(&mut self, b: &mut Bytes) {
        let y = self.get_tracked(b);
        let retain_graph = b.flag();
        let create_graph = b.u8() > 200;
        let options = BackwardOptions {
            retain_graph,
            create_graph,
            ..Default::default()
        };
        let r = match b.pick(5) {
            0 => y.try_backward(),
            4 => y.try_backward_with(None, options),
            1 => {
                // A seed of the output's shape, or of some other tensor's.
                let seed = if b.flag() {
                    Tensor::full_like(&y, 1.0)
                } else {
                    self.get(b)
                };
                y.try_backward_with(Some(&seed), options)
            }
            2 => {
                let inputs: Vec<Tensor> = (0..1 + b.pick(3)).map(|_| self.get_leaf(b)).collect();
                let refs: Vec<&Tensor> = inputs.iter().collect();
                let r = grad(&[&y], &refs, create_graph);
                if let Ok(gs) = &r {
                    assert_eq!(gs.len(), inputs.len());
                    for (g, x) in gs.iter().zip(&inputs) {
                        assert_eq!(g.shape(), x.shape(), "grad() shape");
                        assert_eq!(g.dtype(), x.dtype(), "grad() dtype");
                        check_tensor(g);
                    }
                }
                r.map(|_| ())
            }
            _ => y.try_sum().and_then(|s| s.try_backward_with(None, options)),
        };
        if r.is_ok() {
            STATS[2].fetch_add(1, Ordering::Relaxed);
        }
        for leaf in &self.leaves {
            if let Some(g) = leaf.grad() {
                assert_eq!(g.shape(), leaf.shape(), "accumulated .grad shape");
                assert_eq!(g.dtype(), leaf.dtype(), "accumulated .grad dtype");
                check_tensor(&g);
            }
        }
        if b.u8() > 200 {
            for leaf in &self.leaves {
                leaf.zero_grad();
            }
        }
    }

    /// Decodes and runs one op.
    fn step(&mut self, b: &mut Bytes) {
        STATS[0].fetch_add(1, Ordering::Relaxed);
        let op = b.u8();
        match op % 64 {
            0..=3 => self.new_tensor(b, false),
            4 => self.new_tensor(b, true),
            5 => self.unary(b),
            6 => self.unary(b),
            7 => self.binary(b),
            8 => self.binary(b),
            9 => self.scalar_op(b),
            10 => self.compare(b),
            11 => {
                let (c, x, y) = (self.get(b), self.get(b), self.get(b));
                self.push(Tensor::try_where_(&c, &x, &y));
            }
            12 => {
                let (x, m) = (self.get(b), self.get(b));
                let v = b.scalar();
                self.push(x.try_masked_fill(&m, v));
            }
            13 | 14 => self.reduce(b),
            15 | 16 => self.view(b),
            17 => {
                let x = self.get(b);
                let dims = b.dims();
                let r = if b.flag() {
                    x.try_expand(dims.as_slice())
                } else {
                    x.try_broadcast_to(dims.as_slice())
                };
                self.push(r);
            }
            18 => {
                let x = self.get(b);
                let dims = b.dims();
                self.push(x.try_sum_to(dims.as_slice()));
            }
            19 | 20 => self.matmul(b),
            21..=23 => self.index(b),
            24 | 25 => self.join(b),
            26..=29 => self.backward(b),
            30 => {
                let x = self.get(b);
                let _ = x.try_item::<f64>();
                let _ = x.try_size(b.dim());
                let _ = format!("{x}");
                let _ = format!("{x:?}");
            }
            31 => {
                let (dst, src) = (self.get(b), self.get(b));
                let dst = if b.flag() { dst.detach() } else { dst };
                let _ = dst.try_copy_(&src);
            }
            32 => {
                let x = self.get(b);
                let r = x.clone().try_requires_grad_(b.flag());
                if let Ok(t) = &r {
                    if t.requires_grad() {
                        self.leaves.push(t.clone());
                    }
                }
                self.push(r);
            }
            33 => self.push(Ok(self.get(b).detach())),
            34 => {
                let x = self.get(b);
                self.push(x.try_to_dtype(b.dtype()));
            }
            35 if self.depth < 3 => {
                // One op under anomaly mode.
                self.depth += 1;
                let _ = detect_anomaly(|| {
                    self.step(b);
                    Ok(())
                });
                self.depth -= 1;
            }
            36 => {
                let _ = detect_anomaly(|| {
                    self.backward(b);
                    Ok(())
                });
            }
            37 if self.depth < 3 => {
                self.depth += 1;
                no_grad(|| self.step(b));
                self.depth -= 1;
            }
            38 => {
                if b.u8() > 240 {
                    clear_tape();
                }
            }
            39 => {
                let x = self.get(b);
                self.push(Ok(x.contiguous()));
            }
            40 => {
                let (start, end, step) = (b.scalar(), b.scalar(), b.scalar());
                let r = Tensor::arange_dtype(start, end, step, b.dtype());
                if let Ok(t) = &r {
                    check_tensor(t);
                }
                self.push(r);
            }
            41 => {
                let x = self.get(b);
                self.push(x.try_one_hot(b.count()));
            }
            42..=45 => self.loss(b),
            46..=48 => self.module(b),
            49..=53 => self.train(b),
            54 | 55 => self.optimizer(b),
            56 => self.state_dict(b),
            57 | 58 => self.checkpoint(b),
            59 => self.data(b),
            60 => self.metrics(b),
            // The registry's ops, and the arms above whose guard refused
            // to nest deeper.
            35 | 37 | 61..=63 => self.registry_op(b),
            64.. => unreachable!("op % 64 < 64"),
        }
    }

    /// Any op of the test registry (tests/common/ops.rs), so that a newly
    /// registered op is fuzzed without an arm of its own: on inputs drawn
    /// valid by the registry (in either float dtype, maybe requiring grad),
    /// or on tensors from the stack, whose shapes and dtypes are arbitrary.
    fn registry_op(&mut self, b: &mut Bytes) {
        let ops = registry::registry();
        let op = &ops[b.pick(ops.len())];
        let seed = u64::from(b.u8()) | u64::from(b.u8()) << 8;
        let case = (op.make)(&mut registry::Gen::new(seed));
        let inputs: Vec<Tensor> = if b.flag() {
            let dtype = b.dtype();
            case.inputs
                .iter()
                .map(|x| {
                    let x = x.to_dtype(dtype);
                    match x.clone().try_requires_grad_(true) {
                        Ok(leaf) if b.flag() => {
                            self.leaves.push(leaf.clone());
                            leaf
                        }
                        // Not asked, or an int64 tensor (which cannot).
                        _ => x,
                    }
                })
                .collect()
        } else {
            (0..case.inputs.len()).map(|_| self.get(b)).collect()
        };
        let r = op.run(&inputs, &case);
        self.push(r);
    }

    fn unary(&mut self, b: &mut Bytes) {
        let x = self.get(b);
        let r = match b.pick(15) {
            0 => x.try_neg(),
            1 => x.try_exp(),
            2 => x.try_log(),
            3 => x.try_sqrt(),
            4 => x.try_abs(),
            5 => x.try_square(),
            6 => x.try_relu(),
            7 => x.try_leaky_relu(b.scalar()),
            8 => x.try_sigmoid(),
            9 => x.try_tanh(),
            10 => x.try_softplus(),
            11 => x.try_softplus_with(b.scalar(), b.scalar()),
            12 => x.try_gelu(),
            13 => x.try_clamp(b.scalar(), b.scalar()),
            _ => x.try_powf(b.scalar()),
        };
        self.push(r);
    }

    fn binary(&mut self, b: &mut Bytes) {
        let (x, y) = (self.get(b), self.get(b));
        let r = match b.pick(7) {
            0 => x.try_add(&y),
            1 => x.try_sub(&y),
            2 => x.try_mul(&y),
            3 => x.try_div(&y),
            4 => x.try_pow(&y),
            5 => x.try_maximum(&y),
            _ => x.try_minimum(&y),
        };
        self.push(r);
    }

    fn scalar_op(&mut self, b: &mut Bytes) {
        let x = self.get(b);
        let c = b.scalar();
        let r = match b.pick(8) {
            0 => x.try_add_scalar(c),
            1 => x.try_sub_scalar(c),
            2 => x.try_mul_scalar(c),
            3 => x.try_div_scalar(c),
            4 => x.try_rsub_scalar(c),
            5 => x.try_rdiv_scalar(c),
            6 => x.try_affine(c, b.scalar()),
            _ => x.try_powf(c),
        };
        self.push(r);
    }

    fn compare(&mut self, b: &mut Bytes) {
        let (x, y) = (self.get(b), self.get(b));
        let c = b.scalar();
        let r = match b.pick(12) {
            0 => x.try_eq(&y),
            1 => x.try_ne(&y),
            2 => x.try_lt(&y),
            3 => x.try_le(&y),
            4 => x.try_gt(&y),
            5 => x.try_ge(&y),
            6 => x.try_eq_scalar(c),
            7 => x.try_ne_scalar(c),
            8 => x.try_lt_scalar(c),
            9 => x.try_le_scalar(c),
            10 => x.try_gt_scalar(c),
            _ => x.try_ge_scalar(c),
        };
        self.push(r);
    }

    fn reduce(&mut self, b: &mut Bytes) {
        let x = self.get(b);
        let keepdim = b.flag();
        match b.pick(19) {
            0 => self.push(x.try_sum()),
            1 => self.push(x.try_sum_dims(&b.dim_list(), keepdim)),
            2 => self.push(x.try_sum_dim(b.dim(), keepdim)),
            3 => self.push(x.try_mean()),
            4 => self.push(x.try_mean_dims(&b.dim_list(), keepdim)),
            5 => self.push(x.try_mean_dim(b.dim(), keepdim)),
            6 => self.push(x.try_amax(&b.dim_list(), keepdim)),
            7 => self.push(x.try_amin(&b.dim_list(), keepdim)),
            8 => self.push(x.try_max()),
            9 => self.push(x.try_min()),
            10 | 11 => {
                let dim = b.dim();
                let r = if b.flag() {
                    x.try_max_dim(dim, keepdim)
                } else {
                    x.try_min_dim(dim, keepdim)
                };
                if let Ok((v, i)) = r {
                    assert_eq!(v.shape(), i.shape(), "values and indices shapes");
                    self.push(Ok(v));
                    self.push(Ok(i));
                }
            }
            12 => self.push(x.try_argmax(b.dim(), keepdim)),
            13 => self.push(x.try_argmin(b.dim(), keepdim)),
            14 => self.push(x.try_argmax_all()),
            15 => self.push(x.try_argmin_all()),
            16 => self.push(x.try_logsumexp(&b.dim_list(), keepdim)),
            17 => self.push(x.try_var(&b.dim_list(), b.count(), keepdim)),
            _ => self.push(x.try_std(&b.dim_list(), b.count(), keepdim)),
        }
    }

    fn view(&mut self, b: &mut Bytes) {
        let x = self.get(b);
        let r = match b.pick(10) {
            0 => {
                let n = b.pick(5);
                let dims: Vec<i32> = (0..n).map(|_| b.signed_size()).collect();
                x.try_reshape(dims.as_slice())
            }
            1 => {
                let dims = b.dims();
                x.try_reshape(dims.as_slice())
            }
            2 => x.try_transpose(b.dim(), b.dim()),
            3 => x.try_t(),
            4 => x.try_permute(&b.dim_list()),
            5 => x.try_unsqueeze(b.dim()),
            6 => x.try_squeeze(b.dim()),
            7 => x.try_squeeze_all(),
            8 => x.try_flatten(b.dim(), b.dim()),
            _ => {
                let dims: Vec<isize> = (0..x.ndim() as isize).rev().collect();
                x.try_permute(&dims)
            }
        };
        self.push(r);
    }

    fn matmul(&mut self, b: &mut Bytes) {
        let (x, y) = (self.get(b), self.get(b));
        let r = match b.pick(3) {
            0 => x.try_matmul(&y),
            1 => x.try_mm(&y),
            _ => x.try_bmm(&y),
        };
        self.push(r);
    }

    fn index(&mut self, b: &mut Bytes) {
        let (x, idx) = (self.get(b), self.get(b));
        let dim = b.dim();
        let r = match b.pick(5) {
            0 => x.try_index_select(dim, &idx),
            1 => {
                let src = self.get(b);
                x.try_index_add(dim, &idx, &src)
            }
            2 => x.try_gather(dim, &idx),
            3 => {
                let src = self.get(b);
                x.try_scatter_add(dim, &idx, &src)
            }
            _ => x.try_one_hot(b.count()),
        };
        self.push(r);
    }

    fn join(&mut self, b: &mut Bytes) {
        let x = self.get(b);
        let dim = b.dim();
        match b.pick(7) {
            0 => {
                let start = b.dim();
                self.push(x.try_narrow(dim, start, b.count()));
            }
            1 => self.push(x.try_pad_dim(dim, b.count(), b.count())),
            2 | 3 => {
                let others: Vec<Tensor> = (0..b.pick(4)).map(|_| self.get(b)).collect();
                let mut all = vec![&x];
                all.extend(others.iter());
                let r = if b.flag() {
                    Tensor::try_cat(&all, dim)
                } else {
                    Tensor::try_stack(&all, dim)
                };
                self.push(r);
            }
            4 => self.push_all(x.try_split(b.count(), dim)),
            5 => {
                let sizes: Vec<usize> = (0..b.pick(4)).map(|_| b.count()).collect();
                self.push_all(x.try_split_with_sizes(&sizes, dim));
            }
            _ => self.push_all(x.try_chunk(b.count(), dim)),
        }
    }
}

/// Runs the program that `data` encodes. Panics (so a fuzzer records a
/// crash) on any panic inside tapegrad or on a broken invariant.
pub fn run(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mut m = Machine {
        stack: Vec::new(),
        leaves: Vec::new(),
        depth: 0,
        model: None,
        optimizer: None,
        scheduler: None,
    };
    for _ in 0..MAX_OPS {
        if b.done() {
            break;
        }
        m.step(&mut b);
    }
    // Whatever state the program left, the thread's tape must be usable.
    let _ = std::fs::remove_file(m.temp_path());
    drop(m);
    clear_tape();
    let x = Tensor::new([1.0f64, 2.0]).requires_grad_(true);
    x.square().sum().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![2.0, 4.0]);
}
