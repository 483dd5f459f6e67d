//! sprig's cryptographic functions (v3.3.0 `crypto.go`): `derivePassword`, `bcrypt`,
//! `htpasswd`, `genPrivateKey`, `buildCustomCert`, `encryptAES` and `decryptAES`.
//!
//! What Go computes deterministically (`derivePassword`, `decryptAES`, the error texts sprig
//! returns as values) is computed byte for byte. What is random draws from the caller's
//! [`Env`](super::Env), so rendering without one refuses it; the one exception is RSA key
//! generation, which aws-lc-rs does with its own system RNG (RSA private keys are handled
//! only by aws-lc-rs in this workspace): it still requires the environment's randomness, so
//! that hermetic rendering refuses it as it refuses every other random function.

use std::rc::Rc;

use aes::Aes256;
use aes::cipher::{Array, BlockCipherDecrypt as _, BlockCipherEncrypt as _, KeyInit as _};
use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use hmac::{Hmac, Mac as _};

use sha2::Sha256;
use zeroize::Zeroizing;

use crate::go;

use super::cx::Cx;
use super::error::{FnError, check_len, failed};
use super::funcs::{R, args, int, sized};
use super::value::{Certificate, Value, owned};

/// Evaluation steps charged per call, on top of the usual, for the CPU time each costs (the
/// object's [`MAX_STEPS_PER_OBJECT`](super::MAX_STEPS_PER_OBJECT) budget then allows about
/// 20 `derivePassword`, 50 `bcrypt` or 5 RSA-4096 keys per object, a few seconds in all).
const SCRYPT_STEPS: u64 = 5_000;
const BCRYPT_STEPS: u64 = 2_000;
const RSA_4096_STEPS: u64 = 20_000;
const EC_STEPS: u64 = 100;

// ---- derivePassword: the Master Password algorithm ----

const MASTER_PASSWORD_SEED: &[u8] = b"com.lyndir.masterpassword";

fn password_templates(kind: &[u8]) -> Option<&'static [&'static str]> {
    Some(match kind {
        b"maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        b"long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        b"medium" => &["CvcnoCvc", "CvcCvcno"],
        b"short" => &["Cvcn"],
        b"basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        b"pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// `derivePassword counter type password user site`.
pub(super) fn derive_password<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [counter, kind, password, user, site] = args(argv)?;
    let Some(templates) = password_templates(kind.bytes()) else {
        let mut out = b"cannot find password template ".to_vec();
        out.extend_from_slice(kind.bytes());
        return sized(out);
    };
    cx.spend_steps(SCRYPT_STEPS)?;
    // Go writes uint32(len(x)) big-endian; values are at most 1 MiB.
    let len32 = |b: &[u8]| (b.len() as u32).to_be_bytes();
    let mut salt = MASTER_PASSWORD_SEED.to_vec();
    salt.extend_from_slice(&len32(user.bytes()));
    salt.extend_from_slice(user.bytes());
    let mut key = Zeroizing::new([0u8; 64]);
    let params = scrypt::Params::new(15, 8, 2).map_err(|_| failed("scrypt parameters"))?;
    scrypt::scrypt(password.bytes(), &salt, &params, &mut key[..])
        .map_err(|_| failed("failed to derive password"))?;
    let mut mac = <Hmac<Sha256>>::new_from_slice(&key[..]).map_err(|_| failed("hmac key"))?;
    mac.update(MASTER_PASSWORD_SEED);
    mac.update(&len32(site.bytes()));
    mac.update(site.bytes());
    // The counter is a uint32 (the executor has truncated the constant as Go does).
    mac.update(&(int(&counter) as u32).to_be_bytes());
    let seed = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
    let template = templates[usize::from(seed[0]) % templates.len()].as_bytes();
    let out: Vec<u8> = template
        .iter()
        .enumerate()
        .map(|(i, &class)| {
            let chars = template_characters(class);
            chars[usize::from(seed[i + 1]) % chars.len()]
        })
        .collect();
    sized(out)
}

// ---- bcrypt and htpasswd ----

/// sprig's bcrypt: golang.org/x/crypto/bcrypt at DefaultCost (10), `$2a$`; its error text as
/// the value.
fn bcrypt_of(cx: &Cx<'_>, password: &[u8]) -> Result<Vec<u8>, FnError> {
    if password.len() > 72 {
        // x/crypto refuses before drawing a salt: deterministic, no randomness needed.
        return Ok(
            b"failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
                .to_vec(),
        );
    }
    let mut salt = [0u8; 16];
    cx.random(&mut salt)?;
    cx.spend_steps(BCRYPT_STEPS)?;
    let parts = bcrypt::hash_with_salt(password, 10, salt).map_err(|_| failed("bcrypt failed"))?;
    Ok(parts.format_for_version(bcrypt::Version::TwoA).into_bytes())
}

pub(super) fn bcrypt<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [input] = args(argv)?;
    sized(bcrypt_of(cx, input.bytes())?)
}

pub(super) fn htpasswd<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [user, password] = args(argv)?;
    let user = user.bytes();
    let mut out = Vec::new();
    if user.contains(&b':') {
        out.extend_from_slice(b"invalid username: ");
        out.extend_from_slice(user);
    } else {
        let hash = bcrypt_of(cx, password.bytes())?;
        out.extend_from_slice(user);
        out.push(b':');
        out.extend_from_slice(&hash);
    }
    sized(out)
}

