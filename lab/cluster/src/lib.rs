//! The lab on a real cluster: `lab record` and `lab doctor`, on the Kubernetes API (kube-rs,
//! k8s-openapi at 1.35) and the brokers. The Kubernetes client lives in this crate alone.
//!
//! - [`api`]: the one seam to the API server: typed reads, watches, the external metrics
//!   API as the HPA requests it; every failure a [`error::ReadError`] naming what was asked.
//! - [`objects`]: what is read of each object (conditions, `health`, the HPA's status).
//! - [`subject`]: the ScaledObject a command is about, read with KEDA's rules, its target,
//!   HPA, metric, and where its trigger reads lag.
//! - [`live`]: the objects a recording follows, kept current by watches.
//! - [`record`]: `lab record`, a row a second into `timeline.csv`, `trace.jsonl`,
//!   `events.jsonl`.
//! - [`doctor`]: `lab doctor`, why it is at N and what happens next, by the emulator's rules.

pub mod api;
pub mod doctor;
pub mod error;
pub mod live;
pub mod objects;
pub mod record;
pub mod subject;

pub use api::Cluster;
pub use error::ReadError;
