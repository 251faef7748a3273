//! Block tree: statements (`keyword args... [{ ... }]`) built from the preprocessed lines.

use crate::diag::{Code, Diagnostic, Severity};
use crate::pre::{Token, TokenKind};
use crate::source::Span;

/// One statement: a keyword, its arguments on the same line, and an optional block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The first word of the statement.
    pub keyword: Token,
    /// The words after it on the same logical line (before any `{`).
    pub args: Vec<Token>,
    /// The `{ ... }` block, if any.
    pub block: Option<Block>,
}

/// A `{ ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Span of the `{`.
    pub open: Span,
    /// Span of the `}` (None when the file ended first).
    pub close: Option<Span>,
    /// Statements inside.
    pub items: Vec<Node>,
}

impl Node {
    /// Span of the keyword.
    pub fn span(&self) -> Span {
        self.keyword.span
    }
    /// The keyword text.
    pub fn kw(&self) -> &str {
        &self.keyword.text
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

/// The preprocessor's output: the tokens of every logical line in one list, with a bit per token
/// that marks the last token of a line. Kept in fixed-size chunks: the tree builder frees each
/// chunk once it has moved past it, so a large file's token list and its tree are not both held
/// whole.
#[derive(Debug, Default)]
pub(crate) struct Items {
    chunks: Vec<Vec<Token>>,
    /// Bit `i`: a line ends after token `i`.
    eol: Vec<u64>,
    len: usize,
}

impl Items {
    pub(crate) fn push(&mut self, t: Token) {
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

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Token> {
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Token> {
        self.chunks.get_mut(i / CHUNK)?.get_mut(i % CHUNK)
    }

    /// Keeps the first `n` tokens.
    pub(crate) fn truncate(&mut self, n: usize) {
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
}

/// Builds the statement tree from the preprocessed tokens.
pub(crate) fn build(items: Items, diags: &mut Vec<Diagnostic>) -> Vec<Node> {
    let mut p = Parser {
        items,
        pos: 0,
        freed: 0,
        diags,
    };
    let mut out = Vec::new();
    p.block_items(None, &mut out, 0);
    out
}

struct Parser<'d> {
    items: Items,
    pos: usize,
    /// Chunks before this one are freed (the cursor never moves back).
    freed: usize,
    diags: &'d mut Vec<Diagnostic>,
}

const MAX_NESTING: usize = 64;

impl Parser<'_> {
    /// Moves the token at the cursor out of the list (every token is consumed exactly once and
    /// never looked at again, so no copy of its text is needed).
    fn take(&mut self) -> Token {
        let t = self
            .items
            .get_mut(self.pos)
            .expect("take() is only called on a token");
        std::mem::replace(
            t,
            Token {
                text: String::new(),
                kind: TokenKind::Close,
                quoted: false,
                span: t.span,
            },
        )
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
        out: &mut Vec<Node>,
        depth: usize,
    ) -> Option<Span> {
        loop {
            self.release();
            match self.items.get(self.pos) {
                None => {
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
                    return None;
                }
                Some(_) => {
                    let t = self.take();
                    match t.kind {
                        TokenKind::Close => {
                            self.pos += 1;
                            if open.is_some() {
                                return Some(t.span);
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
                            self.pos += 1;
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
                        TokenKind::Word => {
                            self.pos += 1;
                            let node = self.statement(t, depth);
                            out.push(node);
                        }
                    }
                }
            }
        }
    }

    /// The statement of `keyword` (just taken, at `self.pos - 1`).
    fn statement(&mut self, keyword: Token, depth: usize) -> Node {
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
                    args.push(self.take());
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

    fn sub_block(&mut self, open: Span, depth: usize) -> Block {
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
        // most blocks are small: give back the growth slack (the tree of a large file is big)
        items.shrink_to_fit();
        Block { open, close, items }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn tok(text: String, kind: TokenKind, at: usize) -> Token {
        Token {
            text,
            kind,
            quoted: false,
            span: Span {
                file: FileId(0),
                start: at as u32,
                end: at as u32 + 1,
            },
        }
    }

    fn word(i: usize) -> Token {
        tok(i.to_string(), TokenKind::Word, i)
    }

    fn text(t: Option<&Token>) -> Option<&str> {
        t.map(|t| t.text.as_str())
    }

    #[test]
    fn items_truncate_across_chunks() {
        let mut items = Items::default();
        for i in 0..2 * CHUNK + 5 {
            items.push(word(i));
            items.end_line();
        }
        assert_eq!(items.len(), 2 * CHUNK + 5);
        assert_eq!(text(items.get(CHUNK)), Some(CHUNK.to_string().as_str()));
        items.truncate(2 * CHUNK);
        assert_eq!(items.len(), 2 * CHUNK);
        assert!(items.get(2 * CHUNK).is_none());
        assert!(!items.eol_after(2 * CHUNK));
        assert_eq!(items.chunks.len(), 2);
        items.truncate(CHUNK + 1);
        assert_eq!(text(items.get(CHUNK)), Some(CHUNK.to_string().as_str()));
        assert!(items.eol_after(CHUNK));
        assert!(items.get(CHUNK + 1).is_none());
        // a line end cut off by truncate does not come back with the next token
        items.push(word(7));
        assert_eq!(text(items.get(CHUNK + 1)), Some("7"));
        assert!(!items.eol_after(CHUNK + 1));
        items.truncate(0);
        assert_eq!(items.len(), 0);
        assert!(items.get(0).is_none());
        assert!(!items.eol_after(0));
    }

    /// Statements whose arguments and blocks straddle chunk boundaries (and chunks freed
    /// behind the cursor) give the same tree; `{` alone on the next line opens the block.
    #[test]
    fn statements_across_chunks() {
        let mut items = Items::default();
        let n = 3 * CHUNK / 4;
        for s in 0..n {
            // `s s+1 {` `}` or `s s+1` `{` `}` (brace on its own line)
            items.push(word(s));
            items.push(word(s + 1));
            if s % 2 == 1 {
                items.end_line();
            }
            items.push(tok(String::new(), TokenKind::Open, s));
            items.end_line();
            items.push(tok(String::new(), TokenKind::Close, s));
            items.end_line();
        }
        // a keyword, its argument on the next line is a statement of its own
        items.push(word(1));
        items.end_line();
        items.push(word(2));
        items.end_line();
        let mut diags = Vec::new();
        let nodes = build(items, &mut diags);
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