// ---- PEM and DER ----

/// Go's `pem.EncodeToMemory` of a block without headers.
pub(super) fn pem_encode(label: &str, der: &[u8]) -> Zeroizing<Vec<u8>> {
    let b64 = Zeroizing::new(go::base64_encode(der));
    let mut out = Zeroizing::new(Vec::with_capacity(b64.len() + b64.len() / 64 + 64));
    out.extend_from_slice(format!("-----BEGIN {label}-----\n").as_bytes());
    for line in b64.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(format!("-----END {label}-----\n").as_bytes());
    out
}

/// One DER TLV: (tag, contents, rest); definite lengths up to 4 bytes.
pub(super) fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

// ---- genPrivateKey ----

const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Go's `x509.MarshalECPrivateKey` of a P-256 key: version 1, the 32-byte scalar, the named
/// curve and the uncompressed public point.
fn sec1_p256(scalar: &[u8; 32], public: Option<&[u8]>) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(vec![0x02, 0x01, 0x01, 0x04, 0x20]);
    body.extend_from_slice(scalar);
    body.extend_from_slice(&[0xa0, P256_OID.len() as u8]);
    body.extend_from_slice(P256_OID);
    if let Some(point) = public {
        body.extend_from_slice(&[0xa1, point.len() as u8 + 3, 0x03, point.len() as u8 + 1, 0]);
        body.extend_from_slice(point);
    }
    let mut der = Zeroizing::new(vec![0x30, body.len() as u8]);
    der.extend_from_slice(&body);
    der
}

/// An ECDSA P-256 key from the environment's randomness, as Go's "EC PRIVATE KEY".
fn ecdsa_p256(cx: &Cx<'_>) -> Result<Zeroizing<Vec<u8>>, FnError> {
    cx.spend_steps(EC_STEPS)?;
    for _ in 0..64 {
        let mut scalar = Zeroizing::new([0u8; 32]);
        cx.random(&mut scalar[..])?;
        if scalar.iter().all(|&b| b == 0) {
            continue;
        }
        // aws-lc-rs computes the public point and rejects a scalar not below the order.
        let Ok(pair) = EcdsaKeyPair::from_private_key_der(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            &sec1_p256(&scalar, None),
        ) else {
            continue;
        };
        let der = sec1_p256(&scalar, Some(pair.public_key().as_ref()));
        return Ok(pem_encode("EC PRIVATE KEY", &der));
    }
    Err(failed("failed to generate private key"))
}

