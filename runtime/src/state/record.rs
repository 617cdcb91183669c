//! Runs with their state kept: the run stored as `running` first, every dead letter
//! stored the moment it happens, the run finished with its counts; and replays of
//! stored dead letters. Everything stored is redacted.

use std::time::Instant;

use super::{
    Counts, NewDeadLetter, NewRun, RunRecord, Store, StoreError, StoredDeadLetter, Trigger,
};
use crate::connector::Connections;
use crate::engine::{self, DeadLetter, Pause, RunOptions, RunSummary, Sink};
use crate::ir::Program;
use crate::redact::Redactor;

/// What a recorded run runs with.
pub struct RunContext<'a> {
    /// The program.
    pub program: &'a Program,
    /// The flow.
    pub flow: &'a str,
    /// The environment's name.
    pub environment: &'a str,
    /// The program's digest, stored with the run.
    pub digest: &'a str,
    /// The environment's bound connections.
    pub connections: &'a dyn Connections,
    /// How to wait between retries.
    pub pause: &'a dyn Pause,
    /// The environment's secrets, to keep out of the store.
    pub redactor: &'a Redactor,
}

/// Runs the flow once (started by hand) and stores the run and its dead letters. A
/// store error after the run started still finishes the run record (as failed) when
/// it can.
pub fn run_recorded(
    store: &mut dyn Store,
    context: &RunContext<'_>,
    options: &RunOptions,
) -> Result<RunRecord, StoreError> {
    run_triggered(store, context, options, Trigger::Manual, &mut |_| {})
}

/// Runs the flow once as `trigger` says, journaling its records, and stores the run
/// and its dead letters; `started` gets the run's id once it is stored.
pub fn run_triggered(
    store: &mut dyn Store,
    context: &RunContext<'_>,
    options: &RunOptions,
    trigger: Trigger,
    started_with: &mut dyn FnMut(i64),
) -> Result<RunRecord, StoreError> {
    let id = store.start_run(&new_run(context, trigger))?;
    started_with(id);
    let started = Instant::now();
    let mut sink = StoringSink {
        store: &mut *store,
        context,
        run: id,
        error: None,
        text: Vec::new(),
    };
    let summary = engine::run(
        context.program,
        context.flow,
        context.connections,
        context.pause,
        options,
        &mut sink,
    );
    let store_error = sink.error.take();
    let failure = summary
        .failure
        .as_ref()
        .map(|f| context.redactor.redact(&f.to_string()))
        .or_else(|| store_error.as_ref().map(ToString::to_string));
    store.finish_run(id, millis(started), &counts(&summary), failure.as_deref())?;
    if let Some(error) = store_error {
        return Err(error);
    }
    stored(store, id)
}

/// Resumes an interrupted run: its unsettled records go through the flow again (with
/// the same idempotency keys) under a new run, then its journal is dropped. `None`
/// when it left nothing unsettled.
pub fn resume(
    store: &mut dyn Store,
    context: &RunContext<'_>,
    interrupted: &RunRecord,
) -> Result<Option<RunRecord>, StoreError> {
    let records = store.pending(interrupted.id)?;
    if records.is_empty() {
        store.clear_pending(interrupted.id)?;
        return Ok(None);
    }
    let options = RunOptions {
        input: Some(records),
        ..RunOptions::default()
    };
    let run = run_triggered(store, context, &options, Trigger::Resume, &mut |_| {})?;
    store.clear_pending(interrupted.id)?;
    Ok(Some(run))
}

/// What a replay did.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// The replay's run record.
    pub run: RunRecord,
    /// Dead letters delivered (or dropped by a `where`), now removed from the store.
    pub delivered: Vec<i64>,
    /// Dead letters that failed again and stay, with their new error.
    pub failed: Vec<i64>,
}

