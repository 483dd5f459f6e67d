//! sprig's cryptographic functions (v3.3.0 `crypto.go`): `derivePassword`, `bcrypt`,
//! `htpasswd`, `genPrivateKey`, `buildCustomCert`, `encryptAES`, `decryptAES`, and the
//! certificate generators `genCA`, `genSelfSignedCert`, `genSignedCert` and their `WithKey`
//! forms.
//!
//! What Go computes deterministically (`derivePassword`, `decryptAES`, the error texts sprig
//! returns as values, the re-encoding of a given key) is computed byte for byte. What is
//! random draws from the caller's [`Env`](super::Env) (salts, IVs, EC and Ed25519 keys,
//! serial numbers; certificates' validity from its clock), so rendering without one refuses
//! it. Two things aws-lc-rs does with its own system RNG, as RSA private keys are handled
//! only by aws-lc-rs in this workspace: RSA key generation, which still requires the
//! environment's randomness so that hermetic rendering refuses it like every other random
//! function, and ECDSA signatures' nonces.
//!
//! Certificates are DER written here in Go's layout (x509.CreateCertificate of sprig's
//! template), signed by aws-lc-rs. Parsing what the user gives (`buildCustomCert`, the keys
//! of the `WithKey` forms, `genSignedCert`'s CA) accepts what Go accepts as far as this code
//! can tell, fails where Go surely fails, and otherwise refuses as unsupported.

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
/// 20 `derivePassword`, 50 `bcrypt`, 5 RSA-4096 or 20 RSA-2048 keys per object, a few
/// seconds in all).
const SCRYPT_STEPS: u64 = 5_000;
const BCRYPT_STEPS: u64 = 2_000;
const RSA_4096_STEPS: u64 = 20_000;
const EC_STEPS: u64 = 100;
const RSA_2048_STEPS: u64 = 5_000;

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

/// A DER TLV of `tag` around `content`.
pub(super) fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
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

/// A new RSA key.
fn rsa(cx: &Cx<'_>, size: aws_lc_rs::rsa::KeySize, steps: u64) -> Result<Signer, FnError> {
    // aws-lc-rs generates RSA keys from its own system RNG and cannot take ours; requiring
    // the environment's randomness keeps hermetic rendering refusing it like the others.
    cx.random(&mut [0u8; 1])?;
    cx.spend_steps(steps)?;
    let pair = aws_lc_rs::rsa::KeyPair::generate(size)
        .map_err(|_| failed("failed to generate private key"))?;
    Ok(Signer::Rsa(pair))
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
        b"" | b"rsa" => rsa(cx, aws_lc_rs::rsa::KeySize::Rsa4096, RSA_4096_STEPS)?.pem()?,
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
            let body = rest.get(..end_index as usize)?;
            let b64: Zeroizing<Vec<u8>> = Zeroizing::new(
                body.iter()
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
    // Extensions: no duplicates, and those Go parses must parse. Go reads them only in a
    // version 3 certificate.
    if tbs.version() != x509_cert::certificate::Version::V3 && tbs.extensions().is_some() {
        return Err(Reject::Unsure("extensions in a version 1 or 2 certificate"));
    }
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
                                return Err(sure(
                                    "error parsing certificate: decodedCert.Bytes: x509: cannot parse IP address",
                                ));
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

/// A private key as Go's `parsePrivateKeyPEM` returns it, held by aws-lc-rs.
enum Signer {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(EcdsaKeyPair, usize),
    Ed(aws_lc_rs::signature::Ed25519KeyPair),
}

/// The named-curve OIDs (DER) and scalar sizes of P-256, P-384 and P-521.
const CURVES: [(&[u8], usize); 3] = [
    (P256_OID, 32),
    (&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22], 48),
    (&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23], 66),
];

