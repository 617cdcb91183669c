//! The Weft language server.
//!
//! Only this crate knows LSP and JSON-RPC; it calls `weft_compiler::analysis` for every
//! answer and never re-implements checking. One module per request kind; [`world`]
//! holds the open documents and the last analysis of each project; [`position`]
//! converts between LSP positions and the compiler's byte offsets.
#![deny(unsafe_code)]

pub mod code_action;
pub mod code_lens;
pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod folding;
pub mod formatting;
pub mod hover;
pub mod inlay_hints;
pub mod lookup;
pub mod position;
pub mod references;
pub mod rename;
pub mod run_test;
pub mod semantic_diff;
pub mod semantic_tokens;
pub mod server;
pub mod signature_help;
pub mod symbols;
pub mod world;

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

/// Serves the language server over `input` and `output` (stdin and stdout for
/// `weft lsp`) until the client sends `exit` or closes the input.
pub async fn serve<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let (service, socket) = LspService::build(server::Backend::new)
        .custom_method(semantic_diff::METHOD, server::Backend::semantic_diff)
        .finish();
    Server::new(input, output, socket).serve(service).await;
}
