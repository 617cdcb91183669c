//! The flow engine: runs a flow's steps over records. Production and `weft test` run
//! flows through this one engine; only the [`Connections`] differ (real or mocked).
//!
//! A run reads records (or takes them as input), sends each through the steps after
//! the read, and ends every record in exactly one state: delivered, dropped by a
//! `where`, skipped, dead-lettered, or not reached because the run failed. Transient
//! connector errors are retried with exponential backoff; what happens after the last
//! retry is the flow's `on error ... then` action.

pub mod record;
mod template;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::connector::{Connections, ConnectorError, Filled, Records, Request};
use crate::eval::{eval_at, Clock, Env, EvalError};
use crate::ir::{ErrorPolicy, Expr, FinalAction, Flow, Program, Step};
use crate::value::{json_kind, ConvertError, Value};

use record::{Outcome, RecordStep};

/// Waits between retries. Production sleeps (with jitter); tests advance a virtual clock.
pub trait Pause: Sync {
    /// Waits for `delay` before the next attempt.
    fn pause(&self, delay: Duration);
}

/// The production [`Pause`]: sleeps the delay plus a random jitter of up to a quarter
/// of it, so that many records (or hosts) retrying together spread out. Never shorter
/// than asked, so a `Retry-After` is honoured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sleep;

impl Pause for Sleep {
    fn pause(&self, delay: Duration) {
        std::thread::sleep(with_jitter(delay, fastrand::f64()));
    }
}

/// `delay` stretched by `unit` (in `0..1`) of a quarter of itself.
fn with_jitter(delay: Duration, unit: f64) -> Duration {
    delay + delay.mul_f64(unit.clamp(0.0, 1.0) / 4.0)
}

/// Where a run's records go besides the counts.
pub trait Sink {
    /// A record was delivered by the flow's last `write` (or left its last step).
    fn delivered(&mut self, record: &serde_json::Value);
    /// A record failed for good and the policy keeps it.
    fn dead_letter(&mut self, letter: DeadLetter);
    /// Records were read and are about to go through the steps; `first` is the index
    /// of `records[0]` in the run. A journaling sink stores them before any is sent.
    fn journal(&mut self, first: u64, records: &[serde_json::Value]) {
        let _ = (first, records);
    }
    /// Records `first..first + count` are settled: delivered, dropped, skipped or
    /// dead-lettered.
    fn settled(&mut self, first: u64, count: u64) {
        let _ = (first, count);
    }
}

/// How many records are journaled, processed and settled together.
pub const BATCH: usize = 500;

/// How to run a flow.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Records to process instead of reading them (a test's `run flow with ...`, a
    /// webhook's body, a dead-letter replay).
    pub input: Option<Vec<serde_json::Value>>,
    /// Values of run placeholders such as `{last_run}`.
    pub variables: BTreeMap<String, String>,
    /// What `now()` and `today()` read: the system clock but in tests with `clock`.
    pub clock: Clock,
}

/// A record that failed for good.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The flow.
    pub flow: String,
    /// The record as it was read.
    pub record: serde_json::Value,
    /// Why it failed.
    pub error: StepError,
}

/// Why a record (or the read) failed at a step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepError {
    /// Index of the step in the flow.
    pub step: usize,
    /// What failed.
    pub kind: StepErrorKind,
    /// How many times the step was attempted.
    pub attempts: u32,
}

/// The kinds of step failures.
#[derive(Debug, Clone, PartialEq)]
pub enum StepErrorKind {
    /// A `where` or `map` failed to evaluate.
    Eval(EvalError),
    /// A connection refused the request or did not answer.
    Connector {
        /// `connection.operation`.
        operation: String,
        /// The last error.
        error: ConnectorError,
        /// The key the failed request carried, so a replay can be matched to it.
        idempotency_key: Option<String>,
    },
    /// A record read or answered does not fit its declared type.
    Contract(ConvertError),
}

impl StepError {
    /// The idempotency key of the request that failed, when a request failed.
    pub fn idempotency_key(&self) -> Option<&str> {
        match &self.kind {
            StepErrorKind::Connector {
                idempotency_key, ..
            } => idempotency_key.as_deref(),
            StepErrorKind::Eval(_) | StepErrorKind::Contract(_) => None,
        }
    }

