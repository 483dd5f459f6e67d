//! The controller's own marks on the Secrets it writes whole, and its field manager. Leaf
//! module: the reference's marks are in `shared::marks`. Labels are the template's exactly, as
//! the reference writes them: the controller adds none.

use std::fmt;

/// The one field manager for every write.
pub const FIELD_MANAGER: &str = "sealed-secrets-unsealer";

/// On Secrets written whole: the [`Source`] they were unsealed from.
pub const SOURCE_ANNOTATION: &str = "sealedsecrets.bitnami.com/unsealed-from";

/// On Secrets written whole: the fingerprints of the sealing keys that opened the SealedSecret's
/// items, comma-separated (`SHA256:...`, as `seal keys` and the metrics name keys). Public
/// information: it says which key an object needs, so that the next generation tries it first
/// and an admin can tell when an old key is no longer needed.
pub const KEYS_ANNOTATION: &str = "sealedsecrets.bitnami.com/unsealed-with";

/// On a Deployment, StatefulSet or DaemonSet: `"true"` opts it in to a rolling restart when
/// the controller changes the data of a Secret its pods read (`--restart-consumers`).
pub const RESTART_ANNOTATION: &str = "sealedsecrets.bitnami.com/restart-on-change";

/// The fingerprints in a [`KEYS_ANNOTATION`] mark on `annotations`.
pub fn keys_of_annotations(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
) -> Vec<String> {
    annotations
        .and_then(|a| a.get(KEYS_ANNOTATION))
        .map(|mark| {
            mark.split(',')
                .map(str::trim)
                .filter(|fp| !fp.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The [`KEYS_ANNOTATION`] mark for these fingerprints.
pub fn keys_mark<'a>(fingerprints: impl IntoIterator<Item = &'a String>) -> String {
    fingerprints
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

/// What a Secret was unsealed from: the SealedSecret's UID and generation, written as
/// `uid:generation`. A restart or resync that finds a Secret current skips the RSA work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub uid: String,
    pub generation: i64,
}

impl Source {
    /// Reads the mark; `None` for anything that is not `uid:generation`.
    pub fn parse(mark: &str) -> Option<Source> {
        let (uid, generation) = mark.rsplit_once(':')?;
        Some(Source {
            uid: uid.to_owned(),
            generation: generation.parse().ok()?,
        })
    }

    /// The mark on `annotations`, if there is a readable one.
    pub fn of_annotations(
        annotations: Option<&std::collections::BTreeMap<String, String>>,
    ) -> Option<Source> {
        Source::parse(annotations?.get(SOURCE_ANNOTATION)?)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.uid, self.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_mark_round_trips() {
        let s = Source {
            uid: "0b3c-11".into(),
            generation: 7,
        };
        assert_eq!(s.to_string(), "0b3c-11:7");
        assert_eq!(Source::parse("0b3c-11:7"), Some(s));
        assert_eq!(Source::parse("no-generation"), None);
        assert_eq!(Source::parse("u:x"), None);
    }

    #[test]
    fn keys_mark_round_trips() {
        let fps = ["SHA256:a".to_owned(), "SHA256:b".to_owned()];
        let mark = keys_mark(&fps);
        assert_eq!(mark, "SHA256:a,SHA256:b");
        let annotations = [(KEYS_ANNOTATION.to_owned(), mark)].into();
        assert_eq!(keys_of_annotations(Some(&annotations)), fps);
        let odd = [(KEYS_ANNOTATION.to_owned(), " SHA256:a,, ".to_owned())].into();
        assert_eq!(keys_of_annotations(Some(&odd)), ["SHA256:a"]);
        assert!(keys_of_annotations(None).is_empty());
    }
}
