use std::collections::BTreeMap;

use std::sync::{Arc, Mutex};

use petgraph::graph::DiGraph;

use super::*;
use crate::artifact::{program_digest, BuildInfo, ProjectInfo, SourceMap};
use crate::delivery::sqlite::SqliteDeliveryStore;
use crate::delivery::store::ActivationState;
use crate::ir::{ErrorPolicy, Flow, Promotion as Chain, Rollback, Trigger};
use crate::state::{Counts, RunStatus, Trigger as RunTrigger};

fn artifact(version: &str, doc: &str) -> Artifact {
    let flow = Flow {
        doc: Some(doc.to_string()),
        triggers: vec![Trigger::Manual],
        graph: DiGraph::new(),
        error_policy: ErrorPolicy::default(),
    };
    let program = Program {
        flows: BTreeMap::from([("sync".to_string(), flow)]),
        promotion: Some(Chain {
            chain: vec!["dev".into(), "prod".into()],
            gates: BTreeMap::from([(
                "prod".to_string(),
                vec![
                    Gate::Approvals {
                        count: 1,
                        group: "leads".into(),
                    },
                    Gate::NoSelfApproval,
                ],
            )]),
        }),
        rollbacks: vec![Rollback {
            flow: "sync".into(),
            environment: "prod".into(),
            threshold_percent: 50.0,
            window_millis: 600_000,
            min_runs: 2,
            action: "previous".into(),
            alerts: vec!["oncall".into()],
        }],
        ..Program::default()
    };
    Artifact {
        format: 1,
        project: ProjectInfo {
            name: "shop".into(),
            version: version.into(),
        },
        digest: program_digest(&program),
        source_digest: String::new(),
        build: BuildInfo::default(),
        program,
        source_map: SourceMap::default(),
        tests: Vec::new(),
    }
}

fn user(name: &str, grants: &[&str]) -> Identity {
    Identity {
        name: name.into(),
        grants: grants
            .iter()
            .map(|g| Grant::parse(g).unwrap_or_else(|e| panic!("{e}")))
            .collect(),
    }
}

fn service(store: SqliteDeliveryStore) -> Delivery {
    let groups = BTreeMap::from([(
        "shop".to_string(),
        BTreeMap::from([(
            "leads".to_string(),
            vec!["alice".to_string(), "bob".to_string()],
        )]),
    )]);
    Delivery::new(
        Box::new(store),
        Options {
            groups,
            ..Options::default()
        },
    )
}

fn memory() -> Delivery {
    service(SqliteDeliveryStore::in_memory().unwrap_or_else(|e| panic!("{e}")))
}

