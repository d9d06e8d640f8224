//! The workload's rules: what the producer does that the lab's model must do the same way.
//! No I/O and no Kafka client, so the producer follows these rules and `lab simulate`
//! replays them without linking one.
//!
//! - [`shape`]: which partition each event goes to (librdkafka's key partitioner, or a
//!   shaped load: a hot partition, silent partitions).
//! - [`DELIVERY_TIMEOUT`]: how long a send may wait for the broker before the event is
//!   lost.

pub mod shape;

use std::time::Duration;

/// The producer's `message.timeout.ms`: an event the broker has not acknowledged this
/// long after it was sent fails, and is counted as undelivered. A broker outage longer
/// than this loses events; a shorter one only delays them.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);
