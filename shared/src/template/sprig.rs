//! sprig's functions (v3.3.0), each as sprig and the Go library it calls compute it.

use std::collections::BTreeMap;
use std::rc::Rc;

use sha2::{Digest as _, Sha256, Sha512};

use crate::go;

use super::cx::Cx;
use super::error::{FnError, check_len, failed};
use super::format::{JsonStyle, MAX_VALUE_DEPTH, fmt_value, json_value, push_hex, strval};
use super::funcs::{R, args, go_quote, int, sized, sprint};
use super::json::parse_json;
use super::lexer::{parse_float, parse_int};
use super::regex::{compile, split as regex_split_impl};
use super::strings::{
    Finder, is_space_rune, push_rune, replace_all, runes, sha1, trim_cutset, trim_space,
};
use super::unicode::{to_lower, to_title, to_upper};
use super::value::{List, ListTy, MapTy, Value, owned, truth};

fn s<'v>(v: &'v Value<'_>) -> &'v [u8] {
    v.bytes()
}

pub(super) fn hello<'a>(_: &Cx<'a>, _: Vec<Value<'a>>) -> R<'a> {
    Ok(owned(b"Hello!".to_vec()))
}

// ---- strings ----

/// goutils.AbbreviateFull.
fn abbreviate_full(s: &[u8], mut offset: i64, max_width: i64) -> Vec<u8> {
    let len = s.len() as i64;
    if s.is_empty() || max_width < 4 {
        return Vec::new();
    }
    if len <= max_width {
        return s.to_vec();
    }
    offset = offset.min(len);
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    let marker = b"...";
    if offset <= 4 {
        let mut out = s[..(max_width - 3) as usize].to_vec();
        out.extend_from_slice(marker);
        return out;
    }
    if max_width < 7 {
        return Vec::new();
    }
    let mut out = marker.to_vec();
    if offset + max_width - 3 < len {
        out.extend_from_slice(&abbreviate_full(&s[offset as usize..], 0, max_width - 3));
    } else {
        out.extend_from_slice(&s[(len - (max_width - 3)) as usize..]);
    }
    out
}

pub(super) fn abbrev<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [width, v] = args(argv)?;
    let width = int(&width);
    if width < 4 {
        return Ok(v);
    }
    Ok(owned(abbreviate_full(s(&v), 0, width)))
}

pub(super) fn abbrevboth<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [left, right, v] = args(argv)?;
    let (left, right) = (int(&left), int(&right));
    if right < 4 || (left > 0 && right < 7) {
        return Ok(v);
    }
    Ok(owned(abbreviate_full(s(&v), left, right)))
}

pub(super) fn trunc<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [c, v] = args(argv)?;
    let (c, b) = (i128::from(int(&c)), s(&v));
    let len = b.len() as i128;
    let out = if c < 0 && len + c > 0 {
        &b[(len + c) as usize..]
    } else if c >= 0 && len > c {
        &b[..c as usize]
    } else {
        b
    };
    Ok(owned(out.to_vec()))
}

pub(super) fn trim<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(owned(trim_space(s(&v)).to_vec()))
}

pub(super) fn map_runes<'a>(b: &[u8], mut f: impl FnMut(u32) -> u32) -> R<'a> {
    let mut out = Vec::with_capacity(b.len());
    for (r, _) in runes(b) {
        push_rune(&mut out, f(r));
    }
    sized(out)
}

pub(super) fn upper<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    map_runes(s(&v), to_upper)
}

pub(super) fn lower<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    map_runes(s(&v), to_lower)
}

pub(super) fn title<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // Go's deprecated strings.Title: a letter after a separator is title-cased.
    let is_separator = |r: u32| match u8::try_from(r) {
        Ok(b) if b < 0x80 => !(b.is_ascii_alphanumeric() || b == b'_'),
        _ => is_space_rune(r),
    };
    let mut prev = u32::from(b' ');
    map_runes(s(&v), |r| {
        let mapped = if is_separator(prev) { to_title(r) } else { r };
        prev = r;
        mapped
    })
}

pub(super) fn untitle<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // goutils.Uncapitalize: the first letter of each space-separated word lowered.
    let mut next = true;
    map_runes(s(&v), |r| {
        if is_space_rune(r) {
            next = true;
            r
        } else if next {
            next = false;
            to_lower(r)
        } else {
            r
        }
    })
}

pub(super) fn substr<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [start, end, v] = args(argv)?;
    let (start, end, b) = (int(&start), int(&end), s(&v));
    let len = b.len() as i64;
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
    Ok(owned(b[lo as usize..hi as usize].to_vec()))
}

pub(super) fn repeat<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [count, v] = args(argv)?;
    let b = s(&v);
    let count = u64::try_from(int(&count)).map_err(|_| failed("negative repeat count"))?;
    if b.is_empty() {
        return Ok(owned(Vec::new()));
    }
    check_len(b.len() as u128 * u128::from(count))?;
    cx.spend_steps(count / 1024)?;
    sized(b.repeat(count as usize))
}

pub(super) fn trim_all<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [cutset, v] = args(argv)?;
    Ok(owned(trim_cutset(s(&v), s(&cutset)).to_vec()))
}

pub(super) fn trim_prefix<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [prefix, v] = args(argv)?;
    let b = s(&v);
    Ok(owned(b.strip_prefix(s(&prefix)).unwrap_or(b).to_vec()))
}

pub(super) fn trim_suffix<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [suffix, v] = args(argv)?;
    let b = s(&v);
    Ok(owned(b.strip_suffix(s(&suffix)).unwrap_or(b).to_vec()))
}

/// A byte that goutils and `unicode.IsSpace` see as space when read as a rune.
fn is_space_byte(b: u8) -> bool {
    matches!(b, 0x09..=0x0d | b' ' | 0x85 | 0xa0)
}

pub(super) fn nospace<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // goutils.DeleteWhiteSpace walks bytes, not runes: each kept byte is written back as the
    // rune of the same number, so bytes >= 0x80 are re-encoded when anything was removed.
    let b = s(&v);
    if !b.iter().any(|&b| is_space_byte(b)) {
        return Ok(owned(b.to_vec()));
    }
    let mut out = Vec::with_capacity(b.len());
    for &c in b.iter().filter(|&&c| !is_space_byte(c)) {
        push_rune(&mut out, u32::from(c));
    }
    sized(out)
}

pub(super) fn initials<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // goutils.Initials walks bytes too.
    let mut out = Vec::new();
    let mut gap = true;
    for &c in s(&v) {
        if is_space_byte(c) {
            gap = true;
        } else if gap {
            push_rune(&mut out, u32::from(c));
            gap = false;
        }
    }
    sized(out)
}

fn ascii_only(b: &[u8], function: &str) -> Result<(), FnError> {
    if b.is_ascii() {
        Ok(())
    } else {
        Err(FnError::Unsupported(format!(
            "{function} of non-ASCII text"
        )))
    }
}

