//! `--fetch-cert`: print the certificate given with `--cert`.

use anyhow::{Result, anyhow};
use shared::Certificate;

use crate::cert;
use crate::io::Sensitivity;
use crate::plan::Plan;

pub fn run(plan: &Plan, source: &str) -> Result<()> {
    let pem = cert::fetch(source, plan.request_timeout)?;
    // Copied as is, like kubeseal, but only if it is a certificate at all; an expired one is
    // still printed, since inspecting it is a reason to fetch it.
    Certificate::from_pem(&pem).map_err(|e| anyhow!("certificate {source}: {e}"))?;
    plan.output.write(&pem, Sensitivity::Public)
}
