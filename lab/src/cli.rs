//! Command-line arguments of `lab`.

use clap::{Parser, Subcommand};

use crate::commands::{
    ArchiveArgs, CheckArgs, DoctorArgs, LagArgs, PlanArgs, RecordArgs, ReplayArgs, ReportArgs,
    SimulateArgs, TuneArgs,
};

/// The versions the emulator follows, for `lab --help` (k8s/versions.env).
fn about() -> String {
    let p = lab_model::pins::pins();
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

/// One variant per subcommand, each with its arguments' own struct (in its module of
/// [`crate::commands`]).
#[derive(Debug, Subcommand)]
pub enum Command {
    Replay(ReplayArgs),
    Simulate(SimulateArgs),
    Plan(PlanArgs),
    Report(ReportArgs),
    CheckManifests(CheckArgs),
    Lag(LagArgs),
    Tune(TuneArgs),
    Record(RecordArgs),
    Doctor(DoctorArgs),
    Archive(ArchiveArgs),
}

impl Command {
    pub fn run(self) -> anyhow::Result<()> {
        use crate::commands;
        match self {
            Command::Replay(args) => commands::replay(args),
            Command::Simulate(args) => commands::simulate(args),
            Command::Plan(args) => commands::plan(args),
            Command::Report(args) => commands::report(args),
            Command::CheckManifests(args) => commands::check_manifests(args),
            Command::Lag(args) => commands::lag(args),
            Command::Tune(args) => commands::tune(args),
            Command::Record(args) => commands::record(args),
            Command::Doctor(args) => commands::doctor(args),
            Command::Archive(args) => commands::archive(args),
        }
    }
}
