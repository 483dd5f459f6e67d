//! The function table (Go builtins and the sprig functions supported) and the functions.

use sha2::{Digest as _, Sha256};

use crate::go;

use super::error::{FnError, TemplateError, check_len, failed};
use super::format::{fmt_value, json_value, push_hex, quote_bytes, sprintf, strval};
use super::strings::{
    Finder, is_space_rune, push_rune, replace_all, runes, trim_cutset, trim_space,
};
use super::unicode::{to_lower, to_title, to_upper};
use super::value::{Value, borrowed, owned};

/// A parameter's Go type: `string`, `int` or `interface{}`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Str,
    Int,
    Any,
}

impl Ty {
    pub(super) fn name(self) -> &'static str {
        match self {
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::Any => "any value",
        }
    }
}

type Imp = for<'a> fn(Vec<Value<'a>>) -> Result<Value<'a>, FnError>;

pub(super) struct Func {
    pub(super) name: &'static str,
    pub(super) params: &'static [Ty],
    pub(super) variadic: Option<Ty>,
    pub(super) imp: Imp,
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
    sized(go::base64_encode(bytes(&s)).into_bytes())
}

fn f_b64dec(argv: Vec<Value<'_>>) -> Result<Value<'_>, FnError> {
    let [s] = args(argv)?;
    // sprig returns the decoder's error text as the value.
    Ok(owned(match go::base64_decode(bytes(&s)) {
        Ok(decoded) => decoded,
        Err(e) => e.to_string().into_bytes(),
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
        Ok(b) if b < 0x80 => !(b.is_ascii_alphanumeric() || b == b'_'),
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

pub(super) fn lookup(name: &str, offset: usize) -> Result<&'static Func, TemplateError> {
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
