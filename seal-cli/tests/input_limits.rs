//! Every input is read with a size cap, so a wrong path (`/dev/zero`, a log file) fails at
//! once with one line naming the file and the limit, instead of reading until memory runs
//! out. The caps: certificate 1 MiB, private key file 16 MiB, input 64 MiB, --merge-into
//! file 64 MiB, kubeconfig 16 MiB, --raw value 1 MiB (the Secret limit).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const MIB: usize = 1024 * 1024;
const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n";

/// Fails with exactly `error: <expected>`, and quickly: nothing is read past the cap.
#[track_caller]
fn fails_fast(run: Run, expected: &str) {
    let start = Instant::now();
    let line = run.run().fails_with(&[]);
    let took = start.elapsed();
    assert_eq!(line, format!("error: {expected}\n"));
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn cert_from_dev_zero() {
    fails_fast(
        seal(&["--cert", "/dev/zero"]).stdin(SECRET),
        "read /dev/zero: larger than 1 MiB, the limit for a certificate",
    );
    fails_fast(
        seal(&["--cert", "file:///dev/zero"]).stdin(SECRET),
        "read /dev/zero: larger than 1 MiB, the limit for a certificate",
    );
    fails_fast(
        seal(&["--fetch-cert", "--cert", "/dev/zero"]),
        "read /dev/zero: larger than 1 MiB, the limit for a certificate",
    );
}

#[test]
fn cert_file_one_byte_over_the_cap() {
    let dir = TempDir::new("limits");
    let big = dir.write("big.pem", vec![b'A'; MIB + 1]);
    let big = big.display().to_string();
    fails_fast(
        seal(&["--cert", &big]).stdin(SECRET),
        &format!("read {big}: larger than 1 MiB, the limit for a certificate"),
    );
    // At the cap it is read, and refused for what it is, not for its size.
    let at_cap = dir.write("at-cap.pem", vec![b'A'; MIB]);
    let line = seal(&["--cert", &at_cap.display().to_string()])
        .stdin(SECRET)
        .run()
        .fails_with(&[]);
    assert!(!line.contains("larger than"), "{line}");
}

#[test]
fn secret_input_from_dev_zero() {
    fails_fast(
        seal(&["--cert", &cert(), "-f", "/dev/zero"]),
        "read /dev/zero: larger than 64 MiB, the limit for the input",
    );
    // stdin itself being endless.
    let start = Instant::now();
    let out = Command::new(SEAL)
        .env_clear()
        .args(["--cert", &cert()])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let line = Outcome(out).fails_with(&[]);
    assert_eq!(
        line,
        "error: read stdin: larger than 64 MiB, the limit for the input\n"
    );
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn recovery_key_from_dev_zero() {
    fails_fast(
        seal(&[
            "--recovery-unseal",
            "--recovery-private-key",
            &format!("{},/dev/zero", key()),
        ])
        .stdin(""),
        "read /dev/zero: larger than 16 MiB, the limit for a private key file",
    );
}

#[test]
fn merge_into_dev_zero() {
    fails_fast(
        seal(&["--cert", &cert(), "--merge-into", "/dev/zero"]).stdin(SECRET),
        "read /dev/zero: larger than 64 MiB, the limit for a --merge-into file",
    );
}

#[test]
fn kubeconfig_from_dev_zero() {
    // Read for the context namespace of a Secret without one.
    fails_fast(
        seal(&["--cert", &cert(), "--kubeconfig", "/dev/zero"]).stdin(SECRET),
        "read /dev/zero: larger than 16 MiB, the limit for a kubeconfig",
    );
}

#[test]
fn raw_value_over_the_secret_limit() {
    let raw = ["--cert", &cert(), "--raw", "-n", "ns", "--name", "s"];
    let mut args = raw.to_vec();
    args.extend(["--from-file", "/dev/zero"]);
    fails_fast(
        seal(&args),
        "read /dev/zero: larger than 1 MiB, the limit for a Secret value",
    );
    fails_fast(
        seal(&raw).stdin(vec![b'x'; MIB + 1]),
        "read stdin: larger than 1 MiB, the limit for a Secret value",
    );
    // Exactly the limit is sealed.
    let sealed = seal(&raw).stdin(vec![b'x'; MIB]).run().ok();
    assert!(
        sealed.starts_with("Ag"),
        "{}",
        &sealed[..20.min(sealed.len())]
    );
}
