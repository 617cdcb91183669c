//! Runs flows for the host: one slot per (environment, flow), so two runs of a flow in
//! an environment never overlap. A firing while a run is going is coalesced: at most
//! one run waits, and whoever asked for a coalesced firing gets that waiting run.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::{ActiveFlow, Catalog, Logger};
use crate::engine::{RunOptions, Sleep};
use crate::ir::Trigger as IrTrigger;
use crate::redact::Redactor;
use crate::state::sqlite::SqliteStore;
use crate::state::{self, Filter, RunContext, RunRecord, RunStatus, Store, StoreError, Trigger};

/// What a firing became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    /// A run started.
    Started,
    /// A run of the flow is going; this firing waits behind it.
    Queued,
    /// A run is going and one already waits: this firing is folded into that one.
    Coalesced,
    /// The flow is not active in that environment.
    Unknown,
    /// The host is stopping.
    Stopping,
}

/// Who waits for a run: for its id, for its record.
#[derive(Default)]
pub struct Waiters {
    /// Told the run's id once it is stored.
    pub started: Vec<oneshot::Sender<i64>>,
    /// Told the finished run (or why it could not run).
    pub finished: Vec<oneshot::Sender<Result<RunRecord, String>>>,
}

impl Waiters {
    fn merge(&mut self, more: Waiters) {
        self.started.extend(more.started);
        self.finished.extend(more.finished);
    }
}

/// A run waiting behind the running one.
struct Queued {
    trigger: Trigger,
    waiters: Waiters,
}

#[derive(Default)]
struct Slot {
    running: bool,
    queued: Option<Queued>,
}

/// Slots and coalescing, apart from how a run is executed (so they can be tested).
#[derive(Default)]
pub(super) struct Slots {
    slots: Mutex<HashMap<(String, String), Slot>>,
}

impl Slots {
    /// Takes the slot if free; else queues (or folds) the firing.
    pub(super) fn claim(
        &self,
        key: &(String, String),
        trigger: Trigger,
        waiters: Waiters,
    ) -> (Fired, Option<Waiters>) {
        let Ok(mut slots) = self.slots.lock() else {
            return (Fired::Stopping, Some(waiters));
        };
        let slot = slots.entry(key.clone()).or_default();
        if !slot.running {
            slot.running = true;
            return (Fired::Started, Some(waiters));
        }
        match &mut slot.queued {
            Some(queued) => {
                queued.waiters.merge(waiters);
                (Fired::Coalesced, None)
            }
            None => {
                slot.queued = Some(Queued { trigger, waiters });
                (Fired::Queued, None)
            }
        }
    }

    /// After a run: the queued firing to run next, or frees the slot.
    pub(super) fn next(&self, key: &(String, String)) -> Option<(Trigger, Waiters)> {
        let mut slots = self.slots.lock().ok()?;
        let slot = slots.entry(key.clone()).or_default();
        match slot.queued.take() {
            Some(queued) => Some((queued.trigger, queued.waiters)),
            None => {
                slot.running = false;
                None
            }
        }
    }

    /// Frees a slot without running what waits (the host is stopping).
    pub(super) fn release(&self, key: &(String, String)) -> Option<Waiters> {
        let mut slots = self.slots.lock().ok()?;
        let slot = slots.entry(key.clone()).or_default();
        slot.running = false;
        slot.queued.take().map(|q| q.waiters)
    }

    /// Whether a flow runs now.
    pub(super) fn running(&self, key: &(String, String)) -> bool {
        self.slots
            .lock()
            .map(|s| s.get(key).is_some_and(|slot| slot.running))
            .unwrap_or(false)
    }

    fn any_running(&self) -> bool {
        self.slots
            .lock()
            .map(|s| s.values().any(|slot| slot.running))
            .unwrap_or(false)
    }
}

/// Starts runs on blocking threads. Cheap to clone.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    catalog: Arc<dyn Catalog>,
    state: PathBuf,
    logger: Logger,
    slots: Slots,
    stopping: AtomicBool,
    handle: tokio::runtime::Handle,
}

impl Runner {
    /// A runner over `catalog` storing runs in `state`. Call inside a tokio runtime.
    pub fn new(catalog: Arc<dyn Catalog>, state: PathBuf, logger: Logger) -> Runner {
        Runner {
            inner: Arc::new(Inner {
                catalog,
                state,
                logger,
                slots: Slots::default(),
                stopping: AtomicBool::new(false),
                handle: tokio::runtime::Handle::current(),
            }),
        }
    }

