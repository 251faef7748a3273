//! Source files and positions: [`SourceMap`] owns every file text read while parsing, so
//! diagnostics can show the offending line with a caret.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Index of a file inside a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range inside one file of a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// First byte (inclusive).
    pub start: u32,
    /// Last byte (exclusive); `end >= start`.
    pub end: u32,
}

/// A resolved position: 1-based line and column (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

/// One file's text.
#[derive(Clone)]
pub struct SourceFile {
    /// Path as given (or resolved by `include`).
    pub path: PathBuf,
    /// The full text (invalid UTF-8 replaced).
    pub text: String,
    /// Where each line starts: found the first time a position is asked for (most parses
    /// never need them).
    line_starts: OnceLock<Vec<u32>>,
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("path", &self.path)
            .field("text", &self.text)
            .field("line_starts", &self.line_starts())
            .finish()
    }
}

impl SourceFile {
    fn new(path: PathBuf, text: String) -> Self {
        Self {
            path,
            text,
            line_starts: OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut v = vec![0u32];
            v.extend(self.text.match_indices('\n').map(|(i, _)| i as u32 + 1));
            v
        })
    }

    /// 0-based line index containing byte `off`.
    fn line_index(&self, off: u32) -> usize {
        match self.line_starts().binary_search(&off) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Text of 1-based line `line` without its line terminator.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        let line_starts = self.line_starts();
        let Some(&start) = line_starts.get(i) else {
            return "";
        };
        let end = line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&e| e as usize);
        let s = &self.text[start as usize..end];
        s.trim_end_matches(['\n', '\r'])
    }

    fn line_col(&self, off: u32) -> LineCol {
        let off = off.min(self.text.len() as u32);
        let li = self.line_index(off);
        let start = self.line_starts()[li] as usize;
        let mut off = off as usize;
        while !self.text.is_char_boundary(off) {
            off -= 1;
        }
        let col = self.text[start..off].chars().count() as u32 + 1;
        LineCol {
            line: li as u32 + 1,
            col,
        }
    }
}

/// Owns the text of every file read while parsing one configuration.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile::new(path.into(), text.into()));
        FileId(self.files.len() as u32 - 1)
    }

    /// The file with this id.
    ///
    /// # Panics
    /// If the id does not come from this map.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Moves a file's text out (the preprocessor reads it while adding files); [`Self::put_text`]
    /// puts it back.
    pub(crate) fn take_text(&mut self, id: FileId) -> String {
        std::mem::take(&mut self.files[id.0 as usize].text)
    }

    /// Puts back a text taken by [`Self::take_text`].
    pub(crate) fn put_text(&mut self, id: FileId, text: String) {
        let f = &mut self.files[id.0 as usize];
        f.text = text;
        // lines found while the text was out would be wrong
        f.line_starts = OnceLock::new();
    }

    /// All files, in the order they were read.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Path of a file.
    pub fn path(&self, id: FileId) -> &Path {
        &self.file(id).path
    }

    /// Line and column of the start of `span`.
    pub fn line_col(&self, span: Span) -> LineCol {
        self.file(span.file).line_col(span.start)
    }
}
