//! The function table (Go's builtins and sprig's functions) and Go's builtins.

use super::crypto;
use super::cx::Cx;
use super::date;
use super::decimal;
use super::error::{FnError, TemplateError, check_len, failed};
use super::format::{fmt_value, quote_bytes, sprintf};
use super::sprig;
use super::strings::decode_rune;
use super::unicode::is_print;
use super::value::{IntTy, Value, owned, truth};

/// A parameter's Go type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Str,
    Int,
    Float,
    Bool,
    /// `map[string]interface {}`
    Dict,
    /// `interface{}` (and `reflect.Value`)
    Any,
    /// `uint32` (`derivePassword`'s counter): only an unsigned constant converts to it.
    Uint32,
    /// `[]interface {}` (the certificate generators' IPs and DNS names).
    List,
    /// sprig's `certificate` struct (`genSignedCert`'s CA).
    Cert,
    /// `time.Time`
    Time,
}

impl Ty {
    pub(super) fn name(self) -> &'static str {
        match self {
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::Float => "float64",
            Ty::Bool => "bool",
            Ty::Dict => "map[string]interface {}",
            Ty::Any => "any value",
            Ty::Uint32 => "uint32",
            Ty::List => "[]interface {}",
            Ty::Cert => "sprig.certificate",
            Ty::Time => "time.Time",
        }
    }

    /// Whether Go's untyped nil converts to the type (Go's canBeNil).
    pub(super) fn can_be_nil(self) -> bool {
        matches!(self, Ty::Any | Ty::Dict | Ty::List)
    }
}

pub(super) type R<'a> = Result<Value<'a>, FnError>;
type Imp = for<'a> fn(&Cx<'a>, Vec<Value<'a>>) -> R<'a>;

pub(super) struct Func {
    pub(super) name: &'static str,
    pub(super) params: &'static [Ty],
    pub(super) variadic: Option<Ty>,
    pub(super) imp: Imp,
}

pub(super) fn sized<'a>(bytes: Vec<u8>) -> R<'a> {
    check_len(bytes.len() as u128)?;
    Ok(owned(bytes))
}

const S: Ty = Ty::Str;
const I: Ty = Ty::Int;
const A: Ty = Ty::Any;
const F: Ty = Ty::Float;
const B: Ty = Ty::Bool;
const D: Ty = Ty::Dict;
const U: Ty = Ty::Uint32;
const L: Ty = Ty::List;
const C: Ty = Ty::Cert;
const T: Ty = Ty::Time;

macro_rules! func {
    ($name:literal, [$($p:expr),*], $variadic:expr, $imp:expr) => {
        Func { name: $name, params: &[$($p),*], variadic: $variadic, imp: $imp }
    };
}

