//! Public and private sealing keys: certificate and PEM parsing, key backups, fingerprints,
//! generation the way the reference controller does it, and the key ring used to unseal.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use rsa::pkcs8::der::{Decode as _, Encode as _};
use rsa::pkcs8::{DecodePublicKey as _, ObjectIdentifier};
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The rsaEncryption algorithm OID.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// What went wrong reading or making a key. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no PEM certificate found")]
    NoCertificate,
    #[error("invalid certificate: {0}")]
    Certificate(String),
    #[error("expected RSA public key but found {0}")]
    NotRsa(String),
    #[error("invalid RSA public key")]
    PublicKey,
    #[error(
        "no private key found: expected a PEM RSA private key, a Secret with tls.key, or a List of such Secrets"
    )]
    NoPrivateKey,
    #[error("invalid private key in {0}")]
    PrivateKey(String),
    #[error("secret {0} must contain a 'tls.key' key")]
    MissingTlsKey(String),
    #[error("key generation failed: {0}")]
    Generate(String),
}

/// An RSA public key that seals values: the same key for aws-lc-rs (fast sealing) and for the
/// `rsa` crate (sealing with a caller-drawn OAEP seed, and the fingerprint).
#[derive(Clone)]
pub struct PublicKey {
    rsa: rsa::PublicKey,
    aws: Arc<OaepPublicEncryptingKey>,
}

impl PublicKey {
    /// From a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, KeyError> {
        let rsa = rsa::PublicKey::from_public_key_der(der).map_err(|_| KeyError::PublicKey)?;
        let aws = PublicEncryptingKey::from_der(der)
            .ok()
            .and_then(|k| OaepPublicEncryptingKey::new(k).ok())
            .ok_or(KeyError::PublicKey)?;
        Ok(PublicKey {
            rsa,
            aws: Arc::new(aws),
        })
    }

    pub(crate) fn rsa(&self) -> &rsa::PublicKey {
        &self.rsa
    }

    pub(crate) fn aws(&self) -> &OaepPublicEncryptingKey {
        &self.aws
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.rsa.size() * 8
    }

    /// OpenSSH-style `SHA256:<unpadded base64>` of the ssh-rsa wire encoding, as the reference
    /// uses for its key registry.
    pub fn fingerprint(&self) -> String {
        fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
            let len = u32::try_from(bytes.len()).expect("ssh field under 4 GiB");
            buf.extend_from_slice(&len.to_be_bytes());
            buf.extend_from_slice(bytes);
        }
        // An SSH mpint is big-endian, minimal, with a leading zero if the top bit is set.
        fn mpint(bytes: &[u8]) -> Vec<u8> {
            let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
                Some(i) => &bytes[i..],
                None => &[],
            };
            let mut out = Vec::with_capacity(trimmed.len() + 1);
            if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
                out.push(0);
            }
            out.extend_from_slice(trimmed);
            out
        }
        let mut wire = Vec::new();
        put(&mut wire, b"ssh-rsa");
        put(&mut wire, &mpint(&self.rsa.e().to_be_bytes()));
        put(&mut wire, &mpint(&self.rsa.n().to_be_bytes()));
        format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(&wire)))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("bits", &self.bits())
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

/// A sealing certificate: the first certificate of a PEM file.
#[derive(Clone, Debug)]
pub struct Certificate {
    public_key: PublicKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl Certificate {
    /// Parses the first certificate of a PEM document. Only RSA keys are accepted.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, KeyError> {
        let certs = x509_cert::Certificate::load_pem_chain(pem).map_err(|e| {
            if std::str::from_utf8(pem).is_ok_and(|s| s.contains("-----BEGIN CERTIFICATE-----")) {
                KeyError::Certificate(e.to_string())
            } else {
                KeyError::NoCertificate
            }
        })?;
        let cert = certs.into_iter().next().ok_or(KeyError::NoCertificate)?;
        let tbs = cert.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        if spki.algorithm.oid != RSA_ENCRYPTION {
            return Err(KeyError::NotRsa(algorithm_name(spki.algorithm.oid)));
        }
        let der = spki
            .to_der()
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let public_key = PublicKey::from_spki_der(&der)?;
        let to_time = |t: x509_cert::time::Time| {
            OffsetDateTime::from_unix_timestamp(t.to_unix_duration().as_secs() as i64)
                .map_err(|e| KeyError::Certificate(e.to_string()))
        };
        Ok(Certificate {
            public_key,
            not_before: to_time(tbs.validity().not_before)?,
            not_after: to_time(tbs.validity().not_after)?,
        })
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether the certificate has expired at `now` (only expiry counts, as in kubeseal).
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now > self.not_after
    }
}

