//! Figure 7, scale-out: what each added replica buys. `replicas` consumer processes join
//! one fresh group on an empty 10-partition topic; once they have split the partitions,
//! the topic is filled with events that take `processing.time` each (work per event is
//! what makes lag, and what KEDA's scale-out shares out). Timed on the replicas' own
//! clocks from the group's first record to its last.
//!
//! Joining first keeps rebalances out of the timing: replicas started together on a full
//! topic do not always make the group's first generation, and a late member moves
//! partitions mid-drain (the mock cluster takes seconds over a rebalance).

use std::time::Duration;

use anyhow::{ensure, Context};
use harness::{App, Binary};

use crate::broker::Broker;
use crate::events;
use crate::figures::{consumer_env, start};
use crate::scrape::{poll_until, stat};
use crate::Options;

/// Replica counts measured: the published run's 1 and 3, and the steps between.
pub const REPLICAS: [usize; 4] = [1, 2, 3, 5];

/// One drain by a group of replicas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaling {
    pub replicas: usize,
    /// `processing.time` of every replica, ms.
    pub processing_ms: u64,
    pub events: u64,
    /// From the group's first record processed to its last, s.
    pub seconds: f64,
    /// Records processed more than once (a member that joined late moved partitions).
    pub repeated: u64,
}

/// Starts `replicas` consumers in one fresh group on the empty `topic`, fills it with
/// `count` events once they have split its partitions, and waits until they processed all.
pub fn project(
    options: &Options,
    broker: &Broker,
    topic: &str,
    replicas: usize,
    processing_ms: u64,
    count: u64,
) -> anyhow::Result<Scaling> {
    // One environment, so one group, for every replica.
    let mut env = consumer_env(broker, topic, "bench-scale");
    for (key, value) in &mut env {
        if *key == "processing.time" {
            *value = processing_ms.to_string();
        }
    }
    let consumers: Vec<App> = (1..=replicas)
        .map(|i| start(options, Binary::Consumer, &format!("consumer-{i}"), &env))
        .collect();
    let members: Vec<&App> = consumers.iter().collect();
    harness::group::wait_for_split(&members, Duration::from_secs(60));
    events::prefill(broker.bootstrap(), topic, count)?;
    let processed = || -> u64 {
        consumers
            .iter()
            .map(|c| stat(c, "consumed").unwrap_or(0))
            .sum()
    };
    let timeout = Duration::from_secs(60) + Duration::from_millis(processing_ms * count);
    poll_until(
        &format!("{count} records processed by {replicas} replicas"),
        Duration::from_millis(50),
        timeout,
        || processed() >= count,
    )?;
    let total = processed();
    let times = |field: &str| -> anyhow::Result<Vec<u64>> {
        consumers
            .iter()
            .filter(|c| stat(c, "consumed").unwrap_or(0) > 0)
            .map(|c| stat(c, field).with_context(|| format!("{}: no {field}", c.name)))
            .collect()
    };
    let first = times("first_processed_at_us")?.into_iter().min();
    let last = times("last_processed_at_us")?.into_iter().max();
    let (Some(first), Some(last)) = (first, last) else {
        anyhow::bail!("no replica reported its processing times");
    };
    ensure!(last >= first, "last record before the first");
    for mut consumer in consumers {
        consumer.terminate(Duration::from_secs(30));
    }
    Ok(Scaling {
        replicas,
        processing_ms,
        events: count,
        seconds: (last - first) as f64 / 1e6,
        repeated: total - count,
    })
}
