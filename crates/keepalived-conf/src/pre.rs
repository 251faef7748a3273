//! Lexer and preprocessor: comments, quoted strings, `include`, `@`/`@^` conditionals,
//! `$NAME=value` definitions (also multi-line), `$NAME`/`${NAME}` expansion, `~SEQ`/`~SEQx`/`~LST`.
//!
//! The output is one flat list of [`Token`]s, each logical line (keepalived is line oriented: a
//! keyword's arguments end at the line end) followed by a line-end marker; every token keeps the
//! span of the text it came from (for text produced by an expansion, the span of the `$NAME`
//! reference).

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diag::{Code, DiagMut, Diagnostic, Severity};
use crate::load::{self, FileLoader};
use crate::source::{FileId, SourceMap, Span};
use crate::tree::Items;
use crate::{Limits, Options};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word or quoted string.
    Word,
    /// An unquoted `{`.
    Open,
    /// An unquoted `}`.
    Close,
}

/// One token of a logical line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The text after quote removal and escape processing (empty for a brace: see `kind`).
    pub text: &'a str,
    /// Word or brace.
    pub kind: TokenKind,
    /// Whether any part was quoted.
    pub quoted: bool,
    /// Where it came from.
    pub span: Span,
}

/// Where each byte of a [`Text`] comes from in its file.
#[derive(Debug, Clone)]
enum Origin<'a> {
    /// Byte `k` is at `base + k` (text straight from the file: almost every line).
    Linear(u32),
    /// Byte `k` is at `map[k]` (text produced by a `$NAME` expansion).
    Map(Cow<'a, [u32]>),
}

/// Text with, for every byte, its byte offset in `file`. Borrows the file's text (or an
/// expansion's output) where it can.
#[derive(Debug, Clone)]
struct Text<'a> {
    s: Cow<'a, str>,
    origin: Origin<'a>,
    file: FileId,
}

/// `s[a..b]`, without a copy.
fn cut_str(s: Cow<'_, str>, a: usize, b: usize) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(x) => Cow::Borrowed(&x[a..b]),
        Cow::Owned(mut x) => {
            x.truncate(b);
            x.drain(..a);
            Cow::Owned(x)
        }
    }
}

/// `m[a..b]`, without a copy.
fn cut_map(m: Cow<'_, [u32]>, a: usize, b: usize) -> Cow<'_, [u32]> {
    match m {
        Cow::Borrowed(x) => Cow::Borrowed(&x[a..b]),
        Cow::Owned(mut x) => {
            x.truncate(b);
            x.drain(..a);
            Cow::Owned(x)
        }
    }
}

impl<'a> Text<'a> {
    /// File offset of byte `k` (`None` past the end).
    fn at(&self, k: usize) -> Option<u32> {
        match &self.origin {
            Origin::Linear(base) => (k < self.s.len()).then(|| base + k as u32),
            Origin::Map(m) => m.get(k).copied(),
        }
    }
    /// Bytes `a..b`, borrowed from this text.
    fn slice(&self, a: usize, b: usize) -> Text<'_> {
        Text {
            s: Cow::Borrowed(&self.s[a..b]),
            origin: match &self.origin {
                Origin::Linear(base) => Origin::Linear(base + a as u32),
                Origin::Map(m) => Origin::Map(Cow::Borrowed(&m[a..b])),
            },
            file: self.file,
        }
    }
    /// Bytes `a..b`, reusing this text's buffers.
    fn cut(self, a: usize, b: usize) -> Self {
        Self {
            s: cut_str(self.s, a, b),
            origin: match self.origin {
                Origin::Linear(base) => Origin::Linear(base + a as u32),
                Origin::Map(m) => Origin::Map(cut_map(m, a, b)),
            },
            file: self.file,
        }
    }
    /// The text from byte `a` on, reusing this text's buffers.
    fn skip(self, a: usize) -> Self {
        let b = self.s.len();
        self.cut(a, b)
    }
    fn span(&self, a: usize, b: usize) -> Span {
        let start = self.at(a).unwrap_or_else(|| {
            if self.s.is_empty() {
                0
            } else {
                self.at(self.s.len() - 1).map_or(0, |o| o + 1)
            }
        });
        let end = if b > a {
            self.at(b - 1).map_or(start, |o| o + 1)
        } else {
            start
        };
        Span {
            file: self.file,
            start,
            end: end.max(start),
        }
    }
    /// Without leading and trailing white space (no copy).
    fn trim(self) -> Self {
        let b = self.s.trim_end().len();
        let a = b - self.s[..b].trim_start().len();
        if a == 0 && b == self.s.len() {
            return self;
        }
        self.cut(a, b)
    }
}

