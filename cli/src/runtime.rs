//! What `weft run`, `weft runs` and `weft deadletters` share: the project compiled for
//! running, its environment bound with secrets, and the state file opened.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use weft_compiler::lower::{self, Lowered};
use weft_compiler::project::Manifest;
use weft_compiler::source::SourceDb;
use weft_compiler::{analysis, project, render};
use weft_runtime::secrets::SecretSource;
use weft_runtime::state::sqlite::SqliteStore;

/// Where the run state lives unless `--state` says otherwise, under the project root.
pub const DEFAULT_STATE: &str = ".weft/state.db";

/// A project compiled for running.
pub struct Compiled {
    /// The project root.
    pub root: PathBuf,
    /// Its `weft.toml`.
    pub manifest: Manifest,
    /// The lowered program and environments.
    pub lowered: Lowered,
}

/// Checks and lowers the project holding `path`, printing its diagnostics; the exit
/// code when it cannot run (2: no project, 1: errors).
pub fn compile(path: &Path, command: &str) -> Result<Compiled, ExitCode> {
    let analysis = analysis::check_project(path);
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(render::text(&analysis.db, &analysis.diagnostics, false).as_bytes());
    let Some(project) = analysis.project.as_ref() else {
        return Err(ExitCode::from(2));
    };
    let Some(lowered) = lower::lower(&analysis) else {
        let _ = writeln!(
            stderr,
            "weft {command}: {} has errors; nothing was run",
            project.manifest.name
        );
        return Err(ExitCode::from(1));
    };
    Ok(Compiled {
        root: project.root.clone(),
        manifest: project.manifest.clone(),
        lowered,
    })
}

/// The secrets: the `--secrets` file first, then the process environment.
pub fn secrets(file: Option<&Path>, command: &str) -> Result<SecretSource, ExitCode> {
    match file {
        None => Ok(SecretSource::process_env()),
        Some(path) => SecretSource::file_then_env(path).map_err(|e| {
            let _ = writeln!(std::io::stderr(), "weft {command}: {e}");
            ExitCode::from(2)
        }),
    }
}

/// The state file: `--state`, or `.weft/state.db` under the root of the project that
/// holds `project_path`.
pub fn state_path(
    state: Option<&Path>,
    project_path: &Path,
    command: &str,
) -> Result<PathBuf, ExitCode> {
    if let Some(path) = state {
        return Ok(path.to_path_buf());
    }
    match project::load(project_path, &mut SourceDb::new()) {
        Ok(project) => Ok(project.root.join(DEFAULT_STATE)),
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "weft {command}: no weft.toml in {} or its parents; give the state file with --state",
                project_path.display()
            );
            Err(ExitCode::from(2))
        }
    }
}

/// Opens the state file.
pub fn open_store(path: &Path, command: &str) -> Result<SqliteStore, ExitCode> {
    SqliteStore::open(path).map_err(|e| {
        let _ = writeln!(std::io::stderr(), "weft {command}: {e}");
        ExitCode::from(2)
    })
}

/// Output format of listings.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// A table.
    Text,
    /// Versioned JSON.
    Json,
}

/// The `--state` option.
#[derive(clap::Args)]
pub struct StateArg {
    /// The run-state database (default: .weft/state.db under the project root).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// Rows as left-aligned columns separated by two spaces.
pub fn columns(rows: &[Vec<String>]) -> String {
    let mut widths = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(i) {
                Some(w) if *w < width => *w = width,
                Some(_) => {}
                None => widths.push(width),
            }
        }
    }
    let mut text = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                format!(
                    "{cell:<width$}",
                    width = widths.get(i).copied().unwrap_or(0)
                )
            })
            .collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    text
}
