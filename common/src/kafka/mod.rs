//! Kafka client settings, in one place for both binaries.
//!
//! [`KafkaSettings`] holds what every client needs (bootstrap, client id, TLS and SASL
//! from [`security`]) plus a passthrough for any other librdkafka property: `KAFKA_EXTRA_<property>` where the
//! property is written with dots (`KAFKA_EXTRA_sasl.mechanism`) or with underscores
//! (`KAFKA_EXTRA_SASL_MECHANISM`; librdkafka property names contain no underscores).
//! Passthrough properties are applied last, so they can override the defaults here.
//! Secrets never reach the logs: [`KafkaSettings::describe`] redacts them.

use rdkafka::ClientConfig;

use crate::config::{ConfigError, Env};

pub mod security;

pub use security::Security;

/// Prefix of the environment variables passed through to librdkafka.
pub const EXTRA_PREFIX: &str = "KAFKA_EXTRA_";

/// Connection settings shared by the producer and the consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSettings {
    /// Bootstrap brokers, `host:port[,host:port…]` (librdkafka `bootstrap.servers`).
    pub brokers: String,
    /// Client id shown in broker logs and quotas (librdkafka `client.id`; default here:
    /// the binary's name and the pod's host name).
    pub client_id: String,
    /// TLS and SASL (`kafka.security.protocol` and friends; default plaintext).
    pub security: Security,
    /// Extra librdkafka properties from `KAFKA_EXTRA_*`, applied after everything else.
    pub extra: Vec<(String, String)>,
}

impl KafkaSettings {
    /// Settings for `brokers`, with the passthrough properties found in `env`.
    pub fn new(brokers: String, client_id: String, env: &Env) -> Result<Self, ConfigError> {
        let mut extra = Vec::new();
        for (suffix, value) in env.with_prefix(EXTRA_PREFIX) {
            let property = if suffix.contains('.') {
                suffix.to_owned()
            } else {
                suffix.to_ascii_lowercase().replace('_', ".")
            };
            if property.is_empty()
                || !property
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.')
            {
                return Err(ConfigError::invalid(
                    &format!("{EXTRA_PREFIX}{suffix}"),
                    if is_secret(&property) { "[redacted]" } else { value },
                    "a librdkafka property name after KAFKA_EXTRA_ (for example KAFKA_EXTRA_sasl.mechanism)",
                ));
            }
            extra.push((property, value.to_owned()));
        }
        Ok(Self {
            brokers,
            client_id,
            security: Security::from_env(env)?,
            extra,
        })
    }

    /// A librdkafka configuration with the common settings and the passthrough applied.
    /// `role_defaults` are the producer's or consumer's own properties; passthrough
    /// properties override them.
    pub fn client_config(&self, role_defaults: &[(&str, String)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id)
            // Fail requests (and so show an outage) within seconds rather than a minute.
            .set("socket.timeout.ms", "10000")
            .set("socket.connection.setup.timeout.ms", "10000")
            // librdkafka logs every failed connection attempt; once per outage is enough.
            .set("log.connection.close", "false");
        for (key, value) in self.security.properties() {
            config.set(key, value);
        }
        for (key, value) in role_defaults {
            config.set(*key, value);
        }
        for (key, value) in &self.extra {
            config.set(key, value);
        }
        config
    }

    /// A one-line description for the start-up log, with secret values redacted.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "bootstrap.servers={} client.id={} {}",
            self.brokers,
            self.client_id,
            self.security.describe()
        );
        for (key, value) in &self.extra {
            let shown = if is_secret(key) {
                "[redacted]"
            } else {
                value.as_str()
            };
            out.push_str(&format!(" {key}={shown}"));
        }
        out
    }
}

/// Whether a librdkafka property holds a secret (passwords, keys, tokens).
pub fn is_secret(property: &str) -> bool {
    let p = property.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "oauthbearer.config",
        "key.pem",
        "ssl.key",
        "keystore",
    ]
    .iter()
    .any(|needle| p.contains(needle))
}

/// Maps a client-creation error from librdkafka (an unknown or invalid property) to a
/// configuration error naming the variable the user set.
pub fn creation_error(settings: &KafkaSettings, err: &rdkafka::error::KafkaError) -> ConfigError {
    let message = err.to_string();
    let culprit = settings
        .extra
        .iter()
        .find(|(key, _)| message.contains(key.as_str()));
    match culprit {
        Some((key, value)) => ConfigError::invalid(
            &format!("{EXTRA_PREFIX}{key}"),
            if is_secret(key) { "[redacted]" } else { value },
            format!("a value librdkafka accepts ({message})"),
        ),
        None => ConfigError {
            key: "kafka client".into(),
            value: None,
            expected: message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<KafkaSettings, ConfigError> {
        KafkaSettings::new(
            "k:9092".into(),
            "test".into(),
            &Env::from_pairs(pairs.iter().copied()),
        )
    }

    #[test]
    fn passthrough_accepts_dotted_and_snake_properties() {
        let s = settings(&[
            ("KAFKA_EXTRA_sasl.mechanism", "SCRAM-SHA-512"),
            ("KAFKA_EXTRA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("OTHER", "x"),
        ])
        .unwrap();
        assert_eq!(
            s.extra,
            [
                ("security.protocol".to_owned(), "SASL_SSL".to_owned()),
                ("sasl.mechanism".to_owned(), "SCRAM-SHA-512".to_owned()),
            ]
        );
        let config = s.client_config(&[("security.protocol", "plaintext".into())]);
        assert_eq!(
            config.get("security.protocol"),
            Some("SASL_SSL"),
            "passthrough wins"
        );
        assert_eq!(config.get("bootstrap.servers"), Some("k:9092"));
    }

    #[test]
    fn passthrough_rejects_bad_names() {
        let err = settings(&[("KAFKA_EXTRA_", "x")]).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid KAFKA_EXTRA_=\"x\""),
            "{err}"
        );
        assert!(settings(&[("KAFKA_EXTRA_a b", "x")]).is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let s = settings(&[
            ("KAFKA_EXTRA_sasl.password", "hunter2"),
            ("KAFKA_EXTRA_sasl.username", "alice"),
        ])
        .unwrap();
        let line = s.describe();
        assert!(!line.contains("hunter2"), "{line}");
        assert!(line.contains("sasl.password=[redacted]"), "{line}");
        assert!(line.contains("sasl.username=alice"), "{line}");
    }

    #[test]
    fn unknown_property_is_a_config_error_naming_the_variable() {
        use rdkafka::producer::BaseProducer;
        let s = settings(&[("KAFKA_EXTRA_no.such.property", "1")]).unwrap();
        let Err(err) = s.client_config(&[]).create::<BaseProducer>() else {
            panic!("librdkafka accepted an unknown property");
        };
        let config_err = creation_error(&s, &err);
        assert_eq!(config_err.key, "KAFKA_EXTRA_no.such.property");
        assert!(
            config_err
                .to_string()
                .contains("No such configuration property"),
            "{config_err}"
        );
    }
}
