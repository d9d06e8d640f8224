//! kafka-consumer: one replica of the consumer group that KEDA scales.
//!
//! [`run`] joins the group and hands the consume loop ([`consume`]) its own thread: a
//! blocking poll loop over librdkafka's queue, with no async machinery per record. For
//! each record it decodes the event (a malformed one is logged, counted and skipped),
//! simulates `processing.time` of work, writes the ledger, and only then marks the offset
//! processed. Processed offsets are stored in batches (when librdkafka's queue runs dry,
//! every [`BATCH_RECORDS`] records, or, when records take `processing.time`, after
//! [`BATCH_AGE`]), and before any rebalance takes
//! a partition away; librdkafka commits the stored offsets every `kafka.commit.interval`
//! (at-least-once, as rust-rdkafka's `at_least_once` example). On shutdown it finishes the
//! record in flight, stores what it processed, commits synchronously and leaves the group,
//! all bounded by `kafka.close.timeout` so a dead broker cannot hold the pod.

pub mod config;
pub mod group;
pub mod stats;

use std::sync::atomic::{AtomicBool, Ordering};
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
/// Prefetched records, at most (librdkafka `queued.max.messages.kbytes`), KiB.
pub const PREFETCH_KIB: u32 = 2048;
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
        // Records fetched ahead of processing, at most this many KiB (librdkafka default:
        // 65536, for the whole consumer queue). A replica catching up on a backlog
        // otherwise prefetches all of it: 57-73 MiB resident for a 300000-event backlog,
        // against the Deployment's 64Mi limit (tests/tests/backlog.rs). 2 MiB is about
        // 10 ms of records at full speed.
        ("queued.max.messages.kbytes", PREFETCH_KIB.to_string()),
        // A partition whose queue is over that bound is fetched again this soon
        // (librdkafka default: 1000 ms, a second's stall each time the queue ran dry).
        // Short, so the queue refills before it empties; each retry wakes librdkafka's
        // broker thread, 2-3 % of a core while a slow replica sits on a backlog.
        ("fetch.queue.backoff.ms", "2".into()),
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
    let context = GroupContext::new(config.group_id.clone(), readiness.clone())
        .with_stuck(config.stuck_partitions.clone());
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
    // The loop checks a flag per record: cheaper than asking the token.
    let stop = Arc::new(AtomicBool::new(false));
    tokio::spawn({
        let (stop, shutdown) = (stop.clone(), shutdown.clone());
        async move {
            shutdown.cancelled().await;
            stop.store(true, Ordering::Relaxed);
        }
    });
    let started_close = Arc::new(std::sync::OnceLock::<Instant>::new());
    let close_started = started_close.clone();
    // Its own named thread: a blocking loop, not a task among tasks.
    let (done, consuming) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("consume".into())
        .spawn(move || {
            consume(&consumer, &config, &ledger, &loop_progress, &stop);
            let _ = close_started.set(Instant::now());
            let _ = done.send(close(consumer));
        })?;
    shutdown.cancelled().await;
    tracing::info!(
        consumed = progress.consumed(),
        malformed = progress.malformed(),
        "stopping: finishing the event in flight, committing and leaving the group"
    );
    let closed_cleanly = match tokio::time::timeout(bound, consuming).await {
        Ok(Ok(closed)) => closed,
        Ok(Err(_)) => {
            tracing::error!("the consume loop ended without closing the consumer");
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

/// Records processed since the last store.
#[derive(Debug, Default)]
struct Batch {
    /// When its first record was taken (`None`: the batch is empty).
    started: Option<Instant>,
    records: usize,
    /// Good events among them (the rest were malformed, skipped).
    consumed: u64,
}

impl Batch {
    /// Whether the batch should be stored now, with records still coming. The clock is
    /// read only when `timed`, that is when each record takes time (`processing.time`):
    /// records that take none fill [`BATCH_RECORDS`] in well under a millisecond, and a
    /// clock read per record is a tenth of the loop's cost.
    fn is_due(&self, timed: bool) -> bool {
        self.records >= BATCH_RECORDS
            || (timed && self.started.is_some_and(|t| t.elapsed() >= BATCH_AGE))
    }
}

/// The consume loop, on its own thread, until `stop` is set.
fn consume(
    consumer: &GroupConsumer,
    config: &ConsumerConfig,
    ledger: &Ledger,
    progress: &Progress,
    stop: &AtomicBool,
) {
    let meters = Meters::new();
    let context = consumer.context();
    let mut batch = Batch::default();
    let timed = !config.processing_time.is_zero();
    while !stop.load(Ordering::Relaxed) {
        // Wait for records only with nothing left to store.
        let wait = if batch.records == 0 {
            POLL_WAIT
        } else {
            Duration::ZERO
        };
        match consumer.poll(wait) {
            Some(Ok(message)) if context.is_stuck(message.partition()) => {
                context.hold_stuck(consumer, message.topic(), message.partition());
            }
            Some(Ok(message)) => {
                if batch.started.is_none() {
                    batch.started = Some(Instant::now());
                    progress.started();
                }
                if handle(&message, config, ledger) {
                    batch.consumed += 1;
                }
                context.processed(message.topic(), message.partition(), message.offset());
                batch.records += 1;
                if batch.is_due(timed) {
                    store(consumer, &meters, progress, &mut batch);
                }
            }
            Some(Err(err)) => {
                meters.errors.increment(1);
                context.warn_throttled("receive failed", &err);
            }
            // The queue ran dry: store what was processed.
            None => store(consumer, &meters, progress, &mut batch),
        }
    }
    store(consumer, &meters, progress, &mut batch);
}

/// Stores the batch's offsets (the auto-commit takes them from there), counts its events,
/// and records their processing time: each event the batch's mean (one value per event,
/// recorded in one call; a batch is one event whenever an event takes longer than
/// [`BATCH_AGE`]). An empty batch stores nothing.
fn store(consumer: &GroupConsumer, meters: &Meters, progress: &Progress, batch: &mut Batch) {
    let Some(started) = batch.started else {
        return;
    };
    consumer.context().store_processed(consumer);
    let malformed = batch.records as u64 - batch.consumed;
    progress.stored(batch.consumed, malformed);
    if batch.consumed > 0 {
        let mean = started.elapsed().as_secs_f64() / batch.records as f64;
        meters.processing.record_many(mean, batch.consumed as usize);
        meters.consumed.increment(batch.consumed);
    }
    *batch = Batch::default();
}

/// Processes one record: decode, simulated work, ledger. Returns whether it was a good
/// event (a malformed one is counted, logged and skipped here).
fn handle(message: &BorrowedMessage<'_>, config: &ConsumerConfig, ledger: &Ledger) -> bool {
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
                    time: Some(event.time),
                };
                if let Err(err) = ledger.record(&entry) {
                    tracing::error!(error = %err, "cannot write the ledger");
                }
            }
            tracing::debug!(
                seq = event.seq,
                partition = message.partition(),
                offset = message.offset(),
                "consumed"
            );
            true
        }
        Err(why) => {
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
    fn prefetch_is_bounded_and_a_full_queue_delays_the_next_fetch_briefly() {
        let d = defaults(&[("kafka.brokers", "k:9092")]);
        let number = |key| -> u64 { setting(&d, key).unwrap().parse().unwrap() };
        assert!(number("queued.max.messages.kbytes") <= 4096);
        assert!(number("fetch.queue.backoff.ms") <= 10);
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

    /// A pause issued in the rebalance callback can lose the race with the fetch the
    /// assignment starts (confluentinc/librdkafka#2190), so the loop holds a stuck
    /// partition's records itself. Here the partitions are assigned by hand, so no
    /// rebalance callback pauses anything: the stuck partition is fetched, and still none
    /// of its events is processed or stored (mock cluster over TCP).
    #[test]
    fn a_stuck_partitions_records_that_come_despite_the_pause_are_left_unprocessed() {
        use rdkafka::mocking::MockCluster;
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
        use rdkafka::{Offset, TopicPartitionList};

        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("event", 2, 1).unwrap();
        let producer: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .create()
            .unwrap();
        for seq in 0..20u64 {
            let payload = common::event::Event::new("test", seq).to_json();
            let record = BaseRecord::to("event")
                .key("k")
                .payload(&payload)
                .partition((seq % 2) as i32);
            producer.send(record).map_err(|(e, _)| e).unwrap();
        }
        producer.flush(Duration::from_secs(10)).unwrap();

        let ledger_path =
            std::env::temp_dir().join(format!("stuck-by-hand-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&ledger_path);
        let config = ConsumerConfig::from_env(&Env::from_pairs([
            ("kafka.brokers", cluster.bootstrap_servers().as_str()),
            ("kafka.topics", "event"),
            ("kafka.groupId", "by-hand"),
            ("kafka.partition.stuck", "1"),
            ("ledger.file", ledger_path.to_str().unwrap()),
        ]))
        .unwrap();
        let context = GroupContext::new("by-hand".into(), Readiness::new("by hand"))
            .with_stuck(config.stuck_partitions.clone());
        let consumer: GroupConsumer = config
            .kafka
            .client_config(&client_defaults(&config))
            .create_with_context(context)
            .unwrap();
        let mut assignment = TopicPartitionList::new();
        for partition in [0, 1] {
            assignment
                .add_partition_offset("event", partition, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&assignment).unwrap();
        let ledger = Ledger::open(Some(&ledger_path)).unwrap();
        let (progress, stop) = (Progress::default(), AtomicBool::new(false));
        std::thread::scope(|s| {
            s.spawn(|| consume(&consumer, &config, &ledger, &progress, &stop));
            let deadline = Instant::now() + Duration::from_secs(30);
            while progress.consumed() < 10 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            // Time for partition 1's events to be processed, were they not held.
            std::thread::sleep(Duration::from_secs(1));
            stop.store(true, Ordering::Relaxed);
        });
        let consumed = common::ledger::read_all([&ledger_path]).unwrap();
        let _ = std::fs::remove_file(&ledger_path);
        assert_eq!(progress.consumed(), 10, "only partition 0's ten events");
        assert_eq!(consumed.len(), 10, "{consumed:?}");
        assert!(consumed.iter().all(|e| e.partition == 0), "{consumed:?}");
    }
}