    /// The catalog asked at each firing.
    pub fn catalog(&self) -> &dyn Catalog {
        self.inner.catalog.as_ref()
    }

    /// The logger.
    pub fn logger(&self) -> Logger {
        self.inner.logger
    }

    /// The active version of a flow in an environment.
    pub fn active(&self, environment: &str, flow: &str) -> Option<ActiveFlow> {
        self.catalog()
            .active(environment)
            .into_iter()
            .find(|a| a.flow == flow)
    }

    /// Whether a flow runs now in an environment.
    pub fn running(&self, environment: &str, flow: &str) -> bool {
        self.inner
            .slots
            .running(&(environment.to_owned(), flow.to_owned()))
    }

    /// Opens the state file (each run has its own connection).
    pub fn store(&self) -> Result<SqliteStore, StoreError> {
        SqliteStore::open(&self.inner.state)
    }

    /// Fires a flow: starts a run, or queues or folds the firing behind the running one.
    pub fn fire(&self, environment: &str, flow: &str, trigger: Trigger, waiters: Waiters) -> Fired {
        if self.inner.stopping.load(Ordering::SeqCst) {
            return Fired::Stopping;
        }
        let Some(active) = self.active(environment, flow) else {
            return Fired::Unknown;
        };
        let key = (environment.to_owned(), flow.to_owned());
        let (fired, waiters) = self.inner.slots.claim(&key, trigger, waiters);
        let fields = [
            ("env", environment.to_owned()),
            ("flow", flow.to_owned()),
            ("trigger", trigger.as_str().to_owned()),
        ];
        match fired {
            Fired::Started => {
                self.inner
                    .logger
                    .event(&active.redactor, "run.trigger", &fields);
                let runner = self.clone();
                let waiters = waiters.unwrap_or_default();
                self.inner
                    .handle
                    .spawn_blocking(move || runner.run_slot(key, trigger, waiters));
            }
            Fired::Queued => {
                self.inner
                    .logger
                    .event(&active.redactor, "run.queued", &fields);
            }
            Fired::Coalesced => {
                self.inner
                    .logger
                    .event(&active.redactor, "run.coalesced", &fields);
            }
            Fired::Unknown | Fired::Stopping => {}
        }
        fired
    }

    /// Runs the slot's flow, then whatever was queued behind it, until nothing waits.
    fn run_slot(&self, key: (String, String), mut trigger: Trigger, mut waiters: Waiters) {
        loop {
            let result = self.run_once(&key.0, &key.1, trigger, &mut waiters.started);
            let succeeded = matches!(&result, Ok(r) if r.status == RunStatus::Succeeded);
            for waiter in waiters.finished.drain(..) {
                let _ = waiter.send(result.clone());
            }
            if succeeded {
                self.fire_followers(&key.0, &key.1);
            }
            if self.inner.stopping.load(Ordering::SeqCst) {
                // What waits is not started any more; its callers hear why.
                if let Some(rest) = self.inner.slots.release(&key) {
                    for waiter in rest.finished {
                        let _ = waiter.send(Err("the host is stopping".into()));
                    }
                }
                return;
            }
            match self.inner.slots.next(&key) {
                Some((next, more)) => {
                    trigger = next;
                    waiters = more;
                }
                None => return,
            }
        }
    }

    /// Flows triggered `after` this one in the same environment.
    fn fire_followers(&self, environment: &str, flow: &str) {
        for follower in self.catalog().active(environment) {
            let Some(definition) = follower.program.flows.get(&follower.flow) else {
                continue;
            };
            let after = definition
                .triggers
                .iter()
                .any(|t| matches!(t, IrTrigger::After { flow: f } if f == flow));
            if after {
                self.fire(
                    environment,
                    &follower.flow,
                    Trigger::After,
                    Waiters::default(),
                );
            }
        }
    }

