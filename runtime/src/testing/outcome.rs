//! What running a test found.

use std::time::Duration;

use super::plan::Site;

/// The result of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// Where it is declared.
    pub site: Site,
    /// Wall time it took.
    pub duration: Duration,
    /// Time the flows spent waiting between retries, which tests skip (a virtual clock).
    pub skipped_waits: Duration,
    /// What failed; empty when the test passed.
    pub failures: Vec<Failure>,
    /// Things worth saying that are not failures (a snapshot written).
    pub notes: Vec<String>,
}

impl TestResult {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One failed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The statement that failed.
    pub site: Site,
    /// What kind of failure.
    pub kind: FailureKind,
    /// One line saying what went wrong.
    pub message: String,
    /// Further lines: differences field by field, a minimal input, the dead letters.
    pub details: Vec<String>,
    /// For a run-time error: the artifact source-map id of where it happened
    /// (`map.NAME.field.PATH` or `flow.NAME.step.N`).
    pub source_id: Option<String>,
}

impl Failure {
    /// A failure at `site` with no details.
    pub fn new(site: Site, kind: FailureKind, message: impl Into<String>) -> Self {
        Failure {
            site,
            kind,
            message: message.into(),
            details: Vec::new(),
            source_id: None,
        }
    }

    /// Adds detail lines.
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }

    /// Points at where a run-time error happened.
    pub fn at_source(mut self, id: Option<String>) -> Self {
        self.source_id = id;
        self
    }
}

/// The kinds of test failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// An `expect` did not hold.
    Expectation,
    /// A flow run or a map failed at run time where the test did not expect it.
    RunError,
    /// A flow called an operation the test does not mock.
    Unmocked,
    /// A snapshot differs from the stored one.
    SnapshotMismatch,
    /// A snapshot has never been recorded and may not be written here (CI).
    SnapshotMissing,
    /// A generated input broke a map.
    Property,
    /// The test's own data does not fit the types (a fixture, a mock answer).
    BadData,
    /// The runner itself failed on this test.
    Internal,
}
