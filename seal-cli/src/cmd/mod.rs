//! One module per mode; each reads its input ([`crate::io`]), decodes it ([`crate::decode`]),
//! does the work with the pure `shared` core, prints the result ([`crate::print`]) and writes
//! it once.

mod fetch_cert;
mod merge;
mod raw;
mod recover;
mod seal;

use anyhow::{Result, anyhow};
use rand::TryRng as _;
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

use crate::io::Sensitivity;
use crate::plan::{Mode, Plan};

pub fn run(plan: &Plan) -> Result<()> {
    match &plan.mode {
        Mode::Version => {
            let line = format!("seal version: {}\n", env!("CARGO_PKG_VERSION"));
            plan.output.write(line.as_bytes(), Sensitivity::Public)
        }
        Mode::RecoveryUnseal { keys } => recover::run(plan, keys),
        Mode::FetchCert { cert } => fetch_cert::run(plan, cert),
        Mode::MergeInto { cert, file } => merge::run(plan, cert, file),
        Mode::Raw { cert, from_file } => raw::run(plan, cert, from_file.as_deref()),
        Mode::Seal { cert } => seal::run(plan, cert),
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
