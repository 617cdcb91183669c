//! `weft build`: check, lower and write the project's artifact.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use weft_compiler::{analysis, emit, lower, render};

/// Arguments of `weft build`.
#[derive(clap::Args)]
pub struct Args {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Folder for the artifact; relative paths are taken from the project root.
    #[arg(long, default_value = "dist")]
    out: PathBuf,
}

/// Builds the artifact; exit 1 when the project has errors, 2 on I/O errors.
pub fn run(args: &Args) -> ExitCode {
    let analysis = analysis::check_project(&args.path);
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(render::text(&analysis.db, &analysis.diagnostics, false).as_bytes());
    let Some(project) = analysis.project.as_ref() else {
        return ExitCode::from(2);
    };
    let Some(lowered) = lower::lower(&analysis) else {
        let _ = writeln!(
            stderr,
            "weft build: {} has errors; nothing was built",
            project.manifest.name
        );
        return ExitCode::from(1);
    };
    let artifact = emit::artifact(
        lowered,
        &project.manifest,
        emit::source_digest(&analysis),
        emit::git_info(&project.root),
    );
    let dir = if args.out.is_absolute() {
        args.out.clone()
    } else {
        project.root.join(&args.out)
    };
    let path = dir.join(emit::file_name(&project.manifest));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, emit::to_json(&artifact)));
    if let Err(error) = written {
        let _ = writeln!(
            stderr,
            "weft build: cannot write {}: {error}",
            path.display()
        );
        return ExitCode::from(2);
    }
    let flows = artifact.program.flows.len();
    let _ = writeln!(
        std::io::stdout(),
        "built {} ({} flow{}, {})",
        path.display(),
        flows,
        if flows == 1 { "" } else { "s" },
        artifact.digest
    );
    std::mem::forget(analysis);
    ExitCode::SUCCESS
}
