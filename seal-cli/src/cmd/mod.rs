//! One module per mode; each reads its input ([`crate::io`]), decodes it ([`crate::decode`]),
//! does the work with the pure `shared` core (or asks the controller, [`crate::cluster`]),
//! prints the result ([`crate::print`]) and writes it once.

mod controller;
pub mod create;
pub mod docs;
pub mod edit;
mod fetch_cert;
pub mod keys;
pub mod lint;
mod merge;
mod raw;
pub mod re_encrypt;
mod recover;
mod seal;

use anyhow::{Result, anyhow};
use rand::TryRng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

use crate::cert;
use crate::cluster::Session;
use crate::io::Sensitivity;
use crate::plan::{CertSource, Mode, Plan};

pub fn run(plan: &Plan) -> Result<()> {
    match &plan.mode {
        Mode::Version => {
            let line = format!(
                "{} version: v{}\n",
                program_name(),
                env!("CARGO_PKG_VERSION")
            );
            plan.output.write(line.as_bytes(), Sensitivity::Public)
        }
        Mode::RecoveryUnseal { keys } => recover::run(plan, keys),
        Mode::Validate => controller::validate(plan),
        Mode::ReEncrypt => controller::re_encrypt(plan),
        Mode::FetchCert { cert } => fetch_cert::run(plan, cert),
        Mode::MergeInto { cert, file } => merge::run(plan, cert, file),
        Mode::Raw { cert, from_file } => raw::run(plan, cert, from_file.as_deref()),
        Mode::Seal { certs } => seal::run(plan, certs),
    }
}

/// The private keys of key-backup files (`--recovery-private-key`), in order.
fn private_keys(files: &[std::path::PathBuf]) -> Result<Vec<shared::PrivateKey>> {
    let mut keys = Vec::new();
    for path in files {
        let bytes = crate::io::read_file(path, crate::io::Limit::PRIVATE_KEY)?;
        let found = crate::decode::private_keys(&bytes)
            .map_err(|e| anyhow!("private key {}: {e}", path.display()))?;
        keys.extend(found);
    }
    Ok(keys)
}

/// The name the binary was run as (`seal`, or `kubeseal` through a link of that name), for
/// `--version`, which scripts written for kubeseal parse as `kubeseal version: vX.Y.Z`.
fn program_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "seal".to_owned())
}

/// The certificate's PEM bytes, and how errors name where they came from: `--cert` (no
/// cluster is contacted) or the controller.
fn certificate(plan: &Plan, source: &CertSource) -> Result<(Vec<u8>, String)> {
    certificate_from(
        source,
        &plan.kubeconfig,
        &plan.controller,
        plan.request_timeout,
    )
}

fn certificate_from(
    source: &CertSource,
    kubeconfig: &crate::kubeconfig::Selection,
    controller: &crate::cluster::Controller,
    request_timeout: Option<std::time::Duration>,
) -> Result<(Vec<u8>, String)> {
    match source {
        CertSource::Given(path_or_url) => Ok((
            cert::fetch(path_or_url, request_timeout)?,
            path_or_url.clone(),
        )),
        CertSource::Controller => {
            let mut session = Session::connect(kubeconfig, controller, request_timeout)?;
            Ok((
                session.fetch_cert()?,
                format!(
                    "from the controller {}/{}",
                    controller.namespace, controller.name
                ),
            ))
        }
    }
}

/// Session keys and OAEP seeds come straight from the OS. The source is probed once, so a
/// broken one is an error here rather than a panic mid-seal.
fn os_rng() -> Result<UnwrapErr<SysRng>> {
    SysRng
        .try_fill_bytes(&mut [0u8; 32])
        .map_err(|e| anyhow!("the operating system's random source failed: {e}"))?;
    Ok(UnwrapErr(SysRng))
}
