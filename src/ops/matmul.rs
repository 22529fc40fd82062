//! Matrix products: `matmul` (with `torch.matmul`'s rank rules and batch
//! broadcasting), and the strict `mm` / `bmm`.
//!
//! Operands are handed to the GEMM kernel through their strides: a
//! transposed weight (`w.t()`), a permuted view or a broadcast batch dim is
//! read in place, never copied.

use smallvec::SmallVec;

use super::{panicking, same_dtype};
use crate::autograd::function::{done, Accelerated, Backward, BackwardCtx, GradInputs, Saved};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, require_float, DType, Element};
use crate::error::{Error, Result};
use crate::kernels::gemm::{gemm, small_product, MatMut, MatRef, SMALL_GEMM};
use crate::kernels::parallel;
use crate::kernels::strided::for_each_offsets;
use crate::shape::{Dims, Shape};
use crate::tensor::cache;
use crate::tensor::create::check_alloc;
use crate::tensor::layout::Layout;
use crate::tensor::Tensor;

/// One operand seen as a batch of `rows × cols` strided matrices.
struct Operand {
    batch: Dims,
    batch_strides: Dims,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl Operand {
    /// A tensor of rank >= 2 as a batch of matrices; a vector as one row
    /// (`is_lhs`) or one column, torch.matmul's "prepend / append a 1".
    fn new(layout: &Layout, is_lhs: bool) -> Operand {
        let (dims, strides) = (layout.shape.dims(), &layout.strides);
        let r = dims.len();
        if r == 1 {
            let (len, stride) = (dims[0], strides[0]);
            return if is_lhs {
                Operand::single(1, len, 0, stride)
            } else {
                Operand::single(len, 1, stride, 0)
            };
        }
        Operand {
            batch: Dims::from_slice(&dims[..r - 2]),
            batch_strides: Dims::from_slice(&strides[..r - 2]),
            rows: dims[r - 2],
            cols: dims[r - 1],
            row_stride: strides[r - 2],
            col_stride: strides[r - 1],
        }
    }

    /// The transpose of an unbatched operand: the same elements, strides
    /// swapped.
    fn t(&self) -> Operand {
        Operand::single(self.cols, self.rows, self.col_stride, self.row_stride)
    }

    fn single(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Operand {
        Operand {
            batch: Dims::new(),
            batch_strides: Dims::new(),
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// Merges the batch dims into the rows when they are laid out as one
    /// evenly strided run (e.g. a contiguous `[B, T, k]` activation), so a
    /// batch times one matrix is a single GEMM call. Only valid when the
    /// other operand has no batch dims. Returns whether it folded.
    fn fold_batch_into_rows(&mut self) -> bool {
        let mut runs = self
            .batch
            .iter()
            .zip(&self.batch_strides)
            .map(|(&s, &st)| (s, st))
            .chain([(self.rows, self.row_stride)])
            .filter(|&(size, _)| size != 1)
            .collect::<SmallVec<[(usize, usize); 4]>>();
        let even = runs.windows(2).all(|w| w[0].1 == w[1].1 * w[1].0);
        if !even || runs.iter().any(|&(size, _)| size == 0) {
            return false;
        }
        let (rows, row_stride) = match runs.pop() {
            Some((last_size, last_stride)) => {
                let rows = runs.iter().map(|&(s, _)| s).product::<usize>() * last_size;
                (rows, last_stride)
            }
            None => (1, self.row_stride),
        };
        self.rows = rows;
        self.row_stride = row_stride;
        self.batch.clear();
        self.batch_strides.clear();
        true
    }
}

/// Strides that read `batch` as broadcast to `out` (0 along broadcast dims).
fn broadcast_batch_strides(batch: &[usize], strides: &[usize], out: &[usize]) -> Dims {
    let lead = out.len() - batch.len();
    (0..out.len())
        .map(|d| {
            if d < lead || batch[d - lead] == 1 {
                0
            } else {
                strides[d - lead]
            }
        })
        .collect()
}

/// The forward shared by `matmul`, `mm` and `bmm` (they differ only in
/// which shapes they accept).
fn matmul_forward(op: &'static str, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    require_float(op, a.dtype())?;
    let dtype = same_dtype(op, a, b)?;
    if a.ndim() == 0 || b.ndim() == 0 {
        return Err(Error::mismatch(
            op,
            "both operands must have at least 1 dim",
            a.shape(),
            b.shape(),
        ));
    }
    let mut lhs = Operand::new(&a.layout, true);
    let rhs = Operand::new(&b.layout, false);
    if lhs.cols != rhs.rows {
        return Err(Error::mismatch(
            op,
            format!(
                "the inner dims must agree ({} columns on the left, {} rows on the right)",
                lhs.cols, rhs.rows
            ),
            a.shape(),
            b.shape(),
        ));
    }
    if lhs.batch.is_empty() && rhs.batch.is_empty() {
        let mut out_dims = Dims::new();
        if a.ndim() == 2 {
            out_dims.push(lhs.rows);
        }
        if b.ndim() == 2 {
            out_dims.push(rhs.cols);
        }
        return single_product(op, dtype, a, b, &lhs, &rhs, &out_dims);
    }
    let batch = Shape::broadcast(op, &Shape(lhs.batch.clone()), &Shape(rhs.batch.clone()))
        .map_err(|_| {
            Error::mismatch(
                op,
                format!(
                    "the batch dims {} and {} cannot be broadcast together",
                    Shape(lhs.batch.clone()),
                    Shape(rhs.batch.clone())
                ),
                a.shape(),
                b.shape(),
            )
        })?;
    let mut out_dims = batch.0.clone();
    if a.ndim() >= 2 {
        out_dims.push(lhs.rows);
    }
    if b.ndim() >= 2 {
        out_dims.push(rhs.cols);
    }
    let mut full = batch.0.clone();
    full.extend([lhs.rows, rhs.cols]);
    let numel = check_alloc(op, &full, dtype)?;
    let (k, n) = (lhs.cols, rhs.cols);
    let folded = rhs.batch.is_empty() && lhs.fold_batch_into_rows();
    let batch = if folded { Dims::new() } else { batch.0 };
    let sa = broadcast_batch_strides(&lhs.batch, &lhs.batch_strides, &batch);
    let sb = broadcast_batch_strides(&rhs.batch, &rhs.batch_strides, &batch);
    let (rows, step) = (lhs.rows, lhs.rows * n);
    let out = dispatch!(dtype, T => {
        // Every element is written by a GEMM with β = 0: no zero-fill needed.
        let mut out = cache::scratch::<T>(numel);
        a.with_strided::<T, _>(|da, la| {
            b.with_strided::<T, _>(|db, lb| {
                let mut at = 0;
                for_each_offsets(&batch, [&sa, &sb], [la.offset, lb.offset], |[oa, ob]| {
                    let lhs_mat = MatRef { data: da, offset: oa, row_stride: lhs.row_stride, col_stride: lhs.col_stride };
                    let rhs_mat = MatRef { data: db, offset: ob, row_stride: rhs.row_stride, col_stride: rhs.col_stride };
                    let c = MatMut::row_major(&mut out[at..at + step], n);
                    gemm::<T>(rows, k, n, T::ONE, lhs_mat, rhs_mat, T::ZERO, c);
                    at += step;
                });
            })
        });
        Tensor::from_parts(out, Shape(out_dims))
    });
    Ok(out)
}

/// The product of two operands of rank 1 or 2 (already validated): one
/// GEMM call, without the batch bookkeeping (broadcast shapes, batch strides,
/// the batch walk) that costs more than the product itself for small layers
/// (W5 in docs/benchmarks.md).
///
/// `out_dims` is the result's shape (its element count is `m·n`).
fn single_product(
    op: &'static str,
    dtype: DType,
    a: &Tensor,
    b: &Tensor,
    lhs: &Operand,
    rhs: &Operand,
    out_dims: &[usize],
) -> Result<Tensor> {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    let numel = check_alloc(op, &[m, n], dtype)?;
    debug_assert_eq!(numel, out_dims.iter().product::<usize>());
    let threads = parallel::threads_for(m, k, n);
    Ok(dispatch!(dtype, T => {
        let out: Vec<T> = a.with_strided::<T, _>(|da, la| {
            b.with_strided::<T, _>(|db, lb| {
                let lhs_mat = MatRef { data: da, offset: la.offset, row_stride: lhs.row_stride, col_stride: lhs.col_stride };
                let rhs_mat = MatRef { data: db, offset: lb.offset, row_stride: rhs.row_stride, col_stride: rhs.col_stride };
                if m * k * n <= SMALL_GEMM {
                    return small_product(m, k, n, lhs_mat, rhs_mat);
                }
                // Every element is written (β = 0): no zero-fill needed.
                let mut out = cache::scratch::<T>(numel);
                parallel::gemm_split::<T>(threads, m, k, n, lhs_mat, rhs_mat, &mut out);
                out
            })
        });
        Tensor::from_parts(out, Shape::new(out_dims))
    }))
}

impl Tensor {
    /// Like [`matmul`](Tensor::matmul), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
        self.record_matmul("Matmul", matmul_forward("matmul", self, other)?, other)
    }
    panicking!(
        /// Matrix product with `torch.matmul`'s rules:
        /// - 1-D · 1-D: the dot product, a 0-d tensor;
        /// - 2-D · 2-D: the matrix product;
        /// - 1-D · N-D: the vector is treated as a `[1, k]` row, and that dim is
        ///   removed from the result; N-D · 1-D likewise with a `[k, 1]` column;
        /// - otherwise a batched product: the last two dims are matrices and the
        ///   leading (batch) dims broadcast, e.g. `[2, 1, 3, 4] · [5, 4, 6]` gives
        ///   `[2, 5, 3, 6]`.
        ///
        /// Transposed and broadcast operands are read in place, not copied.
        ///
        /// ```
        /// use tapegrad::Tensor;
        /// let a = Tensor::new([[1.0f32, 2.0], [3.0, 4.0]]);
        /// let v = Tensor::new([1.0f32, -1.0]);
        /// assert_eq!(a.matmul(&v).to_vec::<f32>(), vec![-1.0, -1.0]);
        /// assert_eq!(v.matmul(&v).dims(), &[] as &[usize]);
        /// assert_eq!(a.matmul(&a.t()).to_vec::<f32>(), vec![5.0, 11.0, 11.0, 25.0]);
        /// ```
        matmul => try_matmul(other: &Tensor) -> Tensor
    );

    /// Like [`mm`](Tensor::mm), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_mm(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() != 2 || other.ndim() != 2 {
            return Err(Error::mismatch(
                "mm",
                "both operands must be 2-D matrices",
                self.shape(),
                other.shape(),
            ));
        }
        self.record_matmul("Mm", matmul_forward("mm", self, other)?, other)
    }
    panicking!(
        /// Product of two matrices, `[n, k] · [k, m] → [n, m]` (`torch.mm`); no
        /// broadcasting, both operands must be 2-D.
        mm => try_mm(other: &Tensor) -> Tensor
    );

    /// Like [`bmm`](Tensor::bmm), returning an [`Error`](crate::Error)
    /// instead of panicking.
    pub fn try_bmm(&self, other: &Tensor) -> Result<Tensor> {
        if self.ndim() != 3 || other.ndim() != 3 {
            return Err(Error::mismatch(
                "bmm",
                "both operands must be 3-D (a batch of matrices)",
                self.shape(),
                other.shape(),
            ));
        }
        if self.dims()[0] != other.dims()[0] {
            return Err(Error::mismatch(
                "bmm",
                "the batch sizes must be equal",
                self.shape(),
                other.shape(),
            ));
        }
        self.record_matmul("Bmm", matmul_forward("bmm", self, other)?, other)
    }
    panicking!(
        /// Batched product of matrices, `[b, n, k] · [b, k, m] → [b, n, m]`
        /// (`torch.bmm`); both operands must be 3-D with the same batch size (no
        /// broadcasting).
        bmm => try_bmm(other: &Tensor) -> Tensor
    );

    fn record_matmul(&self, name: &'static str, out: Tensor, other: &Tensor) -> Result<Tensor> {
        record(out, &[self, other], |_| MatmulBackward {
            name,
            a: Saved::new(self),
            b: Saved::new(other),
        })
    }
}

struct MatmulBackward {
    name: &'static str,
    a: Saved,
    b: Saved,
}

impl Backward for MatmulBackward {
    fn name(&self) -> &'static str {
        self.name
    }
    /// Accelerator for operands of rank 1 or 2 (except the dot product):
    /// the products of `backward_unbatched` handed straight to the kernel.
    fn first_order(&self, ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
        let (a, b) = (self.a.value(), self.b.value());
        let (ra, rb) = (a.ndim(), b.ndim());
        if ra > 2 || rb > 2 || (ra, rb) == (1, 1) {
            return Ok(Accelerated::Declined(g));
        }
        let [ga, gb] = self.first_order_unbatched(ctx, &g, a, b);
        done([ga, gb])
    }

