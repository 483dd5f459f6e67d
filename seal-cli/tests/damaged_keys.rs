//! `seal --recovery-unseal --recovery-private-key <damaged file>` never prints key material.
//!
//! The real binary gets a real sealed input and key files damaged the ways a fuzzer finds
//! (BEGIN and END lines byte by byte, truncation, labels, dashes, base64 and DER damage,
//! PKCS#8 wrappers, key Secret YAML with a damaged `tls.key`); stdout and stderr must hold no
//! 24-character run of the key's base64 and no 16-byte run of its DER, raw or as hex. A
//! failing run is one `error:` line naming the key file. The exhaustive variant set runs on
//! the parser itself (`shared/tests/fuzz.rs`); this is a bounded representative subset, at
//! most 200 binary runs.
//!
//! Before the fix that made key errors fixed texts, the first variant here (a BEGIN line
//! missing its last dash) printed the whole key body in the error.

mod common;

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;

const MAX_RUNS: usize = 200;

/// Every 24-character base64 run and 16-byte DER run of a key, as the test looks for them.
struct KeyMaterial {
    b64: HashSet<Vec<u8>>,
    der: HashSet<Vec<u8>>,
}

impl KeyMaterial {
    fn of(pem: &str) -> KeyMaterial {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(&body).unwrap();
        let mut b64 = HashSet::new();
        for text in [body, STANDARD.encode(pkcs8_of(&der)), STANDARD.encode(pem)] {
            b64.extend(text.as_bytes().windows(24).map(<[u8]>::to_vec));
        }
        let der = der.windows(16).map(<[u8]>::to_vec).collect();
        KeyMaterial { b64, der }
    }

