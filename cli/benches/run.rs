//! Records per second of `weft run` from a file source to a file target, against the
//! pure engine-and-mapping throughput on the same flow with in-memory connections.
//!
//! cargo bench -p weft --bench run            # 200,000 records
//! cargo bench -p weft --bench run -- 50000   # another count
//!
//! The flow reads an NDJSON file of N records, drops a tenth with a `where`, maps the
//! rest (string functions, interpolation, `??`, a decimal) and appends them to an NDJSON
//! file. The `weft run` figure is the real process end to end (compile, bind, read,
//! map, one append per record, SQLite run record); the pure figure runs the engine
//! in-process with connections that hand over the parsed records and drop the writes.
//! The journaled figure runs the same in-process engine through `state::run_recorded`
//! with a SQLite state file: the cost of the run record and of the crash journal
//! (records stored once read, settled in batches of 500).
//!
//! The HTTP case runs `weft run` from an HTTP source to an HTTP target on loopback: a
//! tiny server in this bench serves the records in pages of 1,000 (`Link: rel="next"`)
//! and accepts one `POST` per record on a kept-alive connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime::redact::Redactor;
use weft_runtime::state::sqlite::SqliteStore;
use weft_runtime::state::{self, RunContext};

use weft_runtime::connector::{Connections, ConnectorError, Request};
use weft_runtime::engine::{self, DeadLetter, Pause, RunOptions, Sink};

const RUNS: usize = 3;

const FLOW: &str = r#"
schema Order {
  id: Int
  customer: String
  country: String?
  amount: Decimal
  active: Bool
}

schema Invoice {
  Number: String
  Customer: String
  Country: String
  Total: Decimal
}

connection files: file

map order_to_invoice(o: Order) -> Invoice {
  Number = "INV-${o.id}"
  Customer = upper(trim(o.customer))
  Country = o.country ?? "XX"
  Total = o.amount
}

flow copy {
  trigger manual
  read files.read("in.ndjson") as [Order]
  where o => o.active
  map order_to_invoice
  write files.write("out.ndjson")
}

connection src: http
connection dst: http

flow http_copy {
  trigger manual
  read src.get("/orders") as [Order]
  where o => o.active
  map order_to_invoice
  write dst.post("/invoices")
}
"#;

const PAGE: usize = 1000;

/// Serves `records` in pages at `/orders?page=N` and answers every POST with 204.
fn serve_http(records: Arc<Vec<String>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let records = Arc::clone(&records);
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let Ok(mut writer) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let mut length = 0usize;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 {
                            return;
                        }
                        let header = header.trim_end().to_ascii_lowercase();
                        if header.is_empty() {
                            break;
                        }
                        if let Some(v) = header.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let answer = if line.starts_with("GET") {
                        let page: usize = path
                            .split_once("page=")
                            .and_then(|(_, p)| p.parse().ok())
                            .unwrap_or(0);
                        let items = records.iter().skip(page * PAGE).take(PAGE);
                        let body = format!("[{}]", items.cloned().collect::<Vec<_>>().join(","));
                        let link = if (page + 1) * PAGE < records.len() {
                            format!("Link: </orders?page={}>; rel=\"next\"\r\n", page + 1)
                        } else {
                            String::new()
                        };
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{link}Content-Length: {}\r\n\r\n{body}",
                            body.len()
                        )
                    } else {
                        "HTTP/1.1 204 No Content\r\n\r\n".to_owned()
                    };
                    if writer.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

struct Memory(serde_json::Value);

impl Connections for Memory {
    fn send(&self, request: &Request<'_>) -> Result<serde_json::Value, ConnectorError> {
        Ok(if request.operation == "read" {
            self.0.clone()
        } else {
            serde_json::Value::Null
        })
    }
}

struct NoWait;
impl Pause for NoWait {
    fn pause(&self, _: Duration) {}
}

