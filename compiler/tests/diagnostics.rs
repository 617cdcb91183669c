//! Broken programs and the diagnostics they must produce: every fixture under
//! `tests/diagnostics/` is checked and its rendered diagnostics are an insta snapshot.
//!
//! A fixture may hold several files, each starting with a line `// file: NAME.weft`.
//! Imports and fixture paths resolve relative to the fixture's folder.

mod common;

use common::{files, manifest};

use std::path::Path;

use weft_compiler::analysis::{check_files, Analysis};
use weft_compiler::diagnostic::Code;
use weft_compiler::render;

fn analyse(path: &Path) -> Analysis {
    check_files(&files(path), Some(&manifest()))
}

#[test]
fn fixtures() {
    insta::glob!("diagnostics/*.weft", |path| {
        let analysis = analyse(path);
        let rendered = render::text(&analysis.db, &analysis.diagnostics, false);
        insta::assert_snapshot!(rendered);
    });
}

/// Every code that a `.weft` file can trigger has a fixture that triggers it; the
/// project-level codes and the results of `weft test` are covered by the end-to-end
/// tests of the CLI.
#[test]
fn every_code_has_a_fixture() {
    let project_level = [
        Code::MissingManifest,
        Code::MalformedManifest,
        Code::UnreadableFile,
        Code::NoSources,
        Code::NotUtf8,
        Code::ExpectationFailed,
        Code::RunTimeError,
        Code::UnmockedCall,
        Code::SnapshotChanged,
        Code::SnapshotMissing,
        Code::PropertyFailed,
        Code::TestData,
        Code::TestRunner,
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|e| e == "weft") {
            seen.extend(analyse(&entry.path()).diagnostics.iter().map(|d| d.code));
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(c) && !project_level.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "no fixture in tests/diagnostics produces: {}",
        missing.join(", ")
    );
}
