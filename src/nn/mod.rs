//! Neural-network building blocks, mirroring `torch.nn`.

pub mod functional;
pub mod loss;
