//! `seal`: a drop-in replacement for kubeseal, offline. The binary (`main.rs`) parses the
//! flags, sets up logging and prints errors; everything else is here, behind [`run`].
//!
//! Data flows one way; a module imports only modules above it in this list:
//! - `io`: where bytes come from and go to (`Source`, `Sink`): stdin and files, read under
//!   size caps, written atomically through symlinks. The only file I/O.
//! - `decode`: bytes -> documents, Secrets, SealedSecrets. Pure.
//! - `print`: Secrets and SealedSecrets -> bytes, JSON or YAML as kubeseal prints them. Pure.
//! - [`cli`]: the flags, as kubeseal spells them.
//! - `kubeconfig`, `cert`: the context's namespace; the sealing certificate (the only network
//!   I/O). Both read files through `io`.
//! - `plan`: the flags checked and turned into a `Plan`: one mode, the input and output,
//!   the format, and the per-Secret options (`SecretOptions`).
//! - `cmd`: one module per mode: read (`io`), decode, seal or unseal with the pure `shared`
//!   core, print, write (`io`).

mod cert;
pub mod cli;
mod cmd;
mod decode;
mod io;
mod kubeconfig;
mod plan;
mod print;

use anyhow::Result;

use crate::cli::Cli;
use crate::plan::Plan;

/// Runs one `seal` invocation: checks the flags, then does what they say. The error, if any,
/// is for the caller to print, once.
pub fn run(cli: Cli) -> Result<()> {
    let plan = Plan::try_from(cli)?;
    if plan.ignored_recovery_keys {
        tracing::warn!("--recovery-private-key is ignored without --recovery-unseal");
    }
    cmd::run(&plan)
}
