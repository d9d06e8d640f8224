//! The `lab` command line: wiring only. Each subcommand lives in `lab::commands`.

use std::process::ExitCode;

use clap::Parser;
use lab::cli::Cli;

fn main() -> ExitCode {
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