/// An Ed25519 key from the environment's randomness: Go's PKCS#8 "PRIVATE KEY" of the seed.
fn ed25519(cx: &Cx<'_>) -> Result<Zeroizing<Vec<u8>>, FnError> {
    let mut der = Zeroizing::new(vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ]);
    let mut seed = Zeroizing::new([0u8; 32]);
    cx.random(&mut seed[..])?;
    der.extend_from_slice(&seed[..]);
    Ok(pem_encode("PRIVATE KEY", &der))
}

/// An RSA key as Go's PKCS#1 "RSA PRIVATE KEY".
pub(super) fn rsa(
    cx: &Cx<'_>,
    size: aws_lc_rs::rsa::KeySize,
    steps: u64,
) -> Result<Zeroizing<Vec<u8>>, FnError> {
    // aws-lc-rs generates RSA keys from its own system RNG and cannot take ours; requiring
    // the environment's randomness keeps hermetic rendering refusing it like the others.
    cx.random(&mut [0u8; 1])?;
    cx.spend_steps(steps)?;
    let pair = aws_lc_rs::rsa::KeyPair::generate(size)
        .map_err(|_| failed("failed to generate private key"))?;
    let pkcs8: Pkcs8V1Der<'_> = pair
        .as_der()
        .map_err(|_| failed("failed to generate private key"))?;
    let pkcs1 =
        pkcs8_private_key(pkcs8.as_ref()).ok_or_else(|| failed("failed to encode private key"))?;
    Ok(pem_encode("RSA PRIVATE KEY", pkcs1))
}

/// The privateKey OCTET STRING of a PKCS#8 PrivateKeyInfo (for RSA: the PKCS#1 key).
fn pkcs8_private_key(der: &[u8]) -> Option<&[u8]> {
    let (0x30, info, _) = der_tlv(der)? else {
        return None;
    };
    let (0x02, _, rest) = der_tlv(info)? else {
        return None;
    };
    let (0x30, _, rest) = der_tlv(rest)? else {
        return None;
    };
    let (0x04, key, _) = der_tlv(rest)? else {
        return None;
    };
    Some(key)
}

pub(super) fn gen_private_key<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [kind] = args(argv)?;
    let pem = match kind.bytes() {
        b"" | b"rsa" => rsa(cx, aws_lc_rs::rsa::KeySize::Rsa4096, RSA_4096_STEPS)?,
        b"ecdsa" => ecdsa_p256(cx)?,
        b"ed25519" => ed25519(cx)?,
        // No well-kept crate generates DSA keys; never output something else.
        b"dsa" => return Err(FnError::Unsupported("genPrivateKey \"dsa\"".into())),
        other => {
            let mut out = b"Unknown type ".to_vec();
            out.extend_from_slice(other);
            return sized(out);
        }
    };
    sized(pem.to_vec())
}

// ---- encryptAES and decryptAES: AES-256-CBC, the IV first, PKCS#7-style padding ----

/// sprig's key: the password's bytes, zero-padded or truncated to 32.
fn aes_key(password: &[u8]) -> Aes256 {
    let mut key = Zeroizing::new([0u8; 32]);
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password[..n]);
    Aes256::new(&Array::from(*key))
}

pub(super) fn encrypt_aes<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [password, plaintext] = args(argv)?;
    let plaintext = plaintext.bytes();
    if plaintext.is_empty() {
        return Ok(owned(Vec::new()));
    }
    let padding = 16 - plaintext.len() % 16;
    let total = 16 + plaintext.len() + padding;
    check_len(total as u128 * 4 / 3 + 4)?;
    let cipher = aes_key(password.bytes());
    let mut buf = Zeroizing::new(vec![0u8; 16]);
    cx.random(&mut buf[..])?;
    buf.extend_from_slice(plaintext);
    buf.resize(total, padding as u8);
    for i in (16..total).step_by(16) {
        let (prev, block) = buf.split_at_mut(i);
        let block: &mut [u8; 16] = (&mut block[..16]).try_into().map_err(|_| failed("block"))?;
        for (b, p) in block.iter_mut().zip(&prev[i - 16..]) {
            *b ^= p;
        }
        cipher.encrypt_block(block.into());
    }
    sized(go::base64_encode(&buf).into_bytes())
}

