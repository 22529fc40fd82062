//! Neural-network building blocks, mirroring `torch.nn`: modules, layers,
//! activations, initialisers, and (in [`functional`] and [`loss`]) the losses.

pub mod activation;
pub mod dropout;
pub mod functional;
pub mod init;
pub mod linear;
pub mod loss;
pub mod module;
pub(crate) mod repr;
pub mod sequential;
pub mod utils;
pub use activation::{Activation, LeakyReLU, ReLU, Sigmoid, Tanh, GELU};
pub use dropout::Dropout;
pub use linear::Linear;
pub use module::{prefixed, Module};
pub use repr::repr_with_children;
pub use sequential::{mlp, Sequential};
