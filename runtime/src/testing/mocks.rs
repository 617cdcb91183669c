//! Mocked connections: each operation answers from its `mock` statements in order, and
//! every call is recorded for the expectations. A call without a mock fails (nothing
//! in a test ever reaches a real system) and is reported.

use std::sync::Mutex;

use crate::connector::{Connections, ConnectorError, Request};

use super::plan::{Operation, Reply};

/// One recorded call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The connection.
    pub connection: String,
    /// The operation.
    pub operation: String,
    /// The arguments as the step declares them, for matching and messages.
    pub args: Vec<crate::ir::Expr>,
    /// The arguments with placeholders filled.
    pub resolved: Vec<String>,
    /// The body sent.
    pub body: Option<serde_json::Value>,
    /// Whether a mock answered it.
    pub mocked: bool,
}

impl Call {
    /// Whether this call is to `operation`.
    pub fn is(&self, operation: &Operation) -> bool {
        self.connection == operation.connection
            && self.operation == operation.operation
            && self.args == operation.args
    }
}

struct Entry {
    operation: Operation,
    reply: Reply,
    /// Calls it still answers; `None` for all of them.
    left: Option<u32>,
    /// Calls it answered.
    used: u32,
}

/// The mocks of one test.
#[derive(Default)]
pub struct Mocks {
    entries: Mutex<Vec<Entry>>,
    calls: Mutex<Vec<Call>>,
}

impl Mocks {
    /// Adds a mock after those already there.
    pub fn add(&self, operation: Operation, reply: Reply, times: Option<u32>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.push(Entry {
                operation,
                reply,
                left: times,
                used: 0,
            });
        }
    }

    /// The mocks no call used, in the order they were added, as `conn.op(args)`.
    pub fn unused(&self) -> Vec<String> {
        let Ok(entries) = self.entries.lock() else {
            return Vec::new();
        };
        entries
            .iter()
            .filter(|e| e.used == 0)
            .map(|e| {
                let args: Vec<String> = e.operation.args.iter().map(ToString::to_string).collect();
                format!(
                    "{}.{}({})",
                    e.operation.connection,
                    e.operation.operation,
                    args.join(", ")
                )
            })
            .collect()
    }

    /// The calls recorded since the last [`Mocks::take_calls`].
    pub fn take_calls(&self) -> Vec<Call> {
        self.calls
            .lock()
            .map(|mut calls| std::mem::take(&mut *calls))
            .unwrap_or_default()
    }
}

impl Connections for Mocks {
    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        let mut call = Call {
            connection: request.connection.to_owned(),
            operation: request.operation.to_owned(),
            args: request.args.to_vec(),
            resolved: request.resolved.clone(),
            body: request.body.clone(),
            mocked: false,
        };
        let reply = self.entries.lock().ok().and_then(|mut entries| {
            let entry = entries
                .iter_mut()
                .find(|e| call.is(&e.operation) && e.left != Some(0))?;
            if let Some(left) = &mut entry.left {
                *left -= 1;
            }
            entry.used += 1;
            Some(entry.reply.clone())
        });
        call.mocked = reply.is_some();
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
        match reply {
            Some(Reply::Returns(body)) => Ok(body),
            Some(Reply::Status(code)) => Err(ConnectorError::Status {
                code,
                detail: "mocked".into(),
                retry_after: None,
            }),
            Some(Reply::Timeout) => Err(ConnectorError::Timeout),
            None => Err(ConnectorError::Invalid(format!(
                "{}.{} has no mock left for this call",
                request.connection, request.operation
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Expr, StrPart};

    fn path(text: &str) -> Vec<Expr> {
        vec![Expr::Str {
            parts: vec![StrPart::Text {
                text: text.to_owned(),
            }],
        }]
    }

    fn operation(text: &str) -> Operation {
        Operation {
            connection: "erp".into(),
            operation: "get".into(),
            args: path(text),
        }
    }

    #[test]
    fn mocks_no_call_used_are_listed() {
        let mocks = Mocks::default();
        mocks.add(
            operation("/customers"),
            Reply::Returns(serde_json::json!([])),
            None,
        );
        mocks.add(operation("/old"), Reply::Timeout, None);
        let args = path("/customers");
        let request = Request {
            connection: "erp",
            operation: "get",
            args: &args,
            resolved: vec!["/customers".into()],
            filled: Vec::new(),
            body: None,
            idempotency_key: None,
        };
        assert_eq!(mocks.send(&request), Ok(serde_json::json!([])));
        assert_eq!(mocks.unused(), ["erp.get(\"/old\")"]);
    }
}
