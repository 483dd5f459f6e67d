//! Fuzzing in the test suite.
//!
//! - `damaged_keys_never_leak_key_material`: the test vector key and the demo key damaged
//!   every way listed in `damaged_pem_variants` (about 10,700 inputs, PEM and key Secret
//!   shapes); no error's Display or Debug may show a 24-character run of the key's base64 or
//!   a 16-byte run of its DER (raw, hex or a byte list), and each is one short line. It failed
//!   before key errors became fixed texts: a BEGIN line missing a trailing dash made the PEM
//!   label run to the END line, and the error quoted it, key body and all (648 texts).
//! - Properties (proptest, a fresh seed each run; a failure prints its minimal input): YAML
//!   and JSON SealedSecret/Secret input, base64 as `shared::wire` decodes it, the wire format,
//!   PEM key and certificate files, and templates generated from a grammar of actions,
//!   pipelines, functions, literals and random bytes. Each checks panics, round trips where
//!   there are some, output size, time per case ([`CASE_TIME`], a hang detector) and memory:
//!   `allocation-counter` is the test binary's global allocator (the workspace forbids the
//!   unsafe code of our own) and counts this thread's live bytes, so parallel tests do not
//!   mix; each case's peak must stay under its property's bound (`*_peak_bound`).
//!
//! CI runs 256 cases per property (`PROPTEST_CASES` overrides it); each property prints how
//! many ran. The long local mode:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test -p shared --test fuzz --release
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use shared::keys::{Certificate, KeyError, PrivateKey, private_keys_from_backup};

const SEALING_KEY: &str = include_str!("vectors/sealing-key.pem");
const DEMO_KEY: &str = include_str!("../../examples/demo-key.pem");

// ---------------------------------------------------------------------------------------------
// Key material detection

/// Everything of a key that must never appear in an error: every 24-character run of its
/// base64 (the PEM body, the base64 of the whole PEM as a Secret's `data` holds it, and of the
/// PKCS#8 form) and every 16-byte run of its DER, raw, as hex or as a Rust byte list.
struct KeyMaterial {
    b64: HashSet<Vec<u8>>,
    der: HashSet<Vec<u8>>,
}

const B64_RUN: usize = 24;
const DER_RUN: usize = 16;

impl KeyMaterial {
    fn new() -> KeyMaterial {
        KeyMaterial {
            b64: HashSet::new(),
            der: HashSet::new(),
        }
    }

    fn add_b64(&mut self, text: &str) {
        for w in text.as_bytes().windows(B64_RUN) {
            self.b64.insert(w.to_vec());
        }
    }

    fn add_der(&mut self, der: &[u8]) {
        for w in der.windows(DER_RUN) {
            self.der.insert(w.to_vec());
        }
    }

    /// A key given as PEM: its body, its DER, its PKCS#8 form and the PEM's own base64.
    fn add_pem(&mut self, pem: &str) {
        let body = pem_body(pem);
        self.add_b64(&body);
        let der = STANDARD.decode(&body).unwrap();
        self.add_der(&der);
        self.add_b64(&STANDARD.encode(pkcs8_of(&der)));
        self.add_b64(&STANDARD.encode(pem));
    }

    /// Where `text` shows key material, if it does.
    fn find_in(&self, text: &[u8]) -> Option<String> {
        if let Some(w) = text.windows(B64_RUN).find(|w| self.b64.contains(*w)) {
            return Some(format!("base64 run {:?}", String::from_utf8_lossy(w)));
        }
        if let Some(w) = text.windows(DER_RUN).find(|w| self.der.contains(*w)) {
            return Some(format!("raw DER run {w:02x?}"));
        }
        // Hex, either case, at any alignment.
        let lower = text.to_ascii_lowercase();
        for start in 0..lower.len().saturating_sub(2 * DER_RUN - 1) {
            let run = &lower[start..start + 2 * DER_RUN];
            if run.iter().all(u8::is_ascii_hexdigit) {
                let bytes: Vec<u8> = run
                    .chunks(2)
                    .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
                    .collect();
                if self.der.contains(&bytes) {
                    return Some(format!("hex DER run {}", String::from_utf8_lossy(run)));
                }
            }
        }
        // Decimal byte lists, as `{:?}` prints a `Vec<u8>`.
        let numbers: Vec<Option<u8>> = text
            .split(|b| !b.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| std::str::from_utf8(s).unwrap().parse::<u8>().ok())
            .collect();
        for w in numbers.windows(DER_RUN) {
            if let Some(bytes) = w.iter().copied().collect::<Option<Vec<u8>>>()
                && self.der.contains(&bytes)
            {
                return Some(format!("decimal DER run {bytes:?}"));
            }
        }
        None
    }
}

/// A 24-character run of `b64` in `text`, if there is one.
fn b64_run_in(text: &str, b64: &str) -> Option<String> {
    let alphabet = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    text.split(|c: char| !alphabet(c))
        .filter(|run| run.len() >= B64_RUN)
        .flat_map(|run| run.as_bytes().windows(B64_RUN))
        .map(|w| std::str::from_utf8(w).expect("ASCII"))
        .find(|w| b64.contains(w))
        .map(|w| format!("base64 run {w:?}"))
}

/// The base64 between the first BEGIN and END lines of a well-formed PEM.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat()
}

