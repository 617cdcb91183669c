//! `weft metrics` (DORA, from the audit trail) and `weft status`.

use std::process::ExitCode;

use weft_runtime::delivery::metrics::{Durations, Metrics};

use super::audit::encode;
use super::{finish, short, Client};

/// Arguments of `weft metrics`.
#[derive(clap::Args)]
pub struct Args {
    /// The environment.
    #[arg(long, default_value = "prod")]
    env: String,
    /// Period start (YYYY-MM-DD or RFC 3339); default: the first audit entry.
    #[arg(long)]
    since: Option<String>,
    /// Period end; default: now.
    #[arg(long)]
    until: Option<String>,
    #[command(flatten)]
    client: Client,
}

/// Prints the metrics.
pub fn run(args: &Args) -> ExitCode {
    let mut path = format!("/v1/metrics?env={}", encode(&args.env));
    for (name, value) in [("since", &args.since), ("until", &args.until)] {
        if let Some(value) = value {
            path.push_str(&format!("&{name}={}", encode(value)));
        }
    }
    let outcome = args.client.expect("GET", &path, None).map(|answer| {
        let text = serde_json::from_value::<Metrics>(answer.body.clone())
            .map(|m| render_text(&m))
            .unwrap_or_default();
        (answer.body, text, 0)
    });
    finish("metrics", args.client.format, outcome)
}

/// Arguments of `weft status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    client: Client,
}

/// Prints what runs where and the pending requests.
pub fn status(args: &StatusArgs) -> ExitCode {
    let outcome = args.client.expect("GET", "/v1/status", None).map(|answer| {
        let mut text = String::new();
        for (flow, envs) in answer.body["flows"].as_object().into_iter().flatten() {
            text.push_str(&format!("{flow}\n"));
            for (env, a) in envs.as_object().into_iter().flatten() {
                text.push_str(&format!(
                    "  {env:<10} {} ({}) since {} by {}\n",
                    a["version"].as_str().unwrap_or("?"),
                    short(a["digest"].as_str().unwrap_or("")),
                    a["since"].as_str().unwrap_or("?"),
                    a["by"].as_str().unwrap_or("?")
                ));
            }
        }
        let pending = answer.body["pending"].as_array().map_or(0, Vec::len);
        text.push_str(&format!(
            "{pending} pending promotion request{}\n",
            if pending == 1 { "" } else { "s" }
        ));
        (answer.body, text, 0)
    });
    finish("status", args.client.format, outcome)
}

/// The metrics as text for people.
fn render_text(m: &Metrics) -> String {
    let duration = |s: f64| {
        if s >= 86_400.0 {
            format!("{:.1} d", s / 86_400.0)
        } else if s >= 3600.0 {
            format!("{:.1} h", s / 3600.0)
        } else if s >= 60.0 {
            format!("{:.1} min", s / 60.0)
        } else {
            format!("{s:.1} s")
        }
    };
    let durations = |d: &Option<Durations>| match d {
        None => "n/a".to_string(),
        Some(d) => format!(
            "median {}, mean {} (over {})",
            duration(d.median_seconds),
            duration(d.mean_seconds),
            d.count
        ),
    };
    format!(
        "DORA metrics for {} from {} to {} ({:.1} days)\n  deployment frequency  {:.2} per day ({} deployments)\n  lead time for changes {}\n  change failure rate   {}\n  time to restore       {}\n",
        m.environment,
        m.since,
        m.until,
        m.days,
        m.deployment_frequency_per_day,
        m.deployments,
        durations(&m.lead_time),
        m.change_failure_rate.map_or("n/a".to_string(), |r| format!(
            "{:.1}% ({} of {})",
            r * 100.0,
            m.change_failures,
            m.deployments
        )),
        durations(&m.time_to_restore),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text() {
        let m = Metrics {
            environment: "prod".into(),
            since: "2026-03-01T00:00:00Z".into(),
            until: "2026-03-09T00:00:00Z".into(),
            days: 8.0,
            deployments: 4,
            deployment_frequency_per_day: 0.5,
            lead_time: Some(Durations {
                count: 3,
                median_seconds: 43_200.0,
                mean_seconds: 50_400.0,
            }),
            change_failures: 2,
            change_failure_rate: Some(0.5),
            time_to_restore: Some(Durations {
                count: 2,
                median_seconds: 4200.0,
                mean_seconds: 4200.0,
            }),
        };
        insta::assert_snapshot!(render_text(&m), @r"
    DORA metrics for prod from 2026-03-01T00:00:00Z to 2026-03-09T00:00:00Z (8.0 days)
      deployment frequency  0.50 per day (4 deployments)
      lead time for changes median 12.0 h, mean 14.0 h (over 3)
      change failure rate   50.0% (2 of 4)
      time to restore       median 1.2 h, mean 1.2 h (over 2)
    ");
    }
}
