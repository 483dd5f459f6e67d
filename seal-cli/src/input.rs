//! Reading input: files and stdin, JSON or YAML document streams, Secrets and SealedSecrets.
//!
//! Documents are first read as plain JSON values so that problems can be reported precisely
//! (which document, which Secret, which key) before the typed decode, whose errors cannot name
//! a map key.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal as _, Read as _};
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Map, Value};
use shared::SealedSecret;

use crate::plan::Source;

/// Go's `base64.StdEncoding`, which decodes Secret `data`: padding required, non-zero trailing
/// bits tolerated. CR and LF are skipped separately, as Go's decoder does.
const GO_STD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// An I/O error in Go's words, e.g. `open x.pem: no such file or directory`: one line that
/// names the path and no `(os error 2)`.
pub fn io_error(op: &str, path: &Path, e: &io::Error) -> anyhow::Error {
    let reason = match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        io::ErrorKind::IsADirectory => "is a directory".to_owned(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_lowercase(),
                None => text.to_lowercase(),
            }
        }
    };
    anyhow!("{op} {}: {reason}", path.display())
}

/// A size cap on something read whole. Every cap sits far above any legitimate input: it is
/// there so that a wrong path (`--cert /dev/zero`, a log file, a disk image) fails at once
/// with a clear error instead of reading until memory runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub bytes: u64,
    /// What is limited, for the error: "... the limit for {what}".
    pub what: &'static str,
}

const MIB: u64 = 1024 * 1024;

impl Limit {
    /// `--cert` (file, `file://` URL or http(s) body): a PEM certificate is 1-3 KiB, a
    /// bundle a few of those.
    pub const CERT: Limit = Limit {
        bytes: MIB,
        what: "a certificate",
    };
    /// A `--recovery-private-key` file: a PEM key is about 3 KiB and a key backup (a `List`
    /// of key Secrets, as `kubectl get -o yaml` prints it) about 8 KiB per key, so 16 MiB
    /// holds some 2,000 keys: decades of monthly key renewals.
    pub const PRIVATE_KEY: Limit = Limit {
        bytes: 16 * MIB,
        what: "a private key file",
    };
    /// `-f` / stdin: a Secret holds at most 1 MiB, and a file of 1,000 Secrets is a real use
    /// case, so 64 MiB.
    pub const INPUT: Limit = Limit {
        bytes: 64 * MIB,
        what: "the input",
    };
    /// `--merge-into`: one SealedSecret, at most about 1.4 times its Secret's 1 MiB once
    /// sealed and base64-encoded, plus about 700 bytes per item; the input's cap is ample.
    pub const MERGE_INTO: Limit = Limit {
        bytes: 64 * MIB,
        what: "a --merge-into file",
    };
    /// A kubeconfig: kubectl's are a few KiB, large ones with embedded certificates a few
    /// hundred.
    pub const KUBECONFIG: Limit = Limit {
        bytes: 16 * MIB,
        what: "a kubeconfig",
    };
    /// The value `--raw` seals (`--from-file`, or `-f` / stdin): a Secret holds at most
    /// 1 MiB, so a larger value could never be unsealed.
    pub const RAW_VALUE: Limit = Limit {
        bytes: shared::seal::MAX_SECRET_SIZE as u64,
        what: "a Secret value",
    };
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.bytes.is_multiple_of(MIB) {
            write!(f, "{} MiB", self.bytes / MIB)
        } else {
            write!(f, "{} bytes", self.bytes)
        }
    }
}

/// The error for `source` (a path, `stdin` or a URL) over `limit`.
pub fn too_large(source: &str, limit: Limit) -> anyhow::Error {
    anyhow!(
        "read {source}: larger than {limit}, the limit for {}",
        limit.what
    )
}

/// Reads at most `limit` bytes; `None` if there is more.
fn read_capped(reader: impl io::Read, limit: Limit) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    reader.take(limit.bytes + 1).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= limit.bytes).then_some(buf))
}

/// Reads a whole file, refusing one larger than `limit`.
pub fn read_file(path: &Path, limit: Limit) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| io_error("open", path, &e))?;
    let meta = file.metadata().map_err(|e| io_error("read", path, &e))?;
    if meta.is_dir() {
        bail!("read {}: is a directory", path.display());
    }
    // A regular file says its size up front; devices and pipes are read up to the cap.
    if meta.is_file() && meta.len() > limit.bytes {
        return Err(too_large(&path.display().to_string(), limit));
    }
    read_capped(file, limit)
        .map_err(|e| io_error("read", path, &e))?
        .ok_or_else(|| too_large(&path.display().to_string(), limit))
}

