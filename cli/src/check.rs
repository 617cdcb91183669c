//! `weft check`: diagnostics for a whole project.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use weft_compiler::{analysis, render};

use crate::{ColorChoice, Format};

/// Arguments of `weft check`.
#[derive(clap::Args)]
pub struct Args {
    /// Project folders (or their weft.toml, or a file inside them); JSON and SARIF take one.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Also print the inferred type of every map field and flow step.
    #[arg(long)]
    show_types: bool,
}

/// Checks every project given and prints the results; the exit code is the worst one.
pub fn run(args: &Args) -> ExitCode {
    if args.paths.len() > 1 && args.format != Format::Text {
        eprintln!("error: --format json and --format sarif report on one project; run weft check once per project");
        return ExitCode::from(2);
    }
    let mut worst = 0u8;
    for path in &args.paths {
        worst = worst.max(check_one(args, path));
    }
    ExitCode::from(worst)
}

fn check_one(args: &Args, path: &std::path::Path) -> u8 {
    let analysis = analysis::check_project(path);
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        Format::Text => {
            let color = args.color.for_stderr();
            let mut stderr = std::io::stderr().lock();
            let reports = render::text(&analysis.db, &analysis.diagnostics, color);
            let _ = stderr.write_all(reports.as_bytes());
            if args.show_types {
                let _ = stdout.write_all(analysis.typed_summary().as_bytes());
            }
            writeln!(stderr, "{}", summary(&analysis))
        }
        Format::Json => writeln!(
            stdout,
            "{:#}",
            render::json(&analysis.db, &analysis.diagnostics)
        ),
        Format::Sarif => writeln!(
            stdout,
            "{:#}",
            render::sarif(
                &analysis.db,
                &analysis.diagnostics,
                env!("CARGO_PKG_VERSION")
            )
        ),
    };
    let code = if written.is_err() || analysis.load_failed {
        2
    } else if analysis.error_count() > 0 {
        1
    } else {
        0
    };
    // The process is about to exit: freeing a large project's trees one node at a time
    // would only delay it.
    std::mem::forget(analysis);
    code
}

fn summary(analysis: &analysis::Analysis) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if analysis.load_failed {
        return "weft check: the project could not be loaded".to_string();
    }
    let name = analysis
        .project
        .as_ref()
        .map_or("project".to_string(), |p| {
            format!("{} {}", p.manifest.name, p.manifest.version)
        });
    format!(
        "weft check: {name}: {} ({}): {}, {}",
        plural(analysis.files.len(), "file"),
        plural(analysis.line_count(), "line"),
        plural(analysis.error_count(), "error"),
        plural(analysis.warning_count(), "warning"),
    )
}
