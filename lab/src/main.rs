//! The `lab` command line: wiring only. Each subcommand lives in `lab::commands`.

use std::process::ExitCode;

use clap::Parser;
use lab::cli::{Cli, Command};
use lab::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate {
            scenario,
            out,
            seed,
            seeds,
        } => commands::simulate(&scenario, out, seed, seeds),
        Command::Plan {
            scaled_object,
            trace,
            replicas,
            until,
        } => commands::plan(&scaled_object, &trace, replicas, until),
        Command::Replay {
            scenario,
            brokers,
            speed,
            out,
        } => commands::replay(&scenario, brokers, speed, out),
        Command::Report {
            timeline,
            scenario,
            scaled_object,
            out,
        } => commands::report(&timeline, scenario.as_deref(), scaled_object, out),
        Command::CheckManifests {
            files,
            dockerfile,
            keda_namespace,
            strimzi,
            origin_base,
            rules,
        } => commands::check_manifests(commands::CheckArgs {
            files,
            dockerfile,
            keda_namespace,
            strimzi,
            origin_base,
            rules,
        }),
        Command::Lag {
            brokers,
            group,
            topic,
            scaled_object,
            replicas,
            watch,
            record,
            format,
        } => commands::lag(commands::LagArgs {
            brokers,
            group,
            topic,
            scaled_object,
            replicas,
            watch,
            record,
            format,
        }),
    };
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
