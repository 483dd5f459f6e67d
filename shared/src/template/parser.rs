//! Go's text/template parser (parse.go): lists of text and actions, control structures,
//! variables and the templates that `define` and `block` name.

use std::collections::BTreeMap;
use std::ops::Range;

use super::error::{MAX_NESTING, TemplateError, syntax};
use super::funcs::{Func, lookup};
use super::lexer::{Num, Tok, Token, lex};

pub(super) enum Node {
    Text(Range<usize>),
    Action(Pipeline),
    If(Control),
    Range(Control),
    With(Control),
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipeline>,
    },
    Break,
    Continue,
}

pub(super) struct Control {
    pub(super) pos: usize,
    pub(super) pipe: Pipeline,
    pub(super) list: Vec<Node>,
    pub(super) else_list: Option<Vec<Node>>,
}

pub(super) struct Pipeline {
    pub(super) pos: usize,
    /// Declared or assigned variables (`$x :=`, `$k, $v :=`, `$x =`).
    pub(super) decl: Vec<String>,
    pub(super) is_assign: bool,
    pub(super) cmds: Vec<Command>,
}

pub(super) struct Command {
    pub(super) args: Vec<Arg>,
}

pub(super) struct Arg {
    pub(super) pos: usize,
    pub(super) kind: ArgKind,
}

pub(super) enum ArgKind {
    Dot,
    Nil,
    Bool(bool),
    Number(Num),
    Str(Vec<u8>),
    /// `.a.b`: fields of the dot.
    Field(Vec<String>),
    /// `$x.a.b` (`$` included).
    Var(String, Vec<String>),
    Func(&'static Func),
    Pipe(Pipeline),
    /// `(pipeline).a.b` or `func.a`.
    Chain(Box<Arg>, Vec<String>),
}

/// A parsed template: the templates it names, and what executing it runs.
pub(super) struct Parsed {
    pub(super) trees: BTreeMap<String, Vec<Node>>,
    /// The list to execute when the template has no name (else `trees[name]`).
    pub(super) root: Option<Vec<Node>>,
}

/// Whether a list holds nothing but space (Go's `IsEmptyTree`).
fn is_empty_tree(list: &[Node], src: &[u8]) -> bool {
    list.iter().all(|n| match n {
        Node::Text(r) => src
            .get(r.clone())
            .unwrap_or_default()
            .trim_ascii()
            .is_empty(),
        _ => false,
    })
}

struct Parser<'s> {
    src: &'s [u8],
    toks: Vec<Token>,
    i: usize,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    trees: BTreeMap<String, Vec<Node>>,
}

/// Parses `src` as the template named `name` (`None`: a name no `template` action can
/// give). Returns every named template.
pub(super) fn parse(src: &str, name: Option<&str>) -> Result<Parsed, TemplateError> {
    let mut p = Parser {
        src: src.as_bytes(),
        toks: lex(src)?,
        i: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        depth: 0,
        trees: BTreeMap::new(),
    };
    let mut root = Vec::new();
    loop {
        let t = p.peek_non_space();
        match t.tok {
            Tok::Eof => break,
            Tok::LeftDelim => {
                let save = p.i;
                p.next_non_space();
                if p.peek_non_space().tok == Tok::Keyword("define") {
                    p.next_non_space();
                    p.definition()?;
                    continue;
                }
                p.i = save;
            }
            _ => {}
        }
        match p.text_or_action()? {
            Item::Node(n) => root.push(n),
            Item::End(pos) => return Err(syntax(pos, "unexpected {{end}}")),
            Item::Else(pos, _) => return Err(syntax(pos, "unexpected {{else}}")),
        }
    }
    let src_bytes = p.src;
    match name {
        Some(name) => {
            p.add(name.to_string(), root, src_bytes)?;
            Ok(Parsed {
                trees: p.trees,
                root: None,
            })
        }
        None => {
            // The main list under a name no action can call: only an empty main list could
            // lose to a definition of the same (unknown) name, so refuse that case.
            if is_empty_tree(&root, src_bytes) && !p.trees.is_empty() {
                return Err(super::error::unsupported(
                    0,
                    "template made only of definitions (rendered without its key name)",
                ));
            }
            Ok(Parsed {
                trees: p.trees,
                root: Some(root),
            })
        }
    }
}