static FUNCS: &[Func] = &[
    // Go builtins.
    func!("and", [A], Some(A), f_unreachable),
    func!("or", [A], Some(A), f_unreachable),
    func!("not", [A], None, f_not),
    func!("call", [A], Some(A), f_call),
    func!("index", [A], Some(A), f_index),
    // sprig's `slice` replaces Go's builtin of that name (FuncMap entries win).
    func!("slice", [A], Some(A), sprig::slice),
    func!("len", [A], None, f_len),
    func!("print", [], Some(A), f_print),
    func!("println", [], Some(A), f_println),
    func!("printf", [S], Some(A), f_printf),
    func!("html", [], Some(A), f_html),
    func!("js", [], Some(A), f_js),
    func!("urlquery", [], Some(A), f_urlquery),
    func!("eq", [A], Some(A), f_eq),
    func!("ne", [A, A], None, f_ne),
    func!("lt", [A, A], None, f_lt),
    func!("le", [A, A], None, f_le),
    func!("gt", [A, A], None, f_gt),
    func!("ge", [A, A], None, f_ge),
    // sprig: strings.
    func!("hello", [], None, sprig::hello),
    func!("abbrev", [I, S], None, sprig::abbrev),
    func!("abbrevboth", [I, I, S], None, sprig::abbrevboth),
    func!("trunc", [I, S], None, sprig::trunc),
    func!("trim", [S], None, sprig::trim),
    func!("upper", [S], None, sprig::upper),
    func!("lower", [S], None, sprig::lower),
    func!("title", [S], None, sprig::title),
    func!("untitle", [S], None, sprig::untitle),
    func!("substr", [I, I, S], None, sprig::substr),
    func!("repeat", [I, S], None, sprig::repeat),
    func!("trimall", [S, S], None, sprig::trim_all),
    func!("trimAll", [S, S], None, sprig::trim_all),
    func!("trimSuffix", [S, S], None, sprig::trim_suffix),
    func!("trimPrefix", [S, S], None, sprig::trim_prefix),
    func!("nospace", [S], None, sprig::nospace),
    func!("initials", [S], None, sprig::initials),
    func!("randAlphaNum", [I], None, sprig::rand_alpha_num),
    func!("randAlpha", [I], None, sprig::rand_alpha),
    func!("randAscii", [I], None, sprig::rand_ascii),
    func!("randNumeric", [I], None, sprig::rand_numeric),
    func!("swapcase", [S], None, sprig::swapcase),
    func!("shuffle", [S], None, sprig::shuffle),
    func!("camelcase", [S], None, sprig::camelcase),
    func!("snakecase", [S], None, sprig::snakecase),
    func!("kebabcase", [S], None, sprig::kebabcase),
    func!("wrap", [I, S], None, sprig::wrap),
    func!("wrapWith", [I, S, S], None, sprig::wrap_with),
    func!("contains", [S, S], None, sprig::contains),
    func!("hasPrefix", [S, S], None, sprig::has_prefix),
    func!("hasSuffix", [S, S], None, sprig::has_suffix),
    func!("quote", [], Some(A), sprig::quote),
    func!("squote", [], Some(A), sprig::squote),
    func!("cat", [], Some(A), sprig::cat),
    func!("indent", [I, S], None, sprig::indent),
    func!("nindent", [I, S], None, sprig::nindent),
    func!("replace", [S, S, S], None, sprig::replace),
    func!("plural", [S, S, I], None, sprig::plural),
    func!("sha1sum", [S], None, sprig::sha1sum),
    func!("sha256sum", [S], None, sprig::sha256sum),
    func!("sha512sum", [S], None, sprig::sha512sum),
    func!("adler32sum", [S], None, sprig::adler32sum),
    // Cryptography (crypto.rs).
    func!(
        "derivePassword",
        [U, S, S, S, S],
        None,
        crypto::derive_password
    ),
    func!("bcrypt", [S], None, crypto::bcrypt),
    func!("htpasswd", [S, S], None, crypto::htpasswd),
    func!("genPrivateKey", [S], None, crypto::gen_private_key),
    func!("encryptAES", [S, S], None, crypto::encrypt_aes),
    func!("decryptAES", [S, S], None, crypto::decrypt_aes),
    func!("buildCustomCert", [S, S], None, crypto::build_custom_cert),
    func!("genCA", [S, I], None, crypto::gen_ca),
    func!("genCAWithKey", [S, I, S], None, crypto::gen_ca_with_key),
    func!(
        "genSelfSignedCert",
        [S, L, L, I],
        None,
        crypto::gen_self_signed_cert
    ),
    func!(
        "genSelfSignedCertWithKey",
        [S, L, L, I, S],
        None,
        crypto::gen_self_signed_cert_with_key
    ),
    func!(
        "genSignedCert",
        [S, L, L, I, C],
        None,
        crypto::gen_signed_cert
    ),
    func!(
        "genSignedCertWithKey",
        [S, L, L, I, C, S],
        None,
        crypto::gen_signed_cert_with_key
    ),
    func!("toString", [A], None, sprig::to_string),
    // sprig: conversion and math.
    func!("atoi", [S], None, sprig::atoi),
    func!("int64", [A], None, sprig::to_int64),
    func!("int", [A], None, sprig::to_int),
    func!("float64", [A], None, sprig::to_float64),
    func!("seq", [], Some(I), sprig::seq),
    func!("toDecimal", [A], None, sprig::to_decimal),
    func!("split", [S, S], None, sprig::split),
    func!("splitList", [S, S], None, sprig::split_list),
    func!("splitn", [S, I, S], None, sprig::splitn),
    func!("toStrings", [A], None, sprig::to_strings),
    func!("until", [I], None, sprig::until),
    func!("untilStep", [I, I, I], None, sprig::until_step),
    func!("add1", [A], None, sprig::add1),
    func!("add", [], Some(A), sprig::add),
    func!("sub", [A, A], None, sprig::sub),
    func!("div", [A, A], None, sprig::div),
    func!("mod", [A, A], None, sprig::modulo),
    func!("mul", [A], Some(A), sprig::mul),
    func!("randInt", [I, I], None, sprig::rand_int),
    func!("biggest", [A], Some(A), sprig::max),
    func!("max", [A], Some(A), sprig::max),
    func!("min", [A], Some(A), sprig::min),
    func!("add1f", [A], None, decimal::add1f),
    func!("addf", [], Some(A), decimal::addf),
    func!("subf", [A], Some(A), decimal::subf),
    func!("mulf", [A], Some(A), decimal::mulf),
    func!("divf", [A], Some(A), decimal::divf),
    func!("maxf", [A], Some(A), sprig::maxf),
    func!("minf", [A], Some(A), sprig::minf),
    func!("ceil", [A], None, sprig::ceil),
    func!("floor", [A], None, sprig::floor),
    func!("round", [A, I], Some(F), sprig::round),
    func!("join", [S, A], None, sprig::join),
    func!("sortAlpha", [A], None, sprig::sort_alpha),
    // sprig: defaults, JSON, reflection.
    func!("default", [A], Some(A), sprig::default),
    func!("empty", [A], None, sprig::empty),
    func!("coalesce", [], Some(A), sprig::coalesce),
    func!("all", [], Some(A), sprig::all),
    func!("any", [], Some(A), sprig::any),
    func!("compact", [A], None, sprig::compact),
    func!("mustCompact", [A], None, sprig::compact),
    func!("fromJson", [S], None, sprig::from_json),
    func!("mustFromJson", [S], None, sprig::must_from_json),
    func!("toJson", [A], None, sprig::to_json),
    func!("mustToJson", [A], None, sprig::must_to_json),
    func!("toPrettyJson", [A], None, sprig::to_pretty_json),
    func!("mustToPrettyJson", [A], None, sprig::must_to_pretty_json),
    func!("toRawJson", [A], None, sprig::to_raw_json),
    func!("mustToRawJson", [A], None, sprig::to_raw_json),
    func!("ternary", [A, A, B], None, sprig::ternary),
    func!("deepCopy", [A], None, sprig::deep_copy),
    func!("mustDeepCopy", [A], None, sprig::deep_copy),
    func!("typeOf", [A], None, sprig::type_of),
    func!("typeIs", [S, A], None, sprig::type_is),
    func!("typeIsLike", [S, A], None, sprig::type_is_like),
    func!("kindOf", [A], None, sprig::kind_of),
    func!("kindIs", [S, A], None, sprig::kind_is),
    func!("deepEqual", [A, A], None, sprig::deep_equal),
    // sprig: paths.
    func!("base", [S], None, sprig::path_base),
    func!("dir", [S], None, sprig::path_dir),
    func!("clean", [S], None, sprig::path_clean),
    func!("ext", [S], None, sprig::path_ext),
    func!("isAbs", [S], None, sprig::path_is_abs),
    func!("osBase", [S], None, sprig::path_base),
    func!("osDir", [S], None, sprig::path_dir),
    func!("osClean", [S], None, sprig::path_clean),
    func!("osExt", [S], None, sprig::path_ext),
    func!("osIsAbs", [S], None, sprig::path_is_abs),
    // sprig: encoding.
    func!("b64enc", [S], None, sprig::b64enc),
    func!("b64dec", [S], None, sprig::b64dec),
    func!("b32enc", [S], None, sprig::b32enc),
    func!("b32dec", [S], None, sprig::b32dec),
    // sprig: lists and dicts.
    func!("tuple", [], Some(A), sprig::list),
    func!("list", [], Some(A), sprig::list),
    func!("dict", [], Some(A), sprig::dict),
    func!("get", [D, S], None, sprig::get),
    func!("set", [D, S, A], None, sprig::set),
    func!("unset", [D, S], None, sprig::unset),
    func!("hasKey", [D, S], None, sprig::has_key),
    func!("pluck", [S], Some(D), sprig::pluck),
    func!("keys", [], Some(D), sprig::keys),
    func!("pick", [D], Some(S), sprig::pick),
    func!("omit", [D], Some(S), sprig::omit),
    func!("merge", [D], Some(D), sprig::merge),
    func!("mustMerge", [D], Some(D), sprig::merge),
    func!("mergeOverwrite", [D], Some(D), sprig::merge_overwrite),
    func!("mustMergeOverwrite", [D], Some(D), sprig::merge_overwrite),
    func!("values", [D], None, sprig::values),
    func!("append", [A, A], None, sprig::push),
    func!("push", [A, A], None, sprig::push),
    func!("mustAppend", [A, A], None, sprig::push),
    func!("mustPush", [A, A], None, sprig::push),
    func!("prepend", [A, A], None, sprig::prepend),
    func!("mustPrepend", [A, A], None, sprig::prepend),
    func!("first", [A], None, sprig::first),
    func!("mustFirst", [A], None, sprig::first),
    func!("rest", [A], None, sprig::rest),
    func!("mustRest", [A], None, sprig::rest),
    func!("last", [A], None, sprig::last),
    func!("mustLast", [A], None, sprig::last),
    func!("initial", [A], None, sprig::initial),
    func!("mustInitial", [A], None, sprig::initial),
    func!("reverse", [A], None, sprig::reverse),
    func!("mustReverse", [A], None, sprig::reverse),
    func!("uniq", [A], None, sprig::uniq),
    func!("mustUniq", [A], None, sprig::uniq),
    func!("without", [A], Some(A), sprig::without),
    func!("mustWithout", [A], Some(A), sprig::without),
    func!("has", [A, A], None, sprig::has),
    func!("mustHas", [A, A], None, sprig::has),
    func!("mustSlice", [A], Some(A), sprig::slice),
    func!("concat", [], Some(A), sprig::concat),
    func!("dig", [], Some(A), sprig::dig),
    func!("chunk", [I, A], None, sprig::chunk),
    func!("mustChunk", [I, A], None, sprig::chunk),
    // sprig: random.
    func!("randBytes", [I], None, sprig::rand_bytes),
    func!("uuidv4", [], None, sprig::uuidv4),
    // sprig: flow control and regular expressions.
    func!("fail", [S], None, sprig::fail),
    func!("regexMatch", [S, S], None, sprig::regex_match),
    func!("mustRegexMatch", [S, S], None, sprig::must_regex_match),
    func!("regexFindAll", [S, S, I], None, sprig::regex_find_all),
    func!(
        "mustRegexFindAll",
        [S, S, I],
        None,
        sprig::must_regex_find_all
    ),
    func!("regexFind", [S, S], None, sprig::regex_find),
    func!("mustRegexFind", [S, S], None, sprig::must_regex_find),
    func!("regexReplaceAll", [S, S, S], None, sprig::regex_replace_all),
    func!(
        "mustRegexReplaceAll",
        [S, S, S],
        None,
        sprig::must_regex_replace_all
    ),
    func!(
        "regexReplaceAllLiteral",
        [S, S, S],
        None,
        sprig::regex_replace_all_literal
    ),
    func!(
        "mustRegexReplaceAllLiteral",
        [S, S, S],
        None,
        sprig::must_regex_replace_all_literal
    ),
    func!("regexSplit", [S, S, I], None, sprig::regex_split),
    func!("mustRegexSplit", [S, S, I], None, sprig::must_regex_split),
    func!("regexQuoteMeta", [S], None, sprig::regex_quote_meta),
    // Dates (date.rs).
    func!("now", [], None, date::now),
    func!("date", [S, A], None, date::date),
    func!("dateInZone", [S, A, S], None, date::date_in_zone),
    func!("date_in_zone", [S, A, S], None, date::date_in_zone),
    func!("htmlDate", [A], None, date::html_date),
    func!("htmlDateInZone", [A, S], None, date::html_date_in_zone),
    func!("dateModify", [S, T], None, date::date_modify),
    func!("date_modify", [S, T], None, date::date_modify),
    func!("mustDateModify", [S, T], None, date::must_date_modify),
    func!("must_date_modify", [S, T], None, date::must_date_modify),
    func!("toDate", [S, S], None, date::to_date),
    func!("mustToDate", [S, S], None, date::must_to_date),
    func!("unixEpoch", [T], None, date::unix_epoch),
    func!("duration", [A], None, date::duration),
    func!("durationRound", [A], None, date::duration_round),
    func!("ago", [A], None, date::ago),
];

