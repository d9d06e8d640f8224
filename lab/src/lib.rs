//! The lab: replay the experiment "KEDA scales Kafka consumers by lag" on one machine.
//!
//! - [`emulator`]: KEDA's Kafka scaler, KEDA's loop and the HPA, pure and deterministic.
//! - [`scaled_object`]: reads the ScaledObject manifest the emulator runs.
//! - [`scenario`]: the phases of a run and the consumer's settings.
//! - [`simulate`]: a scenario in virtual time with a model of the workload.
//! - [`report`]: timeline, chart and summary of a run.

pub mod cli;
pub mod commands;
pub mod emulator;
pub mod lag;
pub mod manifests;
pub mod plan;
pub mod replay;
pub mod report;
pub mod scaled_object;
pub mod scenario;
pub mod simulate;
pub mod telemetry;