pub(super) fn swapcase<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let b = s(&v);
    ascii_only(b, "swapcase")?;
    let mut out = b.to_vec();
    let mut whitespace = true;
    for c in out.iter_mut() {
        if c.is_ascii_uppercase() {
            *c = c.to_ascii_lowercase();
            whitespace = false;
        } else if c.is_ascii_lowercase() {
            // The first letter of a word goes to title case (upper for ASCII), others upper.
            *c = c.to_ascii_uppercase();
            whitespace = false;
        } else {
            whitespace = is_space_byte(*c);
        }
    }
    let _ = whitespace;
    Ok(owned(out))
}

/// The word classes of xstrings' nextWord, for ASCII text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Word {
    Invalid,
    Number,
    Upper,
    Alpha,
    Connector,
    Punct,
    Other,
}

fn is_connector(c: u8) -> bool {
    c == b'-' || c == b'_' || is_space_byte(c)
}

/// Go's unicode.IsPunct, on ASCII (category P: not the symbols `$+<=>^`|~`).
fn is_punct(c: u8) -> bool {
    c.is_ascii_punctuation() && !b"$+<=>^`|~".contains(&c)
}

/// xstrings' nextWord: the class of the next word, the word, and what follows.
fn next_word(text: &[u8]) -> (Word, &[u8], &[u8]) {
    let Some(&first) = text.first() else {
        return (Word::Invalid, b"", b"");
    };
    let run = |from: usize, keep: &dyn Fn(u8) -> bool| {
        from + text[from..].iter().take_while(|&&c| keep(c)).count()
    };
    let (class, end) = if is_connector(first) {
        (Word::Connector, run(1, &is_connector))
    } else if is_punct(first) {
        (Word::Punct, run(1, &is_punct))
    } else if first.is_ascii_uppercase() {
        let end = match text.get(1) {
            Some(c) if c.is_ascii_uppercase() => {
                let end = run(1, &|c| c.is_ascii_uppercase());
                // "HTTPStatus" is "HTTP" and "Status": the last capital starts the next word.
                if text.get(end).is_some_and(u8::is_ascii_alphabetic) {
                    end - 1
                } else {
                    end
                }
            }
            Some(c) if c.is_ascii_alphabetic() => run(1, &|c| c.is_ascii_lowercase()),
            _ => 1,
        };
        (Word::Upper, end)
    } else if first.is_ascii_alphabetic() {
        (Word::Alpha, run(1, &|c| c.is_ascii_lowercase()))
    } else if first.is_ascii_digit() {
        (Word::Number, run(1, &|c| c.is_ascii_digit()))
    } else {
        let other = |c: u8| !(is_connector(c) || c.is_ascii_alphanumeric() || is_punct(c));
        (Word::Other, run(1, &other))
    };
    (class, &text[..end], &text[end..])
}

/// The next word of `rest`, which moves past it.
fn next<'t>(rest: &mut &'t [u8]) -> (Word, &'t [u8]) {
    let (class, word, after) = next_word(rest);
    *rest = after;
    (class, word)
}

/// xstrings' toLower: capitals lowered and connectors replaced, in capital and connector words.
fn lower_word(out: &mut Vec<u8>, class: Word, word: &[u8], connector: u8) {
    if class != Word::Upper && class != Word::Connector {
        out.extend_from_slice(word);
        return;
    }
    out.extend(word.iter().map(|&c| {
        if is_connector(c) {
            connector
        } else {
            c.to_ascii_lowercase()
        }
    }));
}

/// xstrings' camelCaseToLowerCase (ToSnakeCase, ToKebabCase), step for step.
fn camel_to_lower(text: &[u8], connector: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 2);
    if text.is_empty() {
        return out;
    }
    let (mut wt, mut word, mut remaining) = next_word(text);
    while !remaining.is_empty() {
        if wt != Word::Connector {
            lower_word(&mut out, wt, word, connector);
        }
        let (prev, last) = (wt, word);
        (wt, word) = next(&mut remaining);
        match prev {
            Word::Number => {
                while wt == Word::Alpha || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word) = next(&mut remaining);
                }
                if !matches!(wt, Word::Invalid | Word::Punct | Word::Connector) {
                    out.push(connector);
                }
            }
            Word::Connector => lower_word(&mut out, prev, last, connector),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let number = word;
                (wt, word) = next(&mut remaining);
                // A number is part of the word before it ("Bld4Floor" is "bld4_floor") unless
                // lower case follows it ("HTTP2xx" is "http_2xx").
                if wt != Word::Alpha {
                    lower_word(&mut out, Word::Number, number, connector);
                    if wt != Word::Connector && wt != Word::Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                lower_word(&mut out, Word::Number, number, connector);
                while wt == Word::Alpha || wt == Word::Number {
                    lower_word(&mut out, wt, word, connector);
                    (wt, word) = next(&mut remaining);
                }
                if !matches!(wt, Word::Invalid | Word::Connector | Word::Punct) {
                    out.push(connector);
                }
            }
        }
    }
    lower_word(&mut out, wt, word, connector);
    out
}

pub(super) fn snakecase<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    ascii_only(s(&v), "snakecase")?;
    sized(camel_to_lower(s(&v), b'_'))
}

pub(super) fn kebabcase<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    ascii_only(s(&v), "kebabcase")?;
    sized(camel_to_lower(s(&v), b'-'))
}

pub(super) fn camelcase<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let b = s(&v);
    ascii_only(b, "camelcase")?;
    // xstrings.ToPascalCase.
    let connector = |c: u8| c == b'-' || c == b'_' || is_space_byte(c);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut r0 = 0u8;
    let mut first_upper = false;
    let mut found = false;
    while i < b.len() {
        r0 = b[i];
        i += 1;
        if !connector(r0) {
            first_upper = r0.is_ascii_uppercase();
            r0 = r0.to_ascii_uppercase();
            found = true;
            break;
        }
        out.push(r0);
    }
    if i >= b.len() {
        if found {
            out.push(r0);
        }
        return Ok(owned(out));
    }
    while i < b.len() {
        let r1 = r0;
        r0 = b[i];
        i += 1;
        if connector(r0) && connector(r1) {
            out.push(r1);
            continue;
        }
        if connector(r1) {
            first_upper = r0.is_ascii_uppercase();
            r0 = r0.to_ascii_uppercase();
        } else {
            if first_upper {
                if r0.is_ascii_uppercase() {
                    r0 = r0.to_ascii_lowercase();
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    Ok(owned(out))
}

/// goutils.WrapCustom.
fn wrap_custom(b: &[u8], wrap_length: i64, newline: &[u8], long_words: bool) -> Vec<u8> {
    if b.is_empty() {
        return Vec::new();
    }
    let newline: &[u8] = if newline.is_empty() { b"\n" } else { newline };
    let wrap = wrap_length.max(1) as usize;
    let len = b.len();
    let mut offset = 0;
    let mut out = Vec::with_capacity(len);
    while len - offset > wrap {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = wrap + offset + 1;
        let space = b[offset..end].iter().rposition(|&c| c == b' ');
        if let Some(at) = space {
            let at = at + offset;
            out.extend_from_slice(&b[offset..at]);
            out.extend_from_slice(newline);
            offset = at + 1;
        } else if long_words {
            out.extend_from_slice(&b[offset..wrap + offset]);
            out.extend_from_slice(newline);
            offset += wrap;
        } else {
            let end = wrap + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
                Some(index) => {
                    let at = index + end;
                    out.extend_from_slice(&b[offset..at]);
                    out.extend_from_slice(newline);
                    offset = at + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    out
}

pub(super) fn wrap<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l, v] = args(argv)?;
    sized(wrap_custom(s(&v), int(&l), b"", false))
}

pub(super) fn wrap_with<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l, sep, v] = args(argv)?;
    let b = s(&v);
    check_len(b.len() as u128 * (s(&sep).len() as u128 + 1))?;
    sized(wrap_custom(b, int(&l), s(&sep), true))
}

pub(super) fn contains<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [sub, v] = args(argv)?;
    let (sub, b) = (s(&sub), s(&v));
    Ok(Value::Bool(
        sub.len() <= b.len() && Finder::new(sub).find(b).is_some(),
    ))
}

pub(super) fn has_prefix<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [prefix, v] = args(argv)?;
    Ok(Value::Bool(s(&v).starts_with(s(&prefix))))
}

