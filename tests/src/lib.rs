//! Test harness: real brokers, real binaries, random names.
//!
//! - [`MockBroker`]: librdkafka's mock cluster on a thread of its own (it must stay on
//!   the thread that created it), real TCP on a loopback port; topics are created through
//!   its own API and brokers can be taken down and up.
//! - [`Tansu`]: the Kafka-compatible broker as a child process (installed by
//!   `scripts/install-tansu`), one per test process, killed when the process exits.
//! - [`App`]: a built binary (`kafka-producer-callback`, `kafka-consumer`) started with
//!   JSON logs on `127.0.0.1:0`; its address is read from its "listening" log line.
//! - [`read_events`]: reads a topic back with a fresh client.
//! - [`apiserver`]: a Kubernetes API stand-in (discovery, lists, gets, watches, the
//!   external metrics API, Status errors) for the code that reads a cluster.
//! - [`front`]: a TLS and SASL front for a plaintext broker (the security tests), with
//!   [`sasl`] and [`scram`] for its logins.
//!
//! Every test uses its own topic and group ([`unique`]), so tests never see each other.

pub mod apiserver;
pub mod app;
pub mod brokers;
pub mod front;
pub mod group;
pub mod sasl;
pub mod scram;
pub mod topic;

pub use app::{assignment, echo_logs, start_consumer, App, Binary};
pub use brokers::{free_port, MockBroker, Tansu};
pub use topic::{per_partition, read_events, Record};

/// A name no other test uses: `prefix-<random>`.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `timeout` saying
/// what was awaited.
pub fn wait_for<T>(
    what: &str,
    timeout: std::time::Duration,
    check: impl FnMut() -> Option<T>,
) -> T {
    try_wait_for(what, std::time::Duration::from_millis(50), timeout, check)
        .unwrap_or_else(|err| panic!("{err}"))
}

/// Polls `check` every `every` until it returns `Some`; after `timeout`, an error saying
/// what was awaited.
pub fn try_wait_for<T>(
    what: &str,
    every: std::time::Duration,
    timeout: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Ok(value);
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}"));
        }
        std::thread::sleep(every);
    }
}
