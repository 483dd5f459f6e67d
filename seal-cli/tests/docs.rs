//! `seal completion SHELL`, `seal man`, and `seal` as a kubectl plugin (`kubectl seal`).

mod common;

use std::process::Command;

use common::*;

#[test]
fn completions_cover_the_flags_and_commands_and_load_in_bash() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = seal(&["completion", shell]).run().ok();
        for word in [
            "re-encrypt",
            "keys",
            "recovery-private-key",
            "controller-namespace",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let script = seal(&["completion", "bash"]).run().ok();
    let dir = TempDir::new("completion");
    let file = dir.write("seal.bash", &script);
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p seal", file.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("seal"));
    let usage = seal(&["completion", "tcsh"]).run();
    assert_eq!(usage.code(), Some(2), "an unknown shell is a usage error");
}

#[test]
fn the_man_page_is_roff_with_every_flag() {
    let page = seal(&["man"]).run().ok();
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..80]
    );
    assert!(page.contains(".TH seal 1"), "{}", &page[..200]);
    for flag in [
        "\\-\\-cert",
        "\\-\\-re\\-encrypt",
        "\\-\\-recovery\\-unseal",
        "re\\-encrypt",
    ] {
        assert!(page.contains(flag), "the man page lacks {flag}");
    }
}

/// kubectl runs `kubectl-seal` from PATH for `kubectl seal ...`; it answers as itself.
#[test]
fn kubectl_seal_works_as_a_kubectl_plugin() {
    let kubectl =
        tests::cluster::find_binary("kubectl").expect("kubectl (tests/cluster/build-binaries.sh)");
    let dir = TempDir::new("kubectl-plugin");
    std::os::unix::fs::symlink(SEAL, dir.join("kubectl-seal")).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(&kubectl)
        .args(["seal", "--version"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("kubectl-seal version: v{}\n", env!("CARGO_PKG_VERSION"))
    );
    let cert = cert();
    let out = Command::new(&kubectl)
        .args(["seal", "--cert", &cert, "-o", "yaml"])
        .env("PATH", &path)
        .stdin(std::fs::File::open(vector(STRICT_INPUT)).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("kind: SealedSecret"));
}