    // With vectors lifted to [1, k] / [k, 1] matrices and g to the full
    // [batch.., m, n] shape: gA = g·Bᵀ, gB = Aᵀ·g, each summed over the batch
    // dims its input was broadcast along, then reshaped back (dropping the
    // lifted 1). All differentiable ops, so this works under create_graph.
    fn backward(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let (a_shape, b_shape) = (self.a.value().shape(), self.b.value().shape());
        if a_shape.rank() <= 2 && b_shape.rank() <= 2 {
            return self.backward_unbatched(ctx, g);
        }
        let (a_vec, b_vec) = (a_shape.rank() == 1, b_shape.rank() == 1);
        let a = ctx.input(0, &self.a);
        let b = ctx.input(1, &self.b);
        let a = if a_vec { a.try_unsqueeze(0)? } else { a };
        let b = if b_vec { b.try_unsqueeze(1)? } else { b };
        let g = match (a_vec, b_vec) {
            (false, false) => g.clone(),
            (true, false) => g.try_unsqueeze(-2)?,
            (false, true) => g.try_unsqueeze(-1)?,
            (true, true) => g.try_reshape([1usize, 1])?,
        };
        let ga = if ctx.needs_grad(0) {
            let full = g.try_matmul(&b.try_transpose(-1, -2)?)?;
            Some(full.try_sum_to(a.shape())?.try_reshape(a_shape)?)
        } else {
            None
        };
        let gb = if ctx.needs_grad(1) {
            let full = a.try_transpose(-1, -2)?.try_matmul(&g)?;
            Some(full.try_sum_to(b.shape())?.try_reshape(b_shape)?)
        } else {
            None
        };
        Ok(smallvec::smallvec![ga, gb])
    }
}

