//! Reading settings from the environment, under the published demo's names.
//!
//! Every setting is declared once, as a [`Setting`]: its dotted name as in the published
//! manifests (`kafka.time.period`), how its value is read ([`Kind`]), its default and what
//! it means. From that one declaration come the spellings accepted (the dotted name, its
//! UPPER_SNAKE form `KAFKA_TIME_PERIOD`, and for camelCase names both `KAFKA_GROUP_ID` and
//! `KAFKA_GROUPID`; the dotted one wins), the warning when two spellings disagree, the
//! parsing with its one-line error naming the key and the bad value, and the
//! configuration tables of docs/reference.md (a test compares them). [`Env`] resolves the spellings (envy maps what it found
//! to the dotted names) and reads each setting with [`Env::read`] and friends.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

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

/// How a setting's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number of milliseconds within `min..=max`.
    Millis { min: u64, max: u64 },
    /// A Kafka topic name.
    Topic,
    /// Comma-separated topic names.
    Topics,
    /// Comma-separated `host:port`, optionally `scheme://`-prefixed.
    Brokers,
    /// A consumer group id.
    GroupId,
    /// One of these words, in any case (as librdkafka reads its own); the service gets the
    /// declared spelling.
    OneOf(&'static [&'static str]),
    /// A TCP port (0: any free port).
    Port,
    /// An IP address to bind.
    Address,
    /// A file path; empty means unset.
    Path,
    /// Any text; empty means unset.
    Text,
    /// Any text, never shown in logs or errors; empty means unset.
    Secret,
    /// A share, a decimal number 0..=1.
    Share,
    /// Comma-separated partition numbers (0 and up); empty means none.
    Partitions,
}

/// A setting's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// This value (text the setting's parser takes).
    Value(&'static str),
    /// The setting must be given.
    Required,
    /// Unset means none, described as given ("none", "librdkafka's (45000)").
    Unset(&'static str),
}

/// One setting, declared once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The published dotted name.
    pub key: &'static str,
    pub kind: Kind,
    pub default: Preset,
    /// What it is, as docs/reference.md says (the valid range is appended for durations).
    pub meaning: &'static str,
}

impl Setting {
    /// What a valid value looks like, for errors.
    pub fn expected(&self) -> String {
        match self.kind {
            Kind::Millis { min, max } => format!("milliseconds {min}..={max}"),
            Kind::Topic => "a topic name of 1..=249 characters from [a-zA-Z0-9._-]".into(),
            Kind::Topics => "a comma-separated list of topic names from [a-zA-Z0-9._-]".into(),
            Kind::Brokers => {
                "a comma-separated list of host:port (for example my-cluster-kafka-bootstrap:9092)"
                    .into()
            }
            Kind::GroupId => "a group id of 1..=255 printable characters".into(),
            Kind::OneOf(words) => words.join(" or "),
            Kind::Port => "a TCP port 0..=65535".into(),
            Kind::Address => "an IP address such as 0.0.0.0".into(),
            Kind::Path => "a file path".into(),
            Kind::Text | Kind::Secret => "text".into(),
            Kind::Share => "a share from 0 to 1, such as 0.5".into(),
            Kind::Partitions => "comma-separated partition numbers, such as 0,3".into(),
        }
    }

    /// docs/reference.md's "meaning" column: the meaning, with the range of a duration.
    pub fn readme_meaning(&self) -> String {
        match self.kind {
            Kind::Millis { min, max } => format!("{}, {min}..={max}", self.meaning),
            _ => self.meaning.to_owned(),
        }
    }

    /// docs/reference.md's "default" column.
    pub fn readme_default(&self) -> String {
        match self.default {
            Preset::Value(v) => format!("`{v}`"),
            Preset::Required => "required".into(),
            Preset::Unset(shown) => shown.into(),
        }
    }

