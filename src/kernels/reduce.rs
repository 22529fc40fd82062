//! Reduction kernels over a set of dims.
//!
//! The output is laid out with the reduced dims kept as size 1; callers
//! drop them for `keepdim = false`. Sums accumulate in `f64` so that long
//! `f32` reductions (a batch mean over thousands of rows) keep their digits.

use smallvec::SmallVec;

use super::strided::for_each_offsets;
use crate::dtype::Element;
use crate::shape::Shape;
use crate::tensor::{cache, Tensor};

/// The shape with `dims` (sorted, distinct) set to 1.
pub(crate) fn kept_shape(shape: &Shape, dims: &[usize]) -> Shape {
    let mut out = shape.clone();
    for &d in dims {
        out.0[d] = 1;
    }
    out
}

/// Walks every element of `x` together with the flat index of the output
/// slot it reduces into (`kept` = `x`'s shape with reduced dims set to 1).
pub(crate) fn for_each_reduced<T: Element>(x: &Tensor, kept: &Shape, mut f: impl FnMut(usize, T)) {
    let mut out_strides = kept.contiguous_strides();
    for (s, &size) in out_strides.iter_mut().zip(kept.dims()) {
        if size == 1 {
            *s = 0;
        }
    }
    x.with_strided::<T, _>(|data, layout| {
        for_each_offsets(
            layout.shape.dims(),
            [&layout.strides, &out_strides],
            [layout.offset, 0],
            |[i, o]| f(o, data[i]),
        );
    });
}

/// Sum over `dims` (sorted, distinct); output has `kept_shape`'s layout.
pub(crate) fn sum_dims<T: Element>(x: &Tensor, dims: &[usize]) -> Vec<T> {
    let kept = kept_shape(x.shape(), dims);
    let n_out = kept.numel();
    if n_out == 1 {
        let total: f64 = x.with_contiguous::<T, _>(|d| d.iter().map(|v| v.to_f64()).sum());
        return vec![T::from_f64(total)];
    }
    let rank = x.ndim();
    let last_only: SmallVec<[usize; 1]> = SmallVec::from_slice(&[rank.saturating_sub(1)]);
    if x.is_contiguous() && dims == last_only.as_slice() {
        // Row sums: one contiguous run per output element.
        let row = x.dims()[rank - 1];
        return x.with_contiguous::<T, _>(|d| {
            if row == 0 {
                return vec![T::ZERO; n_out];
            }
            cache::collect(
                d.chunks_exact(row)
                    .map(|r| T::from_f64(r.iter().map(|v| v.to_f64()).sum())),
            )
        });
    }
    let mut acc = cache::zeroed::<f64>(n_out);
    let leading = dims.iter().enumerate().all(|(i, &d)| i == d);
    if x.is_contiguous() && leading && n_out > 0 {
        // Sums over the leading dims (a bias gradient): add whole rows into
        // the accumulators, in the walk's order, so the same values.
        x.with_contiguous::<T, _>(|d| {
            for row in d.chunks_exact(n_out) {
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += v.to_f64();
                }
            }
        });
    } else {
        for_each_reduced::<T>(x, &kept, |o, v| acc[o] += v.to_f64());
    }
    let out = cache::collect(acc.iter().map(|&v| T::from_f64(v)));
    cache::recycle(acc);
    out
}

/// Which extremum a reduction looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extremum {
    Max,
    Min,
}

impl Extremum {
    /// Whether `v` replaces the current best. Only a strictly better value
    /// does (so ties keep the first occurrence), and the first NaN wins and
    /// sticks, so NaN propagates and its index is reported as PyTorch does.
    #[inline(always)]
    fn beats<T: Element>(self, v: T, best: T) -> bool {
        if best.is_nan() {
            return false;
        }
        v.is_nan()
            || match self {
                Extremum::Max => v > best,
                Extremum::Min => v < best,
            }
    }
}

/// Extremum over `dims` (sorted, distinct) and where it is: for each output
/// slot (`kept_shape` layout), the value and the row-major flat index of its
/// first occurrence within the reduced dims (the index along the dim when
/// one dim is reduced). Slots of an empty slice hold `(0, usize::MAX)`;
/// callers reject empty reductions first.
pub(crate) fn arg_extremum<T: Element>(
    x: &Tensor,
    dims: &[usize],
    which: Extremum,
) -> (Vec<T>, Vec<usize>) {
    let kept = kept_shape(x.shape(), dims);
    let n = kept.numel();
    let mut best = vec![T::ZERO; n];
    let mut pos = vec![usize::MAX; n];
    // Elements of one slot arrive in row-major order of the reduced dims,
    // so counting visits per slot gives each element's flat index in it.
    let mut seen = vec![0usize; n];
    for_each_reduced::<T>(x, &kept, |o, v| {
        let k = seen[o];
        seen[o] += 1;
        if k == 0 || which.beats(v, best[o]) {
            best[o] = v;
            pos[o] = k;
        }
    });
    (best, pos)
}

