//! Property tests of maps: generated records that conform to the map's source type
//! must map without a run-time error to output that conforms to its target type. A
//! failure is shrunk to a minimal input. Runs are deterministic: the seed comes from
//! the test and map names, so a failure in CI fails the same way locally.

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::Value as J;
use sha2::{Digest, Sha256};

use crate::eval::{apply_map_at, Clock};
use crate::ir::{Map, Program};
use crate::value::Value;

use super::generate::documents;
use super::outcome::{Failure, FailureKind};
use super::plan::Site;

/// Tries `runs` generated inputs on `map`.
pub fn check(
    site: Site,
    test: &str,
    map_name: &str,
    runs: u32,
    program: &Program,
    clock: Clock,
) -> Result<(), Failure> {
    let Some(map) = program.maps.get(map_name) else {
        return Err(Failure::new(
            site,
            FailureKind::Internal,
            format!("no map `{map_name}`"),
        ));
    };
    let seed: [u8; 32] = Sha256::digest(format!("{test}\0{map_name}")).into();
    let config = Config {
        cases: runs,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = documents(&map.source, program);
    let result = runner.run(&strategy, |input| {
        try_one(map, &input, program, clock).map_err(|e| TestCaseError::fail(e.message))
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Abort(reason)) => Err(Failure::new(
            site,
            FailureKind::Internal,
            format!("property test of `{map_name}` gave up: {reason}"),
        )),
        Err(TestError::Fail(_, minimal)) => {
            // Run the minimal input again for the structured error (where it failed).
            let problem = try_one(map, &minimal, program, clock)
                .err()
                .unwrap_or(Problem {
                    message: "failed, but not when run again (a non-deterministic builtin?)".into(),
                    source_id: None,
                });
            let pretty = serde_json::to_string_pretty(&minimal).unwrap_or_default();
            let mut details = vec!["minimal failing input:".to_owned()];
            details.extend(pretty.lines().map(|l| format!("  {l}")));
            Err(Failure::new(
                site,
                FailureKind::Property,
                format!("map `{map_name}` {}", problem.message),
            )
            .with_details(details)
            .at_source(problem.source_id))
        }
    }
}

struct Problem {
    message: String,
    source_id: Option<String>,
}

fn try_one(map: &Map, input: &J, program: &Program, clock: Clock) -> Result<(), Problem> {
    let value = Value::from_json(input, &map.source, program).map_err(|e| Problem {
        message: format!("got a generated input its source type rejects ({e})"),
        source_id: None,
    })?;
    let output = apply_map_at(map, &value, program, clock).map_err(|e| Problem {
        message: format!("fails at run time: {e}"),
        source_id: e.source_id(),
    })?;
    Value::from_json(&output.to_json(), &map.target, program).map_err(|e| Problem {
        message: format!("produces output that does not fit its target type: {e}"),
        source_id: None,
    })?;
    Ok(())
}
