//! What the controller watches: a SealedSecret, or what can still be read of a malformed one
//! (its metadata and its status), so that a malformed object gets a condition and an event
//! once, not on every reconcile and every restart.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Deserializer};
use shared::{SealedSecret, SealedSecretSpec, SealedSecretStatus};

/// Longest parse error kept: serde's messages can quote the offending value.
const MAX_ERROR_LEN: usize = 300;

/// A watched object: the SealedSecret's metadata and status, and its spec, or why it does not
/// parse. Metadata and status are kept apart from the spec so that the controller's store can
/// let go of the spec ([`crate::sealed_store`]) and keep a small object.
#[derive(Clone, Debug)]
pub struct Guarded {
    pub metadata: ObjectMeta,
    /// The status as written, when it still parses: what the controller reported last time.
    pub status: Option<SealedSecretStatus>,
    pub spec: Spec,
}

#[derive(Clone, Debug)]
pub enum Spec {
    /// It parses. `None` once the store let the spec go.
    Sealed(Option<Box<SealedSecretSpec>>),
    /// It does not parse: why, escaped and bounded.
    Invalid(String),
}

impl Guarded {
    pub fn meta_ref(&self) -> &ObjectMeta {
        &self.metadata
    }

    pub fn status(&self) -> Option<&SealedSecretStatus> {
        self.status.as_ref()
    }
}

/// kubectl's last-applied annotation: a second copy of an object applied with kubectl.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what the controller never reads before the object is built: managedFields (most of
/// an object's size, a tree copied field by field) and kubectl's last-applied copy.
fn drop_unread(value: &mut serde_json::Value) {
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
        if let Some(annotations) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
            annotations.remove(LAST_APPLIED);
        }
    }
}

impl<'de> Deserialize<'de> for Guarded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut value = serde_json::Value::deserialize(deserializer)?;
        drop_unread(&mut value);
        match SealedSecret::deserialize(&value) {
            Ok(ss) => Ok(Guarded {
                metadata: ss.metadata,
                status: ss.status,
                spec: Spec::Sealed(Some(Box::new(ss.spec))),
            }),
            Err(e) => {
                // Without readable metadata the object cannot even be named: fail the event,
                // as kube's own DeserializeGuard does.
                let metadata = value
                    .get("metadata")
                    .map(ObjectMeta::deserialize)
                    .transpose()
                    .map_err(serde::de::Error::custom)?
                    .unwrap_or_default();
                let status = value
                    .get("status")
                    .and_then(|s| SealedSecretStatus::deserialize(s).ok());
                let error =
                    shared::text::truncate(&shared::text::escape(&e.to_string()), MAX_ERROR_LEN);
                Ok(Guarded {
                    metadata,
                    status,
                    spec: Spec::Invalid(error),
                })
            }
        }
    }
}

impl Resource for Guarded {
    type DynamicType = ();
    type Scope = <SealedSecret as Resource>::Scope;

    fn kind(dt: &()) -> Cow<'_, str> {
        SealedSecret::kind(dt)
    }

    fn group(dt: &()) -> Cow<'_, str> {
        SealedSecret::group(dt)
    }

    fn version(dt: &()) -> Cow<'_, str> {
        SealedSecret::version(dt)
    }

    fn plural(dt: &()) -> Cow<'_, str> {
        SealedSecret::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        self.meta_ref()
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_objects_keep_their_name_and_status() {
        let json = serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": "bad", "namespace": "ns", "generation": 3},
            "spec": {"encryptedData": {"password": 12345}},
            "status": {"observedGeneration": 3, "conditions": [
                {"type": "Synced", "status": "False", "message": "m"}]}
        });
        let invalid: Guarded = serde_json::from_value(json).unwrap();
        let Spec::Invalid(error) = &invalid.spec else {
            panic!("parsed a malformed object");
        };
        assert_eq!(invalid.metadata.name.as_deref(), Some("bad"));
        assert_eq!(invalid.status.unwrap().observed_generation, Some(3));
        assert!(error.contains("spec.encryptedData.password"), "{error}");

        let hostile = serde_json::json!({
            "metadata": {"name": "x"},
            "spec": {"encryptedData": {"a\nFORGED": 1}},
            "status": "not a status"
        });
        let invalid: Guarded = serde_json::from_value(hostile).unwrap();
        let Spec::Invalid(error) = &invalid.spec else {
            panic!("parsed a malformed object");
        };
        assert!(invalid.status.is_none());
        assert!(!error.contains('\n'), "{error}");

        let good = serde_json::json!({
            "metadata": {"name": "ok", "managedFields": [{"manager": "kubectl"}],
                "annotations": {LAST_APPLIED: "{}", "kept": "yes"}},
            "spec": {"encryptedData": {"a": "AAAA"}}
        });
        let good = serde_json::from_value::<Guarded>(good).unwrap();
        assert!(good.metadata.managed_fields.is_none());
        assert_eq!(
            good.metadata
                .annotations
                .as_ref()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["kept"]
        );
        assert!(
            matches!(good.spec, Spec::Sealed(Some(spec)) if spec.encrypted_data["a"] == "AAAA")
        );
    }
}