struct ExpandState {
    out: String,
    origin: Vec<u32>,
    count: usize,
    /// (name, byte index in the top-level text) of the reference that hit a limit.
    hit: Option<(String, usize)>,
}

impl ExpandState {
    fn push(&mut self, s: &str, at: impl Fn(usize) -> u32) {
        self.out.push_str(s);
        self.origin.extend((0..s.len()).map(at));
    }
}

#[derive(Debug, Clone)]
struct Def {
    /// The value; lines of a multi-line definition separated by '\n'.
    value: String,
}

pub(crate) struct Pre<'a> {
    loader: &'a mut dyn FileLoader,
    map: &'a mut SourceMap,
    diags: &'a mut Vec<Diagnostic>,
    config_id: Option<String>,
    limits: Limits,
    defs: HashMap<String, Def>,
    stack: Vec<PathBuf>,
    files_read: usize,
    budget_used: usize,
    limit_reported: bool,
    /// Whether [`Self::plain_line`] takes the lines it can (off only to test it against the
    /// general path).
    plain_lines: bool,
    pwd: PathBuf,
    /// Tokens of every logical line, with its line ends.
    pub(crate) out: Items,
}

const NAME_START: fn(u8) -> bool = |b| b.is_ascii_alphabetic() || b == b'_';
const NAME_CHAR: fn(u8) -> bool = |b| b.is_ascii_alphanumeric() || b == b'_';

impl<'a> Pre<'a> {
    pub(crate) fn new(
        loader: &'a mut dyn FileLoader,
        map: &'a mut SourceMap,
        diags: &'a mut Vec<Diagnostic>,
        opts: &Options,
    ) -> Self {
        Self {
            loader,
            map,
            diags,
            config_id: opts.config_id.clone(),
            limits: opts.limits,
            defs: HashMap::new(),
            stack: Vec::new(),
            files_read: 0,
            budget_used: 0,
            limit_reported: false,
            plain_lines: true,
            pwd: PathBuf::new(),
            out: Items::default(),
        }
    }

