//! `weft test`: runs a project's tests against mocks and reports like a compiler: a
//! line per test, failures as diagnostics with source excerpts, a summary line, and on
//! request JSON or a JUnit XML file for CI.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_compiler::analysis::{self, Analysis};
use weft_compiler::diagnostic::Diagnostic;
use weft_compiler::lower::{self, Lowered};
use weft_compiler::render;
use weft_compiler::testing::{self, Plan, PlanOptions, SNAPSHOT_DIR};
use weft_compiler::xml::escape as xml;
use weft_runtime::testing::outcome::TestResult;
use weft_runtime::testing::run::run_all;
use weft_runtime::testing::{Options, SnapshotMode};

use crate::ColorChoice;

/// Arguments of `weft test`.
#[derive(clap::Args)]
pub struct Args {
    /// The project folder (or its weft.toml, or a file inside it).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Only tests whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// Write new and changed snapshots instead of failing on them.
    #[arg(long, short = 'u')]
    update_snapshots: bool,
    /// Property-test every map with N generated inputs, and use N for every `property`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    fuzz: Option<u32>,
    /// Tests run at once (default: the number of cores).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Record the result for this build's digest on the control API, where the
    /// `tests` promotion gate looks for it.
    #[arg(long)]
    upload: bool,
    /// The control API for --upload (or set WEFT_SERVER).
    #[arg(long, env = "WEFT_SERVER", default_value = crate::delivery::DEFAULT_SERVER)]
    server: String,
}

/// Report formats of `weft test`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    /// A line per test, failures with source excerpts, a summary.
    Text,
    /// One JSON document.
    Json,
}

/// Runs the tests; exit 0 when all pass, 1 when one fails or cannot run, 2 on errors
/// that stop the run (no project, a project with errors is 1).
pub fn run(args: &Args) -> ExitCode {
    let started = Instant::now();
    let analysis = analysis::check_project(&args.path);
    let color = args.color.for_stderr();
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(render::text(&analysis.db, &analysis.diagnostics, color).as_bytes());
    let Some(project) = analysis.project.as_ref() else {
        return ExitCode::from(2);
    };
    let Some(lowered) = lower::lower(&analysis) else {
        let _ = writeln!(
            stderr,
            "weft test: {} has errors; no test was run",
            project.manifest.name
        );
        return ExitCode::from(1);
    };
    let plan = testing::plan(
        &analysis,
        &lowered,
        &PlanOptions {
            filter: args.filter.clone(),
            fuzz: args.fuzz,
        },
    );
    let options = Options {
        snapshots: if args.update_snapshots {
            SnapshotMode::Update
        } else if running_in_ci() {
            SnapshotMode::NeverWrite
        } else {
            SnapshotMode::WriteNew
        },
        fuzz: args.fuzz,
        jobs: args
            .jobs
            .map_or_else(|| Options::default().jobs, usize::from),
    };
    let results = run_all(&lowered.program, &plan.cases, &options);
    let report = Report {
        analysis: &analysis,
        lowered: &lowered,
        plan: &plan,
        results: &results,
        elapsed: started.elapsed(),
    };
    let obsolete = if args.filter.is_none() && args.fuzz.is_none() {
        obsolete_snapshots(&project.root, &plan, args.update_snapshots)
    } else {
        Vec::new()
    };
    let written = match args.format {
        ReportFormat::Text => {
            let text = report.text(color, &obsolete);
            stderr.write_all(text.as_bytes())
        }
        ReportFormat::Json => writeln!(std::io::stdout(), "{:#}", report.json(&obsolete)),
    };
    if let Some(file) = &args.junit {
        if let Err(e) = std::fs::write(file, report.junit(&project.manifest.name)) {
            let _ = writeln!(stderr, "weft test: cannot write {}: {e}", file.display());
            return ExitCode::from(2);
        }
    }
    if written.is_err() {
        return ExitCode::from(2);
    }
    if args.upload {
        let client = crate::delivery::Client {
            server: args.server.clone(),
            format: crate::delivery::OutputFormat::Text,
        };
        let digest = weft_runtime::artifact::program_digest(&lowered.program);
        let body = json!({"digest": digest, "report": report.json(&obsolete)});
        match client.expect("POST", "/v1/tests", Some(&body)) {
            Ok(answer) => {
                let _ = writeln!(
                    stderr,
                    "weft test: recorded {} for {digest}",
                    if answer.body["passed"] == true {
                        "a passing run"
                    } else {
                        "a failing run"
                    }
                );
            }
            Err(crate::delivery::Failure(code, message)) => {
                let _ = writeln!(stderr, "weft test: cannot upload the result: {message}");
                return ExitCode::from(code.max(2));
            }
        }
    }
    ExitCode::from(u8::from(!report.passed()))
}

/// Whether this is a CI run, where snapshots are never written unasked.
fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Snapshot files no test uses any more; deleted with `--update-snapshots`.
fn obsolete_snapshots(root: &Path, plan: &Plan, delete: bool) -> Vec<String> {
    let dir = root.join(SNAPSHOT_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut obsolete: Vec<String> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !plan.snapshot_files.contains(p))
        .filter(|p| !(delete && std::fs::remove_file(p).is_ok()))
        .filter_map(|p| {
            p.file_name()
                .map(|n| format!("{SNAPSHOT_DIR}/{}", n.to_string_lossy()))
        })
        .collect();
    obsolete.sort();
    obsolete
}

