//! End to end: `weft run`, `weft runs` and `weft deadletters` against a fake ERP and CRM
//! served from this test on 127.0.0.1, with real SQLite state files.

mod common;
mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{stderr, stdout};
use support::{reply, FakeServer, Reply, Seen, CUSTOMER_MODEL};

const SYNC_FLOW: &str = r#"
flow sync {
  trigger manual
  read erp.get("/customers?since={last_run}") as [Customer]
  where c => c.active
  map customer_to_account
  write crm.put("/accounts/{ExternalId}")
  on error retry 2 backoff 10ms then dead_letter
}
"#;

/// A project with the customer flow and this `environment test { ... }` body.
fn project(environment: &str) -> tempfile::TempDir {
    common::project(&[
        ("weft.toml", common::MANIFEST),
        (
            "src/flows.weft",
            format!("{CUSTOMER_MODEL}{SYNC_FLOW}").as_bytes(),
        ),
        (
            "src/environments.weft",
            format!("environment test {{\n{environment}\n}}\n").as_bytes(),
        ),
    ])
}

/// Runs `weft` in `dir` with these environment variables (and no inherited secrets).
fn weft(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_weft"));
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    for name in [
        "ERP_USER",
        "ERP_PASSWORD",
        "CRM_TOKEN",
        "CRM_ID",
        "CRM_SECRET",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run weft: {e}"))
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const PAGE_1: &str =
    r#"[{"id": 1, "name": "ada", "active": true}, {"id": 2, "name": "bob", "active": false}]"#;
const PAGE_2: &str = r#"[{"id": 3, "name": "cy", "active": true}]"#;

/// The ERP: two pages of customers linked by `Link: rel="next"`.
fn erp_answer(request: &Seen, base: &str) -> Reply {
    if request.path.starts_with("/erp/customers?page=2") {
        return reply(200, PAGE_2);
    }
    Reply {
        status: 200,
        headers: vec![(
            "Link".into(),
            format!("<{base}/erp/customers?page=2>; rel=\"next\""),
        )],
        body: PAGE_1.into(),
    }
}

#[test]
fn a_manual_run_moves_records_from_erp_pages_to_the_crm_with_auth_and_idempotency_keys() {
    let base = Arc::new(Mutex::new(String::new()));
    let base_for_server = Arc::clone(&base);
    let server = FakeServer::start(move |request, _| {
        let base = base_for_server
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default();
        match request.path.as_str() {
            "/oauth/token" => reply(
                200,
                r#"{"access_token": "tok-from-oauth", "expires_in": 3600}"#,
            ),
            p if p.starts_with("/erp/") => erp_answer(request, &base),
            _ => reply(200, r#"{"ok": true}"#),
        }
    });
    if let Ok(mut b) = base.lock() {
        *b = server.url();
    }
    let url = server.url();
    let dir = project(&format!(
        r#"  erp = http("{url}/erp", auth: basic(secret "ERP_USER", secret "ERP_PASSWORD"), pagination: "link")
  crm = http("{url}/crm/", auth: oauth2(token_url: "{url}/oauth/token", client_id: secret "CRM_ID", client_secret: secret "CRM_SECRET"), timeout: 5s, rate_limit: 100)"#
    ));
    std::fs::write(
        dir.path().join("secrets.env"),
        "# test secrets\nERP_USER=etl\nERP_PASSWORD=\"pa ss-w0rd\"\nCRM_ID=client-1\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let secret_env = [("CRM_SECRET", "cl13nt-s3cret")];
    let out = weft(
        &["run", "sync", "--env", "test", "--secrets", "secrets.env"],
        dir.path(),
        &secret_env,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let summary = stdout(&out);
    assert!(
        summary.starts_with("run 1 of sync in test: succeeded in "),
        "{summary}"
    );
    assert!(
        summary.contains("read 3, delivered 2, dropped 1, skipped 0, dead-lettered 0, retries 0"),
        "{summary}"
    );

    let seen = server.seen();
    let erp: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.path.starts_with("/erp/"))
        .collect();
    assert_eq!(erp.len(), 2, "two pages");
    assert_eq!(erp[0].path, "/erp/customers?since=1970-01-01T00:00:00Z");
    // base64("etl:pa ss-w0rd")
    assert_eq!(
        erp[0].header("authorization"),
        Some("Basic ZXRsOnBhIHNzLXcwcmQ=")
    );
    assert!(erp.iter().all(|s| s.header("idempotency-key").is_none()));

    let token: Vec<&Seen> = seen.iter().filter(|s| s.path == "/oauth/token").collect();
    assert_eq!(token.len(), 1, "the token is fetched once and cached");
    assert_eq!(
        token[0].body,
        "grant_type=client_credentials&client_id=client-1&client_secret=cl13nt-s3cret"
    );

    let crm: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.path.starts_with("/crm/"))
        .collect();
    let paths: Vec<(&str, &str)> = crm
        .iter()
        .map(|s| (s.method.as_str(), s.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        vec![("PUT", "/crm/accounts/1"), ("PUT", "/crm/accounts/3")]
    );
    assert_eq!(
        json(&crm[0].body),
        serde_json::json!({"ExternalId": "1", "Name": "ADA"})
    );
    assert!(crm
        .iter()
        .all(|s| s.header("authorization") == Some("Bearer tok-from-oauth")));
    let keys: Vec<&str> = crm
        .iter()
        .filter_map(|s| s.header("idempotency-key"))
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);

    // A second run asks for changes since the first run started, with the same keys.
    let again = weft(
        &["run", "sync", "--env", "test", "--secrets", "secrets.env"],
        dir.path(),
        &secret_env,
    );
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let seen = server.seen();
    let second_read = seen
        .iter()
        .filter(|s| s.path.starts_with("/erp/customers?since="))
        .nth(1)
        .map(|s| s.path.clone())
        .unwrap_or_default();
    assert!(
        !second_read.ends_with("1970-01-01T00:00:00Z"),
        "{second_read}"
    );
    let second_keys: Vec<&str> = seen
        .iter()
        .filter(|s| s.path.starts_with("/crm/"))
        .skip(2)
        .filter_map(|s| s.header("idempotency-key"))
        .collect();
    assert_eq!(second_keys, keys);

    let runs = weft(&["runs", "--format", "json"], dir.path(), &[]);
    assert_eq!(runs.status.code(), Some(0), "{}", stderr(&runs));
    let listed = json(&stdout(&runs));
    let list = listed["runs"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["status"], "succeeded");
    assert_eq!(list[1]["counts"]["delivered"], 2);
    assert_eq!(list[1]["trigger"], "manual");
    assert!(list[1]["digest"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(dir.path().join(".weft/state.db").is_file());
}

/// Every file under `dir` and every output, as bytes, must not contain `secret`.
fn assert_nowhere(secret: &str, outputs: &[&Output], dir: &Path) {
    for out in outputs {
        assert!(
            !stdout(out).contains(secret),
            "stdout leaks {secret}: {}",
            stdout(out)
        );
        assert!(
            !stderr(out).contains(secret),
            "stderr leaks {secret}: {}",
            stderr(out)
        );
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "env") {
                let bytes = std::fs::read(&path).unwrap_or_default();
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{} holds {secret}", path.display());
            }
        }
    }
}

#[test]
fn a_failing_target_gets_retries_then_dead_letters_and_replay_delivers_them() {
    let healthy = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&healthy);
    let server = FakeServer::start(move |request, _| {
        if request.path.starts_with("/erp/") {
            return reply(
                200,
                format!(
                    "[{}, {}]",
                    &PAGE_1[1..PAGE_1.len() - 1],
                    &PAGE_2[1..PAGE_2.len() - 1]
                ),
            );
        }
        if flag.lock().map(|h| *h).unwrap_or(false) {
            return reply(204, "");
        }
        // A careless server that echoes the credentials it was sent.
        let auth = request.header("authorization").unwrap_or_default();
        reply(
            500,
            format!("{{\"error\": \"database down\", \"auth\": \"{auth}\"}}"),
        )
    });
    let url = server.url();
    let dir = project(&format!(
        r#"  erp = http("{url}/erp", auth: basic(secret "ERP_USER", secret "ERP_PASSWORD"))
  crm = http("{url}/crm", auth: bearer(secret "CRM_TOKEN"))"#
    ));
    let secrets = [
        ("ERP_USER", "etl"),
        ("ERP_PASSWORD", "erp-pw-7781"),
        ("CRM_TOKEN", "crm-token-5512"),
    ];
    let state = dir.path().join("state/run.db");
    let state_arg = state.display().to_string();
    let run = weft(
        &["run", "sync", "--env", "test", "--state", &state_arg],
        dir.path(),
        &secrets,
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let summary = stdout(&run);
    assert!(
        summary.contains("read 3, delivered 0, dropped 1, skipped 0, dead-lettered 2, retries 4"),
        "{summary}"
    );
    assert!(
        summary.contains("weft deadletters list --flow sync --env test"),
        "{summary}"
    );
    let puts = |server: &FakeServer| {
        server
            .seen()
            .into_iter()
            .filter(|s| s.method == "PUT")
            .collect::<Vec<_>>()
    };
    assert_eq!(puts(&server).len(), 6, "3 attempts for each of 2 records");

    let list = weft(
        &["deadletters", "list", "--state", &state_arg],
        dir.path(),
        &[],
    );
    let listed = stdout(&list);
    assert_eq!(
        listed
            .matches("sync in test (run 1, step 3, 3 attempts")
            .count(),
        2,
        "{listed}"
    );
    assert!(listed.contains("crm.put failed: status 500"), "{listed}");
    assert!(listed.contains("Bearer ***"), "{listed}");
    let json_list = weft(
        &[
            "deadletters",
            "list",
            "--format",
            "json",
            "--state",
            &state_arg,
        ],
        dir.path(),
        &[],
    );
    let letters = json(&stdout(&json_list))["dead_letters"].clone();
    assert_eq!(
        letters[1]["record"],
        serde_json::json!({"id": 1, "name": "ada", "active": true})
    );
    let key = letters[1]["idempotency_key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        puts(&server)[0].header("idempotency-key"),
        Some(key.as_str())
    );

    // Still down: the letters stay, with the replay's run.
    let still = weft(
        &[
            "deadletters",
            "replay",
            "--flow",
            "sync",
            "--env",
            "test",
            "--state",
            &state_arg,
        ],
        dir.path(),
        &secrets,
    );
    assert_eq!(still.status.code(), Some(1), "{}", stderr(&still));
    assert_eq!(
        stdout(&still),
        "replayed 2 dead letters of sync in test (run 2): 0 delivered, 2 still failing\n"
    );

    if let Ok(mut h) = healthy.lock() {
        *h = true;
    }
    let before = puts(&server).len();
    let replay = weft(
        &[
            "deadletters",
            "replay",
            "--flow",
            "sync",
            "--env",
            "test",
            "--state",
            &state_arg,
        ],
        dir.path(),
        &secrets,
    );
    assert_eq!(replay.status.code(), Some(0), "{}", stderr(&replay));
    assert_eq!(
        stdout(&replay),
        "replayed 2 dead letters of sync in test (run 3): 2 delivered, 0 still failing\n"
    );
    let delivered = puts(&server);
    assert_eq!(delivered.len() - before, 2, "each record delivered once");
    assert_eq!(
        delivered[before].header("idempotency-key"),
        Some(key.as_str())
    );
    let empty = weft(
        &["deadletters", "list", "--state", &state_arg],
        dir.path(),
        &[],
    );
    assert_eq!(stdout(&empty), "no dead letters\n");
    let runs = weft(&["runs", "--state", &state_arg], dir.path(), &[]);
    let table = stdout(&runs);
    assert!(
        table.starts_with("ID  FLOW  ENV   TRIGGER  STATUS"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 4, "{table}");

    for secret in ["erp-pw-7781", "crm-token-5512"] {
        assert_nowhere(
            secret,
            &[&run, &list, &json_list, &still, &replay, &runs],
            dir.path(),
        );
    }
}

#[test]
fn a_missing_secret_is_refused_before_any_request() {
    let server = FakeServer::start(|_, _| reply(200, "[]"));
    let url = server.url();
    let dir = project(&format!(
        r#"  erp = http("{url}/erp", auth: basic(secret "ERP_USER", secret "ERP_PASSWORD"))
  crm = http("{url}/crm", auth: bearer(secret "CRM_TOKEN"))"#
    ));
    let out = weft(
        &["run", "sync", "--env", "test"],
        dir.path(),
        &[("ERP_USER", "etl")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "weft run: environment `test` needs secrets that are not set: CRM_TOKEN (for crm auth.token); \
         ERP_PASSWORD (for erp auth.password); set them as environment variables or in the --secrets file; \
         nothing was run\n"
    );
    assert!(server.seen().is_empty());
    assert!(
        !dir.path().join(".weft").exists(),
        "no state before a run can start"
    );

    let unknown = weft(&["run", "sync", "--env", "prod"], dir.path(), &[]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no environment named `prod` (environments: test)"));

    let bad_file = weft(
        &["run", "sync", "--env", "test", "--secrets", "nope.env"],
        dir.path(),
        &[],
    );
    assert_eq!(bad_file.status.code(), Some(2));
    assert!(stderr(&bad_file).starts_with("weft run: cannot read the secrets file nope.env"));
}

#[test]
fn cursor_pages_are_followed_and_retry_after_is_honoured() {
    let server = FakeServer::start(|request, earlier| {
        if let Some(query) = request.path.strip_prefix("/erp/customers?") {
            return if query.contains("cursor=c2") {
                reply(200, format!(r#"{{"data": {PAGE_2}, "next": null}}"#))
            } else {
                reply(200, format!(r#"{{"data": {PAGE_1}, "next": "c2"}}"#))
            };
        }
        let throttled_before = earlier.iter().any(|s| s.method == "PUT");
        if throttled_before {
            reply(200, "OK")
        } else {
            Reply {
                status: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: "slow down".into(),
            }
        }
    });
    let url = server.url();
    let dir = project(&format!(
        r#"  erp = http("{url}/erp", auth: api_key("X-Api-Key", secret "ERP_PASSWORD"),
    pagination: cursor(field: "next", param: "cursor", items: "data"))
  crm = http("{url}/crm", auth: bearer(secret "CRM_TOKEN"), headers: headers(x_tenant: "eu"))"#
    ));
    let secrets = [("ERP_PASSWORD", "k-1"), ("CRM_TOKEN", "t-1")];
    let out = weft(&["run", "sync", "--env", "test"], dir.path(), &secrets);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out)
            .contains("read 3, delivered 2, dropped 1, skipped 0, dead-lettered 0, retries 1"),
        "{}",
        stdout(&out)
    );
    let seen = server.seen();
    let reads: Vec<&str> = seen
        .iter()
        .filter(|s| s.method == "GET")
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(
        reads,
        vec![
            "/erp/customers?since=1970-01-01T00:00:00Z",
            "/erp/customers?since=1970-01-01T00:00:00Z&cursor=c2"
        ]
    );
    assert!(seen
        .iter()
        .filter(|s| s.method == "GET")
        .all(|s| s.header("x-api-key") == Some("k-1")));
    let puts: Vec<&Seen> = seen.iter().filter(|s| s.method == "PUT").collect();
    assert_eq!(puts.len(), 3);
    assert!(puts.iter().all(|s| s.header("x-tenant") == Some("eu")));
    let waited = puts[1].at.duration_since(puts[0].at);
    assert!(
        waited >= Duration::from_secs(1),
        "waited only {waited:?} despite Retry-After: 1"
    );
}

#[test]
fn a_fetched_oauth2_token_that_a_server_echoes_is_masked() {
    let server = FakeServer::start(|request, _| match request.path.as_str() {
        "/oauth/token" => reply(
            200,
            r#"{"access_token": "fetched-tok-4242", "expires_in": 60}"#,
        ),
        p if p.starts_with("/erp/") => reply(200, PAGE_2),
        _ => {
            let auth = request.header("authorization").unwrap_or_default();
            reply(503, format!("{{\"seen\": \"{auth}\"}}"))
        }
    });
    let url = server.url();
    let dir = project(&format!(
        r#"  erp = http("{url}/erp", auth: bearer(secret "CRM_TOKEN"))
  crm = http("{url}/crm", auth: oauth2(token_url: "{url}/oauth/token", client_id: "weft", client_secret: secret "CRM_SECRET"))"#
    ));
    let secrets = [("CRM_TOKEN", "erp-tok-1"), ("CRM_SECRET", "oauth-secret-9")];
    let run = weft(&["run", "sync", "--env", "test"], dir.path(), &secrets);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let list = weft(&["deadletters", "list"], dir.path(), &[]);
    assert!(
        stdout(&list).contains(r#"status 503: {"seen": "Bearer ***"}"#),
        "{}",
        stdout(&list)
    );
    for secret in ["fetched-tok-4242", "oauth-secret-9", "erp-tok-1"] {
        assert_nowhere(secret, &[&run, &list], dir.path());
    }
}

#[test]
fn a_run_killed_mid_way_shows_as_running() {
    let server = FakeServer::start(|request, _| {
        if request.method == "PUT" {
            std::thread::sleep(Duration::from_secs(20));
        }
        reply(200, PAGE_1)
    });
    let url = server.url();
    let dir = project(&format!(
        r#"  erp = http("{url}/erp", auth: bearer(secret "CRM_TOKEN"))
  crm = http("{url}/crm", auth: bearer(secret "CRM_TOKEN"), timeout: 60s)"#
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["run", "sync", "--env", "test"])
        .current_dir(dir.path())
        .env("CRM_TOKEN", "t")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let started = Instant::now();
    while !server.seen().iter().any(|s| s.method == "PUT") {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "weft never wrote"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap_or_else(|e| panic!("kill: {e}"));
    let _ = child.wait();
    let runs = weft(&["runs", "--format", "json"], dir.path(), &[]);
    let listed = json(&stdout(&runs));
    assert_eq!(listed["runs"][0]["status"], "running", "{listed}");
    assert_eq!(listed["runs"][0]["duration_ms"], serde_json::Value::Null);
    let table = stdout(&weft(&["runs"], dir.path(), &[]));
    assert!(
        table.lines().nth(1).is_some_and(|l| l.contains("running")),
        "{table}"
    );
}

/// A paginated read streams page by page (the engine takes batches of 500 records),
/// and a later page that fails once (503) is fetched again without losing the records
/// already read.
#[test]
fn pages_stream_through_the_flow_and_a_failing_later_page_is_retried() {
    let server = FakeServer::start(|request, earlier| {
        if let Some(query) = request.path.strip_prefix("/erp/customers?") {
            if !query.contains("cursor=c2") {
                return reply(200, format!(r#"{{"data": {PAGE_1}, "next": "c2"}}"#));
            }
            let asked_before = earlier.iter().any(|s| s.path.contains("cursor=c2"));
            return if asked_before {
                reply(200, format!(r#"{{"data": {PAGE_2}, "next": null}}"#))
            } else {
                reply(503, "busy")
            };
        }
        reply(200, "OK")
    });
    let url = server.url();
    let dir = project(&format!(
        r#"  erp = http("{url}/erp", auth: api_key("X-Api-Key", secret "ERP_PASSWORD"),
    pagination: cursor(field: "next", param: "cursor", items: "data"))
  crm = http("{url}/crm", auth: bearer(secret "CRM_TOKEN"))"#
    ));
    let secrets = [("ERP_PASSWORD", "k-1"), ("CRM_TOKEN", "t-1")];
    let out = weft(&["run", "sync", "--env", "test"], dir.path(), &secrets);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("read 3, delivered 2, dropped 1"),
        "{}",
        stdout(&out)
    );
    let seen = server.seen();
    let order: Vec<String> = seen
        .iter()
        .map(|s| match s.method.as_str() {
            "GET" if s.path.contains("cursor=c2") => "page 2".to_owned(),
            "GET" => "page 1".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    assert_eq!(
        order,
        ["page 1", "page 2", "page 2", "PUT", "PUT"],
        "{order:?}"
    );
}
