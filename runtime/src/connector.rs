//! What the engine asks of a connection: send one request, get a JSON answer. Real
//! connectors (HTTP, files, PostgreSQL) and the test runner's mocks implement
//! [`Connections`], so a flow runs through the same engine in production and in tests.

use std::fmt;
use std::time::Duration;

use crate::ir::Expr;

/// One operation on a connection, as a flow step asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request<'a> {
    /// The connection's name in the program.
    pub connection: &'a str,
    /// The operation, such as `get`, `patch` or `insert`.
    pub operation: &'a str,
    /// The step's arguments as declared (paths with `{placeholders}`), which mocks match on.
    pub args: &'a [Expr],
    /// The arguments with placeholders filled in (percent-encoded) from the record and
    /// the run.
    pub resolved: Vec<String>,
    /// The same arguments with the placeholder values kept apart from the text, for
    /// connectors that pass values as parameters (SQL) instead of splicing them in.
    pub filled: Vec<Filled>,
    /// The record sent, for `call` and `write`.
    pub body: Option<serde_json::Value>,
    /// A key that stays the same when the same record is sent again, so a target can
    /// ignore a duplicate delivery.
    pub idempotency_key: Option<String>,
}

/// An argument taken apart at its placeholders: `literals[0] values[0] literals[1] ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// The text around the placeholders: one more than `values`.
    pub literals: Vec<String>,
    /// Each placeholder's value, as text.
    pub values: Vec<String>,
}

impl Filled {
    /// The text with each value written by `write_value` (which may encode it, or
    /// put a parameter marker such as `$1` in its place: it gets the 0-based index).
    pub fn join(&self, mut write_value: impl FnMut(usize, &str) -> String) -> String {
        let mut out = String::new();
        for (i, literal) in self.literals.iter().enumerate() {
            out.push_str(literal);
            if let Some(value) = self.values.get(i) {
                out.push_str(&write_value(i, value));
            }
        }
        out
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorError {
    /// The endpoint answered with an error status.
    Status {
        /// The HTTP (or HTTP-like) status.
        code: u16,
        /// The start of the answer's body, for the error message (never credentials).
        detail: String,
        /// How long the endpoint asked to be left alone (`Retry-After` on 429 or 503);
        /// the engine waits at least this long before retrying.
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    Timeout,
    /// The endpoint could not be reached or the answer could not be read.
    Transport(String),
    /// The request itself is wrong (unknown connection or operation, bad arguments);
    /// sending it again cannot help.
    Invalid(String),
}

impl ConnectorError {
    /// Whether sending the same request again may succeed: timeouts, transport errors,
    /// 408, 425, 429 and 5xx statuses.
    pub fn is_transient(&self) -> bool {
        match self {
            ConnectorError::Status { code, .. } => {
                matches!(code, 408 | 425 | 429) || (500..=599).contains(code)
            }
            ConnectorError::Timeout | ConnectorError::Transport(_) => true,
            ConnectorError::Invalid(_) => false,
        }
    }

    /// The least wait before sending again that the endpoint asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ConnectorError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectorError::Status { code, detail, .. } if detail.is_empty() => {
                write!(f, "status {code}")
            }
            ConnectorError::Status { code, detail, .. } => write!(f, "status {code}: {detail}"),
            ConnectorError::Timeout => f.write_str("timed out"),
            ConnectorError::Transport(message) | ConnectorError::Invalid(message) => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for ConnectorError {}

/// The records of a `read ... as [T]` as they come, for sources that stream them
/// (record files) instead of answering with one JSON array.
pub struct Records<'a> {
    /// The records in order; an error ends the read.
    pub items: Box<dyn Iterator<Item = Result<serde_json::Value, ConnectorError>> + Send + 'a>,
    /// What to do once every record read is settled (delivered, dropped, skipped or
    /// dead-lettered) and the run did not fail, such as moving the files read aside.
    pub settle: Option<Box<dyn FnOnce() -> Result<(), ConnectorError> + Send + 'a>>,
}

impl fmt::Debug for Records<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records").finish_non_exhaustive()
    }
}

/// The connections a flow runs against.
pub trait Connections: Sync {
    /// Sends one request and returns the answer's JSON body (`null` when it has none).
    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError>;

    /// Streams the records of a `read ... as [T]`; `None` (the default) when this
    /// source answers whole, and the engine splits the JSON array [`Connections::send`]
    /// returns.
    fn read_records<'a>(
        &'a self,
        request: &Request<'_>,
    ) -> Result<Option<Records<'a>>, ConnectorError> {
        let _ = request;
        Ok(None)
    }
}
