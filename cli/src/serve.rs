//! `weft serve`: the runtime host. It compiles the project for its environment blocks
//! and approval groups, binds each `--env` with its secrets, serves the delivery
//! control API (deploy, promote, approve, rollback, audit, metrics), and runs the flow
//! versions activated in its environments on their triggers (schedules, signed
//! webhooks, `after`, watched folders, manual runs over HTTP) until SIGTERM or Ctrl-C.
//! With `--from-source` it runs the project as compiled now instead, in environments
//! that promotion does not guard.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use weft_runtime::artifact::program_digest;
use weft_runtime::delivery::audit::NewEntry;
use weft_runtime::delivery::sqlite::SqliteDeliveryStore;
use weft_runtime::delivery::{self, Delivery, Differ, Options};
use weft_runtime::host::{
    self, Catalog, DeliveredCatalog, FixedCatalog, HostConfig, Hosting, LogFormat, Logger,
};
use weft_runtime::ir::Program;

use crate::runtime::{self, Compiled, StateArg};

/// Arguments of `weft serve`.
#[derive(clap::Args)]
pub struct Args {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// An environment to run flows in, with an optional dotenv-style secrets file read
    /// before the process environment: `--env prod=prod.env`. Repeat for several;
    /// without any, only the control API is served.
    #[arg(long = "env", value_name = "NAME[=SECRETS_FILE]")]
    envs: Vec<String>,
    /// The address of the HTTP endpoints (control API, health, runs, webhooks); port 0
    /// picks a free one, logged as `host.listening`.
    #[arg(long, default_value = "127.0.0.1:7700")]
    listen: SocketAddr,
    /// Log lines as text or JSON (one object per line), on stderr.
    #[arg(long, value_enum, default_value_t = LogArg::Text)]
    log_format: LogArg,
    #[command(flatten)]
    state: StateArg,
    /// Run the project's flows as compiled now, without deployments; refused for
    /// environments reached by promotion.
    #[arg(long)]
    from_source: bool,
    /// Single-developer mode: with no users yet, create an admin and print its token
    /// once on stderr (also written to .weft/token, mode 0600).
    #[arg(long)]
    dev: bool,
    /// Post rollback alerts as JSON to this URL.
    #[arg(long, value_name = "URL")]
    alert_webhook: Option<String>,
    /// How often the rollback monitor reads new runs, in milliseconds.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    poll_ms: u64,
}

/// `--log-format`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogArg {
    Text,
    Json,
}

/// Serves until stopped; exit 0 after a clean stop, 1 when the project has errors, 2
/// when it cannot start (unknown environment, unbound connection, missing secret, busy
/// address, unusable state file).
pub fn run(args: &Args) -> ExitCode {
    match serve(args) {
        Ok(code) | Err(code) => code,
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "weft serve: {message}");
    ExitCode::from(2)
}

/// The compiler's semantic diff, as the server stores it with promotion requests:
/// the changes that reach the promoted flow.
pub fn differ() -> Differ {
    Arc::new(|old, new, flow| {
        let model = |program: &Program| weft_compiler::diff::Model {
            program: program.clone(),
            environments: None,
        };
        let diff = weft_compiler::diff::diff(&model(old), &model(new)).for_flow(flow);
        serde_json::to_value(diff).unwrap_or(serde_json::Value::Null)
    })
}

