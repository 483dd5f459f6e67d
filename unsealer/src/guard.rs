//! What the controller watches: a SealedSecret, or what can still be read of a malformed one
//! (its metadata and its status), so that a malformed object gets a condition and an event
//! once, not on every reconcile and every restart.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Deserializer};
use shared::{SealedSecret, SealedSecretStatus};

/// Longest parse error kept: serde's messages can quote the offending value.
const MAX_ERROR_LEN: usize = 300;

/// A SealedSecret that does not parse as one.
#[derive(Clone, Debug)]
pub struct Invalid {
    pub metadata: ObjectMeta,
    /// The status as written, when it still parses: what the controller reported last time.
    pub status: Option<SealedSecretStatus>,
    /// Why it does not parse; escaped and bounded.
    pub error: String,
}

/// A watched object: the SealedSecret, or what is left of a malformed one.
#[derive(Clone, Debug)]
pub struct Guarded(pub Result<SealedSecret, Invalid>);

impl Guarded {
    pub fn meta_ref(&self) -> &ObjectMeta {
        match &self.0 {
            Ok(ss) => &ss.metadata,
            Err(invalid) => &invalid.metadata,
        }
    }

    pub fn status(&self) -> Option<&SealedSecretStatus> {
        match &self.0 {
            Ok(ss) => ss.status.as_ref(),
            Err(invalid) => invalid.status.as_ref(),
        }
    }
}

impl<'de> Deserialize<'de> for Guarded {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match SealedSecret::deserialize(&value) {
            Ok(ss) => Ok(Guarded(Ok(ss))),
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
                Ok(Guarded(Err(Invalid {
                    metadata,
                    status,
                    error,
                })))
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
        match &mut self.0 {
            Ok(ss) => &mut ss.metadata,
            Err(invalid) => &mut invalid.metadata,
        }
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
        let Guarded(Err(invalid)) = serde_json::from_value(json).unwrap() else {
            panic!("parsed a malformed object");
        };
        assert_eq!(invalid.metadata.name.as_deref(), Some("bad"));
        assert_eq!(invalid.status.unwrap().observed_generation, Some(3));
        assert!(
            invalid.error.contains("spec.encryptedData.password"),
            "{}",
            invalid.error
        );

        let hostile = serde_json::json!({
            "metadata": {"name": "x"},
            "spec": {"encryptedData": {"a\nFORGED": 1}},
            "status": "not a status"
        });
        let Guarded(Err(invalid)) = serde_json::from_value(hostile).unwrap() else {
            panic!("parsed a malformed object");
        };
        assert!(invalid.status.is_none());
        assert!(!invalid.error.contains('\n'), "{}", invalid.error);

        let good = serde_json::json!({
            "metadata": {"name": "ok"},
            "spec": {"encryptedData": {"a": "AAAA"}}
        });
        assert!(serde_json::from_value::<Guarded>(good).unwrap().0.is_ok());
    }
}
