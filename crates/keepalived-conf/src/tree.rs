//! Block tree: statements (`keyword args... [{ ... }]`) built from the preprocessed lines.

use crate::diag::{Code, Diagnostic, Severity};
use crate::pre::{Token, TokenKind};
use crate::source::{SourceMap, Span};

/// One statement: a keyword, its arguments on the same line, and an optional block. Its texts
/// borrow from the parsed sources (or from the preprocessor's text of quoted and expanded
/// words), its arguments from the tokens of its top-level statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    /// The first word of the statement.
    pub keyword: Token<'a>,
    /// The words after it on the same logical line (before any `{`).
    pub args: &'a [Token<'a>],
    /// The `{ ... }` block, if any.
    pub block: Option<Block<'a>>,
}

/// A `{ ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    /// Span of the `{`.
    pub open: Span,
    /// Span of the `}` (None when the file ended first).
    pub close: Option<Span>,
    /// Statements inside.
    pub items: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    /// Span of the keyword.
    pub fn span(&self) -> Span {
        self.keyword.span
    }
    /// The keyword text.
    pub fn kw(&self) -> &'a str {
        self.keyword.text
    }
    /// Span from the keyword to the last argument.
    pub fn line_span(&self) -> Span {
        let mut s = self.keyword.span;
        if let Some(l) = self.args.last() {
            if l.span.file == s.file && l.span.end >= s.start {
                s.end = s.end.max(l.span.end);
            }
        }
        s
    }
}

/// Tokens per chunk of [`Items`].
const CHUNK: usize = 4096;

/// `RawToken::at` of a token whose text is its span's source text (or empty, for a brace).
const IN_SOURCE: u32 = u32::MAX;

/// A token as the preprocessor stores it: no text of its own. A word read straight from a file
/// is its span's text; any other word (quoted, escaped, expanded) is a range of [`Items::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RawToken {
    span: Span,
    /// Start of the text in [`Items::text`], or [`IN_SOURCE`].
    at: u32,
    len: u32,
    kind: TokenKind,
    quoted: bool,
}

/// The preprocessor's output: the tokens of every logical line in one list, with a bit per token
/// that marks the last token of a line. Kept in fixed-size chunks: the tree builder frees each
/// chunk once it has moved past it, so a large file's token list and its model are not both held
/// whole.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Items {
    chunks: Vec<Vec<RawToken>>,
    /// Bit `i`: a line ends after token `i`.
    eol: Vec<u64>,
    len: usize,
    /// Texts of the words that are not a slice of their file, one after the other.
    text: String,
}

impl Items {
    #[inline]
    fn push(&mut self, t: RawToken) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(t),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(t);
                self.chunks.push(c);
            }
        }
        if self.len % 64 == 0 {
            self.eol.push(0);
        }
        self.len += 1;
    }

    /// Adds a brace.
    pub(crate) fn push_brace(&mut self, kind: TokenKind, span: Span) {
        self.push(RawToken {
            span,
            at: IN_SOURCE,
            len: 0,
            kind,
            quoted: false,
        });
    }

    /// Adds an unquoted word whose text is exactly its span's text in its file.
    pub(crate) fn push_source_word(&mut self, span: Span) {
        self.push(RawToken {
            span,
            at: IN_SOURCE,
            len: 0,
            kind: TokenKind::Word,
            quoted: false,
        });
    }

    /// Adds a word with its own text.
    pub(crate) fn push_word(&mut self, text: &str, quoted: bool, span: Span) {
        let at = u32::try_from(self.text.len()).unwrap_or(IN_SOURCE - 1);
        self.text.push_str(text);
        self.push(RawToken {
            span,
            at,
            len: text.len() as u32,
            kind: TokenKind::Word,
            quoted,
        });
    }

    /// Ends the current line (after the last token pushed; nothing when there is none).
    pub(crate) fn end_line(&mut self) {
        if let Some(i) = self.len.checked_sub(1) {
            self.eol[i / 64] |= 1 << (i % 64);
        }
    }

    /// Whether a line ends after token `i`.
    fn eol_after(&self, i: usize) -> bool {
        self.eol
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, i: usize) -> Option<&RawToken> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    /// Span of token `i`.
    pub(crate) fn span(&self, i: usize) -> Option<Span> {
        self.get(i).map(|t| t.span)
    }

    /// A mark to [`Self::truncate`] back to.
    pub(crate) fn mark(&self) -> (usize, usize) {
        (self.len, self.text.len())
    }

    /// Keeps what was there at `mark`.
    pub(crate) fn truncate(&mut self, mark: (usize, usize)) {
        let (n, text) = mark;
        self.text.truncate(text);
        if n >= self.len {
            return;
        }
        self.chunks.truncate(n.div_ceil(CHUNK));
        if let Some(c) = self.chunks.last_mut() {
            c.truncate(n - (n - 1) / CHUNK * CHUNK);
        }
        self.eol.truncate(n.div_ceil(64));
        if n % 64 != 0 {
            if let Some(w) = self.eol.last_mut() {
                *w &= (1u64 << (n % 64)) - 1;
            }
        }
        self.len = n;
    }

    /// Moves the words' texts out (the tree borrows them while it frees the tokens).
    pub(crate) fn take_text(&mut self) -> String {
        std::mem::take(&mut self.text)
    }
}

