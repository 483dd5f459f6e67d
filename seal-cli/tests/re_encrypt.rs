//! `seal re-encrypt PATH...`, offline (--cert, --recovery-private-key): a directory with
//! SealedSecrets under an old key and the newest one, other documents, comments, JSON, a file
//! that is not YAML, and a hidden directory. Only old values change, everything else stays
//! byte for byte, a second run changes nothing, --dry-run writes nothing, and a failure
//! anywhere writes nothing anywhere.

mod common;

use std::path::Path;

use common::*;
use shared::keys::{KeySize, generate};
use shared::unseal::decrypt_items;
use shared::{KeyRing, PrivateKey, SealedSecret};

struct Keys {
    dir: TempDir,
}

impl Keys {
    /// The newest key (made here) beside the vectors' key, which is the old one.
    fn new() -> Keys {
        let dir = TempDir::new("re-encrypt-keys");
        let made = generate(
            KeySize::Rsa2048,
            time::OffsetDateTime::now_utc(),
            std::time::Duration::from_secs(3600),
            "",
            [9; 16],
        )
        .unwrap();
        dir.write("new-key.pem", made.key.to_pkcs1_pem().unwrap().as_bytes());
        dir.write("new-cert.pem", &made.cert_pem);
        Keys { dir }
    }

    fn new_key(&self) -> String {
        self.dir.join("new-key.pem").display().to_string()
    }

    fn new_cert(&self) -> String {
        self.dir.join("new-cert.pem").display().to_string()
    }

    fn ring(&self, which: &[&str]) -> KeyRing {
        KeyRing::new(
            which
                .iter()
                .map(|p| PrivateKey::from_pem(&std::fs::read_to_string(p).unwrap()).unwrap())
                .collect(),
        )
    }

    fn run(&self, extra: &[&str], paths: &[&Path]) -> Outcome {
        let keys = format!("{},{}", key(), self.new_key());
        let cert = self.new_cert();
        let mut args = vec![
            "re-encrypt",
            "--cert",
            cert.as_str(),
            "--recovery-private-key",
            keys.as_str(),
        ];
        args.extend_from_slice(extra);
        let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        args.extend(paths.iter().map(String::as_str));
        seal(&args).run()
    }
}

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n";

/// A repository: `apps/db.yaml` (a comment, the vectors' strict SealedSecret under the old
/// key, a ConfigMap, and a SealedSecret already under the newest key), `apps/api.json` (old
/// key, JSON), `apps/plain.yaml`, a Helm template and `.git/stale.yaml`.
fn repository(keys: &Keys) -> TempDir {
    let repo = TempDir::new("re-encrypt-repo");
    let old = std::fs::read_to_string(vector("sealedsecret-strict-default-db-creds.yaml")).unwrap();
    let current = seal(&["--cert", &keys.new_cert(), "-o", "yaml"])
        .stdin(std::fs::read(vector(NSWIDE_INPUT)).unwrap())
        .run()
        .ok();
    std::fs::create_dir_all(repo.join("apps/chart/templates")).unwrap();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    repo.write(
        "apps/db.yaml",
        format!("# database credentials, rotated yearly\n{old}---\n{CONFIG_MAP}{current}"),
    );
    repo.write(
        "apps/api.json",
        std::fs::read(vector("sealedsecret-nswide-team-a-api.json")).unwrap(),
    );
    repo.write("apps/plain.yaml", CONFIG_MAP);
    repo.write(
        "apps/chart/templates/secret.yaml",
        "kind: SealedSecret\nmetadata:\n  name: {{ .Values.name }}\n",
    );
    repo.write(".git/stale.yaml", &old);
    repo
}

/// `text` with every long base64 run (a ciphertext, under a key of any size) masked.
fn masked(text: &str) -> String {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars() {
        if is_b64(c) {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() >= 100 {
            "<CIPHERTEXT>"
        } else {
            &run
        });
        run.clear();
        out.push(c);
    }
    out.push_str(if run.len() >= 100 {
        "<CIPHERTEXT>"
    } else {
        &run
    });
    out
}

