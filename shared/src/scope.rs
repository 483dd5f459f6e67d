//! Scopes, the annotations that select them, and the OAEP label each one binds a ciphertext to.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::marks::{CLUSTER_WIDE, NAMESPACE_WIDE};

/// Which objects a sealed value may be unsealed into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Bound to one namespace and name (the default).
    #[default]
    Strict,
    /// Bound to one namespace, any name.
    NamespaceWide,
    /// Unbound: any namespace, any name.
    ClusterWide,
}

impl Scope {
    /// The scope an object's annotations select. Only the exact value `"true"` counts, and
    /// cluster-wide wins when both are set, as in the reference.
    pub fn from_annotations(annotations: Option<&BTreeMap<String, String>>) -> Scope {
        let is_true = |key: &str| {
            annotations
                .and_then(|a| a.get(key))
                .is_some_and(|v| v == "true")
        };
        if is_true(CLUSTER_WIDE) {
            Scope::ClusterWide
        } else if is_true(NAMESPACE_WIDE) {
            Scope::NamespaceWide
        } else {
            Scope::Strict
        }
    }

    /// Sets exactly this scope's annotation, removing the other one.
    pub fn apply_to(self, annotations: &mut BTreeMap<String, String>) {
        annotations.remove(CLUSTER_WIDE);
        annotations.remove(NAMESPACE_WIDE);
        match self {
            Scope::Strict => {}
            Scope::NamespaceWide => {
                annotations.insert(NAMESPACE_WIDE.to_owned(), "true".to_owned());
            }
            Scope::ClusterWide => {
                annotations.insert(CLUSTER_WIDE.to_owned(), "true".to_owned());
            }
        }
    }

    /// The OAEP label for an object of this scope.
    pub fn label(self, namespace: &str, name: &str) -> Label {
        Label(match self {
            Scope::Strict => format!("{namespace}/{name}"),
            Scope::NamespaceWide => namespace.to_owned(),
            Scope::ClusterWide => String::new(),
        })
    }

    /// The name kubeseal's `--scope` flag uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--scope` value that is none of the three.
#[derive(Debug, thiserror::Error)]
#[error("unknown scope {0:?}: expected strict, namespace-wide or cluster-wide")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            // kubeseal treats an empty value as the default.
            "strict" | "" => Ok(Scope::Strict),
            "namespace-wide" => Ok(Scope::NamespaceWide),
            "cluster-wide" => Ok(Scope::ClusterWide),
            other => Err(UnknownScope(other.to_owned())),
        }
    }
}

/// The OAEP label a ciphertext is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    /// The raw label bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_per_scope() {
        assert_eq!(
            Scope::Strict.label("default", "db").as_bytes(),
            b"default/db"
        );
        assert_eq!(
            Scope::NamespaceWide.label("default", "db").as_bytes(),
            b"default"
        );
        assert_eq!(Scope::ClusterWide.label("default", "db").as_bytes(), b"");
    }

    #[test]
    fn annotations_select_scope_and_cluster_wide_wins() {
        let mut a = BTreeMap::new();
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::Strict);
        a.insert(NAMESPACE_WIDE.to_owned(), "true".to_owned());
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::NamespaceWide);
        a.insert(CLUSTER_WIDE.to_owned(), "true".to_owned());
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::ClusterWide);
        a.insert(CLUSTER_WIDE.to_owned(), "True".to_owned());
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::NamespaceWide);
        assert_eq!(Scope::from_annotations(None), Scope::Strict);
    }

    #[test]
    fn apply_sets_one_annotation() {
        let mut a = BTreeMap::new();
        Scope::ClusterWide.apply_to(&mut a);
        Scope::NamespaceWide.apply_to(&mut a);
        assert_eq!(a.len(), 1);
        assert_eq!(Scope::from_annotations(Some(&a)), Scope::NamespaceWide);
    }

    #[test]
    fn parse_names() {
        for s in [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide] {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), s);
        }
        assert!("global".parse::<Scope>().is_err());
    }
}
