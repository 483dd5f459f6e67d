//! `--version` in the reference's shape, under the reference's binary name too (its suite and
//! scripts match `^controller version: vX.Y.Z`).

use std::process::Command;

fn version_line(binary: &std::path::Path) -> String {
    let out = Command::new(binary).arg("--version").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn version_names_the_binary_it_runs_as() {
    let unsealer = std::path::Path::new(env!("CARGO_BIN_EXE_unsealer"));
    let want = format!("unsealer version: v{}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(version_line(unsealer), want);

    let dir = std::env::temp_dir().join(format!("unsealer-version-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let controller = dir.join("controller");
    let _ = std::fs::remove_file(&controller);
    std::os::unix::fs::symlink(unsealer, &controller).unwrap();
    let line = version_line(&controller);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        line,
        format!("controller version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
    let version = line.trim_start_matches("controller version: v").trim_end();
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
        "{line}"
    );
}
