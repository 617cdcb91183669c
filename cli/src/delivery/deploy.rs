//! `weft deploy`: registers an artifact (digest-checked by the server) and activates
//! its flows in the first environment of its promotion chain when the gates pass.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};

use super::promote::describe;
use super::{finish, Client, Failure};

/// Arguments of `weft deploy`.
#[derive(clap::Args)]
pub struct Args {
    /// The artifact written by `weft build` (dist/NAME-VERSION.json).
    artifact: PathBuf,
    /// The environment: the first of the artifact's promotion chain.
    #[arg(long)]
    env: String,
    /// A `weft test --format json` report of this build, recorded for its digest (the
    /// `tests` gate looks for a passing one).
    #[arg(long, value_name = "FILE")]
    tests: Option<PathBuf>,
    #[command(flatten)]
    client: Client,
}

fn read_json(path: &PathBuf) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure(2, format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| Failure(2, format!("{} is not JSON: {e}", path.display())))
}

/// Deploys.
pub fn run(args: &Args) -> ExitCode {
    let outcome = (|| {
        let artifact = read_json(&args.artifact)?;
        let tests = args.tests.as_ref().map(read_json).transpose()?;
        let body = json!({"artifact": artifact, "environment": args.env, "tests": tests});
        let answer = args.client.call("POST", "/v1/artifacts", Some(&body))?;
        let answer = if answer.body.get("promotions").is_none() {
            super::check(answer)?
        } else {
            answer
        };
        let mut text = String::new();
        let mut code = 0;
        for p in answer.body["promotions"].as_array().into_iter().flatten() {
            if p["status"] == "refused" {
                code = 1;
            }
            text.push_str(&describe(p));
        }
        Ok((answer.body, text, code))
    })();
    finish("deploy", args.client.format, outcome)
}
