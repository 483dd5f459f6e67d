//! `--validate` and `--re-encrypt`: each input SealedSecret goes to the controller
//! (`/v1/verify`, `/v1/rotate`), one request each, in order. The input is decoded whole
//! first, so a bad document stops the run before any request; the re-encrypted output is
//! written once, after every SealedSecret came back, so a failure leaves the output file
//! (with `-f` and no `-w`, the input file itself) exactly as it was.

use anyhow::Result;
use shared::SealedSecret;

use crate::cluster::Session;
use crate::decode;
use crate::io::{Limit, Sensitivity, Source};
use crate::plan::Plan;
use crate::print::{self, Format};

fn input(plan: &Plan) -> Result<Vec<SealedSecret>> {
    let what = match &plan.input {
        Source::Stdin => "stdin".to_owned(),
        Source::File(path) => path.display().to_string(),
    };
    let bytes = plan.input.read(Limit::INPUT)?;
    decode::sealed_secrets(&bytes, &what)
}

/// The body kubeseal posts: the SealedSecret as JSON.
fn body(sealed: &SealedSecret) -> Result<Vec<u8>> {
    print::render(&[print::sealed_secret_node(sealed)], Format::Json)
}

fn name(sealed: &SealedSecret) -> String {
    sealed.metadata.name.clone().unwrap_or_default()
}

/// Succeeds, printing nothing, if the controller can decrypt every SealedSecret.
pub fn validate(plan: &Plan) -> Result<()> {
    let sealed = input(plan)?;
    let mut session = Session::connect(&plan.kubeconfig, &plan.controller, plan.request_timeout)?;
    for s in &sealed {
        session.verify(&name(s), body(s)?)?;
    }
    Ok(())
}

/// Prints (or writes back) every SealedSecret as the controller re-sealed it.
pub fn re_encrypt(plan: &Plan) -> Result<()> {
    let sealed = input(plan)?;
    let mut session = Session::connect(&plan.kubeconfig, &plan.controller, plan.request_timeout)?;
    let mut docs = Vec::with_capacity(sealed.len());
    for s in &sealed {
        let name = name(s);
        let answer = session.rotate(&name, body(s)?)?;
        let mut fresh = decode::sealed_secret_answer(
            &answer,
            &format!("the controller's re-encryption of {name:?}"),
        )?;
        // As kubeseal: server-set fields do not go back into a file.
        fresh.metadata.creation_timestamp = None;
        fresh.metadata.deletion_timestamp = None;
        fresh.metadata.generation = None;
        docs.push(print::sealed_secret_node(&fresh));
    }
    plan.output
        .write(&print::render(&docs, plan.format)?, Sensitivity::Public)
}
