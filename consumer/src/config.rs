//! The consumer's settings: each declared once in [`SETTINGS`] (name, kind, default,
//! meaning), read from the environment and validated in one place.

use std::path::PathBuf;
use std::time::Duration;

use common::config::{ConfigError, Env, Kind, Preset, Setting};
use common::kafka::KafkaSettings;
use common::service::{self, HttpSettings};

pub const TOPICS: Setting = Setting {
    key: "kafka.topics",
    kind: Kind::Topics,
    default: Preset::Value("event"),
    meaning: "topics, comma-separated",
};
pub const BROKERS: Setting = Setting {
    key: "kafka.brokers",
    kind: Kind::Brokers,
    default: Preset::Required,
    meaning: "bootstrap brokers",
};
pub const GROUP_ID: Setting = Setting {
    key: "kafka.groupId",
    kind: Kind::GroupId,
    default: Preset::Value("event"),
    meaning: "consumer group",
};
pub const PROCESSING_TIME: Setting = Setting {
    key: "processing.time",
    kind: Kind::Millis {
        min: 0,
        max: 3_600_000,
    },
    default: Preset::Value("0"),
    meaning: "ms of simulated work per event",
};
pub const COMMIT_INTERVAL: Setting = Setting {
    key: "kafka.commit.interval",
    kind: Kind::Millis {
        min: 1,
        max: 3_600_000,
    },
    default: Preset::Value("1000"),
    meaning: "ms between offset commits (`auto.commit.interval.ms`)",
};
pub const SESSION_TIMEOUT: Setting = Setting {
    key: "kafka.session.timeout",
    kind: Kind::Millis {
        min: 1,
        max: 3_600_000,
    },
    default: Preset::Unset("librdkafka's (45000)"),
    meaning: "ms a replica that stops answering keeps its partitions (group session timeout)",
};
pub const AUTO_OFFSET_RESET: Setting = Setting {
    key: "kafka.auto.offset.reset",
    kind: Kind::OneOf(&["earliest", "latest"]),
    default: Preset::Value("earliest"),
    meaning: "where a group with no committed offset starts",
};
pub const CLOSE_TIMEOUT: Setting = Setting {
    key: "kafka.close.timeout",
    kind: Kind::Millis {
        min: 1,
        max: 300_000,
    },
    default: Preset::Value("10000"),
    meaning: "ms the final commit and group leave may take at SIGTERM",
};

pub const STUCK_PARTITIONS: Setting = Setting {
    key: "kafka.partition.stuck",
    kind: Kind::Partitions,
    default: Preset::Unset("none"),
    meaning: "partitions this replica pauses whenever it is assigned them, such as `3`, as if a poison record sat at their head; reproduces a stuck partition",
};

/// Every setting the consumer reads, its own and the shared ones.
pub fn settings() -> Vec<&'static Setting> {
    let own: [&'static Setting; 9] = [
        &TOPICS,
        &BROKERS,
        &GROUP_ID,
        &PROCESSING_TIME,
        &COMMIT_INTERVAL,
        &SESSION_TIMEOUT,
        &AUTO_OFFSET_RESET,
        &CLOSE_TIMEOUT,
        &STUCK_PARTITIONS,
    ];
    own.into_iter()
        .chain(service::SHARED_SETTINGS.iter().copied())
        .collect()
}

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
    /// Topics to subscribe to ([`TOPICS`]).
    pub topics: Vec<String>,
    /// Brokers ([`BROKERS`]), security and librdkafka passthrough settings.
    pub kafka: KafkaSettings,
    /// The consumer group every replica joins ([`GROUP_ID`]).
    pub group_id: String,
    /// Simulated work per event ([`PROCESSING_TIME`], default 0).
    pub processing_time: Duration,
    /// How often stored offsets are committed ([`COMMIT_INTERVAL`], default 1000 ms;
    /// librdkafka `auto.commit.interval.ms`, whose own default is 5000). KEDA sees lag on
    /// committed offsets, so this interval is part of the lag it sees.
    pub commit_interval: Duration,
    /// Group session timeout ([`SESSION_TIMEOUT`], default: librdkafka's 45000 ms). A
    /// replica killed without leaving keeps its partitions this long.
    pub session_timeout: Option<Duration>,
    /// Where a group with no committed offset starts ([`AUTO_OFFSET_RESET`], default
    /// `earliest` so that no event is skipped).
    pub offset_reset: OffsetReset,
    /// Upper bound on the final commit and group leave at shutdown ([`CLOSE_TIMEOUT`]).
    pub close_timeout: Duration,
    /// This instance's id (the pod name), used in logs and the ledger.
    pub instance: String,
    /// Append one line per processed event here (`ledger.file`, default none).
    pub ledger: Option<PathBuf>,
    /// Where health and metrics are served (default 0.0.0.0:8080).
    pub http: HttpSettings,
    /// Partitions this replica never gets past, as if a poison record sat at their head
    /// ([`STUCK_PARTITIONS`], default none): paused whenever they are assigned, so their
    /// committed offset stays where it is.
    pub stuck_partitions: Vec<i32>,
}

impl ConsumerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let instance = service::instance_id(env);
        Ok(Self {
            topics: env.list(&TOPICS)?,
            kafka: KafkaSettings::new(
                env.text(&BROKERS)?,
                format!("kafka-consumer-{instance}"),
                env,
            )?,
            group_id: env.text(&GROUP_ID)?,
            processing_time: env.duration(&PROCESSING_TIME)?,
            commit_interval: env.duration(&COMMIT_INTERVAL)?,
            session_timeout: env.optional_duration(&SESSION_TIMEOUT)?,
            offset_reset: match env.word(&AUTO_OFFSET_RESET)? {
                "latest" => OffsetReset::Latest,
                _ => OffsetReset::Earliest,
            },
            close_timeout: env.duration(&CLOSE_TIMEOUT)?,
            instance,
            ledger: env.path(&service::LEDGER_FILE)?,
            http: HttpSettings::from_env(env)?,
            stuck_partitions: env.partitions(&STUCK_PARTITIONS)?,
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
        assert_eq!(c.stuck_partitions, [0; 0]);
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
            ("KAFKA_PARTITION_STUCK", "3"),
        ])
        .unwrap();
        assert_eq!(c.topics, ["event", "audit"]);
        assert_eq!(c.kafka.brokers, "my-cluster-kafka-bootstrap:9092");
        assert_eq!(c.group_id, "dotted");
        assert_eq!(c.processing_time, Duration::from_millis(250));
        assert_eq!(c.commit_interval, Duration::from_secs(5));
        assert_eq!(c.session_timeout, Some(Duration::from_secs(6)));
        assert_eq!(c.offset_reset, OffsetReset::Latest);
        assert_eq!(c.stuck_partitions, [3]);
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
            (
                &[broker, ("kafka.partition.stuck", "three")],
                "invalid kafka.partition.stuck=\"three\": expected comma-separated partition numbers",
            ),
        ];
        for (pairs, expected) in cases {
            let err = load(pairs).unwrap_err();
            assert!(err.starts_with(expected), "{pairs:?}: {err}");
        }
    }
}
