//! The producer's settings: each declared once (name, kind, default, meaning), read from
//! the environment and validated in one place.

use std::path::PathBuf;
use std::time::Duration;

use common::config::{ConfigError, Env, Kind, Preset, Setting};
use common::kafka::KafkaSettings;
use common::service::{self, HttpSettings};

use crate::token::Token;
use workload::shape::Shape;

/// Limits of the event period, in milliseconds (also enforced by `PUT /period`).
pub const PERIOD_RANGE_MS: std::ops::RangeInclusive<u64> = 1..=3_600_000;

pub const TOPIC: Setting = Setting {
    key: "kafka.topic",
    kind: Kind::Topic,
    default: Preset::Value("event"),
    meaning: "topic the events go to",
};
pub const BROKERS_HOST: Setting = Setting {
    key: "kafka.brokers.host",
    kind: Kind::Brokers,
    default: Preset::Required,
    meaning: "bootstrap brokers, `host:port[,host:port]`",
};
pub const TIME_PERIOD: Setting = Setting {
    key: "kafka.time.period",
    kind: Kind::Millis {
        min: *PERIOD_RANGE_MS.start(),
        max: *PERIOD_RANGE_MS.end(),
    },
    default: Preset::Value("1000"),
    meaning: "ms between two events",
};
pub const FLUSH_TIMEOUT: Setting = Setting {
    key: "kafka.flush.timeout",
    kind: Kind::Millis {
        min: 1,
        max: 300_000,
    },
    default: Preset::Value("10000"),
    meaning: "ms the SIGTERM flush may take",
};

pub const HOT_SHARE: Setting = Setting {
    key: "kafka.partition.hot.share",
    kind: Kind::Share,
    default: Preset::Value("0"),
    meaning: "share of the events sent to partition 0 (a hot key), the rest spread over the others; reproduces a hot partition",
};
pub const SILENT_PARTITIONS: Setting = Setting {
    key: "kafka.partition.silent",
    kind: Kind::Partitions,
    default: Preset::Unset("none"),
    meaning:
        "partitions sent no events, such as `3,7`; reproduces partitions whose lag never moves",
};

pub const HTTP_TOKEN: Setting = Setting {
    key: "http.token",
    kind: Kind::Secret,
    default: Preset::Unset("none: changes are open"),
    meaning: "when set, `PUT /period` and `POST /burst` need `Authorization: Bearer <token>`",
};

/// Every setting the producer reads, its own and the shared ones.
pub fn settings() -> Vec<&'static Setting> {
    let own: [&'static Setting; 7] = [
        &TOPIC,
        &BROKERS_HOST,
        &TIME_PERIOD,
        &FLUSH_TIMEOUT,
        &HOT_SHARE,
        &SILENT_PARTITIONS,
        &HTTP_TOKEN,
    ];
    own.into_iter()
        .chain(service::SHARED_SETTINGS.iter().copied())
        .collect()
}

/// The producer's configuration.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// Topic the events go to ([`TOPIC`]).
    pub topic: String,
    /// Brokers ([`BROKERS_HOST`]), security and librdkafka passthrough settings.
    pub kafka: KafkaSettings,
    /// Time between two events ([`TIME_PERIOD`]). Can be changed at run time with
    /// `PUT /period`.
    pub period: Duration,
    /// Upper bound on the final flush at shutdown ([`FLUSH_TIMEOUT`]). Events still
    /// undelivered then are counted and logged.
    pub flush_timeout: Duration,
    /// This instance's id, written into every event's `source` (the pod name).
    pub source: String,
    /// Append one line per delivered event here (`ledger.file`, default none).
    pub ledger: Option<PathBuf>,
    /// Where the HTTP API listens (default 0.0.0.0:8080).
    pub http: HttpSettings,
    /// The bearer token changes need ([`HTTP_TOKEN`]); `None`: changes are open.
    pub http_token: Option<Token>,
    /// How events spread over partitions ([`HOT_SHARE`], [`SILENT_PARTITIONS`]; default
    /// librdkafka's key partitioner).
    pub shape: Shape,
}

