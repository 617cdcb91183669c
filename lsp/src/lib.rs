//! The Weft language server.
//!
//! Only this crate knows LSP and JSON-RPC; it calls `weft_compiler::analysis` for every
//! answer and never re-implements checking. The server itself is issue 7.
