//! The server's state: the open documents, and the last analysis of each project.
//!
//! An [`Analysis`] holds `Rc`s (the compiler's types are single-threaded), so it cannot
//! move between threads. All analyses therefore live on one analysis thread, the
//! [`Host`]; requests send it closures and await their answers. Documents are shared
//! plain text behind a mutex, written by the notification handlers and read by the
//! host when it (re)analyses a project.
//!
//! Freshness is counted per project: every edit bumps the project's generation. An
//! analysis remembers the generation it read, so a newer edit makes it stale, and a
//! stale analysis is brought up to date before any request is answered from it:
//! edited buffers are applied to it ([`Analysis::update`], which redoes only what the
//! edit touched); after a save or a close, when files on disk may have changed, the
//! project is analysed again. Diagnostics of an analysis that went stale while it ran
//! are dropped (the newer edit publishes its own).

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use tower_lsp_server::ls_types::{Diagnostic, Location, Uri};
use weft_compiler::analysis::{self, Analysis};
use weft_compiler::project::{parse_manifest, MANIFEST};
use weft_compiler::source::{FileId, Loc};

use crate::diagnostics;
use crate::position::LineIndex;
use crate::run_test::Outcome;

/// Which analysis a document belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProjectKey {
    /// A project: the folder holding `weft.toml`.
    Root(PathBuf),
    /// A `.weft` file outside any project's source folders, analysed alone.
    Single(PathBuf),
}

impl ProjectKey {
    /// The project of a file: the nearest `weft.toml` above it whose source folders hold
    /// the file. A manifest that cannot be read still claims the file, so that its
    /// problem is reported.
    pub fn of(path: &Path) -> ProjectKey {
        for dir in path.ancestors().skip(1) {
            let manifest = dir.join(MANIFEST);
            if !manifest.is_file() {
                continue;
            }
            let folders = std::fs::read_to_string(&manifest)
                .ok()
                .and_then(|text| parse_manifest(&text, FileId(0)).ok())
                .map(|m| m.sources);
            return match folders {
                Some(folders) if !folders.iter().any(|f| path.starts_with(dir.join(f))) => {
                    ProjectKey::Single(path.to_path_buf())
                }
                _ => ProjectKey::Root(dir.to_path_buf()),
            };
        }
        ProjectKey::Single(path.to_path_buf())
    }
}

/// An open document.
#[derive(Debug, Clone)]
pub struct Document {
    /// The URI the client knows it by.
    pub uri: Uri,
    /// Its text as last sent by the client.
    pub text: String,
    /// The client's version number.
    pub version: i32,
    /// The analysis it belongs to.
    pub project: ProjectKey,
}

/// Open documents by canonical path, and the generation of each project.
#[derive(Debug, Default)]
pub struct Documents {
    open: HashMap<PathBuf, Document>,
    generations: HashMap<ProjectKey, u64>,
    counter: u64,
    /// Projects whose files on disk may have changed: analysed again from scratch.
    reload: HashSet<ProjectKey>,
}

impl Documents {
    /// The document at this canonical path, if open.
    pub fn get(&self, path: &Path) -> Option<&Document> {
        self.open.get(path)
    }

    /// The current generation of a project; 0 when nothing of it was ever edited.
    pub fn generation(&self, key: &ProjectKey) -> u64 {
        self.generations.get(key).copied().unwrap_or(0)
    }

    /// Marks a project as changed and returns its new generation.
    pub fn bump(&mut self, key: &ProjectKey) -> u64 {
        self.counter += 1;
        self.generations.insert(key.clone(), self.counter);
        self.counter
    }

    /// Marks a project as changed on disk (a save, a closed buffer): its next analysis
    /// reads every file again. Returns the new generation.
    pub fn reload(&mut self, key: &ProjectKey) -> u64 {
        self.reload.insert(key.clone());
        self.bump(key)
    }

    /// Whether the project must be read again from disk; clears the mark.
    fn take_reload(&mut self, key: &ProjectKey) -> bool {
        self.reload.remove(key)
    }

