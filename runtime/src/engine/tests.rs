use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::{json, Value as J};

use super::*;
use crate::connector::{Connections, ConnectorError, Request};
use crate::ir::FinalAction;

/// `read src.get("/items?since={last_run}") as [In]`, `where r => r.active`,
/// `map in_to_out`, `write dst.put("/out/{Id}")`, with the given error policy.
fn program(retries: u32, then: FinalAction) -> Program {
    let then = serde_json::to_value(then).unwrap_or(J::Null);
    let s = |text: &str| json!({"op": "str", "parts": [{"part": "text", "text": text}]});
    serde_json::from_value(json!({
        "schemas": {
            "In": {"fields": [
                {"name": "id", "type": {"kind": "int"}},
                {"name": "name", "type": {"kind": "string"}},
                {"name": "active", "type": {"kind": "bool"}}]},
            "Out": {"fields": [
                {"name": "Id", "type": {"kind": "string"}},
                {"name": "Name", "type": {"kind": "string"}}]}
        },
        "connections": {"src": {"kind": "http"}, "dst": {"kind": "http"}},
        "maps": {"in_to_out": {
            "param": "r",
            "source": {"kind": "schema", "name": "In"},
            "target": {"kind": "schema", "name": "Out"},
            "fields": [
                {"target": ["Id"], "value": {"op": "call", "function": "to_string",
                    "args": [{"op": "field", "base": {"op": "var", "name": "r"}, "name": "id"}]}},
                {"target": ["Name"], "value": {"op": "call", "function": "upper",
                    "args": [{"op": "field", "base": {"op": "var", "name": "r"}, "name": "name"}]}}
            ]}},
        "flows": {"sync": {
            "triggers": [{"kind": "manual"}],
            "graph": {"nodes": [
                {"kind": "read", "connection": "src", "operation": "get",
                 "args": [s("/items?since={last_run}")],
                 "record": {"kind": "schema", "name": "In"}, "many": true},
                {"kind": "where", "param": "r",
                 "condition": {"op": "field", "base": {"op": "var", "name": "r"}, "name": "active"}},
                {"kind": "map", "map": "in_to_out"},
                {"kind": "write", "connection": "dst", "operation": "put",
                 "args": [s("/out/{Id}")], "record": {"kind": "schema", "name": "Out"}}
            ], "node_holes": [], "edge_property": "directed",
               "edges": [[0, 1, null], [1, 2, null], [2, 3, null]]},
            "error_policy": {"retries": retries, "backoff_millis": 100, "then": then}
        }},
        "rollbacks": []
    }))
    .unwrap_or_else(|e| panic!("test program: {e}"))
}

fn records() -> J {
    json!([
        {"id": 1, "name": "ada", "active": true},
        {"id": 2, "name": "bob", "active": false},
        {"id": 3, "name": "cy", "active": true}
    ])
}

/// One request as sent: operation, resolved arguments, body, idempotency key.
type Sent = (String, Vec<String>, Option<J>, Option<String>);

/// Answers the read with `read`, and each write with the next scripted result (the
/// last one repeats); records every request.
struct Script {
    read: Result<J, ConnectorError>,
    writes: Mutex<VecDeque<Result<J, ConnectorError>>>,
    log: Mutex<Vec<Sent>>,
}

