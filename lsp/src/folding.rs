//! `textDocument/foldingRange`: every `{ ... }` block over more than one line, and
//! runs of comment lines.

use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind};
use weft_compiler::syntax::token::{lex, Token};

use crate::position::LineIndex;

/// The folding ranges of a text.
pub fn folding_ranges(text: &str) -> Vec<FoldingRange> {
    let index = LineIndex::new(text);
    let line = |offset: usize| index.position(offset).line;
    let mut out = Vec::new();
    let mut open = Vec::new();
    // The first and last lines of the current run of comments.
    let mut comments: Option<(u32, u32)> = None;
    let flush = |run: Option<(u32, u32)>, out: &mut Vec<FoldingRange>| {
        if let Some((start, end)) = run.filter(|(s, e)| e > s) {
            out.push(range(start, end, Some(FoldingRangeKind::Comment)));
        }
    };
    for (token, span) in lex(text) {
        if let Token::Comment(_) = token {
            let at = line(span.start);
            comments = match comments {
                Some((start, end)) if at == end + 1 => Some((start, at)),
                Some((_, end)) if at == end => comments,
                other => {
                    flush(other, &mut out);
                    Some((at, at))
                }
            };
            continue;
        }
        match token {
            Token::LBrace => open.push(line(span.start)),
            Token::RBrace => {
                if let Some(start) = open.pop() {
                    // The closing brace stays visible.
                    let end = line(span.start).saturating_sub(1);
                    if end > start {
                        out.push(range(start, end, None));
                    }
                }
            }
            _ => {}
        }
    }
    flush(comments, &mut out);
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out
}

fn range(start: u32, end: u32, kind: Option<FoldingRangeKind>) -> FoldingRange {
    FoldingRange {
        start_line: start,
        start_character: None,
        end_line: end,
        end_character: None,
        kind,
        collapsed_text: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_comment_runs() {
        let text = "// a\n// b\nschema A {\n  a: Int\n  b: { c: Int }\n  d: {\n    e: Int\n  }\n}\n// alone\nflow f { trigger manual }\n";
        let found: Vec<(u32, u32, bool)> = folding_ranges(text)
            .iter()
            .map(|r| (r.start_line, r.end_line, r.kind.is_some()))
            .collect();
        assert_eq!(found, [(0, 1, true), (2, 7, false), (5, 6, false)]);
    }
}
