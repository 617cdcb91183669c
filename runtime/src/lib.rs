//! The Weft runtime: runs compiled artifacts with credentials bound per environment.
//!
//! It knows nothing of the compiler, so a production host needs only this crate and
//! the artifacts. The IR, evaluator, connectors and deployment registry land here
//! (issues 3 to 6); the language core does not need them yet.
