//! The hybrid scheme of one value: RSA-OAEP (SHA-256, MGF1-SHA-256, scope label) around a fresh
//! AES-256-GCM key, zero nonce, no associated data, as the reference does.
//!
//! Sealing wraps the session key with aws-lc-rs, which draws the OAEP seed from its own RNG and is
//! about 3.6x faster than the `rsa` crate here; [`encrypt_with_seed_from`] uses the `rsa` crate
//! instead so the caller's RNG draws the seed too, which is what reproduces the reference's
//! deterministic vector byte for byte. Unsealing uses aws-lc-rs, which is constant-time and
//! several times faster on the private-key operation.

use aes_gcm::aead::{Aead as _, KeyInit as _};
use aes_gcm::{Aes256Gcm, Nonce};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::keys::{KeyRing, PrivateKey, PublicKey};
use crate::scope::Label;
use crate::wire;

const SESSION_KEY_LEN: usize = 32;

/// Sealing failed. Happens only for a broken RNG or key.
#[derive(Debug, thiserror::Error)]
pub enum EncryptError {
    #[error("RSA-OAEP encryption failed")]
    Rsa,
    #[error("AES-GCM encryption failed")]
    Aes,
}

/// Unsealing failed. Deliberately one opaque case for every key, label and tamper failure,
/// so the answer is no oracle.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecryptError {
    #[error("no key could decrypt secret")]
    NoKeyCouldDecrypt,
    #[error("SealedSecret data is too short")]
    TooShort,
}

/// Seals one plaintext for `public_key` and `label`, returning raw bytes (not base64). The
/// session key comes from `rng`; the OAEP seed from aws-lc-rs's own RNG.
pub fn encrypt<R: CryptoRng + ?Sized>(
    rng: &mut R,
    public_key: &PublicKey,
    plaintext: &[u8],
    label: &Label,
) -> Result<Vec<u8>, EncryptError> {
    let session_key = session_key(rng);
    let aws = public_key.aws();
    let mut wrapped = vec![0u8; aws.ciphertext_size()];
    let n = aws
        .encrypt(
            &aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256,
            session_key.as_ref(),
            &mut wrapped,
            Some(label.as_bytes()),
        )
        .map_err(|_| EncryptError::Rsa)?
        .len();
    wrapped.truncate(n);
    finish(&session_key, &wrapped, plaintext)
}

/// Like [`encrypt`], but `rng` also draws the OAEP seed (through the `rsa` crate), so a fixed
/// stream gives a fixed ciphertext: session key first, then seed, as the reference reads them.
pub fn encrypt_with_seed_from<R: CryptoRng + ?Sized>(
    rng: &mut R,
    public_key: &PublicKey,
    plaintext: &[u8],
    label: &Label,
) -> Result<Vec<u8>, EncryptError> {
    let session_key = session_key(rng);
    let padding = rsa::Oaep::<sha2::Sha256>::new_with_label(label.as_bytes());
    let wrapped = public_key
        .rsa()
        .encrypt(rng, padding, session_key.as_ref())
        .map_err(|_| EncryptError::Rsa)?;
    finish(&session_key, &wrapped, plaintext)
}

fn session_key<R: CryptoRng + ?Sized>(rng: &mut R) -> Zeroizing<[u8; SESSION_KEY_LEN]> {
    let mut key = Zeroizing::new([0u8; SESSION_KEY_LEN]);
    rng.fill_bytes(key.as_mut());
    key
}

/// AES-256-GCM with the zero nonce (each session key seals once), then the wire layout.
fn finish(
    session_key: &[u8; SESSION_KEY_LEN],
    wrapped: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    let cipher = Aes256Gcm::new_from_slice(session_key).map_err(|_| EncryptError::Aes)?;
    let sealed = cipher
        .encrypt(&Nonce::default(), plaintext)
        .map_err(|_| EncryptError::Aes)?;
    Ok(wire::join(wrapped, &sealed))
}

/// Opens one sealed value with one key; `None` on any failure.
fn decrypt_with(
    key: &PrivateKey,
    parts: &wire::Parts<'_>,
    label: &Label,
) -> Option<Zeroizing<Vec<u8>>> {
    let decrypting = key.decrypting();
    if parts.wrapped_key.len() != decrypting.key_size_bytes() {
        return None;
    }
    let mut buf = Zeroizing::new(vec![0u8; decrypting.min_output_size()]);
    let session_key = decrypting
        .decrypt(
            &aws_lc_rs::rsa::OAEP_SHA256_MGF1SHA256,
            parts.wrapped_key,
            buf.as_mut_slice(),
            Some(label.as_bytes()),
        )
        .ok()?;
    let cipher = Aes256Gcm::new_from_slice(session_key).ok()?;
    cipher
        .decrypt(&Nonce::default(), parts.sealed)
        .ok()
        .map(Zeroizing::new)
}

/// Opens one sealed value (raw bytes) with whichever key of the ring fits.
///
/// `hint` is the index of the key that opened a previous item of the same object; it is tried
/// first, which turns the reference's O(keys x items) into O(keys + items) in the usual case.
/// On success it is updated to the key that worked.
pub fn decrypt(
    ring: &KeyRing,
    sealed: &[u8],
    label: &Label,
    hint: &mut Option<usize>,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let mut order = KeyOrder {
        first: hint.iter().copied().collect(),
        ..KeyOrder::default()
    };
    let plain = decrypt_in_order(ring, sealed, label, &mut order)?;
    *hint = order.first.first().copied();
    Ok(plain)
}

/// The order in which one object's values try the keys of a ring, and what they cost: keys that
/// opened earlier values, or that were recorded for the object the last time it was unsealed,
/// go first. So an object costs one RSA operation per value in the usual case, however many
/// keys the ring holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyOrder {
    /// Ring indices to try first, the latest success at the front.
    first: Vec<usize>,
    /// Ring indices of the keys that opened a value.
    pub opened_by: std::collections::BTreeSet<usize>,
    /// RSA private-key operations done: one per key tried on a value.
    pub rsa_operations: u64,
}

impl KeyOrder {
    /// Tries the keys with these fingerprints first, in this order; unknown ones are ignored.
    pub fn preferring<S: AsRef<str>>(ring: &KeyRing, fingerprints: &[S]) -> KeyOrder {
        let mut first = Vec::new();
        for fp in fingerprints {
            if let Some(i) = ring
                .keys()
                .iter()
                .position(|k| k.fingerprint() == fp.as_ref())
                && !first.contains(&i)
            {
                first.push(i);
            }
        }
        KeyOrder {
            first,
            ..KeyOrder::default()
        }
    }
}

/// [`decrypt`], trying the keys in `order` and recording which one opened the value.
pub fn decrypt_in_order(
    ring: &KeyRing,
    sealed: &[u8],
    label: &Label,
    order: &mut KeyOrder,
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let parts = wire::split(sealed).map_err(|_| DecryptError::TooShort)?;
    let keys = ring.keys();
    order.first.retain(|i| *i < keys.len());
    let preferred = order.first.clone();
    let rest = (0..keys.len()).filter(|i| !preferred.contains(i));
    for i in preferred.iter().copied().chain(rest) {
        if parts.wrapped_key.len() != keys[i].decrypting().key_size_bytes() {
            continue;
        }
        order.rsa_operations += 1;
        if let Some(plain) = decrypt_with(&keys[i], &parts, label) {
            order.first.retain(|j| *j != i);
            order.first.insert(0, i);
            order.opened_by.insert(i);
            return Ok(plain);
        }
    }
    Err(DecryptError::NoKeyCouldDecrypt)
}
