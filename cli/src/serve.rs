//! `weft serve --control-only`: the delivery control API on its own, until it is
//! merged into the full `weft serve` host (triggers, webhooks, scheduler). Kept small
//! on purpose: the host adds `delivery::api::router` to its own listener.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use weft_compiler::source::SourceDb;
use weft_runtime::delivery::identity::Groups;
use weft_runtime::delivery::sqlite::SqliteDeliveryStore;
use weft_runtime::delivery::{self, Delivery, Differ, Options};
use weft_runtime::state::sqlite::SqliteStore;

/// Arguments of `weft serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Projects whose weft.toml [groups] the approval gates use (default: this one).
    projects: Vec<PathBuf>,
    /// Serve only the delivery control API (required until the full host lands).
    #[arg(long)]
    control_only: bool,
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:7700")]
    listen: String,
    /// The state file (delivery state, audit trail and run records; SQLite).
    #[arg(long, default_value = ".weft/state.db")]
    state: PathBuf,
    /// Single-developer mode: with no users yet, create an admin and print its token
    /// once on stderr (also written to .weft/token, mode 0600).
    #[arg(long)]
    dev: bool,
    /// Post rollback alerts as JSON to this URL.
    #[arg(long, value_name = "URL")]
    alert_webhook: Option<String>,
    /// How often the rollback monitor reads new runs from the state file, in ms.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    poll_ms: u64,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "weft serve: {message}");
    ExitCode::from(2)
}

/// The compiler's semantic diff, as the server stores it with promotion requests:
/// the changes that reach the promoted flow.
pub fn differ() -> Differ {
    Arc::new(|old, new, flow| {
        let model = |program: &weft_runtime::ir::Program| weft_compiler::diff::Model {
            program: program.clone(),
            environments: None,
        };
        let diff = weft_compiler::diff::diff(&model(old), &model(new)).for_flow(flow);
        serde_json::to_value(diff).unwrap_or(serde_json::Value::Null)
    })
}

/// Serves until killed.
pub fn run(args: &Args) -> ExitCode {
    if !args.control_only {
        return fail("only --control-only is available in this build (the delivery control API)");
    }
    let projects = if args.projects.is_empty() { vec![PathBuf::from(".")] } else { args.projects.clone() };
    let mut groups = Groups::new();
    let mut root = None;
    for path in &projects {
        let mut db = SourceDb::new();
        match weft_compiler::project::load(path, &mut db) {
            Ok(project) => {
                root.get_or_insert(project.root.clone());
                groups.insert(project.manifest.name.clone(), project.manifest.groups.clone());
            }
            Err(_) => return fail(format!("{}: no weft.toml found", path.display())),
        }
    }
    let state = if args.state.is_absolute() {
        args.state.clone()
    } else {
        root.clone().unwrap_or_default().join(&args.state)
    };
    let store = match SqliteDeliveryStore::open(&state) {
        Ok(store) => store,
        Err(e) => return fail(e),
    };
    let runs = match SqliteStore::open(&state) {
        Ok(runs) => runs,
        Err(e) => return fail(e),
    };
    let delivery = Arc::new(Delivery::new(
        Box::new(store),
        Options {
            groups,
            differ: Some(differ()),
            alert_webhook: args.alert_webhook.clone(),
            clock: None,
        },
    ));
    if args.dev {
        match delivery.bootstrap_admin("admin") {
            Ok(Some(token)) => {
                let dir = root.clone().unwrap_or_default().join(".weft");
                if let Err(e) = write_token(&dir, &token) {
                    return fail(format!("cannot write {}: {e}", dir.join("token").display()));
                }
                let _ = writeln!(
                    std::io::stderr(),
                    "weft serve: created user admin (admin of every environment); its token, shown once:\n{token}\n(also in {})",
                    dir.join("token").display()
                );
            }
            Ok(None) => {}
            Err(e) => return fail(e),
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(e),
    };
    let listener = match runtime.block_on(tokio::net::TcpListener::bind(&args.listen)) {
        Ok(listener) => listener,
        Err(e) => return fail(format!("cannot listen on {}: {e}", args.listen)),
    };
    let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let _ = writeln!(std::io::stderr(), "weft serve: control API on http://{address} (state {})", state.display());
    delivery::watch_runs(Arc::clone(&delivery), Box::new(runs), Duration::from_millis(args.poll_ms.max(1)));
    match runtime.block_on(delivery::serve(listener, delivery)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
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