    /// Opens a document or replaces its text; returns its project and the project's new
    /// generation. Notifications may be handled out of order, so a version older than
    /// the one held is ignored (`None`); full-text changes of a document not open yet
    /// open it.
    pub fn update(
        &mut self,
        path: PathBuf,
        uri: Uri,
        text: String,
        version: i32,
    ) -> Option<(ProjectKey, u64)> {
        if self
            .open
            .get(&path)
            .is_some_and(|doc| doc.version > version)
        {
            return None;
        }
        let project = match self.open.get(&path) {
            Some(doc) => doc.project.clone(),
            None => ProjectKey::of(&path),
        };
        self.open.insert(
            path,
            Document {
                uri,
                text,
                version,
                project: project.clone(),
            },
        );
        let generation = self.bump(&project);
        Some((project, generation))
    }

    /// Closes a document; returns it.
    pub fn close(&mut self, path: &Path) -> Option<Document> {
        let doc = self.open.remove(path)?;
        self.reload(&doc.project);
        Some(doc)
    }

    /// Projects with at least one open document.
    pub fn projects(&self) -> Vec<ProjectKey> {
        let mut keys: Vec<_> = self.open.values().map(|d| d.project.clone()).collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// The path of a `file:` URI, canonical when the file (or its folder) exists, so that
/// it matches the paths the compiler lists.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    if !uri.scheme().as_str().eq_ignore_ascii_case("file") {
        return None;
    }
    let path = uri.to_file_path()?.into_owned();
    Some(canonical(&path))
}

/// The canonical form of a path, or of its folder when the file does not exist yet.
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(path) {
        return path;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// One analysis of a project and what it was made from.
#[derive(Debug)]
pub struct Snapshot {
    /// The project.
    pub key: ProjectKey,
    /// The project generation the analysis read.
    pub generation: u64,
    /// The analysis, or the message of the panic that stopped it.
    pub outcome: Result<Analysis, String>,
    /// The open documents it read: canonical path to (URI, text, version).
    pub buffers: Buffers,
}

/// Open documents of a project: canonical path to (URI, text, version).
pub type Buffers = HashMap<PathBuf, (Uri, String, i32)>;

impl Snapshot {
    /// The analysis, or an error for requests when the checker failed.
    pub fn analysis(&self) -> Result<&Analysis, String> {
        self.outcome.as_ref().map_err(Clone::clone)
    }

    /// The text of a file as the client sees it: the open buffer (the analysis masks
    /// secrets, which may change character counts), or the text read from disk.
    pub fn text<'a>(&'a self, analysis: &'a Analysis, file: FileId) -> &'a str {
        let source = analysis.db.get(file);
        match self.buffers.get(&source.path) {
            Some((_, text, _)) => text,
            None => &source.text,
        }
    }

    /// The URI of a file path: the client's own URI for open documents.
    pub fn uri(&self, path: &Path) -> Option<Uri> {
        if let Some((uri, _, _)) = self.buffers.get(path) {
            return Some(uri.clone());
        }
        let path = canonical(path);
        if let Some((uri, _, _)) = self.buffers.get(&path) {
            return Some(uri.clone());
        }
        Uri::from_file_path(&path)
    }

    /// The URI of a file of the analysis.
    pub fn file_uri(&self, analysis: &Analysis, file: FileId) -> Option<Uri> {
        let path = &analysis.db.get(file).path;
        if path.as_os_str().is_empty() || path.is_dir() {
            return None;
        }
        self.uri(path)
    }

    /// The LSP location of a compiler location.
    pub fn location(&self, analysis: &Analysis, loc: Loc) -> Option<Location> {
        let uri = self.file_uri(analysis, loc.file)?;
        let range = LineIndex::new(self.text(analysis, loc.file)).range(loc.span);
        Some(Location::new(uri, range))
    }

    /// The file id of a canonical path in the analysis.
    pub fn file_of(&self, analysis: &Analysis, path: &Path) -> Option<FileId> {
        analysis.db.find(path)
    }

    /// Applies the changed buffers to the analysis; false when that is not possible (a
    /// buffer closed, a file new to the project, a checker that failed), and the project
    /// must be analysed again.
    fn update(&mut self, buffers: &Buffers) -> bool {
        let Ok(analysis) = &mut self.outcome else {
            return false;
        };
        if self.buffers.keys().any(|path| !buffers.contains_key(path)) {
            return false;
        }
        let mut changed = Vec::new();
        for (path, (_, text, _)) in buffers {
            if self
                .buffers
                .get(path)
                .is_some_and(|(_, old, _)| old == text)
            {
                continue;
            }
            let Some(file) = analysis.db.find(path) else {
                return false;
            };
            changed.push((file, text.clone()));
        }
        let applied = catch_unwind(AssertUnwindSafe(|| {
            changed
                .into_iter()
                .all(|(file, text)| analysis.update(file, text).is_some())
        }));
        match applied {
            Ok(true) => {
                self.buffers = buffers.clone();
                true
            }
            Ok(false) => false,
            Err(payload) => {
                self.outcome = Err(panic_message(payload.as_ref()));
                false
            }
        }
    }

    /// The version of an open document as the analysis read it.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.buffers
            .values()
            .find(|(u, _, _)| u == uri)
            .map(|(_, _, v)| *v)
    }
}