    /// docs/reference.md's "UPPER_SNAKE" column: the other spellings.
    pub fn readme_spellings(&self) -> String {
        spellings(self.key)[1..]
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Parses `raw` as this setting's kind (secrets are never echoed back).
    fn parse(&self, raw: &str) -> Result<Value, ConfigError> {
        let shown = if self.kind == Kind::Secret {
            "[redacted]"
        } else {
            raw
        };
        let invalid = || ConfigError::invalid(self.key, shown, self.expected());
        let trimmed = raw.trim();
        Ok(match self.kind {
            Kind::Millis { min, max } => {
                let ms: u64 = trimmed.parse().map_err(|_| invalid())?;
                if !(min..=max).contains(&ms) {
                    return Err(invalid());
                }
                Value::Duration(Duration::from_millis(ms))
            }
            Kind::Topic => Value::Text(valid_topic(trimmed).ok_or_else(invalid)?),
            Kind::Topics => {
                let mut out: Vec<String> = Vec::new();
                for part in raw.split(',') {
                    let name = valid_topic(part.trim()).ok_or_else(invalid)?;
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
                Value::List(out)
            }
            Kind::Brokers => Value::Text(valid_brokers(raw).ok_or_else(invalid)?),
            Kind::GroupId => {
                if trimmed.is_empty()
                    || trimmed.len() > 255
                    || trimmed.chars().any(|c| c.is_control())
                {
                    return Err(invalid());
                }
                Value::Text(trimmed.to_owned())
            }
            Kind::OneOf(words) => Value::Word(
                words
                    .iter()
                    .copied()
                    .find(|w| w.eq_ignore_ascii_case(trimmed))
                    .ok_or_else(invalid)?,
            ),
            Kind::Port => Value::Port(trimmed.parse().map_err(|_| invalid())?),
            Kind::Address => Value::Address(trimmed.parse().map_err(|_| invalid())?),
            Kind::Share => {
                let share: f64 = trimmed.parse().map_err(|_| invalid())?;
                if !(0.0..=1.0).contains(&share) {
                    return Err(invalid());
                }
                Value::Share(share)
            }
            Kind::Partitions => {
                let mut out: Vec<i32> = Vec::new();
                for part in trimmed.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let p: i32 = part.parse().map_err(|_| invalid())?;
                    if p < 0 {
                        return Err(invalid());
                    }
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
                Value::Partitions(out)
            }
            Kind::Path | Kind::Text | Kind::Secret => {
                if raw.is_empty() {
                    Value::None
                } else {
                    Value::Text(raw.to_owned())
                }
            }
        })
    }
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    None,
    Duration(Duration),
    Text(String),
    List(Vec<String>),
    Word(&'static str),
    Port(u16),
    Address(IpAddr),
    Share(f64),
    Partitions(Vec<i32>),
}

/// A Kafka topic name: 1..=249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
fn valid_topic(name: &str) -> Option<String> {
    let legal = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    (!name.is_empty() && name.len() <= 249 && legal && name != "." && name != "..")
        .then(|| name.to_owned())
}

/// `host:port[,host:port…]`, each optionally `scheme://`-prefixed, as librdkafka's
/// `bootstrap.servers` takes it.
fn valid_brokers(raw: &str) -> Option<String> {
    let mut out = Vec::new();
    for part in raw.split(',') {
        let part = part.trim();
        let address = part.split_once("://").map_or(part, |(_, rest)| rest);
        let (host, port) = address.rsplit_once(':')?;
        let host_ok =
            !host.is_empty() && !host.contains(char::is_whitespace) && !host.contains(['/', ',']);
        let port_ok = matches!(port.parse::<u16>(), Ok(p) if p > 0);
        if !host_ok || !port_ok {
            return None;
        }
        out.push(part.to_owned());
    }
    Some(out.join(","))
}

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
    pub fn shadowed(&self, settings: &[&Setting]) -> Vec<Shadowed> {
        let mut out = Vec::new();
        for setting in settings {
            let set: Vec<_> = spellings(setting.key)
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

    /// The values of `settings` found under any spelling, by dotted name (envy does the
    /// mapping, lowercasing the names as it does for every struct it fills).
    pub fn resolve(&self, settings: &[&Setting]) -> BTreeMap<String, String> {
        let found = settings.iter().filter_map(|s| {
            self.get(s.key)
                .map(|value| (s.key.to_ascii_lowercase(), value.to_owned()))
        });
        envy::from_iter(found).unwrap_or_default()
    }

    /// The raw text of `setting` (given, or its default), or the error for a missing one.
    fn raw<'a>(&'a self, setting: &Setting) -> Result<Option<&'a str>, ConfigError> {
        match (self.get(setting.key), setting.default) {
            (Some(raw), _) => Ok(Some(raw)),
            (None, Preset::Value(v)) => Ok(Some(v)),
            (None, Preset::Required) => Err(ConfigError::missing(setting.key, setting.expected())),
            (None, Preset::Unset(_)) => Ok(None),
        }
    }

    fn value(&self, setting: &Setting) -> Result<Value, ConfigError> {
        match self.raw(setting)? {
            Some(raw) => setting.parse(raw),
            None => Ok(Value::None),
        }
    }

    /// The value of `setting`, which has a default or is required.
    fn present(&self, setting: &Setting) -> Result<Value, ConfigError> {
        match self.value(setting)? {
            Value::None => Err(ConfigError::missing(setting.key, setting.expected())),
            value => Ok(value),
        }
    }

    /// A duration setting (`Kind::Millis`) with a default, or required.
    pub fn duration(&self, setting: &Setting) -> Result<Duration, ConfigError> {
        match self.present(setting)? {
            Value::Duration(d) => Ok(d),
            _ => Err(ConfigError::missing(setting.key, setting.expected())),
        }
    }

    /// A duration setting that may be unset.
    pub fn optional_duration(&self, setting: &Setting) -> Result<Option<Duration>, ConfigError> {
        match self.value(setting)? {
            Value::Duration(d) => Ok(Some(d)),
            _ => Ok(None),
        }
    }

    /// A text setting (`Topic`, `Brokers`, `GroupId`) with a default, or required.
    pub fn text(&self, setting: &Setting) -> Result<String, ConfigError> {
        self.optional_text(setting)?
            .ok_or_else(|| ConfigError::missing(setting.key, setting.expected()))
    }

    /// A text setting that may be unset or empty (`Path`, `Text`, `Secret`).
    pub fn optional_text(&self, setting: &Setting) -> Result<Option<String>, ConfigError> {
        match self.value(setting)? {
            Value::Text(t) => Ok(Some(t)),
            _ => Ok(None),
        }
    }

    /// A `Topics` setting.
    pub fn list(&self, setting: &Setting) -> Result<Vec<String>, ConfigError> {
        match self.present(setting)? {
            Value::List(l) => Ok(l),
            _ => Err(ConfigError::missing(setting.key, setting.expected())),
        }
    }

    /// A `OneOf` setting with a default, or required.
    pub fn word(&self, setting: &Setting) -> Result<&'static str, ConfigError> {
        match self.present(setting)? {
            Value::Word(w) => Ok(w),
            _ => Err(ConfigError::missing(setting.key, setting.expected())),
        }
    }

    /// A `OneOf` setting that may be unset.
    pub fn optional_word(&self, setting: &Setting) -> Result<Option<&'static str>, ConfigError> {
        match self.value(setting)? {
            Value::Word(w) => Ok(Some(w)),
            _ => Ok(None),
        }
    }