/// Go's `parsePrivateKeyPEM`, as far as this code can tell what Go accepts.
fn parse_private_key(pem: &[u8]) -> Result<Signer, Reject> {
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
    let ec = |parse: &dyn Fn(&'static sig::EcdsaSigningAlgorithm) -> Option<EcdsaKeyPair>| {
        ec_algs
            .iter()
            .enumerate()
            .find_map(|(i, a)| parse(a).map(|k| Signer::Ec(k, i)))
    };
    let key = match kind.as_slice() {
        b"PRIVATE KEY" => {
            if !sequence {
                return Err(fail("decoding PEM as PKCS#8: x509: malformed PKCS#8"));
            }
            aws_lc_rs::rsa::KeyPair::from_pkcs8(&der)
                .ok()
                .map(Signer::Rsa)
                .or_else(|| ec(&|a| EcdsaKeyPair::from_pkcs8(a, &der).ok()))
                .or_else(|| {
                    sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                        .ok()
                        .map(Signer::Ed)
                })
        }
        b"RSA PRIVATE KEY" => {
            if !sequence {
                return Err(fail(
                    "parsing RSA private key from PEM: x509: malformed PKCS#1",
                ));
            }
            aws_lc_rs::rsa::KeyPair::from_der(&der)
                .ok()
                .map(Signer::Rsa)
        }
        b"EC PRIVATE KEY" => {
            if !sequence {
                return Err(fail(
                    "parsing EC private key from PEM: x509: malformed EC key",
                ));
            }
            ec(&|a| EcdsaKeyPair::from_private_key_der(a, &der).ok())
        }
        b"DSA PRIVATE KEY" => return Err(Reject::Unsure("a DSA private key")),
        other => {
            return Err(match other.strip_suffix(b" PRIVATE KEY") {
                Some(_) => fail("invalid private key type"),
                None => fail("no private key data in PEM block of this type"),
            });
        }
    };
    key.ok_or(Reject::Unsure("a private key this code does not parse"))
}

impl Signer {
    /// Go's `pemBlockForKey`: PKCS#1 for RSA, SEC 1 for ECDSA, PKCS#8 for Ed25519.
    fn pem(&self) -> Result<Zeroizing<Vec<u8>>, FnError> {
        use aws_lc_rs::encoding::{AsBigEndian as _, EcPrivateKeyBin};
        let bad = || failed("error pem-encoding key");
        Ok(match self {
            Signer::Rsa(pair) => {
                let pkcs8: Pkcs8V1Der<'_> = pair.as_der().map_err(|_| bad())?;
                pem_encode(
                    "RSA PRIVATE KEY",
                    pkcs8_private_key(pkcs8.as_ref()).ok_or_else(bad)?,
                )
            }
            Signer::Ec(pair, curve) => {
                let (oid, size) = CURVES[*curve];
                let scalar: EcPrivateKeyBin<'_> =
                    pair.private_key().as_be_bytes().map_err(|_| bad())?;
                let point = pair.public_key().as_ref();
                if scalar.as_ref().len() != size {
                    return Err(bad());
                }
                let mut body = Zeroizing::new(der(0x02, &[1]));
                body.extend_from_slice(&Zeroizing::new(der(0x04, scalar.as_ref())));
                body.extend_from_slice(&der(0xa0, oid));
                body.extend_from_slice(&der(0xa1, &der(0x03, &[&[0][..], point].concat())));
                pem_encode("EC PRIVATE KEY", &Zeroizing::new(der(0x30, &body)))
            }
            Signer::Ed(pair) => {
                let doc = pair.to_pkcs8v1().map_err(|_| bad())?;
                pem_encode("PRIVATE KEY", doc.as_ref())
            }
        })
    }

    /// The SubjectPublicKeyInfo DER, as Go's `marshalPublicKey` writes it.
    fn spki(&self) -> Result<Vec<u8>, FnError> {
        use aws_lc_rs::encoding::PublicKeyX509Der;
        let bad = || failed("error retrieving public key from signee key");
        let der: PublicKeyX509Der<'_> = match self {
            Signer::Rsa(pair) => pair.public_key().as_der(),
            Signer::Ec(pair, _) => pair.public_key().as_der(),
            Signer::Ed(pair) => pair.public_key().as_der(),
        }
        .map_err(|_| bad())?;
        Ok(der.as_ref().to_vec())
    }

    /// Go's signature AlgorithmIdentifier for the key: SHA-256 with RSA PKCS#1 v1.5, ECDSA
    /// with the curve's hash, pure Ed25519.
    fn algorithm(&self) -> Vec<u8> {
        match self {
            Signer::Rsa(_) => vec![
                0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05,
                0x00,
            ],
            Signer::Ec(_, curve) => vec![
                0x30,
                0x0a,
                0x06,
                0x08,
                0x2a,
                0x86,
                0x48,
                0xce,
                0x3d,
                0x04,
                0x03,
                [0x02, 0x03, 0x04][*curve],
            ],
            Signer::Ed(_) => vec![0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70],
        }
    }

    /// The algorithm identifier and the signature of `tbs`.
    fn sign(&self, tbs: &[u8]) -> Result<(Vec<u8>, Vec<u8>), FnError> {
        let bad = || failed("error creating certificate: signing failed");
        // Signing randomness (ECDSA's nonce) is aws-lc-rs's own; PKCS#1 v1.5 and Ed25519
        // signatures are deterministic.
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sig = match self {
            Signer::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, tbs, &mut sig)
                    .map_err(|_| bad())?;
                sig
            }
            Signer::Ec(pair, _) => pair.sign(&rng, tbs).map_err(|_| bad())?.as_ref().to_vec(),
            Signer::Ed(pair) => pair.sign(tbs).as_ref().to_vec(),
        };
        Ok((self.algorithm(), sig))
    }
}

