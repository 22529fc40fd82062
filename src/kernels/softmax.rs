//! The row kernels of softmax, log_softmax, cross-entropy and their
//! gradients, written once for any dim.
//!
//! An array is seen as `[outer, n, inner]` ([`Rows`]): a *row* is one 1-d
//! slice along the middle dim, element `k` of row `p` at
//! `rows.base(p) + k·inner`. Each kernel walks rows through that stride;
//! where rows are contiguous (`inner == 1`, the class dim of a batch of
//! logits) it runs its contiguous form: the whole-matrix softmax
//! ([`KernelElement::softmax_rows`], vectorised `exp`) and row slices the
//! compiler vectorises. Both forms compute each value with the same
//! expression, and every sum runs over `k` in order.
//!
//! Subtracting each row's max first means no exponential ever sees a
//! positive argument, so any finite input (logits of ±1e4) gives finite
//! values; `log_softmax` is `x − max − log Σ exp(x − max)`, never
//! `log(softmax(x))`, which would turn underflowed probabilities into −inf.

use super::element::KernelElement;
use crate::dtype::Element;
use crate::shape::Shape;

/// An array seen as `[outer, n, inner]`, its rows the 1-d slices along the
/// middle dim, numbered `p = o·inner + i` (row-major order of the other
/// dims).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rows {
    pub(crate) outer: usize,
    /// The length of each row.
    pub(crate) n: usize,
    /// The stride between a row's elements.
    pub(crate) inner: usize,
}

impl Rows {
    /// `shape` seen along `dim` (a 0-d shape is one row of one element).
    pub(crate) fn along(shape: &Shape, dim: usize) -> Rows {
        let dims = shape.dims();
        if dims.is_empty() {
            return Rows {
                outer: 1,
                n: 1,
                inner: 1,
            };
        }
        Rows {
            outer: dims[..dim].iter().product(),
            n: dims[dim],
            inner: dims[dim + 1..].iter().product(),
        }
    }

    /// The number of rows.
    pub(crate) fn count(&self) -> usize {
        self.outer * self.inner
    }

    /// The flat index of row `p`'s first element.
    #[inline]
    pub(crate) fn base(&self, p: usize) -> usize {
        (p / self.inner) * self.n * self.inner + p % self.inner
    }

    /// True when each row is a contiguous, non-empty run.
    #[inline]
    fn contiguous(&self) -> bool {
        self.inner == 1 && self.n > 0
    }
}

/// Max and `Σ exp(x − max)` of row `p`, handing each `(index, exp(x − max))`
/// to `each`. A NaN anywhere makes the max NaN, so it propagates to every
/// output of the row, as in PyTorch.
#[inline]
pub(crate) fn max_sum_exp<T: Element>(
    x: &[T],
    rows: Rows,
    p: usize,
    mut each: impl FnMut(usize, T),
) -> (T, T) {
    let (base, stride) = (rows.base(p), rows.inner);
    let mut m = T::NEG_INFINITY;
    for k in 0..rows.n {
        m = m.max_nan(x[base + k * stride]);
    }
    let mut s = T::ZERO;
    for k in 0..rows.n {
        let j = base + k * stride;
        let e = (x[j] - m).exp();
        each(j, e);
        s += e;
    }
    (m, s)
}

/// `probs = exp(x − max) / Σ exp(x − max)` along each row, with each row's
/// `max` and `log_sum = ln Σ exp(x − max)` (so that
/// `log_softmax = (x − max) − log_sum`, see [`log_softmax`]).
pub(crate) fn softmax<T: KernelElement>(
    x: &[T],
    rows: Rows,
    probs: &mut [T],
    maxes: &mut [T],
    log_sums: &mut [T],
) {
    if rows.contiguous() {
        T::softmax_rows(x, rows.n, probs, maxes, log_sums);
        return;
    }
    for p in 0..rows.count() {
        let (m, s) = max_sum_exp(x, rows, p, |j, e| probs[j] = e);
        let base = rows.base(p);
        for k in 0..rows.n {
            let j = base + k * rows.inner;
            probs[j] = probs[j] / s;
        }
        maxes[p] = m;
        log_sums[p] = s.ln();
    }
}

