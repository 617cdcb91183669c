use std::collections::BTreeMap;

use chrono::TimeZone;

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn window(spec: &str) -> Window {
    Window::parse(spec).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn window_edges_start_inside_end_outside() {
    let w = window("Mon-Fri 09:00-17:00");
    // 2026-01-05 is a Monday.
    assert!(!w.contains(at("2026-01-05T08:59:59Z")));
    assert!(w.contains(at("2026-01-05T09:00:00Z")));
    assert!(w.contains(at("2026-01-05T16:59:59Z")));
    assert!(!w.contains(at("2026-01-05T17:00:00Z")));
    assert!(w.contains(at("2026-01-09T12:00:00Z")), "Friday");
    assert!(!w.contains(at("2026-01-10T12:00:00Z")), "Saturday");
    assert!(!w.contains(at("2026-01-11T12:00:00Z")), "Sunday");
}

#[test]
fn window_forms() {
    let w = window("Mon,Wed 08:00-12:00 UTC");
    assert!(w.contains(at("2026-01-07T08:00:00Z")), "Wednesday");
    assert!(!w.contains(at("2026-01-06T09:00:00Z")), "Tuesday");
    // Wrapping day range: Friday to Monday.
    let w = window("Fri-Mon 10:00-11:00");
    assert!(w.contains(at("2026-01-11T10:30:00Z")), "Sunday");
    assert!(!w.contains(at("2026-01-07T10:30:00Z")), "Wednesday");
    // Past midnight belongs to the day it opens on.
    let w = window("Sat 22:00-02:00");
    assert!(w.contains(at("2026-01-10T23:00:00Z")), "Saturday night");
    assert!(w.contains(at("2026-01-11T01:59:00Z")), "early Sunday");
    assert!(!w.contains(at("2026-01-11T02:00:00Z")));
    assert!(
        !w.contains(at("2026-01-10T01:00:00Z")),
        "early Saturday is Friday's night"
    );
    // Until midnight, and every day.
    let w = window("Sun 20:00-24:00");
    assert!(w.contains(at("2026-01-11T23:59:59Z")));
    assert!(!w.contains(at("2026-01-12T00:00:00Z")));
    assert!(window("00:00-24:00").contains(
        Utc.with_ymd_and_hms(2026, 2, 28, 3, 0, 0)
            .single()
            .unwrap_or_default()
    ));
}

#[test]
fn malformed_windows_say_why() {
    for (spec, why) in [
        ("Mon-Fri", "time range"),
        ("Mon-Fri 9:00-17:00", "not HH:MM"),
        ("Mon-Fry 09:00-17:00", "unknown day `Fry`"),
        ("Mon 09:00-09:00", "empty"),
        ("Mon 09:60-10:00", "not a time of day"),
        ("Mon 25:00-26:00", "not a time of day"),
        ("Mon Tue 09:00-10:00", "expected DAYS"),
    ] {
        let error = Window::parse(spec).err().unwrap_or_default();
        assert!(error.contains(why), "{spec}: {error}");
    }
}

fn groups() -> Groups {
    let mut project = BTreeMap::new();
    project.insert(
        "leads".to_string(),
        vec!["alice".to_string(), "bob".to_string(), "dave".to_string()],
    );
    project.insert("managers".to_string(), vec!["carol".to_string()]);
    BTreeMap::from([("shop".to_string(), project)])
}

fn prod_gates() -> Vec<Gate> {
    vec![
        Gate::Tests,
        Gate::Approvals {
            count: 2,
            group: "leads".into(),
        },
        Gate::Approvals {
            count: 1,
            group: "managers".into(),
        },
        Gate::NoSelfApproval,
        Gate::Window {
            spec: "Mon-Fri 09:00-17:00".into(),
        },
    ]
}

fn judge(approvals: &[&str], tests: bool, now: &str) -> Evaluation {
    let groups = groups();
    let approvals: Vec<String> = approvals.iter().map(|s| s.to_string()).collect();
    evaluate(
        &prod_gates(),
        &Context {
            project: "shop",
            groups: &groups,
            requester: "alice",
            approvals: &approvals,
            tests_passed: tests,
            now: at(now),
        },
    )
}

#[test]
fn verdicts() {
    let monday_noon = "2026-01-05T12:00:00Z";
    assert_eq!(judge(&[], false, monday_noon).verdict, Verdict::Refuse);
    assert_eq!(
        judge(&["bob", "dave", "carol"], false, monday_noon).verdict,
        Verdict::Refuse
    );
    assert_eq!(
        judge(&["bob"], true, monday_noon).verdict,
        Verdict::AwaitApproval
    );
    assert_eq!(
        judge(&["bob", "dave", "carol"], true, monday_noon).verdict,
        Verdict::Pass
    );
    assert_eq!(
        judge(&["bob", "dave", "carol"], true, "2026-01-10T12:00:00Z").verdict,
        Verdict::OutsideWindow
    );
    // Strangers and the requester do not count.
    let e = judge(&["alice", "bob", "mallory", "carol"], true, monday_noon);
    assert_eq!(e.verdict, Verdict::AwaitApproval);
    assert_eq!(e.gates[1].detail, "1 of 2 approvals from leads (bob)");
}

#[test]
fn self_approval() {
    assert!(forbids_self_approval(&prod_gates(), "alice", "alice"));
    assert!(!forbids_self_approval(&prod_gates(), "alice", "bob"));
    assert!(!forbids_self_approval(&[Gate::Tests], "alice", "alice"));
    assert!(needs_approval(&prod_gates()));
    assert!(!needs_approval(&[Gate::Tests]));
}
