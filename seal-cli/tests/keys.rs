//! `seal keys` offline, from a key backup: the keys' public information, as JSON and as a
//! table, and nothing of the private key.

mod common;

use common::*;

const FINGERPRINT: &str = "SHA256:vRUsA+LbSDDdM85eha5nBMZtQln8q4BXhqZ8D37KvMM";

#[test]
fn a_key_backup_lists_its_keys() {
    let backup = vector("sealing-key-secret.yaml").display().to_string();
    let json = seal(&["keys", "--recovery-private-key", &backup, "-o", "json"])
        .run()
        .ok();
    let keys: serde_json::Value = serde_json::from_str(&json).unwrap();
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 1, "{json}");
    let key = &keys[0];
    assert_eq!(key["fingerprint"], FINGERPRINT);
    assert_eq!(key["state"], "active");
    assert_eq!(key["newest"], true);
    assert!(key["objects"].is_null(), "a backup made before counting");
    assert!(key["created"].as_str().unwrap().starts_with("20"), "{key}");
    assert!(
        key["expires"].as_str().unwrap().starts_with("2036-"),
        "{key}"
    );
    // Public information only: no key material in any output.
    let pem = std::fs::read_to_string(vector("sealing-key.pem")).unwrap();
    let body_line = pem.lines().nth(5).unwrap();
    let table = seal(&["keys", "--recovery-private-key", &backup])
        .run()
        .ok();
    for out in [&json, &table] {
        assert!(!out.contains(body_line), "{out}");
    }
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("FINGERPRINT  "));
    let row = lines.next().unwrap();
    assert!(
        row.starts_with(FINGERPRINT) && row.contains("active") && row.contains("yes"),
        "{row}"
    );
    assert!(row.ends_with('-'), "no count: {row}");
}

#[test]
fn bad_input_is_named() {
    let dir = TempDir::new("keys-bad");
    let pem_only = key();
    seal(&["keys", "--recovery-private-key", &pem_only])
        .run()
        .fails_with(&["no key Secret with a certificate"]);
    let missing = dir.join("missing.yaml").display().to_string();
    seal(&["keys", "--recovery-private-key", &missing])
        .run()
        .fails_with(&["missing.yaml"]);
    let backup = vector("sealing-key-secret.yaml").display().to_string();
    seal(&["keys", "--recovery-private-key", &backup, "-o", "yaml"])
        .run()
        .fails_with(&["unsupported output format: yaml"]);
}
