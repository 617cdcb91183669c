//! DORA metrics computed from the audit trail alone: deployment frequency, lead time
//! for changes (commit author time to activation), change failure rate (activations
//! later rolled back) and time to restore (failure start to rollback).
//!
//! They read `activated` entries (details: `activation`, `cause`, `commit_time`) and
//! `rolled_back` entries (details: `rolled_back_activation`, `failing_since`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit::Entry;

/// Durations summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Durations {
    /// How many.
    pub count: u64,
    /// Median in seconds (mean of the middle two for an even count).
    pub median_seconds: f64,
    /// Mean in seconds.
    pub mean_seconds: f64,
}

/// The four DORA metrics for one environment over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The environment.
    pub environment: String,
    /// Period start (RFC 3339).
    pub since: String,
    /// Period end (RFC 3339).
    pub until: String,
    /// Period length in days.
    pub days: f64,
    /// Activations by deploy or promotion (rollbacks are not deployments).
    pub deployments: u64,
    /// Deployments per day.
    pub deployment_frequency_per_day: f64,
    /// Commit author time to activation, over deployments whose artifact knows it.
    pub lead_time: Option<Durations>,
    /// Deployments later rolled back.
    pub change_failures: u64,
    /// `change_failures / deployments`, none without deployments.
    pub change_failure_rate: Option<f64>,
    /// Failure start (first failed run in the window, or the activation for a manual
    /// rollback) to the rollback, over rollbacks in the period.
    pub time_to_restore: Option<Durations>,
}

fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

fn summarise(mut values: Vec<f64>) -> Option<Durations> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    Some(Durations {
        count: n as u64,
        median_seconds: median,
        mean_seconds: values.iter().sum::<f64>() / n as f64,
    })
}

/// Computes the metrics of `environment` for events in `[since, until]`.
pub fn compute(
    entries: &[Entry],
    environment: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Metrics {
    let in_period = |e: &Entry| {
        e.environment.as_deref() == Some(environment)
            && time(&e.at).is_some_and(|t| t >= since && t <= until)
    };
    let rolled_back: Vec<(i64, DateTime<Utc>, Option<DateTime<Utc>>)> = entries
        .iter()
        .filter(|e| e.action == "rolled_back" && e.environment.as_deref() == Some(environment))
        .filter_map(|e| {
            let details = e.details_json();
            let activation = details["rolled_back_activation"].as_i64()?;
            let failing = details["failing_since"].as_str().and_then(time);
            Some((activation, time(&e.at)?, failing))
        })
        .collect();
    let mut deployments = 0u64;
    let mut failures = 0u64;
    let mut lead_times = Vec::new();
    let mut activated_at = std::collections::BTreeMap::new();
    for e in entries.iter().filter(|e| e.action == "activated") {
        let details = e.details_json();
        if let (Some(id), Some(at)) = (details["activation"].as_i64(), time(&e.at)) {
            activated_at.insert(id, at);
        }
        if !in_period(e) || details["cause"].as_str() == Some("rollback") {
            continue;
        }
        deployments += 1;
        if let (Some(commit), Some(at)) =
            (details["commit_time"].as_str().and_then(time), time(&e.at))
        {
            lead_times.push(seconds(commit, at));
        }
        if let Some(id) = details["activation"].as_i64() {
            if rolled_back.iter().any(|(a, _, _)| *a == id) {
                failures += 1;
            }
        }
    }
    let restores: Vec<f64> = rolled_back
        .iter()
        .filter(|(_, at, _)| *at >= since && *at <= until)
        .filter_map(|(activation, at, failing)| {
            let start = failing.or_else(|| activated_at.get(activation).copied())?;
            Some(seconds(start, *at))
        })
        .collect();
    let days = seconds(since, until) / 86_400.0;
    Metrics {
        environment: environment.to_string(),
        since: since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        until: until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        days,
        deployments,
        deployment_frequency_per_day: if days > 0.0 {
            deployments as f64 / days
        } else {
            0.0
        },
        lead_time: summarise(lead_times),
        change_failures: failures,
        change_failure_rate: (deployments > 0).then(|| failures as f64 / deployments as f64),
        time_to_restore: summarise(restores),
    }
}

#[cfg(test)]
mod tests;
