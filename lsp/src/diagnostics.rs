//! `textDocument/publishDiagnostics`: the compiler's diagnostics, grouped by file.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    Position, Range, Uri,
};
use weft_compiler::analysis::Analysis;
use weft_compiler::diagnostic::{self as compiler, Severity};
use weft_compiler::source::{FileId, Loc};

use crate::position::LineIndex;
use crate::world::Snapshot;

/// The `source` of every diagnostic.
pub const SOURCE: &str = "weft";

/// Diagnostics of every file of the analysis, by URI: each source file (empty when
/// clean), and every other file a diagnostic points into (manifest, imported schemas).
/// When the checker panicked, the open documents get one internal-error diagnostic.
pub fn collect(snapshot: &Snapshot) -> HashMap<Uri, Vec<Diagnostic>> {
    let mut out: HashMap<Uri, Vec<Diagnostic>> = HashMap::new();
    let analysis = match &snapshot.outcome {
        Ok(analysis) => analysis,
        Err(panic) => {
            for (uri, _, _) in snapshot.buffers.values() {
                out.insert(uri.clone(), vec![internal_error(panic)]);
            }
            return out;
        }
    };
    let live = Live { snapshot, analysis };
    let mut converter = Converter::new(&live);
    for (file, _) in &analysis.files {
        if let Some(uri) = converter.uri(*file) {
            out.entry(uri).or_default();
        }
    }
    for diagnostic in &analysis.diagnostics {
        let Some(uri) = converter.uri(diagnostic.primary.loc.file) else {
            continue;
        };
        let converted = converter.diagnostic(diagnostic);
        out.entry(uri).or_default().push(converted);
    }
    out
}

/// The diagnostic shown when the checker itself failed.
pub fn internal_error(panic: &str) -> Diagnostic {
    Diagnostic {
        range: Range::new(Position::new(0, 0), Position::new(0, 0)),
        severity: Some(DiagnosticSeverity::ERROR),
        code: Some(NumberOrString::String("internal".to_string())),
        source: Some(SOURCE.to_string()),
        message: format!(
            "internal error in the Weft checker: {panic}\nthis project was not checked; please report the bug with the file that triggers it"
        ),
        ..Diagnostic::default()
    }
}

/// A fix-it as sent in a diagnostic's `data` (`{ "fixes": [...] }`), for code actions.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FixData {
    /// What the fix does.
    pub message: String,
    /// Its edits, applied together.
    pub edits: Vec<EditData>,
}

/// One edit of a fix-it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EditData {
    /// The file.
    pub uri: Uri,
    /// The text replaced.
    pub range: Range,
    /// The replacement.
    #[serde(rename = "newText")]
    pub new_text: String,
}

/// The files diagnostics point into: each one's URI and text as the client sees it.
trait Files {
    /// The URI of a file; `None` for files the client cannot open.
    fn uri(&self, file: FileId) -> Option<Uri>;
    /// Its text.
    fn text(&self, file: FileId) -> &str;
}

/// The files of an analysis, read where they are.
struct Live<'a> {
    snapshot: &'a Snapshot,
    analysis: &'a Analysis,
}

impl Files for Live<'_> {
    fn uri(&self, file: FileId) -> Option<Uri> {
        self.snapshot.file_uri(self.analysis, file)
    }

    fn text(&self, file: FileId) -> &str {
        self.snapshot.text(self.analysis, file)
    }
}

/// A copy of a project's source files (URI and text), for placing diagnostics made
/// after the analysis has moved on, such as those of a test run.
#[derive(Debug, Default)]
pub struct FileTable {
    files: HashMap<FileId, (Uri, String)>,
}

impl FileTable {
    /// The source files of an analysis as the client has them.
    pub fn of(snapshot: &Snapshot, analysis: &Analysis) -> FileTable {
        let files = analysis
            .files
            .iter()
            .filter_map(|(file, _)| {
                let uri = snapshot.file_uri(analysis, *file)?;
                Some((*file, (uri, snapshot.text(analysis, *file).to_string())))
            })
            .collect();
        FileTable { files }
    }

