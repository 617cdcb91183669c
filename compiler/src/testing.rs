//! Test blocks to the runner's plan: statements with their data loaded (inline values,
//! JSON / NDJSON / CSV fixtures), operations lowered to the IR the flows use, snapshot
//! files placed under the project's `snapshots/` folder, and a table of source
//! locations so the runner's findings can be reported like compile diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use weft_runtime::format::{self, Format};
use weft_runtime::ir::{self, Step};
use weft_runtime::testing::outcome::{Failure, FailureKind};
use weft_runtime::testing::plan::{
    parse_clock, Operation, Reply, Site, Statement, StatementKind, TestCase,
};

use crate::analysis::Analysis;
use crate::diagnostic::{Code, Diagnostic};
use crate::lower::{self, Lowered};
use crate::source::{FileId, Loc, Span};
use crate::syntax::{
    self, DataSource, Item, MockResponse, OpCall, TestDecl, TestStmtKind, ValueKind,
};

/// Generated inputs per property test when the test does not say.
pub const DEFAULT_PROPERTY_RUNS: u32 = 256;

/// Which tests to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Only tests whose name contains this text.
    pub filter: Option<String>,
    /// Also property-test every map, with this many inputs each (`weft test --fuzz N`).
    pub fuzz: Option<u32>,
}

/// The tests of a project, ready to run.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Tests to run, in source order.
    pub cases: Vec<TestCase>,
    /// Source location of each [`Site`].
    pub sites: Vec<Loc>,
    /// Tests that cannot run because their data is broken, by name.
    pub not_run: Vec<String>,
    /// Why: unreadable or malformed fixtures.
    pub diagnostics: Vec<Diagnostic>,
    /// Snapshot files the tests use, for finding obsolete ones.
    pub snapshot_files: Vec<PathBuf>,
}

impl Plan {
    /// The source location of a site.
    pub fn loc(&self, site: Site) -> Option<Loc> {
        self.sites.get(site as usize).copied()
    }
}

impl Plan {
    /// A test failure as a diagnostic: at the test statement, or, for a run-time error,
    /// at the map field or flow step where it happened with the statement beside it.
    pub fn diagnostic(&self, failure: &Failure, lowered: &Lowered) -> Option<Diagnostic> {
        let at_test = self.loc(failure.site)?;
        let code = match failure.kind {
            FailureKind::Expectation => Code::ExpectationFailed,
            FailureKind::RunError => Code::RunTimeError,
            FailureKind::Unmocked => Code::UnmockedCall,
            FailureKind::SnapshotMismatch => Code::SnapshotChanged,
            FailureKind::SnapshotMissing => Code::SnapshotMissing,
            FailureKind::Property => Code::PropertyFailed,
            FailureKind::BadData => Code::TestData,
            FailureKind::Internal => Code::TestRunner,
        };
        let at_source = failure
            .source_id
            .as_ref()
            .and_then(|id| lowered.locations.get(id))
            .copied();
        let mut diagnostic = match at_source {
            Some(source) => Diagnostic::new(code, source, failure.message.clone())
                .with_label("failed here")
                .with_secondary(at_test, "in this test"),
            None => Diagnostic::new(code, at_test, failure.message.clone()).with_label("failed"),
        };
        if !failure.details.is_empty() {
            diagnostic = diagnostic.with_note(failure.details.join("\n"));
        }
        Some(diagnostic)
    }
}

/// The folder holding a project's mapping snapshots, relative to its root.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// Plans the tests of a checked, lowered project.
pub fn plan(analysis: &Analysis, lowered: &Lowered, options: &PlanOptions) -> Plan {
    let root = analysis
        .project
        .as_ref()
        .map(|p| p.root.clone())
        .unwrap_or_default();
    let mut planner = Planner {
        analysis,
        program: &lowered.program,
        root,
        plan: Plan::default(),
    };
    let wanted = |name: &str| options.filter.as_deref().is_none_or(|f| name.contains(f));
    for (file, tree) in &analysis.files {
        for item in &tree.items {
            if let Item::Test(decl) = item {
                if wanted(&decl.name.value) {
                    planner.test(*file, decl);
                }
            }
        }
    }
    if let Some(runs) = options.fuzz {
        for name in lowered.program.maps.keys() {
            let case = format!("fuzz {name}");
            let Some(&loc) = lowered.locations.get(&format!("map.{name}")) else {
                continue;
            };
            if !wanted(&case) {
                continue;
            }
            let site = planner.site(loc);
            planner.plan.cases.push(TestCase {
                name: case,
                site,
                statements: vec![Statement {
                    site,
                    kind: StatementKind::Property {
                        map: name.clone(),
                        runs,
                    },
                }],
            });
        }
    }
    planner.plan
}

