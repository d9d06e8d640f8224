//! The `lab` command: the command line, each subcommand, and the reports and charts it
//! writes. What it runs lives in the crates beside it:
//!
//! - `lab_model` (lab/model): KEDA's rules, the emulator, scenarios, traces, timelines,
//!   simulation, plan and tune; pure, no I/O runtime, no Kafka client.
//! - `lab_manifests` (lab/manifests): `check-manifests`.
//! - `lab_kafka` (lab/kafka): the embedded broker and a group's offsets and lag.
//! - `lab_replay` (lab/replay): the replay with the real binaries, and its accounting.
//!
//! Here: [`cli`] and [`commands`] (one module per subcommand), [`report`] (chart and
//! summary of a timeline), [`progress`] and [`live`] (what a long command shows while it
//! runs) and [`telemetry`].

pub mod cli;
pub mod commands;
pub mod live;
pub mod progress;
pub mod report;
pub mod telemetry;
