//! `weft diff`: what changed between two versions of a project, by meaning.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use weft_compiler::diff::{self, Action, Class, Diff, LineKind, Model};
use weft_compiler::{analysis, lower, project, render};
use weft_runtime::artifact::{self, Artifact};

use crate::ColorChoice;

const AFTER_HELP: &str = "\
Each side is one of:
  a project folder    (or its weft.toml, or a file in it): checked and lowered, with its
                      environment bindings
  an artifact file    (*.json written by `weft build`): its digest is verified; artifacts
                      carry no environments, so bindings are then not compared
  git:REV             the project of the current folder (weft.toml found upward) as it
                      was at revision REV, e.g. git:HEAD~1, git:main, git:v1.4.0

Exit codes:
  0  the diff was computed (changes or not), unless --exit-code is given
  1  with --exit-code: there are changes
  2  usage or I/O error, a bad or tampered artifact, an unknown revision, or a side
     that does not compile (its diagnostics are printed)";

/// Arguments of `weft diff`.
#[derive(clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// The old side: a project folder, an artifact (*.json) or git:REV.
    old: String,
    /// The new side: a project folder, an artifact (*.json) or git:REV.
    #[arg(default_value = ".")]
    new: String,
    /// Output format: text for people, json (versioned) for tools, markdown for a
    /// pull-request comment.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Colour in text output and diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Exit with 1 when there are changes, like `git diff --exit-code`.
    #[arg(long)]
    exit_code: bool,
}

/// Output format of `weft diff`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Changes grouped by class, for people.
    Text,
    /// Versioned JSON, for tools.
    Json,
    /// Tables per class, for a pull-request comment.
    Markdown,
}

/// Why a side could not be loaded; reported on stderr, exit code 2.
struct Failure(String);

/// Computes and prints the diff.
pub fn run(args: &Args) -> ExitCode {
    let stderr_color = use_color(args.color, std::io::stderr().is_terminal());
    // The two sides are independent: load them at the same time.
    let loaded = std::thread::scope(|scope| {
        let new = scope.spawn(|| load(&args.new, stderr_color));
        let old = load(&args.old, stderr_color);
        let new = new
            .join()
            .unwrap_or_else(|_| Err(Failure(format!("{}: loading failed", args.new))));
        Ok::<_, Failure>((old?, new?))
    });
    let (old, new) = match loaded {
        Ok(sides) => sides,
        Err(Failure(message)) => {
            let _ = writeln!(std::io::stderr(), "weft diff: {message}");
            return ExitCode::from(2);
        }
    };
    let result = diff::diff(&old, &new);
    // The process is about to exit: freeing two large programs would only delay it.
    std::mem::forget((old, new));
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        DiffFormat::Text => {
            let color = use_color(args.color, std::io::stdout().is_terminal());
            stdout.write_all(text(&result, color).as_bytes())
        }
        DiffFormat::Json => match serde_json::to_string_pretty(&result) {
            Ok(json) => writeln!(stdout, "{json}"),
            Err(error) => Err(std::io::Error::other(error)),
        },
        DiffFormat::Markdown => stdout.write_all(diff::render_markdown(&result).as_bytes()),
    };
    if written.and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    if args.exit_code && !result.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn use_color(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// The text rendering, coloured by line kind when asked.
fn text(result: &Diff, color: bool) -> String {
    if !color {
        return diff::render_text(result);
    }
    let mut out = String::new();
    for line in diff::text_lines(result) {
        let style = match line.kind {
            LineKind::Heading => "1",
            LineKind::Class(Class::Breaking) => "1;31",
            LineKind::Class(Class::Behaviour) => "1;33",
            LineKind::Class(Class::Cosmetic) => "1;2",
            LineKind::Change(Action::Added) => "32",
            LineKind::Change(Action::Removed) => "31",
            LineKind::Change(Action::Modified) => "33",
            LineKind::Change(Action::Reordered) => "36",
            LineKind::Note => "2",
            LineKind::Detail | LineKind::Blank => "",
        };
        let text = line.text.trim_end();
        if style.is_empty() || text.is_empty() {
            out.push_str(text);
        } else {
            out.push_str(&format!("\x1b[{style}m{text}\x1b[0m"));
        }
        out.push('\n');
    }
    out
}

/// Loads one side.
fn load(side: &str, color: bool) -> Result<Model, Failure> {
    if let Some(rev) = side.strip_prefix("git:") {
        return load_revision(side, rev, color);
    }
    let path = Path::new(side);
    let is_artifact = path.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_artifact {
        load_artifact(path)
    } else {
        load_project(path, side, color)
    }
}

fn load_artifact(path: &Path) -> Result<Model, Failure> {
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure(format!("cannot read {shown}: {e}")))?;
    let artifact: Artifact = serde_json::from_str(&text)
        .map_err(|e| Failure(format!("{shown} is not a Weft artifact: {e}")))?;
    if artifact.format != artifact::FORMAT_VERSION {
        return Err(Failure(format!(
            "{shown} has artifact format {}; this weft reads format {}",
            artifact.format,
            artifact::FORMAT_VERSION
        )));
    }
    artifact
        .verify()
        .map_err(|e| Failure(format!("{shown}: {e}")))?;
    Ok(Model::from_artifact(&artifact))
}