/// The functions that may be given a `time.Time`, whose behaviour on one matches Go's (it
/// prints as its `String()`, or is a date function's argument). Others refuse it, and so
/// no list or map ever holds one.
const TAKE_TIME: &[&str] = &[
    "now",
    "date",
    "dateInZone",
    "date_in_zone",
    "htmlDate",
    "htmlDateInZone",
    "dateModify",
    "date_modify",
    "mustDateModify",
    "must_date_modify",
    "unixEpoch",
    "duration",
    "durationRound",
    "ago",
    "print",
    "println",
    "printf",
    "html",
    "js",
    "urlquery",
    "toString",
    "quote",
    "squote",
    "cat",
    "typeOf",
    "typeIs",
    "typeIsLike",
    "kindOf",
    "kindIs",
    "not",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "len",
    "index",
    "call",
];

/// Whether `f` is refused a `time.Time` argument.
pub(super) fn refuses_time(f: &Func, argv: &[Value<'_>]) -> bool {
    !TAKE_TIME.contains(&f.name) && argv.iter().any(|v| matches!(v, Value::Time(_)))
}

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

/// The names this renderer implements, for the documentation test.
#[cfg(test)]
pub(super) fn implemented() -> impl Iterator<Item = &'static str> {
    FUNCS.iter().map(|f| f.name)
}

