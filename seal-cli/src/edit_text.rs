//! The text `seal edit` opens in the editor, and what the edited text asks for, pure: a YAML
//! document of the items, `stringData` (values as text) and `data` (values as base64, for
//! those that are not UTF-8), under a comment that says the rules. A value not shown (no key
//! opened it) is [`PLACEHOLDER`]. Every buffer that holds a value is wiped when dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use shared::Scope;
use shared::unseal::secret_key_problem;
use zeroize::{Zeroize as _, Zeroizing};

/// Stands for a value that is not shown: left as it is, the item keeps its ciphertext.
pub const PLACEHOLDER: &str = "<sealed>";

/// What the editor shows of one item.
pub enum Shown {
    /// The decrypted value.
    Value(Zeroizing<Vec<u8>>),
    /// [`PLACEHOLDER`]: no key was given, or none opened it.
    Sealed,
}

/// What the header says about the object.
pub struct About<'a> {
    /// `namespace/name`.
    pub object: &'a str,
    pub scope: Scope,
    pub file: &'a str,
    /// Whether key backups were given (to say why values are not shown).
    pub keys_given: bool,
    /// Whether the file's items can only be changed, not added or removed.
    pub fixed_items: bool,
}

/// What the edit asks for: the items to seal (changed or new) with their values, and the
/// items to remove. Every other item stays as it is.
#[derive(Default)]
pub struct Edits {
    pub seal: BTreeMap<String, Zeroizing<Vec<u8>>>,
    pub removed: BTreeSet<String>,
}

impl std::fmt::Debug for Edits {
    /// Item names only: the values are secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edits")
            .field("seal", &self.seal.keys().collect::<Vec<_>>())
            .field("removed", &self.removed)
            .finish()
    }
}

/// Why the edited text cannot be used. Never quotes a value: only item names and places.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditTextError {
    #[error("the edited text is not UTF-8")]
    NotUtf8,
    #[error("the edited text is not valid YAML{at}")]
    Syntax { at: At },
    #[error("the edited text gives item {item:?} twice{at}")]
    Twice { item: String, at: At },
    #[error("the edited text is not a map of items (stringData: and data:, each NAME: value){at}")]
    Shape { at: At },
    #[error("the edited text has {field:?} at the top: only stringData and data hold items")]
    UnknownField { field: String },
    #[error("item {item:?} is under both stringData and data")]
    BothMaps { item: String },
    #[error("{field} key {item:?} is not a valid Secret key: {reason}")]
    InvalidKey {
        field: &'static str,
        item: String,
        reason: &'static str,
    },
    #[error("data.{item}: not valid base64 (put text under stringData)")]
    Base64 { item: String },
    #[error(
        "{field}.{item}: an edited placeholder: leave {PLACEHOLDER} as it was to keep the \
         item, or replace all of it with the new value"
    )]
    EditedPlaceholder { field: &'static str, item: String },
    #[error(
        "{field}.{item}: {PLACEHOLDER} keeps a sealed value, and there is none of that name: \
         give the new item a value"
    )]
    NothingToKeep { field: &'static str, item: String },
}

/// Where in the edited text, if the parser said: ` (line L, column C)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct At(Option<(u64, u64)>);

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some((line, column)) => write!(f, " (line {line}, column {column})"),
            None => Ok(()),
        }
    }
}

/// Bytes the header takes, with room for the object's and file's names.
const HEADER_BYTES: usize = 2048;

/// The text for the editor. Sized up front so that no value is left behind in a buffer that
/// grew.
pub fn render(about: &About<'_>, items: &BTreeMap<String, Shown>) -> Zeroizing<String> {
    let mut quoted = BTreeSet::new();
    let mut text = render_with(about, items, &quoted);
    // A value the parser would read otherwise than it is is written double-quoted instead.
    if let Ok(back) = read(&text) {
        for (item, shown) in items {
            let Shown::Value(v) = shown else { continue };
            let same = match back.get(item) {
                Some((Field::StringData, b)) => b.as_slice() == v.as_slice(),
                Some((Field::Data, b)) => shared::go::base64_decode(b)
                    .is_ok_and(|d| Zeroizing::new(d).as_slice() == v.as_slice()),
                None => false,
            };
            if !same {
                quoted.insert(item.clone());
            }
        }
    } else {
        quoted = items.keys().cloned().collect();
    }
    if !quoted.is_empty() {
        text = render_with(about, items, &quoted);
    }
    text
}