/// Diagnostics to send: a URI, its diagnostics, the document version.
pub type Publish = (Uri, Vec<Diagnostic>, Option<i32>);

/// The analysis thread's state.
pub struct Host {
    documents: Arc<Mutex<Documents>>,
    snapshots: HashMap<ProjectKey, Snapshot>,
    /// What each project last published, so unchanged files are not sent again and
    /// files whose diagnostics went away get an empty list.
    published: HashMap<ProjectKey, HashMap<Uri, Vec<Diagnostic>>>,
    /// The last run of each test from the editor, by project and test name.
    test_runs: HashMap<ProjectKey, HashMap<String, TestRun>>,
}

/// A test run from the editor and the project generation it ran on: its failures are
/// shown until the project is edited again, its result in the lens until the next run.
struct TestRun {
    generation: u64,
    outcome: Outcome,
}

impl Host {
    fn documents(&self) -> MutexGuard<'_, Documents> {
        lock(&self.documents)
    }

    /// The project of a canonical path: the open document's, or found on disk.
    pub fn key_of(&self, path: &Path) -> ProjectKey {
        match self.documents().get(path) {
            Some(doc) => doc.project.clone(),
            None => ProjectKey::of(path),
        }
    }

    /// The analysis of a project for its current documents, brought up to date when
    /// stale.
    pub fn fresh(&mut self, key: &ProjectKey) -> &Snapshot {
        let generation = self.documents().generation(key);
        if self
            .snapshots
            .get(key)
            .is_some_and(|s| s.generation == generation)
        {
            return &self.snapshots[key];
        }
        let (generation, buffers, reload) = {
            let mut docs = self.documents();
            let buffers: Buffers = docs
                .open
                .iter()
                .filter(|(_, d)| d.project == *key)
                .map(|(p, d)| (p.clone(), (d.uri.clone(), d.text.clone(), d.version)))
                .collect();
            (docs.generation(key), buffers, docs.take_reload(key))
        };
        let stale = self
            .snapshots
            .get(key)
            .is_none_or(|s| s.generation != generation);
        let updated = stale
            && !reload
            && self.snapshots.get_mut(key).is_some_and(|snapshot| {
                let done = snapshot.update(&buffers);
                if done {
                    snapshot.generation = generation;
                }
                done
            });
        if stale && !updated {
            let outcome = analyse(key, &buffers);
            self.snapshots.insert(
                key.clone(),
                Snapshot {
                    key: key.clone(),
                    generation,
                    outcome,
                    buffers,
                },
            );
        }
        // Present: inserted just above when missing.
        &self.snapshots[key]
    }

    /// The diagnostics a project's current analysis adds to what was published: every
    /// file whose list changed (or `always`), and an empty list for files that had some
    /// and have none now. `None` when the project was edited again meanwhile: the newer
    /// edit publishes.
    pub fn publish(&mut self, key: &ProjectKey, always: Option<&Uri>) -> Option<Vec<Publish>> {
        let generation = self.fresh(key).generation;
        if self.documents().generation(key) != generation {
            return None;
        }
        let snapshot = self.snapshots.get(key)?;
        let mut current = diagnostics::collect(snapshot);
        let runs = self.test_runs.get(key).into_iter().flat_map(|m| m.values());
        for run in runs.filter(|run| run.generation == generation) {
            for (uri, list) in &run.outcome.diagnostics {
                current
                    .entry(uri.clone())
                    .or_default()
                    .extend(list.iter().cloned());
            }
        }
        let previous = self.published.entry(key.clone()).or_default();
        let mut out: Vec<Publish> = Vec::new();
        for (uri, list) in &current {
            if previous.get(uri) != Some(list) || always == Some(uri) {
                out.push((uri.clone(), list.clone(), snapshot.version(uri)));
            }
        }
        for (uri, list) in previous.iter() {
            if !current.contains_key(uri) && !list.is_empty() {
                out.push((uri.clone(), Vec::new(), snapshot.version(uri)));
            }
        }
        *previous = current;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Some(out)
    }

    /// Keeps the outcome of a test run on the project at `generation`.
    pub fn record_test(&mut self, key: ProjectKey, generation: u64, outcome: Outcome) {
        let runs = self.test_runs.entry(key).or_default();
        runs.insert(
            outcome.test.clone(),
            TestRun {
                generation,
                outcome,
            },
        );
    }

    /// The lens title of each test run from the editor, by test name.
    pub fn test_titles(&self, key: &ProjectKey) -> HashMap<String, String> {
        self.test_runs.get(key).map_or_else(HashMap::new, |runs| {
            runs.iter()
                .map(|(name, run)| (name.clone(), run.outcome.lens_title()))
                .collect()
        })
    }

    /// Forgets a project (its last document was closed) and returns empty lists for
    /// every file it had published diagnostics for.
    pub fn forget(&mut self, key: &ProjectKey) -> Vec<Publish> {
        self.snapshots.remove(key);
        self.test_runs.remove(key);
        let mut out: Vec<Publish> = self
            .published
            .remove(key)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, list)| !list.is_empty())
            .map(|(uri, _)| (uri, Vec::new(), None))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Projects with open documents.
    pub fn open_projects(&self) -> Vec<ProjectKey> {
        self.documents().projects()
    }
}

