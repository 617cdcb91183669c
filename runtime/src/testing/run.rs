//! Running tests: each test's statements in order against its own mocks, tests in
//! parallel, and a test that panics reported as failed without stopping the others.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value as J;

use crate::engine::{self, DeadLetter, Pause, RunFailure, RunOptions, RunSummary, Sink};
use crate::eval::Clock;
use crate::ir::Program;

use super::compare::{differences, Match};
use super::generate::documents;
use super::mocks::{Call, Mocks};
use super::outcome::{Failure, FailureKind, TestResult};
use super::plan::{Site, StatementKind, TestCase};
use super::{property, snapshot, Options};

/// The value of `{last_run}` in tests: a fixed instant, so paths are the same each run.
pub const TEST_LAST_RUN: &str = "2025-01-01T00:00:00Z";

/// Runs the tests on `options.jobs` threads; results come back in the order of `cases`.
pub fn run_all(program: &Program, cases: &[TestCase], options: &Options) -> Vec<TestResult> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TestResult>>> = Mutex::new(vec![None; cases.len()]);
    let jobs = options.jobs.clamp(1, cases.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let result = run_one(program, case, options);
                if let Ok(mut results) = results.lock() {
                    results[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Runs one test; a panic inside becomes a failure of this test.
pub fn run_one(program: &Program, case: &TestCase, options: &Options) -> TestResult {
    let started = Instant::now();
    let mut test = Test {
        program,
        case,
        options,
        mocks: Mocks::default(),
        clock: VirtualClock::default(),
        now: Clock::System,
        last: None,
        failures: Vec::new(),
        notes: Vec::new(),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        test.run();
        (test.failures, test.notes, test.clock.total())
    }));
    let (failures, notes, skipped_waits) = outcome.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let failure = Failure::new(
            case.site,
            FailureKind::Internal,
            format!("the test runner crashed on this test: {message}"),
        )
        .with_details(vec![
            "this is a bug in Weft; please report it with the test".into(),
        ]);
        (vec![failure], Vec::new(), Duration::ZERO)
    });
    TestResult {
        name: case.name.clone(),
        site: case.site,
        duration: started.elapsed(),
        skipped_waits,
        failures,
        notes,
    }
}

/// The last run of a test, for the expectations after it.
struct LastRun {
    flow: String,
    summary: RunSummary,
    delivered: Vec<J>,
    dead_letters: Vec<DeadLetter>,
    calls: Vec<Call>,
}

struct Test<'a> {
    program: &'a Program,
    case: &'a TestCase,
    options: &'a Options,
    mocks: Mocks,
    clock: VirtualClock,
    /// What `now()` and `today()` read: pinned by the last `clock` statement.
    now: Clock,
    last: Option<LastRun>,
    failures: Vec<Failure>,
    notes: Vec<String>,
}

