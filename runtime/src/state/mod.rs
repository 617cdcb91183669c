//! Run state: run records and the dead-letter store, behind [`Store`] so that a shared
//! PostgreSQL can hold them later; [`sqlite::SqliteStore`] is the default backend.
//!
//! A run is stored as `running` before its first request and finished after its last,
//! so an interrupted run shows as `running` with the time it started. Its records are
//! journaled once read and leave the journal in batches as they settle, so a later
//! start finds what a killed process left unsettled, marks the run `interrupted` and
//! resumes those records (at least once: a batch in flight is sent again, with the same
//! idempotency keys). Every text the
//! store receives from [`record`] is redacted first.

pub mod record;
pub mod sqlite;

use std::fmt;

pub use record::{replay, resume, run_recorded, run_triggered, Replay, RunContext};

/// How a run ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not finished: running now, or interrupted.
    Running,
    /// Every record was delivered, dropped, skipped or dead-lettered.
    Succeeded,
    /// The run stopped early (failed read, `then fail`, or a store error).
    Failed,
    /// The process running it died; a later start resumed its unsettled records.
    Interrupted,
}

impl RunStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    fn parse(text: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Interrupted,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// `weft run`.
    Manual,
    /// `weft deadletters replay`.
    Replay,
    /// An `every` or `cron` trigger of `weft serve`.
    Schedule,
    /// A signed webhook call.
    Webhook,
    /// The successful end of the flow named by `after`.
    After,
    /// A new file in a watched folder.
    Watch,
    /// The unsettled records of an interrupted run, resumed.
    Resume,
}

const TRIGGERS: [Trigger; 7] = [
    Trigger::Manual,
    Trigger::Replay,
    Trigger::Schedule,
    Trigger::Webhook,
    Trigger::After,
    Trigger::Watch,
    Trigger::Resume,
];

impl Trigger {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Replay => "replay",
            Trigger::Schedule => "schedule",
            Trigger::Webhook => "webhook",
            Trigger::After => "after",
            Trigger::Watch => "watch",
            Trigger::Resume => "resume",
        }
    }

    fn parse(text: &str) -> Option<Trigger> {
        TRIGGERS.into_iter().find(|t| t.as_str() == text)
    }
}

/// A run about to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// The flow.
    pub flow: String,
    /// The environment.
    pub environment: String,
    /// The digest of the program run (the artifact's content digest).
    pub digest: String,
    /// What started it.
    pub trigger: Trigger,
}

/// Record counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Records read (or given).
    pub read: u64,
    /// Records delivered.
    pub delivered: u64,
    /// Records dropped by a `where`.
    pub dropped: u64,
    /// Records skipped after failing.
    pub skipped: u64,
    /// Records dead-lettered.
    pub dead_lettered: u64,
    /// Attempts beyond the first.
    pub retries: u64,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunRecord {
    /// Its id, increasing.
    pub id: i64,
    /// The flow.
    pub flow: String,
    /// The environment.
    pub environment: String,
    /// The program's digest.
    pub digest: String,
    /// What started it.
    pub trigger: Trigger,
    /// Running, succeeded or failed.
    pub status: RunStatus,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// How long it took, once finished.
    pub duration_ms: Option<u64>,
    /// Record counts (zero while running).
    pub counts: Counts,
    /// Why it failed (redacted).
    pub failure: Option<String>,
}

/// A record that failed for good, as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredDeadLetter {
    /// Its id.
    pub id: i64,
    /// The run that dead-lettered it (last).
    pub run: i64,
    /// The flow.
    pub flow: String,
    /// The environment.
    pub environment: String,
    /// The record as it was read (redacted).
    pub record: serde_json::Value,
    /// Why it failed (redacted).
    pub error: String,
    /// The index of the step that failed.
    pub step: u64,
    /// Attempts at that step.
    pub attempts: u32,
    /// When it was first stored (RFC 3339, UTC).
    pub created_at: String,
    /// When it last failed.
    pub failed_at: String,
    /// The idempotency key of the failed request, if a request failed.
    pub idempotency_key: Option<String>,
}

/// A dead letter to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeadLetter {
    /// The run that dead-lettered it.
    pub run: i64,
    /// The flow.
    pub flow: String,
    /// The environment.
    pub environment: String,
    /// The record as read.
    pub record: serde_json::Value,
    /// Why it failed.
    pub error: String,
    /// The step that failed.
    pub step: u64,
    /// Attempts at that step.
    pub attempts: u32,
    /// The failed request's idempotency key.
    pub idempotency_key: Option<String>,
}

/// Which runs or dead letters to list; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this one (dead letters).
    pub id: Option<i64>,
    /// Only this flow.
    pub flow: Option<String>,
    /// Only this environment.
    pub environment: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
}

/// Whether the process `pid` is alive. Where that cannot be told (no `/proc`), a run
/// of another process counts as alive, so a live run is never resumed twice.
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = std::path::Path::new("/proc");
    if !proc.join("self").exists() {
        return true;
    }
    proc.join(pid.to_string()).exists()
}

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run state: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Where run records and dead letters are kept.
pub trait Store {
    /// Stores a run as `running`, now; returns its id.
    fn start_run(&mut self, run: &NewRun) -> Result<i64, StoreError>;
    /// Marks a run finished with its counts and failure.
    fn finish_run(
        &mut self,
        id: i64,
        duration_ms: u64,
        counts: &Counts,
        failure: Option<&str>,
    ) -> Result<(), StoreError>;
    /// One run.
    fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError>;
    /// Runs, newest first.
    fn runs(&self, filter: &Filter) -> Result<Vec<RunRecord>, StoreError>;
    /// Stores a dead letter; returns its id.
    fn add_dead_letter(&mut self, letter: &NewDeadLetter) -> Result<i64, StoreError>;
    /// Dead letters, newest first.
    fn dead_letters(&self, filter: &Filter) -> Result<Vec<StoredDeadLetter>, StoreError>;
    /// Removes a delivered dead letter.
    fn remove_dead_letter(&mut self, id: i64) -> Result<(), StoreError>;
    /// Journals records read by a running run, before any is sent: `records[i]` is
    /// record `first + i` of the run, as JSON text (redacted). One transaction.
    fn journal(&mut self, run: i64, first: u64, records: &[String]) -> Result<(), StoreError>;
    /// Marks records `first..first + count` of a run settled (they leave the journal).
    fn settle(&mut self, run: i64, first: u64, count: u64) -> Result<(), StoreError>;
    /// The unsettled records of a run, in read order.
    fn pending(&self, run: i64) -> Result<Vec<serde_json::Value>, StoreError>;
    /// Drops what is left of a run's journal.
    fn clear_pending(&mut self, run: i64) -> Result<(), StoreError>;
    /// Marks `running` runs of this environment (and flow, if given) whose process is
    /// gone as `interrupted` and returns them, oldest first.
    fn take_interrupted(
        &mut self,
        environment: &str,
        flow: Option<&str>,
    ) -> Result<Vec<RunRecord>, StoreError>;
    /// Records that a replayed dead letter failed again.
    fn refail_dead_letter(
        &mut self,
        id: i64,
        run: i64,
        error: &str,
        attempts: u32,
    ) -> Result<(), StoreError>;
}
