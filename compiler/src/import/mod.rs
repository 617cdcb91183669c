//! Imports record schemas from JSON Schema (draft-07, 2020-12) and OpenAPI 3 files, as written
//! in `schema Order from "api.yaml#/components/schemas/Order"`.
//!
//! The imported file is added to the [`SourceDb`] so that fields and diagnostics point into it.
//!
//! Supported: `type` (one type, or one type and `"null"`), `properties`/`required`, `items`,
//! string `format`s `date` and `date-time`, string `enum`/`const`, OpenAPI 3.0 `nullable`, local
//! `$ref`s (inlined; each target converted once), `allOf` of object schemas (merged), and
//! `anyOf`/`oneOf` that are `[X, null]` (optional X) or all string constants (an enum).
//! Everything else that changes the shape of a value (other `anyOf`/`oneOf`, tuples, several
//! types, refs to other files, recursion) is reported; pure constraints (`minLength`,
//! `pattern`, `not`, ...) are ignored.

mod document;
mod json;
mod json_schema;
mod yaml;

#[cfg(test)]
mod tests;

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::diagnostic::{suggest, Code, Diagnostic};
use crate::source::{FileId, Loc, SourceDb, SourceFile, Span};
use crate::types::RecordType;
use document::{escape_segment, list_names, resolve_pointer, Node, PointerError};

/// Largest schema file read; larger files are reported rather than loaded.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Imports the record schema named by `reference` (as written after `from` in `schema X from "..."`).
/// `site` is the location of the string literal in the .weft file; `base_dir` is the folder of that .weft file.
/// `reference` is `path/to/file.json` (the root schema), or `file.json#/$defs/Name`, `file.yaml#/components/schemas/Order`
/// (a JSON pointer into the file). The imported file is added to `db` (reuse it via `db.find(path)` if already there)
/// so diagnostics can point into it.
pub fn import_schema(
    db: &mut SourceDb,
    site: Loc,
    base_dir: &Path,
    reference: &str,
) -> (Option<RecordType>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let (file_part, fragment) = match reference.split_once('#') {
        Some((file, fragment)) => (file, Some(fragment)),
        None => (reference, None),
    };
    if file_part.trim().is_empty() {
        let message = if reference.trim().is_empty() {
            "the schema reference is empty".to_string()
        } else {
            format!("`{reference}` names no file")
        };
        let d = Diagnostic::new(Code::ImportUnreadable, site, message)
            .with_label("no file name")
            .with_note("write the path of a JSON Schema or OpenAPI file relative to this .weft file, such as `schemas/order.json` or `api.yaml#/components/schemas/Order`");
        diags.push(d);
        return (None, diags);
    }
    let path = normalize(&base_dir.join(file_part));
    let file = match db.find(&path) {
        Some(file) => file,
        None => match load(db, site, &path, reference, file_part) {
            Ok(file) => file,
            Err(d) => {
                diags.push(*d);
                return (None, diags);
            }
        },
    };
    let db = &*db;
    let source = db.get(file);
    let text = source.text.as_str();
    let yaml = is_yaml(&path, text);
    let parsed = if yaml {
        yaml::parse(text)
    } else {
        json::parse(text)
    };
    for error in parsed.errors {
        let language = if yaml { "YAML" } else { "JSON" };
        let mut d = Diagnostic::new(
            Code::ImportMalformed,
            Loc::new(file, error.span),
            format!(
                "`{}` is not valid {language}: {}",
                source.name, error.message
            ),
        )
        .with_label(error.label);
        for (span, message) in error.related {
            d = d.with_secondary(Loc::new(file, span), message);
        }
        diags.push(d.with_secondary(site, "imported here"));
    }
    let Some(root) = parsed.root else {
        return (None, diags);
    };
    let site_text = site_text(db, site);

    let (target, display, head) = match fragment {
        None | Some("") => {
            if let Some(d) = whole_openapi(&root, file, site, &source.name, reference, site_text) {
                diags.push(d);
                return (None, diags);
            }
            let head = root.member("type").map_or(root.head(), |m| m.value.span);
            (&root, "#".to_string(), head)
        }
        Some(fragment) => {
            match resolve_pointer(&root, fragment) {
                Ok(resolved) => (
                    resolved.node,
                    format!("#{fragment}"),
                    resolved.key_span.unwrap_or(resolved.node.head()),
                ),
                Err(PointerError::NotAPointer) => {
                    let d = Diagnostic::new(
                    Code::ImportBadRef,
                    site,
                    format!("`#{fragment}` is not a JSON pointer"),
                )
                .with_label("expected `#/...`")
                .with_note("name a schema with a JSON pointer such as `#/$defs/Name` or `#/components/schemas/Name`; anchors (`#name`) are not supported");
                    diags.push(d);
                    return (None, diags);
                }
                Err(PointerError::Missing {
                    parent,
                    parent_path,
                    segment,
                    parent_key_span,
                }) => {
                    let names = parent.keys();
                    let mut d = Diagnostic::new(
                    Code::ImportBadRef,
                    site,
                    format!("`{reference}` does not exist: `{parent_path}` in `{}` has no `{segment}`", source.name),
                )
                .with_label("not found");
                    if let Some(better) = suggest(&segment, names.iter().copied()) {
                        d = d.with_note(format!("did you mean `{better}`?"));
                        let corrected = format!(
                            "{file_part}#{}",
                            json_schema::corrected_pointer(fragment, &parent_path, better)
                        );
                        if let Some(new) = site_text
                            .and_then(|old| literal_replacement(old, reference, &corrected))
                        {
                            d = d.with_fix(format!("use `{corrected}`"), site, new);
                        }
                    }
                    if !names.is_empty() {
                        d = d.with_note(format!("`{parent_path}` has {}", list_names(&names)));
                    }
                    let at = parent_key_span.unwrap_or(parent.head());
                    diags.push(
                        d.with_secondary(Loc::new(file, at), format!("`{parent_path}` is here")),
                    );
                    return (None, diags);
                }
            }
        }
    };

    let converter = json_schema::Converter::new(file, text, &source.name, site, &root);
    let (record, mut more) = converter.import(target, &display, head);
    diags.append(&mut more);
    (record, diags)
}

