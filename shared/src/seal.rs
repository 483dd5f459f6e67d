//! Secret -> SealedSecret, exactly as kubeseal builds it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rand_core::CryptoRng;

use crate::crypto::{self, EncryptError};
use crate::keys::PublicKey;
use crate::resource::{SealedSecret, SealedSecretSpec, SecretTemplateSpec};
use crate::scope::Scope;
use crate::wire;

/// Annotations that hold a copy of the whole object, plaintext included (reference issue #227).
pub const LAST_APPLIED_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
];

/// The API server's limit on a Secret's data (keys plus values).
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

/// Why a Secret cannot be sealed. Messages name the Secret and the field, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("missing metadata.name in input Secret")]
    MissingName,
    #[error(
        "secret.data is empty in input Secret {name:?}; use --allow-empty-data to seal it anyway"
    )]
    EmptyData { name: String },
    #[error("secret {name:?} of type {type_} is missing required key {key:?}")]
    MissingTypeKey {
        name: String,
        type_: String,
        key: &'static str,
    },
    #[error("secret {name:?} of type kubernetes.io/basic-auth needs a username or a password")]
    BasicAuthEmpty { name: String },
    #[error("secret {name:?}: .dockerconfigjson is not valid JSON")]
    DockerConfigJson { name: String },
    #[error("secret {name:?}: data is {size} bytes, over the {MAX_SECRET_SIZE}-byte Secret limit")]
    TooLarge { name: String, size: usize },
    /// `key` is escaped and cut for display.
    #[error("secret {name:?}: item \"{key}\" is not a valid Secret key: {reason}")]
    InvalidKey {
        name: String,
        key: String,
        reason: &'static str,
    },
    #[error("secret {name:?}: item {key:?}: {error}")]
    Encrypt {
        name: String,
        key: String,
        error: EncryptError,
    },
}

/// Checks what the API server and the Secret's type will demand, before anything is sealed.
pub fn validate(secret: &Secret, allow_empty_data: bool) -> Result<(), SealError> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    if name.is_empty() {
        return Err(SealError::MissingName);
    }
    let items = merged_items(secret);
    if items.is_empty() && !allow_empty_data {
        return Err(SealError::EmptyData { name });
    }
    // What the controller would refuse is refused before anything is sealed.
    for key in items.keys() {
        if let Some(reason) = crate::unseal::secret_key_problem(key) {
            return Err(SealError::InvalidKey {
                name,
                key: crate::text::name(key, 64),
                reason,
            });
        }
    }
    let size: usize = items.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_SECRET_SIZE {
        return Err(SealError::TooLarge { name, size });
    }
    let type_ = secret.type_.as_deref().unwrap_or("Opaque");
    let need = |key: &'static str| {
        if items.contains_key(key) {
            Ok(())
        } else {
            Err(SealError::MissingTypeKey {
                name: name.clone(),
                type_: type_.to_owned(),
                key,
            })
        }
    };
    match type_ {
        "kubernetes.io/tls" => {
            need("tls.crt")?;
            need("tls.key")?;
        }
        "kubernetes.io/dockerconfigjson" => {
            need(".dockerconfigjson")?;
            if serde_json::from_slice::<serde_json::Value>(items[".dockerconfigjson"]).is_err() {
                return Err(SealError::DockerConfigJson { name });
            }
        }
        "kubernetes.io/dockercfg" => need(".dockercfg")?,
        "kubernetes.io/basic-auth"
            if !items.contains_key("username") && !items.contains_key("password") =>
        {
            return Err(SealError::BasicAuthEmpty { name });
        }
        "kubernetes.io/ssh-auth" => need("ssh-privatekey")?,
        _ => {}
    }
    Ok(())
}

/// `data` then `stringData`, which wins on a clash, as the API server merges them.
fn merged_items(secret: &Secret) -> BTreeMap<&str, &[u8]> {
    let mut items: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for (k, v) in secret.data.iter().flatten() {
        items.insert(k, &v.0);
    }
    for (k, v) in secret.string_data.iter().flatten() {
        items.insert(k, v.as_bytes());
    }
    items
}

/// Seals a Secret. Its scope comes from its own annotations (set them with
/// [`Scope::apply_to`] first to override). The Secret should have passed [`validate`].
pub fn seal<R: CryptoRng + ?Sized>(
    secret: &Secret,
    public_key: &PublicKey,
    rng: &mut R,
) -> Result<SealedSecret, SealError> {
    let name = secret
        .metadata
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or(SealError::MissingName)?;
    let namespace = secret.metadata.namespace.clone().unwrap_or_default();
    let scope = Scope::from_annotations(secret.metadata.annotations.as_ref());
    let label = scope.label(&namespace, &name);

    let mut encrypted_data = BTreeMap::new();
    for (key, value) in merged_items(secret) {
        let sealed = crypto::encrypt(rng, public_key, value, &label).map_err(|source| {
            SealError::Encrypt {
                name: name.clone(),
                key: key.to_owned(),
                error: source,
            }
        })?;
        encrypted_data.insert(key.to_owned(), wire::encode(&sealed));
    }

    let mut outer_annotations = BTreeMap::new();
    scope.apply_to(&mut outer_annotations);
    let metadata = ObjectMeta {
        name: Some(name),
        namespace: secret.metadata.namespace.clone().filter(|n| !n.is_empty()),
        annotations: Some(outer_annotations).filter(|a| !a.is_empty()),
        ..ObjectMeta::default()
    };
    let template = SecretTemplateSpec {
        metadata: template_metadata(&secret.metadata),
        type_: secret.type_.clone(),
        immutable: secret.immutable,
        data: None,
    };
    Ok(SealedSecret {
        metadata,
        spec: SealedSecretSpec {
            template: Some(template),
            encrypted_data,
            data: None,
        },
        status: None,
    })
}

/// The Secret's metadata as the template keeps it: no server-set fields, no owners, and no
/// last-applied annotations (they would carry the plaintext).
fn template_metadata(meta: &ObjectMeta) -> ObjectMeta {
    let mut annotations = meta.annotations.clone().unwrap_or_default();
    for key in LAST_APPLIED_ANNOTATIONS {
        annotations.remove(key);
    }
    ObjectMeta {
        name: meta.name.clone(),
        generate_name: meta.generate_name.clone(),
        namespace: meta.namespace.clone().filter(|n| !n.is_empty()),
        labels: meta.labels.clone().filter(|l| !l.is_empty()),
        annotations: Some(annotations).filter(|a| !a.is_empty()),
        finalizers: meta.finalizers.clone().filter(|f| !f.is_empty()),
        ..ObjectMeta::default()
    }
}
