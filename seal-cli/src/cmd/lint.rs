//! `seal lint PATH...`: a guard for CI and pre-commit. Every problem is a line naming the file,
//! the document and the object; the run fails if there is one. Offline, and nothing is
//! decrypted: the checks are the ones that can be made from the files alone.

use anyhow::{Result, bail};
use serde_json::Value;
use shared::marks::{CLUSTER_WIDE, NAMESPACE_WIDE};
use shared::wire;

use crate::cli::LintArgs;
use crate::io::{self, Limit, Sensitivity, Sink};
use crate::{cert, decode};

/// The smallest plausible value: a 1024-bit RSA block and an AES-GCM tag.
const MIN_WRAPPED_KEY: usize = 128;
const GCM_TAG: usize = 16;

fn str_at<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    doc.pointer(path).and_then(Value::as_str)
}

fn has_items(doc: &Value, field: &str) -> bool {
    doc.get(field)
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty())
}

/// The problems of one document; `allow` holds `namespace/name` or `name` entries.
fn check(doc: &Value, allow: &[String]) -> Vec<String> {
    let kind = str_at(doc, "/kind").unwrap_or_default();
    let name = str_at(doc, "/metadata/name").unwrap_or_default();
    let namespace = str_at(doc, "/metadata/namespace").unwrap_or_default();
    let mut problems = Vec::new();
    match (kind, str_at(doc, "/apiVersion")) {
        ("Secret", Some("v1")) => {
            let allowed = allow
                .iter()
                .any(|a| *a == name || *a == format!("{namespace}/{name}"));
            if (has_items(doc, "data") || has_items(doc, "stringData")) && !allowed {
                problems
                    .push("a plain Secret with data: seal it, or allow it with --allow".to_owned());
            }
        }
        ("SealedSecret", Some("bitnami.com/v1alpha1")) => {
            let annotations = doc.pointer("/metadata/annotations");
            let mut wide = (false, false);
            for (key, slot) in [(CLUSTER_WIDE, &mut wide.0), (NAMESPACE_WIDE, &mut wide.1)] {
                match annotations.and_then(|a| a.get(key)) {
                    None => {}
                    Some(Value::String(v)) if v == "true" => *slot = true,
                    Some(Value::String(v)) if v == "false" => {}
                    Some(other) => problems.push(format!(
                        "annotation {key} is {other}: the controller reads only \"true\" (any other value means strict)"
                    )),
                }
            }
            let (cluster_wide, namespace_wide) = wide;
            if !cluster_wide {
                if namespace.is_empty() {
                    problems.push(
                        "no metadata.namespace: a strict or namespace-wide SealedSecret opens only in the namespace it was sealed for".to_owned(),
                    );
                }
                if !namespace_wide && name.is_empty() {
                    problems.push(
                        "no metadata.name: a strict SealedSecret opens only under the name it was sealed for".to_owned(),
                    );
                }
            }
            match doc.pointer("/spec/encryptedData") {
                Some(Value::Object(items)) => {
                    for (item, value) in items {
                        let Some(text) = value.as_str() else {
                            problems.push(format!("item {item:?}: not a string"));
                            continue;
                        };
                        match wire::decode(text) {
                            Err(_) => problems.push(format!("item {item:?}: not base64")),
                            Ok(bytes) => match wire::split(&bytes) {
                                Ok(parts)
                                    if parts.wrapped_key.len() >= MIN_WRAPPED_KEY
                                        && parts.sealed.len() >= GCM_TAG => {}
                                _ => problems.push(format!(
                                    "item {item:?}: too short to be a ciphertext ({} bytes)",
                                    bytes.len()
                                )),
                            },
                        }
                    }
                }
                None if doc.pointer("/spec/data").is_some() => {}
                _ => problems.push("no spec.encryptedData".to_owned()),
            }
        }
        _ => {}
    }
    problems
}

fn object_of(doc: &Value) -> String {
    let kind = str_at(doc, "/kind").unwrap_or("document");
    let name = str_at(doc, "/metadata/name").unwrap_or_default();
    match str_at(doc, "/metadata/namespace") {
        Some(ns) if !ns.is_empty() => format!("{kind} {ns}/{name}"),
        _ => format!("{kind} {name}"),
    }
}

pub fn run(args: &LintArgs) -> Result<()> {
    let mut out = String::new();
    let mut problems = 0usize;
    if let Some(source) = &args.cert {
        let pem = cert::fetch(source, None)?;
        let now = time::OffsetDateTime::now_utc();
        match cert::parse_for_sealing(&pem, source, now) {
            Err(e) => {
                problems += 1;
                out.push_str(&format!("{source}: {e:#}\n"));
            }
            Ok(c) => {
                let left = c.not_after() - now;
                let warn =
                    time::Duration::try_from(args.warn_expiry).unwrap_or(time::Duration::MAX);
                if left < warn {
                    problems += 1;
                    out.push_str(&format!(
                        "{source}: the certificate expires {}, within --warn-expiry\n",
                        c.not_after()
                    ));
                }
            }
        }
    }
    let files = io::find_files(&args.paths)?;
    for found in &files {
        let shown = found.path.display().to_string();
        let bytes = io::read_file(&found.path, Limit::INPUT)?;
        let docs = match decode::documents(&bytes) {
            Ok(docs) => docs,
            Err(_) if !found.named => continue,
            Err(e) => {
                problems += 1;
                out.push_str(&format!("{shown}: {e:#}\n"));
                continue;
            }
        };
        for (i, doc) in docs.iter().enumerate() {
            for problem in check(doc, &args.allow) {
                problems += 1;
                out.push_str(&format!(
                    "{}: document {} ({}): {}\n",
                    shared::text::escape(&shown),
                    i + 1,
                    shared::text::escape(&object_of(doc)),
                    shared::text::escape(&problem)
                ));
            }
        }
    }
    Sink::Stdout.write(out.as_bytes(), Sensitivity::Public)?;
    if problems > 0 {
        bail!("{problems} problems in {} files", files.len());
    }
    io::tell(&format!("{} files checked: no problems", files.len()));
    Ok(())
}
