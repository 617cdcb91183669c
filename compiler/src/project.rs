//! Projects: a folder with a `weft.toml` manifest and `.weft` files under its source folders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic, FILE_START};
use crate::source::{FileId, Loc, SourceDb, Span};

/// The manifest file name.
pub const MANIFEST: &str = "weft.toml";

/// The contents of `weft.toml`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Manifest {
    /// Project name.
    pub name: String,
    /// Project version, such as `1.4.0`.
    pub version: String,
    /// Folders searched recursively for `.weft` files, relative to the project root.
    pub sources: Vec<String>,
    /// Approval groups and their members.
    pub groups: BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    project: RawProject,
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    name: String,
    version: String,
    #[serde(default = "default_sources")]
    sources: Vec<String>,
}

fn default_sources() -> Vec<String> {
    vec!["src".to_string()]
}

/// A project found on disk.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding `weft.toml`.
    pub root: PathBuf,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The `.weft` files, sorted by path so that results never depend on directory order.
    pub sources: Vec<PathBuf>,
}

/// Why a project could not be loaded at all.
#[derive(Debug)]
pub struct LoadError {
    /// The problem, with a location when there is one.
    pub diagnostics: Vec<Diagnostic>,
}

/// Finds `weft.toml` in `path` or any parent (or takes `path` itself when it is the
/// manifest), reads it into `db` and lists the source files.
pub fn load(path: &Path, db: &mut SourceDb) -> Result<Project, LoadError> {
    let start = if path.is_file() {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        path.to_path_buf()
    };
    let absolute = std::fs::canonicalize(&start).unwrap_or(start.clone());
    let Some(root) = absolute
        .ancestors()
        .find(|dir| dir.join(MANIFEST).is_file())
        .map(Path::to_path_buf)
    else {
        let file = db.add(path.display().to_string(), path, "");
        return Err(LoadError {
            diagnostics: vec![Diagnostic::new(
                Code::MissingManifest,
                Loc::new(file, FILE_START),
                format!("no {MANIFEST} in {} or any folder above it", absolute.display()),
            )
            .with_note(format!(
                "a Weft project is a folder with a {MANIFEST}; create one:\n[project]\nname = \"my-flows\"\nversion = \"0.1.0\"\nsources = [\"src\"]"
            ))],
        });
    };
    let manifest_path = root.join(MANIFEST);
    let text = match std::fs::read(&manifest_path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) => {
            let file = db.add(MANIFEST, &manifest_path, "");
            return Err(LoadError {
                diagnostics: vec![Diagnostic::new(
                    Code::UnreadableFile,
                    Loc::new(file, FILE_START),
                    format!("cannot read {}: {error}", manifest_path.display()),
                )],
            });
        }
    };
    let file = db.add(MANIFEST, &manifest_path, text.clone());
    let manifest = parse_manifest(&text, file).map_err(|d| LoadError {
        diagnostics: vec![*d],
    })?;
    let mut sources = Vec::new();
    let mut diagnostics = Vec::new();
    for folder in &manifest.sources {
        let dir = root.join(folder);
        if !dir.is_dir() {
            let at = text
                .find(&format!("\"{folder}\""))
                .map_or(FILE_START, |i| Span::new(i, i + folder.len() + 2));
            diagnostics.push(
                Diagnostic::new(
                    Code::UnreadableFile,
                    Loc::new(file, at),
                    format!("source folder `{folder}` does not exist"),
                )
                .with_label("no such folder")
                .with_note(format!("looked for {}", dir.display())),
            );
            continue;
        }
        collect_weft_files(&dir, &mut sources, &mut diagnostics, db);
    }
    sources.sort();
    sources.dedup();
    if !diagnostics.is_empty() {
        return Err(LoadError { diagnostics });
    }
    Ok(Project {
        root,
        manifest,
        sources,
    })
}

/// Parses and validates the text of a `weft.toml`.
pub fn parse_manifest(text: &str, file: FileId) -> Result<Manifest, Box<Diagnostic>> {
    let raw: RawManifest = toml::from_str(text).map_err(|error| {
        let span = error.span().map_or(FILE_START, |r| Span::new(r.start, r.end));
        Box::new(Diagnostic::new(Code::MalformedManifest, Loc::new(file, span), format!("{MANIFEST} is malformed: {}", error.message()))
            .with_label("here")
            .with_note("the manifest has a [project] table with name, version and sources, and an optional [groups] table"))
    })?;
    let version_ok = raw.project.version.split('.').count() == 3
        && raw
            .project
            .version
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !version_ok {
        let at = text
            .find(&format!("\"{}\"", raw.project.version))
            .map_or(FILE_START, |i| {
                Span::new(i, i + raw.project.version.len() + 2)
            });
        return Err(Box::new(
            Diagnostic::new(
                Code::MalformedManifest,
                Loc::new(file, at),
                format!("version `{}` is not MAJOR.MINOR.PATCH", raw.project.version),
            )
            .with_label("not a version")
            .with_note("artifacts are versioned by this number, e.g. \"1.4.0\""),
        ));
    }
    Ok(Manifest {
        name: raw.project.name,
        version: raw.project.version,
        sources: raw.project.sources,
        groups: raw.groups,
    })
}

fn collect_weft_files(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
    db: &mut SourceDb,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            let file = db.add(dir.display().to_string(), dir, "");
            diagnostics.push(Diagnostic::new(
                Code::UnreadableFile,
                Loc::new(file, FILE_START),
                format!("cannot read folder {}: {error}", dir.display()),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_weft_files(&path, out, diagnostics, db);
        } else if path.extension().is_some_and(|e| e == "weft") {
            out.push(path);
        }
    }
}

/// Reads a source file into `db`. A file that is not UTF-8 is stored lossily and
/// reported at its first bad byte; an unreadable one is reported and stored empty.
pub fn read_source(path: &Path, root: &Path, db: &mut SourceDb) -> (FileId, Option<Diagnostic>) {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => (db.add(name, path, text), None),
            Err(error) => {
                let at = error.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
                let file = db.add(name, path, text);
                let d = Diagnostic::new(
                    Code::NotUtf8,
                    Loc::new(file, Span::new(at, at + 1)),
                    format!(
                        "{} is not valid UTF-8 (first bad byte at offset {at})",
                        path.display()
                    ),
                )
                .with_label("invalid byte")
                .with_note("save the file as UTF-8; the rest of it was not checked");
                (file, Some(d))
            }
        },
        Err(error) => {
            let file = db.add(name, path, "");
            (
                file,
                Some(Diagnostic::new(
                    Code::UnreadableFile,
                    Loc::new(file, FILE_START),
                    format!("cannot read {}: {error}", path.display()),
                )),
            )
        }
    }
}
