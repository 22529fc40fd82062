//! Every op of the registry (tests/common/ops.rs) against central finite
//! differences in f64: the full Jacobian through both the first-order
//! accelerator and the definition (`gradcheck`), and second derivatives
//! (`gradgradcheck`), on several drawn cases each, with contiguous inputs
//! and again with each matrix input handed over as a transposed view.

mod common;

use common::ops::{registry, Case, Gen, Op};
use tapegrad::{gradcheck, gradgradcheck, Result, Tensor};

/// Cases drawn per op.
const SEEDS: u64 = 4;

/// Checks one case; `transposed` hands every input of rank ≥ 2 to the op
/// as a non-contiguous view (a transposed copy transposed back).
fn check(op: &Op, case: &Case, transposed: bool) -> Option<String> {
    let leaves: Vec<Tensor> = case
        .inputs
        .iter()
        .map(|x| {
            if transposed && x.ndim() >= 2 {
                x.transpose(-1, -2).contiguous()
            } else {
                x.clone()
            }
        })
        .collect();
    let f = |xs: &[Tensor]| -> Result<Tensor> {
        let views: Vec<Tensor> = xs
            .iter()
            .map(|x| {
                if transposed && x.ndim() >= 2 {
                    x.transpose(-1, -2)
                } else {
                    x.clone()
                }
            })
            .collect();
        op.run(&views, case)
    };
    let options = op.gradcheck.unwrap_or_default();
    match gradcheck(f, &leaves, options) {
        Ok(r) if r.passed() => {}
        Ok(r) => return Some(format!("first order\n{r}")),
        Err(e) => return Some(format!("gradcheck failed to run: {e}")),
    }
    match gradgradcheck(f, &leaves, options) {
        Ok(r) if r.passed() => None,
        Ok(r) => Some(format!("second order\n{r}")),
        Err(e) => Some(format!("gradgradcheck failed to run: {e}")),
    }
}

#[test]
fn every_registered_op_matches_finite_differences() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for op in registry() {
        for seed in 0..SEEDS {
            let case = (op.make)(&mut Gen::new(seed));
            for transposed in [false, true] {
                if transposed && case.inputs.iter().all(|x| x.ndim() < 2) {
                    continue;
                }
                checked += 1;
                if let Some(why) = check(&op, &case, transposed) {
                    let shapes: Vec<_> = case.inputs.iter().map(|x| x.dims().to_vec()).collect();
                    failures.push(format!(
                        "{} (seed {seed}, inputs {shapes:?}, ints {:?}, transposed {transposed}): {why}",
                        op.name, case.ints
                    ));
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} cases checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
