//! `weft serve`: compiles the project, binds each `--env` with its secrets, and hosts
//! its flows (schedules, webhooks, `after`, watched folders, manual runs over HTTP)
//! until SIGTERM or Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use weft_runtime::artifact::program_digest;
use weft_runtime::connectors;
use weft_runtime::host::{self, FixedCatalog, HostConfig, LogFormat, WEBHOOK_SECRET};
use weft_runtime::ir::Trigger;

use crate::runtime::{self, StateArg};

/// Arguments of `weft serve`.
#[derive(clap::Args)]
pub struct Args {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// An environment to serve, with an optional dotenv-style secrets file read before
    /// the process environment: `--env prod=prod.env`. Repeat for several.
    #[arg(long = "env", value_name = "NAME[=SECRETS_FILE]", required = true)]
    envs: Vec<String>,
    /// The address of the HTTP endpoints (health, runs, webhooks).
    #[arg(long, default_value = "127.0.0.1:7700")]
    listen: SocketAddr,
    /// Log lines as text or JSON (one object per line), on stderr.
    #[arg(long, value_enum, default_value_t = LogArg::Text)]
    log_format: LogArg,
    #[command(flatten)]
    state: StateArg,
}

/// `--log-format`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogArg {
    Text,
    Json,
}

/// Serves until stopped; exit 0 after a clean stop, 1 when the project has errors, 2
/// when it cannot start (unbound connection, missing secret, busy address).
pub fn run(args: &Args) -> ExitCode {
    match serve(args) {
        Ok(code) | Err(code) => code,
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "weft serve: {message}");
    ExitCode::from(2)
}

fn serve(args: &Args) -> Result<ExitCode, ExitCode> {
    let compiled = runtime::compile(&args.path, "serve")?;
    let program = Arc::new(compiled.lowered.program.clone());
    let digest = program_digest(&program);
    let flows: Vec<&str> = program.flows.keys().map(String::as_str).collect();
    let has_webhooks = program.flows.values().any(|f| {
        f.triggers
            .iter()
            .any(|t| matches!(t, Trigger::Webhook { .. }))
    });
    let mut catalog = FixedCatalog::new();
    for spec in &args.envs {
        let (name, file) = match spec.split_once('=') {
            Some((name, file)) => (name, Some(PathBuf::from(file))),
            None => (spec.as_str(), None),
        };
        let secrets = runtime::secrets(file.as_deref(), "serve")?;
        let bound = connectors::bind(
            &program,
            &flows,
            name,
            &compiled.lowered.environments,
            &secrets,
        )
        .map_err(|e| {
            let users = match &e {
                connectors::BindError::MissingSecrets { missing, .. } => users_of(
                    &program,
                    missing
                        .iter()
                        .map(|(_, used)| used.split(' ').next().unwrap_or_default()),
                ),
                _ => String::new(),
            };
            fail(format!("{e}{users}; environment `{name}` not started"))
        })?;
        let webhook_secret = secrets.get(WEBHOOK_SECRET).filter(|s| !s.is_empty());
        if has_webhooks && webhook_secret.is_none() {
            let hooked: Vec<&str> = program
                .flows
                .iter()
                .filter(|(_, f)| {
                    f.triggers
                        .iter()
                        .any(|t| matches!(t, Trigger::Webhook { .. }))
                })
                .map(|(n, _)| n.as_str())
                .collect();
            return Err(fail(format!(
                "environment `{name}` needs the secret {WEBHOOK_SECRET} to check the signatures of its webhooks (flows: {}); environment `{name}` not started",
                hooked.join(", ")
            )));
        }
        catalog.activate(name, Arc::clone(&program), &digest, bound, webhook_secret);
    }
    let state = args
        .state
        .state
        .clone()
        .unwrap_or_else(|| compiled.root.join(runtime::DEFAULT_STATE));
    drop(runtime::open_store(&state, "serve")?);
    let config = HostConfig {
        listen: args.listen,
        state,
        log: match args.log_format {
            LogArg::Text => LogFormat::Text,
            LogArg::Json => LogFormat::Json,
        },
        extra_routes: None,
        grace: Duration::from_secs(30),
        watch_every: Duration::from_millis(500),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(fail)?;
    runtime
        .block_on(host::serve(Arc::new(catalog), config, stop_signal()))
        .map_err(fail)?;
    // Runs past the grace period are abandoned; their journal resumes them next start.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
}

/// ` (used by flow `a`, flow `b`)`: the flows that use these connections.
fn users_of<'a>(
    program: &weft_runtime::ir::Program,
    connections: impl Iterator<Item = &'a str>,
) -> String {
    let connections: Vec<&str> = connections.collect();
    let flows: Vec<String> = program
        .flows
        .iter()
        .filter(|(_, flow)| {
            flow.steps().any(|step| match step {
                weft_runtime::ir::Step::Read { connection, .. }
                | weft_runtime::ir::Step::Call { connection, .. }
                | weft_runtime::ir::Step::Write { connection, .. } => {
                    connections.contains(&connection.as_str())
                }
                _ => false,
            })
        })
        .map(|(name, _)| format!("flow `{name}`"))
        .collect();
    if flows.is_empty() {
        String::new()
    } else {
        format!(" (used by {})", flows.join(", "))
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
