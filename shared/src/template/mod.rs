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
//!
//! # Layout
//!
//! [`render`] parses the template and evaluates it. The modules, each using only modules
//! listed after it (no cycles; none uses this one):
//!
//! - `exec`: evaluation, Go's exec.go with the dot fixed to the items, and the [`Budget`];
//! - `parser`: Go's parse.go for pipelines; `lexer`: Go's lex.go and constant syntax;
//! - `funcs`: the function table (Go builtins and sprig) and the functions;
//! - `format`: Go's fmt, strconv quoting and encoding/json for the values;
//! - `strings`: Go's utf8 and strings rules on byte strings; `unicode`: Go's Unicode tables;
//! - `value`: the values; `error`: the errors and the limits.
//!
//! Go's base64 and its JSON string escaping, which other parts of the workspace need too,
//! are [`crate::go`]'s.

mod error;
mod exec;
mod format;
mod funcs;
mod lexer;
mod parser;
mod strings;
mod unicode;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use error::{
    MAX_BUILT_PER_OBJECT, MAX_NESTING, MAX_RENDERED_LEN, MAX_STEPS_PER_OBJECT, TemplateError,
};
pub use exec::Budget;

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
    let items = parser::parse(template)?;
    exec::execute(template, &items, data, budget)
}
