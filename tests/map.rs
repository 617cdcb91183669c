//! End-to-end tests of `weft map`: NDJSON in, mapped NDJSON out, errors with line numbers,
//! order kept on several threads, and a differential test of the evaluator against jq on
//! the benchmark kit's mapping (`bench/mapping`).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{project, repo, stderr, stdout, MANIFEST};

/// Runs `weft map ARGS` with `input` on stdin.
fn weft_map(args: &[&str], input: &[u8], dir: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("map")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run weft: {e}"));
    // Written from another thread: the child may fill its stdout pipe before reading all
    // of stdin.
    let mut stdin = child.stdin.take();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            let _ = stdin.write_all(&input);
        }
    });
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("weft map did not finish: {e}"));
    let _ = writer.join();
    output
}

const SOURCE: &str = r#"
schema Reading {
  sensor: String
  celsius: Float
  samples: Int
  taken_at: Timestamp
  site: { name: String, factor: Float }?
}

schema Report {
  sensor: String
  fahrenheit: Float
  per_sample: Float
  day: Date
  site: String
}

map reading_to_report(r: Reading) -> Report {
  sensor     = upper(r.sensor)
  fahrenheit = r.celsius * 1.8 + 32
  per_sample = r.celsius / int_to_float(r.samples)
  day        = date_of(r.taken_at)
  site       = if r.site != null then r.site.name else "unknown"
}

connection sensors: file
connection reports: file

flow warm_readings {
  trigger manual
  read  sensors.read("readings.ndjson") as [Reading]
  where r => r.celsius > 20.0
  map   reading_to_report
  write reports.write("reports.ndjson")
}
"#;

fn readings_project() -> tempfile::TempDir {
    project(&[
        ("weft.toml", MANIFEST),
        ("src/readings.weft", SOURCE.as_bytes()),
    ])
}

const READINGS: &str = r#"{"sensor":"a1","celsius":25,"samples":2,"taken_at":"2025-03-01T23:30:00-02:00","site":{"name":"Bern","factor":1.5}}

{"sensor":"b2","celsius":-4.5,"samples":3,"taken_at":"2025-03-02T08:00:00Z"}
{"sensor":"c3","celsius":21.25,"samples":1,"taken_at":"2025-03-03T08:00:00Z","site":null,"extra":[1,2]}
"#;

