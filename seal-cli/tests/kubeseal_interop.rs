//! Both directions against the reference `kubeseal` v0.36.6 (built by
//! tests/cluster/build-binaries.sh; with-cluster.sh puts it on PATH): what `seal` seals,
//! kubeseal unseals, and the other way round. No cluster is contacted.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;

/// kubeseal from `K8S_TEST_BIN` or PATH; `None` only when SKIP_CLUSTER_TESTS=1.
fn kubeseal() -> Option<PathBuf> {
    let dirs = std::env::var_os("K8S_TEST_BIN")
        .into_iter()
        .map(PathBuf::from)
        .chain(
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .unwrap_or_default(),
        );
    for dir in dirs {
        let p = dir.join("kubeseal");
        if p.is_file() {
            return Some(p);
        }
    }
    if std::env::var("SKIP_CLUSTER_TESTS").is_ok_and(|v| v == "1") {
        return None;
    }
    panic!(
        "kubeseal not found: run under tests/cluster/with-cluster.sh (which builds it and puts it on PATH), \
         or set SKIP_CLUSTER_TESTS=1"
    );
}

fn run(bin: &PathBuf, args: &[&str], stdin: &[u8]) -> String {
    use std::io::Write as _;
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        bin.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn input() -> String {
    std::fs::read_to_string(vector(STRICT_INPUT)).unwrap()
}

#[test]
fn kubeseal_unseals_what_seal_seals_in_every_scope() {
    let Some(kubeseal) = kubeseal() else { return };
    let expected = unseal_data(
        &seal(&["--cert", &cert(), "-o", "yaml"])
            .stdin(input())
            .run()
            .ok(),
        &[&key()],
    );
    assert_eq!(expected.len(), 3);
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let sealed = seal(&["--cert", &cert(), "-o", "json", "--scope", scope])
            .stdin(input())
            .run()
            .ok();
        let out = run(
            &kubeseal,
            &[
                "--recovery-unseal",
                "--recovery-private-key",
                &key(),
                "-o",
                "json",
            ],
            sealed.as_bytes(),
        );
        let mut secret: serde_json::Value = serde_json::from_str(&out).unwrap();
        // Go marshals an empty decrypted value (a nil slice) as null.
        for value in secret["data"].as_object_mut().unwrap().values_mut() {
            if value.is_null() {
                *value = serde_json::Value::String(String::new());
            }
        }
        assert_eq!(secret_data(&secret), expected, "{scope}");
    }
}

#[test]
fn seal_unseals_what_kubeseal_seals() {
    let Some(kubeseal) = kubeseal() else { return };
    let ours = unseal_data(
        &seal(&["--cert", &cert(), "-o", "yaml"])
            .stdin(input())
            .run()
            .ok(),
        &[&key()],
    );
    let theirs = run(
        &kubeseal,
        &["--cert", &cert(), "-o", "yaml"],
        input().as_bytes(),
    );
    assert_eq!(unseal_data(&theirs, &[&key()]), ours);
}
