//! The producer's settings, read from the environment and validated in one place.

use std::path::PathBuf;
use std::time::Duration;

use common::config::{self, ConfigError, Env};
use common::kafka::KafkaSettings;
use common::service::{self, HttpSettings};
use serde::Deserialize;

/// Limits of the event period, in milliseconds (also enforced by `PUT /period`).
pub const PERIOD_RANGE_MS: std::ops::RangeInclusive<u64> = 1..=3_600_000;

/// Every setting the producer reads (dotted names; UPPER_SNAKE accepted too).
pub const KEYS: &[&str] = &[
    "kafka.topic",
    "kafka.brokers.host",
    "kafka.time.period",
    "kafka.flush.timeout",
    "ledger.file",
    "http.address",
    "http.port",
];

/// The producer's configuration.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// Topic the events go to (`kafka.topic`, default `event`).
    pub topic: String,
    /// Brokers (`kafka.brokers.host`, required) and librdkafka passthrough settings.
    pub kafka: KafkaSettings,
    /// Time between two events (`kafka.time.period`, milliseconds, default 1000,
    /// 1..=3600000). Can be changed at run time with `PUT /period`.
    pub period: Duration,
    /// Upper bound on the final flush at shutdown (`kafka.flush.timeout`, milliseconds,
    /// default 10000). Events still undelivered then are counted and logged.
    pub flush_timeout: Duration,
    /// This instance's id, written into every event's `source` (the pod name).
    pub source: String,
    /// Append one line per delivered event here (`ledger.file`, default none).
    pub ledger: Option<PathBuf>,
    /// Where the HTTP API listens (default 0.0.0.0:8080).
    pub http: HttpSettings,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "kafka.topic")]
    topic: Option<String>,
    #[serde(rename = "kafka.brokers.host")]
    brokers: Option<String>,
    #[serde(rename = "kafka.time.period")]
    period: Option<String>,
    #[serde(rename = "kafka.flush.timeout")]
    flush_timeout: Option<String>,
    #[serde(rename = "ledger.file")]
    ledger: Option<String>,
}

impl ProducerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let raw: Raw = env.resolve(KEYS)?;
        let topic = config::topic("kafka.topic", raw.topic.as_deref().unwrap_or("event"))?;
        let brokers = config::brokers(
            "kafka.brokers.host",
            config::required(
                "kafka.brokers.host",
                raw.brokers.as_deref(),
                "a comma-separated list of host:port",
            )?,
        )?;
        let period = config::millis(
            "kafka.time.period",
            raw.period.as_deref(),
            Duration::from_secs(1),
            PERIOD_RANGE_MS,
        )?;
        let flush_timeout = config::millis(
            "kafka.flush.timeout",
            raw.flush_timeout.as_deref(),
            Duration::from_secs(10),
            1..=300_000,
        )?;
        let source = service::instance_id(env);
        let kafka = KafkaSettings::new(brokers, format!("kafka-producer-callback-{source}"), env)?;
        Ok(Self {
            topic,
            kafka,
            period,
            flush_timeout,
            source,
            ledger: raw.ledger.filter(|p| !p.is_empty()).map(PathBuf::from),
            http: HttpSettings::from_env(env)?,
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
        ];
        for (pairs, expected) in cases {
            let err = load(pairs).unwrap_err();
            assert!(err.starts_with(expected), "{pairs:?}: {err}");
        }
    }
}