    fn err(&mut self, code: Code, span: Option<Span>, msg: impl Into<String>) -> DiagMut<'_> {
        self.diags
            .push(Diagnostic::new(Severity::Error, code, span, msg));
        DiagMut(self.diags.last_mut().expect("just pushed"))
    }

    /// Charges `n` units against the expansion budget; false (and one diagnostic) when exhausted.
    fn charge(&mut self, n: usize, span: Span) -> bool {
        self.budget_used = self.budget_used.saturating_add(n);
        if self.budget_used > self.limits.max_expanded_bytes {
            if !self.limit_reported {
                self.limit_reported = true;
                let max = self.limits.max_expanded_bytes;
                self.err(Code::ExpansionLimit, Some(span), "configuration expands beyond the size limit")
                    .label(format!("expansion stopped here (limit {max} bytes)"))
                    .help("check for definitions that expand themselves or ~SEQ ranges that are too large");
            }
            return false;
        }
        true
    }

    /// Processes one file's text (already added to the source map).
    pub(crate) fn run_file(&mut self, file: FileId, canonical: PathBuf) {
        if self.stack.len() >= self.limits.max_include_depth {
            return;
        }
        self.stack.push(canonical);
        self.files_read += 1;
        let saved_pwd = std::mem::replace(
            &mut self.pwd,
            self.map
                .path(file)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        );
        // borrowed out of the map (nothing reads it until parsing ends) and put back below
        let text = self.map.take_text(file);
        let mut lines = Lines {
            text: &text,
            pos: 0,
        };
        loop {
            if self.limit_reported {
                break;
            }
            if let Some(next) = self
                .plain_lines
                .then(|| self.plain_line(text.as_bytes(), lines.pos, file))
                .flatten()
            {
                lines.pos = next;
                continue;
            }
            let Some((off, body)) = lines.next() else {
                break;
            };
            let Some(t) = line_text(body, off, file) else {
                continue;
            };
            // include detection happens before conditionals and substitution (manual)
            let first_end = t.s.find(char::is_whitespace).unwrap_or(t.s.len());
            let first = &t.s[..first_end];
            if matches!(
                first,
                "include" | "includer" | "includem" | "includew" | "includeb" | "includea"
            ) {
                let arg = t.slice(first_end, t.s.len()).trim();
                self.include(first == "include", &t, &arg);
                continue;
            }
            // multi-line definition: `$NAME= \` then lines ending with `\`
            if let Some((name, value)) = self.definition(&t) {
                if value.s.trim() == "\\" {
                    let mut parts: Vec<String> = Vec::new();
                    for (_, b2) in lines.by_ref() {
                        let s2 = b2[..comment_start(b2)].trim_end();
                        if let Some(stripped) = s2.strip_suffix('\\') {
                            parts.push(stripped.to_string());
                        } else {
                            parts.push(s2.to_string());
                            break;
                        }
                    }
                    let value = parts.join("\n");
                    let span = t.span(0, t.s.len());
                    if self.charge(value.len(), span) {
                        self.defs.insert(name, Def { value });
                    }
                    continue;
                }
            }
            self.process_line(t, 0);
        }
        self.map.put_text(file, text);
        self.pwd = saved_pwd;
        self.stack.pop();
    }

    /// The fast path for most lines: when the line at byte `pos` of `file` (`text`) is
    /// printable ASCII up to its comment, with no quote or `$` and not starting with `@`, `~` or
    /// `include`, tokenises it straight from the file in one pass (what [`Self::process_line`]
    /// would do, without its copies and checks) and returns where the next line starts;
    /// otherwise returns None and leaves the line to the general path.
    fn plain_line(&mut self, text: &[u8], pos: usize, file: FileId) -> Option<usize> {
        if pos >= text.len() {
            return None;
        }
        let span = |a: usize, z: usize| Span {
            file,
            start: a as u32,
            end: z as u32,
        };
        let mark = self.out.mark();
        let mut cost = 0usize;
        let mut i = pos;
        let mut first = true;
        let next = loop {
            let Some(&c) = text.get(i) else {
                break i;
            };
            match CLASS[c as usize] {
                BLANK => {
                    i = run_end(text, i + 1, BLANK);
                }
                WORD => {
                    let start = i;
                    i = run_end(text, i + 1, WORD);
                    if first && (matches!(c, b'@' | b'~') || text[start..i].starts_with(b"include"))
                    {
                        // a conditional, a sequence or an include
                        self.out.truncate(mark);
                        return None;
                    }
                    cost += i - start + 8;
                    self.out.push_source_word(span(start, i));
                    first = false;
                }
                OPEN => {
                    cost += 9;
                    self.out.push_brace(TokenKind::Open, span(i, i + 1));
                    i += 1;
                    first = false;
                }
                CLOSE => {
                    cost += 9;
                    self.out.push_brace(TokenKind::Close, span(i, i + 1));
                    i += 1;
                    first = false;
                }
                NEWLINE => break i + 1,
                COMMENT => {
                    break text[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(text.len(), |n| i + n + 1);
                }
                _ => {
                    self.out.truncate(mark);
                    return None;
                }
            }
        };
        // the line's first token, if it has any
        if let Some(first_span) = self.out.span(mark.0) {
            if self.charge(cost, first_span) {
                self.out.end_line();
            } else {
                self.out.truncate(mark);
            }
        }
        Some(next)
    }

    /// Parses `$NAME=value` at the start of `t` (already trimmed).
    fn definition<'t>(&self, t: &'t Text<'_>) -> Option<(String, Text<'t>)> {
        let b = t.s.as_bytes();
        if b.first() != Some(&b'$') || b.len() < 3 || !NAME_START(b[1]) {
            return None;
        }
        let mut j = 2;
        while j < b.len() && NAME_CHAR(b[j]) {
            j += 1;
        }
        if b.get(j) != Some(&b'=') {
            return None;
        }
        Some((t.s[1..j].to_string(), t.slice(j + 1, t.s.len()).trim()))
    }

    fn include(&mut self, plain: bool, line: &Text<'_>, arg: &Text<'_>) {
        let span = line.span(0, line.s.len());
        let sev = if plain {
            Severity::Warning
        } else {
            Severity::Error
        };
        if arg.s.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    Severity::Error,
                    Code::MissingValue,
                    Some(span),
                    "`include` needs a file name",
                )
                .label("expected a path or glob pattern"),
            );
            return;
        }
        let pattern = unquote(&arg.s);
        let arg_span = arg.span(0, arg.s.len());
        let mut paths = Vec::new();
        for p in load::expand_braces(&pattern, 256) {
            let p = Path::new(&p);
            let full = if p.is_absolute() {
                p.to_path_buf()
            } else {
                self.pwd.join(p)
            };
            if load::has_wildcard(&full.to_string_lossy()) {
                paths.extend(load::glob(self.loader, &full, 256));
            } else {
                paths.push(full);
            }
        }
        if paths.is_empty() {
            self.diags.push(
                Diagnostic::new(
                    sev,
                    Code::IncludeNotFound,
                    Some(arg_span),
                    format!("`{pattern}` matches no file"),
                )
                .label("no file matches this pattern"),
            );
            return;
        }
        for p in paths {
            if self.limit_reported {
                return;
            }
            let canon = self.loader.canonical(&p);
            if self.stack.contains(&canon) {
                let chain: Vec<String> =
                    self.stack.iter().map(|p| p.display().to_string()).collect();
                self.err(
                    Code::IncludeCycle,
                    Some(arg_span),
                    format!("include cycle: `{}` includes itself", p.display()),
                )
                .label("this include starts the cycle again")
                .note(format!(
                    "include chain: {} -> {}",
                    chain.join(" -> "),
                    canon.display()
                ));
                continue;
            }
            if self.stack.len() >= self.limits.max_include_depth {
                let max = self.limits.max_include_depth;
                self.err(
                    Code::IncludeDepth,
                    Some(arg_span),
                    format!("includes nested deeper than {max} levels"),
                )
                .label("not read");
                continue;
            }
            if self.files_read >= self.limits.max_files {
                let max = self.limits.max_files;
                self.err(
                    Code::IncludeDepth,
                    Some(arg_span),
                    format!("more than {max} files included"),
                )
                .label("not read");
                return;
            }
            match self.loader.read(&p) {
                Ok(text) => {
                    if !self.charge(text.len(), arg_span) {
                        return;
                    }
                    let id = self.map.add(p.clone(), text);
                    self.run_file(id, canon);
                }
                Err(e) => {
                    self.diags.push(
                        Diagnostic::new(
                            sev,
                            Code::IncludeNotFound,
                            Some(arg_span),
                            format!("cannot read `{}`: {e}", p.display()),
                        )
                        .label("included here"),
                    );
                }
            }
        }
    }

    /// Conditionals, definitions, sequences, expansion, then tokenisation of one logical line.
    fn process_line(&mut self, t: Text<'_>, depth: usize) {
        if self.limit_reported {
            return;
        }
        let t = t.trim();
        if t.s.is_empty() {
            return;
        }
        if depth > self.limits.max_recursion {
            let span = t.span(0, t.s.len());
            if !self.limit_reported {
                self.limit_reported = true;
                let max = self.limits.max_recursion;
                self.err(
                    Code::ExpansionLimit,
                    Some(span),
                    "expansion nested too deeply",
                )
                .label(format!("more than {max} levels of expansion"));
            }
            return;
        }
        // @ / @^ conditional
        if t.s.starts_with('@') {
            let neg = t.s.starts_with("@^");
            let start = if neg { 2 } else { 1 };
            let end = t.s.find(char::is_whitespace).unwrap_or(t.s.len());
            if end <= start {
                let span = t.span(0, end);
                self.err(
                    Code::BadPreprocessor,
                    Some(span),
                    "`@` needs a config id right after it",
                )
                .label("expected `@ID` or `@^ID`");
                return;
            }
            let matches = self.config_id.as_deref() == Some(&t.s[start..end]);
            if matches != neg {
                self.process_line(t.skip(end), depth + 1);
            }
            return;
        }
        if let Some((name, value)) = self.definition(&t) {
            let span = t.span(0, t.s.len());
            if self.charge(value.s.len() + name.len(), span) {
                self.defs.insert(
                    name,
                    Def {
                        value: value.s.into_owned(),
                    },
                );
            }
            return;
        }
        if t.s.starts_with("~SEQ") || t.s.starts_with("~LST") {
            self.sequence(t, depth);
            return;
        }
        let (expanded, changed) = self.expand(t);
        let Some(expanded) = expanded else { return };
        if changed {
            // a multi-line definition yields several lines; each is processed again
            let mut start = 0;
            let s = &expanded.s;
            for (i, b) in s.bytes().enumerate() {
                if b == b'\n' {
                    self.process_line(expanded.slice(start, i), depth + 1);
                    start = i + 1;
                }
            }
            self.process_line(expanded.slice(start, s.len()), depth + 1);
            return;
        }
        let mark = self.out.mark();
        let n = self.tokenize(&expanded);
        // the line's first token, if it has any
        if let Some(span) = self.out.span(mark.0) {
            if self.charge(n, span) {
                self.out.end_line();
            } else {
                self.out.truncate(mark);
            }
        }
    }

    /// `~SEQ(var, [start,] [step,] end) rest`, `~SEQx(...)`, `~LST(var, v1, ...)`.
    fn sequence(&mut self, t: Text<'_>, depth: usize) {
        let hex = t.s.starts_with("~SEQx(");
        let lst = t.s.starts_with("~LST(");
        let open = if hex { 5 } else { 4 };
        let span_all = t.span(0, t.s.find(')').map_or(t.s.len(), |i| i + 1));
        if t.s.as_bytes().get(open) != Some(&b'(') {
            self.err(
                Code::BadPreprocessor,
                Some(span_all),
                "malformed sequence block",
            )
            .label(
                "expected `~SEQ(var, start, step, end)`, `~SEQx(...)` or `~LST(var, values...)`",
            );
            return;
        }
        // find the matching ')', allowing {} groups inside ~LST
        let b = t.s.as_bytes();
        let mut depth_b = 0usize;
        let mut close = None;
        for (i, &c) in b.iter().enumerate().skip(open + 1) {
            match c {
                b'{' => depth_b += 1,
                b'}' => depth_b = depth_b.saturating_sub(1),
                b')' if depth_b == 0 => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            self.err(
                Code::BadPreprocessor,
                Some(span_all),
                "sequence block without `)`",
            )
            .label("expected `)`");
            return;
        };
        let inner = t.s[open + 1..close].to_string();
        let rest = t.slice(close + 1, t.s.len());
        let head_span = t.span(0, close + 1);
        if lst {
            let items = split_groups(&inner);
            if items.len() < 2 {
                self.err(
                    Code::BadPreprocessor,
                    Some(head_span),
                    "`~LST` needs a variable and at least one value",
                )
                .label("expected `~LST(var, value, ...)`");
                return;
            }
            let vars: Vec<String> = group_items(&items[0]);
            if vars.is_empty() || vars.iter().any(|v| !valid_name(v)) {
                self.err(
                    Code::BadPreprocessor,
                    Some(head_span),
                    "invalid `~LST` variable name",
                )
                .label("expected a name made of A-Za-z0-9_ not starting with a digit");
                return;
            }
            let saved: Vec<Option<Def>> = vars.iter().map(|v| self.defs.get(v).cloned()).collect();
            for item in &items[1..] {
                let vals = group_items(item);
                if vals.len() != vars.len() {
                    self.err(
                        Code::BadPreprocessor,
                        Some(head_span),
                        "`~LST` value group does not match the variables",
                    )
                    .label(format!("expected {} value(s) per group", vars.len()));
                    break;
                }
                if !self.charge(rest.s.len() + 1, head_span) {
                    break;
                }
                for (v, val) in vars.iter().zip(vals) {
                    self.defs.insert(v.clone(), Def { value: val });
                }
                self.process_line(rest.clone(), depth + 1);
            }
            for (v, s) in vars.iter().zip(saved) {
                match s {
                    Some(d) => self.defs.insert(v.clone(), d),
                    None => self.defs.remove(v),
                };
            }
            return;
        }
        let parts: Vec<String> = inner.split(',').map(|s| s.trim().to_string()).collect();
        let bad = |this: &mut Self| {
            this.err(Code::BadPreprocessor, Some(head_span), "malformed `~SEQ`")
                .label("expected `~SEQ(var, [start,] [step,] end)` with integer bounds");
        };
        if parts.len() < 2 || parts.len() > 4 || !valid_name(&parts[0]) {
            bad(self);
            return;
        }
        let nums: Option<Vec<i64>> = parts[1..].iter().map(|p| parse_int(p)).collect();
        let Some(nums) = nums else {
            bad(self);
            return;
        };
        let (start, step, end) = match nums.as_slice() {
            [end] => {
                let s = if *end >= 0 { 1 } else { -1 };
                (s, s, *end)
            }
            [start, end] => (*start, if end >= start { 1 } else { -1 }, *end),
            [start, step, end] => (*start, *step, *end),
            _ => unreachable!("1..=3 numbers"),
        };
        if step == 0 {
            self.err(Code::BadPreprocessor, Some(head_span), "`~SEQ` step is 0")
                .label("a step of 0 never reaches the end");
            return;
        }
        let var = parts[0].clone();
        let saved = self.defs.get(&var).cloned();
        let mut v = start;
        let mut count = 0usize;
        while (step > 0 && v <= end) || (step < 0 && v >= end) {
            count += 1;
            if count > self.limits.max_sequence || !self.charge(rest.s.len() + 1, head_span) {
                if !self.limit_reported {
                    self.limit_reported = true;
                    let max = self.limits.max_sequence;
                    self.err(
                        Code::ExpansionLimit,
                        Some(head_span),
                        "`~SEQ` produces too many lines",
                    )
                    .label(format!("more than {max} iterations"));
                }
                break;
            }
            let val = if hex { format!("{v:x}") } else { v.to_string() };
            self.defs.insert(var.clone(), Def { value: val });
            self.process_line(rest.clone(), depth + 1);
            let Some(n) = v.checked_add(step) else { break };
            v = n;
        }
        match saved {
            Some(d) => self.defs.insert(var, d),
            None => self.defs.remove(&var),
        };
    }

    /// Looks a parameter up (including the pre-defined `_PWD`, `_INSTANCE`, `_HASH`, ...).
    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(d) = self.defs.get(name) {
            return Some(d.value.clone());
        }
        let mut it = name.split_whitespace();
        let head = it.next()?;
        match head {
            "_PWD" => Some(self.pwd.display().to_string()),
            "_INSTANCE" => Some(self.config_id.clone().unwrap_or_default()),
            "_HASH" => Some("#".into()),
            "_BANG" => Some("!".into()),
            // deterministic: the parser has no randomness, _RANDOM yields MIN
            "_RANDOM" => Some(
                it.next()
                    .and_then(|m| m.parse::<u64>().ok())
                    .unwrap_or(0)
                    .to_string(),
            ),
            "_ENV" => Some(
                it.next()
                    .and_then(|v| self.loader.env(v))
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    }

    /// Expands parameters recursively (a value's own references are expanded in turn), in one
    /// pass linear in the output size. Returns None when a limit was hit.
    fn expand<'t>(&mut self, t: Text<'t>) -> (Option<Text<'t>>, bool) {
        if !t.s.contains('$') {
            return (Some(t), false);
        }
        let mut st = ExpandState {
            out: String::new(),
            origin: Vec::new(),
            count: 0,
            hit: None,
        };
        self.expand_into(&t.s, Some(&t), None, None, 0, &mut st);
        if let Some((name, at)) = st.hit {
            let span = t.span(at, at + 1);
            if !self.limit_reported {
                self.limit_reported = true;
                self.err(
                    Code::ExpansionLimit,
                    Some(span),
                    format!("expansion of `${name}` exceeds the limits"),
                )
                .label("expansion stopped here")
                .help("check for a definition that refers to itself or expands too much");
            }
            return (None, st.count > 0);
        }
        if st.count == 0 {
            return (Some(t), false);
        }
        let span = t.span(0, t.s.len());
        if !self.charge(st.out.len(), span) {
            return (None, true);
        }
        (
            Some(Text {
                s: Cow::Owned(st.out),
                origin: Origin::Map(Cow::Owned(st.origin)),
                file: t.file,
            }),
            true,
        )
    }

    /// Appends `s` with references expanded. `origin` gives each byte's source offset at the top
    /// level; inside a value every byte takes `fixed` (the offset of the reference).
    #[allow(clippy::too_many_arguments)]
    fn expand_into(
        &self,
        s: &str,
        origin: Option<&Text<'_>>,
        fixed: Option<u32>,
        top: Option<usize>,
        depth: usize,
        st: &mut ExpandState,
    ) {
        let b = s.as_bytes();
        let mut i = 0usize;
        let mut lit_start = 0usize;
        let at = |k: usize| fixed.unwrap_or_else(|| origin.and_then(|t| t.at(k)).unwrap_or(0));
        while i < b.len() {
            if st.hit.is_some() {
                return;
            }
            if b[i] != b'$' {
                i += 1;
                continue;
            }
            let (name, end) = if b.get(i + 1) == Some(&b'{') {
                match s[i + 2..].find('}') {
                    Some(k) => (&s[i + 2..i + 2 + k], i + 3 + k),
                    None => {
                        i += 1;
                        continue;
                    }
                }
            } else if b.get(i + 1).is_some_and(|&c| NAME_START(c)) {
                let mut j = i + 2;
                while j < b.len() && NAME_CHAR(b[j]) {
                    j += 1;
                }
                if j < b.len() && !b[j].is_ascii_whitespace() {
                    i = j;
                    continue;
                }
                (&s[i + 1..j], j)
            } else {
                i += 1;
                continue;
            };
            let Some(value) = self.lookup(name) else {
                i = end;
                continue;
            };
            // flush the literal text before the reference
            st.push(&s[lit_start..i], |k| at(lit_start + k));
            st.count += 1;
            let o = at(i);
            if depth >= self.limits.max_recursion
                || st.count > self.limits.max_expansions_per_line
                || st.out.len() + value.len() > self.limits.max_line_bytes
            {
                st.hit = Some((name.to_string(), top.unwrap_or(i)));
                return;
            }
            if value.contains('\n') {
                // a multi-line definition: its lines are expanded one by one when each is
                // processed, so `$X=...` lines inside it take effect in order
                st.push(&value, |_| o);
            } else {
                self.expand_into(&value, None, Some(o), Some(top.unwrap_or(i)), depth + 1, st);
            }
            i = end;
            lit_start = end;
        }
        if st.out.len() + (b.len() - lit_start) > self.limits.max_line_bytes {
            st.hit = Some((String::from("..."), top.unwrap_or(0)));
            return;
        }
        st.push(&s[lit_start..], |k| at(lit_start + k));
    }

    /// Appends the tokens of `t` to `self.out`; returns their cost for the expansion budget
    /// (text length + 8 per token).
    fn tokenize(&mut self, t: &Text<'_>) -> usize {
        let b = t.s.as_bytes();
        let mut cost = 0usize;
        let mut i = 0usize;
        while i < b.len() {
            if b[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if b[i] == b'{' || b[i] == b'}' {
                cost += 9;
                let kind = if b[i] == b'{' {
                    TokenKind::Open
                } else {
                    TokenKind::Close
                };
                self.out.push_brace(kind, t.span(i, i + 1));
                i += 1;
                continue;
            }
            let start = i;
            // fast path: a plain word (no quote) is a slice of the line
            while i < b.len() && !matches!(b[i], b'{' | b'}' | b'"' | b'\'') {
                if b[i].is_ascii_whitespace() {
                    break;
                }
                i += 1;
            }
            if i == b.len() || (b[i] != b'"' && b[i] != b'\'') {
                cost += i - start + 8;
                let span = t.span(start, i);
                if matches!(t.origin, Origin::Linear(_)) {
                    // straight from the file: the span is the text
                    self.out.push_source_word(span);
                } else {
                    self.out.push_word(&t.s[start..i], false, span);
                }
                continue;
            }
            let mut out: Vec<u8> = b[start..i].to_vec();
            let mut quoted = false;
            let mut quote: Option<u8> = None;
            while i < b.len() {
                let c = b[i];
                match quote {
                    None => {
                        if c.is_ascii_whitespace() || c == b'{' || c == b'}' {
                            break;
                        }
                        if c == b'"' || c == b'\'' {
                            quote = Some(c);
                            quoted = true;
                        } else {
                            out.push(c);
                        }
                        i += 1;
                    }
                    Some(q) => {
                        if c == q {
                            quote = None;
                            i += 1;
                        } else if c == b'\\' && i + 1 < b.len() {
                            i = unescape(b, i + 1, &mut out);
                        } else {
                            out.push(c);
                            i += 1;
                        }
                    }
                }
            }
            if quote.is_some() {
                let span = t.span(start, i);
                self.err(
                    Code::UnterminatedQuote,
                    Some(span),
                    "quoted string not terminated on this line",
                )
                .label("this quote is not closed")
                .help("add the closing quote; a quoted string cannot span lines");
            }
            let text = String::from_utf8_lossy(&out);
            cost += text.len() + 8;
            self.out.push_word(&text, quoted, t.span(start, i));
        }
        cost
    }
}

/// Processes the escape starting at `b[i]` (after a backslash); returns the index after it.
fn unescape(b: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let c = b[i];
    let simple = match c {
        b'a' => Some(7),
        b'b' => Some(8),
        b'E' => Some(0x1b),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        _ => None,
    };
    if let Some(v) = simple {
        out.push(v);
        return i + 1;
    }
    match c {
        b'0'..=b'7' => {
            let mut v: u32 = 0;
            let mut j = i;
            while j < b.len() && j < i + 3 && (b'0'..=b'7').contains(&b[j]) {
                v = v * 8 + u32::from(b[j] - b'0');
                j += 1;
            }
            out.push((v & 0xff) as u8);
            j
        }
        b'x' => {
            let mut v: u32 = 0;
            let mut j = i + 1;
            while j < b.len() && j < i + 3 && b[j].is_ascii_hexdigit() {
                v = v * 16 + (b[j] as char).to_digit(16).unwrap_or(0);
                j += 1;
            }
            if j == i + 1 {
                out.push(b'x');
            } else {
                out.push(v as u8);
            }
            j
        }
        b'c' if i + 1 < b.len() => {
            out.push(b[i + 1].to_ascii_uppercase() ^ 0x40);
            i + 2
        }
        _ => {
            // \C is C (UTF-8 continuation bytes are copied as they come)
            out.push(c);
            i + 1
        }
    }
}

/// Byte classes of [`Pre::plain_line`]: `BLANK` is white space both to `str::trim` and to the
/// tokeniser, `WORD` a byte that is part of a word wherever it is, `OTHER` anything that needs
/// the general path (quotes, `$`, other control bytes, non-ASCII).
const OTHER: u8 = 0;
const BLANK: u8 = 1;
const WORD: u8 = 2;
const OPEN: u8 = 3;
const CLOSE: u8 = 4;
const NEWLINE: u8 = 5;
const COMMENT: u8 = 6;

const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut c = 0x21;
    while c < 0x7f {
        t[c] = WORD;
        c += 1;
    }
    t[b' ' as usize] = BLANK;
    t[b'\t' as usize] = BLANK;
    t[b'\r' as usize] = BLANK;
    t[0x0c] = BLANK;
    t[b'\n' as usize] = NEWLINE;
    t[b'#' as usize] = COMMENT;
    t[b'!' as usize] = COMMENT;
    t[b'{' as usize] = OPEN;
    t[b'}' as usize] = CLOSE;
    t[b'"' as usize] = OTHER;
    t[b'\'' as usize] = OTHER;
    t[b'$' as usize] = OTHER;
    t
};