/// Runs the checker for a project, turning a panic into an error message.
fn analyse(key: &ProjectKey, buffers: &Buffers) -> Result<Analysis, String> {
    let run = || match key {
        ProjectKey::Root(root) => {
            let overrides = buffers
                .iter()
                .map(|(path, (_, text, _))| (path.clone(), text.clone()))
                .collect();
            analysis::check_project_with(root, &overrides)
        }
        ProjectKey::Single(path) => {
            let text = match buffers.get(path) {
                Some((_, text, _)) => text.clone(),
                None => std::fs::read_to_string(path).unwrap_or_default(),
            };
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            analysis::check_files(&[(name, path.clone(), text)], None)
        }
    };
    catch_unwind(AssertUnwindSafe(run)).map_err(|payload| panic_message(payload.as_ref()))
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Locks a mutex, recovering the data of a holder that panicked: documents are plain
/// text, always consistent.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

type Job = Box<dyn FnOnce(&mut Host) + Send>;

/// The documents and the handle of the analysis thread, shared by all handlers.
pub struct World {
    documents: Arc<Mutex<Documents>>,
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// Starts the analysis thread.
    pub fn new() -> World {
        let documents = Arc::new(Mutex::new(Documents::default()));
        let (jobs, inbox) = mpsc::channel::<Job>();
        let shared = documents.clone();
        let spawned = std::thread::Builder::new()
            .name("weft-analysis".to_string())
            .spawn(move || {
                // Built here: analyses never leave this thread.
                let mut host = Host {
                    documents: shared,
                    snapshots: HashMap::new(),
                    published: HashMap::new(),
                    test_runs: HashMap::new(),
                };
                // Ends when the world, and with it the sender, is dropped.
                while let Ok(job) = inbox.recv() {
                    job(&mut host);
                }
            });
        if let Err(error) = spawned {
            eprintln!("weft lsp: cannot start the analysis thread: {error}");
        }
        World {
            documents,
            jobs: Mutex::new(jobs),
        }
    }

    /// The open documents.
    pub fn documents(&self) -> MutexGuard<'_, Documents> {
        lock(&self.documents)
    }

    /// Runs `job` on the analysis thread and returns its result; an error when it
    /// panicked or the thread is gone.
    pub async fn run<R, F>(&self, job: F) -> Result<R, String>
    where
        R: Send + 'static,
        F: FnOnce(&mut Host) -> R + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let boxed: Job = Box::new(move |host: &mut Host| {
            let result = catch_unwind(AssertUnwindSafe(|| job(host)))
                .map_err(|payload| panic_message(payload.as_ref()));
            let _ = reply.send(result);
        });
        lock(&self.jobs)
            .send(boxed)
            .map_err(|_| "the analysis thread has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the analysis thread has stopped".to_string())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(path, text);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_thread_keeps_serving() {
        let world = World::new();
        let failed = world.run(|_| -> i32 { panic!("boom") }).await;
        assert_eq!(failed, Err("boom".to_string()));
        assert_eq!(world.run(|_| 7).await, Ok(7));
    }

    #[test]
    fn projects_are_found_upward_within_their_source_folders() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let root = canonical(dir.path());
        write(
            &root.join("p/weft.toml"),
            "[project]\nname = \"p\"\nversion = \"0.1.0\"\n",
        );
        let inside = root.join("p/src/deep/a.weft");
        let outside = root.join("p/scratch/b.weft");
        let alone = root.join("c.weft");
        assert_eq!(ProjectKey::of(&inside), ProjectKey::Root(root.join("p")));
        assert_eq!(
            ProjectKey::of(&outside),
            ProjectKey::Single(outside.clone())
        );
        assert_eq!(ProjectKey::of(&alone), ProjectKey::Single(alone.clone()));
    }

    #[tokio::test]
    async fn edits_make_analyses_stale_and_publish_only_changes() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let path = canonical(dir.path()).join("a.weft");
        write(&path, "");
        let Some(uri) = Uri::from_file_path(&path) else {
            return;
        };
        let world = World::new();
        let opened =
            world
                .documents()
                .update(path.clone(), uri.clone(), "schema A { a: Strin }".into(), 1);
        let Some((key, _)) = opened else { return };
        let publish = |key: ProjectKey| world.run(move |host| host.publish(&key, None));
        let first = publish(key.clone())
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].1.len(), 1, "one unknown type");
        assert_eq!(first[0].2, Some(1));
        // Nothing changed: nothing to send.
        assert_eq!(
            publish(key.clone()).await.ok().flatten().map(|l| l.len()),
            Some(0)
        );
        // Fixed: an empty list for the file.
        world.documents().update(
            path.clone(),
            uri.clone(),
            "schema A { a: String }".into(),
            2,
        );
        // A late notification of an older version changes nothing.
        let late = world
            .documents()
            .update(path.clone(), uri.clone(), "schema A {".into(), 1);
        assert!(late.is_none());
        let fixed = publish(key.clone())
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(fixed.len(), 1);
        assert!(fixed[0].1.is_empty());
        assert_eq!(fixed[0].2, Some(2));
        // Closing forgets the project; nothing was left to clear.
        world.documents().close(&path);
        assert_eq!(
            world
                .run(move |host| host.forget(&key))
                .await
                .map(|l| l.len()),
            Ok(0)
        );
    }
}

#[cfg(test)]
mod buffer_tests {
    use super::*;

    #[test]
    fn buffers_replace_disk_text_and_new_files_take_part() {
        let Ok(dir) = tempfile::tempdir() else { return };
        let root = canonical(dir.path());
        let _ = std::fs::create_dir_all(root.join("src"));
        let _ = std::fs::write(
            root.join("weft.toml"),
            "[project]\nname = \"p\"\nversion = \"0.1.0\"\n",
        );
        let _ = std::fs::write(root.join("src/a.weft"), "schema A { a: Strin }\n");
        let overrides = HashMap::from([
            (
                root.join("src/a.weft"),
                "schema A { a: String }\n".to_string(),
            ),
            (
                root.join("src/new.weft"),
                "schema B { a: A, b: Boo }\n".to_string(),
            ),
        ]);
        let analysis = analysis::check_project_with(&root, &overrides);
        let names: Vec<&str> = analysis
            .files
            .iter()
            .map(|(id, _)| analysis.db.get(*id).name.as_str())
            .collect();
        assert_eq!(names, ["src/a.weft", "src/new.weft"]);
        let messages: Vec<&str> = analysis
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages, ["unknown type `Boo`"]);
    }
}
