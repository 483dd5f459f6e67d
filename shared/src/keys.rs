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

/// What went wrong reading or making a key. Messages never contain key material: they say
/// what is wrong and where (a line number, a Secret's name), and quote nothing from the input
/// but a PEM label that passed [`PemLabel`]'s check. Errors of the DER, PKCS and crypto crates,
/// which may carry input bytes, are mapped to fixed texts. Every message is one line.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no PEM certificate found")]
    NoCertificate,
    #[error("invalid certificate: {0}")]
    Certificate(&'static str),
    #[error("expected RSA public key but found {0}")]
    NotRsa(String),
    #[error("invalid RSA public key")]
    PublicKey,
    #[error(
        "no private key found: expected a PEM RSA private key, a Secret with tls.key, or a List of such Secrets"
    )]
    NoPrivateKey,
    /// No usable key, and why the input did not hold one.
    #[error("no private key found: {0}")]
    NoPrivateKeyBecause(NoKeyReason),
    /// A PEM private key block is malformed.
    #[error("invalid PEM: {0}")]
    Pem(PemError),
    /// A private key block's contents are not a usable key.
    #[error("invalid private key in the PEM block at line {line}: {reason}")]
    PemKey { line: usize, reason: KeyDerError },
    /// DER given directly is not a usable key.
    #[error("invalid private key: {0}")]
    PrivateKey(KeyDerError),
    #[error("secret {0} must contain a 'tls.key' key")]
    MissingTlsKey(SecretName),
    #[error("tls.key is not a string")]
    TlsKeyNotString,
    #[error("tls.key in data is not valid base64")]
    TlsKeyNotBase64,
    /// A key Secret's `tls.key` could not be read; names the Secret.
    #[error("secret {name}: {error}")]
    InSecret {
        name: SecretName,
        error: Box<KeyError>,
    },
    #[error("key generation failed: {0}")]
    Generate(String),
}

/// A Secret's name as input gave it, shown only if it is a valid Kubernetes object name
/// (a DNS subdomain), so a damaged document cannot put arbitrary text into a message.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretName(Option<String>);

impl SecretName {
    fn new(name: Option<&str>) -> SecretName {
        let valid = |n: &str| {
            !n.is_empty()
                && n.len() <= 253
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                && n.starts_with(|c: char| c.is_ascii_alphanumeric())
                && n.ends_with(|c: char| c.is_ascii_alphanumeric())
        };
        SecretName(name.filter(|n| valid(n)).map(str::to_owned))
    }

    /// The name, if it was shown.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(name) => f.write_str(name),
            None => f.write_str("(without a valid name)"),
        }
    }
}

impl fmt::Debug for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretName({self})")
    }
}

impl PartialEq<&str> for SecretName {
    fn eq(&self, other: &&str) -> bool {
        self.0.as_deref() == Some(*other)
    }
}

/// A PEM label as it may be shown: only a short run of upper-case letters, digits, dots and
/// single spaces (`RSA PRIVATE KEY`). Anything else, which a damaged file may have put where
/// a label goes, is never shown. A shown label is at most 23 characters and a label without
/// a space is not base64 of that length either, so no 24-character run of a key body can pass.
#[derive(Clone, PartialEq, Eq)]
pub struct PemLabel(Option<String>);

const MAX_SHOWN_LABEL: usize = 23;

impl PemLabel {
    fn new(label: &str) -> PemLabel {
        let shown = !label.is_empty()
            && label.len() <= MAX_SHOWN_LABEL
            && label
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ' || b == b'.')
            && !label.starts_with(' ')
            && !label.ends_with(' ')
            && !label.contains("  ");
        PemLabel(shown.then(|| label.to_owned()))
    }
}

impl fmt::Display for PemLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(label) => write!(f, "\"{label}\""),
            None => f.write_str("(malformed, not shown)"),
        }
    }
}

impl fmt::Debug for PemLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PemLabel({self})")
    }
}

