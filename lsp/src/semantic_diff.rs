//! `weft/semanticDiff`: what changed in the project by meaning, between the editor's
//! version (unsaved buffers included) and git HEAD, another revision or an artifact,
//! optionally only what reaches one flow. The diff is the compiler's
//! ([`weft_compiler::diff::diff`]), the same as `weft diff` prints.
//!
//! Params: `{ "textDocument": { "uri" }, "against": "HEAD" | "git:REV" | PATH, "flow": NAME | null }`
//! (PATH, an artifact or a project folder, is relative to the project root).
//! Result: `{ "markdown", "text", "changes": N, "diff": <the versioned diff JSON> }`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::TextDocumentIdentifier;
use weft_compiler::diff::side::Side;
use weft_compiler::diff::{self, Diff, Model};

/// The request's method name.
pub const METHOD: &str = "weft/semanticDiff";

/// The parameters of a request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// A document of the project.
    pub text_document: TextDocumentIdentifier,
    /// What to compare with: `HEAD` (the default), `git:REV`, or the path of an artifact.
    #[serde(default = "head")]
    pub against: String,
    /// Only the changes that reach this flow.
    #[serde(default)]
    pub flow: Option<String>,
}

fn head() -> String {
    "HEAD".to_string()
}

/// The answer: the diff rendered for people and as data.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// A Markdown rendering, for a preview pane.
    pub markdown: String,
    /// The plain text rendering of `weft diff`.
    pub text: String,
    /// The number of changes.
    pub changes: usize,
    /// The structured diff, in `weft diff --format json` form.
    pub diff: Diff,
}

/// The old side named by `against`, for the project at `root`; an error when it names
/// nothing that exists.
pub fn old_side(against: &str, root: &Path) -> Result<Side, String> {
    if against == "HEAD" {
        return Ok(Side::Revision(against.to_string()));
    }
    if against.starts_with("git:") {
        return Ok(Side::parse(against));
    }
    let path = root.join(against);
    if !path.exists() {
        return Err(format!(
            "`{against}` names no file under {}; compare against `HEAD`, `git:REV` (a commit, branch or tag) or the path of an artifact written by `weft build`",
            root.display()
        ));
    }
    Ok(Side::parse(&path.to_string_lossy()))
}

/// Compares the two sides, keeping only what reaches `flow` when one is named; an
/// error when neither side has that flow.
pub fn answer(old: &Model, new: &Model, flow: Option<&str>) -> Result<Answer, String> {
    let mut result = diff::diff(old, new);
    if let Some(name) = flow {
        let known = |m: &Model| m.program.flows.contains_key(name);
        if !known(old) && !known(new) {
            return Err(format!(
                "there is no flow `{name}` in either version; name a flow of the project, or leave `flow` out for the whole diff"
            ));
        }
        result = result.for_flow(name);
    }
    Ok(Answer {
        markdown: diff::render_markdown(&result),
        text: diff::render_text(&result),
        changes: result.changes.len(),
        diff: result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn against_names_head_revisions_and_paths_under_the_root() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let root = dir.path();
        let _ = std::fs::create_dir_all(root.join("dist"));
        let _ = std::fs::write(root.join("dist/p-1.0.0.json"), "{}");
        assert_eq!(old_side("HEAD", root), Ok(Side::Revision("HEAD".into())));
        assert_eq!(
            old_side("git:main~2", root),
            Ok(Side::Revision("main~2".into()))
        );
        assert_eq!(
            old_side("dist/p-1.0.0.json", root),
            Ok(Side::Artifact(root.join("dist/p-1.0.0.json")))
        );
        assert!(old_side("dist/missing.json", root).is_err_and(|m| m.contains("names no file")));
    }

    #[test]
    fn an_unknown_flow_is_refused() {
        let model = Model::default();
        let refused = answer(&model, &model, Some("nope"));
        assert!(refused.is_err_and(|m| m.contains("no flow `nope`")));
        let whole = answer(&model, &model, None);
        assert!(whole.is_ok_and(|a| a.changes == 0 && a.text.starts_with("no changes")));
    }
}