impl Test<'_> {
    fn run(&mut self) {
        self.statements();
        for mock in self.mocks.unused() {
            self.notes.push(format!(
                "mock {mock} was never called: no run made this call (a flow that changed, or a path that differs from the step's)"
            ));
        }
    }

    fn statements(&mut self) {
        for (index, statement) in self.case.statements.iter().enumerate() {
            let site = statement.site;
            match &statement.kind {
                StatementKind::Mock {
                    operation,
                    reply,
                    times,
                } => self.mocks.add(operation.clone(), reply.clone(), *times),
                StatementKind::Run { flow, input } => {
                    let expects_failure = self.case.statements[index + 1..]
                        .iter()
                        .take_while(|s| !matches!(s.kind, StatementKind::Run { .. }))
                        .any(|s| matches!(s.kind, StatementKind::ExpectFailure(_)));
                    self.run_flow(site, flow, input.clone(), expects_failure);
                }
                StatementKind::ExpectCalled {
                    operation,
                    times,
                    body,
                } => {
                    let Some(last) = self.last_run(site) else {
                        continue;
                    };
                    let calls: Vec<&Call> = last.calls.iter().filter(|c| c.is(operation)).collect();
                    let name = format!("{}.{}", operation.connection, operation.operation);
                    let mut failure = None;
                    if calls.len() as u64 != *times {
                        failure = Some(
                            Failure::new(
                                site,
                                FailureKind::Expectation,
                                format!("expected {name} to be called {times} time(s), it was called {}", calls.len()),
                            )
                            .with_details(call_list(&last.calls)),
                        );
                    } else if let Some(body) = body {
                        failure = calls.iter().enumerate().find_map(|(i, call)| {
                            let sent = call.body.clone().unwrap_or(J::Null);
                            let diff = differences(body, &sent, Match::Partial);
                            (!diff.is_empty()).then(|| {
                                Failure::new(
                                    site,
                                    FailureKind::Expectation,
                                    format!(
                                        "call {} of {name} sent a body that does not match",
                                        i + 1
                                    ),
                                )
                                .with_details(diff)
                            })
                        });
                    }
                    self.failures.extend(failure);
                }
                StatementKind::ExpectOutput(expected) => {
                    let Some(last) = self.last_run(site) else {
                        continue;
                    };
                    let expected = match expected {
                        J::Array(_) => expected.clone(),
                        one => J::Array(vec![one.clone()]),
                    };
                    let diff =
                        differences(&expected, &J::Array(last.delivered.clone()), Match::Exact);
                    if !diff.is_empty() {
                        let failure = Failure::new(
                            site,
                            FailureKind::Expectation,
                            format!(
                                "the output of `{}` differs from the expected records",
                                last.flow
                            ),
                        )
                        .with_details(diff);
                        self.failures.push(failure);
                    }
                }
                StatementKind::ExpectDeadLetters(expected) => {
                    let Some(last) = self.last_run(site) else {
                        continue;
                    };
                    let got = last.summary.dead_lettered;
                    if got != *expected {
                        let details = last
                            .dead_letters
                            .iter()
                            .map(|d| format!("dead letter: {}", d.error))
                            .collect();
                        let failure = Failure::new(
                            site,
                            FailureKind::Expectation,
                            format!("expected {expected} dead letter(s), the run left {got}"),
                        )
                        .with_details(details);
                        self.failures.push(failure);
                    }
                }
                StatementKind::ExpectFailure(text) => {
                    let Some(last) = self.last_run(site) else {
                        continue;
                    };
                    let failure = match (&last.summary.failure, text) {
                        (None, _) => Some(Failure::new(
                            site,
                            FailureKind::Expectation,
                            format!(
                                "expected `{}` to fail, it succeeded ({} delivered, {} dead-lettered)",
                                last.flow, last.summary.delivered, last.summary.dead_lettered
                            ),
                        )),
                        (Some(f), Some(text)) if !f.to_string().contains(text.as_str()) => Some(
                            Failure::new(
                                site,
                                FailureKind::Expectation,
                                format!("`{}` failed, but not with \"{text}\"", last.flow),
                            )
                            .with_details(vec![format!("it failed with: {f}")]),
                        ),
                        _ => None,
                    };
                    self.failures.extend(failure);
                }
                StatementKind::Snapshot {
                    map,
                    input,
                    file,
                    name,
                } => {
                    let input = match input {
                        Some(input) => input.clone(),
                        None => match sample_inputs(self.program, &self.case.name, map) {
                            Some(samples) => samples,
                            None => continue,
                        },
                    };
                    match snapshot::check(
                        site,
                        &self.case.name,
                        map,
                        &input,
                        snapshot::Location { file, shown: name },
                        self.program,
                        self.now,
                        self.options.snapshots,
                    ) {
                        Ok(snapshot::Checked::Same) => {}
                        Ok(snapshot::Checked::Written(note)) => self.notes.push(note),
                        Err(failure) => self.failures.push(failure),
                    }
                }
                StatementKind::Property { map, runs } => {
                    let runs = self.options.fuzz.unwrap_or(*runs);
                    if let Err(failure) =
                        property::check(site, &self.case.name, map, runs, self.program, self.now)
                    {
                        self.failures.push(failure);
                    }
                }
                StatementKind::Clock(at) => self.now = Clock::Pinned(*at),
            }
        }
    }

    fn run_flow(&mut self, site: Site, flow: &str, input: Option<Vec<J>>, expects_failure: bool) {
        self.mocks.take_calls();
        let options = RunOptions {
            input,
            variables: BTreeMap::from([("last_run".to_owned(), TEST_LAST_RUN.to_owned())]),
            clock: self.now,
        };
        let mut sink = Collected::default();
        let summary = engine::run(
            self.program,
            flow,
            &self.mocks,
            &self.clock,
            &options,
            &mut sink,
        );
        let calls = self.mocks.take_calls();
        let mut unmocked: Vec<String> = Vec::new();
        for call in calls.iter().filter(|c| !c.mocked) {
            let shown = show_call(call);
            if !unmocked.contains(&shown) {
                unmocked.push(shown);
            }
        }
        // A run that failed for want of a mock is explained by the missing mock.
        let explained = !unmocked.is_empty();
        for shown in unmocked {
            self.failures.push(
                Failure::new(
                    site,
                    FailureKind::Unmocked,
                    format!("`{flow}` called {shown}, which this test does not mock (or whose mocks ran out)"),
                )
                .with_details(vec![format!(
                    "add `mock {shown} returns ...` before `run {flow}`; tests never reach real systems"
                )]),
            );
        }
        if let (Some(failure), false) = (&summary.failure, expects_failure || explained) {
            let source_id = match failure {
                RunFailure::Read(e) | RunFailure::Record(e) => Some(e.source_id(flow)),
                RunFailure::UnknownFlow(_) => None,
            };
            self.failures.push(
                Failure::new(
                    site,
                    FailureKind::RunError,
                    format!("`{flow}` failed: {failure}"),
                )
                .with_details(vec![
                    "add `expect failure` if the test means it to fail".into()
                ])
                .at_source(source_id),
            );
        }
        self.last = Some(LastRun {
            flow: flow.to_owned(),
            summary,
            delivered: sink.delivered,
            dead_letters: sink.dead_letters,
            calls,
        });
    }

    /// The last run, or a failure saying an expectation needs one before it.
    fn last_run(&mut self, site: Site) -> Option<&LastRun> {
        if self.last.is_none() {
            self.failures.push(Failure::new(
                site,
                FailureKind::Expectation,
                "this expectation needs a `run FLOW` before it",
            ));
        }
        self.last.as_ref()
    }
}