/// What is structurally wrong with a PEM text. Lines are numbered from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    #[error("line {line}: garbled BEGIN line (expected -----BEGIN <label>-----)")]
    GarbledBegin { line: usize },
    #[error("line {line}: text after the BEGIN line's closing dashes (are the line breaks lost?)")]
    TextAfterBegin { line: usize },
    #[error("line {line}: garbled END line (expected -----END <label>-----)")]
    GarbledEnd { line: usize },
    #[error("line {line}: garbled BEGIN or END line")]
    GarbledBoundary { line: usize },
    #[error("line {line}: END line without a BEGIN line")]
    EndWithoutBegin { line: usize },
    #[error("the block labelled {label} begun at line {line} has no END line")]
    MissingEnd { line: usize, label: PemLabel },
    #[error("line {line}: BEGIN line inside the block begun at line {open}, which has no END line")]
    BeginInBlock { line: usize, open: usize },
    #[error("line {line}: END label {end} does not match the BEGIN label {begin} of line {open}")]
    LabelMismatch {
        line: usize,
        open: usize,
        begin: PemLabel,
        end: PemLabel,
    },
    #[error(
        "line {line}: PEM headers (an encrypted key?) are not supported: decrypt the key first"
    )]
    Headers { line: usize },
    #[error("line {line}: bad base64 in the body of the block begun at line {open}")]
    BadBase64 { line: usize, open: usize },
    #[error("line {line}: misplaced '=' padding in the body of the block begun at line {open}")]
    MisplacedPadding { line: usize, open: usize },
    #[error(
        "the body of the block begun at line {open} is not whole base64 (a character missing or extra, or bad padding)"
    )]
    BadBase64Length { open: usize },
    #[error("the block begun at line {open} has an empty body")]
    EmptyBody { open: usize },
}

/// Why an input held no usable private key although it was read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoKeyReason {
    /// A structural problem outside any key block, e.g. a garbled BEGIN line.
    #[error("{0}")]
    Pem(PemError),
    #[error("line {line}: an encrypted key (ENCRYPTED PRIVATE KEY): decrypt it first")]
    Encrypted { line: usize },
    #[error(
        "line {line}: the block labelled {label} is not an RSA private key (only RSA keys are supported)"
    )]
    NotRsa { line: usize, label: PemLabel },
    #[error(
        "the PEM blocks found hold no private key (the first, at line {line}, is labelled {label})"
    )]
    OtherBlocks { line: usize, label: PemLabel },
    #[error("tls.key holds no PEM block")]
    NoPemBlock,
}

