//! `seal`: a drop-in replacement for kubeseal, offline.
//!
//! Flow: flags ([`cli`]) -> validated [`plan`] -> one command ([`cmd`]) that reads the input
//! ([`input`], [`cert`]), seals with the pure `shared` core, and writes the document once
//! ([`output`]). Errors are printed once, here, as one `error: ...` line on stderr.

mod cert;
mod cli;
mod cmd;
mod input;
mod kubeconfig;
mod output;
mod plan;

use std::io::{self, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser as _;

use crate::cli::Cli;
use crate::plan::Plan;

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
    match run(cli) {
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
/// control characters escaped (see [`escape_controls`]) so that names, keys, paths and
/// values from the input can neither break the line nor drive the terminal.
fn print_error(message: &str) {
    let line = escape_controls(message.trim_end());
    let _ = writeln!(io::stderr(), "error: {line}");
}

/// Escapes what a terminal would act on rather than print, in Rust's `escape_debug` notation
/// (the one `{:?}` already uses for names in messages): `\n`, `\r`, `\t`, `\0`, and `\u{hex}`
/// for every other C0 and C1 control and DEL (`\u{1b}`, `\u{85}`, `\u{7f}`), the Unicode line
/// and paragraph separators, and the bidirectional formatting controls (which can make a
/// line read differently from what it holds). Everything else, backslashes included, is
/// left as it is.
fn escape_controls(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || is_invisible_layout_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Line/paragraph separators and the bidirectional marks, embeddings, overrides and isolates.
fn is_invisible_layout_control(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

fn run(cli: Cli) -> Result<()> {
    let plan = Plan::try_from(cli)?;
    if plan.ignored_recovery_keys {
        tracing::warn!("--recovery-private-key is ignored without --recovery-unseal");
    }
    cmd::run(&plan)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

/// Logs go to stderr only, warnings by default; `-v N` raises the level as klog's does.
fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0 => tracing::Level::WARN,
        1..=2 => tracing::Level::INFO,
        3..=5 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .without_time()
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_controls("a\nb\r\tc\0\u{1b}[31m\u{7f}\u{85}\u{9f}\u{202e}\u{2028}"),
            "a\\nb\\r\\tc\\0\\u{1b}[31m\\u{7f}\\u{85}\\u{9f}\\u{202e}\\u{2028}"
        );
    }

    #[test]
    fn printable_text_is_kept() {
        let text = r#"secret "s": data.k\x: caf\u{e9} \u{1f600} 'q'"#;
        assert_eq!(escape_controls(text), text);
        assert_eq!(escape_controls("café ☃"), "café ☃");
    }
}
