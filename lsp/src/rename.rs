//! `textDocument/prepareRename` and `textDocument/rename`: renames a schema, enum,
//! connection, map, flow, environment or field everywhere it is written. Built-ins,
//! keywords, variables and fields of imported schemas are refused with a message, and
//! so are new names that are not identifiers or are already taken.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{Position, Range, TextEdit, Uri, WorkspaceEdit};
use weft_compiler::analysis::Analysis;
use weft_compiler::builtins;
use weft_compiler::parse::{ITEM_KEYWORDS, RESERVED};
use weft_compiler::resolve::SCALARS;
use weft_compiler::source::{FileId, Span};

use crate::lookup::{self, DeclKind, Symbol};
use crate::position::LineIndex;
use crate::references::{self, Target};
use crate::world::Snapshot;

/// The outcome of a rename request: `Ok(None)` when nothing renamable is there.
pub type Answer<T> = Result<Option<T>, String>;

/// The range of the name at `position` if it can be renamed; a message if it cannot.
pub fn prepare(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    position: Position,
) -> Answer<Range> {
    let text = snapshot.text(analysis, file);
    let index = LineIndex::new(text);
    let offset = index.offset(position);
    let (_, span) = match renamable(analysis, file, text, offset)? {
        Some(found) => found,
        None => return Ok(None),
    };
    Ok(Some(index.range(span)))
}

/// The edits that rename the name at `position` to `new_name` in every file.
pub fn rename(
    snapshot: &Snapshot,
    analysis: &Analysis,
    file: FileId,
    position: Position,
    new_name: &str,
) -> Answer<WorkspaceEdit> {
    let text = snapshot.text(analysis, file);
    let offset = LineIndex::new(text).offset(position);
    let Some((target, _)) = renamable(analysis, file, text, offset)? else {
        return Ok(None);
    };
    let written = check_new_name(analysis, &target, new_name)?;
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for loc in references::locations_of(analysis, &target, true) {
        let Some(location) = snapshot.location(analysis, loc) else {
            continue;
        };
        changes
            .entry(location.uri)
            .or_default()
            .push(TextEdit::new(location.range, written.clone()));
    }
    Ok(Some(WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    }))
}

/// The target at `offset` and its span; a message for names that cannot be renamed.
fn renamable(
    analysis: &Analysis,
    file: FileId,
    text: &str,
    offset: usize,
) -> Result<Option<(Target, Span)>, String> {
    let Some((_, tree)) = analysis.files.iter().find(|(id, _)| *id == file) else {
        return Ok(None);
    };
    let Some(hit) = lookup::find(&analysis.program, file, tree, offset) else {
        let word = word_at(text, offset);
        if ITEM_KEYWORDS.contains(&word) || RESERVED.contains(&word) || is_keyword(word) {
            return Err(format!("`{word}` is a keyword and cannot be renamed"));
        }
        return Ok(None);
    };
    let refuse = |what: &str, name: &str| Err(format!("`{name}` is {what} and cannot be renamed"));
    match &hit.symbol {
        Symbol::Function(name) => return refuse("a built-in function", name),
        Symbol::ConnectorKind(name) => return refuse("a connector kind", name),
        Symbol::Operation { operation, .. } => {
            return refuse("an operation of its connector", operation)
        }
        Symbol::Type(name) if SCALARS.contains(&name.as_str()) => {
            return refuse("a built-in type", name)
        }
        Symbol::Variable { name, .. } => return refuse("a local parameter", name),
        _ => {}
    }
    let Some(target) = references::target_of(&analysis.program, &hit.symbol) else {
        return Ok(None);
    };
    if let Some(loc) = references::declaration_of(analysis, &target) {
        let declared_in_weft = analysis.files.iter().any(|(id, _)| *id == loc.file);
        if !declared_in_weft {
            return Err(format!(
                "`{}` is declared in an imported schema file; rename it there",
                word_at(text, offset)
            ));
        }
    }
    Ok(Some((target, hit.span)))
}

/// Whether `word` is one of the contextual keywords of the language.
pub fn is_keyword(word: &str) -> bool {
    crate::semantic_tokens::KEYWORDS.contains(&word)
}

/// The word around `offset`.
fn word_at(text: &str, offset: usize) -> &str {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = offset.min(text.len());
    let start = text
        .get(..offset)
        .and_then(|t| t.rfind(|c: char| !is_word(c)).map(|i| i + 1))
        .unwrap_or(0);
    let end = text
        .get(offset..)
        .and_then(|t| t.find(|c: char| !is_word(c)).map(|i| offset + i))
        .unwrap_or(text.len());
    text.get(start..end).unwrap_or("")
}

