//! What the example notebooks share, one job per file:
//!
//! - `flags`: the command line (each example declares the flags it takes);
//! - `notebook`: sections, wrapped prose, tables, result lines, saved files;
//! - `epochs`: the `epoch=<n> loss=<v> acc=<v>` lines and the progress bar;
//! - `prose`: plurals, articles and ordinals for sentences built from numbers;
//! - `chart`: loss charts in the terminal and as SVG;
//! - `checks`: the claims an example makes, enforced only under `--quick`;
//! - `fit`: the data, models and training loop of the real-data examples
//!   (also used by `tests/examples_reference.rs`).
//!
//! Each example includes this module with `mod support;` and compiles it on
//! its own, so whatever one example does not call is dead code in that
//! example's build. `flags`, `notebook` and `checks` are used by every
//! example (the few exceptions carry their own `allow`); the modules below
//! marked `allow(dead_code)` serve only the examples that train or draw.
//! `tests/example_support.rs` unit-tests the pure functions. None of this
//! is part of the library's API.

pub mod checks;
pub mod flags;
pub mod notebook;

// Not used by scores_to_probabilities and gradients_by_hand, which neither
// train nor draw charts.
#[allow(dead_code)]
pub mod chart;
#[allow(dead_code)]
pub mod epochs;
#[allow(dead_code)]
pub mod prose;

// Used by the three real-data examples (each a different part of it) and
// by tests/examples_reference.rs.
#[allow(dead_code)]
pub mod fit;
