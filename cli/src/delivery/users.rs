//! `weft users add` and `weft users token` (admin only).

use std::process::ExitCode;

use serde_json::json;

use super::{finish, Client};

/// Arguments of `weft users`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Add a user (or replace their roles).
    Add {
        /// The name, as in weft.toml [groups].
        name: String,
        /// ROLE or ROLE:ENV (deployer, approver, admin), repeatable.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        client: Client,
    },
    /// Issue a new token for a user; it is printed once and only its hash is kept.
    Token {
        /// The user.
        name: String,
        #[command(flatten)]
        client: Client,
    },
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    match &args.command {
        Command::Add {
            name,
            roles,
            client,
        } => {
            let body = json!({"name": name, "grants": roles});
            let outcome = client
                .expect("POST", "/v1/users", Some(&body))
                .map(|answer| {
                    let grants: Vec<&str> = answer.body["grants"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|g| g.as_str())
                        .collect();
                    let text = format!("user {name}: {}\n", grants.join(", "));
                    (answer.body, text, 0)
                });
            finish("users add", client.format, outcome)
        }
        Command::Token { name, client } => {
            let path = format!("/v1/users/{}/tokens", super::audit::encode(name));
            let outcome = client.expect("POST", &path, None).map(|answer| {
                let text = format!("{}\n", answer.body["token"].as_str().unwrap_or(""));
                (answer.body, text, 0)
            });
            finish("users token", client.format, outcome)
        }
    }
}