impl Script {
    fn new(read: Result<J, ConnectorError>, writes: Vec<Result<J, ConnectorError>>) -> Self {
        Script {
            read,
            writes: Mutex::new(writes.into()),
            log: Mutex::new(Vec::new()),
        }
    }
    fn log(&self) -> Vec<Sent> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Connections for Script {
    fn send(&self, r: &Request<'_>) -> Result<J, ConnectorError> {
        if let Ok(mut log) = self.log.lock() {
            log.push((
                format!("{}.{}", r.connection, r.operation),
                r.resolved.clone(),
                r.body.clone(),
                r.idempotency_key.clone(),
            ));
        }
        if r.operation == "get" {
            return self.read.clone();
        }
        let mut writes = self.writes.lock().map_err(|_| ConnectorError::Timeout)?;
        if writes.len() > 1 {
            writes.pop_front().unwrap_or(Ok(J::Null))
        } else {
            writes.front().cloned().unwrap_or(Ok(J::Null))
        }
    }
}

#[derive(Default)]
struct Waits(Mutex<Vec<Duration>>);

impl Pause for Waits {
    fn pause(&self, delay: Duration) {
        if let Ok(mut w) = self.0.lock() {
            w.push(delay);
        }
    }
}

#[derive(Default)]
struct Collect {
    delivered: Vec<J>,
    dead: Vec<DeadLetter>,
}

impl Sink for Collect {
    fn delivered(&mut self, record: &J) {
        self.delivered.push(record.clone());
    }
    fn dead_letter(&mut self, letter: DeadLetter) {
        self.dead.push(letter);
    }
}

fn go(
    program: &Program,
    script: &Script,
    input: Option<J>,
) -> (RunSummary, Collect, Vec<Duration>) {
    let waits = Waits::default();
    let mut sink = Collect::default();
    let options = RunOptions {
        input: input.and_then(|j| j.as_array().cloned()),
        variables: BTreeMap::from([("last_run".into(), "2025-01-01T00:00:00Z".into())]),
        ..RunOptions::default()
    };
    let summary = run(program, "sync", script, &waits, &options, &mut sink);
    let waits = waits.0.lock().map(|w| w.clone()).unwrap_or_default();
    (summary, sink, waits)
}

fn status(code: u16) -> Result<J, ConnectorError> {
    Err(ConnectorError::Status {
        code,
        detail: String::new(),
        retry_after: None,
    })
}

#[test]
fn records_are_read_filtered_mapped_and_written() {
    let p = program(0, FinalAction::Fail);
    let script = Script::new(Ok(records()), vec![Ok(J::Null)]);
    let (summary, sink, waits) = go(&p, &script, None);
    assert_eq!(
        (
            summary.read,
            summary.dropped,
            summary.delivered,
            summary.failure
        ),
        (3, 1, 2, None)
    );
    assert_eq!(
        sink.delivered,
        vec![
            json!({"Id": "1", "Name": "ADA"}),
            json!({"Id": "3", "Name": "CY"})
        ]
    );
    assert!(waits.is_empty());
    let log = script.log();
    assert_eq!(log[0].1, vec!["/items?since=2025-01-01T00:00:00Z"]);
    assert_eq!(log[1].0, "dst.put");
    assert_eq!(log[1].1, vec!["/out/1"]);
    assert_eq!(log[2].1, vec!["/out/3"]);
    assert_eq!(log.len(), 3);
}

#[test]
fn transient_errors_are_retried_with_doubling_backoff_and_the_same_key() {
    let p = program(3, FinalAction::Fail);
    let script = Script::new(
        Ok(json!([records()[0]])),
        vec![status(503), Err(ConnectorError::Timeout), Ok(J::Null)],
    );
    let (summary, _, waits) = go(&p, &script, None);
    assert_eq!(
        (summary.delivered, summary.retries, summary.failure),
        (1, 2, None)
    );
    assert_eq!(
        waits,
        vec![Duration::from_millis(100), Duration::from_millis(200)]
    );
    let keys: Vec<_> = script.log().into_iter().skip(1).map(|l| l.3).collect();
    assert_eq!(keys.len(), 3);
    assert!(keys[0].is_some() && keys.iter().all(|k| *k == keys[0]));
}

#[test]
fn a_retry_waits_at_least_as_long_as_retry_after_asks() {
    let p = program(2, FinalAction::Fail);
    let throttled = |secs| {
        Err(ConnectorError::Status {
            code: 429,
            detail: String::new(),
            retry_after: Some(Duration::from_secs(secs)),
        })
    };
    // 5 s asked beats the 100 ms backoff; 0 s asked leaves the 200 ms backoff.
    let script = Script::new(
        Ok(json!([records()[0]])),
        vec![throttled(5), throttled(0), Ok(J::Null)],
    );
    let (summary, _, waits) = go(&p, &script, None);
    assert_eq!((summary.delivered, summary.retries), (1, 2));
    assert_eq!(
        waits,
        vec![Duration::from_secs(5), Duration::from_millis(200)]
    );
}

#[test]
fn exhausted_retries_dead_letter_the_record_as_it_was_read() {
    let p = program(2, FinalAction::DeadLetter);
    let script = Script::new(Ok(records()), vec![status(500)]);
    let (summary, sink, waits) = go(&p, &script, None);
    assert_eq!(
        (summary.delivered, summary.dead_lettered, summary.retries),
        (0, 2, 4)
    );
    assert_eq!(script.log().len(), 1 + 2 * 3);
    assert_eq!(waits.len(), 4);
    assert_eq!(sink.dead[0].record, records()[0]);
    assert_eq!(sink.dead[1].record, records()[2]);
    let error = &sink.dead[0].error;
    assert_eq!((error.step, error.attempts), (3, 3));
    assert_eq!(
        error.to_string(),
        "dst.put failed: status 500 (after 3 attempts)"
    );
    assert_eq!(error.source_id("sync"), "flow.sync.step.3");
}

#[test]
fn a_client_error_is_not_retried() {
    let p = program(5, FinalAction::Skip);
    let script = Script::new(Ok(records()), vec![status(422)]);
    let (summary, _, waits) = go(&p, &script, None);
    assert_eq!((summary.skipped, summary.retries), (2, 0));
    assert!(waits.is_empty());
}

#[test]
fn then_fail_stops_at_the_first_failed_record() {
    let p = program(0, FinalAction::Fail);
    let script = Script::new(Ok(records()), vec![status(400)]);
    let (summary, sink, _) = go(&p, &script, None);
    assert_eq!(summary.read, 1);
    assert!(sink.delivered.is_empty());
    assert!(matches!(summary.failure, Some(RunFailure::Record(_))));
    assert_eq!(script.log().len(), 2);
}

#[test]
fn a_failed_read_fails_the_run_after_its_retries() {
    let p = program(1, FinalAction::DeadLetter);
    let script = Script::new(status(502), vec![Ok(J::Null)]);
    let (summary, _, waits) = go(&p, &script, None);
    assert_eq!(waits.len(), 1);
    let Some(RunFailure::Read(e)) = &summary.failure else {
        panic!("expected a read failure, got {:?}", summary.failure);
    };
    assert_eq!(
        e.to_string(),
        "src.get failed: status 502 (after 2 attempts)"
    );
}

#[test]
fn a_record_that_breaks_its_contract_is_dead_lettered_with_its_path() {
    let p = program(3, FinalAction::DeadLetter);
    let script = Script::new(
        Ok(json!([{"id": "x", "name": "a", "active": true}, records()[0]])),
        vec![Ok(J::Null)],
    );
    let (summary, sink, _) = go(&p, &script, None);
    assert_eq!(
        (summary.delivered, summary.dead_lettered, summary.retries),
        (1, 1, 0)
    );
    assert!(sink.dead[0]
        .error
        .to_string()
        .starts_with("record does not fit its type: $.id"));
}

#[test]
fn a_read_answer_that_is_not_a_list_fails_the_run() {
    let p = program(0, FinalAction::DeadLetter);
    let script = Script::new(Ok(json!({"items": []})), vec![]);
    let (summary, _, _) = go(&p, &script, None);
    assert!(summary
        .failure
        .is_some_and(|f| f.to_string().contains("expected a JSON array")));
}

#[test]
fn given_input_replaces_the_read() {
    let p = program(0, FinalAction::Fail);
    let script = Script::new(status(500), vec![Ok(J::Null)]);
    let (summary, sink, _) = go(&p, &script, Some(records()));
    assert_eq!((summary.read, summary.delivered), (3, 2));
    assert_eq!(sink.delivered.len(), 2);
    assert!(script.log().iter().all(|l| l.0 == "dst.put"));
}

#[test]
fn an_unknown_flow_is_a_failure_not_a_panic() {
    let p = program(0, FinalAction::Fail);
    let script = Script::new(Ok(records()), vec![]);
    let mut sink = Collect::default();
    let summary = run(
        &p,
        "nope",
        &script,
        &Waits::default(),
        &RunOptions::default(),
        &mut sink,
    );
    assert_eq!(
        summary.failure,
        Some(RunFailure::UnknownFlow("nope".into()))
    );
}

#[test]
fn jitter_only_ever_lengthens_a_wait_by_up_to_a_quarter() {
    let second = Duration::from_secs(1);
    assert_eq!(super::with_jitter(second, 0.0), second);
    assert_eq!(super::with_jitter(second, 0.5), Duration::from_millis(1125));
    assert_eq!(super::with_jitter(second, 7.0), Duration::from_millis(1250));
}