    fn find_in(&self, out: &[u8]) -> Option<String> {
        if let Some(w) = out.windows(24).find(|w| self.b64.contains(*w)) {
            return Some(format!("base64 {:?}", String::from_utf8_lossy(w)));
        }
        if let Some(w) = out.windows(16).find(|w| self.der.contains(*w)) {
            return Some(format!("raw DER {w:02x?}"));
        }
        let lower = out.to_ascii_lowercase();
        lower.windows(32).find_map(|w| {
            let bytes: Option<Vec<u8>> = w
                .chunks(2)
                .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
                .collect();
            bytes
                .filter(|b| self.der.contains(b))
                .map(|_| format!("hex DER {}", String::from_utf8_lossy(w)))
        })
    }
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = vec![tag];
    match n {
        0..=0x7f => out.push(n as u8),
        0x80..=0xff => out.extend([0x81, n as u8]),
        _ => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

const RSA_ALG: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

fn pkcs8_of(pkcs1: &[u8]) -> Vec<u8> {
    let mut content = vec![0x02, 0x01, 0x00];
    content.extend_from_slice(RSA_ALG);
    content.extend(der_tlv(0x04, pkcs1));
    der_tlv(0x30, &content)
}

fn pem_of(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// A representative subset of the damage `shared/tests/fuzz.rs` applies, `budget` at most
/// (about 140 in all).
fn variants(pem: &str, budget: usize) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut push = |how: String, input: Vec<u8>| out.push((how, input));
    let bytes = pem.as_bytes();
    let lines: Vec<&str> = pem.lines().collect();
    let (header, footer) = (lines[0], lines[lines.len() - 1]);
    let body = lines[1..lines.len() - 1].join("\n");
    let footer_start = pem.rfind("-----END").unwrap();

    // The finding first.
    push(
        "BEGIN line missing its last dash".into(),
        pem.replacen("KEY-----\n", "KEY----\n", 1).into_bytes(),
    );
    push(
        "BEGIN line missing its first dash".into(),
        pem.replacen("-----BEGIN", "----BEGIN", 1).into_bytes(),
    );
    // The BEGIN line byte by byte: dropped; every other byte flipped, and a newline and a NUL
    // inserted at every fourth.
    for at in 0..=header.len() {
        let mut v = bytes.to_vec();
        v.remove(at);
        push(format!("BEGIN line: byte {at} dropped"), v);
        if at % 2 == 0 {
            let mut v = bytes.to_vec();
            v[at] ^= 0x20;
            push(format!("BEGIN line: byte {at} flipped"), v);
        }
        if at % 4 == 1 {
            for (name, b) in [("newline", b'\n'), ("NUL", 0u8)] {
                let mut v = bytes.to_vec();
                v.insert(at, b);
                push(format!("BEGIN line: {name} inserted at {at}"), v);
            }
        }
    }
    // The END line: every third byte dropped, every fifth flipped.
    for at in (footer_start..bytes.len()).step_by(3) {
        let mut v = bytes.to_vec();
        v.remove(at);
        push(format!("END line: byte {at} dropped"), v);
    }
    for at in (footer_start..bytes.len()).step_by(5) {
        let mut v = bytes.to_vec();
        v[at] ^= 0x01;
        push(format!("END line: byte {at} flipped"), v);
    }
    // Truncations.
    for cut in [
        0,
        5,
        16,
        31,
        32,
        100,
        bytes.len() / 2,
        footer_start,
        bytes.len() - 10,
    ] {
        push(format!("truncated at {cut}"), bytes[..cut].to_vec());
    }
    // Lines and labels.
    let first_body_line = lines[1];
    for (how, text) in [
        (
            "BEGIN and END swapped",
            format!("{footer}\n{body}\n{header}\n"),
        ),
        ("no END line", format!("{header}\n{body}\n")),
        (
            "BEGIN line twice",
            format!("{header}\n{header}\n{body}\n{footer}\n"),
        ),
        ("all on one line", pem.replace('\n', "")),
        ("every dash removed", pem.replace('-', "")),
        (
            "label is the first body line",
            pem.replace("RSA PRIVATE KEY", first_body_line),
        ),
        (
            "BEGIN label is the body",
            format!("-----BEGIN {}-----\n{footer}\n", body.replace('\n', "")),
        ),
        (
            "label EC PRIVATE KEY",
            pem.replace("RSA PRIVATE KEY", "EC PRIVATE KEY"),
        ),
        (
            "label ENCRYPTED PRIVATE KEY",
            pem.replace("RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
        ),
        (
            "BEGIN label PRIVATE KEY",
            pem.replacen("RSA PRIVATE KEY", "PRIVATE KEY", 1),
        ),
        (
            "encryption headers",
            pem.replacen(
                "-----\n",
                "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: X\n\n",
                1,
            ),
        ),
    ] {
        push(how.into(), text.into_bytes());
    }
    // Base64 damage in the body.
    for (i, at) in [header.len() + 1, 500, 1500, footer_start - 3]
        .into_iter()
        .enumerate()
    {
        for (name, r) in [("'!'", "!"), ("'='", "="), ("NUL", "\0")] {
            let mut v = bytes[..at].to_vec();
            v.extend_from_slice(r.as_bytes());
            v.extend_from_slice(&bytes[at + 1..]);
            push(format!("body byte {at} ({i}) replaced by {name}"), v);
        }
        let mut v = bytes.to_vec();
        v.remove(at);
        push(format!("body byte {at} dropped"), v);
    }
    // DER damage under valid base64, and PKCS#8 wrappers.
    let der = STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    for at in [0, 1, 4, 8, 12, 300, der.len() - 1] {
        let mut v = der.clone();
        v[at] ^= 0xff;
        push(
            format!("DER byte {at} flipped"),
            pem_of("RSA PRIVATE KEY", &v).into_bytes(),
        );
    }
    let pkcs8 = pkcs8_of(&der);
    push("PKCS#8".into(), pem_of("PRIVATE KEY", &pkcs8).into_bytes());
    push(
        "PKCS#8 labelled RSA PRIVATE KEY".into(),
        pem_of("RSA PRIVATE KEY", &pkcs8).into_bytes(),
    );
    for at in [0, 5, 9, 17, 22, 24] {
        let mut v = pkcs8.clone();
        v[at] ^= 0x01;
        push(
            format!("PKCS#8 byte {at} flipped"),
            pem_of("PRIVATE KEY", &v).into_bytes(),
        );
    }
    // Key Secret YAML with a damaged tls.key, in data and stringData.
    let damaged = pem.replacen("KEY-----\n", "KEY----\n", 1);
    let cut = &pem[..pem.len() / 2];
    let head =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: damaged-key\ntype: kubernetes.io/tls\n";
    for (how, key) in [("missing dash", damaged.as_str()), ("truncated", cut)] {
        let b64 = STANDARD.encode(key);
        push(
            format!("Secret data, {how}"),
            format!("{head}data:\n  tls.key: {b64}\n").into_bytes(),
        );
        let block: String = key.lines().map(|l| format!("    {l}\n")).collect();
        push(
            format!("Secret stringData, {how}"),
            format!("{head}stringData:\n  tls.key: |\n{block}").into_bytes(),
        );
        push(
            format!("List, {how}"),
            format!(
                "apiVersion: v1\nkind: List\nitems:\n- {}data:\n    tls.key: {b64}\n",
                head.replace('\n', "\n  ")
            )
            .into_bytes(),
        );
    }
    let b64 = STANDARD.encode(pem);
    push(
        "Secret data, base64 truncated".into(),
        format!("{head}data:\n  tls.key: {}\n", &b64[..b64.len() - 7]).into_bytes(),
    );
    // Over budget: an even spread, the finding's variant first.
    if out.len() > budget {
        let n = out.len();
        let keep: HashSet<usize> = (0..budget).map(|i| i * n / budget).collect();
        out = out
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, v)| v)
            .collect();
    }
    out
}

#[test]
fn damaged_key_files_never_print_key_material() {
    let sealed =
        std::fs::read_to_string(vector("sealedsecret-strict-default-db-creds.yaml")).unwrap();
    let keys = [
        (
            "sealing-key.pem",
            std::fs::read_to_string(key()).unwrap(),
            150,
        ),
        (
            "demo-key.pem",
            std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-key.pem"),
            )
            .unwrap(),
            MAX_RUNS - 150,
        ),
    ];
    let dir = TempDir::new("damaged-keys");
    let mut jobs = Vec::new();
    for (name, pem, budget) in &keys {
        for (i, (how, input)) in variants(pem, *budget).into_iter().enumerate() {
            let path = dir.write(&format!("{name}-{i}.key"), &input);
            jobs.push((name, how, path, i == 0));
        }
    }
    assert!(jobs.len() <= MAX_RUNS);
    let materials: Vec<KeyMaterial> = keys
        .iter()
        .map(|(_, pem, _)| KeyMaterial::of(pem))
        .collect();
    // Two workers: the machine has two cores.
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Unsealed, refused with a key error, failed later (a key that parsed but does not fit).
    let tally: [std::sync::atomic::AtomicUsize; 3] = Default::default();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((name, how, path, first)) = jobs.get(i) else {
                        break;
                    };
                    let material = &materials[keys.iter().position(|k| &k.0 == *name).unwrap()];
                    let path_s = path.display().to_string();
                    let out = seal(&[
                        "--recovery-unseal",
                        "--recovery-private-key",
                        &path_s,
                        "-o",
                        "yaml",
                    ])
                    .stdin(&sealed)
                    .run();
                    let mut problems = Vec::new();
                    for (stream, bytes) in [("stdout", &out.0.stdout), ("stderr", &out.0.stderr)] {
                        if let Some(leak) = material.find_in(bytes) {
                            problems.push(format!("{leak} on {stream}"));
                        }
                    }
                    let stderr = String::from_utf8_lossy(&out.0.stderr);
                    let outcome = match out.code() {
                        Some(0) => 0,
                        _ if stderr.starts_with("error: private key ") => 1,
                        _ => 2,
                    };
                    tally[outcome].fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if out.code() != Some(0) {
                        // A key error names the file; a key that parsed but does not match
                        // (the demo key) fails later, at unsealing.
                        let key_error = stderr.starts_with("error: private key ");
                        if out.code() != Some(1)
                            || stderr.lines().count() != 1
                            || !stderr.starts_with("error: ")
                            || (key_error && !stderr.contains(path_s.as_str()))
                            || !out.0.stdout.is_empty()
                        {
                            problems.push(format!(
                                "not one error line naming the file: code {:?}, stderr {:?}",
                                out.code(),
                                stderr.chars().take(200).collect::<String>()
                            ));
                        }
                    } else if *first {
                        problems.push("the finding's variant was accepted".into());
                    }
                    if !problems.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "{name}, {how}: {} (stderr {:?})",
                            problems.join("; "),
                            stderr.chars().take(160).collect::<String>()
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let [unsealed, refused, later] = tally.map(|t| t.into_inner());
    eprintln!(
        "damaged key files: {} seal runs: {refused} refused the key, {unsealed} unsealed, {later} failed after reading the key",
        jobs.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} runs:\n{}",
        failures.len(),
        jobs.len(),
        failures[..failures.len().min(30)].join("\n")
    );
}
