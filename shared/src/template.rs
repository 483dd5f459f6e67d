//! Rendering of `spec.template.data`: the part of Go `text/template` and sprig that the
//! reference controller evaluates.
//!
//! The reference parses each `spec.template.data` value with Go's `text/template`, with
//! sprig's `GenericFuncMap` (less `env`, `expandenv` and `getHostByName`), and executes it
//! with the decrypted items as the dot: a `map[string]string` from item name to plaintext.
//! [`render`] does the same for the subset below. Whatever it accepts renders byte for byte
//! what the reference renders (checked against Go 1.26 `text/template` with sprig v3.3.0);
//! whatever it cannot render exactly is refused with a [`TemplateError`], never rendered
//! differently. Rendering is pure: no I/O, no clock, no randomness, no environment.
//!
//! # Supported
//!
//! - Text outside actions, copied verbatim. Actions `{{ ... }}` with the trim markers
//!   `{{- ` and ` -}}` (the dash needs a space, tab or newline on its inner side, as in Go),
//!   and comments `{{/* ... */}}` / `{{- /* ... */ -}}`.
//! - Pipelines `a | f b | g`, where the value on the left becomes the last argument.
//!   Parenthesised sub-pipelines `(f .a)`, nested up to [`MAX_NESTING`] deep.
//! - Operands: `.` (the map of items, printed like Go: `map[a:x b:y]`), `.key`, `$` and
//!   `$.key` (the same map), `(pipeline).key`, string literals `"..."` with Go's escapes
//!   and raw strings `` `...` `` (carriage returns dropped, as in Go), integer literals
//!   (decimal, `0x`, `0o`, `0b`, leading-zero octal; optional sign), `true`, `false`, `nil`.
//! - A missing key: `{{ .missing }}` prints `<no value>`; passed to a function it is Go's nil
//!   (so `default "d" .missing` gives `d` and `upper .missing` is an error, as in Go);
//!   `index . "missing"` is the empty string.
//! - Go builtins: `index` (the map by key, a string by byte offset), `len`, `print`,
//!   `println`, `printf`. `printf` takes every verb, the `-` flag and a width; verbs behave as
//!   Go's on strings, ints, bools, nil and the map, including Go's `%!d(string=...)`,
//!   `%!s(MISSING)` and `%!(EXTRA ...)` outputs.
//! - sprig: `toJson` (Go's JSON, escaping `<`, `>`, `&`, U+2028 and U+2029), `toRawJson`,
//!   `b64enc`, `b64dec` (which, like sprig, returns Go's error text for bad input), `quote`,
//!   `squote`, `trim`, `trimAll`, `trimall`, `trimPrefix`, `trimSuffix`, `upper`, `lower`,
//!   `title`, `replace`, `nospace`, `cat`, `default`, `empty`, `coalesce`, `contains`,
//!   `hasPrefix`, `hasSuffix`, `repeat`, `substr`, `trunc`, `indent`, `nindent`,
//!   `sha256sum`, `toString`, `join`.
//! - Values are bytes, as Go strings are: a value that is not UTF-8 passes through byte for
//!   byte where Go's does (`{{ .bin }}`, `b64enc`, `trunc`, `sha256sum`, ...); functions that
//!   work on characters (`upper`, `lower`, `title`, `quote`, `toJson`, ...) replace each
//!   invalid byte as Go does.
//!
//! # Refused, with an error
//!
//! - Control and definition actions: `if`, `else`, `range`, `with`, `define`, `template`,
//!   `block`, `break`, `continue`, `end` ([`TemplateError::UnsupportedAction`]).
//! - Variables other than `$`, and any declaration or assignment (`$x := ...`).
//! - Float, imaginary, character and digit-separated (`1_000`) constants; non-ASCII
//!   identifiers.
//! - Every other Go builtin or sprig function ([`TemplateError::UnsupportedFunction`]), and
//!   names that are neither, including `env`, `expandenv` and `getHostByName`, which the
//!   reference removes ([`TemplateError::UnknownFunction`]).
//! - `printf` flags other than `-`, precisions, `*` widths, argument indexes, `%p` of the map.
//! - Wrong argument counts or types, and calls Go would fail (`substr` out of range, `repeat`
//!   with a negative count, `len` of a number, ...).
//! - Values larger than [`MAX_RENDERED_LEN`] (a Kubernetes Secret holds at most 1 MiB), calls
//!   whose arguments add up to more than that, and objects whose templates together build more
//!   than [`MAX_BUILT_PER_OBJECT`] bytes or take more than [`MAX_STEPS_PER_OBJECT`] steps
//!   ([`Budget`]). Go would render some of these (`trunc 3 (repeat 9999999 "x")`); they are
//!   refused so that one object cannot take the controller's memory or time.
//!
//! Error messages name the offending construct, function or field and its byte offset in
//! the template; they never contain an item value.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use sha2::{Digest as _, Sha256};

/// Largest value, final or intermediate, that rendering builds: a Secret holds at most 1 MiB
/// in all, so a larger value could never be written.
pub const MAX_RENDERED_LEN: usize = 1 << 20;
/// Bytes that the templates of one object may build in all, every intermediate value counted:
/// what bounds the memory and time one hostile SealedSecret can cost.
pub const MAX_BUILT_PER_OBJECT: usize = 16 << 20;
/// Evaluation steps (commands and function calls) that the templates of one object may take.
pub const MAX_STEPS_PER_OBJECT: u64 = 100_000;
/// Deepest nesting of parenthesised pipelines accepted.
pub const MAX_NESTING: usize = 64;

type Data = BTreeMap<String, Vec<u8>>;

/// Why a template could not be rendered. Messages carry template positions (byte offsets),
/// construct, function and field names, never an item value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template is malformed (Go would not parse it either).
    #[error("template syntax error at offset {offset}: {reason}")]
    Syntax { offset: usize, reason: String },
    /// A control or definition action (`if`, `range`, `with`, `define`, ...).
    #[error("unsupported action {keyword:?} at offset {offset}")]
    UnsupportedAction { keyword: String, offset: usize },
    /// A variable other than `$`.
    #[error("unsupported variable {name:?} at offset {offset}")]
    UnsupportedVariable { name: String, offset: usize },
    /// Another construct outside the supported subset.
    #[error("unsupported {construct} at offset {offset}")]
    Unsupported { construct: String, offset: usize },
    /// A name that is neither a Go builtin nor an available sprig function.
    #[error("unknown function {name:?} at offset {offset}")]
    UnknownFunction { name: String, offset: usize },
    /// A Go builtin or sprig function that this renderer does not implement.
    #[error("unsupported function {name:?} at offset {offset}")]
    UnsupportedFunction { name: String, offset: usize },
    /// A function called with too few or too many arguments.
    #[error("wrong number of args for {function} at offset {offset}: want {want} got {got}")]
    WrongArgCount {
        function: String,
        want: String,
        got: usize,
        offset: usize,
    },
    /// A function argument of the wrong type (or a missing value where a string is needed).
    #[error(
        "wrong type for argument of {function} at offset {offset}: expected {expected}, got {got}"
    )]
    WrongArgType {
        function: String,
        expected: String,
        got: String,
        offset: usize,
    },
    /// A function failed (Go would return an error or panic).
    #[error("error calling {function} at offset {offset}: {reason}")]
    CallFailed {
        function: String,
        reason: String,
        offset: usize,
    },
    /// Evaluation failed outside a function call.
    #[error("cannot execute template at offset {offset}: {reason}")]
    Exec { offset: usize, reason: String },
    /// A value would exceed [`MAX_RENDERED_LEN`].
    #[error("rendered value would exceed {limit} bytes")]
    TooLarge { limit: usize },
    /// Parentheses nested deeper than [`MAX_NESTING`].
    #[error("parentheses nested deeper than {limit} at offset {offset}")]
    TooDeep { limit: usize, offset: usize },
    /// The object's templates together would build more than [`MAX_BUILT_PER_OBJECT`] bytes.
    #[error("the templates of this object would build more than {limit} bytes")]
    TooMuchOutput { limit: usize },
    /// The object's templates together would take more than [`MAX_STEPS_PER_OBJECT`] steps.
    #[error("the templates of this object would take more than {limit} evaluation steps")]
    TooManySteps { limit: u64 },
}

/// What the templates of one object may still spend. One budget is shared by every
/// `spec.template.data` value of an object, so many small values cannot add up to a large cost.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    bytes_left: usize,
    steps_left: u64,
}

impl Budget {
    /// The budget of one object: [`MAX_BUILT_PER_OBJECT`] bytes, [`MAX_STEPS_PER_OBJECT`] steps.
    pub fn per_object() -> Budget {
        Budget {
            bytes_left: MAX_BUILT_PER_OBJECT,
            steps_left: MAX_STEPS_PER_OBJECT,
        }
    }

    fn spend_bytes(&mut self, n: usize) -> Result<(), TemplateError> {
        self.bytes_left = self
            .bytes_left
            .checked_sub(n)
            .ok_or(TemplateError::TooMuchOutput {
                limit: MAX_BUILT_PER_OBJECT,
            })?;
        Ok(())
    }

    fn spend_step(&mut self) -> Result<(), TemplateError> {
        self.steps_left = self
            .steps_left
            .checked_sub(1)
            .ok_or(TemplateError::TooManySteps {
                limit: MAX_STEPS_PER_OBJECT,
            })?;
        Ok(())
    }
}

fn syntax(offset: usize, reason: impl Into<String>) -> TemplateError {
    TemplateError::Syntax {
        offset,
        reason: reason.into(),
    }
}

fn unsupported(offset: usize, construct: impl Into<String>) -> TemplateError {
    TemplateError::Unsupported {
        construct: construct.into(),
        offset,
    }
}

fn exec_error(offset: usize, reason: impl Into<String>) -> TemplateError {
    TemplateError::Exec {
        offset,
        reason: reason.into(),
    }
}

fn too_large() -> TemplateError {
    TemplateError::TooLarge {
        limit: MAX_RENDERED_LEN,
    }
}

/// Renders one `spec.template.data` value on its own budget. `data` is the decrypted items
/// (key -> bytes), which the template sees as its dot.
pub fn render(template: &str, data: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, TemplateError> {
    render_within(template, data, &mut Budget::per_object())
}

/// Renders one value, spending from the object's `budget`.
pub fn render_within(
    template: &str,
    data: &BTreeMap<String, Vec<u8>>,
    budget: &mut Budget,
) -> Result<Vec<u8>, TemplateError> {
    let items = parse(template)?;
    let exec = Exec {
        data,
        data_len: data.iter().map(|(k, v)| k.len() + v.len() + 2).sum(),
        budget: std::cell::Cell::new(*budget),
    };
    let src = template.as_bytes();
    let mut out = Vec::new();
    let result = (|| {
        for item in &items {
            let before = out.len();
            match item {
                Item::Text(range) => {
                    out.extend_from_slice(src.get(range.clone()).unwrap_or_default())
                }
                Item::Action(pipe) => match exec.pipeline(pipe)? {
                    Value::Nil => out.extend_from_slice(b"<no value>"),
                    value => fmt_value(&value, &mut out),
                },
            }
            if out.len() > MAX_RENDERED_LEN {
                return Err(too_large());
            }
            exec.spend_bytes(out.len() - before)?;
        }
        Ok(())
    })();
    *budget = exec.budget.get();
    result.map(|()| out)
}

// ---------------------------------------------------------------------------------------
// Values

/// A Go value as the templates see it. Deliberately not `Debug`: it holds secrets.
#[derive(Clone)]
enum Value<'a> {
    /// A Go `string` (any bytes).
    Str(Cow<'a, [u8]>),
    /// A Go `int`.
    Int(i64),
    /// A Go `uint8` (what `index` returns for a string).
    Byte(u8),
    Bool(bool),
    /// The dot: Go's `map[string]string`.
    Map(&'a Data),
    /// Go's nil interface or invalid value (a missing key, `nil`).
    Nil,
}

impl Value<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Byte(_) => "uint8",
            Value::Bool(_) => "bool",
            Value::Map(_) => "map[string]string",
            Value::Nil => "nil",
        }
    }
}

fn borrowed(bytes: &[u8]) -> Value<'_> {
    Value::Str(Cow::Borrowed(bytes))
}

fn owned<'a>(bytes: Vec<u8>) -> Value<'a> {
    Value::Str(Cow::Owned(bytes))
}

// ---------------------------------------------------------------------------------------
// Lexer: Go's text/template lexer, restricted to what the parser below accepts.

#[derive(Clone, PartialEq)]
enum Tok {
    Text(Range<usize>),
    LeftDelim,
    RightDelim,
    Space,
    LeftParen,
    RightParen,
    Pipe,
    Dot,
    Field(String),
    Root,
    Ident(String),
    Keyword(&'static str),
    Bool(bool),
    Nil,
    Int(i64),
    Str(Vec<u8>),
    Assign,
    Char(u8),
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Text(_) => "text".into(),
            Tok::LeftDelim => "\"{{\"".into(),
            Tok::RightDelim => "\"}}\"".into(),
            Tok::Space => "space".into(),
            Tok::LeftParen => "\"(\"".into(),
            Tok::RightParen => "\")\"".into(),
            Tok::Pipe => "\"|\"".into(),
            Tok::Dot => "\".\"".into(),
            Tok::Field(name) => format!("field .{name}"),
            Tok::Root => "\"$\"".into(),
            Tok::Ident(name) => format!("identifier {name:?}"),
            Tok::Keyword(k) => format!("keyword {k:?}"),
            Tok::Bool(b) => format!("{b}"),
            Tok::Nil => "nil".into(),
            Tok::Int(_) => "number".into(),
            Tok::Str(_) => "string constant".into(),
            Tok::Assign => "assignment".into(),
            Tok::Char(c) => format!("{:?}", char::from(*c)),
            Tok::Eof => "end of template".into(),
        }
    }
}

#[derive(Clone)]
struct Token {
    tok: Tok,
    pos: usize,
}

const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
];

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn rest(b: &[u8], pos: usize) -> &[u8] {
    b.get(pos..).unwrap_or_default()
}

fn has_left_trim(s: &[u8]) -> bool {
    matches!(s, [b'-', c, ..] if is_space(*c))
}

fn has_right_trim(s: &[u8]) -> bool {
    matches!(s, [c, b'-', ..] if is_space(*c))
}

/// `Some(trim)` when a closing delimiter (with or without trim marker) starts at `pos`.
fn at_right_delim(b: &[u8], pos: usize) -> Option<bool> {
    let s = rest(b, pos);
    if has_right_trim(s) && rest(s, 2).starts_with(b"}}") {
        Some(true)
    } else if s.starts_with(b"}}") {
        Some(false)
    } else {
        None
    }
}

fn at_terminator(b: &[u8], pos: usize) -> bool {
    match b.get(pos) {
        None => true,
        Some(&c) => {
            is_space(c)
                || matches!(c, b'.' | b',' | b'|' | b':' | b')' | b'(')
                || rest(b, pos).starts_with(b"}}")
        }
    }
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos).is_some_and(|&c| is_space(c)) {
        pos += 1;
    }
    pos
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    Finder::new(needle).find(rest(hay, from)).map(|i| i + from)
}

struct Lexer<'s> {
    b: &'s [u8],
    pos: usize,
    toks: Vec<Token>,
}

fn lex(src: &str) -> Result<Vec<Token>, TemplateError> {
    let mut lexer = Lexer {
        b: src.as_bytes(),
        pos: 0,
        toks: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.toks)
}

