//! End-to-end tests of the `weft` binary live in `tests/`; this crate has no library code.