/// Go's `parsePrivateKeyPEM` succeeds on `pem`, as far as this code can tell.
fn check_private_key(pem: &[u8]) -> Result<(), Reject> {
    parse_private_key(pem).map(|_| ())
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

// ---- genCA, genSelfSignedCert, genSignedCert and their WithKey forms ----

/// Go's `net.ParseIP`, as `marshalSANs` encodes it (IPv4 and IPv4-mapped IPv6 in 4 bytes).
fn parse_ip(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    if let Ok(v4) = text.parse::<std::net::Ipv4Addr>() {
        return Some(v4.octets().to_vec());
    }
    let v6 = text.parse::<std::net::Ipv6Addr>().ok()?;
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => v4.octets().to_vec(),
        None => v6.octets().to_vec(),
    })
}

fn list_items<'v, 'a>(v: &'v Value<'a>) -> &'v [Value<'a>] {
    match v {
        Value::List(l) => &l.items,
        _ => &[],
    }
}

/// What sprig's getBaseCertTemplate takes and checks before anything random.
struct Spec {
    subject: Vec<u8>,
    ips: Vec<Vec<u8>>,
    dns: Vec<Vec<u8>>,
    days: i64,
    ca: bool,
}

/// Go's `asn1.Marshal` of a pkix.Name with only a CommonName: none if empty, a
/// PrintableString if it can be one, else a UTF8String.
fn subject_of(cn: &[u8]) -> Result<Vec<u8>, FnError> {
    if cn.is_empty() {
        return Ok(vec![0x30, 0x00]);
    }
    let printable = cn
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&c));
    let tag = if printable {
        0x13
    } else if std::str::from_utf8(cn).is_ok() {
        0x0c
    } else {
        return Err(failed(
            "error creating certificate: asn1: string not valid UTF-8",
        ));
    };
    let atv = der(
        0x30,
        &[&[0x06, 0x03, 0x55, 0x04, 0x03][..], &der(tag, cn)].concat(),
    );
    Ok(der(0x30, &der(0x31, &atv)))
}

fn spec(
    cn: &Value<'_>,
    ips: &Value<'_>,
    dns: &Value<'_>,
    days: &Value<'_>,
    ca: bool,
) -> Result<Spec, FnError> {
    let mut ip_list = Vec::new();
    for ip in list_items(ips) {
        let Value::Str(text) = ip else {
            return Err(FnError::Failed(format!(
                "error parsing ip: a {} is not a string",
                ip.type_name()
            )));
        };
        ip_list.push(parse_ip(text).ok_or_else(|| failed("error parsing ip: not an IP address"))?);
    }
    let mut dns_list = Vec::new();
    for name in list_items(dns) {
        let Value::Str(text) = name else {
            return Err(FnError::Failed(format!(
                "error processing alternate dns name: a {} is not a string",
                name.type_name()
            )));
        };
        if !text.is_ascii() {
            return Err(failed(
                "error creating certificate: x509: a DNS name cannot be encoded as an IA5String",
            ));
        }
        dns_list.push(text.to_vec());
    }
    check_len((ip_list.len() * 20 + dns_list.iter().map(Vec::len).sum::<usize>()) as u128)?;
    let days = int(days);
    // Go multiplies the days into a time.Duration (int64 nanoseconds), which wraps past
    // 106,751 days.
    if days.unsigned_abs() > 106_751 {
        return Err(FnError::Unsupported(
            "daysValid beyond Go's time.Duration range".into(),
        ));
    }
    Ok(Spec {
        subject: subject_of(cn.bytes())?,
        ips: ip_list,
        dns: dns_list,
        days,
        ca,
    })
}