pub(super) fn decrypt_aes<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [password, crypt64] = args(argv)?;
    if crypt64.bytes().is_empty() {
        return Ok(owned(Vec::new()));
    }
    let crypt = go::base64_decode(crypt64.bytes()).map_err(|e| FnError::Failed(e.to_string()))?;
    // Go slices and panics on these; text/template reports the panic as the call's error.
    if crypt.len() < 16 {
        return Err(failed("ciphertext shorter than its 16-byte IV"));
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return Err(failed("crypto/cipher: input not full blocks"));
    }
    if body.is_empty() {
        return Err(failed("no ciphertext after the IV"));
    }
    let cipher = aes_key(password.bytes());
    let mut out = Zeroizing::new(body.to_vec());
    for (i, block) in out.chunks_exact_mut(16).enumerate() {
        let block: &mut [u8; 16] = block.try_into().map_err(|_| failed("block"))?;
        cipher.decrypt_block(block.into());
        let prev = if i == 0 {
            iv
        } else {
            &body[(i - 1) * 16..i * 16]
        };
        for (b, p) in block.iter_mut().zip(prev) {
            *b ^= p;
        }
    }
    // sprig trusts the last byte and checks no other padding byte.
    let pad = usize::from(out[out.len() - 1]);
    if pad > out.len() {
        return Err(failed("padding longer than the plaintext"));
    }
    sized(out[..out.len() - pad].to_vec())
}

// ---- buildCustomCert ----

pub(super) fn cert_value<'a>(cert: Vec<u8>, key: Vec<u8>) -> Value<'a> {
    Value::Cert(Rc::new(Certificate {
        cert,
        key: Zeroizing::new(key),
    }))
}

/// The first PEM block of `data` as Go's `pem.Decode` (Go 1.26) finds it: (type, bytes).
/// Headers are skipped; the callers ignore them as sprig does.
pub(super) fn pem_decode(data: &[u8]) -> Option<(Vec<u8>, Zeroizing<Vec<u8>>)> {
    const START: &[u8] = b"-----BEGIN ";
    const END: &[u8] = b"\n-----END ";
    const DASHES: &[u8] = b"-----";
    fn find(h: &[u8], n: &[u8]) -> Option<usize> {
        h.windows(n.len()).position(|w| w == n)
    }
    fn rfind(h: &[u8], n: &[u8]) -> Option<usize> {
        h.windows(n.len()).rposition(|w| w == n)
    }
    // Go's getLine: the line without its "\n" (and a "\r" before it), right-trimmed of
    // spaces and tabs; the rest; the bytes consumed.
    fn get_line(data: &[u8]) -> (&[u8], &[u8], isize) {
        let (mut i, j) = match data.iter().position(|&c| c == b'\n') {
            None => (data.len(), data.len()),
            Some(i) => (i, i + 1),
        };
        if j > i && i > 0 && data[i - 1] == b'\r' {
            i -= 1;
        }
        let mut line = &data[..i];
        while let [rest @ .., b' ' | b'\t'] = line {
            line = rest;
        }
        (line, &data[j..], j as isize)
    }
    let mut rest = data;
    let mut end_trailer_index: isize = 0;
    loop {
        if end_trailer_index < 0 || end_trailer_index as usize > rest.len() {
            return None;
        }
        rest = &rest[end_trailer_index as usize..];
        let mut end_index = find(rest, END)? as isize;
        end_trailer_index = end_index + END.len() as isize;
        let Some(begin) = rfind(&rest[..end_index as usize], START) else {
            continue;
        };
        if begin > 0 && rest[begin - 1] != b'\n' {
            continue;
        }
        let skip = (begin + START.len()) as isize;
        rest = &rest[skip as usize..];
        end_index -= skip;
        end_trailer_index -= skip;
        let (type_line, after, consumed) = get_line(rest);
        rest = after;
        end_index -= consumed;
        end_trailer_index -= consumed;
        let Some(type_line) = type_line.strip_suffix(DASHES) else {
            continue;
        };
        let mut headers = false;
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next, consumed) = get_line(rest);
            if !line.contains(&b':') {
                break;
            }
            headers = true;
            rest = next;
            end_index -= consumed;
            end_trailer_index -= consumed;
        }
        if headers && end_index < 0 {
            continue;
        }
        let Some(end_trailer) = usize::try_from(end_trailer_index)
            .ok()
            .and_then(|i| rest.get(i..))
        else {
            // Go would slice out of range here, which its indices rule out.
            return None;
        };
        let trailer_len = type_line.len() + DASHES.len();
        if end_trailer.len() < trailer_len {
            continue;
        }
        let (trailer, rest_of_end_line) = end_trailer.split_at(trailer_len);
        if !trailer.starts_with(type_line) || !trailer.ends_with(DASHES) {
            continue;
        }
        if !get_line(rest_of_end_line).0.is_empty() {
            continue;
        }
        let mut bytes = Zeroizing::new(Vec::new());
        if end_index > 0 {
            let b64: Zeroizing<Vec<u8>> = Zeroizing::new(
                rest[..end_index as usize]
                    .iter()
                    .copied()
                    .filter(|&c| c != b' ' && c != b'\t')
                    .collect(),
            );
            match go::base64_decode(&b64) {
                Ok(decoded) => bytes = Zeroizing::new(decoded),
                Err(_) => continue,
            }
        }
        return Some((type_line.to_vec(), bytes));
    }
}

