//! Control API throughput and rollback latency.
//!
//! 1. Deploy and approve calls per second against the real `weft serve`
//!    on loopback (SQLite state in a temporary file, 4 client threads with keep-alive).
//! 2. Rollback latency in process: from the breaching run being handed to the monitor
//!    (`Delivery::observe_run`) to the previous known-good version being active.
//!
//! Run with `cargo bench -p weft --bench control`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use weft_runtime::artifact::Artifact;
use weft_runtime::delivery::identity::{Grant, Identity};
use weft_runtime::delivery::sqlite::SqliteDeliveryStore;
use weft_runtime::delivery::{Delivery, Options};
use weft_runtime::state::{Counts, RunRecord, RunStatus, Trigger};

const FLOW: &str = r#"
schema Customer { id: Int
  name: String }
schema Account { ExternalId: String
  Name: String }
connection erp: http
connection crm: http
flow sync {
  trigger manual
  read erp.get("/customers") as [Customer]
  map customer_to_account
  write crm.put("/accounts/{ExternalId}")
}
environment dev { erp = http("http://127.0.0.1:9")
  crm = http("http://127.0.0.1:9") }
environment prod { erp = http("http://127.0.0.1:9")
  crm = http("http://127.0.0.1:9") }
promotion {
  dev -> prod
  prod: require approvals 1 from "leads", no self approval
}
rollback sync in prod { when error_rate > 50% over 10m, min 2 runs; then previous; alert "oncall" }
"#;

fn build(dir: &Path, name_expr: &str) -> Value {
    std::fs::create_dir_all(dir.join("src")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join("weft.toml"),
        "[project]\nname = \"shop\"\nversion = \"1.0.0\"\nsources = [\"src\"]\n\n[groups]\nleads = [\"bob\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let map = format!("map customer_to_account(c: Customer) -> Account {{\n  ExternalId = to_string(c.id)\n  Name = {name_expr}\n}}\n");
    std::fs::write(dir.join("src/flow.weft"), format!("{FLOW}{map}"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["build", "--out", "dist"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text =
        std::fs::read_to_string(dir.join("dist/shop-1.0.0.json")).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    )
}

fn post(agent: &ureq::Agent, url: &str, token: &str, body: &Value) -> (u16, Value) {
    let mut response = agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn throughput(threads: usize, per_thread: usize, call: impl Fn(&ureq::Agent, usize) + Sync) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let agent = agent();
                for i in 0..per_thread {
                    call(&agent, i);
                }
            });
        }
    });
    (threads * per_thread) as f64 / started.elapsed().as_secs_f64()
}

