//! `--fetch-cert`: print the controller's certificate, or the one given with `--cert`.

use anyhow::{Result, anyhow};
use shared::Certificate;

use crate::io::Sensitivity;
use crate::plan::{CertSource, Plan};

pub fn run(plan: &Plan, source: &CertSource) -> Result<()> {
    let (pem, from) = super::certificate(plan, source)?;
    // Copied as is, like kubeseal, but only if it is a certificate at all; an expired one is
    // still printed, since inspecting it is a reason to fetch it.
    Certificate::from_pem(&pem).map_err(|e| anyhow!("certificate {from}: {e}"))?;
    plan.output.write(&pem, Sensitivity::Public)
}
