//! The values templates compute with: Go strings (bytes), ints, bools, nil and the dot.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// The decrypted items: the dot, Go's `map[string]string`.
pub(super) type Data = BTreeMap<String, Vec<u8>>;

/// A Go value as the templates see it. Deliberately not `Debug`: it holds secrets.
#[derive(Clone)]
pub(super) enum Value<'a> {
    /// A Go `string` (any bytes).
    Str(Cow<'a, [u8]>),
    /// A Go `int`.
    Int(i64),
    /// A Go `uint8` (what `index` returns for a string).
    Byte(u8),
    Bool(bool),
    /// The dot: Go's `map[string]string`.
    Map(&'a Data),
    /// Go's nil interface or invalid value (a missing key, `nil`).
    Nil,
}

impl Value<'_> {
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Byte(_) => "uint8",
            Value::Bool(_) => "bool",
            Value::Map(_) => "map[string]string",
            Value::Nil => "nil",
        }
    }
}

pub(super) fn borrowed(bytes: &[u8]) -> Value<'_> {
    Value::Str(Cow::Borrowed(bytes))
}

pub(super) fn owned<'a>(bytes: Vec<u8>) -> Value<'a> {
    Value::Str(Cow::Owned(bytes))
}