impl MatmulBackward {
    /// The same rule for operands of rank 1 or 2 (no batch dims, so nothing
    /// to sum over), written directly with each case's product instead of
    /// lifting vectors to matrices and reshaping back: half the ops, which
    /// is most of the cost of small layers (W5 in docs/benchmarks.md).
    fn backward_unbatched(&self, ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        let a = ctx.input(0, &self.a);
        let b = ctx.input(1, &self.b);
        let (ra, rb) = (a.ndim(), b.ndim());
        let ga = || match (ra, rb) {
            // a·b = Σ aᵢbᵢ with g a scalar: ga = g·b
            (1, 1) => g.try_mul(&b),
            // [k]·[k, n] → [n]: ga = B·g
            (1, _) => b.try_matmul(g),
            // [m, k]·[k] → [m]: gA = g ⊗ b
            (_, 1) => g.try_unsqueeze(1)?.try_matmul(&b.try_unsqueeze(0)?),
            // gA = g·Bᵀ
            _ => g.try_matmul(&b.try_t()?),
        };
        let gb = || match (ra, rb) {
            (1, 1) => g.try_mul(&a),
            // gB = a ⊗ g
            (1, _) => a.try_unsqueeze(1)?.try_matmul(&g.try_unsqueeze(0)?),
            // gb = Aᵀ·g, and gB = Aᵀ·g
            _ => a.try_t()?.try_matmul(g),
        };
        let ga = if ctx.needs_grad(0) { Some(ga()?) } else { None };
        let gb = if ctx.needs_grad(1) { Some(gb()?) } else { None };
        Ok(smallvec::smallvec![ga, gb])
    }