/// Builds the top-level statements one at a time from the preprocessed tokens (a large file's
/// whole tree is never held: each statement is dropped once the model has used it). Words
/// borrow their text from `sources` or from `text` ([`Items::take_text`]).
pub(crate) struct Parser<'a, 'd> {
    items: Items,
    sources: &'a SourceMap,
    text: &'a str,
    pos: usize,
    /// Chunks before this one are freed (the cursor never moves back).
    freed: usize,
    diags: &'d mut Vec<Diagnostic>,
}

/// The tokens of one top-level statement, with their texts: `toks[i]` is token `base + i`.
#[derive(Clone, Copy)]
struct Toks<'t> {
    toks: &'t [Token<'t>],
    base: usize,
}

impl<'t> Toks<'t> {
    fn get(&self, i: usize) -> Option<&'t Token<'t>> {
        self.toks.get(i.checked_sub(self.base)?)
    }
}

const MAX_NESTING: usize = 64;

impl<'a, 'd> Parser<'a, 'd> {
    pub(crate) fn new(
        items: Items,
        sources: &'a SourceMap,
        text: &'a str,
        diags: &'d mut Vec<Diagnostic>,
    ) -> Self {
        Self {
            items,
            sources,
            text,
            pos: 0,
            freed: 0,
            diags,
        }
    }