impl Lexer<'_> {
    fn push(&mut self, tok: Tok, pos: usize) {
        self.toks.push(Token { tok, pos });
    }

    fn run(&mut self) -> Result<(), TemplateError> {
        let b = self.b;
        loop {
            let Some(open) = find(b, self.pos, b"{{") else {
                if self.pos < b.len() {
                    self.push(Tok::Text(self.pos..b.len()), self.pos);
                }
                self.push(Tok::Eof, b.len());
                return Ok(());
            };
            let trim = has_left_trim(rest(b, open + 2));
            let mut text_end = open;
            if trim {
                while text_end > self.pos && is_space(b[text_end - 1]) {
                    text_end -= 1;
                }
            }
            if text_end > self.pos {
                self.push(Tok::Text(self.pos..text_end), self.pos);
            }
            let inner = open + 2 + if trim { 2 } else { 0 };
            if rest(b, inner).starts_with(b"/*") {
                let Some(close) = find(b, inner + 2, b"*/") else {
                    return Err(syntax(open, "unclosed comment"));
                };
                let Some(trim_right) = at_right_delim(b, close + 2) else {
                    return Err(syntax(open, "comment ends before closing delimiter"));
                };
                self.pos = close + 2 + if trim_right { 4 } else { 2 };
                if trim_right {
                    self.pos = skip_spaces(b, self.pos);
                }
                continue;
            }
            self.push(Tok::LeftDelim, open);
            self.pos = inner;
            self.action()?;
        }
    }

    /// Lexes the inside of one action, up to and including its closing delimiter.
    fn action(&mut self) -> Result<(), TemplateError> {
        let b = self.b;
        let mut depth = 0usize;
        loop {
            let pos = self.pos;
            if let Some(trim) = at_right_delim(b, pos) {
                if depth > 0 {
                    return Err(syntax(pos, "unclosed left paren"));
                }
                let delim = pos + if trim { 2 } else { 0 };
                self.push(Tok::RightDelim, delim);
                self.pos = delim + 2;
                if trim {
                    self.pos = skip_spaces(b, self.pos);
                }
                return Ok(());
            }
            let Some(&c) = b.get(pos) else {
                return Err(syntax(pos, "unclosed action"));
            };
            match c {
                c if is_space(c) => {
                    let mut end = pos;
                    while b.get(end).is_some_and(|&c| is_space(c))
                        && at_right_delim(b, end) != Some(true)
                    {
                        end += 1;
                    }
                    self.push(Tok::Space, pos);
                    self.pos = end.max(pos + 1);
                }
                b'(' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(TemplateError::TooDeep {
                            limit: MAX_NESTING,
                            offset: pos,
                        });
                    }
                    self.push(Tok::LeftParen, pos);
                    self.pos += 1;
                }
                b')' => {
                    if depth == 0 {
                        return Err(syntax(pos, "unexpected right paren"));
                    }
                    depth -= 1;
                    self.push(Tok::RightParen, pos);
                    self.pos += 1;
                }
                b'|' => {
                    self.push(Tok::Pipe, pos);
                    self.pos += 1;
                }
                b'=' => {
                    self.push(Tok::Assign, pos);
                    self.pos += 1;
                }
                b':' => {
                    if b.get(pos + 1) != Some(&b'=') {
                        return Err(syntax(pos, "expected :="));
                    }
                    self.push(Tok::Assign, pos);
                    self.pos += 2;
                }
                b'"' => self.quoted()?,
                b'`' => self.raw_quoted()?,
                b'\'' => return Err(unsupported(pos, "character constant")),
                b'$' => self.variable()?,
                b'.' if b.get(pos + 1).is_some_and(|d| !d.is_ascii_digit()) => self.field()?,
                b'.' | b'+' | b'-' | b'0'..=b'9' => self.number()?,
                c if c.is_ascii_alphabetic() || c == b'_' => self.identifier()?,
                0x80.. => return Err(unsupported(pos, "non-ASCII character in action")),
                0x21..=0x7e => {
                    self.push(Tok::Char(c), pos);
                    self.pos += 1;
                }
                _ => return Err(syntax(pos, "unrecognized character in action")),
            }
        }
    }

    /// Scans `[A-Za-z0-9_]*` and requires what follows to end an operand, as Go does.
    fn word(&mut self) -> Result<String, TemplateError> {
        let b = self.b;
        let start = self.pos;
        let mut end = start;
        while b.get(end).is_some_and(|&c| is_word(c)) {
            end += 1;
        }
        match b.get(end) {
            Some(&c) if c >= 0x80 => return Err(unsupported(end, "non-ASCII identifier")),
            Some(&c) if !at_terminator(b, end) => {
                return Err(syntax(end, format!("bad character {:?}", char::from(c))));
            }
            _ => {}
        }
        self.pos = end;
        Ok(String::from_utf8_lossy(&b[start..end]).into_owned())
    }

    fn identifier(&mut self) -> Result<(), TemplateError> {
        let pos = self.pos;
        let word = self.word()?;
        let tok = match word.as_str() {
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "nil" => Tok::Nil,
            w => match KEYWORDS.iter().find(|k| **k == w) {
                Some(k) => Tok::Keyword(k),
                None => Tok::Ident(word),
            },
        };
        self.push(tok, pos);
        Ok(())
    }

    fn field(&mut self) -> Result<(), TemplateError> {
        let pos = self.pos;
        self.pos += 1;
        if at_terminator(self.b, self.pos) {
            self.push(Tok::Dot, pos);
        } else {
            let name = self.word()?;
            self.push(Tok::Field(name), pos);
        }
        Ok(())
    }

    fn variable(&mut self) -> Result<(), TemplateError> {
        let pos = self.pos;
        self.pos += 1;
        if at_terminator(self.b, self.pos) {
            self.push(Tok::Root, pos);
            return Ok(());
        }
        let name = self.word()?;
        Err(TemplateError::UnsupportedVariable {
            name: format!("${name}"),
            offset: pos,
        })
    }

    fn number(&mut self) -> Result<(), TemplateError> {
        let b = self.b;
        let start = self.pos;
        // Go's scanNumber, so that the same text makes up the constant; `None` when an
        // alphanumeric character follows.
        let scan = |mut p: usize| {
            let accept = |p: &mut usize, set: &[u8]| {
                let ok = b.get(*p).is_some_and(|c| set.contains(c));
                if ok {
                    *p += 1;
                }
                ok
            };
            let accept_run = |p: &mut usize, set: &[u8]| while accept(p, set) {};
            accept(&mut p, b"+-");
            let mut digits: &[u8] = b"0123456789_";
            if accept(&mut p, b"0") {
                if accept(&mut p, b"xX") {
                    digits = b"0123456789abcdefABCDEF_";
                } else if accept(&mut p, b"oO") {
                    digits = b"01234567_";
                } else if accept(&mut p, b"bB") {
                    digits = b"01_";
                }
            }
            accept_run(&mut p, digits);
            if accept(&mut p, b".") {
                accept_run(&mut p, digits);
            }
            if digits.len() == 11 && accept(&mut p, b"eE") {
                accept(&mut p, b"+-");
                accept_run(&mut p, b"0123456789_");
            }
            if digits.len() == 23 && accept(&mut p, b"pP") {
                accept(&mut p, b"+-");
                accept_run(&mut p, b"0123456789_");
            }
            accept(&mut p, b"i");
            match b.get(p) {
                Some(&c) if is_word(c) || c >= 0x80 => None,
                _ => Some(p),
            }
        };
        let Some(end) = scan(start) else {
            return Err(syntax(start, "bad number syntax"));
        };
        if matches!(b.get(end), Some(b'+' | b'-')) {
            return Err(match scan(end) {
                Some(q) if b[q - 1] == b'i' => unsupported(start, "complex constant"),
                _ => syntax(start, "bad number syntax"),
            });
        }
        let text = &b[start..end];
        let Some(value) = parse_int(text) else {
            let hex = text.iter().any(|&c| c == b'x' || c == b'X');
            let fancy = |c: u8| {
                matches!(c, b'.' | b'_' | b'i' | b'p' | b'P') || (!hex && matches!(c, b'e' | b'E'))
            };
            if text.iter().any(|&c| fancy(c)) {
                return Err(unsupported(
                    start,
                    "number constant (only integers are supported)",
                ));
            }
            return Err(syntax(start, "bad number syntax"));
        };
        self.push(Tok::Int(value), start);
        self.pos = end;
        Ok(())
    }

    fn quoted(&mut self) -> Result<(), TemplateError> {
        let b = self.b;
        let start = self.pos;
        let mut p = start + 1;
        loop {
            match b.get(p) {
                None | Some(b'\n') => return Err(syntax(start, "unterminated quoted string")),
                Some(b'\\') => match b.get(p + 1) {
                    None | Some(b'\n') => return Err(syntax(start, "unterminated quoted string")),
                    Some(_) => p += 2,
                },
                Some(b'"') => break,
                Some(_) => p += 1,
            }
        }
        let Some(value) = unquote(&b[start + 1..p]) else {
            return Err(syntax(start, "invalid escape in quoted string"));
        };
        self.push(Tok::Str(value), start);
        self.pos = p + 1;
        Ok(())
    }

    fn raw_quoted(&mut self) -> Result<(), TemplateError> {
        let b = self.b;
        let start = self.pos;
        let Some(end) = find(b, start + 1, b"`") else {
            return Err(syntax(start, "unterminated raw quoted string"));
        };
        let value = b[start + 1..end]
            .iter()
            .copied()
            .filter(|&c| c != b'\r')
            .collect();
        self.push(Tok::Str(value), start);
        self.pos = end + 1;
        Ok(())
    }
}

/// An integer constant as Go's `strconv.ParseInt(text, 0, 64)` reads it, without `_`.
fn parse_int(text: &[u8]) -> Option<i64> {
    let (negative, body) = match text {
        [b'-', body @ ..] => (true, body),
        [b'+', body @ ..] => (false, body),
        body => (false, body),
    };
    let (radix, digits) = match body {
        [b'0', b'x' | b'X', digits @ ..] => (16, digits),
        [b'0', b'o' | b'O', digits @ ..] => (8, digits),
        [b'0', b'b' | b'B', digits @ ..] => (2, digits),
        [b'0', digits @ ..] if !digits.is_empty() => (8, digits),
        digits => (10, digits),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i128 = 0;
    for &d in digits {
        let digit = char::from(d).to_digit(radix)?;
        value = value
            .checked_mul(i128::from(radix))?
            .checked_add(i128::from(digit))?;
        if value > 1 << 64 {
            return None;
        }
    }
    i64::try_from(if negative { -value } else { value }).ok()
}

/// The contents of a Go double-quoted string literal, unescaped like `strconv.Unquote`.
fn unquote(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let escape = *s.get(i + 1)?;
        i += 2;
        match escape {
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'\\' | b'"' => out.push(escape),
            b'x' => {
                out.push(u8::try_from(hex_value(s.get(i..i + 2)?)?).ok()?);
                i += 2;
            }
            b'u' | b'U' => {
                let n = if escape == b'u' { 4 } else { 8 };
                let c = char::from_u32(hex_value(s.get(i..i + n)?)?)?;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += n;
            }
            b'0'..=b'7' => {
                let mut value = u32::from(escape - b'0');
                for &d in s.get(i..i + 2)? {
                    if !(b'0'..=b'7').contains(&d) {
                        return None;
                    }
                    value = value * 8 + u32::from(d - b'0');
                }
                out.push(u8::try_from(value).ok()?);
                i += 2;
            }
            _ => return None,
        }
    }
    Some(out)
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    digits
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))
}

// ---------------------------------------------------------------------------------------
// Parser: Go's text/template parser for pipelines, without control structures.

enum Item {
    Text(Range<usize>),
    Action(Pipeline),
}

struct Pipeline {
    cmds: Vec<Command>,
}

struct Command {
    args: Vec<Node>,
}

struct Node {
    pos: usize,
    kind: NodeKind,
}

enum NodeKind {
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

fn parse(src: &str) -> Result<Vec<Item>, TemplateError> {
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

fn lookup(name: &str, offset: usize) -> Result<&'static Func, TemplateError> {
    if let Some(f) = FUNCS.iter().find(|f| f.name == name) {
        Ok(f)
    } else if GO_AND_SPRIG_FUNCS.contains(&name) {
        Err(TemplateError::UnsupportedFunction {
            name: name.into(),
            offset,
        })
    } else {
        Err(TemplateError::UnknownFunction {
            name: name.into(),
            offset,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation: Go's exec.go with the dot fixed to the map of items.

struct Exec<'a> {
    data: &'a Data,
    /// What printing the dot costs, for the size check before a call.
    data_len: usize,
    budget: std::cell::Cell<Budget>,
}

impl<'a> Exec<'a> {
    fn spend_bytes(&self, n: usize) -> Result<(), TemplateError> {
        let mut budget = self.budget.get();
        let spent = budget.spend_bytes(n);
        self.budget.set(budget);
        spent
    }

    fn spend_step(&self) -> Result<(), TemplateError> {
        let mut budget = self.budget.get();
        let spent = budget.spend_step();
        self.budget.set(budget);
        spent
    }

    /// An upper bound of the bytes a value prints as.
    fn printed_len(&self, value: &Value<'_>) -> usize {
        match value {
            Value::Str(s) => s.len(),
            Value::Map(_) => self.data_len + 5,
            _ => 20,
        }
    }

    fn pipeline(&self, pipe: &Pipeline) -> Result<Value<'a>, TemplateError> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(cmd, value)?);
        }
        Ok(value.unwrap_or(Value::Nil))
    }

    fn command(&self, cmd: &Command, fin: Option<Value<'a>>) -> Result<Value<'a>, TemplateError> {
        self.spend_step()?;
        let Some(first) = cmd.args.first() else {
            return Err(exec_error(0, "empty command"));
        };
        let has_args = cmd.args.len() > 1 || fin.is_some();
        let not_a_function = || {
            if has_args {
                Err(exec_error(first.pos, "can't give argument to non-function"))
            } else {
                Ok(())
            }
        };
        match &first.kind {
            NodeKind::Func(f) => self.call(f, &cmd.args[1..], fin, first.pos),
            NodeKind::Field(names) => {
                self.fields(Value::Map(self.data), names, has_args, first.pos)
            }
            NodeKind::Root(names) if names.is_empty() => {
                not_a_function()?;
                Ok(Value::Map(self.data))
            }
            NodeKind::Root(names) => self.fields(Value::Map(self.data), names, has_args, first.pos),
            NodeKind::Chain(inner, names) => {
                let receiver = self.chain_receiver(inner)?;
                self.fields(receiver, names, has_args, first.pos)
            }
            NodeKind::Pipe(pipe) => {
                not_a_function()?;
                self.pipeline(pipe)
            }
            NodeKind::Nil => {
                not_a_function()?;
                Err(exec_error(first.pos, "nil is not a command"))
            }
            NodeKind::Dot | NodeKind::Bool(_) | NodeKind::Int(_) | NodeKind::Str(_) => {
                not_a_function()?;
                self.value(first)
            }
        }
    }

    /// Field lookups: on the map, a missing key is Go's invalid value; on an invalid value
    /// the result stays invalid (Go returns its zero `reflect.Value` without complaint).
    fn fields(
        &self,
        mut receiver: Value<'a>,
        names: &[String],
        has_args: bool,
        pos: usize,
    ) -> Result<Value<'a>, TemplateError> {
        for (i, name) in names.iter().enumerate() {
            receiver = match receiver {
                Value::Nil => return Ok(Value::Nil),
                Value::Map(map) => {
                    if has_args && i + 1 == names.len() {
                        let reason = format!("{name} is not a method but has arguments");
                        return Err(exec_error(pos, reason));
                    }
                    map.get(name.as_str()).map_or(Value::Nil, |v| borrowed(v))
                }
                other => {
                    let reason =
                        format!("can't evaluate field {name} in type {}", other.type_name());
                    return Err(exec_error(pos, reason));
                }
            };
        }
        Ok(receiver)
    }

    fn chain_receiver(&self, inner: &Node) -> Result<Value<'a>, TemplateError> {
        match &inner.kind {
            // Go calls the function and gets an interface value that it does not unwrap;
            // a nil one cannot have fields.
            NodeKind::Func(f) => match self.call(f, &[], None, inner.pos)? {
                Value::Nil => Err(exec_error(inner.pos, "nil pointer evaluating field")),
                value => Ok(value),
            },
            _ => self.value(inner),
        }
    }

    /// The value of an operand, untyped (Go's evalArg for `interface{}`).
    fn value(&self, node: &Node) -> Result<Value<'a>, TemplateError> {
        Ok(match &node.kind {
            NodeKind::Dot => Value::Map(self.data),
            NodeKind::Nil => Value::Nil,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::Int(*i),
            NodeKind::Str(s) => {
                self.spend_bytes(s.len())?;
                owned(s.clone())
            }
            NodeKind::Field(names) => self.fields(Value::Map(self.data), names, false, node.pos)?,
            NodeKind::Root(names) => self.fields(Value::Map(self.data), names, false, node.pos)?,
            NodeKind::Func(f) => self.call(f, &[], None, node.pos)?,
            NodeKind::Pipe(pipe) => self.pipeline(pipe)?,
            NodeKind::Chain(inner, names) => {
                let receiver = self.chain_receiver(inner)?;
                self.fields(receiver, names, false, node.pos)?
            }
        })
    }