/// Reads the whole input, refusing more than `limit`.
pub fn read_source(source: &Source, limit: Limit) -> Result<Vec<u8>> {
    match source {
        Source::Stdin => {
            if io::stdin().is_terminal() {
                // As kubeseal does: a prompt-less wait on a terminal looks like a hang.
                eprintln!("(tty detected: expecting json/yaml k8s resource in stdin)");
            }
            read_capped(io::stdin().lock(), limit)
                .context("read stdin")?
                .ok_or_else(|| too_large("stdin", limit))
        }
        Source::File(path) => read_file(path, limit),
    }
}

const NO_SECRETS: &str = "no secrets found. Ensure the input is valid and UTF-8 encoded";

/// Splits input into documents: concatenated JSON objects if it starts with `{` (as
/// apimachinery's YAMLOrJSONDecoder sniffs), else `---`-separated YAML. Empty documents are
/// skipped.
pub fn documents(bytes: &[u8]) -> Result<Vec<Value>> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| anyhow!("{NO_SECRETS}: the input is not UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs: Vec<Value> = if text.trim_start().starts_with('{') {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .enumerate()
            .map(|(i, doc)| doc.map_err(|e| anyhow!("invalid JSON in document {}: {e}", i + 1)))
            .collect::<Result<_>>()?
    } else {
        serde_saphyr::from_multiple::<Value>(text)
            .map_err(|e| anyhow!("invalid YAML: {}", first_line(&e.to_string())))?
    };
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The parser's message without the source snippet it draws below it: errors are one line.
fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or_default().trim();
    line.strip_prefix("error: ").unwrap_or(line)
}

/// The Secrets of the input, each checked for shape and base64 before anything is sealed.
pub fn secrets(bytes: &[u8]) -> Result<Vec<Secret>> {
    let docs = documents(bytes)?;
    if docs.is_empty() {
        bail!(NO_SECRETS);
    }
    docs.into_iter()
        .enumerate()
        .map(|(i, doc)| secret_from(doc, i + 1))
        .collect()
}

/// How a document is named in errors: by its Secret name when it has one.
fn doc_label(doc: &Map<String, Value>, index: usize) -> String {
    match doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
    {
        Some(name) if !name.is_empty() => format!("secret {name:?}"),
        _ => format!("input document {index}"),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

fn secret_from(doc: Value, index: usize) -> Result<Secret> {
    let Value::Object(mut obj) = doc else {
        bail!("input document {index} is {}, not a Secret", kind_of(&doc));
    };
    let label = doc_label(&obj, index);
    // kubeseal does not check the kind; k8s-openapi would refuse anything but v1/Secret.
    obj.remove("kind");
    obj.remove("apiVersion");

    let data = match obj.remove("data") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            let mut out = BTreeMap::new();
            for (key, value) in map {
                let text = match value {
                    Value::String(text) => text,
                    // Go decodes null into an empty []byte.
                    Value::Null => String::new(),
                    other => bail!(
                        "{label}: data.{key}: expected a base64 string, found {}",
                        kind_of(&other)
                    ),
                };
                let cleaned: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
                let bytes = GO_STD_BASE64.decode(cleaned.as_bytes()).map_err(|_| {
                    anyhow!("{label}: data.{key}: invalid base64 (use stringData for plain text)")
                })?;
                out.insert(key, ByteString(bytes));
            }
            Some(out)
        }
        Some(other) => bail!("{label}: data: expected a map, found {}", kind_of(&other)),
    };
    match obj.get_mut("stringData") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map.iter_mut() {
                match value {
                    Value::String(_) => {}
                    // Go decodes null into an empty string.
                    Value::Null => *value = Value::String(String::new()),
                    other => bail!(
                        "{label}: stringData.{key}: expected a string, found {} (quote it)",
                        kind_of(other)
                    ),
                }
            }
        }
        Some(other) => bail!(
            "{label}: stringData: expected a map, found {}",
            kind_of(other)
        ),
    }
    let mut secret: Secret = serde_json::from_value(Value::Object(obj))
        .map_err(|e| anyhow!("{label}: not a valid Secret: {e}"))?;
    secret.data = data;
    Ok(secret)
}

