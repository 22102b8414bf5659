//! The commands: each a short driver that calls the pipeline's stages in order.

pub mod check;
pub mod import;
pub mod verify;
