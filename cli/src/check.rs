//! `weft check`: diagnostics for a whole project.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use weft_compiler::{analysis, render};

use crate::{ColorChoice, Format};

/// Arguments of `weft check`.
#[derive(clap::Args)]
pub struct Args {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
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

/// Runs the check and prints the result.
pub fn run(args: &Args) -> ExitCode {
    let analysis = analysis::check_project(&args.path);
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        Format::Text => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
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
    if written.is_err() {
        return ExitCode::from(2);
    }
    if analysis.load_failed {
        ExitCode::from(2)
    } else if analysis.error_count() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn summary(analysis: &analysis::Analysis) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if analysis.load_failed {
        return "weft check: project not loaded".to_string();
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