    /// A `Port` setting with a default.
    pub fn port(&self, setting: &Setting) -> Result<u16, ConfigError> {
        match self.present(setting)? {
            Value::Port(p) => Ok(p),
            _ => Err(ConfigError::missing(setting.key, setting.expected())),
        }
    }

    /// An `Address` setting with a default.
    pub fn address(&self, setting: &Setting) -> Result<IpAddr, ConfigError> {
        match self.present(setting)? {
            Value::Address(a) => Ok(a),
            _ => Err(ConfigError::missing(setting.key, setting.expected())),
        }
    }

    /// A `Share` setting with a default.
    pub fn share(&self, setting: &Setting) -> Result<f64, ConfigError> {
        match self.present(setting)? {
            Value::Share(s) => Ok(s),
            _ => Err(ConfigError::missing(setting.key, setting.expected())),
        }
    }

    /// A `Partitions` setting (unset or empty: none).
    pub fn partitions(&self, setting: &Setting) -> Result<Vec<i32>, ConfigError> {
        match self.value(setting)? {
            Value::Partitions(p) => Ok(p),
            _ => Ok(Vec::new()),
        }
    }

    /// A `Path` setting that may be unset.
    pub fn path(&self, setting: &Setting) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self.optional_text(setting)?.map(PathBuf::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Setting = Setting {
        key: "kafka.time.period",
        kind: Kind::Millis {
            min: 1,
            max: 3_600_000,
        },
        default: Preset::Value("1000"),
        meaning: "ms between two events",
    };
    const GROUP: Setting = Setting {
        key: "kafka.groupId",
        kind: Kind::GroupId,
        default: Preset::Value("event"),
        meaning: "consumer group",
    };
    const BROKERS: Setting = Setting {
        key: "kafka.brokers.host",
        kind: Kind::Brokers,
        default: Preset::Required,
        meaning: "bootstrap brokers",
    };

    #[test]
    fn upper_snake_splits_dots_and_camel_case() {
        assert_eq!(upper_snake("kafka.time.period"), "KAFKA_TIME_PERIOD");
        assert_eq!(upper_snake("kafka.groupId"), "KAFKA_GROUP_ID");
        assert_eq!(
            spellings("kafka.groupId"),
            ["kafka.groupId", "KAFKA_GROUP_ID", "KAFKA_GROUPID"]
        );
        assert_eq!(spellings("kafka.topic"), ["kafka.topic", "KAFKA_TOPIC"]);
        assert_eq!(
            GROUP.readme_spellings(),
            "`KAFKA_GROUP_ID`, `KAFKA_GROUPID`"
        );
    }

    #[test]
    fn both_spellings_are_read_and_dotted_wins() {
        let env = Env::from_pairs([("KAFKA_TIME_PERIOD", "100"), ("KAFKA_GROUPID", "g1")]);
        assert_eq!(env.duration(&PERIOD).unwrap(), Duration::from_millis(100));
        assert_eq!(env.text(&GROUP).unwrap(), "g1");

        let env = Env::from_pairs([
            ("KAFKA_TIME_PERIOD", "100"),
            ("kafka.time.period", "250"),
            ("KAFKA_GROUP_ID", "snake"),
            ("KAFKA_GROUPID", "spring"),
        ]);
        assert_eq!(env.duration(&PERIOD).unwrap(), Duration::from_millis(250));
        assert_eq!(env.text(&GROUP).unwrap(), "snake");
        assert_eq!(
            env.shadowed(&[&PERIOD, &GROUP]),
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
        assert_eq!(
            env.resolve(&[&PERIOD, &GROUP])
                .get("kafka.groupid")
                .map(String::as_str),
            Some("snake")
        );
    }

    #[test]
    fn equal_values_under_two_spellings_are_not_reported() {
        let env = Env::from_pairs([("KAFKA_TIME_PERIOD", "100"), ("kafka.time.period", "100")]);
        assert!(env.shadowed(&[&PERIOD]).is_empty());
    }

    #[test]
    fn defaults_apply_when_unset() {
        let env = Env::default();
        assert_eq!(env.duration(&PERIOD).unwrap(), Duration::from_secs(1));
        assert_eq!(env.text(&GROUP).unwrap(), "event");
    }

    #[test]
    fn durations_reject_every_bad_value_with_key_and_value() {
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
            let err = Env::from_pairs([("kafka.time.period", bad)])
                .duration(&PERIOD)
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid kafka.time.period={bad:?}: expected milliseconds 1..=3600000")
            );
        }
        assert_eq!(
            Env::from_pairs([("kafka.time.period", " 3600000 ")])
                .duration(&PERIOD)
                .unwrap(),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn missing_names_both_spellings() {
        let err = Env::default().text(&BROKERS).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing kafka.brokers.host (or KAFKA_BROKERS_HOST): expected a comma-separated list of host:port (for example my-cluster-kafka-bootstrap:9092)"
        );
    }

    #[test]
    fn topics_and_brokers() {
        let topic = Setting {
            key: "kafka.topic",
            kind: Kind::Topic,
            default: Preset::Value("event"),
            meaning: "",
        };
        let topics = Setting {
            key: "kafka.topics",
            kind: Kind::Topics,
            ..topic
        };
        let read = |s: &Setting, v: &str| Env::from_pairs([(s.key, v)]);
        assert_eq!(read(&topic, " event ").text(&topic).unwrap(), "event");
        for bad in ["", "a b", "ev/ent", ".", "..", &"x".repeat(250)] {
            assert!(read(&topic, bad).text(&topic).is_err(), "{bad:?}");
        }
        assert_eq!(read(&topics, "a, b,a").list(&topics).unwrap(), ["a", "b"]);
        assert!(read(&topics, "a,,b").list(&topics).is_err());
        assert_eq!(
            read(&BROKERS, "k1:9092, PLAINTEXT://k2:9093")
                .text(&BROKERS)
                .unwrap(),
            "k1:9092,PLAINTEXT://k2:9093"
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
            assert!(read(&BROKERS, bad).text(&BROKERS).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn group_ids_words_ports_and_secrets() {
        assert!(Env::from_pairs([("kafka.groupId", " ")])
            .text(&GROUP)
            .is_err());
        assert!(Env::from_pairs([("kafka.groupId", "a\nb")])
            .text(&GROUP)
            .is_err());
        let reset = Setting {
            key: "kafka.auto.offset.reset",
            kind: Kind::OneOf(&["earliest", "latest"]),
            default: Preset::Value("earliest"),
            meaning: "",
        };
        assert_eq!(Env::default().word(&reset).unwrap(), "earliest");
        assert_eq!(
            Env::from_pairs([("KAFKA_AUTO_OFFSET_RESET", "LATEST")])
                .word(&reset)
                .unwrap(),
            "latest"
        );
        assert_eq!(
            Env::from_pairs([("kafka.auto.offset.reset", "smallest")])
                .word(&reset)
                .unwrap_err()
                .to_string(),
            "invalid kafka.auto.offset.reset=\"smallest\": expected earliest or latest"
        );
        let port = Setting {
            key: "http.port",
            kind: Kind::Port,
            default: Preset::Value("8080"),
            meaning: "",
        };
        assert_eq!(Env::default().port(&port).unwrap(), 8080);
        assert!(Env::from_pairs([("HTTP_PORT", "65536")])
            .port(&port)
            .is_err());
        let secret = Setting {
            key: "kafka.sasl.password",
            kind: Kind::Secret,
            default: Preset::Unset("none"),
            meaning: "",
        };
        assert_eq!(Env::default().optional_text(&secret).unwrap(), None);
        assert_eq!(
            Env::from_pairs([("KAFKA_SASL_PASSWORD", "hunter2")])
                .optional_text(&secret)
                .unwrap()
                .as_deref(),
            Some("hunter2")
        );
        let err = Env::from_pairs([("kafka.sasl.password", "")])
            .text(&secret)
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
    }
}
