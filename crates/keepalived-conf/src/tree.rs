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

/// The preprocessor's output: the tokens of every logical line, each line followed by `Eol`
/// (one flat list, so no vector per line).
#[derive(Debug)]
pub(crate) enum Item {
    Tok(Token),
    Eol,
}

/// Builds the statement tree from the preprocessed tokens.
pub(crate) fn build(items: Vec<Item>, diags: &mut Vec<Diagnostic>) -> Vec<Node> {
    let mut p = Parser {
        items,
        pos: 0,
        diags,
    };
    let mut out = Vec::new();
    p.block_items(None, &mut out, 0);
    out
}

struct Parser<'d> {
    items: Vec<Item>,
    pos: usize,
    diags: &'d mut Vec<Diagnostic>,
}

const MAX_NESTING: usize = 64;

impl Parser<'_> {
    /// Moves the token at the cursor out of the list (every token is consumed exactly once, so
    /// no copy of its text is needed); leaves an end-of-line marker in its place.
    fn take(&mut self) -> Token {
        match std::mem::replace(&mut self.items[self.pos], Item::Eol) {
            Item::Tok(t) => t,
            Item::Eol => unreachable!("take() is only called on a token"),
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
                Some(Item::Eol) => self.pos += 1,
                Some(Item::Tok(_)) => {
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

    fn statement(&mut self, keyword: Token, depth: usize) -> Node {
        // exact size: the tree of a large file holds many small argument lists
        let n = self.items[self.pos..]
            .iter()
            .take_while(|it| matches!(it, Item::Tok(t) if t.kind == TokenKind::Word))
            .count();
        let mut args = Vec::with_capacity(n);
        loop {
            match self.items.get(self.pos) {
                Some(Item::Tok(t)) if t.kind == TokenKind::Word => {
                    args.push(self.take());
                    self.pos += 1;
                }
                Some(Item::Tok(t)) if t.kind == TokenKind::Open => {
                    let open = t.span;
                    self.pos += 1;
                    return Node {
                        keyword,
                        args,
                        block: Some(self.sub_block(open, depth)),
                    };
                }
                Some(Item::Eol) => {
                    // `keyword` on one line, `{` alone at the start of the next
                    if let Some(Item::Tok(t)) = self.items.get(self.pos + 1) {
                        if t.kind == TokenKind::Open {
                            let open = t.span;
                            self.pos += 2;
                            return Node {
                                keyword,
                                args,
                                block: Some(self.sub_block(open, depth)),
                            };
                        }
                    }
                    self.pos += 1;
                    return Node {
                        keyword,
                        args,
                        block: None,
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
            while let Some(it) = self.items.get(self.pos) {
                self.pos += 1;
                if let Item::Tok(t) = it {
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
