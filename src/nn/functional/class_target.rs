//! Class-index targets shared by `nll_loss` and `cross_entropy`: the
//! `[N, C, d1, …]` ↔ `[N, d1, …]` shape rule, validation of the class ids
//! (int64 tensors, or float tensors of integral values), and
//! the pair of linear ops that read one class per position (`pick`) and
//! write one class per position (`place`). Each is the other's adjoint, so
//! each is the other's backward and gradients of any order work.

use crate::dtype::Scalar;
use std::rc::Rc;

use crate::autograd::function::{Backward, BackwardCtx, GradInputs};
use crate::autograd::tape::record;
use crate::dtype::{dispatch, Element};
use crate::error::{Error, Result};
use crate::kernels::softmax::Rows;
use crate::ops::index::is_integral;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// The builder methods of the options shared by the class-target losses
/// (`weight`, `ignore_index`, `reduction`, mirroring PyTorch's arguments),
/// written once for [`NllLossOptions`](super::NllLossOptions) and
/// [`CrossEntropyOptions`](super::CrossEntropyOptions). A macro rather than
/// a common field, so that both keep PyTorch's flat field names.
macro_rules! class_target_setters {
    ($options:ty) => {
        impl $options {
            /// Sets the per-class weights.
            pub fn weight(mut self, weight: $crate::tensor::Tensor) -> Self {
                self.weight = Some(weight);
                self
            }
            /// Sets `ignore_index`.
            pub fn ignore_index(mut self, ignore_index: i64) -> Self {
                self.ignore_index = ignore_index;
                self
            }
            /// Sets the reduction.
            pub fn reduction(mut self, reduction: $crate::nn::functional::Reduction) -> Self {
                self.reduction = reduction;
                self
            }
        }
    };
}
pub(crate) use class_target_setters;

/// An input of shape `[C]` or `[N, C, d1, …]` seen as `[outer, C, inner]`.
#[derive(Clone, Debug)]
pub(crate) struct ClassLayout {
    pub(crate) outer: usize,
    pub(crate) classes: usize,
    pub(crate) inner: usize,
    /// The input's shape.
    pub(crate) input: Shape,
    /// The input's shape without the class dim: the shape of class-index
    /// targets and of per-position losses.
    pub(crate) positions: Shape,
}

impl ClassLayout {
    /// The class dim is 1, or 0 for a 1-d input (one unbatched sample), as
    /// in PyTorch.
    pub(crate) fn new(op: &'static str, input: &Shape) -> Result<ClassLayout> {
        let dims = input.dims();
        if dims.is_empty() {
            return Err(Error::bad_shape(
                op,
                "expects an input of shape [C] or [N, C, d1, ...], not a 0-d tensor",
                input,
            ));
        }
        let class_dim = usize::from(dims.len() >= 2);
        let mut positions: Vec<usize> = dims.to_vec();
        positions.remove(class_dim);
        Ok(ClassLayout {
            outer: dims[..class_dim].iter().product(),
            classes: dims[class_dim],
            inner: dims[class_dim + 1..].iter().product(),
            input: input.clone(),
            positions: Shape::new(&positions),
        })
    }

    /// The input as rows of classes, one per position, for the kernels.
    pub(crate) fn rows(&self) -> Rows {
        Rows {
            outer: self.outer,
            n: self.classes,
            inner: self.inner,
        }
    }

    /// Number of positions (samples × spatial elements).
    pub(crate) fn len(&self) -> usize {
        self.outer * self.inner
    }

    /// Flat input index of class `c` at position `p` (row-major positions).
    #[inline]
    pub(crate) fn at(&self, p: usize, c: usize) -> usize {
        let (o, i) = (p / self.inner, p % self.inner);
        (o * self.classes + c) * self.inner + i
    }

    /// The input as `[outer, C, inner]` and a per-position tensor as
    /// `[outer, 1, inner]`, for broadcasting in composed gradients.
    pub(crate) fn dims3(&self) -> [usize; 3] {
        [self.outer, self.classes, self.inner]
    }
    pub(crate) fn dims3_positions(&self) -> [usize; 3] {
        [self.outer, 1, self.inner]
    }
}