fn render_with(
    about: &About<'_>,
    items: &BTreeMap<String, Shown>,
    quoted: &BTreeSet<String>,
) -> Zeroizing<String> {
    let room: usize = items
        .iter()
        .map(|(k, v)| {
            k.len()
                + 64
                + match v {
                    Shown::Value(v) => 4 * v.len(),
                    Shown::Sealed => PLACEHOLDER.len(),
                }
        })
        .sum();
    let mut out = Zeroizing::new(String::with_capacity(HEADER_BYTES + room));
    header(&mut out, about, items);
    let mut binary = Vec::new();
    out.push_str("stringData:\n");
    for (item, shown) in items {
        match shown {
            Shown::Sealed => {
                push_entry_key(&mut out, item);
                out.push_str(PLACEHOLDER);
                out.push('\n');
            }
            Shown::Value(v) => match std::str::from_utf8(v) {
                Ok(text) => {
                    push_entry_key(&mut out, item);
                    push_text(&mut out, text, quoted.contains(item));
                }
                Err(_) => binary.push((item, v)),
            },
        }
    }
    if !binary.is_empty() {
        out.push_str("data:\n");
        for (item, v) in binary {
            push_entry_key(&mut out, item);
            let encoded = Zeroizing::new(shared::go::base64_encode(v));
            out.push_str(&encoded);
            out.push('\n');
        }
    }
    out
}

fn header(out: &mut String, about: &About<'_>, items: &BTreeMap<String, Shown>) {
    let line = |out: &mut String, text: &str| {
        out.push_str("# ");
        out.push_str(&shared::text::escape(text));
        out.push('\n');
    };
    line(
        out,
        &format!(
            "seal edit: SealedSecret {} ({} scope) in {}",
            about.object, about.scope, about.file
        ),
    );
    out.push_str(
        "#\n\
         # Items are NAME: VALUE, one per line: under stringData the value is text (quoted, or\n\
         # a | block for several lines), under data it is base64. When you save and quit:\n\
         # - an item whose value you change is sealed again,\n\
         # - an item you delete is removed, and one you add is sealed and added,\n\
         # - every other item keeps its ciphertext byte for byte.\n",
    );
    if items.values().any(|s| matches!(s, Shown::Sealed)) {
        out.push_str(if about.keys_given {
            "# <sealed> stands for a value no --recovery-private-key opened. Leave it to keep\n\
             # the item, or write a new value in its place.\n"
        } else {
            "# <sealed> stands for a value that is not shown: nothing is decrypted without\n\
             # --recovery-private-key. Leave it to keep the item, or write a new value in its\n\
             # place.\n"
        });
    }
    if about.fixed_items {
        out.push_str(
            "# The file does not write one item per line (a flow map, or JSON on one line):\n\
             # values can be changed here, but items cannot be added or removed.\n",
        );
    }
    out.push_str("# Quit without saving, or change no value, and nothing is written.\n");
}

/// `  NAME: ` with the name quoted if YAML would read it as anything but that string.
fn push_entry_key(out: &mut String, key: &str) {
    out.push_str("  ");
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !is_special_word(key);
    if plain {
        out.push_str(key);
    } else {
        push_double_quoted(out, key);
    }
    out.push_str(": ");
}

/// YAML 1.1 and 1.2 words for booleans and null, which a reader could take for one.
fn is_special_word(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    )
}