pub(super) fn has_suffix<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [suffix, v] = args(argv)?;
    Ok(Value::Bool(s(&v).ends_with(s(&suffix))))
}

pub(super) fn quote<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().filter(|a| !matches!(a, Value::Nil)).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        go_quote(&strval(arg)?, &mut out);
        check_len(out.len() as u128)?;
    }
    sized(out)
}

pub(super) fn squote<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().filter(|a| !matches!(a, Value::Nil)).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'\'');
        fmt_value(arg, &mut out)?;
        out.push(b'\'');
        check_len(out.len() as u128)?;
    }
    sized(out)
}

pub(super) fn cat<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().filter(|a| !matches!(a, Value::Nil)).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        fmt_value(arg, &mut out)?;
    }
    sized(out)
}

fn indent_into(spaces: i64, b: &[u8], out: &mut Vec<u8>) -> Result<(), FnError> {
    let spaces = u64::try_from(spaces).map_err(|_| failed("negative repeat count"))?;
    let lines = b.iter().filter(|&&c| c == b'\n').count() as u128 + 1;
    check_len(b.len() as u128 + lines * u128::from(spaces))?;
    let pad = vec![b' '; spaces as usize];
    out.extend_from_slice(&pad);
    for &c in b {
        out.push(c);
        if c == b'\n' {
            out.extend_from_slice(&pad);
        }
    }
    Ok(())
}

pub(super) fn indent<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [n, v] = args(argv)?;
    let mut out = Vec::new();
    indent_into(int(&n), s(&v), &mut out)?;
    sized(out)
}

pub(super) fn nindent<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [n, v] = args(argv)?;
    let mut out = vec![b'\n'];
    indent_into(int(&n), s(&v), &mut out)?;
    sized(out)
}

pub(super) fn replace<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [old, new, src] = args(argv)?;
    sized(replace_all(s(&src), s(&old), s(&new))?)
}

pub(super) fn plural<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [one, many, count] = args(argv)?;
    Ok(if int(&count) == 1 { one } else { many })
}

fn hex_of<'a>(digest: &[u8]) -> R<'a> {
    let mut out = Vec::with_capacity(digest.len() * 2);
    push_hex(&mut out, digest, false);
    Ok(owned(out))
}

pub(super) fn sha1sum<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    hex_of(&sha1(s(&v)))
}

pub(super) fn sha256sum<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    hex_of(&Sha256::digest(s(&v)))
}

pub(super) fn sha512sum<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    hex_of(&Sha512::digest(s(&v)))
}

pub(super) fn adler32sum<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let (mut a, mut b) = (1u32, 0u32);
    for &c in s(&v) {
        a = (a + u32::from(c)) % 65521;
        b = (b + a) % 65521;
    }
    Ok(owned(((b << 16) | a).to_string().into_bytes()))
}

pub(super) fn to_string<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(match v {
        Value::Str(_) => v,
        other => owned(strval(&other)?.into_owned()),
    })
}

// ---- random ----

fn random_from<'a>(cx: &Cx<'a>, count: i64, alphabet: &[u8]) -> R<'a> {
    // goutils.CryptoRandom: a negative count is an error, which sprig drops: "".
    let Ok(count) = usize::try_from(count) else {
        return Ok(owned(Vec::new()));
    };
    check_len(count as u128)?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let i = cx.random_below(alphabet.len() as u64)? as usize;
        out.push(alphabet[i]);
    }
    Ok(owned(out))
}

const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

pub(super) fn rand_alpha_num<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [n] = args(argv)?;
    random_from(cx, int(&n), ALNUM)
}

pub(super) fn rand_alpha<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [n] = args(argv)?;
    random_from(cx, int(&n), ALPHA)
}

pub(super) fn rand_numeric<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [n] = args(argv)?;
    random_from(cx, int(&n), b"0123456789")
}

pub(super) fn rand_ascii<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [n] = args(argv)?;
    let printable: Vec<u8> = (32u8..=126).collect();
    random_from(cx, int(&n), &printable)
}

pub(super) fn shuffle<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let mut rs: Vec<u32> = runes(s(&v)).map(|(r, _)| r).collect();
    for i in (1..rs.len()).rev() {
        let j = cx.random_below(i as u64 + 1)? as usize;
        rs.swap(i, j);
    }
    let mut out = Vec::with_capacity(s(&v).len());
    for r in rs {
        push_rune(&mut out, r);
    }
    sized(out)
}

pub(super) fn rand_int<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [min, max] = args(argv)?;
    let (min, max) = (int(&min), int(&max));
    let span = max.wrapping_sub(min);
    if span <= 0 {
        return Err(failed("invalid argument to Intn"));
    }
    Ok(Value::int(cx.random_below(span as u64)? as i64 + min))
}

pub(super) fn rand_bytes<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [n] = args(argv)?;
    let n = usize::try_from(int(&n)).map_err(|_| failed("len out of range"))?;
    check_len(n as u128 * 4 / 3 + 4)?;
    let mut buf = vec![0u8; n];
    cx.random(&mut buf)?;
    Ok(owned(go::base64_encode(&buf).into_bytes()))
}

pub(super) fn uuidv4<'a>(cx: &Cx<'a>, _: Vec<Value<'a>>) -> R<'a> {
    let mut b = [0u8; 16];
    cx.random(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut hex = Vec::with_capacity(32);
    push_hex(&mut hex, &b, false);
    let mut out = Vec::with_capacity(36);
    for (i, c) in hex.into_iter().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push(b'-');
        }
        out.push(c);
    }
    Ok(owned(out))
}

// ---- conversion and math ----

/// Go's `int64(f)` on amd64: out of range and NaN give the minimum.
fn f2i(f: f64) -> i64 {
    if f.is_finite() && f > -9.223_372_036_854_776e18 && f < 9.223_372_036_854_776e18 {
        f.trunc() as i64
    } else {
        i64::MIN
    }
}

/// cast's trimZeroDecimal: "12.000" is "12".
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' if found_zero => return &s[..i - 1],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// `strconv.ParseFloat(s, 64)`, with Go's names for infinity and NaN.
fn go_parse_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let (sign, body) = match lower.as_bytes().first() {
        Some(b'-') => (-1.0, &lower[1..]),
        Some(b'+') => (1.0, &lower[1..]),
        _ => (1.0, &lower[..]),
    };
    match body {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" if s.len() == 3 => return Some(f64::NAN),
        _ => {}
    }
    if body.starts_with("0x") {
        return None;
    }
    parse_float(s)
}