/// What is wrong with the DER contents of a private key block. Fixed texts: the parsers'
/// own errors are never passed on, as they may quote input bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyDerError {
    #[error("not a PKCS#1 RSAPrivateKey (the DER does not parse)")]
    Pkcs1,
    #[error("not a PKCS#8 PrivateKeyInfo (the DER does not parse)")]
    Pkcs8,
    #[error("labelled RSA PRIVATE KEY (PKCS#1) but holds a PKCS#8 key: label it PRIVATE KEY")]
    Pkcs8InPkcs1Block,
    #[error("labelled PRIVATE KEY (PKCS#8) but holds a PKCS#1 key: label it RSA PRIVATE KEY")]
    Pkcs1InPkcs8Block,
    #[error("the key inside the PKCS#8 wrapper is not a PKCS#1 RSAPrivateKey")]
    Pkcs1InPkcs8,
    #[error("the PKCS#8 wrapper is not accepted (its version or algorithm parameters)")]
    Pkcs8Wrapper,
    #[error("not an RSA key: the PKCS#8 algorithm is {0}")]
    NotRsa(&'static str),
    #[error("multi-prime RSA keys are not supported")]
    MultiPrime,
    #[error("an RSA key of {bits} bits: supported are 2048 to 8192")]
    Size { bits: usize },
    #[error("the RSA key is rejected: its numbers are inconsistent (a damaged key?)")]
    Rejected,
    #[error("the key cannot be encoded")]
    Encoding,
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
        // The parsers' errors are mapped to fixed texts: they may quote input bytes.
        let certs = x509_cert::Certificate::load_pem_chain(pem).map_err(|e| {
            if std::str::from_utf8(pem).is_ok_and(|s| s.contains("-----BEGIN CERTIFICATE-----")) {
                KeyError::Certificate(match e.kind() {
                    rsa::pkcs8::der::ErrorKind::Pem(_) => "the PEM does not parse",
                    _ => "the DER does not parse",
                })
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
            .map_err(|_| KeyError::Certificate("the public key cannot be encoded"))?;
        let public_key = PublicKey::from_spki_der(&der)?;
        let to_time = |t: x509_cert::time::Time| {
            OffsetDateTime::from_unix_timestamp(t.to_unix_duration().as_secs() as i64)
                .map_err(|_| KeyError::Certificate("a validity time is out of range"))
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
        pkcs8_key(der).map_err(KeyError::PrivateKey)
    }

    /// From a DER PKCS#1 RSAPrivateKey, the form the reference stores in `tls.key`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
        pkcs1_key(der).map_err(KeyError::PrivateKey)
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
            .map_err(|_| KeyError::PrivateKey(KeyDerError::Encoding))?;
        Ok(pem_encode("RSA PRIVATE KEY", info.private_key.as_bytes()))
    }
}

/// Checks a PKCS#1 RSAPrivateKey's structure: two primes, a size aws-lc-rs takes.
fn check_pkcs1(der: &[u8]) -> Result<(), KeyDerError> {
    let key = rsa::pkcs1::RsaPrivateKeyRef::from_der(der).map_err(|_| KeyDerError::Pkcs1)?;
    if key.other_prime_infos.is_some() {
        return Err(KeyDerError::MultiPrime);
    }
    let n = key.modulus.as_bytes();
    let bits = n
        .first()
        .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
    if !(2048..=8192).contains(&bits) {
        return Err(KeyDerError::Size { bits });
    }
    Ok(())
}

/// A key from PKCS#1 DER (an `RSA PRIVATE KEY` block).
fn pkcs1_key(der: &[u8]) -> Result<PrivateKey, KeyDerError> {
    match check_pkcs1(der) {
        Err(KeyDerError::Pkcs1) if rsa::pkcs8::PrivateKeyInfoRef::from_der(der).is_ok() => {
            return Err(KeyDerError::Pkcs8InPkcs1Block);
        }
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    checked_pkcs8_key(&pkcs1_to_pkcs8(der)?)
}

/// A key from PKCS#8 DER (a `PRIVATE KEY` block).
fn pkcs8_key(der: &[u8]) -> Result<PrivateKey, KeyDerError> {
    let Ok(info) = rsa::pkcs8::PrivateKeyInfoRef::from_der(der) else {
        return Err(if rsa::pkcs1::RsaPrivateKeyRef::from_der(der).is_ok() {
            KeyDerError::Pkcs1InPkcs8Block
        } else {
            KeyDerError::Pkcs8
        });
    };
    if info.algorithm.oid != RSA_ENCRYPTION {
        return Err(KeyDerError::NotRsa(pkcs8_algorithm_name(
            info.algorithm.oid,
        )));
    }
    let inner = info.private_key.as_bytes();
    match check_pkcs1(inner) {
        Err(KeyDerError::Pkcs1) => return Err(KeyDerError::Pkcs1InPkcs8),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    match checked_pkcs8_key(der) {
        // The key itself is fine in a plain wrapper: it is this wrapper that is refused.
        Err(KeyDerError::Rejected)
            if pkcs1_to_pkcs8(inner)
                .is_ok_and(|plain| *plain != der && checked_pkcs8_key(&plain).is_ok()) =>
        {
            Err(KeyDerError::Pkcs8Wrapper)
        }
        other => other,
    }
}

/// The key from PKCS#8 DER whose structure was checked; aws-lc-rs checks its numbers.
fn checked_pkcs8_key(der: &[u8]) -> Result<PrivateKey, KeyDerError> {
    let key = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| KeyDerError::Rejected)?;
    let spki = key
        .public_key()
        .as_der()
        .map_err(|_| KeyDerError::Rejected)?;
    let public = PublicKey::from_spki_der(spki.as_ref()).map_err(|_| KeyDerError::Rejected)?;
    let decrypting = OaepPrivateDecryptingKey::new(key).map_err(|_| KeyDerError::Rejected)?;
    let fingerprint = public.fingerprint();
    Ok(PrivateKey {
        decrypting,
        pkcs8: Zeroizing::new(der.to_vec()),
        public,
        fingerprint,
    })
}

fn pkcs8_algorithm_name(oid: ObjectIdentifier) -> &'static str {
    match oid.to_string().as_str() {
        "1.2.840.10045.2.1" => "EC",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS (only rsaEncryption keys are supported)",
        _ => "not rsaEncryption",
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
fn pkcs1_to_pkcs8(pkcs1: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyDerError> {
    use rsa::pkcs8::der::asn1::{AnyRef, OctetStringRef};
    let octets = OctetStringRef::new(pkcs1).map_err(|_| KeyDerError::Pkcs1)?;
    let info = rsa::pkcs8::PrivateKeyInfoRef::new(
        rsa::pkcs8::spki::AlgorithmIdentifier {
            oid: RSA_ENCRYPTION,
            parameters: Some(AnyRef::NULL),
        },
        octets,
    );
    info.to_der()
        .map(Zeroizing::new)
        .map_err(|_| KeyDerError::Encoding)
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

/// What a trimmed line of a PEM text is.
enum Line<'a> {
    Begin(&'a str),
    End(&'a str),
    /// `-----BEGIN label-----` with more on the line.
    BeginWithText,
    /// Looks like a damaged BEGIN or END line.
    Garbled,
    /// Anything else: body or explanatory text.
    Text,
}

fn classify(line: &str) -> Line<'_> {
    let boundary = |prefix: &str| -> Option<Result<&str, ()>> {
        let rest = line.strip_prefix(prefix)?;
        let Some(label) = rest.strip_suffix("-----") else {
            return Some(Err(()));
        };
        if label.contains('-') {
            return Some(Err(()));
        }
        Some(Ok(label))
    };
    match boundary("-----BEGIN ") {
        Some(Ok(label)) => return Line::Begin(label),
        Some(Err(())) if line[11..].contains("-----") => return Line::BeginWithText,
        Some(Err(())) => return Line::Garbled,
        None => {}
    }
    match boundary("-----END ") {
        Some(Ok(label)) => return Line::End(label),
        Some(Err(())) => return Line::Garbled,
        None => {}
    }
    if line.starts_with("--") || line.ends_with("--") || line.contains("BEGIN") {
        Line::Garbled
    } else {
        Line::Text
    }
}

/// Which problem to report when no key is found: structural ones first, then blocks that
/// are keys of the wrong kind, then blocks that are no keys at all.
fn rank(reason: &NoKeyReason) -> u8 {
    match reason {
        NoKeyReason::Pem(_) => 0,
        NoKeyReason::Encrypted { .. } | NoKeyReason::NotRsa { .. } => 1,
        _ => 2,
    }
}

/// The open block of a PEM scan.
struct Block<'a> {
    open: usize,
    label: &'a str,
    /// An `RSA PRIVATE KEY` or `PRIVATE KEY` block, which must be well-formed.
    key: bool,
    body: Vec<(usize, &'a str)>,
}

fn is_base64_line(line: &str) -> bool {
    line.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') || c.is_whitespace())
}

/// The base64 body of a key block, decoded. Errors name lines, never their contents.
fn decode_body(open: usize, body: &[(usize, &str)]) -> Result<Zeroizing<Vec<u8>>, PemError> {
    let total: usize = body.iter().map(|(_, l)| l.len()).sum();
    // Sized up front so that no partial copy of the key is left behind by a reallocation.
    let mut b64 = Zeroizing::new(String::with_capacity(total));
    let mut ends = Vec::with_capacity(body.len());
    for (line, text) in body {
        b64.extend(text.chars().filter(|c| !c.is_whitespace()));
        ends.push((*line, b64.len()));
    }
    if b64.is_empty() {
        return Err(PemError::EmptyBody { open });
    }
    if let Some(pos) = b64.trim_end_matches('=').find('=') {
        let line = ends
            .iter()
            .find(|(_, end)| pos < *end)
            .map_or(open, |(line, _)| *line);
        return Err(PemError::MisplacedPadding { line, open });
    }
    // Go's encoding/pem decodes with base64.StdEncoding: the workspace's one implementation.
    crate::go::base64_decode(b64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| PemError::BadBase64Length { open })
}

/// Every `RSA PRIVATE KEY` and `PRIVATE KEY` block in a PEM text, read line by line as RFC
/// 7468 says, laxly: whitespace around lines, CRLF, indentation and explanatory text outside
/// blocks are fine. A key block must be well-formed and hold a usable key, or this fails;
/// other problems (a garbled line outside a block, blocks of other kinds) are reported only
/// when no key is found at all. Never returns an empty list.
pub fn private_keys_from_pem(text: &str) -> Result<Vec<PrivateKey>, KeyError> {
    let mut keys = Vec::new();
    let mut reason: Option<NoKeyReason> = None;
    let mut note = |r: NoKeyReason| {
        if reason.as_ref().is_none_or(|old| rank(&r) < rank(old)) {
            reason = Some(r);
        }
    };
    let mut block: Option<Block<'_>> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let n = i + 1;
        let line = raw.trim();
        let kind = classify(line);
        let Some(open) = block.as_mut() else {
            match kind {
                Line::Begin(label) => {
                    block = Some(Block {
                        open: n,
                        label,
                        key: matches!(label, "RSA PRIVATE KEY" | "PRIVATE KEY"),
                        body: Vec::new(),
                    });
                }
                Line::End(_) => note(NoKeyReason::Pem(PemError::EndWithoutBegin { line: n })),
                Line::BeginWithText => {
                    note(NoKeyReason::Pem(PemError::TextAfterBegin { line: n }));
                }
                Line::Garbled => note(NoKeyReason::Pem(garbled(line, n))),
                Line::Text => {}
            }
            continue;
        };
        match kind {
            Line::End(label) if label == open.label => {
                let Some(done) = block.take() else { continue };
                finish_block(done, &mut keys, &mut note)?;
            }
            Line::End(label) => {
                let err = PemError::LabelMismatch {
                    line: n,
                    open: open.open,
                    begin: PemLabel::new(open.label),
                    end: PemLabel::new(label),
                };
                if open.key {
                    return Err(KeyError::Pem(err));
                }
                note(NoKeyReason::Pem(err));
                block = None;
            }
            Line::Begin(label) => {
                let err = PemError::BeginInBlock {
                    line: n,
                    open: open.open,
                };
                if open.key {
                    return Err(KeyError::Pem(err));
                }
                note(NoKeyReason::Pem(err));
                block = Some(Block {
                    open: n,
                    label,
                    key: matches!(label, "RSA PRIVATE KEY" | "PRIVATE KEY"),
                    body: Vec::new(),
                });
            }
            _ if !open.key => {}
            _ if line.is_empty() => {}
            _ if is_base64_line(line) => open.body.push((n, line)),
            _ => {
                let err = if line.contains(':') && open.body.is_empty() {
                    PemError::Headers { line: n }
                } else if line.contains("BEGIN") {
                    PemError::BeginInBlock {
                        line: n,
                        open: open.open,
                    }
                } else if line.starts_with('-') || line.ends_with('-') || line.contains("END") {
                    PemError::GarbledEnd { line: n }
                } else {
                    PemError::BadBase64 {
                        line: n,
                        open: open.open,
                    }
                };
                return Err(KeyError::Pem(err));
            }
        }
    }
    if let Some(open) = block {
        let err = PemError::MissingEnd {
            line: open.open,
            label: PemLabel::new(open.label),
        };
        if open.key {
            return Err(KeyError::Pem(err));
        }
        note(NoKeyReason::Pem(err));
    }
    if keys.is_empty() {
        return Err(reason.map_or(KeyError::NoPrivateKey, KeyError::NoPrivateKeyBecause));
    }
    Ok(keys)
}

fn garbled(line: &str, n: usize) -> PemError {
    let upper = line.to_ascii_uppercase();
    if upper.contains("BEGIN") {
        PemError::GarbledBegin { line: n }
    } else if upper.contains("END") {
        PemError::GarbledEnd { line: n }
    } else {
        PemError::GarbledBoundary { line: n }
    }
}

/// A closed block: a key for the list, or a note of what it was instead.
fn finish_block(
    block: Block<'_>,
    keys: &mut Vec<PrivateKey>,
    note: &mut impl FnMut(NoKeyReason),
) -> Result<(), KeyError> {
    let line = block.open;
    let parse: fn(&[u8]) -> Result<PrivateKey, KeyDerError> = match block.label {
        "RSA PRIVATE KEY" => pkcs1_key,
        "PRIVATE KEY" => pkcs8_key,
        "ENCRYPTED PRIVATE KEY" => {
            note(NoKeyReason::Encrypted { line });
            return Ok(());
        }
        label if label.ends_with("PRIVATE KEY") => {
            note(NoKeyReason::NotRsa {
                line,
                label: PemLabel::new(label),
            });
            return Ok(());
        }
        label => {
            note(NoKeyReason::OtherBlocks {
                line,
                label: PemLabel::new(label),
            });
            return Ok(());
        }
    };
    let der = decode_body(line, &block.body).map_err(KeyError::Pem)?;
    keys.push(parse(&der).map_err(|reason| KeyError::PemKey { line, reason })?);
    Ok(())
}

/// Reads the private keys of a key backup in any of the shapes `kubeseal
/// --recovery-private-key` takes, once the caller has split the file into documents (a file
/// format is the CLI's concern; `docs` is empty when the file was not JSON or YAML). The
/// Kubernetes objects among `docs`, a Secret with `tls.key` or a `List` of such Secrets (what
/// `kubectl get secret -l ... -o yaml` gives), are read; when there are none, `text` is read
/// as PEM (PKCS#1 or PKCS#8, several blocks allowed; a PEM file reads as one YAML string).
pub fn private_keys_from_backup(
    docs: &[serde_json::Value],
    text: &str,
) -> Result<Vec<PrivateKey>, KeyError> {
    // Go's json.Marshal of a client-go SecretList writes neither `kind` nor `apiVersion`, so an
    // object with `items` counts as a list and one with `data` or `stringData` as a Secret.
    let objects: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| {
            d.get("kind").is_some_and(serde_json::Value::is_string)
                || ["items", "data", "stringData"]
                    .iter()
                    .any(|k| d.get(*k).is_some_and(|v| v.is_array() || v.is_object()))
        })
        .collect();
    if objects.is_empty() {
        return private_keys_from_pem(text);
    }
    let mut keys = Vec::new();
    for doc in objects {
        collect_secret_keys(doc, &mut keys)?;
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
    let kind = doc.get("kind").and_then(|k| k.as_str()).or_else(|| {
        if doc.get("items").is_some_and(serde_json::Value::is_array) {
            Some("List")
        } else if doc.get("data").is_some() || doc.get("stringData").is_some() {
            Some("Secret")
        } else {
            None
        }
    });
    match kind {
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
            let name = SecretName::new(doc.pointer("/metadata/name").and_then(|n| n.as_str()));
            let in_secret = |source: KeyError| KeyError::InSecret {
                name: name.clone(),
                error: Box::new(source),
            };
            let data = doc.pointer("/data/tls.key");
            let string_data = doc.pointer("/stringData/tls.key");
            let pem = match (data, string_data) {
                (_, Some(serde_json::Value::String(s))) => Zeroizing::new(s.clone()),
                (Some(serde_json::Value::String(b64)), None) => {
                    // As client-go decodes Secret data: Go's base64.StdEncoding.
                    let bytes = Zeroizing::new(
                        crate::go::base64_decode(b64.as_bytes())
                            .map_err(|_| in_secret(KeyError::TlsKeyNotBase64))?,
                    );
                    Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())
                }
                (None, None) => return Err(KeyError::MissingTlsKey(name)),
                _ => return Err(in_secret(KeyError::TlsKeyNotString)),
            };
            let found = private_keys_from_pem(&pem).map_err(|e| match e {
                KeyError::NoPrivateKey => {
                    in_secret(KeyError::NoPrivateKeyBecause(NoKeyReason::NoPemBlock))
                }
                e => in_secret(e),
            })?;
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

    /// A key file read as `seal --recovery-private-key` reads one (seal-cli's `decode::private_keys`
    /// splits documents the same way): JSON or YAML documents, else the text as PEM.
    fn parse_private_keys(input: &[u8]) -> Result<Vec<PrivateKey>, KeyError> {
        let text = String::from_utf8_lossy(input);
        let docs = serde_saphyr::from_multiple::<serde_json::Value>(&text).unwrap_or_default();
        private_keys_from_backup(&docs, &text)
    }

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
        let secret: serde_json::Value = serde_saphyr::from_str(KEY_SECRET).unwrap();
        let keys = private_keys_from_backup(std::slice::from_ref(&secret), KEY_SECRET).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].fingerprint(), FINGERPRINT);
        let list = serde_json::json!({"kind": "List", "items": [secret.clone(), secret]});
        let keys = private_keys_from_backup(&[list], "").unwrap();
        assert_eq!(keys.len(), 2);
        // Documents that are no Kubernetes object leave the text to the PEM reader.
        let keys = private_keys_from_backup(&[serde_json::json!("a string")], KEY_PEM).unwrap();
        assert_eq!(keys[0].fingerprint(), FINGERPRINT);
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
    fn damaged_begin_line_is_named_not_quoted() {
        // The finding: a dash missing from the BEGIN line once made the label run to the END
        // line, and the error quoted it, key body and all.
        let damaged = KEY_PEM.replacen("KEY-----\n", "KEY----\n", 1);
        let err = PrivateKey::from_pem(&damaged).unwrap_err().to_string();
        assert_eq!(
            err,
            "no private key found: line 1: garbled BEGIN line (expected -----BEGIN <label>-----)"
        );
        let body_line = KEY_PEM.lines().nth(1).unwrap();
        let err = parse_private_keys(damaged.as_bytes()).unwrap_err();
        assert!(
            !format!("{err} {err:?}").contains(&body_line[..24]),
            "{err:?}"
        );
    }

    #[test]
    fn labels_are_shown_only_when_short_and_plain() {
        assert_eq!(
            PemLabel::new("RSA PRIVATE KEY").to_string(),
            "\"RSA PRIVATE KEY\""
        );
        assert_eq!(
            PemLabel::new("X9.42 DH PARAMETERS").to_string(),
            "\"X9.42 DH PARAMETERS\""
        );
        let body_line = KEY_PEM.lines().nth(1).unwrap();
        for hidden in [
            body_line,
            &body_line[..20],
            "rsa private key",
            "RSA  PRIVATE KEY",
            "RSA\u{7}KEY",
            "",
            "NEW CERTIFICATE REQUEST X",
        ] {
            assert_eq!(
                PemLabel::new(hidden).to_string(),
                "(malformed, not shown)",
                "{hidden:?}"
            );
        }
        let pem = KEY_PEM.replace("RSA PRIVATE KEY", body_line);
        let err = parse_private_keys(pem.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("(malformed, not shown)"), "{err}");
        assert!(!err.contains(&body_line[..24]), "{err}");
    }

    #[test]
    fn key_errors_say_what_is_wrong() {
        let der = STANDARD
            .decode(
                KEY_PEM
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap();
        let pkcs8 = pkcs1_to_pkcs8(&der).unwrap();
        // A PKCS#8 key parses; each form under the other's label is named as such.
        let pem8 = pem_encode("PRIVATE KEY", &pkcs8);
        assert_eq!(
            PrivateKey::from_pem(&pem8).unwrap().fingerprint(),
            FINGERPRINT
        );
        let err = PrivateKey::from_pem(&pem_encode("RSA PRIVATE KEY", &pkcs8)).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::PemKey {
                    line: 1,
                    reason: KeyDerError::Pkcs8InPkcs1Block
                }
            ),
            "{err}"
        );
        let err = PrivateKey::from_pem(&pem_encode("PRIVATE KEY", &der)).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::PemKey {
                    reason: KeyDerError::Pkcs1InPkcs8Block,
                    ..
                }
            ),
            "{err}"
        );
        // A 1024-bit key is refused by its size.
        let int = |bytes: &[u8]| {
            let mut v = vec![0x02, 0x81, bytes.len() as u8];
            v.extend_from_slice(bytes);
            v
        };
        let mut modulus = vec![0u8; 129];
        modulus[1] = 0xc1;
        modulus[128] = 0x01;
        let mut content = vec![0x02, 0x01, 0x00];
        content.extend(int(&modulus));
        for _ in 0..7 {
            content.extend([0x02, 0x01, 0x03]);
        }
        let mut small = vec![0x30, 0x81, content.len() as u8];
        small.extend(content);
        let err = PrivateKey::from_pkcs1_der(&small).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid private key: an RSA key of 1024 bits: supported are 2048 to 8192"
        );
        // A truncated body, a bad character, a missing END line: each by its line.
        let mut lines: Vec<&str> = KEY_PEM.lines().collect();
        lines[3] = "MIIJ*not base64*";
        let err = PrivateKey::from_pem(&lines.join("\n"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid PEM: line 4: bad base64 in the body of the block begun at line 1"
        );
        let cut = &KEY_PEM[..KEY_PEM.len() / 2];
        let err = PrivateKey::from_pem(cut).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid PEM: the block labelled \"RSA PRIVATE KEY\" begun at line 1 has no END line"
        );
    }

    #[test]
    fn secret_errors_name_the_secret() {
        let secret: serde_json::Value = serde_saphyr::from_str(KEY_SECRET).unwrap();
        let mut damaged = secret.clone();
        let b64 = damaged["data"]["tls.key"].as_str().unwrap().to_owned();
        damaged["data"]["tls.key"] = serde_json::Value::String(b64[..b64.len() / 2].to_owned());
        let err = private_keys_from_backup(&[damaged], "")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "secret sealed-secrets-keyvect0: tls.key in data is not valid base64"
        );
        let mut damaged = secret;
        damaged["metadata"]["name"] = serde_json::Value::String(b64[..40].to_owned());
        damaged["data"]["tls.key"] = serde_json::Value::String("AAAA".into());
        let err = private_keys_from_backup(&[damaged], "")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "secret (without a valid name): no private key found: tls.key holds no PEM block"
        );
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

#[cfg(test)]
mod untyped_backup_tests {
    use super::*;

    /// Go's json.Marshal of a client-go SecretList, as the reference's suite writes a key
    /// backup: no `kind` or `apiVersion` on the list or its items.
    #[test]
    fn a_key_backup_without_kinds_is_read() {
        let pem = include_str!("../tests/vectors/sealing-key.pem");
        let b64 = STANDARD.encode(pem);
        let untyped = serde_json::json!({
            "metadata": {},
            "items": [{"metadata": {"name": "k"}, "data": {"tls.key": b64}, "type": "kubernetes.io/tls"}]
        });
        let keys = private_keys_from_backup(&[untyped], "").unwrap();
        assert_eq!(keys.len(), 1);
        let secret = serde_json::json!({"metadata": {"name": "k"}, "data": {"tls.key": b64}});
        assert_eq!(private_keys_from_backup(&[secret], "").unwrap().len(), 1);
    }
}
