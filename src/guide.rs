//! The math behind the losses, derived step by step: the pages of `docs/`,
//! included here so that they are one click away from the API docs.
//!
//! Read them in order; each links the example that shows its formulas
//! running. (Formulas are LaTeX, which GitHub renders and rustdoc shows as
//! written; the [repository's copy](https://github.com/tapegrad/tapegrad/tree/main/docs)
//! renders them, and its relative links to examples and tests work there.)
//!
//! 1. [`scores`]: what a linear classifier outputs.
//! 2. [`sigmoid`]: a probability from a score difference.
//! 3. [`softmax`]: probabilities for many classes.
//! 4. [`one_hot_and_likelihood`]: one-hot targets and maximum likelihood.
//! 5. [`cross_entropy`]: the loss, its gradient, weights and smoothing.
//! 6. [`binary_cross_entropy`]: the two-class case and the logits form.
//! 7. [`why_the_log`]: why `-log p` and not squared error.
//! 8. [`kl_divergence`]: KL, and why minimising cross-entropy minimises it.
//! 9. [`backward_rules`]: how the tape computes gradients.
//! 10. [`squared_error`]: MSE as a Gaussian's negative log-likelihood.
//! 13. [`in_practice`]: logits, temperature, calibration, several labels.
//!
//! How the crate is built (layers, the tape, adding an op):
//! [docs/architecture.md](https://github.com/tapegrad/tapegrad/blob/main/docs/architecture.md).
//! Moving a trained model to PyTorch or candle: [`outgrowing`].

// The pages' LaTeX (`[0,1]`, `\\[2ex]`) reads to rustdoc as links to items
// that do not exist; they are formulas, not links.
#![allow(rustdoc::broken_intra_doc_links)]

#[doc = include_str!("../docs/01-scores.md")]
pub mod scores {}
#[doc = include_str!("../docs/02-sigmoid.md")]
pub mod sigmoid {}
#[doc = include_str!("../docs/03-softmax.md")]
pub mod softmax {}
#[doc = include_str!("../docs/04-one-hot-and-likelihood.md")]
pub mod one_hot_and_likelihood {}
#[doc = include_str!("../docs/05-cross-entropy.md")]
pub mod cross_entropy {}
#[doc = include_str!("../docs/06-binary-cross-entropy.md")]
pub mod binary_cross_entropy {}
#[doc = include_str!("../docs/07-why-the-log.md")]
pub mod why_the_log {}
#[doc = include_str!("../docs/08-kl-divergence.md")]
pub mod kl_divergence {}
#[doc = include_str!("../docs/09-backward-rules.md")]
pub mod backward_rules {}
#[doc = include_str!("../docs/outgrowing.md")]
pub mod outgrowing {}
#[doc = include_str!("../docs/10-squared-error.md")]
pub mod squared_error {}
#[doc = include_str!("../docs/13-in-practice.md")]
pub mod in_practice {}