/// cast.ToInt64E (sprig drops the error: 0).
pub(super) fn to_i64(v: &Value<'_>) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        Value::Float(f) => f2i(*f),
        Value::Str(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| parse_int(trim_zero_decimal(s)))
            .unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

/// cast.ToFloat64E (sprig drops the error: 0).
pub(super) fn to_f64(v: &Value<'_>) -> f64 {
    match v {
        Value::Int(i, _) => *i as f64,
        Value::Float(f) => *f,
        Value::Str(b) => std::str::from_utf8(b)
            .ok()
            .and_then(go_parse_float)
            .unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

pub(super) fn atoi<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // strconv.Atoi: base 10, optional sign, no underscores; errors give 0.
    let text = std::str::from_utf8(s(&v)).unwrap_or("");
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let ok = !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit());
    Ok(Value::int(if ok { text.parse().unwrap_or(0) } else { 0 }))
}

pub(super) fn to_int64<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::int64(to_i64(&v)))
}

pub(super) fn to_int<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::int(to_i64(&v)))
}

pub(super) fn to_float64<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::Float(to_f64(&v)))
}

pub(super) fn to_decimal<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // strconv.ParseInt(fmt.Sprint(v), 8, 64), 0 on error.
    let text = sprint(std::slice::from_ref(&v))?;
    let text = String::from_utf8_lossy(&text);
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, &text[..]),
    };
    let parsed = if !digits.is_empty() && digits.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        i64::from_str_radix(digits, 8).ok()
    } else {
        None
    };
    Ok(Value::int64(match parsed {
        Some(n) if neg => -n,
        Some(n) => n,
        None => 0,
    }))
}

fn until_step_list<'a>(cx: &Cx<'a>, start: i64, stop: i64, step: i64) -> Result<Vec<i64>, FnError> {
    let count = if stop < start {
        if step >= 0 {
            0
        } else {
            ((i128::from(start) - i128::from(stop) - 1) / -i128::from(step)) + 1
        }
    } else if step <= 0 || stop == start {
        0
    } else {
        ((i128::from(stop) - i128::from(start) - 1) / i128::from(step)) + 1
    };
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    cx.list_len(count)?;
    Ok((0..count as i64).map(|i| start + i * step).collect())
}

fn int_list<'a>(items: Vec<i64>) -> Value<'a> {
    Value::list(ListTy::Int, items.into_iter().map(Value::int).collect())
}

pub(super) fn until<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [n] = args(argv)?;
    let n = int(&n);
    let step = if n < 0 { -1 } else { 1 };
    Ok(int_list(until_step_list(cx, 0, n, step)?))
}

pub(super) fn until_step<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [start, stop, step] = args(argv)?;
    Ok(int_list(until_step_list(
        cx,
        int(&start),
        int(&stop),
        int(&step),
    )?))
}

pub(super) fn seq<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let p: Vec<i64> = argv.iter().map(int).collect();
    let list = match p[..] {
        [end] => {
            let inc = if end < 1 { -1 } else { 1 };
            until_step_list(cx, 1, end + inc, inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step_list(cx, start, end + step, step)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return Ok(owned(Vec::new()));
                }
            }
            until_step_list(cx, start, end + inc, step)?
        }
        _ => Vec::new(),
    };
    let text: Vec<String> = list.iter().map(i64::to_string).collect();
    sized(text.join(" ").into_bytes())
}

pub(super) fn add1<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::int64(to_i64(&v).wrapping_add(1)))
}

pub(super) fn add<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    Ok(Value::int64(
        argv.iter().fold(0i64, |a, b| a.wrapping_add(to_i64(b))),
    ))
}

pub(super) fn sub<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    Ok(Value::int64(to_i64(&a).wrapping_sub(to_i64(&b))))
}

pub(super) fn div<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    let b = to_i64(&b);
    if b == 0 {
        return Err(failed("runtime error: integer divide by zero"));
    }
    Ok(Value::int64(to_i64(&a).wrapping_div(b)))
}

pub(super) fn modulo<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    let b = to_i64(&b);
    if b == 0 {
        return Err(failed("runtime error: integer divide by zero"));
    }
    Ok(Value::int64(to_i64(&a).wrapping_rem(b)))
}

pub(super) fn mul<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut it = argv.iter();
    let first = it.next().map(to_i64).unwrap_or(0);
    Ok(Value::int64(
        it.fold(first, |a, b| a.wrapping_mul(to_i64(b))),
    ))
}

pub(super) fn max<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    Ok(Value::int64(argv.iter().map(to_i64).max().unwrap_or(0)))
}

pub(super) fn min<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    Ok(Value::int64(argv.iter().map(to_i64).min().unwrap_or(0)))
}

/// Go's math.Max / math.Min: NaN wins, and the sign of zero matters.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { b } else { a }
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { a } else { b }
    } else {
        a.min(b)
    }
}

pub(super) fn maxf<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut it = argv.iter().map(to_f64);
    let first = it.next().unwrap_or(0.0);
    Ok(Value::Float(it.fold(first, go_max)))
}

pub(super) fn minf<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut it = argv.iter().map(to_f64);
    let first = it.next().unwrap_or(0.0);
    Ok(Value::Float(it.fold(first, go_min)))
}

pub(super) fn ceil<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::Float(to_f64(&v).ceil()))
}

pub(super) fn floor<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::Float(to_f64(&v).floor()))
}

pub(super) fn round<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut it = argv.into_iter();
    let val = to_f64(&it.next().unwrap_or(Value::Nil));
    let places = int(&it.next().unwrap_or(Value::Nil)) as f64;
    let round_on = match it.next() {
        Some(Value::Float(f)) => f,
        _ => 0.5,
    };
    let pow = 10f64.powf(places);
    let digit = pow * val;
    let div = digit.fract();
    let rounded = if div >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(rounded / pow))
}

// ---- lists of strings ----

fn str_list<'a>(cx: &Cx<'a>, items: Vec<Vec<u8>>) -> R<'a> {
    cx.list_len(items.len())?;
    Ok(Value::list(
        ListTy::Str,
        items.into_iter().map(owned).collect(),
    ))
}

/// Go's `strings.SplitN(s, sep, n)` (`n < 0`: all).
fn split_n(b: &[u8], sep: &[u8], n: i64) -> Vec<Vec<u8>> {
    if n == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    if sep.is_empty() {
        // explode: one element per rune (an invalid byte is its own element).
        let mut rest = b;
        while !rest.is_empty() {
            if n > 0 && out.len() as i64 == n - 1 {
                out.push(rest.to_vec());
                return out;
            }
            let (_, w) = super::strings::decode_rune(rest);
            out.push(rest[..w].to_vec());
            rest = &rest[w..];
        }
        return out;
    }
    let finder = Finder::new(sep);
    let mut start = 0;
    while n < 0 || (out.len() as i64) < n - 1 {
        match finder.find(&b[start..]) {
            Some(i) => {
                out.push(b[start..start + i].to_vec());
                start += i + sep.len();
            }
            None => break,
        }
    }
    out.push(b[start..].to_vec());
    out
}

