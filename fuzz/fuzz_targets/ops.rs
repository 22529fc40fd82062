//! cargo-fuzz target: the op-sequence interpreter shared with the stable
//! test `tests/fuzz_ops.rs`. Run with
//! `cargo +nightly fuzz run ops -- -max_total_time=600` (see fuzz/README.md).
#![no_main]

#[path = "../../tests/fuzz_ops/mod.rs"]
mod fuzz_ops;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_ops::run(data));