/// `" (target row 3)"`, `" (target at [0, 2, 1])"` or `" (the 0-d target)"`.
fn position_name(shape: &Shape, p: usize) -> String {
    let dims = shape.dims();
    match dims.len() {
        0 => " (the 0-d target)".to_string(),
        1 => format!(" (target row {p})"),
        _ => {
            let mut idx = vec![0; dims.len()];
            let mut rest = p;
            for (slot, &size) in idx.iter_mut().zip(dims).rev() {
                *slot = rest % size;
                rest /= size;
            }
            format!(" (target at {idx:?})")
        }
    }
}

/// Reads and validates class-index targets: each must be a finite integer in
/// `[0, C)` or equal to `ignore_index` (→ `None`). Errors name the first bad
/// value and where it is.
pub(crate) fn read_class_targets(
    op: &'static str,
    target: &Tensor,
    layout: &ClassLayout,
    ignore_index: i64,
) -> Result<Vec<Option<usize>>> {
    if target.shape() != &layout.positions {
        return Err(Error::mismatch(
            op,
            format!(
                "class-index targets must have the input's shape without the class dim, {}; \
                 class probabilities must have the input's shape",
                layout.positions
            ),
            &layout.input,
            target.shape(),
        ));
    }
    if target.dtype() == crate::dtype::DType::I64 {
        return target
            .to_vec::<i64>()
            .into_iter()
            .enumerate()
            .map(|(p, v)| {
                if v == ignore_index {
                    return Ok(None);
                }
                match usize::try_from(v) {
                    Ok(c) if c < layout.classes => Ok(Some(c)),
                    _ => Err(Error::index_out_of_range(
                        op,
                        v,
                        usize::from(layout.input.rank() >= 2),
                        layout.classes,
                        format!(
                            "{} and is not ignore_index ({ignore_index})",
                            position_name(target.shape(), p)
                        ),
                    )),
                }
            })
            .collect();
    }
    let values = target.to_vec::<f64>();
    values
        .iter()
        .enumerate()
        .map(|(p, &v)| {
            if !is_integral(v) {
                return Err(Error::invalid(
                    op,
                    format!(
                        "class index {v}{} is not an integer (class ids are int64 tensors, or float tensors of integral values)",
                        position_name(target.shape(), p)
                    ),
                ));
            }
            if v == ignore_index as f64 {
                return Ok(None);
            }
            if v < 0.0 || v >= layout.classes as f64 {
                return Err(Error::index_out_of_range(
                    op,
                    v,
                    usize::from(layout.input.rank() >= 2),
                    layout.classes,
                    format!(
                        "{} and is not ignore_index ({ignore_index})",
                        position_name(target.shape(), p)
                    ),
                ));
            }
            Ok(Some(v as usize))
        })
        .collect()
}

/// Reads a per-class weight vector: 1-d of length C, finite.
pub(crate) fn read_class_weight(
    op: &'static str,
    weight: Option<&Tensor>,
    classes: usize,
) -> Result<Option<Rc<[f64]>>> {
    let Some(w) = weight else { return Ok(None) };
    check_constant(op, "weight", w)?;
    if w.dims() != [classes] {
        return Err(Error::bad_shape(
            op,
            format!("weight must be a 1-d tensor with one entry per class ({classes} classes)"),
            w.shape(),
        ));
    }
    let values = w.to_vec::<f64>();
    if let Some((c, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            op,
            format!("weight[{c}] = {v} is not finite"),
        ));
    }
    Ok(Some(values.into()))
}

/// Loss weights are constants in tapegrad (PyTorch does not differentiate
/// them either): refuse one that requires grad rather than drop its
/// gradient silently.
pub(crate) fn check_constant(op: &'static str, what: &str, t: &Tensor) -> Result<()> {
    if t.requires_grad() {
        return Err(Error::invalid(
            op,
            format!("{what} requires grad, but loss weights are constants: pass {what}.detach()"),
        ));
    }
    Ok(())
}

/// Which class each position reads, and the factor it is scaled by.
pub(crate) struct Selection {
    pub(crate) layout: ClassLayout,
    pub(crate) targets: Vec<Option<usize>>,
    pub(crate) coef: Vec<f64>,
}

