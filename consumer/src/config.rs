//! The consumer's settings, read from the environment and validated in one place.

use std::path::PathBuf;
use std::time::Duration;

use common::config::{self, ConfigError, Env};
use common::kafka::KafkaSettings;
use common::service::{self, HttpSettings};
use serde::Deserialize;

/// Every setting the consumer reads (dotted names; UPPER_SNAKE accepted too).
pub const KEYS: &[&str] = &[
    "kafka.topics",
    "kafka.brokers",
    "kafka.groupId",
    "processing.time",
    "kafka.commit.interval",
    "kafka.session.timeout",
    "kafka.auto.offset.reset",
    "kafka.close.timeout",
    "ledger.file",
    "http.address",
    "http.port",
];

/// Where a group without a committed offset starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    Earliest,
    Latest,
}

impl OffsetReset {
    pub fn as_str(self) -> &'static str {
        match self {
            OffsetReset::Earliest => "earliest",
            OffsetReset::Latest => "latest",
        }
    }
}

/// The consumer's configuration.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Topics to subscribe to (`kafka.topics`, comma list, default `event`).
    pub topics: Vec<String>,
    /// Brokers (`kafka.brokers`, required) and librdkafka passthrough settings.
    pub kafka: KafkaSettings,
    /// The consumer group every replica joins (`kafka.groupId`, default `event`).
    pub group_id: String,
    /// Simulated work per event (`processing.time`, milliseconds, default 0).
    pub processing_time: Duration,
    /// How often stored offsets are committed (`kafka.commit.interval`, milliseconds,
    /// default 1000; librdkafka `auto.commit.interval.ms`, whose own default is 5000).
    /// KEDA sees lag on committed offsets, so this interval is part of the lag it sees.
    pub commit_interval: Duration,
    /// Group session timeout (`kafka.session.timeout`, milliseconds, default: librdkafka's
    /// 45000). A replica killed without leaving keeps its partitions this long.
    pub session_timeout: Option<Duration>,
    /// Where a group with no committed offset starts (`kafka.auto.offset.reset`,
    /// `earliest` or `latest`, default `earliest` so that no event is skipped).
    pub offset_reset: OffsetReset,
    /// Upper bound on the final commit and group leave at shutdown
    /// (`kafka.close.timeout`, milliseconds, default 10000).
    pub close_timeout: Duration,
    /// This instance's id (the pod name), used in logs and the ledger.
    pub instance: String,
    /// Append one line per processed event here (`ledger.file`, default none).
    pub ledger: Option<PathBuf>,
    /// Where health and metrics are served (default 0.0.0.0:8080).
    pub http: HttpSettings,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "kafka.topics")]
    topics: Option<String>,
    #[serde(rename = "kafka.brokers")]
    brokers: Option<String>,
    #[serde(rename = "kafka.groupid")]
    group_id: Option<String>,
    #[serde(rename = "processing.time")]
    processing_time: Option<String>,
    #[serde(rename = "kafka.commit.interval")]
    commit_interval: Option<String>,
    #[serde(rename = "kafka.session.timeout")]
    session_timeout: Option<String>,
    #[serde(rename = "kafka.auto.offset.reset")]
    offset_reset: Option<String>,
    #[serde(rename = "kafka.close.timeout")]
    close_timeout: Option<String>,
    #[serde(rename = "ledger.file")]
    ledger: Option<String>,
}