    /// The products of `backward_unbatched` for a first-order backward,
    /// handed straight to the kernel as strided operands (a transpose swaps
    /// strides, a vector is a one-row or one-column matrix) instead of
    /// building view tensors and re-validating them: the same kernel calls
    /// on the same elements, so exactly the same values.
    fn first_order_unbatched(
        &self,
        ctx: &BackwardCtx<'_>,
        g: &Tensor,
        a: &Tensor,
        b: &Tensor,
    ) -> [Option<Tensor>; 2] {
        // A vector as a row (`row`) or a column (`col`); a matrix as itself.
        let row = |t: &Tensor| Operand::new(&t.layout, true);
        let col = |t: &Tensor| Operand::new(&t.layout, false);
        let dtype = g.dtype();
        let product = |x: &Tensor, y: &Tensor, lhs: Operand, rhs: Operand, dims: &[usize]| {
            // The shapes come from a recorded product, so the sizes are known
            // to fit; only an internal bug could fail here.
            single_product("matmul", dtype, x, y, &lhs, &rhs, dims)
                .expect("tapegrad internal error: matmul gradient shape")
        };
        // A matrix gradient is computed in its input's layout when that input
        // is a transposed contiguous matrix (`w.t()` in `Linear`): as the
        // contiguous transpose `(Y·X)ᵀ`, viewed transposed. The gradient that
        // reaches `w` through `t()` is then contiguous, and the optimizer
        // reads it without a gather.
        let transposed = |t: &Tensor| {
            let l = &t.layout;
            l.strides[0] == 1 && l.strides[1] == l.shape.dims()[0] && l.shape.dims()[0] > 1
        };
        let swapped = |x: &Tensor, y: &Tensor, lhs: Operand, rhs: Operand, dims: &[usize]| {
            let out = product(y, x, rhs.t(), lhs.t(), &[dims[1], dims[0]]);
            out.try_t()
                .expect("tapegrad internal error: a matrix has a transpose")
        };
        let ga = ctx.needs_grad(0).then(|| match (a.ndim(), b.ndim()) {
            // [k]·[k, n]: ga = B·g
            (1, _) => product(b, g, row(b), col(g), a.dims()),
            // [m, k]·[k]: gA = g ⊗ b
            (_, 1) => product(g, b, col(g), row(b), a.dims()),
            // gA = g·Bᵀ
            _ if transposed(a) => swapped(g, b, row(g), row(b).t(), a.dims()),
            _ => product(g, b, row(g), row(b).t(), a.dims()),
        });
        let gb = ctx.needs_grad(1).then(|| match (a.ndim(), b.ndim()) {
            // [k]·[k, n]: gB = a ⊗ g
            (1, _) => product(a, g, col(a), row(g), b.dims()),
            // gb = Aᵀ·g (g a column), gB = Aᵀ·g
            (_, 1) => product(a, g, row(a).t(), col(g), b.dims()),
            _ if transposed(b) => swapped(a, g, row(a).t(), row(g), b.dims()),
            _ => product(a, g, row(a).t(), row(g), b.dims()),
        });
        [ga, gb]
    }
}
