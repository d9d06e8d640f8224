//! kafka-consumer: one replica of the consumer group that KEDA scales.
//!
//! [`run`] joins the group, then for each record: decodes the event (a malformed one is
//! logged, counted and skipped), simulates `processing.time` of work, writes the ledger,
//! and only then stores the offset, which librdkafka commits every
//! `kafka.commit.interval` (at-least-once, as rust-rdkafka's `at_least_once` example).
//! On shutdown it finishes the record in flight, commits synchronously and leaves the
//! group, all bounded by `kafka.close.timeout` so a dead broker cannot hold the pod.

pub mod config;
pub mod group;
pub mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::config::{ConfigError, Env};
use common::event::EventView;
use common::http::{self, Readiness};
use common::kafka::creation_error;
use common::ledger::{Entry, Ledger};
use common::service::{HttpSettings, Service};
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::ConsumerConfig;
use group::GroupContext;
use stats::Progress;

type GroupConsumer = StreamConsumer<GroupContext>;

/// The consumer as a [`Service`] for `common::service::main`.
pub struct Consumer;

impl Service for Consumer {
    const NAME: &'static str = "kafka-consumer";
    const KEYS: &'static [&'static str] = config::KEYS;
    type Config = ConsumerConfig;

    fn load(env: &Env) -> Result<ConsumerConfig, ConfigError> {
        ConsumerConfig::from_env(env)
    }

    fn http(config: &ConsumerConfig) -> HttpSettings {
        config.http
    }

    async fn run(
        config: ConsumerConfig,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        run(config, listener, shutdown).await.map(drop)
    }
}

/// What one replica did, returned by [`run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumeReport {
    /// Events processed (offset stored).
    pub consumed: u64,
    /// Records skipped as malformed (offset stored).
    pub malformed: u64,
    /// Whether the final commit and group leave finished within the bound.
    pub closed_cleanly: bool,
}

/// librdkafka settings of the consumer (passthrough settings override them).
fn client_defaults(config: &ConsumerConfig) -> Vec<(&'static str, String)> {
    let mut defaults = vec![
        ("group.id", config.group_id.clone()),
        ("enable.auto.commit", "true".into()),
        (
            "auto.commit.interval.ms",
            config.commit_interval.as_millis().to_string(),
        ),
        // The offset is stored by hand after processing: at-least-once.
        ("enable.auto.offset.store", "false".into()),
        // Scale-out and scale-in move only the partitions that must move.
        ("partition.assignment.strategy", "cooperative-sticky".into()),
        ("auto.offset.reset", config.offset_reset.as_str().into()),
        ("statistics.interval.ms", "5000".into()),
        // KEDA counts every event not yet committed as lag, so time an event waits in a
        // fetch is lag too. librdkafka's default (500 ms) is also how long the embedded
        // broker holds an empty fetch, even when data arrives meanwhile.
        ("fetch.wait.max.ms", "100".into()),
        // A partition whose local queue went over librdkafka's thresholds is not fetched
        // again for this long. The default, 1000 ms, stalled a consumer catching up on a
        // backlog for a second each time it had emptied its queue (the benchmark's drain:
        // 1.16 s instead of 0.24 s in most runs at times); that second is lag, too.
        ("fetch.queue.backoff.ms", "20".into()),
    ];
    if let Some(session) = config.session_timeout {
        defaults.push(("session.timeout.ms", session.as_millis().to_string()));
        // librdkafka wants heartbeats well inside the session.
        let heartbeat = (session.as_millis() / 3).clamp(1, 3000);
        defaults.push(("heartbeat.interval.ms", heartbeat.to_string()));
    }
    defaults
}

/// HELP texts for `/metrics`.
fn describe_metrics() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("events_consumed_total", "Events processed (offset stored).");
    describe_counter!(
        "events_malformed_total",
        "Records skipped as malformed (offset stored), by reason."
    );
    describe_counter!("consumer_errors_total", "Errors receiving from Kafka.");
    describe_counter!(
        "consumer_rebalances_total",
        "Rebalance callbacks, by kind (assign or revoke)."
    );
    describe_gauge!(
        "consumer_assigned_partitions",
        "Partitions assigned to this replica."
    );
    describe_gauge!(
        "consumer_lag",
        "Per-partition lag librdkafka reports for an assigned partition (messages)."
    );
    describe_histogram!(
        "consumer_processing_seconds",
        Unit::Seconds,
        "Time to process one event."
    );
}

