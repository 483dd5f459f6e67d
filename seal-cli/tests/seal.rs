//! Sealing through the binary: output byte-compatible with kubeseal's (apart from the random
//! ciphertexts), round trips through --recovery-unseal, namespaces, scopes, flags and env.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;

fn read(path: impl AsRef<std::path::Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// The vectors' SealedSecrets were rendered as kubeseal prints them; ours must match line for
/// line once the random ciphertexts are masked.
#[test]
fn output_matches_the_vectors_exactly() {
    let cases = [
        (
            STRICT_INPUT,
            "sealedsecret-strict-default-db-creds",
            "strict",
        ),
        (
            NSWIDE_INPUT,
            "sealedsecret-nswide-team-a-api",
            "namespace-wide",
        ),
    ];
    for (input, expected, scope) in cases {
        for format in ["yaml", "json"] {
            let input_path = vector(input).display().to_string();
            let out = seal(&[
                "--cert",
                &cert(),
                "-f",
                &input_path,
                "--scope",
                scope,
                "-o",
                format,
            ])
            .run()
            .ok();
            let want = read(vector(&format!("{expected}.{format}")));
            let (got, want) = (mask_ciphertexts(&out), mask_ciphertexts(&want));
            assert!(got.contains("<CIPHERTEXT>"));
            for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
                assert_eq!(g, w, "{expected}.{format} line {}", i + 1);
            }
            assert_eq!(got, want, "{expected}.{format}");
        }
    }
}

/// recovery-unseal of the two vector manifests (sealed by the Go reference) with the key as
/// PEM and as the controller's key Secret gives exactly the expected data.
#[test]
fn recovery_unseal_of_the_vector_manifests() {
    let expected: serde_json::Value =
        serde_json::from_str(&read(vector("manifests-expected.json"))).unwrap();
    let key_secret = vector("sealing-key-secret.yaml").display().to_string();
    for (name, case) in expected.as_object().unwrap() {
        let want: BTreeMap<String, String> =
            serde_json::from_value(case["unsealed_data_b64"].clone()).unwrap();
        for ext in ["yaml", "json"] {
            let manifest = read(vector(&format!("{name}.{ext}")));
            for key in [key(), key_secret.clone()] {
                let out = seal(&[
                    "--recovery-unseal",
                    "--recovery-private-key",
                    &key,
                    "-o",
                    "json",
                ])
                .stdin(&manifest)
                .run()
                .ok();
                let secret: serde_json::Value = serde_json::from_str(&out).unwrap();
                let got: BTreeMap<String, String> =
                    serde_json::from_value(secret["data"].clone()).unwrap();
                assert_eq!(got, want, "{name}.{ext} with {key}");
                assert_eq!(secret["metadata"]["name"], case["name"]);
                assert_eq!(secret["metadata"]["namespace"], case["namespace"]);
            }
        }
    }
}

#[test]
fn recovery_unseal_prints_the_secret_as_kubeseal_does() {
    let manifest = read(vector("sealedsecret-nswide-team-a-api.yaml"));
    let json = seal(&["--recovery-unseal", "--recovery-private-key", &key()])
        .stdin(&manifest)
        .run()
        .ok();
    let keys: Vec<&str> = json
        .lines()
        .filter(|l| l.starts_with("  \"") || l.starts_with("    \""))
        .map(str::trim)
        .take(4)
        .collect();
    assert_eq!(
        keys,
        [
            "\"kind\": \"Secret\",",
            "\"apiVersion\": \"v1\",",
            "\"metadata\": {",
            "\"name\": \"api\","
        ]
    );
    assert!(json.ends_with("}\n"));
    let yaml = seal(&[
        "--recovery-unseal",
        "--recovery-private-key",
        &key(),
        "-o",
        "yaml",
    ])
    .stdin(&manifest)
    .run()
    .ok();
    assert!(yaml.starts_with("---\napiVersion: v1\ndata:\n"), "{yaml}");
    assert!(yaml.contains("\n  ownerReferences:\n  - apiVersion: bitnami.com/v1alpha1\n    controller: true\n    kind: SealedSecret\n    name: api\n    uid: \"\"\n"), "{yaml}");
    assert!(
        yaml.contains("\n  labels:\n    app.kubernetes.io/name: api\n"),
        "{yaml}"
    );
    assert!(!yaml.contains("creationTimestamp"));
}

