//! Figure 1, consumer drain: one consumer (processing 0) in a fresh group reads a
//! pre-filled 10-partition topic to the end; timed from its first record to its last.

use std::time::{Duration, Instant};

use anyhow::Context;
use harness::Binary;

use crate::broker::Broker;
use crate::figures::{consumer_env, start};
use crate::process::resident;
use crate::scrape::{poll_until, stat};
use crate::Options;

/// What one drain run measured.
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    /// From process start to the first record processed, s (includes the group join).
    pub join: f64,
    /// From the first record to the last, s.
    pub drain: f64,
    /// Peak resident memory, bytes.
    pub peak_rss: u64,
}

/// How often the consumer's counter is read while it drains.
const POLL: Duration = Duration::from_millis(5);

/// Runs `kafka-consumer` until it has processed `count` records of `topic`.
pub fn project(
    options: &Options,
    broker: &Broker,
    topic: &str,
    count: u64,
) -> anyhow::Result<Drain> {
    let started = Instant::now();
    let mut consumer = start(
        options,
        Binary::Consumer,
        "consumer",
        &consumer_env(broker, topic, "bench-drain"),
    );
    let first = poll_until("the first record", POLL, Duration::from_secs(120), || {
        stat(&consumer, "consumed").is_some_and(|n| n >= 1)
    })?;
    let last = poll_until(
        &format!("{count} records consumed"),
        POLL,
        Duration::from_secs(300),
        || stat(&consumer, "consumed").is_some_and(|n| n >= count),
    )?;
    let (_, peak_rss) = resident(consumer.pid().as_raw() as u32).context("consumer memory")?;
    consumer.terminate(Duration::from_secs(30));
    Ok(Drain {
        join: (first - started).as_secs_f64(),
        drain: (last - first).as_secs_f64(),
        peak_rss,
    })
}
