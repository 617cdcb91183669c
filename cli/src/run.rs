//! `weft run`: compiles the project, binds one environment with its secrets, runs one
//! flow once through the engine with real connections, and stores the run.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use weft_runtime::artifact::program_digest;
use weft_runtime::connectors;
use weft_runtime::engine::{RunOptions, Sleep};
use weft_runtime::state::{self, Filter, RunContext, RunRecord, RunStatus, Store};

use crate::runtime::{self, StateArg};

/// Arguments of `weft run`.
#[derive(clap::Args)]
pub struct Args {
    /// The flow to run.
    flow: String,
    /// The environment whose bindings and secrets to use.
    #[arg(long)]
    env: String,
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// A dotenv-style file of secrets (`NAME=value` lines), read before the environment.
    #[arg(long, value_name = "FILE")]
    secrets: Option<PathBuf>,
    #[command(flatten)]
    state: StateArg,
}

/// Runs the flow; exit 0 when the run succeeded (dead letters allowed), 1 when it
/// failed or the project has errors, 2 when it cannot start (no project, unbound
/// connection, missing secret, unreadable secrets or state file).
pub fn run(args: &Args) -> ExitCode {
    match run_flow(args) {
        Ok(code) | Err(code) => code,
    }
}

fn run_flow(args: &Args) -> Result<ExitCode, ExitCode> {
    let compiled = runtime::compile(&args.path, "run")?;
    let secrets = runtime::secrets(args.secrets.as_deref(), "run")?;
    let program = &compiled.lowered.program;
    let bound = connectors::bind(
        program,
        &[args.flow.as_str()],
        &args.env,
        &compiled.lowered.environments,
        &secrets,
    )
    .map_err(|e| {
        let _ = writeln!(std::io::stderr(), "weft run: {e}; nothing was run");
        ExitCode::from(2)
    })?;
    let state_path = args
        .state
        .state
        .clone()
        .unwrap_or_else(|| compiled.root.join(runtime::DEFAULT_STATE));
    let mut store = runtime::open_store(&state_path, "run")?;
    let options = RunOptions {
        input: None,
        variables: BTreeMap::from([(
            "last_run".to_owned(),
            last_run(&store, &args.flow, &args.env)?,
        )]),
        ..RunOptions::default()
    };
    let digest = program_digest(program);
    if let Some(chain) = program.promotion.as_ref().map(|p| &p.chain) {
        if chain.iter().skip(1).any(|e| *e == args.env) {
            let _ = writeln!(
                std::io::stderr(),
                "weft run: note: `{}` is reached by promotion ({}); this runs the project as it is here ({digest}), which may not be the version deployed there (`weft status`)",
                args.env,
                chain.join(" -> ")
            );
        }
    }
    let context = RunContext {
        program,
        flow: &args.flow,
        environment: &args.env,
        digest: &digest,
        connections: &bound,
        pause: &Sleep,
        redactor: bound.redactor(),
    };
    // Runs of this flow a killed process left unfinished: their unsettled records first.
    let interrupted = store
        .take_interrupted(&args.env, Some(&args.flow))
        .map_err(|e| {
            let _ = writeln!(std::io::stderr(), "weft run: {e}");
            ExitCode::from(2)
        })?;
    for old in &interrupted {
        match state::resume(&mut store, &context, old) {
            Ok(Some(resumed)) => {
                let _ = write!(
                    std::io::stdout(),
                    "resumed interrupted run {}:\n{}",
                    old.id,
                    summary(&resumed)
                );
            }
            Ok(None) => {}
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "weft run: resuming run {}: {e}", old.id);
                return Err(ExitCode::from(1));
            }
        }
    }
    let record = state::run_recorded(&mut store, &context, &options).map_err(|e| {
        let _ = writeln!(std::io::stderr(), "weft run: {e}");
        ExitCode::from(1)
    })?;
    let _ = write!(std::io::stdout(), "{}", summary(&record));
    Ok(ExitCode::from(u8::from(
        record.status != RunStatus::Succeeded,
    )))
}

/// When the last successful run of this flow in this environment started, for the
/// `{last_run}` placeholder; the Unix epoch before the first.
fn last_run(store: &dyn Store, flow: &str, environment: &str) -> Result<String, ExitCode> {
    let runs = store
        .runs(&Filter {
            flow: Some(flow.to_owned()),
            environment: Some(environment.to_owned()),
            ..Filter::default()
        })
        .map_err(|e| {
            let _ = writeln!(std::io::stderr(), "weft run: {e}");
            ExitCode::from(2)
        })?;
    Ok(runs
        .into_iter()
        .find(|r| r.status == RunStatus::Succeeded)
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), |r| r.started_at))
}

/// The lines printed after a run.
pub fn summary(record: &RunRecord) -> String {
    let c = &record.counts;
    let mut text = format!(
        "run {} of {} in {}: {} in {} ms\n  read {}, delivered {}, dropped {}, skipped {}, dead-lettered {}, retries {}\n",
        record.id,
        record.flow,
        record.environment,
        record.status.as_str(),
        record.duration_ms.unwrap_or(0),
        c.read,
        c.delivered,
        c.dropped,
        c.skipped,
        c.dead_lettered,
        c.retries
    );
    if let Some(failure) = &record.failure {
        text.push_str(&format!("  failed: {failure}\n"));
    }
    if c.dead_lettered > 0 {
        text.push_str(&format!(
            "  see them with `weft deadletters list --flow {} --env {}`\n",
            record.flow, record.environment
        ));
    }
    text
}
