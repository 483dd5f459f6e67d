//! The `bitnami.com/v1alpha1` SealedSecret custom resource, field for field as the reference.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The SealedSecret spec. Field order is kubeseal's JSON order.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "bitnami.com",
    version = "v1alpha1",
    kind = "SealedSecret",
    plural = "sealedsecrets",
    namespaced,
    status = "SealedSecretStatus",
    crates(
        kube_core = "kube::core",
        k8s_openapi = "k8s_openapi",
        schemars = "schemars",
        serde = "serde",
        serde_json = "serde_json"
    ),
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[0].message"}"#,
    printcolumn = r#"{"name":"Synced","type":"string","jsonPath":".status.conditions[0].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[schemars(transform = require_encrypted_data)]
pub struct SealedSecretSpec {
    /// Metadata, type and templated data of the Secret to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<SecretTemplateSpec>,

    // Required, and string values only, at apply time, as in the reference's CRD (see
    // `require_encrypted_data`); the controller still reads leniently what an older CRD let
    // through (a missing map is empty, a non-string value is reported on the object).
    /// Item key to base64 ciphertext.
    #[serde(rename = "encryptedData", default, deserialize_with = "encrypted_data")]
    #[schemars(schema_with = "string_map")]
    pub encrypted_data: BTreeMap<String, String>,

    /// Deprecated v1 format: the whole Secret sealed as one blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "byte_string")]
    pub data: Option<ByteString>,
}

/// What the produced Secret looks like apart from its data items.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SecretTemplateSpec {
    /// Copied into the Secret; name and namespace are forced to the SealedSecret's own.
    #[serde(
        default,
        skip_serializing_if = "meta_is_empty",
        deserialize_with = "null_as_default"
    )]
    #[schemars(schema_with = "template_metadata")]
    pub metadata: ObjectMeta,

    /// The Secret's type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,

    /// Whether the Secret is immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,

    /// Go text/template strings rendered with the decrypted items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<BTreeMap<String, String>>,
}

/// Status the controller writes; `Synced` is the condition Argo CD reads.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SealedSecretStatus {
    #[serde(
        rename = "observedGeneration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<SealedSecretCondition>,
}

/// One status condition, shaped as the reference's (plus `reason`, which it leaves empty).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SealedSecretCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    #[serde(
        rename = "lastUpdateTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_update_time: Option<Time>,
    #[serde(
        rename = "lastTransitionTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_transition_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn meta_is_empty(meta: &ObjectMeta) -> bool {
    *meta == ObjectMeta::default()
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `encryptedData` must be a map of strings; a value of another type is an error that names
/// its key, so one bad item is reported precisely instead of as a generic type error.
fn encrypted_data<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct MapVisitor;
    impl<'de> Visitor<'de> for MapVisitor {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of item names to base64 strings")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                match map.next_value::<StringOr>()? {
                    StringOr::String(v) => {
                        out.insert(key, v);
                    }
                    StringOr::Other(kind) => {
                        return Err(de::Error::custom(format!(
                            "spec.encryptedData.{key}: expected a base64 string, found {kind}"
                        )));
                    }
                }
            }
            Ok(out)
        }
    }
    d.deserialize_any(MapVisitor)
}

/// A value that is either a string or something else, named by its kind.
enum StringOr {
    String(String),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for StringOr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringOr, E> {
                Ok(StringOr::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<StringOr, E> {
                Ok(StringOr::String(v))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<StringOr, E> {
                Ok(StringOr::Other("a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<StringOr, E> {
                Ok(StringOr::Other("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<StringOr, E> {
                Ok(StringOr::Other("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<StringOr, E> {
                Ok(StringOr::Other("a number"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<StringOr, E> {
                Ok(StringOr::Other("null"))
            }
            fn visit_none<E: de::Error>(self) -> Result<StringOr, E> {
                Ok(StringOr::Other("null"))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StringOr, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(StringOr::Other("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StringOr, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(StringOr::Other("a map"))
            }
        }
        d.deserialize_any(V)
    }
}

/// `encryptedData` is required at apply time, with no default, as in the reference's CRD.
fn require_encrypted_data(schema: &mut schemars::Schema) {
    if let Some(props) = schema
        .get_mut("properties")
        .and_then(|p| p.get_mut("encryptedData"))
        .and_then(|e| e.as_object_mut())
    {
        props.remove("default");
    }
    schema.insert("required".into(), serde_json::json!(["encryptedData"]));
}

/// The reference's schema for `encryptedData`: an object of strings.
fn string_map(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": {"type": "string"},
        "x-kubernetes-preserve-unknown-fields": true
    })
}

fn byte_string(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "string", "format": "byte", "nullable": true})
}

fn template_metadata(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "nullable": true,
        "x-kubernetes-preserve-unknown-fields": true,
        "properties": {
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            "finalizers": {"type": "array", "items": {"type": "string"}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "name": {"type": "string"},
            "namespace": {"type": "string"}
        }
    })
}

/// The CustomResourceDefinition, as `unsealer crd` prints it: the schema of the Rust types.
///
/// `status` gets no default, although `{observedGeneration: 0}` would make a SealedSecret that
/// no controller has looked at yet read as in progress to Flux's kstatus (it reads Current):
/// tools wait for `status` to appear as the sign that the controller has seen the object (the
/// reference's own suite does, then updates the object; with a default it raced the
/// controller's first status write and got a conflict).
pub fn crd()
-> k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition {
    use kube::CustomResourceExt as _;
    SealedSecret::crd()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_null_creation_timestamps() {
        let yaml = r#"
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  creationTimestamp: null
  name: a
  namespace: b
spec:
  encryptedData:
    k: AgAA
  template:
    metadata:
      creationTimestamp: null
      name: a
"#;
        let ss: SealedSecret = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(ss.spec.encrypted_data["k"], "AgAA");
        assert_eq!(
            ss.spec.template.unwrap().metadata.name.as_deref(),
            Some("a")
        );
    }

    #[test]
    fn non_string_item_is_an_error_naming_the_key() {
        let json = r#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"a"},"spec":{"encryptedData":{"good":"AgA=","bad":5}}}"#;
        let err = serde_json::from_str::<SealedSecret>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("spec.encryptedData.bad"), "{err}");
        assert!(err.contains("number"), "{err}");
        let yaml = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a}\nspec:\n  encryptedData:\n    bad: [1]\n";
        let err = serde_saphyr::from_str::<SealedSecret>(yaml)
            .unwrap_err()
            .to_string();
        assert!(err.contains("spec.encryptedData.bad"), "{err}");
    }

    #[test]
    fn null_template_metadata_and_empty_encrypted_data() {
        let json = r#"{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"a"},"spec":{"encryptedData":null,"template":{"metadata":null,"data":{"x":"y"}}}}"#;
        let ss: SealedSecret = serde_json::from_str(json).unwrap();
        assert!(ss.spec.encrypted_data.is_empty());
    }
}
