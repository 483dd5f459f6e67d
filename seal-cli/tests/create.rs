//! `seal create generic|tls|docker-registry`: the SealedSecret of exactly the Secret that
//! `kubectl create secret ... --dry-run=client` makes from the same flags (checked against the
//! real kubectl), with no plaintext file written; bad input names the flag and writes nothing.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;

/// The Secret data kubectl makes from `args` (`kubectl create secret ARGS --dry-run=client`).
fn kubectl_data(args: &[&str]) -> (BTreeMap<String, Vec<u8>>, serde_json::Value) {
    let kubectl = tests::cluster::find_binary("kubectl").expect("kubectl (build-binaries.sh)");
    let out = Command::new(kubectl)
        .args(["create", "secret"])
        .args(args)
        .args(["--dry-run=client", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (secret_data(&secret), secret)
}

/// `seal create ARGS` sealed with the vectors' certificate, unsealed with its key.
fn sealed_then_opened(args: &[&str]) -> (serde_json::Value, serde_json::Value) {
    let cert = cert();
    let mut all = vec!["create"];
    all.extend_from_slice(args);
    all.extend(["--sealing-cert", cert.as_str(), "-o", "json"]);
    let sealed = seal(&all).run().ok();
    let key = key();
    let opened = seal(&[
        "--recovery-unseal",
        "--recovery-private-key",
        &key,
        "-o",
        "json",
    ])
    .stdin(&sealed)
    .run()
    .ok();
    (parse(&sealed), serde_json::from_str(&opened).unwrap())
}

#[test]
fn generic_tls_and_docker_registry_match_kubectl() {
    let dir = TempDir::new("create");
    let config = dir.write("app.conf", "retries = 3\n");
    let blob = dir.write("blob.bin", [0u8, 159, 146, 150, 255]);
    let env = dir.write("db.env", "# database\nDB_USER=admin\n\n  DB_PASS=s3cr=t\n");
    let (config, blob, env) = (
        config.display().to_string(),
        format!("raw={}", blob.display()),
        env.display().to_string(),
    );
    let generic = [
        "generic",
        "app",
        "-n",
        "team-a",
        "--from-literal",
        "token=abc",
        "--from-file",
        &config,
        "--from-file",
        &blob,
    ];
    let (sealed, opened) = sealed_then_opened(
        &[
            &generic[..],
            &["--label", "app=web", "--annotation", "owner=team-a"],
        ]
        .concat(),
    );
    let (want, _) = kubectl_data(&generic);
    assert_eq!(secret_data(&opened), want);
    assert_eq!(opened["type"], "Opaque");
    assert_eq!(sealed["metadata"]["namespace"], "team-a");
    assert_eq!(
        sealed["spec"]["template"]["metadata"]["labels"]["app"],
        "web"
    );
    assert_eq!(
        sealed["spec"]["template"]["metadata"]["annotations"]["owner"],
        "team-a"
    );
    let from_env = ["generic", "db", "--from-env-file", &env];
    assert_eq!(
        secret_data(&sealed_then_opened(&from_env).1),
        kubectl_data(&from_env).0
    );

    let made = shared::keys::generate(
        shared::keys::KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(3600),
        "example.com",
        [4; 16],
    )
    .unwrap();
    let crt = dir.write("tls.crt", &made.cert_pem).display().to_string();
    let tls_key = dir
        .write("tls.key", made.key.to_pkcs1_pem().unwrap().as_bytes())
        .display()
        .to_string();
    let tls = [
        "tls", "web-tls", "-n", "team-a", "--cert", &crt, "--key", &tls_key,
    ];
    let (_, opened) = sealed_then_opened(&tls);
    let (want, theirs) = kubectl_data(&tls);
    assert_eq!(secret_data(&opened), want);
    assert_eq!(opened["type"], theirs["type"]);

    let docker = [
        "docker-registry",
        "pull",
        "-n",
        "team-a",
        "--docker-server",
        "registry.example.com",
        "--docker-username",
        "robot",
        "--docker-password",
        "p<w>&d",
        "--docker-email",
        "r@example.com",
    ];
    let (_, opened) = sealed_then_opened(&docker);
    let (want, theirs) = kubectl_data(&docker);
    assert_eq!(
        secret_data(&opened),
        want,
        "byte for byte kubectl's .dockerconfigjson"
    );
    assert_eq!(opened["type"], theirs["type"]);
    let no_email = &docker[..docker.len() - 2];
    assert_eq!(
        secret_data(&sealed_then_opened(no_email).1),
        kubectl_data(no_email).0
    );
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let dir = TempDir::new("create-bad");
    let out = dir.join("out.yaml").display().to_string();
    let cert = cert();
    let run = |args: &[&str]| {
        let mut all = vec![
            "create",
            "generic",
            "x",
            "--sealing-cert",
            cert.as_str(),
            "-w",
            out.as_str(),
        ];
        all.extend_from_slice(args);
        seal(&all).run()
    };
    run(&["--from-literal", "novalue"])
        .fails_with(&["--from-literal \"novalue\": expected KEY=VALUE"]);
    run(&["--from-file", "/nonexistent/f"])
        .fails_with(&["open /nonexistent/f: no such file or directory"]);
    let env = dir.write("bad.env", "A=1\nB\n").display().to_string();
    let line = run(&["--from-env-file", &env]).fails_with(&["line 2: expected KEY=VALUE"]);
    assert!(!line.contains("B\n"), "{line}");
    run(&["--from-literal", "a=1", "--from-literal", "a=2"]).fails_with(&["key \"a\" given twice"]);
    run(&["--from-literal", "a=1", "--from-env-file", &env])
        .fails_with(&["--from-env-file cannot be combined"]);
    run(&["--from-literal", "bad key=1"]).fails_with(&["key \"bad key\""]);
    run(&["--label", "nolabel", "--from-literal", "a=1"]).fails_with(&["--label \"nolabel\""]);
    assert!(
        dir.files().iter().all(|f| f != "out.yaml"),
        "nothing written"
    );
    // And with good input, the file appears (YAML, by its name).
    run(&["--from-literal", "a=1"]).ok();
    assert!(
        std::fs::read_to_string(dir.join("out.yaml"))
            .unwrap()
            .contains("kind: SealedSecret")
    );
}
