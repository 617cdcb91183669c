//! Artifacts: a versioned, content-addressed file holding one project's program.
//! Logic only: no environment endpoints, no secrets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ir::Program;

/// Version of the artifact format; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// One project's build output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// [`FORMAT_VERSION`] at build time.
    pub format: u32,
    /// Project name and version from `weft.toml`.
    pub project: ProjectInfo,
    /// `sha256:` digest of the canonical JSON of [`Artifact::program`].
    pub digest: String,
    /// `sha256:` digest of the source files (names and bytes, sorted by name).
    pub source_digest: String,
    /// Where it was built from.
    pub build: BuildInfo,
    /// The program.
    pub program: Program,
    /// Where each declaration came from.
    pub source_map: SourceMap,
    /// The project's tests.
    pub tests: Vec<TestSummary>,
}

/// Project identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectInfo {
    /// Name.
    pub name: String,
    /// Version, MAJOR.MINOR.PATCH.
    pub version: String,
}

/// Version-control facts at build time; all absent outside a git checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BuildInfo {
    /// Commit hash of HEAD.
    pub git_commit: Option<String>,
    /// Author time of HEAD, RFC 3339.
    pub git_author_time: Option<String>,
    /// Whether the project's files differed from HEAD.
    pub git_dirty: Option<bool>,
}

/// Source locations of declarations, by stable id (`map.customer_to_account`,
/// `map.customer_to_account.field.Name`, `flow.account_sync.step.2`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SourceMap {
    /// Source files, relative to the project root, `/`-separated, sorted.
    pub files: Vec<String>,
    /// Locations by id.
    pub entries: BTreeMap<String, SourceLocation>,
}

/// A place in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    /// Index into [`SourceMap::files`].
    pub file: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A test block, as the delivery gates need to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSummary {
    /// The test's name.
    pub name: String,
    /// Flows it runs.
    pub flows: Vec<String>,
    /// Maps it snapshots or property-tests.
    pub maps: Vec<String>,
}

/// An artifact whose digest does not match its program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestMismatch {
    /// The digest recorded in the file.
    pub recorded: String,
    /// The digest of the program as found.
    pub actual: String,
}

impl std::fmt::Display for DigestMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "artifact digest {} does not match its program ({}): the file was changed after it was built", self.recorded, self.actual)
    }
}

impl std::error::Error for DigestMismatch {}

/// Writes the canonical bytes of a program: compact JSON, every map in it sorted.
pub fn write_canonical(program: &Program, out: impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer(out, program).map_err(std::io::Error::other)
}

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    hex_digest(Sha256::digest(bytes).as_slice())
}

fn hex_digest(hash: &[u8]) -> String {
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for byte in hash {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

/// Feeds written bytes to a hasher.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The content digest of a program: SHA-256 of its canonical JSON, streamed.
pub fn program_digest(program: &Program) -> String {
    let mut writer = std::io::BufWriter::with_capacity(64 * 1024, HashWriter(Sha256::new()));
    // Writing plain data into a hasher cannot fail.
    let _ = write_canonical(program, &mut writer);
    match writer.into_inner() {
        Ok(HashWriter(hasher)) => hex_digest(hasher.finalize().as_slice()),
        Err(_) => String::new(),
    }
}

impl Artifact {
    /// Checks that the recorded digest matches the program.
    pub fn verify(&self) -> Result<(), DigestMismatch> {
        let actual = program_digest(&self.program);
        if actual == self.digest {
            Ok(())
        } else {
            Err(DigestMismatch {
                recorded: self.digest.clone(),
                actual,
            })
        }
    }
}
