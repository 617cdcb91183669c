//! End-to-end tests of `weft test`: the real binary on the examples and on a project
//! whose tests fail in every way the runner reports.

mod common;

use std::path::Path;

use common::{copy_dir, repo, stderr, stdout};

/// Runs `weft test` with `args` in `dir`; `ci` sets `CI=true`, otherwise CI is unset.
fn weft_test(args: &[&str], dir: &Path, ci: bool) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
    command
        .arg("test")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CI");
    if ci {
        command.env("CI", "true");
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run weft: {e}"))
}

/// Durations vary from run to run; everything else in a report must not.
fn stable(report: &str) -> String {
    let mut out = String::new();
    for line in report.lines() {
        let line = match (line.rfind(" ("), line.ends_with(" ms)")) {
            (Some(i), true) => format!("{} (<time>)", &line[..i]),
            _ => line.to_owned(),
        };
        let line = match line.find("finished in ") {
            Some(i) => format!("{}finished in <time>", &line[..i]),
            None => line,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A copy of the failing project, so snapshot writes never touch the repository.
fn failing_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    copy_dir(&repo().join("tests/projects/failing"), dir.path());
    dir
}

fn snapshot_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("snapshots"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn every_example_passes_in_ci_and_writes_nothing() {
    for example in ["customer-sync", "order-to-cash", "hire-to-retire"] {
        let dir = repo().join("examples").join(example);
        let before = snapshot_names(&dir);
        let out = weft_test(&[], &dir, true);
        let report = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{example}:\n{report}");
        assert!(report.contains("test result: ok."), "{report}");
        assert!(
            !report.contains("note:"),
            "{example} wrote something:\n{report}"
        );
        assert_eq!(snapshot_names(&dir), before);
    }
}

#[test]
fn failures_are_reported_like_diagnostics() {
    let project = failing_project();
    let out = weft_test(&[], project.path(), true);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("failing_text", stable(&stderr(&out)));
    // CI never writes a snapshot.
    assert!(!project
        .path()
        .join("snapshots/a-snapshot-never-recorded.order_to_line.json")
        .exists());
}

#[test]
fn json_report_has_every_test_and_its_failures() {
    let project = failing_project();
    let out = weft_test(&["--format", "json"], project.path(), true);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("not JSON: {e}"));
    assert_eq!(report["version"], 1);
    assert_eq!(report["summary"]["passed"], 1);
    assert_eq!(report["summary"]["failed"], 10);
    assert_eq!(
        report["summary"]["not_run"],
        serde_json::json!(["a broken fixture"])
    );
    let tests = report["tests"].as_array().cloned().unwrap_or_default();
    assert_eq!(tests.len(), 11);
    let property = tests
        .iter()
        .find(|t| t["name"] == "order_to_line is total")
        .cloned()
        .unwrap_or_default();
    assert_eq!(property["status"], "failed");
    assert_eq!(property["file"], "src/tests.weft");
    assert_eq!(property["failures"][0]["code"], "W0905");
    assert_eq!(report["problems"][0]["code"], "W0906");
    assert_eq!(
        report["obsolete_snapshots"],
        serde_json::json!(["snapshots/nobody-uses-this.order_to_line.json"])
    );
}

#[test]
fn junit_report_counts_and_escapes() {
    let project = failing_project();
    let file = project.path().join("report.xml");
    let file_arg = file.to_string_lossy().into_owned();
    let out = weft_test(&["--junit", &file_arg], project.path(), true);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(
        xml.contains("<testsuite name=\"failing-tests\" tests=\"12\" failures=\"10\" errors=\"1\"")
    );
    assert_eq!(xml.matches("<testcase ").count(), 12);
    assert!(xml.contains("<failure message=\"expected ledger.post to be called 3 time(s), it was called 2\" type=\"W0900\">"));
    assert!(xml.contains("with { Customer: &quot;Umbrella&quot;, Total: 2 }"));
    assert!(!xml.contains("\"Umbrella\""));
}

#[test]
fn snapshots_are_written_locally_and_accepted_on_request() {
    let project = failing_project();
    let dir = project.path();
    // Locally a new snapshot is written and passes; the stale one still fails.
    let out = weft_test(&["--filter", "snapshot"], dir, false);
    let report = stderr(&out);
    assert!(
        report.contains(
            "note: new snapshot `snapshots/a-snapshot-never-recorded.order_to_line.json` written"
        ),
        "{report}"
    );
    assert!(report.contains("FAILED a stale snapshot"), "{report}");
    let written =
        std::fs::read_to_string(dir.join("snapshots/a-snapshot-never-recorded.order_to_line.json"))
            .unwrap_or_default();
    let written: serde_json::Value = serde_json::from_str(&written).unwrap_or_default();
    assert_eq!(
        written["output"],
        serde_json::json!({"Customer": "WAYNE", "OrderId": "9", "PerUnit": 1, "Total": 1})
    );
    // --update-snapshots accepts the change and deletes the unused snapshot.
    let out = weft_test(&["--update-snapshots"], dir, true);
    let report = stderr(&out);
    assert!(
        report.contains("note: snapshot `snapshots/a-stale-snapshot.order_to_line.json` updated"),
        "{report}"
    );
    assert!(!dir
        .join("snapshots/nobody-uses-this.order_to_line.json")
        .exists());
    // Now CI agrees.
    let out = weft_test(&["--filter", "snapshot"], dir, true);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn filter_and_fuzz_choose_what_runs() {
    let project = failing_project();
    let out = weft_test(&["--filter", "wrong"], project.path(), true);
    let report = stable(&stderr(&out));
    assert!(report.starts_with("running 3 test(s)\n"), "{report}");
    let out = weft_test(&["--filter", "fuzz", "--fuzz", "50"], project.path(), true);
    let report = stderr(&out);
    assert!(report.contains("FAILED fuzz order_to_line"), "{report}");
    assert!(report.contains("\"quantity\": 0"), "{report}");
}

#[test]
fn a_project_with_errors_runs_no_test() {
    let project = failing_project();
    let flows = project.path().join("src/flows.weft");
    let text = std::fs::read_to_string(&flows).unwrap_or_default();
    std::fs::write(
        &flows,
        text.replace("upper(o.customer)", "upper(o.customr)"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = weft_test(&[], project.path(), true);
    assert_eq!(out.status.code(), Some(1));
    let report = stderr(&out);
    assert!(report.contains("W0"), "{report}");
    assert!(
        report.contains("failing-tests has errors; no test was run"),
        "{report}"
    );
}
