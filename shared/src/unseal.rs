//! SealedSecret + key ring -> Secret, as the reference controller builds it.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use zeroize::Zeroize as _;

use crate::crypto::{self, DecryptError};
use crate::keys::KeyRing;
use crate::marks::SKIP_SET_OWNER_REFERENCES;
use crate::resource::SealedSecret;
use crate::scope::Scope;
use crate::template::{self, TemplateError};
use crate::text;
use crate::wire;

/// How the deprecated v1 `spec.data` blob is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsealOptions {
    /// Accept `spec.data` (the reference's `--accept-deprecated-v1-data`, default true).
    pub accept_v1_data: bool,
}

impl Default for UnsealOptions {
    fn default() -> Self {
        UnsealOptions {
            accept_v1_data: true,
        }
    }
}

/// Most items one SealedSecret may have (`encryptedData` and `template.data` together). A
/// Secret holds at most 1 MiB, and each sealed item is at least 700 bytes, so no real object
/// comes near; the cap bounds the RSA work one object can ask for.
pub const MAX_ITEMS: usize = 1000;
/// Longest Secret key Kubernetes accepts.
pub const MAX_KEY_LEN: usize = 253;
/// Most bytes of data a Secret may hold (Kubernetes' `MaxSecretSize`, values only).
pub const MAX_SECRET_DATA: usize = 1 << 20;
/// Item names a message shows before it says how many more there are.
const NAMES_SHOWN: usize = 5;
/// Bytes of one name a message shows.
const NAME_SHOWN: usize = 64;

/// Why a SealedSecret did not unseal. Decryption failures stay vague on purpose; per-item
/// failures name the items, and identical messages are merged as the reference does.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UnsealError {
    #[error("SealedSecret has no metadata.name")]
    MissingName,
    #[error("{0}")]
    Items(ItemErrors),
    #[error("SealedSecret has both spec.data and spec.encryptedData")]
    BothDataFormats,
    #[error("spec.data (deprecated v1 format) is not accepted by this controller")]
    V1DataRefused,
    #[error("spec.data: {0}")]
    V1Data(String),
    #[error("spec.template.data.{key}: {error}")]
    Template {
        key: String,
        error: TemplateErrorText,
    },
    #[error("{field} has {count} items; at most {MAX_ITEMS} are accepted")]
    TooManyItems { field: &'static str, count: usize },
    /// `key` is already escaped and cut for display.
    #[error("{field} key \"{key}\" is not a valid Secret key: {reason}")]
    InvalidKey {
        field: &'static str,
        key: String,
        reason: &'static str,
    },
    #[error("the Secret would hold {size} bytes of data; a Secret holds at most {MAX_SECRET_DATA}")]
    TooLarge { size: usize },
}

/// Per-item errors, grouped by message: `no key could decrypt secret (a, b)`.
#[derive(Debug, Default, PartialEq)]
pub struct ItemErrors(BTreeMap<String, Vec<String>>);

impl ItemErrors {
    fn add(&mut self, message: String, key: &str) {
        self.0.entry(message).or_default().push(key.to_owned());
    }
}

impl fmt::Display for ItemErrors {
    /// Bounded whatever the number of items: the first few names of each message and a count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (message, keys)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let names = text::list(keys.iter().map(String::as_str), NAMES_SHOWN, NAME_SHOWN);
            write!(f, "{message} ({names})")?;
        }
        Ok(())
    }
}

/// Kubernetes' rule for Secret keys (`IsConfigMapKey`): why `key` is not one, if it is not.
pub fn secret_key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        Some("it is empty")
    } else if key.len() > MAX_KEY_LEN {
        Some("it is longer than 253 characters")
    } else if key == "." || key == ".." {
        Some("it may not be '.' or '..'")
    } else if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        Some("it may contain only letters, digits, '-', '_' and '.'")
    } else {
        None
    }
}

