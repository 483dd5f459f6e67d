//! SealedSecret + key ring -> Secret, as the reference controller builds it; and, for the
//! controller's HTTP API, [`verify`] (does every item open?) and [`rotate`] (re-seal for the
//! newest key), which never render templates.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::ControlFlow;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use rand_core::CryptoRng;
use zeroize::Zeroize as _;

use crate::crypto::{self, DecryptError, EncryptError, KeyOrder};
use crate::keys::{KeyRing, PublicKey};
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

/// Decrypts every `encryptedData` item without rendering any template, naming the items that
/// fail (for the controller's own status). `/v1/verify` and `/v1/rotate` use [`verify`] and
/// [`rotate`] instead, which say nothing about which item failed.
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
    decrypt_items_in_order(sealed, ring, between_items, &mut KeyOrder::default())
}

fn decrypt_items_in_order(
    sealed: &SealedSecret,
    ring: &KeyRing,
    between_items: &mut dyn FnMut(),
    order: &mut KeyOrder,
) -> Result<Plaintext, UnsealError> {
    precheck(sealed)?;
    let name = sealed.metadata.name.as_deref().unwrap_or_default();
    let namespace = sealed.metadata.namespace.as_deref().unwrap_or_default();
    let label = scope_of(sealed).label(namespace, name);
    let mut out = Plaintext::default();
    let mut errors = ItemErrors::default();
    for (key, value) in &sealed.spec.encrypted_data {
        between_items();
        let bytes = match wire::decode(value) {
            Ok(b) => b,
            Err(e) => {
                errors.add(e.to_string(), key);
                continue;
            }
        };
        match crypto::decrypt_in_order(ring, &bytes, &label, order) {
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

/// What one unseal used of the ring: the fingerprints of the keys that opened its items (what
/// the controller records, so that the next generation tries them first and an admin can tell
/// which objects still need a key), and the RSA private-key operations it did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyUse {
    pub opened_by: BTreeSet<String>,
    pub rsa_operations: u64,
}

/// Unseals into the Secret the controller should create: template metadata with the
/// SealedSecret's name and namespace, type, immutable, decrypted items, rendered template data,
/// and a controller ownerReference unless the template asks to skip it.
pub fn unseal(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
) -> Result<Secret, UnsealError> {
    unseal_with(sealed, ring, options, &mut template::Hermetic, &mut || {})
}

/// [`unseal`] with the clock and randomness that templates may use (`env`: the caller's, so
/// this stays pure; random and time functions render once per generation, since a Secret
/// already unsealed from it is not written again), calling `between_items` before each
/// RSA-costing item (see [`decrypt_items_with`]).
pub fn unseal_with(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
    env: &mut dyn template::Env,
    between_items: &mut dyn FnMut(),
) -> Result<Secret, UnsealError> {
    unseal_preferring(sealed, ring, options, env, between_items, &[] as &[&str]).0
}

/// [`unseal_with`], trying first the keys with the `recorded` fingerprints (those that opened
/// the object last time), and saying which keys opened it and at what cost, also on failure.
pub fn unseal_preferring<S: AsRef<str>>(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
    env: &mut dyn template::Env,
    between_items: &mut dyn FnMut(),
    recorded: &[S],
) -> (Result<Secret, UnsealError>, KeyUse) {
    let mut order = KeyOrder::preferring(ring, recorded);
    let result = unseal_in_order(sealed, ring, options, env, between_items, &mut order);
    let opened_by = order
        .opened_by
        .iter()
        .filter_map(|i| ring.keys().get(*i))
        .map(|k| k.fingerprint().to_owned())
        .collect();
    let key_use = KeyUse {
        opened_by,
        rsa_operations: order.rsa_operations,
    };
    (result, key_use)
}

fn unseal_in_order(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
    env: &mut dyn template::Env,
    between_items: &mut dyn FnMut(),
    order: &mut KeyOrder,
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
        _ => (
            decrypt_items_in_order(sealed, ring, between_items, order)?,
            None,
        ),
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
        // Named by its key, as the reference names each template.
        let value =
            template::render_with(key, tpl, items.items(), &mut budget, env).map_err(|e| {
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

/// Why [`verify_with`] or [`rotate_with`] gave no answer. Deliberately coarse where it matters:
/// a decryption failure never says which item failed nor why, so the endpoints that use these
/// (`/v1/verify`, `/v1/rotate`, open to every user of the cluster) are no decryption oracle.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Refused before any RSA work: [`precheck`], both data formats, the v1 format turned off.
    /// Each says what is wrong with the object's shape, never anything about its plaintext.
    #[error(transparent)]
    Refused(UnsealError),
    /// Some sealed value does not open with any key of the ring. Nothing more is said.
    #[error("no key could decrypt the SealedSecret")]
    Undecryptable,
    /// `between_items` asked to stop before every value was opened.
    #[error("stopped before every item was decrypted")]
    Stopped,
    /// Sealing a value again failed (only a broken RNG or key does that).
    #[error("re-sealing failed: {0}")]
    Reseal(EncryptError),
}

/// One sealed value of an object: the v1 `spec.data` blob, or an `encryptedData` item.
enum Value<'a> {
    V1(&'a [u8]),
    Item(&'a str, &'a str),
}

/// What [`open_each`] does with each value it opened: the value, the index of the key that
/// opened it, the plaintext.
type OnOpened<'f> = dyn FnMut(Value<'_>, usize, &[u8]) -> Result<(), CheckError> + 'f;

/// Opens every sealed value of `sealed` with `ring`, in order, and hands each to `each` with
/// the index (in `ring.keys()`) of the key that opened it. Renders no template, ever: the
/// template is not covered by the OAEP label, so rendering an attacker's template over a
/// victim's items would leak the plaintext through success or failure. Stops at the first
/// value no key opens. `between_items` runs before each value's RSA work.
fn open_each(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
    between_items: &mut dyn FnMut() -> ControlFlow<()>,
    each: &mut OnOpened<'_>,
) -> Result<(), CheckError> {
    precheck(sealed).map_err(CheckError::Refused)?;
    let name = sealed.metadata.name.as_deref().unwrap_or_default();
    let namespace = sealed.metadata.namespace.as_deref().unwrap_or_default();
    // The scope of the object's own metadata, never the template's (CVE-2026-22728).
    let label = scope_of(sealed).label(namespace, name);
    let mut hint = None;
    if let Some(blob) = sealed.spec.data.as_ref().filter(|b| !b.0.is_empty()) {
        if !sealed.spec.encrypted_data.is_empty() {
            return Err(CheckError::Refused(UnsealError::BothDataFormats));
        }
        if !options.accept_v1_data {
            return Err(CheckError::Refused(UnsealError::V1DataRefused));
        }
        if between_items().is_break() {
            return Err(CheckError::Stopped);
        }
        let plain = crypto::decrypt(ring, &blob.0, &label, &mut hint)
            .map_err(|_| CheckError::Undecryptable)?;
        // The controller would refuse a blob that is not a Secret: so do these.
        let secret =
            serde_json::from_slice::<Secret>(&plain).map_err(|_| CheckError::Undecryptable)?;
        wipe(secret);
        let index = hint.expect("set on success");
        return each(Value::V1(&blob.0), index, &plain);
    }
    for (key, value) in &sealed.spec.encrypted_data {
        if between_items().is_break() {
            return Err(CheckError::Stopped);
        }
        let bytes = wire::decode(value).map_err(|_| CheckError::Undecryptable)?;
        let plain = crypto::decrypt(ring, &bytes, &label, &mut hint)
            .map_err(|_| CheckError::Undecryptable)?;
        let index = hint.expect("set on success");
        each(Value::Item(key, value), index, &plain)?;
    }
    Ok(())
}

/// Zeroizes the values of a Secret parsed from a decrypted v1 blob.
fn wipe(mut secret: Secret) {
    for v in secret.data.iter_mut().flat_map(|d| d.values_mut()) {
        v.0.zeroize();
    }
    for v in secret.string_data.iter_mut().flat_map(|d| d.values_mut()) {
        v.zeroize();
    }
}

/// Whether every sealed value of `sealed` opens with some key of `ring`: what `/v1/verify`
/// answers. No template is rendered (see [`open_each`]); [`precheck`] runs first.
pub fn verify(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
) -> Result<(), CheckError> {
    verify_with(sealed, ring, options, &mut || ControlFlow::Continue(()))
}

/// [`verify`], calling `between_items` before each value's RSA work; it may stop the work
/// ([`CheckError::Stopped`]), e.g. past a deadline.
pub fn verify_with(
    sealed: &SealedSecret,
    ring: &KeyRing,
    options: UnsealOptions,
    between_items: &mut dyn FnMut() -> ControlFlow<()>,
) -> Result<(), CheckError> {
    open_each(sealed, ring, options, between_items, &mut |_, _, _| Ok(()))
}

/// `sealed` re-encrypted for `newest` (the controller's sealing key), as `/v1/rotate` returns
/// it, without Git churn: a value that `newest` already opens comes back byte for byte as it
/// was; only values opened by another key of the ring are sealed again, for `newest`, with the
/// same OAEP label. The label comes from the object's own metadata only (never the
/// template's, CVE-2026-22728), and the metadata, template and scope come back unchanged, so
/// the scope is kept. `status` is dropped (the server's, not the user's). No template is
/// rendered, and nothing is decrypted before [`precheck`] passes. Every plaintext is zeroized
/// as soon as its value is sealed again.
pub fn rotate<R: CryptoRng + ?Sized>(
    sealed: &SealedSecret,
    ring: &KeyRing,
    newest: &PublicKey,
    options: UnsealOptions,
    rng: &mut R,
) -> Result<SealedSecret, CheckError> {
    rotate_with(sealed, ring, newest, options, rng, &mut || {
        ControlFlow::Continue(())
    })
}

/// [`rotate`], calling `between_items` before each value's RSA work (see [`verify_with`]).
pub fn rotate_with<R: CryptoRng + ?Sized>(
    sealed: &SealedSecret,
    ring: &KeyRing,
    newest: &PublicKey,
    options: UnsealOptions,
    rng: &mut R,
    between_items: &mut dyn FnMut() -> ControlFlow<()>,
) -> Result<SealedSecret, CheckError> {
    let newest_fingerprint = newest.fingerprint();
    let newest_index = ring
        .keys()
        .iter()
        .position(|k| k.fingerprint() == newest_fingerprint);
    let name = sealed.metadata.name.as_deref().unwrap_or_default();
    let namespace = sealed.metadata.namespace.as_deref().unwrap_or_default();
    let label = scope_of(sealed).label(namespace, name);
    let mut out = sealed.clone();
    out.status = None;
    let mut items = BTreeMap::new();
    let mut v1 = None;
    open_each(
        sealed,
        ring,
        options,
        between_items,
        &mut |value, index, plain| {
            let keep = Some(index) == newest_index;
            match value {
                Value::Item(key, text) => {
                    let text = if keep {
                        text.to_owned()
                    } else {
                        let bytes = crypto::encrypt(rng, newest, plain, &label)
                            .map_err(CheckError::Reseal)?;
                        wire::encode(&bytes)
                    };
                    items.insert(key.to_owned(), text);
                }
                Value::V1(blob) => {
                    v1 = Some(if keep {
                        blob.to_vec()
                    } else {
                        crypto::encrypt(rng, newest, plain, &label).map_err(CheckError::Reseal)?
                    });
                }
            }
            Ok(())
        },
    )?;
    if let Some(blob) = v1 {
        out.spec.data = Some(ByteString(blob));
    } else {
        out.spec.encrypted_data = items;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use k8s_openapi::ByteString;

    use super::*;
    use crate::keys::{KeySize, PrivateKey, generate};
    use crate::marks::CLUSTER_WIDE;

    const OLD_KEY: &str = include_str!("../tests/vectors/sealing-key.pem");

    /// The vector key (older) and a generated one (newest), newest first as the controller
    /// orders them; plus a stranger key that is in no ring.
    struct Keys {
        ring: KeyRing,
        newest: PrivateKey,
        old: PrivateKey,
        stranger: PrivateKey,
    }

    fn keys() -> &'static Keys {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        KEYS.get_or_init(|| {
            let fresh = || {
                generate(
                    KeySize::Rsa2048,
                    time::OffsetDateTime::now_utc(),
                    std::time::Duration::from_secs(3600),
                    "",
                    [7; 16],
                )
                .unwrap()
                .key
            };
            let newest = fresh();
            let old = PrivateKey::from_pem(OLD_KEY).unwrap();
            Keys {
                ring: KeyRing::new(vec![
                    PrivateKey::from_pem(&newest.to_pkcs1_pem().unwrap()).unwrap(),
                    PrivateKey::from_pem(OLD_KEY).unwrap(),
                ]),
                newest,
                old,
                stranger: fresh(),
            }
        })
    }

    fn secret(ns: &str, name: &str, scope: Scope, items: &[(&str, &str)]) -> Secret {
        let mut annotations = BTreeMap::new();
        scope.apply_to(&mut annotations);
        Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                annotations: Some(annotations).filter(|a| !a.is_empty()),
                ..ObjectMeta::default()
            },
            data: Some(
                items
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Secret::default()
        }
    }

    /// Items sealed for strict `ns/name`, each with the key given beside it.
    fn sealed_with(ns: &str, name: &str, items: &[(&str, &str, &PrivateKey)]) -> SealedSecret {
        let mut out: Option<SealedSecret> = None;
        for (k, v, key) in items {
            let one = crate::seal::seal(
                &secret(ns, name, Scope::Strict, &[(k, v)]),
                key.public_key(),
                &mut rand::rng(),
            )
            .unwrap();
            match &mut out {
                None => out = Some(one),
                Some(o) => o.spec.encrypted_data.extend(one.spec.encrypted_data),
            }
        }
        out.unwrap()
    }

    fn plain(secret: &Secret) -> BTreeMap<String, String> {
        secret
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), String::from_utf8(v.0.clone()).unwrap()))
            .collect()
    }

    fn go_on() -> impl FnMut() -> ControlFlow<()> {
        || ControlFlow::Continue(())
    }

    #[test]
    fn rotate_keeps_items_on_the_newest_key_and_reseals_the_others() {
        let k = keys();
        let ss = sealed_with(
            "ns",
            "app",
            &[
                ("kept", "on-the-newest", &k.newest),
                ("moved", "on-the-old", &k.old),
            ],
        );
        let mut with_status = ss.clone();
        with_status.status = Some(crate::SealedSecretStatus::default());
        let rotated = rotate(
            &with_status,
            &k.ring,
            k.newest.public_key(),
            UnsealOptions::default(),
            &mut rand::rng(),
        )
        .unwrap();
        let items = &rotated.spec.encrypted_data;
        assert_eq!(items["kept"], ss.spec.encrypted_data["kept"], "no churn");
        assert_ne!(items["moved"], ss.spec.encrypted_data["moved"]);
        assert_eq!(rotated.metadata, ss.metadata);
        assert_eq!(rotated.spec.template, ss.spec.template);
        assert!(rotated.status.is_none());
        // The re-sealed item opens with the newest key alone.
        let newest_only = KeyRing::new(vec![
            PrivateKey::from_pem(&k.newest.to_pkcs1_pem().unwrap()).unwrap(),
        ]);
        let out = unseal(&rotated, &newest_only, UnsealOptions::default()).unwrap();
        assert_eq!(
            plain(&out),
            BTreeMap::from([
                ("kept".to_owned(), "on-the-newest".to_owned()),
                ("moved".to_owned(), "on-the-old".to_owned()),
            ])
        );
        // Rotating again changes nothing at all.
        let again = rotate(
            &rotated,
            &k.ring,
            k.newest.public_key(),
            UnsealOptions::default(),
            &mut rand::rng(),
        )
        .unwrap();
        assert_eq!(again.metadata, rotated.metadata);
        assert_eq!(again.spec, rotated.spec);
    }

    /// CVE-2026-22728: a strict SealedSecret whose template claims cluster-wide. The reference
    /// re-sealed with the template's scope, giving back a copy that unseals anywhere.
    #[test]
    fn rotate_keeps_the_object_scope_whatever_the_template_says() {
        let k = keys();
        let mut ss = sealed_with("victim", "db", &[("password", "hunter2-cve", &k.old)]);
        let template = ss.spec.template.get_or_insert_with(Default::default);
        template
            .metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(CLUSTER_WIDE.to_owned(), "true".to_owned());
        let rotated = rotate(
            &ss,
            &k.ring,
            k.newest.public_key(),
            UnsealOptions::default(),
            &mut rand::rng(),
        )
        .unwrap();
        assert_eq!(scope_of(&rotated), Scope::Strict);
        assert_eq!(rotated.metadata, ss.metadata, "the outer metadata is kept");
        assert_ne!(
            rotated.spec.encrypted_data["password"],
            ss.spec.encrypted_data["password"]
        );
        // It unseals where it is...
        let here = unseal(&rotated, &k.ring, UnsealOptions::default()).unwrap();
        assert_eq!(plain(&here)["password"], "hunter2-cve");
        // ...and nowhere else: not under another name, nor as cluster-wide.
        let mut elsewhere = rotated.clone();
        elsewhere.metadata.namespace = Some("attacker".into());
        elsewhere.metadata.name = Some("loot".into());
        assert!(matches!(
            unseal(&elsewhere, &k.ring, UnsealOptions::default()),
            Err(UnsealError::Items(_))
        ));
        let mut wide = elsewhere.clone();
        Scope::ClusterWide.apply_to(wide.metadata.annotations.get_or_insert_with(BTreeMap::new));
        assert!(matches!(
            unseal(&wide, &k.ring, UnsealOptions::default()),
            Err(UnsealError::Items(_))
        ));
        assert!(matches!(
            verify(&elsewhere, &k.ring, UnsealOptions::default()),
            Err(CheckError::Undecryptable)
        ));
    }

    #[test]
    fn verify_opens_every_item_and_stops_at_the_first_that_fails() {
        let k = keys();
        let good = sealed_with(
            "ns",
            "app",
            &[("a", "one-aaaa", &k.newest), ("b", "two-bbbb", &k.old)],
        );
        verify(&good, &k.ring, UnsealOptions::default()).unwrap();
        let bad = sealed_with(
            "ns",
            "app",
            &[
                ("a", "one-aaaa", &k.stranger),
                ("b", "two-bbbb", &k.newest),
                ("c", "three-cc", &k.newest),
            ],
        );
        let mut calls = 0;
        let err = verify_with(&bad, &k.ring, UnsealOptions::default(), &mut || {
            calls += 1;
            ControlFlow::Continue(())
        })
        .unwrap_err();
        assert!(matches!(err, CheckError::Undecryptable), "{err:?}");
        assert_eq!(calls, 1, "no RSA work after the first failure");
        // The message names no item and no cause.
        let text = err.to_string();
        assert_eq!(text, "no key could decrypt the SealedSecret");
        // Broken base64 is the same answer.
        let mut broken = good.clone();
        broken.spec.encrypted_data.insert("z".into(), "%%%".into());
        assert!(matches!(
            verify(&broken, &k.ring, UnsealOptions::default()),
            Err(CheckError::Undecryptable)
        ));
        assert!(matches!(
            rotate(
                &bad,
                &k.ring,
                k.newest.public_key(),
                UnsealOptions::default(),
                &mut rand::rng()
            ),
            Err(CheckError::Undecryptable)
        ));
    }

    /// The template is never rendered: one that cannot render, or that would tell the items'
    /// values apart, changes nothing.
    #[test]
    fn templates_are_never_rendered() {
        let k = keys();
        let mut ss = sealed_with("ns", "app", &[("a", "one-aaaa", &k.old)]);
        let template = ss.spec.template.get_or_insert_with(Default::default);
        template.data = Some(BTreeMap::from([
            ("bad".to_owned(), "{{ fail \"no\" }}".to_owned()),
            (
                "oracle".to_owned(),
                "{{ if eq .a \"one-aaaa\" }}x{{ end }}".to_owned(),
            ),
            ("broken".to_owned(), "{{ .a ".to_owned()),
        ]));
        assert!(matches!(
            unseal(&ss, &k.ring, UnsealOptions::default()),
            Err(UnsealError::Template { .. })
        ));
        verify(&ss, &k.ring, UnsealOptions::default()).unwrap();
        let rotated = rotate(
            &ss,
            &k.ring,
            k.newest.public_key(),
            UnsealOptions::default(),
            &mut rand::rng(),
        )
        .unwrap();
        assert_eq!(rotated.spec.template, ss.spec.template, "kept as it was");
    }

    #[test]
    fn precheck_applies_before_any_rsa_work() {
        let k = keys();
        let mut ss = sealed_with("ns", "app", &[("a", "one-aaaa", &k.newest)]);
        let value = ss.spec.encrypted_data["a"].clone();
        for i in 0..MAX_ITEMS {
            ss.spec
                .encrypted_data
                .insert(format!("k{i}"), value.clone());
        }
        let mut calls = 0;
        let mut count = || {
            calls += 1;
            ControlFlow::Continue(())
        };
        let err = verify_with(&ss, &k.ring, UnsealOptions::default(), &mut count).unwrap_err();
        assert!(
            matches!(err, CheckError::Refused(UnsealError::TooManyItems { .. })),
            "{err:?}"
        );
        let mut ss = sealed_with("ns", "app", &[("a", "one-aaaa", &k.newest)]);
        ss.spec.encrypted_data.insert("bad/key".into(), value);
        let err = rotate_with(
            &ss,
            &k.ring,
            k.newest.public_key(),
            UnsealOptions::default(),
            &mut rand::rng(),
            &mut count,
        )
        .unwrap_err();
        assert!(
            matches!(err, CheckError::Refused(UnsealError::InvalidKey { .. })),
            "{err:?}"
        );
        assert_eq!(calls, 0);
    }

    #[test]
    fn between_items_can_stop_the_work() {
        let k = keys();
        let ss = sealed_with(
            "ns",
            "app",
            &[("a", "one-aaaa", &k.newest), ("b", "two-bbbb", &k.old)],
        );
        let mut calls = 0;
        let err = verify_with(&ss, &k.ring, UnsealOptions::default(), &mut || {
            calls += 1;
            if calls > 1 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap_err();
        assert!(matches!(err, CheckError::Stopped), "{err:?}");
        verify_with(&ss, &k.ring, UnsealOptions::default(), &mut go_on()).unwrap();
    }

    /// The deprecated v1 format: the whole Secret in `spec.data`, re-sealed as one blob.
    #[test]
    fn v1_blobs_are_verified_and_rotated_as_one_value() {
        let k = keys();
        let inner = secret("ns", "v1", Scope::Strict, &[("a", "v1-plain-aaaa")]);
        let json = serde_json::to_vec(&inner).unwrap();
        let label = Scope::Strict.label("ns", "v1");
        let blob = crypto::encrypt(&mut rand::rng(), k.old.public_key(), &json, &label).unwrap();
        let ss = SealedSecret {
            metadata: ObjectMeta {
                name: Some("v1".into()),
                namespace: Some("ns".into()),
                ..ObjectMeta::default()
            },
            spec: crate::SealedSecretSpec {
                data: Some(ByteString(blob.clone())),
                ..Default::default()
            },
            status: None,
        };
        verify(&ss, &k.ring, UnsealOptions::default()).unwrap();
        let refused = UnsealOptions {
            accept_v1_data: false,
        };
        assert!(matches!(
            verify(&ss, &k.ring, refused),
            Err(CheckError::Refused(UnsealError::V1DataRefused))
        ));
        let rotated = rotate(
            &ss,
            &k.ring,
            k.newest.public_key(),
            UnsealOptions::default(),
            &mut rand::rng(),
        )
        .unwrap();
        let new_blob = rotated.spec.data.clone().unwrap().0;
        assert_ne!(new_blob, blob);
        assert!(rotated.spec.encrypted_data.is_empty());
        let newest_only = KeyRing::new(vec![
            PrivateKey::from_pem(&k.newest.to_pkcs1_pem().unwrap()).unwrap(),
        ]);
        let out = unseal(&rotated, &newest_only, UnsealOptions::default()).unwrap();
        assert_eq!(plain(&out)["a"], "v1-plain-aaaa");
        let again = rotate(
            &rotated,
            &k.ring,
            k.newest.public_key(),
            UnsealOptions::default(),
            &mut rand::rng(),
        )
        .unwrap();
        assert_eq!(again.spec.data.unwrap().0, new_blob, "no churn");
        // A blob that opens but is not a Secret fails as the controller would.
        let junk = crypto::encrypt(&mut rand::rng(), k.old.public_key(), b"nope", &label).unwrap();
        let mut not_secret = ss.clone();
        not_secret.spec.data = Some(ByteString(junk));
        assert!(matches!(
            verify(&not_secret, &k.ring, UnsealOptions::default()),
            Err(CheckError::Undecryptable)
        ));
    }
}