    /// The artifact source-map id of where it failed: the map field for evaluation
    /// errors, the flow step otherwise.
    pub fn source_id(&self, flow: &str) -> String {
        match &self.kind {
            StepErrorKind::Eval(e) => e
                .source_id()
                .unwrap_or_else(|| format!("flow.{flow}.step.{}", self.step)),
            StepErrorKind::Connector { .. } | StepErrorKind::Contract(_) => {
                format!("flow.{flow}.step.{}", self.step)
            }
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StepErrorKind::Eval(e) => write!(f, "{e}"),
            StepErrorKind::Connector {
                operation, error, ..
            } => {
                write!(f, "{operation} failed: {error}")?;
                if self.attempts > 1 {
                    write!(f, " (after {} attempts)", self.attempts)?;
                }
                Ok(())
            }
            StepErrorKind::Contract(e) => write!(f, "record does not fit its type: {e}"),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// Records read (or given as input).
    pub read: u64,
    /// Records dropped by a `where`.
    pub dropped: u64,
    /// Records delivered.
    pub delivered: u64,
    /// Records that failed and were skipped (`then skip`).
    pub skipped: u64,
    /// Records dead-lettered.
    pub dead_lettered: u64,
    /// Attempts beyond the first, over all requests.
    pub retries: u64,
    /// Why the run failed, if it did; records after the failure were not processed.
    pub failure: Option<RunFailure>,
}

/// Why a whole run failed.
#[derive(Debug, Clone, PartialEq)]
pub enum RunFailure {
    /// The flow does not exist in the program.
    UnknownFlow(String),
    /// The read failed, so there was nothing to process.
    Read(StepError),
    /// A record failed and the policy is `then fail`.
    Record(StepError),
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::UnknownFlow(name) => write!(f, "no flow named `{name}`"),
            RunFailure::Read(e) => write!(f, "reading failed: {e}"),
            RunFailure::Record(e) => write!(f, "a record failed and the flow stops: {e}"),
        }
    }
}

/// Runs one flow of `program` to the end.
pub fn run(
    program: &Program,
    flow_name: &str,
    connections: &dyn Connections,
    pause: &dyn Pause,
    options: &RunOptions,
    sink: &mut dyn Sink,
) -> RunSummary {
    let mut summary = RunSummary::default();
    let Some(flow) = program.flows.get(flow_name) else {
        summary.failure = Some(RunFailure::UnknownFlow(flow_name.to_owned()));
        return summary;
    };
    let runner = Runner {
        program,
        flow_name,
        flow,
        connections,
        pause,
        variables: &options.variables,
        clock: options.clock,
    };
    let steps: Vec<&Step> = flow.steps().collect();
    let mut settle = None;
    type Source<'s> = Box<dyn Iterator<Item = Result<serde_json::Value, StepError>> + 's>;
    let (mut source, read_type, first): (Source<'_>, _, _) = match (&options.input, steps.first()) {
        (Some(input), Some(Step::Read { record, .. })) => {
            (Box::new(input.iter().cloned().map(Ok)), Some(record), 1)
        }
        (Some(input), _) => (Box::new(input.iter().cloned().map(Ok)), None, 0),
        (None, Some(step @ Step::Read { record, many, .. })) => {
            match runner.read(step, *many, &mut summary) {
                Ok(Read::Whole(records)) => {
                    (Box::new(records.into_iter().map(Ok)), Some(record), 1)
                }
                Ok(Read::Stream(records)) => {
                    settle = records.settle;
                    let items = records.items.map(|item| {
                        item.map_err(|error| runner.connector_error(0, "read", error, 1, None))
                    });
                    (Box::new(items), Some(record), 1)
                }
                Err(e) => {
                    summary.failure = Some(RunFailure::Read(e));
                    return summary;
                }
            }
        }
        (None, _) => (Box::new(std::iter::empty()), None, 0),
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut offset = 0u64;
    'batches: loop {
        let mut read_error = None;
        while batch.len() < BATCH {
            match source.next() {
                Some(Ok(json)) => batch.push(json),
                Some(Err(e)) => {
                    read_error = Some(e);
                    break;
                }
                None => break,
            }
        }
        if batch.is_empty() && read_error.is_none() {
            break;
        }
        let count = batch.len() as u64;
        sink.journal(offset, &batch);
        for json in batch.drain(..) {
            summary.read += 1;
            let result = match read_type {
                Some(ty) => Value::from_json(&json, ty, program).map_err(|e| StepError {
                    step: 0,
                    kind: StepErrorKind::Contract(e),
                    attempts: 1,
                }),
                None => Ok(Value::Json(json.clone())),
            }
            .and_then(|value| runner.record(&steps, first, value, &mut summary));
            match result {
                Ok(Some(delivered)) => {
                    summary.delivered += 1;
                    sink.delivered(&delivered);
                }
                Ok(None) => summary.dropped += 1,
                Err(error) => match flow.error_policy.then {
                    FinalAction::DeadLetter => {
                        summary.dead_lettered += 1;
                        sink.dead_letter(DeadLetter {
                            flow: flow_name.to_owned(),
                            record: json,
                            error,
                        });
                    }
                    FinalAction::Skip => summary.skipped += 1,
                    FinalAction::Fail => {
                        summary.failure = Some(RunFailure::Record(error));
                        break 'batches;
                    }
                },
            }
        }
        sink.settled(offset, count);
        offset += count;
        if let Some(e) = read_error {
            summary.failure = Some(RunFailure::Read(e));
            break;
        }
    }
    if summary.failure.is_none() {
        if let Some(settle) = settle {
            if let Err(error) = settle() {
                summary.failure = Some(RunFailure::Read(
                    runner.connector_error(0, "read", error, 1, None),
                ));
            }
        }
    }
    summary
}

