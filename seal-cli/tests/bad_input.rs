//! Every bad input fails the same way: exit code 1, one `error: ...` line on stderr naming
//! the problem, nothing on stdout, and an existing `-w` file left byte for byte as it was.

mod common;

use common::*;

const OLD: &str = "previous contents\n";

/// Runs once to stdout and once with `-w` over an existing file; both must fail alike.
#[track_caller]
fn fails_twice(args: &[&str], stdin: &str, needles: &[&str]) -> String {
    let line = seal(args).stdin(stdin).run().fails_with(needles);
    for name in ["out.yaml", "out.json"] {
        let dir = TempDir::new("bad");
        let out = dir.write(name, OLD);
        let out_s = out.display().to_string();
        let mut with_w = args.to_vec();
        with_w.extend(["-w", &out_s]);
        seal(&with_w).stdin(stdin).run().fails_with(needles);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            OLD,
            "-w file must be untouched"
        );
        assert_eq!(dir.files(), [name], "no temporary file left behind");
    }
    line
}

fn secret_yaml(body: &str) -> String {
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: ns\n{body}")
}

#[test]
fn garbage_yaml() {
    fails_twice(&["--cert", &cert()], "key: [unclosed\n", &["invalid YAML"]);
}

#[test]
fn garbage_json() {
    fails_twice(
        &["--cert", &cert()],
        "{\"metadata\": {\"name\": ",
        &["invalid JSON in document 1"],
    );
}

#[test]
fn scalar_document() {
    fails_twice(
        &["--cert", &cert()],
        "just some text\n",
        &["input document 1 is a string, not a Secret"],
    );
}

#[test]
fn empty_input() {
    fails_twice(
        &["--cert", &cert()],
        "",
        &["no secrets found. Ensure the input is valid and UTF-8 encoded"],
    );
    fails_twice(&["--cert", &cert()], "---\n---\n", &["no secrets found"]);
}

#[test]
fn non_utf8_input() {
    let out = seal(&["--cert", &cert()])
        .stdin([0xff, 0xfe, 0x00, 0x41])
        .run();
    out.fails_with(&["no secrets found", "not UTF-8"]);
}

#[test]
fn invalid_base64_names_secret_and_key() {
    fails_twice(
        &["--cert", &cert()],
        &secret_yaml("data:\n  good: YQ==\n  password: hunter2!\n"),
        &["secret \"s\"", "data.password", "invalid base64"],
    );
}

#[test]
fn non_string_data_value() {
    fails_twice(
        &["--cert", &cert()],
        &secret_yaml("stringData:\n  port: 8080\n"),
        &["secret \"s\"", "stringData.port", "expected a string"],
    );
}

#[test]
fn missing_name() {
    fails_twice(
        &["--cert", &cert()],
        "apiVersion: v1\nkind: Secret\nmetadata:\n  namespace: ns\nstringData:\n  a: b\n",
        &["missing metadata.name in input Secret"],
    );
}

#[test]
fn empty_data_without_allow_empty_data() {
    fails_twice(
        &["--cert", &cert()],
        &secret_yaml(""),
        &["secret.data is empty", "\"s\"", "--allow-empty-data"],
    );
}

#[test]
fn type_missing_required_key() {
    fails_twice(
        &["--cert", &cert()],
        &secret_yaml("type: kubernetes.io/tls\nstringData:\n  tls.crt: x\n"),
        &["secret \"s\"", "kubernetes.io/tls", "tls.key"],
    );
}

#[test]
fn over_the_size_limit() {
    let big = "a".repeat(1024 * 1024 + 1);
    fails_twice(
        &["--cert", &cert()],
        &secret_yaml(&format!("stringData:\n  big: {big}\n")),
        &["secret \"s\"", "over the 1048576-byte Secret limit"],
    );
}

#[test]
fn bad_third_document_means_nothing_is_written() {
    let good = secret_yaml("stringData:\n  a: b\n");
    let input = format!(
        "{good}---\n{good}---\n{}",
        secret_yaml("data:\n  x: '%%%'\n")
    );
    fails_twice(&["--cert", &cert()], &input, &["data.x", "invalid base64"]);
}

