//! Go's fmt (`Sprint`, `Sprintf`), strconv quoting and encoding/json for the value kinds
//! templates compute with. JSON strings are [`crate::go::json_string`].

use std::borrow::Cow;

use crate::go;

use super::error::{FnError, check_len};
use super::strings::{decode_rune, push_rune, runes};
use super::unicode::is_print;
use super::value::{Value, borrowed};

/// `fmt.Sprint(v)`: Go's `%v` without flags.
pub(super) fn fmt_value(value: &Value<'_>, out: &mut Vec<u8>) {
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
pub(super) fn strval<'v>(value: &'v Value<'_>) -> Cow<'v, [u8]> {
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
pub(super) fn sprintf(format: &[u8], args: &[Value<'_>], out: &mut Vec<u8>) -> Result<(), FnError> {
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

pub(super) fn push_hex(out: &mut Vec<u8>, bytes: &[u8], upper: bool) {
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
pub(super) fn quote_bytes(s: &[u8], quote: u8, out: &mut Vec<u8>) {
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
pub(super) fn json_value(value: &Value<'_>, html: bool, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => go::json_string(s, html, out),
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
                go::json_string(k.as_bytes(), html, out);
                out.push(b':');
                go::json_string(v, html, out);
            }
            out.push(b'}');
        }
    }
}
