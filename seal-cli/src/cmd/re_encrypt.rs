//! `seal re-encrypt PATH...`: every SealedSecret in the files goes to the newest key, through
//! the controller (`/v1/rotate`) or offline, and each file is edited in place ([`rewrite`]):
//! only the values that were not yet sealed for the newest key change. Every file is worked out
//! first; only if all of them succeed is anything written, each file atomically.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result, anyhow, bail};
use shared::unseal::{UnsealOptions, rotate};
use shared::{KeyRing, PublicKey, SealedSecret};

use crate::cluster::Session;
use crate::io::{self, Found, Limit, Sensitivity};
use crate::plan::{ReEncryptPlan, Rotator};
use crate::print::{self, Format};
use crate::rewrite::{self, Change};
use crate::{cert, decode};

/// Re-encrypts one SealedSecret.
enum Rotate {
    Controller(Box<Session>),
    Offline { ring: KeyRing, newest: PublicKey },
}

impl Rotate {
    fn new(via: &Rotator) -> Result<Rotate> {
        Ok(match via {
            Rotator::Controller(r) => Rotate::Controller(Box::new(Session::connect(
                &r.kubeconfig,
                &r.controller,
                r.request_timeout,
            )?)),
            Rotator::Offline {
                cert: source,
                keys,
                request_timeout,
            } => {
                let pem = cert::fetch(source, *request_timeout)?;
                let now = time::OffsetDateTime::now_utc();
                let newest = cert::parse_for_sealing(&pem, source, now)?
                    .public_key()
                    .clone();
                let found = super::private_keys(keys)?;
                if !found
                    .iter()
                    .any(|k| k.fingerprint() == newest.fingerprint())
                {
                    tracing::warn!(
                        "the private key of --cert is not among --recovery-private-key: values \
                         already sealed for it cannot be recognised and are re-encrypted too"
                    );
                }
                Rotate::Offline {
                    ring: KeyRing::new(found),
                    newest,
                }
            }
        })
    }

    fn rotate(&mut self, sealed: &SealedSecret, name: &str) -> Result<SealedSecret> {
        match self {
            Rotate::Controller(session) => {
                let body = print::render(&[print::sealed_secret_node(sealed)], Format::Json)?;
                let answer = session.rotate(name, body)?;
                decode::sealed_secret_answer(
                    &answer,
                    &format!("the controller's re-encryption of {name:?}"),
                )
            }
            Rotate::Offline { ring, newest } => rotate(
                sealed,
                ring,
                newest,
                UnsealOptions::default(),
                &mut rand::rng(),
            )
            .map_err(|e| anyhow!("cannot re-encrypt sealed secret {name:?}: {e}")),
        }
    }
}

/// The values of `before` that `after` changed.
fn changes(before: &SealedSecret, after: &SealedSecret) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    for (item, old) in &before.spec.encrypted_data {
        let new = after
            .spec
            .encrypted_data
            .get(item)
            .with_context(|| format!("the re-encrypted object lacks item {item:?}"))?;
        if new != old {
            out.push(Change {
                item: item.clone(),
                old: old.clone(),
                new: new.clone(),
            });
        }
    }
    if after.spec.encrypted_data.len() != before.spec.encrypted_data.len() {
        bail!("the re-encrypted object has other items");
    }
    if before.spec.data != after.spec.data {
        bail!("spec.data (the deprecated v1 format) cannot be re-encrypted in place");
    }
    Ok(out)
}

/// One object that changes.
struct Edited {
    object: String,
    items: Vec<String>,
}

/// One file that changes, with its new text.
struct FileEdit {
    path: PathBuf,
    text: String,
    objects: Vec<Edited>,
}

#[derive(Default)]
struct Totals {
    files: usize,
    objects: usize,
    objects_changed: usize,
    items_changed: usize,
}