    /// An argument converted to a parameter type, failing where Go's evalArg fails.
    fn arg(&self, node: &Node, ty: Ty, function: &str) -> Result<Value<'a>, TemplateError> {
        let literal = match (&node.kind, ty) {
            (NodeKind::Nil, Ty::Any) => return Ok(Value::Nil),
            (NodeKind::Nil, _) => Some("nil"),
            (NodeKind::Bool(_), Ty::Str | Ty::Int) => Some("bool constant"),
            (NodeKind::Int(_), Ty::Str) => Some("number constant"),
            (NodeKind::Str(_), Ty::Int) => Some("string constant"),
            _ => None,
        };
        if let Some(got) = literal {
            return Err(TemplateError::WrongArgType {
                function: function.into(),
                expected: ty.name().into(),
                got: got.into(),
                offset: node.pos,
            });
        }
        let value = self.value(node)?;
        check_type(value, ty, function, node.pos)
    }

    fn call(
        &self,
        f: &'static Func,
        args: &[Node],
        fin: Option<Value<'a>>,
        pos: usize,
    ) -> Result<Value<'a>, TemplateError> {
        let num_in = args.len() + usize::from(fin.is_some());
        let fixed = f.params.len();
        let arity_ok = if f.variadic.is_some() {
            num_in >= fixed
        } else {
            num_in == fixed
        };
        if !arity_ok {
            let want = if f.variadic.is_some() {
                format!("at least {fixed}")
            } else {
                fixed.to_string()
            };
            return Err(TemplateError::WrongArgCount {
                function: f.name.into(),
                want,
                got: num_in,
                offset: pos,
            });
        }
        let param = |i: usize| f.params.get(i).copied().or(f.variadic).unwrap_or(Ty::Any);
        let mut argv = Vec::with_capacity(num_in);
        for (i, node) in args.iter().enumerate() {
            argv.push(self.arg(node, param(i), f.name)?);
        }
        if let Some(value) = fin {
            argv.push(check_type(value, param(num_in - 1), f.name, pos)?);
        }
        self.spend_step()?;
        // Every function's output is a bounded multiple of its input (or checked by the
        // function itself, as `repeat` is): refusing oversized input here bounds each call.
        // The dot itself may be passed once (`index . "key"`) whatever its size.
        let input: usize = argv.iter().map(|v| self.printed_len(v)).sum();
        if input > MAX_RENDERED_LEN + self.data_len {
            return Err(too_large());
        }
        let value = (f.imp)(argv).map_err(|e| e.at(f.name, pos))?;
        if let Value::Str(Cow::Owned(s)) = &value {
            self.spend_bytes(s.len())?;
        }
        Ok(value)
    }
}

fn check_type<'a>(
    value: Value<'a>,
    ty: Ty,
    function: &str,
    offset: usize,
) -> Result<Value<'a>, TemplateError> {
    match (ty, &value) {
        (Ty::Any, _) | (Ty::Str, Value::Str(_)) | (Ty::Int, Value::Int(_)) => Ok(value),
        _ => Err(TemplateError::WrongArgType {
            function: function.into(),
            expected: ty.name().into(),
            got: if let Value::Nil = value {
                "no value"
            } else {
                value.type_name()
            }
            .into(),
            offset,
        }),
    }
}

// ---------------------------------------------------------------------------------------
// Functions

/// A parameter's Go type: `string`, `int` or `interface{}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Int,
    Any,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::Any => "any value",
        }
    }
}

type Imp = for<'a> fn(Vec<Value<'a>>) -> Result<Value<'a>, FnError>;

struct Func {
    name: &'static str,
    params: &'static [Ty],
    variadic: Option<Ty>,
    imp: Imp,
}

/// How a function failed; turned into a [`TemplateError`] with its name and position.
enum FnError {
    Failed(String),
    Unsupported(String),
    TooLarge,
}

impl FnError {
    fn at(self, function: &str, offset: usize) -> TemplateError {
        match self {
            FnError::Failed(reason) => TemplateError::CallFailed {
                function: function.into(),
                reason,
                offset,
            },
            FnError::Unsupported(what) => unsupported(offset, what),
            FnError::TooLarge => too_large(),
        }
    }
}

fn failed(reason: &str) -> FnError {
    FnError::Failed(reason.into())
}

fn check_len(len: u128) -> Result<(), FnError> {
    if len > MAX_RENDERED_LEN as u128 {
        Err(FnError::TooLarge)
    } else {
        Ok(())
    }
}

fn sized<'a>(bytes: Vec<u8>) -> Result<Value<'a>, FnError> {
    check_len(bytes.len() as u128)?;
    Ok(owned(bytes))
}

const S: Ty = Ty::Str;
const I: Ty = Ty::Int;
const A: Ty = Ty::Any;

macro_rules! func {
    ($name:literal, [$($p:expr),*], $variadic:expr, $imp:expr) => {
        Func { name: $name, params: &[$($p),*], variadic: $variadic, imp: $imp }
    };
}

static FUNCS: &[Func] = &[
    // Go builtins.
    func!("index", [A], Some(A), f_index),
    func!("len", [A], None, f_len),
    func!("print", [], Some(A), f_print),
    func!("println", [], Some(A), f_println),
    func!("printf", [S], Some(A), f_printf),
    // sprig.
    func!("toJson", [A], None, f_to_json),
    func!("toRawJson", [A], None, f_to_raw_json),
    func!("b64enc", [S], None, f_b64enc),
    func!("b64dec", [S], None, f_b64dec),
    func!("quote", [], Some(A), f_quote),
    func!("squote", [], Some(A), f_squote),
    func!("trim", [S], None, f_trim),
    func!("trimAll", [S, S], None, f_trim_all),
    func!("trimall", [S, S], None, f_trim_all),
    func!("trimPrefix", [S, S], None, f_trim_prefix),
    func!("trimSuffix", [S, S], None, f_trim_suffix),
    func!("upper", [S], None, f_upper),
    func!("lower", [S], None, f_lower),
    func!("title", [S], None, f_title),
    func!("replace", [S, S, S], None, f_replace),
    func!("nospace", [S], None, f_nospace),
    func!("cat", [], Some(A), f_cat),
    func!("default", [A], Some(A), f_default),
    func!("empty", [A], None, f_empty),
    func!("coalesce", [], Some(A), f_coalesce),
    func!("contains", [S, S], None, f_contains),
    func!("hasPrefix", [S, S], None, f_has_prefix),
    func!("hasSuffix", [S, S], None, f_has_suffix),
    func!("repeat", [I, S], None, f_repeat),
    func!("substr", [I, I, S], None, f_substr),
    func!("trunc", [I, S], None, f_trunc),
    func!("indent", [I, S], None, f_indent),
    func!("nindent", [I, S], None, f_nindent),
    func!("sha256sum", [S], None, f_sha256sum),
    func!("toString", [A], None, f_to_string),
    func!("join", [S, A], None, f_join),
];

/// Every name in Go's builtins and sprig's `GenericFuncMap` (less the three the reference
/// deletes), to tell an unimplemented function from an unknown one.
#[rustfmt::skip]
const GO_AND_SPRIG_FUNCS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println",
    "urlquery", "eq", "ge", "gt", "le", "lt", "ne", "hello", "ago", "date", "date_in_zone",
    "date_modify", "dateInZone", "dateModify", "duration", "durationRound", "htmlDate",
    "htmlDateInZone", "must_date_modify", "mustDateModify", "mustToDate", "now", "toDate",
    "unixEpoch", "abbrev", "abbrevboth", "trunc", "trim", "upper", "lower", "title", "untitle",
    "substr", "repeat", "trimall", "trimAll", "trimSuffix", "trimPrefix", "nospace", "initials",
    "randAlphaNum", "randAlpha", "randAscii", "randNumeric", "swapcase", "shuffle", "snakecase",
    "camelcase", "kebabcase", "wrap", "wrapWith", "contains", "hasPrefix", "hasSuffix", "quote",
    "squote", "cat", "indent", "nindent", "replace", "plural", "sha1sum", "sha256sum", "sha512sum",
    "adler32sum", "toString", "atoi", "int64", "int", "float64", "seq", "toDecimal", "split",
    "splitList", "splitn", "toStrings", "until", "untilStep", "add1", "add", "sub", "div", "mod",
    "mul", "randInt", "add1f", "addf", "subf", "divf", "mulf", "biggest", "max", "min", "maxf",
    "minf", "ceil", "floor", "round", "join", "sortAlpha", "default", "empty", "coalesce", "all",
    "any", "compact", "mustCompact", "fromJson", "toJson", "toPrettyJson", "toRawJson",
    "mustFromJson", "mustToJson", "mustToPrettyJson", "mustToRawJson", "ternary", "deepCopy",
    "mustDeepCopy", "typeOf", "typeIs", "typeIsLike", "kindOf", "kindIs", "deepEqual", "base",
    "dir", "clean", "ext", "isAbs", "osBase", "osClean", "osDir", "osExt", "osIsAbs", "b64enc",
    "b64dec", "b32enc", "b32dec", "tuple", "list", "dict", "get", "set", "unset", "hasKey", "pluck",
    "keys", "pick", "omit", "merge", "mergeOverwrite", "mustMerge", "mustMergeOverwrite", "values",
    "append", "push", "mustAppend", "mustPush", "prepend", "mustPrepend", "first", "mustFirst",
    "rest", "mustRest", "last", "mustLast", "initial", "mustInitial", "reverse", "mustReverse",
    "uniq", "mustUniq", "without", "mustWithout", "has", "mustHas", "mustSlice", "concat", "dig",
    "chunk", "mustChunk", "bcrypt", "htpasswd", "genPrivateKey", "derivePassword",
    "buildCustomCert", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey",
    "genSignedCert", "genSignedCertWithKey", "encryptAES", "decryptAES", "randBytes", "uuidv4",
    "semver", "semverCompare", "fail", "regexMatch", "mustRegexMatch", "regexFindAll",
    "mustRegexFindAll", "regexFind", "mustRegexFind", "regexReplaceAll", "mustRegexReplaceAll",
    "regexReplaceAllLiteral", "mustRegexReplaceAllLiteral", "regexSplit", "mustRegexSplit",
    "regexQuoteMeta", "urlParse", "urlJoin",
];

/// Unpacks exactly `N` arguments (the caller has checked the count).
fn args<const N: usize>(argv: Vec<Value<'_>>) -> Result<[Value<'_>; N], FnError> {
    argv.try_into()
        .map_err(|_| failed("internal error: wrong argument count"))
}

fn bytes<'v>(value: &'v Value<'_>) -> &'v [u8] {
    match value {
        Value::Str(s) => s,
        _ => &[],
    }
}

fn int(value: &Value<'_>) -> i64 {
    match value {
        Value::Int(i) => *i,
        _ => 0,
    }
}

fn f_index(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let mut argv = argv.into_iter();
    let mut item = argv.next().unwrap_or(Value::Nil);
    if let Value::Nil = item {
        return Err(failed("index of untyped nil"));
    }
    for index in argv {
        item = match item {
            Value::Map(map) => match index {
                Value::Str(key) => {
                    let found = std::str::from_utf8(&key).ok().and_then(|k| map.get(k));
                    found.map_or(borrowed(&[]), |v| borrowed(v))
                }
                Value::Nil => return Err(failed("value is nil; should be of type string")),
                other => {
                    return Err(FnError::Failed(format!(
                        "value has type {}; should be string",
                        other.type_name()
                    )));
                }
            },
            Value::Str(s) => {
                let i = match index {
                    Value::Int(i) => i,
                    Value::Byte(b) => i64::from(b),
                    Value::Nil => return Err(failed("cannot index slice/array with nil")),
                    other => {
                        let reason =
                            format!("cannot index slice/array with type {}", other.type_name());
                        return Err(FnError::Failed(reason));
                    }
                };
                let byte = usize::try_from(i).ok().and_then(|i| s.get(i).copied());
                Value::Byte(byte.ok_or_else(|| failed("index out of range"))?)
            }
            Value::Nil => return Err(failed("index of nil pointer")),
            other => {
                return Err(FnError::Failed(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

fn f_len(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [v] = args(argv)?;
    match v {
        Value::Str(s) => Ok(Value::Int(s.len() as i64)),
        Value::Map(m) => Ok(Value::Int(m.len() as i64)),
        Value::Nil => Err(failed("len of nil value")),
        other => Err(FnError::Failed(format!(
            "len of type {}",
            other.type_name()
        ))),
    }
}

fn f_print(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let mut out = Vec::new();
    let mut prev_string = false;
    for (i, arg) in argv.iter().enumerate() {
        let is_string = matches!(arg, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(b' ');
        }
        fmt_value(arg, &mut out);
        check_len(out.len() as u128)?;
        prev_string = is_string;
    }
    sized(out)
}

fn f_println(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        fmt_value(arg, &mut out);
        check_len(out.len() as u128)?;
    }
    out.push(b'\n');
    sized(out)
}

fn f_printf(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let (format, rest) = argv.split_first().ok_or_else(|| failed("missing format"))?;
    let mut out = Vec::new();
    sprintf(bytes(format), rest, &mut out)?;
    sized(out)
}

fn f_to_json(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [v] = args(argv)?;
    let mut out = Vec::new();
    json_value(&v, true, &mut out);
    sized(out)
}

fn f_to_raw_json(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [v] = args(argv)?;
    let mut out = Vec::new();
    json_value(&v, false, &mut out);
    sized(out)
}

fn f_b64enc(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    sized(b64_encode(bytes(&s)))
}

fn f_b64dec(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    // sprig returns the decoder's error text as the value.
    Ok(owned(match b64_decode(bytes(&s)) {
        Ok(decoded) => decoded,
        Err(at) => format!("illegal base64 data at input byte {at}").into_bytes(),
    }))
}

fn f_quote(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().filter(|a| !matches!(a, Value::Nil)).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        quote_bytes(&strval(arg), b'"', &mut out);
        check_len(out.len() as u128)?;
    }
    sized(out)
}

fn f_squote(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().filter(|a| !matches!(a, Value::Nil)).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'\'');
        fmt_value(arg, &mut out);
        out.push(b'\'');
        check_len(out.len() as u128)?;
    }
    sized(out)
}

fn f_trim(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    Ok(owned(trim_space(bytes(&s)).to_vec()))
}

fn f_trim_all(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [cutset, s] = args(argv)?;
    Ok(owned(trim_cutset(bytes(&s), bytes(&cutset)).to_vec()))
}

fn f_trim_prefix(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [prefix, s] = args(argv)?;
    let s = bytes(&s);
    Ok(owned(s.strip_prefix(bytes(&prefix)).unwrap_or(s).to_vec()))
}

fn f_trim_suffix(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [suffix, s] = args(argv)?;
    let s = bytes(&s);
    Ok(owned(s.strip_suffix(bytes(&suffix)).unwrap_or(s).to_vec()))
}

fn map_runes(s: &[u8], mut f: impl FnMut(u32) -> u32) -> Result<Value<'static>, FnError> {
    let mut out = Vec::with_capacity(s.len());
    for (r, _) in runes(s) {
        push_rune(&mut out, f(r));
    }
    sized(out)
}

fn f_upper(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    map_runes(bytes(&s), to_upper)
}

fn f_lower(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    map_runes(bytes(&s), to_lower)
}

fn f_title(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    // Go's deprecated strings.Title: a letter after a separator is title-cased.
    let is_separator = |r: u32| match u8::try_from(r) {
        Ok(b) if b < 0x80 => !is_word(b),
        _ => is_space_rune(r),
    };
    let mut prev = u32::from(b' ');
    map_runes(bytes(&s), |r| {
        let mapped = if is_separator(prev) { to_title(r) } else { r };
        prev = r;
        mapped
    })
}

fn f_replace(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [old, new, src] = args(argv)?;
    sized(replace_all(bytes(&src), bytes(&old), bytes(&new))?)
}

fn f_nospace(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    // goutils.DeleteWhiteSpace walks bytes, not runes: each kept byte is written back as the
    // rune of the same number, so bytes >= 0x80 are re-encoded when anything was removed.
    let s = bytes(&s);
    let is_space_byte = |b: u8| matches!(b, 0x09..=0x0d | b' ' | 0x85 | 0xa0);
    if !s.iter().any(|&b| is_space_byte(b)) {
        return Ok(owned(s.to_vec()));
    }
    let mut out = Vec::with_capacity(s.len());
    for &b in s.iter().filter(|&&b| !is_space_byte(b)) {
        push_rune(&mut out, u32::from(b));
    }
    sized(out)
}

fn f_cat(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().filter(|a| !matches!(a, Value::Nil)).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        fmt_value(arg, &mut out);
        check_len(out.len() as u128)?;
    }
    sized(out)
}

