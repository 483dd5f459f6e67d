//! Helpers for tests that run the real `seal` binary.

#![allow(dead_code)] // Each test file uses a different subset.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const SEAL: &str = env!("CARGO_BIN_EXE_seal");

pub fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tests/vectors")
}

pub fn vector(name: &str) -> PathBuf {
    vectors().join(name)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn cert() -> String {
    vector("sealing-cert.pem").display().to_string()
}

pub fn key() -> String {
    vector("sealing-key.pem").display().to_string()
}

pub const STRICT_INPUT: &str = "sealedsecret-strict-default-db-creds.input-secret.yaml";
pub const NSWIDE_INPUT: &str = "sealedsecret-nswide-team-a-api.input-secret.yaml";

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("seal-cli-test-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Every file in the directory, so tests can check no temp file was left behind.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One run of the binary, in a clean environment: no SEALED_SECRETS_* variables, no
/// KUBECONFIG, no proxy, and a HOME without a kubeconfig unless the test makes one.
pub struct Run {
    cmd: Command,
    stdin: Vec<u8>,
}

pub fn seal(args: &[&str]) -> Run {
    let mut cmd = Command::new(SEAL);
    cmd.env_clear().args(args);
    cmd.env("HOME", std::env::temp_dir().join("seal-cli-test-no-home"));
    Run {
        cmd,
        stdin: Vec::new(),
    }
}

impl Run {
    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Run {
        self.stdin = input.as_ref().to_vec();
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Run {
        self.cmd.env(key, value);
        self
    }

    pub fn run(mut self) -> Outcome {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn seal");
        let mut stdin = child.stdin.take().unwrap();
        let input = std::mem::take(&mut self.stdin);
        // Written from a thread: a large input must not deadlock against a full stdout pipe.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap();
        Outcome(output)
    }
}

pub struct Outcome(pub Output);

impl Outcome {
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8(self.0.stdout.clone()).unwrap()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8(self.0.stderr.clone()).unwrap()
    }

    /// Success, nothing on stderr; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> String {
        assert_eq!(self.code(), Some(0), "stderr: {}", self.stderr());
        assert_eq!(self.stderr(), "", "stderr should be empty");
        self.stdout()
    }

    /// Failure with exit code 1, nothing on stdout, and exactly one `error: ...` line on
    /// stderr that contains every one of `needles`; returns that line.
    #[track_caller]
    pub fn fails_with(&self, needles: &[&str]) -> String {
        let stderr = self.stderr();
        assert_eq!(self.code(), Some(1), "stderr: {stderr}");
        assert!(
            self.0.stdout.is_empty(),
            "stdout should be empty, got {:?}",
            self.stdout()
        );
        assert_eq!(
            stderr.lines().count(),
            1,
            "one line on stderr, got {stderr:?}"
        );
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.ends_with('\n'), "{stderr:?}");
        for needle in needles {
            assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
        }
        stderr
    }
}

/// Unseals a SealedSecret (YAML or JSON) through the binary and returns its data, decoded.
pub fn unseal_data(sealed: &str, keys: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let joined = keys.join(",");
    let out = seal(&[
        "--recovery-unseal",
        "--recovery-private-key",
        &joined,
        "-o",
        "json",
    ])
    .stdin(sealed)
    .run()
    .ok();
    let secret: serde_json::Value = serde_json::from_str(&out).unwrap();
    secret_data(&secret)
}

pub fn secret_data(secret: &serde_json::Value) -> BTreeMap<String, Vec<u8>> {
    use base64::Engine as _;
    secret["data"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(v.as_str().unwrap())
                        .unwrap();
                    (k.clone(), bytes)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses one YAML or JSON document.
pub fn parse(doc: &str) -> serde_json::Value {
    serde_saphyr::from_str(doc.trim_start_matches("---\n")).unwrap()
}

/// Replaces every ciphertext (long `Ag...` base64) with a placeholder, line by line.
pub fn mask_ciphertexts(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut out = String::new();
            let mut rest = line;
            while let Some(i) = rest.find("Ag") {
                let tail = &rest[i..];
                let len = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
                    .unwrap_or(tail.len());
                out.push_str(&rest[..i]);
                if len >= 100 {
                    out.push_str("<CIPHERTEXT>");
                } else {
                    out.push_str(&tail[..len]);
                }
                rest = &tail[len..];
            }
            out.push_str(rest);
            out + "\n"
        })
        .collect()
}

/// A tiny HTTP server on 127.0.0.1 for `requests` connections: the vector certificate at
/// `/cert.pem` (any query), 404 elsewhere. Sends back each request's path (with its query).
pub fn serve_cert(
    requests: usize,
) -> (
    String,
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<()>,
) {
    use std::io::{BufRead as _, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let pem = std::fs::read(vector("sealing-cert.pem")).unwrap();
    let (paths, received) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            // Drain the headers.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or_default();
            let (status, body): (&str, &[u8]) = if path.split('?').next() == Some("/cert.pem") {
                ("200 OK", &pem)
            } else {
                ("404 Not Found", b"not found\n")
            };
            let _ = paths.send(path.to_owned());
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/x-pem-file\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(body).unwrap();
        }
    });
    (base, received, handle)
}
