//! `seal edit FILE`, with a fake editor: a shell script that records what it was shown (the
//! file, its directory's mode and path) and edits it with sed. Only the items the edit touches
//! change in the file, byte for byte; the result unseals with the vectors' key; the plaintext
//! file and its private directory are gone afterwards, also after a failure or a SIGTERM; and
//! every bad edit is one line on stderr with the file left as it was.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const DB: &str = "sealedsecret-strict-default-db-creds.yaml";
const API: &str = "sealedsecret-nswide-team-a-api.yaml";

/// A test's directory: the file to edit, the editor script, what the editor recorded, and
/// the runtime directory (`XDG_RUNTIME_DIR`) the private directory is made in.
struct Bench {
    dir: TempDir,
}

impl Bench {
    fn new(name: &str) -> Bench {
        let dir = TempDir::new(name);
        std::fs::create_dir(dir.join("run")).unwrap();
        std::fs::create_dir(dir.join("seen")).unwrap();
        Bench { dir }
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        self.dir.write(name, contents)
    }

    /// An editor that records the file it was given, then runs `body` (with `$1` the file).
    fn editor(&self, body: &str) -> PathBuf {
        let seen = self.dir.join("seen");
        let script = format!(
            "#!/bin/sh\nset -e\ncp \"$1\" '{seen}/shown.yaml'\nstat -c %a \"$(dirname \"$1\")\" > '{seen}/mode'\nprintf %s \"$1\" > '{seen}/path'\n{body}\n",
            seen = seen.display()
        );
        let path = self.dir.write("editor.sh", script);
        set_mode(&path, 0o755);
        path
    }

    fn seen(&self, what: &str) -> String {
        std::fs::read_to_string(self.dir.join("seen").join(what)).unwrap()
    }

    fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    fn edit(&self, file: &Path, extra: &[&str], editor: &Path) -> Outcome {
        let file = file.display().to_string();
        let cert = cert();
        let mut args = vec!["edit", file.as_str(), "--cert", cert.as_str()];
        args.extend_from_slice(extra);
        seal(&args)
            .env("EDITOR", editor)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("XDG_RUNTIME_DIR", self.run_dir())
            .run()
    }