    /// One run of the flow's active version, stored and logged.
    fn run_once(
        &self,
        environment: &str,
        flow: &str,
        trigger: Trigger,
        started: &mut Vec<oneshot::Sender<i64>>,
    ) -> Result<RunRecord, String> {
        let Some(active) = self.active(environment, flow) else {
            return Err(format!(
                "flow `{flow}` is no longer active in `{environment}`"
            ));
        };
        let redactor: &Redactor = &active.redactor;
        let logger = self.inner.logger;
        let result = (|| {
            let mut store = self.store()?;
            let options = RunOptions {
                input: None,
                variables: BTreeMap::from([(
                    "last_run".to_owned(),
                    last_run(&store, flow, environment)?,
                )]),
                ..RunOptions::default()
            };
            let context = RunContext {
                program: &active.program,
                flow,
                environment,
                digest: &active.digest,
                connections: active.connections.as_ref(),
                pause: &Sleep,
                redactor,
            };
            state::run_triggered(&mut store, &context, &options, trigger, &mut |id| {
                logger.event(
                    redactor,
                    "run.start",
                    &[
                        ("env", environment.to_owned()),
                        ("flow", flow.to_owned()),
                        ("run", id.to_string()),
                        ("trigger", trigger.as_str().to_owned()),
                        ("digest", active.digest.clone()),
                    ],
                );
                for waiter in started.drain(..) {
                    let _ = waiter.send(id);
                }
            })
        })();
        match &result {
            Ok(record) => log_finish(&logger, redactor, record),
            Err(e) => logger.event(
                redactor,
                "run.error",
                &[
                    ("env", environment.to_owned()),
                    ("flow", flow.to_owned()),
                    ("error", e.to_string()),
                ],
            ),
        }
        result.map_err(|e| redactor.redact(&e.to_string()))
    }

    /// Fires nothing more from now on.
    pub fn stop(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
    }

    /// Waits until no run is going, for at most `grace`; whether all finished.
    pub async fn drain(&self, grace: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        while self.inner.slots.any_running() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }
}

/// The `run.finish` line.
pub(super) fn log_finish(logger: &Logger, redactor: &Redactor, record: &RunRecord) {
    let c = &record.counts;
    let mut fields = vec![
        ("env", record.environment.clone()),
        ("flow", record.flow.clone()),
        ("run", record.id.to_string()),
        ("status", record.status.as_str().to_owned()),
        ("ms", record.duration_ms.unwrap_or(0).to_string()),
        ("read", c.read.to_string()),
        ("delivered", c.delivered.to_string()),
        ("dropped", c.dropped.to_string()),
        ("skipped", c.skipped.to_string()),
        ("dead_lettered", c.dead_lettered.to_string()),
        ("retries", c.retries.to_string()),
    ];
    if let Some(failure) = &record.failure {
        fields.push(("failure", failure.clone()));
    }
    logger.event(redactor, "run.finish", &fields);
}

/// When the last successful run of the flow started, for `{last_run}`.
fn last_run(store: &dyn Store, flow: &str, environment: &str) -> Result<String, StoreError> {
    let runs = store.runs(&Filter {
        flow: Some(flow.to_owned()),
        environment: Some(environment.to_owned()),
        ..Filter::default()
    })?;
    Ok(runs
        .into_iter()
        .find(|r| r.status == RunStatus::Succeeded)
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), |r| r.started_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firings_while_a_run_goes_are_coalesced_into_one() {
        let slots = Slots::default();
        let key = ("test".to_owned(), "sync".to_owned());
        let (first, _) = slots.claim(&key, Trigger::Schedule, Waiters::default());
        assert_eq!(first, Fired::Started);
        assert!(slots.running(&key));
        let (second, _) = slots.claim(&key, Trigger::Webhook, Waiters::default());
        assert_eq!(second, Fired::Queued);
        let (tx, _rx) = oneshot::channel();
        let waiting = Waiters {
            started: vec![tx],
            finished: Vec::new(),
        };
        let (third, _) = slots.claim(&key, Trigger::Schedule, waiting);
        assert_eq!(third, Fired::Coalesced);
        // Another flow is independent.
        let other = ("test".to_owned(), "other".to_owned());
        assert_eq!(
            slots.claim(&other, Trigger::Manual, Waiters::default()).0,
            Fired::Started
        );
        // The run ends: the one queued firing runs, with the folded firing's waiter.
        let next = slots.next(&key);
        assert!(matches!(&next, Some((Trigger::Webhook, w)) if w.started.len() == 1));
        assert!(slots.running(&key));
        assert!(slots.next(&key).is_none());
        assert!(!slots.running(&key));
        assert_eq!(
            slots.claim(&key, Trigger::Manual, Waiters::default()).0,
            Fired::Started
        );
    }
}
