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
            if let Some(lab::commands::ExitWith(code)) = err.downcast_ref() {
                return ExitCode::from(*code);
            }
            eprintln!("lab: {err:#}");
            // Invalid settings exit 2, as the producer's and the consumer's do; so does a
            // cluster that could not be read (`lab record`, `lab doctor`).
            if err.downcast_ref::<common::config::ConfigError>().is_some()
                || err.downcast_ref::<lab_cluster::ReadError>().is_some()
            {
                return ExitCode::from(common::config::EXIT_CONFIG as u8);
            }
            ExitCode::FAILURE
        }
    }
}