/// Reads a schema file into `db`. Errors point at `site`, or into the file when it is not UTF-8.
fn load(
    db: &mut SourceDb,
    site: Loc,
    path: &Path,
    reference: &str,
    file_part: &str,
) -> Result<FileId, Box<Diagnostic>> {
    let name = display_name(db, site, file_part);
    let bytes = match read_limited(path) {
        Ok(bytes) => bytes,
        Err((problem, missing)) => {
            let mut d = Diagnostic::new(
                Code::ImportUnreadable,
                site,
                format!("cannot read the schema file `{name}`: {problem}"),
            )
            .with_label(if missing {
                "file not found"
            } else {
                "cannot be read"
            })
            .with_note("the path is relative to the folder of this .weft file");
            if missing {
                if let Some(better) = similar_file(path) {
                    let corrected = match file_part.rsplit_once('/') {
                        Some((dir, _)) => format!("{dir}/{better}"),
                        None => better.clone(),
                    };
                    d = d.with_note(format!("did you mean `{corrected}`?"));
                    let new = format!(
                        "{corrected}{}",
                        reference.get(file_part.len()..).unwrap_or("")
                    );
                    if let Some(replacement) = site_text(db, site)
                        .and_then(|text| literal_replacement(text, reference, &new))
                    {
                        d = d.with_fix(format!("use `{corrected}`"), site, replacement);
                    }
                }
            }
            return Err(Box::new(d));
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(db.add(name, path, text)),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
            let bad = bytes.get(at).copied().unwrap_or(0);
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let end = (at + '\u{fffd}'.len_utf8()).min(text.len());
            let file = db.add(name.clone(), path, text);
            let message = if utf16 {
                format!("`{name}` is UTF-16 encoded; schema files must be UTF-8")
            } else {
                let (line, _) = db.line_col(file, at);
                format!("`{name}` is not valid UTF-8: byte 0x{bad:02X} on line {line}")
            };
            let d = Diagnostic::new(
                Code::ImportMalformed,
                Loc::new(file, Span::new(at, end)),
                message,
            )
            .with_label("not UTF-8")
            .with_secondary(site, "imported here")
            .with_note("save the file as UTF-8");
            Err(Box::new(d))
        }
    }
}

/// Reads at most [`MAX_FILE_BYTES`] (so that `/dev/zero` and the like cannot hang the compiler).
/// The error says what is wrong and whether the file is missing.
fn read_limited(path: &Path) -> Result<Vec<u8>, (String, bool)> {
    let describe = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ("the file does not exist".to_string(), true),
        std::io::ErrorKind::PermissionDenied => ("permission denied".to_string(), false),
        _ => (e.to_string(), false),
    };
    let metadata = std::fs::metadata(path).map_err(describe)?;
    if metadata.is_dir() {
        return Err(("it is a folder, not a file".to_string(), false));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err((
            format!("it is larger than {} MiB", MAX_FILE_BYTES >> 20),
            false,
        ));
    }
    let file = std::fs::File::open(path).map_err(describe)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(describe)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err((
            format!("it is larger than {} MiB", MAX_FILE_BYTES >> 20),
            false,
        ));
    }
    Ok(bytes)
}