impl ProducerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let source = service::instance_id(env);
        Ok(Self {
            topic: env.text(&TOPIC)?,
            kafka: KafkaSettings::new(
                env.text(&BROKERS_HOST)?,
                format!("kafka-producer-callback-{source}"),
                env,
            )?,
            period: env.duration(&TIME_PERIOD)?,
            flush_timeout: env.duration(&FLUSH_TIMEOUT)?,
            source,
            ledger: env.path(&service::LEDGER_FILE)?,
            http: HttpSettings::from_env(env)?,
            http_token: env.optional_text(&HTTP_TOKEN)?.map(|t| Token::new(&t)),
            shape: Shape {
                hot_share: env.share(&HOT_SHARE)?,
                silent: env.partitions(&SILENT_PARTITIONS)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<ProducerConfig, String> {
        ProducerConfig::from_env(&Env::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let c = load(&[("kafka.brokers.host", "k:9092")]).unwrap();
        assert_eq!(c.topic, "event");
        assert_eq!(c.period, Duration::from_secs(1));
        assert_eq!(c.flush_timeout, Duration::from_secs(10));
        assert_eq!(c.http.port, 8080);
        assert_eq!(c.ledger, None);
        assert!(c.shape.is_keyed());
    }

    #[test]
    fn a_shaped_load_is_two_settings() {
        let c = load(&[
            ("kafka.brokers.host", "k:9092"),
            ("KAFKA_PARTITION_HOT_SHARE", "0.6"),
            ("kafka.partition.silent", " 3, 7,3"),
        ])
        .unwrap();
        assert_eq!(
            c.shape,
            Shape {
                hot_share: 0.6,
                silent: vec![3, 7]
            }
        );
    }

    #[test]
    fn published_names_and_upper_snake() {
        let c = load(&[
            ("kafka.topic", "orders"),
            ("KAFKA_BROKERS_HOST", "my-cluster-kafka-bootstrap:9092"),
            ("KAFKA_TIME_PERIOD", "100"),
            ("kafka.time.period", "250"),
            ("HTTP_PORT", "9000"),
        ])
        .unwrap();
        assert_eq!(c.topic, "orders");
        assert_eq!(c.kafka.brokers, "my-cluster-kafka-bootstrap:9092");
        assert_eq!(c.period, Duration::from_millis(250), "dotted wins");
        assert_eq!(c.http.port, 9000);
    }

    #[test]
    fn bad_values_name_the_key() {
        let broker = ("kafka.brokers.host", "k:9092");
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "missing kafka.brokers.host (or KAFKA_BROKERS_HOST)"),
            (
                &[("kafka.brokers.host", "")],
                "invalid kafka.brokers.host=\"\"",
            ),
            (
                &[broker, ("kafka.time.period", "u5")],
                "invalid kafka.time.period=\"u5\": expected milliseconds 1..=3600000",
            ),
            (
                &[broker, ("KAFKA_TIME_PERIOD", "0")],
                "invalid kafka.time.period=\"0\"",
            ),
            (
                &[broker, ("kafka.time.period", "-5")],
                "invalid kafka.time.period=\"-5\"",
            ),
            (
                &[broker, ("kafka.time.period", "86400000")],
                "invalid kafka.time.period=\"86400000\"",
            ),
            (
                &[broker, ("kafka.topic", "bad topic")],
                "invalid kafka.topic=\"bad topic\"",
            ),
            (
                &[broker, ("kafka.flush.timeout", "x")],
                "invalid kafka.flush.timeout=\"x\"",
            ),
            (
                &[broker, ("HTTP_PORT", "eighty")],
                "invalid http.port=\"eighty\"",
            ),
            (
                &[broker, ("kafka.partition.hot.share", "1.5")],
                "invalid kafka.partition.hot.share=\"1.5\": expected a share from 0 to 1",
            ),
            (
                &[broker, ("KAFKA_PARTITION_SILENT", "3,x")],
                "invalid kafka.partition.silent=\"3,x\": expected comma-separated partition numbers",
            ),
            (
                &[broker, ("kafka.partition.silent", "-1")],
                "invalid kafka.partition.silent=\"-1\"",
            ),
        ];
        for (pairs, expected) in cases {
            let err = load(pairs).unwrap_err();
            assert!(err.starts_with(expected), "{pairs:?}: {err}");
        }
    }
}
