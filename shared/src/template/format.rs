//! Go's fmt (`Sprint`, `Sprintf`), strconv quoting and encoding/json for the value kinds
//! templates compute with. JSON strings are [`crate::go::json_string`].

use std::borrow::Cow;

use crate::go;

use super::date::print_time;
use super::error::{FnError, check_len};
use super::strings::{decode_rune, push_rune, runes};
use super::unicode::is_print;
use super::value::{IntTy, Value, owned};

/// Deepest nesting of lists and maps that printing, encoding and comparing walk: values
/// can contain themselves (`set $d "self" $d`), where Go would recurse until it crashes.
pub(super) const MAX_VALUE_DEPTH: usize = 100;

fn too_deep() -> FnError {
    FnError::Failed(format!("value nested deeper than {MAX_VALUE_DEPTH}"))
}

/// `fmt.Sprint(v)`: Go's `%v` without flags.
pub(super) fn fmt_value(value: &Value<'_>, out: &mut Vec<u8>) -> Result<(), FnError> {
    fmt_depth(value, out, 0)
}

fn fmt_depth(value: &Value<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), FnError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    match value {
        Value::Str(s) => out.extend_from_slice(s),
        Value::Int(i, _) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => format_float(*f, 'g', None, out),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"<nil>"),
        Value::Time(t) => print_time(t, out)?,
        Value::List(list) => {
            out.push(b'[');
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                fmt_depth(item, out, depth + 1)?;
                check_len(out.len() as u128)?;
            }
            out.push(b']');
        }
        Value::Items(_) | Value::Dict(_) => {
            out.extend_from_slice(b"map[");
            for (i, (k, v)) in value.map_entries().iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(k);
                out.push(b':');
                fmt_depth(v, out, depth + 1)?;
                check_len(out.len() as u128)?;
            }
            out.push(b']');
        }
        // A struct's `%v`: its fields, space-separated, in braces.
        Value::Cert(c) => {
            out.push(b'{');
            out.extend_from_slice(&c.cert);
            out.push(b' ');
            out.extend_from_slice(&c.key);
            out.push(b'}');
        }
    }
    check_len(out.len() as u128)
}

/// sprig's strval: a string as is, anything else through `%v`.
pub(super) fn strval<'v>(value: &'v Value<'_>) -> Result<Cow<'v, [u8]>, FnError> {
    Ok(match value {
        Value::Str(s) => Cow::Borrowed(s),
        other => {
            let mut out = Vec::new();
            fmt_value(other, &mut out)?;
            Cow::Owned(out)
        }
    })
}

/// The decimal digits of a float: value = 0.d1d2...dn × 10^dp.
struct Digits {
    d: Vec<u8>,
    dp: i32,
}

/// From Rust's `{:e}` rendering of a finite non-negative float.
fn digits_of(e: &str) -> Digits {
    let (mantissa, exp) = e.split_once('e').unwrap_or((e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while d.len() > 1 && d.last() == Some(&b'0') {
        d.pop();
    }
    if d == b"0" {
        return Digits {
            d: Vec::new(),
            dp: 0,
        };
    }
    Digits { d, dp: exp + 1 }
}

/// Go's `fmtE`.
fn fmt_e(out: &mut Vec<u8>, d: &Digits, prec: usize, e: u8) {
    out.push(d.d.first().copied().unwrap_or(b'0'));
    if prec > 0 {
        out.push(b'.');
        let m = d.d.len().min(prec + 1);
        if m > 1 {
            out.extend_from_slice(&d.d[1..m]);
        }
        for _ in m.max(1)..=prec {
            out.push(b'0');
        }
    }
    out.push(e);
    let mut exp = if d.d.is_empty() { 0 } else { d.dp - 1 };
    if exp < 0 {
        out.push(b'-');
        exp = -exp;
    } else {
        out.push(b'+');
    }
    if exp < 10 {
        out.push(b'0');
    }
    out.extend_from_slice(exp.to_string().as_bytes());
}

/// Go's `fmtF`.
fn fmt_f(out: &mut Vec<u8>, d: &Digits, prec: usize) {
    let digit = |i: i32| -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| d.d.get(i).copied())
            .unwrap_or(b'0')
    };
    if d.dp > 0 {
        for i in 0..d.dp {
            out.push(digit(i));
        }
    } else {
        out.push(b'0');
    }
    if prec > 0 {
        out.push(b'.');
        for i in 1..=prec as i32 {
            out.push(digit(d.dp + i - 1));
        }
    }
}