fn object_name(ss: &SealedSecret) -> String {
    let name = ss.metadata.name.as_deref().unwrap_or_default();
    match ss.metadata.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// The new text of one file, or `None` when nothing in it changes.
fn edit_file(
    found: &Found,
    rotator: &mut Rotate,
    totals: &mut Totals,
    progress: &indicatif::ProgressBar,
) -> Result<Option<FileEdit>> {
    let shown = found.path.display().to_string();
    let bytes = io::read_file(&found.path, Limit::INPUT)?;
    let sealed = match decode::sealed_secrets_among(&bytes, &shown) {
        Ok(sealed) => sealed,
        // A file found in a directory that is not YAML or JSON (a Helm template, say) is not
        // ours to judge; one named on the command line must be readable.
        Err(e) if !found.named => {
            tracing::info!(file = %shown, error = %format!("{e:#}"), "skipped");
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| anyhow!("{shown}: not UTF-8"))?;
    let mut all_changes = Vec::new();
    let mut objects = Vec::new();
    let mut expected = Vec::new();
    for (doc, ss) in &sealed {
        let object = object_name(ss);
        progress.set_message(format!("{shown}: {object}"));
        let after = rotator
            .rotate(ss, ss.metadata.name.as_deref().unwrap_or_default())
            .with_context(|| format!("{shown}: document {doc} (SealedSecret {object})"))?;
        let changed = changes(ss, &after)
            .with_context(|| format!("{shown}: document {doc} (SealedSecret {object})"))?;
        totals.objects += 1;
        progress.inc(1);
        if !changed.is_empty() {
            totals.objects_changed += 1;
            totals.items_changed += changed.len();
            objects.push(Edited {
                object: object.clone(),
                items: changed.iter().map(|c| c.item.clone()).collect(),
            });
            // Checked per object too, so that an error names the object.
            rewrite::replace_values(text, &changed)
                .map(drop)
                .map_err(|e| anyhow!("{shown}: document {doc} (SealedSecret {object}): {e}"))?;
            all_changes.extend(changed);
        }
        expected.push(after.spec.encrypted_data);
    }
    if all_changes.is_empty() {
        return Ok(None);
    }
    let new_text =
        rewrite::replace_values(text, &all_changes).map_err(|e| anyhow!("{shown}: {e}"))?;
    // The edited text must read back as exactly the re-encrypted objects.
    let again = decode::sealed_secrets_among(new_text.as_bytes(), &shown)?;
    let reread: Vec<_> = again
        .into_iter()
        .map(|(_, ss)| ss.spec.encrypted_data)
        .collect();
    if reread != expected {
        bail!(
            "{shown}: the edited file does not read back as the re-encrypted objects; left as it was"
        );
    }
    Ok(Some(FileEdit {
        path: found.path.clone(),
        text: new_text,
        objects,
    }))
}

pub fn run(plan: &ReEncryptPlan) -> Result<()> {
    let files = io::find_files(&plan.paths)?;
    let mut rotator = Rotate::new(&plan.via)?;
    let progress = if std::io::stderr().is_terminal() && files.len() > 1 {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} SealedSecrets {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut totals = Totals::default();
    let mut edits = Vec::new();
    for found in &files {
        totals.files += 1;
        if let Some(edit) = edit_file(found, &mut rotator, &mut totals, &progress)? {
            edits.push(edit);
        }
    }
    progress.finish_and_clear();

    let mut out = String::new();
    for edit in &edits {
        for o in &edit.objects {
            out.push_str(&format!(
                "{}: {}: {}\n",
                edit.path.display(),
                o.object,
                o.items.join(", ")
            ));
        }
    }
    if !plan.dry_run {
        for edit in &edits {
            io::write_atomic(&edit.path, edit.text.as_bytes(), Sensitivity::Public)?;
        }
    }
    let verb = if plan.dry_run {
        "would re-encrypt"
    } else {
        "re-encrypted"
    };
    if plan.dry_run {
        io::Sink::Stdout.write(out.as_bytes(), Sensitivity::Public)?;
    }
    io::tell(&format!(
        "{verb} {} items of {} SealedSecrets in {} files ({} SealedSecrets in {} files looked at)",
        totals.items_changed,
        totals.objects_changed,
        edits.len(),
        totals.objects,
        totals.files
    ));
    Ok(())
}
