//! `weft runs`: the stored runs, newest first.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use weft_runtime::state::{Filter, RunRecord, Store};

use crate::runtime::{self, ListFormat, StateArg};

/// Arguments of `weft runs`.
#[derive(clap::Args)]
pub struct Args {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Only runs of this flow.
    #[arg(long)]
    flow: Option<String>,
    /// Only runs in this environment.
    #[arg(long)]
    env: Option<String>,
    /// At most this many runs.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
    #[command(flatten)]
    state: StateArg,
}

/// Lists runs; exit 2 when the state file cannot be read.
pub fn run(args: &Args) -> ExitCode {
    let listed = runtime::state_path(args.state.state.as_deref(), &args.path, "runs")
        .and_then(|path| runtime::open_store(&path, "runs"))
        .and_then(|store| {
            store
                .runs(&Filter {
                    id: None,
                    flow: args.flow.clone(),
                    environment: args.env.clone(),
                    limit: Some(args.limit),
                })
                .map_err(|e| {
                    let _ = writeln!(std::io::stderr(), "weft runs: {e}");
                    ExitCode::from(2)
                })
        });
    let runs = match listed {
        Ok(runs) => runs,
        Err(code) => return code,
    };
    let text = match args.format {
        ListFormat::Text => table(&runs),
        ListFormat::Json => format!("{:#}\n", json!({ "version": 1, "runs": runs })),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

fn table(runs: &[RunRecord]) -> String {
    if runs.is_empty() {
        return "no runs\n".into();
    }
    let mut rows = vec![[
        "ID",
        "FLOW",
        "ENV",
        "TRIGGER",
        "STATUS",
        "STARTED",
        "MS",
        "READ",
        "DELIVERED",
        "DROPPED",
        "SKIPPED",
        "DEAD",
        "RETRIES",
    ]
    .map(str::to_owned)
    .to_vec()];
    for r in runs {
        let c = &r.counts;
        rows.push(vec![
            r.id.to_string(),
            r.flow.clone(),
            r.environment.clone(),
            r.trigger.as_str().to_owned(),
            r.status.as_str().to_owned(),
            r.started_at.clone(),
            r.duration_ms.map_or_else(|| "-".into(), |d| d.to_string()),
            c.read.to_string(),
            c.delivered.to_string(),
            c.dropped.to_string(),
            c.skipped.to_string(),
            c.dead_lettered.to_string(),
            c.retries.to_string(),
        ]);
    }
    let mut text = crate::runtime::columns(&rows);
    for r in runs.iter().filter(|r| r.failure.is_some()) {
        text.push_str(&format!(
            "run {} failed: {}\n",
            r.id,
            r.failure.as_deref().unwrap_or_default()
        ));
    }
    text
}
