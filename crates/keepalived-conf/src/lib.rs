//! keepalived.conf parser with compiler-style diagnostics, a typed model and a formatter.
//!
//! Layers: the lexer/preprocessor ([`pre`]: comments, quotes, `include`, `@` conditionals,
//! `$NAME` definitions, `~SEQ`) produces located tokens; [`tree`] groups them into blocks;
//! the builder turns blocks into the typed [`Config`] and runs the semantic checks; [`format()`]
//! writes a [`Config`] back as canonical text.
//!
//! Parsing never fails: it returns the model it could build plus [`Diagnostic`]s, like
//! keepalived, which skips what it cannot use. [`ParseOutput::has_errors`] tells whether
//! `keepalived -t` would complain.
//!
//! ```
//! use keepalived_conf::{parse_str, Options, model::LbKind};
//!
//! let text = "virtual_server 192.0.2.1 80 {\n  lb_kind DR\n  real_server 198.51.100.2 80 {\n    weight\n  }\n}\n";
//! let out = parse_str(text, &Options::default());
//! let vs = &out.config.virtual_servers[0];
//! assert_eq!(vs.lb_kind, Some(LbKind::Dr));
//! // `weight` without a value: an error at that line, and keepalived's fallback 1
//! assert!(out.has_errors());
//! assert_eq!(out.diagnostics[0].location.as_ref().unwrap().line, 4);
//! assert_eq!(vs.real_servers[0].weight, Some(1));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
pub mod diag;
mod format;
pub mod load;
pub mod model;
pub mod pre;
pub mod source;
pub mod tree;

use std::path::{Path, PathBuf};

pub use diag::{Code, Diagnostic, Location, Severity};
pub use format::{format, quote};
pub use load::{FileLoader, FsLoader, MemLoader};
pub use model::Config;
pub use source::{FileId, SourceMap, Span};

/// Bounds that keep hostile input (include bombs, billion-laughs definitions, huge `~SEQ`s)
/// from using unbounded time or memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum nesting of `include` (default 32).
    pub max_include_depth: usize,
    /// Maximum number of files read (default 1024).
    pub max_files: usize,
    /// Maximum bytes of text produced by expansion, sequences and included files together
    /// (default 256 MiB).
    pub max_expanded_bytes: usize,
    /// Maximum length of one line after expansion (default 1 MiB).
    pub max_line_bytes: usize,
    /// Maximum substitutions in one line (default 100 000).
    pub max_expansions_per_line: usize,
    /// Maximum nesting of expansions/conditionals/sequences on a line (default 64).
    pub max_recursion: usize,
    /// Maximum iterations of one `~SEQ` (default 1 000 000).
    pub max_sequence: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_include_depth: 32,
            max_files: 1024,
            max_expanded_bytes: 256 << 20,
            max_line_bytes: 1 << 20,
            max_expansions_per_line: 100_000,
            max_recursion: 64,
            max_sequence: 1_000_000,
        }
    }
}

impl Limits {
    /// Small limits for fuzzing and untrusted input (16 KiB of expansion, 4 include levels, 8 files).
    pub fn small() -> Self {
        Self {
            max_include_depth: 4,
            max_files: 8,
            max_expanded_bytes: 16 << 10,
            max_line_bytes: 4 << 10,
            max_expansions_per_line: 256,
            max_recursion: 12,
            max_sequence: 256,
        }
    }
}

/// Parser options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// `-i/--config-id` for `@ID` conditional lines (None: only `@^ID` lines are used).
    pub config_id: Option<String>,
    /// Unknown keywords are errors instead of warnings.
    pub strict: bool,
    /// Resource bounds.
    pub limits: Limits,
}

impl Options {
    /// Sets the config id.
    #[must_use]
    pub fn config_id(mut self, id: impl Into<String>) -> Self {
        self.config_id = Some(id.into());
        self
    }
    /// Sets strict mode.
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
    /// Sets the limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// Result of parsing: the model, every diagnostic (located), and the source texts.
#[derive(Debug, Clone)]
pub struct ParseOutput {
    /// The configuration as keepalived would use it (bad lines skipped, fallbacks applied).
    pub config: Config,
    /// Errors, warnings and notes in source order per stage.
    pub diagnostics: Vec<Diagnostic>,
    /// All files read.
    pub sources: SourceMap,
}

impl ParseOutput {
    /// Whether any diagnostic is an error (keepalived -t would fail).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    /// Diagnostics with this code.
    pub fn with_code(&self, code: Code) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(move |d| d.code == code)
    }
}

/// Parses configuration text; `include`s are read through `loader`, relative to `path`'s
/// directory.
pub fn parse_with(
    loader: &mut dyn FileLoader,
    path: &Path,
    text: &str,
    opts: &Options,
) -> ParseOutput {
    parse_owned(loader, path, text.to_string(), opts)
}

/// [`parse_with`] on a text the caller gives away (kept in [`ParseOutput::sources`], not copied).
fn parse_owned(
    loader: &mut dyn FileLoader,
    path: &Path,
    text: String,
    opts: &Options,
) -> ParseOutput {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let id = sources.add(path.to_path_buf(), text);
    let canon = loader.canonical(path);
    let items = {
        let mut p = pre::Pre::new(loader, &mut sources, &mut diagnostics, opts);
        p.run_file(id, canon);
        std::mem::take(&mut p.out)
    };
    let mut items = items;
    let text = items.take_text();
    // the tree's and the model's diagnostics come after the preprocessor's, in that order,
    // though the two are built together (one top-level statement at a time)
    let mut tree_diags = Vec::new();
    let mut model_diags = Vec::new();
    let config = {
        let nodes = tree::Parser::new(items, &sources, &text, &mut tree_diags);
        build::Builder::new(&mut model_diags, opts.strict).config(nodes)
    };
    drop(text);
    diagnostics.append(&mut tree_diags);
    diagnostics.append(&mut model_diags);
    for d in &mut diagnostics {
        d.resolve(&sources);
    }
    ParseOutput {
        config,
        diagnostics,
        sources,
    }
}

/// Parses text that has no includes on disk (includes are looked up in an empty in-memory set).
pub fn parse_str(text: &str, opts: &Options) -> ParseOutput {
    parse_with(
        &mut MemLoader::new(),
        Path::new("keepalived.conf"),
        text,
        opts,
    )
}

/// Errors reading the main configuration file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The main file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Reads and parses a file from disk (includes from disk too).
pub fn parse_file(path: impl AsRef<Path>, opts: &Options) -> Result<ParseOutput, Error> {
    let path = path.as_ref();
    let mut loader = FsLoader;
    let text = loader.read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(parse_owned(&mut loader, path, text, opts))
}
