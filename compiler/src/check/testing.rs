//! Test blocks: mocked operations exist, run flows and snapshot maps exist, fixture
//! files are there, and every test checks something.

use crate::diagnostic::{Code, Diagnostic};
use weft_runtime::testing::plan::parse_clock;

use crate::syntax::{DataSource, MockResponse, OpCall, StrLit, TestDecl, TestStmtKind};

use super::Checker;

impl Checker<'_> {
    pub(super) fn test(&mut self, decl: &TestDecl) {
        let mut checks_something = false;
        let mut has_run = false;
        for stmt in &decl.statements {
            let about_a_run = matches!(
                stmt.kind,
                TestStmtKind::ExpectCalled { .. }
                    | TestStmtKind::ExpectOutput(_)
                    | TestStmtKind::ExpectDeadLetters(_)
                    | TestStmtKind::ExpectFailure(_)
            );
            if about_a_run && !has_run {
                self.report(
                    Diagnostic::new(
                        Code::ExpectationBeforeRun,
                        self.loc(stmt.span),
                        "this expectation is about a flow run, but no `run` comes before it",
                    )
                    .with_label("nothing has run yet")
                    .with_note("expectations check the last `run FLOW` above them: add one, or move this line below it"),
                );
            }
            has_run |= matches!(stmt.kind, TestStmtKind::Run(..));
            match &stmt.kind {
                TestStmtKind::Mock {
                    call,
                    response,
                    times,
                } => {
                    self.test_operation(call);
                    match response {
                        MockResponse::Returns(data) => self.data(data),
                        MockResponse::FailsWithStatus(status)
                            if !(100..=599).contains(&status.value) =>
                        {
                            self.report(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    self.loc(status.span),
                                    format!("{} is not an HTTP status", status.value),
                                )
                                .with_label("expected 100 to 599"),
                            )
                        }
                        _ => {}
                    }
                    if let Some(times) = times.filter(|t| t.value == 0) {
                        self.report(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                self.loc(times.span),
                                "`times 0` mocks nothing",
                            )
                            .with_label("use 1 or more"),
                        );
                    }
                }
                TestStmtKind::Run(flow, data) => {
                    if !self.program.flows.contains_key(&flow.name) {
                        self.unknown_name(
                            Code::UnknownFlow,
                            "flow",
                            &flow.name,
                            self.loc(flow.span),
                            self.program.flows.keys().map(String::as_str).collect(),
                        );
                    }
                    if let Some(data) = data {
                        self.data(data);
                    }
                }
                TestStmtKind::ExpectCalled { call, body, .. } => {
                    checks_something = true;
                    self.test_operation(call);
                    if let Some(data) = body {
                        self.data(data);
                    }
                }
                TestStmtKind::ExpectOutput(data) => {
                    checks_something = true;
                    self.data(data);
                }
                TestStmtKind::ExpectDeadLetters(_) | TestStmtKind::ExpectFailure(_) => {
                    checks_something = true
                }
                TestStmtKind::Snapshot(map, _) | TestStmtKind::Property(map, _)
                    if !self.program.maps.contains_key(&map.name) =>
                {
                    checks_something = true;
                    self.unknown_name(
                        Code::UnknownMap,
                        "map",
                        &map.name,
                        self.loc(map.span),
                        self.program.maps.keys().map(String::as_str).collect(),
                    );
                }
                TestStmtKind::Snapshot(_, data) => {
                    checks_something = true;
                    if let Some(data) = data {
                        self.data(data);
                    }
                }
                TestStmtKind::Property(_, runs) => {
                    checks_something = true;
                    if let Some(runs) = runs.filter(|r| r.value == 0 || r.value > 100_000) {
                        self.report(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                self.loc(runs.span),
                                "property runs must be between 1 and 100000",
                            )
                            .with_label("out of range"),
                        );
                    }
                }
                TestStmtKind::Clock(at) => {
                    if parse_clock(&at.value).is_none() {
                        let (label, note) = if parse_clock(&format!("{}Z", at.value)).is_some() {
                            (
                                "no time zone",
                                format!(
                                    "add `Z` for UTC: \"{}Z\", or an offset such as `+02:00`",
                                    at.value
                                ),
                            )
                        } else {
                            ("not an RFC 3339 timestamp or a date", "write a UTC timestamp such as \"2025-06-01T09:30:00Z\", one with an offset (\"2025-06-01T11:30:00+02:00\"), or a date (\"2025-06-01\", midnight UTC)".to_owned())
                        };
                        self.report(
                            Diagnostic::new(
                                Code::InvalidClock,
                                self.loc(at.span),
                                format!("`{}` is not a timestamp `clock` can pin", at.value),
                            )
                            .with_label(label)
                            .with_note(note),
                        );
                    }
                }
                TestStmtKind::Error => checks_something = true,
            }
        }
        if !checks_something {
            self.report(
                Diagnostic::new(Code::EmptyTest, self.loc(decl.name.span), format!("test \"{}\" checks nothing", decl.name.value))
                    .with_label("no expectation")
                    .with_note("add `expect ...`, `snapshot MAP` or `property MAP`; a test that cannot fail proves nothing"),
            );
        }
    }

    fn test_operation(&mut self, call: &OpCall) {
        if let Some(connection) = self.connection(&call.connection) {
            self.operation(call, &connection, None);
        }
    }

    fn data(&mut self, data: &DataSource) {
        if let DataSource::File(path) = data {
            self.fixture(path);
        }
    }

    fn fixture(&mut self, path: &StrLit) {
        let base = self
            .db
            .get(self.file)
            .path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let full = base.join(&path.value);
        if !full.is_file() {
            // The path as the project names it (not absolute), so messages are the same on every machine.
            let name = &self.db.get(self.file).name;
            let shown = std::path::Path::new(name).parent().map_or_else(
                || path.value.clone(),
                |dir| dir.join(&path.value).display().to_string(),
            );
            self.report(
                Diagnostic::new(
                    Code::FixtureNotFound,
                    self.loc(path.span),
                    format!("fixture file `{}` not found", path.value),
                )
                .with_label("no such file")
                .with_note(format!(
                    "paths are relative to the folder of `{name}`, so this is `{shown}`; create the file or fix the path"
                )),
            );
        }
    }
}
