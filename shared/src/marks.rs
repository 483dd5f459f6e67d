//! Every `sealedsecrets.bitnami.com/*` label and annotation that the reference defines, in one
//! leaf module. The controller's own marks live beside its write path (`unsealer::marks`).

/// `"true"` on a SealedSecret: sealed for any namespace and name.
pub const CLUSTER_WIDE: &str = "sealedsecrets.bitnami.com/cluster-wide";
/// `"true"` on a SealedSecret: sealed for any name within its namespace.
pub const NAMESPACE_WIDE: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// `"true"` on an existing Secret: the controller may take it over.
pub const MANAGED: &str = "sealedsecrets.bitnami.com/managed";
/// `"true"` on an existing Secret: merge into it rather than replace it.
pub const PATCH: &str = "sealedsecrets.bitnami.com/patch";
/// `"true"` in the template's annotations: the Secret gets no ownerReference.
pub const SKIP_SET_OWNER_REFERENCES: &str = "sealedsecrets.bitnami.com/skip-set-owner-references";
/// Label of a key Secret; [`KEY_ACTIVE`] keeps the key in use, any other value (such as
/// `compromised`) retires it.
pub const KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// The value of [`KEY_LABEL`] on keys in use.
pub const KEY_ACTIVE: &str = "active";
/// On key Secrets (ours, not the reference's): how many SealedSecrets still need the key, as
/// the controller's leader counted them. Here rather than with the controller's other marks
/// because `seal keys` reads it from key backups too.
pub const OBJECTS_ANNOTATION: &str = "sealedsecrets.bitnami.com/sealed-objects";

/// Whether `annotations` hold `key: "true"` (the reference compares the string exactly).
pub fn is_true(
    annotations: Option<&std::collections::BTreeMap<String, String>>,
    key: &str,
) -> bool {
    annotations
        .and_then(|a| a.get(key))
        .is_some_and(|v| v == "true")
}
