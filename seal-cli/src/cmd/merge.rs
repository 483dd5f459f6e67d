//! `--merge-into FILE`: seal the input for FILE's name and namespace and merge the new items
//! into FILE, which is rewritten atomically.

use std::path::Path;

use anyhow::{Result, bail};

use super::seal::{load_cert, seal_all};
use crate::decode;
use crate::io::{self, Limit, Sensitivity};
use crate::plan::{CertSource, Plan, SecretOptions};
use crate::print::{self, Format};

pub fn run(plan: &Plan, cert_source: &CertSource, file: &Path) -> Result<()> {
    let what = format!("--merge-into {}", file.display());
    let original_bytes = io::read_file(file, Limit::MERGE_INTO)?;
    let mut original = decode::sealed_secret(&original_bytes, &what)?;
    let Some(name) = original.metadata.name.clone().filter(|n| !n.is_empty()) else {
        bail!("{what}: SealedSecret has no metadata.name");
    };
    let file_namespace = original
        .metadata
        .namespace
        .clone()
        .filter(|ns| !ns.is_empty());
    if let (Some(file_ns), Some(flag)) = (&file_namespace, &plan.secret.namespace)
        && file_ns != flag
    {
        bail!("namespace mismatch: {what} is in namespace {file_ns:?} but {flag:?} was specified");
    }

    let cert = load_cert(plan, cert_source)?;
    let bytes = plan.input.read(Limit::INPUT)?;
    let secrets = decode::secrets(&bytes)?;
    if secrets.len() != 1 {
        bail!(
            "--merge-into takes exactly one input Secret, found {}",
            secrets.len()
        );
    }
    // Sealed for the file's name and namespace; the other options as the flags say.
    let opts = SecretOptions {
        name: Some(name),
        forced_namespace: file_namespace,
        ..plan.secret.clone()
    };
    let update = seal_all(secrets, &opts, &plan.kubeconfig, &cert)?.remove(0);

    original
        .spec
        .encrypted_data
        .extend(update.spec.encrypted_data);
    let new_template = update.spec.template.unwrap_or_default();
    // kubeseal merges into maps that may be nil and panics; missing maps are created here.
    let template = original.spec.template.get_or_insert_default();
    if let Some(annotations) = new_template.metadata.annotations {
        template
            .metadata
            .annotations
            .get_or_insert_default()
            .extend(annotations);
    }
    if let Some(labels) = new_template.metadata.labels {
        template
            .metadata
            .labels
            .get_or_insert_default()
            .extend(labels);
    }
    if let Some(data) = new_template.data {
        template.data.get_or_insert_default().extend(data);
    }

    let format = if plan.format_explicit {
        plan.format
    } else {
        // Keep the file in its own format rather than kubeseal's default JSON.
        Format::from_extension(file).unwrap_or(
            if original_bytes.trim_ascii_start().starts_with(b"{") {
                Format::Json
            } else {
                Format::Yaml
            },
        )
    };
    let doc = print::render(&[print::sealed_secret_node(&original)], format)?;
    io::write_atomic(file, &doc, Sensitivity::Public)
}