/// `out = (x − max) − log_sum` along each row, from [`softmax`]'s maxes
/// and log-sums.
pub(crate) fn log_softmax<T: Element>(
    x: &[T],
    rows: Rows,
    maxes: &[T],
    log_sums: &[T],
    out: &mut [T],
) {
    let log_p = |v: T, m: T, log_s: T| (v - m) - log_s;
    if rows.contiguous() {
        let n = rows.n;
        let row_pairs = out.chunks_exact_mut(n).zip(x.chunks_exact(n));
        for ((out, x), (&m, &log_s)) in row_pairs.zip(maxes.iter().zip(log_sums)) {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = log_p(v, m, log_s);
            }
        }
        return;
    }
    for p in 0..rows.count() {
        let base = rows.base(p);
        for k in 0..rows.n {
            let j = base + k * rows.inner;
            out[j] = log_p(x[j], maxes[p], log_sums[p]);
        }
    }
}

/// The gradient of softmax (`log == false`) or log_softmax along each row,
/// from the output `y` and the incoming gradient `g`:
/// softmax `y ⊙ (g − Σ g⊙y)`, log_softmax `g − exp(y) ⊙ Σ g`.
pub(crate) fn softmax_backward<T: Element>(y: &[T], g: &[T], rows: Rows, log: bool) -> Vec<T> {
    let mut out = vec![T::ZERO; y.len()];
    for p in 0..rows.count() {
        let (base, stride) = (rows.base(p), rows.inner);
        let mut dot = T::ZERO;
        for k in 0..rows.n {
            let j = base + k * stride;
            dot += if log { g[j] } else { g[j] * y[j] };
        }
        for k in 0..rows.n {
            let j = base + k * stride;
            out[j] = if log {
                g[j] - y[j].exp() * dot
            } else {
                y[j] * (g[j] - dot)
            };
        }
    }
    out
}

/// One row's target in [`cross_entropy_grad`]: what the loss
/// `−Σ_c q_c · log p_c` of that row compares its softmax with.
pub(crate) enum RowTarget<T> {
    /// An ignored position: its gradient stays exactly 0.
    Ignored,
    /// `q = weight · onehot(class)`.
    OneHot {
        /// The target class.
        class: usize,
        /// Its weight `w[class]`.
        weight: T,
    },
    /// `q` as written into the buffer passed to the callback.
    Dist,
}

/// Cross-entropy's logit gradient `g_p · (S·p − q)` per row, `S = Σ_c q_c`,
/// from the softmax `probs`; rows whose target is [`RowTarget::Ignored`]
/// are left as they are in `out` (callers pass zeros).
///
/// `target(p, q)` says what row `p`'s target is, filling `q` (one value
/// per class) when it returns [`RowTarget::Dist`].
pub(crate) fn cross_entropy_grad<T: Element>(
    probs: &[T],
    rows: Rows,
    g: &[T],
    out: &mut [T],
    mut target: impl FnMut(usize, &mut [T]) -> RowTarget<T>,
) {
    let (n, stride) = (rows.n, rows.inner);
    if n == 0 {
        return;
    }
    let mut q = vec![T::ZERO; n];
    if stride == 1 {
        // Contiguous rows: row slices, which the compiler vectorises.
        let row_slices = out.chunks_exact_mut(n).zip(probs.chunks_exact(n));
        for (p, ((out, probs), &gp)) in row_slices.zip(g).enumerate() {
            let row = target(p, &mut q);
            grad_row(gp, &row, &q, probs.iter(), out.iter_mut());
            if let RowTarget::OneHot { class, weight: w } = row {
                out[class] = gp * (w * probs[class] - w);
            }
        }
        return;
    }
    for (p, &gp) in g.iter().enumerate() {
        let row = target(p, &mut q);
        let base = rows.base(p);
        let probs_row = probs[base..].iter().step_by(stride).take(n);
        let out_row = out[base..].iter_mut().step_by(stride).take(n);
        grad_row(gp, &row, &q, probs_row, out_row);
        if let RowTarget::OneHot { class, weight: w } = row {
            let j = base + class * stride;
            out[j] = gp * (w * probs[j] - w);
        }
    }
}

