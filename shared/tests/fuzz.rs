//! Fuzzing in the test suite: damaged private keys must never put key material in an error,
//! and property tests over every parser and the template engine check panics, round trips,
//! output size, memory (a counting global allocator) and time.
//!
//! CI runs a bounded number of cases per property (256 unless `PROPTEST_CASES` says
//! otherwise). The long local mode:
//!
//! ```sh
//! PROPTEST_CASES=100000 cargo test -p shared --test fuzz --release
//! ```
//!
//! The deterministic damaged-key test (`damaged_keys_never_leak_key_material`) failed on the
//! parser before the fix that made key errors fixed texts: a BEGIN line missing a trailing
//! dash made the PEM label run to the END line, and the error quoted it, key body and all.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use shared::keys::{PrivateKey, parse_private_keys};

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