/// Three generated records for a snapshot without input, the same on every run.
fn sample_inputs(program: &Program, test: &str, map: &str) -> Option<J> {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use sha2::{Digest, Sha256};
    let m = program.maps.get(map)?;
    let seed: [u8; 32] = Sha256::digest(format!("snapshot\0{test}\0{map}")).into();
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strategy = documents(&m.source, program);
    let samples = (0..3)
        .filter_map(|_| strategy.new_tree(&mut runner).ok().map(|t| t.current()))
        .collect();
    Some(J::Array(samples))
}

fn show_call(call: &Call) -> String {
    let args: Vec<String> = call.args.iter().map(ToString::to_string).collect();
    format!(
        "{}.{}({})",
        call.connection,
        call.operation,
        args.join(", ")
    )
}

fn call_list(calls: &[Call]) -> Vec<String> {
    if calls.is_empty() {
        return vec!["the run made no calls".into()];
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for call in calls {
        let shown = show_call(call);
        match counts.iter_mut().find(|(s, _)| *s == shown) {
            Some((_, n)) => *n += 1,
            None => counts.push((shown, 1)),
        }
    }
    counts
        .into_iter()
        .map(|(shown, n)| format!("calls made: {shown} x{n}"))
        .collect()
}

/// The test's clock: retries wait on it without sleeping.
#[derive(Default)]
struct VirtualClock(Mutex<Duration>);

impl VirtualClock {
    fn total(&self) -> Duration {
        self.0.lock().map(|d| *d).unwrap_or_default()
    }
}

impl Pause for VirtualClock {
    fn pause(&self, delay: Duration) {
        if let Ok(mut total) = self.0.lock() {
            *total += delay;
        }
    }
}

#[derive(Default)]
struct Collected {
    delivered: Vec<J>,
    dead_letters: Vec<DeadLetter>,
}

impl Sink for Collected {
    fn delivered(&mut self, record: &J) {
        self.delivered.push(record.clone());
    }
    fn dead_letter(&mut self, letter: DeadLetter) {
        self.dead_letters.push(letter);
    }
}