/// Go's `strconv.FormatFloat(f, verb, prec, 64)` for the verbs `e`, `E`, `f`, `g`, `G`
/// (`None`: the shortest representation that reads back).
pub(super) fn format_float(f: f64, verb: char, prec: Option<usize>, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"+Inf" } else { b"-Inf" });
        return;
    }
    if f.is_sign_negative() {
        out.push(b'-');
    }
    let a = f.abs();
    match (verb, prec) {
        ('f' | 'F', Some(p)) => out.extend_from_slice(format!("{a:.p$}").as_bytes()),
        ('f' | 'F', None) => {
            let d = digits_of(&format!("{a:e}"));
            let prec = (d.d.len() as i32 - d.dp).max(0) as usize;
            fmt_f(out, &d, prec);
        }
        ('e' | 'E', _) => {
            let e = if verb == 'e' { b'e' } else { b'E' };
            match prec {
                Some(p) => {
                    let d = digits_of(&format!("{a:.p$e}"));
                    fmt_e(out, &d, p, e);
                }
                None => {
                    let d = digits_of(&format!("{a:e}"));
                    fmt_e(out, &d, d.d.len().saturating_sub(1), e);
                }
            }
        }
        _ => {
            let e = if verb == 'G' { b'E' } else { b'e' };
            let (d, shortest, mut prec) = match prec {
                None => {
                    let d = digits_of(&format!("{a:e}"));
                    let n = d.d.len();
                    (d, true, n)
                }
                Some(p) => {
                    let p = p.max(1);
                    (digits_of(&format!("{a:.*e}", p - 1)), false, p)
                }
            };
            let nd = d.d.len();
            let mut eprec = prec as i32;
            if eprec > nd as i32 && nd as i32 >= d.dp {
                eprec = nd as i32;
            }
            if shortest {
                eprec = 6;
            }
            let exp = d.dp - 1;
            if exp < -4 || exp >= eprec {
                if prec > nd {
                    prec = nd;
                }
                fmt_e(out, &d, prec.saturating_sub(1), e);
                return;
            }
            if prec as i32 > d.dp {
                prec = nd;
            }
            fmt_f(out, &d, (prec as i32 - d.dp).max(0) as usize);
        }
    }
}

/// encoding/json's float64: shortest, exponent form outside [1e-6, 1e21).
fn json_float(f: f64, out: &mut Vec<u8>) -> Result<(), FnError> {
    if !f.is_finite() {
        return Err(FnError::Failed(format!(
            "json: unsupported value: {}",
            String::from_utf8_lossy(&{
                let mut b = Vec::new();
                format_float(f, 'g', None, &mut b);
                b
            })
        )));
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let mut b = Vec::new();
        format_float(f, 'e', None, &mut b);
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            b[n - 2] = b[n - 1];
            b.truncate(n - 1);
        }
        out.extend_from_slice(&b);
    } else {
        format_float(f, 'f', None, out);
    }
    Ok(())
}

