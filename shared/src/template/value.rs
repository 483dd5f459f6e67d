//! The values templates compute with, each with the Go type it stands for: strings (bytes),
//! ints, floats, bools, lists, maps, nil and the dot.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Deref;
use std::rc::Rc;

/// The decrypted items: the dot, Go's `map[string]string`.
pub(super) type Data = BTreeMap<String, Vec<u8>>;

/// The bytes of a Go string: borrowed from the items or the template, or shared.
#[derive(Clone)]
pub(super) enum Bytes<'a> {
    Borrowed(&'a [u8]),
    Shared(Rc<[u8]>),
}

impl Deref for Bytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Borrowed(b) => b,
            Bytes::Shared(b) => b,
        }
    }
}

/// Go's integer types that templates meet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum IntTy {
    /// `int`: constants, `len`, `atoi`, `int`, `until`.
    Int,
    /// `int64`: sprig's arithmetic.
    Int64,
    /// `uint8`: `index` of a string.
    Uint8,
}

/// The element type of a list, for `typeOf` and `%T`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ListTy {
    /// `[]interface {}`
    Any,
    /// `[]string`
    Str,
    /// `[]int`
    Int,
    /// `[][]interface {}` (`chunk`)
    Lists,
}

/// The element type of a map with string keys.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum MapTy {
    /// `map[string]interface {}` (`dict`, `fromJson`, ...): mutable by `set`, `unset`, `merge`.
    Any,
    /// `map[string]string` (`split`, `splitn`).
    Str,
}

/// A zone as Go's `Location.lookup` gives it at an instant: the abbreviation (`MST`) and the
/// offset east of UTC. Only fixed zones exist here: UTC (also `Local`) and the zones that
/// parsing makes (`time.FixedZone`).
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Zone {
    pub(super) name: Rc<str>,
    pub(super) offset: i32,
}

/// Go's `time.Time`: an instant (Unix seconds and nanoseconds), its zone, and whether it
/// carries a monotonic clock reading (`time.Now()` does), which Go prints as ` m=+...`.
#[derive(Clone)]
pub(super) struct GoTime {
    pub(super) sec: i64,
    pub(super) nsec: u32,
    pub(super) zone: Zone,
    pub(super) mono: bool,
}

pub(super) struct List<'a> {
    pub(super) ty: ListTy,
    pub(super) items: Vec<Value<'a>>,
}

pub(super) struct Dict<'a> {
    pub(super) ty: MapTy,
    pub(super) entries: BTreeMap<Vec<u8>, Value<'a>>,
}

pub(super) type DictRef<'a> = Rc<RefCell<Dict<'a>>>;

/// sprig's `certificate` struct (`buildCustomCert`): PEM text of a certificate and its key.
pub(super) struct Certificate {
    pub(super) cert: Vec<u8>,
    pub(super) key: zeroize::Zeroizing<Vec<u8>>,
}

/// A Go value as the templates see it. Deliberately not `Debug`: it holds secrets.
#[derive(Clone)]
pub(super) enum Value<'a> {
    /// Go's nil interface or invalid value (a missing key, `nil`).
    Nil,
    Bool(bool),
    Int(i64, IntTy),
    /// A Go `float64`.
    Float(f64),
    /// A Go `string` (any bytes).
    Str(Bytes<'a>),
    /// A slice; immutable (sprig's list functions copy).
    List(Rc<List<'a>>),
    /// A map with string keys, shared by reference as Go maps are.
    Dict(DictRef<'a>),
    /// The dot: the items, Go's `map[string]string`.
    Items(&'a Data),
    /// sprig's `certificate`: fields `.Cert` and `.Key`; few functions accept it.
    Cert(Rc<Certificate>),
    /// A Go `time.Time` (sprig's date functions).
    Time(Rc<GoTime>),
}

impl<'a> Value<'a> {
    pub(super) fn int(i: i64) -> Value<'a> {
        Value::Int(i, IntTy::Int)
    }

    pub(super) fn int64(i: i64) -> Value<'a> {
        Value::Int(i, IntTy::Int64)
    }

    pub(super) fn list(ty: ListTy, items: Vec<Value<'a>>) -> Value<'a> {
        Value::List(Rc::new(List { ty, items }))
    }

    /// Go's type name, as `%T` and `typeOf` print it.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_, IntTy::Int) => "int",
            Value::Int(_, IntTy::Int64) => "int64",
            Value::Int(_, IntTy::Uint8) => "uint8",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(l) => match l.ty {
                ListTy::Any => "[]interface {}",
                ListTy::Str => "[]string",
                ListTy::Int => "[]int",
                ListTy::Lists => "[][]interface {}",
            },
            Value::Dict(d) => match d.borrow().ty {
                MapTy::Any => "map[string]interface {}",
                MapTy::Str => "map[string]string",
            },
            Value::Items(_) => "map[string]string",
            Value::Cert(_) => "sprig.certificate",
            Value::Time(_) => "time.Time",
        }
    }

    /// Go's `reflect.Kind` name, as `kindOf` prints it.
    pub(super) fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_, IntTy::Int) => "int",
            Value::Int(_, IntTy::Int64) => "int64",
            Value::Int(_, IntTy::Uint8) => "uint8",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(_) => "slice",
            Value::Dict(_) | Value::Items(_) => "map",
            Value::Cert(_) => "struct",
            Value::Time(_) => "struct",
        }
    }

    /// The bytes of a string value (empty for anything else).
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Value::Str(s) => s,
            _ => &[],
        }
    }

    /// A map lookup on a map value (`None` if absent or not a map).
    pub(super) fn map_get(&self, key: &[u8]) -> Option<Value<'a>> {
        match self {
            Value::Items(items) => std::str::from_utf8(key)
                .ok()
                .and_then(|k| items.get(k))
                .map(|v| borrowed(v)),
            Value::Dict(d) => d.borrow().entries.get(key).cloned(),
            _ => None,
        }
    }

    /// The entries of a map value in Go's sorted key order.
    pub(super) fn map_entries(&self) -> Vec<(Bytes<'a>, Value<'a>)> {
        match self {
            Value::Items(items) => items
                .iter()
                .map(|(k, v)| (Bytes::Borrowed(k.as_bytes()), borrowed(v)))
                .collect(),
            Value::Dict(d) => d
                .borrow()
                .entries
                .iter()
                .map(|(k, v)| (Bytes::Shared(Rc::from(&k[..])), v.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(super) fn is_map(&self) -> bool {
        matches!(self, Value::Items(_) | Value::Dict(_))
    }

    /// `len` of a string, list or map.
    pub(super) fn len(&self) -> Option<usize> {
        match self {
            Value::Str(s) => Some(s.len()),
            Value::List(l) => Some(l.items.len()),
            Value::Dict(d) => Some(d.borrow().entries.len()),
            Value::Items(items) => Some(items.len()),
            _ => None,
        }
    }
}

pub(super) fn borrowed(bytes: &[u8]) -> Value<'_> {
    Value::Str(Bytes::Borrowed(bytes))
}

pub(super) fn owned<'a>(bytes: Vec<u8>) -> Value<'a> {
    Value::Str(Bytes::Shared(Rc::from(bytes)))
}

/// Go's truth (`if`, `and`, `or`, `not`): false for nil, zero numbers, empty strings, lists
/// and maps, and `false`.
pub(super) fn truth(value: &Value<'_>) -> bool {
    match value {
        Value::Nil => false,
        Value::Bool(b) => *b,
        Value::Int(i, _) => *i != 0,
        Value::Float(f) => *f != 0.0,
        other => other.len().unwrap_or(1) > 0,
    }
}