    /// The token `t` with its text.
    fn token(&self, t: &RawToken) -> Token<'a> {
        let text = if t.at != IN_SOURCE {
            let a = t.at as usize;
            self.text.get(a..a + t.len as usize).unwrap_or_default()
        } else if t.kind == TokenKind::Word {
            let f = &self.sources.file(t.span.file).text;
            f.get(t.span.start as usize..t.span.end as usize)
                .unwrap_or_default()
        } else {
            ""
        };
        Token {
            text,
            kind: t.kind,
            quoted: t.quoted,
            span: t.span,
        }
    }

    fn kind(&self, i: usize) -> Option<TokenKind> {
        self.items.get(i).map(|t| t.kind)
    }

    /// Frees the chunks before token `end`.
    fn release(&mut self, end: usize) {
        let c = (end / CHUNK).min(self.items.chunks.len());
        while self.freed < c {
            self.items.chunks[self.freed] = Vec::new();
            self.freed += 1;
        }
    }

    /// The next top-level statement; its tokens are kept in `buf`.
    pub(crate) fn next_statement<'t>(&mut self, buf: &'t mut Vec<Token<'a>>) -> Option<Node<'t>>
    where
        'a: 't,
    {
        loop {
            match self.kind(self.pos)? {
                TokenKind::Close => {
                    let span = self.items.get(self.pos)?.span;
                    self.pos += 1;
                    self.unexpected_close(span);
                }
                TokenKind::Open => {
                    let base = self.fill(buf);
                    let toks = Toks { toks: buf, base };
                    let t = toks.get(self.pos)?;
                    self.pos += 1;
                    // the tokens of a stray block make no statement
                    self.stray_block(toks, &mut Vec::new(), t.span, 0);
                }
                TokenKind::Word => break,
            }
        }
        let base = self.fill(buf);
        let buf: &'t Vec<Token<'a>> = buf;
        let toks = Toks { toks: buf, base };
        let t = toks.get(self.pos)?;
        self.pos += 1;
        // statements of the blocks being built (each block takes its own off the end); room
        // for a usual block and a nested one, so it rarely grows
        let mut stack = Vec::with_capacity(16);
        Some(self.statement(toks, &mut stack, *t, 0))
    }

    /// Puts the tokens of the item at the cursor (a word or a `{`), with their texts, in
    /// `buf`, and frees the chunks before its end; returns the index of its first token. The
    /// item ends after the keyword's arguments, or after the `}` matching its block's `{` (at
    /// the end of the tokens when there is none): the tree built from these tokens never looks
    /// further.
    fn fill(&mut self, buf: &mut Vec<Token<'a>>) -> usize {
        let start = self.pos;
        buf.clear();
        // the file of the last word read from a file: most words come from the same one
        let mut file = None;
        // within the keyword's line (its arguments) until the block's `{`
        let mut args = self.kind(start) == Some(TokenKind::Word);
        let mut depth = 0usize;
        let mut i = start;
        'chunks: while let Some(chunk) = self.items.chunks.get(i / CHUNK) {
            let from = i % CHUNK;
            if from >= chunk.len() {
                break;
            }
            for t in &chunk[from..] {
                if args && i > start {
                    if t.kind == TokenKind::Open {
                        args = false;
                    } else if t.kind != TokenKind::Word || self.items.eol_after(i - 1) {
                        break 'chunks;
                    }
                }
                buf.push(if t.at == IN_SOURCE && t.kind == TokenKind::Word {
                    let text = match file {
                        Some((id, text)) if id == t.span.file => text,
                        _ => {
                            let text = self.sources.file(t.span.file).text.as_str();
                            file = Some((t.span.file, text));
                            text
                        }
                    };
                    Token {
                        text: text
                            .get(t.span.start as usize..t.span.end as usize)
                            .unwrap_or_default(),
                        kind: t.kind,
                        quoted: t.quoted,
                        span: t.span,
                    }
                } else {
                    self.token(t)
                });
                i += 1;
                if !args {
                    match t.kind {
                        TokenKind::Open => depth += 1,
                        TokenKind::Close => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break 'chunks;
                            }
                        }
                        TokenKind::Word => {}
                    }
                }
            }
        }
        self.release(i);
        start
    }

    fn unexpected_close(&mut self, span: Span) {
        self.diags.push(
            Diagnostic::new(
                Severity::Error,
                Code::UnexpectedCloseBrace,
                Some(span),
                "unexpected `}`",
            )
            .label("no block is open here")
            .help("remove this `}` or the extra one above it"),
        );
    }

    /// A `{` where a statement should start: reported, and its block skipped so its contents
    /// do not leak into this level.
    fn stray_block<'t>(
        &mut self,
        toks: Toks<'t>,
        stack: &mut Vec<Node<'t>>,
        open: Span,
        depth: usize,
    ) {
        self.diags.push(
            Diagnostic::new(
                Severity::Error,
                Code::UnexpectedOpenBrace,
                Some(open),
                "unexpected `{`",
            )
            .label("no keyword opens this block")
            .help("put the `{` on the line of the keyword it belongs to"),
        );
        // parsed like a keyword's block, nesting limit included (stray braces nested without
        // end must not exhaust the stack), then dropped
        self.sub_block(toks, stack, open, depth);
    }

    /// Parses the statements of a block (pushed on `stack`) until its `}` (returned) or the
    /// end.
    fn block_items<'t>(
        &mut self,
        toks: Toks<'t>,
        stack: &mut Vec<Node<'t>>,
        open: Span,
        depth: usize,
    ) -> Option<Span> {
        loop {
            let Some(t) = toks.get(self.pos) else {
                self.diags.push(
                    Diagnostic::new(
                        Severity::Error,
                        Code::UnclosedBlock,
                        Some(open),
                        "block is never closed",
                    )
                    .label("this `{` has no matching `}`")
                    .help("add `}` at the end of the block"),
                );
                return None;
            };
            self.pos += 1;
            match t.kind {
                TokenKind::Close => return Some(t.span),
                TokenKind::Open => self.stray_block(toks, stack, t.span, depth),
                TokenKind::Word => {
                    let n = self.statement(toks, stack, *t, depth);
                    stack.push(n);
                }
            }
        }
    }

    /// The statement of `keyword` (just taken, at `self.pos - 1`).
    fn statement<'t>(
        &mut self,
        toks: Toks<'t>,
        stack: &mut Vec<Node<'t>>,
        keyword: Token<'t>,
        depth: usize,
    ) -> Node<'t> {
        let first = self.pos;
        while !self.items.eol_after(self.pos - 1)
            && toks
                .get(self.pos)
                .is_some_and(|t| t.kind == TokenKind::Word)
        {
            self.pos += 1;
        }
        let args = &toks.toks[first - toks.base..self.pos - toks.base];
        // after the arguments (on the same line, or at the start of the next): its block
        let block = match toks.get(self.pos) {
            Some(t) if t.kind == TokenKind::Open => {
                self.pos += 1;
                Some(self.sub_block(toks, stack, t.span, depth))
            }
            _ => None,
        };
        Node {
            keyword,
            args,
            block,
        }
    }

    fn sub_block<'t>(
        &mut self,
        toks: Toks<'t>,
        stack: &mut Vec<Node<'t>>,
        open: Span,
        depth: usize,
    ) -> Block<'t> {
        if depth >= MAX_NESTING {
            self.diags.push(
                Diagnostic::new(
                    Severity::Error,
                    Code::ExpansionLimit,
                    Some(open),
                    "blocks nested too deeply",
                )
                .label(format!("more than {MAX_NESTING} levels")),
            );
            // skip to the matching close without recursion
            let mut level = 1usize;
            while let Some(t) = toks.get(self.pos) {
                self.pos += 1;
                match t.kind {
                    TokenKind::Open => level += 1,
                    TokenKind::Close => {
                        level -= 1;
                        if level == 0 {
                            return Block {
                                open,
                                close: Some(t.span),
                                items: Vec::new(),
                            };
                        }
                    }
                    TokenKind::Word => {}
                }
            }
            return Block {
                open,
                close: None,
                items: Vec::new(),
            };
        }
        let mark = stack.len();
        let close = self.block_items(toks, stack, open, depth + 1);
        // one allocation of the exact size per block
        let items = stack.drain(mark..).collect();
        Block { open, close, items }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn span(at: usize) -> Span {
        Span {
            file: FileId(0),
            start: at as u32,
            end: at as u32 + 1,
        }
    }

    fn word(items: &mut Items, i: usize) {
        items.push_word(&i.to_string(), false, span(i));
    }

    fn text<'a>(p: &Parser<'a, '_>, i: usize) -> Option<&'a str> {
        p.items.get(i).map(|t| p.token(t).text)
    }

    fn parser<'a, 'd>(
        mut items: Items,
        map: &'a SourceMap,
        text: &'a mut String,
        diags: &'d mut Vec<Diagnostic>,
    ) -> Parser<'a, 'd> {
        *text = items.take_text();
        Parser::new(items, map, text, diags)
    }

    /// A statement without borrows: keyword, arguments (text, quoted), block (close, size).
    type Owned = (String, Vec<(String, bool)>, Option<(Option<Span>, usize)>);

    fn collect(mut p: Parser<'_, '_>) -> Vec<Owned> {
        let mut buf = Vec::new();
        let mut v = Vec::new();
        while let Some(n) = p.next_statement(&mut buf) {
            v.push((
                n.kw().to_string(),
                n.args
                    .iter()
                    .map(|a| (a.text.to_string(), a.quoted))
                    .collect(),
                n.block.as_ref().map(|b| (b.close, b.items.len())),
            ));
        }
        v
    }

    #[test]
    fn items_truncate_across_chunks() {
        let mut items = Items::default();
        let mut marks = Vec::new();
        for i in 0..2 * CHUNK + 5 {
            marks.push(items.mark());
            word(&mut items, i);
            items.end_line();
        }
        assert_eq!(items.len(), 2 * CHUNK + 5);
        items.truncate(marks[2 * CHUNK]);
        assert_eq!(items.len(), 2 * CHUNK);
        assert!(items.get(2 * CHUNK).is_none());
        assert!(!items.eol_after(2 * CHUNK));
        assert_eq!(items.chunks.len(), 2);
        items.truncate(marks[CHUNK + 1]);
        assert!(items.eol_after(CHUNK));
        assert!(items.get(CHUNK + 1).is_none());
        // a line end cut off by truncate does not come back with the next token
        items.push_word("7", false, span(7));
        assert!(!items.eol_after(CHUNK + 1));
        let map = SourceMap::new();
        let (mut t, mut d) = (String::new(), Vec::new());
        let p = parser(items, &map, &mut t, &mut d);
        assert_eq!(text(&p, CHUNK), Some(CHUNK.to_string().as_str()));
        assert_eq!(text(&p, CHUNK + 1), Some("7"));
        let mut items = p.items;
        items.truncate((0, 0));
        assert_eq!(items.len(), 0);
        assert!(items.get(0).is_none());
        assert!(!items.eol_after(0));
    }

    /// Words read straight from a file take their text from the file.
    #[test]
    fn source_words() {
        let mut map = SourceMap::new();
        let f = map.add("k.conf", "ab  cd {\n}\n");
        let sp = |a: u32, b: u32| Span {
            file: f,
            start: a,
            end: b,
        };
        let mut items = Items::default();
        items.push_source_word(sp(0, 2));
        items.push_word("x y", true, sp(4, 6));
        items.push_brace(TokenKind::Open, sp(7, 8));
        items.end_line();
        items.push_brace(TokenKind::Close, sp(9, 10));
        items.end_line();
        let (mut t, mut d) = (String::new(), Vec::new());
        let nodes = collect(parser(items, &map, &mut t, &mut d));
        assert!(d.is_empty());
        assert_eq!(
            nodes,
            vec![(
                "ab".to_string(),
                vec![("x y".to_string(), true)],
                Some((Some(sp(9, 10)), 0))
            )]
        );
    }

    /// Stray `{` nested without end (a `~SEQ` can make millions) stop at the nesting limit
    /// instead of exhausting the stack.
    #[test]
    fn stray_braces_nested_deeply() {
        let mut items = Items::default();
        let n = 200_000;
        for i in 0..n {
            items.push_brace(TokenKind::Open, span(i));
            items.end_line();
        }
        word(&mut items, 1);
        items.end_line();
        let map = SourceMap::new();
        let (mut t, mut diags) = (String::new(), Vec::new());
        let nodes = collect(parser(items, &map, &mut t, &mut diags));
        assert!(nodes.is_empty());
        let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
        // one `{` per level up to the limit, the limit, then the unclosed blocks
        assert_eq!(
            codes[..=MAX_NESTING],
            [Code::UnexpectedOpenBrace; MAX_NESTING + 1]
        );
        assert_eq!(codes[MAX_NESTING + 1], Code::ExpansionLimit);
        assert_eq!(codes.len(), 2 * MAX_NESTING + 2);
        assert!(
            codes[MAX_NESTING + 2..]
                .iter()
                .all(|&c| c == Code::UnclosedBlock)
        );
    }

    /// Statements whose arguments and blocks straddle chunk boundaries (and chunks freed
    /// behind the cursor) give the same tree; `{` alone on the next line opens the block.
    #[test]
    fn statements_across_chunks() {
        let mut items = Items::default();
        let n = 3 * CHUNK / 4;
        for s in 0..n {
            // `s s+1 {` `}` or `s s+1` `{` `}` (brace on its own line)
            word(&mut items, s);
            word(&mut items, s + 1);
            if s % 2 == 1 {
                items.end_line();
            }
            items.push_brace(TokenKind::Open, span(s));
            items.end_line();
            items.push_brace(TokenKind::Close, span(s));
            items.end_line();
        }
        // a keyword, its argument on the next line is a statement of its own
        word(&mut items, 1);
        items.end_line();
        word(&mut items, 2);
        items.end_line();
        let map = SourceMap::new();
        let (mut t, mut diags) = (String::new(), Vec::new());
        let p = parser(items, &map, &mut t, &mut diags);
        let nodes = collect(p);
        assert!(diags.is_empty());
        assert_eq!(nodes.len(), n + 2);
        for (s, node) in nodes[..n].iter().enumerate() {
            assert_eq!(node.0, s.to_string());
            assert_eq!(node.1, vec![((s + 1).to_string(), false)]);
            assert_eq!(node.2, Some((Some(span(s)), 0)));
        }
        assert_eq!(nodes[n], ("1".to_string(), vec![], None));
        assert_eq!(nodes[n + 1], ("2".to_string(), vec![], None));
    }
}
