//! Decoding the input, pure (bytes in, values out; `io` reads the bytes): JSON or YAML
//! document streams, Secrets and SealedSecrets.
//!
//! Documents are first read as plain JSON values so that problems can be reported precisely
//! (which document, which Secret, which key) before the typed decode, whose errors cannot name
//! a map key.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, anyhow, bail};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Map, Value};
use shared::SealedSecret;
use shared::keys::{KeyError, PrivateKey};
use zeroize::Zeroizing;

const NO_SECRETS: &str = "no secrets found. Ensure the input is valid and UTF-8 encoded";

/// Splits input into documents: concatenated JSON objects if it starts with `{` (as
/// apimachinery's YAMLOrJSONDecoder sniffs), else `---`-separated YAML. Empty documents are
/// skipped.
pub fn documents(bytes: &[u8]) -> Result<Vec<Value>> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| anyhow!("{NO_SECRETS}: the input is not UTF-8"))?;
    documents_in(text)
}

fn documents_in(text: &str) -> Result<Vec<Value>> {
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

/// The private keys of a key backup (`--recovery-private-key`): a PEM file, or a key Secret or
/// a List of them in JSON or YAML. Bytes that are not UTF-8 are read as U+FFFD, so a damaged
/// byte is reported by its line; a file that is not JSON or YAML is read as PEM.
pub fn private_keys(bytes: &[u8]) -> Result<Vec<PrivateKey>, KeyError> {
    let text = Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
    let docs = documents_in(&text).unwrap_or_default();
    shared::keys::private_keys_from_backup(&docs, &text)
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
                // Go's base64.StdEncoding, as client-go decodes Secret data (CR/LF skipped,
                // trailing bits tolerated): the workspace's one implementation.
                let bytes = shared::go::base64_decode(text.as_bytes()).map_err(|_| {
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
    sealed_secret_doc(doc, what, true)
}

/// A SealedSecret as a controller's `/v1/rotate` answers it: the reference marshals its Go
/// struct without `kind` and `apiVersion` (kubeseal then prints them), so they may be missing;
/// any other kind is still refused.
pub fn sealed_secret_answer(bytes: &[u8], what: &str) -> Result<SealedSecret> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| anyhow!("{what}: not JSON: {e}"))?;
    sealed_secret_doc(doc, what, false)
}

/// Every SealedSecret of `bytes` (`---`-separated YAML or concatenated JSON), at least one.
pub fn sealed_secrets(bytes: &[u8], what: &str) -> Result<Vec<SealedSecret>> {
    let docs = documents(bytes).with_context(|| what.to_owned())?;
    if docs.is_empty() {
        bail!("{what}: no SealedSecret found");
    }
    let many = docs.len() > 1;
    docs.into_iter()
        .enumerate()
        .map(|(i, doc)| {
            let what = if many {
                format!("{what}: document {}", i + 1)
            } else {
                what.to_owned()
            };
            sealed_secret_doc(doc, &what, true)
        })
        .collect()
}

/// The SealedSecrets among the documents of `bytes` (`kind: SealedSecret` of
/// `bitnami.com/v1alpha1`), with their document numbers; other documents are left alone.
pub fn sealed_secrets_among(bytes: &[u8], what: &str) -> Result<Vec<(usize, SealedSecret)>> {
    let docs = documents(bytes).with_context(|| what.to_owned())?;
    docs.into_iter()
        .enumerate()
        .filter(|(_, doc)| {
            doc.get("kind").and_then(Value::as_str) == Some("SealedSecret")
                && doc.get("apiVersion").and_then(Value::as_str) == Some("bitnami.com/v1alpha1")
        })
        .map(|(i, doc)| {
            let what = format!("{what}: document {}", i + 1);
            sealed_secret_doc(doc, &what, true).map(|ss| (i + 1, ss))
        })
        .collect()
}

/// One document as a SealedSecret; `type_meta` says whether `kind` and `apiVersion` must be
/// there (they must be right when they are).
fn sealed_secret_doc(doc: Value, what: &str, type_meta: bool) -> Result<SealedSecret> {
    let Value::Object(mut obj) = doc else {
        bail!("{what}: expected a SealedSecret, found {}", kind_of(&doc));
    };
    match obj.get("kind").and_then(Value::as_str) {
        Some("SealedSecret") => {}
        None if !type_meta && obj.get("kind").is_none() => {}
        Some(kind) => bail!("{what}: expected a SealedSecret, found kind {kind:?}"),
        None => bail!("{what}: expected a SealedSecret, found an object without kind"),
    }
    match obj.get("apiVersion").and_then(Value::as_str) {
        Some("bitnami.com/v1alpha1") => {}
        None if !type_meta && obj.get("apiVersion").is_none() => {}
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
    fn several_sealed_secrets() {
        let one = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a}\nspec: {encryptedData: {}}\n";
        let two = format!("{one}---\n{}", one.replace("name: a", "name: b"));
        let all = sealed_secrets(two.as_bytes(), "f").unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].metadata.name.as_deref(), Some("b"));
        let bad = format!("{one}---\nkind: Secret\n");
        let err = sealed_secrets(bad.as_bytes(), "f").unwrap_err().to_string();
        assert!(
            err.starts_with("f: document 2: expected a SealedSecret"),
            "{err}"
        );
        let err = sealed_secrets(b"", "f").unwrap_err().to_string();
        assert_eq!(err, "f: no SealedSecret found");
    }

    #[test]
    fn a_rotate_answer_may_lack_type_meta() {
        let bare = br#"{"metadata":{"name":"a"},"spec":{"encryptedData":{"k":"AgA"}}}"#;
        let ss = sealed_secret_answer(bare, "answer").unwrap();
        assert_eq!(ss.metadata.name.as_deref(), Some("a"));
        let wrong = br#"{"kind":"Secret","metadata":{"name":"a"},"spec":{}}"#;
        let err = sealed_secret_answer(wrong, "answer")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "answer: expected a SealedSecret, found kind \"Secret\""
        );
        assert!(
            sealed_secret(bare, "f").is_err(),
            "an input file needs its kind"
        );
    }

    #[test]
    fn sealed_secret_kind_is_checked() {
        let err =
            sealed_secret(b"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", "f").unwrap_err();
        assert!(err.to_string().contains("found kind \"Secret\""), "{err}");
    }
}