/// DER length octets.
fn der_len(n: usize) -> Vec<u8> {
    match n {
        0..=0x7f => vec![n as u8],
        0x80..=0xff => vec![0x81, n as u8],
        _ => vec![0x82, (n >> 8) as u8, n as u8],
    }
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// rsaEncryption AlgorithmIdentifier with NULL parameters.
const RSA_ALG: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// Wraps PKCS#1 DER as a PKCS#8 PrivateKeyInfo.
fn pkcs8_of(pkcs1: &[u8]) -> Vec<u8> {
    let mut content = vec![0x02, 0x01, 0x00];
    content.extend_from_slice(RSA_ALG);
    content.extend(der_tlv(0x04, pkcs1));
    der_tlv(0x30, &content)
}

fn pem_of(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

// ---------------------------------------------------------------------------------------------
// Damaged keys

/// One damaged input and how it was made.
struct Damaged {
    how: String,
    input: Vec<u8>,
}

fn damaged(how: impl Into<String>, input: impl Into<Vec<u8>>) -> Damaged {
    Damaged {
        how: how.into(),
        input: input.into(),
    }
}

/// Byte-level damage at one position: drop, duplicate, flip, and insertions.
fn byte_damage(text: &[u8], at: usize, out: &mut Vec<Damaged>, what: &str) {
    let with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = text.to_vec();
        f(&mut v);
        v
    };
    out.push(damaged(
        format!("{what}: drop byte {at}"),
        with(&|v| {
            v.remove(at);
        }),
    ));
    out.push(damaged(
        format!("{what}: duplicate byte {at}"),
        with(&|v| v.insert(at, v[at])),
    ));
    for mask in [0x01u8, 0x20, 0x80] {
        out.push(damaged(
            format!("{what}: flip byte {at} by {mask:#x}"),
            with(&|v| v[at] ^= mask),
        ));
    }
    for (name, b) in [
        ("newline", b'\n'),
        ("NUL", 0),
        ("ESC", 0x1b),
        ("space", b' '),
        ("dash", b'-'),
    ] {
        out.push(damaged(
            format!("{what}: insert {name} at {at}"),
            with(&|v| v.insert(at, b)),
        ));
    }
}

/// Every way of damaging the PEM key `pem` that the tests try.
fn damaged_pem_variants(pem: &str) -> Vec<Damaged> {
    let mut out = Vec::new();
    let bytes = pem.as_bytes();
    let lines: Vec<&str> = pem.lines().collect();
    let header = lines[0];
    let footer = lines[lines.len() - 1];
    let body_lines = &lines[1..lines.len() - 1];
    let header_span = 0..header.len() + 1;
    let footer_start = pem.rfind("-----END").unwrap();
    let footer_span = footer_start..bytes.len();

    // Every position of the header and footer lines, newline included.
    for at in header_span.clone().chain(footer_span.clone()) {
        byte_damage(bytes, at, &mut out, "header/footer");
    }
    // The finding itself: a dash missing from the BEGIN line, at either end.
    out.push(damaged(
        "BEGIN line missing its last dash",
        pem.replacen("KEY-----\n", "KEY----\n", 1),
    ));
    out.push(damaged(
        "BEGIN line missing its first dash",
        pem.replacen("-----BEGIN", "----BEGIN", 1),
    ));

    // Truncations: every 16th byte, and every byte near the ends.
    let mut cuts: Vec<usize> = (0..bytes.len()).step_by(16).collect();
    cuts.extend(0..48.min(bytes.len()));
    cuts.extend(bytes.len().saturating_sub(48)..bytes.len());
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        out.push(damaged(format!("truncated at {cut}"), &bytes[..cut]));
    }

    // Whole-line and label changes.
    let body = body_lines.join("\n");
    let with_lines = |h: &str, f: &str| format!("{h}\n{body}\n{f}\n");
    out.push(damaged(
        "BEGIN and END lines swapped",
        with_lines(footer, header),
    ));
    out.push(damaged(
        "BEGIN and END labels swapped",
        pem.replace("BEGIN", "\u{1}")
            .replace("END", "BEGIN")
            .replace('\u{1}', "END"),
    ));
    out.push(damaged("every dash removed", pem.replace('-', "")));
    out.push(damaged(
        "dashes removed from the BEGIN line",
        with_lines(&header.replace('-', ""), footer),
    ));
    out.push(damaged(
        "dashes removed from the END line",
        with_lines(header, &footer.replace('-', "")),
    ));
    out.push(damaged("no BEGIN line", format!("{body}\n{footer}\n")));
    out.push(damaged("no END line", format!("{header}\n{body}\n")));
    out.push(damaged("only the body", format!("{body}\n")));
    out.push(damaged(
        "BEGIN line twice",
        with_lines(&format!("{header}\n{header}"), footer),
    ));
    out.push(damaged(
        "END line twice",
        with_lines(header, &format!("{footer}\n{footer}")),
    ));
    out.push(damaged("two BEGIN lines", with_lines(header, header)));
    out.push(damaged("two END lines", with_lines(footer, footer)));
    out.push(damaged(
        "BEGIN line joined to the body",
        format!("{header}{body}\n{footer}\n"),
    ));
    out.push(damaged(
        "END line joined to the body",
        format!("{header}\n{body}{footer}\n"),
    ));
    out.push(damaged("all on one line", pem.replace('\n', "")));
    out.push(damaged(
        "all on one line with spaces",
        pem.replace('\n', " "),
    ));
    out.push(damaged("CRLF line ends", pem.replace('\n', "\r\n")));
    out.push(damaged("CR line ends", pem.replace('\n', "\r")));
    out.push(damaged(
        "indented",
        pem.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>(),
    ));
    out.push(damaged("lower case", pem.to_lowercase()));
    out.push(damaged("upper case", pem.to_uppercase()));
    out.push(damaged(
        "encryption headers",
        pem.replacen(
            "-----\n",
            "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF\n\n",
            1,
        ),
    ));
    let label = header
        .trim_start_matches("-----BEGIN ")
        .trim_end_matches('-');
    let long_label = "RSA PRIVATE KEY ".repeat(20);
    let first_body_line = body_lines[0];
    let control_label = "RSA\u{7}PRIVATE\u{0}KEY\u{1b}[31m";
    for new_label in [
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "RSA PUBLIC KEY",
        "PUBLIC KEY",
        "CERTIFICATE",
        "",
        " ",
        "rsa private key",
        "RSA PRIVATE KEY ",
        long_label.trim_end(),
        first_body_line,
        &body_lines[..4].concat(),
        control_label,
    ] {
        out.push(damaged(
            format!("label changed to {:.40?}", new_label),
            pem.replace(label, new_label),
        ));
        out.push(damaged(
            format!("BEGIN label changed to {:.40?}", new_label),
            pem.replacen(label, new_label, 1),
        ));
    }
    out.push(damaged(
        "body as the BEGIN label",
        format!("-----BEGIN {}-----\n{footer}\n", body_lines.concat()),
    ));
    out.push(damaged(
        "body as the END label",
        format!("{header}\n-----END {}-----\n", body_lines.concat()),
    ));

    // Base64 damage in the body: characters at spread positions, then whole lines.
    let body_start = header.len() + 1;
    let body_end = footer_start;
    let mut positions: Vec<usize> = (body_start..body_end).step_by(37).collect();
    positions.extend([body_start, body_start + 1, body_end - 3, body_end - 2]);
    for at in positions {
        let c = bytes[at];
        for (name, replacement) in [
            ("'!'", "!"),
            ("'-'", "-"),
            ("'*'", "*"),
            ("NUL", "\0"),
            ("DEL", "\u{7f}"),
            ("'é'", "é"),
            ("'='", "="),
            ("':'", ":"),
        ] {
            let mut v = bytes[..at].to_vec();
            v.extend_from_slice(replacement.as_bytes());
            v.extend_from_slice(&bytes[at + 1..]);
            out.push(damaged(format!("body byte {at} replaced by {name}"), v));
        }
        let mut v = bytes.to_vec();
        v[at] = if c.is_ascii_lowercase() {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        };
        out.push(damaged(format!("body byte {at} case flipped"), v));
        let mut v = bytes.to_vec();
        v.remove(at);
        out.push(damaged(format!("body byte {at} dropped"), v));
        let mut v = bytes.to_vec();
        v.insert(at, b'A');
        out.push(damaged(format!("'A' inserted at body byte {at}"), v));
    }
    let n = body_lines.len();
    for i in [0, 1, n / 2, n - 2, n - 1] {
        let mut ls: Vec<String> = body_lines.iter().map(|s| s.to_string()).collect();
        ls.remove(i);
        out.push(damaged(
            format!("body line {i} removed"),
            with_lines_of(header, &ls, footer),
        ));
        let mut ls: Vec<String> = body_lines.iter().map(|s| s.to_string()).collect();
        ls.insert(i, ls[i].clone());
        out.push(damaged(
            format!("body line {i} duplicated"),
            with_lines_of(header, &ls, footer),
        ));
        let mut ls: Vec<String> = body_lines.iter().map(|s| s.to_string()).collect();
        ls.swap(i, (i + 1) % n);
        out.push(damaged(
            format!("body lines {i} and next swapped"),
            with_lines_of(header, &ls, footer),
        ));
        for (name, extra) in [
            ("blank", ""),
            ("garbage", "this is not base64 at all!"),
            ("NUL", "\0\0\0"),
            ("control", "\u{1b}[2J\u{7}"),
            ("END-like", "-----END"),
        ] {
            let mut ls: Vec<String> = body_lines.iter().map(|s| s.to_string()).collect();
            ls.insert(i, extra.to_owned());
            out.push(damaged(
                format!("{name} line inserted before body line {i}"),
                with_lines_of(header, &ls, footer),
            ));
        }
    }
    out.push(damaged("padding removed", pem.replace('=', "")));
    out.push(damaged("padding doubled", pem.replace('=', "==")));

    // DER damage under valid base64: PKCS#1 as it is, and wrapped in PKCS#8.
    let der = STANDARD.decode(pem_body(pem)).unwrap();
    der_damage(&der, "RSA PRIVATE KEY", "PKCS#1", &mut out);
    let pkcs8 = pkcs8_of(&der);
    out.push(damaged("valid PKCS#8", pem_of("PRIVATE KEY", &pkcs8)));
    out.push(damaged(
        "PKCS#8 labelled RSA PRIVATE KEY",
        pem_of("RSA PRIVATE KEY", &pkcs8),
    ));
    out.push(damaged(
        "PKCS#1 labelled PRIVATE KEY",
        pem_of("PRIVATE KEY", &der),
    ));
    der_damage(&pkcs8, "PRIVATE KEY", "PKCS#8", &mut out);
    let wrapper = |version: &[u8], alg: &[u8], inner: &[u8]| {
        let mut content = version.to_vec();
        content.extend_from_slice(alg);
        content.extend_from_slice(inner);
        pem_of("PRIVATE KEY", &der_tlv(0x30, &content))
    };
    let octets = der_tlv(0x04, &der);
    let v0: &[u8] = &[0x02, 0x01, 0x00];
    let ec_alg: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let ed_alg: &[u8] = &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];
    let no_null: &[u8] = &[
        0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
    ];
    let pss_alg: &[u8] = &[
        0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
    ];
    out.push(damaged(
        "PKCS#8 version 1",
        wrapper(&[0x02, 0x01, 0x01], RSA_ALG, &octets),
    ));
    out.push(damaged(
        "PKCS#8 version 7",
        wrapper(&[0x02, 0x01, 0x07], RSA_ALG, &octets),
    ));
    out.push(damaged("PKCS#8 no version", wrapper(&[], RSA_ALG, &octets)));
    out.push(damaged(
        "PKCS#8 with the EC algorithm",
        wrapper(v0, ec_alg, &octets),
    ));
    out.push(damaged(
        "PKCS#8 with the Ed25519 algorithm",
        wrapper(v0, ed_alg, &octets),
    ));
    out.push(damaged(
        "PKCS#8 with the RSA-PSS algorithm",
        wrapper(v0, pss_alg, &octets),
    ));
    out.push(damaged(
        "PKCS#8 without NULL parameters",
        wrapper(v0, no_null, &octets),
    ));
    out.push(damaged(
        "PKCS#8 with a BIT STRING key",
        wrapper(v0, RSA_ALG, &der_tlv(0x03, &der)),
    ));
    out.push(damaged(
        "PKCS#8 with the key as a SEQUENCE",
        wrapper(v0, RSA_ALG, &der),
    ));
    out.push(damaged(
        "PKCS#8 with trailing data",
        wrapper(v0, RSA_ALG, &[octets.clone(), vec![0x05, 0x00]].concat()),
    ));
    out.push(damaged(
        "PKCS#8 with a truncated key",
        wrapper(v0, RSA_ALG, &der_tlv(0x04, &der[..der.len() / 2])),
    ));
    out.push(damaged(
        "PKCS#8 with an empty key",
        wrapper(v0, RSA_ALG, &der_tlv(0x04, &[])),
    ));
    out
}