fn server_benchmark(dir: &Path, artifact: &Value, bad: &Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args([
            "serve",
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--poll-ms",
            "100",
            "--state",
        ])
        .arg(dir.join("state.db"))
        .arg(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut lines = BufReader::new(child.stderr.take().unwrap_or_else(|| panic!("stderr"))).lines();
    let (mut url, mut admin) = (String::new(), String::new());
    for line in lines.by_ref().map_while(Result::ok) {
        if line.starts_with("weft_") {
            admin = line;
        } else if let Some(rest) = line.split_once(" host.listening address=").map(|(_, a)| a) {
            url = format!(
                "http://{}",
                rest.split_whitespace().next().unwrap_or_default()
            );
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let a = agent();
    let mut tokens = Vec::new();
    for (name, grants) in [
        ("alice", json!(["deployer"])),
        ("bob", json!(["approver:prod"])),
    ] {
        post(
            &a,
            &format!("{url}/v1/users"),
            &admin,
            &json!({"name": name, "grants": grants}),
        );
        let (_, t) = post(
            &a,
            &format!("{url}/v1/users/{name}/tokens"),
            &admin,
            &json!({}),
        );
        tokens.push(t["token"].as_str().unwrap_or_default().to_string());
    }
    let (alice, bob) = (tokens[0].clone(), tokens[1].clone());
    let deploy = json!({"artifact": artifact, "environment": "dev"});
    let deploys = throughput(4, 500, |agent, _| {
        let (status, _) = post(agent, &format!("{url}/v1/artifacts"), &alice, &deploy);
        assert_eq!(status, 201);
    });
    println!("deploy calls:            {deploys:>8.0} per second (2,000 calls, 4 clients)");
    let cycles = throughput(4, 250, |agent, _| {
        let (status, p) = post(
            agent,
            &format!("{url}/v1/promotions"),
            &alice,
            &json!({"flow": "sync", "to": "prod"}),
        );
        assert_eq!(status, 202, "{p}");
        let (status, p) = post(
            agent,
            &format!("{url}/v1/promotions/{}/approve", p["id"]),
            &bob,
            &json!({}),
        );
        assert_eq!(status, 201, "{p}");
    });
    println!(
        "promote + approve calls: {:>8.0} per second (2,000 calls, 4 clients)",
        cycles * 2.0
    );

    // The real server's path: failed runs written to the state file (as `weft run`
    // writes them), read by the monitor's poll (every 100 ms), rolled back.
    let promote = |artifact: &Value| {
        let (status, _) = post(
            &a,
            &format!("{url}/v1/artifacts"),
            &alice,
            &json!({"artifact": artifact, "environment": "dev"}),
        );
        assert_eq!(status, 201);
        let (_, p) = post(
            &a,
            &format!("{url}/v1/promotions"),
            &alice,
            &json!({"flow": "sync", "to": "prod"}),
        );
        let (status, _) = post(
            &a,
            &format!("{url}/v1/promotions/{}/approve", p["id"]),
            &bob,
            &json!({}),
        );
        assert_eq!(status, 201);
    };
    let active = || -> String {
        let mut response = a
            .get(&format!("{url}/v1/status"))
            .header("Authorization", &format!("Bearer {alice}"))
            .call()
            .unwrap_or_else(|e| panic!("{e}"));
        let body: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap_or_default())
                .unwrap_or_default();
        body["flows"]["sync"]["prod"]["digest"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let mut runs = weft_runtime::state::sqlite::SqliteStore::open(&dir.join("state.db"))
        .unwrap_or_else(|e| panic!("{e}"));
    let bad_digest = bad["digest"].as_str().unwrap_or_default().to_string();
    let mut latencies = Vec::new();
    for _ in 0..20 {
        promote(bad);
        std::thread::sleep(Duration::from_millis(5));
        let mut started = Instant::now();
        for _ in 0..2 {
            use weft_runtime::state::Store;
            let id = runs
                .start_run(&weft_runtime::state::NewRun {
                    flow: "sync".into(),
                    environment: "prod".into(),
                    digest: bad_digest.clone(),
                    trigger: Trigger::Manual,
                })
                .unwrap_or_else(|e| panic!("{e}"));
            runs.finish_run(id, 1, &Counts::default(), Some("read failed: HTTP 500"))
                .unwrap_or_else(|e| panic!("{e}"));
            started = Instant::now();
        }
        while active() == bad_digest {
            assert!(started.elapsed() < Duration::from_secs(5), "no rollback");
            std::thread::sleep(Duration::from_millis(1));
        }
        latencies.push(started.elapsed());
        promote(artifact);
    }
    latencies.sort();
    println!(
        "rollback through the server (100 ms poll): median {:.0} ms, max {:.0} ms from the breaching run stored to re-activation (20 rollbacks)",
        latencies[latencies.len() / 2].as_secs_f64() * 1000.0,
        latencies[latencies.len() - 1].as_secs_f64() * 1000.0
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn run(digest: &str, id: i64, status: RunStatus) -> RunRecord {
    RunRecord {
        id,
        flow: "sync".into(),
        environment: "prod".into(),
        digest: digest.into(),
        trigger: Trigger::Manual,
        status,
        started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_ms: Some(5),
        counts: Counts::default(),
        failure: Some("read failed: HTTP 500".into()),
    }
}

fn rollback_benchmark(dir: &Path, good: Artifact, bad: Artifact) {
    let store =
        SqliteDeliveryStore::open(&dir.join("inprocess.db")).unwrap_or_else(|e| panic!("{e}"));
    let mut groups = weft_runtime::delivery::identity::Groups::new();
    groups.insert(
        "shop".into(),
        [("leads".to_string(), vec!["bob".to_string()])].into(),
    );
    let delivery = Arc::new(Delivery::new(
        Box::new(store),
        Options {
            groups,
            ..Options::default()
        },
    ));
    let who = |name: &str, grant: &str| Identity {
        name: name.into(),
        grants: vec![Grant::parse(grant).unwrap_or_else(|e| panic!("{e}"))],
    };
    let (alice, bob) = (who("alice", "deployer"), who("bob", "approver:prod"));
    let promote = |artifact: &Artifact| {
        delivery
            .deploy(&alice, artifact.clone(), "dev", None)
            .unwrap_or_else(|e| panic!("{e}"));
        let p = delivery
            .promote(&alice, "sync", "prod")
            .unwrap_or_else(|e| panic!("{e}"));
        delivery
            .approve(&bob, p.id)
            .unwrap_or_else(|e| panic!("{e}"));
    };
    promote(&good);
    let mut latencies = Vec::new();
    let mut id = 0;
    for _ in 0..100 {
        promote(&bad);
        std::thread::sleep(Duration::from_millis(2));
        id += 1;
        let _ = delivery.observe_run(&run(&bad.digest, id, RunStatus::Failed));
        id += 1;
        let breaching = run(&bad.digest, id, RunStatus::Failed);
        let started = Instant::now();
        let outcome = delivery
            .observe_run(&breaching)
            .unwrap_or_else(|e| panic!("{e}"));
        let elapsed = started.elapsed();
        assert!(outcome.and_then(|o| o.activation).is_some(), "no rollback");
        let active = delivery
            .active("prod", "sync")
            .ok()
            .flatten()
            .map(|a| a.version.digest);
        assert_eq!(active.as_deref(), Some(good.digest.as_str()));
        latencies.push(elapsed);
        // Re-promoting the rolled-back digest must come through the approval again.
        promote(&good);
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "rollback, breaching run to re-activation: median {:.2} ms, p99 {:.2} ms, max {:.2} ms (100 rollbacks)",
        ms(latencies[latencies.len() / 2]),
        ms(latencies[latencies.len() * 99 / 100]),
        ms(latencies[latencies.len() - 1])
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let good = build(dir.path(), "upper(c.name)");
    let bad_dir = dir.path().join("bad");
    let bad = build(&bad_dir, "lower(c.name)");
    server_benchmark(dir.path(), &good, &bad);
    let parse = |v: Value| serde_json::from_value::<Artifact>(v).unwrap_or_else(|e| panic!("{e}"));
    rollback_benchmark(dir.path(), parse(good), parse(bad));
}
