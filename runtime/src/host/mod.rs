//! The long-running host behind `weft serve`: fires flows on their triggers (schedules,
//! signed webhooks, `after` another flow, new files in watched folders), runs them on
//! blocking threads through the one engine, never two runs of a flow in an environment
//! at once, and answers `GET /health` and `POST /v1/runs`.
//!
//! The host holds no fixed program: at each firing it asks its [`Catalog`] which
//! version of each flow is active, so a deployment that activates a new version (or
//! deactivates one) takes effect on the next run. [`DeliveredCatalog`] holds the
//! versions deploy, promote and rollback activate; [`FixedCatalog`] a project compiled
//! once at start. [`Hosting`] binds either to the environments served.

mod delivered;
mod hosting;
mod log;
mod resume;
mod router;
mod runner;
mod scheduler;
mod webhook;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::connectors::Bound;
use crate::ir::Program;
use crate::redact::Redactor;

pub use delivered::DeliveredCatalog;
pub use hosting::Hosting;
pub use log::{LogFormat, Logger};
pub use runner::Fired;
pub use webhook::{sign, verify, SIGNATURE_HEADER};

/// The secret that keys an environment's webhook signatures.
pub const WEBHOOK_SECRET: &str = "WEFT_WEBHOOK_SECRET";

/// One flow as it runs now in one environment: the program version that holds it,
/// bound to the environment's connections. Cheap to clone.
#[derive(Clone)]
pub struct ActiveFlow {
    /// The flow's name.
    pub flow: String,
    /// The program holding it.
    pub program: Arc<Program>,
    /// The program's content digest, stored with each run.
    pub digest: String,
    /// The environment's bound connections.
    pub connections: Arc<Bound<'static>>,
    /// Masks the environment's secrets (connections and webhook key) in logs and state.
    pub redactor: Arc<Redactor>,
    /// The key of the environment's webhook signatures, if it has one.
    pub webhook_secret: Option<Arc<String>>,
}

impl fmt::Debug for ActiveFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActiveFlow")
            .field("flow", &self.flow)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// Which flow versions are active where. The host asks at every firing.
pub trait Catalog: Send + Sync {
    /// The environments this host serves.
    fn environments(&self) -> Vec<String>;
    /// The flows active in `environment` now.
    fn active(&self, environment: &str) -> Vec<ActiveFlow>;
}

/// A project compiled at start, every flow active in every environment it was bound in.
#[derive(Debug, Default)]
pub struct FixedCatalog {
    environments: BTreeMap<String, Vec<ActiveFlow>>,
}

impl FixedCatalog {
    /// An empty catalog.
    pub fn new() -> FixedCatalog {
        FixedCatalog::default()
    }

    /// Makes `flows` (bound by [`Hosting::bind`]) the active ones in `environment`.
    pub fn activate(&mut self, environment: &str, flows: Vec<ActiveFlow>) {
        self.environments.insert(environment.to_owned(), flows);
    }
}

impl Catalog for FixedCatalog {
    fn environments(&self) -> Vec<String> {
        self.environments.keys().cloned().collect()
    }

    fn active(&self, environment: &str) -> Vec<ActiveFlow> {
        self.environments
            .get(environment)
            .cloned()
            .unwrap_or_default()
    }
}

/// Admits or refuses a manual run: the caller's bearer token (if any), the environment
/// and the flow; the refusal's HTTP status and message. Called on a blocking thread.
pub type AdmitRun =
    Arc<dyn Fn(Option<&str>, &str, &str) -> Result<(), (u16, String)> + Send + Sync>;

/// How the host runs.
pub struct HostConfig {
    /// Where it listens.
    pub listen: SocketAddr,
    /// The run-state database.
    pub state: PathBuf,
    /// How log lines look.
    pub log: LogFormat,
    /// Extra routes served on the same listener (a control API).
    pub extra_routes: Option<axum::Router>,
    /// Who may start a manual run (`POST /v1/runs`); anyone when `None`.
    pub admit_manual_run: Option<AdmitRun>,
    /// How long running runs may take to finish after a stop is asked.
    pub grace: Duration,
    /// How often watched folders are looked at.
    pub watch_every: Duration,
}

impl fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostConfig")
            .field("listen", &self.listen)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Why the host could not start or stopped badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostError(pub String);

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HostError {}

/// Runs the host until `stop` completes: resumes interrupted runs, then fires flows
/// and serves HTTP. After `stop` it fires nothing more, lets running runs finish
/// (for at most `config.grace`) and returns. Call it inside a multi-thread tokio
/// runtime.
pub async fn serve(
    catalog: Arc<dyn Catalog>,
    config: HostConfig,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), HostError> {
    let logger = Logger::new(config.log);
    let runner = runner::Runner::new(Arc::clone(&catalog), config.state.clone(), logger);
    resume::resume_all(&runner)
        .await
        .map_err(|e| HostError(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| HostError(format!("cannot listen on {}: {e}", config.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| HostError(e.to_string()))?;
    logger.event(
        &Redactor::default(),
        "host.listening",
        &[("address", address.to_string())],
    );
    let scheduler = scheduler::Scheduler::new(runner.clone(), config.watch_every);
    let schedule_task = tokio::spawn(scheduler.clone().run());
    let app = router::router(
        runner.clone(),
        scheduler,
        config.admit_manual_run,
        config.extra_routes,
    );
    let (stopped_tx, stopped_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopped_tx.send(true);
    });
    let mut stopped_for_server = stopped_rx.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stopped_for_server.wait_for(|s| *s).await;
    });
    let server_task = tokio::spawn(async move { server.await });
    let mut stopped = stopped_rx;
    let _ = stopped.wait_for(|s| *s).await;
    logger.event(&Redactor::default(), "host.stopping", &[]);
    runner.stop();
    schedule_task.abort();
    let drained = runner.drain(config.grace).await;
    // Open keep-alive connections would hold the graceful shutdown: bounded too.
    let _ = tokio::time::timeout(Duration::from_secs(2), server_task).await;
    logger.event(
        &Redactor::default(),
        "host.stopped",
        &[("runs_unfinished", (!drained).to_string())],
    );
    Ok(())
}
