//! The `lab` command line: wiring only. Each subcommand lives in its own module.

use std::process::ExitCode;

use clap::Parser;
use lab::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate {
            scenario,
            out,
            seed,
            seeds,
        } => lab::commands::simulate(&scenario, out, seed, seeds),
        Command::Plan {
            scaled_object,
            trace,
            replicas,
            until,
        } => lab::commands::plan(&scaled_object, &trace, replicas, until),
        Command::Replay {
            scenario,
            brokers,
            speed,
            out,
        } => lab::commands::replay(&scenario, brokers, speed, out),
        Command::CheckManifests { files, dockerfile } => {
            lab::commands::check_manifests(&files, &dockerfile)
        }
        Command::Lag {
            brokers,
            group,
            topic,
            scaled_object,
            watch,
        } => lab::commands::lag(&brokers, &group, &topic, scaled_object, watch),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("lab: {err:#}");
            ExitCode::FAILURE
        }
    }
}