fn is_empty(value: &Value<'_>) -> bool {
    match value {
        Value::Nil => true,
        Value::Str(s) => s.is_empty(),
        Value::Int(i) => *i == 0,
        Value::Byte(b) => *b == 0,
        Value::Bool(b) => !b,
        Value::Map(m) => m.is_empty(),
    }
}

fn f_default(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let mut argv = argv.into_iter();
    let default = argv.next().unwrap_or(Value::Nil);
    match argv.next() {
        Some(given) if !is_empty(&given) => Ok(given),
        _ => Ok(default),
    }
}

fn f_empty(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [v] = args(argv)?;
    Ok(Value::Bool(is_empty(&v)))
}

fn f_coalesce(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    Ok(argv
        .into_iter()
        .find(|v| !is_empty(v))
        .unwrap_or(Value::Nil))
}

fn f_contains(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [sub, s] = args(argv)?;
    let (sub, s) = (bytes(&sub), bytes(&s));
    Ok(Value::Bool(
        sub.len() <= s.len() && Finder::new(sub).find(s).is_some(),
    ))
}

fn f_has_prefix(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [prefix, s] = args(argv)?;
    Ok(Value::Bool(bytes(&s).starts_with(bytes(&prefix))))
}

fn f_has_suffix(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [suffix, s] = args(argv)?;
    Ok(Value::Bool(bytes(&s).ends_with(bytes(&suffix))))
}

fn f_repeat(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [count, s] = args(argv)?;
    let s = bytes(&s);
    let count = u64::try_from(int(&count)).map_err(|_| failed("negative repeat count"))?;
    if s.is_empty() {
        return Ok(owned(Vec::new()));
    }
    check_len(s.len() as u128 * u128::from(count))?;
    sized(s.repeat(count as usize))
}

fn f_substr(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [start, end, s] = args(argv)?;
    let (start, end, s) = (int(&start), int(&end), bytes(&s));
    let len = s.len() as i64;
    // sprig's substring, with Go's slice bounds checks (a panic there is an error).
    let (lo, hi) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if !(0 <= lo && lo <= hi && hi <= len) {
        return Err(failed("slice bounds out of range"));
    }
    Ok(owned(s[lo as usize..hi as usize].to_vec()))
}

fn f_trunc(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [c, s] = args(argv)?;
    let (c, s) = (i128::from(int(&c)), bytes(&s));
    let len = s.len() as i128;
    let out = if c < 0 && len + c > 0 {
        &s[(len + c) as usize..]
    } else if c >= 0 && len > c {
        &s[..c as usize]
    } else {
        s
    };
    Ok(owned(out.to_vec()))
}

fn indent(spaces: i64, s: &[u8], out: &mut Vec<u8>) -> Result<(), FnError> {
    let spaces = u64::try_from(spaces).map_err(|_| failed("negative repeat count"))?;
    let lines = s.iter().filter(|&&b| b == b'\n').count() as u128 + 1;
    check_len(s.len() as u128 + lines * u128::from(spaces))?;
    let pad = vec![b' '; spaces as usize];
    out.extend_from_slice(&pad);
    for &b in s {
        out.push(b);
        if b == b'\n' {
            out.extend_from_slice(&pad);
        }
    }
    Ok(())
}

fn f_indent(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [n, s] = args(argv)?;
    let mut out = Vec::new();
    indent(int(&n), bytes(&s), &mut out)?;
    sized(out)
}

fn f_nindent(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [n, s] = args(argv)?;
    let mut out = vec![b'\n'];
    indent(int(&n), bytes(&s), &mut out)?;
    sized(out)
}

fn f_sha256sum(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    let digest = Sha256::digest(bytes(&s));
    let mut out = Vec::with_capacity(64);
    push_hex(&mut out, &digest, false);
    Ok(owned(out))
}

fn f_to_string(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [v] = args(argv)?;
    Ok(owned(strval(&v).into_owned()))
}

fn f_join(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    // With no lists in this subset, sprig's join sees one element (none for nil).
    let [_sep, v] = args(argv)?;
    Ok(match v {
        Value::Nil => owned(Vec::new()),
        v => owned(strval(&v).into_owned()),
    })
}

// ---------------------------------------------------------------------------------------
// Formatting: Go's fmt for the value kinds above.

/// `fmt.Sprint(v)`: Go's `%v` without flags.
fn fmt_value(value: &Value<'_>, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => out.extend_from_slice(s),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Byte(b) => out.extend_from_slice(b.to_string().as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"<nil>"),
        Value::Map(map) => {
            out.extend_from_slice(b"map[");
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b':');
                out.extend_from_slice(v);
            }
            out.push(b']');
        }
    }
}

/// sprig's strval: a string as is, anything else through `%v`.
fn strval<'v>(value: &'v Value<'_>) -> Cow<'v, [u8]> {
    match value {
        Value::Str(s) => Cow::Borrowed(s),
        other => {
            let mut out = Vec::new();
            fmt_value(other, &mut out);
            Cow::Owned(out)
        }
    }
}

#[derive(Default)]
struct Flags {
    minus: bool,
    width: Option<usize>,
}

/// Go's `fmt.Sprintf` for the `-` flag and widths.
fn sprintf(format: &[u8], args: &[Value<'_>], out: &mut Vec<u8>) -> Result<(), FnError> {
    let end = format.len();
    let mut i = 0;
    let mut arg_num = 0;
    while i < end {
        // Widths can make each verb large: stop as soon as the value is too large.
        check_len(out.len() as u128)?;
        let start = i;
        while i < end && format[i] != b'%' {
            i += 1;
        }
        out.extend_from_slice(&format[start..i]);
        if i >= end {
            break;
        }
        i += 1;
        let mut flags = Flags::default();
        while let Some(&c) = format.get(i) {
            match c {
                b'-' => flags.minus = true,
                b'#' | b'0' | b'+' | b' ' => {
                    return Err(FnError::Unsupported(format!(
                        "printf flag {:?}",
                        char::from(c)
                    )));
                }
                _ => break,
            }
            i += 1;
        }
        match format.get(i) {
            Some(b'[') => return Err(FnError::Unsupported("printf argument index".into())),
            Some(b'*') => return Err(FnError::Unsupported("printf width from argument".into())),
            _ => {}
        }
        // Go's parsenum, including its give-up on absurd widths.
        let mut width = 0usize;
        let mut has_width = false;
        while let Some(&d) = format.get(i).filter(|d| d.is_ascii_digit()) {
            if width > 1_000_000 {
                has_width = false;
                i = end;
                break;
            }
            width = width * 10 + usize::from(d - b'0');
            has_width = true;
            i += 1;
        }
        if has_width {
            flags.width = Some(width);
        }
        if i + 1 < end && format[i] == b'.' {
            return Err(FnError::Unsupported("printf precision".into()));
        }
        if format.get(i) == Some(&b'[') {
            return Err(FnError::Unsupported("printf argument index".into()));
        }
        if i >= end {
            out.extend_from_slice(b"%!(NOVERB)");
            break;
        }
        let (rune, size) = decode_rune(&format[i..]);
        i += size;
        let verb = char::from_u32(rune).unwrap_or('\u{fffd}');
        if verb == '%' {
            out.push(b'%');
        } else if let Some(arg) = args.get(arg_num) {
            print_arg(arg, verb, &flags, out)?;
            arg_num += 1;
        } else {
            out.extend_from_slice(b"%!");
            push_rune(out, rune);
            out.extend_from_slice(b"(MISSING)");
        }
        check_len(out.len() as u128)?;
    }
    if arg_num < args.len() {
        out.extend_from_slice(b"%!(EXTRA ");
        for (i, arg) in args[arg_num..].iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            if let Value::Nil = arg {
                out.extend_from_slice(b"<nil>");
            } else {
                out.extend_from_slice(arg.type_name().as_bytes());
                out.push(b'=');
                print_arg(arg, 'v', &Flags::default(), out)?;
            }
            check_len(out.len() as u128)?;
        }
        out.push(b')');
    }
    Ok(())
}

/// Go's `pp.printArg`.
fn print_arg(arg: &Value<'_>, verb: char, flags: &Flags, out: &mut Vec<u8>) -> Result<(), FnError> {
    match (arg, verb) {
        (Value::Nil, 'T' | 'v') => pad(out, b"<nil>", flags),
        (Value::Nil, _) => bad_verb(arg, verb, flags, out)?,
        (_, 'T') => pad(out, arg.type_name().as_bytes(), flags),
        (Value::Map(_), 'p') => {
            return Err(FnError::Unsupported("printf %p of a map".into()));
        }
        (_, 'p') => bad_verb(arg, verb, flags, out)?,
        _ => print_value(arg, verb, flags, out)?,
    }
    Ok(())
}

/// Go's `pp.printValue` / `fmtString` / `fmtInteger` / `fmtBool`.
fn print_value(
    value: &Value<'_>,
    verb: char,
    flags: &Flags,
    out: &mut Vec<u8>,
) -> Result<(), FnError> {
    match value {
        Value::Bool(b) if verb == 't' || verb == 'v' => {
            pad(out, if *b { b"true" } else { b"false" }, flags);
        }
        Value::Int(i) => {
            return fmt_integer(
                i.is_negative(),
                i.unsigned_abs(),
                *i as u64,
                value,
                verb,
                flags,
                out,
            );
        }
        Value::Byte(b) => {
            return fmt_integer(false, u64::from(*b), u64::from(*b), value, verb, flags, out);
        }
        Value::Str(s) if verb == 'v' || verb == 's' => pad(out, s, flags),
        Value::Str(s) if verb == 'x' || verb == 'X' => {
            let mut hex = Vec::with_capacity(s.len() * 2);
            push_hex(&mut hex, s, verb == 'X');
            pad(out, &hex, flags);
        }
        Value::Str(s) if verb == 'q' => {
            let mut quoted = Vec::with_capacity(s.len() + 2);
            quote_bytes(s, b'"', &mut quoted);
            pad(out, &quoted, flags);
        }
        Value::Map(map) => {
            out.extend_from_slice(b"map[");
            for (i, (k, val)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                print_value(&borrowed(k.as_bytes()), verb, flags, out)?;
                out.push(b':');
                print_value(&borrowed(val), verb, flags, out)?;
                check_len(out.len() as u128)?;
            }
            out.push(b']');
        }
        Value::Nil if verb == 'v' => pad(out, b"<nil>", flags),
        _ => bad_verb(value, verb, flags, out)?,
    }
    Ok(())
}

fn bad_verb(
    value: &Value<'_>,
    verb: char,
    flags: &Flags,
    out: &mut Vec<u8>,
) -> Result<(), FnError> {
    out.extend_from_slice(b"%!");
    push_rune(out, u32::from(verb));
    out.push(b'(');
    if let Value::Nil = value {
        out.extend_from_slice(b"<nil>");
    } else {
        out.extend_from_slice(value.type_name().as_bytes());
        out.push(b'=');
        print_arg(value, 'v', flags, out)?;
    }
    out.push(b')');
    Ok(())
}

fn fmt_integer(
    negative: bool,
    magnitude: u64,
    raw: u64,
    value: &Value<'_>,
    verb: char,
    flags: &Flags,
    out: &mut Vec<u8>,
) -> Result<(), FnError> {
    let rune = || if raw > 0x10_ffff { 0xfffd } else { raw as u32 };
    let mut buf = Vec::new();
    let digits = match verb {
        'v' | 'd' => format!("{magnitude}"),
        'b' => format!("{magnitude:b}"),
        'o' => format!("{magnitude:o}"),
        'O' => format!("0o{magnitude:o}"),
        'x' => format!("{magnitude:x}"),
        'X' => format!("{magnitude:X}"),
        'c' => {
            push_rune(&mut buf, rune());
            pad(out, &buf, flags);
            return Ok(());
        }
        'q' => {
            quote_rune(rune(), &mut buf);
            pad(out, &buf, flags);
            return Ok(());
        }
        'U' => {
            pad(out, format!("U+{raw:04X}").as_bytes(), flags);
            return Ok(());
        }
        _ => return bad_verb(value, verb, flags, out),
    };
    if negative {
        buf.push(b'-');
    }
    buf.extend_from_slice(digits.as_bytes());
    pad(out, &buf, flags);
    Ok(())
}

/// Go's `fmt.pad`: widths count runes, padding is spaces.
fn pad(out: &mut Vec<u8>, s: &[u8], flags: &Flags) {
    let fill = flags
        .width
        .map_or(0, |w| w.saturating_sub(runes(s).count()));
    if !flags.minus {
        out.resize(out.len() + fill, b' ');
    }
    out.extend_from_slice(s);
    if flags.minus {
        out.resize(out.len() + fill, b' ');
    }
}

fn push_hex(out: &mut Vec<u8>, bytes: &[u8], upper: bool) {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    for &b in bytes {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 0xf)]);
    }
}

/// Go's `strconv.Quote`-style quoting, as `%q` and sprig's `quote` use it.
fn quote_bytes(s: &[u8], quote: u8, out: &mut Vec<u8>) {
    out.push(quote);
    let mut i = 0;
    while i < s.len() {
        let (r, width) = decode_rune(&s[i..]);
        if width == 1 && r == 0xfffd {
            out.extend_from_slice(b"\\x");
            push_hex(out, &s[i..=i], false);
        } else {
            escape_rune(r, quote, out);
        }
        i += width.max(1);
    }
    out.push(quote);
}

/// Go's `strconv.QuoteRune`, as `%q` of an integer uses it.
fn quote_rune(r: u32, out: &mut Vec<u8>) {
    let r = if char::from_u32(r).is_some() {
        r
    } else {
        0xfffd
    };
    out.push(b'\'');
    escape_rune(r, b'\'', out);
    out.push(b'\'');
}

/// Go's `strconv.appendEscapedRune` (not ASCII-only, not graphic-only).
fn escape_rune(r: u32, quote: u8, out: &mut Vec<u8>) {
    if r == u32::from(quote) || r == u32::from(b'\\') {
        out.push(b'\\');
        push_rune(out, r);
        return;
    }
    if is_print(r) {
        push_rune(out, r);
        return;
    }
    match r {
        0x07 => out.extend_from_slice(b"\\a"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0d => out.extend_from_slice(b"\\r"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x0b => out.extend_from_slice(b"\\v"),
        0..0x20 | 0x7f => out.extend_from_slice(format!("\\x{r:02x}").as_bytes()),
        _ => {
            let r = if char::from_u32(r).is_some() {
                r
            } else {
                0xfffd
            };
            let escaped = if r < 0x10000 {
                format!("\\u{r:04x}")
            } else {
                format!("\\U{r:08x}")
            };
            out.extend_from_slice(escaped.as_bytes());
        }
    }
}

/// Go's `encoding/json` for the value kinds above (`html`: escape `<`, `>`, `&`).
fn json_value(value: &Value<'_>, html: bool, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => json_string(s, html, out),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Byte(b) => out.extend_from_slice(b.to_string().as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::Map(map) => {
            out.push(b'{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_string(k.as_bytes(), html, out);
                out.push(b':');
                json_string(v, html, out);
            }
            out.push(b'}');
        }
    }
}

