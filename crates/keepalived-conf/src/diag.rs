//! Compiler-style diagnostics: severity, a stable code, a located message with the source line
//! and a caret, what was expected and a fix hint.

use std::fmt;

use crate::source::{SourceMap, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Information only (for example "priority 255 makes this router the address owner").
    Note,
    /// keepalived would accept the configuration (perhaps ignoring a part of it).
    Warning,
    /// keepalived reports a configuration error; `keepalived-conf check` exits 1.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Note => "note",
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

macro_rules! codes {
    ($( $(#[$m:meta])* $v:ident = $s:literal, )*) => {
        /// Stable identifier of each kind of diagnostic (printed as `error[missing-value]`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code { $( $(#[$m])* $v, )* }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[ $( Code::$v, )* ];

            /// The stable short id, e.g. `"missing-value"`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$v => $s, )* }
            }
        }
    };
}

codes! {
    /// A keyword needs a value and has none (keepalived's fallback is used in lenient mode).
    MissingValue = "missing-value",
    /// A value does not parse as what the keyword expects (number, address, enum ...).
    InvalidValue = "invalid-value",
    /// A number is outside the keyword's range.
    OutOfRange = "out-of-range",
    /// More arguments than the keyword takes.
    ExtraArgument = "extra-argument",
    /// Keyword not known in this block (keepalived skips it); an error with `--strict`.
    UnknownKeyword = "unknown-keyword",
    /// A block keyword without its `{ ... }` block.
    MissingBlock = "missing-block",
    /// A `{` that no keyword opens.
    UnexpectedOpenBrace = "unexpected-open-brace",
    /// A `}` with no open block.
    UnexpectedCloseBrace = "unexpected-close-brace",
    /// End of file inside a block.
    UnclosedBlock = "unclosed-block",
    /// A quoted string not closed on its line.
    UnterminatedQuote = "unterminated-quote",
    /// An included file could not be read or matched nothing.
    IncludeNotFound = "include-not-found",
    /// A file includes itself (directly or indirectly).
    IncludeCycle = "include-cycle",
    /// Includes nested deeper than the limit.
    IncludeDepth = "include-depth",
    /// Parameter expansion or `~SEQ` exceeded the size/count limits (billion-laughs guard).
    ExpansionLimit = "expansion-limit",
    /// A malformed `$NAME=` definition, `@` condition or `~SEQ(...)`/`~LST(...)`.
    BadPreprocessor = "bad-preprocessor",
    /// A required keyword is missing in a block (e.g. `interface` in vrrp_instance).
    MissingKeyword = "missing-keyword",
    /// Two VRRP instances use the same VRID on the same interface and address family.
    DuplicateVrid = "duplicate-vrid",
    /// A reference to a name that is not defined (track_script, sync group member, group ...).
    UnknownReference = "unknown-reference",
    /// An address of the wrong family (e.g. IPv6 VIP in an IPv4 instance).
    AddressFamily = "address-family",
    /// advert_int has a fraction but VRRPv2 only carries whole seconds (keepalived #1615).
    AdvertIntTruncated = "advert-int-truncated",
    /// priority 255 means this router owns the addresses.
    PriorityOwner = "priority-owner",
    /// IPv6 instance whose first VIP is not link-local (keepalived uses a link-local as the
    /// primary address).
    Ipv6FirstVipNotLinkLocal = "ipv6-first-vip",
    /// A name defined twice (vrrp_instance, vrrp_script, virtual server ...).
    DuplicateName = "duplicate-name",
    /// Option combination keepalived ignores or rejects (e.g. persistence_granularity without
    /// persistence, weight above 0 on a sorry server ...).
    Inconsistent = "inconsistent",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resolved location: file, line, column and the text of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File path as read.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub col: u32,
    /// The source line (without newline).
    pub source_line: String,
    /// Underline width in characters (at least 1).
    pub width: u32,
}

/// One problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error, warning or note.
    pub severity: Severity,
    /// Stable code.
    pub code: Code,
    /// One-line description.
    pub message: String,
    /// Where (None for whole-file problems such as an unreadable main file).
    pub span: Option<Span>,
    /// Text shown next to the caret ("expected ...").
    pub label: Option<String>,
    /// A fix hint.
    pub help: Option<String>,
    /// Extra notes.
    pub notes: Vec<String>,
    /// Resolved location (filled in by the parser before the diagnostic is returned).
    pub location: Option<Location>,
}