struct Count(u64);
impl Sink for Count {
    fn delivered(&mut self, _: &serde_json::Value) {
        self.0 += 1;
    }
    fn dead_letter(&mut self, _: DeadLetter) {}
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let root = dir.path();
    let data = root.join("data");
    std::fs::create_dir_all(root.join("src")).unwrap_or_else(|e| panic!("mkdir: {e}"));
    std::fs::create_dir_all(&data).unwrap_or_else(|e| panic!("mkdir: {e}"));
    std::fs::write(
        root.join("weft.toml"),
        "[project]\nname = \"bench\"\nversion = \"0.1.0\"\nsources = [\"src\"]\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    std::fs::write(root.join("src/flow.weft"), FLOW).unwrap_or_else(|e| panic!("write: {e}"));
    let mut input = String::new();
    for i in 0..count {
        let country = if i % 7 == 0 {
            "null".to_owned()
        } else {
            "\"DE\"".to_owned()
        };
        input.push_str(&format!(
            "{{\"id\":{i},\"customer\":\"  customer {i} gmbh \",\"country\":{country},\"amount\":\"{}.{:02}\",\"active\":{}}}\n",
            i % 10_000,
            i % 100,
            i % 10 != 0
        ));
    }
    std::fs::write(data.join("in.ndjson"), &input).unwrap_or_else(|e| panic!("write: {e}"));
    // The HTTP source and target, on loopback.
    let lines: Vec<String> = input.lines().map(str::to_owned).collect();
    let port = serve_http(Arc::new(lines));
    std::fs::write(
        root.join("src/env.weft"),
        format!(
            "environment bench {{\n  files = file(\"{}\")\n  src = http(\"http://127.0.0.1:{port}\", pagination: \"link\")\n  dst = http(\"http://127.0.0.1:{port}\")\n}}\n",
            data.display()
        ),
    )
    .unwrap_or_else(|e| panic!("write: {e}"));

    let weft = env!("CARGO_BIN_EXE_weft");
    let end_to_end = || {
        let _ = std::fs::remove_file(data.join("out.ndjson"));
        let started = Instant::now();
        let out = Command::new(weft)
            .args(["run", "copy", "--env", "bench"])
            .current_dir(root)
            .output()
            .unwrap_or_else(|e| panic!("run weft: {e}"));
        let elapsed = started.elapsed();
        assert!(
            out.status.success(),
            "weft run failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        elapsed
    };
    let process = median((0..RUNS).map(|_| end_to_end()).collect());
    let written = std::fs::read_to_string(data.join("out.ndjson"))
        .map(|t| t.lines().count())
        .unwrap_or_default();

    let analysis = weft_compiler::analysis::check_project(root);
    let lowered = weft_compiler::lower::lower(&analysis)
        .unwrap_or_else(|| panic!("bench project has errors"));
    let records = serde_json::Value::Array(
        input
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_default())
            .collect(),
    );
    let memory = Memory(records);
    let pure_run = || {
        let started = Instant::now();
        let mut sink = Count(0);
        let summary = engine::run(
            &lowered.program,
            "copy",
            &memory,
            &NoWait,
            &RunOptions::default(),
            &mut sink,
        );
        assert!(summary.failure.is_none(), "{:?}", summary.failure);
        started.elapsed()
    };
    let pure = median((0..RUNS).map(|_| pure_run()).collect());

    let state_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let redactor = Redactor::default();
    let journaled_run = |i: usize| {
        let mut store = SqliteStore::open(&state_dir.path().join(format!("state-{i}.db")))
            .unwrap_or_else(|e| panic!("state: {e}"));
        let context = RunContext {
            program: &lowered.program,
            flow: "copy",
            environment: "bench",
            digest: "bench",
            connections: &memory,
            pause: &NoWait,
            redactor: &redactor,
        };
        let started = Instant::now();
        let record = state::run_recorded(&mut store, &context, &RunOptions::default())
            .unwrap_or_else(|e| panic!("recorded run: {e}"));
        assert!(record.failure.is_none(), "{:?}", record.failure);
        started.elapsed()
    };
    let journaled = median((0..RUNS).map(journaled_run).collect());

    let http_run = || {
        let started = Instant::now();
        let out = Command::new(weft)
            .args(["run", "http_copy", "--env", "bench"])
            .current_dir(root)
            .output()
            .unwrap_or_else(|e| panic!("run weft: {e}"));
        assert!(
            out.status.success(),
            "weft run failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    };
    let http = median((0..RUNS).map(|_| http_run()).collect());

    let per_second = |d: Duration| count as f64 / d.as_secs_f64();
    println!(
        "weft run, file to file: {count} records ({written} written) in {:.0} ms median: {:.0} records/s",
        process.as_secs_f64() * 1000.0,
        per_second(process)
    );
    println!(
        "engine and mapping alone, in memory: {:.0} ms median: {:.0} records/s",
        pure.as_secs_f64() * 1000.0,
        per_second(pure)
    );
    println!(
        "overhead of the real process and file connectors: {:.2} µs per record",
        (process.as_secs_f64() - pure.as_secs_f64()) * 1e6 / count as f64
    );
    println!(
        "engine with the SQLite run record and crash journal: {:.0} ms median: {:.0} records/s ({:.2} µs per record over the engine alone)",
        journaled.as_secs_f64() * 1000.0,
        per_second(journaled),
        (journaled.as_secs_f64() - pure.as_secs_f64()) * 1e6 / count as f64
    );
    println!(
        "weft run, HTTP to HTTP on loopback: {:.0} ms median: {:.0} records/s ({:.2} µs per record over the engine alone)",
        http.as_secs_f64() * 1000.0,
        per_second(http),
        (http.as_secs_f64() - pure.as_secs_f64()) * 1e6 / count as f64
    );
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
