//! Block tree: statements (`keyword args... [{ ... }]`) built from the preprocessed lines.

use crate::diag::{Code, Diagnostic, Severity};
use crate::pre::{Token, TokenKind};
use crate::source::{SourceMap, Span};

/// One statement: a keyword, its arguments on the same line, and an optional block. Its texts
/// borrow from the parsed sources (or from the preprocessor's text of quoted and expanded words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    /// The first word of the statement.
    pub keyword: Token<'a>,
    /// The words after it on the same logical line (before any `{`).
    pub args: Vec<Token<'a>>,
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

/// The top-level statements, built one at a time from the preprocessed tokens (a large file's
/// whole tree is never held: each statement is dropped once the model has used it). Words borrow
/// their text from `sources` or from `text` ([`Items::take_text`]).
pub(crate) struct Parser<'a, 'd> {
    items: Items,
    sources: &'a SourceMap,
    text: &'a str,
    pos: usize,
    /// Chunks before this one are freed (the cursor never moves back).
    freed: usize,
    diags: &'d mut Vec<Diagnostic>,
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

    /// The token at the cursor.
    fn peek(&self) -> Option<Token<'a>> {
        self.items.get(self.pos).map(|t| self.token(t))
    }

    /// How many statements at the top level start with `keyword` (a capacity hint: stray
    /// braces are counted as blocks).
    pub(crate) fn count_top(&self, keyword: &str) -> usize {
        let mut depth = 0usize;
        let mut n = 0;
        let mut line_start = true;
        for (i, t) in self.items.chunks.iter().flatten().enumerate() {
            match t.kind {
                TokenKind::Open => depth += 1,
                TokenKind::Close => depth = depth.saturating_sub(1),
                TokenKind::Word => {
                    if depth == 0 && line_start && self.token(t).text == keyword {
                        n += 1;
                    }
                }
            }
            line_start = self.items.eol_after(i);
        }
        n
    }

    /// Frees the chunks the cursor has left.
    fn release(&mut self) {
        let c = (self.pos / CHUNK).min(self.items.chunks.len());
        while self.freed < c {
            self.items.chunks[self.freed] = Vec::new();
            self.freed += 1;
        }
    }

    /// Parses statements until the matching `}` (when `open` is Some) or the end.
    /// Returns the span of the closing brace.
    fn block_items(
        &mut self,
        open: Option<Span>,
        out: &mut Vec<Node<'a>>,
        depth: usize,
    ) -> Option<Span> {
        loop {
            match self.item(open, depth) {
                Item::Node(n) => out.push(n),
                Item::Close(c) => return c,
            }
        }
    }

    /// The next statement of a block (or of the top level when `open` is None), or the end of
    /// the block (`Close(None)` when the tokens ran out).
    fn item(&mut self, open: Option<Span>, depth: usize) -> Item<'a> {
        loop {
            self.release();
            let Some(t) = self.peek() else {
                if let Some(o) = open {
                    self.diags.push(
                        Diagnostic::new(
                            Severity::Error,
                            Code::UnclosedBlock,
                            Some(o),
                            "block is never closed",
                        )
                        .label("this `{` has no matching `}`")
                        .help("add `}` at the end of the block"),
                    );
                }
                return Item::Close(None);
            };
            self.pos += 1;
            match t.kind {
                TokenKind::Close => {
                    if open.is_some() {
                        return Item::Close(Some(t.span));
                    }
                    self.diags.push(
                        Diagnostic::new(
                            Severity::Error,
                            Code::UnexpectedCloseBrace,
                            Some(t.span),
                            "unexpected `}`",
                        )
                        .label("no block is open here")
                        .help("remove this `}` or the extra one above it"),
                    );
                }
                TokenKind::Open => {
                    self.diags.push(
                        Diagnostic::new(
                            Severity::Error,
                            Code::UnexpectedOpenBrace,
                            Some(t.span),
                            "unexpected `{`",
                        )
                        .label("no keyword opens this block")
                        .help("put the `{` on the line of the keyword it belongs to"),
                    );
                    // skip the stray block so its contents do not leak into this level
                    let mut junk = Vec::new();
                    self.block_items(Some(t.span), &mut junk, depth + 1);
                }
                TokenKind::Word => return Item::Node(self.statement(t, depth)),
            }
        }
    }

    /// The statement of `keyword` (just taken, at `self.pos - 1`).
    fn statement(&mut self, keyword: Token<'a>, depth: usize) -> Node<'a> {
        // exact size: the tree of a large file holds many small argument lists
        let mut n = 0;
        while !self.items.eol_after(self.pos + n - 1)
            && self
                .items
                .get(self.pos + n)
                .is_some_and(|t| t.kind == TokenKind::Word)
        {
            n += 1;
        }
        let mut args = Vec::with_capacity(n);
        loop {
            if self.items.eol_after(self.pos - 1) {
                // `keyword` on one line, `{` alone at the start of the next
                if let Some(t) = self.items.get(self.pos) {
                    if t.kind == TokenKind::Open {
                        let open = t.span;
                        self.pos += 1;
                        return Node {
                            keyword,
                            args,
                            block: Some(self.sub_block(open, depth)),
                        };
                    }
                }
                return Node {
                    keyword,
                    args,
                    block: None,
                };
            }
            match self.items.get(self.pos) {
                Some(t) if t.kind == TokenKind::Word => {
                    args.push(self.token(t));
                    self.pos += 1;
                }
                Some(t) if t.kind == TokenKind::Open => {
                    let open = t.span;
                    self.pos += 1;
                    return Node {
                        keyword,
                        args,
                        block: Some(self.sub_block(open, depth)),
                    };
                }
                _ => {
                    return Node {
                        keyword,
                        args,
                        block: None,
                    };
                }
            }
        }
    }

    fn sub_block(&mut self, open: Span, depth: usize) -> Block<'a> {
        let mut items = Vec::new();
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
            while let Some(t) = self.items.get(self.pos) {
                self.pos += 1;
                match t.kind {
                    TokenKind::Open => level += 1,
                    TokenKind::Close => {
                        level -= 1;
                        if level == 0 {
                            return Block {
                                open,
                                close: Some(t.span),
                                items,
                            };
                        }
                    }
                    TokenKind::Word => {}
                }
            }
            return Block {
                open,
                close: None,
                items,
            };
        }
        let close = self.block_items(Some(open), &mut items, depth + 1);
        // most blocks are small: give back the growth slack
        items.shrink_to_fit();
        Block { open, close, items }
    }
}