/// Gradient weights (in `x`'s row-major order) that share each slot's
/// gradient evenly among the elements equal to its extremum `ext` (a NaN
/// extremum is shared by the NaN elements, as PyTorch's `max()` does).
pub(crate) fn tie_weights<T: Element>(x: &Tensor, kept: &Shape, ext: &[T]) -> Vec<T> {
    let hits = |v: T, e: T| v == e || (v.is_nan() && e.is_nan());
    let mut count = vec![0usize; ext.len()];
    for_each_reduced::<T>(x, kept, |o, v| {
        if hits(v, ext[o]) {
            count[o] += 1;
        }
    });
    let mut weights = Vec::with_capacity(x.numel());
    for_each_reduced::<T>(x, kept, |o, v| {
        weights.push(if hits(v, ext[o]) {
            T::ONE / T::from_f64(count[o] as f64)
        } else {
            T::ZERO
        })
    });
    weights
}

/// Gradient weights (in `x`'s row-major order): 1 at the element whose flat
/// index within its slot is `pos[slot]`, 0 elsewhere.
pub(crate) fn one_hot_weights<T: Element>(x: &Tensor, kept: &Shape, pos: &[usize]) -> Vec<T> {
    let mut seen = vec![0usize; pos.len()];
    let mut weights = Vec::with_capacity(x.numel());
    for_each_reduced::<T>(x, kept, |o, _| {
        weights.push(if seen[o] == pos[o] { T::ONE } else { T::ZERO });
        seen[o] += 1;
    });
    weights
}

/// `log Σ exp(x)` over `dims`, shifted by each slot's maximum so that no
/// exponential overflows. A slot whose maximum is not finite returns it:
/// all −inf (or empty) gives −inf, any +inf gives +inf, NaN gives NaN.
pub(crate) fn logsumexp_dims<T: Element>(x: &Tensor, dims: &[usize]) -> Vec<T> {
    let kept = kept_shape(x.shape(), dims);
    let n = kept.numel();
    let mut max = vec![T::NEG_INFINITY; n];
    for_each_reduced::<T>(x, &kept, |o, v| max[o] = max[o].max_nan(v));
    let mut sum = vec![0.0f64; n];
    for_each_reduced::<T>(x, &kept, |o, v| {
        let m = max[o];
        if m.is_finite() {
            sum[o] += (v.to_f64() - m.to_f64()).exp();
        }
    });
    max.into_iter()
        .zip(sum)
        .map(|(m, s)| {
            if m.is_finite() {
                T::from_f64(m.to_f64() + s.ln())
            } else {
                m
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(values: &[f64], shape: &[usize]) -> Tensor {
        Tensor::from_parts(values.to_vec(), Shape::new(shape))
    }

    #[test]
    fn arg_extremum_reports_flat_position_within_the_slice() {
        // [[[0, 9], [9, 1]], [[2, 3], [4, 5]]] reduced over dims 1 and 2.
        let x = t(&[0., 9., 9., 1., 2., 3., 4., 5.], &[2, 2, 2]);
        let (best, pos) = arg_extremum::<f64>(&x, &[1, 2], Extremum::Max);
        assert_eq!(best, vec![9., 5.]);
        assert_eq!(pos, vec![1, 3]);
        let (best, pos) = arg_extremum::<f64>(&x, &[0], Extremum::Min);
        assert_eq!(best, vec![0., 3., 4., 1.]);
        assert_eq!(pos, vec![0, 1, 1, 0]);
    }

    #[test]
    fn weights_follow_the_input_order() {
        let x = t(&[3., 1., 3., 2.], &[2, 2]);
        let kept = kept_shape(x.shape(), &[0]);
        // Column maxima [3, 2]: column 0 ties, column 1 at row 1.
        assert_eq!(
            tie_weights::<f64>(&x, &kept, &[3., 2.]),
            vec![0.5, 0., 0.5, 1.]
        );
        assert_eq!(
            one_hot_weights::<f64>(&x, &kept, &[0, 1]),
            vec![1., 0., 0., 1.]
        );
    }

    #[test]
    fn logsumexp_handles_non_finite_maxima() {
        let x = t(
            &[f64::NEG_INFINITY, f64::NEG_INFINITY, 0., f64::INFINITY],
            &[2, 2],
        );
        assert_eq!(
            logsumexp_dims::<f64>(&x, &[1]),
            vec![f64::NEG_INFINITY, f64::INFINITY]
        );
    }
}