/// One row of [`cross_entropy_grad`] (for one-hot targets, every class as
/// if it were not the target; the caller then writes the target's).
#[inline(always)]
fn grad_row<'a, T: Element>(
    gp: T,
    row: &RowTarget<T>,
    q: &[T],
    probs: impl Iterator<Item = &'a T>,
    out: impl Iterator<Item = &'a mut T>,
) {
    match *row {
        RowTarget::OneHot { weight: w, .. } => {
            for (o, &pc) in out.zip(probs) {
                *o = gp * (w * pc);
            }
        }
        RowTarget::Dist => {
            let total: T = q.iter().copied().sum();
            for ((o, &pc), &qc) in out.zip(probs).zip(q) {
                *o = gp * (total * pc - qc);
            }
        }
        RowTarget::Ignored => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[rows, n]` row-major data and the same values stored `[n, rows]`
    /// (so that each row has stride `rows`).
    fn both_layouts(rows: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..rows * n)
            .map(|i| ((i * 37 % 23) as f64 - 11.0) * 0.7)
            .collect();
        let xt = (0..rows * n)
            .map(|i| x[(i % rows) * n + i / rows])
            .collect();
        (x, xt)
    }

    #[test]
    fn rows_number_positions_in_row_major_order() {
        let rows = Rows::along(&Shape::new(&[2, 3, 4]), 1);
        assert_eq!((rows.count(), rows.n, rows.inner), (8, 3, 4));
        let bases: Vec<usize> = (0..8).map(|p| rows.base(p)).collect();
        assert_eq!(bases, [0, 1, 2, 3, 12, 13, 14, 15]);
        assert_eq!(Rows::along(&Shape::new(&[]), 0).count(), 1);
    }

    #[test]
    fn strided_rows_match_contiguous_rows_bit_for_bit() {
        // In f64 both forms use `f64::exp` and sum each row in order, so
        // the whole-matrix kernel and the strided walk agree exactly.
        let (rows, n) = (5, 7);
        let (x, xt) = both_layouts(rows, n);
        let contiguous = Rows {
            outer: rows,
            n,
            inner: 1,
        };
        let strided = Rows {
            outer: 1,
            n,
            inner: rows,
        };
        let run = |x: &[f64], r: Rows| {
            let (mut p, mut m, mut l) = (vec![0.0; x.len()], vec![0.0; rows], vec![0.0; rows]);
            softmax(x, r, &mut p, &mut m, &mut l);
            let mut lp = vec![0.0; x.len()];
            log_softmax(x, r, &m, &l, &mut lp);
            let back = softmax_backward(&p, x, r, false);
            let mut ce = vec![0.0; x.len()];
            let g: Vec<f64> = (0..rows).map(|i| 0.5 + i as f64).collect();
            cross_entropy_grad(&p, r, &g, &mut ce, |p, q| match p % 3 {
                0 => RowTarget::Ignored,
                1 => RowTarget::OneHot {
                    class: p % n,
                    weight: 2.0,
                },
                _ => {
                    q.iter_mut()
                        .enumerate()
                        .for_each(|(c, v)| *v = c as f64 / 10.0);
                    RowTarget::Dist
                }
            });
            (p, m, l, lp, back, ce)
        };
        let (p, m, l, lp, back, ce) = run(&x, contiguous);
        let (pt, mt, lt, lpt, backt, cet) = run(&xt, strided);
        let transpose =
            |v: &[f64]| -> Vec<f64> { (0..rows * n).map(|i| v[(i % n) * rows + i / n]).collect() };
        assert_eq!((m, l), (mt, lt));
        assert_eq!(p, transpose(&pt));
        assert_eq!(lp, transpose(&lpt));
        assert_eq!(ce, transpose(&cet));
        // The backward's `g` is `x` itself, read in each layout.
        assert_eq!(back, transpose(&backt));
        assert!(ce[..n].iter().all(|&v| v == 0.0), "ignored row stays 0");
    }
}
