//! `seal`, the binary: parses the flags, sets up logging, runs [`seal_cli::run`], and turns
//! the outcome into one `error: ...` line on stderr and an exit code (0, 1, or clap's 2 for
//! a usage error).

use std::io::{self, IsTerminal as _, Write as _};
use std::process::ExitCode;

use clap::Parser as _;
use seal_cli::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // `--help`: clap prints it to stdout and exits 0, as it always has.
            e.exit()
        }
        Err(e) => {
            // clap's usage-error code (2), which `Cli::parse` has always exited with.
            let code = u8::try_from(e.exit_code()).unwrap_or(2);
            print_error(&cli::usage_error_line(e));
            return ExitCode::from(code);
        }
    };
    init_logging(cli.verbosity);
    match seal_cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`seal ... | head`): nothing is wrong with the run.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            print_error(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

/// Every error the CLI reports goes through here: one `error: ...` line on stderr, with
/// control characters escaped ([`shared::text::escape`]) so that names, keys, paths and
/// values from the input can neither break the line nor drive the terminal.
fn print_error(message: &str) {
    let line = shared::text::escape(message.trim_end());
    let _ = writeln!(io::stderr(), "error: {line}");
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

/// Logs go to stderr only, warnings by default; `-v N` raises the level as klog's does.
/// Other crates' lines (kube's per-request spans, which log a failed request at error level;
/// the TLS verifier, which logs a refused certificate) appear only from `-v 3`: a failure is
/// reported once, as the run's one error line.
fn init_logging(verbosity: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let level = match verbosity {
        0 => LevelFilter::WARN,
        1..=2 => LevelFilter::INFO,
        3..=5 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let others = if verbosity >= 3 {
        level
    } else {
        LevelFilter::OFF
    };
    let filter = Targets::new()
        .with_default(others)
        .with_target("seal", level)
        .with_target("seal_cli", level)
        .with_target("shared", level);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(io::stderr)
                .with_ansi(io::stderr().is_terminal())
                .without_time()
                .with_target(false),
        )
        .with(filter)
        .init();
}