    /// The plaintext's directory was made in the runtime directory, mode 0700, and is gone.
    #[track_caller]
    fn private_dir_is_gone(&self) {
        let path = PathBuf::from(self.seen("path"));
        assert!(path.starts_with(self.run_dir()), "{}", path.display());
        assert_eq!(self.seen("mode").trim(), "700");
        assert!(!path.exists(), "{} left behind", path.display());
        let left: Vec<_> = std::fs::read_dir(self.run_dir()).unwrap().collect();
        assert!(left.is_empty(), "left in the runtime directory: {left:?}");
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn vector_text(name: &str) -> String {
    read(&vector(name))
}

/// The ciphertext of `item` in the SealedSecret document `doc` of `text`.
fn ciphertext(text: &str, doc: &str, item: &str) -> String {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(text).unwrap();
    let found = docs
        .iter()
        .find(|d| d["kind"] == "SealedSecret" && d["metadata"]["name"] == doc)
        .unwrap();
    found["spec"]["encryptedData"][item]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The one SealedSecret of `text` named `name`, as its own document, to unseal.
fn document(text: &str, name: &str) -> String {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(text).unwrap();
    let doc = docs
        .into_iter()
        .find(|d| d["kind"] == "SealedSecret" && d["metadata"]["name"] == name)
        .unwrap();
    serde_json::to_string(&doc).unwrap()
}

fn stderr_line(out: &Outcome) -> String {
    let stderr = out.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    stderr
}

#[test]
fn one_value_is_replaced_without_keys_and_nothing_else_changes() {
    let bench = Bench::new("edit-replace");
    let before = vector_text(DB);
    let file = bench.file("db.yaml", &before);
    let editor =
        bench.editor(r#"sed -i 's/^  password: <sealed>$/  password: "n3w: s3cret"/' "$1""#);
    let out = bench.edit(&file, &[], &editor);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert_eq!(out.stdout(), "");
    assert!(
        stderr_line(&out).contains("SealedSecret default/db-creds: sealed password"),
        "{}",
        out.stderr()
    );

    // Nothing was decrypted: every value was a placeholder.
    let shown = bench.seen("shown.yaml");
    for item in ["empty", "password", "username"] {
        assert!(shown.contains(&format!("  {item}: <sealed>\n")), "{shown}");
    }
    assert!(!shown.contains("app_user"), "{shown}");
    bench.private_dir_is_gone();

    // Only the password's ciphertext changed, byte for byte.
    let after = read(&file);
    let old = ciphertext(&before, "db-creds", "password");
    let new = ciphertext(&after, "db-creds", "password");
    assert_ne!(old, new);
    assert_eq!(after, before.replace(&old, &new));
    let data = unseal_data(&after, &[&key()]);
    assert_eq!(data["password"], b"n3w: s3cret");
    assert_eq!(data["username"], b"app_user");
    assert_eq!(data["empty"], b"");
}

#[test]
fn items_are_added_and_deleted() {
    let bench = Bench::new("edit-add-delete");
    let before = vector_text(DB);
    let file = bench.file("db.yaml", &before);
    let editor = bench.editor(
        "sed -i '/^  username: /d' \"$1\"\nprintf '  api-key: abc\\n  zz-multi: |\\n    one\\n    two\\ndata:\\n  blob: AAEC/w==\\n' >> \"$1\"",
    );
    let out = bench.edit(&file, &[], &editor);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    // One summary line: added items are said apart from changed ones.
    let summary = stderr_line(&out);
    assert!(
        summary.contains("added api-key, blob, zz-multi; removed username"),
        "{summary}"
    );

    let after = read(&file);
    let data = unseal_data(&after, &[&key()]);
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        ["api-key", "blob", "empty", "password", "zz-multi"]
    );
    assert_eq!(data["api-key"], b"abc");
    assert_eq!(data["blob"], [0, 1, 2, 255]);
    assert_eq!(data["zz-multi"], b"one\ntwo\n");
    assert_eq!(
        data["password"],
        "p\u{e4}ssw\u{f6}rd \u{2713} \u{2014} \u{30d1}\u{30b9}\u{30ef}\u{30fc}\u{30c9} \u{1f511}"
            .as_bytes()
    );
    // The kept items' lines are as they were; new lines sit in key order, written alike.
    let old_lines: Vec<&str> = before.lines().collect();
    let new_lines: Vec<&str> = after.lines().collect();
    let kept: Vec<&&str> = old_lines
        .iter()
        .filter(|l| !l.trim_start().starts_with("username:"))
        .collect();
    let remaining: Vec<&&str> = new_lines
        .iter()
        .filter(|l| {
            !["api-key:", "blob:", "zz-multi:"]
                .iter()
                .any(|k| l.trim_start().starts_with(k))
        })
        .collect();
    assert_eq!(kept, remaining);
    let items: Vec<&str> = new_lines
        .iter()
        .filter(|l| l.starts_with("    ") && l.contains(": Ag"))
        .map(|l| l.trim_start().split(':').next().unwrap())
        .collect();
    assert_eq!(items, ["api-key", "blob", "empty", "password", "zz-multi"]);
}

#[test]
fn a_key_backup_shows_the_values_and_an_untouched_file_is_not_written() {
    let bench = Bench::new("edit-keys");
    let before = vector_text(DB);
    let file = bench.file("db.yaml", &before);
    let mtime = || std::fs::metadata(&file).unwrap().modified().unwrap();
    let stamp = mtime();
    std::thread::sleep(Duration::from_millis(20));
    let editor = bench.editor("true");
    let key_secret = vector("sealing-key-secret.yaml").display().to_string();
    let out = bench.edit(&file, &["--recovery-private-key", &key_secret], &editor);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert_eq!(
        stderr_line(&out),
        format!(
            "edit cancelled, no changes made: {} not written\n",
            file.display()
        )
    );
    let shown = bench.seen("shown.yaml");
    assert!(shown.contains("  username: app_user\n"), "{shown}");
    assert!(
        shown.contains("  password: p\u{e4}ssw\u{f6}rd \u{2713}"),
        "{shown}"
    );
    assert!(shown.contains("  empty: \"\"\n"), "{shown}");
    assert!(!shown.contains("<sealed>"), "{shown}");
    bench.private_dir_is_gone();
    assert_eq!(read(&file), before);
    assert_eq!(mtime(), stamp);

    // Saved with only a comment added: no item changed, nothing written either.
    let editor = bench.editor("printf '# just looking\\n' >> \"$1\"");
    let out = bench.edit(&file, &["--recovery-private-key", &key()], &editor);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert!(
        stderr_line(&out).starts_with("no item changed:"),
        "{}",
        out.stderr()
    );
    assert_eq!(mtime(), stamp);

    // A shown value changed: that item only, and it unseals to the new value.
    let editor = bench.editor("sed -i 's/^  username: app_user$/  username: app_admin/' \"$1\"");
    let out = bench.edit(&file, &["--recovery-private-key", &key()], &editor);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let after = read(&file);
    let (old, new) = (
        ciphertext(&before, "db-creds", "username"),
        ciphertext(&after, "db-creds", "username"),
    );
    assert_eq!(after, before.replace(&old, &new));
    assert_eq!(unseal_data(&after, &[&key()])["username"], b"app_admin");
}

#[test]
fn an_editor_that_fails_or_is_missing_writes_nothing() {
    let bench = Bench::new("edit-editor-fails");
    let before = vector_text(DB);
    let file = bench.file("db.yaml", &before);
    let editor = bench.editor("sed -i 's/<sealed>/changed/' \"$1\"\nexit 3");
    let line = bench
        .edit(&file, &[], &editor)
        .fails_with(&["exited with status 3", "nothing written to"]);
    assert!(line.contains("editor.sh"), "{line}");
    assert_eq!(read(&file), before);
    bench.private_dir_is_gone();

    let missing = bench.dir.join("no-such-editor");
    bench
        .edit(&file, &[], &missing)
        .fails_with(&["editor \"", "no-such-editor\" not found (from EDITOR"]);
    assert_eq!(read(&file), before);
    assert_eq!(std::fs::read_dir(bench.run_dir()).unwrap().count(), 0);

    // KUBE_EDITOR comes first, and a command with arguments is split into words.
    let editor = bench.editor("sed -i 's/^  empty: <sealed>$/  empty: now-full/' \"$1\"");
    let cert = cert();
    let file_arg = file.display().to_string();
    let out = seal(&["edit", &file_arg, "--cert", &cert])
        .env("KUBE_EDITOR", format!("/bin/sh '{}'", editor.display()))
        .env("EDITOR", &missing)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("XDG_RUNTIME_DIR", bench.run_dir())
        .run();
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert_eq!(unseal_data(&read(&file), &[&key()])["empty"], b"now-full");
}

#[test]
fn bad_input_is_one_line_and_leaves_the_file_as_it_was() {
    let bench = Bench::new("edit-bad");
    let before = vector_text(DB);
    let file = bench.file("db.yaml", &before);

    // Edited text that is not YAML: the line, never the value.
    let editor = bench.editor("sed -i 's/^  password: <sealed>$/  password: \"hunter2/' \"$1\"");
    let line = bench
        .edit(&file, &[], &editor)
        .fails_with(&["not valid YAML (line ", "nothing written to"]);
    assert!(!line.contains("hunter2"), "{line}");
    assert_eq!(read(&file), before);
    bench.private_dir_is_gone();

    // A placeholder edited into something else.
    let editor = bench.editor("sed -i 's/^  password: <sealed>$/  password: <sealed/' \"$1\"");
    bench
        .edit(&file, &[], &editor)
        .fails_with(&["stringData.password: an edited placeholder"]);
    // A placeholder for an item that has no sealed value.
    let editor = bench.editor("printf '  other: <sealed>\\n' >> \"$1\"");
    bench
        .edit(&file, &[], &editor)
        .fails_with(&["stringData.other: <sealed> keeps a sealed value"]);
    // Every item deleted.
    let editor = bench.editor("sed -i '/^  /d' \"$1\"");
    bench
        .edit(&file, &[], &editor)
        .fails_with(&["every item was deleted"]);
    // A bad item name, and bad base64.
    let editor = bench.editor("printf '  \"no spaces\": x\\n' >> \"$1\"");
    bench
        .edit(&file, &[], &editor)
        .fails_with(&["stringData key \"no spaces\" is not a valid Secret key"]);
    let editor = bench.editor("printf 'data:\\n  bin: \"hunter2!\"\\n' >> \"$1\"");
    let line = bench
        .edit(&file, &[], &editor)
        .fails_with(&["data.bin: not valid base64"]);
    assert!(!line.contains("hunter2"), "{line}");
    assert_eq!(read(&file), before);
    assert_eq!(std::fs::read_dir(bench.run_dir()).unwrap().count(), 0);

    // No such file, and a file without a SealedSecret: the editor never opens.
    let editor = bench.editor("exit 0");
    let _ = std::fs::remove_file(bench.dir.join("seen/path"));
    bench
        .edit(&bench.dir.join("missing.yaml"), &[], &editor)
        .fails_with(&["open ", "missing.yaml: no such file or directory"]);
    let secret = bench.file("secret.yaml", vector_text(STRICT_INPUT));
    bench
        .edit(&secret, &[], &editor)
        .fails_with(&["secret.yaml: no SealedSecret in it"]);
    assert!(!bench.dir.join("seen/path").exists(), "the editor ran");
}

#[test]
fn a_file_of_several_documents_keeps_its_layout() {
    let bench = Bench::new("edit-multi");
    let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings # inline\ndata:\n  a: \"1\"\n";
    let before = format!(
        "# two secrets and a map\n{}---\n{config_map}{}",
        vector_text(DB),
        vector_text(API)
    );
    let file = bench.file("all.yaml", &before);
    let editor = bench.editor("sed -i 's/^  token: <sealed>$/  token: t0ken/' \"$1\"");
    bench.edit(&file, &[], &editor).fails_with(&[
        "holds 2 SealedSecrets (default/db-creds, team-a/api): choose one with --name",
    ]);
    bench
        .edit(&file, &["--name", "default/api"], &editor)
        .fails_with(&["no SealedSecret named \"default/api\""]);

    let out = bench.edit(&file, &["--name", "team-a/api"], &editor);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let after = read(&file);
    let (old, new) = (
        ciphertext(&before, "api", "token"),
        ciphertext(&after, "api", "token"),
    );
    assert_eq!(after, before.replace(&old, &new));
    // Sealed for the object's own scope (namespace-wide), from its metadata.
    let data = unseal_data(&document(&after, "api"), &[&key()]);
    assert_eq!(data["token"], b"t0ken");
    let sealed = document(&after, "api");
    let retargeted = sealed.replace("\"name\":\"api\"", "\"name\":\"other\"");
    assert_ne!(retargeted, sealed);
    // Namespace-wide: the same values open under another name in the namespace.
    assert_eq!(unseal_data(&retargeted, &[&key()])["token"], b"t0ken");
}

#[test]
fn json_files_are_edited_in_place_too() {
    let bench = Bench::new("edit-json");
    let before = vector_text("sealedsecret-strict-default-db-creds.json");
    let file = bench.file("db.json", &before);
    let editor = bench.editor("sed -i '/^  empty: /d' \"$1\"\nprintf '  zzz: last\\n' >> \"$1\"");
    let out = bench.edit(&file, &[], &editor);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    let after = read(&file);
    let data = unseal_data(&after, &[&key()]);
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        ["password", "username", "zzz"]
    );
    assert_eq!(data["zzz"], b"last");
    // Still JSON, still Go's indentation.
    let parsed: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(parsed["kind"], "SealedSecret");
    assert!(after.contains("\n      \"zzz\": \"Ag"), "{after}");
}

/// Runs `seal edit` on `file` with the key, sends it `signal` once the editor has started,
/// and returns how it ended: the exit code and stderr.
fn signalled(bench: &Bench, file: &Path, editor: &Path, signal: &str) -> (Option<i32>, String) {
    let child = Command::new(SEAL)
        .env_clear()
        .args(["edit", file.to_str().unwrap(), "--cert", &cert()])
        .args(["--recovery-private-key", &key()])
        .env("EDITOR", editor)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("XDG_RUNTIME_DIR", bench.run_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !bench.dir.join("seen/path").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the editor never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(PathBuf::from(bench.seen("path")).exists());
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the editor was not stopped"
    );
    (out.status.code(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn sigterm_stops_the_editor_and_removes_the_plaintext() {
    let bench = Bench::new("edit-sigterm");
    let before = vector_text(DB);
    let file = bench.file("db.yaml", &before);
    // `exec`: the editor is the sleep itself, which seal stops.
    let editor = bench.editor("exec sleep 30");
    let (code, stderr) = signalled(&bench, &file, &editor, "-TERM");
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: nothing written to ")
            && stderr.ends_with(": SIGTERM received while editing: the editor was stopped\n"),
        "{stderr}"
    );
    bench.private_dir_is_gone();
    assert_eq!(read(&file), before);
}

/// Ctrl-C reaches the editor too, which decides (vi takes it as a key): seal waits for it.
#[test]
fn sigint_is_left_to_the_editor() {
    let bench = Bench::new("edit-sigint");
    let file = bench.file("db.yaml", vector_text(DB));
    let editor = bench.editor("sleep 1\nsed -i 's/^  empty: \"\"$/  empty: after-ctrl-c/' \"$1\"");
    let (code, stderr) = signalled(&bench, &file, &editor, "-INT");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("sealed empty"), "{stderr}");
    bench.private_dir_is_gone();
    assert_eq!(
        unseal_data(&read(&file), &[&key()])["empty"],
        b"after-ctrl-c"
    );
}

/// Items in a flow map can be changed where they stand, but not added or removed: the header
/// says so, and such an edit writes nothing.
#[test]
fn a_flow_map_can_have_its_values_changed_only() {
    let bench = Bench::new("edit-flow");
    let vector = vector_text(DB);
    let ct = |item: &str| ciphertext(&vector, "db-creds", item);
    let before = format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{name: db-creds, namespace: default}}\nspec:\n  encryptedData: {{empty: {}, password: {}, username: {}}}\n",
        ct("empty"),
        ct("password"),
        ct("username")
    );
    let file = bench.file("flow.yaml", &before);
    let editor = bench.editor("sed -i 's/^  username: <sealed>$/  username: flow_user/' \"$1\"");
    let out = bench.edit(&file, &[], &editor);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert!(
        out.stderr().contains("values can still be changed"),
        "{}",
        out.stderr()
    );
    assert!(
        bench
            .seen("shown.yaml")
            .contains("items cannot be added or removed"),
        "{}",
        bench.seen("shown.yaml")
    );
    let after = read(&file);
    assert_eq!(
        after,
        before.replace(&ct("username"), &ciphertext(&after, "db-creds", "username"))
    );
    assert_eq!(unseal_data(&after, &[&key()])["username"], b"flow_user");

    let editor = bench.editor("sed -i '/^  empty: /d' \"$1\"");
    let out = bench.edit(&file, &[], &editor);
    assert_eq!(out.code(), Some(1), "{}", out.stderr());
    let last = out.stderr().lines().last().unwrap().to_owned();
    assert!(
        last.starts_with("error: nothing written to ")
            && last.contains("cannot be added or removed in place"),
        "{last}"
    );
    assert_eq!(read(&file), after);
}