fn load_project(path: &Path, label: &str, color: bool) -> Result<Model, Failure> {
    let analysis = analysis::check_project(path);
    let lowered = lower::lower_without_source_map(&analysis);
    if lowered.is_none() || analysis.load_failed {
        let reports = render::text(&analysis.db, &analysis.diagnostics, color);
        let _ = std::io::stderr().write_all(reports.as_bytes());
        let why = if analysis.load_failed {
            "the project could not be loaded"
        } else {
            "the project has errors"
        };
        return Err(Failure(format!("{label}: {why}")));
    }
    let model = lowered.map(Model::from).unwrap_or_default();
    // Freeing a large project's trees one node at a time would only delay the exit.
    std::mem::forget(analysis);
    Ok(model)
}

/// The project of the current folder as it was at a git revision.
fn load_revision(label: &str, rev: &str, color: bool) -> Result<Model, Failure> {
    if rev.is_empty() {
        return Err(Failure(
            "git: needs a revision, such as git:HEAD~1 or git:main".to_string(),
        ));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Failure(format!("cannot read the current folder: {e}")))?;
    let root = find_project_root(&cwd).ok_or_else(|| {
        Failure(format!(
            "{label}: no {} in {} or any folder above it",
            project::MANIFEST,
            cwd.display()
        ))
    })?;
    let top = git(&root, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        Failure(format!(
            "{label}: {} is not in a git repository: {e}",
            root.display()
        ))
    })?;
    let top = PathBuf::from(top.trim());
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let prefix = canonical(&root)
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
    .map_err(|_| Failure(format!("{label}: unknown revision {rev}")))?;
    let commit = commit.trim().to_string();
    let temp =
        TempDir::new().map_err(|e| Failure(format!("cannot create a temporary folder: {e}")))?;
    export(&top, &commit, &temp.0).map_err(|e| Failure(format!("{label}: {e}")))?;
    let project_dir = temp.0.join("tree").join(&prefix);
    if !project_dir.join(project::MANIFEST).is_file() {
        let shown = if prefix.as_os_str().is_empty() {
            project::MANIFEST.to_string()
        } else {
            prefix.join(project::MANIFEST).display().to_string()
        };
        return Err(Failure(format!("{label}: there is no {shown} at {rev}")));
    }
    load_project(&project_dir, label, color)
}

/// The nearest folder at or above `start` holding `weft.toml`.
fn find_project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(project::MANIFEST).is_file())
        .map(Path::to_path_buf)
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
