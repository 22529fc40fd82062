//! Properties every registered op (tests/common/ops.rs) must have, on
//! cases drawn by proptest:
//! - the first-order accelerator and the definition give the same
//!   gradients (to rounding), so neither can drift;
//! - backward hands each input a gradient of its own shape and dtype, and
//!   a second backward through a fresh graph adds exactly as much again;
//! - the op computes the same values in f32 as in f64 (to f32 rounding).

mod common;

use common::ops::{registry, Gen};
use proptest::prelude::*;
use tapegrad::{grad_with, BackwardOptions, DType, Tensor};

fn close(a: &[f64], b: &[f64], rtol: f64, atol: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= atol + rtol * y.abs() || (x.is_nan() && y.is_nan()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn accelerator_agrees_with_definition(index in 0usize..1000, seed in 0u64..1 << 20) {
        let ops = registry();
        let op = &ops[index % ops.len()];
        let case = (op.make)(&mut Gen::new(seed));
        let leaves: Vec<Tensor> = case.inputs.iter().map(|x| x.detach().requires_grad_(true)).collect();
        let refs: Vec<&Tensor> = leaves.iter().collect();
        let mut per_path = Vec::new();
        for create_graph in [false, true] {
            let y = op.run(&leaves, &case).unwrap();
            let seed_grad = Gen::new(seed + 1).values(y.dims(), common::ops::Domain::Any);
            let grads = grad_with(
                &[&y],
                &[&seed_grad],
                &refs,
                BackwardOptions { retain_graph: false, create_graph, ..Default::default() },
            ).unwrap();
            tapegrad::clear_tape();
            per_path.push(grads.iter().map(|g| g.to_vec::<f64>()).collect::<Vec<_>>());
        }
        for (k, (fast, definition)) in per_path[0].iter().zip(&per_path[1]).enumerate() {
            prop_assert!(
                close(fast, definition, 1e-12, 1e-13),
                "{}: input {k}: accelerator {fast:?} vs definition {definition:?}", op.name
            );
        }
    }

    #[test]
    fn gradients_have_input_shapes_and_accumulate(index in 0usize..1000, seed in 0u64..1 << 20) {
        let ops = registry();
        let op = &ops[index % ops.len()];
        let case = (op.make)(&mut Gen::new(seed));
        let leaves: Vec<Tensor> = case.inputs.iter().map(|x| x.detach().requires_grad_(true)).collect();
        let mut first = Vec::new();
        for round in 0..2 {
            let y = op.run(&leaves, &case).unwrap();
            y.sum().backward();
            for (k, leaf) in leaves.iter().enumerate() {
                let g = leaf.grad().expect("every input gets a gradient");
                prop_assert_eq!(g.dims(), leaf.dims(), "{}: input {}", op.name, k);
                prop_assert_eq!(g.dtype(), leaf.dtype());
                let values = g.to_vec::<f64>();
                if round == 0 {
                    first.push(values);
                } else {
                    // g + g is exact in floating point.
                    let doubled: Vec<f64> = first[k].iter().map(|v| 2.0 * v).collect();
                    prop_assert!(close(&values, &doubled, 0.0, 0.0), "{}: input {k}", op.name);
                }
            }
        }
    }

    #[test]
    fn f32_matches_f64(index in 0usize..1000, seed in 0u64..1 << 20) {
        let ops = registry();
        let op = &ops[index % ops.len()];
        let case = (op.make)(&mut Gen::new(seed));
        let wide = op.run(&case.inputs, &case).unwrap();
        let narrow_inputs: Vec<Tensor> = case.inputs.iter().map(|x| x.to_dtype(DType::F32)).collect();
        let narrow = op.run(&narrow_inputs, &case).unwrap();
        if !op.covers.contains(&"try_to_dtype") {
            prop_assert_eq!(narrow.dtype(), DType::F32, "{}", op.name);
        }
        prop_assert_eq!(narrow.dims(), wide.dims());
        prop_assert!(
            close(&narrow.to_vec::<f64>(), &wide.to_vec::<f64>(), 1e-5, 1e-5),
            "{}: f32 {:?} vs f64 {:?}", op.name, narrow.to_vec::<f64>(), wide.to_vec::<f64>()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// An in-place write between an op's forward and its backward, into
    /// one of its inputs or its output: backward must either refuse (the op
    /// saved the written tensor) or give exactly the gradients of an
    /// unmodified run. Never gradients computed from the new values.
    #[test]
    fn in_place_writes_are_refused_or_harmless(
        index in 0usize..1000,
        seed in 0u64..1 << 20,
        target in 0usize..4,
    ) {
        let ops = registry();
        let op = &ops[index % ops.len()];
        let case = (op.make)(&mut Gen::new(seed));
        let fresh = |case: &common::ops::Case| {
            let leaves: Vec<Tensor> =
                case.inputs.iter().map(|x| x.detach().requires_grad_(true)).collect();
            (leaves.clone(), op.run(&leaves, case).unwrap())
        };
        // The reference: gradients of the unmodified computation.
        let (clean_leaves, y) = fresh(&case);
        y.sum().backward();
        let clean: Vec<Vec<f64>> =
            clean_leaves.iter().map(|l| l.grad().unwrap().to_vec::<f64>()).collect();

        let (leaves, y) = fresh(&case);
        let loss = y.sum();
        // Write other values (of the same shape) into an input or the output.
        let written = if target < leaves.len() { &leaves[target] } else { &y };
        if !written.is_contiguous() || written.numel() == 0 {
            return Ok(());
        }
        let junk = Gen::new(seed ^ 0x5eed).values(written.dims(), common::ops::Domain::Any);
        written.detach().copy_(&junk.to_dtype(written.dtype()));
        match loss.try_backward() {
            Err(e) => prop_assert!(
                e.to_string().contains("modified by an in-place operation"),
                "{}: {e}", op.name
            ),
            Ok(()) => {
                for (k, leaf) in leaves.iter().enumerate() {
                    let got = leaf.grad().unwrap().to_vec::<f64>();
                    prop_assert!(
                        got.iter().zip(&clean[k]).all(|(a, b)| a == b || (a.is_nan() && b.is_nan())),
                        "{}: input {k} got {got:?}, unmodified run {:?}", op.name, clean[k]
                    );
                }
            }
        }
        tapegrad::clear_tape();
    }
}
