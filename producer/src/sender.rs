//! Sending events and accounting for their deliveries.
//!
//! [`Sender::try_send`] only enqueues a record in librdkafka and returns at once. The
//! delivery report comes back through librdkafka's delivery callback
//! ([`DeliveryCallback`], the "callback" of the published demo), on the client's polling
//! thread: it logs partition and offset, counts the outcome, writes the ledger and keeps
//! readiness in step (the last delivery failed -> not ready). Every event is counted
//! exactly once as delivered or failed, or reported as undelivered at shutdown.
//!
//! The record carries its sequence number and how loudly to report it as the callback's
//! opaque value, so a send allocates nothing beyond the payload: a burst of 200000 takes
//! well under a second.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::event::Encoder;
use common::http::Readiness;
use common::kafka::security::{self, SecurityAlarm};
use common::ledger::{Entry, Ledger};
use common::telemetry::Throttle;
use metrics::Counter;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Partitioner, ProducerContext, ThreadedProducer,
};
use rdkafka::{ClientConfig, ClientContext};
use serde::Serialize;
use tokio::sync::Notify;
use workload::shape::Shape;

/// Counts of what the producer sent, as `GET /stats` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// Events handed to the client.
    pub sent: u64,
    /// Events the broker acknowledged.
    pub delivered: u64,
    /// Events that could not be sent or were not acknowledged in `message.timeout.ms`.
    pub failed: u64,
    /// Events sent whose delivery is still open (at shutdown: never settled).
    pub in_flight: u64,
    /// The sequence number the next event will get.
    pub next_seq: u64,
}

/// How loudly to report one delivery: ticks log each one, bursts only their summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    EachEvent,
    Quiet,
}

/// The producer's client: librdkafka with [`DeliveryCallback`], polled on its own thread,
/// and the [`ShapedPartitioner`] when the load is shaped.
pub type Client = ThreadedProducer<DeliveryCallback, ShapedPartitioner>;

/// A shaped load's partitioner ([`Shape::partition`]), called by librdkafka with the
/// topic's partition count; an unshaped producer leaves partitioning to librdkafka's
/// own partitioner, which puts every event where [`Shape::partition`] says too.
pub struct ShapedPartitioner(Shape);

impl Partitioner for ShapedPartitioner {
    fn partition(
        &self,
        _topic: &str,
        key: Option<&[u8]>,
        partition_cnt: i32,
        _is_partition_available: impl Fn(i32) -> bool,
    ) -> i32 {
        // Every event's key is its sequence number in decimal.
        let seq = key
            .and_then(|k| std::str::from_utf8(k).ok())
            .and_then(|k| k.parse::<u64>().ok())
            .unwrap_or(0);
        self.0.partition(seq, partition_cnt.max(1) as u32) as i32
    }
}

/// The top bit of the delivery opaque marks a quiet (burst) event; the rest is `seq`.
const QUIET_BIT: usize = 1 << (usize::BITS - 1);
const _: () = assert!(usize::BITS == 64, "sequence numbers travel in a usize");

fn opaque(seq: u64, verbosity: Verbosity) -> usize {
    match verbosity {
        Verbosity::EachEvent => seq as usize,
        Verbosity::Quiet => seq as usize | QUIET_BIT,
    }
}

fn from_opaque(opaque: usize) -> (u64, Verbosity) {
    let verbosity = if opaque & QUIET_BIT == 0 {
        Verbosity::EachEvent
    } else {
        Verbosity::Quiet
    };
    ((opaque & !QUIET_BIT) as u64, verbosity)
}

/// Everything a delivery report updates, shared by the sender and the callback.
struct Accounts {
    source: String,
    sent: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    last_failed: AtomicBool,
    /// Quiet (burst) events sent and not yet settled, and a wake-up when none are left.
    quiet_open: AtomicU64,
    quiet_settled: Notify,
    ledger: Ledger,
    readiness: Arc<Readiness>,
    /// A TLS or SASL problem the client reported, named for readiness and the log.
    security: SecurityAlarm,
    /// Other client errors, logged at most once per 10 s.
    errors: Throttle,
    /// `events_produced_total` by outcome, looked up once.
    delivered_meter: Counter,
    failed_meter: Counter,
}

