//! Editing a file's SealedSecrets in place, pure: each changed ciphertext is replaced where it
//! stands in the text, so that everything else (other documents, comments, quoting, key order,
//! indentation) stays byte for byte and a review shows only the values that changed. Items
//! added or removed ([`edit_items`]) gain or lose one line, written like their neighbours.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::print;

/// One value to replace: the item it belongs to (for errors), its old and new base64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub item: String,
    pub old: String,
    pub new: String,
}

/// Why a file cannot be edited in place.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    #[error(
        "item {item:?}: its ciphertext is not written on one line of the file (a folded or \
         escaped string), so it cannot be replaced in place"
    )]
    NotFound { item: String },
    #[error("item {item:?}: its ciphertext appears {count} times in the file")]
    Ambiguous { item: String, count: usize },
    #[error(
        "item {item:?}: its line holds more than `{item}: <ciphertext>` (a flow map, or JSON on \
         one line), so items cannot be added or removed in place"
    )]
    NotOwnLine { item: String },
    #[error(
        "encryptedData has no item to write the new ones beside, so they cannot be added in place"
    )]
    NoNeighbour,
}

/// How the file writes its objects, for the lines an edit adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    Json,
}

impl Syntax {
    /// JSON if the text starts with `{`, as `decode` sniffs it; else YAML.
    pub fn of(text: &str) -> Syntax {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim_start().starts_with('{') {
            Syntax::Json
        } else {
            Syntax::Yaml
        }
    }

    /// The order keys are printed in: yaml.v2's for YAML, Go's encoding/json (bytes) for JSON.
    fn key_order(self, a: &str, b: &str) -> Ordering {
        match self {
            Syntax::Yaml => print::yaml_v2_key_order(a, b),
            Syntax::Json => a.cmp(b),
        }
    }
}

/// Whether `c` can be part of a base64 value: a match must not sit inside a longer one.
fn is_base64_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=')
}

/// Where `value` stands in `text` as a whole token.
fn occurrences(text: &str, value: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    text.match_indices(value)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + value.len()).copied();
            !before.is_some_and(is_base64_byte) && !after.is_some_and(is_base64_byte)
        })
        .collect()
}

/// Where `value` stands once in `text`, or why it does not.
fn unique(text: &str, item: &str, value: &str) -> Result<usize, RewriteError> {
    match occurrences(text, value)[..] {
        [at] => Ok(at),
        [] => Err(RewriteError::NotFound {
            item: item.to_owned(),
        }),
        ref many => Err(RewriteError::Ambiguous {
            item: item.to_owned(),
            count: many.len(),
        }),
    }
}

/// `text` with every change made. Each old value must stand exactly once in the text: a
/// ciphertext is random, so it does unless the file was written in an unusual way, and then
/// nothing is changed rather than the wrong spot.
pub fn replace_values(text: &str, changes: &[Change]) -> Result<String, RewriteError> {
    let mut spots = Vec::with_capacity(changes.len());
    for change in changes {
        spots.push((unique(text, &change.item, &change.old)?, change));
    }
    spots.sort_by_key(|(at, _)| *at);
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (at, change) in spots {
        if at < from {
            // Two values sharing bytes: cannot happen for distinct whole tokens.
            return Err(RewriteError::Ambiguous {
                item: change.item.clone(),
                count: 2,
            });
        }
        out.push_str(&text[from..at]);
        out.push_str(&change.new);
        from = at + change.old.len();
    }
    out.push_str(&text[from..]);
    Ok(out)
}

/// One item's line as the file writes it: `indent key sep value tail eol`.
#[derive(Debug)]
struct ItemLine<'a> {
    item: &'a str,
    /// Byte offsets in the text: the line (its end of line included) and the value.
    start: usize,
    end: usize,
    value_at: usize,
    value_len: usize,
    indent: &'a str,
    /// From the end of the key to the start of the value (`: `, `": "`).
    sep: &'a str,
    /// The quote around the value, if any.
    quote: Option<char>,
    /// JSON: where the line's trailing comma stands, if it has one.
    comma_at: Option<usize>,
    eol: &'a str,
}

