//! Reading settings from the environment, under the published demo's names.
//!
//! Every setting has a dotted name as in the published manifests (`kafka.time.period`)
//! and is also accepted in UPPER_SNAKE form (`KAFKA_TIME_PERIOD`; for camelCase names both
//! `KAFKA_GROUP_ID` and `KAFKA_GROUPID`). When several spellings are set, the dotted one
//! wins. [`Env`] resolves the spellings, envy maps the resolved strings onto each binary's
//! raw struct, and each binary validates that struct in one place with the parsers below,
//! which produce one-line errors naming the key and the bad value.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use serde::de::DeserializeOwned;

/// Exit code of a binary whose configuration is invalid.
pub const EXIT_CONFIG: i32 = 2;

/// A configuration problem, rendered as one line that names the key and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting's dotted name (or the literal variable name for passthrough keys).
    pub key: String,
    /// The offending value; `None` when the setting is missing.
    pub value: Option<String>,
    /// What a valid value looks like.
    pub expected: String,
}

impl ConfigError {
    pub fn invalid(key: &str, value: &str, expected: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            value: Some(value.to_owned()),
            expected: expected.into(),
        }
    }

    pub fn missing(key: &str, expected: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            value: None,
            expected: expected.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(
                f,
                "invalid {}={:?}: expected {}",
                self.key, value, self.expected
            ),
            None => write!(
                f,
                "missing {} (or {}): expected {}",
                self.key,
                upper_snake(&self.key),
                self.expected
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// `kafka.groupId` -> `KAFKA_GROUP_ID`: dots become underscores, camelCase is split.
pub fn upper_snake(dotted: &str) -> String {
    let mut out = String::with_capacity(dotted.len() + 4);
    for c in dotted.chars() {
        match c {
            '.' | '-' => out.push('_'),
            c if c.is_ascii_uppercase() => {
                out.push('_');
                out.push(c);
            }
            c => out.push(c.to_ascii_uppercase()),
        }
    }
    out
}

/// The spellings of a setting, strongest first: dotted, UPPER_SNAKE, and the
/// Spring-style UPPER form that does not split camelCase (`KAFKA_GROUPID`).
pub fn spellings(dotted: &str) -> Vec<String> {
    let mut names = vec![dotted.to_owned(), upper_snake(dotted)];
    let unsplit = dotted.replace(['.', '-'], "_").to_ascii_uppercase();
    if !names.contains(&unsplit) {
        names.push(unsplit);
    }
    names
}

/// A snapshot of environment variables. Tests build one from pairs instead of touching
/// the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

/// A setting found under one spelling while a stronger spelling also had a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadowed {
    pub used: String,
    pub ignored: String,
}

impl Env {
    /// The process environment. Values that are not UTF-8 are kept lossily, so that
    /// validation reports them instead of silently skipping them.
    pub fn from_process() -> Self {
        Self::from_pairs(std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        }))
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of a setting under its strongest spelling that is set.
    pub fn get(&self, dotted: &str) -> Option<&str> {
        spellings(dotted)
            .iter()
            .find_map(|name| self.vars.get(name).map(String::as_str))
    }

    /// Variables whose names start with `prefix`, with the prefix removed.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.vars
            .iter()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|rest| (rest, v.as_str())))
    }

    /// Settings set under more than one spelling with different values: the weaker
    /// spelling is ignored, and the service logs that at start-up.
    pub fn shadowed(&self, keys: &[&str]) -> Vec<Shadowed> {
        let mut out = Vec::new();
        for key in keys {
            let set: Vec<_> = spellings(key)
                .into_iter()
                .filter_map(|name| self.vars.get(&name).map(|v| (name, v)))
                .collect();
            if let Some((used, value)) = set.first() {
                for (name, other) in &set[1..] {
                    if other != value {
                        out.push(Shadowed {
                            used: used.clone(),
                            ignored: name.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// Resolves every key's spellings and lets envy map the strings onto `R`, whose
    /// fields are `Option<String>` renamed to the dotted key in lower case (envy lower-cases
    /// names): `#[serde(rename = "kafka.groupid")]`.
    pub fn resolve<R: DeserializeOwned>(&self, keys: &[&str]) -> Result<R, ConfigError> {
        let resolved = keys.iter().filter_map(|key| {
            self.get(key)
                .map(|value| (key.to_ascii_lowercase(), value.to_owned()))
        });
        envy::from_iter(resolved).map_err(|err| ConfigError {
            key: "environment".into(),
            value: None,
            expected: err.to_string(),
        })
    }
}

/// A whole number of milliseconds within `range`, or `default` when unset.
pub fn millis(
    key: &str,
    raw: Option<&str>,
    default: Duration,
    range: RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    let Some(raw) = raw else { return Ok(default) };
    let expected = || format!("milliseconds {}..={}", range.start(), range.end());
    let ms: u64 = raw
        .trim()
        .parse()
        .map_err(|_| ConfigError::invalid(key, raw, expected()))?;
    if !range.contains(&ms) {
        return Err(ConfigError::invalid(key, raw, expected()));
    }
    Ok(Duration::from_millis(ms))
}

/// A TCP port, or `default` when unset. Port 0 asks the OS for a free one (tests).
pub fn port(key: &str, raw: Option<&str>, default: u16) -> Result<u16, ConfigError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| ConfigError::invalid(key, raw, "a TCP port 0..=65535")),
    }
}

/// A Kafka topic name: 1..=249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn topic(key: &str, raw: &str) -> Result<String, ConfigError> {
    let name = raw.trim();
    let legal = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > 249 || !legal || name == "." || name == ".." {
        return Err(ConfigError::invalid(
            key,
            raw,
            "a topic name of 1..=249 characters from [a-zA-Z0-9._-]",
        ));
    }
    Ok(name.to_owned())
}

/// A comma-separated list of topic names (duplicates removed, order kept).
pub fn topics(key: &str, raw: &str) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.split(',') {
        let name = topic(key, part).map_err(|_| {
            ConfigError::invalid(
                key,
                raw,
                "a comma-separated list of topic names from [a-zA-Z0-9._-]",
            )
        })?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// A comma-separated list of `host:port` brokers, each optionally `scheme://`-prefixed,
/// returned in the form librdkafka's `bootstrap.servers` takes.
pub fn brokers(key: &str, raw: &str) -> Result<String, ConfigError> {
    let expected =
        "a comma-separated list of host:port (for example my-cluster-kafka-bootstrap:9092)";
    let mut out = Vec::new();
    for part in raw.split(',') {
        let part = part.trim();
        let address = part.split_once("://").map_or(part, |(_, rest)| rest);
        let Some((host, port)) = address.rsplit_once(':') else {
            return Err(ConfigError::invalid(key, raw, expected));
        };
        let host_ok =
            !host.is_empty() && !host.contains(char::is_whitespace) && !host.contains(['/', ',']);
        let port_ok = matches!(port.parse::<u16>(), Ok(p) if p > 0);
        if !host_ok || !port_ok {
            return Err(ConfigError::invalid(key, raw, expected));
        }
        out.push(part.to_owned());
    }
    Ok(out.join(","))
}

/// A consumer group id: 1..=255 printable characters.
pub fn group_id(key: &str, raw: &str) -> Result<String, ConfigError> {
    let id = raw.trim();
    if id.is_empty() || id.len() > 255 || id.chars().any(|c| c.is_control()) {
        return Err(ConfigError::invalid(
            key,
            raw,
            "a group id of 1..=255 printable characters",
        ));
    }
    Ok(id.to_owned())
}

/// A value that must be present.
pub fn required<'a>(
    key: &str,
    raw: Option<&'a str>,
    expected: &str,
) -> Result<&'a str, ConfigError> {
    raw.ok_or_else(|| ConfigError::missing(key, expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Raw {
        #[serde(rename = "kafka.time.period")]
        period: Option<String>,
        #[serde(rename = "kafka.groupid")]
        group: Option<String>,
    }

    const KEYS: &[&str] = &["kafka.time.period", "kafka.groupId"];

    #[test]
    fn upper_snake_splits_dots_and_camel_case() {
        assert_eq!(upper_snake("kafka.time.period"), "KAFKA_TIME_PERIOD");
        assert_eq!(upper_snake("kafka.groupId"), "KAFKA_GROUP_ID");
        assert_eq!(
            spellings("kafka.groupId"),
            ["kafka.groupId", "KAFKA_GROUP_ID", "KAFKA_GROUPID"]
        );
        assert_eq!(spellings("kafka.topic"), ["kafka.topic", "KAFKA_TOPIC"]);
    }

    #[test]
    fn both_spellings_are_read_and_dotted_wins() {
        let env = Env::from_pairs([("KAFKA_TIME_PERIOD", "100"), ("KAFKA_GROUPID", "g1")]);
        let raw: Raw = env.resolve(KEYS).unwrap();
        assert_eq!(raw.period.as_deref(), Some("100"));
        assert_eq!(raw.group.as_deref(), Some("g1"));

        let env = Env::from_pairs([
            ("KAFKA_TIME_PERIOD", "100"),
            ("kafka.time.period", "250"),
            ("KAFKA_GROUP_ID", "snake"),
            ("KAFKA_GROUPID", "spring"),
        ]);
        let raw: Raw = env.resolve(KEYS).unwrap();
        assert_eq!(raw.period.as_deref(), Some("250"));
        assert_eq!(raw.group.as_deref(), Some("snake"));
        assert_eq!(
            env.shadowed(KEYS),
            [
                Shadowed {
                    used: "kafka.time.period".into(),
                    ignored: "KAFKA_TIME_PERIOD".into()
                },
                Shadowed {
                    used: "KAFKA_GROUP_ID".into(),
                    ignored: "KAFKA_GROUPID".into()
                },
            ]
        );
    }

    #[test]
    fn equal_values_under_two_spellings_are_not_reported() {
        let env = Env::from_pairs([("KAFKA_TIME_PERIOD", "100"), ("kafka.time.period", "100")]);
        assert!(env.shadowed(KEYS).is_empty());
    }

    #[test]
    fn millis_accepts_range_and_default() {
        let range = 1..=3_600_000;
        let d = Duration::from_millis(1000);
        assert_eq!(millis("k", None, d, range.clone()), Ok(d));
        assert_eq!(
            millis("k", Some(" 50 "), d, range.clone()),
            Ok(Duration::from_millis(50))
        );
        assert_eq!(
            millis("k", Some("3600000"), d, range.clone()),
            Ok(Duration::from_secs(3600))
        );
    }

    #[test]
    fn millis_rejects_every_bad_value_with_key_and_value() {
        for bad in [
            "",
            "u5",
            "-1",
            "0",
            "1.5",
            "3600001",
            "99999999999999999999",
            "1e3",
            "10ms",
        ] {
            let err = millis(
                "kafka.time.period",
                Some(bad),
                Duration::ZERO,
                1..=3_600_000,
            )
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid kafka.time.period={bad:?}: expected milliseconds 1..=3600000")
            );
        }
    }

    #[test]
    fn missing_names_both_spellings() {
        let err = required("kafka.brokers.host", None, "host:port").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing kafka.brokers.host (or KAFKA_BROKERS_HOST): expected host:port"
        );
    }

    #[test]
    fn topics_and_brokers() {
        assert_eq!(topic("t", " event "), Ok("event".into()));
        for bad in ["", "a b", "ev/ent", ".", "..", &"x".repeat(250)] {
            assert!(topic("kafka.topic", bad).is_err(), "{bad:?}");
        }
        assert_eq!(topics("t", "a, b,a"), Ok(vec!["a".into(), "b".into()]));
        assert!(topics("kafka.topics", "a,,b").is_err());
        assert_eq!(
            brokers("b", "k1:9092, PLAINTEXT://k2:9093"),
            Ok("k1:9092,PLAINTEXT://k2:9093".into())
        );
        for bad in [
            "",
            " ",
            "host",
            "host:",
            ":9092",
            "host:0",
            "host:70000",
            "a:1,",
            "h st:1",
        ] {
            assert!(brokers("kafka.brokers", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn group_ids() {
        assert_eq!(group_id("g", "event"), Ok("event".into()));
        assert!(group_id("kafka.groupId", " ").is_err());
        assert!(group_id("kafka.groupId", "a\nb").is_err());
    }

    #[test]
    fn ports() {
        assert_eq!(port("HTTP_PORT", None, 8080), Ok(8080));
        assert_eq!(port("HTTP_PORT", Some("0"), 8080), Ok(0));
        assert!(port("HTTP_PORT", Some("65536"), 8080).is_err());
        assert!(port("HTTP_PORT", Some("http"), 8080).is_err());
    }
}
