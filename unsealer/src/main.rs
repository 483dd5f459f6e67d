//! `unsealer`: the in-cluster controller (see the library's documentation).

use std::process::ExitCode;

use clap::Parser as _;
use tracing::error;
use unsealer::config::{Command, Config};

fn main() -> ExitCode {
    let config = Config::parse();
    if let Some(Command::Crd) = config.command {
        return match unsealer::crd_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    unsealer::init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(unsealer::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}
