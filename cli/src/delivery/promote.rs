//! `weft promote`, `weft approve`, `weft reject`: promotion requests and their review.

use std::process::ExitCode;

use serde_json::{json, Value};
use weft_compiler::diff::{self, Diff};

use super::{finish, short, Client, Failure};

/// Arguments of `weft promote`.
#[derive(clap::Args)]
pub struct PromoteArgs {
    /// The flow.
    flow: String,
    /// The environment to enter; the version comes from the one before it in the chain.
    #[arg(long)]
    to: String,
    #[command(flatten)]
    client: Client,
}

/// Arguments of `weft approve`.
#[derive(clap::Args)]
pub struct ApproveArgs {
    /// The promotion request's id.
    id: i64,
    #[command(flatten)]
    client: Client,
}

/// Arguments of `weft reject`.
#[derive(clap::Args)]
pub struct RejectArgs {
    /// The promotion request's id.
    id: i64,
    /// Why (recorded in the audit trail).
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    client: Client,
}

/// Arguments of `weft promotions`.
#[derive(clap::Args)]
pub struct ListArgs {
    /// Show this request in full: gates, approvals and the semantic diff.
    id: Option<i64>,
    /// Only requests in this state: pending, activated, rejected, refused.
    #[arg(long)]
    status: Option<String>,
    #[command(flatten)]
    client: Client,
}

/// Requests a promotion.
pub fn promote(args: &PromoteArgs) -> ExitCode {
    let outcome = args.client.expect_promotion(
        "POST",
        "/v1/promotions",
        Some(&json!({"flow": args.flow, "to": args.to})),
    );
    finish("promote", args.client.format, outcome)
}

/// Approves a request.
pub fn approve(args: &ApproveArgs) -> ExitCode {
    let path = format!("/v1/promotions/{}/approve", args.id);
    finish(
        "approve",
        args.client.format,
        args.client.expect_promotion("POST", &path, None),
    )
}

/// Rejects a request.
pub fn reject(args: &RejectArgs) -> ExitCode {
    let path = format!("/v1/promotions/{}/reject", args.id);
    let body = json!({"reason": args.reason});
    finish(
        "reject",
        args.client.format,
        args.client.expect_promotion("POST", &path, Some(&body)),
    )
}

/// Lists requests, newest first.
pub fn list(args: &ListArgs) -> ExitCode {
    if let Some(id) = args.id {
        let outcome = args
            .client
            .expect("GET", &format!("/v1/promotions/{id}"), None)
            .map(|answer| (answer.body.clone(), describe(&answer.body), 0));
        return finish("promotions", args.client.format, outcome);
    }
    let path = match &args.status {
        Some(status) => format!("/v1/promotions?status={status}"),
        None => "/v1/promotions".to_string(),
    };
    let outcome = args.client.expect("GET", &path, None).map(|answer| {
        let mut text = String::new();
        for p in answer.body.as_array().into_iter().flatten() {
            text.push_str(&headline(p));
        }
        if text.is_empty() {
            text.push_str("no promotion requests\n");
        }
        (answer.body, text, 0)
    });
    finish("promotions", args.client.format, outcome)
}

impl Client {
    fn expect_promotion(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(Value, String, u8), Failure> {
        let answer = self.call(method, path, body)?;
        // A refused promotion comes back as 409 with the request and its gates.
        if answer.status == 409 && answer.body.get("status").is_some() {
            return Ok((answer.body.clone(), describe(&answer.body), 1));
        }
        let answer = super::check(answer)?;
        Ok((answer.body.clone(), describe(&answer.body), 0))
    }
}

fn headline(p: &Value) -> String {
    format!(
        "promotion {}: {} {} ({}) {} -> {}: {} (requested by {})\n",
        p["id"],
        p["flow"].as_str().unwrap_or("?"),
        p["version"]["version"].as_str().unwrap_or("?"),
        short(p["version"]["digest"].as_str().unwrap_or("")),
        p["from"].as_str().unwrap_or("(deploy)"),
        p["to"].as_str().unwrap_or("?"),
        p["status"].as_str().unwrap_or("?"),
        p["requested_by"].as_str().unwrap_or("?"),
    )
}

/// A promotion request for people: headline, gates, approvals, reason, diff.
pub fn describe(p: &Value) -> String {
    let mut text = headline(p);
    for gate in p["gates"]["gates"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "  [{}] {}: {}\n",
            if gate["passed"].as_bool() == Some(true) {
                "ok"
            } else {
                "  "
            },
            gate["gate"].as_str().unwrap_or("?"),
            gate["detail"].as_str().unwrap_or("")
        ));
    }
    let approvals: Vec<&str> = p["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["user"].as_str())
        .collect();
    if !approvals.is_empty() {
        text.push_str(&format!("  approved by {}\n", approvals.join(", ")));
    }
    if let Some(reason) = p["reason"].as_str() {
        text.push_str(&format!("  reason: {reason}\n"));
    }
    if p["status"] == "pending" {
        if let Ok(d) = serde_json::from_value::<Diff>(p["diff"].clone()) {
            if d.is_empty() {
                text.push_str("  no semantic change against what runs there\n");
            } else {
                text.push_str("  changes against what runs there:\n");
                for line in diff::render_text(&d).lines() {
                    if line.trim().is_empty() {
                        text.push('\n');
                    } else {
                        text.push_str(&format!("    {line}\n"));
                    }
                }
            }
        }
        text.push_str(&format!(
            "  approve with `weft approve {}`, or `weft reject {} --reason TEXT`\n",
            p["id"], p["id"]
        ));
    }
    text
}