struct Planner<'a> {
    analysis: &'a Analysis,
    program: &'a ir::Program,
    root: PathBuf,
    plan: Plan,
}

impl Planner<'_> {
    fn site(&mut self, loc: Loc) -> Site {
        self.plan.sites.push(loc);
        (self.plan.sites.len() - 1) as Site
    }

    fn test(&mut self, file: FileId, decl: &TestDecl) {
        let site = self.site(Loc::new(file, decl.name.span));
        let errors_before = self.plan.diagnostics.len();
        let mut statements = Vec::new();
        let mut last_flow: Option<String> = None;
        let mut snapshot_names: BTreeMap<String, u32> = BTreeMap::new();
        for stmt in &decl.statements {
            let here = self.site(Loc::new(file, stmt.span));
            let kind = match &stmt.kind {
                TestStmtKind::Mock {
                    call,
                    response,
                    times,
                } => {
                    let operation = self.operation(file, call);
                    let reply = match response {
                        MockResponse::Returns(data) => {
                            let ty = self.step_of(&operation).and_then(step_record);
                            match self.data(file, data, ty.as_ref()) {
                                Some(value) => Reply::Returns(value),
                                None => continue,
                            }
                        }
                        MockResponse::FailsWithStatus(status) => {
                            Reply::Status(u16::try_from(status.value).unwrap_or(u16::MAX))
                        }
                        MockResponse::TimesOut => Reply::Timeout,
                    };
                    StatementKind::Mock {
                        operation,
                        reply,
                        times: times.map(|t| u32::try_from(t.value).unwrap_or(u32::MAX)),
                    }
                }
                TestStmtKind::Run(flow, data) => {
                    last_flow = Some(flow.name.clone());
                    let ty = self
                        .program
                        .flows
                        .get(&flow.name)
                        .and_then(|f| f.steps().next())
                        .and_then(step_record);
                    let input = match data {
                        Some(data) => match self.data(file, data, ty.as_ref()) {
                            Some(serde_json::Value::Array(items)) => Some(items),
                            Some(one) => Some(vec![one]),
                            None => continue,
                        },
                        None => None,
                    };
                    StatementKind::Run {
                        flow: flow.name.clone(),
                        input,
                    }
                }
                TestStmtKind::ExpectCalled { call, times, body } => {
                    let operation = self.operation(file, call);
                    let body = match body {
                        Some(data) => match self.data(file, data, None) {
                            Some(value) => Some(value),
                            None => continue,
                        },
                        None => None,
                    };
                    StatementKind::ExpectCalled {
                        operation,
                        times: times.value,
                        body,
                    }
                }
                TestStmtKind::ExpectOutput(data) => {
                    let ty = last_flow
                        .as_ref()
                        .and_then(|f| self.program.flows.get(f))
                        .and_then(|f| f.steps().last())
                        .and_then(step_record);
                    match self.data(file, data, ty.as_ref()) {
                        Some(value) => StatementKind::ExpectOutput(value),
                        None => continue,
                    }
                }
                TestStmtKind::ExpectDeadLetters(n) => StatementKind::ExpectDeadLetters(n.value),
                TestStmtKind::ExpectFailure(text) => {
                    StatementKind::ExpectFailure(text.as_ref().map(|t| t.value.clone()))
                }
                TestStmtKind::Snapshot(map, data) => {
                    let ty = self.program.maps.get(&map.name).map(|m| m.source.clone());
                    let input = match data {
                        Some(data) => match self.data(file, data, ty.as_ref()) {
                            Some(value) => Some(value),
                            None => continue,
                        },
                        None => None,
                    };
                    let count = snapshot_names.entry(map.name.clone()).or_insert(0);
                    *count += 1;
                    let suffix = if *count > 1 {
                        format!("-{count}")
                    } else {
                        String::new()
                    };
                    let name = format!(
                        "{SNAPSHOT_DIR}/{}.{}{suffix}.json",
                        slug(&decl.name.value),
                        map.name
                    );
                    let file = self.root.join(&name);
                    self.plan.snapshot_files.push(file.clone());
                    StatementKind::Snapshot {
                        map: map.name.clone(),
                        input,
                        file,
                        name,
                    }
                }
                TestStmtKind::Property(map, runs) => StatementKind::Property {
                    map: map.name.clone(),
                    runs: runs.map_or(DEFAULT_PROPERTY_RUNS, |r| {
                        u32::try_from(r.value).unwrap_or(u32::MAX)
                    }),
                },
                TestStmtKind::Clock(at) => match parse_clock(&at.value) {
                    Some(at) => StatementKind::Clock(at),
                    // The checker reports it (W0704), so the test is not planned anyway.
                    None => continue,
                },
                TestStmtKind::Error => continue,
            };
            statements.push(Statement { site: here, kind });
        }
        if self.plan.diagnostics.len() > errors_before {
            self.plan.not_run.push(decl.name.value.clone());
            return;
        }
        self.plan.cases.push(TestCase {
            name: decl.name.value.clone(),
            site,
            statements,
        });
    }

    fn operation(&self, file: FileId, call: &OpCall) -> Operation {
        Operation {
            connection: call.connection.name.clone(),
            operation: call.operation.name.clone(),
            args: call
                .args
                .iter()
                .map(|a| lower::expr::lower(self.analysis, file, a))
                .collect(),
        }
    }

    /// The flow step a mocked operation stands for, to type its fixture.
    fn step_of(&self, operation: &Operation) -> Option<&Step> {
        self.program
            .flows
            .values()
            .flat_map(|f| f.steps())
            .find(|step| match step {
                Step::Read {
                    connection,
                    operation: op,
                    args,
                    ..
                }
                | Step::Call {
                    connection,
                    operation: op,
                    args,
                    ..
                }
                | Step::Write {
                    connection,
                    operation: op,
                    args,
                    ..
                } => {
                    *connection == operation.connection
                        && *op == operation.operation
                        && *args == operation.args
                }
                Step::Where { .. } | Step::Map { .. } => false,
            })
    }

    /// Loads inline data or a fixture file; `None` after reporting why it cannot be read.
    fn data(
        &mut self,
        file: FileId,
        data: &DataSource,
        ty: Option<&ir::Type>,
    ) -> Option<serde_json::Value> {
        match data {
            DataSource::Inline(value) => Some(json(value)),
            DataSource::File(path) => self.fixture(file, &path.value, path.span, ty),
        }
    }

    fn fixture(
        &mut self,
        file: FileId,
        path: &str,
        span: Span,
        ty: Option<&ir::Type>,
    ) -> Option<serde_json::Value> {
        let base = self
            .analysis
            .db
            .get(file)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let loc = Loc::new(file, span);
        let Some(format) = Format::of_path(path) else {
            self.plan.diagnostics.push(
                Diagnostic::new(Code::TestData, loc, format!("`{path}` is not a fixture format Weft reads"))
                    .with_label("unknown extension")
                    .with_note("fixtures are `.json` (a record or an array), `.ndjson` / `.jsonl` (a record per line) or `.csv` (a header row)"),
            );
            return None;
        };
        let text = match std::fs::read_to_string(base.join(path)) {
            Ok(text) => text,
            Err(e) => {
                self.plan.diagnostics.push(
                    Diagnostic::new(
                        Code::TestData,
                        loc,
                        format!("cannot read fixture `{path}`: {e}"),
                    )
                    .with_label("unreadable")
                    .with_note("paths are relative to the folder of the `.weft` file"),
                );
                return None;
            }
        };
        let record = ty.map(|t| match t {
            ir::Type::List { item } => (**item).clone(),
            other => other.clone(),
        });
        match format::parse(&text, format, record.as_ref(), self.program) {
            Ok(value) => Some(value),
            Err(e) => {
                self.plan.diagnostics.push(
                    Diagnostic::new(
                        Code::TestData,
                        loc,
                        format!("fixture `{path}` is malformed: {e}"),
                    )
                    .with_label("cannot be read as records")
                    .with_note("fix the file; the test does not run until it can be read"),
                );
                None
            }
        }
    }
}

