//! Gradient checking: compare the tape's gradients with central finite
//! differences in `f64` (`torch.autograd.gradcheck` / `gradgradcheck`).

use std::fmt;

use super::backward::{grad_with, BackwardOptions};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Step and tolerances for [`gradcheck`].
///
/// The defaults (`eps = 1e-6`, `atol = 1e-7`, `rtol = 1e-6`) are stricter
/// than PyTorch's (`atol = 1e-5`, `rtol = 1e-3`): everything runs in `f64`,
/// where central differences are accurate to about 1e-9, so a gradient that
/// is off by one part in a thousand must not pass.
#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance: an element passes when
    /// `|analytic - numeric| <= atol + rtol * |numeric|`.
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            eps: 1e-6,
            atol: 1e-7,
            rtol: 1e-6,
        }
    }
}

/// The worst disagreement found for one input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputCheck {
    /// Largest `|analytic - numeric|` over the Jacobian entries.
    pub max_abs_error: f64,
    /// Largest `|analytic - numeric| / max(|numeric|, tiny)`.
    pub max_rel_error: f64,
    /// Where the largest absolute error is: (output element, input element),
    /// both as row-major flat indices. `None` for an empty Jacobian.
    pub worst_at: Option<(usize, usize)>,
    /// Analytic and numeric values at `worst_at`.
    pub worst_values: (f64, f64),
    /// True when every entry is within tolerance.
    pub passed: bool,
    /// Which ways of computing the gradient disagreed with finite
    /// differences (empty when `passed`).
    pub failing: Vec<GradPath>,
}

/// The two ways backward computes an op's gradient, which `gradcheck`
/// checks separately: an op's definition (its rule written in
/// differentiable ops, run with `create_graph`, as second order uses it)
/// and its first-order accelerator (a fused pass used by an ordinary
/// backward; where an op has none, the definition again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradPath {
    /// The first-order backward, through each op's accelerator.
    Accelerator,
    /// The definition, recorded as under `create_graph`.
    Definition,
}

impl fmt::Display for GradPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GradPath::Accelerator => "first-order accelerator",
            GradPath::Definition => "definition (create_graph)",
        })
    }
}

/// The result of a gradient check: one [`InputCheck`] per input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GradcheckReport {
    /// Per input, in order.
    pub inputs: Vec<InputCheck>,
}

impl GradcheckReport {
    /// True when every input passed.
    pub fn passed(&self) -> bool {
        self.inputs.iter().all(|c| c.passed)
    }
}