fn algorithm_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10045.2.1" => "ECDSA key".to_owned(),
        "1.3.101.112" => "Ed25519 key".to_owned(),
        "1.2.840.10040.4.1" => "DSA key".to_owned(),
        other => format!("key with algorithm {other}"),
    }
}

/// An RSA private key that unseals values. Decryption runs in aws-lc-rs, which is constant-time
/// (the `rsa` crate is not: RUSTSEC-2023-0071). Debug output is redacted.
pub struct PrivateKey {
    decrypting: OaepPrivateDecryptingKey,
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKey,
    fingerprint: String,
}

impl PrivateKey {
    /// From a DER PKCS#8 PrivateKeyInfo.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
        let key = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|_| KeyError::PrivateKey("PKCS#8 DER".into()))?;
        let spki = key.public_key().as_der().map_err(|_| KeyError::PublicKey)?;
        let public = PublicKey::from_spki_der(spki.as_ref())?;
        let decrypting = OaepPrivateDecryptingKey::new(key)
            .map_err(|_| KeyError::PrivateKey("PKCS#8 DER".into()))?;
        let fingerprint = public.fingerprint();
        Ok(PrivateKey {
            decrypting,
            pkcs8: Zeroizing::new(der.to_vec()),
            public,
            fingerprint,
        })
    }

    /// From a DER PKCS#1 RSAPrivateKey, the form the reference stores in `tls.key`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
        PrivateKey::from_pkcs8_der(&pkcs1_to_pkcs8(der)?)
    }

    /// From the first private key PEM block in `text` (PKCS#1 or PKCS#8).
    pub fn from_pem(text: &str) -> Result<PrivateKey, KeyError> {
        let mut keys = private_keys_from_pem(text)?;
        if keys.is_empty() {
            return Err(KeyError::NoPrivateKey);
        }
        Ok(keys.swap_remove(0))
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The public key's fingerprint, computed once.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub(crate) fn decrypting(&self) -> &OaepPrivateDecryptingKey {
        &self.decrypting
    }

    /// The key as PKCS#1 PEM (`RSA PRIVATE KEY`), as the reference writes `tls.key`.
    pub fn to_pkcs1_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let info = rsa::pkcs8::PrivateKeyInfoRef::from_der(&self.pkcs8)
            .map_err(|_| KeyError::PrivateKey("key encoding".into()))?;
        Ok(pem_encode("RSA PRIVATE KEY", info.private_key.as_bytes()))
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// Wraps a PKCS#1 RSAPrivateKey into a PKCS#8 PrivateKeyInfo (rsaEncryption, NULL parameters).
fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    use rsa::pkcs8::der::asn1::{AnyRef, OctetStringRef};
    let bad = || KeyError::PrivateKey("PKCS#1 DER".into());
    let octets = OctetStringRef::new(pkcs1).map_err(|_| bad())?;
    let info = rsa::pkcs8::PrivateKeyInfoRef::new(
        rsa::pkcs8::spki::AlgorithmIdentifier {
            oid: RSA_ENCRYPTION,
            parameters: Some(AnyRef::NULL),
        },
        octets,
    );
    info.to_der().map(Zeroizing::new).map_err(|_| bad())
}