/// Sends each dead letter through the flow again, one record per engine run so that
/// each outcome belongs to its letter, all under one run record.
pub fn replay(
    store: &mut dyn Store,
    context: &RunContext<'_>,
    letters: &[StoredDeadLetter],
) -> Result<Replay, StoreError> {
    let id = store.start_run(&new_run(context, Trigger::Replay))?;
    let started = Instant::now();
    let mut total = Counts::default();
    let mut delivered = Vec::new();
    let mut failed = Vec::new();
    let mut run_failure = None;
    for letter in letters {
        let mut sink = Collected::default();
        let options = RunOptions {
            input: Some(vec![letter.record.clone()]),
            ..RunOptions::default()
        };
        let summary = engine::run(
            context.program,
            context.flow,
            context.connections,
            context.pause,
            &options,
            &mut sink,
        );
        add(&mut total, &counts(&summary));
        let again = sink
            .dead
            .first()
            .map(|d| (d.error.to_string(), d.error.attempts))
            .or_else(|| summary.failure.as_ref().map(|f| (f.to_string(), 1)));
        match again {
            Some((error, attempts)) => {
                let error = context.redactor.redact(&error);
                store.refail_dead_letter(letter.id, id, &error, attempts)?;
                if summary.failure.is_some() && run_failure.is_none() {
                    run_failure = Some(error);
                }
                failed.push(letter.id);
            }
            None if summary.skipped > 0 => {
                // `then skip`: the flow gives this record up; it stays for a person to see.
                store.refail_dead_letter(letter.id, id, "skipped by the flow's error policy", 1)?;
                failed.push(letter.id);
            }
            None => {
                store.remove_dead_letter(letter.id)?;
                delivered.push(letter.id);
            }
        }
    }
    store.finish_run(id, millis(started), &total, run_failure.as_deref())?;
    Ok(Replay {
        run: stored(store, id)?,
        delivered,
        failed,
    })
}

/// Stores dead letters as the engine hands them over.
struct StoringSink<'s, 'c> {
    store: &'s mut dyn Store,
    context: &'c RunContext<'c>,
    run: i64,
    error: Option<StoreError>,
    /// The journal batch as text, reused between batches.
    text: Vec<String>,
}

impl Sink for StoringSink<'_, '_> {
    fn delivered(&mut self, _: &serde_json::Value) {}

    fn journal(&mut self, first: u64, records: &[serde_json::Value]) {
        if self.error.is_some() {
            return;
        }
        let redactor = self.context.redactor;
        self.text.clear();
        self.text
            .extend(records.iter().map(|r| redactor.redact(&r.to_string())));
        if let Err(e) = self.store.journal(self.run, first, &self.text) {
            self.error = Some(e);
        }
    }

    fn settled(&mut self, first: u64, count: u64) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.store.settle(self.run, first, count) {
            self.error = Some(e);
        }
    }

    fn dead_letter(&mut self, letter: DeadLetter) {
        if self.error.is_some() {
            return;
        }
        let redactor = self.context.redactor;
        let stored = NewDeadLetter {
            run: self.run,
            flow: letter.flow,
            environment: self.context.environment.to_owned(),
            record: redactor.redact_json(&letter.record),
            error: redactor.redact(&letter.error.to_string()),
            step: letter.error.step as u64,
            attempts: letter.error.attempts,
            idempotency_key: letter.error.idempotency_key().map(str::to_owned),
        };
        if let Err(e) = self.store.add_dead_letter(&stored) {
            self.error = Some(e);
        }
    }
}

#[derive(Default)]
struct Collected {
    dead: Vec<DeadLetter>,
}

impl Sink for Collected {
    fn delivered(&mut self, _: &serde_json::Value) {}
    fn dead_letter(&mut self, letter: DeadLetter) {
        self.dead.push(letter);
    }
}

fn new_run(context: &RunContext<'_>, trigger: Trigger) -> NewRun {
    NewRun {
        flow: context.flow.to_owned(),
        environment: context.environment.to_owned(),
        digest: context.digest.to_owned(),
        trigger,
    }
}

fn stored(store: &dyn Store, id: i64) -> Result<RunRecord, StoreError> {
    store
        .run(id)?
        .ok_or_else(|| StoreError(format!("run {id} vanished from the store")))
}