/// The end of the run of bytes of class `class` from `i` on.
fn run_end(text: &[u8], i: usize, class: u8) -> usize {
    let rest = text.get(i..).unwrap_or_default();
    i + rest
        .iter()
        .position(|&c| CLASS[c as usize] != class)
        .unwrap_or(rest.len())
}

/// The lines of a text with their offsets, without their line terminators (`\n`, and any `\r`
/// before it).
struct Lines<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Iterator for Lines<'t> {
    type Item = (usize, &'t str);

    fn next(&mut self) -> Option<(usize, &'t str)> {
        let at = self.pos;
        let rest = self.text.get(at..).filter(|r| !r.is_empty())?;
        let len = rest.find('\n').map_or(rest.len(), |i| i + 1);
        self.pos += len;
        Some((at, rest[..len].trim_end_matches(['\n', '\r'])))
    }
}

/// The line `body` (at byte `off` of `file`) without its comment and surrounding white space;
/// None when nothing is left.
fn line_text(body: &str, off: usize, file: FileId) -> Option<Text<'_>> {
    let s = body[..comment_start(body)].trim_end();
    let t = s.trim_start();
    if t.is_empty() {
        return None;
    }
    Some(Text {
        s: Cow::Borrowed(t),
        origin: Origin::Linear((off + s.len() - t.len()) as u32),
        file,
    })
}

