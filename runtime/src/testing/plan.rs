//! A test block as the runner takes it: statements with their data already loaded,
//! each with a [`Site`] the caller maps back to the source for reporting.

use chrono::{DateTime, Utc};
use std::path::PathBuf;

use crate::ir::Expr;

/// Where a test or statement is written: an index into the caller's table of source
/// locations (the runtime knows nothing of files and spans).
pub type Site = u32;

/// One `test` block.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// Its name.
    pub name: String,
    /// Where the name is written.
    pub site: Site,
    /// Its statements in order.
    pub statements: Vec<Statement>,
}

/// One statement of a test.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Where it is written.
    pub site: Site,
    /// What it does.
    pub kind: StatementKind,
}

/// A connection operation as a test names it: `crm.patch("/accounts/{Id}")`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The connection.
    pub connection: String,
    /// The operation.
    pub operation: String,
    /// The arguments as written, matched against the flow step's arguments.
    pub args: Vec<Expr>,
}

/// What a mocked operation answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `returns <data>`.
    Returns(serde_json::Value),
    /// `fails with status N`.
    Status(u16),
    /// `times out`.
    Timeout,
}

/// The instant a test's `clock` statement pins: an RFC 3339 timestamp
/// (`2025-06-01T09:30:00Z`), or a date (`2025-06-01`) for its midnight UTC.
pub fn parse_clock(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The kinds of statements.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `mock op returns ... [times N]`: answers the next `times` calls (all of them when
    /// absent), then the next mock of the same operation takes over.
    Mock {
        /// The operation.
        operation: Operation,
        /// Its answer.
        reply: Reply,
        /// How many calls it answers.
        times: Option<u32>,
    },
    /// `run flow [with records]`.
    Run {
        /// The flow.
        flow: String,
        /// Records given instead of the read.
        input: Option<Vec<serde_json::Value>>,
    },
    /// `expect op called N times [with body]`.
    ExpectCalled {
        /// The operation.
        operation: Operation,
        /// Exact number of calls in the last run.
        times: u64,
        /// What every call's body must contain.
        body: Option<serde_json::Value>,
    },
    /// `expect output records`: what the last run delivered, exactly.
    ExpectOutput(serde_json::Value),
    /// `expect dead_letters N`.
    ExpectDeadLetters(u64),
    /// `expect failure ["text"]`: the last run failed (with this text in its message).
    ExpectFailure(Option<String>),
    /// `snapshot map [with input]`.
    Snapshot {
        /// The map.
        map: String,
        /// The input: one record or a list; `None` for generated sample records.
        input: Option<serde_json::Value>,
        /// The snapshot file.
        file: PathBuf,
        /// The file as messages show it, relative to the project.
        name: String,
    },
    /// `property map [runs N]`.
    Property {
        /// The map.
        map: String,
        /// Generated inputs to try.
        runs: u32,
    },
    /// `clock "2025-06-01T09:30:00Z"`: `now()` and `today()` read this instant in the
    /// statements after it.
    Clock(DateTime<Utc>),
}
