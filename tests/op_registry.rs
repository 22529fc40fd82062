//! The op registry is complete: every public fallible op of the crate is
//! either in tests/common/ops.rs (so the gradcheck sweep, the property
//! tests and the fuzzer reach it) or in the commented list of exemptions
//! below. Adding an op without registering it fails here, naming it.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

/// Public fallible functions that are deliberately not in the registry,
/// each with the reason.
const EXEMPT: &[(&str, &str)] = &[
    ("try_argmax", "returns indices: no gradient"),
    ("try_argmax_all", "returns an index: no gradient"),
    ("try_argmin", "returns indices: no gradient"),
    ("try_argmin_all", "returns an index: no gradient"),
    ("try_eq", "a 0/1 mask: no gradient"),
    ("try_eq_scalar", "a 0/1 mask: no gradient"),
    ("try_ne", "a 0/1 mask: no gradient"),
    ("try_ne_scalar", "a 0/1 mask: no gradient"),
    ("try_lt", "a 0/1 mask: no gradient"),
    ("try_lt_scalar", "a 0/1 mask: no gradient"),
    ("try_le", "a 0/1 mask: no gradient"),
    ("try_le_scalar", "a 0/1 mask: no gradient"),
    ("try_gt", "a 0/1 mask: no gradient"),
    ("try_gt_scalar", "a 0/1 mask: no gradient"),
    ("try_ge", "a 0/1 mask: no gradient"),
    ("try_ge_scalar", "a 0/1 mask: no gradient"),
    (
        "try_one_hot",
        "a constant built from class ids: no gradient",
    ),
    (
        "try_multinomial",
        "random indices drawn from probabilities: no gradient; tests/everyday_ops_behaviour.rs",
    ),
    ("try_item", "reads a value out of a tensor"),
    ("try_size", "reads a dimension"),
    ("try_backward", "runs the sweep that the registry tests"),
    (
        "try_backward_with",
        "runs the sweep that the registry tests",
    ),
    (
        "try_requires_grad_",
        "sets a flag; tested in tests/engine.rs",
    ),
    (
        "try_copy_",
        "an in-place write, not recorded; tests/bad_input.rs",
    ),
    (
        "try_set_grad",
        "assigns .grad, not an op; tests/gradients_trust.rs",
    ),
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

/// The names of the crate's public fallible ops: `pub fn try_*` methods,
/// `try_*` names passed to the macros that generate ops (one per line at
/// the start of the invocation's arguments), and the top-level `pub fn`s
/// of `nn::functional`.
fn public_ops() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut names = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (path, text) in &files {
        let functional = path.contains("nn/functional/") || path.contains("nn\\functional\\");
        for line in text.lines() {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix("pub fn try_") {
                names.insert(format!("try_{}", ident(rest)));
            } else if trimmed.starts_with("try_") && trimmed.contains(',') {
                for token in trimmed.split(',') {
                    let token = token.trim();
                    if token.starts_with("try_") && ident(token) == token {
                        names.insert(token.to_string());
                    }
                }
            } else if functional {
                if let Some(rest) = line.strip_prefix("pub fn ") {
                    names.insert(ident(rest));
                }
            }
        }
    }
    names
}

/// Ops that are neither registered nor exempt.
fn unlisted(ops: &BTreeSet<String>, registered: &BTreeSet<&str>) -> Vec<String> {
    let exempt: BTreeSet<&str> = EXEMPT.iter().map(|(n, _)| *n).collect();
    ops.iter()
        .filter(|n| !registered.contains(n.as_str()) && !exempt.contains(n.as_str()))
        .cloned()
        .collect()
}

fn registered() -> BTreeSet<&'static str> {
    common::ops::registry()
        .iter()
        .flat_map(|op| op.covers.iter().copied())
        .collect()
}

#[test]
fn every_public_op_is_registered_or_exempt() {
    let ops = public_ops();
    assert!(ops.len() > 90, "the scan found only {} ops", ops.len());
    let missing = unlisted(&ops, &registered());
    assert!(
        missing.is_empty(),
        "public ops in neither tests/common/ops.rs nor the exemptions of tests/op_registry.rs: {missing:?}"
    );
}

#[test]
fn registry_and_exemptions_name_only_real_ops() {
    let ops = public_ops();
    let stale: Vec<&str> = registered()
        .into_iter()
        .chain(EXEMPT.iter().map(|(n, _)| *n))
        .filter(|n| !ops.contains(*n))
        .collect();
    assert!(stale.is_empty(), "names that are not public ops: {stale:?}");
}

#[test]
fn removing_an_entry_is_caught() {
    // The check above on a registry with one entry taken out.
    let ops = public_ops();
    for name in ["try_sin", "try_logaddexp", "cross_entropy", "try_matmul"] {
        let mut fewer = registered();
        assert!(fewer.remove(name), "{name} is registered");
        assert_eq!(unlisted(&ops, &fewer), vec![name.to_string()]);
    }
}
