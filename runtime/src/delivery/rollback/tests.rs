use super::*;
use crate::delivery::store::Version;
use crate::state::{Counts, Trigger};

fn at(text: &str) -> DateTime<Utc> {
    time(text).unwrap_or_else(|| panic!("{text}"))
}

fn policy() -> Rollback {
    Rollback {
        flow: "sync".into(),
        environment: "prod".into(),
        threshold_percent: 25.0,
        window_millis: 10 * 60 * 1000,
        min_runs: 4,
        action: "previous".into(),
        alerts: vec!["oncall".into()],
    }
}

fn run(id: i64, digest: &str, minute: u32, status: RunStatus) -> RunRecord {
    RunRecord {
        id,
        flow: "sync".into(),
        environment: "prod".into(),
        digest: digest.into(),
        trigger: Trigger::Manual,
        status,
        started_at: format!("2026-01-05T10:{minute:02}:00.000Z"),
        duration_ms: Some(10),
        counts: Counts::default(),
        failure: None,
    }
}

use RunStatus::{Failed as F, Running as R, Succeeded as S};

#[test]
fn breach_needs_min_runs_and_a_rate_above_the_threshold() {
    let since = at("2026-01-05T09:00:00Z");
    let now = at("2026-01-05T10:30:00Z");
    // 3 runs, 2 failed: 67% but below min runs.
    let runs = vec![run(1, "d", 21, S), run(2, "d", 22, F), run(3, "d", 23, F)];
    let d = decide(&policy(), &runs, "d", since, now);
    assert!(!d.breach);
    assert_eq!((d.runs, d.failed), (3, 2));
    // 4 runs, 1 failed: exactly 25% is not above 25%.
    let runs = vec![
        run(1, "d", 21, S),
        run(2, "d", 22, S),
        run(3, "d", 23, S),
        run(4, "d", 24, F),
    ];
    assert!(!decide(&policy(), &runs, "d", since, now).breach);
    // 4 runs, 2 failed: 50%.
    let runs = vec![
        run(1, "d", 21, S),
        run(2, "d", 22, F),
        run(3, "d", 23, S),
        run(4, "d", 24, F),
    ];
    let d = decide(&policy(), &runs, "d", since, now);
    assert!(d.breach);
    assert_eq!(d.error_rate_percent, 50.0);
    assert_eq!(d.failing_since.as_deref(), Some("2026-01-05T10:22:00.000Z"));
}

#[test]
fn only_the_window_the_digest_and_finished_runs_count() {
    let since = at("2026-01-05T09:00:00Z");
    let now = at("2026-01-05T10:30:00Z");
    let runs = vec![
        run(1, "d", 5, F),      // before the window (10:20)
        run(2, "other", 21, F), // another version
        run(3, "d", 22, R),     // still running
        run(4, "d", 23, S),
        run(5, "d", 24, S),
        run(6, "d", 25, F),
        run(7, "d", 26, S),
    ];
    let d = decide(&policy(), &runs, "d", since, now);
    assert_eq!((d.runs, d.failed, d.breach), (4, 1, false));
    // Runs before the activation do not count either.
    let d = decide(&policy(), &runs, "d", at("2026-01-05T10:24:30Z"), now);
    assert_eq!((d.runs, d.failed), (2, 1));
}

fn activation(id: i64, digest: &str, state: ActivationState, known_good: bool) -> Activation {
    Activation {
        id,
        flow: "sync".into(),
        environment: "prod".into(),
        version: Version {
            digest: digest.into(),
            project: "p".into(),
            version: format!("1.{id}.0"),
            commit_time: None,
        },
        activated_at: String::new(),
        activated_by: "alice".into(),
        state,
        known_good,
        cause: "promotion".into(),
    }
}

#[test]
fn the_target_is_the_previous_known_good_never_a_rolled_back_version() {
    use ActivationState::{Active, RolledBack, Superseded};
    // Newest first: c active, b before it, a before that.
    let history = vec![
        activation(3, "c", Active, false),
        activation(2, "b", Superseded, true),
        activation(1, "a", Superseded, true),
    ];
    assert_eq!(target(&history).map(|a| a.id), Some(2));
    // b was rolled back after its last activation: go to a.
    let history = vec![
        activation(4, "a", Active, false),
        activation(3, "b", RolledBack, false),
        activation(2, "b", Superseded, true),
        activation(1, "a", Superseded, true),
    ];
    assert_eq!(
        target(&history).map(|a| a.version.digest.as_str()),
        None,
        "a is active; b was rolled back"
    );
    // b promoted again afterwards and superseded normally: known good again.
    let history = vec![
        activation(6, "c", Active, false),
        activation(5, "b", Superseded, true),
        activation(4, "a", Superseded, true),
        activation(3, "b", RolledBack, false),
    ];
    assert_eq!(target(&history).map(|a| a.id), Some(5));
    // Nothing to return to.
    assert!(target(&[activation(1, "a", Active, false)]).is_none());
}

/// A run that succeeded but dead-lettered records is an error too, as the language
/// reference defines the error rate; one that only skipped or dropped records is not.
#[test]
fn a_run_with_dead_letters_counts_as_an_error() {
    let since = at("2026-01-05T09:00:00Z");
    let now = at("2026-01-05T10:30:00Z");
    let mut lettered = run(2, "d", 22, S);
    lettered.counts.dead_lettered = 1;
    let mut skipped = run(3, "d", 23, S);
    skipped.counts.skipped = 5;
    let runs = vec![run(1, "d", 21, S), lettered, skipped, run(4, "d", 24, F)];
    let d = decide(&policy(), &runs, "d", since, now);
    assert_eq!((d.runs, d.failed, d.breach), (4, 2, true));
}