/// What a `read` produced.
enum Read<'a> {
    /// The whole answer, split into records.
    Whole(Vec<serde_json::Value>),
    /// Records as the source yields them.
    Stream(Records<'a>),
}

/// One run's fixed context.
struct Runner<'r> {
    program: &'r Program,
    flow_name: &'r str,
    flow: &'r Flow,
    connections: &'r dyn Connections,
    pause: &'r dyn Pause,
    variables: &'r BTreeMap<String, String>,
    clock: Clock,
}

impl<'r> Runner<'r> {
    /// Sends the read: a stream of records when the source streams them, else the
    /// answer split into records.
    fn read(
        &self,
        step: &Step,
        many: bool,
        summary: &mut RunSummary,
    ) -> Result<Read<'r>, StepError> {
        if many {
            if let Some(records) = self.read_stream(step, summary)? {
                return Ok(Read::Stream(records));
            }
        }
        let answer = self.send(0, step, None, summary)?;
        match answer {
            serde_json::Value::Array(items) if many => Ok(Read::Whole(items)),
            serde_json::Value::Null if many => Ok(Read::Whole(Vec::new())),
            other if many => Err(StepError {
                step: 0,
                kind: StepErrorKind::Contract(ConvertError {
                    path: "$".into(),
                    message: format!(
                        "expected a JSON array of records (`as [T]`), found {}",
                        json_kind(&other)
                    ),
                }),
                attempts: 1,
            }),
            other => Ok(Read::Whole(vec![other])),
        }
    }

    /// Opens the read as a stream when the source streams, retrying transient errors.
    fn read_stream(
        &self,
        step: &Step,
        summary: &mut RunSummary,
    ) -> Result<Option<Records<'r>>, StepError> {
        let Some((connection, operation, args)) = connection_step(step) else {
            return Ok(None);
        };
        let name = format!("{connection}.{operation}");
        let filled = self
            .resolve_args(args, None)
            .map_err(|e| self.connector_error(0, &name, e, 1, None))?;
        let resolved = filled
            .iter()
            .map(|arg| arg.join(|_, value| template::encode(value)))
            .collect();
        let request = Request {
            connection,
            operation,
            args,
            resolved,
            filled,
            body: None,
            idempotency_key: None,
        };
        let policy = self.flow.error_policy;
        let mut attempt = 1;
        loop {
            match self.connections.read_records(&request) {
                Ok(records) => return Ok(records),
                Err(error) if error.is_transient() && attempt <= policy.retries => {
                    self.pause.pause(backoff(&policy, attempt));
                    summary.retries += 1;
                    attempt += 1;
                }
                Err(error) => return Err(self.connector_error(0, &name, error, attempt, None)),
            }
        }
    }

    /// Sends one record through the steps from `first` on: `Some(delivered JSON)`,
    /// `None` when a `where` dropped it.
    fn record(
        &self,
        steps: &[&Step],
        first: usize,
        mut current: Value,
        summary: &mut RunSummary,
    ) -> Result<Option<serde_json::Value>, StepError> {
        let mut delivered = None;
        for (index, step) in steps.iter().enumerate().skip(first) {
            if let Some(record_step) = RecordStep::of(step) {
                match record_step.apply_at(current, self.program, self.clock) {
                    Ok(Outcome::Keep(next)) => current = next,
                    Ok(Outcome::Dropped) => return Ok(None),
                    Err(e) => {
                        return Err(StepError {
                            step: index,
                            kind: StepErrorKind::Eval(e),
                            attempts: 1,
                        })
                    }
                }
                continue;
            }
            let body = current.to_json();
            let answer = self.send(index, step, Some((&current, &body)), summary)?;
            match step {
                Step::Call { record, .. } => {
                    current =
                        Value::from_json(&answer, record, self.program).map_err(|e| StepError {
                            step: index,
                            kind: StepErrorKind::Contract(e),
                            attempts: 1,
                        })?;
                }
                _ => delivered = Some(body),
            }
        }
        Ok(Some(delivered.unwrap_or_else(|| current.to_json())))
    }

    /// Sends a step's request, retrying transient errors as the error policy says.
    fn send(
        &self,
        index: usize,
        step: &Step,
        record: Option<(&Value, &serde_json::Value)>,
        summary: &mut RunSummary,
    ) -> Result<serde_json::Value, StepError> {
        let Some((connection, operation, args)) = connection_step(step) else {
            return Ok(serde_json::Value::Null);
        };
        let name = format!("{connection}.{operation}");
        let filled = self
            .resolve_args(args, record.map(|(value, _)| value))
            .map_err(|e| self.connector_error(index, &name, e, 1, None))?;
        let resolved = filled
            .iter()
            .map(|arg| arg.join(|_, value| template::encode(value)))
            .collect();
        let body = record.map(|(_, body)| body.clone());
        let idempotency_key = body.as_ref().map(|b| self.idempotency_key(index, b));
        let request = Request {
            connection,
            operation,
            args,
            resolved,
            filled,
            body,
            idempotency_key,
        };
        let policy = self.flow.error_policy;
        let mut attempt = 1;
        loop {
            match self.connections.send(&request) {
                Ok(answer) => return Ok(answer),
                Err(error) if error.is_transient() && attempt <= policy.retries => {
                    let wait =
                        backoff(&policy, attempt).max(error.retry_after().unwrap_or_default());
                    self.pause.pause(wait);
                    summary.retries += 1;
                    attempt += 1;
                }
                Err(error) => {
                    return Err(self.connector_error(
                        index,
                        &name,
                        error,
                        attempt,
                        request.idempotency_key.clone(),
                    ))
                }
            }
        }
    }

    fn connector_error(
        &self,
        step: usize,
        operation: &str,
        error: ConnectorError,
        attempts: u32,
        idempotency_key: Option<String>,
    ) -> StepError {
        StepError {
            step,
            kind: StepErrorKind::Connector {
                operation: operation.to_owned(),
                error,
                idempotency_key,
            },
            attempts,
        }
    }

    /// Evaluates the arguments and takes their `{placeholders}` from the record's
    /// fields and the run variables.
    fn resolve_args(
        &self,
        args: &[Expr],
        record: Option<&Value>,
    ) -> Result<Vec<Filled>, ConnectorError> {
        args.iter()
            .map(|arg| {
                let text = match eval_at(arg, &Env::empty(), self.program, self.clock) {
                    Ok(Value::String(s)) => s,
                    Ok(other) => other.to_json().to_string(),
                    Err(e) => return Err(ConnectorError::Invalid(e.to_string())),
                };
                template::split(&text, record, self.variables).map_err(ConnectorError::Invalid)
            })
            .collect()
    }

    /// The same for every attempt and every replay of this record at this step.
    fn idempotency_key(&self, step: usize, body: &serde_json::Value) -> String {
        let mut hash = Sha256::new();
        hash.update(self.flow_name.as_bytes());
        hash.update([0]);
        hash.update(step.to_le_bytes());
        hash.update(body.to_string().as_bytes());
        hash.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The wait before retry `attempt` (1-based): the policy's backoff, doubled per retry.
pub fn backoff(policy: &ErrorPolicy, attempt: u32) -> Duration {
    let factor = 1u64 << attempt.saturating_sub(1).min(20);
    Duration::from_millis(policy.backoff_millis.saturating_mul(factor))
}

/// The connection, operation and arguments of a `read`, `call` or `write`.
fn connection_step(step: &Step) -> Option<(&str, &str, &[Expr])> {
    match step {
        Step::Read {
            connection,
            operation,
            args,
            ..
        }
        | Step::Call {
            connection,
            operation,
            args,
            ..
        }
        | Step::Write {
            connection,
            operation,
            args,
            ..
        } => Some((connection, operation, args)),
        Step::Where { .. } | Step::Map { .. } => None,
    }
}

#[cfg(test)]
mod tests;