fn split_map<'a>(cx: &Cx<'a>, parts: Vec<Vec<u8>>) -> R<'a> {
    cx.list_len(parts.len())?;
    let entries = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}").into_bytes(), owned(p)))
        .collect();
    Ok(cx.dict(MapTy::Str, entries))
}

pub(super) fn split<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [sep, orig] = args(argv)?;
    split_map(cx, split_n(s(&orig), s(&sep), -1))
}

pub(super) fn splitn<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [sep, n, orig] = args(argv)?;
    split_map(cx, split_n(s(&orig), s(&sep), int(&n)))
}

pub(super) fn split_list<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [sep, orig] = args(argv)?;
    str_list(cx, split_n(s(&orig), s(&sep), -1))
}

/// sprig's strslice.
fn strslice(v: &Value<'_>) -> Result<Vec<Vec<u8>>, FnError> {
    Ok(match v {
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.items.len());
            for item in l.items.iter().filter(|i| !matches!(i, Value::Nil)) {
                out.push(strval(item)?.into_owned());
            }
            out
        }
        Value::Nil => Vec::new(),
        other => vec![strval(other)?.into_owned()],
    })
}

pub(super) fn to_strings<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    if let Value::List(l) = &v
        && l.ty == ListTy::Str
    {
        return Ok(v);
    }
    str_list(cx, strslice(&v)?)
}

pub(super) fn join<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [sep, v] = args(argv)?;
    let parts = strslice(&v)?;
    let total: u128 = parts.iter().map(|p| p.len() as u128).sum::<u128>()
        + parts.len() as u128 * s(&sep).len() as u128;
    check_len(total)?;
    sized(parts.join(s(&sep)))
}

pub(super) fn sort_alpha<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let mut parts = match &v {
        Value::List(_) => strslice(&v)?,
        other => vec![strval(other)?.into_owned()],
    };
    parts.sort();
    str_list(cx, parts)
}

// ---- defaults, JSON, reflection ----

/// sprig's empty: Go's zero value of the type (structs never).
pub(super) fn is_empty(v: &Value<'_>) -> bool {
    !truth(v)
}

pub(super) fn default<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut argv = argv.into_iter();
    let default = argv.next().unwrap_or(Value::Nil);
    match argv.next() {
        Some(given) if !is_empty(&given) => Ok(given),
        _ => Ok(default),
    }
}

pub(super) fn empty<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::Bool(is_empty(&v)))
}

pub(super) fn coalesce<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    Ok(argv
        .into_iter()
        .find(|v| !is_empty(v))
        .unwrap_or(Value::Nil))
}

pub(super) fn all<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    Ok(Value::Bool(argv.iter().all(|v| !is_empty(v))))
}

pub(super) fn any<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    Ok(Value::Bool(argv.iter().any(|v| !is_empty(v))))
}

pub(super) fn ternary<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [t, f, c] = args(argv)?;
    Ok(if truth(&c) { t } else { f })
}

fn json_of(v: &Value<'_>, style: JsonStyle) -> Result<Vec<u8>, FnError> {
    let mut out = Vec::new();
    json_value(v, style, &mut out)?;
    Ok(out)
}

const MARSHAL: JsonStyle = JsonStyle {
    html: true,
    indent: false,
};

pub(super) fn to_json<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // sprig drops json.Marshal's error: "".
    match json_of(&v, MARSHAL) {
        Ok(out) => sized(out),
        Err(FnError::Failed(_)) => Ok(owned(Vec::new())),
        Err(e) => Err(e),
    }
}

pub(super) fn must_to_json<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    sized(json_of(&v, MARSHAL)?)
}

const PRETTY: JsonStyle = JsonStyle {
    html: true,
    indent: true,
};

pub(super) fn to_pretty_json<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    match json_of(&v, PRETTY) {
        Ok(out) => sized(out),
        Err(FnError::Failed(_)) => Ok(owned(Vec::new())),
        Err(e) => Err(e),
    }
}

pub(super) fn must_to_pretty_json<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    sized(json_of(&v, PRETTY)?)
}

pub(super) fn to_raw_json<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // toRawJson panics on error, mustToRawJson returns it: both fail the template.
    sized(json_of(
        &v,
        JsonStyle {
            html: false,
            indent: false,
        },
    )?)
}

pub(super) fn from_json<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(parse_json(cx, s(&v)).unwrap_or(Value::Nil))
}

pub(super) fn must_from_json<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    parse_json(cx, s(&v)).map_err(FnError::Failed)
}

fn deep_copy_value<'a>(cx: &Cx<'a>, v: &Value<'a>, depth: usize) -> R<'a> {
    if depth > MAX_VALUE_DEPTH {
        return Err(failed("value nested too deep to copy"));
    }
    Ok(match v {
        Value::List(l) => {
            let mut items = Vec::with_capacity(l.items.len());
            for item in &l.items {
                items.push(deep_copy_value(cx, item, depth + 1)?);
            }
            Value::List(Rc::new(List { ty: l.ty, items }))
        }
        Value::Dict(d) => {
            let (ty, entries) = {
                let d = d.borrow();
                (d.ty, d.entries.clone())
            };
            let mut copied = BTreeMap::new();
            for (k, item) in entries {
                copied.insert(k, deep_copy_value(cx, &item, depth + 1)?);
            }
            cx.spend_bytes(copied.len() * 16)?;
            cx.dict(ty, copied)
        }
        other => other.clone(),
    })
}

pub(super) fn deep_copy<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    deep_copy_value(cx, &v, 0)
}

fn type_string(v: &Value<'_>) -> &'static str {
    v.type_name()
}

pub(super) fn type_of<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(owned(type_string(&v).as_bytes().to_vec()))
}

pub(super) fn type_is<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [t, v] = args(argv)?;
    Ok(Value::Bool(s(&t) == type_string(&v).as_bytes()))
}

pub(super) fn type_is_like<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [t, v] = args(argv)?;
    let name = type_string(&v).as_bytes();
    let t = s(&t);
    Ok(Value::Bool(
        t == name || (name.first() == Some(&b'*') && &name[1..] == t),
    ))
}

pub(super) fn kind_of<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(owned(v.kind_name().as_bytes().to_vec()))
}

pub(super) fn kind_is<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [t, v] = args(argv)?;
    Ok(Value::Bool(s(&t) == v.kind_name().as_bytes()))
}