/// Go's `encoding/json` `appendString`.
fn json_string(s: &[u8], html: bool, out: &mut Vec<u8>) {
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c < 0x80 {
            let safe =
                c >= 0x20 && c != b'"' && c != b'\\' && !(html && matches!(c, b'<' | b'>' | b'&'));
            if !safe {
                out.extend_from_slice(&s[start..i]);
                match c {
                    b'"' | b'\\' => out.extend_from_slice(&[b'\\', c]),
                    0x08 => out.extend_from_slice(b"\\b"),
                    0x0c => out.extend_from_slice(b"\\f"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    _ => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
                }
                start = i + 1;
            }
            i += 1;
            continue;
        }
        let (r, width) = decode_rune(&s[i..]);
        if width == 1 && r == 0xfffd {
            out.extend_from_slice(&s[start..i]);
            out.extend_from_slice(b"\\ufffd");
            start = i + 1;
        } else if r == 0x2028 || r == 0x2029 {
            out.extend_from_slice(&s[start..i]);
            out.extend_from_slice(format!("\\u{r:04x}").as_bytes());
            start = i + width;
        }
        i += width.max(1);
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Go's `base64.StdEncoding.EncodeToString`).
fn b64_encode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len().div_ceil(3) * 4);
    for chunk in s.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * k) & 0x3f) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

/// Go's `base64.StdEncoding.DecodeString`: newlines ignored, padding required, trailing
/// bits ignored. `Err(offset)` is Go's `CorruptInputError`.
fn b64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut table = [0xffu8; 256];
    for (i, &c) in B64.iter().enumerate() {
        table[usize::from(c)] = i as u8;
    }
    let decode = |c: u8| Some(u32::from(table[usize::from(c)])).filter(|&d| d != 0xff);
    let skip_newlines = |mut si: usize| {
        while matches!(src.get(si), Some(b'\n' | b'\r')) {
            si += 1;
        }
        si
    };
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        // Go's decodeQuantum.
        let mut quantum = [0u32; 4];
        let mut len = 4;
        let mut trailing = None;
        let mut j = 0;
        while j < 4 {
            let Some(&c) = src.get(si) else {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            };
            si += 1;
            if let Some(d) = decode(c) {
                quantum[j] = d;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                si = skip_newlines(si);
                match src.get(si) {
                    None => return Err(src.len()),
                    Some(b'=') => si += 1,
                    Some(_) => return Err(si - 1),
                }
            }
            si = skip_newlines(si);
            if si < src.len() {
                trailing = Some(si);
            }
            len = j;
            break;
        }
        let n = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3];
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8][..len - 1]);
        if let Some(at) = trailing {
            return Err(at);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Bytes as Go strings

/// Go's `utf8.DecodeRune`: an invalid or truncated sequence is U+FFFD of width 1; an empty
/// input is U+FFFD of width 0.
fn decode_rune(s: &[u8]) -> (u32, usize) {
    match s.first() {
        None => (0xfffd, 0),
        Some(&b) if b < 0x80 => (u32::from(b), 1),
        Some(_) => {
            let head = &s[..s.len().min(4)];
            let valid = match std::str::from_utf8(head) {
                Ok(text) => text,
                Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
            };
            valid
                .chars()
                .next()
                .map_or((0xfffd, 1), |c| (u32::from(c), c.len_utf8()))
        }
    }
}

/// Go's `utf8.DecodeLastRune`.
fn decode_last_rune(s: &[u8]) -> (u32, usize) {
    let Some(&last) = s.last() else {
        return (0xfffd, 0);
    };
    if last < 0x80 {
        return (u32::from(last), 1);
    }
    let end = s.len();
    let limit = end.saturating_sub(4);
    let mut start = end - 1;
    while start > limit && (s[start] & 0xc0) == 0x80 {
        start -= 1;
    }
    let (r, size) = decode_rune(&s[start..end]);
    if start + size != end {
        (0xfffd, 1)
    } else {
        (r, size)
    }
}

fn runes(s: &[u8]) -> impl Iterator<Item = (u32, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let (r, width) = decode_rune(s.get(i..)?);
        if width == 0 {
            return None;
        }
        i += width;
        Some((r, width))
    })
}

fn push_rune(out: &mut Vec<u8>, r: u32) {
    let c = char::from_u32(r).unwrap_or('\u{fffd}');
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
}

/// Go's `unicode.IsSpace` (the same set as Rust's `char::is_whitespace`).
fn is_space_rune(r: u32) -> bool {
    char::from_u32(r).is_some_and(char::is_whitespace)
}

/// Go's `strings.TrimSpace`.
fn trim_space(s: &[u8]) -> &[u8] {
    let mut start = 0;
    loop {
        let (r, width) = decode_rune(&s[start..]);
        if width == 0 || !is_space_rune(r) {
            break;
        }
        start += width;
    }
    let mut end = s.len();
    while end > start {
        let (r, width) = decode_last_rune(&s[start..end]);
        if !is_space_rune(r) {
            break;
        }
        end -= width;
    }
    &s[start..end]
}

/// Go's `strings.Trim(s, cutset)`.
fn trim_cutset<'s>(s: &'s [u8], cutset: &[u8]) -> &'s [u8] {
    if s.is_empty() || cutset.is_empty() {
        return s;
    }
    let set: Vec<u32> = runes(cutset).map(|(r, _)| r).collect();
    let mut end = s.len();
    while end > 0 {
        let (r, width) = decode_last_rune(&s[..end]);
        if !set.contains(&r) {
            break;
        }
        end -= width;
    }
    let mut start = 0;
    while start < end {
        let (r, width) = decode_rune(&s[start..end]);
        if !set.contains(&r) {
            break;
        }
        start += width;
    }
    &s[start..end]
}

/// Go's `strings.Replace(s, old, new, -1)`.
fn replace_all(s: &[u8], old: &[u8], new: &[u8]) -> Result<Vec<u8>, FnError> {
    if old == new || old.len() > s.len() {
        return Ok(s.to_vec());
    }
    let finder = Finder::new(old);
    let count = if old.is_empty() {
        runes(s).count() + 1
    } else {
        let mut count = 0;
        let mut at = 0;
        while let Some(i) = finder.find(&s[at..]) {
            count += 1;
            at += i + old.len();
        }
        count
    };
    let len = s.len() as u128 + count as u128 * new.len() as u128;
    check_len(len.saturating_sub(count as u128 * old.len() as u128))?;
    let mut out = Vec::with_capacity(s.len());
    let mut start = 0;
    for i in 0..count {
        let mut j = start;
        if old.is_empty() {
            if i > 0 {
                j += decode_rune(&s[start..]).1;
            }
        } else {
            j += finder.find(&s[start..]).unwrap_or(s.len() - start);
        }
        out.extend_from_slice(&s[start..j]);
        out.extend_from_slice(new);
        start = (j + old.len()).min(s.len());
    }
    out.extend_from_slice(&s[start..]);
    Ok(out)
}

/// Substring search in linear time (Knuth-Morris-Pratt), so that large values cannot make
/// `contains` or `replace` quadratic.
struct Finder<'n> {
    needle: &'n [u8],
    fail: Vec<u32>,
}

impl<'n> Finder<'n> {
    fn new(needle: &'n [u8]) -> Self {
        let mut fail = vec![0u32; needle.len()];
        let mut k = 0usize;
        for i in 1..needle.len() {
            while k > 0 && needle[i] != needle[k] {
                k = fail[k - 1] as usize;
            }
            if needle[i] == needle[k] {
                k += 1;
            }
            fail[i] = k as u32;
        }
        Finder { needle, fail }
    }