fn with_lines_of(header: &str, body: &[String], footer: &str) -> String {
    format!("{header}\n{}\n{footer}\n", body.join("\n"))
}

/// DER damage at the structure's start, spread through it and at its end, re-encoded as valid
/// PEM so the DER parsers see it.
fn der_damage(der: &[u8], label: &str, what: &str, out: &mut Vec<Damaged>) {
    let mut positions: Vec<usize> = (0..40).collect();
    positions.extend((40..der.len()).step_by(97));
    positions.extend(der.len() - 8..der.len());
    for at in positions {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut v = der.to_vec();
            v[at] ^= mask;
            out.push(damaged(
                format!("{what} DER byte {at} flipped by {mask:#x}"),
                pem_of(label, &v),
            ));
        }
        let mut v = der.to_vec();
        v.remove(at);
        out.push(damaged(
            format!("{what} DER byte {at} dropped"),
            pem_of(label, &v),
        ));
    }
    for cut in (0..der.len()).step_by(131).chain([der.len() - 1]) {
        out.push(damaged(
            format!("{what} DER truncated at {cut}"),
            pem_of(label, &der[..cut]),
        ));
    }
    out.push(damaged(
        format!("{what} DER with trailing bytes"),
        pem_of(label, &[der, &[0, 0, 0, 0]].concat()),
    ));
    out.push(damaged(
        format!("{what} DER twice"),
        pem_of(label, &[der, der].concat()),
    ));
}

/// The same damaged PEM as a key Secret would carry it: `data` (base64), `stringData` (a YAML
/// block and a quoted string), and inside a JSON `List`.
fn as_secrets(d: &Damaged) -> Vec<Damaged> {
    let pem = String::from_utf8_lossy(&d.input);
    let b64 = STANDARD.encode(&d.input);
    let head = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: damaged-key\n  namespace: kube-system\ntype: kubernetes.io/tls\n";
    let block: String = pem.lines().map(|l| format!("    {l}\n")).collect();
    let quoted = serde_json::to_string(&pem).unwrap();
    let json_secret = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "damaged-key"},
        "data": {"tls.crt": "", "tls.key": b64},
    });
    vec![
        damaged(
            format!("{} (Secret data)", d.how),
            format!("{head}data:\n  tls.crt: \"\"\n  tls.key: {b64}\n"),
        ),
        damaged(
            format!("{} (Secret stringData block)", d.how),
            format!("{head}stringData:\n  tls.key: |\n{block}"),
        ),
        damaged(
            format!("{} (Secret stringData quoted)", d.how),
            format!("{head}stringData:\n  tls.key: {quoted}\n"),
        ),
        damaged(
            format!("{} (JSON List)", d.how),
            serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [json_secret]})
                .to_string(),
        ),
    ]
}

/// Damage to a Secret's `tls.key` base64 itself.
fn damaged_secret_data(pem: &str) -> Vec<Damaged> {
    let b64 = STANDARD.encode(pem);
    let head = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: damaged-key\ntype: kubernetes.io/tls\ndata:\n  tls.key: ";
    let mut out = Vec::new();
    for at in (0..b64.len()).step_by(211).chain([b64.len() - 1]) {
        for (name, c) in [("'!'", "!"), ("'-'", "-"), ("space", " ")] {
            let v = format!("{}{c}{}", &b64[..at], &b64[at + 1..]);
            out.push(damaged(
                format!("tls.key base64 byte {at} -> {name}"),
                format!("{head}{v}\n"),
            ));
        }
        out.push(damaged(
            format!("tls.key base64 truncated at {at}"),
            format!("{head}{}\n", &b64[..at]),
        ));
    }
    out.push(damaged(
        "tls.key is a number",
        format!("{head}12345678901234567890\n"),
    ));
    out.push(damaged("tls.key is a map", format!("{head}{{a: b}}\n")));
    out
}

/// Which PEM variants are also tried in the Secret shapes: every 8th, and those of the BEGIN
/// and END lines and labels (all of them would triple the run time for little: the Secret
/// shapes end in the same PEM parser).
fn also_as_secret(i: usize, d: &Damaged) -> bool {
    i.is_multiple_of(8)
        || d.how.contains("dash")
        || d.how.contains("label")
        || (d.how.starts_with("header/footer") && i.is_multiple_of(2))
}

/// The first 120 characters of `text`, for failure messages.
fn clip(text: &str) -> String {
    text.chars().take(120).collect()
}

/// A key file read as `seal --recovery-private-key` reads one (seal-cli's `decode::private_keys`
/// splits documents the same way): JSON or YAML documents, else the text as PEM.
fn parse_private_keys(input: &[u8]) -> Result<Vec<PrivateKey>, KeyError> {
    let text = String::from_utf8_lossy(input);
    let docs = serde_saphyr::from_multiple::<serde_json::Value>(&text).unwrap_or_default();
    private_keys_from_backup(&docs, &text)
}

/// Runs the parser entry points on `input` and returns each error's Display and Debug:
/// `parse_private_keys` (what `seal --recovery-private-key` reads) always, and for a PEM
/// `PrivateKey::from_pem` (what the controller reads from a key Secret's `tls.key`; it reads
/// a PEM exactly as `parse_private_keys` does, so it only runs where that failed).
fn parse_errors(input: &[u8], pem: bool) -> Vec<String> {
    let mut texts = Vec::new();
    if let Err(e) = parse_private_keys(input) {
        texts.push(e.to_string());
        texts.push(format!("{e:?}"));
        if pem
            && let Ok(text) = std::str::from_utf8(input)
            && let Err(e) = PrivateKey::from_pem(text)
        {
            texts.push(e.to_string());
            texts.push(format!("{e:?}"));
        }
    }
    texts
}

