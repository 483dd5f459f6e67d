//! `--raw`: the scope × name × namespace matrix, and that each value opens only under the
//! label it was sealed for.

mod common;

use common::*;
use shared::scope::Label;
use shared::{KeyRing, Scope, crypto, wire};

fn ring() -> KeyRing {
    let pem = std::fs::read_to_string(vector("sealing-key.pem")).unwrap();
    KeyRing::new(shared::keys::private_keys_from_pem(&pem).unwrap())
}

fn opens(ring: &KeyRing, sealed_b64: &str, label: &Label) -> Option<Vec<u8>> {
    let bytes = wire::decode(sealed_b64).unwrap();
    crypto::decrypt(ring, &bytes, label, &mut None)
        .ok()
        .map(|p| p.to_vec())
}

/// Every label the value could be tried under; only `right` may open it.
fn labels() -> Vec<(&'static str, Label)> {
    vec![
        ("strict ns/name", Scope::Strict.label("ns", "name")),
        ("strict other/name", Scope::Strict.label("other", "name")),
        ("strict ns/other", Scope::Strict.label("ns", "other")),
        ("namespace-wide ns", Scope::NamespaceWide.label("ns", "")),
        (
            "namespace-wide other",
            Scope::NamespaceWide.label("other", ""),
        ),
        ("cluster-wide", Scope::ClusterWide.label("", "")),
    ]
}

#[test]
fn raw_matrix() {
    let ring = ring();
    let dir = TempDir::new("raw");
    let value_file = dir.write("value.txt", "p\u{e4}ssw\u{f6}rd\n");
    let from_file = format!("password={}", value_file.display());
    // (scope, name given, namespace given) -> the label that must open it, or the error.
    let cases: Vec<(&str, bool, bool, Result<&str, &str>)> = vec![
        ("strict", true, true, Ok("strict ns/name")),
        (
            "strict",
            false,
            true,
            Err("must provide the --name flag with --raw and --scope strict"),
        ),
        (
            "strict",
            true,
            false,
            Err("must provide the --namespace flag with --raw and --scope strict"),
        ),
        (
            "strict",
            false,
            false,
            Err("must provide the --namespace flag with --raw and --scope strict"),
        ),
        ("namespace-wide", true, true, Ok("namespace-wide ns")),
        ("namespace-wide", false, true, Ok("namespace-wide ns")),
        (
            "namespace-wide",
            true,
            false,
            Err("must provide the --namespace flag with --raw and --scope namespace-wide"),
        ),
        (
            "namespace-wide",
            false,
            false,
            Err("must provide the --namespace flag with --raw and --scope namespace-wide"),
        ),
        ("cluster-wide", true, true, Ok("cluster-wide")),
        ("cluster-wide", false, true, Ok("cluster-wide")),
        ("cluster-wide", true, false, Ok("cluster-wide")),
        ("cluster-wide", false, false, Ok("cluster-wide")),
    ];
    for (scope, with_name, with_ns, expect) in cases {
        let mut args = vec![
            "--cert".to_owned(),
            cert(),
            "--raw".into(),
            "--scope".into(),
            scope.into(),
        ];
        if with_name {
            args.extend(["--name".into(), "name".into()]);
        }
        if with_ns {
            args.extend(["-n".into(), "ns".into()]);
        }
        args.extend(["--from-file".into(), from_file.clone()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = seal(&args).run();
        let case = format!("{scope} name={with_name} ns={with_ns}");
        match expect {
            Err(message) => {
                out.fails_with(&[message]);
            }
            Ok(right) => {
                let sealed = out.ok();
                assert!(!sealed.ends_with('\n'), "{case}: bare base64, no newline");
                assert!(sealed.starts_with("Ag"), "{case}: {sealed}");
                for (name, label) in labels() {
                    let opened = opens(&ring, &sealed, &label);
                    if name == right {
                        assert_eq!(
                            opened.as_deref(),
                            Some("p\u{e4}ssw\u{f6}rd\n".as_bytes()),
                            "{case}"
                        );
                    } else if right != "cluster-wide" {
                        assert_eq!(opened, None, "{case}: opened under {name}");
                    }
                }
            }
        }
    }
}

#[test]
fn raw_reads_stdin_or_the_input_file_without_from_file() {
    let ring = ring();
    let sealed = seal(&["--cert", &cert(), "--raw", "--name", "name", "-n", "ns"])
        .stdin("from stdin")
        .run()
        .ok();
    assert_eq!(
        opens(&ring, &sealed, &Scope::Strict.label("ns", "name")).unwrap(),
        b"from stdin"
    );

    let dir = TempDir::new("raw-f");
    let input = dir.write("in.bin", [0u8, 1, 2, 255]);
    let sealed = seal(&[
        "--cert",
        &cert(),
        "--raw",
        "--scope",
        "cluster-wide",
        "-f",
        &input.display().to_string(),
    ])
    .run()
    .ok();
    assert_eq!(
        opens(&ring, &sealed, &Scope::ClusterWide.label("", "")).unwrap(),
        [0, 1, 2, 255]
    );

    // -w gets the same bare value, atomically.
    let out = dir.join("value.b64");
    seal(&[
        "--cert",
        &cert(),
        "--raw",
        "--scope",
        "cluster-wide",
        "-w",
        &out.display().to_string(),
    ])
    .stdin("x")
    .run()
    .ok();
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        opens(&ring, &written, &Scope::ClusterWide.label("", "")).unwrap(),
        b"x"
    );
}

#[test]
fn raw_namespace_from_the_kubeconfig_context() {
    let home = TempDir::new("raw-home");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    std::fs::write(
        home.join(".kube/config"),
        "current-context: c\ncontexts:\n- name: c\n  context:\n    namespace: ns\n",
    )
    .unwrap();
    let sealed = seal(&["--cert", &cert(), "--raw", "--name", "name"])
        .env("HOME", home.path())
        .stdin("v")
        .run()
        .ok();
    assert_eq!(
        opens(&ring(), &sealed, &Scope::Strict.label("ns", "name")).unwrap(),
        b"v"
    );
}

#[test]
fn raw_takes_one_from_file() {
    seal(&[
        "--cert",
        &cert(),
        "--raw",
        "--scope",
        "cluster-wide",
        "--from-file",
        "a",
        "--from-file",
        "b",
    ])
    .run()
    .fails_with(&["--raw takes at most one --from-file"]);
    seal(&[
        "--cert",
        &cert(),
        "--raw",
        "--scope",
        "cluster-wide",
        "--from-file",
        "k=/nonexistent/v",
    ])
    .run()
    .fails_with(&["open /nonexistent/v: no such file or directory"]);
}