/// Where a `#`/`!` comment (outside quotes) starts in `body` (its length when there is none).
fn comment_start(body: &str) -> usize {
    let b = body.as_bytes();
    let mut quote: Option<u8> = None;
    let mut end = b.len();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) => {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if c == b'"' || c == b'\'' {
                    quote = Some(c);
                } else if c == b'#' || c == b'!' {
                    end = i;
                    break;
                }
            }
        }
        i += 1;
    }
    end
}

fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && NAME_START(b[0]) && b.iter().all(|&c| NAME_CHAR(c))
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else {
        s.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Splits `a, {b, c}, d` at top-level commas.
fn split_groups(s: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => v.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    v.push(cur.trim().to_string());
    v
}

/// `{a, b}` → [a, b]; `a` → [a].
fn group_items(s: &str) -> Vec<String> {
    let s = s.trim();
    match s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(inner) => inner.split(',').map(|x| x.trim().to_string()).collect(),
        None => vec![s.to_string()],
    }
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    if t.len() >= 2
        && (t.starts_with('"') && t.ends_with('"') || t.starts_with('\'') && t.ends_with('\''))
    {
        t[1..t.len() - 1].to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::MemLoader;

    fn run(text: &str, opts: &Options, plain_lines: bool) -> (Items, Vec<Diagnostic>) {
        let mut loader = MemLoader::new();
        let mut map = SourceMap::new();
        let mut diags = Vec::new();
        let id = map.add("k.conf", text);
        let mut p = Pre::new(&mut loader, &mut map, &mut diags, opts);
        p.plain_lines = plain_lines;
        p.run_file(id, PathBuf::from("k.conf"));
        let out = std::mem::take(&mut p.out);
        (out, diags)
    }

    /// The fast path gives exactly the tokens, line ends, budget and diagnostics of the general
    /// path, on the lines it takes and next to the ones it leaves.
    #[test]
    fn plain_lines_as_the_general_path() {
        let texts = [
            "virtual_server 192.0.2.1 80 {\n  lb_kind DR\n  real_server 198.51.100.1 80 {\n weight 2 }\n}\n",
            "a{b}c\n}{\n{}\n x {y}\n{\n}}}\n",
            "a\x0cb {\n\x0c c\x0c\n\x0bd\x0be\n}",
            "x\r\ny\rz\r\r\n  \r\n",
            "!c\ng { # x\n r a!b\n r a#b \"q#\n}\n",
            "  @main g {\n @^main x\n@\n}\n\t~SEQ(i,1,3) v 192.0.2.$i {\n}\n",
            "include\tfoo\nincludex y\n include\n{ include x\n}\n",
            "g {\n r \u{e9}\n\u{a0}r x\u{2003}y\n r a\x01b\n r a\\b\n ~x @y\n}\n",
            "$A=1\n$B= \\\n v 192.0.2.1 $A {\\\n }\n$B\nv 2 {\n}\n",
            "",
            "   \n\t\n\n",
            "last line",
        ];
        for text in texts {
            for opts in [Options::default(), Options::default().config_id("main")] {
                assert_eq!(run(text, &opts, true), run(text, &opts, false), "{text:?}");
            }
        }
        // the expansion budget runs out on the same line, with the same diagnostic
        let big: String = (0..600)
            .map(|i| format!("v 192.0.2.1 {i} {{\n k DR\n}}\n"))
            .collect();
        let small = Options::default().limits(Limits::small());
        let (items, diags) = run(&big, &small, true);
        assert_eq!(diags.len(), 1);
        assert_eq!((items, diags), run(&big, &small, false));
    }
}
