//! `seal edit FILE`: one SealedSecret's items in the user's editor ([`edit_text`]: decrypted
//! with `--recovery-private-key`, else [`edit_text::PLACEHOLDER`]s), and what the edit asks
//! for sealed back into the file in place ([`rewrite::edit_items`]): only changed and new items
//! are sealed, for the object's own scope; every other byte of the file stays.
//!
//! Everything that can fail early does, before the editor opens: the file, the object, the
//! keys and the certificate. The plaintext exists on disk only in an [`io::PrivateDir`],
//! while the editor runs, and only in wiped buffers in memory.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::Value;
use shared::unseal::{MAX_ITEMS, MAX_SECRET_DATA, precheck, scope_of};
use shared::{KeyRing, Scope, SealedSecret, crypto, wire};
use zeroize::Zeroizing;

use crate::decode;
use crate::edit_text::{self, About, Shown};
use crate::editor::{Editor, Signals};
use crate::io::{self, Limit, PrivateDir, Sensitivity};
use crate::plan::EditPlan;
use crate::rewrite::{self, Syntax};

/// `namespace/name`, or `name` without a namespace.
fn object_name(ss: &SealedSecret) -> String {
    let name = ss.metadata.name.as_deref().unwrap_or_default();
    match ss.metadata.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// The SealedSecret to edit, with its document number: the only one, or the one `--name` names.
fn pick(
    found: Vec<(usize, SealedSecret)>,
    name: Option<&str>,
    file: &str,
) -> Result<(usize, SealedSecret)> {
    let all = || {
        found
            .iter()
            .map(|(_, ss)| object_name(ss))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(name) = name else {
        return match found.len() {
            0 => bail!(
                "{file}: no SealedSecret in it (kind SealedSecret, apiVersion bitnami.com/v1alpha1)"
            ),
            1 => Ok(found.into_iter().next().expect("one")),
            n => bail!(
                "{file} holds {n} SealedSecrets ({}): choose one with --name",
                all()
            ),
        };
    };
    let matches = |ss: &SealedSecret| match name.split_once('/') {
        Some((ns, n)) => {
            ss.metadata.namespace.as_deref() == Some(ns) && ss.metadata.name.as_deref() == Some(n)
        }
        None => ss.metadata.name.as_deref() == Some(name),
    };
    let count = found.iter().filter(|(_, ss)| matches(ss)).count();
    match count {
        1 => Ok(found
            .into_iter()
            .find(|(_, ss)| matches(ss))
            .expect("one matches")),
        0 if found.is_empty() => bail!("{file}: no SealedSecret in it"),
        0 => bail!(
            "{file}: no SealedSecret named {name:?} (it holds {})",
            all()
        ),
        _ => bail!("{file}: several SealedSecrets are named {name:?}: give --name NAMESPACE/NAME"),
    }
}

/// Each item as the editor shows it: decrypted by one of `ring`'s keys, else a placeholder.
fn shown_items(
    sealed: &SealedSecret,
    ring: Option<&KeyRing>,
    label: &shared::scope::Label,
) -> BTreeMap<String, Shown> {
    let mut hint = None;
    let mut out = BTreeMap::new();
    let mut closed = 0;
    for (item, value) in &sealed.spec.encrypted_data {
        let opened = ring.and_then(|ring| {
            let bytes = wire::decode(value).ok()?;
            crypto::decrypt(ring, &bytes, label, &mut hint).ok()
        });
        let shown = match opened {
            Some(plain) => Shown::Value(plain),
            None => {
                closed += 1;
                Shown::Sealed
            }
        };
        out.insert(item.clone(), shown);
    }
    if ring.is_some() && closed > 0 {
        tracing::warn!(
            "--recovery-private-key opened {} of {} items; the others are shown as {}",
            out.len() - closed,
            out.len(),
            edit_text::PLACEHOLDER
        );
    }
    out
}

/// A name for the editor's file that says YAML: the edited file's stem, if it is a tame one.
fn temp_name(file: &std::path::Path) -> String {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        .unwrap_or("sealedsecret");
    format!("{stem}.yaml")
}

/// The object to edit, checked for everything sealing into it needs.
struct Target {
    doc: usize,
    sealed: SealedSecret,
    object: String,
    /// How errors name it: the file, the document and the object.
    what: String,
    scope: Scope,
    label: shared::scope::Label,
    /// Whether items can be added or removed in the file, not only changed.
    lines_of_their_own: bool,
}

fn target(plan: &EditPlan, file: &str, original: &[u8], text: &str) -> Result<Target> {
    let found = decode::sealed_secrets_among(original, file)?;
    let (doc, sealed) = pick(found, plan.name.as_deref(), file)?;
    let object = object_name(&sealed);
    let what = format!("{file}: document {doc} (SealedSecret {object})");
    precheck(&sealed).map_err(|e| anyhow!("{what}: {e}"))?;
    let scope = scope_of(&sealed);
    let name = sealed.metadata.name.as_deref().unwrap_or_default();
    let namespace = sealed.metadata.namespace.as_deref().unwrap_or_default();
    if scope != Scope::ClusterWide && namespace.is_empty() {
        bail!("{what}: no metadata.namespace, which its {scope} scope seals values for");
    }
    if sealed.spec.data.as_ref().is_some_and(|d| !d.0.is_empty()) {
        bail!(
            "{what}: its values are in spec.data (the deprecated v1 format); seal edit edits \
             spec.encryptedData"
        );
    }
    if sealed.spec.encrypted_data.is_empty() {
        bail!(
            "{what}: spec.encryptedData is empty, with no item to write new ones beside; add \
             items with --merge-into"
        );
    }
    let lines_of_their_own =
        match rewrite::check_items(text, &sealed.spec.encrypted_data, Syntax::of(text)) {
            Ok(()) => true,
            Err(e @ rewrite::RewriteError::NotOwnLine { .. }) => {
                tracing::warn!("{what}: {e}; values can still be changed");
                false
            }
            Err(e) => bail!("{what}: {e}"),
        };
    let label = scope.label(namespace, name);
    Ok(Target {
        doc,
        sealed,
        object,
        what,
        scope,
        label,
        lines_of_their_own,
    })
}

/// The editor's round: the text written to a private file, edited, read back, and the file
/// and its directory removed. What came back, or why nothing did.
fn round_trip(editor: &Editor, text: &[u8], name: &str) -> Result<Zeroizing<Vec<u8>>> {
    // Declared first, so dropped last: the signals stay caught until the directory is gone.
    let signals = Signals::catch()?;
    let dir = PrivateDir::create()?;
    let path = dir.write_new(name, text)?;
    editor.run(&path, &signals)?;
    let edited = dir.read(&path, Limit::INPUT)?;
    drop(dir);
    signals.check()?;
    Ok(edited)
}

/// The object's items once the edits are sealed in: removed items gone, changed and new ones
/// sealed for the object's own label.
fn sealed_items(
    target: &Target,
    edits: &edit_text::Edits,
    cert: &shared::Certificate,
) -> Result<BTreeMap<String, String>> {
    let mut after = target.sealed.spec.encrypted_data.clone();
    for item in &edits.removed {
        after.remove(item);
    }
    if after.is_empty() && edits.seal.is_empty() {
        bail!("every item was deleted, and a SealedSecret needs one (delete the object instead)");
    }
    let size: usize = edits.seal.values().map(|v| v.len()).sum();
    if size > MAX_SECRET_DATA {
        bail!("the new values hold {size} bytes, and a Secret holds at most {MAX_SECRET_DATA}");
    }
    let mut rng = super::os_rng()?;
    for (item, value) in &edits.seal {
        let bytes = crypto::encrypt(&mut rng, cert.public_key(), value, &target.label)
            .with_context(|| format!("sealing item {item:?}"))?;
        after.insert(item.clone(), wire::encode(&bytes));
    }
    if after.len() > MAX_ITEMS {
        bail!(
            "{} items, and a SealedSecret holds at most {MAX_ITEMS}",
            after.len()
        );
    }
    Ok(after)
}

/// `sealed a, b; added c; removed d`.
fn summary(before: &BTreeMap<String, String>, edits: &edit_text::Edits) -> String {
    let (changed, added): (Vec<&String>, Vec<&String>) = edits
        .seal
        .keys()
        .partition(|item| before.contains_key(*item));
    let removed: Vec<&String> = edits.removed.iter().collect();
    let mut parts = Vec::new();
    for (verb, items) in [("sealed", changed), ("added", added), ("removed", removed)] {
        if !items.is_empty() {
            let names: Vec<&str> = items.iter().map(|s| s.as_str()).collect();
            parts.push(format!("{verb} {}", names.join(", ")));
        }
    }
    parts.join("; ")
}

pub fn run(plan: &EditPlan) -> Result<()> {
    let file = plan.file.display().to_string();
    let original = io::read_file(&plan.file, Limit::INPUT)?;
    let text = std::str::from_utf8(&original).map_err(|_| anyhow!("{file}: not UTF-8"))?;
    // Everything that can fail before anyone types does.
    let target = target(plan, &file, &original, text)?;
    let editor = Editor::from_env()?;
    let ring = if plan.keys.is_empty() {
        None
    } else {
        Some(KeyRing::new(super::private_keys(&plan.keys)?))
    };
    let (pem, source) = super::certificate_from(
        &plan.cert,
        &plan.kubeconfig,
        &plan.controller,
        plan.request_timeout,
    )?;
    let cert = super::seal::checked_cert(&pem, &source)?;

    let shown = shown_items(&target.sealed, ring.as_ref(), &target.label);
    let about = About {
        object: &target.object,
        scope: target.scope,
        file: &file,
        keys_given: ring.is_some(),
        fixed_items: !target.lines_of_their_own,
    };
    let buffer = edit_text::render(&about, &shown);
    let nothing = || format!("nothing written to {file}");
    let edited =
        round_trip(&editor, buffer.as_bytes(), &temp_name(&plan.file)).with_context(nothing)?;
    if edited.as_slice() == buffer.as_bytes() {
        io::tell(&format!(
            "edit cancelled, no changes made: {file} not written"
        ));
        return Ok(());
    }
    let edits = edit_text::edits(&shown, &edited).with_context(nothing)?;
    if edits.seal.is_empty() && edits.removed.is_empty() {
        io::tell(&format!("no item changed: {file} not written"));
        return Ok(());
    }
    let before = &target.sealed.spec.encrypted_data;
    let after = sealed_items(&target, &edits, &cert).with_context(nothing)?;
    let what = &target.what;
    let new_text = rewrite::edit_items(text, before, &after, Syntax::of(text))
        .map_err(|e| anyhow!("nothing written to {what}: {e}"))?;
    check_reads_back(&original, new_text.as_bytes(), target.doc, &after)
        .map_err(|e| anyhow!("nothing written to {what}: {e:#}"))?;
    // Someone else's change while the editor was open is not overwritten.
    if io::read_file(&plan.file, Limit::INPUT)? != original {
        bail!("{file} changed while it was being edited: nothing written (edit it again)");
    }
    io::write_atomic(&plan.file, new_text.as_bytes(), Sensitivity::Public)?;
    io::tell(&format!(
        "{file}: SealedSecret {}: {}",
        target.object,
        summary(before, &edits)
    ));
    Ok(())
}

/// The edited file must read as the original with only this object's items changed: every
/// other document, and everything else of this one, the same.
fn check_reads_back(
    original: &[u8],
    edited: &[u8],
    doc: usize,
    items: &BTreeMap<String, String>,
) -> Result<()> {
    let mut expected = decode::documents(original)?;
    let target = expected
        .get_mut(doc - 1)
        .and_then(|d| d.get_mut("spec"))
        .and_then(Value::as_object_mut)
        .context("the object is not where it was")?;
    target.insert(
        "encryptedData".to_owned(),
        Value::Object(
            items
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    let got = decode::documents(edited).context("the edited file does not read back")?;
    if got != expected {
        bail!("the edited file does not read back as the original with these items");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ss(ns: &str, name: &str) -> SealedSecret {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "bitnami.com/v1alpha1",
            "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"encryptedData": {}}
        }))
        .unwrap()
    }

    #[test]
    fn the_only_one_or_the_one_named() {
        let two = || vec![(1, ss("a", "db")), (3, ss("b", "db"))];
        let err = pick(two(), None, "f").unwrap_err().to_string();
        assert_eq!(
            err,
            "f holds 2 SealedSecrets (a/db, b/db): choose one with --name"
        );
        assert_eq!(pick(two(), Some("b/db"), "f").unwrap().0, 3);
        let err = pick(two(), Some("db"), "f").unwrap_err().to_string();
        assert!(err.contains("give --name NAMESPACE/NAME"), "{err}");
        let err = pick(two(), Some("api"), "f").unwrap_err().to_string();
        assert_eq!(
            err,
            "f: no SealedSecret named \"api\" (it holds a/db, b/db)"
        );
        assert_eq!(pick(vec![(2, ss("a", "x"))], None, "f").unwrap().0, 2);
        assert!(pick(vec![], None, "f").is_err());
        assert_eq!(temp_name(std::path::Path::new("deploy/db.json")), "db.yaml");
        assert_eq!(
            temp_name(std::path::Path::new("we\u{0}ird name.yaml")),
            "sealedsecret.yaml"
        );
    }
}
