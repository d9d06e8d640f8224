//! Command-line arguments of `lab`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// The versions the emulator follows, for `lab --help` (k8s/versions.env).
fn about() -> String {
    let p = crate::pins::pins();
    format!(
        "Replay and explain \"KEDA scales Kafka consumers by lag\" on one machine.\n\n\
         The emulator follows KEDA {} (pkg/scalers/kafka_scaler.go, pkg/scaling/executor) and the \
         Kubernetes {} HPA controller (pkg/controller/podautoscaler), the versions the Kubernetes \
         guide pins; check-manifests checks Kafka versions against Strimzi {}.",
        p.keda, p.kubernetes_max, p.strimzi
    )
}

#[derive(Debug, Parser)]
#[command(name = "lab", version, about = about())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LagFormat {
    /// A table per reading, and what KEDA and the HPA make of it.
    Table,
    /// One trace line per reading (the format `lab plan` takes), on stdout.
    Json,
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
        /// JSON lines: {"t": seconds, "partitions": [{"partition": id, "end": N, "committed": N|null}, ...]}.
        #[arg(long)]
        trace: PathBuf,
        /// Replicas at t=0.
        #[arg(long, default_value_t = 1)]
        replicas: u32,
        /// Evaluate up to this many seconds (default: the last sample's t).
        #[arg(long)]
        until: Option<f64>,
    },
    /// Render chart and summary from a timeline.csv (a replay's, or one recorded on a cluster).
    Report {
        /// The timeline (decisions.csv beside it is read too, if present).
        timeline: PathBuf,
        /// The scenario whose phases and published counts to compare with (published,
        /// original, or a file); default: the phases as the timeline names them.
        #[arg(long)]
        scenario: Option<String>,
        /// The ScaledObject the run used (default: the scenario's).
        #[arg(long)]
        scaled_object: Option<PathBuf>,
        /// Where chart and summary go (default: beside the timeline).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check the manifests: KEDA's rules, strict custom resources, and what a cluster enforces that schema validators miss.
    CheckManifests {
        /// YAML files (for example the output of `kubectl kustomize k8s`).
        #[arg(required_unless_present = "rules")]
        files: Vec<PathBuf>,
        /// The Dockerfile whose targets the images must match.
        #[arg(long, default_value = "Dockerfile")]
        dockerfile: PathBuf,
        /// The namespace keda-operator runs in (it resolves trigger hosts from there).
        #[arg(long, default_value = "keda")]
        keda_namespace: String,
        /// The Strimzi release whose supported Kafka versions apply (default: the pinned one).
        #[arg(long)]
        strimzi: Option<String>,
        /// Directory of the kustomization that rendered FILES with
        /// `buildMetadata: [originAnnotations]` (origin paths are relative to it; default:
        /// each file's directory).
        #[arg(long)]
        origin_base: Option<PathBuf>,
        /// Print every rule with its upstream source and exit.
        #[arg(long)]
        rules: bool,
    },
    /// Show a group's lag per partition and what KEDA would decide from it.
    ///
    /// TLS and SASL come from the environment, as for the producer and the consumer:
    /// KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME,
    /// KAFKA_SASL_PASSWORD, KAFKA_SSL_CA_LOCATION (or their dotted names).
    Lag {
        /// Bootstrap brokers, host:port. On Kubernetes, run it inside the cluster
        /// (scripts/cluster-lag): Strimzi's brokers advertise in-cluster pod names, which
        /// a laptop cannot resolve, so a `kubectl port-forward` does not work.
        #[arg(long)]
        brokers: String,
        /// The consumer group.
        #[arg(long)]
        group: String,
        /// The topic it reads.
        #[arg(long)]
        topic: String,
        /// The ScaledObject whose trigger settings to apply (default: the repository's, compiled in).
        #[arg(long)]
        scaled_object: Option<PathBuf>,
        /// The workload's replica count now (for the HPA's tolerance).
        #[arg(long, default_value_t = 1)]
        replicas: u32,
        /// Repeat every S seconds until Ctrl-C.
        #[arg(long)]
        watch: Option<u64>,
        /// Also append every reading to FILE as a trace line (the format `lab plan` takes).
        #[arg(long)]
        record: Option<PathBuf>,
        /// A table for people, or trace lines for `lab plan`.
        #[arg(long, value_enum, default_value = "table")]
        format: LagFormat,
    },
}