/// reflect.DeepEqual on the values (types must match).
pub(super) fn deep_eq<'a>(a: &Value<'a>, b: &Value<'a>, depth: usize) -> Result<bool, FnError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(failed("value nested too deep to compare"));
    }
    if a.type_name() != b.type_name() {
        return Ok(false);
    }
    Ok(match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x, _), Value::Int(y, _)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x[..] == y[..],
        (Value::List(x), Value::List(y)) => {
            if Rc::ptr_eq(x, y) {
                return Ok(true);
            }
            if x.items.len() != y.items.len() {
                return Ok(false);
            }
            for (p, q) in x.items.iter().zip(&y.items) {
                if !deep_eq(p, q, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        _ if a.is_map() && b.is_map() => {
            let (x, y) = (a.map_entries(), b.map_entries());
            if x.len() != y.len() {
                return Ok(false);
            }
            for ((k1, v1), (k2, v2)) in x.iter().zip(&y) {
                if k1[..] != k2[..] || !deep_eq(v1, v2, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        _ => false,
    })
}

pub(super) fn deep_equal<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    Ok(Value::Bool(deep_eq(&a, &b, 0)?))
}

// ---- paths ----

/// Go's path.Clean.
fn clean(p: &[u8]) -> Vec<u8> {
    if p.is_empty() {
        return b".".to_vec();
    }
    let rooted = p[0] == b'/';
    let n = p.len();
    let mut out: Vec<u8> = Vec::with_capacity(n);
    let (mut r, mut dotdot) = (0, 0);
    if rooted {
        out.push(b'/');
        r = 1;
        dotdot = 1;
    }
    while r < n {
        if p[r] == b'/' || (p[r] == b'.' && (r + 1 == n || p[r + 1] == b'/')) {
            r += 1;
        } else if p[r] == b'.' && p[r + 1] == b'.' && (r + 2 == n || p[r + 2] == b'/') {
            r += 2;
            if out.len() > dotdot {
                let mut w = out.len() - 1;
                while w > dotdot && out[w] != b'/' {
                    w -= 1;
                }
                out.truncate(w);
            } else if !rooted {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(b"..");
                dotdot = out.len();
            }
        } else {
            if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                out.push(b'/');
            }
            while r < n && p[r] != b'/' {
                out.push(p[r]);
                r += 1;
            }
        }
    }
    if out.is_empty() {
        return b".".to_vec();
    }
    out
}

pub(super) fn path_clean<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(owned(clean(s(&v))))
}

pub(super) fn path_base<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let mut p = s(&v);
    if p.is_empty() {
        return Ok(owned(b".".to_vec()));
    }
    while p.len() > 1 && p.last() == Some(&b'/') {
        p = &p[..p.len() - 1];
    }
    if let Some(i) = p.iter().rposition(|&c| c == b'/')
        && (p.len() > 1 || i != 0)
    {
        p = &p[i + 1..];
    }
    if p.is_empty() {
        return Ok(owned(b"/".to_vec()));
    }
    Ok(owned(p.to_vec()))
}

pub(super) fn path_dir<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let p = s(&v);
    let dir = match p.iter().rposition(|&c| c == b'/') {
        Some(i) => &p[..=i],
        None => &[][..],
    };
    Ok(owned(clean(dir)))
}

pub(super) fn path_ext<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let p = s(&v);
    for i in (0..p.len()).rev() {
        match p[i] {
            b'/' => break,
            b'.' => return Ok(owned(p[i..].to_vec())),
            _ => {}
        }
    }
    Ok(owned(Vec::new()))
}

pub(super) fn path_is_abs<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::Bool(s(&v).first() == Some(&b'/')))
}

// ---- encoding ----

pub(super) fn b64enc<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    sized(go::base64_encode(s(&v)).into_bytes())
}

pub(super) fn b64dec<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    // sprig returns the decoder's error text as the value.
    Ok(owned(match go::base64_decode(s(&v)) {
        Ok(decoded) => decoded,
        Err(e) => e.to_string().into_bytes(),
    }))
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub(super) fn b32enc<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let b = s(&v);
    let mut out = Vec::with_capacity(b.len().div_ceil(5) * 8);
    for chunk in b.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - 5 * i)) & 31) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    sized(out)
}

/// Go's base32.StdEncoding.DecodeString, or its error text (the value sprig returns).
fn b32_decode(src: &[u8]) -> Result<Vec<u8>, String> {
    let corrupt = |at: usize| format!("illegal base32 data at input byte {at}");
    let cleaned: Vec<(usize, u8)> = src
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, c)| *c != b'\r' && *c != b'\n')
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cleaned.len() {
        let mut dbuf = [0u8; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            let Some(&(pos, c)) = cleaned.get(i) else {
                return Err(corrupt(src.len() - j.min(src.len())));
            };
            i += 1;
            if c == b'=' && j >= 2 {
                // Padding: the rest of the quantum must be padding too, and nothing after.
                for k in j..8 {
                    match cleaned.get(i - 1 + (k - j)) {
                        Some(&(_, b'=')) => {}
                        Some(&(p, _)) => return Err(corrupt(p)),
                        None => return Err(corrupt(src.len())),
                    }
                }
                i += 7 - j;
                if let Some(&(p, _)) = cleaned.get(i) {
                    return Err(corrupt(p));
                }
                if !matches!(j, 2 | 4 | 5 | 7) {
                    return Err(corrupt(pos));
                }
                dlen = j;
                break;
            }
            match B32.iter().position(|&x| x == c) {
                Some(v) => dbuf[j] = v as u8,
                None => return Err(corrupt(pos)),
            }
            j += 1;
        }
        let n = dbuf.iter().fold(0u64, |acc, &d| (acc << 5) | u64::from(d));
        let bytes = n.to_be_bytes();
        let take = match dlen {
            2 => 1,
            4 => 2,
            5 => 3,
            7 => 4,
            _ => 5,
        };
        out.extend_from_slice(&bytes[3..3 + take]);
        if dlen < 8 {
            break;
        }
    }
    Ok(out)
}

pub(super) fn b32dec<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(owned(match b32_decode(s(&v)) {
        Ok(b) => b,
        Err(e) => e.into_bytes(),
    }))
}

// ---- lists ----

fn list_items<'v, 'a>(v: &'v Value<'a>, what: &str) -> Result<&'v [Value<'a>], FnError> {
    match v {
        Value::List(l) => Ok(&l.items),
        Value::Nil => Err(failed(
            "runtime error: invalid memory address or nil pointer dereference",
        )),
        other => Err(FnError::Failed(format!(
            "Cannot {what} type {}",
            other.kind_name()
        ))),
    }
}

fn any_list<'a>(cx: &Cx<'a>, items: Vec<Value<'a>>) -> R<'a> {
    cx.list_len(items.len())?;
    Ok(Value::list(ListTy::Any, items))
}

pub(super) fn list<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    any_list(cx, argv)
}

pub(super) fn push<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l, v] = args(argv)?;
    let mut items = list_items(&l, "push on")?.to_vec();
    items.push(v);
    any_list(cx, items)
}

pub(super) fn prepend<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l, v] = args(argv)?;
    let old = list_items(&l, "prepend on")?;
    let mut items = Vec::with_capacity(old.len() + 1);
    items.push(v);
    items.extend_from_slice(old);
    any_list(cx, items)
}

pub(super) fn first<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l] = args(argv)?;
    Ok(list_items(&l, "find first on")?
        .first()
        .cloned()
        .unwrap_or(Value::Nil))
}

pub(super) fn last<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l] = args(argv)?;
    Ok(list_items(&l, "find last on")?
        .last()
        .cloned()
        .unwrap_or(Value::Nil))
}

pub(super) fn rest<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l] = args(argv)?;
    match list_items(&l, "find rest on")? {
        [] => Err(FnError::Unsupported(
            "rest of an empty list (Go's nil list)".into(),
        )),
        [_, tail @ ..] => any_list(cx, tail.to_vec()),
    }
}

