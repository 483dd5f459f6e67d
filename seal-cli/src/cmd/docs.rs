//! `seal completion SHELL` and `seal man`: generated from the clap definition of the flags
//! (clap_complete, clap_mangen), so they always say what the binary takes. Completions are for
//! the name the binary runs as (a `kubectl-seal` link completes as `kubectl-seal`).

use anyhow::Result;
use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::io::{Sensitivity, Sink};

pub fn completion(shell: clap_complete::Shell) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), super::program_name(), &mut out);
    Sink::Stdout.write(&out, Sensitivity::Public)
}

pub fn man() -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Sink::Stdout.write(&out, Sensitivity::Public)
}
