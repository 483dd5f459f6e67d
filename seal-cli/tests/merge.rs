//! `--merge-into FILE`: new items, template annotations, labels and data are merged into FILE,
//! sealed for FILE's name and namespace; FILE is rewritten atomically in its own format.

mod common;

use common::*;

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn merge_into_a_yaml_file_without_template_maps() {
    let dir = TempDir::new("merge");
    // The vector's template has no labels or annotations: kubeseal would panic on nil maps.
    let original = read(&vector("sealedsecret-strict-default-db-creds.yaml"));
    let target = dir.write("sealed.yaml", &original);
    let before = parse(&original);
    // Another name and namespace in the input: FILE's win.
    let input = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: whatever\n  labels:\n    team: a\n  annotations:\n    note: hi\nstringData:\n  extra: added\n  username: replaced\n";
    let stdout = seal(&[
        "--cert",
        &cert(),
        "--merge-into",
        &target.display().to_string(),
    ])
    .stdin(input)
    .run()
    .ok();
    assert_eq!(
        stdout, "",
        "the merged file is written in place, nothing on stdout"
    );
    let merged_text = read(&target);
    assert!(
        merged_text.starts_with("---\napiVersion: bitnami.com/v1alpha1\n"),
        "kept YAML: {merged_text}"
    );
    let merged = parse(&merged_text);
    assert_eq!(merged["metadata"], before["metadata"]);
    assert_eq!(
        merged["spec"]["encryptedData"]["password"],
        before["spec"]["encryptedData"]["password"]
    );
    assert_ne!(
        merged["spec"]["encryptedData"]["username"],
        before["spec"]["encryptedData"]["username"]
    );
    assert_eq!(
        merged["spec"]["template"]["metadata"]["labels"]["team"],
        "a"
    );
    assert_eq!(
        merged["spec"]["template"]["metadata"]["annotations"]["note"],
        "hi"
    );

    let data = unseal_data(&merged_text, &[&key()]);
    assert_eq!(data["extra"], b"added");
    assert_eq!(data["username"], b"replaced");
    assert_eq!(
        data["password"],
        "p\u{e4}ssw\u{f6}rd \u{2713} \u{2014} \u{30d1}\u{30b9}\u{30ef}\u{30fc}\u{30c9} \u{1f511}"
            .as_bytes()
    );
    assert_eq!(
        dir.files(),
        ["sealed.yaml"],
        "no temporary file left behind"
    );
}

#[test]
fn merge_into_a_json_file_keeps_json_and_scope_flag_applies() {
    let dir = TempDir::new("merge-json");
    let original = read(&vector("sealedsecret-nswide-team-a-api.json"));
    let target = dir.write("sealed-secret", &original);
    seal(&["--cert", &cert(), "--merge-into", &target.display().to_string(), "--scope", "namespace-wide"])
        .stdin("{\"metadata\": {\"name\": \"x\", \"namespace\": \"team-a\"}, \"stringData\": {\"new\": \"v\"}}")
        .run()
        .ok();
    let merged_text = read(&target);
    assert!(
        merged_text.starts_with("{\n  \"kind\": \"SealedSecret\",\n"),
        "{merged_text}"
    );
    let data = unseal_data(&merged_text, &[&key()]);
    assert_eq!(data["new"], b"v");
    assert_eq!(data["token"], b"s3cr3t-token");
    // -o yaml asks for YAML explicitly.
    seal(&[
        "--cert",
        &cert(),
        "--merge-into",
        &target.display().to_string(),
        "--scope",
        "namespace-wide",
        "-o",
        "yaml",
    ])
    .stdin("metadata: {name: x}\nstringData: {more: w}\n")
    .run()
    .ok();
    let merged_text = read(&target);
    assert!(merged_text.starts_with("---\n"), "{merged_text}");
    assert_eq!(unseal_data(&merged_text, &[&key()])["more"], b"w");
}

#[test]
fn merge_into_refuses_a_conflicting_namespace_flag_and_several_inputs() {
    let dir = TempDir::new("merge-ns");
    let original = read(&vector("sealedsecret-strict-default-db-creds.yaml"));
    let target = dir.write("sealed.yaml", &original);
    let target_s = target.display().to_string();
    seal(&["--cert", &cert(), "--merge-into", &target_s, "-n", "prod"])
        .stdin("metadata: {name: x}\nstringData: {a: b}\n")
        .run()
        .fails_with(&["namespace mismatch", "\"default\"", "\"prod\""]);
    seal(&["--cert", &cert(), "--merge-into", &target_s])
        .stdin("metadata: {name: x}\nstringData: {a: b}\n---\nmetadata: {name: z}\nstringData: {a: b}\n")
        .run()
        .fails_with(&["--merge-into takes exactly one input Secret, found 2"]);
    assert_eq!(read(&target), original);
}