#[test]
fn recovery_keys_from_a_list_backup_and_several_files() {
    let dir = TempDir::new("list");
    let key_secret = parse(&read(vector("sealing-key-secret.yaml")));
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [key_secret]});
    let list_path = dir.write("backup.json", list.to_string());
    let other = shared::keys::generate(
        shared::keys::KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(86_400),
        "",
        [3; 16],
    )
    .unwrap();
    let other_path = dir.write("other.pem", other.key.to_pkcs1_pem().unwrap().as_bytes());
    let manifest = read(vector("sealedsecret-strict-default-db-creds.yaml"));
    let both = format!("{},{}", other_path.display(), list_path.display());
    let data = unseal_data(&manifest, &[&both]);
    assert_eq!(data["username"], b"app_user");
    // Repeated flags work too.
    let out = seal(&[
        "--recovery-unseal",
        "--recovery-private-key",
        &other_path.display().to_string(),
        "--recovery-private-key",
        &list_path.display().to_string(),
    ])
    .stdin(&manifest)
    .run()
    .ok();
    assert!(out.contains("\"username\": \"YXBwX3VzZXI=\""));
}

/// Seal then unseal through the binary for each scope; the scope annotation lands on both the
/// SealedSecret and its template, and the label matches.
#[test]
fn round_trip_for_each_scope() {
    let input = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  namespace: prod\n  labels:\n    tier: web\n\
                 type: Opaque\ndata:\n  bin: AAEC/w==\nstringData:\n  password: s3cr3t\n  empty: \"\"\n";
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let sealed = seal(&["--cert", &cert(), "--scope", scope, "-o", "yaml"])
            .stdin(input)
            .run()
            .ok();
        let doc = parse(&sealed);
        let annotation = doc["metadata"]["annotations"].clone();
        match scope {
            "strict" => assert!(annotation.is_null(), "{sealed}"),
            _ => {
                let key = format!("sealedsecrets.bitnami.com/{scope}");
                assert_eq!(annotation[&key], "true");
                assert_eq!(
                    doc["spec"]["template"]["metadata"]["annotations"][&key],
                    "true"
                );
            }
        }
        assert_eq!(doc["spec"]["template"]["metadata"]["labels"]["tier"], "web");
        assert!(
            doc["metadata"]["labels"].is_null(),
            "labels only go into the template"
        );
        let data = unseal_data(&sealed, &[&key()]);
        assert_eq!(data["bin"], [0, 1, 2, 255]);
        assert_eq!(data["password"], b"s3cr3t");
        assert_eq!(data["empty"], b"");

        // The label binds the value: moving it elsewhere breaks strict, not cluster-wide.
        let moved = sealed.replace("namespace: prod", "namespace: dev");
        let out = seal(&["--recovery-unseal", "--recovery-private-key", &key()])
            .stdin(&moved)
            .run();
        match scope {
            "cluster-wide" => {
                out.ok();
            }
            _ => {
                out.fails_with(&["no key could decrypt secret"]);
            }
        }
    }
}

#[test]
fn strict_does_not_override_an_existing_scope_annotation() {
    let input = "metadata:\n  name: s\n  namespace: a\n  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\nstringData:\n  k: v\n";
    let sealed = seal(&["--cert", &cert(), "--scope", "strict", "-o", "yaml"])
        .stdin(input)
        .run()
        .ok();
    assert!(sealed.contains(
        "  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n  name: s\n"
    ));
    // A non-default scope replaces it.
    let sealed = seal(&["--cert", &cert(), "--scope", "namespace-wide", "-o", "yaml"])
        .stdin(input)
        .run()
        .ok();
    assert!(!sealed.contains("cluster-wide"), "{sealed}");
    assert!(sealed.contains("sealedsecrets.bitnami.com/namespace-wide: \"true\""));
    assert_eq!(unseal_data(&sealed, &[&key()])["k"], b"v");
}

