//! The burstscope command line: clap definitions and the commands that wire
//! the pipeline crates together. The `burstscope` binary only calls [`main`].
//!
//! Exit codes: 0 success; 1 the command finished but some inputs failed (each
//! reported); 2 bad usage or an input that could not be used at all (nothing
//! written).

mod args;
mod commands;

use clap::Parser;
use std::process::ExitCode;

pub use args::Cli;

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything succeeded.
    Success,
    /// Finished, but some inputs failed (reported on stderr).
    Partial,
}

/// Parses the command line, runs the command and maps the result to an exit code.
#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.verbose);
    install_guards();
    match commands::run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(1),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("burstscope: error: {}", one_line(&err));
            ExitCode::from(2)
        }
    }
}

/// The default limit on one call into the HDF5 library, s
/// (`BURSTSCOPE_HDF5_TIMEOUT_S` overrides).
const HDF5_TIMEOUT_S: u64 = 120;

/// A hang inside the HDF5 library ends the process with one error line and
/// exit code 2 (after removing unfinished outputs); a panic prints one line
/// naming it an internal error instead of a backtrace.
fn install_guards() {
    let limit = std::env::var("BURSTSCOPE_HDF5_TIMEOUT_S")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0 && v.is_finite())
        .map_or(std::time::Duration::from_secs(HDF5_TIMEOUT_S), std::time::Duration::from_secs_f64);
    burstscope_io::watchdog::install(limit, |what, limit| {
        eprintln!(
            "burstscope: error: {what}: the HDF5 library did not return within {} s; the file is probably corrupt \
             (BURSTSCOPE_HDF5_TIMEOUT_S sets the limit)",
            limit.as_secs_f64()
        );
        burstscope_core::remove_uncommitted();
        std::process::exit(2);
    });
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!("burstscope: internal error (panic){at}: {msg}; please report it");
    }));
}

/// An error and its causes on one line. The library crates already write a
/// cause into their own message (`FILE: PATH: HDF5 error: CAUSE`), while
/// `anyhow` contexts do not: a cause is appended only when the text so far
/// does not contain it, so nothing is printed twice.
pub(crate) fn one_line(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // usvg warns about zero-height rectangles (sub-pixel histogram bars); keep its errors only
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(format!("{level},usvg=error")));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("f.nwb: {source}")]
        struct Lib {
            source: std::io::Error,
        }
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = anyhow::Error::new(Lib { source: io() });
        assert_eq!(one_line(&e), "f.nwb: no such file");
        let e = anyhow::Error::new(io()).context("reading the manifest");
        assert_eq!(one_line(&e), "reading the manifest: no such file");
    }
}
