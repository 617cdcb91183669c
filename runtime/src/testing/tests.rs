//! The `clock` statement: runs, snapshots and property tests after it read the pinned
//! instant, whatever the real date.

use std::path::PathBuf;

use serde_json::{json, Value as J};

use super::plan::{parse_clock, Operation, Reply, Statement, StatementKind, TestCase};
use super::run::run_one;
use super::{Options, SnapshotMode};
use crate::ir::{Expr, Program, StrPart};

/// `flow onboard { read src.get("/hires") as [Hire]  where h => h.start <= add_days(today(), 14)
/// write dst.put("/accounts") }` and `map stamp(h: Hire) -> Stamp { id = h.id, at = now(),
/// day = today() }`.
fn program() -> Program {
    let s = |text: &str| json!({"op": "str", "parts": [{"part": "text", "text": text}]});
    let field =
        |name: &str| json!({"op": "field", "base": {"op": "var", "name": "h"}, "name": name});
    let call = |function: &str, args: J| json!({"op": "call", "function": function, "args": args});
    serde_json::from_value(json!({
        "schemas": {
            "Hire": {"fields": [
                {"name": "id", "type": {"kind": "int"}},
                {"name": "start", "type": {"kind": "date"}}]},
            "Stamp": {"fields": [
                {"name": "id", "type": {"kind": "int"}},
                {"name": "at", "type": {"kind": "timestamp"}},
                {"name": "day", "type": {"kind": "date"}}]}
        },
        "connections": {"src": {"kind": "http"}, "dst": {"kind": "http"}},
        "maps": {"stamp": {
            "param": "h",
            "source": {"kind": "schema", "name": "Hire"},
            "target": {"kind": "schema", "name": "Stamp"},
            "fields": [
                {"target": ["id"], "value": field("id")},
                {"target": ["at"], "value": call("now", json!([]))},
                {"target": ["day"], "value": call("today", json!([]))}
            ]}},
        "flows": {"onboard": {
            "triggers": [{"kind": "manual"}],
            "graph": {"nodes": [
                {"kind": "read", "connection": "src", "operation": "get",
                 "args": [s("/hires")], "record": {"kind": "schema", "name": "Hire"}, "many": true},
                {"kind": "where", "param": "h", "condition": {"op": "binary", "operator": "le",
                    "lhs": field("start"),
                    "rhs": call("add_days", json!([call("today", json!([])), {"op": "int", "value": 14}]))}},
                {"kind": "write", "connection": "dst", "operation": "put",
                 "args": [s("/accounts")], "record": {"kind": "schema", "name": "Hire"}}
            ], "node_holes": [], "edge_property": "directed",
               "edges": [[0, 1, null], [1, 2, null]]},
            "error_policy": {"retries": 0, "backoff_millis": 100, "then": "fail"}
        }},
        "rollbacks": []
    }))
    .unwrap_or_else(|e| panic!("test program: {e}"))
}

fn hires() -> Vec<J> {
    vec![
        json!({"id": 1, "start": "2025-06-10"}),
        json!({"id": 2, "start": "2025-06-20"}),
        json!({"id": 3, "start": "2025-05-01"}),
    ]
}

fn clock(text: &str) -> StatementKind {
    StatementKind::Clock(parse_clock(text).unwrap_or_else(|| panic!("bad clock {text}")))
}

fn run() -> StatementKind {
    StatementKind::Run {
        flow: "onboard".into(),
        input: Some(hires()),
    }
}

fn output(ids: &[i64]) -> StatementKind {
    let all = hires();
    let kept = all
        .into_iter()
        .filter(|h| ids.contains(&h["id"].as_i64().unwrap_or_default()))
        .collect();
    StatementKind::ExpectOutput(J::Array(kept))
}