/// Checks error texts for key material and for being one short line.
struct Checker {
    material: KeyMaterial,
    seen: HashSet<String>,
    inputs: usize,
    texts: usize,
    failures: Vec<String>,
}

impl Checker {
    /// Parses `d` and checks every error text; `extra` is more base64 that must not show.
    /// Returns whether parsing failed.
    fn check(&mut self, key: &str, d: &Damaged, pem: bool, extra: Option<&str>) -> bool {
        self.inputs += 1;
        let texts = parse_errors(&d.input, pem);
        for text in &texts {
            self.texts += 1;
            let mut leak = extra.and_then(|b64| b64_run_in(text, b64));
            // The same text (most are) needs checking against the key once.
            if leak.is_none() && self.seen.insert(text.clone()) {
                leak = self.material.find_in(text.as_bytes());
            }
            if let Some(leak) = leak {
                self.failures
                    .push(format!("{key}, {}: {leak} in {:?}", d.how, clip(text)));
            } else if text.contains('\n') || text.len() > 400 {
                self.failures.push(format!(
                    "{key}, {}: not one short line: {:?}",
                    d.how,
                    clip(text)
                ));
            }
        }
        !texts.is_empty()
    }
}

#[test]
fn damaged_keys_never_leak_key_material() {
    let mut total = (0, 0);
    for (name, pem) in [("sealing-key.pem", SEALING_KEY), ("demo-key.pem", DEMO_KEY)] {
        let mut material = KeyMaterial::new();
        material.add_pem(pem);
        let mut checker = Checker {
            material,
            seen: HashSet::new(),
            inputs: 0,
            texts: 0,
            failures: Vec::new(),
        };
        let mut secrets = Vec::new();
        for (i, d) in damaged_pem_variants(pem).iter().enumerate() {
            // A variant that still parses is no more interesting as a Secret.
            if checker.check(name, d, true, None) && also_as_secret(i, d) {
                secrets.extend(as_secrets(d));
            }
        }
        secrets.extend(damaged_secret_data(pem));
        for d in &secrets {
            // A Secret's base64 of the damaged PEM is key material too: every long base64
            // run of the input is that.
            let input = String::from_utf8_lossy(&d.input);
            checker.check(name, d, false, Some(&input));
        }
        eprintln!(
            "damaged keys, {name}: {} damaged inputs, {} error texts checked",
            checker.inputs, checker.texts
        );
        assert!(
            checker.failures.is_empty(),
            "{name}: {} of {} error texts show key material or are not one line:\n{}",
            checker.failures.len(),
            checker.texts,
            checker.failures[..checker.failures.len().min(40)].join("\n")
        );
        total.0 += checker.inputs;
        total.1 += checker.texts;
    }
    eprintln!(
        "damaged keys: {} damaged inputs, {} error texts checked",
        total.0, total.1
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests: the harness

/// Cases per property: `PROPTEST_CASES`, else 256.
fn config() -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    proptest::test_runner::Config {
        cases,
        // A failure prints its minimal input; nothing is written into the source tree.
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

/// The hang detector: no case of any property may take longer. Generous, since CI runs
/// unoptimised on two shared cores; a release run (the long local mode) gets less.
const CASE_TIME: Duration = if cfg!(debug_assertions) {
    Duration::from_secs(10)
} else {
    Duration::from_secs(2)
};

/// Runs `f` under the counting allocator (this thread's allocations only, so parallel tests
/// do not mix) and the clock. Fails the case if it panics, if its peak of live bytes exceeds
/// `max_peak`, or if it takes longer than [`CASE_TIME`].
fn bounded<T>(
    what: &str,
    max_peak: usize,
    f: impl FnOnce() -> T,
) -> Result<(T, u64), TestCaseError> {
    let mut out = None;
    let start = Instant::now();
    let info = allocation_counter::measure(|| {
        out = Some(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    let took = start.elapsed();
    let out = match out.expect("measured closure ran") {
        Ok(out) => out,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            return Err(TestCaseError::fail(format!("{what} panicked: {msg}")));
        }
    };
    if info.bytes_max > max_peak as u64 {
        return Err(TestCaseError::fail(format!(
            "{what}: peak of {} live bytes, over the bound of {max_peak}",
            info.bytes_max
        )));
    }
    if took > CASE_TIME {
        return Err(TestCaseError::fail(format!(
            "{what}: took {took:?}, over the bound of {CASE_TIME:?}"
        )));
    }
    Ok((out, info.bytes_max))
}

/// Runs a property and prints how many cases ran, for the CI log.
fn property<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: fmt::Debug,
{
    let config = config();
    let wanted = config.cases;
    let mut runner = TestRunner::new(config);
    let cases = AtomicU64::new(0);
    let slowest = AtomicU64::new(0);
    let start = Instant::now();
    let result = runner.run(&strategy, |value| {
        cases.fetch_add(1, Ordering::Relaxed);
        let case = Instant::now();
        let result = test(value);
        slowest.fetch_max(case.elapsed().as_micros() as u64, Ordering::Relaxed);
        result
    });
    eprintln!(
        "fuzz property {name}: {} cases run ({wanted} wanted) in {:.1?}, slowest {:.1?}",
        cases.load(Ordering::Relaxed),
        start.elapsed(),
        Duration::from_micros(slowest.load(Ordering::Relaxed))
    );
    if let Err(e) = result {
        panic!("property {name} failed: {e}");
    }
}

/// A few random edits to `text`: flips, deletions, duplications, truncation, and insertions
/// of `snippets` (fragments the parser under test cares about).
fn mutated(text: Vec<u8>, snippets: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let len = text.len().max(1);
    let edit = prop_oneof![
        (0..len, any::<u8>()).prop_map(|(at, b)| Edit::Flip(at, b)),
        (0..len, 1..64usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (0..len, 1..64usize).prop_map(|(at, n)| Edit::Duplicate(at, n)),
        (0..len, prop::sample::select(snippets)).prop_map(|(at, s)| Edit::Insert(at, s)),
        (0..len, prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, b)| Edit::Bytes(at, b)),
        (0..len).prop_map(Edit::Truncate),
    ];
    prop::collection::vec(edit, 0..6).prop_map(move |edits| {
        let mut v = text.clone();
        for e in edits {
            e.apply(&mut v);
        }
        v
    })
}

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, &'static str),
    Bytes(usize, Vec<u8>),
    Truncate(usize),
}

impl Edit {
    fn apply(self, v: &mut Vec<u8>) {
        let clamp = |at: usize, v: &Vec<u8>| at.min(v.len());
        match self {
            Edit::Flip(at, b) if at < v.len() => v[at] ^= b | 1,
            Edit::Flip(..) => {}
            Edit::Delete(at, n) => {
                let at = clamp(at, v);
                let end = (at + n).min(v.len());
                v.drain(at..end);
            }
            Edit::Duplicate(at, n) => {
                let at = clamp(at, v);
                let end = (at + n).min(v.len());
                let copy = v[at..end].to_vec();
                v.splice(at..at, copy);
            }
            Edit::Insert(at, s) => {
                let at = clamp(at, v);
                v.splice(at..at, s.bytes());
            }
            Edit::Bytes(at, b) => {
                let at = clamp(at, v);
                v.splice(at..at, b);
            }
            Edit::Truncate(at) => v.truncate(at),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Properties: YAML and JSON SealedSecret and Secret input

/// A parse of N bytes may hold at most this many live bytes per input byte, plus
/// [`PARSE_PEAK_FIXED`]: linear in N. A value tree costs some tens of bytes per node, and a
/// node can be two bytes of input (`[0,0,0,...]`).
const PARSE_PEAK_PER_BYTE: usize = 256;
const PARSE_PEAK_FIXED: usize = 256 << 10;

fn parse_peak_bound(n: usize) -> usize {
    PARSE_PEAK_PER_BYTE * n + PARSE_PEAK_FIXED
}

/// YAML aliases are the exception: serde_saphyr expands them up to its default budget of
/// 250,000 nodes, so a few hundred bytes of nested aliases peak at tens of MiB (446 bytes:
/// 57 MB; 1,162 bytes: 92 MB). Bounded, but not linear in N. An input with an alias gets this
/// much more.
const YAML_ALIAS_PEAK: usize = 160 << 20;

/// Input bytes, shown as text when a case fails.
#[derive(Clone)]
struct Text(Vec<u8>);

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// Keys that matter to a SealedSecret or Secret, and some that do not.
const KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "annotations",
    "labels",
    "spec",
    "encryptedData",
    "template",
    "data",
    "stringData",
    "type",
    "immutable",
    "status",
    "conditions",
    "observedGeneration",
    "creationTimestamp",
    "items",
    "tls.key",
    "sealedsecrets.bitnami.com/cluster-wide",
    "",
    "x",
    "<<",
];

fn json_leaf() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-zA-Z0-9+/=]{0,40}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
        prop::sample::select(KEYS).prop_map(|k| Value::String(k.to_owned())),
        prop::sample::select(
            &[
                "v1",
                "bitnami.com/v1alpha1",
                "SealedSecret",
                "Secret",
                "List",
                "true",
                "null",
                "~",
                "0x1f",
                "1e999",
                "2026-01-01T00:00:00Z"
            ][..]
        )
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    json_leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(str::to_owned),
                        "[a-z.]{0,12}"
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A SealedSecret- or Secret-shaped document whose every part may be replaced by anything.
fn resource_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{Value, json};
    let field = |good: BoxedStrategy<Value>| prop_oneof![4 => good, 1 => json_value()].boxed();
    let strings = prop::collection::btree_map("[a-zA-Z0-9._-]{0,12}", "[a-zA-Z0-9+/=]{0,64}", 0..5)
        .prop_map(|m| json!(m))
        .boxed();
    let metadata = (
        field("[a-z0-9.-]{0,20}".prop_map(Value::String).boxed()),
        field("[a-z0-9-]{0,12}".prop_map(Value::String).boxed()),
        field(strings.clone()),
    )
        .prop_map(|(name, namespace, annotations)| {
            json!({"name": name, "namespace": namespace, "annotations": annotations})
        });
    let template = (field(metadata.clone().boxed()), field(strings.clone()), field(any::<bool>().prop_map(Value::Bool).boxed()))
        .prop_map(|(metadata, data, immutable)| {
            json!({"metadata": metadata, "type": "Opaque", "immutable": immutable, "data": data})
        });
    (
        prop::sample::select(&["SealedSecret", "Secret", "List", "Other"][..]),
        field(metadata.boxed()),
        field(strings.clone()),
        field(template.boxed()),
        field(strings),
        any::<u8>(),
    )
        .prop_map(|(kind, metadata, encrypted, template, data, drop)| {
            let mut doc = json!({
                "apiVersion": if kind == "SealedSecret" { "bitnami.com/v1alpha1" } else { "v1" },
                "kind": kind,
                "metadata": metadata,
                "spec": {"encryptedData": encrypted, "template": template},
                "data": data,
            });
            // Drop one field now and then.
            if let Some(obj) = doc.as_object_mut() {
                let keys: Vec<String> = obj.keys().cloned().collect();
                if drop % 3 == 0 && !keys.is_empty() {
                    obj.remove(&keys[usize::from(drop) % keys.len()]);
                }
            }
            doc
        })
}

const YAML_SNIPPETS: &[&str] = &[
    "&a ",
    "*a",
    "<<: *a\n",
    "!!binary ",
    "!!str ",
    "!tag ",
    "---\n",
    "...\n",
    "? ",
    "- ",
    ": ",
    "|\n  ",
    ">-\n  ",
    "\"\\u0000\"",
    "'",
    "#c\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\t",
    "\n",
    "\n  ",
    "~",
    "%YAML 1.2\n",
    "\u{feff}",
    "\r",
    "\0",
    "null",
    "0x",
    "-.inf",
    "\"",
    "\\",
    "&b [1,2,3]\n",
    "[*a,*a,*a,*a]",
];

const JSON_SNIPPETS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\u0000",
    "\\ud800",
    "1e999999",
    "-0",
    "null",
    "true",
    "[[[[[[[[",
    "]]]]]]]]",
    "{\"a\":",
    "\u{feff}",
    "\0",
    " ",
    "\n",
    "\"\\",
    "9999999999999999999999",
];

/// Nested aliases: `depth` levels, each `fanout` references to the one below; small enough
/// here to stay under serde_saphyr's node budget (see `yaml_alias_bomb_is_bounded`).
fn alias_bomb() -> impl Strategy<Value = Vec<u8>> {
    (1usize..6, 1usize..7, prop::bool::ANY)
        .prop_map(|(depth, fanout, flow)| alias_bomb_text(depth, fanout, flow).into_bytes())
}

fn alias_bomb_text(depth: usize, fanout: usize, flow: bool) -> String {
    let mut text = String::from("a0: &a0 [x, y, z]\n");
    for level in 1..=depth {
        let refs = vec![format!("*a{}", level - 1); fanout].join(", ");
        if flow {
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        } else {
            text.push_str(&format!("a{level}: &a{level}\n"));
            for _ in 0..fanout {
                text.push_str(&format!("  - *a{}\n", level - 1));
            }
        }
    }
    text.push_str(&format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: *a{depth}\nspec:\n  encryptedData:\n    k: *a{depth}\n"
    ));
    text
}

/// The finding behind [`YAML_ALIAS_PEAK`]: 446 bytes of nested aliases make serde_saphyr
/// build nodes until its 250,000-node budget stops it. Bounded, not linear.
#[test]
fn yaml_alias_bomb_is_bounded() {
    let text = alias_bomb_text(5, 11, true);
    let (result, peak) = bounded("alias bomb", YAML_ALIAS_PEAK, || {
        serde_saphyr::from_str::<shared::SealedSecret>(&text).map(|_| ())
    })
    .unwrap();
    let err = result.unwrap_err().to_string();
    assert!(err.contains("budget breached"), "{err}");
    eprintln!(
        "yaml alias bomb: {} bytes of input peaked at {peak} bytes",
        text.len()
    );
}

fn yaml_input() -> impl Strategy<Value = Text> {
    let any_yaml = prop_oneof![
        4 => resource_value()
            .prop_map(|v| serde_saphyr::to_string(&v).unwrap_or_default().into_bytes())
            .prop_flat_map(|text| mutated(text, YAML_SNIPPETS)),
        2 => json_value()
            .prop_map(|v| serde_saphyr::to_string(&v).unwrap_or_default().into_bytes())
            .prop_flat_map(|text| mutated(text, YAML_SNIPPETS)),
        1 => resource_value()
            .prop_map(|v| serde_json::to_vec(&v).unwrap())
            .prop_flat_map(|text| mutated(text, YAML_SNIPPETS)),
        1 => alias_bomb(),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ];
    any_yaml.prop_map(Text)
}

fn json_input() -> impl Strategy<Value = Text> {
    let any_json = prop_oneof![
        4 => resource_value()
            .prop_map(|v| serde_json::to_vec(&v).unwrap())
            .prop_flat_map(|text| mutated(text, JSON_SNIPPETS)),
        1 => resource_value()
            .prop_map(|v| serde_json::to_vec_pretty(&v).unwrap())
            .prop_flat_map(|text| mutated(text, JSON_SNIPPETS)),
        2 => json_value()
            .prop_map(|v| serde_json::to_vec(&v).unwrap())
            .prop_flat_map(|text| mutated(text, JSON_SNIPPETS)),
        1 => (1usize..4096).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ];
    any_json.prop_map(Text)
}

/// The largest peak a property saw, and the largest peak per input byte over inputs of at
/// least 1 KiB, for the CI log.
struct PeakRatio(AtomicU64, AtomicU64);

impl PeakRatio {
    const fn new() -> PeakRatio {
        PeakRatio(AtomicU64::new(0), AtomicU64::new(0))
    }
    fn record(&self, peak: u64, n: usize) {
        self.0.fetch_max(peak, Ordering::Relaxed);
        if n >= 1024 {
            self.1.fetch_max(peak / n as u64, Ordering::Relaxed);
        }
    }
    fn report(&self, name: &str) {
        eprintln!(
            "fuzz property {name}: largest peak {} bytes; {} bytes per input byte at most (inputs of 1 KiB or more)",
            self.0.load(Ordering::Relaxed),
            self.1.load(Ordering::Relaxed)
        );
    }
}

#[test]
fn yaml_input_parses_within_bounds() {
    use k8s_openapi::api::core::v1::Secret;
    use shared::SealedSecret;
    static RATIO: PeakRatio = PeakRatio::new();
    static ALIASED: PeakRatio = PeakRatio::new();
    property("yaml_input", yaml_input(), |Text(bytes)| {
        let n = bytes.len();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let aliases = bytes.contains(&b'*');
        let bound = parse_peak_bound(n) + if aliases { YAML_ALIAS_PEAK } else { 0 };
        let (_, peak) = bounded("YAML parse", bound, || {
            let one = serde_saphyr::from_str::<SealedSecret>(&text);
            let many = serde_saphyr::from_multiple::<SealedSecret>(&text);
            let secret = serde_saphyr::from_str::<Secret>(&text);
            let value = serde_saphyr::from_str::<serde_json::Value>(&text);
            (one.is_ok(), many.is_ok(), secret.is_ok(), value.is_ok())
        })?;
        if aliases {
            ALIASED.record(peak, n);
        } else {
            RATIO.record(peak, n);
        }
        // What parses as a SealedSecret survives a JSON and a YAML round trip.
        if let Ok(sealed) = serde_saphyr::from_str::<SealedSecret>(&text) {
            let json = serde_json::to_value(&sealed).unwrap();
            let again: SealedSecret = serde_json::from_value(json.clone())
                .map_err(|e| TestCaseError::fail(format!("JSON round trip: {e}")))?;
            prop_assert_eq!(serde_json::to_value(&again).unwrap(), json.clone());
            let yaml = serde_saphyr::to_string(&sealed).unwrap();
            let again: SealedSecret = serde_saphyr::from_str(&yaml)
                .map_err(|e| TestCaseError::fail(format!("YAML round trip: {e}\n{yaml}")))?;
            prop_assert_eq!(serde_json::to_value(&again).unwrap(), json);
        }
        Ok(())
    });
    RATIO.report("yaml_input (no aliases)");
    ALIASED.report("yaml_input (with aliases)");
}

#[test]
fn json_input_parses_within_bounds() {
    use k8s_openapi::api::core::v1::Secret;
    use shared::SealedSecret;
    static RATIO: PeakRatio = PeakRatio::new();
    property("json_input", json_input(), |Text(bytes)| {
        let n = bytes.len();
        let (_, peak) = bounded("JSON parse", parse_peak_bound(n), || {
            let one = serde_json::from_slice::<SealedSecret>(&bytes).is_ok();
            let secret = serde_json::from_slice::<Secret>(&bytes).is_ok();
            // Concatenated documents, as `seal` reads its input.
            let stream = serde_json::Deserializer::from_slice(&bytes)
                .into_iter::<serde_json::Value>()
                .take_while(Result::is_ok)
                .count();
            (one, secret, stream)
        })?;
        RATIO.record(peak, n);
        if let Ok(sealed) = serde_json::from_slice::<SealedSecret>(&bytes) {
            let json = serde_json::to_value(&sealed).unwrap();
            let again: SealedSecret = serde_json::from_value(json.clone())
                .map_err(|e| TestCaseError::fail(format!("JSON round trip: {e}")))?;
            prop_assert_eq!(serde_json::to_value(&again).unwrap(), json);
        }
        Ok(())
    });
    RATIO.report("json_input");
}

// ---------------------------------------------------------------------------------------------
// Properties: base64 and the wire format

/// Decoding N characters of base64 holds at most the input's copy and the output.
fn base64_peak_bound(n: usize) -> usize {
    4 * n + 4096
}

/// Text that is mostly base64: the alphabet, padding, line breaks, and now and then anything.
fn base64ish() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        20 => prop::sample::select(
            &b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[..]
        )
        .prop_map(char::from),
        2 => Just('='),
        1 => Just('\n'),
        1 => Just('\r'),
        1 => any::<char>(),
    ];
    let random = prop::collection::vec(c, 0..600).prop_map(|v| v.into_iter().collect::<String>());
    let damaged = prop::collection::vec(any::<u8>(), 0..300)
        .prop_map(|b| STANDARD.encode(b).into_bytes())
        .prop_flat_map(|b64| mutated(b64, &["=", "==", "\n", "\r\n", " ", "-", "_", "A"]))
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned());
    prop_oneof![random, damaged]
}

