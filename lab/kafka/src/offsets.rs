//! Reading lag the way KEDA's Kafka scaler does: the log-end offset of every partition
//! (ListOffsets, latest) and the group's committed offsets (OffsetFetch), from a client
//! that never joins the group.

use std::time::Duration;

use common::kafka::security::{self, SecurityAlarm};
use common::kafka::{KafkaSettings, Security};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use rdkafka::types::RDKafkaErrorCode;

use lab_model::emulator::{Offsets, ScalerError};

/// The reader's librdkafka context: it keeps a TLS or SASL problem the client reports, so
/// that a read that fails says which setting to check instead of only "did not answer".
#[derive(Default)]
struct LagContext {
    security: SecurityAlarm,
}

impl ClientContext for LagContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        self.security.observe_log(facility, message);
        security::forward_log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if self.security.observe(&error, reason).is_none() {
            tracing::warn!(%error, reason, "kafka client error");
        }
    }
}

impl ConsumerContext for LagContext {}

/// The TLS or SASL problem behind a failed call, if any. The client's error and log
/// events reach the context only while it is polled, so this serves them first (the
/// reader never subscribes: a poll returns no record).
fn security_problem(consumer: &BaseConsumer<LagContext>) -> Option<String> {
    for _ in 0..5 {
        let _ = consumer.poll(Duration::from_millis(20));
    }
    consumer.context().security.current()
}

/// A client that reads offsets for one group and topic. Its calls block: use it from a
/// blocking thread.
pub struct OffsetReader {
    consumer: BaseConsumer<LagContext>,
    topic: String,
    partitions: i32,
    timeout: Duration,
}

impl OffsetReader {
    /// Connects (with TLS and SASL as `security` says) and learns the topic's partition
    /// count (fails if the broker does not answer within `timeout` or the topic does not
    /// exist).
    pub fn connect(
        brokers: &str,
        security: &Security,
        group: &str,
        topic: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        // The connection as the binaries make it (TLS and SASL included), as a client
        // that never joins the group.
        let settings = KafkaSettings {
            brokers: brokers.to_owned(),
            client_id: "keda-kafka-lab-lag".into(),
            security: security.clone(),
            extra: Vec::new(),
        };
        let config = settings.client_config(&[
            ("group.id", group.to_owned()),
            ("enable.auto.commit", "false".into()),
        ]);
        let consumer: BaseConsumer<LagContext> =
            config.create_with_context(LagContext::default())?;
        let metadata = consumer.fetch_metadata(Some(topic), timeout).map_err(|e| {
            match security_problem(&consumer) {
                Some(problem) => anyhow::anyhow!("cannot read from {brokers}: {problem}"),
                None => anyhow::anyhow!("broker {brokers} did not answer within {timeout:?}: {e}"),
            }
        })?;
        let partitions = match metadata.topics().first() {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                t.partitions().len() as i32
            }
            _ => anyhow::bail!("topic {topic} does not exist on {brokers}"),
        };
        Ok(Self {
            consumer,
            topic: topic.to_owned(),
            partitions,
            timeout,
        })
    }

    pub fn partitions(&self) -> i32 {
        self.partitions
    }

    /// Commits `offsets` for the group, as if it had consumed up to there. The broker
    /// accepts this only while the group has no members.
    pub fn commit(&self, offsets: &[i64]) -> anyhow::Result<()> {
        let mut tpl = TopicPartitionList::new();
        for (p, offset) in offsets.iter().enumerate() {
            tpl.add_partition_offset(&self.topic, p as i32, Offset::Offset(*offset))?;
        }
        self.consumer
            .commit(&tpl, rdkafka::consumer::CommitMode::Sync)?;
        Ok(())
    }

    /// End and committed offsets of every partition, in partition order.
    pub fn read(&self) -> anyhow::Result<Vec<Offsets>> {
        Ok(self.read_within(self.timeout)?)
    }

    /// [`Self::read`] with its own bound, failing with the Kafka error.
    pub fn read_within(&self, timeout: Duration) -> Result<Vec<Offsets>, KafkaError> {
        let mut tpl = TopicPartitionList::new();
        for p in 0..self.partitions {
            tpl.add_partition(&self.topic, p);
        }
        let committed = self.consumer.committed_offsets(tpl, timeout)?;
        (0..self.partitions)
            .map(|p| {
                let (_, end) = self.consumer.fetch_watermarks(&self.topic, p, timeout)?;
                let committed = match committed.find_partition(&self.topic, p).map(|e| e.offset()) {
                    Some(Offset::Offset(n)) => Some(n),
                    _ => None,
                };
                Ok(Offsets {
                    partition: p,
                    end,
                    committed,
                })
            })
            .collect()
    }
}

/// The error KEDA's scaler would meet where this read failed (the broker's answer, or
/// none): the coordinator moving (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS), the
/// topic gone (UNKNOWN_TOPIC_OR_PART), or no broker answering (anything else: timeouts,
/// transport failures, all brokers down).
pub fn scaler_error(error: &KafkaError) -> ScalerError {
    match error.rdkafka_error_code() {
        Some(RDKafkaErrorCode::NotCoordinator | RDKafkaErrorCode::CoordinatorLoadInProgress) => {
            ScalerError::CoordinatorMoving
        }
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
            ScalerError::TopicNotFound
        }
        _ => ScalerError::BrokerUnreachable,
    }
}
