//! `seal lint PATH...`: each problem a line naming the file, the document and the object, and a
//! failing exit; a clean repository passes.

mod common;

use common::*;

fn vector_text(name: &str) -> String {
    std::fs::read_to_string(vector(name)).unwrap()
}

/// A repository with one of each problem, and files that are fine or not ours to judge.
fn repository() -> TempDir {
    let repo = TempDir::new("lint");
    let good = vector_text("sealedsecret-strict-default-db-creds.yaml");
    std::fs::create_dir_all(repo.join("apps/templates")).unwrap();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    repo.write("apps/good.yaml", &good);
    repo.write(
        "apps/good.json",
        vector_text("sealedsecret-nswide-team-a-api.json"),
    );
    repo.write(
        "apps/plain.yaml",
        "# oops\napiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\n  namespace: prod\nstringData:\n  password: hunter2\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: tls-placeholder\n  namespace: prod\ntype: kubernetes.io/tls\ndata:\n  tls.crt: \"\"\n",
    );
    repo.write(
        "apps/broken.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: broken\n  namespace: prod\n  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"yes\"\nspec:\n  encryptedData:\n    notb64: \"!!!\"\n    short: AgA=\n",
    );
    repo.write(
        "apps/nameless.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\nspec:\n  encryptedData: {}\n",
    );
    repo.write(
        "apps/templates/secret.yaml",
        "kind: Secret\nmetadata:\n  name: {{ .Values.name }}\n",
    );
    repo.write(
        ".git/plain.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {a: YQ==}\n",
    );
    repo
}

#[test]
fn every_problem_is_named_and_fails_the_run() {
    let repo = repository();
    let root = repo.path().display().to_string();
    let out = seal(&["lint", &root]).run();
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    let p = |f: &str| repo.join(f).display().to_string();
    let expected = [
        format!(
            "{}: document 1 (SealedSecret prod/broken): annotation sealedsecrets.bitnami.com/cluster-wide is \"yes\": the controller reads only \"true\" (any other value means strict)",
            p("apps/broken.yaml")
        ),
        format!(
            "{}: document 1 (SealedSecret prod/broken): item \"notb64\": not base64",
            p("apps/broken.yaml")
        ),
        format!(
            "{}: document 1 (SealedSecret prod/broken): item \"short\": too short to be a ciphertext (2 bytes)",
            p("apps/broken.yaml")
        ),
        format!(
            "{}: document 1 (SealedSecret ): no metadata.namespace: a strict or namespace-wide SealedSecret opens only in the namespace it was sealed for",
            p("apps/nameless.yaml")
        ),
        format!(
            "{}: document 1 (Secret prod/leaked): a plain Secret with data: seal it, or allow it with --allow",
            p("apps/plain.yaml")
        ),
        format!(
            "{}: document 2 (Secret prod/tls-placeholder): a plain Secret with data: seal it, or allow it with --allow",
            p("apps/plain.yaml")
        ),
    ];
    assert_eq!(out.stdout(), expected.join("\n") + "\n");
    assert!(
        out.stderr().contains("6 problems in 6 files"),
        "{}",
        out.stderr()
    );

    // Allowed Secrets, and the broken files gone: clean.
    std::fs::remove_file(repo.join("apps/broken.yaml")).unwrap();
    std::fs::remove_file(repo.join("apps/nameless.yaml")).unwrap();
    let clean = seal(&["lint", "--allow", "prod/leaked,tls-placeholder", &root]).run();
    assert_eq!(clean.code(), Some(0), "{}", clean.stdout());
    assert_eq!(clean.stdout(), "");
    assert!(
        clean.stderr().contains("4 files checked: no problems"),
        "{}",
        clean.stderr()
    );
    // A file named on the command line must be YAML or JSON.
    let named = seal(&["lint", &p("apps/templates/secret.yaml")]).run();
    assert_eq!(named.code(), Some(1));
    assert!(
        named.stdout().contains("secret.yaml: invalid YAML: line 3"),
        "{}",
        named.stdout()
    );
}

#[test]
fn the_certificate_must_not_expire_soon() {
    let dir = TempDir::new("lint-cert");
    let good = dir.write(
        "good.yaml",
        vector_text("sealedsecret-strict-default-db-creds.yaml"),
    );
    let good = good.display().to_string();
    // The vectors' certificate runs until 2036.
    let ok = seal(&["lint", "--cert", &cert(), "--warn-expiry", "720h", &good]).run();
    assert_eq!(ok.code(), Some(0), "{}", ok.stdout());
    let soon = seal(&["lint", "--cert", &cert(), "--warn-expiry", "131400h", &good]).run();
    assert_eq!(soon.code(), Some(1));
    assert!(
        soon.stdout().contains("the certificate expires 2036-"),
        "{}",
        soon.stdout()
    );
}
