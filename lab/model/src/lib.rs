//! The lab's model: everything the lab knows about KEDA, the HPA and the workload, with no
//! I/O runtime and no Kafka client, so it compiles and tests in seconds.
//!
//! - [`keda`]: the ScaledObject, read and checked with KEDA's own rules.
//! - [`emulator`]: KEDA's Kafka scaler, KEDA's loop and the HPA, pure and deterministic.
//! - [`rules`]: every rule the lab applies, with its upstream source; [`pins`]: the
//!   versions followed (k8s/versions.env).
//! - [`scenario`]: the phases of a run and the consumer's settings.
//! - [`trace`]: a recorded group's lag, one line per sample; [`timeline`]: what a run
//!   records (a sample a second, every decision), as CSV, and each phase's outcome.
//! - [`advice`]: settings KEDA accepts that users regret.
//! - [`inputs`]: what each trigger beyond the first Kafka trigger reads, from a phase or
//!   a trace sample.
//! - [`run`]: the one run loop; [`simulate`] drives it with a model of the workload (the
//!   replay, in its own crate, drives it with the real binaries).
//! - [`plan`]: a recorded trace through the emulator, decision by decision.
//! - [`tune`]: the ScaledObject a workload should have, found by simulating candidates.
//! - [`markdown`]: the tables every report writes; [`line`]: errors on one line.

pub mod advice;
pub mod emulator;
pub mod inputs;
pub mod keda;
pub mod line;
pub mod markdown;
pub mod pins;
pub mod plan;
pub mod rules;
pub mod run;
pub mod scenario;
pub mod simulate;
pub mod timeline;
pub mod trace;
pub mod tune;