/// What [`Parser::item`] found.
enum Item<'a> {
    Node(Node<'a>),
    Close(Option<Span>),
}

impl<'a> Iterator for Parser<'a, '_> {
    type Item = Node<'a>;

    /// The next top-level statement.
    fn next(&mut self) -> Option<Node<'a>> {
        match self.item(None, 0) {
            Item::Node(n) => Some(n),
            Item::Close(_) => None,
        }
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
        let nodes: Vec<_> = parser(items, &map, &mut t, &mut d).collect();
        assert!(d.is_empty());
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].kw(), "ab");
        assert_eq!(nodes[0].args[0].text, "x y");
        assert!(nodes[0].args[0].quoted);
        assert_eq!(nodes[0].block.as_ref().unwrap().close, Some(sp(9, 10)));
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
        assert_eq!(p.count_top("1"), 2);
        let nodes: Vec<_> = p.collect();
        assert!(diags.is_empty());
        assert_eq!(nodes.len(), n + 2);
        for (s, node) in nodes[..n].iter().enumerate() {
            assert_eq!(node.kw(), s.to_string());
            assert_eq!(node.args.len(), 1);
            assert_eq!(node.args[0].text, (s + 1).to_string());
            let b = node.block.as_ref().expect("block");
            assert!(b.items.is_empty());
            assert!(b.close.is_some());
        }
        assert!(nodes[n].args.is_empty() && nodes[n].block.is_none());
        assert_eq!(nodes[n + 1].kw(), "2");
    }
}