/// How a check of Go's parsing ends when it does not accept: Go surely fails too
/// (`Failed`), or this code cannot tell (`Unsure`, refused as unsupported).
enum Reject {
    Failed(String),
    Unsure(&'static str),
}

impl From<Reject> for FnError {
    fn from(r: Reject) -> Self {
        match r {
            Reject::Failed(reason) => FnError::Failed(reason),
            Reject::Unsure(what) => FnError::Unsupported(format!(
                "buildCustomCert of {what} (Go's acceptance not reproduced)"
            )),
        }
    }
}

fn sure(reason: &str) -> Reject {
    Reject::Failed(reason.into())
}

/// A DER INTEGER's contents, minimally encoded and positive.
fn positive_int(bytes: &[u8]) -> bool {
    match bytes {
        [] => false,
        [b, ..] if b & 0x80 != 0 => false,
        [0] => false,
        [0, next, ..] => next & 0x80 != 0,
        _ => true,
    }
}

/// Go's `parseASN1String` accepts the attribute value.
fn go_name_string(tag: u8, value: &[u8]) -> bool {
    match tag {
        0x14 => true,
        0x13 => value
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b" '()+,-./:=?*&".contains(&c)),
        0x0c => std::str::from_utf8(value).is_ok(),
        0x1e => value.len().is_multiple_of(2),
        0x16 => value.is_ascii(),
        0x12 => value.iter().all(|&c| c.is_ascii_digit() || c == b' '),
        _ => false,
    }
}