fn check_keys<'a>(
    field: &'static str,
    keys: impl ExactSizeIterator<Item = &'a String>,
) -> Result<(), UnsealError> {
    if keys.len() > MAX_ITEMS {
        return Err(UnsealError::TooManyItems {
            field,
            count: keys.len(),
        });
    }
    for key in keys {
        if let Some(reason) = secret_key_problem(key) {
            return Err(UnsealError::InvalidKey {
                field,
                key: text::name(key, NAME_SHOWN),
                reason,
            });
        }
    }
    Ok(())
}

/// Checks that cost no RSA work: the object's name, its item count and item names. Run before
/// any decryption, so a hostile object is refused for the price of a scan.
pub fn precheck(sealed: &SealedSecret) -> Result<(), UnsealError> {
    if sealed.metadata.name.as_deref().is_none_or(str::is_empty) {
        return Err(UnsealError::MissingName);
    }
    check_keys("spec.encryptedData", sealed.spec.encrypted_data.keys())?;
    let template_data = sealed.spec.template.as_ref().and_then(|t| t.data.as_ref());
    if let Some(data) = template_data {
        check_keys("spec.template.data", data.keys())?;
        let total = sealed.spec.encrypted_data.len() + data.len();
        if total > MAX_ITEMS {
            return Err(UnsealError::TooManyItems {
                field: "spec.encryptedData and spec.template.data",
                count: total,
            });
        }
    }
    Ok(())
}

/// A template error as text, so the error stays comparable and cloneable.
#[derive(Debug, PartialEq)]
pub struct TemplateErrorText(pub String);

impl fmt::Display for TemplateErrorText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateErrorText {}

impl From<TemplateError> for TemplateErrorText {
    fn from(e: TemplateError) -> Self {
        TemplateErrorText(e.to_string())
    }
}

/// Decrypted items, wiped from memory when dropped.
#[derive(Default)]
pub struct Plaintext(BTreeMap<String, Vec<u8>>);

impl Plaintext {
    pub fn items(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.0
    }

