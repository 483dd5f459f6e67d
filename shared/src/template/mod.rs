//! Rendering of `spec.template.data`: Go's `text/template` with sprig, as the reference
//! controller evaluates it.
//!
//! The reference parses each `spec.template.data` value with Go's `text/template`, named by
//! its key, with sprig's `GenericFuncMap` (less `env`, `expandenv` and `getHostByName`), and
//! executes it with the decrypted items as the dot: a `map[string]string` from item name to
//! plaintext. [`render_with`] does the same. Whatever it accepts renders byte for byte what
//! the reference renders (checked against Go 1.26 `text/template` with sprig v3.3.0, over
//! some 8,900 generated and hand-written cases in `shared/tests/data/template/`); whatever it
//! cannot render exactly is refused with a [`TemplateError`], never rendered differently.
//! Rendering is pure: no I/O, and the clock and randomness come from the caller's [`Env`]
//! ([`Context`] for the real ones or fixed ones, [`Hermetic`] for none).
//!
//! # Supported
//!
//! - All of `text/template`'s language: text, actions with trim markers (`{{- ` and ` -}}`,
//!   the dash needing a space on its inner side), comments, pipelines and parenthesised
//!   pipelines, `if` / `else if` / `else`, `with` / `else with` / `else`, `range` over lists,
//!   maps (in sorted key order), integers (Go 1.22+) and nil, with `$v :=`, `$k, $v :=` and
//!   `=` forms, `break` and `continue`, variables (`$x := ...`, `$x = ...`, `$`, `$x.field`)
//!   scoped as Go scopes them, `define`, `template` (with or without a pipeline) and `block`,
//!   including a template calling itself by its key name.
//! - Constants: strings with Go's escapes, raw strings (carriage returns dropped),
//!   integers (decimal, `0x`, `0o`, `0b`, leading-zero octal, `_` separators), floats
//!   (`1.5`, `1e3`), character constants (`'a'`), `true`, `false`, `nil`, typed as Go types
//!   them (an integral float is an int where an int is wanted).
//! - Values of the Go types templates meet: `string` (any bytes), `int`, `int64`, `uint8`,
//!   `float64`, `bool`, `[]interface {}`, `[]string`, `[]int`, `[][]interface {}`,
//!   `map[string]interface {}` (shared by reference, as Go maps are: `set` changes it for every
//!   holder), `map[string]string` (the dot, `split`), nil. Printing, `printf` (every verb,
//!   the flags `-`, `+`, `0`, widths, precisions), JSON and comparisons follow Go's rules for
//!   each type, including Go's float formatting (`%v`, `%g`, `%e`, `%f`, JSON's exponent
//!   form), `%!d(string=...)`-style errors, and `<no value>` for a missing key.
//! - Go's builtins: `and`, `or` (short-circuit, returning the deciding value), `not`, `len`,
//!   `index` (maps, lists, strings, several indices), `print`, `printf`, `println`, `html`,
//!   `js`, `urlquery`, `eq` (several arguments), `ne`, `lt`, `le`, `gt`, `ge` (Go's basic-kind
//!   rules: int against uint, errors for mismatched kinds), `call` (always an error: no value
//!   is a function). `slice` is sprig's, which replaces Go's.
//! - sprig: every function of `GenericFuncMap` except those listed below, among them the
//!   string functions (`abbrev`, `abbrevboth`, `trunc`, `trim*`, `upper`, `lower`, `title`,
//!   `untitle`, `substr`, `repeat`, `nospace`, `initials`, `wrap`, `wrapWith`, `indent`,
//!   `nindent`, `replace`, `plural`, `quote`, `squote`, `cat`, `contains`, `hasPrefix`,
//!   `hasSuffix`, `camelcase`, `snakecase`, `kebabcase` and `swapcase` (ASCII text), `split`, `splitList`, `splitn`,
//!   `join`, `sortAlpha`, `toStrings`), regular expressions (`regexMatch`, `regexFind`,
//!   `regexFindAll`, `regexReplaceAll`, `regexReplaceAllLiteral`, `regexSplit`,
//!   `regexQuoteMeta` and their `must` forms), encodings (`b64enc`, `b64dec`, `b32enc`,
//!   `b32dec`), JSON (`toJson`, `toPrettyJson`, `toRawJson`, `fromJson` and the `must`
//!   forms), lists (`list`, `tuple`, `first`, `last`, `rest`, `initial`, `append`/`push`,
//!   `prepend`, `concat`, `reverse`, `uniq`, `without`, `has`, `compact`, `slice`, `chunk`,
//!   `until`, `untilStep`, `seq`), dicts (`dict`, `get`, `set`, `unset`, `hasKey`, `pluck`,
//!   `keys`, `values`, `pick`, `omit`, `merge`, `mergeOverwrite`, `dig`, `deepCopy`),
//!   `default`, `empty`, `coalesce`, `ternary`, `all`, `any`, integer math with Go's `int64`
//!   wrapping (`add`, `add1`, `sub`, `mul`, `div`, `mod`, `max`, `biggest`, `min`), float
//!   math (`maxf`, `minf`, `floor`, `ceil`, `round`, and shopspring/decimal's exact `addf`,
//!   `add1f`, `subf`, `mulf`, `divf`), conversions with spf13/cast's rules
//!   (`atoi`, `int`, `int64`, `float64`, `toString`, `toDecimal`), type functions (`typeOf`,
//!   `typeIs`, `typeIsLike`, `kindOf`, `kindIs`, `deepEqual`), hashes (`sha1sum`,
//!   `sha256sum`, `sha512sum`, `adler32sum`), paths (`base`, `dir`, `clean`, `ext`, `isAbs`
//!   and the `os` forms, which are the same on Linux), `hello`, and `fail` (whose message is
//!   shown only when it is a string constant of the template).
//! - Dates, with Go's `time` rules (the local zone being UTC, as in the controller's
//!   container): `date`, `dateInZone` / `date_in_zone`, `htmlDate`, `htmlDateInZone` (of a
//!   `time.Time` or of `int` / `int64` Unix seconds) with every layout element of Go's
//!   `Time.Format`, in `UTC`, `Local` or an IANA zone (from jiff's bundled tz database,
//!   never the system's, for instants from 1970 to 2099); `toDate` and `mustToDate` (Go's
//!   `ParseInLocation`, with its zone abbreviation and offset rules, and the zero time for
//!   what does not parse); `dateModify` / `date_modify`, `mustDateModify` /
//!   `must_date_modify` (Go's `ParseDuration`), `unixEpoch`, `duration` and `durationRound`
//!   (Go's `Duration.String`, sprig's type switches: an `int` is 0); `time.Time` values print
//!   as Go's `Time.String()` and type as `time.Time`. `now`, `ago`, and the date functions
//!   given something other than a time (Go's `time.Now()`) read the caller's clock
//!   ([`Env`]), and are refused without one ([`TemplateError::NoEnvironment`]).
//! - Random functions, from the caller's [`Env`]: `randAlphaNum`, `randAlpha`,
//!   `randNumeric`, `randAscii`, `randBytes`, `randInt`, `shuffle`, `uuidv4`. Their output
//!   cannot match Go's bytes; tests check its shape and that a fixed [`Context`] renders it
//!   the same every time. Without an environment ([`Hermetic`]) they are refused
//!   ([`TemplateError::NoEnvironment`]).
//! - Cryptography (sprig's crypto.go): `derivePassword` (scrypt and HMAC-SHA256, byte for
//!   byte), `decryptAES` (byte for byte, its failures included), `buildCustomCert` (the
//!   `certificate` struct: `.Cert`, `.Key`, printed as Go's `%v` of a struct, `typeOf`
//!   `sprig.certificate`); from the [`Env`]'s randomness, in Go's exact shape: `bcrypt` and
//!   `htpasswd` (`$2a$10$`), `encryptAES` (AES-256-CBC, the IV first), `genPrivateKey`
//!   (`rsa` 4096-bit PKCS#1, `ecdsa` P-256 SEC 1, `ed25519` PKCS#8; RSA keys come from
//!   aws-lc-rs's own generator, but also need the environment); `genCA`, `genCAWithKey`,
//!   `genSelfSignedCert`, `genSelfSignedCertWithKey`, `genSignedCert`,
//!   `genSignedCertWithKey` (Go's x509 certificate field for field: the serial from the
//!   environment's randomness, the validity from its clock, the extensions in Go's order;
//!   RSA-2048 keys and ECDSA signatures from aws-lc-rs; a given key re-encoded as Go does).
//!   The error texts sprig returns as values (`Unknown type`, `invalid username`, a bcrypt
//!   password over 72 bytes) need no environment. Each call of `derivePassword`, `bcrypt` or an RSA key costs many steps
//!   (5,000, 2,000, 20,000 for 4096 bits, 5,000 for 2048), bounding the CPU time one object
//!   can take.
//! - `keys` and `values` return Go's map order, which Go randomises on every call; here
//!   they come in key order, one of the orders Go may give.
//!
//! # Refused, with an error
//!
//! - Of the date functions: IANA zones at instants before 1970 or after 2099 (tz databases
//!   differ there by how they are built), zones not in the bundled database by that exact
//!   name (Go opens a file of that name; a name Go rejects before looking, such as one
//!   containing `..`, is UTC as in Go), and the 25 zones whose offsets or abbreviations
//!   differed between the bundled database (tzdata 2026f) and Go on tzdata 2025b
//!   (`America/Vancouver`, `Africa/Casablanca`, ...: what a controller renders for them
//!   depends on its tzdata); printing a time that carries a monotonic reading (`now`, and
//!   `dateModify` of it), which Go prints with ` m=+...`; times beyond ±2^62 Unix seconds;
//!   `time.Time`'s methods (`.Unix`, `.Format`, ...), `printf` verbs other than `%v`, `%s`,
//!   `%q`, `%x`, `%X` and `%T` of a time, `eq` of two times, and a time given to any
//!   function other than the date functions, the printing functions (`print`, `printf`,
//!   `toString`, `quote`, `cat`, ...), the type functions and the comparisons (so no list or
//!   map holds one).
//! - `genPrivateKey "dsa"` (no well-kept crate generates DSA keys); `buildCustomCert` of what
//!   this renderer cannot tell Go's x509 accepts (DSA and P-224 keys, URI names, name
//!   constraints, a key aws-lc-rs rejects; the same for the certificate generators' keys and
//!   CAs), a `daysValid` beyond Go's `time.Duration` (106,751 days, where Go wraps), and
//!   passing a certificate struct to any function but `print`, `println`, `toString`, the
//!   type functions and `genSignedCert*` ([`TemplateError::Unsupported`]).
//! - `semver`, `semverCompare`, `urlParse`, `urlJoin`
//!   ([`TemplateError::UnsupportedFunction`]); names that are neither Go's nor sprig's,
//!   including `env`, `expandenv` and `getHostByName`, which the reference removes
//!   ([`TemplateError::UnknownFunction`]).
//! - Cases where this renderer cannot be sure to match Go ([`TemplateError::Unsupported`]):
//!   complex and hexadecimal-float constants, non-ASCII identifiers; `camelcase`,
//!   `snakecase`, `kebabcase` and `swapcase` of non-ASCII text (Go's Unicode tables); regular expressions on text that
//!   is not UTF-8, or using constructs the two engines read differently (class set
//!   operators, `\Q`, the `x` flag, repeat counts over 1000, patterns the regex crate does
//!   not compile); results that are Go nil lists (`rest`/`initial` of an empty list, `concat`
//!   of nothing, `regexFindAll` without a match, `chunk` of an empty list), `merge` of a map
//!   with a non-map; `printf` flags `#` and space, `*` widths and precisions, argument
//!   indexes, integer precisions, `%p`; a template made only of definitions when rendered
//!   without its key name ([`render_within`]).
//! - Wrong argument counts or types, and calls Go would fail (`substr` out of range, `div`
//!   by zero, `len` of a number, `fail`, ...).
//! - The bounds (each a [`TemplateError`], where Go might render): values larger than
//!   [`MAX_RENDERED_LEN`] (a Secret holds at most 1 MiB), lists longer than
//!   [`MAX_LIST_LEN`], values nested more than 100 deep (a map that contains itself),
//!   parentheses or control structures nested more than [`MAX_NESTING`] deep, `template`
//!   calls nested more than [`MAX_TEMPLATE_DEPTH`] deep (Go allows 100,000), and objects whose
//!   templates together build more than [`MAX_BUILT_PER_OBJECT`] bytes or take more than
//!   [`MAX_STEPS_PER_OBJECT`] steps ([`Budget`]). A step is a command, a call (plus one per
//!   KiB of string and per 16 list elements it is given; `uniq` and `without` pay for their
//!   quadratic work), a `range` iteration or a `template` call; list elements and map
//!   entries built count 16 bytes each. So no template loops, recurses or allocates without
//!   limit.
//!
//! Error messages name the offending construct, function or field and its byte offset in
//! the template; they never contain an item value.
//!
//! # Layout
//!
//! [`render_with`] parses the template and evaluates it. The modules, each using only
//! modules listed after it (no cycles; none uses this one):
//!
//! - `exec`: evaluation, Go's exec.go; `parser`: Go's parse.go; `lexer`: Go's lex.go and
//!   constant syntax;
//! - `funcs`: the function table and Go's builtins; `sprig`: sprig's functions; `regex`: Go's
//!   regexp on the regex crate; `json`: Go's JSON decoding; `format`: Go's fmt, strconv
//!   quoting and float formatting, and encoding/json; `date`: Go's time layouts (format and
//!   parse), durations, and sprig's date functions;
//! - `cx`: the [`Budget`], the [`Env`] and the state functions reach; `strings`: Go's utf8
//!   and strings rules on byte strings, SHA-1; `unicode`: Go's Unicode tables;
//! - `value`: the values; `error`: the errors and the limits.
//!
//! Go's base64 and its JSON string escaping, which other parts of the workspace need too,
//! are [`crate::go`]'s.

