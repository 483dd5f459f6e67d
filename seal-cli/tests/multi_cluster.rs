//! `--cert NAME=FILE|URL` given once per cluster: the input sealed for each cluster into its
//! own `-w` file (`{cluster}` replaced by the name), all files written or none.

mod common;

use std::path::Path;

use common::*;

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Every file and directory under `dir`, relative and sorted: a run that fails leaves none
/// behind (temps and directories made for the outputs included).
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A second cluster: a fresh key pair, its certificate and key written into `dir`.
fn other_cluster(dir: &TempDir) -> (String, String) {
    let made = shared::keys::generate(
        shared::keys::KeySize::Rsa2048,
        time::OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(86_400),
        "",
        [7; 16],
    )
    .unwrap();
    let cert = dir.write("staging-cert.pem", &made.cert_pem);
    let key = dir.write(
        "staging-key.pem",
        made.key.to_pkcs1_pem().unwrap().as_bytes(),
    );
    (cert.display().to_string(), key.display().to_string())
}

/// Whether `key` opens `sealed` at all.
fn opens(sealed: &str, key: &str) -> bool {
    seal(&["--recovery-unseal", "--recovery-private-key", key])
        .stdin(sealed)
        .run()
        .code()
        == Some(0)
}

#[test]
fn two_clusters_get_one_file_each_sealed_for_their_own_key() {
    let dir = TempDir::new("multi");
    let (staging_cert, staging_key) = other_cluster(&dir);
    let input = vector(STRICT_INPUT).display().to_string();
    let pattern = dir.join("sealed/{cluster}/db.yaml").display().to_string();
    let stdout = seal(&[
        "--cert",
        &format!("prod={}", cert()),
        "--cert",
        &format!("staging={staging_cert}"),
        "-f",
        &input,
        "-w",
        &pattern,
    ])
    .run()
    .ok();
    assert_eq!(stdout, "");
    let prod = read(dir.join("sealed/prod/db.yaml"));
    let staging = read(dir.join("sealed/staging/db.yaml"));
    for sealed in [&prod, &staging] {
        // The same Secret, prepared once: the name and namespace of the single-cert path.
        assert!(
            sealed.starts_with("---\napiVersion: bitnami.com/v1alpha1\n"),
            "{sealed}"
        );
        let doc = parse(sealed);
        assert_eq!(doc["metadata"]["name"], "db-creds");
        assert_eq!(doc["metadata"]["namespace"], "default");
    }
    assert_eq!(unseal_data(&prod, &[&key()])["username"], b"app_user");
    assert_eq!(
        unseal_data(&staging, &[&staging_key])["username"],
        b"app_user"
    );
    assert!(
        !opens(&prod, &staging_key),
        "prod's file opens with staging's key"
    );
    assert!(
        !opens(&staging, &key()),
        "staging's file opens with prod's key"
    );
    assert_eq!(
        tree(dir.path()),
        [
            "sealed",
            "sealed/prod",
            "sealed/prod/db.yaml",
            "sealed/staging",
            "sealed/staging/db.yaml",
            "staging-cert.pem",
            "staging-key.pem"
        ],
        "no temp file left behind"
    );

    // -o applies to every file; scope flags as for one certificate.
    let pattern = dir.join("json/{cluster}.out").display().to_string();
    seal(&[
        "--cert",
        &format!("prod={}", cert()),
        "--cert",
        &format!("staging={staging_cert}"),
        "-o",
        "json",
        "--scope",
        "namespace-wide",
        "-w",
        &pattern,
    ])
    .stdin(read(&input))
    .run()
    .ok();
    for name in ["prod", "staging"] {
        let doc = parse(&read(dir.join(&format!("json/{name}.out"))));
        assert_eq!(doc["kind"], "SealedSecret");
        assert_eq!(
            doc["metadata"]["annotations"]["sealedsecrets.bitnami.com/namespace-wide"],
            "true"
        );
    }
    assert!(read(dir.join("json/prod.out")).starts_with("{\n"));
}

#[test]
fn one_named_cluster_may_print_to_stdout() {
    let out = seal(&["--cert", &format!("prod={}", cert()), "-o", "yaml"])
        .stdin(read(vector(STRICT_INPUT)))
        .run()
        .ok();
    assert_eq!(unseal_data(&out, &[&key()])["username"], b"app_user");
}

