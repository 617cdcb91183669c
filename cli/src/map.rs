//! `weft map`: apply a map, or a flow's leading `where`/`map` steps, to NDJSON records
//! on stdin, writing the results as NDJSON on stdout. Streaming: memory stays flat over
//! any input size; `--jobs N` maps on N threads and keeps the input order.

mod parallel;

use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use weft_compiler::diagnostic::suggest;
use weft_compiler::{analysis, lower, render};
use weft_runtime::engine::record::{input_demand, transform, Outcome, RecordStep};
use weft_runtime::eval::Demand;
use weft_runtime::ir::{Flow, Program, Step};
use weft_runtime::value::Decoder;

/// Arguments of `weft map`.
#[derive(clap::Args)]
#[command(after_long_help = "\
Reads one JSON record per line (NDJSON) on stdin, converts it to the source type of the map \
(or the record type of the flow's `read` step), applies the map (or the flow's `where` and \
`map` steps up to its first `call` or `write`), and writes each result as one line of \
compact JSON on stdout. Blank lines are skipped; records a `where` drops write nothing.

A record that fails (malformed JSON, a value that does not fit its type, an evaluation \
error) is reported on stderr with its line number and the JSON path or map field, and \
mapping goes on with the next record; the exit code is then 1. With --fail-fast, the \
first failure stops the run (the records before it are written).

Examples:
  weft map customer_to_account < customers.ndjson > accounts.ndjson
  weft map account_sync path/to/project --flow --jobs 4 < export.ndjson

Exit codes: 0 every record mapped, 1 the project has errors or a record failed, 2 usage \
or I/O error (no weft.toml, unknown map or flow, unreadable stdin, unwritable stdout).")]
pub struct Args {
    /// The map to apply; with --flow, the flow whose leading steps to apply.
    name: String,
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    project: PathBuf,
    /// NAME is a flow: records go through its `where` and `map` steps up to its first
    /// `call` or `write`.
    #[arg(long)]
    flow: bool,
    /// Threads that map records; the output keeps the input order.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
    /// Stop at the first record that fails instead of reporting it and going on.
    #[arg(long)]
    fail_fast: bool,
}

/// What happens to each record: a map, or the leading steps of a flow.
enum Pipeline<'p> {
    Map(&'p str),
    Flow(&'p Flow),
}

/// Maps one NDJSON line at a time; shared by every thread.
pub struct Mapper<'p> {
    program: &'p Program,
    decoder: Decoder,
    pipeline: Pipeline<'p>,
}

/// Why one record failed.
pub struct Failure {
    /// The 1-based line of the input.
    pub line: u64,
    /// What went wrong, with the JSON path or the map field.
    pub message: String,
}

impl Mapper<'_> {
    /// Maps the record on `text` (one line of input) and appends the result, a line of
    /// JSON, to `out`; nothing for a blank line or a dropped record.
    pub fn line(&self, text: &[u8], line: u64, out: &mut Vec<u8>) -> Result<(), Failure> {
        // Without its line break, so that errors count columns on this line.
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let fail = |message: String| Failure { line, message };
        let record = self
            .decoder
            .decode_slice(text)
            .map_err(|e| fail(e.to_string()))?;
        let outcome = match self.pipeline {
            Pipeline::Map(name) => RecordStep::Map(name).apply(record, self.program),
            Pipeline::Flow(flow) => transform(flow, record, self.program),
        };
        match outcome.map_err(|e| fail(e.to_string()))? {
            Outcome::Keep(value) => {
                let start = out.len();
                if let Err(e) = serde_json::to_writer(&mut *out, &value) {
                    out.truncate(start);
                    return Err(fail(format!("cannot write the result: {e}")));
                }
                out.push(b'\n');
                Ok(())
            }
            Outcome::Dropped => Ok(()),
        }
    }
}

/// How a run ended.
#[derive(Default)]
pub struct Tally {
    /// Records that failed.
    pub failed: u64,
    /// An I/O error that stopped the run, already worded.
    pub io_error: Option<String>,
}

/// Prints a failure on stderr.
pub fn report(stderr: &mut impl Write, failure: &Failure) {
    let _ = writeln!(
        stderr,
        "weft map: line {}: {}",
        failure.line, failure.message
    );
}