fn ok<T>(result: Result<T, Error>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn promote(d: &Delivery, a: &Artifact) -> Promotion {
    let (alice, bob) = (
        user("alice", &["deployer", "approver:prod"]),
        user("bob", &["approver:prod"]),
    );
    ok(d.deploy(&alice, a.clone(), "dev", None));
    let pending = ok(d.promote(&alice, "sync", "prod"));
    assert_eq!(pending.status, PromotionStatus::Pending);
    ok(d.approve(&bob, pending.id))
}

fn failed_run(id: i64, digest: &str) -> RunRecord {
    RunRecord {
        id,
        flow: "sync".into(),
        environment: "prod".into(),
        digest: digest.into(),
        trigger: RunTrigger::Manual,
        status: RunStatus::Failed,
        started_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_ms: Some(1),
        counts: Counts::default(),
        failure: Some("HTTP 500".into()),
    }
}

#[test]
fn the_requester_cannot_approve_and_a_group_member_activates() {
    let d = memory();
    let (alice, bob) = (
        user("alice", &["deployer", "approver:prod"]),
        user("bob", &["approver:prod"]),
    );
    let v1 = artifact("1.0.0", "one");
    ok(d.deploy(&alice, v1.clone(), "dev", None));
    let pending = ok(d.promote(&alice, "sync", "prod"));
    assert_eq!(
        d.approve(&alice, pending.id)
            .err()
            .map(|e| matches!(e, Error::Forbidden(_))),
        Some(true)
    );
    assert!(matches!(
        d.approve(&user("carol", &["deployer"]), pending.id),
        Err(Error::Forbidden(_))
    ));
    let done = ok(d.approve(&bob, pending.id));
    assert_eq!(done.status, PromotionStatus::Activated);
    assert_eq!(
        ok(d.active("prod", "sync")).map(|a| a.version.digest),
        Some(v1.digest)
    );
    let refused = ok(d.audit(None))
        .iter()
        .filter(|e| e.action == "refused")
        .count();
    assert_eq!(
        refused, 0,
        "the service leaves auditing refusals to the API layer"
    );
    // Deploying straight into prod is refused; so is a tampered artifact.
    assert!(matches!(
        d.deploy(&alice, artifact("1.0.0", "x"), "prod", None),
        Err(Error::Conflict(_))
    ));
    let mut tampered = artifact("1.0.0", "y");
    tampered.program.rollbacks.clear();
    assert!(matches!(
        d.deploy(&alice, tampered, "dev", None),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn a_breach_rolls_back_and_the_bad_version_needs_a_new_promotion() {
    let d = memory();
    let mut changes = d.subscribe();
    let (v1, v2) = (artifact("1.0.0", "one"), artifact("1.1.0", "two"));
    promote(&d, &v1);
    promote(&d, &v2);
    std::thread::sleep(std::time::Duration::from_millis(3));
    assert!(
        ok(d.observe_run(&failed_run(1, &v2.digest))).is_none(),
        "below min runs"
    );
    let rolled =
        ok(d.observe_run(&failed_run(2, &v2.digest))).unwrap_or_else(|| panic!("no rollback"));
    assert_eq!(
        rolled.activation.map(|a| a.version.version),
        Some("1.0.0".to_string())
    );
    assert_eq!(rolled.alert["channels"], serde_json::json!(["oncall"]));
    let history = ok(d.store().history("sync", "prod").map_err(Error::from));
    assert_eq!(history[1].state, ActivationState::RolledBack);
    // Never back to 1.1.0 without a promotion.
    let alice = user("alice", &["deployer"]);
    assert!(matches!(
        d.rollback(&alice, "sync", "prod", Some("1.1.0"), "try"),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        d.rollback(&alice, "sync", "prod", None, "try"),
        Err(Error::Conflict(_))
    ));
    std::thread::sleep(std::time::Duration::from_millis(3));
    promote(&d, &v2);
    assert_eq!(
        ok(d.active("prod", "sync")).map(|a| a.version.version),
        Some("1.1.0".to_string())
    );
    // Old failures do not count against the new activation.
    assert!(ok(d.observe_run(&failed_run(3, &v2.digest))).is_none());
    // Manual rollback to 1.0.0 by version.
    let back = ok(d.rollback(&alice, "sync", "prod", Some("1.0.0"), "by hand"));
    assert_eq!(back.version.version, "1.0.0");
    let mut seen = Vec::new();
    while let Ok(change) = changes.try_recv() {
        seen.push(format!(
            "{} {} {}",
            change.environment, change.version, change.cause
        ));
    }
    assert_eq!(
        seen,
        [
            "dev 1.0.0 deploy",
            "prod 1.0.0 promotion",
            "dev 1.1.0 deploy",
            "prod 1.1.0 promotion",
            "prod 1.0.0 rollback",
            "dev 1.1.0 deploy",
            "prod 1.1.0 promotion",
            "prod 1.0.0 rollback"
        ]
    );
    let verification = ok(d.verify());
    assert_eq!(verification.problem, None);
}

#[test]
fn only_token_hashes_are_stored() {
    let dir = std::env::temp_dir().join(format!("weft-delivery-{}", std::process::id()));
    let path = dir.join("state.db");
    let _ = std::fs::remove_file(&path);
    let d = service(SqliteDeliveryStore::open(&path).unwrap_or_else(|e| panic!("{e}")));
    let token = ok(d.bootstrap_admin("root")).unwrap_or_else(|| panic!("no token"));
    assert_eq!(ok(d.bootstrap_admin("root")), None, "only once");
    let admin = ok(d.authenticate(Some(&token)));
    assert!(admin.is_admin());
    ok(d.put_user(
        &admin,
        "alice",
        &[Grant::parse("deployer").unwrap_or_else(|e| panic!("{e}"))],
    ));
    let alice_token = ok(d.issue_token(&admin, "alice"));
    assert_eq!(ok(d.authenticate(Some(&alice_token))).name, "alice");
    assert!(matches!(
        d.authenticate(Some("weft_nope")),
        Err(Error::Unauthenticated(_))
    ));
    assert!(matches!(
        d.authenticate(None),
        Err(Error::Unauthenticated(_))
    ));
    assert!(matches!(
        d.issue_token(&ok(d.authenticate(Some(&alice_token))), "alice"),
        Err(Error::Forbidden(_))
    ));
    let bytes = std::fs::read(&path).unwrap_or_default();
    let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
    for secret in [&token, &alice_token] {
        let hex = &secret[5..];
        for file in [&bytes, &wal] {
            assert!(
                !file.windows(hex.len()).any(|w| w == hex.as_bytes()),
                "a token is stored in clear"
            );
        }
        let hash = token_hash(secret);
        assert!(
            bytes.windows(64).any(|w| w == hash.as_bytes())
                || wal.windows(64).any(|w| w == hash.as_bytes()),
            "its hash is stored"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_window_holds_an_approved_request_until_it_opens() {
    let now = Arc::new(Mutex::new(Utc::now()));
    let at = |text: &str| {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let clock = Arc::clone(&now);
    let groups = BTreeMap::from([(
        "shop".to_string(),
        BTreeMap::from([("leads".to_string(), vec!["bob".to_string()])]),
    )]);
    let make = || {
        let clock = Arc::clone(&clock);
        Delivery::new(
            Box::new(SqliteDeliveryStore::in_memory().unwrap_or_else(|e| panic!("{e}"))),
            Options {
                groups: groups.clone(),
                clock: Some(Arc::new(move || {
                    *clock.lock().unwrap_or_else(|p| p.into_inner())
                })),
                ..Options::default()
            },
        )
    };
    let d = make();
    let mut a = artifact("1.0.0", "windowed");
    if let Some(p) = a.program.promotion.as_mut() {
        p.gates.insert(
            "prod".into(),
            vec![
                Gate::Approvals {
                    count: 1,
                    group: "leads".into(),
                },
                Gate::Window {
                    spec: "Mon-Fri 09:00-17:00".into(),
                },
            ],
        );
    }
    a.digest = program_digest(&a.program);
    let (alice, bob) = (
        user("alice", &["deployer"]),
        user("bob", &["approver:prod"]),
    );
    ok(d.deploy(&alice, a, "dev", None));
    let set = |t: &str| *now.lock().unwrap_or_else(|p| p.into_inner()) = at(t);
    set("2026-01-10T12:00:00Z"); // a Saturday
    let pending = ok(d.promote(&alice, "sync", "prod"));
    assert_eq!(pending.status, PromotionStatus::Pending);
    assert_eq!(
        ok(d.approve(&bob, pending.id)).status,
        PromotionStatus::Pending
    );
    let again = d
        .approve(&bob, pending.id)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        again.contains("it waits for window \"Mon-Fri 09:00-17:00\": Sat 12:00 is outside"),
        "{again}"
    );
    set("2026-01-12T09:00:00Z"); // Monday, the window opens
    assert_eq!(
        ok(d.approve(&bob, pending.id)).status,
        PromotionStatus::Activated
    );
    // Without approvals to wait for, a closed window refuses (a fresh server: in this
    // one the gates of the version running in prod would still ask for approval).
    let d = make();
    set("2026-01-12T17:00:00Z");
    let mut b = artifact("1.1.0", "no approvals");
    if let Some(p) = b.program.promotion.as_mut() {
        p.gates.insert(
            "prod".into(),
            vec![Gate::Window {
                spec: "Mon-Fri 09:00-17:00".into(),
            }],
        );
    }
    b.digest = program_digest(&b.program);
    ok(d.deploy(&alice, b, "dev", None));
    let refused = ok(d.promote(&alice, "sync", "prod"));
    assert_eq!(refused.status, PromotionStatus::Refused);
    assert_eq!(
        refused.reason.as_deref(),
        Some("window \"Mon-Fri 09:00-17:00\": Mon 17:00 is outside the change window (UTC)")
    );
}

#[test]
fn a_version_cannot_weaken_the_gates_it_passes() {
    let d = memory();
    let (alice, bob) = (
        user("alice", &["deployer", "approver:prod"]),
        user("bob", &["approver:prod"]),
    );
    promote(&d, &artifact("1.0.0", "strict"));
    // 1.1.0 drops the prod gates: the gates of 1.0.0, running in prod, still apply.
    let mut weak = artifact("1.1.0", "weak");
    if let Some(p) = weak.program.promotion.as_mut() {
        p.gates.clear();
    }
    weak.digest = program_digest(&weak.program);
    ok(d.deploy(&alice, weak, "dev", None));
    let pending = ok(d.promote(&alice, "sync", "prod"));
    assert_eq!(pending.status, PromotionStatus::Pending);
    assert!(matches!(
        d.approve(&alice, pending.id),
        Err(Error::Forbidden(_))
    ));
    assert_eq!(
        ok(d.approve(&bob, pending.id)).status,
        PromotionStatus::Activated
    );
}

#[test]
fn a_version_the_environment_cannot_bind_is_refused_and_not_activated() {
    let binder: Binder = Arc::new(|_: &Program, flow: &str, environment: &str| {
        if environment == "dev" {
            Ok(())
        } else {
            Err(format!(
                "flow `{flow}` uses connection `archive`, which {environment} does not bind"
            ))
        }
    });
    let store = SqliteDeliveryStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let d = Delivery::new(
        Box::new(store),
        Options {
            binder: Some(binder),
            ..Options::default()
        },
    );
    let alice = user("alice", &["deployer"]);
    // No prod gates: without the binder the promotion would be activated at once.
    let mut open = artifact("1.0.0", "open");
    if let Some(p) = open.program.promotion.as_mut() {
        p.gates.clear();
    }
    open.digest = program_digest(&open.program);
    ok(d.deploy(&alice, open.clone(), "dev", None));
    let refused = ok(d.promote(&alice, "sync", "prod"));
    assert_eq!(refused.status, PromotionStatus::Refused);
    assert_eq!(
        refused.reason.as_deref(),
        Some("bindings: flow `sync` uses connection `archive`, which prod does not bind")
    );
    assert!(ok(d.active("prod", "sync")).is_none());
    assert!(!ok(d.audit(None))
        .iter()
        .any(|e| e.action == "activated" && e.environment.as_deref() == Some("prod")));
}
