//! Sending events and settling their deliveries.
//!
//! [`Sender::try_send`] only enqueues a record in librdkafka and returns at once; the
//! returned delivery future is the "callback" of the published demo: [`Sender::settle`]
//! awaits it, logs partition and offset, counts the outcome, writes the ledger and keeps
//! readiness in step (the last delivery failed -> not ready). Every event is counted
//! exactly once as delivered or failed, or reported as undelivered at shutdown.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use common::event::Event;
use common::http::Readiness;
use common::ledger::{Entry, Ledger};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use serde::Serialize;

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

pub struct Sender {
    producer: FutureProducer,
    topic: String,
    source: String,
    next_seq: AtomicU64,
    sent: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    last_failed: AtomicBool,
    ledger: Ledger,
    readiness: Arc<Readiness>,
}

impl Sender {
    pub fn new(
        producer: FutureProducer,
        topic: String,
        source: String,
        ledger: Ledger,
        readiness: Arc<Readiness>,
    ) -> Arc<Self> {
        Arc::new(Self {
            producer,
            topic,
            source,
            next_seq: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            last_failed: AtomicBool::new(false),
            ledger,
            readiness,
        })
    }

    pub fn producer(&self) -> &FutureProducer {
        &self.producer
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The next event, with the next sequence number.
    pub fn next_event(&self) -> Event {
        Event::new(&self.source, self.next_seq.fetch_add(1, Ordering::SeqCst))
    }

    /// Reserves `count` sequence numbers at once (a burst) and returns the first.
    pub fn reserve(&self, count: u64) -> u64 {
        self.next_seq.fetch_add(count, Ordering::SeqCst)
    }

    pub fn event(&self, seq: u64) -> Event {
        Event::new(&self.source, seq)
    }

    /// Enqueues `event` without waiting. `Err(QueueFull)` leaves the event unsent (the
    /// caller may retry); any other error has been counted as a failure.
    pub fn try_send(&self, event: &Event) -> Result<DeliveryFuture, KafkaError> {
        let key = event.key();
        let payload = event.to_json();
        let record = FutureRecord::to(&self.topic).key(&key).payload(&payload);
        match self.producer.send_result(record) {
            Ok(delivery) => {
                self.sent.fetch_add(1, Ordering::SeqCst);
                Ok(delivery)
            }
            Err((err, _)) if is_queue_full(&err) => Err(err),
            Err((err, _)) => {
                self.sent.fetch_add(1, Ordering::SeqCst);
                self.record_failure(event.seq, &err.to_string());
                Err(err)
            }
        }
    }

    /// Awaits one delivery and accounts for it.
    pub async fn settle(&self, seq: u64, delivery: DeliveryFuture, verbosity: Verbosity) {
        match delivery.await {
            Ok(Ok(delivery)) => {
                self.delivered.fetch_add(1, Ordering::SeqCst);
                metrics::counter!("events_produced_total", "outcome" => "delivered").increment(1);
                if self.last_failed.swap(false, Ordering::SeqCst) {
                    tracing::info!(seq, "deliveries succeed again");
                }
                if verbosity == Verbosity::EachEvent {
                    tracing::info!(
                        seq,
                        partition = delivery.partition,
                        offset = delivery.offset,
                        "delivered"
                    );
                }
                let entry = Entry {
                    source: self.source.clone(),
                    seq,
                    partition: delivery.partition,
                    offset: delivery.offset,
                    by: self.source.clone(),
                    at: 0,
                };
                if let Err(err) = self.ledger.record(&entry) {
                    tracing::error!(seq, error = %err, "cannot write the ledger");
                }
            }
            Ok(Err((err, _))) => self.record_failure(seq, &err.to_string()),
            // The client was dropped before it reported: counted as in flight at shutdown.
            Err(_canceled) => {}
        }
    }

    /// Counts `event` as sent and failed without retrying (a tick that found the local
    /// queue full).
    pub fn give_up(&self, seq: u64, err: &KafkaError) {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.record_failure(seq, &err.to_string());
    }

    fn record_failure(&self, seq: u64, error: &str) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        metrics::counter!("events_produced_total", "outcome" => "failed").increment(1);
        tracing::warn!(seq, error, "delivery failed");
        self.last_failed.store(true, Ordering::SeqCst);
        self.readiness
            .set_not_ready(format!("the last delivery failed: {error}"));
    }

    /// Whether the most recent settled delivery failed.
    pub fn last_delivery_failed(&self) -> bool {
        self.last_failed.load(Ordering::SeqCst)
    }

    pub fn report(&self) -> DeliveryReport {
        let sent = self.sent.load(Ordering::SeqCst);
        let delivered = self.delivered.load(Ordering::SeqCst);
        let failed = self.failed.load(Ordering::SeqCst);
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