fn pem_encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut out = Zeroizing::new(String::with_capacity(b64.len() + b64.len() / 64 + 64));
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Every `RSA PRIVATE KEY` and `PRIVATE KEY` block in a PEM text.
fn private_keys_from_pem(text: &str) -> Result<Vec<PrivateKey>, KeyError> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = after.find(&end_marker) else {
            return Err(KeyError::PrivateKey(format!(
                "PEM block {label:?} without its END line"
            )));
        };
        let body = &after[label_end + 5..end];
        rest = &after[end + end_marker.len()..];
        let der = || {
            let b64: Zeroizing<String> =
                Zeroizing::new(body.chars().filter(|c| !c.is_whitespace()).collect());
            STANDARD
                .decode(b64.as_bytes())
                .map(Zeroizing::new)
                .map_err(|_| KeyError::PrivateKey(format!("PEM block {label:?}")))
        };
        match label {
            "RSA PRIVATE KEY" => keys.push(PrivateKey::from_pkcs1_der(&der()?)?),
            "PRIVATE KEY" => keys.push(PrivateKey::from_pkcs8_der(&der()?)?),
            _ => {}
        }
    }
    Ok(keys)
}

/// Reads private keys from any of the shapes `kubeseal --recovery-private-key` takes: PEM
/// (PKCS#1 or PKCS#8, several blocks allowed), a Secret with `tls.key` in JSON or YAML, or a
/// `List` of such Secrets (what `kubectl get secret -l ... -o yaml` gives as a key backup).
pub fn parse_private_keys(input: &[u8]) -> Result<Vec<PrivateKey>, KeyError> {
    let text = std::str::from_utf8(input).map_err(|_| KeyError::NoPrivateKey)?;
    if text.contains("-----BEGIN ") {
        let keys = private_keys_from_pem(text)?;
        return if keys.is_empty() {
            Err(KeyError::NoPrivateKey)
        } else {
            Ok(keys)
        };
    }
    let mut docs: Vec<serde_json::Value> = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        docs.push(v);
    } else if let Ok(vs) = serde_saphyr::from_multiple::<serde_json::Value>(text) {
        docs.extend(vs);
    }
    let mut keys = Vec::new();
    for doc in docs {
        collect_secret_keys(&doc, &mut keys)?;
    }
    if keys.is_empty() {
        return Err(KeyError::NoPrivateKey);
    }
    Ok(keys)
}

fn collect_secret_keys(
    doc: &serde_json::Value,
    keys: &mut Vec<PrivateKey>,
) -> Result<(), KeyError> {
    match doc.get("kind").and_then(|k| k.as_str()) {
        Some(kind) if kind.ends_with("List") => {
            for item in doc
                .get("items")
                .and_then(|i| i.as_array())
                .into_iter()
                .flatten()
            {
                collect_secret_keys(item, keys)?;
            }
            Ok(())
        }
        Some("Secret") => {
            let name = doc
                .pointer("/metadata/name")
                .and_then(|n| n.as_str())
                .unwrap_or("(unnamed)")
                .to_owned();
            let data = doc.pointer("/data/tls.key").and_then(|v| v.as_str());
            let string_data = doc.pointer("/stringData/tls.key").and_then(|v| v.as_str());
            let pem = match (data, string_data) {
                (_, Some(s)) => Zeroizing::new(s.as_bytes().to_vec()),
                (Some(b64), None) => Zeroizing::new(STANDARD.decode(b64).map_err(|_| {
                    KeyError::PrivateKey(format!("secret {name}: tls.key is not base64"))
                })?),
                (None, None) => return Err(KeyError::MissingTlsKey(name)),
            };
            let pem = std::str::from_utf8(&pem)
                .map_err(|_| KeyError::PrivateKey(format!("secret {name}")))?;
            let found = private_keys_from_pem(pem)?;
            if found.is_empty() {
                return Err(KeyError::PrivateKey(format!("secret {name}")));
            }
            keys.extend(found);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A freshly generated key and its self-signed certificate, both PEM.
pub struct GeneratedKey {
    pub key: PrivateKey,
    pub cert_pem: String,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// RSA sizes key generation supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySize {
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl KeySize {
    pub fn from_bits(bits: u32) -> Option<KeySize> {
        match bits {
            2048 => Some(KeySize::Rsa2048),
            3072 => Some(KeySize::Rsa3072),
            4096 => Some(KeySize::Rsa4096),
            _ => None,
        }
    }
}

/// Generates a key and certificate the way the reference controller does: RSA, self-signed,
/// `not_before = now`, `not_after = now + ttl`, CN `common_name` (empty by default), CA,
/// KeyUsage EncipherOnly only, a 128-bit serial from `serial`, SHA256-RSA signature.
/// The prime generation happens in aws-lc-rs, which draws on its own vetted RNG.
pub fn generate(
    size: KeySize,
    now: OffsetDateTime,
    ttl: Duration,
    common_name: &str,
    serial: [u8; 16],
) -> Result<GeneratedKey, KeyError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyUsagePurpose,
        RsaKeySize, SerialNumber,
    };
    let gen_err = |e: rcgen::Error| KeyError::Generate(e.to_string());
    let rsa_size = match size {
        KeySize::Rsa2048 => RsaKeySize::_2048,
        KeySize::Rsa3072 => RsaKeySize::_3072,
        KeySize::Rsa4096 => RsaKeySize::_4096,
    };
    let signing =
        rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rsa_size).map_err(gen_err)?;
    let pkcs8 = Zeroizing::new(signing.serialize_der());
    let key = PrivateKey::from_pkcs8_der(&pkcs8)?;

    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    if !common_name.is_empty() {
        dn.push(DnType::CommonName, common_name);
    }
    params.distinguished_name = dn;
    // A positive serial: clear the top bit so DER needs no sign byte games.
    let mut serial = serial;
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.not_before = now;
    params.not_after = now + ttl;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::EncipherOnly];
    let cert = params.self_signed(&signing).map_err(gen_err)?;
    Ok(GeneratedKey {
        key,
        cert_pem: cert.pem(),
    })
}

