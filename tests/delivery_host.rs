//! End to end: `weft serve --env ...` as one host that serves the delivery control API
//! and runs, in each environment, the flow versions deploy, promote and rollback
//! activate there, against a fake ERP and CRM served from this test. Every wait is
//! bounded, so a broken host fails the test instead of hanging it.

mod common;
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{stderr, stdout};
use serde_json::Value;
use support::{assert_nowhere, json, reply, wait_for, FakeServer, Seen, Server};

/// The secrets of each environment, as their secrets files hold them. Prod has no
/// `AUDIT_TOKEN`.
const DEV_SECRETS: [(&str, &str); 2] = [
    ("CRM_TOKEN", "dev-crm-t0ken-3141"),
    ("AUDIT_TOKEN", "dev-audit-t0ken-5926"),
];
const PROD_SECRETS: [(&str, &str); 1] = [("CRM_TOKEN", "prod-crm-t0ken-2718")];

const SOURCE: &str = r#"
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
connection audit: http
connection archive: http

flow sync {
  trigger every 1s
  read SOURCE.get("/customers") as [Customer]
  map customer_to_account
  write crm.put("/accounts/{ExternalId}")
  on error retry 0 backoff 10ms then fail
}

promotion {
  dev -> prod
  prod: require tests
}

rollback sync in dev { when error_rate > 50% over 1m, min 2 runs; then previous; alert "ops" }

test "sync delivers every customer" {
  mock crm.put("/accounts/{ExternalId}") returns {}
  run sync with [{ id: 1, name: "Ada" }]
  expect crm.put("/accounts/{ExternalId}") called 1 times
}
"#;