/// The names Go and sprig have, for the documentation test.
#[cfg(test)]
pub(super) fn all_known() -> &'static [&'static str] {
    GO_AND_SPRIG_FUNCS
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

/// Unpacks exactly `N` arguments (the caller has checked the count).
pub(super) fn args<const N: usize>(argv: Vec<Value<'_>>) -> Result<[Value<'_>; N], FnError> {
    argv.try_into()
        .map_err(|_| failed("internal error: wrong argument count"))
}

pub(super) fn int(value: &Value<'_>) -> i64 {
    match value {
        Value::Int(i, _) => *i,
        _ => 0,
    }
}

fn f_unreachable<'a>(_: &Cx<'a>, _: Vec<Value<'a>>) -> R<'a> {
    Err(failed(
        "internal error: and/or are evaluated by the executor",
    ))
}

fn f_not<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    Ok(Value::Bool(!truth(&v)))
}

fn f_call<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    // No value a template can reach is a function.
    match argv.first() {
        None | Some(Value::Nil) => Err(failed("call of nil")),
        Some(v) => Err(FnError::Failed(format!(
            "non-function of type {}",
            v.type_name()
        ))),
    }
}

/// Go's indexArg.
fn index_arg(index: &Value<'_>, cap: usize) -> Result<usize, FnError> {
    let x = match index {
        Value::Int(i, _) => *i,
        Value::Nil => return Err(failed("cannot index slice/array with nil")),
        other => {
            return Err(FnError::Failed(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            )));
        }
    };
    match usize::try_from(x) {
        Ok(x) if x <= cap => Ok(x),
        _ => Err(FnError::Failed(format!("index out of range: {x}"))),
    }
}

