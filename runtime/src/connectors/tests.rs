//! Binding: refusals before anything runs, real file connections through the engine,
//! and redaction of what bound connections say.

use std::collections::BTreeMap;

use serde_json::{json, Value as J};

use super::*;
use crate::binding::Binding;
use crate::engine::{self, DeadLetter, Pause, RunOptions, Sink};

/// `read src.read("in.{ext}") as [Rec]` then `write dst.write("out/{id}.{ext}")`, dead
/// letters after no retries.
fn program(read: &str, write: &str) -> Program {
    let s = |text: &str| json!({"op": "str", "parts": [{"part": "text", "text": text}]});
    serde_json::from_value(json!({
        "schemas": {"Rec": {"fields": [
            {"name": "id", "type": {"kind": "int"}},
            {"name": "zip", "type": {"kind": "string"}}]}},
        "connections": {"src": {"kind": "file"}, "dst": {"kind": "file"}},
        "maps": {},
        "flows": {"copy": {
            "triggers": [{"kind": "manual"}],
            "graph": {"nodes": [
                {"kind": "read", "connection": "src", "operation": "read",
                 "args": [s(read)], "record": {"kind": "schema", "name": "Rec"}, "many": true},
                {"kind": "write", "connection": "dst", "operation": "write",
                 "args": [s(write)], "record": {"kind": "schema", "name": "Rec"}}
            ], "node_holes": [], "edge_property": "directed", "edges": [[0, 1, null]]},
            "error_policy": {"retries": 0, "backoff_millis": 1, "then": "dead_letter"}
        }},
        "rollbacks": []
    }))
    .unwrap_or_else(|e| panic!("test program: {e}"))
}

fn file_binding(folder: Option<&str>, secret_folder: Option<&str>) -> Binding {
    Binding {
        kind: "file".into(),
        endpoint: folder.map(str::to_owned),
        secrets: secret_folder
            .map(|name| BTreeMap::from([("endpoint".to_owned(), name.to_owned())]))
            .unwrap_or_default(),
        options: BTreeMap::new(),
    }
}

fn environments(src: Binding, dst: Option<Binding>) -> BTreeMap<String, Environment> {
    let mut bindings = BTreeMap::from([("src".to_owned(), src)]);
    if let Some(dst) = dst {
        bindings.insert("dst".to_owned(), dst);
    }
    BTreeMap::from([("dev".to_owned(), Environment { bindings })])
}

