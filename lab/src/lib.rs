//! The lab: replay the experiment "KEDA scales Kafka consumers by lag" on one machine.
//!
//! - [`keda`]: the ScaledObject, read and checked with KEDA's own rules.
//! - [`emulator`]: KEDA's Kafka scaler, KEDA's loop and the HPA, pure and deterministic.
//! - [`run`]: the one run loop; [`simulate`] drives it with a model of the workload,
//!   [`replay`] with the real producer and consumers on a broker.
//! - [`scenario`]: the phases of a run and the consumer's settings.
//! - [`report`]: timeline, decisions, chart and summary of a run.
//! - [`plan`] and [`lag`]: a recorded trace through the emulator; a live group's lag.
//! - [`manifests`]: `check-manifests`, what a cluster enforces that validators miss.
//! - [`pins`]: the versions followed (k8s/versions.env).

pub mod cli;
pub mod commands;
pub mod emulator;
pub mod keda;
pub mod lag;
pub mod manifests;
pub mod pins;
pub mod plan;
pub mod replay;
pub mod report;
pub mod run;
pub mod scenario;
pub mod simulate;
pub mod telemetry;
