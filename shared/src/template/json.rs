//! Go's `json.Unmarshal` into an `interface{}`: objects are `map[string]interface{}`, arrays
//! `[]interface{}`, numbers `float64`.

use std::collections::BTreeMap;

use super::cx::Cx;
use super::format::MAX_VALUE_DEPTH;
use super::strings::{decode_rune, push_rune};
use super::value::{ListTy, MapTy, Value, owned};

struct Parser<'s, 'c, 'a> {
    b: &'s [u8],
    i: usize,
    cx: &'c Cx<'a>,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// The decoded value, or Go's error text.
pub(super) fn parse_json<'a>(cx: &Cx<'a>, b: &[u8]) -> Result<Value<'a>, String> {
    let mut p = Parser { b, i: 0, cx };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i < b.len() {
        return Err("invalid character after top-level value".into());
    }
    Ok(v)
}

impl<'a> Parser<'_, '_, 'a> {
    fn ws(&mut self) {
        while self.b.get(self.i).is_some_and(|&c| is_ws(c)) {
            self.i += 1;
        }
    }

    fn err<T>(&self) -> Result<T, String> {
        if self.i >= self.b.len() {
            Err("unexpected end of JSON input".into())
        } else {
            Err(format!("invalid character at offset {}", self.i))
        }
    }

    fn literal(&mut self, word: &[u8], v: Value<'a>) -> Result<Value<'a>, String> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err()
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, String> {
        if depth > MAX_VALUE_DEPTH {
            return Err("JSON nested too deep".into());
        }
        match self.b.get(self.i) {
            None => self.err(),
            Some(b'{') => {
                self.i += 1;
                let mut entries = BTreeMap::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        if self.b.get(self.i) != Some(&b'"') {
                            return self.err();
                        }
                        let k = self.string()?;
                        self.ws();
                        if self.b.get(self.i) != Some(&b':') {
                            return self.err();
                        }
                        self.i += 1;
                        self.ws();
                        let v = self.value(depth + 1)?;
                        entries.insert(k, v);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err(),
                        }
                    }
                }
                self.cx
                    .spend_bytes(entries.len() * 16)
                    .map_err(|e| e.to_string())?;
                Ok(self.cx.dict(MapTy::Any, entries))
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return self.err(),
                        }
                    }
                }
                self.cx
                    .list_len(items.len())
                    .map_err(|_| "list too long".to_string())?;
                Ok(Value::list(ListTy::Any, items))
            }
            Some(b'"') => Ok(owned(self.string()?)),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Nil),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err(),
        }
    }

    fn number(&mut self) -> Result<Value<'a>, String> {
        let start = self.i;
        let b = self.b;
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > s
        };
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        if b.get(i) == Some(&b'0') {
            i += 1;
        } else if !digits(&mut i) {
            self.i = i;
            return self.err();
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                self.i = i;
                return self.err();
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                self.i = i;
                return self.err();
            }
        }
        self.i = i;
        let text = std::str::from_utf8(&b[start..i]).unwrap_or("0");
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(format!("cannot unmarshal number {text} into float64")),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let s = std::str::from_utf8(h).ok()?;
        let v = u32::from_str_radix(s, 16).ok()?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        self.i += 4;
        Some(v)
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return self.err();
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.i += 1;
                    let Some(&e) = self.b.get(self.i) else {
                        return self.err();
                    };
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let Some(mut r) = self.hex4() else {
                                return self.err();
                            };
                            if (0xd800..0xdc00).contains(&r) {
                                let save = self.i;
                                let low = if self.b[self.i..].starts_with(b"\\u") {
                                    self.i += 2;
                                    self.hex4()
                                } else {
                                    None
                                };
                                match low {
                                    Some(l) if (0xdc00..0xe000).contains(&l) => {
                                        r = 0x10000 + ((r - 0xd800) << 10) + (l - 0xdc00);
                                    }
                                    _ => {
                                        self.i = save;
                                        r = 0xfffd;
                                    }
                                }
                            } else if (0xdc00..0xe000).contains(&r) {
                                r = 0xfffd;
                            }
                            push_rune(&mut out, r);
                        }
                        _ => {
                            self.i -= 1;
                            return self.err();
                        }
                    }
                }
                c if c < 0x20 => return self.err(),
                c if c < 0x80 => {
                    out.push(c);
                    self.i += 1;
                }
                _ => {
                    let (r, w) = decode_rune(&self.b[self.i..]);
                    if r == 0xfffd && w == 1 {
                        out.extend_from_slice("\u{fffd}".as_bytes());
                    } else {
                        out.extend_from_slice(&self.b[self.i..self.i + w]);
                    }
                    self.i += w.max(1);
                }
            }
        }
    }
}