pub(super) fn initial<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l] = args(argv)?;
    match list_items(&l, "find initial on")? {
        [] => Err(FnError::Unsupported(
            "initial of an empty list (Go's nil list)".into(),
        )),
        [head @ .., _] => any_list(cx, head.to_vec()),
    }
}

pub(super) fn reverse<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l] = args(argv)?;
    let mut items = list_items(&l, "find reverse on")?.to_vec();
    items.reverse();
    any_list(cx, items)
}

pub(super) fn compact<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l] = args(argv)?;
    let items = list_items(&l, "compact on")?
        .iter()
        .filter(|v| !is_empty(v))
        .cloned()
        .collect();
    any_list(cx, items)
}

fn in_list<'a>(haystack: &[Value<'a>], needle: &Value<'a>) -> Result<bool, FnError> {
    for h in haystack {
        if deep_eq(needle, h, 0)? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(super) fn uniq<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [l] = args(argv)?;
    let items = list_items(&l, "find uniq on")?;
    // Quadratic, as sprig's: paid for.
    cx.spend_steps((items.len() as u64).pow(2) / 256)?;
    let mut dest: Vec<Value<'a>> = Vec::new();
    for item in items {
        if !in_list(&dest, item)? {
            dest.push(item.clone());
        }
    }
    any_list(cx, dest)
}

pub(super) fn without<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut argv = argv.into_iter();
    let l = argv.next().unwrap_or(Value::Nil);
    let omit: Vec<Value<'a>> = argv.collect();
    let items = list_items(&l, "find without on")?;
    cx.spend_steps((items.len() as u64 * omit.len() as u64) / 256)?;
    let mut res = Vec::new();
    for item in items {
        if !in_list(&omit, item)? {
            res.push(item.clone());
        }
    }
    any_list(cx, res)
}

pub(super) fn has<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [needle, haystack] = args(argv)?;
    if let Value::Nil = haystack {
        return Ok(Value::Bool(false));
    }
    let items = list_items(&haystack, "find has on")?;
    Ok(Value::Bool(in_list(items, &needle)?))
}

pub(super) fn slice<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut argv = argv.into_iter();
    let l = argv.next().unwrap_or(Value::Nil);
    let indices: Vec<Value<'a>> = argv.collect();
    let Value::List(list) = &l else {
        return Err(FnError::Failed(format!(
            "list should be type of slice or array but {}",
            l.kind_name()
        )));
    };
    let len = list.items.len() as i64;
    if len == 0 {
        return Ok(Value::Nil);
    }
    let start = indices.first().map(to_i64).unwrap_or(0);
    let end = if indices.len() < 2 {
        len
    } else {
        to_i64(&indices[1])
    };
    if !(0 <= start && start <= end && end <= len) {
        return Err(failed("reflect: slice index out of range"));
    }
    Ok(Value::list(
        list.ty,
        list.items[start as usize..end as usize].to_vec(),
    ))
}

pub(super) fn concat<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    if argv.is_empty() {
        return Err(FnError::Unsupported(
            "concat of no lists (Go's nil list)".into(),
        ));
    }
    let mut res = Vec::new();
    for l in &argv {
        let items = match l {
            Value::List(list) => &list.items,
            other => {
                return Err(FnError::Failed(format!(
                    "Cannot concat type {} as list",
                    other.kind_name()
                )));
            }
        };
        cx.list_len(res.len() + items.len())?;
        res.extend_from_slice(items);
    }
    if res.is_empty() {
        return Err(FnError::Unsupported(
            "concat of empty lists (Go's nil list)".into(),
        ));
    }
    any_list(cx, res)
}

pub(super) fn chunk<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [size, l] = args(argv)?;
    let size = int(&size);
    let items = list_items(&l, "chunk")?;
    if size <= 0 {
        return Err(failed("runtime error: makeslice: len out of range"));
    }
    if items.is_empty() {
        return Err(FnError::Unsupported("chunk of an empty list".into()));
    }
    let size = size as usize;
    let chunks: Vec<Value<'a>> = items
        .chunks(size)
        .map(|c| Value::list(ListTy::Any, c.to_vec()))
        .collect();
    cx.list_len(chunks.len())?;
    Ok(Value::list(ListTy::Lists, chunks))
}

// ---- dicts ----

fn dict_ref<'v, 'a>(v: &'v Value<'a>) -> Option<&'v super::value::DictRef<'a>> {
    match v {
        Value::Dict(d) => Some(d),
        _ => None,
    }
}

pub(super) fn dict<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut entries = BTreeMap::new();
    let mut it = argv.into_iter();
    while let Some(k) = it.next() {
        let key = strval(&k)?.into_owned();
        let v = it.next().unwrap_or_else(|| owned(Vec::new()));
        entries.insert(key, v);
    }
    cx.spend_bytes(entries.len() * 16)?;
    Ok(cx.dict(MapTy::Any, entries))
}

pub(super) fn get<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [d, k] = args(argv)?;
    Ok(d.map_get(s(&k)).unwrap_or_else(|| owned(Vec::new())))
}

pub(super) fn set<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [d, k, v] = args(argv)?;
    let Some(dict) = dict_ref(&d) else {
        return Err(failed("assignment to entry in nil map"));
    };
    cx.spend_bytes(16)?;
    dict.borrow_mut().entries.insert(s(&k).to_vec(), v);
    Ok(d)
}

pub(super) fn unset<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [d, k] = args(argv)?;
    if let Some(dict) = dict_ref(&d) {
        dict.borrow_mut().entries.remove(s(&k));
    }
    Ok(d)
}

pub(super) fn has_key<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [d, k] = args(argv)?;
    Ok(Value::Bool(d.map_get(s(&k)).is_some()))
}

pub(super) fn pluck<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut it = argv.into_iter();
    let key = it.next().unwrap_or(Value::Nil);
    let res: Vec<Value<'a>> = it.filter_map(|d| d.map_get(s(&key))).collect();
    any_list(cx, res)
}

/// Go returns `keys` (and `values`) in its map order, which it randomises on every call;
/// here they come in key order, one of the orders Go may give.
pub(super) fn keys<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut res = Vec::new();
    for d in &argv {
        for (k, _) in d.map_entries() {
            res.push(k.to_vec());
        }
    }
    str_list(cx, res)
}

pub(super) fn pick<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut it = argv.into_iter();
    let d = it.next().unwrap_or(Value::Nil);
    let mut res = BTreeMap::new();
    for k in it {
        if let Some(v) = d.map_get(s(&k)) {
            res.insert(s(&k).to_vec(), v);
        }
    }
    cx.spend_bytes(res.len() * 16)?;
    Ok(cx.dict(MapTy::Any, res))
}

pub(super) fn omit<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut it = argv.into_iter();
    let d = it.next().unwrap_or(Value::Nil);
    let omit: Vec<Vec<u8>> = it.map(|k| s(&k).to_vec()).collect();
    let res: BTreeMap<Vec<u8>, Value<'a>> = d
        .map_entries()
        .into_iter()
        .filter(|(k, _)| !omit.iter().any(|o| o[..] == k[..]))
        .map(|(k, v)| (k.to_vec(), v))
        .collect();
    cx.spend_bytes(res.len() * 16)?;
    Ok(cx.dict(MapTy::Any, res))
}

