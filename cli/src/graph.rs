//! `weft graph`: draw one flow, or every flow and the `after` links between them.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use weft_compiler::graph::{self, UnknownFlow};
use weft_compiler::{analysis, lower, render};

use crate::ColorChoice;

/// Arguments of `weft graph`.
#[derive(clap::Args)]
#[command(after_long_help = "\
Each node shows a trigger or a step as written and, below it, the type of the records it \
hands on; failed records lead to a dead-letter node (`then dead_letter`) or a note (`skip`, \
`fail`). Without --flow, every flow is drawn as its own group, with an arrow from the end of \
a flow to each `trigger after` it starts.

SVG is drawn by weft itself by default (no other tool needed, same bytes on every machine). \
With --engine graphviz, weft writes DOT and pipes it through Graphviz (`dot -Tsvg`, which \
must be on PATH) for Graphviz's layout instead.

Examples:
  weft graph --flow account_sync                  DOT on stdout
  weft graph --format mermaid > flows.mmd         every flow, for a Markdown page
  weft graph --flow order_to_shipment --out order_to_shipment.svg
  weft graph --format svg --engine graphviz --out flows.svg

Exit codes: 0 drawn, 1 the project has errors, 2 usage or I/O error (no weft.toml, \
unknown flow, Graphviz missing, unwritable --out).")]
pub struct Args {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Draw only this flow; without it, every flow and the `after` links between them.
    #[arg(long, value_name = "NAME")]
    flow: Option<String>,
    /// Output format [default: from the --out extension (.dot/.gv, .mmd/.mermaid, .svg), else dot].
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Who lays out SVG: weft's built-in renderer, or Graphviz's `dot` found on PATH.
    #[arg(long, value_enum, default_value_t = Engine::Builtin)]
    engine: Engine,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// Picture formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Graphviz DOT: render with `dot -Tpng` and friends.
    Dot,
    /// A Mermaid flowchart, for Markdown pages on GitHub and GitLab.
    Mermaid,
    /// A standalone SVG document.
    Svg,
}

/// SVG layout engines.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// Weft's own top-to-bottom layout; needs nothing installed.
    Builtin,
    /// Graphviz `dot -Tsvg`, which must be on PATH.
    Graphviz,
}

/// Draws the graph; exit 1 when the project has errors, 2 on usage and I/O errors.
pub fn run(args: &Args) -> ExitCode {
    let format = args
        .format
        .or_else(|| args.out.as_deref().and_then(format_of))
        .unwrap_or(Format::Dot);
    if args.engine == Engine::Graphviz && format != Format::Svg {
        eprintln!("error: --engine graphviz draws SVG; add --format svg");
        return ExitCode::from(2);
    }
    let analysis = analysis::check_project(&args.path);
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(render::text(&analysis.db, &analysis.diagnostics, color).as_bytes());
    if analysis.load_failed {
        return ExitCode::from(2);
    }
    let Some(lowered) = lower::lower(&analysis) else {
        let _ = writeln!(
            stderr,
            "weft graph: the project has {} error{}; nothing was drawn",
            analysis.error_count(),
            if analysis.error_count() == 1 { "" } else { "s" }
        );
        return ExitCode::from(1);
    };
    std::mem::forget(analysis);
    let program = &lowered.program;
    let flow = args.flow.as_deref();
    let drawn = match (format, args.engine) {
        (Format::Dot, _) => graph::dot(program, flow),
        (Format::Mermaid, _) => graph::mermaid(program, flow),
        (Format::Svg, Engine::Builtin) => graph::svg(program, flow),
        (Format::Svg, Engine::Graphviz) => match graph::dot(program, flow) {
            Ok(dot) => match graphviz(&dot) {
                Ok(svg) => Ok(svg),
                Err(message) => {
                    let _ = writeln!(stderr, "error: {message}");
                    return ExitCode::from(2);
                }
            },
            Err(unknown) => Err(unknown),
        },
    };
    let text = match drawn {
        Ok(text) => text,
        Err(unknown) => {
            let _ = writeln!(stderr, "{}", unknown_flow(&unknown));
            return ExitCode::from(2);
        }
    };
    let written = match &args.out {
        Some(path) => std::fs::write(path, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|e| format!("cannot write to stdout: {e}")),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The format a file name asks for by its extension.
fn format_of(path: &Path) -> Option<Format> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "dot" | "gv" => Some(Format::Dot),
        "mmd" | "mermaid" => Some(Format::Mermaid),
        "svg" => Some(Format::Svg),
        _ => None,
    }
}

fn unknown_flow(unknown: &UnknownFlow) -> String {
    let mut message = format!("error: no flow named `{}`", unknown.name);
    if let Some(suggestion) = &unknown.suggestion {
        message.push_str(&format!("\n  help: did you mean `{suggestion}`?"));
    }
    if unknown.available.is_empty() {
        message.push_str("\n  note: the project declares no flows");
    } else {
        message.push_str(&format!(
            "\n  note: flows: {}",
            unknown.available.join(", ")
        ));
    }
    message
}

/// Runs `dot -Tsvg` on `dot`; the message says what went wrong.
fn graphviz(dot: &str) -> Result<String, String> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "Graphviz `dot` is not on PATH; install Graphviz or use the built-in renderer (--engine builtin)".to_string()
            } else {
                format!("cannot run Graphviz `dot`: {e}")
            }
        })?;
    let input = child.stdin.take();
    // Feed stdin from another thread so a large graph cannot fill both pipes at once.
    let output = std::thread::scope(|scope| {
        scope.spawn(move || {
            if let Some(mut stdin) = input {
                let _ = stdin.write_all(dot.as_bytes());
            }
        });
        child.wait_with_output()
    })
    .map_err(|e| format!("Graphviz `dot` failed: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "Graphviz `dot` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|_| "Graphviz `dot` wrote invalid UTF-8".to_string())
}
