//! End to end: the delivery control API served by the real `weft serve` on a free
//! loopback port with a temporary SQLite file, driven by the real CLI as several users.

mod common;
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{stderr, stdout};
use serde_json::Value;
use support::{build, reply, wait_for, FakeServer, Server};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            if entry.file_name() != "dist" && entry.file_name() != ".weft" {
                copy_dir(&path, &target);
            }
        } else {
            std::fs::copy(&path, &target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// examples/customer-sync with a prod gate two users can pass: one approval from
/// integration-leads (alice, bob), no self approval, no change window (the test must
/// not depend on the time of day; windows are unit-tested).
fn customer_sync() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    copy_dir(&common::repo().join("examples/customer-sync"), dir.path());
    let delivery = dir.path().join("src/delivery.weft");
    let text = std::fs::read_to_string(&delivery).unwrap_or_default();
    let start = text.find("promotion {").unwrap_or(0);
    let end = start + text[start..].find("}\n").unwrap_or(0) + 2;
    let gates = "promotion {\n  dev -> staging -> prod\n  staging: require tests\n  prod: require tests, approvals 1 from \"integration-leads\", no self approval\n}\n";
    std::fs::write(
        &delivery,
        format!("{}{gates}{}", &text[..start], &text[end..]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// One line per audit entry, without times, hashes or ids.
fn audit_summary(server: &Server, token: &str, dir: &Path) -> String {
    let out = server.weft(token, &["audit", "export", "--as", "jsonl"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|line| {
            let e: Value = serde_json::from_str(line).unwrap_or_default();
            let s = |k: &str| e[k].as_str().unwrap_or("-").to_string();
            let extra = match s("action").as_str() {
                "refused" => e["details"]["call"].as_str().unwrap_or("").to_string(),
                "activated" => format!("cause={}", e["details"]["cause"].as_str().unwrap_or("")),
                "approved" => format!("approvals={}", e["details"]["approvals"]),
                "promotion_refused" => e["details"]["reason"].as_str().unwrap_or("").to_string(),
                _ => String::new(),
            };
            format!(
                "{} {} {} {} {} {extra}",
                e["seq"],
                s("actor"),
                s("action"),
                s("flow"),
                s("environment")
            )
            .trim_end()
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn dev_staging_prod_with_two_users_and_a_tamper_evident_trail() {
    let project = customer_sync();
    let dir = project.path();
    let artifact = build(dir);
    let tests = common::weft(&["test", "--format", "json"], dir);
    assert_eq!(tests.status.code(), Some(0), "{}", stderr(&tests));
    std::fs::write(dir.join("results.json"), &tests.stdout).unwrap_or_else(|e| panic!("{e}"));

    let server = Server::start(dir, &[]);
    let token_file = std::fs::read_to_string(dir.join(".weft/token")).unwrap_or_default();
    assert_eq!(token_file.trim(), server.admin);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(".weft/token"))
            .map(|m| m.permissions().mode())
            .unwrap_or_default();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Alice may approve in prod too: only the no-self-approval gate stops her below.
    let alice = server.user("alice", &["deployer", "approver:prod"], dir);
    let bob = server.user("bob", &["approver:staging", "approver:prod"], dir);

    // Alice deploys to dev with the test report of this build.
    let out = server.weft(
        &alice,
        &[
            "deploy",
            &artifact,
            "--env",
            "dev",
            "--tests",
            "results.json",
        ],
        dir,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        stdout(&out)
            .matches(": activated (requested by alice)")
            .count(),
        3,
        "{}",
        stdout(&out)
    );

    // Staging needs tests only: activated at once.
    let out = server.weft(&alice, &["promote", "account_sync", "--to", "staging"], dir);
    succeeded_with(&out, stdout, "dev -> staging: activated");

    // Prod needs an approval: a pending request with the semantic diff.
    let pending = server.json(&alice, &["promote", "account_sync", "--to", "prod"], dir);
    assert_eq!(pending["status"], "pending");
    assert!(
        pending["diff"]["changes"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{pending}"
    );
    let id = pending["id"].to_string();
    let text = server.weft(&alice, &["promotions", "--status", "pending"], dir);
    assert!(
        stdout(&text).contains(&format!("promotion {id}: account_sync 1.4.0")),
        "{}",
        stdout(&text)
    );
    // Bob reviews it: gates, and the changes that reach account_sync.
    let review = server.weft(&bob, &["promotions", &id], dir);
    assert!(
        stdout(&review).contains(
            "[  ] approvals 1 from \"integration-leads\": 0 of 1 approval from integration-leads"
        ),
        "{}",
        stdout(&review)
    );
    assert!(
        stdout(&review).contains("+ flow.account_sync"),
        "{}",
        stdout(&review)
    );
    assert!(
        !stdout(&review).contains("+ flow.contact_sync"),
        "{}",
        stdout(&review)
    );

    // Alice may not approve her own request.
    let out = server.weft(&alice, &["approve", &id], dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("weft approve: alice requested promotion {id} and may not approve it (no self approval)\n")
    );
    // Bob may not deploy, and nobody without a token may do anything.
    let out = server.weft(&bob, &["deploy", &artifact, "--env", "dev"], dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bob may not deploy in dev"),
        "{}",
        stderr(&out)
    );
    let out = server.weft("weft_forged", &["status"], dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown token"), "{}", stderr(&out));

    // Bob approves: activated in prod.
    let out = server.weft(&bob, &["approve", &id], dir);
    succeeded_with(&out, stdout, "staging -> prod: activated");
    assert!(stdout(&out).contains("approved by bob"), "{}", stdout(&out));
    let status = server.json(&alice, &["status"], dir);
    assert_eq!(status["flows"]["account_sync"]["prod"]["version"], "1.4.0");
    assert_eq!(status["flows"]["account_sync"]["prod"]["by"], "bob");

    let metrics = server.json(&alice, &["metrics", "--env", "prod"], dir);
    assert_eq!(metrics["deployments"], 1);
    assert_eq!(metrics["change_failure_rate"], 0.0);

    insta::assert_snapshot!("story_audit", audit_summary(&server, &alice, dir));
    let csv = server.weft(
        &alice,
        &["audit", "export", "--as", "csv", "--since", "2000-01-01"],
        dir,
    );
    assert!(stdout(&csv).starts_with(
        "seq,at,actor,action,flow,environment,version,digest,details,prev_hash,hash\r\n"
    ));

    let out = server.weft(&alice, &["audit", "verify"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("audit trail intact: "),
        "{}",
        stdout(&out)
    );

    // Only token hashes are stored.
    let db = rusqlite::Connection::open(&server.state).unwrap_or_else(|e| panic!("{e}"));
    let hashes: Vec<String> = db
        .prepare("SELECT hash FROM tokens")
        .and_then(|mut s| {
            s.query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect())
        })
        .unwrap_or_default();
    assert_eq!(hashes.len(), 3);
    assert!(hashes.iter().all(|h| h.len() == 64
        && ![&alice, &bob, &server.admin]
            .iter()
            .any(|t| t.contains(h.as_str()) || h.contains(&t[5..]))));

    // One byte changed in Bob's approval: `verify` names the entry.
    let seq: i64 = db
        .query_row(
            "SELECT seq FROM audit WHERE actor = 'bob' AND action = 'approved'",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    db.execute("UPDATE audit SET actor = 'bpb' WHERE seq = ?1", [seq])
        .unwrap_or_else(|e| panic!("{e}"));
    let out = server.weft(&alice, &["audit", "verify"], dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        format!("audit trail broken at entry {seq} (edited): entry {seq} was edited: its content does not match its hash\n")
    );
}

#[test]
fn promotion_without_passing_tests_is_refused() {
    let project = customer_sync();
    let dir = project.path();
    let artifact = build(dir);
    let server = Server::start(dir, &[]);
    let alice = server.user("alice", &["deployer"], dir);
    let out = server.weft(&alice, &["deploy", &artifact, "--env", "dev"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = server.weft(&alice, &["promote", "account_sync", "--to", "staging"], dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("dev -> staging: refused"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("no passing test run is recorded for this digest"),
        "{}",
        stdout(&out)
    );
    // Deploying straight to prod is refused too.
    let out = server.weft(&alice, &["deploy", &artifact, "--env", "prod"], dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("prod is reached by `weft promote`"),
        "{}",
        stderr(&out)
    );
    let audit = audit_summary(&server, &alice, dir);
    assert!(
        audit.contains("alice promotion_refused account_sync staging tests: no passing test run"),
        "{audit}"
    );
    // `weft test --upload` records a passing run for this digest: now it passes.
    let out = server.weft(&alice, &["test", "--upload"], dir);
    succeeded_with(
        &out,
        stderr,
        "weft test: recorded a passing run for sha256:",
    );
    let out = server.weft(&alice, &["promote", "account_sync", "--to", "staging"], dir);
    succeeded_with(&out, stdout, "dev -> staging: activated");
}

const FLOW: &str = r#"
schema Customer {
  id: Int
  name: String
}
schema Account {
  ExternalId: String
  Name: String
}
connection erp: http
connection crm: http
flow sync {
  trigger manual
  read erp.get("/customers") as [Customer]
  map customer_to_account
  write crm.put("/accounts/{ExternalId}")
  on error retry 0 backoff 10ms then fail
}
promotion {
  dev -> prod
}
rollback sync in prod { when error_rate > 50% over 10m, min 2 runs; then previous; alert "oncall" }
"#;

fn small_project(dir: &Path, version: &str, name_expr: &str, erp: &str) {
    let map = format!("map customer_to_account(c: Customer) -> Account {{\n  ExternalId = to_string(c.id)\n  Name = {name_expr}\n}}\n");
    let envs = format!("environment dev {{\n  erp = http(\"{erp}\")\n  crm = http(\"{erp}\")\n}}\nenvironment prod {{\n  erp = http(\"{erp}\")\n  crm = http(\"{erp}\")\n}}\n");
    std::fs::create_dir_all(dir.join("src")).unwrap_or_else(|e| panic!("{e}"));
    let files = [
        (
            "weft.toml",
            format!("[project]\nname = \"shop\"\nversion = \"{version}\"\nsources = [\"src\"]\n"),
        ),
        ("src/flow.weft", format!("{FLOW}{map}")),
        ("src/environments.weft", envs),
    ];
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn a_failing_version_is_rolled_back_automatically_and_alerted() {
    let project = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = project.path();
    let erp = FakeServer::start(|_, _| reply(500, "[]"));
    let hook = FakeServer::start(|_, _| reply(200, "[]"));
    small_project(dir, "1.0.0", "upper(c.name)", &erp.url());
    let v1 = build(dir);
    let server = Server::start(dir, &["--alert-webhook", &hook.url()]);
    let alice = server.user("alice", &["deployer"], dir);
    let deploy_and_promote = |artifact: &str| {
        let out = server.weft(&alice, &["deploy", artifact, "--env", "dev"], dir);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        let out = server.weft(&alice, &["promote", "sync", "--to", "prod"], dir);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
    };
    deploy_and_promote(&v1);
    small_project(dir, "1.1.0", "lower(c.name)", &erp.url());
    let v2 = build(dir);
    deploy_and_promote(&v2);
    let status = server.json(&alice, &["status"], dir);
    assert_eq!(status["flows"]["sync"]["prod"]["version"], "1.1.0");

    // The ERP answers 500: two failed runs of 1.1.0 in prod breach 50% over 10m, min 2.
    for _ in 0..2 {
        let out = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(["run", "sync", "--env", "prod", "--state"])
            .arg(&server.state)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    }
    let recorded = Instant::now();
    let mut version = String::new();
    while recorded.elapsed() < Duration::from_secs(5) {
        version = server.json(&alice, &["status"], dir)["flows"]["sync"]["prod"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if version == "1.0.0" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(version, "1.0.0", "not rolled back");
    assert!(
        recorded.elapsed() < Duration::from_secs(2),
        "rollback took {:?}",
        recorded.elapsed()
    );

    wait_for("the alert", Duration::from_secs(5), || {
        !hook.seen().is_empty()
    });
    let alerts = hook.seen();
    assert_eq!(alerts.len(), 1);
    let alert: Value = serde_json::from_str(&alerts[0].body).unwrap_or_default();
    assert_eq!(alert["event"], "rolled_back");
    assert_eq!(alert["channels"], serde_json::json!(["oncall"]));
    assert_eq!(alert["restored"]["version"], "1.0.0");
    assert_eq!(alert["decision"]["failed"], 2);

    // The rolled-back version does not come back by a rollback: there is none left.
    let out = server.weft(&alice, &["rollback", "sync", "--env", "prod"], dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no known-good version of sync"),
        "{}",
        stderr(&out)
    );
    let out = server.weft(
        &alice,
        &["rollback", "sync", "--env", "prod", "--to", "1.1.0"],
        dir,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Metrics over this history: two prod deployments, one rolled back.
    let m = server.json(&alice, &["metrics", "--env", "prod"], dir);
    assert_eq!(m["deployments"], 2);
    assert_eq!(m["change_failures"], 1);
    assert_eq!(m["change_failure_rate"], 0.5);
    assert_eq!(m["time_to_restore"]["count"], 1);
    let audit = audit_summary(&server, &alice, dir);
    assert!(audit.contains("weft rolled_back sync prod"), "{audit}");
    assert!(audit.contains("weft alert_sent sync prod"), "{audit}");
}

/// Asserts the command succeeded and its stdout (or stderr) holds `text`.
fn succeeded_with(out: &Output, stream: fn(&Output) -> String, text: &str) {
    assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    assert!(stream(out).contains(text), "{}", stream(out));
}