impl ConsumerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let raw: Raw = env.resolve(KEYS)?;
        let topics = config::topics("kafka.topics", raw.topics.as_deref().unwrap_or("event"))?;
        let brokers = config::brokers(
            "kafka.brokers",
            config::required(
                "kafka.brokers",
                raw.brokers.as_deref(),
                "a comma-separated list of host:port",
            )?,
        )?;
        let group_id =
            config::group_id("kafka.groupId", raw.group_id.as_deref().unwrap_or("event"))?;
        let processing_time = config::millis(
            "processing.time",
            raw.processing_time.as_deref(),
            Duration::ZERO,
            0..=3_600_000,
        )?;
        let commit_interval = config::millis(
            "kafka.commit.interval",
            raw.commit_interval.as_deref(),
            Duration::from_secs(1),
            1..=3_600_000,
        )?;
        let session_timeout = match raw.session_timeout.as_deref() {
            None => None,
            // librdkafka's own limits for session.timeout.ms.
            raw => Some(config::millis(
                "kafka.session.timeout",
                raw,
                Duration::ZERO,
                1..=3_600_000,
            )?),
        };
        let offset_reset = match raw.offset_reset.as_deref().map(str::trim) {
            None | Some("earliest") => OffsetReset::Earliest,
            Some("latest") => OffsetReset::Latest,
            Some(other) => {
                return Err(ConfigError::invalid(
                    "kafka.auto.offset.reset",
                    other,
                    "earliest or latest",
                ))
            }
        };
        let close_timeout = config::millis(
            "kafka.close.timeout",
            raw.close_timeout.as_deref(),
            Duration::from_secs(10),
            1..=300_000,
        )?;
        let instance = service::instance_id(env);
        let kafka = KafkaSettings::new(brokers, format!("kafka-consumer-{instance}"), env)?;
        Ok(Self {
            topics,
            kafka,
            group_id,
            processing_time,
            commit_interval,
            session_timeout,
            offset_reset,
            close_timeout,
            instance,
            ledger: raw.ledger.filter(|p| !p.is_empty()).map(PathBuf::from),
            http: HttpSettings::from_env(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<ConsumerConfig, String> {
        ConsumerConfig::from_env(&Env::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let c = load(&[("kafka.brokers", "k:9092")]).unwrap();
        assert_eq!(c.topics, ["event"]);
        assert_eq!(c.group_id, "event");
        assert_eq!(c.processing_time, Duration::ZERO);
        assert_eq!(c.commit_interval, Duration::from_secs(1));
        assert_eq!(c.session_timeout, None);
        assert_eq!(c.offset_reset, OffsetReset::Earliest);
        assert_eq!(c.close_timeout, Duration::from_secs(10));
    }

    #[test]
    fn published_names_and_upper_snake() {
        let c = load(&[
            ("kafka.topics", "event,audit"),
            ("KAFKA_BROKERS", "my-cluster-kafka-bootstrap:9092"),
            ("KAFKA_GROUPID", "spring-style"),
            ("kafka.groupId", "dotted"),
            ("PROCESSING_TIME", "250"),
            ("KAFKA_COMMIT_INTERVAL", "5000"),
            ("kafka.session.timeout", "6000"),
            ("KAFKA_AUTO_OFFSET_RESET", "latest"),
        ])
        .unwrap();
        assert_eq!(c.topics, ["event", "audit"]);
        assert_eq!(c.kafka.brokers, "my-cluster-kafka-bootstrap:9092");
        assert_eq!(c.group_id, "dotted");
        assert_eq!(c.processing_time, Duration::from_millis(250));
        assert_eq!(c.commit_interval, Duration::from_secs(5));
        assert_eq!(c.session_timeout, Some(Duration::from_secs(6)));
        assert_eq!(c.offset_reset, OffsetReset::Latest);
    }

    #[test]
    fn bad_values_name_the_key() {
        let broker = ("kafka.brokers", "k:9092");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "missing kafka.brokers (or KAFKA_BROKERS)"),
            (&[("kafka.brokers", ",")], "invalid kafka.brokers=\",\""),
            (
                &[broker, ("kafka.topics", "a,,b")],
                "invalid kafka.topics=\"a,,b\"",
            ),
            (&[broker, ("kafka.topics", "")], "invalid kafka.topics=\"\""),
            (
                &[broker, ("kafka.groupId", "")],
                "invalid kafka.groupId=\"\"",
            ),
            (
                &[broker, ("processing.time", "-1")],
                "invalid processing.time=\"-1\"",
            ),
            (
                &[broker, ("kafka.commit.interval", "0")],
                "invalid kafka.commit.interval=\"0\"",
            ),
            (
                &[broker, ("kafka.session.timeout", "6s")],
                "invalid kafka.session.timeout=\"6s\"",
            ),
            (
                &[broker, ("kafka.auto.offset.reset", "smallest")],
                "invalid kafka.auto.offset.reset=\"smallest\": expected earliest or latest",
            ),
        ];
        for (pairs, expected) in cases {
            let err = load(pairs).unwrap_err();
            assert!(err.starts_with(expected), "{pairs:?}: {err}");
        }
    }
}
