//! What this replica knows about its consumer group: assignment, readiness, lag, and the
//! offsets processed but not stored yet.
//!
//! [`GroupContext`] is the librdkafka context of the consumer. Its rebalance callbacks
//! keep the current assignment (cooperative-sticky rebalances add and remove partitions
//! incrementally), log every change, count rebalances, and mark the replica ready once it
//! has joined the group; before partitions are revoked it stores what was processed of
//! them, so that the commit on revoke hands the next owner no event twice that this
//! replica already processed. Its statistics callback turns librdkafka's per-partition
//! `consumer_lag` into the `consumer_lag{topic,partition}` gauge, for assigned
//! partitions only (librdkafka also reports partition -1 and partitions just revoked).
//! Its error callback keeps a TLS or SASL problem (a refused password, TLS spoken to a
//! plaintext port) in the readiness reason, naming the setting to check.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::http::Readiness;
use common::kafka::security::{self, SecurityAlarm};
use common::telemetry::Throttle;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::{ClientContext, Offset, Statistics, TopicPartitionList};

/// A topic and partition.
pub type Partition = (String, i32);

/// The assignment, shared with `GET /stats`.
pub type Assignment = Arc<Mutex<BTreeSet<Partition>>>;

pub struct GroupContext {
    group_id: String,
    readiness: Arc<Readiness>,
    assignment: Assignment,
    /// Per partition, the highest offset processed and not stored yet.
    processed: Mutex<Vec<(String, i32, i64)>>,
    errors: Throttle,
    /// A TLS or SASL problem: the replica stays not ready, with the setting to check.
    security: SecurityAlarm,
    /// Partitions paused whenever they are assigned (a poison record at their head).
    stuck: Vec<i32>,
}

impl GroupContext {
    pub fn new(group_id: String, readiness: Arc<Readiness>) -> Self {
        Self {
            group_id,
            readiness,
            assignment: Arc::default(),
            processed: Mutex::new(Vec::new()),
            errors: Throttle::new(Duration::from_secs(10)),
            security: SecurityAlarm::default(),
            stuck: Vec::new(),
        }
    }

    /// The same context, pausing `partitions` whenever they are assigned.
    pub fn with_stuck(mut self, partitions: Vec<i32>) -> Self {
        self.stuck = partitions;
        self
    }

    /// Whether `partition` is one this replica never reads past the head of.
    pub fn is_stuck(&self, partition: i32) -> bool {
        self.stuck.contains(&partition)
    }

    /// Pauses the stuck partitions among those just assigned.
    fn pause_stuck(&self, consumer: &BaseConsumer<Self>, assigned: &TopicPartitionList) {
        let stuck: Vec<Partition> = assigned
            .elements()
            .iter()
            .filter(|e| self.is_stuck(e.partition()))
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        if stuck.is_empty() {
            return;
        }
        match pause(consumer, &stuck) {
            Ok(()) => tracing::warn!(
                partitions = %render(&stuck),
                "stuck partitions paused: this replica will not get past their head"
            ),
            Err(err) => tracing::error!(error = %err, "cannot pause the stuck partitions"),
        }
    }

    /// Leaves a record of a stuck partition unprocessed and pauses its partition again.
    ///
    /// A pause issued in the rebalance callback, right after the assignment, can lose the
    /// race with the fetch the assignment starts (confluentinc/librdkafka#2190: the pause
    /// bumps the partition's op version before the assignment's fetch-start arrives), so
    /// records may still come. They are not processed and their offsets are not stored:
    /// the committed offset stays at the partition's head, as behind a poison record.
    pub fn hold_stuck(&self, consumer: &BaseConsumer<Self>, topic: &str, partition: i32) {
        let stuck = [(topic.to_owned(), partition)];
        match pause(consumer, &stuck) {
            Ok(()) => tracing::debug!(
                partition = %render(&stuck),
                "a stuck partition's record came after its pause: left unread, paused again"
            ),
            Err(err) => self.warn_throttled("cannot pause a stuck partition", &err),
        }
    }

