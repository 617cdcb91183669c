//! Helpers for end-to-end tests of the runtime host and the delivery control API: a
//! fake HTTP/1.1 server on a free loopback port (it answers with a handler and records
//! every request), a running `weft serve --dev`, one-shot HTTP requests, bounded waits,
//! and a scan for leaked secrets.
// Each test file uses only some of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the fake server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// What the fake server answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn reply(status: u16, body: impl Into<String>) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

pub type Handler = dyn Fn(&Seen, &[Seen]) -> Reply + Send + Sync;

/// An HTTP/1.1 server on a free loopback port that answers with `handler` (given the
/// request and every earlier one) and records every request.
pub struct FakeServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&Seen, &[Seen]) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || serve(stream, &log, handler.as_ref()));
            }
        });
        FakeServer { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>, handler: &Handler) {
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = Seen {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        };
        // Recorded before answering, so a test sees a request the handler holds up.
        let earlier = {
            let Ok(mut seen) = log.lock() else { return };
            let earlier = seen.clone();
            seen.push(request.clone());
            earlier
        };
        let answer = handler(&request, &earlier);
        let mut text = format!(
            "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            answer.status,
            answer.body.len()
        );
        for (name, value) in &answer.headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(&answer.body);
        if writer.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}

/// A one-shot HTTP/1.1 request: the status and body, `None` when nothing listens.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// Parses JSON or fails the test with the text.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Polls `done` every 50 ms; fails the test after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// No file under `dir` (but secrets files, `*.env`) and no text in `texts` holds
/// `secret`.
pub fn assert_nowhere(secret: &str, texts: &[&str], dir: &Path) {
    for text in texts {
        assert!(!text.contains(secret), "output leaks {secret}: {text}");
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "env") {
                let bytes = std::fs::read(&path).unwrap_or_default();
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{} holds {secret}", path.display());
            }
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `weft build` in `dir`: the path of the artifact it wrote (as it says, so earlier
/// builds in `dist/` do not matter).
pub fn build(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("build")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run weft: {e}"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout) + &text(&out.stderr);
    said.lines()
        .find_map(|line| {
            line.strip_prefix("built ")?
                .split_once(" (")
                .map(|(path, _)| path.to_owned())
        })
        .unwrap_or_else(|| panic!("weft build named no artifact: {said}"))
}

/// A running `weft serve --dev` on a free loopback port with its state in the project
/// (`state.db`) and its stderr in a log file there; killed when dropped.
pub struct Server {
    child: Child,
    /// The base URL of its listener.
    pub url: String,
    /// Its port.
    pub port: u16,
    /// The token of the admin `--dev` created.
    pub admin: String,
    /// The state file.
    pub state: PathBuf,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `weft serve --dev --poll-ms 50` with `extra` arguments on `project` and
    /// waits (20 s at most) until it listens.
    pub fn start(project: &Path, extra: &[&str]) -> Server {
        static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let state = project.join("state.db");
        let log = project.join(format!("serve-{n}.log"));
        let file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("log: {e}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
            .args([
                "serve",
                "--dev",
                "--listen",
                "127.0.0.1:0",
                "--poll-ms",
                "50",
                "--state",
            ])
            .arg(&state)
            .args(extra)
            .arg(project)
            .env("NO_COLOR", "1")
            .stderr(file)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start weft serve: {e}"));
        let started = Instant::now();
        let (url, port, admin) = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let admin = text
                .lines()
                .find(|l| l.starts_with("weft_"))
                .map(|l| l.trim().to_owned());
            let address = text
                .split_once(" host.listening address=")
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .map(str::to_owned);
            if let (Some(admin), Some(address)) = (admin, address) {
                let port = address
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_default();
                break (format!("http://{address}"), port, admin);
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("weft serve exited ({status}): {text}");
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("weft serve did not start: {text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Server {
            child,
            url,
            port,
            admin,
            state,
            log,
        }
    }

    /// What the server wrote on stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs a CLI command in `dir` as the holder of `token`.
    pub fn weft(&self, token: &str, args: &[&str], dir: &Path) -> Output {
        Command::new(env!("CARGO_BIN_EXE_weft"))
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("WEFT_SERVER", &self.url)
            .env("WEFT_TOKEN", token)
            .env("HOME", dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run weft: {e}"))
    }

    /// Runs a CLI command with `--format json` and parses what it printed.
    pub fn json(&self, token: &str, args: &[&str], dir: &Path) -> serde_json::Value {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.weft(token, &all, dir);
        serde_json::from_str(&text(&out.stdout))
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}{}", text(&out.stdout), text(&out.stderr)))
    }

    /// Adds a user with these roles and returns a fresh token.
    pub fn user(&self, name: &str, roles: &[&str], dir: &Path) -> String {
        let mut args = vec!["users", "add", name];
        for role in roles {
            args.extend(["--role", role]);
        }
        let out = self.weft(&self.admin, &args, dir);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let token = self.json(&self.admin, &["users", "token", name], dir);
        token["token"].as_str().unwrap_or_default().to_string()
    }

    /// `GET /health` as JSON.
    pub fn health(&self) -> serde_json::Value {
        let (status, body) = http(self.port, "GET", "/health", &[], "")
            .unwrap_or_else(|| panic!("no answer to /health: {}", self.log()));
        assert_eq!(status, 200, "{body}");
        json(&body)
    }
}

/// Schemas, the `erp` and `crm` connections and the `customer_to_account` map that the
/// runtime and host tests put their `sync` flows after.
pub const CUSTOMER_MODEL: &str = r#"
schema Customer {
  id: Int
  name: String
  active: Bool
}

schema Account {
  ExternalId: String
  Name: String
}

connection erp: http
connection crm: http

map customer_to_account(c: Customer) -> Account {
  ExternalId = to_string(c.id)
  Name = upper(c.name)
}
"#;