/// The private keys that may unseal, newest first, each with its fingerprint.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<PrivateKey>,
}

impl KeyRing {
    /// A ring of `keys`, tried in the order given (put the newest first).
    pub fn new(keys: Vec<PrivateKey>) -> KeyRing {
        KeyRing { keys }
    }

    pub fn keys(&self) -> &[PrivateKey] {
        &self.keys
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_PEM: &str = include_str!("../tests/vectors/sealing-key.pem");
    const CERT_PEM: &str = include_str!("../tests/vectors/sealing-cert.pem");
    const KEY_SECRET: &str = include_str!("../tests/vectors/sealing-key-secret.yaml");
    const FINGERPRINT: &str = "SHA256:vRUsA+LbSDDdM85eha5nBMZtQln8q4BXhqZ8D37KvMM";

    #[test]
    fn certificate_and_key_agree_on_fingerprint() {
        let cert = Certificate::from_pem(CERT_PEM.as_bytes()).unwrap();
        assert_eq!(cert.public_key().fingerprint(), FINGERPRINT);
        assert_eq!(cert.public_key().bits(), 4096);
        let key = PrivateKey::from_pem(KEY_PEM).unwrap();
        assert_eq!(key.fingerprint(), FINGERPRINT);
        assert_eq!(cert.not_after().year(), 2036);
    }

    #[test]
    fn key_secret_and_list_shapes_parse() {
        let keys = parse_private_keys(KEY_SECRET.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].fingerprint(), FINGERPRINT);
        let secret: serde_json::Value = serde_saphyr::from_str(KEY_SECRET).unwrap();
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [secret.clone(), secret]});
        let keys = parse_private_keys(list.to_string().as_bytes()).unwrap();
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn pkcs1_round_trips_through_pem() {
        let key = PrivateKey::from_pem(KEY_PEM).unwrap();
        let pem = key.to_pkcs1_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        assert_eq!(
            PrivateKey::from_pem(&pem).unwrap().fingerprint(),
            FINGERPRINT
        );
    }

    #[test]
    fn debug_is_redacted() {
        let key = PrivateKey::from_pem(KEY_PEM).unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains(FINGERPRINT));
        assert!(debug.len() < 120, "{debug}");
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            Certificate::from_pem(b"hello"),
            Err(KeyError::NoCertificate)
        ));
        assert!(matches!(
            parse_private_keys(b"hello"),
            Err(KeyError::NoPrivateKey)
        ));
        let no_key = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: k\ndata:\n  tls.crt: AA==\n";
        assert!(
            matches!(parse_private_keys(no_key.as_bytes()), Err(KeyError::MissingTlsKey(n)) if n == "k")
        );
    }
}