/// `token` at the start of `s`, bare (YAML only) or in quotes; the quote and the rest.
fn strip_token<'a>(s: &'a str, token: &str, syntax: Syntax) -> Option<(Option<char>, &'a str)> {
    for quote in ['"', '\''] {
        if let Some(rest) = s.strip_prefix(quote) {
            if syntax == Syntax::Json && quote == '\'' {
                return None;
            }
            let rest = rest.strip_prefix(token)?.strip_prefix(quote)?;
            return Some((Some(quote), rest));
        }
    }
    match syntax {
        Syntax::Yaml => s.strip_prefix(token).map(|rest| (None, rest)),
        Syntax::Json => None,
    }
}

/// The line of `item` starting at `start`, if it holds that item and nothing else (beside a
/// YAML comment or a JSON comma): only such a line can be removed, or copied for a new item.
fn item_line<'a>(
    text: &'a str,
    start: usize,
    item: &'a str,
    value: &str,
    syntax: Syntax,
) -> Option<ItemLine<'a>> {
    let blank = [' ', '\t'];
    let end = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    let line = &text[start..end];
    let body = line.strip_suffix('\n').unwrap_or(line);
    let body = body.strip_suffix('\r').unwrap_or(body);
    let eol = &line[body.len()..];
    let rest = body.trim_start_matches(blank);
    let indent = &body[..body.len() - rest.len()];
    let (key_quote, after_key) = strip_token(rest, item, syntax)?;
    let colon = after_key.trim_start_matches(blank).strip_prefix(':')?;
    let value_part = colon.trim_start_matches(blank);
    // A bare YAML key needs a blank after its colon.
    if syntax == Syntax::Yaml && key_quote.is_none() && value_part.len() == colon.len() {
        return None;
    }
    let sep = &after_key[..after_key.len() - value_part.len()];
    let (quote, tail) = strip_token(value_part, value, syntax)?;
    let value_at = start + (body.len() - value_part.len()) + usize::from(quote.is_some());
    let after = tail.trim_start_matches(blank);
    let comma_at = match syntax {
        Syntax::Json => {
            let (comma, rest) = match after.strip_prefix(',') {
                Some(rest) => (Some(start + body.len() - after.len()), rest),
                None => (None, after),
            };
            if !rest.trim_start_matches(blank).is_empty() {
                return None;
            }
            comma
        }
        Syntax::Yaml => {
            let comment = after.starts_with('#') && after.len() < tail.len();
            if !after.is_empty() && !comment {
                return None;
            }
            None
        }
    };
    Some(ItemLine {
        item,
        start,
        end,
        value_at,
        value_len: value.len(),
        indent,
        sep,
        quote,
        comma_at,
        eol,
    })
}

/// The line of each item, in the order of the text; an error unless every item stands once,
/// on a line of its own.
fn item_lines<'a>(
    text: &'a str,
    items: &'a BTreeMap<String, String>,
    syntax: Syntax,
) -> Result<Vec<ItemLine<'a>>, RewriteError> {
    // Every value found first: that a value cannot be found is the worse news.
    let spots = items
        .iter()
        .map(|(item, value)| Ok((item, value, unique(text, item, value)?)))
        .collect::<Result<Vec<_>, RewriteError>>()?;
    let mut lines = Vec::with_capacity(items.len());
    for (item, value, at) in spots {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line = item_line(text, start, item, value, syntax)
            .filter(|l| l.value_at == at)
            .ok_or_else(|| RewriteError::NotOwnLine { item: item.clone() })?;
        lines.push(line);
    }
    lines.sort_by_key(|l| l.start);
    if let Some(pair) = lines.windows(2).find(|w| w[0].start == w[1].start) {
        return Err(RewriteError::NotOwnLine {
            item: pair[1].item.to_owned(),
        });
    }
    Ok(lines)
}

/// Whether [`edit_items`] can work on these items of `text`, before anyone edits them:
/// `Err(NotFound | Ambiguous)` if not even a value can be replaced, `Err(NotOwnLine)` if
/// values can be replaced but no item added or removed.
pub fn check_items(
    text: &str,
    items: &BTreeMap<String, String>,
    syntax: Syntax,
) -> Result<(), RewriteError> {
    item_lines(text, items, syntax).map(drop)
}

/// One edit at a byte offset of the text.
enum Op {
    Insert(String),
    /// Replace this many bytes with the text (empty: delete them).
    Replace(usize, String),
}