#[test]
fn several_clusters_without_the_placeholder_write_nothing() {
    let dir = TempDir::new("multi-pattern");
    let (staging_cert, _) = other_cluster(&dir);
    let before = tree(dir.path());
    let input = read(vector(STRICT_INPUT));
    let prod = format!("prod={}", cert());
    let staging = format!("staging={staging_cert}");
    let out = dir.join("sealed.yaml").display().to_string();
    for w in [&["-w", &out][..], &[]] {
        let mut args = vec!["--cert", &prod, "--cert", &staging];
        args.extend_from_slice(w);
        seal(&args)
            .stdin(&input)
            .run()
            .fails_with(&["several clusters need -w with {cluster}"]);
    }
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn a_cluster_whose_certificate_fails_stops_every_cluster() {
    let dir = TempDir::new("multi-fail");
    std::fs::create_dir(dir.join("prod")).unwrap();
    let existing = dir.write("prod/db.yaml", "prod's old file, byte for byte\n");
    let before = tree(dir.path());
    let missing = dir.join("missing.pem").display().to_string();
    let pattern = dir.join("{cluster}/db.yaml").display().to_string();
    let line = seal(&[
        "--cert",
        &format!("prod={}", cert()),
        "--cert",
        &format!("staging={missing}"),
        "-w",
        &pattern,
    ])
    .stdin(read(vector(STRICT_INPUT)))
    .run()
    .fails_with(&["cluster staging", &missing, "no such file or directory"]);
    assert!(!line.contains("cluster prod"), "{line}");
    assert_eq!(read(&existing), "prod's old file, byte for byte\n");
    assert_eq!(
        tree(dir.path()),
        before,
        "no staging directory, no temp file"
    );

    // A certificate that is not one names its cluster too.
    let bad = dir.write("bad.pem", "not a certificate");
    seal(&[
        "--cert",
        &format!("staging={}", bad.display()),
        "--cert",
        &format!("prod={}", cert()),
        "-w",
        &pattern,
    ])
    .stdin(read(vector(STRICT_INPUT)))
    .run()
    .fails_with(&["cluster staging", "bad.pem"]);
    assert_eq!(read(&existing), "prod's old file, byte for byte\n");
}

#[test]
fn a_file_that_cannot_be_written_leaves_every_other_as_it_was() {
    let dir = TempDir::new("multi-dir");
    let (staging_cert, _) = other_cluster(&dir);
    std::fs::create_dir_all(dir.join("out/prod")).unwrap();
    let existing = dir.write("out/prod/db.yaml", "old\n");
    // staging's output is a directory: no rename can replace it.
    std::fs::create_dir_all(dir.join("out/staging/db.yaml")).unwrap();
    let before = tree(dir.path());
    let pattern = dir.join("out/{cluster}/db.yaml").display().to_string();
    // new's directory and file are made and prod's temp written before staging fails: all
    // are removed again.
    seal(&[
        "--cert",
        &format!("new={}", cert()),
        "--cert",
        &format!("prod={}", cert()),
        "--cert",
        &format!("staging={staging_cert}"),
        "-w",
        &pattern,
    ])
    .stdin(read(vector(STRICT_INPUT)))
    .run()
    .fails_with(&["out/staging/db.yaml: is a directory; no file was written"]);
    assert_eq!(read(&existing), "old\n");
    assert_eq!(tree(dir.path()), before);

    // Two clusters that would land on one file.
    let pattern = dir.join("out/{cluster}/../same.yaml").display().to_string();
    seal(&[
        "--cert",
        &format!("prod={}", cert()),
        "--cert",
        &format!("staging={staging_cert}"),
        "-w",
        &pattern,
    ])
    .stdin(read(vector(STRICT_INPUT)))
    .run()
    .fails_with(&["the same file as"]);
    assert_eq!(tree(dir.path()), before);
}

#[test]
fn an_unnamed_cert_given_twice_takes_the_last() {
    let out = seal(&["--cert", "/nonexistent/cert.pem", "--cert", &cert()])
        .stdin(read(vector(STRICT_INPUT)))
        .run()
        .ok();
    assert_eq!(unseal_data(&out, &[&key()])["username"], b"app_user");
}

#[test]
fn paths_and_urls_with_an_equals_sign_are_not_cluster_names() {
    let dir = TempDir::new("multi-equals");
    let input = read(vector(STRICT_INPUT));
    // A path with a directory, and a file:// URL.
    let path = dir.write("a=b.pem", read(cert())).display().to_string();
    for cert in [path.clone(), format!("file://{path}")] {
        let out = seal(&["--cert", &cert]).stdin(&input).run().ok();
        assert_eq!(unseal_data(&out, &[&key()])["username"], b"app_user");
    }
    // An http URL with a query, unnamed and as a named cluster's certificate.
    let (base, paths, _server) = serve_cert(2);
    let url = format!("{base}/cert.pem?a=b");
    let out = seal(&["--cert", &url]).stdin(&input).run().ok();
    assert_eq!(unseal_data(&out, &[&key()])["username"], b"app_user");
    let out = seal(&["--cert", &format!("prod={url}")])
        .stdin(&input)
        .run()
        .ok();
    assert_eq!(unseal_data(&out, &[&key()])["username"], b"app_user");
    assert_eq!(paths.recv().unwrap(), "/cert.pem?a=b");
    assert_eq!(paths.recv().unwrap(), "/cert.pem?a=b");
}

#[test]
fn mixing_named_and_unnamed_or_repeating_a_name_is_refused() {
    let dir = TempDir::new("multi-mix");
    let pattern = dir.join("{cluster}.yaml").display().to_string();
    let input = read(vector(STRICT_INPUT));
    let prod = format!("prod={}", cert());
    let plain = cert();
    for (args, needle) in [
        (
            vec!["--cert", &prod, "--cert", &plain],
            "--cert: cannot mix values with a cluster name",
        ),
        (
            vec!["--cert", &plain, "--cert", &prod],
            "--cert: cannot mix values with a cluster name",
        ),
        (
            vec!["--cert", &prod, "--cert", &prod],
            "--cert: cluster \"prod\" is given twice",
        ),
        (
            vec!["--cert", &prod, "--fetch-cert"],
            "works only for sealing, not with --fetch-cert",
        ),
    ] {
        let mut args = args;
        args.extend(["-w", &pattern]);
        seal(&args).stdin(&input).run().fails_with(&[needle]);
    }
    assert_eq!(dir.files(), Vec::<String>::new());
}