#[test]
fn namespace_mismatch() {
    fails_twice(
        &["--cert", &cert(), "-n", "other"],
        &secret_yaml("stringData:\n  a: b\n"),
        &["namespace mismatch: input secret is in namespace \"ns\" but \"other\" was specified"],
    );
}

#[test]
fn missing_cert_file() {
    let line = fails_twice(
        &["--cert", "/nonexistent/cert.pem"],
        &secret_yaml("stringData:\n  a: b\n"),
        &["open /nonexistent/cert.pem: no such file or directory"],
    );
    assert_eq!(
        line,
        "error: open /nonexistent/cert.pem: no such file or directory\n"
    );
}

#[test]
fn missing_cert_file_url() {
    fails_twice(
        &["--cert", "file:///nonexistent/cert.pem"],
        &secret_yaml("stringData:\n  a: b\n"),
        &["open /nonexistent/cert.pem: no such file or directory"],
    );
}

#[test]
fn cert_that_is_not_a_certificate() {
    let key = key();
    fails_twice(
        &["--cert", &key],
        &secret_yaml("stringData:\n  a: b\n"),
        &["certificate", "sealing-key.pem", "no PEM certificate found"],
    );
}

#[test]
fn non_rsa_certificate() {
    let ec = fixture("ec-cert.pem").display().to_string();
    fails_twice(
        &["--cert", &ec],
        &secret_yaml("stringData:\n  a: b\n"),
        &["expected RSA public key but found ECDSA key"],
    );
}

#[test]
fn expired_certificate() {
    let dir = TempDir::new("expired");
    let now = time::OffsetDateTime::now_utc();
    let start = now - time::Duration::days(3);
    let generated = shared::keys::generate(
        shared::keys::KeySize::Rsa2048,
        start,
        std::time::Duration::from_secs(86_400),
        "",
        [7; 16],
    )
    .unwrap();
    let path = dir.write("expired.pem", &generated.cert_pem);
    let expiry = start + time::Duration::days(1);
    let date = format!("{} {}, {}", expiry.month(), expiry.day(), expiry.year());
    let line = fails_twice(
        &["--cert", &path.display().to_string()],
        &secret_yaml("stringData:\n  a: b\n"),
        &["failed to encrypt using an expired certificate on"],
    );
    assert_eq!(
        line,
        format!("error: failed to encrypt using an expired certificate on {date}\n")
    );
    // Raw mode refuses it as well.
    seal(&[
        "--cert",
        &path.display().to_string(),
        "--raw",
        "--scope",
        "cluster-wide",
    ])
    .stdin("v")
    .run()
    .fails_with(&["expired certificate"]);
}

#[test]
fn unsupported_output_format() {
    fails_twice(
        &["--cert", &cert(), "-o", "xml"],
        &secret_yaml("stringData:\n  a: b\n"),
        &["unsupported output format: xml"],
    );
}

#[test]
fn unknown_scope() {
    fails_twice(
        &["--cert", &cert(), "--scope", "global"],
        &secret_yaml("stringData:\n  a: b\n"),
        &["unknown scope \"global\""],
    );
}

#[test]
fn from_file_without_raw() {
    fails_twice(
        &["--cert", &cert(), "--from-file", "x=/etc/hostname"],
        "",
        &["--from-file requires --raw"],
    );
}

