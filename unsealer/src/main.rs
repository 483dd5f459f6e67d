//! `unsealer`: the in-cluster controller (see the library's documentation).

use std::process::ExitCode;

use clap::Parser as _;
use tracing::error;
use unsealer::config::{Command, Config};

fn main() -> ExitCode {
    let config = Config::parse();
    if config.version {
        println!("{} version: v{}", binary_name(), env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
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

/// The name this binary was run as: `unsealer`, or `controller` as the reference's image has it.
fn binary_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map_or_else(|| "unsealer".into(), |n| n.to_string_lossy().into_owned())
}