fn f_index<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut argv = argv.into_iter();
    let mut item = argv.next().unwrap_or(Value::Nil);
    if let Value::Nil = item {
        return Err(failed("index of untyped nil"));
    }
    for index in argv {
        item = match item {
            Value::Nil => return Err(failed("index of nil pointer")),
            Value::Items(_) | Value::Dict(_) => {
                let Value::Str(key) = &index else {
                    return Err(match index {
                        Value::Nil => failed("value is nil; should be of type string"),
                        other => FnError::Failed(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        )),
                    });
                };
                match item.map_get(key) {
                    Some(v) => v,
                    None if item.type_name() == "map[string]string" => owned(Vec::new()),
                    None => Value::Nil,
                }
            }
            Value::Str(s) => {
                let i = index_arg(&index, s.len())?;
                let byte = s.get(i).copied();
                Value::Int(
                    i64::from(byte.ok_or_else(|| failed("index out of range"))?),
                    IntTy::Uint8,
                )
            }
            Value::List(list) => {
                let i = index_arg(&index, list.items.len())?;
                list.items
                    .get(i)
                    .cloned()
                    .ok_or_else(|| failed("reflect: slice index out of range"))?
            }
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

fn f_len<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [v] = args(argv)?;
    match (&v, v.len()) {
        (_, Some(n)) => Ok(Value::int(n as i64)),
        (Value::Nil, None) => Err(failed("len of nil value")),
        (other, None) => Err(FnError::Failed(format!(
            "len of type {}",
            other.type_name()
        ))),
    }
}

