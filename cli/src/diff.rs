//! `weft diff`: what changed between two versions of a project, by meaning.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use weft_compiler::diff::side::{self, LoadError, Side};
use weft_compiler::diff::{self, Action, Class, Diff, LineKind, Model};
use weft_compiler::render;

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

/// Loads one side; on failure the diagnostics of a side that does not compile are
/// printed first.
fn load(name: &str, color: bool) -> Result<Model, Failure> {
    let here = std::env::current_dir()
        .map_err(|e| Failure(format!("cannot read the current folder: {e}")))?;
    // The process exits soon after the diff: freeing a large program would only delay it.
    side::load(&Side::parse(name), name, &here, std::mem::forget).map_err(|error| {
        if let LoadError::Errors(_, analysis) = &error {
            let reports = render::text(&analysis.db, &analysis.diagnostics, color);
            let _ = std::io::stderr().write_all(reports.as_bytes());
        }
        Failure(error.message().to_string())
    })
}