#[test]
fn base64_decodes_within_bounds_and_round_trips() {
    property("base64_decode", base64ish(), |text| {
        let (decoded, _) = bounded("wire::decode", base64_peak_bound(text.len()), || {
            shared::wire::decode(&text)
        })?;
        // What decodes encodes back to the same text, line breaks aside and up to the unused
        // low bits of the last character, which Go's decoder (and so ours) ignores.
        if let Ok(bytes) = decoded {
            let stripped: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            let again = shared::wire::encode(&bytes);
            prop_assert_eq!(again.len(), stripped.len());
            prop_assert_eq!(shared::wire::decode(&again).ok(), Some(bytes));
            let body = |s: &str| s.trim_end_matches('=').len().saturating_sub(1);
            prop_assert_eq!(&again[..body(&again)], &stripped[..body(&stripped)]);
        }
        Ok(())
    });
    let breaks = (
        prop::collection::vec(any::<u8>(), 0..2048),
        prop::collection::vec((any::<prop::sample::Index>(), prop::bool::ANY), 0..8),
    );
    property("base64_round_trip", breaks, |(bytes, breaks)| {
        let encoded = shared::wire::encode(&bytes);
        prop_assert_eq!(shared::wire::decode(&encoded).unwrap(), bytes.clone());
        // Line breaks anywhere, as folded YAML has them, are skipped.
        let mut folded = encoded.clone();
        for (at, crlf) in breaks {
            let at = at.index(folded.len() + 1);
            folded.insert_str(at, if crlf { "\r\n" } else { "\n" });
        }
        prop_assert_eq!(shared::wire::decode(&folded).unwrap(), bytes);
        Ok(())
    });
}