/// `text` with one object's `encryptedData` turned from `before` into `after` (item name to
/// base64 ciphertext). A value that differs is replaced where it stands, as [`replace_values`]
/// does. A removed item loses its line, and a new item gets a line of its own beside the
/// others, before the first one that sorts after it, written as its neighbour is written
/// (indentation, separator, quotes, end of line). The rest of the text stays byte for byte.
///
/// Adding or removing needs each item on a line of its own, as kubeseal and `seal` print
/// them; a flow map or one-line JSON is refused rather than reformatted.
pub fn edit_items(
    text: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    syntax: Syntax,
) -> Result<String, RewriteError> {
    let changes: Vec<Change> = before
        .iter()
        .filter_map(|(item, old)| {
            let new = after.get(item).filter(|new| *new != old)?;
            Some(Change {
                item: item.clone(),
                old: old.clone(),
                new: new.clone(),
            })
        })
        .collect();
    let mut added: Vec<(&String, &String)> = after
        .iter()
        .filter(|(item, _)| !before.contains_key(*item))
        .collect();
    if added.is_empty() && before.keys().all(|item| after.contains_key(item)) {
        return replace_values(text, &changes);
    }
    added.sort_by(|a, b| syntax.key_order(a.0, b.0));

    let lines = item_lines(text, before, syntax)?;
    let Some(last) = lines.last() else {
        return Err(RewriteError::NoNeighbour);
    };

    let mut ops: Vec<(usize, Op)> = Vec::new();
    // (offset, neighbour, item, value) of each new line; the neighbour lends its layout.
    let mut new_lines = Vec::with_capacity(added.len());
    for (item, value) in &added {
        let next = lines
            .iter()
            .find(|l| syntax.key_order(l.item, item) == Ordering::Greater);
        let (at, neighbour) = match next {
            Some(l) => (l.start, l),
            None => (last.end, last),
        };
        new_lines.push((at, neighbour, item.as_str(), value.as_str()));
    }
    // Every line the map ends up with, in order: (offset, is it new, index).
    let mut order: Vec<(usize, bool, usize)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| after.contains_key(l.item))
        .map(|(i, l)| (l.start, false, i))
        .chain(
            new_lines
                .iter()
                .enumerate()
                .map(|(i, (at, ..))| (*at, true, i)),
        )
        .collect();
    // New lines go before an old line at the same offset; among themselves they keep their order.
    order.sort_by_key(|(at, new, _)| (*at, !*new));
    let final_index = |new: bool, i: usize| {
        order
            .iter()
            .position(|(_, n, j)| *n == new && *j == i)
            .unwrap_or_default()
    };
    let last_index = order.len().saturating_sub(1);

    for (i, line) in lines.iter().enumerate() {
        if !after.contains_key(line.item) {
            ops.push((
                line.start,
                Op::Replace(line.end - line.start, String::new()),
            ));
            continue;
        }
        if let Some(change) = changes.iter().find(|c| c.item == line.item) {
            ops.push((
                line.value_at,
                Op::Replace(line.value_len, change.new.clone()),
            ));
        }
        if syntax == Syntax::Json {
            let wants_comma = final_index(false, i) != last_index;
            match (line.comma_at, wants_comma) {
                (None, true) => {
                    let closing_quote = line.value_at + line.value_len + 1;
                    ops.push((closing_quote, Op::Insert(",".to_owned())));
                }
                (Some(at), false) => ops.push((at, Op::Replace(1, String::new()))),
                _ => {}
            }
        }
    }
    for (i, (at, neighbour, item, value)) in new_lines.iter().enumerate() {
        let key = match syntax {
            Syntax::Json => format!("\"{item}\""),
            Syntax::Yaml => yaml_key(item),
        };
        let quote = neighbour.quote.map(String::from).unwrap_or_default();
        let comma = if syntax == Syntax::Json && final_index(true, i) != last_index {
            ","
        } else {
            ""
        };
        let eol = if neighbour.eol.is_empty() {
            "\n"
        } else {
            neighbour.eol
        };
        let mut new = format!(
            "{}{key}{}{quote}{value}{quote}{comma}",
            neighbour.indent, neighbour.sep
        );
        if *at == text.len() && !text.ends_with('\n') {
            // After a last line without an end of line: the new line ends the text the same way.
            new.insert_str(0, eol);
        } else {
            new.push_str(eol);
        }
        ops.push((*at, Op::Insert(new)));
    }

    // Inserts before replacements at the same offset; otherwise in the order made.
    let mut indexed: Vec<(usize, usize, Op)> = ops
        .into_iter()
        .enumerate()
        .map(|(n, (at, op))| (at, n, op))
        .collect();
    indexed.sort_by_key(|(at, n, op)| (*at, matches!(op, Op::Replace(..)), *n));
    let mut out = String::with_capacity(text.len() + 1024);
    let mut from = 0;
    for (at, _, op) in indexed {
        if at < from {
            return Err(RewriteError::Ambiguous {
                item: last.item.to_owned(),
                count: 2,
            });
        }
        out.push_str(&text[from..at]);
        from = at;
        match op {
            Op::Insert(new) => out.push_str(&new),
            Op::Replace(len, new) => {
                out.push_str(&new);
                from = at + len;
            }
        }
    }
    out.push_str(&text[from..]);
    Ok(out)
}