/// Go's asn1 time: UTCTime from 1950 to 2049, else GeneralizedTime; whole seconds, UTC.
fn time_der(t: time::OffsetDateTime) -> Result<Vec<u8>, FnError> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    Ok(match year {
        1950..=2049 => der(0x17, format!("{:02}{rest}", year % 100).as_bytes()),
        0..=9999 => der(0x18, format!("{year:04}{rest}").as_bytes()),
        _ => return Err(failed("error creating certificate: time out of range")),
    })
}

fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut body = der(0x06, oid);
    if critical {
        body.extend_from_slice(&[0x01, 0x01, 0xff]);
    }
    body.extend_from_slice(&der(0x04, value));
    der(0x30, &body)
}

/// The issuer's subject and key identifier, and its key, for a signed certificate.
struct Issuer {
    subject: Vec<u8>,
    key_id: Option<Vec<u8>>,
    key: Signer,
}

/// Go's CreateCertificate of sprig's template: the PEM certificate and key.
fn certificate<'a>(
    cx: &Cx<'a>,
    spec: &Spec,
    key: &Signer,
    issuer: Option<&Issuer>,
) -> Result<Value<'a>, FnError> {
    let spki = key.spki()?;
    // The subjectPublicKey BIT STRING's bytes, which the key identifier hashes.
    let public_bits = der_tlv(&spki)
        .and_then(|(_, body, _)| der_tlv(der_tlv(body)?.2))
        .and_then(|(tag, bits, _)| (tag == 0x03).then_some(bits))
        .and_then(|bits| bits.get(1..))
        .ok_or_else(|| failed("error retrieving public key from signee key"))?;
    let now = cx.now()?;
    let not_after = now
        .checked_add(time::Duration::days(spec.days))
        .ok_or_else(|| failed("error creating certificate: time out of range"))?;
    let mut serial = [0u8; 16];
    cx.random(&mut serial)?;
    let start = serial.iter().take_while(|&&b| b == 0).count().min(15);
    let mut serial_der = Vec::new();
    if serial[start] & 0x80 != 0 {
        serial_der.push(0);
    }
    serial_der.extend_from_slice(&serial[start..]);
    let signer = issuer.map_or(key, |i| &i.key);
    let sig_alg = signer.algorithm();
    let issuer_name = issuer.map_or(&spec.subject, |i| &i.subject);

    let mut exts = Vec::new();
    let usage: &[u8] = if spec.ca {
        &[0x03, 0x02, 0x02, 0xa4]
    } else {
        &[0x03, 0x02, 0x05, 0xa0]
    };
    exts.extend(extension(&[0x55, 0x1d, 0x0f], true, usage));
    exts.extend(extension(
        &[0x55, 0x1d, 0x25],
        false,
        &[
            0x30, 0x14, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01, 0x06, 0x08,
            0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02,
        ],
    ));
    let constraints: &[u8] = if spec.ca {
        &[0x30, 0x03, 0x01, 0x01, 0xff]
    } else {
        &[0x30, 0x00]
    };
    exts.extend(extension(&[0x55, 0x1d, 0x13], true, constraints));
    if spec.ca {
        // Go 1.25+: the leftmost 160 bits of SHA-256 of the public key (RFC 7093).
        use sha2::Digest as _;
        let id = Sha256::digest(public_bits);
        exts.extend(extension(&[0x55, 0x1d, 0x0e], false, &der(0x04, &id[..20])));
    }
    if let Some(Issuer {
        key_id: Some(id), ..
    }) = issuer
        && *issuer_name != spec.subject
    {
        exts.extend(extension(
            &[0x55, 0x1d, 0x23],
            false,
            &der(0x30, &der(0x80, id)),
        ));
    }
    if !spec.ips.is_empty() || !spec.dns.is_empty() {
        let mut names = Vec::new();
        for name in &spec.dns {
            names.extend(der(0x82, name));
        }
        for ip in &spec.ips {
            names.extend(der(0x87, ip));
        }
        let empty_subject = spec.subject == [0x30, 0x00];
        exts.extend(extension(
            &[0x55, 0x1d, 0x11],
            empty_subject,
            &der(0x30, &names),
        ));
    }

    let mut tbs = vec![0xa0, 0x03, 0x02, 0x01, 0x02];
    tbs.extend(der(0x02, &serial_der));
    tbs.extend_from_slice(&sig_alg);
    tbs.extend_from_slice(issuer_name);
    tbs.extend(der(0x30, &[time_der(now)?, time_der(not_after)?].concat()));
    tbs.extend_from_slice(&spec.subject);
    tbs.extend_from_slice(&spki);
    tbs.extend(der(0xa3, &der(0x30, &exts)));
    let tbs = der(0x30, &tbs);
    let (sig_alg, sig) = signer.sign(&tbs)?;
    let cert = der(
        0x30,
        &[tbs, sig_alg, der(0x03, &[&[0][..], &sig].concat())].concat(),
    );
    let cert_pem = pem_encode("CERTIFICATE", &cert);
    Ok(cert_value(cert_pem.to_vec(), key.pem()?.to_vec()))
}