/// `out[p] = coef[p] · x[p's sample, target[p], p's position]`, 0 where the
/// target is ignored. Shape: the positions.
pub(crate) fn pick(x: &Tensor, sel: &Rc<Selection>) -> Result<Tensor> {
    let l = &sel.layout;
    let out = dispatch!(x.dtype(), T => {
        let data: Vec<T> = x.with_contiguous::<T, _>(|x| {
            (0..l.len())
                .map(|p| match sel.targets[p] {
                    Some(c) => T::from_f64(sel.coef[p]) * x[l.at(p, c)],
                    None => T::ZERO,
                })
                .collect()
        });
        Tensor::from_parts(data, l.positions.clone())
    });
    record(out, &[x], |_| PickBackward(sel.clone()))
}

/// The adjoint of [`pick`]: `out[p's sample, target[p], p's position] =
/// coef[p] · g[p]`, zero elsewhere. Shape: the input's.
pub(crate) fn place(g: &Tensor, sel: &Rc<Selection>) -> Result<Tensor> {
    let l = &sel.layout;
    let out = dispatch!(g.dtype(), T => {
        let mut data = vec![T::ZERO; l.input.numel()];
        g.with_contiguous::<T, _>(|g| {
            for p in 0..l.len() {
                if let Some(c) = sel.targets[p] {
                    data[l.at(p, c)] = T::from_f64(sel.coef[p]) * g[p];
                }
            }
        });
        Tensor::from_parts(data, l.input.clone())
    });
    record(out, &[g], |_| PlaceBackward(sel.clone()))
}

struct PickBackward(Rc<Selection>);

impl Backward for PickBackward {
    fn name(&self) -> &'static str {
        "PickClass"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![Some(place(g, &self.0)?)])
    }
}

struct PlaceBackward(Rc<Selection>);

impl Backward for PlaceBackward {
    fn name(&self) -> &'static str {
        "PlaceClass"
    }
    fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
        Ok(smallvec::smallvec![Some(pick(g, &self.0)?)])
    }
}

/// Sum of `weight[target]` over the non-ignored positions: the divisor of
/// `reduction='mean'` for class-index targets.
pub(crate) fn total_weight(targets: &[Option<usize>], weight: Option<&[f64]>) -> f64 {
    targets
        .iter()
        .flatten()
        .map(|&c| weight.map_or(1.0, |w| w[c]))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_batched_unbatched_and_k_dim_inputs() {
        let l = ClassLayout::new("t", &Shape::new(&[2, 3, 4, 5])).unwrap();
        assert_eq!((l.outer, l.classes, l.inner), (2, 3, 20));
        assert_eq!(l.positions.dims(), &[2, 4, 5]);
        // position 21 = sample 1, spatial 1 → input [1, c, 0, 1]
        assert_eq!(l.at(21, 2), (3 + 2) * 20 + 1);
        let l = ClassLayout::new("t", &Shape::new(&[7])).unwrap();
        assert_eq!((l.outer, l.classes, l.inner), (1, 7, 1));
        assert_eq!(l.positions.rank(), 0);
        assert!(ClassLayout::new("t", &Shape::scalar()).is_err());
    }

    #[test]
    fn positions_are_named_in_the_target_shape() {
        assert_eq!(position_name(&Shape::new(&[5]), 3), " (target row 3)");
        assert_eq!(
            position_name(&Shape::new(&[2, 3, 4]), 23),
            " (target at [1, 2, 3])"
        );
        assert_eq!(position_name(&Shape::scalar(), 0), " (the 0-d target)");
    }

    #[test]
    fn pick_and_place_are_adjoint() {
        let layout = ClassLayout::new("t", &Shape::new(&[2, 3])).unwrap();
        let sel = Rc::new(Selection {
            layout,
            targets: vec![Some(2), None],
            coef: vec![-0.5, 1.0],
        });
        let x = Tensor::new([[1.0f64, 2.0, 4.0], [8.0, 16.0, 32.0]]);
        assert_eq!(pick(&x, &sel).unwrap().to_vec::<f64>(), vec![-2.0, 0.0]);
        let g = Tensor::new([3.0f64, 5.0]);
        assert_eq!(
            place(&g, &sel).unwrap().to_vec::<f64>(),
            vec![0.0, 0.0, -1.5, 0.0, 0.0, 0.0]
        );
    }
}