/// Whether `name` is a plain identifier.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The text to write for `new_name`, or why it cannot be used.
fn check_new_name(analysis: &Analysis, target: &Target, new_name: &str) -> Result<String, String> {
    let program = &analysis.program;
    // Field names may be written in backticks: `first-name`.
    let quoted = new_name.len() >= 3
        && new_name.starts_with('`')
        && new_name.ends_with('`')
        && !new_name[1..new_name.len() - 1].contains(['`', '\n']);
    let bare = if quoted {
        &new_name[1..new_name.len() - 1]
    } else {
        new_name
    };
    let is_field = matches!(target, Target::Field { .. });
    if !(is_identifier(new_name) || (quoted && is_field)) {
        return Err(format!("`{new_name}` is not an identifier"));
    }
    if !quoted && (RESERVED.contains(&new_name) || ITEM_KEYWORDS.contains(&new_name)) {
        return Err(format!("`{new_name}` is a keyword"));
    }
    let taken = match target {
        Target::Named(kind, old) => {
            if bare == old {
                return Ok(new_name.to_string());
            }
            match kind {
                DeclKind::Type if SCALARS.contains(&bare) => {
                    return Err(format!("`{bare}` is a built-in type"))
                }
                DeclKind::Map if builtins::lookup(bare).is_some() => {
                    return Err(format!("`{bare}` is a built-in function"))
                }
                DeclKind::Type => program.types.contains_key(bare),
                DeclKind::Connection => program.connections.contains_key(bare),
                DeclKind::Map => program.maps.contains_key(bare),
                DeclKind::Flow => program.flows.contains_key(bare),
                DeclKind::Environment => program.environments.contains_key(bare),
            }
        }
        Target::Field { owner, name } => {
            if bare == name {
                return Ok(new_name.to_string());
            }
            program
                .record(owner)
                .is_some_and(|record| record.field(bare).is_some())
        }
    };
    if taken {
        return Err(format!("the name `{bare}` is already taken"));
    }
    Ok(new_name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_compiler::analysis::check_files;

    const SOURCE: &str = "schema A { name: String }\nschema B { n: Int }\nmap m(a: A) -> A { name = trim(a.name) }\nflow f {\n trigger manual\n map m\n}\n";

    fn run(needle: &str, shift: usize, new_name: &str) -> Result<Vec<(Span, String)>, String> {
        let analysis = check_files(
            &[("t.weft".into(), "t.weft".into(), SOURCE.to_string())],
            None,
        );
        let file = analysis.files[0].0;
        let offset = SOURCE.find(needle).unwrap_or_default() + shift;
        let (target, _) =
            renamable(&analysis, file, SOURCE, offset)?.ok_or_else(|| "nothing".to_string())?;
        let written = check_new_name(&analysis, &target, new_name)?;
        Ok(references::locations_of(&analysis, &target, true)
            .into_iter()
            .map(|loc| (loc.span, written.clone()))
            .collect())
    }

    #[test]
    fn renames_every_use() {
        let edits = run("schema A", 7, "Person");
        assert_eq!(edits.map(|e| e.len()), Ok(3));
        let edits = run("name: String", 0, "full_name");
        assert_eq!(edits.map(|e| e.len()), Ok(3));
        let edits = run("name: String", 0, "`full name`");
        assert_eq!(edits.map(|e| e.len()), Ok(3));
        let edits = run("map m", 4, "clean");
        assert_eq!(edits.map(|e| e.len()), Ok(2));
    }

    #[test]
    fn refusals() {
        let err = |r: Result<Vec<(Span, String)>, String>| r.err().unwrap_or_default();
        assert!(err(run("trim", 1, "x")).contains("built-in function"));
        assert!(err(run("String", 1, "Text")).contains("built-in type"));
        assert!(err(run("flow f", 1, "x")).contains("keyword"));
        assert!(err(run("schema A", 7, "B")).contains("already taken"));
        assert!(err(run("schema A", 7, "1A")).contains("not an identifier"));
        assert!(err(run("schema A", 7, "Int")).contains("built-in type"));
        assert!(err(run("map m", 4, "trim")).contains("built-in function"));
        assert!(err(run("map m", 4, "if")).contains("keyword"));
        assert!(err(run("schema A", 7, "`A B`")).contains("not an identifier"));
    }
}
