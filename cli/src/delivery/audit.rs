//! `weft audit export` and `weft audit verify`.

use std::process::ExitCode;

use serde_json::Value;

use super::{finish, Client, OutputFormat};

/// Arguments of `weft audit`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Print the trail: JSON Lines or CSV, oldest first.
    Export {
        /// jsonl or csv.
        #[arg(long = "as", value_enum, default_value_t = Export::Jsonl, visible_alias = "export-format")]
        export: Export,
        /// Only entries at or after this time (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        client: Client,
    },
    /// Check the hash chain; names the first edited, deleted or reordered entry.
    Verify {
        #[command(flatten)]
        client: Client,
    },
}

/// Export formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Export {
    Jsonl,
    Csv,
}

/// Runs the subcommand.
pub fn run(args: &Args) -> ExitCode {
    match &args.command {
        Command::Export {
            export,
            since,
            client,
        } => {
            let mut path = format!(
                "/v1/audit?format={}",
                if *export == Export::Csv {
                    "csv"
                } else {
                    "jsonl"
                }
            );
            if let Some(since) = since {
                path.push_str(&format!("&since={}", encode(since)));
            }
            let outcome = client.expect("GET", &path, None).map(|answer| {
                let text = answer.body.as_str().map(str::to_string).unwrap_or_default();
                (Value::String(text.clone()), text, 0)
            });
            // The export is its own format: print it as is.
            finish("audit export", OutputFormat::Text, outcome)
        }
        Command::Verify { client } => {
            let outcome = client
                .expect("GET", "/v1/audit/verify", None)
                .map(|answer| {
                    let v = &answer.body;
                    match v.get("problem").filter(|p| !p.is_null()) {
                        None => {
                            let text = format!(
                                "audit trail intact: {} entries, head {}\n",
                                v["entries"],
                                v["head"].as_str().unwrap_or("")
                            );
                            (answer.body.clone(), text, 0)
                        }
                        Some(problem) => {
                            let text = format!(
                                "audit trail broken at entry {} ({}): {}\n",
                                problem["seq"],
                                problem["problem"].as_str().unwrap_or("?"),
                                problem["message"].as_str().unwrap_or("")
                            );
                            (answer.body.clone(), text, 1)
                        }
                    }
                });
            finish("audit verify", client.format, outcome)
        }
    }
}

/// Percent-encodes a query value (times carry `+` and `:`).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