/// Go's `x509.ParseCertificate` succeeds on `der`, as far as this code can tell.
fn check_certificate(der: &[u8]) -> Result<(), Reject> {
    use x509_cert::der::{Decode as _, Encode as _, Tagged as _, asn1::ObjectIdentifier as Oid};
    let cert = x509_cert::Certificate::from_der(der).map_err(|_| {
        sure("error parsing certificate: decodedCert.Bytes: x509: malformed certificate")
    })?;
    let tbs = cert.tbs_certificate();
    if tbs.signature() != cert.signature_algorithm() {
        return Err(sure(
            "error parsing certificate: decodedCert.Bytes: x509: inner and outer signature algorithm identifiers don't match",
        ));
    }
    if tbs
        .serial_number()
        .as_bytes()
        .first()
        .is_some_and(|b| b & 0x80 != 0)
    {
        return Err(sure(
            "error parsing certificate: decodedCert.Bytes: x509: negative serial number",
        ));
    }
    for name in [tbs.issuer(), tbs.subject()] {
        for atv in name.iter() {
            let tag = atv
                .value
                .tag()
                .to_der()
                .ok()
                .and_then(|t| t.first().copied());
            if !tag.is_some_and(|t| go_name_string(t, atv.value.value())) {
                return Err(sure(
                    "error parsing certificate: decodedCert.Bytes: x509: invalid RDNSequence",
                ));
            }
        }
    }
    // The public key, for the algorithms Go parses.
    let spki = tbs.subject_public_key_info();
    let key = spki.subject_public_key.raw_bytes();
    let params = spki.algorithm.parameters.as_ref();
    let bad_key =
        || sure("error parsing certificate: decodedCert.Bytes: x509: malformed public key");
    const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    const X25519: Oid = Oid::new_unwrap("1.3.101.110");
    const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
    match spki.algorithm.oid {
        RSA => {
            if params.is_none_or(|p| p.to_der().ok().as_deref() != Some(&[0x05, 0x00][..])) {
                return Err(bad_key());
            }
            let (0x30, seq, b"") = der_tlv(key).ok_or_else(bad_key)? else {
                return Err(bad_key());
            };
            let (0x02, n, rest) = der_tlv(seq).ok_or_else(bad_key)? else {
                return Err(bad_key());
            };
            let (0x02, e, b"") = der_tlv(rest).ok_or_else(bad_key)? else {
                return Err(bad_key());
            };
            if !positive_int(n) || !positive_int(e) || e.len() > 8 {
                return Err(bad_key());
            }
        }
        EC => {
            let curve = params
                .and_then(|p| p.decode_as::<Oid>().ok())
                .ok_or_else(bad_key)?;
            use aws_lc_rs::signature as sig;
            let alg: &'static dyn sig::VerificationAlgorithm = match curve.to_string().as_str() {
                "1.2.840.10045.3.1.7" => &sig::ECDSA_P256_SHA256_ASN1,
                "1.3.132.0.34" => &sig::ECDSA_P384_SHA384_ASN1,
                "1.3.132.0.35" => &sig::ECDSA_P521_SHA512_ASN1,
                "1.3.132.0.33" => return Err(Reject::Unsure("a P-224 certificate")),
                _ => return Err(bad_key()),
            };
            if key.first() != Some(&4) || sig::ParsedPublicKey::new(alg, key).is_err() {
                return Err(bad_key());
            }
        }
        ED25519 | X25519 if params.is_some() || key.len() != 32 => return Err(bad_key()),
        DSA => return Err(Reject::Unsure("a DSA certificate")),
        _ => {}
    }
    // Extensions: no duplicates, and those Go parses must parse.
    let mut seen = Vec::new();
    for ext in tbs.extensions().map(Vec::as_slice).unwrap_or_default() {
        if seen.contains(&ext.extn_id) {
            return Err(sure(
                "error parsing certificate: decodedCert.Bytes: x509: certificate contains duplicate extensions",
            ));
        }
        seen.push(ext.extn_id);
        let value = ext.extn_value.as_bytes();
        use x509_cert::ext::pkix;
        let parses = match ext.extn_id.to_string().as_str() {
            "2.5.29.14" => pkix::SubjectKeyIdentifier::from_der(value).is_ok(),
            "2.5.29.15" => pkix::KeyUsage::from_der(value).is_ok(),
            "2.5.29.19" => pkix::BasicConstraints::from_der(value).is_ok(),
            "2.5.29.17" => match pkix::SubjectAltName::from_der(value) {
                Err(_) => false,
                Ok(san) => {
                    for name in &san.0 {
                        match name {
                            pkix::name::GeneralName::UniformResourceIdentifier(_) => {
                                return Err(Reject::Unsure("a certificate with a URI name"));
                            }
                            pkix::name::GeneralName::IpAddress(ip)
                                if !matches!(ip.as_bytes().len(), 4 | 16) =>
                            {
                                return Err(bad_key());
                            }
                            _ => {}
                        }
                    }
                    true
                }
            },
            "2.5.29.35" => pkix::AuthorityKeyIdentifier::from_der(value).is_ok(),
            "2.5.29.37" => pkix::ExtendedKeyUsage::from_der(value).is_ok(),
            "2.5.29.31" => pkix::CrlDistributionPoints::from_der(value).is_ok(),
            "2.5.29.32" => pkix::CertificatePolicies::from_der(value).is_ok(),
            "1.3.6.1.5.5.7.1.1" => pkix::AuthorityInfoAccessSyntax::from_der(value).is_ok(),
            "2.5.29.30" => return Err(Reject::Unsure("a certificate with name constraints")),
            _ => true,
        };
        if !parses {
            return Err(Reject::Unsure(
                "a certificate extension this code does not parse",
            ));
        }
    }
    Ok(())
}