fn millis(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn counts(summary: &RunSummary) -> Counts {
    Counts {
        read: summary.read,
        delivered: summary.delivered,
        dropped: summary.dropped,
        skipped: summary.skipped,
        dead_lettered: summary.dead_lettered,
        retries: summary.retries,
    }
}

fn add(total: &mut Counts, more: &Counts) {
    total.read += more.read;
    total.delivered += more.delivered;
    total.dropped += more.dropped;
    total.skipped += more.skipped;
    total.dead_lettered += more.dead_lettered;
    total.retries += more.retries;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::connector::{ConnectorError, Request};
    use crate::state::sqlite::SqliteStore;
    use crate::state::{Filter, RunStatus};

    /// Answers the read with two records holding the secret; the write fails (echoing
    /// the secret) until `healthy` is set.
    struct Target {
        healthy: AtomicBool,
    }

    impl Connections for Target {
        fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
            if request.operation == "read" {
                return Ok(serde_json::json!([{"id": 1, "zip": "hunter2"}, {"id": 2, "zip": "x"}]));
            }
            if self.healthy.load(Ordering::SeqCst) {
                Ok(serde_json::Value::Null)
            } else {
                Err(ConnectorError::Status {
                    code: 500,
                    detail: "bad token hunter2".into(),
                    retry_after: None,
                })
            }
        }
    }

    struct NoWait;
    impl Pause for NoWait {
        fn pause(&self, _: std::time::Duration) {}
    }

    fn program() -> Program {
        let s = |text: &str| serde_json::json!({"op": "str", "parts": [{"part": "text", "text": text}]});
        serde_json::from_value(serde_json::json!({
            "schemas": {"Rec": {"fields": [
                {"name": "id", "type": {"kind": "int"}},
                {"name": "zip", "type": {"kind": "string"}}]}},
            "connections": {"src": {"kind": "file"}, "dst": {"kind": "file"}},
            "maps": {},
            "flows": {"copy": {
                "triggers": [{"kind": "manual"}],
                "graph": {"nodes": [
                    {"kind": "read", "connection": "src", "operation": "read",
                     "args": [s("in.ndjson")], "record": {"kind": "schema", "name": "Rec"}, "many": true},
                    {"kind": "write", "connection": "dst", "operation": "write",
                     "args": [s("out.ndjson")], "record": {"kind": "schema", "name": "Rec"}}
                ], "node_holes": [], "edge_property": "directed", "edges": [[0, 1, null]]},
                "error_policy": {"retries": 1, "backoff_millis": 1, "then": "dead_letter"}
            }},
            "rollbacks": []
        }))
        .unwrap_or_else(|e| panic!("test program: {e}"))
    }

    #[test]
    fn dead_letters_are_stored_redacted_and_replay_delivers_them() -> Result<(), StoreError> {
        let program = program();
        let target = Target {
            healthy: AtomicBool::new(false),
        };
        let redactor = Redactor::new(["hunter2"]);
        let context = RunContext {
            program: &program,
            flow: "copy",
            environment: "dev",
            digest: "d",
            connections: &target,
            pause: &NoWait,
            redactor: &redactor,
        };
        let mut store = SqliteStore::in_memory()?;
        let run = run_recorded(&mut store, &context, &RunOptions::default())?;
        assert_eq!(run.status, RunStatus::Succeeded);
        assert_eq!(
            (
                run.counts.read,
                run.counts.dead_lettered,
                run.counts.retries
            ),
            (2, 2, 2)
        );
        let letters = store.dead_letters(&Filter::default())?;
        assert_eq!(letters.len(), 2);
        let shown = format!("{letters:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            letters[1].error,
            "dst.write failed: status 500: bad token *** (after 2 attempts)"
        );
        assert!(letters[1].idempotency_key.is_some());

        // Still failing: both stay, with the replay's run.
        let again = replay(&mut store, &context, &letters)?;
        assert_eq!((again.delivered.len(), again.failed.len()), (0, 2));
        assert!(store
            .dead_letters(&Filter::default())?
            .iter()
            .all(|l| l.run == again.run.id));

        target.healthy.store(true, Ordering::SeqCst);
        let letters = store.dead_letters(&Filter::default())?;
        let done = replay(&mut store, &context, &letters)?;
        assert_eq!((done.delivered.len(), done.run.counts.delivered), (2, 2));
        assert!(store.dead_letters(&Filter::default())?.is_empty());
        Ok(())
    }
}
