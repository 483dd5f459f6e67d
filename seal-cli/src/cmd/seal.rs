//! Plain seal mode: Secrets in, SealedSecrets out; with `--cert NAME=...`, once per cluster.

use std::cell::OnceCell;

use anyhow::{Result, bail};
use k8s_openapi::api::core::v1::Secret;
use shared::seal::{seal, validate};
use shared::{Certificate, Scope, SealedSecret};

use crate::io::{self, Limit, Sensitivity, Sink};
use crate::plan::{CertSource, Certs, Plan, SecretOptions};
use crate::{cert, decode, kubeconfig, print};

pub fn run(plan: &Plan, certs: &Certs) -> Result<()> {
    let clusters = match certs {
        Certs::One(source) => {
            let cert = load_cert(plan, source)?;
            let secrets = read_prepared(plan)?;
            return plan
                .output
                .write(&render(plan, &secrets, &cert)?, Sensitivity::Public);
        }
        Certs::Clusters(clusters) => clusters,
    };
    // Every certificate first: one that fails to load stops the run before any input is read
    // or any file written, for every cluster.
    let certs = clusters
        .iter()
        .map(|c| {
            load_cert(plan, &CertSource::Given(c.cert.clone())).map_err(|e| ClusterCertError {
                cluster: c.name.clone(),
                cert: c.cert.clone(),
                reason: format!("{e:#}"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Prepared once, so every cluster gets the same names, namespaces and scopes.
    let secrets = read_prepared(plan)?;
    let mut files = Vec::with_capacity(clusters.len());
    for (cluster, cert) in clusters.iter().zip(&certs) {
        let bytes = render(plan, &secrets, cert)?;
        match &cluster.output {
            Sink::File(path) => files.push((path.clone(), bytes)),
            // Only a lone cluster goes to stdout (the plan's rule), so nothing is mixed.
            Sink::Stdout => Sink::Stdout.write(&bytes, Sensitivity::Public)?,
        }
    }
    Ok(io::write_files(&files, Sensitivity::Public)?)
}

/// A named cluster's certificate did not load; nothing was written for any cluster.
#[derive(Debug, thiserror::Error)]
#[error("cluster {cluster} (--cert {cluster}={cert}): {reason}")]
struct ClusterCertError {
    cluster: String,
    cert: String,
    reason: String,
}

/// The input's Secrets, decoded and prepared (`prepare_all`).
fn read_prepared(plan: &Plan) -> Result<Vec<Secret>> {
    let bytes = plan.input.read(Limit::INPUT)?;
    prepare_all(decode::secrets(&bytes)?, &plan.secret, &plan.kubeconfig)
}

/// `secrets` sealed with `cert` and printed in the plan's format.
fn render(plan: &Plan, secrets: &[Secret], cert: &Certificate) -> Result<Vec<u8>> {
    let sealed = seal_prepared(secrets, cert)?;
    let docs: Vec<_> = sealed.iter().map(print::sealed_secret_node).collect();
    print::render(&docs, plan.format)
}

/// The certificate to seal with, parsed and checked (not expired).
pub fn load_cert(plan: &Plan, source: &CertSource) -> Result<Certificate> {
    let (pem, source) = super::certificate(plan, source)?;
    checked_cert(&pem, &source)
}

/// `pem` parsed for sealing (not expired), logged.
pub fn checked_cert(pem: &[u8], source: &str) -> Result<Certificate> {
    let cert = cert::parse_for_sealing(pem, source, time::OffsetDateTime::now_utc())?;
    tracing::info!(
        fingerprint = cert.public_key().fingerprint(),
        bits = cert.public_key().bits(),
        not_after = %cert.not_after(),
        "sealing certificate from {source}"
    );
    Ok(cert)
}

/// Prepares and checks every Secret first, then seals them all: a bad third document means
/// nothing is sealed or written.
pub fn seal_all(
    secrets: Vec<Secret>,
    opts: &SecretOptions,
    kubeconfig: &kubeconfig::Selection,
    cert: &Certificate,
) -> Result<Vec<SealedSecret>> {
    seal_prepared(&prepare_all(secrets, opts, kubeconfig)?, cert)
}

/// kubeseal's per-Secret steps ([`prepare`]) on every Secret, before any is sealed.
fn prepare_all(
    secrets: Vec<Secret>,
    opts: &SecretOptions,
    kubeconfig: &kubeconfig::Selection,
) -> Result<Vec<Secret>> {
    let context_namespace = OnceCell::new();
    secrets
        .into_iter()
        .map(|secret| prepare(secret, opts, kubeconfig, &context_namespace))
        .collect()
}

/// Prepared Secrets sealed with `cert`, in order.
fn seal_prepared(prepared: &[Secret], cert: &Certificate) -> Result<Vec<SealedSecret>> {
    // Sealing is all RSA work, independent per Secret: spread long inputs over the cores, in
    // order-keeping chunks. Each thread draws from the OS source itself.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = prepared.len().div_ceil(cores).max(PARALLEL_MIN);
    let public_key = cert.public_key();
    std::thread::scope(|scope| {
        let workers: Vec<_> = prepared
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut rng = super::os_rng()?;
                    part.iter()
                        .map(|secret| Ok(seal(secret, public_key, &mut rng)?))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(prepared.len());
        for worker in workers {
            out.extend(worker.join().expect("a sealing thread does not panic")?);
        }
        Ok(out)
    })
}

/// Below this many Secrets per thread, a thread costs more than it saves.
const PARALLEL_MIN: usize = 8;

/// kubeseal's per-Secret steps: name override, checks, scope annotations, namespace.
/// The kubeconfig is read only for a Secret that needs its namespace, and then once.
fn prepare(
    mut secret: Secret,
    opts: &SecretOptions,
    kubeconfig: &kubeconfig::Selection,
    context_namespace: &OnceCell<Option<String>>,
) -> Result<Secret> {
    if let Some(name) = &opts.name {
        secret.metadata.name = Some(name.clone());
    }
    validate(&secret, opts.allow_empty_data)?;
    if opts.scope != Scope::Strict {
        opts.scope
            .apply_to(secret.metadata.annotations.get_or_insert_default());
    }
    if let Some(ns) = &opts.forced_namespace {
        secret.metadata.namespace = Some(ns.clone());
    }
    let scope = Scope::from_annotations(secret.metadata.annotations.as_ref());
    let current = secret
        .metadata
        .namespace
        .clone()
        .filter(|ns| !ns.is_empty());
    let namespace = match (current, &opts.namespace) {
        (Some(input), Some(flag)) if input != *flag && scope != Scope::ClusterWide => {
            bail!(
                "namespace mismatch: input secret is in namespace {input:?} but {flag:?} was specified"
            )
        }
        (Some(input), _) => Some(input),
        (None, Some(flag)) => Some(flag.clone()),
        // A cluster-wide value fits any namespace: leave it unset rather than guess.
        (None, None) if scope == Scope::ClusterWide => None,
        (None, None) => {
            if context_namespace.get().is_none() {
                let _ = context_namespace.set(kubeconfig::context_namespace(kubeconfig)?);
            }
            Some(
                context_namespace
                    .get()
                    .cloned()
                    .flatten()
                    .unwrap_or_else(|| "default".to_owned()),
            )
        }
    };
    tracing::debug!(
        name = secret.metadata.name.as_deref().unwrap_or_default(),
        namespace = namespace.as_deref().unwrap_or_default(),
        %scope,
        "sealing secret"
    );
    secret.metadata.namespace = namespace;
    Ok(secret)
}