/// Go's `parsePrivateKeyPEM` succeeds on `pem`, as far as this code can tell.
fn check_private_key(pem: &[u8]) -> Result<(), Reject> {
    use aws_lc_rs::signature as sig;
    let fail = |why: &str| Reject::Failed(format!("error parsing private key: {why}"));
    let Some((kind, der)) = pem_decode(pem) else {
        return Err(fail("no PEM data in input"));
    };
    // A DER SEQUENCE filling the block: what every format Go reads starts with.
    let sequence = matches!(der_tlv(&der), Some((0x30, _, b"")));
    let ec_algs = [
        &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
        &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
        &sig::ECDSA_P521_SHA512_ASN1_SIGNING,
    ];
    let ok = match kind.as_slice() {
        b"PRIVATE KEY" => {
            if !sequence {
                return Err(fail("decoding PEM as PKCS#8: x509: malformed PKCS#8"));
            }
            aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).is_ok()
                || ec_algs
                    .iter()
                    .any(|a| EcdsaKeyPair::from_pkcs8(a, &der).is_ok())
                || sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).is_ok()
        }
        b"RSA PRIVATE KEY" => {
            if !sequence {
                return Err(fail(
                    "parsing RSA private key from PEM: x509: malformed PKCS#1",
                ));
            }
            aws_lc_rs::rsa::KeyPair::from_der(&der).is_ok()
        }
        b"EC PRIVATE KEY" => {
            if !sequence {
                return Err(fail(
                    "parsing EC private key from PEM: x509: malformed EC key",
                ));
            }
            ec_algs
                .iter()
                .any(|a| EcdsaKeyPair::from_private_key_der(a, &der).is_ok())
        }
        b"DSA PRIVATE KEY" => return Err(Reject::Unsure("a DSA private key")),
        other => {
            return Err(match other.strip_suffix(b" PRIVATE KEY") {
                Some(_) => fail("invalid private key type"),
                None => fail("no private key data in PEM block of this type"),
            });
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Reject::Unsure("a private key this code does not parse"))
    }
}

/// `buildCustomCert b64cert b64key`: sprig's certificate struct of the decoded PEM texts,
/// once both parse.
pub(super) fn build_custom_cert<'a>(_: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [cert, key] = args(argv)?;
    let cert = go::base64_decode(cert.bytes())
        .map_err(|_| failed("unable to decode base64 certificate"))?;
    let key = Zeroizing::new(
        go::base64_decode(key.bytes())
            .map_err(|_| failed("unable to decode base64 private key"))?,
    );
    let Some((_, der)) = pem_decode(&cert) else {
        return Err(failed("unable to decode certificate"));
    };
    check_certificate(&der)?;
    check_private_key(&key)?;
    check_len(cert.len() as u128 + key.len() as u128 + 3)?;
    Ok(cert_value(cert, key.to_vec()))
}
