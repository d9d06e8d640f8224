//! The `lab` command line: wiring only. Each subcommand lives in `lab::commands`.

use std::process::ExitCode;

use clap::Parser;
use lab::cli::Cli;

fn main() -> ExitCode {
    // Output piped into `head` ends quietly, as with any Unix tool, instead of a panic in
    // println! on a closed pipe (Rust ignores SIGPIPE by default).
    // SAFETY: at the start of main, before any other thread exists.
    let _ = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        )
    };
    let result = Cli::parse().command.run();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("lab: {err:#}");
            // Invalid settings exit 2, as the producer's and the consumer's do.
            match err.downcast_ref::<common::config::ConfigError>() {
                Some(_) => ExitCode::from(common::config::EXIT_CONFIG as u8),
                None => ExitCode::FAILURE,
            }
        }
    }
}