/// Without --cert, seal talks to the controller: with no kubeconfig and no --server, it
/// says so, and how to seal offline; nothing is written.
#[test]
fn without_cert_and_without_a_cluster() {
    const NO_CLUSTER: &str = "error: no cluster to talk to: no kubeconfig found (--kubeconfig, \
        $KUBECONFIG or ~/.kube/config) and no --server; to seal offline, pass --cert <file|url>\n";
    let sealed =
        std::fs::read_to_string(vector("sealedsecret-strict-default-db-creds.yaml")).unwrap();
    for (args, stdin) in [
        (&[][..], secret_yaml("stringData:\n  a: b\n")),
        (&["--raw", "--scope", "cluster-wide"], "v".to_owned()),
        (&["--fetch-cert"], String::new()),
        (&["--validate", "--cert", &cert()], sealed.clone()),
        (&["--re-encrypt"], sealed.clone()),
        (&["--rotate"], sealed.clone()),
    ] {
        let line = fails_twice(args, &stdin, &["no cluster to talk to"]);
        assert_eq!(line, NO_CLUSTER, "{args:?}");
    }
}

/// --validate and --re-encrypt read the whole input before any request.
#[test]
fn validate_and_re_encrypt_refuse_bad_input_before_any_request() {
    for mode in ["--validate", "--re-encrypt"] {
        fails_twice(&[mode], "", &["stdin: no SealedSecret found"]);
        fails_twice(
            &[mode],
            &secret_yaml("stringData:\n  a: b\n"),
            &["stdin: expected a SealedSecret, found kind \"Secret\""],
        );
    }
}

#[test]
fn recovery_unseal_with_the_wrong_key() {
    let dir = TempDir::new("wrongkey");
    let other = shared::keys::generate(
        shared::keys::KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(86_400),
        "",
        [1; 16],
    )
    .unwrap();
    let key_path = dir.write("other.pem", other.key.to_pkcs1_pem().unwrap().as_bytes());
    let sealed =
        std::fs::read_to_string(vector("sealedsecret-strict-default-db-creds.yaml")).unwrap();
    let line = fails_twice(
        &[
            "--recovery-unseal",
            "--recovery-private-key",
            &key_path.display().to_string(),
        ],
        &sealed,
        &["no key could decrypt secret (empty, password, username)"],
    );
    assert_eq!(
        line,
        "error: no key could decrypt secret (empty, password, username)\n"
    );
}

#[test]
fn recovery_unseal_of_a_non_sealed_secret() {
    let secret = std::fs::read_to_string(vector(STRICT_INPUT)).unwrap();
    fails_twice(
        &["--recovery-unseal", "--recovery-private-key", &key()],
        &secret,
        &["input: expected a SealedSecret, found kind \"Secret\""],
    );
}

#[test]
fn recovery_unseal_of_several_documents() {
    let sealed =
        std::fs::read_to_string(vector("sealedsecret-strict-default-db-creds.yaml")).unwrap();
    fails_twice(
        &["--recovery-unseal", "--recovery-private-key", &key()],
        &format!("{sealed}{sealed}"),
        &["expected one SealedSecret, found 2 documents"],
    );
}

#[test]
fn recovery_unseal_without_keys_or_with_bad_keys() {
    // As kubeseal: no key is no error of its own; no item opens (the reference suite checks
    // the message).
    let sealed =
        std::fs::read_to_string(vector("sealedsecret-strict-default-db-creds.yaml")).unwrap();
    fails_twice(
        &["--recovery-unseal"],
        &sealed,
        &["no key could decrypt secret ("],
    );
    fails_twice(
        &[
            "--recovery-unseal",
            "--recovery-private-key",
            "/nonexistent/key.pem",
        ],
        "",
        &["open /nonexistent/key.pem: no such file or directory"],
    );
    let not_a_key = cert();
    fails_twice(
        &["--recovery-unseal", "--recovery-private-key", &not_a_key],
        "",
        &["private key", "sealing-cert.pem", "no private key found"],
    );
}

#[test]
fn raw_strict_without_namespace_or_name() {
    fails_twice(
        &["--cert", &cert(), "--raw", "--name", "n"],
        "v",
        &["must provide the --namespace flag with --raw and --scope strict"],
    );
    fails_twice(
        &["--cert", &cert(), "--raw", "-n", "ns"],
        "v",
        &["must provide the --name flag with --raw and --scope strict"],
    );
}

