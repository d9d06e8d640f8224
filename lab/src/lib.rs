//! The lab: replay the experiment "KEDA scales Kafka consumers by lag" on one machine.
//!
//! - [`emulator`]: KEDA's Kafka scaler, KEDA's loop and the HPA, pure and deterministic.
//! - [`scaled_object`]: reads the ScaledObject manifest the emulator runs.

pub mod emulator;
pub mod scaled_object;