#[test]
fn several_documents_yaml_and_json_streams() {
    let one = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: one\n  namespace: a\nstringData:\n  k: \"1\"\n";
    let two = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: two\n  namespace: a\nstringData:\n  k: \"2\"\n";
    let yaml_in = format!("---\n{one}---\n---\n{two}");
    let out = seal(&["--cert", &cert(), "-o", "yaml"])
        .stdin(&yaml_in)
        .run()
        .ok();
    let docs: Vec<&str> = out.split("---\n").filter(|d| !d.is_empty()).collect();
    assert_eq!(docs.len(), 2);
    assert!(out.starts_with("---\napiVersion: bitnami.com/v1alpha1\n"));
    for (doc, want) in docs.iter().zip(["1", "2"]) {
        assert_eq!(unseal_data(doc, &[&key()])["k"], want.as_bytes());
    }
    let json_in = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"one","namespace":"a"},"stringData":{"k":"1"}}
{"apiVersion":"v1","kind":"Secret","metadata":{"name":"two","namespace":"a"},"stringData":{"k":"2"}}"#;
    let out = seal(&["--cert", &cert()]).stdin(json_in).run().ok();
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&out)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1]["metadata"]["name"], "two");
    assert!(
        out.contains("}\n{\n"),
        "each JSON document ends with a newline"
    );
}

#[test]
fn namespace_defaults_like_kubeseal() {
    let input = "metadata:\n  name: s\nstringData:\n  k: v\n";
    let ns_of = |out: &str| parse(out)["metadata"]["namespace"].clone();

    // No kubeconfig at all: "default".
    let out = seal(&["--cert", &cert(), "-o", "yaml"])
        .stdin(input)
        .run()
        .ok();
    assert_eq!(ns_of(&out), "default");

    // -n fills an empty namespace.
    let out = seal(&["--cert", &cert(), "-o", "yaml", "-n", "team-b"])
        .stdin(input)
        .run()
        .ok();
    assert_eq!(ns_of(&out), "team-b");
    assert_eq!(unseal_data(&out, &[&key()])["k"], b"v");

    // The kubeconfig's current context, from ~/.kube/config, KUBECONFIG or --kubeconfig.
    let home = TempDir::new("home");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    let config = "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context:\n    cluster: c\n    namespace: from-home\n- name: other\n  context:\n    cluster: c\n    namespace: from-context-flag\n";
    std::fs::write(home.join(".kube/config"), config).unwrap();
    let out = seal(&["--cert", &cert(), "-o", "yaml"])
        .env("HOME", home.path())
        .stdin(input)
        .run()
        .ok();
    assert_eq!(ns_of(&out), "from-home");
    let out = seal(&["--cert", &cert(), "-o", "yaml", "--context", "other"])
        .env("HOME", home.path())
        .stdin(input)
        .run()
        .ok();
    assert_eq!(ns_of(&out), "from-context-flag");
    let alt = home.write("alt-config", config.replace("from-home", "from-env"));
    let out = seal(&["--cert", &cert(), "-o", "yaml"])
        .env("KUBECONFIG", &alt)
        .stdin(input)
        .run()
        .ok();
    assert_eq!(ns_of(&out), "from-env");
    let out = seal(&[
        "--cert",
        &cert(),
        "-o",
        "yaml",
        "--kubeconfig",
        &alt.display().to_string(),
    ])
    .stdin(input)
    .run()
    .ok();
    assert_eq!(ns_of(&out), "from-env");

    // Cluster-wide keeps an empty namespace.
    let out = seal(&["--cert", &cert(), "-o", "yaml", "--scope", "cluster-wide"])
        .env("HOME", home.path())
        .stdin(input)
        .run()
        .ok();
    assert!(ns_of(&out).is_null(), "{out}");
    assert!(!out.contains("namespace:"), "{out}");

    // -n equal to the input's namespace is fine.
    let with_ns = "metadata:\n  name: s\n  namespace: x\nstringData:\n  k: v\n";
    seal(&["--cert", &cert(), "-n", "x"])
        .stdin(with_ns)
        .run()
        .ok();
}

#[test]
fn name_flag_overrides_the_name() {
    let input = "metadata:\n  name: old\n  namespace: a\nstringData:\n  k: v\n";
    let out = seal(&["--cert", &cert(), "--name", "new", "-o", "yaml"])
        .stdin(input)
        .run()
        .ok();
    let doc = parse(&out);
    assert_eq!(doc["metadata"]["name"], "new");
    assert_eq!(doc["spec"]["template"]["metadata"]["name"], "new");
    assert_eq!(unseal_data(&out, &[&key()])["k"], b"v");
}

