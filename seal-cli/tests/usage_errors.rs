//! Command-line parse errors are one `error: ...` line like every other error (exit code 2,
//! clap's usage code), `--help` and `--version` are untouched, and a repeated flag takes its
//! last value, as kubeseal's pflag does.

mod common;

use common::*;

/// Exit code 2, nothing on stdout, exactly `error: <expected>` and a newline on stderr.
#[track_caller]
fn usage_error(outcome: &Outcome, expected: &str) {
    let stderr = outcome.stderr();
    assert_eq!(outcome.code(), Some(2), "stderr: {stderr:?}");
    assert!(
        outcome.0.stdout.is_empty(),
        "stdout: {:?}",
        outcome.stdout()
    );
    assert_eq!(stderr, format!("error: {expected}\n"));
}

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n";

#[test]
fn unknown_flag() {
    usage_error(
        &seal(&["--bogus"]).run(),
        "unexpected argument '--bogus' found",
    );
    usage_error(
        &seal(&["--cer", &cert()]).run(),
        "unexpected argument '--cer' found; tip: a similar argument exists: '--cert'",
    );
    usage_error(&seal(&["stray"]).run(), "unrecognized subcommand 'stray'");
}

#[test]
fn missing_value() {
    usage_error(
        &seal(&["--cert"]).run(),
        "a value is required for '--cert <FILE|URL>' but none was supplied",
    );
    usage_error(
        &seal(&["--cert", &cert(), "-n"]).run(),
        "a value is required for '--namespace <NAMESPACE>' but none was supplied",
    );
}

#[test]
fn bad_value() {
    usage_error(
        &seal(&["--raw=maybe"]).run(),
        "invalid value 'maybe' for '--raw[=<BOOL>]': value was not a boolean",
    );
    usage_error(
        &seal(&["-v", "abc"]).run(),
        "invalid value 'abc' for '--v <LEVEL>': invalid digit found in string",
    );
    // From the environment too.
    usage_error(
        &seal(&[]).env("SEALED_SECRETS_RAW", "maybe").run(),
        "invalid value 'maybe' for '--raw[=<BOOL>]': value was not a boolean",
    );
    usage_error(
        &seal(&["--version=yes"]).run(),
        "unexpected value 'yes' for '--version' found; no more were expected",
    );
}

/// Booleans take Go's `strconv.ParseBool` syntax, as kubeseal's pflag and environment do:
/// `T`, `True`, `1`, ... but not yes/no/on/off (which clap's own boolean parser accepted).
#[test]
fn booleans_take_gos_syntax() {
    let bad =
        |v: &str| format!("invalid value '{v}' for '--raw[=<BOOL>]': value was not a boolean");
    for v in ["yes", "no", "on", "off"] {
        usage_error(&seal(&[&format!("--raw={v}")]).run(), &bad(v));
        usage_error(&seal(&[]).env("SEALED_SECRETS_RAW", v).run(), &bad(v));
    }
    let pem = std::fs::read_to_string(cert()).unwrap();
    for v in ["T", "True", "1"] {
        let out = seal(&["--cert", &cert(), &format!("--fetch-cert={v}")]).run();
        assert_eq!(out.ok(), pem, "--fetch-cert={v}");
        let out = seal(&["--cert", &cert()])
            .env("SEALED_SECRETS_FETCH_CERT", v)
            .run();
        assert_eq!(out.ok(), pem, "SEALED_SECRETS_FETCH_CERT={v}");
    }
    // False in Go's syntax: plain sealing, not --fetch-cert.
    let out = seal(&["--cert", &cert()])
        .env("SEALED_SECRETS_FETCH_CERT", "F")
        .stdin(SECRET)
        .run()
        .ok();
    assert!(out.contains("\"kind\": \"SealedSecret\""), "{out}");
}

#[cfg(unix)]
#[test]
fn non_utf8_argument() {
    use std::os::unix::ffi::OsStrExt as _;
    let out = std::process::Command::new(SEAL)
        .env_clear()
        .arg("--cert")
        .arg(std::ffi::OsStr::from_bytes(b"\xff.pem"))
        .output()
        .unwrap();
    let outcome = Outcome(out);
    let stderr = outcome.stderr();
    assert_eq!(outcome.code(), Some(2), "{stderr:?}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.starts_with("error: invalid UTF-8"), "{stderr:?}");
}

#[test]
fn help_and_version_are_unchanged() {
    for flag in ["--help", "-h"] {
        let out = seal(&[flag]).run();
        let stdout = out.ok();
        assert!(
            stdout.starts_with("Encrypts a Kubernetes Secret"),
            "{stdout}"
        );
        assert!(stdout.contains("\nUsage: seal [OPTIONS]\n"), "{stdout}");
        assert!(stdout.contains("--cert <FILE|URL>"), "{stdout}");
    }
    let version = seal(&["--version"]).run().ok();
    assert_eq!(
        version,
        format!("seal version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// pflag takes the last value of a repeated flag; so does seal, where clap used to refuse.
#[test]
fn repeated_flags_take_the_last_value() {
    let dir = TempDir::new("repeat");
    let kubeconfig = dir.write(
        "config",
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n\
         - name: dev\n  context:\n    namespace: team-b\n",
    );
    let missing = dir.join("missing").display().to_string();
    let kubeconfig = kubeconfig.display().to_string();
    let out = seal(&[
        "--cert",
        "/nonexistent/cert.pem",
        "--cert",
        &cert(),
        "--kubeconfig",
        &missing,
        "--kubeconfig",
        &kubeconfig,
        "-o",
        "yaml",
        "-o",
        "json",
        "--scope",
        "cluster-wide",
        "--scope",
        "strict",
    ])
    .stdin(SECRET)
    .run()
    .ok();
    let sealed: serde_json::Value = serde_json::from_str(&out).expect("JSON: the last -o");
    assert_eq!(sealed["metadata"]["namespace"], "team-b");
    assert!(
        sealed["metadata"].get("annotations").is_none(),
        "strict, the last --scope: {sealed}"
    );
    assert_eq!(unseal_data(&out, &[&key()])["a"], b"b");

    // A boolean given twice: the last value wins.
    let out = seal(&["--version", "--version"]).run().ok();
    assert_eq!(
        out,
        format!("seal version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
}
