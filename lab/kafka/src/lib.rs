//! The lab's Kafka side, shared by the replay, `lab lag` and the cluster recorder.
//!
//! - [`embedded_broker`]: librdkafka's mock cluster, the replay's and the tests' broker.
//! - [`offsets`]: a group's end and committed offsets, read from a broker as KEDA's
//!   scaler reads them.
//! - [`lag_table`]: a live group's lag per partition and what KEDA and the HPA make of it.

pub mod embedded_broker;
pub mod lag_table;
pub mod offsets;
