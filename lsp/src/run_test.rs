//! `workspace/executeCommand` `weft.runTest`: runs one test of the editor's version of a
//! project (unsaved buffers included) with the same planner and runner as `weft test`,
//! and reports pass or fail three ways: the command's result, a message, and the
//! failures as diagnostics (W0900–W0907) until the project is edited again.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use tower_lsp_server::ls_types::{Diagnostic, Range, Uri};
use weft_compiler::analysis::Analysis;
use weft_compiler::lower::{self, Lowered};
use weft_compiler::testing::{self, Plan, PlanOptions};
use weft_runtime::testing::outcome::TestResult;
use weft_runtime::testing::plan::TestCase;
use weft_runtime::testing::run::run_one;
use weft_runtime::testing::Options;

use crate::diagnostics::FileTable;
use crate::world::Snapshot;

/// A test ready to run: the lowered program, the test's plan and where its files are.
pub struct Prepared {
    /// The test.
    case: TestCase,
    /// The plan it came from, for turning failures into diagnostics.
    plan: Plan,
    /// The program it runs.
    lowered: Lowered,
    /// The project's files as the editor has them.
    files: FileTable,
}

/// Plans the test named `name` of the analysed project; an error for the user when the
/// project has errors or no such test can run.
pub fn prepare(snapshot: &Snapshot, analysis: &Analysis, name: &str) -> Result<Prepared, String> {
    if analysis.project.is_none() {
        return Err("this file is in no project: tests run in a folder with weft.toml".into());
    }
    let Some(lowered) = lower::lower(analysis) else {
        return Err(format!(
            "the project has {} error(s); fix the problems the editor shows, then run the test again",
            analysis.error_count()
        ));
    };
    let mut plan = testing::plan(
        analysis,
        &lowered,
        &PlanOptions {
            filter: Some(name.to_string()),
            fuzz: None,
        },
    );
    if plan.not_run.iter().any(|n| n == name) {
        let why = plan
            .diagnostics
            .first()
            .map_or_else(String::new, |d| format!(": {}", d.message));
        return Err(format!("test `{name}` cannot run{why}"));
    }
    let index = plan.cases.iter().position(|case| case.name == name);
    let Some(case) = index.map(|i| plan.cases.swap_remove(i)) else {
        return Err(format!(
            "the project has no test `{name}`; was it renamed? Save, and use the lens above the test"
        ));
    };
    Ok(Prepared {
        case,
        plan,
        files: FileTable::of(snapshot, analysis),
        lowered,
    })
}

/// The outcome of one run, as returned to the client.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The test.
    pub test: String,
    /// Whether it passed.
    pub passed: bool,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Each failure, where it is shown.
    pub failures: Vec<FailureAt>,
    /// Notes of the runner (snapshots written, for instance).
    pub notes: Vec<String>,
    /// The failures as diagnostics, by file (not sent in the result).
    #[serde(skip)]
    pub diagnostics: HashMap<Uri, Vec<Diagnostic>>,
}

/// One failure and where its diagnostic is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureAt {
    /// Its code, W0900–W0907.
    pub code: String,
    /// What failed.
    pub message: String,
    /// The file.
    pub uri: Uri,
    /// The place.
    pub range: Range,
}

impl Prepared {
    /// Runs the test (blocking: property tests may take a while); new snapshots are
    /// written as by `weft test` on a developer's machine.
    pub fn run(self) -> Outcome {
        let options = Options {
            jobs: 1,
            ..Options::default()
        };
        let result = run_one(&self.lowered.program, &self.case, &options);
        self.outcome(&result)
    }

    fn outcome(&self, result: &TestResult) -> Outcome {
        let found: Vec<_> = result
            .failures
            .iter()
            .filter_map(|f| self.plan.diagnostic(f, &self.lowered))
            .collect();
        let diagnostics = self.files.convert(&found);
        let mut failures: Vec<FailureAt> = diagnostics
            .iter()
            .flat_map(|(uri, list)| {
                list.iter().map(|d| FailureAt {
                    code: d.code.as_ref().map_or_else(String::new, code_text),
                    message: d.message.clone(),
                    uri: uri.clone(),
                    range: d.range,
                })
            })
            .collect();
        failures.sort_by(|a, b| {
            (a.uri.as_str(), a.range.start.line).cmp(&(b.uri.as_str(), b.range.start.line))
        });
        Outcome {
            test: result.name.clone(),
            passed: result.passed(),
            duration_ms: millis(result.duration),
            failures,
            notes: result.notes.clone(),
            diagnostics,
        }
    }
}

impl Outcome {
    /// The one-line message shown to the user.
    pub fn message(&self) -> String {
        if self.passed {
            return format!("Test `{}` passed ({} ms)", self.test, self.duration_ms);
        }
        let first = self
            .failures
            .first()
            .map_or("no failure was reported", |f| f.message.as_str());
        let first = first.lines().next().unwrap_or_default();
        match self.failures.len() {
            0 | 1 => format!("Test `{}` failed: {first}", self.test),
            n => format!(
                "Test `{}` failed: {first} (and {} more; see Problems)",
                self.test,
                n - 1
            ),
        }
    }

    /// The lens title after this run.
    pub fn lens_title(&self) -> String {
        if self.passed {
            format!("▶ Run test · passed ({} ms)", self.duration_ms)
        } else {
            format!("▶ Run test · FAILED ({} ms)", self.duration_ms)
        }
    }
}

fn code_text(code: &tower_lsp_server::ls_types::NumberOrString) -> String {
    match code {
        tower_lsp_server::ls_types::NumberOrString::String(s) => s.clone(),
        tower_lsp_server::ls_types::NumberOrString::Number(n) => n.to_string(),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