/// Runs `weft map`.
pub fn run(args: &Args) -> ExitCode {
    let analysis = analysis::check_project(&args.project);
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_all(render::text(&analysis.db, &analysis.diagnostics, false).as_bytes());
    let Some(project) = analysis.project.as_ref() else {
        return ExitCode::from(2);
    };
    let Some(lowered) = lower::lower(&analysis) else {
        let _ = writeln!(
            stderr,
            "weft map: {} has errors; nothing was mapped",
            project.manifest.name
        );
        return ExitCode::from(1);
    };
    let program = &lowered.program;
    let mapper = match mapper(&args.name, args.flow, program) {
        Ok(mapper) => mapper,
        Err(message) => {
            let _ = writeln!(stderr, "weft map: {message}");
            return ExitCode::from(2);
        }
    };
    if args.flow {
        if let Some(step) = program.flows.get(&args.name).and_then(first_unapplied) {
            let _ = writeln!(
                stderr,
                "weft map: note: flow `{}` continues with `{step}`, which needs a connection; records are written as they reach it",
                args.name
            );
        }
    }
    drop(stderr);
    let output = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let tally = if args.jobs > 1 {
        let jobs = usize::from(args.jobs);
        parallel::run(&mapper, io::stdin(), output, jobs, args.fail_fast)
    } else {
        let input = BufReader::with_capacity(1 << 16, io::stdin().lock());
        sequential(&mapper, input, output, args.fail_fast)
    };
    let mut stderr = io::stderr().lock();
    if let Some(error) = &tally.io_error {
        let _ = writeln!(stderr, "weft map: {error}");
        return ExitCode::from(2);
    }
    if tally.failed > 0 {
        let _ = writeln!(
            stderr,
            "weft map: {} record{} failed",
            tally.failed,
            if tally.failed == 1 { "" } else { "s" }
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// The mapper for the map (or flow) `name`: its source type compiled for decoding,
/// keeping only what the pipeline reads.
pub(crate) fn mapper<'p>(
    name: &'p str,
    flow: bool,
    program: &'p Program,
) -> Result<Mapper<'p>, String> {
    let (pipeline, source, demand) = if flow {
        let flow = program
            .flows
            .get(name)
            .ok_or_else(|| unknown("flow", name, program.flows.keys()))?;
        let source = flow
            .steps()
            .find_map(|step| match step {
                Step::Read { record, .. } => Some(record),
                _ => None,
            })
            .ok_or_else(|| format!("flow `{name}` has no `read` step"))?;
        (Pipeline::Flow(flow), source, input_demand(flow, program))
    } else {
        let map = program
            .maps
            .get(name)
            .ok_or_else(|| unknown("map", name, program.maps.keys()))?;
        (
            Pipeline::Map(name),
            &map.source,
            Demand::of_map(map, program),
        )
    };
    Ok(Mapper {
        program,
        decoder: Decoder::with_demand(source, program, &demand),
        pipeline,
    })
}

fn unknown<'a>(what: &str, name: &str, names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    let mut message = format!("the project has no {what} `{name}`");
    if let Some(best) = suggest(name, names.iter().copied()) {
        message.push_str(&format!("; did you mean `{best}`?"));
    } else if !names.is_empty() {
        message.push_str(&format!("; its {what}s: {}", names.join(", ")));
    }
    if what == "map" && names.is_empty() {
        message.push_str(" (to apply a flow's steps, add --flow)");
    }
    message
}

/// The first step after the leading `where`/`map` steps, which `weft map` does not run.
fn first_unapplied(flow: &Flow) -> Option<String> {
    flow.steps()
        .skip_while(|s| matches!(s, Step::Read { .. }))
        .find(|s| RecordStep::of(s).is_none())
        .map(|step| match step {
            Step::Call {
                connection,
                operation,
                ..
            } => format!("call {connection}.{operation}"),
            Step::Write {
                connection,
                operation,
                ..
            } => format!("write {connection}.{operation}"),
            other => format!("{other:?}"),
        })
}

/// Reads, maps and writes one record at a time on this thread.
fn sequential(
    mapper: &Mapper<'_>,
    mut input: impl BufRead,
    mut output: impl Write,
    fail_fast: bool,
) -> Tally {
    let mut tally = Tally::default();
    let mut stderr = io::stderr();
    let mut text = Vec::with_capacity(1 << 12);
    let mut out = Vec::with_capacity(1 << 12);
    let mut line = 0u64;
    loop {
        text.clear();
        match input.read_until(b'\n', &mut text) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                tally.io_error = Some(format!("cannot read stdin: {e}"));
                break;
            }
        }
        line += 1;
        out.clear();
        let result = mapper.line(&text, line, &mut out);
        if let Err(e) = output.write_all(&out) {
            tally.io_error = write_error(&e);
            return tally;
        }
        if let Err(failure) = result {
            tally.failed += 1;
            report(&mut stderr, &failure);
            if fail_fast {
                break;
            }
        }
    }
    if let Err(e) = output.flush() {
        tally.io_error = write_error(&e);
    }
    tally
}

/// The message for a failed write to stdout; none when the reader went away (`| head`),
/// which ends the run quietly.
pub fn write_error(error: &io::Error) -> Option<String> {
    (error.kind() != io::ErrorKind::BrokenPipe).then(|| format!("cannot write stdout: {error}"))
}

/// The lowered program of one source file, for tests.
#[cfg(test)]
pub(crate) fn test_program(source: &str) -> Program {
    let analysis =
        analysis::check_files(&[("t.weft".into(), "t.weft".into(), source.into())], None);
    assert!(
        analysis.diagnostics.is_empty(),
        "{}",
        render::text(&analysis.db, &analysis.diagnostics, false)
    );
    match lower::lower(&analysis) {
        Some(lowered) => lowered.program,
        None => panic!("does not lower"),
    }
}
