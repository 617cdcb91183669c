//! The compiler's API for every front end: check a project or a set of in-memory
//! files and get back plain data (diagnostics, the resolved program, typed summaries),
//! and bring an analysis up to date after an edit ([`Analysis::update`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::check::{self, Findings, Typed};
use crate::diagnostic::Diagnostic;
use crate::parse::{self, Chunk};
use crate::project::{self, Manifest, Project};
use crate::relocate::{Relocate, Shift};
use crate::resolve::{self, Program};
use crate::source::{FileId, SourceDb, Span};
use crate::syntax::{self, Spans};

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
    /// What [`Analysis::update`] keeps to redo only what an edit touches.
    memo: Memo,
}

/// What [`Analysis::update`] had to redo after an edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redone {
    /// Nothing: the text was the same.
    Nothing,
    /// Parse and check this many declarations (the edited ones and the one before),
    /// and the project-wide checks.
    Declarations(usize),
    /// Resolve and check the whole project: a declaration's interface changed.
    Project,
}

/// The intermediate results of an analysis, by file and declaration.
#[derive(Debug, Default)]
struct Memo {
    /// The approval groups of the manifest.
    groups: BTreeMap<String, Vec<String>>,
    /// Problems found while loading the project.
    early: Vec<Diagnostic>,
    /// Files in the database before name resolution imported schema files.
    before_imports: usize,
    /// Name resolution's diagnostics.
    resolved: Vec<Diagnostic>,
    /// Per parsed file, in the order of `files`.
    sources: Vec<SourceMemo>,
    /// Per parsed file and declaration, what checking it found.
    found: Vec<Vec<Findings>>,
}

/// A parsed file: its text as read (before credentials are masked) and its chunks.
#[derive(Debug)]
struct SourceMemo {
    text: String,
    chunks: Vec<ChunkMemo>,
    /// The file's parse diagnostics, assembled from those of its chunks.
    diagnostics: Vec<Diagnostic>,
}

/// One parsed chunk: where it is, how many declarations and comments it gave the
/// file's tree, and its diagnostics.
#[derive(Debug)]
struct ChunkMemo {
    span: Span,
    items: usize,
    comments: usize,
    lexical: Vec<Diagnostic>,
    syntax: Vec<Diagnostic>,
}

impl ChunkMemo {
    fn of(chunk: &Chunk) -> ChunkMemo {
        ChunkMemo {
            span: chunk.span,
            items: chunk.items.len(),
            comments: chunk.comments.len(),
            lexical: chunk.lexical.clone(),
            syntax: chunk.syntax.clone(),
        }
    }
}

impl SourceMemo {
    fn assemble_diagnostics(&mut self) {
        self.diagnostics = parse::file_diagnostics(
            self.chunks
                .iter()
                .map(|c| (c.lexical.as_slice(), c.syntax.as_slice())),
        );
    }

    /// Whether chunk `i` reads alike in `self.text` and chunk `j` in `other`: the same
    /// text followed by the same declaration keyword (or the end of the file).
    fn same_chunk(&self, i: usize, other: &str, other_spans: &[Span], j: usize) -> bool {
        match (self.chunks.get(i), other_spans.get(j)) {
            (Some(a), Some(b)) => chunk_key(&self.text, a.span) == chunk_key(other, *b),
            _ => false,
        }
    }
}