/// The record type a step reads, answers or writes.
fn step_record(step: &Step) -> Option<ir::Type> {
    match step {
        Step::Read { record, .. } | Step::Call { record, .. } => Some(record.clone()),
        Step::Write { record, .. } => record.clone(),
        Step::Where { .. } | Step::Map { .. } => None,
    }
}

/// A test literal as JSON. Numbers keep their digits when JSON can hold them.
fn json(value: &syntax::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match &value.kind {
        ValueKind::Null | ValueKind::Error => J::Null,
        ValueKind::Bool(b) => J::Bool(*b),
        ValueKind::Number(text) => serde_json::from_str::<serde_json::Number>(text)
            .map(J::Number)
            .unwrap_or_else(|_| J::String(text.clone())),
        ValueKind::Str(s) => J::String(s.clone()),
        ValueKind::List(items) => J::Array(items.iter().map(json).collect()),
        ValueKind::Object(fields) => J::Object(
            fields
                .iter()
                .map(|(key, v)| (key.name.clone(), json(v)))
                .collect(),
        ),
    }
}

/// A test name as a file name: lower case, words joined by `-`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "test".to_owned()
    } else {
        trimmed.chars().take(80).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(
            slug("key account mapping is stable"),
            "key-account-mapping-is-stable"
        );
        assert_eq!(slug("  Ünïcode & stuff!! "), "ünïcode-stuff");
        assert_eq!(slug("!!!"), "test");
    }
}
