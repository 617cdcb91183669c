//! The compiler's API for every front end: check a project or a set of in-memory
//! files and get back plain data (diagnostics, the resolved program, typed summaries).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::check::{self, Typed};
use crate::diagnostic::Diagnostic;
use crate::parse;
use crate::project::{self, Manifest, Project};
use crate::resolve::{self, Program};
use crate::source::{FileId, SourceDb};
use crate::syntax;

/// Everything one analysis learned.
#[derive(Debug)]
pub struct Analysis {
    /// Every file read: sources, the manifest, imported schemas.
    pub db: SourceDb,
    /// The project, when its manifest could be read.
    pub project: Option<Project>,
    /// Parsed `.weft` files.
    pub files: Vec<(FileId, syntax::File)>,
    /// Resolved declarations.
    pub program: Program,
    /// Types found in maps and flows.
    pub typed: Typed,
    /// Every problem, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// True when the project itself could not be loaded (no or bad `weft.toml`).
    pub load_failed: bool,
}

impl Analysis {
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    /// Source lines checked, over all `.weft` files.
    pub fn line_count(&self) -> usize {
        self.files
            .iter()
            .map(|(id, _)| self.db.get(*id).text.lines().count())
            .sum()
    }

    /// A readable listing of the types the checker inferred: map fields and flow steps.
    pub fn typed_summary(&self) -> String {
        let mut out = String::new();
        let mut maps: Vec<_> = self.typed.maps.iter().collect();
        maps.sort_by(|a, b| a.name.cmp(&b.name));
        for map in maps {
            let _ = writeln!(out, "map {}: {} -> {}", map.name, map.source, map.target);
            for (path, ty) in &map.fields {
                let _ = writeln!(out, "  {path}: {ty}");
            }
        }
        let mut flows: Vec<_> = self.typed.flows.iter().collect();
        flows.sort_by(|a, b| a.name.cmp(&b.name));
        for flow in flows {
            let _ = writeln!(out, "flow {}", flow.name);
            for step in &flow.steps {
                let _ = writeln!(out, "  {}: {}", step.text, step.record);
            }
        }
        out
    }
}

/// Checks the project that holds `path` (a folder, its `weft.toml`, or a file in it).
pub fn check_project(path: &Path) -> Analysis {
    check_project_with(path, &std::collections::HashMap::new())
}

/// Checks the project that holds `path` like [`check_project`], but takes the text of
/// every source file that is a key of `overrides` (open editor buffers, by absolute path)
/// from there instead of from disk. Buffers of `.weft` files inside a source folder that
/// do not exist on disk yet take part too.
pub fn check_project_with(
    path: &Path,
    overrides: &std::collections::HashMap<PathBuf, String>,
) -> Analysis {
    let mut db = SourceDb::new();
    let project = match project::load(path, &mut db) {
        Ok(project) => project,
        Err(error) => {
            return Analysis {
                db,
                project: None,
                files: Vec::new(),
                program: Program::default(),
                typed: Typed::default(),
                diagnostics: error.diagnostics,
                load_failed: true,
            }
        }
    };
    // Sources are listed under the canonical root; editors may name files differently.
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let buffers: std::collections::HashMap<PathBuf, &String> = overrides
        .iter()
        .map(|(p, text)| (canonical(p), text))
        .collect();
    let mut sources = project.sources.clone();
    for buffer in buffers.keys() {
        let in_sources = project
            .manifest
            .sources
            .iter()
            .any(|folder| buffer.starts_with(project.root.join(folder)));
        if in_sources
            && buffer.extension().is_some_and(|e| e == "weft")
            && !sources.iter().any(|s| canonical(s) == *buffer)
        {
            sources.push(buffer.clone());
        }
    }
    sources.sort();
    let mut early = Vec::new();
    let mut ids = Vec::new();
    for source in &sources {
        let buffer = if buffers.is_empty() {
            None
        } else {
            buffers.get(&canonical(source))
        };
        if let Some(text) = buffer {
            let name = source
                .strip_prefix(&project.root)
                .unwrap_or(source)
                .display()
                .to_string();
            ids.push(db.add(name, source.clone(), (*text).clone()));
            continue;
        }
        let (id, problem) = project::read_source(source, &project.root, &mut db);
        match problem {
            Some(d) => early.push(d),
            None => ids.push(id),
        }
    }
    if sources.is_empty() {
        if let Some(manifest) = db.find(&project.root.join(project::MANIFEST)) {
            early.push(
                Diagnostic::new(
                    crate::diagnostic::Code::NoSources,
                    crate::source::Loc::new(manifest, crate::diagnostic::FILE_START),
                    format!(
                        "no .weft files under {}",
                        project.manifest.sources.join(", ")
                    ),
                )
                .with_note("put .weft files in the source folders named in weft.toml"),
            );
        }
    }
    let groups = project.manifest.groups.clone();
    let mut analysis = analyse(db, ids, &groups, early);
    analysis.project = Some(Project { sources, ..project });
    analysis
}

/// Checks in-memory files as one project: `(name, path, text)`, with the manifest's groups.
/// Used by tests and by the language server for unsaved buffers.
pub fn check_files(files: &[(String, PathBuf, String)], manifest: Option<&Manifest>) -> Analysis {
    let mut db = SourceDb::new();
    let ids = files
        .iter()
        .map(|(name, path, text)| db.add(name.clone(), path.clone(), text.clone()))
        .collect();
    let groups = manifest.map(|m| m.groups.clone()).unwrap_or_default();
    analyse(db, ids, &groups, Vec::new())
}

/// Parses files on all cores; files are independent until name resolution. Workers
/// take the next unparsed file, so one large file does not leave a core idle.
fn parse_all(db: &SourceDb, ids: &[FileId]) -> Vec<(FileId, syntax::File, Vec<Diagnostic>)> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(ids.len());
    if workers <= 1 {
        return ids.iter().map(|&id| parse_one(db, id)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parsed: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(&id) =
                        ids.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        done.push(parse_one(db, id));
                    }
                    done
                })
            })
            .collect();
        // A worker can only fail by panicking, which parse never does on any input.
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    parsed.sort_by_key(|(id, _, _)| *id);
    parsed
}

fn parse_one(db: &SourceDb, id: FileId) -> (FileId, syntax::File, Vec<Diagnostic>) {
    let (tree, problems) = parse::parse(&db.get(id).text, id);
    (id, tree, problems)
}

fn analyse(
    mut db: SourceDb,
    ids: Vec<FileId>,
    groups: &BTreeMap<String, Vec<String>>,
    mut diagnostics: Vec<Diagnostic>,
) -> Analysis {
    let mut files = Vec::with_capacity(ids.len());
    for (id, tree, problems) in parse_all(&db, &ids) {
        diagnostics.extend(problems);
        files.push((id, tree));
    }
    let (program, problems) = resolve::resolve(&mut db, &files);
    diagnostics.extend(problems);
    let (typed, problems) = check::check(&db, &files, &program, groups);
    diagnostics.extend(problems);
    for loc in &typed.redactions {
        db.redact(*loc);
    }
    diagnostics.sort_by(|a, b| {
        (
            a.primary.loc.file,
            a.primary.loc.span.start,
            a.code,
            &a.message,
        )
            .cmp(&(
                b.primary.loc.file,
                b.primary.loc.span.start,
                b.code,
                &b.message,
            ))
    });
    diagnostics.dedup();
    Analysis {
        db,
        project: None,
        files,
        program,
        typed,
        diagnostics,
        load_failed: false,
    }
}
