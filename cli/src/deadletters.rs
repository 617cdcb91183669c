//! `weft deadletters`: list the records that failed for good, and replay them through
//! their flow once the target is back.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use weft_runtime::artifact::program_digest;
use weft_runtime::connectors;
use weft_runtime::engine::Sleep;
use weft_runtime::state::{self, Filter, RunContext, Store, StoredDeadLetter};

use crate::runtime::{self, ListFormat, StateArg};

/// Arguments of `weft deadletters`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// List dead letters, newest first.
    List(ListArgs),
    /// Send dead letters through their flow again: delivered ones leave the store,
    /// failing ones stay with their new error.
    Replay(ReplayArgs),
}

/// Arguments of `weft deadletters list`.
#[derive(clap::Args)]
struct ListArgs {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Only dead letters of this flow.
    #[arg(long)]
    flow: Option<String>,
    /// Only dead letters of this environment.
    #[arg(long)]
    env: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
    #[command(flatten)]
    state: StateArg,
}

/// Arguments of `weft deadletters replay`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["id", "flow"])))]
struct ReplayArgs {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Replay this dead letter.
    #[arg(long)]
    id: Option<i64>,
    /// Replay every dead letter of this flow in the environment.
    #[arg(long)]
    flow: Option<String>,
    /// The environment whose dead letters to replay, with its bindings and secrets.
    #[arg(long)]
    env: String,
    /// A dotenv-style file of secrets (`NAME=value` lines), read before the environment.
    #[arg(long, value_name = "FILE")]
    secrets: Option<PathBuf>,
    #[command(flatten)]
    state: StateArg,
}

/// Runs the subcommand. `list`: exit 2 when the state cannot be read. `replay`: exit 0
/// when every replayed letter was delivered, 1 when one failed again (or the project
/// has errors), 2 when the replay cannot start.
pub fn run(args: &Args) -> ExitCode {
    let result = match &args.command {
        Command::List(list) => list_letters(list),
        Command::Replay(replay) => replay_letters(replay),
    };
    match result {
        Ok(code) | Err(code) => code,
    }
}

fn fail(command: &str, error: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "weft deadletters {command}: {error}");
    ExitCode::from(2)
}

fn list_letters(args: &ListArgs) -> Result<ExitCode, ExitCode> {
    let path = runtime::state_path(args.state.state.as_deref(), &args.path, "deadletters list")?;
    let store = runtime::open_store(&path, "deadletters list")?;
    let letters = store
        .dead_letters(&Filter {
            id: None,
            flow: args.flow.clone(),
            environment: args.env.clone(),
            limit: Some(args.limit),
        })
        .map_err(|e| fail("list", e))?;
    let text = match args.format {
        ListFormat::Text => table(&letters),
        ListFormat::Json => format!("{:#}\n", json!({ "version": 1, "dead_letters": letters })),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

fn table(letters: &[StoredDeadLetter]) -> String {
    if letters.is_empty() {
        return "no dead letters\n".into();
    }
    let mut text = String::new();
    for l in letters {
        text.push_str(&format!(
            "#{} {} in {} (run {}, step {}, {} attempt{}, failed {})\n  error:  {}\n  record: {}\n",
            l.id,
            l.flow,
            l.environment,
            l.run,
            l.step,
            l.attempts,
            if l.attempts == 1 { "" } else { "s" },
            l.failed_at,
            l.error,
            l.record
        ));
    }
    text
}

fn replay_letters(args: &ReplayArgs) -> Result<ExitCode, ExitCode> {
    let compiled = runtime::compile(&args.path, "deadletters replay")?;
    let secrets = runtime::secrets(args.secrets.as_deref(), "deadletters replay")?;
    let state_path = args
        .state
        .state
        .clone()
        .unwrap_or_else(|| compiled.root.join(runtime::DEFAULT_STATE));
    let mut store = runtime::open_store(&state_path, "deadletters replay")?;
    let letters = store
        .dead_letters(&Filter {
            id: args.id,
            flow: args.flow.clone(),
            environment: None,
            limit: None,
        })
        .map_err(|e| fail("replay", e))?;
    if let Some(id) = args.id {
        match letters.first() {
            None => return Err(fail("replay", format!("no dead letter #{id}"))),
            Some(l) if l.environment != args.env => {
                return Err(fail(
                    "replay",
                    format!(
                        "dead letter #{id} belongs to environment `{}`, not `{}`",
                        l.environment, args.env
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    // Oldest first, grouped by flow.
    let mut by_flow: BTreeMap<&str, Vec<StoredDeadLetter>> = BTreeMap::new();
    for letter in letters.iter().rev().filter(|l| l.environment == args.env) {
        by_flow
            .entry(&letter.flow)
            .or_default()
            .push(letter.clone());
    }
    if by_flow.is_empty() {
        let _ = writeln!(
            std::io::stdout(),
            "no dead letters to replay in {}",
            args.env
        );
        return Ok(ExitCode::SUCCESS);
    }
    let program = &compiled.lowered.program;
    let flows: Vec<&str> = by_flow.keys().copied().collect();
    let bound = connectors::bind(
        program,
        &flows,
        &args.env,
        &compiled.lowered.environments,
        &secrets,
    )
    .map_err(|e| fail("replay", format!("{e}; nothing was replayed")))?;
    let digest = program_digest(program);
    let mut all_delivered = true;
    for (flow, letters) in &by_flow {
        let context = RunContext {
            program,
            flow,
            environment: &args.env,
            digest: &digest,
            connections: &bound,
            pause: &Sleep,
            redactor: bound.redactor(),
        };
        let replay = state::replay(&mut store, &context, letters).map_err(|e| fail("replay", e))?;
        all_delivered &= replay.failed.is_empty();
        let _ = writeln!(
            std::io::stdout(),
            "replayed {} dead letter{} of {flow} in {} (run {}): {} delivered, {} still failing",
            letters.len(),
            if letters.len() == 1 { "" } else { "s" },
            args.env,
            replay.run.id,
            replay.delivered.len(),
            replay.failed.len()
        );
    }
    Ok(ExitCode::from(u8::from(!all_delivered)))
}
