//! Broken programs and the diagnostics they must produce: every fixture under
//! `tests/diagnostics/` is checked and its rendered diagnostics are an insta snapshot.
//!
//! A fixture may hold several files, each starting with a line `// file: NAME.weft`.
//! Imports and fixture paths resolve relative to the fixture's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use weft_compiler::analysis::{check_files, Analysis};
use weft_compiler::diagnostic::Code;
use weft_compiler::project::Manifest;
use weft_compiler::render;

fn manifest() -> Manifest {
    let mut groups = BTreeMap::new();
    groups.insert(
        "integration-leads".to_string(),
        vec!["alice".to_string(), "bob".to_string()],
    );
    groups.insert("release-managers".to_string(), vec!["carol".to_string()]);
    Manifest {
        name: "fixture".into(),
        version: "0.1.0".into(),
        sources: vec![".".into()],
        groups,
    }
}

/// Splits a fixture into its files.
fn files(path: &Path) -> Vec<(String, PathBuf, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    let default_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out: Vec<(String, PathBuf, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("// file: ") {
            let name = name.trim().to_string();
            out.push((name.clone(), dir.join(&name), String::new()));
            continue;
        }
        if out.is_empty() {
            out.push((default_name.clone(), path.to_path_buf(), String::new()));
        }
        if let Some(last) = out.last_mut() {
            last.2.push_str(line);
        }
    }
    out
}

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
/// project-level codes are covered by the end-to-end tests of the CLI.
#[test]
fn every_code_has_a_fixture() {
    let project_level = [
        Code::MissingManifest,
        Code::MalformedManifest,
        Code::UnreadableFile,
        Code::NoSources,
        Code::NotUtf8,
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
