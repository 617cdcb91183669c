//! Emitting artifacts: the lowered program wrapped with its identity, digests, build
//! facts, source map and tests. Environment bindings never enter an artifact.

use std::path::Path;
use std::process::Command;

use weft_runtime::artifact::{self, Artifact, BuildInfo, ProjectInfo};

use crate::analysis::Analysis;
use crate::lower::Lowered;
use crate::project::Manifest;

/// The artifact of a lowered project. The environments stay behind.
pub fn artifact(
    lowered: Lowered,
    manifest: &Manifest,
    source_digest: String,
    build: BuildInfo,
) -> Artifact {
    Artifact {
        format: artifact::FORMAT_VERSION,
        project: ProjectInfo {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
        },
        digest: artifact::program_digest(&lowered.program),
        source_digest,
        build,
        program: lowered.program,
        source_map: lowered.source_map,
        tests: lowered.tests,
    }
}

/// `sha256:` over every source file (`.weft` and imported schemas): each file's
/// project-relative name and bytes, in name order, so neither the folder the project
/// sits in nor the order files were read changes it.
pub fn source_digest(analysis: &Analysis) -> String {
    let mut files: Vec<(String, &str)> = analysis
        .db
        .iter()
        .filter(|(_, f)| f.name != crate::project::MANIFEST)
        .map(|(_, f)| (f.name.replace('\\', "/"), f.text.as_str()))
        .collect();
    files.sort();
    let mut bytes = Vec::new();
    for (name, text) in files {
        bytes.extend_from_slice(&(name.len() as u64).to_le_bytes());
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
    }
    artifact::sha256(&bytes)
}

/// Git facts of the checkout holding `root`; all `None` outside git or without git.
pub fn git_info(root: &Path) -> BuildInfo {
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return BuildInfo::default();
    };
    BuildInfo {
        git_author_time: git(&["log", "-1", "--format=%aI"]),
        git_dirty: git(&["status", "--porcelain", "--", "."]).map(|s| !s.is_empty()),
        git_commit: Some(commit),
    }
}

/// The file name of a project's artifact: `NAME-VERSION.json`.
pub fn file_name(manifest: &Manifest) -> String {
    format!("{}-{}.json", manifest.name, manifest.version)
}

/// The artifact as written to disk: compact canonical JSON (key order fixed by the
/// types, every map sorted) and a final newline. `jq .` shows it indented.
pub fn to_json(artifact: &Artifact) -> String {
    // Plain data with string keys always serialises.
    let mut text = serde_json::to_string(artifact).unwrap_or_default();
    text.push('\n');
    text
}
