use serde_json::json;

use super::*;
use crate::delivery::audit::{NewEntry, GENESIS};

fn at(text: &str) -> DateTime<Utc> {
    time(text).unwrap_or_else(|| panic!("{text}"))
}

/// A scripted history in prod (and one noise event in staging).
fn history() -> Vec<Entry> {
    let events = [
        // (time, action, env, details)
        (
            "2026-03-02T10:00:00Z",
            "activated",
            "prod",
            json!({"activation": 1, "cause": "promotion", "commit_time": "2026-03-01T10:00:00Z"}),
        ),
        (
            "2026-03-03T12:00:00Z",
            "activated",
            "staging",
            json!({"activation": 2, "cause": "promotion", "commit_time": "2026-03-03T11:00:00Z"}),
        ),
        (
            "2026-03-04T10:00:00Z",
            "activated",
            "prod",
            json!({"activation": 3, "cause": "promotion", "commit_time": "2026-03-03T22:00:00Z"}),
        ),
        (
            "2026-03-04T10:30:00Z",
            "rolled_back",
            "prod",
            json!({"rolled_back_activation": 3, "failing_since": "2026-03-04T10:10:00Z"}),
        ),
        (
            "2026-03-04T10:30:00Z",
            "activated",
            "prod",
            json!({"activation": 4, "cause": "rollback"}),
        ),
        (
            "2026-03-06T16:00:00Z",
            "activated",
            "prod",
            json!({"activation": 5, "cause": "promotion", "commit_time": "2026-03-06T10:00:00Z"}),
        ),
        (
            "2026-03-07T09:00:00Z",
            "activated",
            "prod",
            json!({"activation": 6, "cause": "promotion"}),
        ),
        (
            "2026-03-07T11:00:00Z",
            "rolled_back",
            "prod",
            json!({"rolled_back_activation": 6}),
        ),
    ];
    let mut entries: Vec<Entry> = Vec::new();
    for (i, (t, action, env, details)) in events.into_iter().enumerate() {
        let prev = entries
            .last()
            .map_or(GENESIS.to_string(), |e| e.hash.clone());
        let new = NewEntry::new("alice", action)
            .at(Some("sync"), Some(env))
            .details(details);
        entries.push(Entry::seal(i as i64 + 1, t.to_string(), &new, &prev));
    }
    entries
}

#[test]
fn metrics_match_hand_computed_values() {
    let m = compute(
        &history(),
        "prod",
        at("2026-03-01T00:00:00Z"),
        at("2026-03-09T00:00:00Z"),
    );
    // 8 days; activations 1, 3, 5, 6 are deployments (4 is a rollback).
    assert_eq!(m.days, 8.0);
    assert_eq!(m.deployments, 4);
    assert_eq!(m.deployment_frequency_per_day, 0.5);
    // Lead times: 24 h, 12 h, 6 h (6 has no commit time). Median 12 h, mean 14 h.
    let lead = m
        .lead_time
        .clone()
        .unwrap_or_else(|| panic!("no lead time"));
    assert_eq!(lead.count, 3);
    assert_eq!(lead.median_seconds, 12.0 * 3600.0);
    assert_eq!(lead.mean_seconds, 14.0 * 3600.0);
    // 3 and 6 were rolled back: 2 of 4.
    assert_eq!(m.change_failures, 2);
    assert_eq!(m.change_failure_rate, Some(0.5));
    // Restores: 10:10 -> 10:30 (20 min, failure start known); 6 manual, from its
    // activation 09:00 -> 11:00 (2 h). Median = mean = 70 min.
    let restore = m
        .time_to_restore
        .clone()
        .unwrap_or_else(|| panic!("no restore"));
    assert_eq!(restore.count, 2);
    assert_eq!(restore.median_seconds, 70.0 * 60.0);
    assert_eq!(restore.mean_seconds, 70.0 * 60.0);
}

#[test]
fn the_period_bounds_what_counts() {
    let m = compute(
        &history(),
        "prod",
        at("2026-03-04T00:00:00Z"),
        at("2026-03-06T00:00:00Z"),
    );
    assert_eq!(m.deployments, 1);
    assert_eq!(m.change_failure_rate, Some(1.0));
    assert_eq!(m.lead_time.map(|l| l.median_seconds), Some(12.0 * 3600.0));
    let empty = compute(
        &history(),
        "dev",
        at("2026-03-01T00:00:00Z"),
        at("2026-03-09T00:00:00Z"),
    );
    assert_eq!((empty.deployments, empty.change_failure_rate), (0, None));
    assert!(empty.lead_time.is_none() && empty.time_to_restore.is_none());
}
