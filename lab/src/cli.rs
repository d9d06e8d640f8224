//! Command-line arguments of `lab`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "lab",
    version,
    about = "Replay and explain \"KEDA scales Kafka consumers by lag\" on one machine"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the real producer and consumers against a broker, scaled by the emulator.
    Replay {
        /// published, original, or a scenario file (.toml, .yaml).
        #[arg(long, default_value = "published")]
        scenario: String,
        /// Use this broker instead of the embedded one (host:port).
        #[arg(long)]
        brokers: Option<String>,
        /// Divide every clock by N for a quick look (rebalances do not speed up).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
        speed: u64,
        /// Where the reports go (default lab-out/<scenario>-replay).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run a scenario in virtual time with a model of the workload (no broker).
    Simulate {
        #[arg(long, default_value = "published")]
        scenario: String,
        /// Where the reports go (default lab-out/<scenario>-simulate).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed of the model's randomness (commit timer phases, producer start).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also run seeds 1..=N and print how often each phase ends at each count.
        #[arg(long)]
        seeds: Option<u64>,
    },
    /// Replay a recorded lag trace through the emulator; one JSON line per evaluation.
    Plan {
        #[arg(long)]
        scaled_object: PathBuf,
        /// JSON lines: {"t": seconds, "partitions": [{"end": N, "committed": N|null}, ...]}.
        #[arg(long)]
        trace: PathBuf,
        /// Replicas at t=0.
        #[arg(long, default_value_t = 1)]
        replicas: u32,
        /// Evaluate up to this many seconds (default: the last sample's t).
        #[arg(long)]
        until: Option<f64>,
    },
    /// Check the manifests: strict custom resources and the cross-checks no tool does.
    CheckManifests {
        /// YAML files (for example the output of `kubectl kustomize k8s`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The Dockerfile whose targets the images must match.
        #[arg(long, default_value = "Dockerfile")]
        dockerfile: PathBuf,
    },
    /// Show a group's lag per partition and what KEDA would decide from it.
    Lag {
        #[arg(long)]
        brokers: String,
        #[arg(long)]
        group: String,
        #[arg(long)]
        topic: String,
        /// The ScaledObject whose trigger settings to apply (default: the repository's).
        #[arg(long)]
        scaled_object: Option<PathBuf>,
        /// Repeat every S seconds until Ctrl-C.
        #[arg(long)]
        watch: Option<u64>,
    },
}