/// A run that succeeded, with its summary on stderr: stdout.
fn succeeded(out: &Outcome) -> String {
    assert_eq!(out.code(), Some(0), "stderr: {}", out.stderr());
    out.stdout()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn sealed_secrets(text: &str) -> Vec<SealedSecret> {
    let docs: Vec<serde_json::Value> = if text.trim_start().starts_with('{') {
        vec![serde_json::from_str(text).unwrap()]
    } else {
        serde_saphyr::from_multiple(text).unwrap()
    };
    docs.into_iter()
        .filter(|d| d["kind"] == "SealedSecret")
        .map(|d| serde_json::from_value(d).unwrap())
        .collect()
}

fn opens(ss: &SealedSecret, ring: &KeyRing) -> bool {
    decrypt_items(ss, ring).is_ok()
}

#[test]
fn only_old_values_change_and_a_second_run_changes_nothing() {
    let keys = Keys::new();
    let repo = repository(&keys);
    let untouched = [
        "apps/plain.yaml",
        "apps/chart/templates/secret.yaml",
        ".git/stale.yaml",
    ];
    let before: Vec<String> = ["apps/db.yaml", "apps/api.json"]
        .iter()
        .chain(&untouched)
        .map(|f| read(&repo.join(f)))
        .collect();
    let old_ring = keys.ring(&[&key()]);
    let new_ring = keys.ring(&[&keys.new_key()]);
    let current_before = sealed_secrets(&before[0])[1].clone();

    let out = keys.run(&[], &[repo.path()]);
    assert_eq!(succeeded(&out), "");
    let summary = out.stderr();
    assert!(
        summary.contains("re-encrypted 6 items of 2 SealedSecrets in 2 files (3 SealedSecrets in 4 files looked at)"),
        "{summary}"
    );

    let db = read(&repo.join("apps/db.yaml"));
    let api = read(&repo.join("apps/api.json"));
    // The layout, comments and other documents stay; only ciphertexts differ.
    assert_eq!(masked(&db), masked(&before[0]));
    assert_eq!(masked(&api), masked(&before[1]));
    assert_ne!(db, before[0]);
    assert_ne!(api, before[1]);
    let db_objects = sealed_secrets(&db);
    assert_eq!(db_objects.len(), 2);
    for ss in db_objects.iter().chain(&sealed_secrets(&api)) {
        assert!(opens(ss, &new_ring), "{:?}", ss.metadata.name);
        assert!(!opens(ss, &old_ring), "{:?}", ss.metadata.name);
    }
    // The object already under the newest key: byte for byte the same values.
    assert_eq!(
        db_objects[1].spec.encrypted_data,
        current_before.spec.encrypted_data
    );
    for (file, text) in untouched.iter().zip(&before[2..]) {
        assert_eq!(&read(&repo.join(file)), text, "{file} changed");
    }
    // The old values still open what they opened: the plaintext is the same.
    let was = sealed_secrets(&before[0]);
    assert_eq!(
        decrypt_items(&db_objects[0], &new_ring).unwrap().items(),
        decrypt_items(&was[0], &old_ring).unwrap().items()
    );

    // Again: nothing to do, no file written (its modification time stays).
    let mtime = |f: &str| std::fs::metadata(repo.join(f)).unwrap().modified().unwrap();
    let stamps = (mtime("apps/db.yaml"), mtime("apps/api.json"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = keys.run(&[], &[repo.path()]);
    succeeded(&again);
    assert!(
        again
            .stderr()
            .contains("re-encrypted 0 items of 0 SealedSecrets in 0 files"),
        "{}",
        again.stderr()
    );
    assert_eq!(read(&repo.join("apps/db.yaml")), db);
    assert_eq!((mtime("apps/db.yaml"), mtime("apps/api.json")), stamps);
}

#[test]
fn dry_run_lists_and_writes_nothing() {
    let keys = Keys::new();
    let repo = repository(&keys);
    let db = repo.join("apps/db.yaml");
    let before = read(&db);
    let out = keys.run(&["--dry-run"], &[&db]);
    let listed = succeeded(&out);
    assert_eq!(
        listed,
        format!(
            "{}: default/db-creds: empty, password, username\n",
            db.display()
        )
    );
    assert!(
        out.stderr()
            .contains("would re-encrypt 3 items of 1 SealedSecrets in 1 files")
    );
    assert_eq!(read(&db), before);
}

#[test]
fn a_failure_anywhere_writes_nothing() {
    let keys = Keys::new();
    let repo = repository(&keys);
    // Sealed for a key nobody has: it cannot be re-encrypted.
    let stranger = generate(
        KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(3600),
        "",
        [3; 16],
    )
    .unwrap();
    let stranger_cert = repo.write("stranger.pem", &stranger.cert_pem);
    let foreign = seal(&["--cert", stranger_cert.to_str().unwrap(), "-o", "yaml"])
        .stdin(std::fs::read(vector(STRICT_INPUT)).unwrap())
        .run()
        .ok();
    repo.write("apps/zz-foreign.yaml", &foreign);
    let before = read(&repo.join("apps/db.yaml"));
    let line = keys.run(&[], &[repo.path()]).fails_with(&[
        "zz-foreign.yaml: document 1 (SealedSecret default/db-creds)",
        "cannot re-encrypt sealed secret \"db-creds\"",
    ]);
    assert_eq!(line.lines().count(), 1, "{line}");
    // db.yaml could have been re-encrypted, but nothing is written when anything fails.
    assert_eq!(read(&repo.join("apps/db.yaml")), before);

    // A file named on the command line must be YAML or JSON.
    keys.run(&[], &[&repo.join("apps/chart/templates/secret.yaml")])
        .fails_with(&["secret.yaml"]);
}

#[test]
fn offline_needs_both_the_certificate_and_the_keys() {
    let keys = Keys::new();
    let dir = TempDir::new("re-encrypt-flags");
    let p = dir.path().display().to_string();
    seal(&["re-encrypt", "--cert", &keys.new_cert(), &p])
        .run()
        .fails_with(&["--cert without --recovery-private-key"]);
    seal(&["re-encrypt", "--recovery-private-key", &key(), &p])
        .run()
        .fails_with(&["--recovery-private-key without --cert"]);
    let usage = seal(&["re-encrypt"]).run();
    assert_eq!(usage.code(), Some(2), "a usage error, as clap's");
    assert!(usage.stderr().contains("<PATH>"), "{}", usage.stderr());
}
