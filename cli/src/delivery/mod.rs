//! The delivery commands (`weft deploy`, `promote`, `approve`, `reject`, `rollback`,
//! `audit`, `metrics`, `status`, `users`): clients of the control API that `weft
//! serve` exposes. Presentation lives here; the server answers plain JSON.
//!
//! Exit codes: 0 done (or waiting for approvals), 1 refused by the server (no or bad
//! token, missing role, a gate, self approval, a broken audit trail), 2 usage,
//! connection or I/O errors and anything else the server could not do.

pub mod audit;
pub mod deploy;
pub mod metrics;
pub mod promote;
pub mod rollback;
pub mod users;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;

/// Where the server listens unless `--server` or `WEFT_SERVER` say otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7700";

/// Options every delivery command takes.
#[derive(clap::Args, Clone)]
pub struct Client {
    /// The control API (or set WEFT_SERVER).
    #[arg(long, env = "WEFT_SERVER", default_value = DEFAULT_SERVER, global = true)]
    pub server: String,
    /// Output: text for people, json for tools.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, global = true)]
    pub format: OutputFormat,
}

/// Output format of the delivery commands.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// The server's JSON answer.
    Json,
}

/// A failed command: the message and the exit code.
pub struct Failure(pub u8, pub String);

/// A server answer.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body as JSON (a string value for non-JSON bodies).
    pub body: Value,
}

/// The bearer token: `WEFT_TOKEN`, then `.weft/token` in this folder or a parent
/// (written by `weft serve --dev`), then `~/.config/weft/token`.
pub fn token() -> Option<String> {
    if let Ok(token) = std::env::var("WEFT_TOKEN") {
        if !token.trim().is_empty() {
            return Some(token.trim().to_string());
        }
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(here) = std::env::current_dir() {
        candidates.extend(here.ancestors().map(|dir| dir.join(".weft/token")));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".config/weft/token"));
    }
    candidates
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl Client {
    /// Sends a request; `body` makes it a JSON POST.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Answer, Failure> {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(60)))
                .http_status_as_error(false)
                .build(),
        );
        let url = format!("{}{path}", self.server.trim_end_matches('/'));
        let auth = token().map(|t| format!("Bearer {t}"));
        let response = match (method, body) {
            ("POST", body) => {
                let mut request = agent.post(&url).header("Content-Type", "application/json");
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth);
                }
                request.send(body.map_or_else(|| "{}".to_string(), Value::to_string))
            }
            _ => {
                let mut request = agent.get(&url);
                if let Some(auth) = &auth {
                    request = request.header("Authorization", auth);
                }
                request.call()
            }
        };
        let mut response =
            response.map_err(|e| Failure(2, format!("cannot reach {}: {e}", self.server)))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(512 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| Failure(2, format!("reading the answer of {}: {e}", self.server)))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, body })
    }

    /// Like [`Client::call`], turning error answers into failures.
    pub fn expect(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Failure> {
        check(self.call(method, path, body)?)
    }
}

/// Turns an error answer into a failure: exit 1 when refused (401, 403, 409), else 2.
pub fn check(answer: Answer) -> Result<Answer, Failure> {
    {
        if answer.status < 400 {
            return Ok(answer);
        }
        let message = answer.body["error"]["message"]
            .as_str()
            .map_or_else(|| answer.body.to_string(), str::to_string);
        let code = if matches!(answer.status, 401 | 403 | 409) {
            1
        } else {
            2
        };
        let hint = if answer.status == 401 {
            " (set WEFT_TOKEN, or get a token from an admin: `weft users token NAME`)"
        } else {
            ""
        };
        Err(Failure(code, format!("{message}{hint}")))
    }
}

/// Prints `text` or the JSON answer, and maps a failure to its exit code.
pub fn finish(
    command: &str,
    format: OutputFormat,
    outcome: Result<(Value, String, u8), Failure>,
) -> ExitCode {
    match outcome {
        Ok((json, text, code)) => {
            let mut stdout = std::io::stdout().lock();
            let written = match format {
                OutputFormat::Json => writeln!(stdout, "{json:#}"),
                OutputFormat::Text => stdout.write_all(text.as_bytes()),
            };
            if written.is_err() {
                return ExitCode::from(2);
            }
            ExitCode::from(code)
        }
        Err(Failure(code, message)) => {
            let _ = writeln!(std::io::stderr(), "weft {command}: {message}");
            ExitCode::from(code)
        }
    }
}

/// A digest shortened for text output.
pub fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", hex.get(..12).unwrap_or(hex))
}