fn serve(args: &Args) -> Result<ExitCode, ExitCode> {
    let compiled = runtime::compile(&args.path, "serve")?;
    let hosting = Arc::new(hosting(args, &compiled)?);
    let logger = Logger::new(logger_format(args.log_format));
    let state = args
        .state
        .state
        .clone()
        .unwrap_or_else(|| compiled.root.join(runtime::DEFAULT_STATE));
    let runs = runtime::open_store(&state, "serve")?;
    let delivery = Arc::new(Delivery::new(
        Box::new(SqliteDeliveryStore::open(&state).map_err(fail)?),
        Options {
            groups: BTreeMap::from([(
                compiled.manifest.name.clone(),
                compiled.manifest.groups.clone(),
            )]),
            differ: Some(differ()),
            alert_webhook: args.alert_webhook.clone(),
            clock: None,
            binder: Some({
                let hosting = Arc::clone(&hosting);
                Arc::new(move |program: &Program, flow: &str, environment: &str| {
                    hosting.check(program, flow, environment)
                })
            }),
        },
    ));
    if args.dev {
        bootstrap_admin(&delivery, &compiled.root)?;
    }
    audit_secret_bindings(&delivery, args, &compiled).map_err(fail)?;
    let catalog: Arc<dyn Catalog> = if args.from_source {
        Arc::new(from_source(&compiled, &hosting)?)
    } else {
        Arc::new(DeliveredCatalog::new(
            Arc::clone(&delivery),
            Arc::clone(&hosting),
            logger,
        ))
    };
    let config = HostConfig {
        listen: args.listen,
        state,
        log: logger_format(args.log_format),
        extra_routes: Some(delivery::api::router(Arc::clone(&delivery))),
        admit_manual_run: Some({
            let delivery = Arc::clone(&delivery);
            Arc::new(move |token: Option<&str>, environment: &str, flow: &str| {
                delivery
                    .admit_run(token, environment, flow)
                    .map_err(|e| (e.http_status(), e.to_string()))
            })
        }),
        grace: Duration::from_secs(30),
        watch_every: Duration::from_millis(500),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(fail)?;
    delivery::watch_runs(
        delivery,
        Box::new(runs),
        Duration::from_millis(args.poll_ms.max(1)),
    );
    runtime
        .block_on(host::serve(catalog, config, stop_signal()))
        .map_err(fail)?;
    // Runs past the grace period are abandoned; their journal resumes them next start.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
}

fn logger_format(format: LogArg) -> LogFormat {
    match format {
        LogArg::Text => LogFormat::Text,
        LogArg::Json => LogFormat::Json,
    }
}

/// The environments of `--env`, each with its secrets; an unknown one is refused.
fn hosting(args: &Args, compiled: &Compiled) -> Result<Hosting, ExitCode> {
    let environments = &compiled.lowered.environments;
    let mut hosting = Hosting::new(environments.clone());
    for spec in &args.envs {
        let (name, file) = match spec.split_once('=') {
            Some((name, file)) => (name, Some(PathBuf::from(file))),
            None => (spec.as_str(), None),
        };
        if !environments.contains_key(name) {
            let known: Vec<&str> = environments.keys().map(String::as_str).collect();
            return Err(fail(format!(
                "the project has no environment `{name}` (it has: {})",
                known.join(", ")
            )));
        }
        hosting.serve(name, runtime::secrets(file.as_deref(), "serve")?);
    }
    Ok(hosting)
}

/// The project as compiled now, every flow active in every environment served; refused
/// for an environment past the first of the promotion chain.
fn from_source(compiled: &Compiled, hosting: &Hosting) -> Result<FixedCatalog, ExitCode> {
    let program = Arc::new(compiled.lowered.program.clone());
    let digest = program_digest(&program);
    let flows: Vec<&str> = program.flows.keys().map(String::as_str).collect();
    let mut catalog = FixedCatalog::new();
    for environment in hosting.environments() {
        if let Some(chain) = program.promotion.as_ref().map(|p| &p.chain) {
            if chain.iter().skip(1).any(|e| *e == environment) {
                return Err(fail(format!(
                    "--from-source runs unreviewed source, and `{environment}` is reached only by promotion ({}); deploy an artifact instead",
                    chain.join(" -> ")
                )));
            }
        }
        let bound = hosting
            .bind(&program, &digest, &flows, &environment)
            .map_err(|e| fail(format!("{e}; environment `{environment}` not started")))?;
        catalog.activate(&environment, bound);
    }
    Ok(catalog)
}

/// Appends `secret_binding_changed` to the audit trail for each environment whose secret
/// binding (the secret names its connections use, and where they are read from)
/// differs from the one last recorded. Names and sources only: never a value.
fn audit_secret_bindings(
    delivery: &Delivery,
    args: &Args,
    compiled: &Compiled,
) -> Result<(), delivery::Error> {
    let trail = delivery.audit(None)?;
    let actor = format!(
        "host:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
    );
    for spec in &args.envs {
        let (name, file) = spec.split_once('=').unwrap_or((spec.as_str(), ""));
        let Some(environment) = compiled.lowered.environments.get(name) else {
            continue;
        };
        let mut secrets: Vec<&str> = environment
            .bindings
            .values()
            .flat_map(|b| b.secrets.values().map(String::as_str))
            .chain([host::WEBHOOK_SECRET])
            .collect();
        secrets.sort_unstable();
        secrets.dedup();
        let source = if file.is_empty() {
            "the process environment".to_owned()
        } else {
            format!("{file}, then the process environment")
        };
        let binding = serde_json::json!({ "secrets": secrets, "source": source });
        let last = trail
            .iter()
            .rev()
            .find(|e| e.action == SECRET_BINDING_CHANGED && e.environment.as_deref() == Some(name))
            .map(weft_runtime::delivery::audit::Entry::details_json);
        if last.as_ref() != Some(&binding) {
            delivery.record(
                NewEntry::new(&actor, SECRET_BINDING_CHANGED)
                    .at(None, Some(name))
                    .details(binding),
            )?;
        }
    }
    Ok(())
}

/// The audit action of a changed secret binding.
const SECRET_BINDING_CHANGED: &str = "secret_binding_changed";

/// `--dev`: the first user, an admin, with its token shown once.
fn bootstrap_admin(delivery: &Delivery, root: &Path) -> Result<(), ExitCode> {
    let Some(token) = delivery.bootstrap_admin("admin").map_err(fail)? else {
        return Ok(());
    };
    let dir = root.join(".weft");
    write_token(&dir, &token)
        .map_err(|e| fail(format!("cannot write {}: {e}", dir.join("token").display())))?;
    let _ = writeln!(
        std::io::stderr(),
        "weft serve: created user admin (admin of every environment); its token, shown once:\n{token}\n(also in {})",
        dir.join("token").display()
    );
    Ok(())
}

fn write_token(dir: &Path, token: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(dir.join("token"))?;
    writeln!(file, "{token}")
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
