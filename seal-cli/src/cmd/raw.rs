//! `--raw`: seal one value and print the bare base64, for hand-written SealedSecrets.

use std::path::Path;

use anyhow::{Result, bail};
use shared::{Scope, crypto, wire};

use super::seal::load_cert;
use crate::io::{self, Limit, Sensitivity};
use crate::kubeconfig;
use crate::plan::{CertSource, Plan};

pub fn run(plan: &Plan, cert_source: &CertSource, from_file: Option<&Path>) -> Result<()> {
    let cert = load_cert(plan, cert_source)?;

    // The value is bound to the namespace (and name) through the label; unlike a Secret's,
    // it is never guessed as "default": it comes from -n or the kubeconfig context.
    let opts = &plan.secret;
    let namespace = match &opts.namespace {
        Some(ns) => Some(ns.clone()),
        None if opts.scope != Scope::ClusterWide => {
            kubeconfig::context_namespace(&plan.kubeconfig)?
        }
        None => None,
    };
    let scope_name = opts.scope.as_str();
    if opts.scope != Scope::ClusterWide && namespace.is_none() {
        bail!("must provide the --namespace flag with --raw and --scope {scope_name}");
    }
    if opts.scope == Scope::Strict && opts.name.is_none() {
        bail!("must provide the --name flag with --raw and --scope {scope_name}");
    }
    let label = opts.scope.label(
        namespace.as_deref().unwrap_or_default(),
        opts.name.as_deref().unwrap_or_default(),
    );

    let value = match from_file {
        Some(path) => io::read_file(path, Limit::RAW_VALUE)?,
        None => plan.input.read(Limit::RAW_VALUE)?,
    };
    let value = zeroize::Zeroizing::new(value);
    let mut rng = super::os_rng()?;
    let sealed = crypto::encrypt(&mut rng, cert.public_key(), &value, &label)?;
    plan.output
        .write(wire::encode(&sealed).as_bytes(), Sensitivity::Public)
}