/// sprig's `parsePrivateKeyPEM` for the WithKey forms, errors worded as theirs.
fn given_key(pem: &Value<'_>) -> Result<Signer, FnError> {
    parse_private_key(pem.bytes()).map_err(|r| match r {
        Reject::Failed(reason) => FnError::Failed(format!("parsing private key: {reason}")),
        unsure => unsure.into(),
    })
}

/// A new RSA-2048 key, as sprig's generators without a key make.
fn new_rsa_2048(cx: &Cx<'_>) -> Result<Signer, FnError> {
    rsa(cx, aws_lc_rs::rsa::KeySize::Rsa2048, RSA_2048_STEPS)
}

pub(super) fn gen_ca<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [cn, days] = args(argv)?;
    let spec = spec(&cn, &Value::Nil, &Value::Nil, &days, true)?;
    certificate(cx, &spec, &new_rsa_2048(cx)?, None)
}

pub(super) fn gen_ca_with_key<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [cn, days, key] = args(argv)?;
    let key = given_key(&key)?;
    let spec = spec(&cn, &Value::Nil, &Value::Nil, &days, true)?;
    certificate(cx, &spec, &key, None)
}

pub(super) fn gen_self_signed_cert<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [cn, ips, dns, days] = args(argv)?;
    let spec = spec(&cn, &ips, &dns, &days, false)?;
    certificate(cx, &spec, &new_rsa_2048(cx)?, None)
}

pub(super) fn gen_self_signed_cert_with_key<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [cn, ips, dns, days, key] = args(argv)?;
    let key = given_key(&key)?;
    let spec = spec(&cn, &ips, &dns, &days, false)?;
    certificate(cx, &spec, &key, None)
}

/// The CA of genSignedCert: its certificate and key parsed and matching, as Go checks.
fn issuer_of(ca: &Value<'_>) -> Result<Issuer, FnError> {
    use x509_cert::der::{Decode as _, Encode as _};
    let Value::Cert(ca) = ca else {
        return Err(failed("the CA is not a certificate"));
    };
    let Some((_, der_bytes)) = pem_decode(&ca.cert) else {
        return Err(failed("unable to decode certificate"));
    };
    let cert = x509_cert::Certificate::from_der(&der_bytes)
        .map_err(|_| failed("error parsing certificate: decodedSignerCert.Bytes: malformed"))?;
    check_certificate(&der_bytes)?;
    let key = parse_private_key(&ca.key)?;
    let tbs = cert.tbs_certificate();
    let cert_spki = tbs
        .subject_public_key_info()
        .to_der()
        .map_err(|_| failed("error parsing certificate"))?;
    if cert_spki != key.spki()? {
        return Err(failed(
            "error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey",
        ));
    }
    let key_id = tbs
        .extensions()
        .and_then(|exts| exts.iter().find(|e| e.extn_id.to_string() == "2.5.29.14"))
        .and_then(|e| match der_tlv(e.extn_value.as_bytes()) {
            Some((0x04, id, b"")) if !id.is_empty() => Some(id.to_vec()),
            _ => None,
        });
    Ok(Issuer {
        subject: tbs
            .subject()
            .to_der()
            .map_err(|_| failed("error parsing certificate"))?,
        key_id,
        key,
    })
}

pub(super) fn gen_signed_cert<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [cn, ips, dns, days, ca] = args(argv)?;
    let issuer = issuer_of(&ca)?;
    let spec = spec(&cn, &ips, &dns, &days, false)?;
    certificate(cx, &spec, &new_rsa_2048(cx)?, Some(&issuer))
}

pub(super) fn gen_signed_cert_with_key<'a>(cx: &Cx<'a>, argv: Vec<Value<'a>>) -> R<'a> {
    let [cn, ips, dns, days, ca, key] = args(argv)?;
    let key = given_key(&key)?;
    let issuer = issuer_of(&ca)?;
    let spec = spec(&cn, &ips, &dns, &days, false)?;
    certificate(cx, &spec, &key, Some(&issuer))
}
