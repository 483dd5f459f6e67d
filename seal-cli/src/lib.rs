//! `seal`: a drop-in replacement for kubeseal. The binary (`main.rs`) parses the
//! flags, sets up logging and prints errors; everything else is here, behind [`run`].
//!
//! Data flows one way; a module imports only modules above it in this list:
//! - `io`: where bytes come from and go to (`Source`, `Sink`): stdin and files, read under
//!   size caps, written atomically through symlinks, and the private directory of `seal
//!   edit`'s plaintext. The only file I/O.
//! - `decode`: bytes -> documents, Secrets, SealedSecrets. Pure.
//! - `print`: Secrets and SealedSecrets -> bytes, JSON or YAML as kubeseal prints them. Pure.
//! - [`cli`]: the flags, as kubeseal spells them.
//! - `kubeconfig`: the kubeconfig files and client-go's override flags: the context's
//!   namespace, and the cluster and user to talk to. No network I/O.
//! - `cert`: the certificate given with `--cert` (a file or an http(s) URL), offline.
//! - `cluster`: the controller through the API server's service proxy: the certificate,
//!   `/v1/verify`, `/v1/rotate`. With `cert`'s URL fetch, the only network I/O.
//! - `plan`: the flags checked and turned into a `Plan`: one mode, the input and output,
//!   the format, and the per-Secret options (`SecretOptions`).
//! - `rewrite`: a file's SealedSecrets edited in place, value by value. Pure.
//! - `edit_text`: the items as `seal edit` shows them in the editor, and what the edited text
//!   asks for. Pure.
//! - `editor`: the user's editor run on a file, with SIGTERM and SIGHUP caught meanwhile.
//! - `cmd`: one module per mode: read (`io`), decode, seal or unseal with the pure `shared`
//!   core, print (or `rewrite`), write (`io`).

mod cert;
pub mod cli;
mod cluster;
mod cmd;
mod decode;
mod edit_text;
mod editor;
mod io;
mod kubeconfig;
mod plan;
mod print;
mod rewrite;

use anyhow::Result;

use crate::cli::Cli;
use crate::plan::Plan;

/// Runs one `seal` invocation: checks the flags, then does what they say. The error, if any,
/// is for the caller to print, once.
pub fn run(mut cli: Cli) -> Result<()> {
    match cli.command.take() {
        Some(cli::Command::Create(create)) => return cmd::create::run(*create),
        Some(cli::Command::ReEncrypt(args)) => {
            return cmd::re_encrypt::run(&plan::ReEncryptPlan::try_from(*args)?);
        }
        Some(cli::Command::Keys(args)) => {
            return cmd::keys::run(&plan::KeysPlan::try_from(*args)?);
        }
        Some(cli::Command::Lint(args)) => return cmd::lint::run(&args),
        Some(cli::Command::Edit(args)) => {
            return cmd::edit::run(&plan::EditPlan::try_from(*args)?);
        }
        Some(cli::Command::Completion { shell }) => return cmd::docs::completion(shell),
        Some(cli::Command::Man) => return cmd::docs::man(),
        None => {}
    }
    let plan = Plan::try_from(cli)?;
    if plan.ignored_recovery_keys {
        tracing::warn!("--recovery-private-key is ignored without --recovery-unseal");
    }
    cmd::run(&plan)
}