/// Runs one consumer replica until `shutdown` is cancelled, then drains and reports.
pub async fn run(
    config: ConsumerConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<ConsumeReport> {
    // Install the recorder before any task records a metric.
    http::prometheus();
    describe_metrics();
    tracing::info!(
        topics = %config.topics.join(","),
        group = %config.group_id,
        processing_ms = config.processing_time.as_millis() as u64,
        commit_interval_ms = config.commit_interval.as_millis() as u64,
        instance = %config.instance,
        kafka = %config.kafka.describe(),
        "consumer starting"
    );
    let readiness = Readiness::new(&format!("has not joined group {} yet", config.group_id));
    let context = GroupContext::new(config.group_id.clone(), readiness.clone());
    let consumer: GroupConsumer = config
        .kafka
        .client_config(&client_defaults(&config))
        .create_with_context(context)
        .map_err(|err| creation_error(&config.kafka, &err))?;
    let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    let ledger = Ledger::open(config.ledger.as_deref())?;
    let progress = Arc::new(Progress::default());
    let server = tokio::spawn(http::serve(
        listener,
        http::router(
            stats::routes(progress.clone(), config.group_id.clone()),
            readiness,
        ),
        shutdown.clone(),
    ));

    let meters = Meters::new();
    // Registered once, not per record: the loop below runs for every event.
    let cancelled = shutdown.cancelled();
    tokio::pin!(cancelled);
    loop {
        let received = tokio::select! {
            biased;
            _ = &mut cancelled => break,
            received = consumer.recv() => received,
        };
        match received {
            Ok(message) => handle(&consumer, &message, &config, &ledger, &meters, &progress).await,
            Err(err) => {
                metrics::counter!("consumer_errors_total").increment(1);
                consumer.context().warn_throttled("receive failed", &err);
            }
        }
    }

    let mut report = ConsumeReport {
        consumed: progress.consumed(),
        malformed: progress.malformed(),
        closed_cleanly: false,
    };
    tracing::info!(
        consumed = report.consumed,
        malformed = report.malformed,
        "stopped taking events: committing and leaving the group"
    );
    report.closed_cleanly = close(consumer, config.close_timeout).await;
    if let Ok(Err(err)) = server.await {
        tracing::warn!(error = %err, "HTTP server stopped with an error");
    }
    tracing::info!(
        consumed = report.consumed,
        malformed = report.malformed,
        closed_cleanly = report.closed_cleanly,
        "consumer stopped"
    );
    Ok(report)
}

/// The per-record metrics, looked up once (a lookup by name costs more than the update).
struct Meters {
    consumed: metrics::Counter,
    processing: metrics::Histogram,
}

impl Meters {
    fn new() -> Self {
        Self {
            consumed: metrics::counter!("events_consumed_total"),
            processing: metrics::histogram!("consumer_processing_seconds"),
        }
    }
}

/// Processes one record and stores its offset.
async fn handle(
    consumer: &GroupConsumer,
    message: &BorrowedMessage<'_>,
    config: &ConsumerConfig,
    ledger: &Ledger,
    meters: &Meters,
    progress: &Progress,
) {
    let started = Instant::now();
    match EventView::decode(message.payload()) {
        Ok(event) => {
            if !config.processing_time.is_zero() {
                tokio::time::sleep(config.processing_time).await;
            }
            if ledger.is_enabled() {
                let entry = Entry {
                    source: event.source.into_owned(),
                    seq: event.seq,
                    partition: message.partition(),
                    offset: message.offset(),
                    by: config.instance.clone(),
                    at: 0,
                };
                if let Err(err) = ledger.record(&entry) {
                    tracing::error!(error = %err, "cannot write the ledger");
                }
            }
            progress.consumed_one();
            meters.consumed.increment(1);
            meters.processing.record(started.elapsed().as_secs_f64());
            tracing::debug!(
                seq = event.seq,
                partition = message.partition(),
                offset = message.offset(),
                "consumed"
            );
        }
        Err(why) => {
            progress.malformed_one();
            metrics::counter!("events_malformed_total", "reason" => why.reason()).increment(1);
            tracing::warn!(
                topic = message.topic(),
                partition = message.partition(),
                offset = message.offset(),
                reason = %why,
                "skipping a malformed event"
            );
        }
    }
    if let Err(err) = consumer.store_offset_from_message(message) {
        // The partition was revoked while the event was processed: its new owner will
        // read it again (at-least-once).
        tracing::warn!(partition = message.partition(), offset = message.offset(), error = %err, "cannot store the offset");
    }
}

/// Commits what was stored and leaves the group, off the async workers and bounded.
async fn close(consumer: GroupConsumer, bound: Duration) -> bool {
    let started = Instant::now();
    let closing = tokio::task::spawn_blocking(move || {
        match consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => tracing::info!("final commit done"),
            // Nothing stored since the last auto-commit: nothing to do.
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {
                tracing::info!("final commit: nothing to commit")
            }
            Err(err) => tracing::warn!(error = %err, "final commit failed"),
        }
        drop(consumer); // closes the consumer: leaves the group
    });
    match tokio::time::timeout(bound, closing).await {
        Ok(_) => {
            tracing::info!(ms = started.elapsed().as_millis() as u64, "left the group");
            true
        }
        Err(_) => {
            tracing::warn!(
                bound_ms = bound.as_millis() as u64,
                "the broker did not answer: exiting without a clean leave"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        let config = ConsumerConfig::from_env(&Env::from_pairs(pairs.iter().copied())).unwrap();
        client_defaults(&config)
    }

    fn setting(defaults: &[(&'static str, String)], key: &str) -> Option<String> {
        defaults
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn a_full_local_queue_delays_the_next_fetch_briefly_not_for_a_second() {
        let d = defaults(&[("kafka.brokers", "k:9092")]);
        let backoff: u64 = setting(&d, "fetch.queue.backoff.ms")
            .unwrap()
            .parse()
            .unwrap();
        assert!(backoff <= 100, "fetch.queue.backoff.ms={backoff}");
    }

    #[test]
    fn offsets_are_stored_by_hand_and_committed_every_interval() {
        let d = defaults(&[
            ("kafka.brokers", "k:9092"),
            ("kafka.commit.interval", "2070"),
        ]);
        assert_eq!(
            setting(&d, "enable.auto.offset.store").as_deref(),
            Some("false")
        );
        assert_eq!(
            setting(&d, "auto.commit.interval.ms").as_deref(),
            Some("2070")
        );
    }
}