/// The failure messages of a test made of `statements`, after a mock of the write.
fn failures(statements: Vec<StatementKind>, options: &Options) -> Vec<String> {
    let mock = StatementKind::Mock {
        operation: Operation {
            connection: "dst".into(),
            operation: "put".into(),
            args: vec![Expr::Str {
                parts: vec![StrPart::Text {
                    text: "/accounts".into(),
                }],
            }],
        },
        reply: Reply::Returns(json!({})),
        times: None,
    };
    let case = TestCase {
        name: "clock".into(),
        site: 0,
        statements: std::iter::once(mock)
            .chain(statements)
            .map(|kind| Statement { site: 1, kind })
            .collect(),
    };
    let result = run_one(&program(), &case, options);
    result
        .failures
        .iter()
        .map(|f| format!("{} {:?}", f.message, f.details))
        .collect()
}

#[test]
fn a_pinned_clock_decides_which_records_pass_a_filter_on_today() {
    // On 2025-06-01 the window ends on 2025-06-15: the hire starting on the 20th waits.
    let pinned = failures(
        vec![clock("2025-06-01T09:30:00Z"), run(), output(&[1, 3])],
        &Options::default(),
    );
    assert_eq!(pinned, Vec::<String>::new());
    // The same records by the real clock (any date after mid-2025) all pass, so the
    // pinned result above cannot come from the real date.
    let real = failures(vec![run(), output(&[1, 2, 3])], &Options::default());
    assert_eq!(real, Vec::<String>::new());
}

#[test]
fn each_clock_applies_from_its_position() {
    let statements = vec![
        clock("2025-05-20"),
        run(),
        output(&[3]),
        clock("2025-06-01"),
        run(),
        output(&[1, 3]),
        clock("2025-06-06T00:00:00+00:00"),
        run(),
        output(&[1, 2, 3]),
    ];
    assert_eq!(
        failures(statements, &Options::default()),
        Vec::<String>::new()
    );
    // A wrong expectation under the second clock fails, so the check above is real.
    let wrong = failures(
        vec![
            clock("2025-05-20"),
            clock("2025-06-01"),
            run(),
            output(&[3]),
        ],
        &Options::default(),
    );
    assert_eq!(wrong.len(), 1, "{wrong:?}");
}

#[test]
fn snapshots_and_property_tests_see_the_pinned_clock() {
    let dir = std::env::temp_dir().join(format!("weft-clock-test-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file: PathBuf = dir.join("stamp.json");
    let stored = json!({
        "test": "clock",
        "map": "stamp",
        "output": [{"id": 1, "at": "2025-06-01T09:30:00Z", "day": "2025-06-01"}],
    });
    let written = std::fs::write(&file, format!("{stored:#}\n"));
    assert!(written.is_ok(), "{written:?}");
    let snapshot = || StatementKind::Snapshot {
        map: "stamp".into(),
        input: Some(json!([{"id": 1, "start": "2025-06-10"}])),
        file: file.clone(),
        name: "stamp.json".into(),
    };
    let options = Options {
        snapshots: SnapshotMode::NeverWrite,
        ..Options::default()
    };
    let pinned = failures(
        vec![
            clock("2025-06-01T09:30:00Z"),
            snapshot(),
            StatementKind::Property {
                map: "stamp".into(),
                runs: 20,
            },
        ],
        &options,
    );
    assert_eq!(pinned, Vec::<String>::new());
    // By the real clock the stored output differs.
    assert_eq!(failures(vec![snapshot()], &options).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clock_strings() {
    let at = |t: &str| parse_clock(t).map(|t| t.to_rfc3339());
    assert_eq!(
        at("2025-06-01T09:30:00Z").as_deref(),
        Some("2025-06-01T09:30:00+00:00")
    );
    assert_eq!(
        at("2025-06-01T11:30:00+02:00").as_deref(),
        Some("2025-06-01T09:30:00+00:00")
    );
    assert_eq!(
        at("2025-06-01").as_deref(),
        Some("2025-06-01T00:00:00+00:00")
    );
    assert_eq!(at("2025-06-01T09:30:00"), None);
    assert_eq!(at("06/01/2025"), None);
    assert_eq!(at("2025-02-30"), None);
}
