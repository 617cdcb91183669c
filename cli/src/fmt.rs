//! `weft fmt`: rewrite `.weft` files in the canonical layout, or check that they are.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use weft_compiler::{fmt, project, source::SourceDb};

/// Arguments of `weft fmt`.
#[derive(clap::Args)]
pub struct Args {
    /// Project folders (all their .weft files) or single .weft files.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    check: bool,
}

/// Formats the files; exit 1 when `--check` finds unformatted files or a file has
/// syntax errors, 2 when a path cannot be read or written.
pub fn run(args: &Args) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    let mut files = Vec::new();
    for path in &args.paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        let mut db = SourceDb::new();
        match project::load(path, &mut db) {
            Ok(project) => files.extend(project.sources),
            Err(error) => {
                for d in error.diagnostics {
                    let _ = writeln!(stderr, "weft fmt: {}", d.message);
                }
                return ExitCode::from(2);
            }
        }
    }
    let (mut unformatted, mut broken, mut changed) = (0, 0, 0);
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                let _ = writeln!(stderr, "weft fmt: cannot read {}: {error}", file.display());
                return ExitCode::from(2);
            }
        };
        let Some(formatted) = fmt::format(&text) else {
            let _ = writeln!(
                stderr,
                "weft fmt: {} has syntax errors and was left as it is (see `weft check`)",
                shown(file)
            );
            broken += 1;
            continue;
        };
        if formatted == text {
            continue;
        }
        if args.check {
            let _ = writeln!(std::io::stdout(), "{}", shown(file));
            unformatted += 1;
        } else if let Err(error) = std::fs::write(file, formatted) {
            let _ = writeln!(stderr, "weft fmt: cannot write {}: {error}", file.display());
            return ExitCode::from(2);
        } else {
            changed += 1;
        }
    }
    if args.check {
        let _ = writeln!(
            stderr,
            "weft fmt: {} of {} files need formatting",
            unformatted,
            files.len()
        );
    } else {
        let _ = writeln!(
            stderr,
            "weft fmt: formatted {} of {} files",
            changed,
            files.len()
        );
    }
    if unformatted > 0 || broken > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A path relative to the working folder when it is inside it.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}