#[test]
fn wire_format_splits_within_bounds_and_round_trips() {
    property(
        "wire_split",
        prop::collection::vec(any::<u8>(), 0..1200),
        |bytes| {
            // Splitting borrows: it allocates nothing.
            let (parts, _) = bounded("wire::split", 0, || {
                shared::wire::split(&bytes).map(|p| (p.wrapped_key.len(), p.sealed.len()))
            })?;
            if let Ok((k, s)) = parts {
                prop_assert_eq!(2 + k + s, bytes.len());
                let p = shared::wire::split(&bytes).unwrap();
                prop_assert_eq!(shared::wire::join(p.wrapped_key, p.sealed), bytes);
            } else {
                let declared = bytes
                    .get(..2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
                prop_assert!(declared.is_none_or(|n| n > bytes.len() - 2));
            }
            Ok(())
        },
    );
    let parts = (
        prop::collection::vec(any::<u8>(), 0..1024),
        prop::collection::vec(any::<u8>(), 0..2048),
    );
    property("wire_join_encode_decode", parts, |(key, sealed)| {
        let joined = shared::wire::join(&key, &sealed);
        let text = shared::wire::encode(&joined);
        let back = shared::wire::decode(&text).unwrap();
        prop_assert_eq!(&back, &joined);
        let p = shared::wire::split(&back).unwrap();
        prop_assert_eq!(p.wrapped_key, &key[..]);
        prop_assert_eq!(p.sealed, &sealed[..]);
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Properties: PEM and key files

const CERT: &str = include_str!("vectors/sealing-cert.pem");

const PEM_SNIPPETS: &[&str] = &[
    "-----",
    "-",
    "BEGIN ",
    "END ",
    "RSA PRIVATE KEY",
    "PRIVATE KEY",
    "CERTIFICATE",
    "ENCRYPTED PRIVATE KEY",
    "\n",
    "\r\n",
    "\r",
    "\0",
    "=",
    "==",
    ":",
    " ",
    "\t",
    "\u{fffd}",
    "Proc-Type: 4,ENCRYPTED\n",
    "MII",
    "AAAA",
    "-----BEGIN RSA PRIVATE KEY-----\n",
    "-----END RSA PRIVATE KEY-----\n",
    "-----BEGIN PRIVATE KEY-----\n",
    "\u{1b}[31m",
];

/// Key file parses hold the input's copies and a key; aws-lc-rs's own allocations (the
/// key's numbers) go through malloc and are not counted.
fn key_peak_bound(n: usize) -> usize {
    PARSE_PEAK_PER_BYTE * n + (1 << 20)
}

/// Which key a damaged input came from (0: the vector key, 1: the demo key, 2: the
/// certificate), and the input.
fn damaged_key_file() -> impl Strategy<Value = (usize, Text)> {
    let sources = [SEALING_KEY, DEMO_KEY, CERT];
    let pem = (0..3usize).prop_flat_map(move |i| {
        mutated(sources[i].as_bytes().to_vec(), PEM_SNIPPETS).prop_map(move |b| (i, b))
    });
    let secret = (pem.clone(), 0..3u8).prop_map(|((i, b), shape)| {
        let head = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: k\ntype: kubernetes.io/tls\n";
        let doc = match shape {
            0 => format!("{head}data:\n  tls.key: {}\n", STANDARD.encode(&b)),
            1 => {
                let block: String = String::from_utf8_lossy(&b)
                    .lines()
                    .map(|l| format!("    {l}\n"))
                    .collect();
                format!("{head}stringData:\n  tls.key: |\n{block}")
            }
            _ => serde_json::json!({
                "kind": "List",
                "items": [{"kind": "Secret", "data": {"tls.key": STANDARD.encode(&b)}}],
            })
            .to_string(),
        };
        (i, doc.into_bytes())
    });
    prop_oneof![3 => pem, 1 => secret].prop_map(|(i, b)| (i, Text(b)))
}

fn key_materials() -> &'static [KeyMaterial; 2] {
    static MATERIALS: std::sync::OnceLock<[KeyMaterial; 2]> = std::sync::OnceLock::new();
    MATERIALS.get_or_init(|| {
        [SEALING_KEY, DEMO_KEY].map(|pem| {
            let mut m = KeyMaterial::new();
            m.add_pem(pem);
            m
        })
    })
}

#[test]
fn damaged_key_files_parse_within_bounds_without_leaks() {
    static RATIO: PeakRatio = PeakRatio::new();
    property("key_files", damaged_key_file(), |(source, Text(bytes))| {
        let n = bytes.len();
        let (texts, peak) = bounded("key parse", key_peak_bound(n), || {
            let mut texts = Vec::new();
            if let Err(e) = parse_private_keys(&bytes) {
                texts.push(e.to_string());
                texts.push(format!("{e:?}"));
            }
            if let Ok(text) = std::str::from_utf8(&bytes)
                && let Err(e) = PrivateKey::from_pem(text)
            {
                texts.push(e.to_string());
                texts.push(format!("{e:?}"));
            }
            if let Err(e) = Certificate::from_pem(&bytes) {
                texts.push(e.to_string());
            }
            texts
        })?;
        RATIO.record(peak, n);
        let input = String::from_utf8_lossy(&bytes);
        for text in texts {
            prop_assert!(!text.contains('\n'), "not one line: {text:?}");
            if source < 2 {
                let leak = key_materials()[source]
                    .find_in(text.as_bytes())
                    .or_else(|| b64_run_in(&text, &input));
                prop_assert!(leak.is_none(), "{leak:?} in {text:?}");
            }
        }
        Ok(())
    });
    RATIO.report("key_files");
}

// ---------------------------------------------------------------------------------------------
// Properties: templates

/// Functions the engine renders, those it refuses, and names that are neither.
const TEMPLATE_FUNCS: &[&str] = &[
    "index",
    "len",
    "print",
    "println",
    "printf",
    "toJson",
    "toRawJson",
    "b64enc",
    "b64dec",
    "quote",
    "squote",
    "trim",
    "trimAll",
    "trimall",
    "trimPrefix",
    "trimSuffix",
    "upper",
    "lower",
    "title",
    "replace",
    "nospace",
    "cat",
    "default",
    "empty",
    "coalesce",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "repeat",
    "substr",
    "trunc",
    "indent",
    "nindent",
    "sha256sum",
    "toString",
    "join",
    "if",
    "range",
    "with",
    "end",
    "define",
    "template",
    "env",
    "expandenv",
    "getHostByName",
    "html",
    "js",
    "slice",
    "and",
    "not",
    "call",
    "sha1sum",
    "b32enc",
    "toDate",
    "mustToDate",
    "date",
    "dateInZone",
    "dateModify",
    "mustDateModify",
    "unixEpoch",
    "duration",
    "durationRound",
    "now",
    "wat",
];

/// Item names: valid field names, one that needs `index`, and one never present.
const DATA_KEYS: &[&str] = &[
    "a", "b", "key", "big", "bin", "json", "empty", "x.y", "missing",
];

/// Every item value starts with this (or is empty), so a message that shows a value is seen.
const VALUE_MARK: &str = "VAL:";

const INTS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "-2",
    "7",
    "10",
    "64",
    "100",
    "1000",
    "4096",
    "65536",
    "100000",
    "1000000",
    "1048576",
    "16777216",
    "1000000000",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "0x10",
    "0X7fffffff",
    "0o17",
    "0b1011",
    "007",
    "1_000",
    "1.5",
    "+3",
];

const STRINGS: &[&str] = &[
    r#""""#,
    r#""x""#,
    r#""abc""#,
    r#""%s""#,
    r#""%d""#,
    r#""%v""#,
    r#""%q""#,
    r#""%x""#,
    r#""%-10s|""#,
    r#""%5d""#,
    r#""%%""#,
    r#""%!""#,
    r#""%*d""#,
    r#""%.2f""#,
    r#""%[1]s""#,
    r#""%s %s %s %s""#,
    r#""\n""#,
    r#""\t\"\\""#,
    r#""\x41\u00e9\U0001F600""#,
    r#""\q""#,
    r#""\xff\xfe""#,
    r#""{{""#,
    r#""}}""#,
    r#""a,b""#,
    r#"" ""#,
    r#""   padded   ""#,
    r#""aGVsbG8=""#,
    r#""!!!""#,
    r#""é""#,
    "`raw\nstring`",
    "`{{ . }}`",
    "`\r\n`",
];

fn template_leaf() -> impl Strategy<Value = String> {
    let field =
        prop::sample::select(&["a", "b", "key", "big", "bin", "json", "empty", "missing"][..]);
    prop_oneof![
        Just(".".to_owned()),
        Just("$".to_owned()),
        field.clone().prop_map(|k| format!(".{k}")),
        field.prop_map(|k| format!("$.{k}")),
        prop::sample::select(DATA_KEYS).prop_map(|k| format!("(index . {k:?})")),
        prop::sample::select(INTS).prop_map(str::to_owned),
        prop::sample::select(STRINGS).prop_map(str::to_owned),
        "[a-z ]{0,8}".prop_map(|s| format!("{s:?}")),
        prop::sample::select(
            &[
                "true", "false", "nil", "$x", ".a.b", "..", "$.", "1e3", "'c'"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

/// A pipeline: commands joined by `|`, each a function with arguments or an operand, where an
/// operand may be a parenthesised pipeline (with a field after it, now and then).
fn template_pipeline() -> impl Strategy<Value = String> {
    template_leaf().prop_recursive(6, 48, 6, |inner| {
        let operand = prop_oneof![
            3 => inner.clone(),
            1 => inner.clone().prop_map(|p| format!("({p})")),
            1 => inner.clone().prop_map(|p| format!("({p}).a")),
        ];
        let command = prop_oneof![
            3 => (prop::sample::select(TEMPLATE_FUNCS), prop::collection::vec(operand.clone(), 0..4))
                .prop_map(|(f, args)| {
                    let mut c = f.to_owned();
                    for a in args {
                        c.push(' ');
                        c.push_str(&a);
                    }
                    c
                }),
            1 => operand,
        ];
        prop::collection::vec(command, 1..4).prop_map(|cmds| cmds.join(" | "))
    })
}

/// A string-valued pipeline that type-checks: what renders, and what builds large values
/// (`repeat`, `indent`, `replace`, `printf`, `toJson` and the like, nested).
fn typed_pipeline() -> impl Strategy<Value = String> {
    let int = prop::sample::select(
        &[
            "0", "1", "2", "3", "8", "64", "1000", "4096", "65536", "300000", "1048576", "-1",
        ][..],
    );
    let leaf = prop_oneof![
        prop::sample::select(&["a", "b", "key", "big", "bin", "json", "empty"][..])
            .prop_map(|k| format!(".{k}")),
        prop::sample::select(DATA_KEYS).prop_map(|k| format!("(index . {k:?})")),
        prop::sample::select(STRINGS).prop_map(str::to_owned),
        Just("(toJson .)".to_owned()),
        Just("(print .)".to_owned()),
    ];
    leaf.prop_recursive(6, 32, 3, move |s| {
        let one = prop::sample::select(
            &[
                "upper",
                "lower",
                "title",
                "trim",
                "nospace",
                "quote",
                "squote",
                "b64enc",
                "b64dec",
                "toJson",
                "toRawJson",
                "sha256sum",
                "toString",
                "print",
                "len",
            ][..],
        );
        let int_s = prop::sample::select(&["repeat", "indent", "nindent", "trunc"][..]);
        prop_oneof![
            (one.clone(), s.clone()).prop_map(|(f, a)| format!("({f} {a})")),
            (one, s.clone()).prop_map(|(f, a)| format!("({a} | {f})")),
            (int_s, int.clone(), s.clone()).prop_map(|(f, n, a)| format!("({f} {n} {a})")),
            (int.clone(), s.clone()).prop_map(|(n, a)| format!("({a} | repeat {n})")),
            (s.clone(), s.clone(), s.clone())
                .prop_map(|(a, b, c)| format!("(replace {a} {b} {c})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("(cat {a} {b})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("(printf \"%s-%v-%q\" {a} {b} {a})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("(default {a} {b})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("(coalesce {a} {b})")),
            (s.clone(), s.clone()).prop_map(|(a, b)| format!("(trimAll {a} {b})")),
            (0..3u8, 0..4u8, s.clone()).prop_map(|(i, j, a)| format!("(substr {i} {j} {a})")),
        ]
    })
}

/// A template: text, actions with or without trim markers, comments, and garbage. Half are
/// clean (text and type-checked actions), so that many render.
fn template_text() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        "[a-z \n]{0,16}",
        prop::sample::select(&["{", "}", "{{", "}}", "{{-", "-}}", "\n", "é", "\u{0}", "%s"][..])
            .prop_map(str::to_owned),
    ];
    let action = |pipeline: BoxedStrategy<String>| {
        (pipeline, any::<bool>(), any::<bool>()).prop_map(|(p, l, r)| {
            format!(
                "{{{{{}{p}{}}}}}",
                if l { "- " } else { " " },
                if r { " -" } else { " " }
            )
        })
    };
    let clean_piece = prop_oneof![
        1 => "[a-z \n]{0,16}",
        3 => action(typed_pipeline().boxed()),
    ];
    let piece = prop_oneof![
        4 => text,
        12 => action(prop_oneof![2 => typed_pipeline(), 1 => template_pipeline()].boxed()),
        1 => Just("{{/* a comment */}}".to_owned()),
        1 => "[{}()|\"`$. a-z0-9-]{0,24}",
        1 => any::<String>(),
    ];
    prop_oneof![
        prop::collection::vec(clean_piece, 0..5),
        prop::collection::vec(piece, 0..8),
    ]
    .prop_map(|pieces| {
        let mut t = pieces.concat();
        // At most 4 KiB, cut at a character boundary.
        let mut cut = t.len().min(4096);
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
        t
    })
}

/// Items: empty or marked values, small or up to 16 KiB, text or any bytes; 64 KiB at most.
fn template_data() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    let value = prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..64),
        "[ -~]{0,64}".prop_map(String::into_bytes),
        (any::<u8>(), 0..16384usize).prop_map(|(b, n)| vec![b; n]),
        Just(br#"{"a": [1, 2, "<&>"]}"#.to_vec()),
        Just(b"line one\nline two\n".to_vec()),
        Just(vec![0xff, 0xfe, 0x80, b'a']),
    ]
    .prop_map(|v| {
        if v.is_empty() {
            v
        } else {
            [VALUE_MARK.as_bytes(), &v].concat()
        }
    });
    let keys = prop::sample::select(&DATA_KEYS[..DATA_KEYS.len() - 1]);
    prop::collection::btree_map(keys.prop_map(str::to_owned), value, 0..8).prop_map(|mut m| {
        while m.values().map(Vec::len).sum::<usize>() > 64 << 10 {
            let k = m.keys().next().unwrap().clone();
            m.remove(&k);
        }
        m
    })
}

/// What rendering one template may hold at its peak: every value is capped at
/// `MAX_RENDERED_LEN` and an object's templates may build `MAX_BUILT_PER_OBJECT` in all, so
/// twice the latter (a growing buffer's slack) and a few of the former, over the inputs.
fn template_peak_bound(template: &str, data: &BTreeMap<String, Vec<u8>>) -> usize {
    use shared::template::{MAX_BUILT_PER_OBJECT, MAX_RENDERED_LEN};
    let input = template.len() + data.values().map(Vec::len).sum::<usize>();
    2 * MAX_BUILT_PER_OBJECT + 4 * MAX_RENDERED_LEN + 16 * input
}

#[test]
fn templates_render_within_bounds() {
    use shared::template::{MAX_RENDERED_LEN, render};
    static PEAK: AtomicU64 = AtomicU64::new(0);
    static OK: AtomicU64 = AtomicU64::new(0);
    static LONGEST: AtomicU64 = AtomicU64::new(0);
    property(
        "templates",
        (template_text(), template_data()),
        |(template, data)| {
            let (result, peak) = bounded("render", template_peak_bound(&template, &data), || {
                render(&template, &data)
            })?;
            PEAK.fetch_max(peak, Ordering::Relaxed);
            match result {
                Ok(out) => {
                    OK.fetch_add(1, Ordering::Relaxed);
                    LONGEST.fetch_max(out.len() as u64, Ordering::Relaxed);
                    prop_assert!(out.len() <= MAX_RENDERED_LEN, "{} bytes", out.len());
                }
                Err(e) => {
                    for text in [e.to_string(), format!("{e:?}")] {
                        prop_assert!(!text.contains(VALUE_MARK), "an item value in {text:?}");
                    }
                }
            }
            Ok(())
        },
    );
    eprintln!(
        "fuzz property templates: {} rendered, longest output {} bytes, largest peak {} bytes",
        OK.load(Ordering::Relaxed),
        LONGEST.load(Ordering::Relaxed),
        PEAK.load(Ordering::Relaxed)
    );
}