fn secrets(pairs: &[(&str, &str)]) -> SecretSource {
    SecretSource::fixed(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

struct NoWait;
impl Pause for NoWait {
    fn pause(&self, _: std::time::Duration) {}
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

fn temp_folder(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("weft-connectors-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    dir
}

#[test]
fn an_unknown_environment_names_the_known_ones() {
    let p = program("in.ndjson", "out.ndjson");
    let envs = environments(file_binding(Some("/tmp"), None), None);
    let error = bind(&p, &["copy"], "prod", &envs, &secrets(&[])).err();
    assert_eq!(
        error.map(|e| e.to_string()).as_deref(),
        Some("no environment named `prod` (environments: dev)")
    );
}

#[test]
fn a_connection_the_environment_does_not_bind_is_refused() {
    let p = program("in.ndjson", "out.ndjson");
    let envs = environments(file_binding(Some("/tmp"), None), None);
    let error = bind(&p, &["copy"], "dev", &envs, &secrets(&[])).err();
    assert_eq!(
        error.map(|e| e.to_string()).as_deref(),
        Some("flow `copy` uses connection `dst`, which environment `dev` does not bind")
    );
}

#[test]
fn every_missing_secret_is_named_at_once() {
    let p = program("in.ndjson", "out.ndjson");
    let envs = environments(
        file_binding(None, Some("SRC_DIR")),
        Some(file_binding(None, Some("DST_DIR"))),
    );
    let error = bind(&p, &["copy"], "dev", &envs, &secrets(&[])).err();
    assert_eq!(
        error.map(|e| e.to_string()).as_deref(),
        Some(
            "environment `dev` needs secrets that are not set: DST_DIR (for dst endpoint); \
             SRC_DIR (for src endpoint); set them as environment variables or in the --secrets file"
        )
    );
}

#[test]
fn records_move_from_a_csv_file_to_ndjson_files_typed_by_the_schema() {
    let dir = temp_folder("move");
    let folder = dir.display().to_string();
    std::fs::write(dir.join("in.csv"), "id,zip\n1,02134\n2,10115\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    let p = program("in.csv", "out/all.ndjson");
    let envs = environments(
        file_binding(Some(&folder), None),
        Some(file_binding(Some(&folder), None)),
    );
    let bound =
        bind(&p, &["copy"], "dev", &envs, &secrets(&[])).unwrap_or_else(|e| panic!("bind: {e}"));
    let mut sink = Collect::default();
    let summary = engine::run(
        &p,
        "copy",
        &bound,
        &NoWait,
        &RunOptions::default(),
        &mut sink,
    );
    assert_eq!(
        (summary.read, summary.delivered, summary.failure),
        (2, 2, None)
    );
    let written = std::fs::read_to_string(dir.join("out/all.ndjson")).unwrap_or_default();
    assert_eq!(
        written,
        "{\"id\":1,\"zip\":\"02134\"}\n{\"id\":2,\"zip\":\"10115\"}\n"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn csv_and_json_writes_append_to_what_is_there() {
    let dir = temp_folder("append");
    let folder = dir.display().to_string();
    std::fs::write(
        dir.join("in.json"),
        r#"[{"id": 1, "zip": "a,b"}, {"id": 2, "zip": "c"}]"#,
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    std::fs::write(dir.join("out.csv"), "zip,id\nz,0\n").unwrap_or_else(|e| panic!("write: {e}"));
    for target in ["out.csv", "out.json"] {
        let p = program("in.json", target);
        let envs = environments(
            file_binding(Some(&folder), None),
            Some(file_binding(Some(&folder), None)),
        );
        let bound = bind(&p, &["copy"], "dev", &envs, &secrets(&[]))
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let summary = engine::run(
            &p,
            "copy",
            &bound,
            &NoWait,
            &RunOptions::default(),
            &mut Collect::default(),
        );
        assert_eq!(summary.delivered, 2, "{target}");
    }
    let csv = std::fs::read_to_string(dir.join("out.csv")).unwrap_or_default();
    assert_eq!(csv, "zip,id\nz,0\n\"a,b\",1\nc,2\n");
    let json: J =
        serde_json::from_str(&std::fs::read_to_string(dir.join("out.json")).unwrap_or_default())
            .unwrap_or(J::Null);
    assert_eq!(
        json,
        json!([{"id": 1, "zip": "a,b"}, {"id": 2, "zip": "c"}])
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn paths_outside_the_folder_are_refused() {
    let dir = temp_folder("escape");
    let folder = dir.display().to_string();
    let p = program("../in.ndjson", "out.ndjson");
    let envs = environments(
        file_binding(Some(&folder), None),
        Some(file_binding(Some(&folder), None)),
    );
    let bound =
        bind(&p, &["copy"], "dev", &envs, &secrets(&[])).unwrap_or_else(|e| panic!("bind: {e}"));
    let summary = engine::run(
        &p,
        "copy",
        &bound,
        &NoWait,
        &RunOptions::default(),
        &mut Collect::default(),
    );
    let failure = summary.failure.map(|f| f.to_string()).unwrap_or_default();
    assert!(failure.contains("not a path inside"), "{failure}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn errors_of_bound_connections_are_redacted() {
    let dir = temp_folder("redact");
    let folder = dir.display().to_string();
    let p = program("missing.ndjson", "out.ndjson");
    // The folder's path is the "secret": it appears in the file-not-found message.
    let envs = environments(
        file_binding(None, Some("HIDDEN_DIR")),
        Some(file_binding(Some(&folder), None)),
    );
    let bound = bind(
        &p,
        &["copy"],
        "dev",
        &envs,
        &secrets(&[("HIDDEN_DIR", &folder)]),
    )
    .unwrap_or_else(|e| panic!("bind: {e}"));
    let summary = engine::run(
        &p,
        "copy",
        &bound,
        &NoWait,
        &RunOptions::default(),
        &mut Collect::default(),
    );
    let failure = summary.failure.map(|f| f.to_string()).unwrap_or_default();
    assert!(failure.contains("***/missing.ndjson"), "{failure}");
    assert!(!failure.contains(&folder), "{failure}");
    assert_eq!(bound.redactor().redact(&folder), "***");
    let _ = std::fs::remove_dir_all(dir);
}