    /// Compiler diagnostics as LSP diagnostics, by file; those pointing outside the
    /// table are left out.
    pub fn convert(&self, diagnostics: &[compiler::Diagnostic]) -> HashMap<Uri, Vec<Diagnostic>> {
        let mut converter = Converter::new(self);
        let mut out: HashMap<Uri, Vec<Diagnostic>> = HashMap::new();
        for diagnostic in diagnostics {
            if let Some(uri) = converter.uri(diagnostic.primary.loc.file) {
                let converted = converter.diagnostic(diagnostic);
                out.entry(uri).or_default().push(converted);
            }
        }
        out
    }
}

impl Files for FileTable {
    fn uri(&self, file: FileId) -> Option<Uri> {
        self.files.get(&file).map(|(uri, _)| uri.clone())
    }

    fn text(&self, file: FileId) -> &str {
        self.files.get(&file).map_or("", |(_, text)| text)
    }
}

struct Converter<'a, F: Files> {
    files: &'a F,
    indexes: HashMap<FileId, LineIndex<'a>>,
}

impl<'a, F: Files> Converter<'a, F> {
    fn new(files: &'a F) -> Self {
        Converter {
            files,
            indexes: HashMap::new(),
        }
    }

    fn uri(&self, file: FileId) -> Option<Uri> {
        self.files.uri(file)
    }

    fn range(&mut self, loc: Loc) -> Range {
        let files = self.files;
        self.indexes
            .entry(loc.file)
            .or_insert_with(|| LineIndex::new(files.text(loc.file)))
            .range(loc.span)
    }

    fn location(&mut self, loc: Loc) -> Option<Location> {
        Some(Location::new(self.uri(loc.file)?, self.range(loc)))
    }

    fn diagnostic(&mut self, d: &compiler::Diagnostic) -> Diagnostic {
        let mut message = d.message.clone();
        for note in &d.notes {
            message.push_str("\nnote: ");
            message.push_str(note);
        }
        let related: Vec<DiagnosticRelatedInformation> = d
            .secondary
            .iter()
            .filter_map(|label| {
                Some(DiagnosticRelatedInformation {
                    location: self.location(label.loc)?,
                    message: if label.message.is_empty() {
                        "related".to_string()
                    } else {
                        label.message.clone()
                    },
                })
            })
            .collect();
        let fixes: Vec<FixData> = d
            .fixes
            .iter()
            .map(|fix| FixData {
                message: fix.message.clone(),
                edits: fix
                    .edits
                    .iter()
                    .filter_map(|edit| {
                        Some(EditData {
                            uri: self.uri(edit.loc.file)?,
                            range: self.range(edit.loc),
                            new_text: edit.replacement.clone(),
                        })
                    })
                    .collect(),
            })
            .collect();
        Diagnostic {
            range: self.range(d.primary.loc),
            severity: Some(match d.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(d.code.as_str().to_string())),
            source: Some(SOURCE.to_string()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            data: (!fixes.is_empty()).then(|| serde_json::json!({ "fixes": fixes })),
            ..Diagnostic::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::str::FromStr;

    use super::*;
    use crate::world::ProjectKey;

    #[test]
    fn a_checker_panic_is_reported_on_the_open_documents() {
        let Ok(uri) = Uri::from_str("file:///p/src/a.weft") else {
            return;
        };
        let snapshot = Snapshot {
            key: ProjectKey::Root("/p".into()),
            generation: 1,
            outcome: Err("index out of bounds".to_string()),
            buffers: HashMap::from([("/p/src/a.weft".into(), (uri.clone(), String::new(), 3))]),
        };
        let found = collect(&snapshot);
        let list = found.get(&uri).cloned().unwrap_or_default();
        assert_eq!(list.len(), 1);
        assert_eq!(
            list[0].code,
            Some(NumberOrString::String("internal".to_string()))
        );
        assert!(list[0].message.contains("index out of bounds"));
    }
}