#[test]
fn a_map_turns_each_line_into_one_line_of_json() {
    let dir = readings_project();
    let out = weft_map(&["reading_to_report"], READINGS.as_bytes(), dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        concat!(
            r#"{"day":"2025-03-02","fahrenheit":77.0,"per_sample":12.5,"sensor":"A1","site":"Bern"}"#,
            "\n",
            r#"{"day":"2025-03-02","fahrenheit":23.9,"per_sample":-1.5,"sensor":"B2","site":"unknown"}"#,
            "\n",
            r#"{"day":"2025-03-03","fahrenheit":70.25,"per_sample":21.25,"sensor":"C3","site":"unknown"}"#,
            "\n",
        )
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_flow_applies_its_where_and_map_steps() {
    let dir = readings_project();
    let out = weft_map(
        &["warm_readings", "--flow"],
        READINGS.as_bytes(),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sensors: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split("\"sensor\":").nth(1).unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        sensors,
        [r#""A1","site":"Bern"}"#, r#""C3","site":"unknown"}"#]
    );
    assert!(
        stderr(&out).contains(
            "flow `warm_readings` continues with `write reports.write`, which needs a connection"
        ),
        "{}",
        stderr(&out)
    );
}

const BROKEN: &str = concat!(
    r#"{"sensor":"ok1","celsius":25,"samples":1,"taken_at":"2025-03-01T00:00:00Z"}"#,
    "\n",
    r#"{"sensor":"bad-json","celsius":25,"samples":1,"#,
    "\n",
    r#"{"sensor":"bad-type","celsius":25,"samples":1,"taken_at":"2025-03-01T00:00:00Z","site":{"name":7,"factor":1}}"#,
    "\n",
    r#"{"sensor":"zero","celsius":25,"samples":0,"taken_at":"2025-03-01T00:00:00Z"}"#,
    "\n",
    r#"{"sensor":"huge","celsius":1e308,"samples":1,"taken_at":"2025-03-01T00:00:00Z"}"#,
    "\n",
    r#"{"sensor":"ok2","celsius":25,"samples":1,"taken_at":"2025-03-01T00:00:00Z"}"#,
    "\n",
);

#[test]
fn failing_records_are_reported_with_their_line_and_the_run_goes_on() {
    let dir = readings_project();
    let out = weft_map(&["reading_to_report"], BROKEN.as_bytes(), dir.path());
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains(r#""sensor":"OK1""#), "{lines:?}");
    assert!(lines[1].contains(r#""sensor":"OK2""#), "{lines:?}");
    assert_eq!(
        stderr(&out),
        concat!(
            "weft map: line 2: $: invalid JSON at column 46: EOF while parsing a value\n",
            "weft map: line 3: $.site.name: expected a string, found a number\n",
            "weft map: line 4: division by zero in 25.0 / 0.0 (in map `reading_to_report`, field `per_sample`)\n",
            "weft map: line 5: overflow in 1e+308 * 1.8: the result is not a finite Float (in map `reading_to_report`, field `fahrenheit`)\n",
            "weft map: 4 records failed\n",
        )
    );
}

#[test]
fn fail_fast_stops_at_the_first_failure() {
    let dir = readings_project();
    for jobs in ["1", "2"] {
        let out = weft_map(
            &["reading_to_report", "--fail-fast", "--jobs", jobs],
            BROKEN.as_bytes(),
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(stdout(&out).lines().count(), 1, "jobs {jobs}");
        assert!(stdout(&out).contains("OK1"));
        assert!(
            stderr(&out).starts_with("weft map: line 2: "),
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).ends_with("weft map: 1 record failed\n"));
    }
}

#[test]
fn lines_that_are_not_utf8_are_reported() {
    let dir = readings_project();
    let mut input = b"{\"sensor\":\"\xff\"}\n".to_vec();
    input.extend_from_slice(READINGS.lines().next().unwrap_or("").as_bytes());
    let out = weft_map(&["reading_to_report"], &input, dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(
        stderr(&out).starts_with("weft map: line 1: $: invalid UTF-8 at byte 12\n"),
        "{}",
        stderr(&out)
    );
}

/// Many readings, some failing, on `--jobs 1` and `--jobs 3`: the same bytes on stdout
/// and stderr, in input order.
#[test]
fn several_threads_keep_the_input_order() {
    let dir = readings_project();
    let mut input = String::new();
    for i in 0..3000u32 {
        let celsius = f64::from(i % 97) - 20.5;
        let samples = i % 13;
        input.push_str(&format!(
            "{{\"sensor\":\"s{i}\",\"celsius\":{celsius},\"samples\":{samples},\"taken_at\":\"2025-01-01T00:00:00Z\"}}\n"
        ));
        if i % 500 == 0 {
            input.push('\n');
        }
    }
    let one = weft_map(&["warm_readings", "--flow"], input.as_bytes(), dir.path());
    let three = weft_map(
        &["warm_readings", "--flow", "--jobs", "3"],
        input.as_bytes(),
        dir.path(),
    );
    assert_eq!(one.status.code(), Some(1), "samples = 0 fails some records");
    assert_eq!(three.status.code(), Some(1));
    assert!(stdout(&one).lines().count() > 1000);
    assert_eq!(stdout(&one), stdout(&three));
    assert_eq!(stderr(&one), stderr(&three));
    assert!(
        stderr(&one).contains("line 54: division by zero in 31.5 / 0.0"),
        "{}",
        stderr(&one)
    );
}

#[test]
fn unknown_names_and_broken_projects() {
    let dir = readings_project();
    let out = weft_map(&["reading_to_reprot"], b"", dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "weft map: the project has no map `reading_to_reprot`; did you mean `reading_to_report`?\n"
    );
    let out = weft_map(&["reading_to_report", "--flow"], b"", dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no flow `reading_to_report`"),
        "{}",
        stderr(&out)
    );
    let broken = project(&[
        ("weft.toml", MANIFEST),
        (
            "src/a.weft",
            b"schema A { x: Int }\nmap m(a: A) -> A { x = a.y }\n",
        ),
    ]);
    let out = weft_map(&["m"], b"{\"x\":1}\n", broken.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("W0403"), "{}", stderr(&out));
    assert!(stderr(&out).ends_with("weft map: t has errors; nothing was mapped\n"));
    let out = weft_map(&["m", "--jobs", "0"], b"", dir.path());
    assert_eq!(out.status.code(), Some(2));
}

// --- differential test against jq --------------------------------------------------------

/// A deterministic generator (SplitMix64) of records shaped like the benchmark kit's
/// (`gen.py`), with its edge cases: missing and null sectors, zero headcounts, no orders,
/// no tags, non-ASCII and escaped text.
struct Records(u64);

impl Records {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A price with at most two decimals, as JSON text.
    fn cents(&mut self, max: u64) -> String {
        let cents = 50 + self.below(max * 100);
        if cents.is_multiple_of(100) {
            format!("{}", cents / 100)
        } else {
            format!("{}.{:02}", cents / 100, cents % 100)
        }
    }

    fn record(&mut self, i: u64) -> String {
        const NAMES: &[&str] = &[
            "Nordic Steel GmbH",
            "Müller Foods AG",
            "Société \\\"Générale\\\" SA",
            "Østergade ApS",
            "Back\\\\slash Ltd",
            "Tab\\tCo",
            "日本 KK",
        ];
        const COUNTRIES: &[&str] = &["de", "DE", "Fr", "gb", "us", "Nl", "ch"];
        const SECTORS: &[&str] = &["Retail", "Energy", "Public Sector", "Finance"];
        const TAGS: &[&str] = &[
            "vip",
            "vip-gold",
            "vip_platinum",
            "VIP-legacy",
            "ex-vip",
            "b2b",
            "newsletter",
            "vipx",
        ];
        const CITIES: &[&str] = &["Zürich", "København", "Kraków", "Lyon", "São Paulo"];
        let sector = match self.below(10) {
            0 => String::new(),
            1 | 2 => ",\"sector\":null".to_owned(),
            _ => format!(",\"sector\":\"{}\"", self.pick(SECTORS)),
        };
        let headcount = if self.below(8) == 0 {
            0
        } else {
            1 + self.below(50_000)
        };
        let mut orders = Vec::new();
        for _ in 0..self.below(6) {
            let mut lines = Vec::new();
            for _ in 0..1 + self.below(4) {
                lines.push(format!(
                    "{{\"sku\":\"SKU-{:05}\",\"qty\":{},\"unit_price\":{}}}",
                    self.below(100_000),
                    1 + self.below(50),
                    self.cents(999)
                ));
            }
            orders.push(format!(
                "{{\"order_id\":\"SO-{}\",\"amount\":{},\"currency\":\"EUR\",\"lines\":[{}]}}",
                10_000_000 + self.below(89_999_999),
                self.cents(50_000),
                lines.join(",")
            ));
        }
        let tags: Vec<String> = (0..self.below(6))
            .map(|_| format!("\"{}\"", self.pick(TAGS)))
            .collect();
        let day = 1 + self.below(28);
        let (hour, minute, second) = (self.below(24), self.below(60), self.below(60));
        format!(
            concat!(
                "{{\"customer_id\":{},\"customer_name\":\"{}\",\"country\":\"{}\"{},",
                "\"status\":\"active\",\"headcount\":{},\"annual_revenue\":{},",
                "\"created_at\":\"20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}Z\",",
                "\"email\":\"info{}@example.com\",\"payment_terms\":\"NET30\",",
                "\"address\":{{\"street\":\"Main St {}\",\"city\":\"{}\",\"postcode\":\"{:05}\"}},",
                "\"tags\":[{}],\"orders\":[{}]}}"
            ),
            100_000 + i,
            self.pick(NAMES),
            self.pick(COUNTRIES),
            sector,
            headcount,
            self.cents(500_000_000),
            10 + self.below(15),
            1 + self.below(12),
            day,
            hour,
            minute,
            second,
            self.below(10_000),
            1 + self.below(250),
            self.pick(CITIES),
            self.below(100_000),
            tags.join(","),
            orders.join(","),
        )
    }
}

/// One line of JSON as the kit's `verify.py` compares it: parsed, integral floats as
/// integers (jq prints `0`, serde_json `0.0`), keys sorted.
fn canonical(line: &str) -> String {
    fn norm(v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value as J;
        match v {
            J::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => J::from(f as i64),
                _ => J::Number(n),
            },
            J::Array(items) => J::Array(items.into_iter().map(norm).collect()),
            J::Object(map) => J::Object(map.into_iter().map(|(k, v)| (k, norm(v))).collect()),
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(v) => norm(v).to_string(),
        Err(e) => format!("not JSON ({e}): {line}"),
    }
}

#[test]
fn the_evaluator_agrees_with_jq_on_the_kit_mapping() {
    if Command::new("jq").arg("--version").output().is_err() {
        println!("skipped: jq is not installed (.ci/run installs it with apt-get)");
        return;
    }
    let mut records = Records(42);
    let mut input = String::new();
    for i in 0..4000 {
        input.push_str(&records.record(i));
        input.push('\n');
    }
    let project = repo().join("bench/mapping");
    let weft = weft_map(
        &["account_sync", &project.to_string_lossy(), "--flow"],
        input.as_bytes(),
        &repo(),
    );
    assert_eq!(weft.status.code(), Some(0), "{}", stderr(&weft));
    let jq = {
        let mut child = Command::new("jq")
            .args(["-c", "-f"])
            .arg(project.join("account_sync.jq"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run jq: {e}"));
        let mut stdin = child.stdin.take();
        let text = input.clone();
        let writer = std::thread::spawn(move || {
            if let Some(stdin) = stdin.as_mut() {
                let _ = stdin.write_all(text.as_bytes());
            }
        });
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("jq did not finish: {e}"));
        let _ = writer.join();
        out
    };
    assert_eq!(jq.status.code(), Some(0), "{}", stderr(&jq));
    let ours: Vec<String> = stdout(&weft).lines().map(canonical).collect();
    let theirs: Vec<String> = stdout(&jq).lines().map(canonical).collect();
    assert!(ours.len() > 3000, "only {} records mapped", ours.len());
    assert_eq!(ours.len(), theirs.len(), "record counts differ");
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "output record {} differs", i + 1);
    }
}
