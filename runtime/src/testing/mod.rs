//! `weft test`: runs a project's test blocks against mocked connections, through the
//! same engine as production. The compiler turns test blocks into a [`plan`]; this
//! module runs it and says what failed in an [`outcome`].

pub mod compare;
pub mod generate;
pub mod mocks;
pub mod outcome;
pub mod plan;
pub mod property;
pub mod run;
pub mod snapshot;
#[cfg(test)]
mod tests;

/// When snapshot files may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotMode {
    /// New snapshots are written; changed ones fail (a developer's machine).
    #[default]
    WriteNew,
    /// New and changed snapshots are written (`--update-snapshots`).
    Update,
    /// Nothing is written; a missing snapshot fails (CI).
    NeverWrite,
}

/// How to run tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// When snapshots are written.
    pub snapshots: SnapshotMode,
    /// Generated inputs per property test, overriding each test's `runs`.
    pub fuzz: Option<u32>,
    /// Tests run at once.
    pub jobs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            snapshots: SnapshotMode::WriteNew,
            fuzz: None,
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}