/// `fmt.Sprint(args...)`: a space between operands when neither is a string.
pub(super) fn sprint(argv: &[Value<'_>]) -> Result<Vec<u8>, FnError> {
    let mut out = Vec::new();
    let mut prev_string = false;
    for (i, arg) in argv.iter().enumerate() {
        let is_string = matches!(arg, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(b' ');
        }
        fmt_value(arg, &mut out)?;
        prev_string = is_string;
    }
    Ok(out)
}

fn f_print<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    sized(sprint(&argv)?)
}

fn f_println<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let mut out = Vec::new();
    for (i, arg) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        fmt_value(arg, &mut out)?;
    }
    out.push(b'\n');
    sized(out)
}

fn f_printf<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let (format, rest) = argv.split_first().ok_or_else(|| failed("missing format"))?;
    let mut out = Vec::new();
    sprintf(format.bytes(), rest, &mut out)?;
    sized(out)
}

/// Go's evalArgs for `html`, `js` and `urlquery`.
fn eval_args(argv: &[Value<'_>]) -> Result<Vec<u8>, FnError> {
    match argv {
        [Value::Str(s)] => Ok(s.to_vec()),
        _ => sprint(argv),
    }
}

fn f_html<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let s = eval_args(&argv)?;
    let mut out = Vec::with_capacity(s.len());
    for &c in &s {
        match c {
            0 => out.extend_from_slice("\u{fffd}".as_bytes()),
            b'"' => out.extend_from_slice(b"&#34;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            c => out.push(c),
        }
    }
    sized(out)
}

fn f_js<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let s = eval_args(&argv)?;
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c < 0x80 {
            match c {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\'' => out.extend_from_slice(b"\\'"),
                b'"' => out.extend_from_slice(b"\\\""),
                b'<' => out.extend_from_slice(b"\\u003C"),
                b'>' => out.extend_from_slice(b"\\u003E"),
                b'&' => out.extend_from_slice(b"\\u0026"),
                b'=' => out.extend_from_slice(b"\\u003D"),
                c if c < b' ' => out.extend_from_slice(format!("\\u00{c:02X}").as_bytes()),
                c => out.push(c),
            }
            i += 1;
        } else {
            let (r, size) = decode_rune(&s[i..]);
            if is_print(r) {
                out.extend_from_slice(&s[i..i + size]);
            } else {
                out.extend_from_slice(format!("\\u{r:04X}").as_bytes());
            }
            i += size.max(1);
        }
    }
    sized(out)
}