impl Accounts {
    fn delivered(&self, seq: u64, partition: i32, offset: i64, verbosity: Verbosity) {
        self.delivered.fetch_add(1, Ordering::SeqCst);
        self.delivered_meter.increment(1);
        if self.last_failed.swap(false, Ordering::SeqCst) {
            tracing::info!(seq, "deliveries succeed again");
        }
        if verbosity == Verbosity::EachEvent {
            tracing::info!(seq, partition, offset, "delivered");
        }
        if self.ledger.is_enabled() {
            let entry = Entry {
                source: self.source.clone(),
                seq,
                partition,
                offset,
                by: self.source.clone(),
                at: 0,
                time: None,
            };
            if let Err(err) = self.ledger.record(&entry) {
                tracing::error!(seq, error = %err, "cannot write the ledger");
            }
        }
    }

    fn failed(&self, seq: u64, error: &str) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        self.failed_meter.increment(1);
        tracing::warn!(seq, error, "delivery failed");
        self.last_failed.store(true, Ordering::SeqCst);
        self.readiness
            .set_not_ready(format!("the last delivery failed: {error}"));
    }

    fn quiet_closed(&self) {
        if self.quiet_open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.quiet_settled.notify_waiters();
        }
    }
}

/// librdkafka's delivery callback: one call per record, delivered or failed.
pub struct DeliveryCallback {
    accounts: Arc<Accounts>,
    /// `None` when nothing is shaped: librdkafka's partitioner decides.
    partitioner: Option<ShapedPartitioner>,
}

impl ClientContext for DeliveryCallback {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if let Some(problem) = self.accounts.security.observe_log(facility, message) {
            self.accounts.readiness.set_not_ready(problem);
        }
        security::forward_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        match self.accounts.security.observe(&error, reason) {
            Some(problem) => {
                self.accounts.readiness.set_not_ready(problem);
            }
            None => {
                // librdkafka repeats a broker outage on every retry: once per 10 s is enough.
                if let Some(suppressed) = self.accounts.errors.allow() {
                    tracing::warn!(%error, reason, suppressed, "kafka client error");
                }
            }
        }
    }
}

impl ProducerContext<ShapedPartitioner> for DeliveryCallback {
    type DeliveryOpaque = usize;

    fn get_custom_partitioner(&self) -> Option<&ShapedPartitioner> {
        self.partitioner.as_ref()
    }

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: usize) {
        let (seq, verbosity) = from_opaque(opaque);
        match result {
            Ok(message) => {
                self.accounts
                    .delivered(seq, message.partition(), message.offset(), verbosity)
            }
            Err((err, _)) => self.accounts.failed(seq, &err.to_string()),
        }
        if verbosity == Verbosity::Quiet {
            self.accounts.quiet_closed();
        }
    }
}

pub struct Sender {
    producer: Client,
    topic: String,
    next_seq: AtomicU64,
    accounts: Arc<Accounts>,
}

impl Sender {
    /// Creates the client from `config` with the delivery callback attached, spreading
    /// events over the partitions as `shape` says.
    pub fn create(
        config: &ClientConfig,
        topic: String,
        source: String,
        shape: Shape,
        ledger: Ledger,
        readiness: Arc<Readiness>,
    ) -> KafkaResult<Arc<Self>> {
        let accounts = Arc::new(Accounts {
            source,
            sent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            last_failed: AtomicBool::new(false),
            quiet_open: AtomicU64::new(0),
            quiet_settled: Notify::new(),
            ledger,
            readiness,
            security: SecurityAlarm::default(),
            errors: Throttle::new(std::time::Duration::from_secs(10)),
            delivered_meter: metrics::counter!("events_produced_total", "outcome" => "delivered"),
            failed_meter: metrics::counter!("events_produced_total", "outcome" => "failed"),
        });
        let producer = config.create_with_context(DeliveryCallback {
            accounts: accounts.clone(),
            partitioner: (!shape.is_keyed()).then_some(ShapedPartitioner(shape)),
        })?;
        Ok(Arc::new(Self {
            producer,
            topic,
            next_seq: AtomicU64::new(0),
            accounts,
        }))
    }

