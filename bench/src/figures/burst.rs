//! Figure 2, producer burst: `POST /burst` of N events to a 10-partition topic, timed by
//! the producer itself from the first send to the last acknowledgement.

use std::time::Duration;

use anyhow::{ensure, Context};
use harness::Binary;
use serde_json::json;

use crate::broker::Broker;
use crate::figures::{producer_env, start};
use crate::process::resident;
use crate::scrape::{poll_until, stat};
use crate::Options;

/// What one burst run measured.
#[derive(Debug, Clone, Copy)]
pub struct Burst {
    /// From the first send to the last delivery report, s (the producer's own clock).
    pub seconds: f64,
    /// Peak resident memory, bytes.
    pub peak_rss: u64,
}

/// Runs `kafka-producer-callback` (ticks every hour, so only the burst moves) and bursts.
pub fn project(
    options: &Options,
    broker: &Broker,
    topic: &str,
    count: u64,
) -> anyhow::Result<Burst> {
    let mut producer = start(
        options,
        Binary::Producer,
        "producer",
        &[
            producer_env(broker, topic),
            vec![("kafka.time.period", "3600000".into())],
        ]
        .concat(),
    );
    poll_until(
        "the producer's first delivery",
        Duration::from_millis(10),
        Duration::from_secs(60),
        || stat(&producer, "delivered").is_some_and(|n| n >= 1),
    )?;
    let (status, body) = producer.send_json("POST", "/burst", &json!({ "count": count }));
    ensure!(status == 202, "POST /burst answered {status}: {body}");
    let finished = producer.wait_for_log("burst finished", Duration::from_secs(300));
    let seconds = finished["seconds"]
        .as_f64()
        .context("the burst summary has no seconds")?;
    let sent = finished["sent"].as_u64().unwrap_or(0);
    let failed = stat(&producer, "failed").unwrap_or(u64::MAX);
    ensure!(
        sent == count && failed == 0,
        "the burst sent {sent} of {count}, {failed} failed"
    );
    let (_, peak_rss) = resident(producer.pid().as_raw() as u32).context("producer memory")?;
    producer.terminate(Duration::from_secs(30));
    Ok(Burst { seconds, peak_rss })
}
