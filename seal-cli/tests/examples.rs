//! The README's main job, with the committed demo key pair in `examples/`.

mod common;

use common::*;

#[test]
fn readme_example_seals_and_unseals() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = |name: &str| root.join("examples").join(name).display().to_string();
    let sealed = seal(&[
        "--cert",
        &path("demo-cert.pem"),
        "-f",
        &path("secret.yaml"),
        "-o",
        "yaml",
    ])
    .run()
    .ok();
    assert!(sealed.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"));
    let dir = TempDir::new("example");
    let sealed_path = dir.write("sealed.yaml", &sealed);
    let out = seal(&[
        "--recovery-unseal",
        "--recovery-private-key",
        &path("demo-key.pem"),
        "-f",
        &sealed_path.display().to_string(),
        "-o",
        "yaml",
    ])
    .run()
    .ok();
    let data = secret_data(&parse(&out));
    assert_eq!(data["username"], b"demo-user");
    assert_eq!(data["password"], b"not-a-real-password");
    assert_eq!(data["api-token"], b"demo-token-12345");
}