impl Diagnostic {
    /// A new diagnostic at `span`.
    pub fn new(
        severity: Severity,
        code: Code,
        span: Option<Span>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            span,
            label: None,
            help: None,
            notes: Vec::new(),
            location: None,
        }
    }

    /// Sets the caret label.
    #[must_use]
    pub fn label(mut self, l: impl Into<String>) -> Self {
        self.label = Some(l.into());
        self
    }

    /// Sets the help text.
    #[must_use]
    pub fn help(mut self, h: impl Into<String>) -> Self {
        self.help = Some(h.into());
        self
    }

    /// Adds a note.
    #[must_use]
    pub fn note(mut self, n: impl Into<String>) -> Self {
        self.notes.push(n.into());
        self
    }

    /// Is this an error?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Fills in [`Diagnostic::location`] from the source map.
    pub fn resolve(&mut self, map: &SourceMap) {
        let Some(span) = self.span else { return };
        if span.file.0 as usize >= map.files().len() {
            return;
        }
        let file = map.file(span.file);
        let lc = map.line_col(span);
        let source_line = file.line_text(lc.line).to_string();
        let end = map.line_col(Span {
            start: span.end,
            ..span
        });
        let width = if end.line == lc.line && end.col > lc.col {
            end.col - lc.col
        } else {
            1
        };
        self.location = Some(Location {
            path: file.path.display().to_string(),
            line: lc.line,
            col: lc.col,
            source_line,
            width,
        });
    }
}

impl fmt::Display for Diagnostic {
    /// Renders a rustc-like block:
    ///
    /// ```text
    /// error[missing-value]: `weight` needs a value
    ///   --> keepalived.conf:37:5
    ///    |
    /// 37 |     weight
    ///    |     ^^^^^^ expected an integer 0-65535
    ///    |
    ///    = help: weight needs a value 0-65535; keepalived uses 1
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}[{}]: {}", self.severity, self.code, self.message)?;
        let gutter = match &self.location {
            Some(l) => l.line.to_string().len(),
            None => 1,
        };
        let pad = " ".repeat(gutter);
        if let Some(l) = &self.location {
            writeln!(f, "{pad}--> {}:{}:{}", l.path, l.line, l.col)?;
            writeln!(f, "{pad} |")?;
            let shown: String = l
                .source_line
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            writeln!(f, "{} | {}", l.line, shown)?;
            let lead: String = l
                .source_line
                .chars()
                .take(l.col as usize - 1)
                .map(|c| if c.is_ascii() { ' ' } else { '\u{3000}' })
                .collect();
            let lead = lead.replace('\u{3000}', "  ");
            let carets = "^".repeat(l.width.max(1) as usize);
            match &self.label {
                Some(label) => writeln!(f, "{pad} | {lead}{carets} {label}")?,
                None => writeln!(f, "{pad} | {lead}{carets}")?,
            }
        } else if let Some(label) = &self.label {
            writeln!(f, "{pad} = {label}")?;
        }
        if self.help.is_some() || !self.notes.is_empty() {
            writeln!(f, "{pad} |")?;
        }
        for n in &self.notes {
            writeln!(f, "{pad} = note: {n}")?;
        }
        if let Some(h) = &self.help {
            writeln!(f, "{pad} = help: {h}")?;
        }
        Ok(())
    }
}

/// A diagnostic already pushed, being completed with a label/help/notes.
#[derive(Debug)]
pub(crate) struct DiagMut<'a>(pub(crate) &'a mut Diagnostic);

impl DiagMut<'_> {
    pub(crate) fn label(self, l: impl Into<String>) -> Self {
        self.0.label = Some(l.into());
        self
    }
    pub(crate) fn help(self, h: impl Into<String>) -> Self {
        self.0.help = Some(h.into());
        self
    }
    pub(crate) fn note(self, n: impl Into<String>) -> Self {
        self.0.notes.push(n.into());
        self
    }
}
