//! Probability maps and losses with the exact semantics of
//! `torch.nn.functional`: argument names, defaults, reductions and edge
//! cases follow PyTorch, so numbers can be compared to the last digits.
//!
//! Each function returns a [`Result`](crate::Result): bad arguments (a
//! class id out of range, a probability outside `[0, 1]`, mismatched shapes)
//! are errors that name the problem, never a silent NaN or a panic. Options
//! are passed as small structs with PyTorch's defaults and builder methods;
//! [`crate::nn::loss`] wraps them as `torch.nn`-style loss modules.
//!
//! ```
//! use tapegrad::nn::functional as F;
//! use tapegrad::Tensor;
//! let logits = Tensor::new([[2.0f64, 0.5, -1.0], [0.0, 0.0, 3.0]]).requires_grad_(true);
//! let target = Tensor::new([0.0f64, 2.0]);
//! let loss = F::cross_entropy(&logits, &target).unwrap();
//! loss.backward();
//! // d loss / d logits = (softmax − onehot) / N
//! let p = F::softmax(&logits.detach(), 1).unwrap().to_vec::<f64>();
//! let g = logits.grad().unwrap().to_vec::<f64>();
//! assert!((g[0] - (p[0] - 1.0) / 2.0).abs() < 1e-15);
//! ```

mod bce;
mod class_target;
mod cross_entropy;
mod kl;
mod nll;
mod reduction;
mod regression;
mod softmax;

pub use bce::{
    binary_cross_entropy, binary_cross_entropy_with, binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_with, BceOptions, BceWithLogitsOptions,
};
pub use cross_entropy::{cross_entropy, cross_entropy_with, CrossEntropyOptions};
pub use kl::{kl_div, kl_div_with, KlDivOptions};
pub use nll::{nll_loss, nll_loss_with, NllLossOptions, DEFAULT_IGNORE_INDEX};
pub use reduction::{KlReduction, Reduction};
pub use regression::{
    huber_loss, huber_loss_with, l1_loss, l1_loss_with, mse_loss, mse_loss_with, smooth_l1_loss,
    smooth_l1_loss_with, HuberLossOptions, L1LossOptions, MseLossOptions, SmoothL1LossOptions,
};
pub use softmax::{log_softmax, sigmoid, softmax};
