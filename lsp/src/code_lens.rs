//! `textDocument/codeLens`: "▶ Run test" above each test and "Diff vs HEAD" above each
//! flow. `weft.runTest` is the server's own command ([`crate::run_test`]); after a run,
//! its lens shows the result. The editor runs `weft.semanticDiff` by sending the
//! `weft/semanticDiff` request.

use std::collections::HashMap;

use serde_json::json;
use tower_lsp_server::ls_types::{CodeLens, Command, Range};
use weft_compiler::analysis::Analysis;
use weft_compiler::source::{FileId, Span};
use weft_compiler::syntax::Item;

use crate::position::LineIndex;
use crate::world::Snapshot;

/// Runs one test; arguments `[uri, test name]`.
pub const RUN_TEST: &str = "weft.runTest";

/// Shows what changed in one flow since git HEAD; arguments `[uri, flow name]`.
pub const SEMANTIC_DIFF: &str = "weft.semanticDiff";

/// The lenses of a file, in source order; `titles` are the lens titles of tests run
/// from the editor, by test name.
pub fn code_lenses(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    titles: &HashMap<String, String>,
) -> Vec<CodeLens> {
    let Some((_, tree)) = analysis.files.iter().find(|(id, _)| *id == file) else {
        return Vec::new();
    };
    let Some(uri) = snapshot.file_uri(analysis, file) else {
        return Vec::new();
    };
    let index = LineIndex::new(snapshot.text(analysis, file));
    let header = |item: Span, name: Span| index.range(Span::new(item.start, name.end));
    tree.items
        .iter()
        .filter_map(|item| match item {
            Item::Test(test) => Some((
                header(test.span, test.name.span),
                titles
                    .get(&test.name.value)
                    .map_or("▶ Run test", String::as_str),
                RUN_TEST,
                test.name.value.clone(),
            )),
            Item::Flow(flow) => Some((
                header(flow.span, flow.name.span),
                "Diff vs HEAD",
                SEMANTIC_DIFF,
                flow.name.name.clone(),
            )),
            _ => None,
        })
        .map(
            |(range, title, command, name): (Range, &str, &str, String)| CodeLens {
                range,
                command: Some(Command {
                    title: title.to_string(),
                    command: command.to_string(),
                    arguments: Some(vec![json!(uri.as_str()), json!(name)]),
                }),
                data: None,
            },
        )
        .collect()
}
