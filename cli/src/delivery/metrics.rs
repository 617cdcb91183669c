//! `weft metrics` (DORA, from the audit trail) and `weft status`.

use std::process::ExitCode;

use weft_runtime::delivery::metrics::{render_text, Metrics};

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
        text.push_str(&format!("{pending} pending promotion request{}\n", if pending == 1 { "" } else { "s" }));
        (answer.body, text, 0)
    });
    finish("status", args.client.format, outcome)
}