enum Item {
    Node(Node),
    End(usize),
    /// `{{else}}`, and whether `if` or `with` follows it.
    Else(usize, Option<&'static str>),
}

impl Parser<'_> {
    fn next(&mut self) -> Token {
        let t = self.toks.get(self.i).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            pos: self.src.len(),
        });
        self.i += 1;
        t
    }

    fn peek(&self) -> Token {
        self.toks.get(self.i).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            pos: self.src.len(),
        })
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

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn unexpected(t: &Token, context: &str) -> TemplateError {
        syntax(
            t.pos,
            format!("unexpected {} in {context}", t.tok.describe()),
        )
    }

    fn expect_right_delim(&mut self, context: &str) -> Result<(), TemplateError> {
        let t = self.next_non_space();
        if t.tok != Tok::RightDelim {
            return Err(Self::unexpected(&t, context));
        }
        Ok(())
    }

    /// Go's `Tree.add` into the set of templates.
    fn add(&mut self, name: String, list: Vec<Node>, src: &[u8]) -> Result<(), TemplateError> {
        match self.trees.get(&name) {
            Some(existing) if !is_empty_tree(existing, src) => {
                if !is_empty_tree(&list, src) {
                    return Err(syntax(
                        0,
                        format!("multiple definition of template {name:?}"),
                    ));
                }
            }
            _ => {
                self.trees.insert(name, list);
            }
        }
        Ok(())
    }

    fn template_name(&mut self, context: &str) -> Result<(usize, String), TemplateError> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Str(s) => match String::from_utf8(s) {
                Ok(name) => Ok((t.pos, name)),
                Err(_) => Err(super::error::unsupported(t.pos, "non-UTF-8 template name")),
            },
            _ => Err(Self::unexpected(&t, context)),
        }
    }

    /// `{{define "name"}} ... {{end}}`, after the keyword.
    fn definition(&mut self) -> Result<(), TemplateError> {
        let (_, name) = self.template_name("define clause")?;
        self.expect_right_delim("define clause")?;
        let list = self.sub_tree(|p| p.item_list())?;
        let (list, end) = list;
        if !matches!(end, Item::End(_)) {
            return Err(syntax(0, "unexpected {{else}} in define clause"));
        }
        let src = self.src;
        self.add(name, list, src)
    }

    /// Parses a nested template (`define`, `block`) with its own variables.
    fn sub_tree<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, TemplateError>,
    ) -> Result<T, TemplateError> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let range_depth = std::mem::replace(&mut self.range_depth, 0);
        let result = f(self);
        self.vars = vars;
        self.range_depth = range_depth;
        result
    }

    fn item_list(&mut self) -> Result<(Vec<Node>, Item), TemplateError> {
        let mut list = Vec::new();
        loop {
            if self.peek_non_space().tok == Tok::Eof {
                return Err(syntax(self.src.len(), "unexpected EOF"));
            }
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                other => return Ok((list, other)),
            }
        }
    }

    fn text_or_action(&mut self) -> Result<Item, TemplateError> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Text(range) => Ok(Item::Node(Node::Text(range))),
            Tok::LeftDelim => self.action(),
            _ => Err(Self::unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> Result<Item, TemplateError> {
        let t = self.next_non_space();
        let Tok::Keyword(keyword) = t.tok else {
            self.backup();
            let pipe = self.pipeline("command", t.pos)?;
            return Ok(Item::Node(Node::Action(pipe)));
        };
        match keyword {
            "block" => self.block(t.pos).map(Item::Node),
            "break" | "continue" => {
                self.expect_right_delim(&format!("{{{{{keyword}}}}}"))?;
                if self.range_depth == 0 {
                    return Err(syntax(
                        t.pos,
                        format!("{{{{{keyword}}}}} outside {{{{range}}}}"),
                    ));
                }
                Ok(Item::Node(if keyword == "break" {
                    Node::Break
                } else {
                    Node::Continue
                }))
            }
            "else" => {
                let next = self.peek_non_space();
                if let Tok::Keyword(k @ ("if" | "with")) = next.tok {
                    return Ok(Item::Else(t.pos, Some(k)));
                }
                self.expect_right_delim("else")?;
                Ok(Item::Else(t.pos, None))
            }
            "end" => {
                self.expect_right_delim("end")?;
                Ok(Item::End(t.pos))
            }
            "if" | "range" | "with" => self.control(keyword, t.pos).map(Item::Node),
            "template" => {
                let (pos, name) = self.template_name("template clause")?;
                let pipe = if self.peek_non_space().tok == Tok::RightDelim {
                    self.next_non_space();
                    None
                } else {
                    Some(self.pipeline("template clause", pos)?)
                };
                Ok(Item::Node(Node::Template {
                    pos: t.pos,
                    name,
                    pipe,
                }))
            }
            _ => Err(syntax(t.pos, format!("unexpected keyword {keyword:?}"))),
        }
    }

    fn block(&mut self, pos: usize) -> Result<Node, TemplateError> {
        let (_, name) = self.template_name("block clause")?;
        let pipe = self.pipeline("block clause", pos)?;
        let (list, end) = self.sub_tree(|p| p.item_list())?;
        if !matches!(end, Item::End(_)) {
            return Err(syntax(pos, "unexpected {{else}} in block clause"));
        }
        let src = self.src;
        self.add(name.clone(), list, src)?;
        Ok(Node::Template {
            pos,
            name,
            pipe: Some(pipe),
        })
    }

    /// `if`, `range`, `with` after the keyword (Go's parseControl).
    fn control(&mut self, context: &'static str, pos: usize) -> Result<Node, TemplateError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(TemplateError::TooDeep {
                limit: MAX_NESTING,
                offset: pos,
            });
        }
        let vars = self.vars.len();
        let result = self.control_body(context, pos);
        self.vars.truncate(vars);
        self.depth -= 1;
        result
    }

    fn control_body(&mut self, context: &'static str, pos: usize) -> Result<Node, TemplateError> {
        let pipe = self.pipeline(context, pos)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = listed?;
        let else_list = match next {
            Item::End(_) => None,
            Item::Else(else_pos, chained) => match chained {
                Some(k) if k == context && context != "range" => {
                    self.next_non_space();
                    Some(vec![self.control(context, else_pos)?])
                }
                _ => {
                    if chained.is_some() {
                        // `else if` after `with`, or `else with` after `if`: Go parses
                        // `{{else}}` and then fails on the keyword.
                        return Err(syntax(else_pos, "unexpected keyword in {{else}}"));
                    }
                    let (else_list, end) = self.item_list()?;
                    if !matches!(end, Item::End(_)) {
                        return Err(syntax(else_pos, "expected end; found {{else}}"));
                    }
                    Some(else_list)
                }
            },
            Item::Node(_) => unreachable_node()?,
        };
        let control = Control {
            pos,
            pipe,
            list,
            else_list,
        };
        Ok(match context {
            "if" => Node::If(control),
            "range" => Node::Range(control),
            _ => Node::With(control),
        })
    }

    /// A pipeline ending in `}}`, with its declarations (Go's `Tree.pipeline`).
    fn pipeline(&mut self, context: &str, pos: usize) -> Result<Pipeline, TemplateError> {
        let mut pipe = Pipeline {
            pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        loop {
            let v = self.peek_non_space();
            let Tok::Variable(name) = v.tok else { break };
            let save = self.i;
            self.next_non_space();
            let next = self.peek_non_space();
            match next.tok {
                Tok::Assign | Tok::Declare => {
                    pipe.is_assign = next.tok == Tok::Assign;
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    break;
                }
                Tok::Char(b',') => {
                    self.next_non_space();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().tok {
                            Tok::Variable(_) | Tok::RightDelim | Tok::RightParen => continue,
                            _ => return Err(syntax(v.pos, "range can only initialize variables")),
                        }
                    }
                    return Err(syntax(v.pos, format!("too many declarations in {context}")));
                }
                _ => {
                    self.i = save;
                    break;
                }
            }
        }
        loop {
            let t = self.next_non_space();
            match &t.tok {
                Tok::RightDelim => break,
                Tok::Bool(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup();
                    pipe.cmds.push(self.command()?);
                }
                _ => return Err(Self::unexpected(&t, context)),
            }
        }
        self.check_pipeline(&pipe, context)?;
        Ok(pipe)
    }

    /// A parenthesised pipeline, after `(` (no declarations).
    fn paren_pipeline(&mut self, pos: usize) -> Result<Pipeline, TemplateError> {
        let mut pipe = Pipeline {
            pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        // Go parses declarations here too: `($x := 1)` declares $x.
        if let Tok::Variable(name) = self.peek_non_space().tok {
            let save = self.i;
            self.next_non_space();
            match self.peek_non_space().tok {
                Tok::Assign | Tok::Declare => {
                    let t = self.next_non_space();
                    pipe.is_assign = t.tok == Tok::Assign;
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                }
                _ => self.i = save,
            }
        }
        loop {
            let t = self.next_non_space();
            match &t.tok {
                Tok::RightParen => break,
                Tok::Bool(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup();
                    pipe.cmds.push(self.command()?);
                }
                _ => return Err(Self::unexpected(&t, "parenthesized pipeline")),
            }
        }
        self.check_pipeline(&pipe, "parenthesized pipeline")?;
        Ok(pipe)
    }

    fn check_pipeline(&self, pipe: &Pipeline, context: &str) -> Result<(), TemplateError> {
        if pipe.cmds.is_empty() {
            return Err(syntax(pipe.pos, format!("missing value for {context}")));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if let Some(first) = cmd.args.first()
                && matches!(
                    first.kind,
                    ArgKind::Bool(_)
                        | ArgKind::Dot
                        | ArgKind::Nil
                        | ArgKind::Number(_)
                        | ArgKind::Str(_)
                )
            {
                let reason = format!("non executable command in pipeline stage {}", i + 1);
                return Err(syntax(first.pos, reason));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> Result<Command, TemplateError> {
        let mut args = Vec::new();
        let pos = self.peek().pos;
        loop {
            self.peek_non_space();
            if let Some(arg) = self.operand()? {
                args.push(arg);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => {
                    self.backup();
                    break;
                }
                Tok::Pipe => break,
                _ => return Err(Self::unexpected(&t, "operand")),
            }
        }
        if args.is_empty() {
            return Err(syntax(pos, "empty command"));
        }
        Ok(Command { args })
    }

    fn operand(&mut self) -> Result<Option<Arg>, TemplateError> {
        let Some(arg) = self.term()? else {
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
            return Ok(Some(arg));
        }
        let pos = arg.pos;
        let kind = match arg.kind {
            ArgKind::Field(mut base) => {
                base.extend(names);
                ArgKind::Field(base)
            }
            ArgKind::Var(name, mut base) => {
                base.extend(names);
                ArgKind::Var(name, base)
            }
            ArgKind::Bool(_)
            | ArgKind::Str(_)
            | ArgKind::Number(_)
            | ArgKind::Nil
            | ArgKind::Dot => {
                return Err(syntax(pos, "unexpected . after term"));
            }
            kind => ArgKind::Chain(Box::new(Arg { pos, kind }), names),
        };
        Ok(Some(Arg { pos, kind }))
    }

    fn term(&mut self) -> Result<Option<Arg>, TemplateError> {
        let t = self.next_non_space();
        let kind = match t.tok {
            Tok::Ident(name) => ArgKind::Func(lookup(&name, t.pos)?),
            Tok::Dot => ArgKind::Dot,
            Tok::Nil => ArgKind::Nil,
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return Err(syntax(t.pos, format!("undefined variable {name:?}")));
                }
                ArgKind::Var(name, Vec::new())
            }
            Tok::Field(name) => ArgKind::Field(vec![name]),
            Tok::Bool(b) => ArgKind::Bool(b),
            Tok::Number(n) => ArgKind::Number(n),
            Tok::Str(s) => ArgKind::Str(s),
            Tok::LeftParen => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(TemplateError::TooDeep {
                        limit: MAX_NESTING,
                        offset: t.pos,
                    });
                }
                let pipe = self.paren_pipeline(t.pos);
                self.depth -= 1;
                ArgKind::Pipe(pipe?)
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(Arg { pos: t.pos, kind }))
    }
}

fn unreachable_node() -> Result<Option<Vec<Node>>, TemplateError> {
    Err(syntax(0, "internal error: list ended on a node"))
}
