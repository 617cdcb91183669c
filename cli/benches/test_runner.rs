//! `weft test` wall time on a project of 200 tests (target: under 1 s).
//!
//! cargo bench -p weft --bench test_runner            # 200 tests
//! cargo bench -p weft --bench test_runner -- 1000    # another count
//!
//! The project is the customer-sync example with its test file repeated under new test
//! names until there are N tests, so the mix is the example's: flow runs against mocks
//! with retries and dead letters, inline and file fixtures, mapping snapshots and
//! property tests (956 generated inputs per 8 tests). The first run records the
//! snapshots; the median of the next runs is reported, for the real `weft` process.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/customer-sync");
    copy(&example, dir.path());
    let tests = std::fs::read_to_string(example.join("src/tests.weft"))
        .unwrap_or_else(|e| panic!("read tests: {e}"));
    let per_copy = tests.matches("\ntest \"").count() + usize::from(tests.starts_with("test \""));
    let copies = count.div_ceil(per_copy.max(1));
    let mut generated = String::new();
    for i in 0..copies {
        generated.push_str(&tests.replace("\" {\n", &format!(" #{i}\" {{\n")));
    }
    std::fs::write(dir.path().join("src/tests.weft"), generated)
        .unwrap_or_else(|e| panic!("write tests: {e}"));
    let weft = env!("CARGO_BIN_EXE_weft");
    let run = || {
        let started = Instant::now();
        let out = Command::new(weft)
            .args(["test", "--color", "never"])
            .current_dir(dir.path())
            .env_remove("CI")
            .output()
            .unwrap_or_else(|e| panic!("run weft: {e}"));
        let elapsed = started.elapsed();
        let report = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "weft test failed:\n{report}");
        (elapsed, report)
    };
    let (_, first) = run();
    let summary = first.lines().last().unwrap_or_default().to_owned();
    let mut times: Vec<Duration> = (0..RUNS).map(|_| run().0).collect();
    times.sort();
    let median = times[RUNS / 2];
    println!("{summary}");
    println!(
        "weft test, {} tests ({copies} copies of customer-sync's {per_copy}): median {:.0} ms over {RUNS} runs (min {:.0} ms, max {:.0} ms)",
        copies * per_copy,
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[RUNS - 1].as_secs_f64() * 1000.0,
    );
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir: {e}"));
    for entry in std::fs::read_dir(from).into_iter().flatten().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap_or_else(|e| panic!("copy: {e}"));
        }
    }
}