/// A text value: plain when that reads back as it is, a literal block for several lines,
/// else double-quoted. [`render`] checks the plain and block forms by reading them back.
fn push_text(out: &mut String, text: &str, force_quotes: bool) {
    if !force_quotes && text.contains('\n') && block_safe(text) {
        out.push('|');
        let first_content = text.lines().find(|l| !l.trim().is_empty());
        if text.starts_with([' ', '\n']) || first_content.is_some_and(|l| l.starts_with(' ')) {
            out.push('2');
        }
        let trailing = text.len() - text.trim_end_matches('\n').len();
        match trailing {
            0 => out.push('-'),
            1 => {}
            _ => out.push('+'),
        }
        out.push('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        for line in body.split('\n') {
            if !line.is_empty() {
                out.push_str("    ");
                out.push_str(line);
            }
            out.push('\n');
        }
    } else if !force_quotes && plain_safe(text) {
        out.push_str(text);
        out.push('\n');
    } else {
        push_double_quoted(out, text);
        out.push('\n');
    }
}

/// Printable text only (tabs and newlines aside), so a literal block holds it as it is.
fn block_safe(text: &str) -> bool {
    text.chars().all(|c| {
        (c == '\n' || c == '\t' || !c.is_control())
            && !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')
    })
}

/// Text that reads back as itself as a plain scalar, conservatively.
fn plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    !first.is_whitespace()
        && !text.ends_with(char::is_whitespace)
        && !"-?:,[]{}#&*!|>'\"%@`".contains(first)
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && !is_special_word(text)
        && text
            .chars()
            .all(|c| !c.is_control() && !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}'))
}

/// YAML's double-quoted form: every non-printable character escaped.
fn push_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}') => {
                // Written straight into `out`: no other buffer holds a part of the value.
                let n = u32::from(c);
                let _ = if n <= 0xff {
                    write!(out, "\\x{n:02x}")
                } else {
                    write!(out, "\\u{n:04x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Which map of the edited text an item came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    StringData,
    Data,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::StringData => "stringData",
            Field::Data => "data",
        }
    }
}

type Maps = BTreeMap<String, Option<BTreeMap<String, Option<String>>>>;

/// Each item of the edited text: its map and raw value (base64 not yet decoded).
type Items = BTreeMap<String, (Field, Zeroizing<Vec<u8>>)>;

/// Wipes every value of the parsed maps.
fn wipe(maps: &mut Maps) {
    for map in maps.values_mut().flatten() {
        for value in map.values_mut().flatten() {
            value.zeroize();
        }
    }
}

/// The items of the edited text.
fn read(text: &str) -> Result<Items, EditTextError> {
    let mut options = serde_saphyr::options::Options::default();
    // The parser's snippet would quote the text, values included.
    options.with_snippet = false;
    let mut maps: Maps = match serde_saphyr::from_str_with_options::<Option<Maps>>(text, options) {
        Ok(maps) => maps.unwrap_or_default(),
        Err(e) => return Err(parse_error(&e)),
    };
    let result = items_of(&mut maps);
    wipe(&mut maps);
    result
}

fn items_of(maps: &mut Maps) -> Result<Items, EditTextError> {
    let mut out = BTreeMap::new();
    for (name, map) in maps.iter_mut() {
        let field = match name.as_str() {
            "stringData" => Field::StringData,
            "data" => Field::Data,
            other => {
                return Err(EditTextError::UnknownField {
                    field: shared::text::name(other, 64),
                });
            }
        };
        for (item, value) in map.iter_mut().flatten() {
            if let Some(reason) = secret_key_problem(item) {
                return Err(EditTextError::InvalidKey {
                    field: field.name(),
                    item: shared::text::name(item, 64),
                    reason,
                });
            }
            // A null value (`NAME:`) is empty, as Go decodes it.
            let bytes = Zeroizing::new(value.take().unwrap_or_default().into_bytes());
            if out.insert(item.clone(), (field, bytes)).is_some() {
                return Err(EditTextError::BothMaps { item: item.clone() });
            }
        }
    }
    Ok(out)
}

