//! The Weft runtime: runs compiled artifacts with credentials bound per environment.
//!
//! It knows nothing of the compiler, so a production host needs only this crate and
//! the artifacts. [`ir`] is the program an artifact carries; [`artifact`] is the
//! versioned, content-addressed file around it.
#![deny(unsafe_code)]

pub mod artifact;
pub mod binding;
pub mod connector;
pub mod connectors;
pub mod cron;
pub mod delivery;
pub mod engine;
pub mod eval;
pub mod format;
pub mod host;
pub mod ir;
pub mod redact;
pub mod secrets;
pub mod state;
pub mod testing;
pub mod value;