/// A file next to `path` with a similar name, for "did you mean".
fn similar_file(path: &Path) -> Option<String> {
    let wanted = path.file_name()?.to_str()?;
    let names: Vec<String> = std::fs::read_dir(path.parent()?)
        .ok()?
        .take(10_000)
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    suggest(wanted, names.iter().map(String::as_str)).map(str::to_string)
}

/// The name the imported file is shown under: the reference joined to the folder of the
/// importing file's name, which is relative to the project root where possible.
fn display_name(db: &SourceDb, site: Loc, file_part: &str) -> String {
    let dir = site_file(db, site)
        .and_then(|f| Path::new(&f.name).parent().map(Path::to_path_buf))
        .unwrap_or_default();
    normalize(&dir.join(file_part))
        .to_string_lossy()
        .replace('\\', "/")
}

fn site_file(db: &SourceDb, site: Loc) -> Option<&SourceFile> {
    db.iter().nth(site.file.0 as usize).map(|(_, file)| file)
}

/// The text of the string literal at `site`, for fix-its.
fn site_text(db: &SourceDb, site: Loc) -> Option<&str> {
    site_file(db, site)?
        .text
        .get(site.span.start..site.span.end)
}

/// Removes `.` and resolves `..` without touching the file system, so that `./a.json` and
/// `a.json` are the same file in the [`SourceDb`].
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether to read the file as YAML: by extension, else unless it starts like JSON.
fn is_yaml(path: &Path, text: &str) -> bool {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => false,
        Some("yaml" | "yml") => true,
        _ => !text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with(['{', '[']),
    }
}

/// A whole OpenAPI (or Swagger) document imported without a fragment: ask for a schema name.
fn whole_openapi(
    root: &Node,
    file: FileId,
    site: Loc,
    name: &str,
    reference: &str,
    site_text: Option<&str>,
) -> Option<Diagnostic> {
    let (member, pointer) = match (root.member("openapi"), root.member("swagger")) {
        (Some(m), _) => (m, "/components/schemas"),
        (None, Some(m)) => (m, "/definitions"),
        (None, None) => return None,
    };
    let names = resolve_pointer(root, pointer)
        .map(|r| r.node.keys())
        .unwrap_or_default();
    let mut d = Diagnostic::new(
        Code::ImportNotObject,
        site,
        format!("`{name}` is an OpenAPI document, not a schema: add `#{pointer}/NAME` to pick one of its schemas"),
    )
    .with_label("names a whole OpenAPI document")
    .with_secondary(Loc::new(file, member.key_span), "OpenAPI document");
    d = if names.is_empty() {
        d.with_note(format!("the document has no schemas under `#{pointer}`"))
    } else {
        d.with_note(format!("its schemas are {}", list_names(&names)))
    };
    if let [only] = names.as_slice() {
        let new = format!("{reference}#{pointer}/{}", escape_segment(only));
        if let Some(replacement) =
            site_text.and_then(|old| literal_replacement(old, reference, &new))
        {
            d = d.with_fix(format!("import `{only}`"), site, replacement);
        }
    }
    Some(d)
}

/// The replacement for the source text `old_text` of a string whose value is `old`, so that
/// its value becomes `new`, keeping its quoting; `None` when the text has escapes we would
/// have to reproduce.
pub(crate) fn literal_replacement(old_text: &str, old: &str, new: &str) -> Option<String> {
    let double = || serde_json::to_string(new).ok();
    if old_text.len() == old.len() + 2 && old_text.starts_with('"') && old_text.ends_with('"') {
        return (old_text.get(1..old_text.len() - 1) == Some(old))
            .then(double)
            .flatten();
    }
    if old_text.len() == old.len() + 2 && old_text.starts_with('\'') && old_text.ends_with('\'') {
        return (old_text.get(1..old_text.len() - 1) == Some(old))
            .then(|| format!("'{}'", new.replace('\'', "''")));
    }
    // A plain YAML scalar: quoting the new value is always valid.
    (old_text == old).then(double).flatten()
}