/// Exactly one SealedSecret from `bytes`; `what` names the source in errors.
pub fn sealed_secret(bytes: &[u8], what: &str) -> Result<SealedSecret> {
    let docs = documents(bytes).with_context(|| what.to_owned())?;
    let doc = match <[Value; 1]>::try_from(docs) {
        Ok([doc]) => doc,
        Err(docs) if docs.is_empty() => bail!("{what}: no SealedSecret found"),
        Err(docs) => bail!(
            "{what}: expected one SealedSecret, found {} documents",
            docs.len()
        ),
    };
    let Value::Object(mut obj) = doc else {
        bail!("{what}: expected a SealedSecret, found {}", kind_of(&doc));
    };
    match obj.get("kind").and_then(Value::as_str) {
        Some("SealedSecret") => {}
        Some(kind) => bail!("{what}: expected a SealedSecret, found kind {kind:?}"),
        None => bail!("{what}: expected a SealedSecret, found an object without kind"),
    }
    match obj.get("apiVersion").and_then(Value::as_str) {
        Some("bitnami.com/v1alpha1") => {}
        other => bail!(
            "{what}: expected apiVersion bitnami.com/v1alpha1, found {}",
            other.map_or("none".to_owned(), |v| format!("{v:?}"))
        ),
    }
    // `spec.encryptedData` is required by the CRD; an object without spec is not one.
    if !obj.get("spec").is_some_and(Value::is_object) {
        bail!("{what}: SealedSecret has no spec");
    }
    obj.remove("kind");
    obj.remove("apiVersion");
    let mut typed = Map::new();
    typed.insert(
        "apiVersion".into(),
        Value::String("bitnami.com/v1alpha1".into()),
    );
    typed.insert("kind".into(), Value::String("SealedSecret".into()));
    typed.extend(obj);
    serde_json::from_value(Value::Object(typed))
        .map_err(|e| anyhow!("{what}: not a valid SealedSecret: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_stream_skips_empty_documents() {
        let docs = documents(b"---\n---\na: 1\n---\n\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn json_stream_of_objects() {
        let docs = documents(b"{\"a\":1}\n{\"b\":2}{\"c\":3}").unwrap();
        assert_eq!(docs.len(), 3);
    }

    #[test]
    fn empty_input_has_no_secrets() {
        for input in [&b""[..], b"\n\n", b"---\n", b"# comment\n"] {
            let err = secrets(input).unwrap_err().to_string();
            assert_eq!(err, NO_SECRETS, "{input:?}");
        }
    }

    #[test]
    fn bad_base64_names_secret_and_key() {
        let err = secrets(b"metadata: {name: s}\ndata: {pw: 'not base64!'}\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("secret \"s\": data.pw: invalid base64"),
            "{err}"
        );
    }

    #[test]
    fn go_base64_tolerances() {
        let s = secrets(b"metadata: {name: s}\ndata: {a: \"YR==\", b: \"YW\\r\\nJj\"}\n").unwrap();
        let data = s[0].data.as_ref().unwrap();
        assert_eq!(data["a"].0, b"a");
        assert_eq!(data["b"].0, b"abc");
    }

    #[test]
    fn kind_is_not_checked() {
        let s =
            secrets(b"apiVersion: v9\nkind: Whatever\nmetadata: {name: s}\nstringData: {a: b}\n")
                .unwrap();
        assert_eq!(s[0].metadata.name.as_deref(), Some("s"));
    }

    #[test]
    fn non_string_string_data_is_named() {
        let err = secrets(b"metadata: {name: s}\nstringData: {port: 8080}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("stringData.port"), "{err}");
    }

    #[test]
    fn reads_up_to_the_limit_and_no_further() {
        let limit = Limit {
            bytes: 4,
            what: "a test",
        };
        assert_eq!(read_capped(&b"abcd"[..], limit).unwrap().unwrap(), b"abcd");
        assert_eq!(read_capped(&b"abcde"[..], limit).unwrap(), None);
        assert_eq!(Limit::CERT.to_string(), "1 MiB");
        assert_eq!(Limit::INPUT.to_string(), "64 MiB");
        assert_eq!(limit.to_string(), "4 bytes");
    }

    #[test]
    fn sealed_secret_kind_is_checked() {
        let err =
            sealed_secret(b"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", "f").unwrap_err();
        assert!(err.to_string().contains("found kind \"Secret\""), "{err}");
    }
}
