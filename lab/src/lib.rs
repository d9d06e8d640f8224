//! The lab: replay the experiment "KEDA scales Kafka consumers by lag" on one machine.
//!
//! - [`keda`]: the ScaledObject, read and checked with KEDA's own rules.
//! - [`emulator`]: KEDA's Kafka scaler, KEDA's loop and the HPA, pure and deterministic.
//! - [`run`]: the one run loop; [`simulate`] drives it with a model of the workload,
//!   [`replay`] with the real producer and consumers on a broker.
//! - [`scenario`]: the phases of a run and the consumer's settings.
//! - [`timeline`]: what a run records (a sample a second, every decision), as CSV;
//!   [`accounting`]: every event of a replay, produced, processed, lost or twice.
//! - [`report`]: chart and summary of a timeline.
//! - [`tune`]: the ScaledObject a workload should have, found by simulating candidates.
//! - [`offsets`]: a group's end and committed offsets, read from a broker as KEDA does.
//! - [`plan`] and [`lag_table`]: a recorded trace through the emulator; a live group's
//!   lag and what KEDA and the HPA make of it.
//! - [`manifests`]: `check-manifests`, what a cluster enforces that validators miss;
//!   [`advice`]: settings KEDA accepts that users regret.
//! - [`pins`]: the versions followed (k8s/versions.env).

pub mod accounting;
pub mod advice;
pub mod cli;
pub mod commands;
pub mod emulator;
pub mod keda;
pub mod lag_table;
pub mod manifests;
pub mod offsets;
pub mod pins;
pub mod plan;
pub mod replay;
pub mod report;
pub mod rules;
pub mod run;
pub mod scenario;
pub mod simulate;
pub mod telemetry;
pub mod timeline;
pub mod trace;
pub mod tune;
