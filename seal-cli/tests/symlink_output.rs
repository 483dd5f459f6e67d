//! `-w` and `--merge-into` through a symlink replace the file the link points to, atomically
//! (temp file in the target's directory, renamed onto the target), and leave the link a link.

#![cfg(unix)]

mod common;

use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::Path;

use common::*;

const SECRET: &str =
    "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\nstringData: {a: b}\n";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[track_caller]
fn assert_link(link: &Path, points_to: &Path) {
    let meta = std::fs::symlink_metadata(link).unwrap();
    assert!(
        meta.file_type().is_symlink(),
        "{} is no longer a link",
        link.display()
    );
    assert_eq!(std::fs::read_link(link).unwrap(), points_to);
}

#[test]
fn writes_the_target_of_a_relative_link() {
    let dir = TempDir::new("link");
    let target = dir.write("target.yaml", "old\n");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.join("link.yaml");
    symlink("target.yaml", &link).unwrap();

    let link_s = link.display().to_string();
    let out = seal(&["--cert", &cert(), "-w", &link_s])
        .stdin(SECRET)
        .run()
        .ok();
    assert_eq!(out, "");
    assert_link(&link, Path::new("target.yaml"));
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(written.contains("\nkind: SealedSecret\n"), "{written}");
    assert_eq!(unseal_data(&written, &[&key()])["a"], b"b");
    assert_eq!(mode(&target), 0o640, "the target keeps its mode");
    assert_eq!(
        dir.files(),
        ["link.yaml", "target.yaml"],
        "no temp file left"
    );
}

#[test]
fn temp_file_goes_next_to_the_target() {
    let links = TempDir::new("link-dir");
    let targets = TempDir::new("target-dir");
    let target = targets.write("sealed.json", "old\n");
    // A chain: a -> b -> the target in another directory.
    let b = links.join("b.json");
    symlink(&target, &b).unwrap();
    let a = links.join("a.json");
    symlink("b.json", &a).unwrap();

    seal(&["--cert", &cert(), "-w", &a.display().to_string()])
        .stdin(SECRET)
        .run()
        .ok();
    assert_link(&a, Path::new("b.json"));
    assert_link(&b, &target);
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(
        written.starts_with("{\n  \"kind\": \"SealedSecret\""),
        "{written}"
    );
    assert_eq!(links.files(), ["a.json", "b.json"]);
    assert_eq!(targets.files(), ["sealed.json"]);
}

#[test]
fn recovered_plaintext_through_a_link_is_private() {
    let dir = TempDir::new("link-private");
    let sealed = seal(&["--cert", &cert(), "-o", "yaml"])
        .stdin(SECRET)
        .run()
        .ok();
    let target = dir.write("secret.yaml", "old\n");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.join("out.yaml");
    symlink(&target, &link).unwrap();
    seal(&[
        "--recovery-unseal",
        "--recovery-private-key",
        &key(),
        "-w",
        &link.display().to_string(),
    ])
    .stdin(&sealed)
    .run()
    .ok();
    assert_link(&link, &target);
    assert_eq!(mode(&target), 0o600);
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .contains("kind: Secret")
    );
}

#[test]
fn merge_into_through_a_link() {
    let dir = TempDir::new("link-merge");
    let target = dir.join("sealed.yaml");
    seal(&["--cert", &cert(), "-w", &target.display().to_string()])
        .stdin(SECRET)
        .run()
        .ok();
    let link = dir.join("merge.yaml");
    symlink("sealed.yaml", &link).unwrap();
    let update =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ns}\nstringData: {c: d}\n";
    seal(&[
        "--cert",
        &cert(),
        "--merge-into",
        &link.display().to_string(),
    ])
    .stdin(update)
    .run()
    .ok();
    assert_link(&link, Path::new("sealed.yaml"));
    let merged = std::fs::read_to_string(&target).unwrap();
    let data = unseal_data(&merged, &[&key()]);
    assert_eq!(data["a"], b"b");
    assert_eq!(data["c"], b"d");
    assert_eq!(dir.files(), ["merge.yaml", "sealed.yaml"]);
}

/// A dangling link creates the file it names, when that file's directory exists.
#[test]
fn dangling_link_creates_its_target() {
    let dir = TempDir::new("link-dangling");
    let link = dir.join("out.yaml");
    symlink("new.yaml", &link).unwrap();
    seal(&["--cert", &cert(), "-w", &link.display().to_string()])
        .stdin(SECRET)
        .run()
        .ok();
    assert_link(&link, Path::new("new.yaml"));
    let written = std::fs::read_to_string(dir.join("new.yaml")).unwrap();
    assert_eq!(unseal_data(&written, &[&key()])["a"], b"b");
    assert_eq!(mode(&dir.join("new.yaml")), 0o644);
    assert_eq!(dir.files(), ["new.yaml", "out.yaml"]);
}

/// ... and fails, naming the link and its target, when the directory is missing.
#[test]
fn dangling_link_into_a_missing_directory() {
    let dir = TempDir::new("link-nodir");
    let link = dir.join("out.yaml");
    let target = dir.join("missing/new.yaml");
    symlink(&target, &link).unwrap();
    let link_s = link.display().to_string();
    let line = seal(&["--cert", &cert(), "-w", &link_s])
        .stdin(SECRET)
        .run()
        .fails_with(&[]);
    assert_eq!(
        line,
        format!(
            "error: write {link_s} (symlink to {}): no such file or directory\n",
            target.display()
        )
    );
    assert_link(&link, &target);
    assert_eq!(dir.files(), ["out.yaml"]);
}

#[test]
fn symlink_loop() {
    let dir = TempDir::new("link-loop");
    let a = dir.join("a.yaml");
    let b = dir.join("b.yaml");
    symlink("b.yaml", &a).unwrap();
    symlink("a.yaml", &b).unwrap();
    seal(&["--cert", &cert(), "-w", &a.display().to_string()])
        .stdin(SECRET)
        .run()
        .fails_with(&["too many levels of symbolic links"]);
    assert_link(&a, Path::new("b.yaml"));
    assert_eq!(dir.files(), ["a.yaml", "b.yaml"]);
}

/// What cannot be replaced (a FIFO, like `/dev/stdout` or `/dev/null`) is written to in place.
#[test]
fn fifo_is_written_in_place() {
    let dir = TempDir::new("fifo");
    let fifo = dir.join("out.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // Read from a thread, with a deadline: had the FIFO been replaced, its reader would wait
    // forever.
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || tx.send(std::fs::read_to_string(fifo).unwrap()));
    }
    seal(&[
        "--cert",
        &cert(),
        "-o",
        "yaml",
        "-w",
        &fifo.display().to_string(),
    ])
    .stdin(SECRET)
    .run()
    .ok();
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the FIFO was written");
    assert_eq!(unseal_data(&got, &[&key()])["a"], b"b");
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(
            &std::fs::symlink_metadata(&fifo).unwrap().file_type()
        ),
        "still a FIFO"
    );
    assert_eq!(dir.files(), ["out.fifo"]);
}
