//! Figure 1, consumer drain: one consumer (processing 0) in a fresh group reads a
//! pre-filled 10-partition topic to the end; timed from its first record to its last.
//!
//! The project's consumer is timed on its own clock, like the references: its `GET /stats`
//! says when it processed its first record and when it stored its last batch. The bench
//! reads it only every [`POLL`], so that reading costs the drain no CPU to speak of.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
const POLL: Duration = Duration::from_millis(50);

/// Runs `kafka-consumer` until it has processed `count` records of `topic`.
pub fn project(
    options: &Options,
    broker: &Broker,
    topic: &str,
    count: u64,
) -> anyhow::Result<Drain> {
    let started = unix_micros(SystemTime::now());
    let mut consumer = start(
        options,
        Binary::Consumer,
        "consumer",
        &consumer_env(broker, topic, "bench-drain"),
    );
    poll_until(
        &format!("{count} records consumed"),
        POLL,
        Duration::from_secs(300),
        || stat(&consumer, "consumed").is_some_and(|n| n >= count),
    )?;
    let first = stat(&consumer, "first_processed_at_us").context("no first record time")?;
    let last = stat(&consumer, "last_processed_at_us").context("no last record time")?;
    let (_, peak_rss) = resident(consumer.pid().as_raw() as u32).context("consumer memory")?;
    consumer.terminate(Duration::from_secs(30));
    Ok(Drain {
        join: first.saturating_sub(started) as f64 / 1e6,
        drain: last.saturating_sub(first) as f64 / 1e6,
        peak_rss,
    })
}

fn unix_micros(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}
