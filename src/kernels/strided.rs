//! Walking the elements of strided (possibly non-contiguous or broadcast)
//! layouts in row-major order.
//!
//! Every kernel that cannot take a contiguous fast path goes through
//! [`for_each_offsets`]: one odometer over the outer dims and a tight loop
//! over the innermost dim, visiting `N` operands in lock-step. A broadcast
//! operand simply has stride 0 in the broadcast dims.

use smallvec::SmallVec;

/// Calls `f` with the storage offsets of the `N` operands for every index of
/// `shape`, in row-major order.
///
/// `strides[k]` and `offsets[k]` describe operand `k`; each stride slice has
/// one entry per dim of `shape`.
#[inline]
pub(crate) fn for_each_offsets<const N: usize>(
    shape: &[usize],
    strides: [&[usize]; N],
    offsets: [usize; N],
    mut f: impl FnMut([usize; N]),
) {
    if shape.contains(&0) {
        return;
    }
    let rank = shape.len();
    if rank == 0 {
        f(offsets);
        return;
    }
    let inner = shape[rank - 1];
    let inner_strides: [usize; N] = std::array::from_fn(|k| strides[k][rank - 1]);
    let mut counter: SmallVec<[usize; 8]> = SmallVec::from_elem(0, rank - 1);
    let mut base = offsets;
    loop {
        let mut at = base;
        for _ in 0..inner {
            f(at);
            for k in 0..N {
                at[k] += inner_strides[k];
            }
        }
        // Advance the odometer over the outer dims, innermost first.
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            counter[d] += 1;
            if counter[d] < shape[d] {
                for k in 0..N {
                    base[k] += strides[k][d];
                }
                break;
            }
            for k in 0..N {
                base[k] -= strides[k][d] * (shape[d] - 1);
            }
            counter[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_transposed_layout_in_row_major_order() {
        // A 2x3 view of a 3x2 row-major buffer, transposed: strides [1, 2].
        let mut seen = Vec::new();
        for_each_offsets(&[2, 3], [&[1, 2]], [0], |[o]| seen.push(o));
        assert_eq!(seen, vec![0, 2, 4, 1, 3, 5]);
    }

    #[test]
    fn broadcast_operand_repeats() {
        let mut seen = Vec::new();
        for_each_offsets(&[2, 2], [&[2, 1], &[0, 1]], [0, 10], |[a, b]| {
            seen.push((a, b))
        });
        assert_eq!(seen, vec![(0, 10), (1, 11), (2, 10), (3, 11)]);
    }

    #[test]
    fn empty_and_scalar_shapes() {
        let mut count = 0;
        for_each_offsets(&[3, 0], [&[0, 1]], [0], |_| count += 1);
        assert_eq!(count, 0);
        for_each_offsets(&[], [&[]], [7], |[o]| {
            assert_eq!(o, 7);
            count += 1
        });
        assert_eq!(count, 1);
    }
}
