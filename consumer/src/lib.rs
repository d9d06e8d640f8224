//! kafka-consumer: one replica of the consumer group that KEDA scales.
//!
//! [`run`] joins the group and hands the consume loop ([`consume`]) its own thread: a
//! blocking poll loop over librdkafka's queue, with no async machinery per record. For
//! each record it decodes the event (a malformed one is logged, counted and skipped),
//! simulates `processing.time` of work, writes the ledger, and only then marks the offset
//! processed. Processed offsets are stored in batches (when librdkafka's queue runs dry,
//! every [`BATCH_RECORDS`] records, or after [`BATCH_AGE`]), and before any rebalance takes
//! a partition away; librdkafka commits the stored offsets every `kafka.commit.interval`
//! (at-least-once, as rust-rdkafka's `at_least_once` example). On shutdown it finishes the
//! record in flight, stores what it processed, commits synchronously and leaves the group,
//! all bounded by `kafka.close.timeout` so a dead broker cannot hold the pod.

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
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::ConsumerConfig;
use group::GroupContext;
use stats::Progress;

type GroupConsumer = BaseConsumer<GroupContext>;

/// Processed offsets are stored at least this often while records keep coming.
pub const BATCH_RECORDS: usize = 512;
/// ... and at least this soon after the first unstored one was processed.
pub const BATCH_AGE: Duration = Duration::from_millis(20);
/// How long one poll waits for a record when there is nothing to store.
const POLL_WAIT: Duration = Duration::from_millis(100);

/// The consumer as a [`Service`] for `common::service::main`.
pub struct Consumer;

impl Service for Consumer {
    const NAME: &'static str = "kafka-consumer";
    type Config = ConsumerConfig;

    fn settings() -> Vec<&'static common::config::Setting> {
        config::settings()
    }

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
    let assignment = context.assignment_handle();
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
            stats::routes(progress.clone(), config.group_id.clone(), assignment),
            readiness,
        ),
        shutdown.clone(),
    ));

    let bound = config.close_timeout + config.processing_time;
    let close_timeout = config.close_timeout;
    let loop_progress = progress.clone();
    let stop = shutdown.clone();
    let started_close = Arc::new(std::sync::OnceLock::<Instant>::new());
    let close_started = started_close.clone();
    let consuming = tokio::task::spawn_blocking(move || {
        consume(&consumer, &config, &ledger, &loop_progress, &stop);
        let _ = close_started.set(Instant::now());
        close(consumer)
    });
    shutdown.cancelled().await;
    tracing::info!(
        consumed = progress.consumed(),
        malformed = progress.malformed(),
        "stopping: finishing the event in flight, committing and leaving the group"
    );
    let closed_cleanly = match tokio::time::timeout(bound, consuming).await {
        Ok(Ok(closed)) => closed,
        Ok(Err(err)) => {
            tracing::error!(error = %err, "the consume loop failed");
            false
        }
        Err(_) => {
            tracing::warn!(
                bound_ms = close_timeout.as_millis() as u64,
                "the broker did not answer: exiting without a clean leave"
            );
            false
        }
    };
    if closed_cleanly {
        if let Some(at) = started_close.get() {
            tracing::info!(ms = at.elapsed().as_millis() as u64, "left the group");
        }
    }
    if let Ok(Err(err)) = server.await {
        tracing::warn!(error = %err, "HTTP server stopped with an error");
    }
    let report = ConsumeReport {
        consumed: progress.consumed(),
        malformed: progress.malformed(),
        closed_cleanly,
    };
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
    errors: metrics::Counter,
}

impl Meters {
    fn new() -> Self {
        Self {
            consumed: metrics::counter!("events_consumed_total"),
            processing: metrics::histogram!("consumer_processing_seconds"),
            errors: metrics::counter!("consumer_errors_total"),
        }
    }
}

/// The consume loop, on its own thread, until `shutdown`.
fn consume(
    consumer: &GroupConsumer,
    config: &ConsumerConfig,
    ledger: &Ledger,
    progress: &Progress,
    shutdown: &CancellationToken,
) {
    let meters = Meters::new();
    let context = consumer.context();
    let mut batch_started: Option<Instant> = None;
    // Records processed and not stored yet, and how many of them were good events.
    let (mut unstored, mut consumed) = (0usize, 0u64);
    while !shutdown.is_cancelled() {
        let wait = if unstored == 0 {
            POLL_WAIT
        } else {
            Duration::ZERO
        };
        match consumer.poll(wait) {
            Some(Ok(message)) => {
                consumed += u64::from(handle(&message, config, ledger, &meters, progress));
                context.processed(message.topic(), message.partition(), message.offset());
                unstored += 1;
                let started = *batch_started.get_or_insert_with(Instant::now);
                if unstored >= BATCH_RECORDS || started.elapsed() >= BATCH_AGE {
                    store(consumer, &meters, &mut unstored, &mut consumed);
                    batch_started = None;
                }
            }
            Some(Err(err)) => {
                meters.errors.increment(1);
                context.warn_throttled("receive failed", &err);
            }
            // The queue ran dry: store what was processed.
            None => {
                if unstored > 0 {
                    store(consumer, &meters, &mut unstored, &mut consumed);
                    batch_started = None;
                }
            }
        }
    }
    store(consumer, &meters, &mut unstored, &mut consumed);
}

/// Stores the processed offsets (the auto-commit takes them from there) and counts the
/// batch's good events as consumed.
fn store(consumer: &GroupConsumer, meters: &Meters, unstored: &mut usize, consumed: &mut u64) {
    consumer.context().store_processed(consumer);
    meters.consumed.increment(*consumed);
    (*unstored, *consumed) = (0, 0);
}

/// Processes one record: decode, simulated work, ledger. Returns whether it was a good
/// event (a malformed one is counted, logged and skipped here).
fn handle(
    message: &BorrowedMessage<'_>,
    config: &ConsumerConfig,
    ledger: &Ledger,
    meters: &Meters,
    progress: &Progress,
) -> bool {
    let started = Instant::now();
    match EventView::decode(message.payload()) {
        Ok(event) => {
            if !config.processing_time.is_zero() {
                std::thread::sleep(config.processing_time);
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
            meters.processing.record(started.elapsed().as_secs_f64());
            tracing::debug!(
                seq = event.seq,
                partition = message.partition(),
                offset = message.offset(),
                "consumed"
            );
            true
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
            false
        }
    }
}

/// Commits what was stored and leaves the group. Blocking: the caller bounds it.
fn close(consumer: GroupConsumer) -> bool {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => tracing::info!("final commit done"),
        // Nothing stored since the last auto-commit: nothing to do.
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {
            tracing::info!("final commit: nothing to commit")
        }
        Err(err) => tracing::warn!(error = %err, "final commit failed"),
    }
    drop(consumer); // closes the consumer: leaves the group
    true
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