#[test]
fn allow_empty_data_seals_an_empty_secret() {
    let input = "metadata:\n  name: s\n  namespace: a\n";
    let out = seal(&["--cert", &cert(), "--allow-empty-data"])
        .stdin(input)
        .run()
        .ok();
    assert!(out.contains("\"encryptedData\": {}"), "{out}");
}

#[test]
fn last_applied_annotations_are_stripped() {
    let input = "metadata:\n  name: s\n  namespace: a\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{\"k\":\"djE=\"}}'\n    keep: me\nstringData:\n  k: v\n";
    let out = seal(&["--cert", &cert(), "-o", "yaml"])
        .stdin(input)
        .run()
        .ok();
    assert!(!out.contains("last-applied"), "{out}");
    assert!(out.contains("keep: me"));
}

#[test]
fn yaml_output_file_gives_yaml_and_no_stdout() {
    let dir = TempDir::new("w");
    for name in ["sealed.yaml", "sealed.yml"] {
        let out = dir.join(name);
        let input = vector(STRICT_INPUT).display().to_string();
        let stdout = seal(&[
            "--cert",
            &cert(),
            "-f",
            &input,
            "-w",
            &out.display().to_string(),
        ])
        .run()
        .ok();
        assert_eq!(stdout, "");
        let written = read(&out);
        assert!(
            written.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
            "{written}"
        );
    }
    // Overwriting an existing file replaces it whole.
    let out = dir.write("sealed.json", "old");
    seal(&["--cert", &cert(), "-w", &out.display().to_string()])
        .stdin(read(vector(STRICT_INPUT)))
        .run()
        .ok();
    assert!(read(&out).starts_with("{\n  \"kind\": \"SealedSecret\","));
    assert_eq!(dir.files(), ["sealed.json", "sealed.yaml", "sealed.yml"]);
}

#[test]
fn environment_variables_set_flags_and_flags_win() {
    let input = read(vector(STRICT_INPUT));
    let out = seal(&[])
        .env("SEALED_SECRETS_CERT", cert())
        .env("SEALED_SECRETS_FORMAT", "yaml")
        .env("SEALED_SECRETS_SCOPE", "cluster-wide")
        .stdin(&input)
        .run()
        .ok();
    assert!(out.starts_with("---\n"), "{out}");
    assert!(out.contains("sealedsecrets.bitnami.com/cluster-wide: \"true\""));
    // The command line wins over the environment.
    let out = seal(&["-o", "json", "--scope", "strict"])
        .env("SEALED_SECRETS_CERT", cert())
        .env("SEALED_SECRETS_FORMAT", "yaml")
        .stdin(&input)
        .run()
        .ok();
    assert!(out.starts_with("{\n"), "{out}");
    // Booleans, lists and files.
    let dir = TempDir::new("env");
    let value = dir.write("value.txt", "raw value");
    let raw = seal(&[])
        .env("SEALED_SECRETS_CERT", cert())
        .env("SEALED_SECRETS_RAW", "true")
        .env("SEALED_SECRETS_SCOPE", "cluster-wide")
        .env("SEALED_SECRETS_FROM_FILE", &value)
        .run()
        .ok();
    assert!(raw.starts_with("Ag") && !raw.ends_with('\n'), "{raw}");
    let out_file = dir.join("out.yaml");
    seal(&[])
        .env("SEALED_SECRETS_RECOVERY_UNSEAL", "1")
        .env(
            "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
            format!("{},{}", key(), key()),
        )
        .env(
            "SEALED_SECRETS_SECRET_FILE",
            vector("sealedsecret-strict-default-db-creds.yaml"),
        )
        .env("SEALED_SECRETS_SEALED_SECRET_FILE", &out_file)
        .run()
        .ok();
    assert!(read(&out_file).contains("username: YXBwX3VzZXI="));
    seal(&["--cert", &cert()])
        .env("SEALED_SECRETS_NAMESPACE", "elsewhere")
        .stdin(&input)
        .run()
        .fails_with(&["namespace mismatch"]);
}