impl fmt::Display for GradcheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.inputs.iter().enumerate() {
            write!(
                f,
                "input {i}: {} max abs error {:.3e}, max rel error {:.3e}",
                if c.passed { "ok  " } else { "FAIL" },
                c.max_abs_error,
                c.max_rel_error
            )?;
            for (k, path) in c.failing.iter().enumerate() {
                write!(f, "{} {path}", if k == 0 { " in the" } else { " and the" })?;
            }
            if let Some((o, e)) = c.worst_at {
                write!(
                    f,
                    " (output {o}, element {e}: analytic {:.9e}, numeric {:.9e})",
                    c.worst_values.0, c.worst_values.1
                )?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Checks the gradients of `f` at `inputs` against central finite
/// differences, entry by entry of the full Jacobian, in `f64`.
///
/// Inputs are converted to `float64` leaves that require grad. Returns the
/// report (check [`GradcheckReport::passed`]); an `Err` means `f` itself
/// failed.
///
/// ```
/// use tapegrad::{gradcheck, GradcheckOptions, Tensor};
/// let x = Tensor::new([[0.3f64, -1.2], [2.0, 0.7]]);
/// let report = gradcheck(|xs| Ok(xs[0].tanh().mul(&xs[0])), &[x], GradcheckOptions::default()).unwrap();
/// assert!(report.passed(), "{report}");
/// ```
pub fn gradcheck(
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    options: GradcheckOptions,
) -> Result<GradcheckReport> {
    gradcheck_outputs(|xs| Ok(vec![f(xs)?]), inputs, options)
}

/// [`gradcheck`] for a function with several outputs.
pub fn gradcheck_outputs(
    f: impl Fn(&[Tensor]) -> Result<Vec<Tensor>>,
    inputs: &[Tensor],
    options: GradcheckOptions,
) -> Result<GradcheckReport> {
    let base: Vec<Vec<f64>> = inputs.iter().map(|x| x.to_vec::<f64>()).collect();
    let shapes: Vec<_> = inputs.iter().map(|x| x.shape().clone()).collect();
    let make_leaves = |values: &[Vec<f64>]| -> Vec<Tensor> {
        values
            .iter()
            .zip(&shapes)
            .map(|(v, s)| Tensor::from_parts(v.clone(), s.clone()).requires_grad_(true))
            .collect()
    };
    let eval = |values: &[Vec<f64>]| -> Result<Vec<f64>> {
        let outs = f(&make_leaves(values))?;
        Ok(outs.iter().flat_map(|o| o.to_vec::<f64>()).collect())
    };

    // Analytic Jacobian: one backward per output element, seeded one-hot;
    // computed twice, without and with `create_graph`, because the sweep
    // runs each op's accelerator in the first and its definition in the
    // second, and both must be right.
    let first_order = analytic_jacobian(&f, &make_leaves(&base), inputs, false)?;
    let differentiable_rules = analytic_jacobian(&f, &make_leaves(&base), inputs, true)?;
    let total_out = first_order.total_out;

    // Numeric Jacobian, one input element at a time.
    let mut report = GradcheckReport::default();
    let mut values = base.clone();
    for i in 0..inputs.len() {
        let n = inputs[i].numel();
        let mut check = InputCheck {
            passed: true,
            ..Default::default()
        };
        for e in 0..n {
            let x0 = base[i][e];
            values[i][e] = x0 + options.eps;
            let plus = eval(&values)?;
            values[i][e] = x0 - options.eps;
            let minus = eval(&values)?;
            values[i][e] = x0;
            for out in 0..total_out {
                let numeric = (plus[out] - minus[out]) / (2.0 * options.eps);
                for (path, analytic) in [
                    (GradPath::Accelerator, &first_order),
                    (GradPath::Definition, &differentiable_rules),
                ] {
                    let a = analytic.values[i][out * n + e];
                    let abs_err = (a - numeric).abs();
                    let rel_err = abs_err / numeric.abs().max(1e-12);
                    let ok = abs_err <= options.atol + options.rtol * numeric.abs();
                    if !ok || a.is_nan() != numeric.is_nan() {
                        check.passed = false;
                        if !check.failing.contains(&path) {
                            check.failing.push(path);
                        }
                    }
                    if abs_err > check.max_abs_error || check.worst_at.is_none() || abs_err.is_nan()
                    {
                        check.max_abs_error = abs_err;
                        check.worst_at = Some((out, e));
                        check.worst_values = (a, numeric);
                    }
                    check.max_rel_error = check.max_rel_error.max(rel_err);
                }
            }
        }
        report.inputs.push(check);
    }
    Ok(report)
}

/// The Jacobian of `f` at `leaves` by reverse mode, as
/// `values[input][output_element * numel(input) + input_element]`.
struct Jacobian {
    values: Vec<Vec<f64>>,
    total_out: usize,
}

fn analytic_jacobian(
    f: &impl Fn(&[Tensor]) -> Result<Vec<Tensor>>,
    leaves: &[Tensor],
    inputs: &[Tensor],
    create_graph: bool,
) -> Result<Jacobian> {
    let outputs = f(leaves)?;
    for o in &outputs {
        if o.dtype() != DType::F64 {
            return Err(Error::invalid(
                "gradcheck",
                format!(
                    "outputs must be float64 (got {}); build them from the inputs",
                    o.dtype()
                ),
            ));
        }
    }
    let total_out: usize = outputs.iter().map(|o| o.numel()).sum();
    let differentiable: Vec<&Tensor> = outputs.iter().filter(|o| o.requires_grad()).collect();
    // analytic[i][out * numel_i + elem]
    let mut analytic: Vec<Vec<f64>> = inputs
        .iter()
        .map(|x| vec![0.0; total_out * x.numel()])
        .collect();
    let leaf_refs: Vec<&Tensor> = leaves.iter().collect();
    let mut row = 0;
    for o in &outputs {
        for e in 0..o.numel() {
            if o.requires_grad() {
                let seeds: Vec<Tensor> = differentiable
                    .iter()
                    .map(|d| {
                        let mut v = vec![0.0f64; d.numel()];
                        if std::ptr::eq(*d, o) {
                            v[e] = 1.0;
                        }
                        Tensor::from_parts(v, d.shape().clone())
                    })
                    .collect();
                let seed_refs: Vec<&Tensor> = seeds.iter().collect();
                let grads = grad_with(
                    &differentiable,
                    &seed_refs,
                    &leaf_refs,
                    BackwardOptions {
                        retain_graph: true,
                        create_graph,
                        // A function may ignore some of its inputs (its
                        // Jacobian block is then 0, which is checked).
                        allow_unused: true,
                    },
                )?;
                for (i, g) in grads.iter().enumerate() {
                    let n = inputs[i].numel();
                    analytic[i][row * n..(row + 1) * n].copy_from_slice(&g.to_vec::<f64>());
                }
            }
            row += 1;
        }
    }
    Ok(Jacobian {
        values: analytic,
        total_out,
    })
}

/// Checks second derivatives: the gradient of `f` (a vector-Jacobian
/// product with a fixed random seed `v`, built with `create_graph`) is
/// itself gradient-checked with respect to the inputs and `v`
/// (`torch.autograd.gradgradcheck`).
///
/// ```
/// use tapegrad::{gradgradcheck, GradcheckOptions, Tensor};
/// let x = Tensor::new([0.3f64, -1.2, 2.0]);
/// let report = gradgradcheck(|xs| Ok(xs[0].tanh()), &[x], GradcheckOptions::default()).unwrap();
/// assert!(report.passed(), "{report}");
/// ```
pub fn gradgradcheck(
    f: impl Fn(&[Tensor]) -> Result<Tensor>,
    inputs: &[Tensor],
    options: GradcheckOptions,
) -> Result<GradcheckReport> {
    let probe = f(&inputs
        .iter()
        .map(|x| x.to_dtype(DType::F64).detach().requires_grad_(true))
        .collect::<Vec<_>>())?;
    let out_shape = probe.shape().clone();
    drop(probe);
    // A fixed, irregular seed so that no symmetry hides an error.
    let n = out_shape.numel();
    let seed: Vec<f64> = (0..n)
        .map(|k| 0.5 + ((k * 7 + 3) % 11) as f64 / 10.0)
        .collect();
    let seed = Tensor::from_parts(seed, out_shape);
    let mut all_inputs: Vec<Tensor> = inputs.to_vec();
    all_inputs.push(seed);
    let count = inputs.len();
    gradcheck_outputs(
        |xs| {
            let (xs, v) = xs.split_at(count);
            let y = f(xs)?;
            if !y.requires_grad() {
                return Ok(xs.iter().map(Tensor::zeros_like).collect());
            }
            let refs: Vec<&Tensor> = xs.iter().collect();
            grad_with(
                &[&y],
                &[&v[0]],
                &refs,
                BackwardOptions {
                    retain_graph: true,
                    create_graph: true,
                    allow_unused: true,
                },
            )
        },
        &all_inputs,
        options,
    )
}

#[cfg(test)]
mod tests {
    //! gradcheck must name the way of computing a gradient that is wrong:
    //! an op is recorded whose definition or accelerator is deliberately
    //! off, and the report must fail and say which.

    use super::*;
    use crate::autograd::function::{done, Accelerated, Backward, BackwardCtx, GradInputs};
    use crate::autograd::tape::record;

    /// `y = 3x`, with a definition and an accelerator that can each be
    /// made wrong by a factor.
    struct Triple {
        definition_factor: f64,
        accelerator_factor: Option<f64>,
    }

    impl Backward for Triple {
        fn name(&self) -> &'static str {
            "Triple"
        }
        fn backward(&self, _ctx: &BackwardCtx<'_>, g: &Tensor) -> Result<GradInputs> {
            Ok(smallvec::smallvec![Some(
                g.try_mul_scalar(self.definition_factor)?
            )])
        }
        fn first_order(&self, _ctx: &BackwardCtx<'_>, g: Tensor) -> Result<Accelerated> {
            match self.accelerator_factor {
                Some(c) => done([Some(g.try_mul_scalar(c)?)]),
                None => Ok(Accelerated::Declined(g)),
            }
        }
    }

    fn check(definition_factor: f64, accelerator_factor: Option<f64>) -> GradcheckReport {
        let x = Tensor::new([0.5f64, -1.0, 2.0]);
        gradcheck(
            |xs| {
                let out = crate::no_grad(|| xs[0].mul_scalar(3.0));
                record(out, &[&xs[0]], |_| Triple {
                    definition_factor,
                    accelerator_factor,
                })
            },
            &[x],
            GradcheckOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_correct_op_passes_both_ways() {
        assert!(check(3.0, Some(3.0)).passed());
        assert!(check(3.0, None).passed());
    }

    #[test]
    fn a_wrong_accelerator_is_named() {
        let report = check(3.0, Some(3.001));
        assert!(!report.passed());
        assert_eq!(report.inputs[0].failing, vec![GradPath::Accelerator]);
        assert!(
            report.to_string().contains("first-order accelerator"),
            "{report}"
        );
    }

    #[test]
    fn a_wrong_definition_is_named() {
        let report = check(2.999, Some(3.0));
        assert!(!report.passed());
        assert_eq!(report.inputs[0].failing, vec![GradPath::Definition]);
        assert!(report.to_string().contains("definition"), "{report}");
        // Without an accelerator the first-order backward runs the
        // definition too, so both disagree.
        let report = check(2.999, None);
        assert_eq!(
            report.inputs[0].failing,
            vec![GradPath::Accelerator, GradPath::Definition]
        );
    }
}
