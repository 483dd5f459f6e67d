//! Editing a file's SealedSecrets in place, pure: each changed ciphertext is replaced where it
//! stands in the text, so that everything else (other documents, comments, quoting, key order,
//! indentation) stays byte for byte and a review shows only the values that changed.

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

/// `text` with every change made. Each old value must stand exactly once in the text: a
/// ciphertext is random, so it does unless the file was written in an unusual way, and then
/// nothing is changed rather than the wrong spot.
pub fn replace_values(text: &str, changes: &[Change]) -> Result<String, RewriteError> {
    let mut spots = Vec::with_capacity(changes.len());
    for change in changes {
        match occurrences(text, &change.old)[..] {
            [at] => spots.push((at, change)),
            [] => {
                return Err(RewriteError::NotFound {
                    item: change.item.clone(),
                });
            }
            ref many => {
                return Err(RewriteError::Ambiguous {
                    item: change.item.clone(),
                    count: many.len(),
                });
            }
        }
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
}
