//! Hardening regressions on the real binary: input crafted to cost memory or to be refused
//! later by the controller is refused up front, with one line, under a tight memory limit.

mod common;

use common::{SEAL, STRICT_INPUT, TempDir, cert, key, seal, vector};

/// A sealed copy of the strict vector input, with `values` as its `spec.template.data`.
fn sealed_with_templates(values: &[(String, String)]) -> String {
    let sealed = seal(&[
        "--cert",
        &cert(),
        "-f",
        &vector(STRICT_INPUT).display().to_string(),
    ])
    .run()
    .ok();
    let mut doc: serde_json::Value = serde_json::from_str(&sealed).unwrap();
    let data: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    doc["spec"]["template"]["data"] = serde_json::Value::Object(data);
    doc.to_string()
}

/// `seal --recovery-unseal` on `input` under a 512 MiB address-space limit.
fn recovery_unseal_limited(dir: &TempDir, input: &str) -> std::process::Output {
    let file = dir.write("hostile.json", input);
    std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -v 524288 && exec \"$@\"",
            "sh",
            SEAL,
            "--recovery-unseal",
            "--recovery-private-key",
            &key(),
            "-f",
            &file.display().to_string(),
        ])
        .env_clear()
        .output()
        .unwrap()
}

fn one_error_line(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

/// Finding: a 1.7 KB input peaked at 2.3-2.9 GiB in `seal --recovery-unseal`.
#[test]
fn templates_cannot_take_the_memory() {
    let dir = TempDir::new("hostile-templates");
    let huge: Vec<(String, String)> = (0..40)
        .map(|i| (format!("v{i}"), r#"{{ repeat 16000000 "x" }}"#.to_owned()))
        .collect();
    let input = sealed_with_templates(&huge);
    let out = recovery_unseal_limited(&dir, &input);
    let line = one_error_line(&out);
    assert!(line.contains("would exceed 1048576 bytes"), "{line}");

    // Each value within the per-value cap, together far over the object's budget.
    let sneaky: Vec<(String, String)> = (0..500)
        .map(|i| {
            (
                format!("v{i}"),
                r#"{{ repeat 1000000 "x" | trunc 1 }}"#.to_owned(),
            )
        })
        .collect();
    let out = recovery_unseal_limited(&dir, &sealed_with_templates(&sneaky));
    let line = one_error_line(&out);
    assert!(
        line.contains("would build more than 16777216 bytes"),
        "{line}"
    );

    // A reasonable template still renders under the same limit.
    let fine = vec![(
        "url".to_owned(),
        r#"{{ repeat 3 "ab" | upper }}"#.to_owned(),
    )];
    let out = recovery_unseal_limited(&dir, &sealed_with_templates(&fine));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("QUJBQkFC"));
}

/// An item name the controller would refuse (not a valid Secret key) is refused at seal time.
#[test]
fn invalid_item_names_are_refused_when_sealing() {
    for key in ["a/b", "bad key", "x\u{1b}[31m"] {
        let input = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "default"},
            "stringData": {key: "v"}
        });
        let line = seal(&["--cert", &cert()])
            .stdin(input.to_string())
            .run()
            .fails_with(&["is not a valid Secret key", "secret \"s\""]);
        assert!(!line.contains('\u{1b}'), "{line:?}");
    }
}
