//! Mapping snapshots: a map's output over fixed input, kept in a JSON file in the
//! project (`snapshots/<test>.<map>.json`, reviewed and committed like code). A change
//! shows as a field-level difference; `weft test --update-snapshots` accepts it. A
//! snapshot that was never recorded is written on a developer's machine, but in CI it
//! fails, so nothing is silently accepted there.

use std::path::Path;

use serde_json::{json, Value as J};

use crate::eval::{apply_map_at, Clock};
use crate::ir::Program;
use crate::value::Value;

use super::compare::{differences, Match};
use super::outcome::{Failure, FailureKind};
use super::plan::Site;
use super::SnapshotMode;

/// What checking a snapshot did when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The output equals the stored snapshot.
    Same,
    /// The snapshot file was written (new, or updated on request); the note says which.
    Written(String),
}

/// Where a snapshot is kept.
#[derive(Debug, Clone, Copy)]
pub struct Location<'a> {
    /// The file.
    pub file: &'a Path,
    /// The file as messages show it.
    pub shown: &'a str,
}

/// Applies `map` to the input (one record, or a list of records) and compares the
/// output with the snapshot at `location`; `now()` and `today()` read `clock`.
// One parameter per thing a snapshot statement decides; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn check(
    site: Site,
    test: &str,
    map: &str,
    input: &J,
    location: Location<'_>,
    program: &Program,
    clock: Clock,
    mode: SnapshotMode,
) -> Result<Checked, Failure> {
    let Location { file, shown } = location;
    let output = match input {
        J::Array(records) => J::Array(
            records
                .iter()
                .enumerate()
                .map(|(i, r)| apply(site, map, r, Some(i), program, clock))
                .collect::<Result<_, _>>()?,
        ),
        record => apply(site, map, record, None, program, clock)?,
    };
    let stored = match std::fs::read_to_string(file) {
        Ok(text) => Some(parse(&text).ok_or_else(|| {
            Failure::new(
                site,
                FailureKind::BadData,
                format!("snapshot `{shown}` is not a Weft snapshot file"),
            )
            .with_details(vec![
                "run `weft test --update-snapshots` to write it again".into()
            ])
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Failure::new(
                site,
                FailureKind::Internal,
                format!("cannot read snapshot `{shown}`: {e}"),
            ))
        }
    };
    match stored {
        Some(stored) => {
            let diff = differences(&stored, &output, Match::Exact);
            if diff.is_empty() {
                Ok(Checked::Same)
            } else if mode == SnapshotMode::Update {
                write(site, location, test, map, &output)?;
                Ok(Checked::Written(format!("snapshot `{shown}` updated")))
            } else {
                let mut details = vec![format!("stored in `{shown}`:")];
                details.extend(diff.into_iter().map(|d| format!("  {d}")));
                details.push(
                    "if the change is intended, accept it with `weft test --update-snapshots` and commit the file"
                        .into(),
                );
                Err(Failure::new(
                    site,
                    FailureKind::SnapshotMismatch,
                    format!("map `{map}` no longer produces its snapshot"),
                )
                .with_details(details))
            }
        }
        None if mode == SnapshotMode::NeverWrite => Err(Failure::new(
            site,
            FailureKind::SnapshotMissing,
            format!("no snapshot recorded for map `{map}` (`{shown}`), and CI never writes one"),
        )
        .with_details(vec![
            "run `weft test` locally, review the new file and commit it".into(),
        ])),
        None => {
            write(site, location, test, map, &output)?;
            Ok(Checked::Written(format!(
                "new snapshot `{shown}` written: review and commit it"
            )))
        }
    }
}

fn apply(
    site: Site,
    map: &str,
    record: &J,
    index: Option<usize>,
    program: &Program,
    clock: Clock,
) -> Result<J, Failure> {
    let which = index.map_or(String::new(), |i| format!(" (record {})", i + 1));
    let Some(m) = program.maps.get(map) else {
        return Err(Failure::new(
            site,
            FailureKind::Internal,
            format!("no map `{map}`"),
        ));
    };
    let value = Value::from_json(record, &m.source, program).map_err(|e| {
        Failure::new(
            site,
            FailureKind::BadData,
            format!("the input{which} does not fit `{map}`'s source type: {e}"),
        )
    })?;
    apply_map_at(m, &value, program, clock)
        .map(|v| v.to_json())
        .map_err(|e| {
            Failure::new(
                site,
                FailureKind::RunError,
                format!("map `{map}` failed on the input{which}: {e}"),
            )
            .at_source(e.source_id())
        })
}

fn parse(text: &str) -> Option<J> {
    let mut document: J = serde_json::from_str(text).ok()?;
    document.get_mut("output").map(J::take)
}

fn write(
    site: Site,
    location: Location<'_>,
    test: &str,
    map: &str,
    output: &J,
) -> Result<(), Failure> {
    let Location { file, shown } = location;
    let document = json!({
        "test": test,
        "map": map,
        "output": output,
    });
    let fail = |e: std::io::Error| {
        Failure::new(
            site,
            FailureKind::Internal,
            format!("cannot write snapshot `{shown}`: {e}"),
        )
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    std::fs::write(file, text).map_err(fail)
}
