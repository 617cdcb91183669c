//! Tokens and the syntax tree of `.weft` files. The tree knows nothing of types.

pub mod token;
pub mod tree;

pub use tree::*;