/// A key as yaml.v2 would write it: plain unless that would read as another type.
fn yaml_key(key: &str) -> String {
    let node = print::Node::Map(vec![(key.to_owned(), print::Node::Str("x".to_owned()))]);
    match print::to_yaml(&node) {
        Ok(text) => match text.strip_suffix(": x\n") {
            Some(key) if !key.contains('\n') => key.to_owned(),
            _ => format!("\"{key}\""),
        },
        Err(_) => format!("\"{key}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(item: &str, old: &str, new: &str) -> Change {
        Change {
            item: item.into(),
            old: old.into(),
            new: new.into(),
        }
    }

    #[test]
    fn values_are_replaced_where_they_stand() {
        let text = "# keep me\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n    a: AgAAbb==   # note\n    b: \"AgCCdd\"\n    c: 'AgEEff'\n---\nkind: ConfigMap\n";
        let out = replace_values(
            text,
            &[
                change("b", "AgCCdd", "AgXXyy"),
                change("a", "AgAAbb==", "AgNEW1=="),
                change("c", "AgEEff", "AgZZ"),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "# keep me\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n    a: AgNEW1==   # note\n    b: \"AgXXyy\"\n    c: 'AgZZ'\n---\nkind: ConfigMap\n"
        );
        // JSON too.
        let json = r#"{"spec":{"encryptedData":{"a":"AgAAbb=="}}}"#;
        assert_eq!(
            replace_values(json, &[change("a", "AgAAbb==", "AgQ=")]).unwrap(),
            r#"{"spec":{"encryptedData":{"a":"AgQ="}}}"#
        );
    }

    #[test]
    fn a_value_must_stand_once_as_a_whole() {
        // Inside a longer value does not count.
        assert_eq!(
            replace_values("a: xAgAA\n", &[change("a", "AgAA", "B")]),
            Err(RewriteError::NotFound { item: "a".into() })
        );
        assert_eq!(
            replace_values("a: AgAA\nb: AgAA\n", &[change("a", "AgAA", "B")]),
            Err(RewriteError::Ambiguous {
                item: "a".into(),
                count: 2
            })
        );
        // Folded over two lines: not found, nothing changed.
        let folded = "a: >-\n  AgAA\n  bbCC\n";
        assert!(matches!(
            replace_values(folded, &[change("a", "AgAAbbCC", "X")]),
            Err(RewriteError::NotFound { .. })
        ));
        assert_eq!(replace_values("same\n", &[]).unwrap(), "same\n");
    }

    fn items(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn yaml_items_are_added_and_removed_like_their_neighbours() {
        let text = "# c\nspec:\n  encryptedData:\n    a: AgAA   # note\n    c: AgCC\n    e: \"AgEE\"\n  template: {}\n---\nkind: X\n";
        let before = items(&[("a", "AgAA"), ("c", "AgCC"), ("e", "AgEE")]);
        let after = items(&[("a", "AgA2"), ("b", "AgBB"), ("e", "AgEE"), ("f", "AgFF")]);
        assert_eq!(
            edit_items(text, &before, &after, Syntax::Yaml).unwrap(),
            "# c\nspec:\n  encryptedData:\n    a: AgA2   # note\n    b: AgBB\n    e: \"AgEE\"\n    f: \"AgFF\"\n  template: {}\n---\nkind: X\n"
        );
        // Only replacements: exactly replace_values.
        let same_keys = items(&[("a", "AgA2"), ("c", "AgCC"), ("e", "AgEE")]);
        assert_eq!(
            edit_items(text, &before, &same_keys, Syntax::Yaml).unwrap(),
            replace_values(text, &[change("a", "AgAA", "AgA2")]).unwrap()
        );
        // CRLF lines, and a last line without an end of line.
        let crlf = "encryptedData:\r\n  a: AgAA\r\n";
        assert_eq!(
            edit_items(
                crlf,
                &items(&[("a", "AgAA")]),
                &items(&[("a", "AgAA"), ("b", "AgBB")]),
                Syntax::Yaml
            )
            .unwrap(),
            "encryptedData:\r\n  a: AgAA\r\n  b: AgBB\r\n"
        );
        let open_end = "encryptedData:\n  a: AgAA";
        assert_eq!(
            edit_items(
                open_end,
                &items(&[("a", "AgAA")]),
                &items(&[("a", "AgAA"), ("b", "AgBB")]),
                Syntax::Yaml
            )
            .unwrap(),
            "encryptedData:\n  a: AgAA\n  b: AgBB"
        );
        // Keys that YAML would read as another type are quoted.
        assert_eq!(yaml_key("yes"), "\"yes\"");
        assert_eq!(yaml_key("tls.crt"), "tls.crt");
    }

    #[test]
    fn json_items_keep_their_commas_right() {
        let text = "{\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"AgAA\",\n      \"c\": \"AgCC\"\n    }\n  }\n}\n";
        let before = items(&[("a", "AgAA"), ("c", "AgCC")]);
        let after = items(&[("a", "AgAA"), ("b", "AgBB"), ("d", "AgDD")]);
        assert_eq!(
            edit_items(text, &before, &after, Syntax::Json).unwrap(),
            "{\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"AgAA\",\n      \"b\": \"AgBB\",\n      \"d\": \"AgDD\"\n    }\n  }\n}\n"
        );
        let removed_last =
            edit_items(text, &before, &items(&[("a", "AgA2")]), Syntax::Json).unwrap();
        assert_eq!(
            removed_last,
            "{\n  \"spec\": {\n    \"encryptedData\": {\n      \"a\": \"AgA2\"\n    }\n  }\n}\n"
        );
        let appended = edit_items(
            text,
            &before,
            &items(&[("a", "AgAA"), ("c", "AgCC"), ("z", "AgZZ")]),
            Syntax::Json,
        )
        .unwrap();
        assert!(
            appended.contains("\"c\": \"AgCC\",\n      \"z\": \"AgZZ\"\n    }"),
            "{appended}"
        );
        assert_eq!(Syntax::of(text), Syntax::Json);
        assert_eq!(Syntax::of("kind: X\n"), Syntax::Yaml);
    }

    #[test]
    fn items_are_checked_before_an_edit() {
        let before = items(&[("a", "AgAA"), ("b", "AgBB")]);
        let flow = "a: x\nspec:\n  encryptedData: {a: AgAA, b: AgBB}\n";
        assert_eq!(
            check_items(flow, &before, Syntax::Yaml),
            Err(RewriteError::NotOwnLine { item: "a".into() })
        );
        let twice = "encryptedData: {a: AgAA, b: AgBB}\n# b: AgBB\n";
        assert_eq!(
            check_items(twice, &before, Syntax::Yaml),
            Err(RewriteError::Ambiguous {
                item: "b".into(),
                count: 2
            })
        );
        assert_eq!(
            check_items("x:\n  a: AgAA\n  b: AgBB\n", &before, Syntax::Yaml),
            Ok(())
        );
    }

    #[test]
    fn items_not_on_lines_of_their_own_are_not_added_or_removed() {
        let before = items(&[("a", "AgAA"), ("b", "AgBB")]);
        let fewer = items(&[("a", "AgAA")]);
        let flow = "spec:\n  encryptedData: {a: AgAA, b: AgBB}\n";
        assert!(matches!(
            edit_items(flow, &before, &fewer, Syntax::Yaml),
            Err(RewriteError::NotOwnLine { .. })
        ));
        let one_line = r#"{"spec":{"encryptedData":{"a":"AgAA","b":"AgBB"}}}"#;
        assert!(matches!(
            edit_items(one_line, &before, &fewer, Syntax::Json),
            Err(RewriteError::NotOwnLine { .. })
        ));
        // A value is still replaced in place there.
        let changed = items(&[("a", "AgA2"), ("b", "AgBB")]);
        assert_eq!(
            edit_items(one_line, &before, &changed, Syntax::Json).unwrap(),
            r#"{"spec":{"encryptedData":{"a":"AgA2","b":"AgBB"}}}"#
        );
        assert_eq!(
            edit_items("spec: {}\n", &BTreeMap::new(), &fewer, Syntax::Yaml),
            Err(RewriteError::NoNeighbour)
        );
    }
}
