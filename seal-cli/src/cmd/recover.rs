//! `--recovery-unseal`: decrypt one SealedSecret offline with backed-up private keys.

use std::path::PathBuf;

use anyhow::Result;
use shared::KeyRing;
use shared::unseal::{UnsealOptions, unseal_with};

use crate::io::{Limit, Sensitivity};
use crate::plan::Plan;
use crate::{decode, print};

pub fn run(plan: &Plan, key_files: &[PathBuf]) -> Result<()> {
    let keys = super::private_keys(key_files)?;
    tracing::info!(keys = keys.len(), "recovery keys loaded");
    let ring = KeyRing::new(keys);
    let bytes = plan.input.read(Limit::INPUT)?;
    let sealed = decode::sealed_secret(&bytes, "input")?;
    // Templates may use the clock and randomness, as in the controller.
    let mut env = shared::template::Context {
        now: time::OffsetDateTime::now_utc(),
        rng: rand::rng(),
    };
    let secret = unseal_with(
        &sealed,
        &ring,
        UnsealOptions::default(),
        &mut env,
        &mut || {},
    )?;
    let doc = print::render(&[print::secret_node(&secret)], plan.format)?;
    // The output is plaintext: a file gets mode 0600.
    plan.output.write(&doc, Sensitivity::Private)
}