/// What a chunk's parse depends on: its text, and the keyword after it.
fn chunk_key(text: &str, span: Span) -> (Option<&str>, Option<&'static str>) {
    let next = parse::declaration_keyword(text, span.end).filter(|_| span.end < text.len());
    (text.get(span.start..span.end), next)
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
                memo: Memo::default(),
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
fn parse_all(db: &SourceDb, ids: &[FileId]) -> Vec<(FileId, Vec<Chunk>)> {
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
    parsed.sort_by_key(|(id, _)| *id);
    parsed
}

fn parse_one(db: &SourceDb, id: FileId) -> (FileId, Vec<Chunk>) {
    let text = &db.get(id).text;
    (id, parse::parse_chunks(text, Span::new(0, text.len()), id))
}

fn analyse(
    mut db: SourceDb,
    ids: Vec<FileId>,
    groups: &BTreeMap<String, Vec<String>>,
    early: Vec<Diagnostic>,
) -> Analysis {
    let mut files = Vec::with_capacity(ids.len());
    let mut sources = Vec::with_capacity(ids.len());
    for (id, chunks) in parse_all(&db, &ids) {
        let text = db.get(id).text.clone();
        let mut source = SourceMemo {
            chunks: chunks.iter().map(ChunkMemo::of).collect(),
            text,
            diagnostics: Vec::new(),
        };
        source.assemble_diagnostics();
        files.push((id, parse::join(&source.text, chunks)));
        sources.push(source);
    }
    let before_imports = db.len();
    let (program, resolved) = resolve::resolve(&mut db, &files);
    let mut analysis = Analysis {
        db,
        project: None,
        files,
        program,
        typed: Typed::default(),
        diagnostics: Vec::new(),
        load_failed: false,
        memo: Memo {
            groups: groups.clone(),
            early,
            before_imports,
            resolved,
            sources,
            found: Vec::new(),
        },
    };
    analysis.memo.found = analysis.check_all();
    analysis.finish();
    analysis
}

impl Analysis {
    /// Brings the analysis up to date after the text of one parsed source file changed
    /// (an editor's buffer), with the same result as analysing the project again.
    ///
    /// Only the chunks of the file the edit touched are parsed again; the declarations
    /// after them move. When the edit leaves every declaration's interface alone (the
    /// usual edit of a map or flow body, a test, an environment), only the touched
    /// declarations are checked again and the project-wide checks redone; otherwise the
    /// project is resolved and checked again from the parsed trees. Returns what was
    /// redone; `None`, with nothing changed, when `file` is not one of the parsed sources.
    pub fn update(&mut self, file: FileId, text: String) -> Option<Redone> {
        let index = self.files.iter().position(|(id, _)| *id == file)?;
        let source = self.memo.sources.get(index)?;
        if source.text == text {
            return Some(Redone::Nothing);
        }
        // The chunks that read alike before and after the edit, at both ends. The one
        // before the edit is parsed again too, so that the edited text always replaces
        // some old text and no location kept before it touches the edit.
        let mut new_spans: Vec<Span> = Vec::new();
        let mut starts = parse::chunk_starts(&text);
        starts.push(text.len());
        for w in starts.windows(2) {
            new_spans.push(Span::new(w[0], w[1]));
        }
        let (old_count, new_count) = (source.chunks.len(), new_spans.len());
        let mut prefix = 0;
        while prefix < old_count.min(new_count)
            && source.same_chunk(prefix, &text, &new_spans, prefix)
        {
            prefix += 1;
        }
        let mut suffix: usize = 0;
        while suffix < (old_count - prefix).min(new_count - prefix)
            && source.same_chunk(
                old_count - 1 - suffix,
                &text,
                &new_spans,
                new_count - 1 - suffix,
            )
        {
            suffix += 1;
        }
        let mut prefix = prefix.saturating_sub(1);
        while prefix + suffix >= old_count.min(new_count) {
            if suffix > 0 {
                suffix -= 1;
            } else {
                prefix -= 1;
            }
        }
        let old_middle = prefix..old_count - suffix;
        let new_middle = prefix..new_count - suffix;
        let old_end = source
            .chunks
            .get(old_middle.end - 1)
            .map_or(0, |c| c.span.end);
        let region = Span::new(
            new_spans[new_middle.start].start,
            new_spans[new_middle.end - 1].end,
        );
        let shift = Shift {
            file,
            from: old_end,
            delta: region.end as isize - old_end as isize,
        };
        let chunks = parse::parse_chunks(&text, region, file);

        // The file's tree: new declarations in the middle, the later ones moved.
        let count = |range: std::ops::Range<usize>, of: fn(&ChunkMemo) -> usize| -> usize {
            source.chunks[range].iter().map(of).sum()
        };
        let first_item = count(0..prefix, |c| c.items);
        let old_items = count(old_middle.clone(), |c| c.items);
        let first_comment = count(0..prefix, |c| c.comments);
        let old_comments = count(old_middle.clone(), |c| c.comments);
        let memos: Vec<ChunkMemo> = chunks.iter().map(ChunkMemo::of).collect();
        let new_items = memos.iter().map(|c| c.items).sum::<usize>();
        let (items, comments): (Vec<_>, Vec<_>) =
            chunks.into_iter().map(|c| (c.items, c.comments)).unzip();
        let tree = &mut self.files[index].1;
        let removed: Vec<syntax::Item> = tree
            .items
            .splice(
                first_item..first_item + old_items,
                items.into_iter().flatten(),
            )
            .collect();
        tree.items[first_item + new_items..].move_by(shift.delta);
        let added_comments = comments.iter().map(Vec::len).sum::<usize>();
        tree.comments.splice(
            first_comment..first_comment + old_comments,
            comments.into_iter().flatten(),
        );
        tree.comments[first_comment + added_comments..].move_by(shift.delta);
        let middle = first_item..first_item + new_items;
        parse::attach_docs(&mut tree.items[middle.clone()], &tree.comments, &text);
        let mut same_interfaces = removed
            .iter()
            .filter_map(resolve::interface)
            .eq(tree.items[middle.clone()]
                .iter()
                .filter_map(resolve::interface));
        drop(removed);
        // The doc comment of the declaration after the edit is in the edited text.
        if let Some(next) = tree.items.get_mut(middle.end) {
            let before = next.clone();
            parse::attach_docs(std::slice::from_mut(next), &tree.comments, &text);
            same_interfaces &= resolve::interface(&before) == resolve::interface(next);
        }

        // The file's chunks and parse diagnostics.
        let source = &mut self.memo.sources[index];
        let moved = source.chunks.len() - suffix..source.chunks.len();
        for chunk in &mut source.chunks[moved] {
            chunk.span = chunk.span.moved(shift.delta);
            chunk.lexical.relocate(&shift);
            chunk.syntax.relocate(&shift);
        }
        source.chunks.splice(old_middle, memos);
        source.text.clone_from(&text);
        source.assemble_diagnostics();
        self.db.set_text(file, text);

        if same_interfaces {
            self.program.relocate(&shift);
            self.memo.resolved.relocate(&shift);
            self.memo.early.relocate(&shift);
            for (i, found) in self.memo.found.iter_mut().enumerate() {
                for (k, findings) in found.iter_mut().enumerate() {
                    let replaced = i == index && (first_item..first_item + old_items).contains(&k);
                    if !replaced && findings.files.contains(&file) {
                        findings.relocate(&shift);
                    }
                }
            }
            let tree = &self.files[index].1;
            let rechecked: Vec<Findings> = tree.items[middle]
                .iter()
                .map(|item| {
                    check::check_item(&self.db, &self.program, &self.memo.groups, file, item)
                })
                .collect();
            self.memo.found[index].splice(first_item..first_item + old_items, rechecked);
            self.finish();
            Some(Redone::Declarations(new_items))
        } else {
            // Checked from the texts as read, as a fresh analysis is: credentials are
            // masked again at the end.
            for ((id, _), source) in self.files.iter().zip(&self.memo.sources) {
                if self.db.get(*id).text != source.text {
                    self.db.set_text(*id, source.text.clone());
                }
            }
            self.db.truncate(self.memo.before_imports);
            let (program, resolved) = resolve::resolve(&mut self.db, &self.files);
            self.program = program;
            self.memo.resolved = resolved;
            self.memo.found = self.check_all();
            self.finish();
            Some(Redone::Project)
        }
    }

    /// Checks every declaration of every file.
    fn check_all(&self) -> Vec<Vec<Findings>> {
        self.files
            .iter()
            .map(|(file, tree)| {
                tree.items
                    .iter()
                    .map(|item| {
                        check::check_item(&self.db, &self.program, &self.memo.groups, *file, item)
                    })
                    .collect()
            })
            .collect()
    }

    /// The project-wide checks, the types and all diagnostics from what is kept;
    /// credentials in the source are masked.
    fn finish(&mut self) {
        let (typed, checked) = check::finish(
            &self.db,
            &self.files,
            &self.program,
            &self.memo.groups,
            self.memo.found.iter().flatten(),
        );
        for loc in &typed.redactions {
            self.db.redact(*loc);
        }
        let mut diagnostics = self.memo.early.clone();
        for source in &self.memo.sources {
            diagnostics.extend(source.diagnostics.iter().cloned());
        }
        diagnostics.extend(self.memo.resolved.iter().cloned());
        diagnostics.extend(checked);
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
        self.typed = typed;
        self.diagnostics = diagnostics;
    }
}