/// The parser's error without its message, which may quote a value: what kind, and where.
fn parse_error(e: &serde_saphyr::Error) -> EditTextError {
    let at = At(e.location().map(|l| (l.line(), l.column())));
    match e {
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => EditTextError::Twice {
            item: shared::text::name(key, 64),
            at,
        },
        serde_saphyr::Error::SerdeInvalidType { .. }
        | serde_saphyr::Error::Unexpected { .. }
        | serde_saphyr::Error::NullIntoString { .. } => EditTextError::Shape { at },
        _ => EditTextError::Syntax { at },
    }
}

/// What the edited text asks for, against what was shown: a value equal to the one shown (or
/// [`PLACEHOLDER`] where one was shown) keeps its item; a missing item is removed; any other
/// value is sealed.
pub fn edits(shown: &BTreeMap<String, Shown>, edited: &[u8]) -> Result<Edits, EditTextError> {
    let edited = std::str::from_utf8(edited).map_err(|_| EditTextError::NotUtf8)?;
    let items = read(edited)?;
    let mut out = Edits::default();
    for item in shown.keys() {
        if !items.contains_key(item) {
            out.removed.insert(item.clone());
        }
    }
    for (item, (field, raw)) in items {
        let before = shown.get(&item);
        if raw.as_slice() == PLACEHOLDER.as_bytes() {
            match before {
                Some(_) => continue,
                None => {
                    return Err(EditTextError::NothingToKeep {
                        field: field.name(),
                        item,
                    });
                }
            }
        }
        if matches!(before, Some(Shown::Sealed)) && looks_like_placeholder(&raw) {
            return Err(EditTextError::EditedPlaceholder {
                field: field.name(),
                item,
            });
        }
        let value = match field {
            Field::StringData => raw,
            Field::Data => Zeroizing::new(
                shared::go::base64_decode(&raw)
                    .map_err(|_| EditTextError::Base64 { item: item.clone() })?,
            ),
        };
        if let Some(Shown::Value(v)) = before
            && v.as_slice() == value.as_slice()
        {
            continue;
        }
        out.seal.insert(item, value);
    }
    Ok(out)
}