    /// The partitions currently assigned to this replica.
    pub fn assignment(&self) -> BTreeSet<Partition> {
        self.assignment
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A handle on the assignment that stays current.
    pub fn assignment_handle(&self) -> Assignment {
        self.assignment.clone()
    }

    /// Marks `offset` of a partition processed (stored by [`Self::store_processed`]).
    pub fn processed(&self, topic: &str, partition: i32, offset: i64) {
        let mut pending = self.processed.lock().unwrap_or_else(|e| e.into_inner());
        match pending
            .iter_mut()
            .find(|(t, p, _)| *p == partition && t == topic)
        {
            Some(entry) => entry.2 = entry.2.max(offset),
            None => pending.push((topic.to_owned(), partition, offset)),
        }
    }

    /// Stores every processed offset (the next one to read, as Kafka wants it) in one call.
    pub fn store_processed(&self, consumer: &BaseConsumer<Self>) {
        let pending =
            std::mem::take(&mut *self.processed.lock().unwrap_or_else(|e| e.into_inner()));
        if pending.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::with_capacity(pending.len());
        for (topic, partition, offset) in &pending {
            if let Err(err) =
                tpl.add_partition_offset(topic, *partition, Offset::Offset(offset + 1))
            {
                self.warn_throttled("cannot store an offset", &err);
            }
        }
        if let Err(err) = consumer.store_offsets(&tpl) {
            // A partition revoked meanwhile: its new owner reads it again (at-least-once).
            self.warn_throttled("cannot store the processed offsets", &err);
        }
    }

    fn update(&self, tpl: &TopicPartitionList, assign: bool) {
        let changed: Vec<Partition> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        let mut assignment = self.assignment.lock().unwrap_or_else(|e| e.into_inner());
        for p in &changed {
            if assign {
                assignment.insert(p.clone());
            } else {
                assignment.remove(p);
            }
        }
        metrics::gauge!("consumer_assigned_partitions").set(assignment.len() as f64);
        metrics::counter!("consumer_rebalances_total", "kind" => if assign { "assign" } else { "revoke" }).increment(1);
        tracing::info!(
            group = %self.group_id,
            kind = if assign { "assigned" } else { "revoked" },
            changed = %render(&changed),
            assignment = %render(assignment.iter()),
            "assignment changed"
        );
    }

    /// Warns about an error at most once per 10 s.
    pub fn warn_throttled(&self, what: &str, error: &dyn std::fmt::Display) {
        if let Some(suppressed) = self.errors.allow() {
            tracing::warn!(error = %error, suppressed, "{what}");
        }
    }
}

/// Pauses fetching from `partitions`.
fn pause<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    partitions: &[Partition],
) -> KafkaResult<()> {
    let mut tpl = TopicPartitionList::new();
    for (topic, partition) in partitions {
        tpl.add_partition(topic, *partition);
    }
    consumer.pause(&tpl)
}

/// `event[0,3,7]` style rendering of a set of partitions.
fn render<'a>(partitions: impl IntoIterator<Item = &'a Partition>) -> String {
    let mut out = String::new();
    let mut current: Option<&str> = None;
    for (topic, partition) in partitions {
        if current != Some(topic.as_str()) {
            if current.is_some() {
                out.push_str("] ");
            }
            out.push_str(topic);
            out.push('[');
            current = Some(topic);
        } else {
            out.push(',');
        }
        out.push_str(&partition.to_string());
    }
    if current.is_some() {
        out.push(']');
    } else {
        out.push_str("(none)");
    }
    out
}

impl ClientContext for GroupContext {
    fn stats(&self, statistics: Statistics) {
        let assignment = self.assignment();
        metrics::gauge!("consumer_assigned_partitions").set(assignment.len() as f64);
        for (topic, stats) in &statistics.topics {
            for (&partition, p) in &stats.partitions {
                // -1 is librdkafka's internal "unassigned" partition; revoked partitions
                // linger in the statistics for a while; lag -1 means "not known yet".
                if partition < 0
                    || p.consumer_lag < 0
                    || !assignment.contains(&(topic.clone(), partition))
                {
                    continue;
                }
                metrics::gauge!("consumer_lag", "topic" => topic.clone(), "partition" => partition.to_string())
                    .set(p.consumer_lag as f64);
            }
        }
    }

    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if let Some(problem) = self.security.observe_log(facility, message) {
            self.readiness.set_not_ready(problem);
        }
        security::forward_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        match self.security.observe(&error, reason) {
            Some(problem) => {
                self.readiness.set_not_ready(problem);
            }
            None => self.warn_throttled("kafka client error", &format!("{error}: {reason}")),
        }
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            // Store what was processed while the partitions are still ours: librdkafka
            // commits them on the way out.
            self.store_processed(consumer);
            self.update(tpl, false);
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                self.update(tpl, true);
                self.pause_stuck(consumer, tpl);
                self.security.clear();
                if !self.readiness.is_ready() {
                    tracing::info!(group = %self.group_id, "joined the group: ready");
                    self.readiness.set_ready();
                }
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(err) => tracing::warn!(error = %err, "rebalance failed"),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        match result {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(err) => self.warn_throttled("offset commit failed", &err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_partitions_compactly() {
        let set: BTreeSet<Partition> = [
            ("event".into(), 3),
            ("event".into(), 0),
            ("audit".into(), 1),
        ]
        .into();
        assert_eq!(render(&set), "audit[1] event[0,3]");
        assert_eq!(render(&BTreeSet::new()), "(none)");
    }
}
