//! Tokens and the syntax tree of `.weft` files. The tree knows nothing of types.

pub mod spans;
pub mod token;
pub mod tree;

pub use spans::Spans;
pub use tree::*;