fn f_urlquery<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let s = eval_args(&argv)?;
    let mut out = Vec::with_capacity(s.len());
    for &c in &s {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(c),
            b' ' => out.push(b'+'),
            c => out.extend_from_slice(format!("%{c:02X}").as_bytes()),
        }
    }
    sized(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    Str,
}

fn basic_kind(v: &Value<'_>) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_, IntTy::Uint8) => Kind::Uint,
        Value::Int(..) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        _ => Kind::Invalid,
    }
}

fn float(v: &Value<'_>) -> f64 {
    match v {
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

fn eq_values(a: &Value<'_>, b: &Value<'_>) -> Result<bool, FnError> {
    if let (Value::Time(_), Value::Time(_)) = (a, b) {
        // Go compares the structs (instant, monotonic reading, *Location), not reproduced.
        return Err(FnError::Unsupported("eq of two time.Time values".into()));
    }
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 != k2 {
        return match (k1, k2) {
            (Kind::Int, Kind::Uint) | (Kind::Uint, Kind::Int) => Ok(int(a) == int(b)),
            _ if !matches!(a, Value::Nil) && !matches!(b, Value::Nil) => {
                Err(FnError::Failed(format!(
                    "incompatible types for comparison: {} and {}",
                    a.type_name(),
                    b.type_name()
                )))
            }
            _ => Ok(false),
        };
    }
    Ok(match k1 {
        Kind::Bool => matches!((a, b), (Value::Bool(x), Value::Bool(y)) if x == y),
        Kind::Int | Kind::Uint => int(a) == int(b),
        Kind::Float => float(a) == float(b),
        Kind::Str => a.bytes() == b.bytes(),
        Kind::Invalid => match (a, b) {
            (Value::Nil, Value::Nil) => true,
            (Value::Nil, _) | (_, Value::Nil) => false,
            (other, _) => {
                return Err(FnError::Failed(format!(
                    "non-comparable type {}",
                    other.type_name()
                )));
            }
        },
    })
}

fn f_eq<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let (first, rest) = argv
        .split_first()
        .ok_or_else(|| failed("missing argument"))?;
    if rest.is_empty() {
        return Err(failed("missing argument for comparison"));
    }
    for other in rest {
        if eq_values(first, other)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn f_ne<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    Ok(Value::Bool(!eq_values(&a, &b)?))
}

fn lt_values(a: &Value<'_>, b: &Value<'_>) -> Result<bool, FnError> {
    let bad = || failed("invalid type for comparison");
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == Kind::Invalid || k2 == Kind::Invalid {
        return Err(bad());
    }
    if k1 != k2 {
        return match (k1, k2) {
            (Kind::Int, Kind::Uint) | (Kind::Uint, Kind::Int) => Ok(int(a) < int(b)),
            _ => Err(FnError::Failed(format!(
                "incompatible types for comparison: {} and {}",
                a.type_name(),
                b.type_name()
            ))),
        };
    }
    match k1 {
        Kind::Bool | Kind::Invalid => Err(bad()),
        Kind::Int | Kind::Uint => Ok(int(a) < int(b)),
        Kind::Float => Ok(float(a) < float(b)),
        Kind::Str => Ok(a.bytes() < b.bytes()),
    }
}

fn f_lt<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    Ok(Value::Bool(lt_values(&a, &b)?))
}

fn f_le<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    Ok(Value::Bool(lt_values(&a, &b)? || eq_values(&a, &b)?))
}

fn f_gt<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    let le = lt_values(&a, &b)? || eq_values(&a, &b)?;
    Ok(Value::Bool(!le))
}

fn f_ge<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [a, b] = args(argv)?;
    Ok(Value::Bool(!lt_values(&a, &b)?))
}

/// `%q` of a string, for sprig's quote.
pub(super) fn go_quote(s: &[u8], out: &mut Vec<u8>) {
    quote_bytes(s, b'"', out);
}