#[derive(Default, Clone)]
struct Flags {
    minus: bool,
    plus: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
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
                b'-' => {
                    flags.minus = true;
                    flags.zero = false;
                }
                b'+' => flags.plus = true,
                b'0' => flags.zero = !flags.minus,
                b'#' | b' ' => {
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
        if i < end && format[i] == b'.' {
            i += 1;
            if format.get(i) == Some(&b'*') {
                return Err(FnError::Unsupported(
                    "printf precision from argument".into(),
                ));
            }
            let mut prec = 0usize;
            while let Some(&d) = format.get(i).filter(|d| d.is_ascii_digit()) {
                if prec > 1_000_000 {
                    return Err(FnError::TooLarge);
                }
                prec = prec * 10 + usize::from(d - b'0');
                i += 1;
            }
            flags.prec = Some(prec);
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
        (Value::Nil, _) => bad_verb(arg, verb, out)?,
        (_, 'T') => pad(out, arg.type_name().as_bytes(), flags),
        (Value::Items(_) | Value::Dict(_) | Value::List(_), 'p') => {
            return Err(FnError::Unsupported("printf %p of a map or list".into()));
        }
        (_, 'p') => bad_verb(arg, verb, out)?,
        _ => print_value(arg, verb, flags, out, 0)?,
    }
    Ok(())
}

/// Go's `pp.printValue` / `fmtString` / `fmtInteger` / `fmtFloat` / `fmtBool`.
fn print_value(
    value: &Value<'_>,
    verb: char,
    flags: &Flags,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), FnError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    match value {
        Value::Bool(b) if verb == 't' || verb == 'v' => {
            pad(out, if *b { b"true" } else { b"false" }, flags);
        }
        Value::Int(i, ty) => {
            let (negative, magnitude, raw) = if *ty == IntTy::Uint8 {
                (false, *i as u64, *i as u64)
            } else {
                (i.is_negative(), i.unsigned_abs(), *i as u64)
            };
            return fmt_integer(negative, magnitude, raw, value, verb, flags, out);
        }
        Value::Float(f) => match verb {
            'v' | 'g' | 'G' | 'e' | 'E' | 'f' | 'F' => {
                let (v, default_prec) = match verb {
                    'v' => ('g', None),
                    'g' | 'G' => (verb, None),
                    'F' => ('f', Some(6)),
                    _ => (verb, Some(6)),
                };
                let mut num = Vec::new();
                format_float(*f, v, flags.prec.or(default_prec), &mut num);
                pad_number(out, &num, flags, f.is_finite());
            }
            _ => bad_verb(value, verb, out)?,
        },
        Value::Str(s) if verb == 'v' || verb == 's' => {
            let s = match flags.prec {
                Some(p) => truncate_runes(s, p),
                None => s,
            };
            pad(out, s, flags);
        }
        Value::Str(s) if verb == 'x' || verb == 'X' => {
            let s = match flags.prec {
                Some(p) => &s[..p.min(s.len())],
                None => s,
            };
            let mut hex = Vec::with_capacity(s.len() * 2);
            push_hex(&mut hex, s, verb == 'X');
            pad(out, &hex, flags);
        }
        Value::Str(s) if verb == 'q' => {
            let s = match flags.prec {
                Some(p) => truncate_runes(s, p),
                None => s,
            };
            let mut quoted = Vec::with_capacity(s.len() + 2);
            quote_bytes(s, b'"', &mut quoted);
            pad(out, &quoted, flags);
        }
        Value::List(list) => {
            out.push(b'[');
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                if let Value::Nil = item {
                    pad(out, b"<nil>", flags);
                } else {
                    print_value(item, verb, flags, out, depth + 1)?;
                }
                check_len(out.len() as u128)?;
            }
            out.push(b']');
        }
        Value::Items(_) | Value::Dict(_) => {
            out.extend_from_slice(b"map[");
            for (i, (k, val)) in value.map_entries().iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                print_value(&Value::Str(k.clone()), verb, flags, out, depth + 1)?;
                out.push(b':');
                if let Value::Nil = val {
                    pad(out, b"<nil>", flags);
                } else {
                    print_value(val, verb, flags, out, depth + 1)?;
                }
                check_len(out.len() as u128)?;
            }
            out.push(b']');
        }
        // A Stringer: fmt prints String() for these verbs (and the struct's fields for
        // others, which are not reproduced).
        Value::Time(t) if matches!(verb, 'v' | 's' | 'q' | 'x' | 'X') => {
            let mut s = Vec::new();
            print_time(t, &mut s)?;
            print_value(&owned(s), verb, flags, out, depth)?;
        }
        Value::Time(_) => {
            return Err(FnError::Unsupported(format!(
                "printf %{verb} of a time.Time"
            )));
        }
        Value::Nil if verb == 'v' => pad(out, b"<nil>", flags),
        _ => bad_verb(value, verb, out)?,
    }
    check_len(out.len() as u128)
}