pub(super) fn values<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [d] = args(argv)?;
    let res = d.map_entries().into_iter().map(|(_, v)| v).collect();
    any_list(cx, res)
}

/// mergo's isEmptyValue.
fn mergo_empty(v: &Value<'_>) -> bool {
    is_empty(v)
}

fn merge_into<'a>(
    cx: &Cx<'a>,
    dst: &super::value::DictRef<'a>,
    src: &Value<'a>,
    overwrite: bool,
    depth: usize,
) -> Result<(), FnError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(failed("maps nested too deep to merge"));
    }
    for (k, sv) in src.map_entries() {
        let dv = dst.borrow().entries.get(&k[..]).cloned();
        match (&dv, &sv) {
            (Some(Value::Dict(dd)), Value::Dict(sd))
                if dd.borrow().ty == MapTy::Any && sd.borrow().ty == MapTy::Any =>
            {
                if Rc::ptr_eq(dd, sd) {
                    continue;
                }
                merge_into(cx, dd, &sv, overwrite, depth + 1)?;
            }
            (Some(Value::Dict(_)), _) | (_, Value::Dict(_)) if dv.is_some() => {
                return Err(FnError::Unsupported(
                    "merge of a map with a non-map value".into(),
                ));
            }
            _ => {
                let replace = match &dv {
                    None => true,
                    Some(d) => mergo_empty(d) || (overwrite && !mergo_empty(&sv)),
                };
                if replace {
                    cx.spend_bytes(16)?;
                    dst.borrow_mut().entries.insert(k.to_vec(), sv);
                }
            }
        }
    }
    Ok(())
}

fn merge_all<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>, overwrite: bool) -> R<'a> {
    let mut it = argv.into_iter();
    let dst = it.next().unwrap_or(Value::Nil);
    let Some(d) = dict_ref(&dst) else {
        return Err(FnError::Unsupported("merge into a nil map".into()));
    };
    for src in it {
        merge_into(cx, d, &src, overwrite, 0)?;
    }
    Ok(dst)
}

pub(super) fn merge<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    merge_all(cx, argv, false)
}

pub(super) fn merge_overwrite<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    merge_all(cx, argv, true)
}

pub(super) fn dig<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    if argv.len() < 3 {
        return Err(failed("dig needs at least three arguments"));
    }
    let n = argv.len();
    let mut current = argv[n - 1].clone();
    let default = argv[n - 2].clone();
    let keys = &argv[..n - 2];
    for (i, k) in keys.iter().enumerate() {
        let Value::Str(key) = k else {
            return Err(FnError::Failed(format!(
                "interface conversion: interface {{}} is {}, not string",
                k.type_name()
            )));
        };
        match &current {
            Value::Dict(d) if d.borrow().ty == MapTy::Any => {}
            other => {
                return Err(FnError::Failed(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    other.type_name()
                )));
            }
        }
        match current.map_get(key) {
            None => return Ok(default),
            Some(v) if i + 1 == keys.len() => return Ok(v),
            Some(v) => current = v,
        }
    }
    Ok(default)
}

// ---- flow control and regular expressions ----

pub(super) fn fail<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [msg] = args(argv)?;
    Err(FnError::Fail(String::from_utf8_lossy(s(&msg)).into_owned()))
}

pub(super) fn regex_match<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [re, v] = args(argv)?;
    Ok(Value::Bool(match compile(s(&re), s(&v))? {
        Some(re) => {
            cx.spend_steps((s(&v).len() / 256) as u64)?;
            re.is_match(s(&v))
        }
        None => false,
    }))
}

pub(super) fn must_regex_match<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [re, v] = args(argv)?;
    let Some(re) = compile(s(&re), s(&v))? else {
        return Err(failed("error parsing regexp"));
    };
    cx.spend_steps((s(&v).len() / 256) as u64)?;
    Ok(Value::Bool(re.is_match(s(&v))))
}

fn find_all<'a>(cx: &Cx<'a>, re: &::regex::bytes::Regex, b: &[u8], n: i64) -> R<'a> {
    cx.spend_steps((b.len() / 256) as u64)?;
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let found: Vec<Vec<u8>> = super::regex::find_all(re, b)
        .into_iter()
        .take(limit)
        .map(|(i, j)| b[i..j].to_vec())
        .collect();
    if n == 0 || found.is_empty() {
        return Err(FnError::Unsupported(
            "regexFindAll without matches (Go's nil list)".into(),
        ));
    }
    str_list(cx, found)
}

pub(super) fn regex_find_all<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [re, v, n] = args(argv)?;
    let Some(re) = compile(s(&re), s(&v))? else {
        return Err(failed("regexp: Compile: error parsing regexp"));
    };
    find_all(cx, &re, s(&v), int(&n))
}

pub(super) fn must_regex_find_all<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    regex_find_all(cx, argv)
}

pub(super) fn regex_find<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [re, v] = args(argv)?;
    let Some(re) = compile(s(&re), s(&v))? else {
        return Err(failed("regexp: Compile: error parsing regexp"));
    };
    cx.spend_steps((s(&v).len() / 256) as u64)?;
    Ok(owned(
        re.find(s(&v))
            .map(|m| m.as_bytes().to_vec())
            .unwrap_or_default(),
    ))
}

pub(super) fn must_regex_find<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    regex_find(cx, argv)
}

fn replace_with<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>, literal: bool) -> R<'a> {
    let [re, v, repl] = args(argv)?;
    let Some(re) = compile(s(&re), s(&v))? else {
        return Err(failed("regexp: Compile: error parsing regexp"));
    };
    let b = s(&v);
    cx.spend_steps((b.len() / 256) as u64)?;
    let out = super::regex::replace_all(&re, b, s(&repl), literal)?;
    sized(out)
}

pub(super) fn regex_replace_all<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    replace_with(cx, argv, false)
}

pub(super) fn must_regex_replace_all<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    replace_with(cx, argv, false)
}

pub(super) fn regex_replace_all_literal<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    replace_with(cx, argv, true)
}

pub(super) fn must_regex_replace_all_literal<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    replace_with(cx, argv, true)
}

pub(super) fn regex_split<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [re, v, n] = args(argv)?;
    let pattern = s(&re).to_vec();
    let Some(compiled) = compile(&pattern, s(&v))? else {
        return Err(failed("regexp: Compile: error parsing regexp"));
    };
    let n = int(&n);
    if n == 0 {
        return Err(FnError::Unsupported(
            "regexSplit with n = 0 (Go's nil list)".into(),
        ));
    }
    cx.spend_steps((s(&v).len() / 256) as u64)?;
    str_list(cx, regex_split_impl(&compiled, &pattern, s(&v), n))
}

pub(super) fn must_regex_split<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    regex_split(cx, argv)
}

pub(super) fn regex_quote_meta<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    let mut out = Vec::new();
    for &c in s(&v) {
        if b"\\.+*?()|[]{}^$".contains(&c) {
            out.push(b'\\');
        }
        out.push(c);
    }
    sized(out)
}
