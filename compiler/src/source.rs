//! Source files of one analysis, addressed by [`FileId`], and byte spans inside them.

use std::path::{Path, PathBuf};

/// Index of a file in a [`SourceDb`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FileId(pub u32);

/// A byte range `start..end` inside one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The span moved right by `offset` bytes.
    pub fn shift(self, offset: usize) -> Span {
        Span::new(self.start + offset, self.end + offset)
    }
}

impl From<std::ops::Range<usize>> for Span {
    fn from(range: std::ops::Range<usize>) -> Self {
        Span::new(range.start, range.end)
    }
}

/// A span in a particular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// The bytes inside it.
    pub span: Span,
}

impl Loc {
    /// A location in `file`.
    pub fn new(file: FileId, span: Span) -> Self {
        Loc { file, span }
    }
}

/// One file's text and the name it is shown under.
#[derive(Debug, Clone, Default)]
pub struct SourceFile {
    /// Path as shown to the user, relative to the project root where possible.
    pub name: String,
    /// Path on disk, used to resolve imports relative to the file.
    pub path: PathBuf,
    /// Full text. Files that are not UTF-8 are stored lossily and reported.
    pub text: String,
    /// Byte offsets where lines start, built on first use.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }
}

/// All files taking part in an analysis: `.weft` sources and imported schema files.
#[derive(Debug, Clone, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

impl SourceDb {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        path: impl Into<PathBuf>,
        text: impl Into<String>,
    ) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            name: name.into(),
            path: path.into(),
            text: text.into(),
            line_starts: Default::default(),
        });
        id
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Replaces the text of a file, as an edit does.
    pub fn set_text(&mut self, id: FileId, text: String) {
        if let Some(file) = self.files.get_mut(id.0 as usize) {
            file.text = text;
            file.line_starts = Default::default();
        }
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Forgets the files added after the first `len`.
    pub fn truncate(&mut self, len: usize) {
        self.files.truncate(len);
    }

    /// The id of an already added file with this path on disk.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    /// Masks the text at `loc` with `*`, keeping every offset, so no rendering shows it.
    pub fn redact(&mut self, loc: Loc) {
        let Some(file) = self.files.get_mut(loc.file.0 as usize) else {
            return;
        };
        let Some(secret) = file.text.get(loc.span.start..loc.span.end) else {
            return;
        };
        // Quotes stay so the literal still reads as a string; every other byte becomes `*`.
        let masked: String = secret
            .chars()
            .map(|c| {
                if c == '"' {
                    "\"".to_string()
                } else {
                    "*".repeat(c.len_utf8())
                }
            })
            .collect();
        file.text
            .replace_range(loc.span.start..loc.span.end, &masked);
    }

    /// All files with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: FileId, offset: usize) -> (usize, usize) {
        let file = self.get(id);
        let offset = floor_char_boundary(&file.text, offset.min(file.text.len()));
        let starts = file.line_starts();
        let line = starts.partition_point(|&start| start <= offset).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        (
            line,
            file.text
                .get(line_start..offset)
                .map_or(1, |t| t.chars().count() + 1),
        )
    }
}

/// The largest char boundary not after `index`.
pub fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}