struct Report<'a> {
    analysis: &'a Analysis,
    lowered: &'a Lowered,
    plan: &'a Plan,
    results: &'a [TestResult],
    elapsed: Duration,
}

impl Report<'_> {
    fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed()).count()
    }

    fn passed(&self) -> bool {
        self.failed() == 0 && self.plan.not_run.is_empty() && self.plan.diagnostics.is_empty()
    }

    fn diagnostics(&self, result: &TestResult) -> Vec<Diagnostic> {
        result
            .failures
            .iter()
            .filter_map(|f| self.plan.diagnostic(f, self.lowered))
            .collect()
    }

    fn text(&self, color: bool, obsolete: &[String]) -> String {
        let db = &self.analysis.db;
        let mut out = String::new();
        let mut failures = String::new();
        out.push_str(&format!("running {} test(s)\n", self.results.len()));
        for result in self.results {
            let mark = if result.passed() { "ok    " } else { "FAILED" };
            out.push_str(&format!(
                "{mark} {} ({})\n",
                result.name,
                millis(result.duration)
            ));
            for note in &result.notes {
                out.push_str(&format!("       note: {note}\n"));
            }
            if !result.passed() {
                failures.push_str(&format!("\n---- {} ----\n", result.name));
                failures.push_str(&render::text(db, &self.diagnostics(result), color));
            }
        }
        for name in &self.plan.not_run {
            out.push_str(&format!("NOT RUN {name} (its data cannot be read)\n"));
        }
        out.push_str(&failures);
        if !self.plan.diagnostics.is_empty() {
            out.push('\n');
            out.push_str(&render::text(db, &self.plan.diagnostics, color));
        }
        for file in obsolete {
            out.push_str(&format!(
                "warning: `{file}` is used by no test; `weft test --update-snapshots` deletes it\n"
            ));
        }
        let passed = self.results.len() - self.failed();
        out.push_str(&format!(
            "\ntest result: {}. {passed} passed; {} failed; {} not run; finished in {}\n",
            if self.passed() { "ok" } else { "FAILED" },
            self.failed(),
            self.plan.not_run.len(),
            seconds(self.elapsed)
        ));
        out
    }

    fn json(&self, obsolete: &[String]) -> serde_json::Value {
        let db = &self.analysis.db;
        let tests: Vec<serde_json::Value> = self
            .results
            .iter()
            .map(|r| {
                let (file, line) = self.position(r.site);
                json!({
                    "name": r.name,
                    "file": file,
                    "line": line,
                    "status": if r.passed() { "passed" } else { "failed" },
                    "duration_ms": r.duration.as_secs_f64() * 1000.0,
                    "skipped_waits_ms": r.skipped_waits.as_millis() as u64,
                    "notes": r.notes,
                    "failures": render::json(db, &self.diagnostics(r))["diagnostics"],
                })
            })
            .collect();
        json!({
            "version": 1,
            "summary": {
                "passed": self.results.len() - self.failed(),
                "failed": self.failed(),
                "not_run": self.plan.not_run,
                "duration_ms": self.elapsed.as_secs_f64() * 1000.0,
                "ok": self.passed(),
            },
            "tests": tests,
            "problems": render::json(db, &self.plan.diagnostics)["diagnostics"],
            "obsolete_snapshots": obsolete,
        })
    }

    /// JUnit XML as Jenkins, GitLab, GitHub and Azure Pipelines read it.
    fn junit(&self, project: &str) -> String {
        let db = &self.analysis.db;
        let mut cases = String::new();
        for r in self.results {
            let (file, line) = self.position(r.site);
            cases.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\" time=\"{:.3}\"",
                xml(&r.name),
                xml(project),
                xml(&file),
                r.duration.as_secs_f64()
            ));
            if r.passed() {
                cases.push_str("/>\n");
                continue;
            }
            cases.push_str(">\n");
            for d in self.diagnostics(r) {
                cases.push_str(&format!(
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                    xml(&d.message),
                    d.code.as_str(),
                    xml(&render::text(db, std::slice::from_ref(&d), false))
                ));
            }
            cases.push_str("    </testcase>\n");
        }
        for name in &self.plan.not_run {
            cases.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\"><error message=\"its data cannot be read\"/></testcase>\n",
                xml(name),
                xml(project)
            ));
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"weft test\" tests=\"{total}\" failures=\"{failed}\" errors=\"{errors}\" time=\"{time:.3}\">\n  <testsuite name=\"{name}\" tests=\"{total}\" failures=\"{failed}\" errors=\"{errors}\" time=\"{time:.3}\">\n{cases}  </testsuite>\n</testsuites>\n",
            total = self.results.len() + self.plan.not_run.len(),
            failed = self.failed(),
            errors = self.plan.not_run.len(),
            time = self.elapsed.as_secs_f64(),
            name = xml(project),
        )
    }

    /// The file (as the project names it) and 1-based line of a site.
    fn position(&self, site: u32) -> (String, usize) {
        match self.plan.loc(site) {
            Some(loc) => {
                let file = &self.analysis.db.get(loc.file).name;
                let (line, _) = self.analysis.db.line_col(loc.file, loc.span.start);
                (file.replace('\\', "/"), line)
            }
            None => (String::new(), 0),
        }
    }
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn seconds(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}
