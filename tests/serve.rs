//! End to end: the real `weft serve` on a free loopback port against a fake ERP and CRM
//! served from this test, with real SQLite state files.

mod common;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{stderr, stdout};
use support::{assert_nowhere, http, json, reply, wait_for, FakeServer, Seen, CUSTOMER_MODEL};

const SYNC_FLOW: &str = r#"
flow sync {
  trigger TRIGGER
  read erp.get("/customers") as [Customer]
  where c => c.active
  map customer_to_account
  write crm.put("/accounts/{ExternalId}")
  on error retry 2 backoff 10ms then dead_letter
}
"#;

const SECRETS: [(&str, &str); 2] = [
    ("CRM_TOKEN", "crm-t0ken-8841"),
    ("WEFT_WEBHOOK_SECRET", "hook-k3y-5531"),
];

/// A project whose `sync` flow has this trigger, its ERP and CRM on `url`.
fn project(trigger: &str, url: &str) -> tempfile::TempDir {
    common::project(&[
        ("weft.toml", common::MANIFEST),
        ("src/flows.weft", format!("{CUSTOMER_MODEL}{SYNC_FLOW}").replace("TRIGGER", trigger).as_bytes()),
        (
            "src/environments.weft",
            format!(
                "environment test {{\n  erp = http(\"{url}/erp\", auth: bearer(secret \"CRM_TOKEN\"))\n  crm = http(\"{url}/crm\", auth: bearer(secret \"CRM_TOKEN\"), timeout: 30s)\n}}\n"
            )
            .as_bytes(),
        ),
    ])
}