    /// An encoder for this producer's events (one per sending task).
    pub fn encoder(&self) -> Encoder {
        Encoder::new(&self.accounts.source)
    }

    pub fn producer(&self) -> &Client {
        &self.producer
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The TLS or SASL problem the client last reported, if any, explained.
    pub fn security_problem(&self) -> Option<String> {
        self.accounts.security.current()
    }

    /// The connection works (again): forget the last security problem.
    pub fn security_resolved(&self) {
        self.accounts.security.clear();
    }

    /// The next sequence number.
    pub fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::SeqCst)
    }

    /// Reserves `count` sequence numbers at once (a burst) and returns the first.
    pub fn reserve(&self, count: u64) -> u64 {
        self.next_seq.fetch_add(count, Ordering::SeqCst)
    }

    /// Enqueues event `seq` (made by `encoder`) without waiting; its delivery is
    /// accounted for by the callback. `Err(QueueFull)` leaves the event unsent (the
    /// caller may retry with the same `seq`); any other error has been counted as a
    /// failure.
    pub fn try_send(
        &self,
        seq: u64,
        verbosity: Verbosity,
        encoder: &mut Encoder,
    ) -> Result<(), KafkaError> {
        let event = encoder.encode(seq);
        let record: BaseRecord<'_, str, [u8], usize> =
            BaseRecord::with_opaque_to(&self.topic, opaque(seq, verbosity))
                .key(event.key)
                .payload(event.payload)
                // The record's timestamp is the event's `time`, to the millisecond.
                .timestamp(event.time as i64);
        // Counted before the send: the callback may run before `send` returns.
        let quiet = verbosity == Verbosity::Quiet;
        if quiet {
            self.accounts.quiet_open.fetch_add(1, Ordering::AcqRel);
        }
        self.accounts.sent.fetch_add(1, Ordering::SeqCst);
        match self.producer.send(record) {
            Ok(()) => Ok(()),
            Err((err, _)) => {
                if quiet {
                    self.accounts.quiet_closed();
                }
                if is_queue_full(&err) {
                    self.accounts.sent.fetch_sub(1, Ordering::SeqCst);
                } else {
                    self.accounts.failed(seq, &err.to_string());
                }
                Err(err)
            }
        }
    }

    /// Waits until every quiet (burst) event sent so far has been settled.
    pub async fn quiet_settled(&self) {
        loop {
            let settled = self.accounts.quiet_settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            if self.accounts.quiet_open.load(Ordering::Acquire) == 0 {
                return;
            }
            settled.await;
        }
    }

    /// Counts `event` as sent and failed without retrying (a tick that found the local
    /// queue full).
    pub fn give_up(&self, seq: u64, err: &KafkaError) {
        self.accounts.sent.fetch_add(1, Ordering::SeqCst);
        self.accounts.failed(seq, &err.to_string());
    }

    /// Whether the most recent settled delivery failed.
    pub fn last_delivery_failed(&self) -> bool {
        self.accounts.last_failed.load(Ordering::SeqCst)
    }

    pub fn report(&self) -> DeliveryReport {
        let a = &self.accounts;
        let sent = a.sent.load(Ordering::SeqCst);
        let delivered = a.delivered.load(Ordering::SeqCst);
        let failed = a.failed.load(Ordering::SeqCst);
        DeliveryReport {
            sent,
            delivered,
            failed,
            in_flight: sent.saturating_sub(delivered + failed),
            next_seq: self.next_seq.load(Ordering::SeqCst),
        }
    }
}

pub fn is_queue_full(err: &KafkaError) -> bool {
    matches!(
        err,
        KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opaque_carries_sequence_number_and_verbosity() {
        for seq in [0, 1, 42, u64::MAX >> 1] {
            for verbosity in [Verbosity::EachEvent, Verbosity::Quiet] {
                assert_eq!(from_opaque(opaque(seq, verbosity)), (seq, verbosity));
            }
        }
    }
}
