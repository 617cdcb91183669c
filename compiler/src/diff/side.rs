//! The versions a diff compares, loaded into [`Model`]s: a project folder (checked and
//! lowered, with its environments), an artifact (digest verified, no environments), or
//! the project as it was at a git revision (exported to a temporary folder). `weft diff`
//! and the language server's `weft/semanticDiff` load their sides here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use weft_runtime::artifact::{self, Artifact};

use super::Model;
use crate::analysis::{self, Analysis};
use crate::{lower, project};

/// One side of a diff, as a command line or an editor names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// A project folder, its `weft.toml`, or a file in it.
    Project(PathBuf),
    /// An artifact written by `weft build`.
    Artifact(PathBuf),
    /// The project as it was at a git revision, such as `HEAD~1` or `main`.
    Revision(String),
}

impl Side {
    /// Reads `git:REV` as a revision, an existing `.json` file as an artifact, and
    /// anything else as a project.
    pub fn parse(name: &str) -> Side {
        if let Some(rev) = name.strip_prefix("git:") {
            return Side::Revision(rev.to_string());
        }
        let path = Path::new(name);
        let is_artifact = path.is_file()
            && path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_artifact {
            Side::Artifact(path.to_path_buf())
        } else {
            Side::Project(path.to_path_buf())
        }
    }
}

/// Why a side could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The side cannot be used; the message says why and what to do.
    Unusable(String),
    /// The project was checked and has errors (or no usable manifest): the message, and
    /// the analysis, whose diagnostics say where.
    Errors(String, Box<Analysis>),
}

impl LoadError {
    /// The message, without the diagnostics.
    pub fn message(&self) -> &str {
        match self {
            LoadError::Unusable(message) | LoadError::Errors(message, _) => message,
        }
    }
}

/// Loads one side, labelled `label` in messages. Revisions are of the project found at
/// or above `here`. A checked project's analysis is handed to `dispose` once lowered:
/// a process about to exit may forget it rather than free a large program.
pub fn load(
    side: &Side,
    label: &str,
    here: &Path,
    dispose: impl FnOnce(Analysis),
) -> Result<Model, LoadError> {
    match side {
        Side::Project(path) => load_project(path, label, dispose),
        Side::Artifact(path) => load_artifact(path),
        Side::Revision(rev) => {
            let checkout = checkout(here, rev, label)?;
            load_project(&checkout.project, label, dispose)
        }
    }
}

/// Reads an artifact and verifies its format and digest.
pub fn load_artifact(path: &Path) -> Result<Model, LoadError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::Unusable(format!("cannot read {shown}: {e}")))?;
    let artifact: Artifact = serde_json::from_str(&text)
        .map_err(|e| LoadError::Unusable(format!("{shown} is not a Weft artifact: {e}")))?;
    if artifact.format != artifact::FORMAT_VERSION {
        return Err(LoadError::Unusable(format!(
            "{shown} has artifact format {}; this weft reads format {}",
            artifact.format,
            artifact::FORMAT_VERSION
        )));
    }
    artifact
        .verify()
        .map_err(|e| LoadError::Unusable(format!("{shown}: {e}")))?;
    Ok(Model::from_artifact(&artifact))
}

/// Checks and lowers the project holding `path`.
pub fn load_project(
    path: &Path,
    label: &str,
    dispose: impl FnOnce(Analysis),
) -> Result<Model, LoadError> {
    let analysis = analysis::check_project(path);
    match model(&analysis, label) {
        Ok(model) => {
            dispose(analysis);
            Ok(model)
        }
        Err(message) => Err(LoadError::Errors(message, Box::new(analysis))),
    }
}

/// The model of a checked project, or why there is none.
pub fn model(analysis: &Analysis, label: &str) -> Result<Model, String> {
    if analysis.load_failed {
        return Err(format!("{label}: the project could not be loaded"));
    }
    match lower::lower_without_source_map(analysis) {
        Some(lowered) => Ok(Model::from(lowered)),
        None => Err(format!("{label}: the project has errors")),
    }
}

/// A project exported from a git revision; the temporary folder goes when it is dropped.
#[derive(Debug)]
pub struct Checkout {
    /// The project folder inside the export.
    pub project: PathBuf,
    _dir: TempDir,
}

/// Exports the project found at or above `here`, as it was at revision `rev`, into a
/// temporary folder. The whole tree of the revision is written, so imports that reach
/// outside the project folder still resolve.
pub fn checkout(here: &Path, rev: &str, label: &str) -> Result<Checkout, LoadError> {
    let unusable = |message: String| LoadError::Unusable(message);
    if rev.is_empty() {
        return Err(unusable(
            "git: needs a revision, such as git:HEAD~1 or git:main".to_string(),
        ));
    }
    let root = here
        .ancestors()
        .find(|dir| dir.join(project::MANIFEST).is_file())
        .ok_or_else(|| {
            unusable(format!(
                "{label}: no {} in {} or any folder above it",
                project::MANIFEST,
                here.display()
            ))
        })?;
    let top = git(root, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        unusable(format!(
            "{label}: {} is not in a git repository: {e}; run `git init` and commit the project, or compare against an artifact",
            root.display()
        ))
    })?;
    let top = PathBuf::from(top.trim());
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let prefix = canonical(root)
        .strip_prefix(canonical(&top))
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let commit = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| {
        unusable(format!(
            "{label}: unknown revision {rev}; name a commit, branch or tag (`git log` lists them); a new repository needs a first commit"
        ))
    })?;
    let commit = commit.trim().to_string();
    let dir =
        TempDir::new().map_err(|e| unusable(format!("cannot create a temporary folder: {e}")))?;
    export(&top, &commit, &dir.0).map_err(|e| unusable(format!("{label}: {e}")))?;
    let project = dir.0.join("tree").join(&prefix);
    if !project.join(project::MANIFEST).is_file() {
        let shown = if prefix.as_os_str().is_empty() {
            project::MANIFEST.to_string()
        } else {
            prefix.join(project::MANIFEST).display().to_string()
        };
        return Err(unusable(format!(
            "{label}: there is no {shown} at {rev}; the project was not committed yet"
        )));
    }
    Ok(Checkout { project, _dir: dir })
}

/// Runs git in `dir` and returns its standard output.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// Writes the whole tree of `commit` into `into` through a throw-away index, so the
/// repository's own index and work tree are untouched, `export-ignore` attributes do
/// not drop files, and imports that reach outside the project folder still resolve.
fn export(top: &Path, commit: &str, into: &Path) -> Result<(), String> {
    let index = into.join("index");
    let tree = into.join("tree");
    let mut prefix = tree.to_string_lossy().into_owned();
    prefix.push(std::path::MAIN_SEPARATOR);
    for args in [
        vec!["read-tree", commit],
        vec!["checkout-index", "--all", "--force", "--prefix", &prefix],
    ] {
        let output = Command::new("git")
            .arg("-C")
            .arg(top)
            .args(&args)
            .env("GIT_INDEX_FILE", &index)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "git {} failed: {}",
                args[0],
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    Ok(())
}

/// A temporary folder, removed when dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100u32 {
            let dir = base.join(format!(
                "weft-diff-{}-{nanos}-{attempt}",
                std::process::id()
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("no free temporary folder name"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