    /// Moves the items out, for a Secret that is about to be sent.
    pub fn into_secret_data(mut self) -> BTreeMap<String, ByteString> {
        std::mem::take(&mut self.0)
            .into_iter()
            .map(|(k, v)| (k, ByteString(v)))
            .collect()
    }
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        for v in self.0.values_mut() {
            v.zeroize();
        }
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// The OAEP scope of a SealedSecret, from its own metadata only (never the template: that is
/// CVE-2026-22728).
pub fn scope_of(sealed: &SealedSecret) -> Scope {
    Scope::from_annotations(sealed.metadata.annotations.as_ref())
}

/// Decrypts every `encryptedData` item without rendering any template: what `/v1/verify` and
/// `/v1/rotate` may do without becoming a decryption oracle.
pub fn decrypt_items(sealed: &SealedSecret, ring: &KeyRing) -> Result<Plaintext, UnsealError> {
    decrypt_items_with(sealed, ring, &mut || {})
}

/// [`decrypt_items`], calling `between_items` before each item: the caller's chance to let
/// other work go first, so one object with many items does not hold a core for long.
pub fn decrypt_items_with(
    sealed: &SealedSecret,
    ring: &KeyRing,
    between_items: &mut dyn FnMut(),
) -> Result<Plaintext, UnsealError> {
    precheck(sealed)?;
    let name = sealed.metadata.name.as_deref().unwrap_or_default();
    let namespace = sealed.metadata.namespace.as_deref().unwrap_or_default();
    let label = scope_of(sealed).label(namespace, name);
    let mut out = Plaintext::default();
    let mut errors = ItemErrors::default();
    let mut hint = None;
    for (key, value) in &sealed.spec.encrypted_data {
        between_items();
        let bytes = match wire::decode(value) {
            Ok(b) => b,
            Err(e) => {
                errors.add(e.to_string(), key);
                continue;
            }
        };
        match crypto::decrypt(ring, &bytes, &label, &mut hint) {
            Ok(mut plain) => {
                out.0.insert(key.clone(), std::mem::take(&mut *plain));
            }
            Err(e) => errors.add(e.to_string(), key),
        }
    }
    if errors.0.is_empty() {
        Ok(out)
    } else {
        Err(UnsealError::Items(errors))
    }
}

/// Unseals into the Secret the controller should create: template metadata with the
/// SealedSecret's name and namespace, type, immutable, decrypted items, rendered template data,
/// and a controller ownerReference unless the template asks to skip it.
pub fn unseal(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
) -> Result<Secret, UnsealError> {
    unseal_with(sealed, ring, options, &mut || {})
}

/// [`unseal`], calling `between_items` before each RSA-costing item (see
/// [`decrypt_items_with`]).
pub fn unseal_with(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
    between_items: &mut dyn FnMut(),
) -> Result<Secret, UnsealError> {
    precheck(sealed)?;
    let name = sealed.metadata.name.clone().unwrap_or_default();
    let template = sealed.spec.template.clone().unwrap_or_default();
    let mut metadata = template.metadata;

    let (mut items, v1_secret) = match &sealed.spec.data {
        Some(blob) if !blob.0.is_empty() => {
            if !sealed.spec.encrypted_data.is_empty() {
                return Err(UnsealError::BothDataFormats);
            }
            if !options.accept_v1_data {
                return Err(UnsealError::V1DataRefused);
            }
            let v1 = unseal_v1(sealed, &name, ring, &blob.0)?;
            (Plaintext::default(), Some(v1))
        }
        _ => (decrypt_items_with(sealed, ring, between_items)?, None),
    };

    let mut secret_type = template.type_;
    let mut immutable = template.immutable;
    if let Some(v1) = v1_secret {
        // The v1 format carries the whole Secret; its metadata stands in for the template's.
        metadata = v1.metadata;
        secret_type = v1.type_.or(secret_type);
        immutable = v1.immutable.or(immutable);
        items.0 = v1
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
    }

    // One budget for all values: many small templates cannot add up to a large cost.
    let mut budget = template::Budget::per_object();
    let mut rendered = BTreeMap::new();
    for (key, tpl) in template.data.iter().flatten() {
        let value = template::render_within(tpl, items.items(), &mut budget).map_err(|e| {
            UnsealError::Template {
                key: key.clone(),
                error: e.into(),
            }
        })?;
        rendered.insert(key.clone(), value);
    }
    items.0.extend(rendered);
    let size = items.0.values().map(Vec::len).sum();
    if size > MAX_SECRET_DATA {
        return Err(UnsealError::TooLarge { size });
    }

    metadata.name = Some(name.clone());
    metadata.namespace = sealed.metadata.namespace.clone();
    let skip_owner = metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(SKIP_SET_OWNER_REFERENCES))
        .is_some_and(|v| v == "true");
    metadata.owner_references = if skip_owner {
        None
    } else {
        Some(vec![owner_reference(sealed, &name)])
    };
    clear_server_fields(&mut metadata);

    Ok(Secret {
        metadata,
        type_: secret_type,
        immutable,
        data: Some(items.into_secret_data()),
        ..Secret::default()
    })
}

/// The controller ownerReference the reference sets (no blockOwnerDeletion).
pub fn owner_reference(sealed: &SealedSecret, name: &str) -> OwnerReference {
    OwnerReference {
        api_version: "bitnami.com/v1alpha1".to_owned(),
        kind: "SealedSecret".to_owned(),
        name: name.to_owned(),
        uid: sealed.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: None,
    }
}

fn clear_server_fields(meta: &mut ObjectMeta) {
    meta.uid = None;
    meta.resource_version = None;
    meta.generation = None;
    meta.creation_timestamp = None;
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.managed_fields = None;
    meta.self_link = None;
}

fn unseal_v1(
    sealed: &SealedSecret,
    name: &str,
    ring: &KeyRing,
    blob: &[u8],
) -> Result<Secret, UnsealError> {
    let namespace = sealed.metadata.namespace.as_deref().unwrap_or_default();
    let label = scope_of(sealed).label(namespace, name);
    let plain = crypto::decrypt(ring, blob, &label, &mut None)
        .map_err(|e: DecryptError| UnsealError::V1Data(e.to_string()))?;
    serde_json::from_slice::<Secret>(&plain)
        .map_err(|_| UnsealError::V1Data("decrypted blob is not a Secret".into()))
}
