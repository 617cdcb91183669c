//! Code actions: the compiler's fix-its ("did you mean", add the missing required field,
//! add a `??` default, use `secret "..."`), which every diagnostic carries in its `data`,
//! offered as quick fixes. Stateless: clients send the diagnostics back with the request.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Diagnostic, TextEdit,
    WorkspaceEdit,
};

use crate::diagnostics::FixData;

/// Quick fixes for the diagnostics in the request that carry fix-its.
pub fn actions(params: &CodeActionParams) -> Vec<CodeActionOrCommand> {
    let mut actions = Vec::new();
    for diagnostic in &params.context.diagnostics {
        let fixes = fixes_of(diagnostic);
        let only_one = fixes.len() == 1;
        for fix in fixes {
            let mut changes: HashMap<_, Vec<TextEdit>> = HashMap::new();
            for edit in fix.edits {
                changes.entry(edit.uri).or_default().push(TextEdit {
                    range: edit.range,
                    new_text: edit.new_text,
                });
            }
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.message,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(only_one),
                ..CodeAction::default()
            }));
        }
    }
    actions
}

/// The fix-its in a diagnostic's `data`; none when it has no data or data of another shape.
fn fixes_of(diagnostic: &Diagnostic) -> Vec<FixData> {
    diagnostic
        .data
        .as_ref()
        .and_then(|data| data.get("fixes"))
        .and_then(|fixes| serde_json::from_value(fixes.clone()).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::{
        CodeActionContext, PartialResultParams, Position, Range, TextDocumentIdentifier, Uri,
        WorkDoneProgressParams,
    };

    fn params(diagnostics: Vec<Diagnostic>) -> CodeActionParams {
        let uri: Uri = "file:///p/src/maps.weft"
            .parse()
            .unwrap_or_else(|_| panic!("uri"));
        CodeActionParams {
            text_document: TextDocumentIdentifier { uri },
            range: Range::default(),
            context: CodeActionContext {
                diagnostics,
                ..CodeActionContext::default()
            },
            work_done_progress_params: WorkDoneProgressParams::default(),
            partial_result_params: PartialResultParams::default(),
        }
    }

    #[test]
    fn each_fix_it_becomes_a_quick_fix_with_its_edits() {
        let range = Range::new(Position::new(3, 9), Position::new(3, 12));
        let diagnostic = Diagnostic {
            range,
            message: "`a` has no field `idd`".into(),
            data: Some(serde_json::json!({ "fixes": [{
                "message": "did you mean `id`?",
                "edits": [{ "uri": "file:///p/src/maps.weft", "range": range, "newText": "id" }],
            }] })),
            ..Diagnostic::default()
        };
        let actions = actions(&params(vec![diagnostic]));
        assert_eq!(actions.len(), 1);
        let CodeActionOrCommand::CodeAction(action) = &actions[0] else {
            panic!("not a code action")
        };
        assert_eq!(action.title, "did you mean `id`?");
        assert_eq!(action.kind, Some(CodeActionKind::QUICKFIX));
        assert_eq!(action.is_preferred, Some(true));
        let changes = action
            .edit
            .as_ref()
            .and_then(|e| e.changes.as_ref())
            .unwrap_or_else(|| panic!("no edit"));
        let edits: Vec<&TextEdit> = changes.values().flatten().collect();
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].new_text, "id");
        assert_eq!(edits[0].range, range);
    }

    #[test]
    fn diagnostics_without_fix_its_or_with_foreign_data_offer_nothing() {
        let plain = Diagnostic {
            message: "x".into(),
            ..Diagnostic::default()
        };
        let foreign = Diagnostic {
            data: Some(serde_json::json!({ "fixes": "not a list" })),
            ..Diagnostic::default()
        };
        assert!(actions(&params(vec![plain, foreign])).is_empty());
    }
}