/// One version of the project: `sync` reads from `source` (`erp`, `audit` or
/// `archive`) and maps the name with `name`. The environments bind everything on `url`
/// under `/dev` and `/prod`, but prod binds `archive` only when `prod_archive` (the
/// host keeps the environments it compiled at start).
fn write_project(
    dir: &Path,
    version: &str,
    name: &str,
    source: &str,
    url: &str,
    prod_archive: bool,
) {
    let map = format!("map customer_to_account(c: Customer) -> Account {{\n  ExternalId = to_string(c.id)\n  Name = {name}\n}}\n");
    let environment = |env: &str, archive: bool| {
        let mut text = format!(
            "environment {env} {{\n  erp = http(\"{url}/{env}/erp\", auth: bearer(secret \"CRM_TOKEN\"))\n  crm = http(\"{url}/{env}/crm\", auth: bearer(secret \"CRM_TOKEN\"))\n  audit = http(\"{url}/{env}/audit\", auth: bearer(secret \"AUDIT_TOKEN\"))\n"
        );
        if archive {
            text.push_str(&format!("  archive = http(\"{url}/{env}/archive\")\n"));
        }
        text + "}\n"
    };
    let files = [
        (
            "weft.toml",
            format!("[project]\nname = \"shop\"\nversion = \"{version}\"\nsources = [\"src\"]\n"),
        ),
        ("src/flow.weft", SOURCE.replace("SOURCE", source) + &map),
        (
            "src/environments.weft",
            environment("dev", true) + &environment("prod", prod_archive),
        ),
        (
            "dev.env",
            DEV_SECRETS
                .iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect(),
        ),
        (
            "prod.env",
            PROD_SECRETS
                .iter()
                .map(|(k, v)| format!("{k}={v}\n"))
                .collect(),
        ),
    ];
    std::fs::create_dir_all(dir.join("src")).unwrap_or_else(|e| panic!("{e}"));
    for (path, text) in files {
        std::fs::write(dir.join(path), text).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// A built version: its artifact, its digest and its passing test report.
struct Version {
    artifact: String,
    digest: String,
    tests: String,
}

fn build(dir: &Path) -> Version {
    let artifact = support::build(dir);
    let digest = json(&std::fs::read_to_string(&artifact).unwrap_or_default())["digest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let out = common::weft(&["test", "--format", "json"], dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let tests = dir.join(format!("results-{}.json", &digest[7..19]));
    std::fs::write(&tests, &out.stdout).unwrap_or_else(|e| panic!("{e}"));
    Version {
        artifact,
        digest,
        tests: tests.to_string_lossy().into_owned(),
    }
}

/// `--env dev=<dir>/dev.env --env prod=<dir>/prod.env` (absolute: the server's working
/// folder is not the project).
fn env_args(dir: &Path) -> Vec<String> {
    ["dev", "prod"]
        .iter()
        .flat_map(|e| {
            [
                "--env".to_owned(),
                format!("{e}={}", dir.join(format!("{e}.env")).display()),
            ]
        })
        .collect()
}

fn start(dir: &Path, extra: &[&str]) -> Server {
    let envs = env_args(dir);
    let mut args: Vec<&str> = envs.iter().map(String::as_str).collect();
    args.extend(extra);
    Server::start(dir, &args)
}

fn deploy(server: &Server, version: &Version, dir: &Path) {
    let out = server.weft(
        &server.admin,
        &[
            "deploy",
            &version.artifact,
            "--env",
            "dev",
            "--tests",
            &version.tests,
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
    assert!(stdout(&out).contains("activated"), "{}", stdout(&out));
}

/// The ERP: two customers; the CRM: 200, or 500 for a lowercase name when `fail_lower`
/// (echoing the bearer token it was sent, as a careless server might).
fn fake_systems(fail_lower: Arc<AtomicBool>) -> FakeServer {
    FakeServer::start(move |request, _| {
        if request.method == "GET" {
            return reply(
                200,
                r#"[{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}]"#,
            );
        }
        if fail_lower.load(Ordering::SeqCst)
            && name_of(request).is_some_and(|n| n == n.to_lowercase())
        {
            let auth = request.header("authorization").unwrap_or_default();
            return reply(
                500,
                format!(r#"{{"error": "cannot store accounts for {auth}"}}"#),
            );
        }
        reply(200, "{}")
    })
}

fn name_of(request: &Seen) -> Option<String> {
    serde_json::from_str::<Value>(&request.body).ok()?["Name"]
        .as_str()
        .map(str::to_owned)
}

/// The accounts the CRM of `env` was sent, in order.
fn crm_puts(server: &FakeServer, env: &str) -> Vec<Seen> {
    let prefix = format!("/{env}/crm/accounts/");
    server
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT" && s.path.starts_with(&prefix))
        .collect()
}

/// The flows `/health` shows in an environment: (name, digest).
fn healthy(server: &Server, env: &str) -> Vec<(String, String)> {
    let health = server.health();
    let environment = health["environments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == env)
        .cloned()
        .unwrap_or_else(|| panic!("/health has no {env}: {health}"));
    environment["flows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or_default().to_owned(),
                f["digest"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// No secret value in the host's stderr, the audit export (JSON Lines and CSV), or any
/// file of the project (state, logs, artifacts) but the secrets files.
fn assert_no_secret_leaks(server: &Server, dir: &Path) {
    let mut texts = vec![server.log()];
    for format in ["jsonl", "csv"] {
        let out = server.weft(&server.admin, &["audit", "export", "--as", format], dir);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(!stdout(&out).is_empty());
        texts.push(stdout(&out));
    }
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    for (_, secret) in DEV_SECRETS.iter().chain(PROD_SECRETS.iter()) {
        assert_nowhere(secret, &texts, dir);
    }
}

#[test]
fn a_deployed_version_runs_on_its_trigger_and_a_new_one_from_the_next_firing() {
    let systems = fake_systems(Arc::default());
    let project = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = project.path();
    write_project(dir, "1.0.0", "upper(c.name)", "erp", &systems.url(), true);
    let v1 = build(dir);
    let server = start(dir, &[]);

    // Nothing is deployed: nothing runs, in any environment.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        systems.seen().is_empty(),
        "a request before any deploy: {:?}",
        systems.seen()
    );
    assert_eq!(healthy(&server, "dev"), vec![]);
    assert_eq!(healthy(&server, "prod"), vec![]);

    deploy(&server, &v1, dir);
    let deployed = Instant::now();
    wait_for(
        "the first version's records at the CRM",
        Duration::from_secs(10),
        || crm_puts(&systems, "dev").len() >= 2,
    );
    println!(
        "first records at the CRM {:?} after the deploy",
        deployed.elapsed()
    );
    let puts = crm_puts(&systems, "dev");
    let names: Vec<Option<String>> = puts.iter().take(2).map(name_of).collect();
    assert_eq!(names, [Some("ADA".to_owned()), Some("BOB".to_owned())]);
    assert!(puts
        .iter()
        .all(|p| p.header("authorization") == Some("Bearer dev-crm-t0ken-3141")));
    assert_eq!(
        healthy(&server, "dev"),
        vec![("sync".to_owned(), v1.digest.clone())]
    );
    assert_eq!(healthy(&server, "prod"), vec![]);
    assert!(
        systems.seen().iter().all(|s| s.path.starts_with("/dev/")),
        "prod ran a flow nobody promoted"
    );

    // A new map, a new version: the next firing runs it.
    write_project(dir, "1.1.0", "lower(c.name)", "erp", &systems.url(), true);
    let v2 = build(dir);
    assert_ne!(v1.digest, v2.digest);
    deploy(&server, &v2, dir);
    let deployed = Instant::now();
    wait_for(
        "the new version's records at the CRM",
        Duration::from_secs(10),
        || {
            crm_puts(&systems, "dev")
                .iter()
                .filter(|p| name_of(p).as_deref() == Some("bob"))
                .count()
                >= 2
        },
    );
    println!(
        "new shape at the CRM {:?} after the deploy",
        deployed.elapsed()
    );
    let puts = crm_puts(&systems, "dev");
    let first_new = puts
        .iter()
        .position(|p| name_of(p).as_deref() == Some("ada"))
        .unwrap_or_default();
    let after: Vec<Option<String>> = puts[first_new..].iter().map(name_of).collect();
    assert!(
        after
            .iter()
            .all(|n| n.as_deref().is_some_and(|n| n == "ada" || n == "bob")),
        "the old version ran after the new one: {after:?}"
    );
    assert_eq!(
        healthy(&server, "dev"),
        vec![("sync".to_owned(), v2.digest.clone())]
    );
    assert_eq!(healthy(&server, "prod"), vec![]);
    let status = server.json(&server.admin, &["status"], dir);
    assert_eq!(
        status["flows"]["sync"]["dev"]["version"], "1.1.0",
        "{status}"
    );

    let log = server.log();
    assert!(
        log.contains("run.trigger env=dev flow=sync trigger=schedule"),
        "{log}"
    );
    assert_no_secret_leaks(&server, dir);
}

#[test]
fn a_failing_version_is_rolled_back_through_the_host_and_alerted() {
    let fail_lower = Arc::new(AtomicBool::new(true));
    let systems = fake_systems(Arc::clone(&fail_lower));
    let hook = FakeServer::start(|_, _| reply(200, "{}"));
    let project = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = project.path();
    write_project(dir, "1.0.0", "upper(c.name)", "erp", &systems.url(), true);
    let v1 = build(dir);
    write_project(dir, "1.1.0", "lower(c.name)", "erp", &systems.url(), true);
    let v2 = build(dir);
    let server = start(dir, &["--alert-webhook", &hook.url()]);

    deploy(&server, &v1, dir);
    wait_for(
        "the first version's records",
        Duration::from_secs(10),
        || crm_puts(&systems, "dev").len() >= 2,
    );
    // The CRM refuses the lowercase shape: every run of 1.1.0 fails at its first record.
    deploy(&server, &v2, dir);
    let is_upper = |p: &Seen| name_of(p).is_some_and(|n| n == n.to_uppercase());
    let is_lower = |p: &Seen| name_of(p).is_some_and(|n| n == n.to_lowercase());
    wait_for(
        "the old shape at the CRM again after the rollback",
        Duration::from_secs(15),
        || {
            let puts = crm_puts(&systems, "dev");
            puts.iter()
                .position(is_lower)
                .is_some_and(|first| puts[first..].iter().any(is_upper))
        },
    );
    let restored_seen = Instant::now();
    let puts = crm_puts(&systems, "dev");
    let failing: Vec<&Seen> = puts.iter().filter(|p| is_lower(p)).collect();
    assert_eq!(
        failing.len(),
        2,
        "two failed runs breach `min 2 runs`, and then 1.1.0 stops"
    );
    println!(
        "old shape at the CRM again {:?} after the breaching run's request",
        restored_seen.duration_since(failing[1].at)
    );
    assert_eq!(
        healthy(&server, "dev"),
        vec![("sync".to_owned(), v1.digest.clone())]
    );
    let status = server.json(&server.admin, &["status"], dir);
    assert_eq!(
        status["flows"]["sync"]["dev"]["version"], "1.0.0",
        "{status}"
    );
    assert_eq!(
        status["flows"]["sync"]["dev"]["cause"], "rollback",
        "{status}"
    );

    // The host's runs are what the monitor judged.
    let runs = json(&stdout(&common::weft(
        &[
            "runs",
            "--flow",
            "sync",
            "--env",
            "dev",
            "--format",
            "json",
            "--limit",
            "100",
            "--state",
            &server.state.to_string_lossy(),
        ],
        dir,
    )));
    let failed: Vec<&Value> = runs["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "{runs}");
    assert!(
        failed
            .iter()
            .all(|r| r["digest"] == v2.digest.as_str() && r["trigger"] == "schedule"),
        "{runs}"
    );
    // Newest first: the second failed run breached the policy.
    let breaching = failed[0];
    let finished = time(breaching["started_at"].as_str().unwrap_or_default())
        + chrono::Duration::milliseconds(breaching["duration_ms"].as_i64().unwrap_or_default());

    wait_for("the alert", Duration::from_secs(10), || {
        !hook.seen().is_empty()
    });
    let alerts = hook.seen();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = json(&alerts[0].body);
    assert_eq!(alert["event"], "rolled_back", "{alert}");
    assert_eq!(alert["environment"], "dev");
    assert_eq!(alert["channels"], serde_json::json!(["ops"]));
    assert_eq!(alert["bad"]["version"], "1.1.0");
    assert_eq!(alert["restored"]["version"], "1.0.0");
    assert_eq!(alert["decision"]["failed"], 2);

    let audit = server.weft(&server.admin, &["audit", "export", "--as", "jsonl"], dir);
    let rolled_back = stdout(&audit)
        .lines()
        .map(json)
        .find(|e| e["action"] == "rolled_back")
        .unwrap_or_else(|| panic!("no rolled_back entry: {}", stdout(&audit)));
    assert_eq!(rolled_back["actor"], "weft");
    assert_eq!(rolled_back["version"], "1.1.0");
    let latency = time(rolled_back["at"].as_str().unwrap_or_default()) - finished;
    println!(
        "rollback through the host: re-activated {} ms after the breaching run finished",
        latency.num_milliseconds()
    );
    assert!(
        latency < chrono::Duration::seconds(5),
        "rollback took {latency}"
    );
    assert!(
        stdout(&audit).contains("\"alert_sent\""),
        "{}",
        stdout(&audit)
    );

    // After the rollback only the restored version runs.
    let count = crm_puts(&systems, "dev").len();
    wait_for(
        "another run of the restored version",
        Duration::from_secs(10),
        || crm_puts(&systems, "dev").len() >= count + 2,
    );
    let last = crm_puts(&systems, "dev");
    let last_lower = last.iter().rposition(is_lower).unwrap_or_default();
    assert!(last[last_lower + 1..].iter().all(is_upper));
    assert!(systems.seen().iter().all(|s| s.path.starts_with("/dev/")));
    // The CRM echoed the token into its error: the host logged and stored it masked.
    let log = server.log();
    assert!(log.contains("status=failed"), "{log}");
    assert!(log.contains("Bearer ***"), "{log}");
    assert!(
        failed.iter().all(|r| r["failure"]
            .as_str()
            .is_some_and(|f| f.contains("Bearer ***"))),
        "{runs}"
    );
    assert_no_secret_leaks(&server, dir);
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("not a time ({e}): {text}"))
}

#[test]
fn a_version_prod_cannot_bind_is_refused_and_prod_keeps_its_version() {
    let systems = fake_systems(Arc::default());
    let project = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = project.path();
    // The host starts with prod binding no `archive` connection, and its prod secrets
    // file has no AUDIT_TOKEN.
    write_project(dir, "1.0.0", "upper(c.name)", "erp", &systems.url(), false);
    let v1 = build(dir);
    let server = start(dir, &[]);
    deploy(&server, &v1, dir);
    let promoted = server.json(&server.admin, &["promote", "sync", "--to", "prod"], dir);
    assert_eq!(promoted["status"], "activated", "{promoted}");
    wait_for("prod running 1.0.0", Duration::from_secs(10), || {
        !crm_puts(&systems, "prod").is_empty()
    });
    assert!(crm_puts(&systems, "prod")
        .iter()
        .all(|p| p.header("authorization") == Some("Bearer prod-crm-t0ken-2718")));

    let refused = |version: &str, source: &str, names: &[&str]| {
        write_project(dir, version, "upper(c.name)", source, &systems.url(), true);
        let built = build(dir);
        deploy(&server, &built, dir);
        let out = server.weft(
            &server.admin,
            &["promote", "sync", "--to", "prod", "--format", "json"],
            dir,
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        let promotion = json(&stdout(&out));
        assert_eq!(promotion["status"], "refused", "{promotion}");
        let reason = promotion["reason"].as_str().unwrap_or_default();
        assert!(reason.starts_with("bindings: "), "{reason}");
        for name in names {
            assert!(reason.contains(name), "the reason names {name}: {reason}");
        }
        let text = server.weft(&server.admin, &["promote", "sync", "--to", "prod"], dir);
        assert_eq!(text.status.code(), Some(1));
        assert!(
            stdout(&text).contains("dev -> prod: refused"),
            "{}",
            stdout(&text)
        );
        assert!(stdout(&text).contains(reason), "{}", stdout(&text));
        built
    };
    // A secret prod's secrets file does not hold.
    let v2 = refused("1.1.0", "audit", &["AUDIT_TOKEN", "audit", "flow `sync`"]);
    // A connection prod does not bind on this host.
    let v3 = refused("1.2.0", "archive", &["archive", "prod"]);

    // Deploying is refused the same way: webhooks in dev need WEFT_WEBHOOK_SECRET.
    write_project(dir, "1.3.0", "upper(c.name)", "erp", &systems.url(), true);
    let flows = std::fs::read_to_string(dir.join("src/flow.weft")).unwrap_or_default();
    let hooked = flows.replace("trigger every 1s", "trigger webhook \"/erp/changed\"");
    std::fs::write(dir.join("src/flow.weft"), hooked).unwrap_or_else(|e| panic!("{e}"));
    let v4 = build(dir);
    let out = server.weft(
        &server.admin,
        &["deploy", &v4.artifact, "--env", "dev", "--tests", &v4.tests],
        dir,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains(": refused"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("WEFT_WEBHOOK_SECRET"),
        "{}",
        stdout(&out)
    );

    // Dev runs the last deploy; prod still runs 1.0.0.
    assert_eq!(
        healthy(&server, "dev"),
        vec![("sync".to_owned(), v3.digest.clone())]
    );
    assert_eq!(
        healthy(&server, "prod"),
        vec![("sync".to_owned(), v1.digest.clone())]
    );
    let status = server.json(&server.admin, &["status"], dir);
    assert_eq!(
        status["flows"]["sync"]["prod"]["digest"],
        v1.digest.as_str(),
        "{status}"
    );
    assert_eq!(
        status["flows"]["sync"]["prod"]["cause"], "promotion",
        "{status}"
    );
    let audit = stdout(&server.weft(&server.admin, &["audit", "export", "--as", "jsonl"], dir));
    let prod_activations = audit
        .lines()
        .map(json)
        .filter(|e| e["action"] == "activated" && e["environment"] == "prod")
        .count();
    assert_eq!(prod_activations, 1, "{audit}");
    for version in [&v2, &v3] {
        assert!(
            !audit.lines().map(json).any(|e| e["environment"] == "prod"
                && e["digest"] == version.digest.as_str()
                && e["action"] == "activated"),
            "{audit}"
        );
    }
    // Prod never tried the new versions' connections.
    let count = crm_puts(&systems, "prod").len();
    wait_for("prod running on", Duration::from_secs(10), || {
        crm_puts(&systems, "prod").len() > count
    });
    assert!(systems
        .seen()
        .iter()
        .all(|s| !s.path.starts_with("/prod/audit") && !s.path.starts_with("/prod/archive")));
    assert!(!server.log().contains("flow.not_bound"), "{}", server.log());
    assert_no_secret_leaks(&server, dir);
}

#[test]
fn from_source_is_refused_for_an_environment_reached_by_promotion() {
    let systems = fake_systems(Arc::default());
    let project = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = project.path();
    write_project(dir, "1.0.0", "upper(c.name)", "erp", &systems.url(), true);
    let mut args = vec!["serve".to_owned(), "--from-source".to_owned()];
    args.extend(env_args(dir));
    args.extend(["--listen", "127.0.0.1:0", "--state"].map(str::to_owned));
    args.push(dir.join("state.db").to_string_lossy().into_owned());
    args.push(dir.to_string_lossy().into_owned());
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(&args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap_or_else(|e| panic!("{e}")))
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("weft serve --from-source with prod kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    assert_eq!(status.code(), Some(2), "{log}");
    assert_eq!(
        log,
        "weft serve: --from-source runs unreviewed source, and `prod` is reached only by promotion (dev -> prod); deploy an artifact instead\n"
    );
    assert!(systems.seen().is_empty());
}