    fn find(&self, hay: &[u8]) -> Option<usize> {
        if self.needle.is_empty() {
            return Some(0);
        }
        let mut k = 0;
        for (i, &b) in hay.iter().enumerate() {
            while k > 0 && b != self.needle[k] {
                k = self.fail[k - 1] as usize;
            }
            if b == self.needle[k] {
                k += 1;
            }
            if k == self.needle.len() {
                return Some(i + 1 - k);
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------------------
// Unicode as Go 1.26 sees it (Unicode 15.0)

/// Go's `unicode.IsPrint` / `strconv.IsPrint`.
fn is_print(r: u32) -> bool {
    if r < 0x80 {
        return (0x20..0x7f).contains(&r);
    }
    PRINT_RANGES
        .binary_search_by(|&(lo, hi)| {
            if hi < r {
                std::cmp::Ordering::Less
            } else if lo > r {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// A simple (one-to-one) case mapping from Rust's tables, kept only where Go's tables have
/// both characters (Rust may know a newer Unicode version).
fn simple_case<I: Iterator<Item = char>>(r: u32, map: fn(char) -> I) -> u32 {
    let Some(c) = char::from_u32(r) else {
        return r;
    };
    let mut mapped = map(c);
    match (mapped.next(), mapped.next()) {
        (Some(m), None) if m != c && is_print(r) && is_print(u32::from(m)) => u32::from(m),
        _ => r,
    }
}

/// Go's `unicode.ToUpper`.
fn to_upper(r: u32) -> u32 {
    match r {
        // Greek letters with ypogegrammeni: Go maps them to the prosgegrammeni forms, Rust's
        // full mapping to two characters.
        0x1f80..=0x1f87 | 0x1f90..=0x1f97 | 0x1fa0..=0x1fa7 => r + 8,
        0x1fb3 | 0x1fc3 | 0x1ff3 => r + 9,
        _ => simple_case(r, char::to_uppercase),
    }
}

/// Go's `unicode.ToLower`.
fn to_lower(r: u32) -> u32 {
    match r {
        0x130 => 0x69,
        _ => simple_case(r, char::to_lowercase),
    }
}

/// Go's `unicode.ToTitle`.
fn to_title(r: u32) -> u32 {
    match r {
        0x1c4..=0x1c6 => 0x1c5,
        0x1c7..=0x1c9 => 0x1c8,
        0x1ca..=0x1cc => 0x1cb,
        0x1f1..=0x1f3 => 0x1f2,
        // Georgian Mkhedruli has no title case mapping, only an upper case one.
        0x10d0..=0x10fa | 0x10fd..=0x10ff => r,
        _ => to_upper(r),
    }
}

/// The printable code points at or above U+0080 in Go's `unicode.IsPrint` (Go 1.26,
/// Unicode 15.0): letters, marks, numbers, punctuation and symbols.
#[rustfmt::skip]
const PRINT_RANGES: &[(u32, u32)] = &[
    (0xA1, 0xAC), (0xAE, 0x377), (0x37A, 0x37F), (0x384, 0x38A), (0x38C, 0x38C), (0x38E, 0x3A1),
    (0x3A3, 0x52F), (0x531, 0x556), (0x559, 0x58A), (0x58D, 0x58F), (0x591, 0x5C7), (0x5D0, 0x5EA),
    (0x5EF, 0x5F4), (0x606, 0x61B), (0x61D, 0x6DC), (0x6DE, 0x70D), (0x710, 0x74A), (0x74D, 0x7B1),
    (0x7C0, 0x7FA), (0x7FD, 0x82D), (0x830, 0x83E), (0x840, 0x85B), (0x85E, 0x85E), (0x860, 0x86A),
    (0x870, 0x88E), (0x898, 0x8E1), (0x8E3, 0x983), (0x985, 0x98C), (0x98F, 0x990), (0x993, 0x9A8),
    (0x9AA, 0x9B0), (0x9B2, 0x9B2), (0x9B6, 0x9B9), (0x9BC, 0x9C4), (0x9C7, 0x9C8), (0x9CB, 0x9CE),
    (0x9D7, 0x9D7), (0x9DC, 0x9DD), (0x9DF, 0x9E3), (0x9E6, 0x9FE), (0xA01, 0xA03), (0xA05, 0xA0A),
    (0xA0F, 0xA10), (0xA13, 0xA28), (0xA2A, 0xA30), (0xA32, 0xA33), (0xA35, 0xA36), (0xA38, 0xA39),
    (0xA3C, 0xA3C), (0xA3E, 0xA42), (0xA47, 0xA48), (0xA4B, 0xA4D), (0xA51, 0xA51), (0xA59, 0xA5C),
    (0xA5E, 0xA5E), (0xA66, 0xA76), (0xA81, 0xA83), (0xA85, 0xA8D), (0xA8F, 0xA91), (0xA93, 0xAA8),
    (0xAAA, 0xAB0), (0xAB2, 0xAB3), (0xAB5, 0xAB9), (0xABC, 0xAC5), (0xAC7, 0xAC9), (0xACB, 0xACD),
    (0xAD0, 0xAD0), (0xAE0, 0xAE3), (0xAE6, 0xAF1), (0xAF9, 0xAFF), (0xB01, 0xB03), (0xB05, 0xB0C),
    (0xB0F, 0xB10), (0xB13, 0xB28), (0xB2A, 0xB30), (0xB32, 0xB33), (0xB35, 0xB39), (0xB3C, 0xB44),
    (0xB47, 0xB48), (0xB4B, 0xB4D), (0xB55, 0xB57), (0xB5C, 0xB5D), (0xB5F, 0xB63), (0xB66, 0xB77),
    (0xB82, 0xB83), (0xB85, 0xB8A), (0xB8E, 0xB90), (0xB92, 0xB95), (0xB99, 0xB9A), (0xB9C, 0xB9C),
    (0xB9E, 0xB9F), (0xBA3, 0xBA4), (0xBA8, 0xBAA), (0xBAE, 0xBB9), (0xBBE, 0xBC2), (0xBC6, 0xBC8),
    (0xBCA, 0xBCD), (0xBD0, 0xBD0), (0xBD7, 0xBD7), (0xBE6, 0xBFA), (0xC00, 0xC0C), (0xC0E, 0xC10),
    (0xC12, 0xC28), (0xC2A, 0xC39), (0xC3C, 0xC44), (0xC46, 0xC48), (0xC4A, 0xC4D), (0xC55, 0xC56),
    (0xC58, 0xC5A), (0xC5D, 0xC5D), (0xC60, 0xC63), (0xC66, 0xC6F), (0xC77, 0xC8C), (0xC8E, 0xC90),
    (0xC92, 0xCA8), (0xCAA, 0xCB3), (0xCB5, 0xCB9), (0xCBC, 0xCC4), (0xCC6, 0xCC8), (0xCCA, 0xCCD),
    (0xCD5, 0xCD6), (0xCDD, 0xCDE), (0xCE0, 0xCE3), (0xCE6, 0xCEF), (0xCF1, 0xCF3), (0xD00, 0xD0C),
    (0xD0E, 0xD10), (0xD12, 0xD44), (0xD46, 0xD48), (0xD4A, 0xD4F), (0xD54, 0xD63), (0xD66, 0xD7F),
    (0xD81, 0xD83), (0xD85, 0xD96), (0xD9A, 0xDB1), (0xDB3, 0xDBB), (0xDBD, 0xDBD), (0xDC0, 0xDC6),
    (0xDCA, 0xDCA), (0xDCF, 0xDD4), (0xDD6, 0xDD6), (0xDD8, 0xDDF), (0xDE6, 0xDEF), (0xDF2, 0xDF4),
    (0xE01, 0xE3A), (0xE3F, 0xE5B), (0xE81, 0xE82), (0xE84, 0xE84), (0xE86, 0xE8A), (0xE8C, 0xEA3),
    (0xEA5, 0xEA5), (0xEA7, 0xEBD), (0xEC0, 0xEC4), (0xEC6, 0xEC6), (0xEC8, 0xECE), (0xED0, 0xED9),
    (0xEDC, 0xEDF), (0xF00, 0xF47), (0xF49, 0xF6C), (0xF71, 0xF97), (0xF99, 0xFBC), (0xFBE, 0xFCC),
    (0xFCE, 0xFDA), (0x1000, 0x10C5), (0x10C7, 0x10C7), (0x10CD, 0x10CD), (0x10D0, 0x1248),
    (0x124A, 0x124D), (0x1250, 0x1256), (0x1258, 0x1258), (0x125A, 0x125D), (0x1260, 0x1288),
    (0x128A, 0x128D), (0x1290, 0x12B0), (0x12B2, 0x12B5), (0x12B8, 0x12BE), (0x12C0, 0x12C0),
    (0x12C2, 0x12C5), (0x12C8, 0x12D6), (0x12D8, 0x1310), (0x1312, 0x1315), (0x1318, 0x135A),
    (0x135D, 0x137C), (0x1380, 0x1399), (0x13A0, 0x13F5), (0x13F8, 0x13FD), (0x1400, 0x167F),
    (0x1681, 0x169C), (0x16A0, 0x16F8), (0x1700, 0x1715), (0x171F, 0x1736), (0x1740, 0x1753),
    (0x1760, 0x176C), (0x176E, 0x1770), (0x1772, 0x1773), (0x1780, 0x17DD), (0x17E0, 0x17E9),
    (0x17F0, 0x17F9), (0x1800, 0x180D), (0x180F, 0x1819), (0x1820, 0x1878), (0x1880, 0x18AA),
    (0x18B0, 0x18F5), (0x1900, 0x191E), (0x1920, 0x192B), (0x1930, 0x193B), (0x1940, 0x1940),
    (0x1944, 0x196D), (0x1970, 0x1974), (0x1980, 0x19AB), (0x19B0, 0x19C9), (0x19D0, 0x19DA),
    (0x19DE, 0x1A1B), (0x1A1E, 0x1A5E), (0x1A60, 0x1A7C), (0x1A7F, 0x1A89), (0x1A90, 0x1A99),
    (0x1AA0, 0x1AAD), (0x1AB0, 0x1ACE), (0x1B00, 0x1B4C), (0x1B50, 0x1B7E), (0x1B80, 0x1BF3),
    (0x1BFC, 0x1C37), (0x1C3B, 0x1C49), (0x1C4D, 0x1C88), (0x1C90, 0x1CBA), (0x1CBD, 0x1CC7),
    (0x1CD0, 0x1CFA), (0x1D00, 0x1F15), (0x1F18, 0x1F1D), (0x1F20, 0x1F45), (0x1F48, 0x1F4D),
    (0x1F50, 0x1F57), (0x1F59, 0x1F59), (0x1F5B, 0x1F5B), (0x1F5D, 0x1F5D), (0x1F5F, 0x1F7D),
    (0x1F80, 0x1FB4), (0x1FB6, 0x1FC4), (0x1FC6, 0x1FD3), (0x1FD6, 0x1FDB), (0x1FDD, 0x1FEF),
    (0x1FF2, 0x1FF4), (0x1FF6, 0x1FFE), (0x2010, 0x2027), (0x2030, 0x205E), (0x2070, 0x2071),
    (0x2074, 0x208E), (0x2090, 0x209C), (0x20A0, 0x20C0), (0x20D0, 0x20F0), (0x2100, 0x218B),
    (0x2190, 0x2426), (0x2440, 0x244A), (0x2460, 0x2B73), (0x2B76, 0x2B95), (0x2B97, 0x2CF3),
    (0x2CF9, 0x2D25), (0x2D27, 0x2D27), (0x2D2D, 0x2D2D), (0x2D30, 0x2D67), (0x2D6F, 0x2D70),
    (0x2D7F, 0x2D96), (0x2DA0, 0x2DA6), (0x2DA8, 0x2DAE), (0x2DB0, 0x2DB6), (0x2DB8, 0x2DBE),
    (0x2DC0, 0x2DC6), (0x2DC8, 0x2DCE), (0x2DD0, 0x2DD6), (0x2DD8, 0x2DDE), (0x2DE0, 0x2E5D),
    (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x2FF0, 0x2FFB), (0x3001, 0x303F),
    (0x3041, 0x3096), (0x3099, 0x30FF), (0x3105, 0x312F), (0x3131, 0x318E), (0x3190, 0x31E3),
    (0x31F0, 0x321E), (0x3220, 0xA48C), (0xA490, 0xA4C6), (0xA4D0, 0xA62B), (0xA640, 0xA6F7),
    (0xA700, 0xA7CA), (0xA7D0, 0xA7D1), (0xA7D3, 0xA7D3), (0xA7D5, 0xA7D9), (0xA7F2, 0xA82C),
    (0xA830, 0xA839), (0xA840, 0xA877), (0xA880, 0xA8C5), (0xA8CE, 0xA8D9), (0xA8E0, 0xA953),
    (0xA95F, 0xA97C), (0xA980, 0xA9CD), (0xA9CF, 0xA9D9), (0xA9DE, 0xA9FE), (0xAA00, 0xAA36),
    (0xAA40, 0xAA4D), (0xAA50, 0xAA59), (0xAA5C, 0xAAC2), (0xAADB, 0xAAF6), (0xAB01, 0xAB06),
    (0xAB09, 0xAB0E), (0xAB11, 0xAB16), (0xAB20, 0xAB26), (0xAB28, 0xAB2E), (0xAB30, 0xAB6B),
    (0xAB70, 0xABED), (0xABF0, 0xABF9), (0xAC00, 0xD7A3), (0xD7B0, 0xD7C6), (0xD7CB, 0xD7FB),
    (0xF900, 0xFA6D), (0xFA70, 0xFAD9), (0xFB00, 0xFB06), (0xFB13, 0xFB17), (0xFB1D, 0xFB36),
    (0xFB38, 0xFB3C), (0xFB3E, 0xFB3E), (0xFB40, 0xFB41), (0xFB43, 0xFB44), (0xFB46, 0xFBC2),
    (0xFBD3, 0xFD8F), (0xFD92, 0xFDC7), (0xFDCF, 0xFDCF), (0xFDF0, 0xFE19), (0xFE20, 0xFE52),
    (0xFE54, 0xFE66), (0xFE68, 0xFE6B), (0xFE70, 0xFE74), (0xFE76, 0xFEFC), (0xFF01, 0xFFBE),
    (0xFFC2, 0xFFC7), (0xFFCA, 0xFFCF), (0xFFD2, 0xFFD7), (0xFFDA, 0xFFDC), (0xFFE0, 0xFFE6),
    (0xFFE8, 0xFFEE), (0xFFFC, 0xFFFD), (0x10000, 0x1000B), (0x1000D, 0x10026), (0x10028, 0x1003A),
    (0x1003C, 0x1003D), (0x1003F, 0x1004D), (0x10050, 0x1005D), (0x10080, 0x100FA),
    (0x10100, 0x10102), (0x10107, 0x10133), (0x10137, 0x1018E), (0x10190, 0x1019C),
    (0x101A0, 0x101A0), (0x101D0, 0x101FD), (0x10280, 0x1029C), (0x102A0, 0x102D0),
    (0x102E0, 0x102FB), (0x10300, 0x10323), (0x1032D, 0x1034A), (0x10350, 0x1037A),
    (0x10380, 0x1039D), (0x1039F, 0x103C3), (0x103C8, 0x103D5), (0x10400, 0x1049D),
    (0x104A0, 0x104A9), (0x104B0, 0x104D3), (0x104D8, 0x104FB), (0x10500, 0x10527),
    (0x10530, 0x10563), (0x1056F, 0x1057A), (0x1057C, 0x1058A), (0x1058C, 0x10592),
    (0x10594, 0x10595), (0x10597, 0x105A1), (0x105A3, 0x105B1), (0x105B3, 0x105B9),
    (0x105BB, 0x105BC), (0x10600, 0x10736), (0x10740, 0x10755), (0x10760, 0x10767),
    (0x10780, 0x10785), (0x10787, 0x107B0), (0x107B2, 0x107BA), (0x10800, 0x10805),
    (0x10808, 0x10808), (0x1080A, 0x10835), (0x10837, 0x10838), (0x1083C, 0x1083C),
    (0x1083F, 0x10855), (0x10857, 0x1089E), (0x108A7, 0x108AF), (0x108E0, 0x108F2),
    (0x108F4, 0x108F5), (0x108FB, 0x1091B), (0x1091F, 0x10939), (0x1093F, 0x1093F),
    (0x10980, 0x109B7), (0x109BC, 0x109CF), (0x109D2, 0x10A03), (0x10A05, 0x10A06),
    (0x10A0C, 0x10A13), (0x10A15, 0x10A17), (0x10A19, 0x10A35), (0x10A38, 0x10A3A),
    (0x10A3F, 0x10A48), (0x10A50, 0x10A58), (0x10A60, 0x10A9F), (0x10AC0, 0x10AE6),
    (0x10AEB, 0x10AF6), (0x10B00, 0x10B35), (0x10B39, 0x10B55), (0x10B58, 0x10B72),
    (0x10B78, 0x10B91), (0x10B99, 0x10B9C), (0x10BA9, 0x10BAF), (0x10C00, 0x10C48),
    (0x10C80, 0x10CB2), (0x10CC0, 0x10CF2), (0x10CFA, 0x10D27), (0x10D30, 0x10D39),
    (0x10E60, 0x10E7E), (0x10E80, 0x10EA9), (0x10EAB, 0x10EAD), (0x10EB0, 0x10EB1),
    (0x10EFD, 0x10F27), (0x10F30, 0x10F59), (0x10F70, 0x10F89), (0x10FB0, 0x10FCB),
    (0x10FE0, 0x10FF6), (0x11000, 0x1104D), (0x11052, 0x11075), (0x1107F, 0x110BC),
    (0x110BE, 0x110C2), (0x110D0, 0x110E8), (0x110F0, 0x110F9), (0x11100, 0x11134),
    (0x11136, 0x11147), (0x11150, 0x11176), (0x11180, 0x111DF), (0x111E1, 0x111F4),
    (0x11200, 0x11211), (0x11213, 0x11241), (0x11280, 0x11286), (0x11288, 0x11288),
    (0x1128A, 0x1128D), (0x1128F, 0x1129D), (0x1129F, 0x112A9), (0x112B0, 0x112EA),
    (0x112F0, 0x112F9), (0x11300, 0x11303), (0x11305, 0x1130C), (0x1130F, 0x11310),
    (0x11313, 0x11328), (0x1132A, 0x11330), (0x11332, 0x11333), (0x11335, 0x11339),
    (0x1133B, 0x11344), (0x11347, 0x11348), (0x1134B, 0x1134D), (0x11350, 0x11350),
    (0x11357, 0x11357), (0x1135D, 0x11363), (0x11366, 0x1136C), (0x11370, 0x11374),
    (0x11400, 0x1145B), (0x1145D, 0x11461), (0x11480, 0x114C7), (0x114D0, 0x114D9),
    (0x11580, 0x115B5), (0x115B8, 0x115DD), (0x11600, 0x11644), (0x11650, 0x11659),
    (0x11660, 0x1166C), (0x11680, 0x116B9), (0x116C0, 0x116C9), (0x11700, 0x1171A),
    (0x1171D, 0x1172B), (0x11730, 0x11746), (0x11800, 0x1183B), (0x118A0, 0x118F2),
    (0x118FF, 0x11906), (0x11909, 0x11909), (0x1190C, 0x11913), (0x11915, 0x11916),
    (0x11918, 0x11935), (0x11937, 0x11938), (0x1193B, 0x11946), (0x11950, 0x11959),
    (0x119A0, 0x119A7), (0x119AA, 0x119D7), (0x119DA, 0x119E4), (0x11A00, 0x11A47),
    (0x11A50, 0x11AA2), (0x11AB0, 0x11AF8), (0x11B00, 0x11B09), (0x11C00, 0x11C08),
    (0x11C0A, 0x11C36), (0x11C38, 0x11C45), (0x11C50, 0x11C6C), (0x11C70, 0x11C8F),
    (0x11C92, 0x11CA7), (0x11CA9, 0x11CB6), (0x11D00, 0x11D06), (0x11D08, 0x11D09),
    (0x11D0B, 0x11D36), (0x11D3A, 0x11D3A), (0x11D3C, 0x11D3D), (0x11D3F, 0x11D47),
    (0x11D50, 0x11D59), (0x11D60, 0x11D65), (0x11D67, 0x11D68), (0x11D6A, 0x11D8E),
    (0x11D90, 0x11D91), (0x11D93, 0x11D98), (0x11DA0, 0x11DA9), (0x11EE0, 0x11EF8),
    (0x11F00, 0x11F10), (0x11F12, 0x11F3A), (0x11F3E, 0x11F59), (0x11FB0, 0x11FB0),
    (0x11FC0, 0x11FF1), (0x11FFF, 0x12399), (0x12400, 0x1246E), (0x12470, 0x12474),
    (0x12480, 0x12543), (0x12F90, 0x12FF2), (0x13000, 0x1342F), (0x13440, 0x13455),
    (0x14400, 0x14646), (0x16800, 0x16A38), (0x16A40, 0x16A5E), (0x16A60, 0x16A69),
    (0x16A6E, 0x16ABE), (0x16AC0, 0x16AC9), (0x16AD0, 0x16AED), (0x16AF0, 0x16AF5),
    (0x16B00, 0x16B45), (0x16B50, 0x16B59), (0x16B5B, 0x16B61), (0x16B63, 0x16B77),
    (0x16B7D, 0x16B8F), (0x16E40, 0x16E9A), (0x16F00, 0x16F4A), (0x16F4F, 0x16F87),
    (0x16F8F, 0x16F9F), (0x16FE0, 0x16FE4), (0x16FF0, 0x16FF1), (0x17000, 0x187F7),
    (0x18800, 0x18CD5), (0x18D00, 0x18D08), (0x1AFF0, 0x1AFF3), (0x1AFF5, 0x1AFFB),
    (0x1AFFD, 0x1AFFE), (0x1B000, 0x1B122), (0x1B132, 0x1B132), (0x1B150, 0x1B152),
    (0x1B155, 0x1B155), (0x1B164, 0x1B167), (0x1B170, 0x1B2FB), (0x1BC00, 0x1BC6A),
    (0x1BC70, 0x1BC7C), (0x1BC80, 0x1BC88), (0x1BC90, 0x1BC99), (0x1BC9C, 0x1BC9F),
    (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1CF50, 0x1CFC3), (0x1D000, 0x1D0F5),
    (0x1D100, 0x1D126), (0x1D129, 0x1D172), (0x1D17B, 0x1D1EA), (0x1D200, 0x1D245),
    (0x1D2C0, 0x1D2D3), (0x1D2E0, 0x1D2F3), (0x1D300, 0x1D356), (0x1D360, 0x1D378),
    (0x1D400, 0x1D454), (0x1D456, 0x1D49C), (0x1D49E, 0x1D49F), (0x1D4A2, 0x1D4A2),
    (0x1D4A5, 0x1D4A6), (0x1D4A9, 0x1D4AC), (0x1D4AE, 0x1D4B9), (0x1D4BB, 0x1D4BB),
    (0x1D4BD, 0x1D4C3), (0x1D4C5, 0x1D505), (0x1D507, 0x1D50A), (0x1D50D, 0x1D514),
    (0x1D516, 0x1D51C), (0x1D51E, 0x1D539), (0x1D53B, 0x1D53E), (0x1D540, 0x1D544),
    (0x1D546, 0x1D546), (0x1D54A, 0x1D550), (0x1D552, 0x1D6A5), (0x1D6A8, 0x1D7CB),
    (0x1D7CE, 0x1DA8B), (0x1DA9B, 0x1DA9F), (0x1DAA1, 0x1DAAF), (0x1DF00, 0x1DF1E),
    (0x1DF25, 0x1DF2A), (0x1E000, 0x1E006), (0x1E008, 0x1E018), (0x1E01B, 0x1E021),
    (0x1E023, 0x1E024), (0x1E026, 0x1E02A), (0x1E030, 0x1E06D), (0x1E08F, 0x1E08F),
    (0x1E100, 0x1E12C), (0x1E130, 0x1E13D), (0x1E140, 0x1E149), (0x1E14E, 0x1E14F),
    (0x1E290, 0x1E2AE), (0x1E2C0, 0x1E2F9), (0x1E2FF, 0x1E2FF), (0x1E4D0, 0x1E4F9),
    (0x1E7E0, 0x1E7E6), (0x1E7E8, 0x1E7EB), (0x1E7ED, 0x1E7EE), (0x1E7F0, 0x1E7FE),
    (0x1E800, 0x1E8C4), (0x1E8C7, 0x1E8D6), (0x1E900, 0x1E94B), (0x1E950, 0x1E959),
    (0x1E95E, 0x1E95F), (0x1EC71, 0x1ECB4), (0x1ED01, 0x1ED3D), (0x1EE00, 0x1EE03),
    (0x1EE05, 0x1EE1F), (0x1EE21, 0x1EE22), (0x1EE24, 0x1EE24), (0x1EE27, 0x1EE27),
    (0x1EE29, 0x1EE32), (0x1EE34, 0x1EE37), (0x1EE39, 0x1EE39), (0x1EE3B, 0x1EE3B),
    (0x1EE42, 0x1EE42), (0x1EE47, 0x1EE47), (0x1EE49, 0x1EE49), (0x1EE4B, 0x1EE4B),
    (0x1EE4D, 0x1EE4F), (0x1EE51, 0x1EE52), (0x1EE54, 0x1EE54), (0x1EE57, 0x1EE57),
    (0x1EE59, 0x1EE59), (0x1EE5B, 0x1EE5B), (0x1EE5D, 0x1EE5D), (0x1EE5F, 0x1EE5F),
    (0x1EE61, 0x1EE62), (0x1EE64, 0x1EE64), (0x1EE67, 0x1EE6A), (0x1EE6C, 0x1EE72),
    (0x1EE74, 0x1EE77), (0x1EE79, 0x1EE7C), (0x1EE7E, 0x1EE7E), (0x1EE80, 0x1EE89),
    (0x1EE8B, 0x1EE9B), (0x1EEA1, 0x1EEA3), (0x1EEA5, 0x1EEA9), (0x1EEAB, 0x1EEBB),
    (0x1EEF0, 0x1EEF1), (0x1F000, 0x1F02B), (0x1F030, 0x1F093), (0x1F0A0, 0x1F0AE),
    (0x1F0B1, 0x1F0BF), (0x1F0C1, 0x1F0CF), (0x1F0D1, 0x1F0F5), (0x1F100, 0x1F1AD),
    (0x1F1E6, 0x1F202), (0x1F210, 0x1F23B), (0x1F240, 0x1F248), (0x1F250, 0x1F251),
    (0x1F260, 0x1F265), (0x1F300, 0x1F6D7), (0x1F6DC, 0x1F6EC), (0x1F6F0, 0x1F6FC),
    (0x1F700, 0x1F776), (0x1F77B, 0x1F7D9), (0x1F7E0, 0x1F7EB), (0x1F7F0, 0x1F7F0),
    (0x1F800, 0x1F80B), (0x1F810, 0x1F847), (0x1F850, 0x1F859), (0x1F860, 0x1F887),
    (0x1F890, 0x1F8AD), (0x1F8B0, 0x1F8B1), (0x1F900, 0x1FA53), (0x1FA60, 0x1FA6D),
    (0x1FA70, 0x1FA7C), (0x1FA80, 0x1FA88), (0x1FA90, 0x1FABD), (0x1FABF, 0x1FAC5),
    (0x1FACE, 0x1FADB), (0x1FAE0, 0x1FAE8), (0x1FAF0, 0x1FAF8), (0x1FB00, 0x1FB92),
    (0x1FB94, 0x1FBCA), (0x1FBF0, 0x1FBF9), (0x20000, 0x2A6DF), (0x2A700, 0x2B739),
    (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1), (0x2CEB0, 0x2EBE0), (0x2F800, 0x2FA1D),
    (0x30000, 0x3134A), (0x31350, 0x323AF), (0xE0100, 0xE01EF),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn data_of(items: &[(&str, &[u8])]) -> Data {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect()
    }

    fn data() -> Data {
        data_of(&[
            ("a", b"x"),
            ("b", b"y"),
            ("foo", b"bar"),
            ("password", b"hunter2'\"="),
            ("html", b"<a href=\"x\">&amp;</a>"),
            ("bin", b"\xff\x00\xc3("),
            ("uni", "héllo wörld ǆ ß".as_bytes()),
            ("ws", b"  \t hi there \n "),
            ("b64", b"aGVsbG8gd29ybGQ="),
            ("num", b"42"),
            ("empty", b""),
            ("nl", b"line1\nline2"),
            ("key-with-dash", b"dashed"),
        ])
    }

    fn ok(template: &str) -> Vec<u8> {
        render(template, &data()).unwrap_or_else(|e| panic!("{template:?} failed: {e}"))
    }

    fn err(template: &str) -> TemplateError {
        match render(template, &data()) {
            Ok(out) => panic!("{template:?} rendered {:?}", String::from_utf8_lossy(&out)),
            Err(e) => e,
        }
    }

    fn check_table(table: &[(&str, &[u8])], data: &Data) {
        for (template, want) in table {
            match render(template, data) {
                Ok(got) => assert_eq!(
                    got,
                    *want,
                    "{template:?}: got {:?}, want {:?}",
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(want)
                ),
                Err(e) => panic!("{template:?} failed: {e}"),
            }
        }
    }

    /// The reference's own template test (sealedsecret_test.go, TestSealRoundTripTemplateData
    /// and TestTemplateOmitEncryptedData).
    #[test]
    fn reference_test_cases() {
        let items = data_of(&[("foo", b"bar"), ("password", b"hunter2'\"=")]);
        assert_eq!(
            render(r#"secret {{ index . "foo" }} !"#, &items).unwrap(),
            b"secret bar !"
        );
        assert_eq!(
            render("{{ toJson .password }}", &items).unwrap(),
            br#""hunter2'\"=""#
        );
        assert_eq!(
            render("qux {{ .foo }} qux", &items).unwrap(),
            b"qux bar qux"
        );
        assert_eq!(
            render("no actions at all", &items).unwrap(),
            b"no actions at all"
        );
    }

    /// Expected outputs below were produced by Go 1.26 text/template with sprig v3.3.0 and
    /// the reference's function map, on the same data.
    #[test]
    fn renders_like_go() {
        let table: &[(&str, &[u8])] = &[
            ("{{ .a }}", b"x"),
            ("{{ .missing }}", b"<no value>"),
            ("{{ $.foo }}", b"bar"),
            (r#"{{ index . "key-with-dash" }}"#, b"dashed"),
            (r#"{{ index . "missing" }}"#, b""),
            (r#"{{ index . "foo" 1 }}"#, b"97"),
            ("{{ .bin }}", b"\xff\x00\xc3("),
            (
                r#"{{ "lit" }}{{ `raw\n` }}{{ 42 }}{{ -0x1f }}{{ 0o17 }}{{ 010 }}{{ 0b11 }}{{ true }}"#,
                b"litraw\\n42-311583true",
            ),
            (
                r#"{{ "a\tb\x41\101\u00e9\U0001F600" }}"#,
                b"a\tbAA\xc3\xa9\xf0\x9f\x98\x80",
            ),
            ("{{-3}}", b"-3"),
            ("{{ .a | }}", b"x"),
            ("{{ .a | upper }}", b"X"),
            (r#"{{ .a | printf "%s-%s" .b }}"#, b"y-x"),
            (r#"{{ printf "%s" (b64enc .a) }}"#, b"eA=="),
            ("{{ (upper .a) }}", b"X"),
            ("{{ (.).foo }}", b"bar"),
            ("{{ .missing.deeper }}", b"<no value>"),
            (r#"{{ len . }}{{ len .uni }}{{ len "" }}"#, b"13190"),
            (
                r#"{{ print .a .b 1 2 .missing nil true "c" }}"#,
                b"xy1 2 <nil> <nil> truec",
            ),
            ("{{ println .a 1 }}", b"x 1\n"),
            ("{{ toJson .password }}", b"\"hunter2'\\\"=\""),
            (
                "{{ toJson .html }}",
                b"\"\\u003ca href=\\\"x\\\"\\u003e\\u0026amp;\\u003c/a\\u003e\"",
            ),
            ("{{ toRawJson .html }}", b"\"<a href=\\\"x\\\">&amp;</a>\""),
            ("{{ toJson .bin }}", b"\"\\ufffd\\u0000\\ufffd(\""),
            (
                r#"{{ toJson "\u2028\u2029\x01\x7f\b\f" }}"#,
                b"\"\\u2028\\u2029\\u0001\x7f\\b\\f\"",
            ),
            (
                "{{ toJson 3 }}{{ toJson true }}{{ toJson .missing }}",
                b"3truenull",
            ),
            (
                r#"{{ b64enc .a }}{{ b64enc "ab" }}{{ b64enc .bin }}"#,
                b"eA==YWI=/wDDKA==",
            ),
            ("{{ b64dec .b64 }}", b"hello world"),
            (r#"{{ b64dec "aGVs\nbG8=" }}"#, b"hello"),
            (
                r#"{{ b64dec "abc" }}"#,
                b"illegal base64 data at input byte 0",
            ),
            (
                r#"{{ b64dec "aGVsbA==x" }}"#,
                b"illegal base64 data at input byte 8",
            ),
            ("{{ quote .password }}", b"\"hunter2'\\\"=\""),
            ("{{ quote .a .missing 3 true }}", b"\"x\" \"3\" \"true\""),
            ("{{ quote .bin }}", b"\"\\xff\\x00\\xc3(\""),
            (
                r#"{{ quote .uni "\u00ad" "\x1b" }}"#,
                b"\"h\xc3\xa9llo w\xc3\xb6rld \xc7\x86 \xc3\x9f\" \"\\u00ad\" \"\\x1b\"",
            ),
            ("{{ squote .a .missing 3 }}", b"'x' '3'"),
            ("{{ trim .ws }}", b"hi there"),
            (r#"{{ trimAll "ab" "abxyba" }}"#, b"xy"),
            (r#"{{ trimAll "é" "éxé" }}"#, b"x"),
            (r#"{{ trimPrefix "ab" "abab" }}"#, b"ab"),
            (r#"{{ trimSuffix "ab" "abab" }}"#, b"ab"),
            (
                "{{ upper .uni }}",
                b"H\xc3\x89LLO W\xc3\x96RLD \xc7\x84 \xc3\x9f",
            ),
            (r#"{{ lower "HÉLLO İ" }}"#, b"h\xc3\xa9llo i"),
            (
                r#"{{ title "hello wORLD foo-bar foo_bar ǆx" }}"#,
                b"Hello WORLD Foo-Bar Foo_bar \xc7\x85x",
            ),
            ("{{ upper .bin }}", b"\xef\xbf\xbd\x00\xef\xbf\xbd("),
            (r#"{{ replace "l" "L" "hello" }}"#, b"heLLo"),
            (r#"{{ replace "" "-" "abc" }}"#, b"-a-b-c-"),
            (r#"{{ "banana" | replace "an" "" }}"#, b"ba"),
            ("{{ nospace .ws }}", b"hithere"),
            (r#"{{ nospace "é a" }}"#, b"\xc3\x83\xc2\xa9a"),
            ("{{ cat .a .b .missing 3 true }}", b"x y 3 true"),
            (
                r#"{{ default "d" .missing }}{{ default "d" .empty }}{{ default "d" .a }}{{ .missing | default "p" }}{{ default "d" }}"#,
                b"ddxpd",
            ),
            (r#"{{ default 5 0 }}{{ default "d" false }}"#, b"5d"),
            (
                "{{ empty .a }}{{ empty .empty }}{{ empty 0 }}",
                b"falsetruetrue",
            ),
            ("{{ coalesce .missing .empty .b }}", b"y"),
            (
                r#"{{ contains "ell" "hello" }}{{ hasPrefix "he" "hello" }}{{ hasSuffix "x" "hello" }}"#,
                b"truetruefalse",
            ),
            (r#"{{ repeat 3 "ab" }}"#, b"ababab"),
            (
                r#"{{ substr 1 3 "hello" }}|{{ substr -1 3 "hello" }}|{{ substr 1 -1 "hello" }}|{{ substr 1 99 "hello" }}"#,
                b"el|hel|ello|ello",
            ),
            (
                r#"{{ trunc 3 "hello" }}|{{ trunc -3 "hello" }}|{{ trunc 9 "hello" }}|{{ trunc -9 "hello" }}"#,
                b"hel|llo|hello|hello",
            ),
            ("{{ indent 2 .nl }}", b"  line1\n  line2"),
            ("{{ nindent 2 .nl }}", b"\n  line1\n  line2"),
            (
                "{{ sha256sum .a }}",
                b"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
            ),
            (
                "{{ toString 3 }}{{ toString .missing }}{{ toString true }}",
                b"3<nil>true",
            ),
            (r#"{{ join "," .a }}{{ join "," .missing }}"#, b"x"),
        ];
        check_table(table, &data());
    }

    #[test]
    fn printf_like_go() {
        let table: &[(&str, &[u8])] = &[
            (
                r#"{{ printf "%s|%v|%d|%q|%x|%X|%T" .a .a 7 .password .a .a .a }}"#,
                b"x|x|7|\"hunter2'\\\"=\"|78|78|string",
            ),
            (
                r#"{{ printf "%d|%v|%x|%X|%b|%o|%O|%c|%q|%U|%T" -255 -255 -255 -255 5 8 8 65 10 128512 3 }}"#,
                b"-255|-255|-ff|-FF|101|10|0o10|A|'\\n'|U+1F600|int",
            ),
            (
                r#"{{ printf "%t|%v|%s" true false true }}"#,
                b"true|false|%!s(bool=true)",
            ),
            (
                r#"{{ printf "%v|%s|%T" nil nil nil }}"#,
                b"<nil>|%!s(<nil>)|<nil>",
            ),
            (r#"{{ printf "%d" .a }}"#, b"%!d(string=x)"),
            (r#"{{ printf "%s %s" .a }}"#, b"x %!s(MISSING)"),
            (
                r#"{{ printf "%s" .a .b 3 nil }}"#,
                b"x%!(EXTRA string=y, int=3, <nil>)",
            ),
            (
                r#"{{ printf "%5s|%-5s|%3d|%-4v|" .a .b 7 true }}"#,
                b"    x|y    |  7|true|",
            ),
            (
                r#"{{ printf "100%%" }}{{ printf "%" }}{{ printf "%z" 1 }}"#,
                b"100%%!(NOVERB)%!z(int=1)",
            ),
        ];
        check_table(table, &data());
    }

    #[test]
    fn the_dot_prints_like_a_go_map() {
        let small = data_of(&[("a", b"x"), ("b", b"<y>")]);
        let table: &[(&str, &[u8])] = &[
            (
                "{{ . }}|{{ $ }}|{{ print . }}|{{ index . }}",
                b"map[a:x b:<y>]|map[a:x b:<y>]|map[a:x b:<y>]|map[a:x b:<y>]",
            ),
            (
                r#"{{ printf "%v|%s|%q|%x|%d|%4v" . . . . . . }}"#,
                b"map[a:x b:<y>]|map[a:x b:<y>]|map[\"a\":\"x\" \"b\":\"<y>\"]|map[61:78 62:3c793e]|map[%!d(string=a):%!d(string=x) %!d(string=b):%!d(string=<y>)]|map[   a:   x    b: <y>]",
            ),
            (
                "{{ toJson . }}|{{ toRawJson . }}|{{ len . }}",
                b"{\"a\":\"x\",\"b\":\"\\u003cy\\u003e\"}|{\"a\":\"x\",\"b\":\"<y>\"}|2",
            ),
            (
                r#"{{ default "e" . }}|{{ toString . }}|{{ quote . }}|{{ squote . }}"#,
                b"map[a:x b:<y>]|map[a:x b:<y>]|\"map[a:x b:<y>]\"|'map[a:x b:<y>]'",
            ),
        ];
        check_table(table, &small);
        assert_eq!(
            render("{{ . }}|{{ toJson . }}", &Data::new()).unwrap(),
            b"map[]|{}"
        );
    }

    #[test]
    fn trim_markers_and_comments() {
        assert_eq!(ok("a {{- .a -}} b"), b"axb");
        assert_eq!(ok("a {{- .a }} b {{ .b -}} c"), b"ax b yc");
        assert_eq!(ok("a \n\t{{- .a }}"), b"ax");
        assert_eq!(ok("{{ .a\n-}}\n\n z"), b"xz");
        assert_eq!(ok("x {{/* comment */}} y"), b"x  y");
        assert_eq!(ok("x {{- /* comment */ -}} y"), b"xy");
        assert_eq!(ok("x {{/* multi\nline */}} y"), b"x  y");
        assert_eq!(ok("{{ .a }}\r\n"), b"x\r\n");
        assert_eq!(ok("{{ `a\r\nb` }}"), b"a\nb");
        // A dash without a space next to it is a number sign, not a trim marker.
        assert_eq!(ok("{{-3}}"), b"-3");
        assert!(matches!(err("{{-.a}}"), TemplateError::Syntax { .. }));
        assert!(matches!(err("{{ .a- }}"), TemplateError::Syntax { .. }));
        assert!(matches!(
            err("x {{ /* c */ }}"),
            TemplateError::Syntax { .. }
        ));
        assert!(matches!(
            err("x {{/* c */ }}"),
            TemplateError::Syntax { .. }
        ));
        assert!(matches!(
            err("x {{/* unclosed"),
            TemplateError::Syntax { .. }
        ));
    }

    #[test]
    fn values_that_are_not_utf8_pass_through() {
        assert_eq!(ok("{{ .bin }}"), b"\xff\x00\xc3(");
        assert_eq!(ok("<{{ .bin | trunc 2 }}>"), b"<\xff\x00>");
        assert_eq!(ok("{{ .bin | b64enc | b64dec }}"), b"\xff\x00\xc3(");
        assert_eq!(ok(r#"{{ printf "%s" .bin }}"#), b"\xff\x00\xc3(");
        assert_eq!(ok(r#"{{ printf "%x" .bin }}"#), b"ff00c328");
    }

    #[test]
    fn refuses_control_actions() {
        for (template, keyword, offset) in [
            ("{{ if .a }}x{{ end }}", "if", 3),
            ("ab{{range .}}x{{end}}", "range", 4),
            ("{{- with .a }}x{{ end }}", "with", 4),
            (r#"{{ define "x" }}{{ end }}"#, "define", 3),
            (r#"{{ template "x" }}"#, "template", 3),
            (r#"{{ block "x" . }}{{ end }}"#, "block", 3),
            ("{{ end }}", "end", 3),
            ("{{ else }}", "else", 3),
            ("{{ break }}", "break", 3),
            ("{{ continue }}", "continue", 3),
        ] {
            let e = err(template);
            assert_eq!(
                e,
                TemplateError::UnsupportedAction {
                    keyword: keyword.into(),
                    offset
                },
                "{template}"
            );
        }
        assert_eq!(
            err("{{ if .a }}x{{ end }}").to_string(),
            r#"unsupported action "if" at offset 3"#
        );
        assert_eq!(
            err("0123456789{{ range . }}{{ end }}").to_string(),
            r#"unsupported action "range" at offset 13"#
        );
    }

    #[test]
    fn refuses_variables() {
        assert_eq!(
            err("{{ $x }}"),
            TemplateError::UnsupportedVariable {
                name: "$x".into(),
                offset: 3
            }
        );
        assert!(matches!(
            err("{{ $x := .a }}"),
            TemplateError::UnsupportedVariable { .. }
        ));
        assert!(matches!(
            err("{{ $ := .a }}"),
            TemplateError::Unsupported { .. }
        ));
        assert!(matches!(
            err("{{ .a = 1 }}"),
            TemplateError::Unsupported { .. }
        ));
        assert_eq!(ok("{{ $ | len }}"), b"13");
    }

    #[test]
    fn refuses_functions_it_does_not_have() {
        for name in ["env", "expandenv", "getHostByName", "nosuchfunc"] {
            let template = format!("{{{{ {name} \"HOME\" }}}}");
            assert_eq!(
                err(&template),
                TemplateError::UnknownFunction {
                    name: name.into(),
                    offset: 3
                }
            );
        }
        assert_eq!(
            err(r#"{{ env "HOME" }}"#).to_string(),
            r#"unknown function "env" at offset 3"#
        );
        for name in [
            "eq",
            "and",
            "regexMatch",
            "now",
            "randAlphaNum",
            "fail",
            "sha1sum",
            "list",
        ] {
            let template = format!("{{{{ {name} }}}}");
            assert_eq!(
                err(&template),
                TemplateError::UnsupportedFunction {
                    name: name.into(),
                    offset: 3
                }
            );
        }
    }

    #[test]
    fn refuses_constants_it_cannot_represent() {
        for template in [
            "{{ 1.5 }}",
            "{{ 1e3 }}",
            "{{ 1_000 }}",
            "{{ 1i }}",
            "{{ 'a' }}",
            "{{ 0x1p4 }}",
            "{{ .é }}",
        ] {
            assert!(
                matches!(err(template), TemplateError::Unsupported { .. }),
                "{template}"
            );
        }
    }

    #[test]
    fn arity_and_type_errors() {
        assert_eq!(
            err(r#"{{ upper "a" "b" }}"#),
            TemplateError::WrongArgCount {
                function: "upper".into(),
                want: "1".into(),
                got: 2,
                offset: 3
            }
        );
        assert_eq!(
            err("{{ printf }}"),
            TemplateError::WrongArgCount {
                function: "printf".into(),
                want: "at least 1".into(),
                got: 0,
                offset: 3
            }
        );
        assert!(matches!(
            err("{{ .a | replace \"x\" }}"),
            TemplateError::WrongArgCount { got: 2, .. }
        ));
        for template in [
            "{{ upper 3 }}",
            "{{ upper true }}",
            "{{ upper nil }}",
            "{{ upper . }}",
            "{{ upper .missing }}",
            "{{ .missing | upper }}",
            r#"{{ repeat "3" "a" }}"#,
            r#"{{ repeat .num "a" }}"#,
            "{{ 3 | repeat 2 }}",
        ] {
            assert!(
                matches!(err(template), TemplateError::WrongArgType { .. }),
                "{template}"
            );
        }
        assert_eq!(
            err("{{ upper .missing }}").to_string(),
            "wrong type for argument of upper at offset 9: expected string, got no value"
        );
    }

    #[test]
    fn failing_calls_are_errors() {
        for template in [
            r#"{{ repeat -1 "a" }}"#,
            r#"{{ substr 4 2 "hello" }}"#,
            r#"{{ substr 10 11 "hello" }}"#,
            r#"{{ indent -1 "a" }}"#,
            "{{ len 3 }}",
            "{{ len .missing }}",
            r#"{{ index .missing "a" }}"#,
            "{{ index . 1 }}",
            "{{ index . .missing }}",
            r#"{{ index "abc" 3 }}"#,
            r#"{{ index . "a" "b" }}"#,
        ] {
            assert!(
                matches!(err(template), TemplateError::CallFailed { .. }),
                "{template}"
            );
        }
    }

    #[test]
    fn execution_and_syntax_errors() {
        for template in [
            "{{ nil }}",
            "{{ .a.b }}",
            r#"{{ .a "x" }}"#,
            r#"{{ "a" | $ }}"#,
            r#"{{ "a" "b" }}"#,
            "{{ (.a) .b }}",
            "{{ coalesce.x }}",
        ] {
            assert!(
                matches!(err(template), TemplateError::Exec { .. }),
                "{template}"
            );
        }
        for template in [
            "{{",
            "{{ .a",
            "{{ }}",
            "{{ () }}",
            "{{ (.a }}",
            "{{ .a) }}",
            "{{ .a | | upper }}",
            "{{ | upper }}",
            "{{ .a | \"x\" }}",
            "{{ \"unterminated }}",
            "{{ `unterminated }}",
            r#"{{ "\q" }}"#,
            r#"{{ "\'" }}"#,
            r#"{{ "a
b" }}"#,
            "{{ .a,.b }}",
            "{{ 3- }}",
            "{{ 09 }}",
            "{{ \"a\".b }}",
        ] {
            assert!(
                matches!(err(template), TemplateError::Syntax { .. }),
                "{template}"
            );
        }
    }

    #[test]
    fn limits() {
        let deep = format!(
            "{{{{ {}.a{} }}}}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert_eq!(ok(&deep), b"x");
        let deeper = format!(
            "{{{{ {}.a{} }}}}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert!(matches!(err(&deeper), TemplateError::TooDeep { .. }));
        assert!(matches!(
            err(r#"{{ repeat 20000000 "a" }}"#),
            TemplateError::TooLarge { .. }
        ));
        assert!(matches!(
            err(r#"{{ repeat 9223372036854775807 "ab" }}"#),
            TemplateError::TooLarge { .. }
        ));
        assert_eq!(ok(r#"{{ repeat 100000 "abcdefgh" | trunc 3 }}"#), b"abc");
        assert!(matches!(
            err(r#"{{ repeat 200000 "abcdefgh" | trunc 3 }}"#),
            TemplateError::TooLarge { .. }
        ));
        assert_eq!(ok(r#"{{ repeat 9223372036854775807 "" }}"#), b"");
        let big = data_of(&[("v", &vec![b'a'; 3 << 20])]);
        let many = "{{ .v }}".repeat(6);
        assert!(matches!(
            render(&many, &big),
            Err(TemplateError::TooLarge { .. })
        ));
    }

    /// Finding: a ~1 KB object with a few dozen `repeat 16000000` values took 869 MiB. One
    /// budget per object bounds the sum, and each call's input is bounded too.
    #[test]
    fn one_budget_bounds_all_values_of_an_object() {
        let data = data();
        let mut budget = Budget::per_object();
        let value = r#"{{ repeat 1000000 "x" }}"#;
        let mut rendered = 0;
        let failure = loop {
            match render_within(value, &data, &mut budget) {
                Ok(out) => rendered += out.len(),
                Err(e) => break e,
            }
            assert!(rendered <= MAX_BUILT_PER_OBJECT, "budget not enforced");
        };
        assert!(
            matches!(failure, TemplateError::TooMuchOutput { .. }),
            "{failure}"
        );
        // Intermediates count: each value builds 1 MB twice (repeat, then the output).
        assert!(rendered >= MAX_BUILT_PER_OBJECT / 3, "{rendered}");
        // A fresh budget renders again.
        assert!(render(value, &data).is_ok());

        let steps = "{{ len . }}".repeat(MAX_STEPS_PER_OBJECT as usize / 2 + 1);
        assert!(matches!(
            render(&steps, &data),
            Err(TemplateError::TooManySteps { .. })
        ));
        // printf widths and many arguments cannot amplify past the value cap.
        let wide = format!(
            "{{{{ printf \"{}\"{} }}}}",
            "%999999d".repeat(50),
            " 1".repeat(50)
        );
        assert!(matches!(err(&wide), TemplateError::TooLarge { .. }));
        let big = data_of(&[("v", &vec![b'a'; 600_000])]);
        assert!(matches!(
            render("{{ print .v .v .v }}", &big),
            Err(TemplateError::TooLarge { .. })
        ));
        assert!(matches!(
            render("{{ print . . . }}", &big),
            Err(TemplateError::TooLarge { .. })
        ));
        assert_eq!(
            render(r#"{{ index . "v" | len }}"#, &big).unwrap(),
            b"600000"
        );
    }

    #[test]
    fn errors_never_contain_item_values() {
        let secret = "s3cr3t-VALUE";
        let items = data_of(&[("pw", secret.as_bytes()), ("n", b"12")]);
        for template in [
            "{{ upper (len .pw) }}",
            "{{ .pw.x }}",
            r#"{{ .pw "arg" }}"#,
            "{{ index .pw 99 }}",
            "{{ index .n .pw }}",
            "{{ substr 50 60 .pw }}",
            "{{ repeat .n .pw }}",
            "{{ len (upper .pw | lt 3) }}",
            "{{ .pw | printf \"%d\" | upper 3 }}",
            "{{ .n | index .pw }}",
            "{{ .pw | trunc 1 | nindent }}",
            r#"{{ .pw | b64dec | upper | repeat -1 }}"#,
        ] {
            let e = render(template, &items).expect_err(template);
            let text = format!("{e} {e:?}");
            assert!(!text.contains("s3cr3t"), "{template}: {text}");
        }
    }

    #[test]
    fn go_base64_decoding() {
        assert_eq!(b64_decode(b"aGVsbG8="), Ok(b"hello".to_vec()));
        assert_eq!(b64_decode(b"aGVs\r\nbG8=\n"), Ok(b"hello".to_vec()));
        assert_eq!(b64_decode(b""), Ok(Vec::new()));
        assert_eq!(b64_decode(b"aGVsbG8"), Err(4));
        assert_eq!(b64_decode(b"aGVsbA="), Err(7));
        assert_eq!(b64_decode(b"aGVsbA=x"), Err(6));
        assert_eq!(b64_decode(b"a==="), Err(1));
        assert_eq!(b64_decode(b"aGVs*"), Err(4));
        for len in 0..10 {
            let input: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
            assert_eq!(b64_decode(&b64_encode(&input)), Ok(input));
        }
    }

    #[test]
    fn unicode_like_go() {
        assert!(is_print(u32::from('é')) && is_print(0x1f600) && is_print(0xfffd));
        assert!(!is_print(0xa0) && !is_print(0xad) && !is_print(0x200b) && !is_print(0x378));
        assert_eq!(to_upper(u32::from('ß')), u32::from('ß'));
        assert_eq!(to_upper(0x1f80), 0x1f88);
        assert_eq!(to_lower(0x130), u32::from('i'));
        assert_eq!(to_title(0x1c6), 0x1c5);
        assert_eq!(to_title(0x10d0), 0x10d0);
        assert_eq!(decode_rune(b"\xe2\x82"), (0xfffd, 1));
        assert_eq!(decode_last_rune("a€".as_bytes()), (u32::from('€'), 3));
        assert_eq!(decode_last_rune(b"a\x82\xac"), (0xfffd, 1));
        assert_eq!(trim_space(b"\xc2\xa0 x \xe3\x80\x80"), b"x");
        assert_eq!(trim_cutset(b"\xff\xffx\xff", b"\xff"), b"x");
    }

    fn fragment() -> impl Strategy<Value = String> {
        let pieces = [
            "{{",
            "}}",
            "{{- ",
            " -}}",
            "{{/*",
            "*/}}",
            " ",
            "\n",
            "(",
            ")",
            "|",
            ".",
            "$",
            ".a",
            ".bin",
            ".missing",
            "\"%s\"",
            "\"%5d|%-q\"",
            "\"\\xff\"",
            "`r`",
            "\"",
            "`",
            "'",
            "0x1f",
            "-3",
            "1.5",
            "9999999999999999999",
            "true",
            "nil",
            "upper",
            "title",
            "quote",
            "toJson",
            "b64dec",
            "printf",
            "index",
            "len",
            "repeat",
            "substr",
            "trunc",
            "indent",
            "replace",
            "default",
            "cat",
            "trimAll",
            "nospace",
            "range",
            "if",
            "end",
            "env",
            "$x",
            ":=",
            "=",
            ",",
            "é",
            "\u{2028}",
        ];
        prop::collection::vec(prop::sample::select(pieces.to_vec()), 0..24).prop_map(|v| v.concat())
    }

    fn items() -> impl Strategy<Value = Data> {
        prop::collection::btree_map(
            "[a-c]|bin|missing",
            prop::collection::vec(any::<u8>(), 0..12),
            0..4,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn never_panics_on_arbitrary_text(template in any::<String>(), data in items()) {
            let _ = render(&template, &data);
        }

        #[test]
        fn never_panics_on_template_like_text(template in fragment(), data in items()) {
            let _ = render(&template, &data);
        }

        #[test]
        fn text_without_delimiters_is_copied(text in "[^{]*") {
            prop_assert_eq!(render(&text, &Data::new()).unwrap(), text.as_bytes());
        }
    }
}
