//! Helpers shared by the compiler's data-driven tests.
// Each test file uses only some of them.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use weft_compiler::project::Manifest;

/// The manifest fixtures are checked with: approval groups "integration-leads" and
/// "release-managers" exist.
pub fn manifest() -> Manifest {
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

/// Splits a fixture into its files: each starts at a line `// file: NAME.weft` (text
/// before the first such line belongs to a file named after the fixture). Paths are
/// beside the fixture, so imports resolve from there.
pub fn files(path: &Path) -> Vec<(String, PathBuf, String)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
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