#[test]
fn merge_into_a_file_that_is_not_a_sealed_secret() {
    let dir = TempDir::new("merge-bad");
    let secret = std::fs::read_to_string(vector(STRICT_INPUT)).unwrap();
    let target = dir.write("target.yaml", &secret);
    let target_s = target.display().to_string();
    seal(&["--cert", &cert(), "--merge-into", &target_s])
        .stdin(&secret)
        .run()
        .fails_with(&[
            "--merge-into",
            "target.yaml",
            "expected a SealedSecret, found kind \"Secret\"",
        ]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), secret);

    let garbage = dir.write("garbage.yaml", "not: [yaml\n");
    seal(&[
        "--cert",
        &cert(),
        "--merge-into",
        &garbage.display().to_string(),
    ])
    .stdin(&secret)
    .run()
    .fails_with(&["--merge-into", "garbage.yaml", "invalid YAML"]);
    assert_eq!(std::fs::read_to_string(&garbage).unwrap(), "not: [yaml\n");

    seal(&[
        "--cert",
        &cert(),
        "--merge-into",
        &dir.join("missing.yaml").display().to_string(),
    ])
    .stdin(&secret)
    .run()
    .fails_with(&["open ", "missing.yaml: no such file or directory"]);
    assert_eq!(dir.files(), ["garbage.yaml", "target.yaml"]);
}

#[test]
fn merge_into_with_a_bad_input_leaves_the_file() {
    let dir = TempDir::new("merge-bad-input");
    let sealed =
        std::fs::read_to_string(vector("sealedsecret-strict-default-db-creds.yaml")).unwrap();
    let target = dir.write("target.yaml", &sealed);
    seal(&[
        "--cert",
        &cert(),
        "--merge-into",
        &target.display().to_string(),
    ])
    .stdin("metadata: {name: x}\ndata: {k: '!!'}\n")
    .run()
    .fails_with(&["data.k", "invalid base64"]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), sealed);
    assert_eq!(dir.files(), ["target.yaml"]);
}

#[test]
fn missing_input_file() {
    fails_twice(
        &["--cert", &cert(), "-f", "/nonexistent/secret.yaml"],
        "",
        &["open /nonexistent/secret.yaml: no such file or directory"],
    );
}

#[test]
fn input_that_is_a_directory() {
    fails_twice(&["--cert", &cert(), "-f", "/"], "", &["/: is a directory"]);
}

#[test]
fn never_panics_on_odd_documents() {
    // Each is refused (or sealed) cleanly; the point is no panic and a proper exit code.
    let inputs = [
        "[1, 2, 3]\n",
        "metadata: 5\n",
        "metadata: {name: [a]}\nstringData: {a: b}\n",
        "metadata: {name: s}\ndata: [a]\n",
        "metadata: {name: s}\ndata: {a: null}\n",
        "metadata: {name: s, annotations: {a: 1}}\nstringData: {a: b}\n",
        "metadata: {name: s}\nstringData: {a: b}\nimmutable: maybe\n",
        "{\"metadata\": {\"name\": \"s\"}, \"stringData\": {\"a\": \"b\"}} trailing",
        "&a [*a]\n",
        "\u{0}\u{1}\u{2}",
        "- - - - - - - -\n",
        "metadata: {name: s, namespace: 7}\nstringData: {a: b}\n",
        "? [a]\n: b\n",
    ];
    for input in inputs {
        let out = seal(&["--cert", &cert()]).stdin(input).run();
        let stderr = out.stderr();
        assert!(!stderr.contains("panicked"), "{input:?}: {stderr}");
        assert!(matches!(out.code(), Some(0 | 1)), "{input:?}: {stderr}");
        if out.code() == Some(1) {
            out.fails_with(&[]);
        }
    }
}

#[test]
fn output_directory_missing() {
    seal(&["--cert", &cert(), "-w", "/nonexistent/dir/out.yaml"])
        .stdin(secret_yaml("stringData:\n  a: b\n"))
        .run()
        .fails_with(&["write /nonexistent/dir/out.yaml: no such file or directory"]);
}