mod crypto;
mod cx;
mod date;
mod decimal;
mod error;
mod exec;
mod format;
mod funcs;
mod json;
mod lexer;
mod parser;
mod regex;
mod sprig;
mod strings;
mod unicode;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use cx::{Budget, Context, Env, Hermetic};
pub use error::{
    MAX_BUILT_PER_OBJECT, MAX_LIST_LEN, MAX_NESTING, MAX_RENDERED_LEN, MAX_STEPS_PER_OBJECT,
    MAX_TEMPLATE_DEPTH, TemplateError,
};

/// Renders one `spec.template.data` value on its own budget, without a clock or
/// randomness ([`Hermetic`]). `data` is the decrypted items (key -> bytes), which the
/// template sees as its dot.
pub fn render(template: &str, data: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, TemplateError> {
    render_within(template, data, &mut Budget::per_object())
}

/// Renders one value, spending from the object's `budget`, without a clock or randomness
/// and without the value's key name (`{{ template "<key>" }}` is then refused as an
/// undefined template, never rendered otherwise). Prefer [`render_with`].
pub fn render_within(
    template: &str,
    data: &BTreeMap<String, Vec<u8>>,
    budget: &mut Budget,
) -> Result<Vec<u8>, TemplateError> {
    render_template(None, template, data, budget, &mut Hermetic)
}

/// Renders the value of `spec.template.data[key]` as the reference does: the template is
/// named `key` (so `{{ template "<key>" }}` recurses into it, and a `define` of that name
/// may replace an empty body), it spends from the object's `budget`, and `env` gives the
/// clock and randomness (`now`, `date`, `randAlphaNum`, `uuidv4`, ...). The controller
/// passes `&mut Context { now: OffsetDateTime::now_utc(), rng: rand::rng() }`.
pub fn render_with(
    key: &str,
    template: &str,
    data: &BTreeMap<String, Vec<u8>>,
    budget: &mut Budget,
    env: &mut dyn Env,
) -> Result<Vec<u8>, TemplateError> {
    render_template(Some(key), template, data, budget, env)
}

fn render_template(
    name: Option<&str>,
    template: &str,
    data: &BTreeMap<String, Vec<u8>>,
    budget: &mut Budget,
    env: &mut dyn Env,
) -> Result<Vec<u8>, TemplateError> {
    let parsed = parser::parse(template, name)?;
    let cx = cx::Cx::new(*budget, env);
    let result = exec::execute(template, &parsed, name, data, &cx);
    *budget = cx.budget();
    result
}
