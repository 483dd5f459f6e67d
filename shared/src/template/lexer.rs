//! Go's text/template lexer, restricted to what the parser accepts.

use std::ops::Range;

use super::error::{MAX_NESTING, TemplateError, syntax, unsupported};
use super::strings::Finder;

#[derive(Clone, PartialEq)]
pub(super) enum Tok {
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
    pub(super) fn describe(&self) -> String {
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
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) pos: usize,
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

pub(super) fn lex(src: &str) -> Result<Vec<Token>, TemplateError> {
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
