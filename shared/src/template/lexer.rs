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
    /// `$` or `$name` (with the `$`).
    Variable(String),
    Ident(String),
    Keyword(&'static str),
    Bool(bool),
    Nil,
    Number(Num),
    Str(Vec<u8>),
    /// `=`
    Assign,
    /// `:=`
    Declare,
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
            Tok::Variable(name) => format!("variable {name:?}"),
            Tok::Ident(name) => format!("identifier {name:?}"),
            Tok::Keyword(k) => format!("keyword {k:?}"),
            Tok::Bool(b) => format!("{b}"),
            Tok::Nil => "nil".into(),
            Tok::Number(n) => format!("number {:?}", n.text),
            Tok::Str(_) => "string constant".into(),
            Tok::Assign => "\"=\"".into(),
            Tok::Declare => "\":=\"".into(),
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
                    self.push(Tok::Declare, pos);
                    self.pos += 2;
                }
                b'"' => self.quoted()?,
                b'`' => self.raw_quoted()?,
                b'\'' => self.char_constant()?,
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
            self.push(Tok::Variable("$".into()), pos);
            return Ok(());
        }
        let name = self.word()?;
        self.push(Tok::Variable(format!("${name}")), pos);
        Ok(())
    }

    /// Go's lexChar and `strconv.UnquoteChar`: one character, maybe escaped, as a number.
    fn char_constant(&mut self) -> Result<(), TemplateError> {
        let b = self.b;
        let start = self.pos;
        let mut p = start + 1;
        loop {
            match b.get(p) {
                None | Some(b'\n') => return Err(syntax(start, "unterminated character constant")),
                Some(b'\\') => match b.get(p + 1) {
                    None | Some(b'\n') => {
                        return Err(syntax(start, "unterminated character constant"));
                    }
                    Some(_) => p += 2,
                },
                Some(b'\'') => break,
                Some(_) => p += 1,
            }
        }
        let body = &b[start + 1..p];
        let rune = match body {
            [b'\\', b'"', ..] | [b'\\'] => None,
            [b'\\', b'\''] => Some(u32::from(b'\'')),
            [b'\\', ..] => unquote(body).and_then(|s| single_rune(&s, true)),
            _ => single_rune(body, false),
        };
        let Some(rune) = rune else {
            return Err(syntax(start, "malformed character constant"));
        };
        let text = String::from_utf8_lossy(&b[start..=p]).into_owned();
        let value = i64::from(rune);
        self.push(
            Tok::Number(Num {
                text,
                int: Some(value),
                uint: Some(value as u64),
                float: Some(value as f64),
            }),
            start,
        );
        self.pos = p + 1;
        Ok(())
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
        let num = new_number(text).map_err(|e| match e {
            NumError::Unsupported(what) => unsupported(start, what),
            NumError::Syntax(what) => syntax(start, what),
        })?;
        self.push(Tok::Number(num), start);
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

/// A number constant as Go's parser sees it: each interpretation that its text allows.
#[derive(Clone, PartialEq, Debug)]
pub(super) struct Num {
    pub(super) text: String,
    pub(super) int: Option<i64>,
    pub(super) uint: Option<u64>,
    pub(super) float: Option<f64>,
}

enum NumError {
    Unsupported(&'static str),
    Syntax(&'static str),
}

/// Go's `parse.newNumber` for the text `scanNumber` accepted (complex numbers aside).
fn new_number(text: &[u8]) -> Result<Num, NumError> {
    let s = std::str::from_utf8(text).map_err(|_| NumError::Syntax("bad number syntax"))?;
    if s.ends_with('i') {
        return Err(NumError::Unsupported("complex constant"));
    }
    let uint = parse_uint(s);
    let mut int = parse_int(s);
    let mut float = None;
    let mut uint_out = uint;
    if int == Some(0) {
        uint_out = uint.or(Some(0));
    }
    if let Some(i) = int {
        float = Some(i as f64);
    } else if let Some(u) = uint {
        float = Some(u as f64);
    } else {
        let hex = s.trim_start_matches(['+', '-']).starts_with("0x")
            || s.trim_start_matches(['+', '-']).starts_with("0X");
        if hex {
            // Hexadecimal floating-point constants (`0x1p4`).
            return Err(NumError::Unsupported("hexadecimal floating-point constant"));
        }
        if let Some(f) = parse_float(s) {
            if !s.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(NumError::Syntax("integer overflow"));
            }
            float = Some(f);
            if (f as i64) as f64 == f {
                int = Some(f as i64);
            }
            if f >= 0.0 && (f as u64) as f64 == f {
                uint_out = Some(f as u64);
            }
        }
    }
    if int.is_none() && uint_out.is_none() && float.is_none() {
        return Err(NumError::Syntax("bad number syntax"));
    }
    Ok(Num {
        text: s.into(),
        int,
        uint: uint_out,
        float,
    })
}

/// Go's `underscoreOK`: underscores only between digits (or after a base prefix).
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s).as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = s[1].eq_ignore_ascii_case(&b'x');
    }
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
fn parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() || s.starts_with(['+', '-']) {
        return None;
    }
    let (radix, digits) = match s.as_bytes() {
        [b'0', b'x' | b'X', ..] => (16, &s[2..]),
        [b'0', b'o' | b'O', ..] => (8, &s[2..]),
        [b'0', b'b' | b'B', ..] => (2, &s[2..]),
        [b'0', _, ..] => (8, &s[1..]),
        _ => (10, s),
    };
    if digits.is_empty() || (digits.contains('_') && !underscore_ok(s)) {
        return None;
    }
    let mut value: u64 = 0;
    let mut any = false;
    for d in digits.chars() {
        if d == '_' {
            continue;
        }
        let digit = d.to_digit(radix)?;
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
        any = true;
    }
    any.then_some(value)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
pub(super) fn parse_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(body)?;
    if negative {
        if magnitude == 1 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(magnitude).ok().map(|m| -m)
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal text (underscores as Go allows them).
pub(super) fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    let body = cleaned.trim_start_matches(['+', '-']);
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let f: f64 = cleaned.parse().ok()?;
    f.is_finite().then_some(f)
}

/// The one rune of `s` (`escaped`: already unescaped bytes), as Go's `UnquoteChar` wants it.
fn single_rune(s: &[u8], escaped: bool) -> Option<u32> {
    if escaped && s.len() == 1 {
        return Some(u32::from(s[0]));
    }
    let text = std::str::from_utf8(s).ok()?;
    let mut chars = text.chars();
    let c = chars.next()?;
    if chars.next().is_some() || (c == '\'' && !escaped) {
        return None;
    }
    Some(u32::from(c))
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