fn truncate_runes(s: &[u8], n: usize) -> &[u8] {
    let mut end = 0;
    for (count, (_, width)) in runes(s).enumerate() {
        if count == n {
            break;
        }
        end += width;
    }
    &s[..end]
}

fn bad_verb(value: &Value<'_>, verb: char, out: &mut Vec<u8>) -> Result<(), FnError> {
    out.extend_from_slice(b"%!");
    push_rune(out, u32::from(verb));
    out.push(b'(');
    if let Value::Nil = value {
        out.extend_from_slice(b"<nil>");
    } else {
        out.extend_from_slice(value.type_name().as_bytes());
        out.push(b'=');
        print_arg(value, 'v', &Flags::default(), out)?;
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
        _ => return bad_verb(value, verb, out),
    };
    if flags.prec.is_some() {
        return Err(FnError::Unsupported(
            "printf precision for an integer".into(),
        ));
    }
    if negative {
        buf.push(b'-');
    } else if flags.plus {
        buf.push(b'+');
    }
    buf.extend_from_slice(digits.as_bytes());
    pad_number(out, &buf, flags, true);
    Ok(())
}

/// A number, signed, padded: with zeros after the sign for the `0` flag (Go's fmtInteger and
/// fmtFloat), otherwise as [`pad`].
fn pad_number(out: &mut Vec<u8>, num: &[u8], flags: &Flags, finite: bool) {
    let mut num = num.to_vec();
    if flags.plus && finite && !num.starts_with(b"-") && !num.starts_with(b"+") {
        num.insert(0, b'+');
    }
    if !flags.plus && num.starts_with(b"+") && !finite {
        // Go keeps "+Inf" as is.
    }
    match flags.width {
        Some(w) if flags.zero && !flags.minus && finite && w > num.len() => {
            let (sign, rest) = match num.first() {
                Some(b'-' | b'+') => num.split_at(1),
                _ => num.split_at(0),
            };
            out.extend_from_slice(sign);
            out.resize(out.len() + (w - num.len()), b'0');
            out.extend_from_slice(rest);
        }
        _ => pad(out, &num, flags),
    }
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

/// How to write JSON: Go's `json.Marshal` (`html`), an Encoder without HTML escaping, or
/// `json.MarshalIndent(v, "", "  ")`.
#[derive(Clone, Copy)]
pub(super) struct JsonStyle {
    pub(super) html: bool,
    pub(super) indent: bool,
}

/// Go's `encoding/json` for the values.
pub(super) fn json_value(
    value: &Value<'_>,
    style: JsonStyle,
    out: &mut Vec<u8>,
) -> Result<(), FnError> {
    json_depth(value, style, out, 0)
}

fn newline(out: &mut Vec<u8>, style: JsonStyle, depth: usize) {
    if style.indent {
        out.push(b'\n');
        for _ in 0..depth {
            out.extend_from_slice(b"  ");
        }
    }
}

fn json_depth(
    value: &Value<'_>,
    style: JsonStyle,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), FnError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    match value {
        Value::Str(s) => go::json_string(s, style.html, out),
        Value::Int(i, _) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => json_float(*f, out)?,
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Nil => out.extend_from_slice(b"null"),
        Value::Time(_) => return Err(FnError::Unsupported("JSON of a time.Time".into())),
        Value::List(list) => {
            out.push(b'[');
            for (i, item) in list.items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, style, depth + 1);
                json_depth(item, style, out, depth + 1)?;
                check_len(out.len() as u128)?;
            }
            if !list.items.is_empty() {
                newline(out, style, depth);
            }
            out.push(b']');
        }
        Value::Items(_) | Value::Dict(_) => {
            out.push(b'{');
            let entries = value.map_entries();
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, style, depth + 1);
                go::json_string(k, style.html, out);
                out.push(b':');
                if style.indent {
                    out.push(b' ');
                }
                json_depth(v, style, out, depth + 1)?;
                check_len(out.len() as u128)?;
            }
            if !entries.is_empty() {
                newline(out, style, depth);
            }
            out.push(b'}');
        }
        // Not reached: the executor passes certificates to no JSON function.
        Value::Cert(_) => return Err(FnError::Unsupported("JSON of sprig.certificate".into())),
    }
    check_len(out.len() as u128)
}
