//! The Weft compiler: parses `.weft` files, resolves names and imported schemas, and
//! type-checks schema contracts, mappings, flows, environments and delivery policies.
//!
//! Every front end (the CLI, the language server, the tests) goes through [`analysis`].
#![deny(unsafe_code)]

pub mod analysis;
pub mod builtins;
pub mod check;
pub mod connectors;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod fmt;
pub mod graph;
pub mod import;
pub mod lower;
pub mod parse;
pub mod project;
pub mod relocate;
pub mod render;
pub mod resolve;
pub mod source;
pub mod syntax;
pub mod testing;
pub mod types;
pub mod xml;
