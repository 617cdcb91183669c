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

use std::process::Command;
use std::time::{Duration, Instant};

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
"#;

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
    std::fs::write(
        root.join("src/env.weft"),
        format!(
            "environment bench {{\n  files = file(\"{}\")\n}}\n",
            data.display()
        ),
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
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
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
