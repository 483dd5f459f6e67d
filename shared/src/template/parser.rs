//! Go's text/template parser for pipelines, without control structures.

use std::ops::Range;

use super::error::{TemplateError, syntax, unsupported};
use super::funcs::{Func, lookup};
use super::lexer::{Tok, Token, lex};

pub(super) enum Item {
    Text(Range<usize>),
    Action(Pipeline),
}

pub(super) struct Pipeline {
    pub(super) cmds: Vec<Command>,
}

pub(super) struct Command {
    pub(super) args: Vec<Node>,
}

pub(super) struct Node {
    pub(super) pos: usize,
    pub(super) kind: NodeKind,
}

pub(super) enum NodeKind {
    Dot,
    Nil,
    Bool(bool),
    Int(i64),
    Str(Vec<u8>),
    /// `.a.b`: fields of the dot.
    Field(Vec<String>),
    /// `$` or `$.a.b`.
    Root(Vec<String>),
    Func(&'static Func),
    Pipe(Pipeline),
    /// `(pipeline).a.b` or `func.a`.
    Chain(Box<Node>, Vec<String>),
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
}

pub(super) fn parse(src: &str) -> Result<Vec<Item>, TemplateError> {
    let mut parser = Parser {
        toks: lex(src)?,
        i: 0,
    };
    let mut items = Vec::new();
    loop {
        let t = parser.next();
        match t.tok {
            Tok::Text(range) => items.push(Item::Text(range)),
            Tok::LeftDelim => items.push(parser.action()?),
            Tok::Eof => return Ok(items),
            other => return Err(syntax(t.pos, format!("unexpected {}", other.describe()))),
        }
    }
}

impl Parser {
    fn next(&mut self) -> Token {
        let eof = || Token {
            tok: Tok::Eof,
            pos: 0,
        };
        let t = self.toks.get(self.i).cloned().unwrap_or_else(eof);
        self.i += 1;
        t
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.tok != Tok::Space {
                return t;
            }
        }
    }

    fn action(&mut self) -> Result<Item, TemplateError> {
        let t = self.next_non_space();
        if let Tok::Keyword(keyword) = t.tok {
            return Err(TemplateError::UnsupportedAction {
                keyword: keyword.into(),
                offset: t.pos,
            });
        }
        self.backup();
        Ok(Item::Action(self.pipeline(true, t.pos)?))
    }

    /// A pipeline ending in `}}` (`top`) or `)`.
    fn pipeline(&mut self, top: bool, pos: usize) -> Result<Pipeline, TemplateError> {
        let mut cmds: Vec<Command> = Vec::new();
        loop {
            let t = self.next_non_space();
            match &t.tok {
                Tok::RightDelim if top => break,
                Tok::RightParen if !top => break,
                Tok::Bool(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Int(_)
                | Tok::Nil
                | Tok::Str(_)
                | Tok::Root
                | Tok::LeftParen => {
                    self.backup();
                    cmds.push(self.command()?);
                }
                Tok::Assign => {
                    return Err(unsupported(t.pos, "variable declaration or assignment"));
                }
                other => {
                    return Err(syntax(
                        t.pos,
                        format!("unexpected {} in pipeline", other.describe()),
                    ));
                }
            }
        }
        if cmds.is_empty() {
            let what = if top {
                "command"
            } else {
                "parenthesized pipeline"
            };
            return Err(syntax(pos, format!("missing value for {what}")));
        }
        for (i, cmd) in cmds.iter().enumerate().skip(1) {
            if let Some(first) = cmd.args.first()
                && matches!(
                    first.kind,
                    NodeKind::Bool(_)
                        | NodeKind::Dot
                        | NodeKind::Nil
                        | NodeKind::Int(_)
                        | NodeKind::Str(_)
                )
            {
                let reason = format!("non executable command in pipeline stage {}", i + 1);
                return Err(syntax(first.pos, reason));
            }
        }
        Ok(Pipeline { cmds })
    }

    fn command(&mut self) -> Result<Command, TemplateError> {
        let mut args = Vec::new();
        let pos = self.toks.get(self.i).map_or(0, |t| t.pos);
        loop {
            if let Some(node) = self.operand()? {
                args.push(node);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => {
                    self.backup();
                    break;
                }
                Tok::Pipe => break,
                Tok::Assign => {
                    return Err(unsupported(t.pos, "variable declaration or assignment"));
                }
                other => {
                    return Err(syntax(
                        t.pos,
                        format!("unexpected {} in operand", other.describe()),
                    ));
                }
            }
        }
        if args.is_empty() {
            return Err(syntax(pos, "empty command"));
        }
        Ok(Command { args })
    }

    fn operand(&mut self) -> Result<Option<Node>, TemplateError> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        let mut names = Vec::new();
        while let Some(Token {
            tok: Tok::Field(name),
            ..
        }) = self.toks.get(self.i)
        {
            names.push(name.clone());
            self.i += 1;
        }
        if names.is_empty() {
            return Ok(Some(node));
        }
        let pos = node.pos;
        let kind = match node.kind {
            NodeKind::Field(mut base) => {
                base.extend(names);
                NodeKind::Field(base)
            }
            NodeKind::Root(mut base) => {
                base.extend(names);
                NodeKind::Root(base)
            }
            NodeKind::Bool(_)
            | NodeKind::Str(_)
            | NodeKind::Int(_)
            | NodeKind::Nil
            | NodeKind::Dot => {
                return Err(syntax(pos, "unexpected . after term"));
            }
            kind => NodeKind::Chain(Box::new(Node { pos, kind }), names),
        };
        Ok(Some(Node { pos, kind }))
    }

    fn term(&mut self) -> Result<Option<Node>, TemplateError> {
        let t = self.next_non_space();
        let kind = match t.tok {
            Tok::Ident(name) => NodeKind::Func(lookup(&name, t.pos)?),
            Tok::Dot => NodeKind::Dot,
            Tok::Nil => NodeKind::Nil,
            Tok::Root => NodeKind::Root(Vec::new()),
            Tok::Field(name) => NodeKind::Field(vec![name]),
            Tok::Bool(b) => NodeKind::Bool(b),
            Tok::Int(i) => NodeKind::Int(i),
            Tok::Str(s) => NodeKind::Str(s),
            Tok::LeftParen => NodeKind::Pipe(self.pipeline(false, t.pos)?),
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(Node { pos: t.pos, kind }))
    }
}