/// `n` active customers as the ERP answers them.
fn customers(n: u32) -> String {
    let items: Vec<String> = (1..=n)
        .map(|i| format!(r#"{{"id": {i}, "name": "c{i}", "active": true}}"#))
        .collect();
    format!("[{}]", items.join(","))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// A running `weft serve`; killed when dropped. Its stderr goes to a file in the project.
struct Serve {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Serve {
    fn start(dir: &Path, extra: &[&str], secrets: &[(&str, &str)]) -> Serve {
        let port = free_port();
        let log = dir.join(format!("serve-{port}.log"));
        let listen = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
        command
            .args([
                "serve",
                "--from-source",
                "--dev",
                "--env",
                "test",
                "--listen",
                &listen,
            ])
            .args(extra)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("CRM_TOKEN")
            .env_remove("WEFT_WEBHOOK_SECRET")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap_or_else(|e| panic!("log: {e}")));
        for (name, value) in secrets {
            command.env(name, value);
        }
        let child = command.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
        let serve = Serve { child, port, log };
        serve.wait_ready();
        serve
    }

    /// The `Authorization` header of the admin `--dev` created (its token in `.weft/token`).
    fn admin(&self, dir: &Path) -> String {
        let token = std::fs::read_to_string(dir.join(".weft/token"))
            .unwrap_or_else(|e| panic!("no admin token: {e}"));
        format!("Bearer {}", token.trim())
    }

    fn wait_ready(&self) {
        let started = Instant::now();
        while http(self.port, "GET", "/health", &[], "").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "weft serve never listened: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit code.
    fn stop(mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn puts(server: &FakeServer) -> Vec<Seen> {
    server
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT")
        .collect()
}

fn weft(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CRM_TOKEN");
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run weft: {e}"))
}

#[test]
fn a_scheduled_flow_moves_records_and_a_sigterm_stops_cleanly() {
    let server = FakeServer::start(|request, _| {
        if request.path.starts_with("/erp/") {
            // A careless ERP that echoes the token it was sent into a record.
            let auth = request
                .header("authorization")
                .unwrap_or_default()
                .to_owned();
            return reply(
                200,
                format!(
                    r#"[{{"id": 1, "name": "ada", "active": true}}, {{"id": 2, "name": "{auth}", "active": false}}, {{"id": 3, "name": "cy", "active": true}}]"#
                ),
            );
        }
        reply(200, "{}")
    });
    let dir = project("every 1s", &server.url());
    let serve = Serve::start(dir.path(), &[], &SECRETS);
    let (status, health) = http(serve.port, "GET", "/health", &[], "").unwrap_or_default();
    assert_eq!(status, 200);
    let health = json(&health);
    assert_eq!(health["environments"][0]["name"], "test");
    assert_eq!(health["environments"][0]["flows"][0]["name"], "sync");
    assert_eq!(
        health["environments"][0]["flows"][0]["triggers"][0],
        "every 1s"
    );
    assert!(
        health["environments"][0]["flows"][0]["next_run"].is_string(),
        "{health}"
    );

    wait_for("two scheduled runs", Duration::from_secs(15), || {
        puts(&server).len() >= 4
    });
    let delivered: BTreeSet<String> = puts(&server).iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        delivered,
        BTreeSet::from(["/crm/accounts/1".to_owned(), "/crm/accounts/3".to_owned()])
    );
    assert!(puts(&server)
        .iter()
        .all(|s| s.header("authorization") == Some("Bearer crm-t0ken-8841")));
    let log_path = serve.log.clone();
    assert_eq!(serve.stop(), Some(0));
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(log.contains("host.stopped"), "{log}");
    assert!(
        log.contains("run.trigger env=test flow=sync trigger=schedule"),
        "{log}"
    );
    assert!(log.contains("run.finish env=test flow=sync"), "{log}");
    assert!(log.contains("status=succeeded"), "{log}");

    let runs = weft(&["runs", "--format", "json"], dir.path(), &[]);
    let listed = json(&stdout(&runs));
    let list = listed["runs"].as_array().cloned().unwrap_or_default();
    assert!(list.len() >= 2, "{listed}");
    assert!(
        list.iter()
            .all(|r| r["trigger"] == "schedule" && r["status"] == "succeeded"),
        "{listed}"
    );
    let logs: Vec<String> = std::fs::read_dir(dir.path())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    let texts: Vec<&str> = logs.iter().map(String::as_str).collect();
    for (_, secret) in SECRETS {
        assert_nowhere(secret, &texts, dir.path());
    }
}

#[test]
fn webhooks_run_only_when_signed() {
    let server = FakeServer::start(|request, _| {
        if request.path.starts_with("/erp/") {
            return reply(200, customers(2));
        }
        reply(200, "{}")
    });
    let dir = project("webhook \"/erp/changed\"", &server.url());
    let serve = Serve::start(dir.path(), &[], &SECRETS);
    let body = r#"{"event": "changed"}"#;
    let path = "/hooks/test/erp/changed";
    let missing = http(serve.port, "POST", path, &[], body).unwrap_or_default();
    assert_eq!(missing.0, 401, "{missing:?}");
    let wrong = weft_runtime::host::sign(b"not-the-key", body.as_bytes());
    let bad = http(
        serve.port,
        "POST",
        path,
        &[("X-Weft-Signature-256", &wrong)],
        body,
    )
    .unwrap_or_default();
    assert_eq!(bad.0, 401);
    // Signed for another body.
    let other = weft_runtime::host::sign(SECRETS[1].1.as_bytes(), b"{}");
    let replayed = http(
        serve.port,
        "POST",
        path,
        &[("X-Weft-Signature-256", &other)],
        body,
    )
    .unwrap_or_default();
    assert_eq!(replayed.0, 401);
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.seen().is_empty(), "a rejected webhook ran the flow");
    let unknown = http(serve.port, "POST", "/hooks/test/nope", &[], body).unwrap_or_default();
    assert_eq!(unknown.0, 404);

    let good = weft_runtime::host::sign(SECRETS[1].1.as_bytes(), body.as_bytes());
    let (status, answer) = http(
        serve.port,
        "POST",
        path,
        &[("X-Weft-Signature-256", &good)],
        body,
    )
    .unwrap_or_default();
    assert_eq!(status, 202, "{answer}");
    let answer = json(&answer);
    assert_eq!(answer["runs"][0]["flow"], "sync");
    assert!(answer["runs"][0]["run"].as_i64().is_some(), "{answer}");
    wait_for("the webhook's run", Duration::from_secs(10), || {
        puts(&server).len() == 2
    });
    let log = serve.log();
    assert_eq!(log.matches("webhook.rejected").count(), 3, "{log}");
    assert!(log.contains("trigger=webhook"), "{log}");
    drop(serve);
    let texts = [log.as_str()];
    for (_, secret) in SECRETS {
        assert_nowhere(secret, &texts, dir.path());
    }
}

#[test]
fn a_failing_target_dead_letters_through_the_run_endpoint_and_replay_delivers() {
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&healthy);
    let server = FakeServer::start(move |request, _| {
        if request.path.starts_with("/erp/") {
            return reply(200, customers(2));
        }
        if flag.load(Ordering::SeqCst) {
            reply(204, "")
        } else {
            reply(500, "down")
        }
    });
    let dir = project("manual", &server.url());
    let serve = Serve::start(dir.path(), &[], &SECRETS);
    // A manual run needs a token with the deployer role there.
    let run = r#"{"flow": "sync", "env": "test"}"#;
    let refused = http(serve.port, "POST", "/v1/runs", &[], run).unwrap_or_default();
    assert_eq!(refused.0, 401, "{}", refused.1);
    assert!(puts(&server).is_empty());
    let admin = serve.admin(dir.path());
    let auth = [("Authorization", admin.as_str())];
    let (status, record) = http(serve.port, "POST", "/v1/runs", &auth, run).unwrap_or_default();
    assert_eq!(status, 200, "{record}");
    let record = json(&record);
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["counts"]["dead_lettered"], 2);
    assert_eq!(record["counts"]["retries"], 4);
    assert_eq!(puts(&server).len(), 6, "3 attempts for each of 2 records");
    let unknown = http(
        serve.port,
        "POST",
        "/v1/runs",
        &auth,
        r#"{"flow": "nope", "env": "test"}"#,
    )
    .unwrap_or_default();
    assert_eq!(unknown.0, 404);
    drop(serve);

    healthy.store(true, Ordering::SeqCst);
    let replay = weft(
        &["deadletters", "replay", "--flow", "sync", "--env", "test"],
        dir.path(),
        &SECRETS,
    );
    assert_eq!(replay.status.code(), Some(0), "{}", stderr(&replay));
    assert!(
        stdout(&replay).contains("2 delivered, 0 still failing"),
        "{}",
        stdout(&replay)
    );
    let all = puts(&server);
    assert_eq!(all.len(), 8);
    for replayed in &all[6..] {
        let first = all.iter().find(|s| s.path == replayed.path);
        assert_eq!(
            replayed.header("idempotency-key"),
            first.and_then(|s| s.header("idempotency-key")),
            "a replay carries the record's key"
        );
    }
}

#[test]
fn a_killed_host_resumes_its_run_and_delivers_every_record() {
    const N: u32 = 40;
    let slow = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&slow);
    let server = FakeServer::start(move |request, _| {
        if request.path.starts_with("/erp/") {
            return reply(200, customers(N));
        }
        if flag.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
        }
        reply(200, "{}")
    });
    let dir = project("manual", &server.url());
    let serve = Serve::start(dir.path(), &[], &SECRETS);
    let port = serve.port;
    let admin = serve.admin(dir.path());
    let caller = std::thread::spawn(move || {
        http(
            port,
            "POST",
            "/v1/runs",
            &[("Authorization", admin.as_str())],
            r#"{"flow": "sync", "env": "test"}"#,
        )
    });
    wait_for("some deliveries", Duration::from_secs(15), || {
        puts(&server).len() >= 10
    });
    let mut serve = serve;
    // SIGKILL: no chance to finish anything.
    let _ = serve.child.kill();
    let _ = serve.child.wait();
    let _ = caller.join();
    let before = puts(&server).len();
    assert!(before < N as usize, "the run finished before the kill");
    let runs = json(&stdout(&weft(
        &["runs", "--format", "json"],
        dir.path(),
        &[],
    )));
    assert_eq!(runs["runs"][0]["status"], "running");

    slow.store(false, Ordering::SeqCst);
    let again = Serve::start(dir.path(), &[], &SECRETS);
    wait_for("the resumed run", Duration::from_secs(20), || {
        json(&stdout(&weft(
            &["runs", "--format", "json"],
            dir.path(),
            &[],
        )))["runs"][0]["trigger"]
            == "resume"
    });
    let log = again.log();
    assert!(
        log.contains("run.interrupted env=test flow=sync run=1"),
        "{log}"
    );
    drop(again);

    let all = puts(&server);
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for put in &all {
        let key = put.header("idempotency-key").unwrap_or_default().to_owned();
        keys.entry(put.path.clone()).or_default().insert(key);
    }
    let expected: BTreeSet<String> = (1..=N).map(|i| format!("/crm/accounts/{i}")).collect();
    assert_eq!(
        keys.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every record delivered"
    );
    assert!(
        keys.values()
            .all(|k| k.len() == 1 && !k.iter().any(String::is_empty)),
        "a record sent again carries its first key: {keys:?}"
    );
    let runs = json(&stdout(&weft(
        &["runs", "--format", "json"],
        dir.path(),
        &[],
    )));
    let list = runs["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2, "{runs}");
    assert_eq!(list[1]["status"], "interrupted");
    assert_eq!(list[0]["status"], "succeeded");
    assert_eq!(
        list[0]["counts"]["read"].as_u64(),
        Some(u64::from(N)),
        "the whole unsettled batch resumed"
    );
}

#[test]
fn an_environment_with_a_missing_secret_is_refused() {
    let server = FakeServer::start(|_, _| reply(200, "[]"));
    let dir = project("every 1s", &server.url());
    let out = weft(
        &[
            "serve",
            "--from-source",
            "--env",
            "test",
            "--listen",
            "127.0.0.1:0",
        ],
        dir.path(),
        &[("WEFT_WEBHOOK_SECRET", "x")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("CRM_TOKEN (for crm auth.token)"), "{text}");
    assert!(text.contains("flow `sync`"), "{text}");
    assert!(text.contains("environment `test` not started"), "{text}");

    let hooked = project("webhook \"/x\"", &server.url());
    let out = weft(
        &[
            "serve",
            "--from-source",
            "--env",
            "test",
            "--listen",
            "127.0.0.1:0",
        ],
        hooked.path(),
        &[("CRM_TOKEN", "t")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs the secret WEFT_WEBHOOK_SECRET"),
        "{}",
        stderr(&out)
    );
    assert!(server.seen().is_empty());
}

#[test]
fn a_file_dropped_in_a_watched_folder_is_processed_and_moved() {
    let dir = common::project(&[
        ("weft.toml", common::MANIFEST),
        (
            "src/flows.weft",
            br#"
schema Order {
  id: Int
  amount: Int
}

connection inbox: file
connection outbox: file

flow orders {
  trigger every 1h
  read inbox.read("orders/*.ndjson") as [Order]
  where o => o.amount > 0
  write outbox.write("orders.ndjson")
}
"#,
        ),
        (
            "src/environments.weft",
            b"environment test {\n  inbox = file(\"data/in\")\n  outbox = file(\"data/out\")\n}\n",
        ),
    ]);
    std::fs::create_dir_all(dir.path().join("data/in/orders")).unwrap_or_else(|e| panic!("{e}"));
    let serve = Serve::start(dir.path(), &[], &[]);
    std::fs::write(
        dir.path().join("data/in/orders/ignored.csv"),
        "id,amount\n9,9\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("data/in/orders/a.ndjson"),
        "{\"id\": 1, \"amount\": 5}\n{\"id\": 2, \"amount\": 0}\n{\"id\": 3, \"amount\": 7}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let moved = dir.path().join("data/in/orders/processed/a.ndjson");
    wait_for("the file moved", Duration::from_secs(15), || {
        moved.is_file()
    });
    assert!(!dir.path().join("data/in/orders/a.ndjson").exists());
    assert!(dir.path().join("data/in/orders/ignored.csv").exists());
    let written =
        std::fs::read_to_string(dir.path().join("data/out/orders.ndjson")).unwrap_or_default();
    assert_eq!(
        written,
        "{\"amount\":5,\"id\":1}\n{\"amount\":7,\"id\":3}\n"
    );
    // A second file is read once, on its own.
    std::fs::write(
        dir.path().join("data/in/orders/b.ndjson"),
        "{\"id\": 4, \"amount\": 1}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let moved_b = dir.path().join("data/in/orders/processed/b.ndjson");
    wait_for("the second file moved", Duration::from_secs(15), || {
        moved_b.is_file()
    });
    let written =
        std::fs::read_to_string(dir.path().join("data/out/orders.ndjson")).unwrap_or_default();
    assert_eq!(written.lines().count(), 3, "{written}");
    assert!(serve.log().contains("trigger=watch"), "{}", serve.log());
}
