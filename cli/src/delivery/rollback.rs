//! `weft rollback`: takes a flow in an environment back to its previous known-good
//! version, or to a given one that ran there and was not rolled back since.

use std::process::ExitCode;

use serde_json::json;

use super::{finish, short, Client};

/// Arguments of `weft rollback`.
#[derive(clap::Args)]
pub struct Args {
    /// The flow.
    flow: String,
    /// The environment.
    #[arg(long)]
    env: String,
    /// The version (or digest) to return to; default: the previous known-good one.
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// Why (recorded in the audit trail).
    #[arg(long, default_value = "manual rollback")]
    reason: String,
    #[command(flatten)]
    client: Client,
}

/// Rolls back.
pub fn run(args: &Args) -> ExitCode {
    let body =
        json!({"flow": args.flow, "environment": args.env, "to": args.to, "reason": args.reason});
    let outcome = args
        .client
        .expect("POST", "/v1/rollbacks", Some(&body))
        .map(|answer| {
            let a = &answer.body;
            let text = format!(
                "rolled back {} in {}: now {} ({})\n",
                args.flow,
                args.env,
                a["version"]["version"].as_str().unwrap_or("?"),
                short(a["version"]["digest"].as_str().unwrap_or(""))
            );
            (answer.body, text, 0)
        });
    finish("rollback", args.client.format, outcome)
}
