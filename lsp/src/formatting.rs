//! `textDocument/formatting`: the canonical layout of `weft fmt`, as one edit.

use tower_lsp_server::ls_types::TextEdit;
use weft_compiler::fmt;

use crate::position::LineIndex;

/// The edits that format `text`: one replacing the whole document, none when it is
/// formatted already, and `None` when it has syntax errors (its layout is unknown).
pub fn format(text: &str) -> Option<Vec<TextEdit>> {
    let formatted = fmt::format(text)?;
    if formatted == text {
        return Some(Vec::new());
    }
    Some(vec![TextEdit {
        range: LineIndex::new(text).full_range(),
        new_text: formatted,
    }])
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn whole_document_edit() {
        let edits = format("connection   erp :http\n").unwrap_or_default();
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].new_text, "connection erp: http\n");
        assert_eq!(edits[0].range.end.line, 1);
    }

    #[test]
    fn formatted_and_broken_files() {
        assert_eq!(format("connection erp: http\n").map(|e| e.len()), Some(0));
        assert!(format("map m(\n").is_none());
    }
}