/// A value that starts or ends like [`PLACEHOLDER`]: most likely a slip of the keyboard on it.
fn looks_like_placeholder(raw: &[u8]) -> bool {
    let trimmed = raw.trim_ascii();
    trimmed.starts_with(b"<sealed") || trimmed.ends_with(b"sealed>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: &[u8]) -> Shown {
        Shown::Value(Zeroizing::new(v.to_vec()))
    }

    fn about() -> About<'static> {
        About {
            object: "default/db",
            scope: Scope::Strict,
            file: "db.yaml",
            keys_given: true,
            fixed_items: false,
        }
    }

    fn shown(pairs: Vec<(&str, Shown)>) -> BTreeMap<String, Shown> {
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    #[test]
    fn every_value_reads_back_as_it_is() {
        let tricky: Vec<&[u8]> = vec![
            b"",
            b"plain",
            b"8080",
            b"0x10",
            b"true",
            b"null",
            b"~",
            b" leading",
            b"trailing ",
            b"a: b",
            b"# not a comment",
            b"- dash",
            b"quote\"and\\backslash",
            b"line\nline\n",
            b"no newline at the end\nsecond",
            b"two at the end\n\n",
            b"  indented\nfirst\n",
            b"\nstarts with a newline\n",
            b"tab\there\n",
            b"cr\r\nlf\n",
            b"\x1b[31mred\x07",
            "p\u{e4}ss w\u{f6}rd \u{2713} \u{2028}".as_bytes(),
            PLACEHOLDER.as_bytes(),
            b"\xff\xfe binary",
        ];
        let items: BTreeMap<String, Shown> = tricky
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("k{i:02}"), value(v)))
            .collect();
        let text = render(&about(), &items);
        let edits = edits(&items, text.as_bytes()).unwrap();
        assert!(edits.seal.is_empty(), "{:?}", edits.seal.keys());
        assert!(edits.removed.is_empty());
        assert!(text.contains("  k01: plain\n"), "{}", &*text);
        assert!(
            text.contains("  k13: |\n    line\n    line\n"),
            "{}",
            &*text
        );
        assert!(text.contains("data:\n  k23: "), "{}", &*text);
    }

    #[test]
    fn placeholders_keep_items_and_changes_are_sealed() {
        let before = shown(vec![
            ("kept", Shown::Sealed),
            ("changed", Shown::Sealed),
            ("gone", Shown::Sealed),
            ("same", value(b"x")),
            ("edited", value(b"x")),
        ]);
        let mut about = about();
        about.keys_given = false;
        let text = render(&about, &before);
        assert!(text.contains("  kept: <sealed>\n"), "{}", &*text);
        assert!(
            text.contains("nothing is decrypted without\n# --recovery-private-key"),
            "{}",
            &*text
        );
        let edited = text
            .replace("  changed: <sealed>\n", "  changed: new\n")
            .replace("  gone: <sealed>\n", "")
            .replace("  edited: x\n", "  edited: y\n")
            + "  added: \"a\"\ndata:\n  bin: AAE=\n";
        let e = edits(&before, edited.as_bytes()).unwrap();
        let sealed: Vec<(&str, &[u8])> = e
            .seal
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        assert_eq!(
            sealed,
            [
                ("added", &b"a"[..]),
                ("bin", &[0, 1][..]),
                ("changed", b"new"),
                ("edited", b"y")
            ]
        );
        assert_eq!(e.removed.iter().collect::<Vec<_>>(), ["gone"]);
    }

    #[test]
    fn bad_edits_are_named_without_their_values() {
        let before = shown(vec![("pw", Shown::Sealed), ("user", value(b"u"))]);
        let err = |text: &str| edits(&before, text.as_bytes()).unwrap_err();
        assert_eq!(
            err("stringData:\n  pw: <sealed\n"),
            EditTextError::EditedPlaceholder {
                field: "stringData",
                item: "pw".into()
            }
        );
        assert_eq!(
            err("stringData:\n  other: <sealed>\n"),
            EditTextError::NothingToKeep {
                field: "stringData",
                item: "other".into()
            }
        );
        let syntax = err("stringData:\n  pw: \"hunter2\n  user: x\n");
        assert!(
            matches!(syntax, EditTextError::Syntax { at: At(Some(_)) }),
            "{syntax:?}"
        );
        assert!(!syntax.to_string().contains("hunter2"), "{syntax}");
        let twice = err("stringData:\n  pw: a\n  pw: b\n");
        assert!(
            twice
                .to_string()
                .starts_with("the edited text gives item \"pw\" twice (line 3"),
            "{twice}"
        );
        let shape = err("stringData:\n  pw: [hunter2]\n");
        assert!(matches!(shape, EditTextError::Shape { .. }), "{shape:?}");
        assert!(!shape.to_string().contains("hunter2"), "{shape}");
        assert!(matches!(
            err("stringData: hunter2\n"),
            EditTextError::Shape { .. }
        ));
        assert_eq!(
            err("metadata:\n  name: x\n"),
            EditTextError::UnknownField {
                field: "metadata".into()
            }
        );
        assert_eq!(
            err("stringData:\n  pw: a\ndata:\n  pw: YQ==\n"),
            EditTextError::BothMaps { item: "pw".into() }
        );
        assert_eq!(
            err("data:\n  pw: not base64!\n"),
            EditTextError::Base64 { item: "pw".into() }
        );
        assert!(matches!(
            err("stringData:\n  \"a b\": x\n"),
            EditTextError::InvalidKey { .. }
        ));
        // Everything deleted: every item removed.
        let e = edits(&before, b"# nothing\n").unwrap();
        assert_eq!(e.removed.len(), 2);
        // `NAME:` alone is the empty value.
        let e = edits(&before, b"stringData:\n  pw:\n  user: u\n").unwrap();
        assert_eq!(
            edits(&before, b"stringData:\n  pw: \xff\n").unwrap_err(),
            EditTextError::NotUtf8
        );
        assert_eq!(e.seal["pw"].as_slice(), b"");
    }
}
