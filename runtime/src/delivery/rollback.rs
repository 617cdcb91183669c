//! Automatic rollback: the monitor's decision (error rate of a flow's runs in an
//! environment over a sliding window, with a minimum number of runs), the version to
//! return to (the previous known-good one, never one that was rolled back), and the
//! alert posted to a webhook.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::{Activation, ActivationState};
use crate::ir::Rollback;
use crate::state::{RunRecord, RunStatus};

/// What the monitor concluded for one flow in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the policy is breached: roll back.
    pub breach: bool,
    /// Finished runs of the active version in the window.
    pub runs: u64,
    /// Of which failed.
    pub failed: u64,
    /// Failed runs in percent of `runs` (0 without runs).
    pub error_rate_percent: f64,
    /// The policy's threshold in percent.
    pub threshold_percent: f64,
    /// The window in milliseconds.
    pub window_millis: u64,
    /// The runs needed before judging.
    pub min_runs: u64,
    /// When the first failed run in the window started: the failure's start, for the
    /// time-to-restore metric.
    pub failing_since: Option<String>,
}

fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Judges the runs of `digest` that started after `active_since` and inside the
/// policy's window ending `now`. Runs of other digests, and runs still running, do
/// not count. A run is an error when it failed or dead-lettered at least one record
/// (the language reference's definition). A breach needs at least `min_runs` runs and
/// a rate above the threshold.
pub fn decide(
    policy: &Rollback,
    runs: &[RunRecord],
    digest: &str,
    active_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Decision {
    let window =
        chrono::Duration::milliseconds(i64::try_from(policy.window_millis).unwrap_or(i64::MAX));
    let from = now
        .checked_sub_signed(window)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
        .max(active_since);
    let mut counted = 0u64;
    let mut failed = 0u64;
    let mut failing_since: Option<DateTime<Utc>> = None;
    for run in runs {
        if run.digest != digest || run.status == RunStatus::Running {
            continue;
        }
        let Some(started) = time(&run.started_at) else {
            continue;
        };
        if started < from || started > now {
            continue;
        }
        counted += 1;
        if run.status == RunStatus::Failed || run.counts.dead_lettered > 0 {
            failed += 1;
            failing_since = Some(failing_since.map_or(started, |t| t.min(started)));
        }
    }
    let rate = if counted == 0 {
        0.0
    } else {
        failed as f64 * 100.0 / counted as f64
    };
    Decision {
        breach: counted > 0 && counted >= policy.min_runs && rate > policy.threshold_percent,
        runs: counted,
        failed,
        error_rate_percent: rate,
        threshold_percent: policy.threshold_percent,
        window_millis: policy.window_millis,
        min_runs: policy.min_runs,
        failing_since: failing_since
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    }
}

/// The version a rollback returns to: in a flow's activation history (newest first),
/// the latest known-good activation of another digest than the active one, skipping
/// every digest rolled back since it was last activated, so that a bad version is
/// never brought back without a new promotion.
pub fn target(history: &[Activation]) -> Option<&Activation> {
    target_matching(history, |_| true)
}

/// Like [`target`], among the activations `wanted` accepts (a version asked for).
pub fn target_matching(
    history: &[Activation],
    wanted: impl Fn(&Activation) -> bool,
) -> Option<&Activation> {
    let current = history
        .iter()
        .find(|a| a.state == ActivationState::Active)
        .map(|a| a.version.digest.as_str());
    let mut rolled_back: Vec<&str> = Vec::new();
    for activation in history {
        if activation.state == ActivationState::RolledBack {
            rolled_back.push(&activation.version.digest);
            continue;
        }
        if activation.state == ActivationState::Superseded
            && activation.known_good
            && Some(activation.version.digest.as_str()) != current
            && !rolled_back.contains(&activation.version.digest.as_str())
            && wanted(activation)
        {
            return Some(activation);
        }
    }
    None
}

/// Posts `alert` as JSON to `url`; an answer outside 2xx is an error.
pub fn post_alert(url: &str, alert: &serde_json::Value) -> Result<(), String> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build(),
    );
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(alert.to_string())
        .map_err(|e| format!("alert to {url}: {e}"))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("alert to {url}: HTTP {status}"))
    }
}

#[cfg(test)]
mod tests;