#[test]
fn broken_pipe_is_not_an_error() {
    let dir = TempDir::new("pipe");
    // Bigger than a pipe buffer, so the write really hits the closed pipe.
    let big = "x".repeat(300 * 1024);
    let input = dir.write(
        "big.yaml",
        format!("metadata:\n  name: s\n  namespace: a\nstringData:\n  big: {big}\n"),
    );
    let script = format!(
        "'{SEAL}' --cert '{}' -f '{}' 2>'{}' | head -c1 >/dev/null; echo ${{PIPESTATUS[0]}}",
        cert(),
        input.display(),
        dir.join("stderr").display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    assert_eq!(
        read(dir.join("stderr")),
        "",
        "no error text on a closed pipe"
    );
}

#[test]
fn version_and_fetch_cert() {
    let out = seal(&["--version"]).run().ok();
    assert_eq!(
        out,
        format!("seal version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
    // Under a link named kubeseal, the line scripts written for kubeseal parse.
    let dir = TempDir::new("kubeseal-link");
    let link = dir.join("kubeseal");
    std::os::unix::fs::symlink(SEAL, &link).unwrap();
    let out = std::process::Command::new(&link)
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("kubeseal version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
    let pem = seal(&["--fetch-cert", "--cert", &cert()]).run().ok();
    assert_eq!(pem, read(vector("sealing-cert.pem")));
    let url = format!(
        "file://{}",
        vector("sealing-cert.pem").canonicalize().unwrap().display()
    );
    assert_eq!(seal(&["--fetch-cert", "--cert", &url]).run().ok(), pem);
}

#[test]
fn help_lists_the_modes_and_the_connection_flags() {
    let help = seal(&["--help"]).run().ok();
    for flag in [
        "--cert",
        "--scope",
        "--raw",
        "--merge-into",
        "--recovery-unseal",
        "--validate",
        "--re-encrypt",
        "--controller-name",
        "--controller-namespace",
        "--kubeconfig",
        "--context",
        "--server",
        "--token",
        "--as-group",
        "--request-timeout",
        "--proxy-url",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
    assert!(!help.contains("not supported yet"), "{help}");
    assert!(help.contains("\nCluster connection:\n"), "{help}");
    assert!(help.contains("SEALED_SECRETS_CERT"));
}

#[test]
fn kubeseal_style_flag_spellings_are_accepted() {
    let input = read(vector(STRICT_INPUT));
    seal(&[
        "--cert",
        &cert(),
        "--controller-name",
        "sealed-secrets",
        "--controller-namespace",
        "sealed-secrets",
        "--kubeconfig",
        "/dev/null",
        "--context",
        "x",
        "--allow-empty-data=false",
        "--raw=false",
        "-v",
        "0",
    ])
    .stdin(&input)
    .run()
    .ok();
}

/// `kubectl create secret ... --dry-run=client -o yaml|json` output, with server-side fields
/// as `kubectl get` adds them: all dropped from the template.
#[test]
fn kubectl_output_with_server_fields() {
    let yaml = "apiVersion: v1\ndata:\n  a: Yg==\nkind: Secret\nmetadata:\n  creationTimestamp: null\n  name: x\n";
    let out = seal(&["--cert", &cert(), "-o", "yaml"])
        .stdin(yaml)
        .run()
        .ok();
    assert!(!out.contains("creationTimestamp"), "{out}");
    let json = r#"{"apiVersion":"v1","data":{"a":"Yg=="},"kind":"Secret","metadata":{"creationTimestamp":"2026-01-01T00:00:00Z","name":"x","namespace":"n","uid":"u1","resourceVersion":"5","generation":2,"ownerReferences":[{"apiVersion":"v1","kind":"X","name":"n","uid":"q"}],"managedFields":[{"manager":"kubectl"}]}}"#;
    let out = seal(&["--cert", &cert()]).stdin(json).run().ok();
    // Looked up as keys, not as substrings: the random ciphertext can spell "uid".
    let sealed: serde_json::Value = serde_json::from_str(&out).unwrap();
    for meta in [&sealed["metadata"], &sealed["spec"]["template"]["metadata"]] {
        let meta = meta
            .as_object()
            .unwrap_or_else(|| panic!("no metadata in {out}"));
        assert_eq!(meta["name"], "x", "{out}");
        for field in [
            "creationTimestamp",
            "uid",
            "resourceVersion",
            "generation",
            "ownerReferences",
            "managedFields",
        ] {
            assert!(!meta.contains_key(field), "{field} in {out}");
        }
    }
    assert_eq!(unseal_data(&out, &[&key()])["a"], b"b");
}
