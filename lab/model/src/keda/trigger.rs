//! A `kafka` or `apache-kafka` trigger's metadata, read as KEDA's scalers read it.
//!
//! KEDA parses trigger metadata with its typed config (pkg/scalers/scalersconfig/
//! typed_config.go): every value is trimmed and an empty one counts as unset; whole
//! numbers go through `json.Unmarshal` into an int64 (so `05`, `+5`, `5.0` and `1e1` are
//! refused), booleans through Go's `strconv.ParseBool`, enums are compared after trimming,
//! and a key named `xFromEnv` gives the name of a container environment variable holding
//! `x`. Then each scaler's `Validate` refuses combinations (kafka_scaler.go,
//! apache_kafka_scaler.go). This module does the same, and says where the two scalers
//! differ. Keys KEDA does not read are reported (KEDA ignores them silently), with the
//! known key a typo most likely meant.

use std::collections::BTreeMap;

use super::source::{FromEnv, KafkaSource, SaslMode, ScalerKind};
use super::{Problem, Severity};
use crate::emulator::spec::{KafkaTrigger, OffsetReset, DEFAULT_LAG_THRESHOLD};
use crate::rules::RuleId;

/// Keys the `kafka` scaler reads from trigger metadata (kafka_scaler.go kafkaMetadata,
/// `order=triggerMetadata`), plus the AWS keys aws_common.go reads for MSK IAM.
const KAFKA_KEYS: &[&str] = &[
    "bootstrapServers",
    "consumerGroup",
    "topic",
    "partitionLimitation",
    "lagThreshold",
    "activationLagThreshold",
    "offsetResetPolicy",
    "allowIdleConsumers",
    "excludePersistentLag",
    "scaleToZeroOnInvalidOffset",
    "limitToPartitionsWithLag",
    "ensureEvenDistributionOfPartitions",
    "version",
    "tls",
    "unsafeSsl",
    "sasl",
    "saslTokenProvider",
    "awsRegion",
];

/// Keys the `apache-kafka` scaler reads from trigger metadata (apacheKafkaMetadata).
const APACHE_KAFKA_KEYS: &[&str] = &[
    "bootstrapServers",
    "consumerGroup",
    "topic",
    "partitionLimitation",
    "lagThreshold",
    "activationLagThreshold",
    "offsetResetPolicy",
    "allowIdleConsumers",
    "excludePersistentLag",
    "scaleToZeroOnInvalidOffset",
    "limitToPartitionsWithLag",
    "ensureEvenDistributionOfPartitions",
    "sasl",
    "tls",
    "awsRegion",
];

/// Keys both scalers read only from a TriggerAuthentication (`order=authParams`): in the
/// trigger's metadata KEDA never sees them.
const AUTH_ONLY_KEYS: &[&str] = &[
    "ca",
    "cert",
    "key",
    "keyPassword",
    "username",
    "password",
    "scopes",
    "oauthTokenEndpointUri",
    "oauthExtensions",
    "keytab",
    "realm",
    "kerberosConfig",
    "kerberosServiceName",
    "kerberosDisableFAST",
    "awsRoleArn",
    "awsAccessKeyId",
    "awsSecretAccessKey",
    "awsSessionToken",
];

/// AWS keys aws_common.go reads from trigger metadata (MSK IAM only).
const AWS_METADATA_KEYS: &[&str] = &[
    "identityOwner",
    "awsAccessKeyID",
    "awsAccessKeyIDFromEnv",
    "awsSecretAccessKeyFromEnv",
];

/// Keys whose value may come from the container environment (`<key>FromEnv`).
const FROM_ENV: &[&str] = &["bootstrapServers", "consumerGroup", "topic"];

/// Keys KEDA main reads and the pinned release does not.
const MAIN_ONLY_KEYS: &[&str] = &["fullMetadata"];

/// Every key of either scaler, for typo suggestions.
fn all_known() -> impl Iterator<Item = &'static str> {
    KAFKA_KEYS
        .iter()
        .chain(APACHE_KAFKA_KEYS)
        .chain(AUTH_ONLY_KEYS)
        .chain(AWS_METADATA_KEYS)
        .chain(MAIN_ONLY_KEYS)
        .copied()
}

/// The metadata of one trigger and where its problems are reported.
struct Reader<'a> {
    metadata: &'a BTreeMap<String, String>,
    field: String,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn problem(&mut self, severity: Severity, key: &str, rule: RuleId, message: String) {
        let field = if key.is_empty() {
            self.field.clone()
        } else {
            format!("{}.{key}", self.field)
        };
        self.problems.push(Problem {
            severity,
            field,
            rule,
            message,
        });
    }

    fn error(&mut self, key: &str, rule: RuleId, message: String) {
        self.problem(Severity::Error, key, rule, message);
    }

    /// The trimmed value of `key`; `None` when unset or empty (typed_config configParamValue).
    fn get(&self, key: &str) -> Option<&str> {
        self.metadata
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Whether `key` is given through `keyFromEnv` (its value is the container's).
    fn given_from_env(&self, key: &str) -> bool {
        self.get(&format!("{key}FromEnv")).is_some()
    }

    fn int(&mut self, key: &str, default: i64) -> i64 {
        let Some(text) = self.get(key) else {
            return default;
        };
        match json_int(text) {
            Some(n) => n,
            None => {
                let text = text.to_owned();
                self.error(
                    key,
                    RuleId::KafkaValue,
                    format!("{text:?} is not a whole number as KEDA reads one (JSON int64: no sign +, no leading zeros, no decimals)"),
                );
                default
            }
        }
    }

    fn boolean(&mut self, key: &str) -> bool {
        let Some(text) = self.get(key) else {
            return false;
        };
        match go_parse_bool(text) {
            Some(b) => b,
            None => {
                let text = text.to_owned();
                self.error(
                    key,
                    RuleId::KafkaValue,
                    format!("{text:?} is not a boolean as KEDA reads one (true, false, 1, 0, t, f, True, FALSE, ...)"),
                );
                false
            }
        }
    }

    fn one_of(&mut self, key: &str, allowed: &[&str], default: &'static str) -> String {
        match self.get(key) {
            None => default.to_owned(),
            Some(v) if allowed.contains(&v) => v.to_owned(),
            Some(v) => {
                let v = v.to_owned();
                self.error(
                    key,
                    RuleId::KafkaValue,
                    format!("{v:?} must be one of {}", allowed.join(", ")),
                );
                default.to_owned()
            }
        }
    }
}

/// What a trigger's metadata yields: where it reads lag and its scaling settings, as KEDA
/// reads them (a value KEDA refuses reads as its default), and every problem found, errors
/// and warnings. KEDA runs the trigger only when no problem is an error.
pub struct Parsed {
    pub source: KafkaSource,
    pub trigger: KafkaTrigger,
    pub problems: Vec<Problem>,
}

impl Parsed {
    /// Whether KEDA accepts the trigger.
    pub fn accepted(&self) -> bool {
        self.problems.iter().all(|p| p.severity != Severity::Error)
    }
}

/// Reads the metadata of trigger `index` as the `scaler` does. `has_authentication` tells
/// whether the trigger names a TriggerAuthentication (whose values the lab cannot see).
pub fn parse(
    scaler: ScalerKind,
    metadata: &BTreeMap<String, String>,
    has_authentication: bool,
    index: usize,
) -> Parsed {
    let mut r = Reader {
        metadata,
        field: format!("spec.triggers[{index}].metadata"),
        problems: Vec::new(),
    };
    report_unknown_keys(&mut r, scaler);
    let mut source = KafkaSource::new(scaler);
    let mut trigger = KafkaTrigger::default();
    read_identity(&mut r, &mut source);
    read_lag_settings(&mut r, &mut trigger, &mut source);
    check_exclusive(&mut r, &trigger, &source);
    if scaler == ScalerKind::Kafka {
        check_kafka_only(&mut r, &trigger, &source);
    }
    read_auth(&mut r, &mut source, has_authentication);
    Parsed {
        source,
        trigger,
        problems: r.problems,
    }
}

/// Brokers, group and topic, each written or named by `<key>FromEnv`.
fn read_identity(r: &mut Reader, t: &mut KafkaSource) {
    for key in ["bootstrapServers", "consumerGroup"] {
        if r.get(key).is_none() && !r.given_from_env(key) {
            r.error(
                key,
                RuleId::KafkaRequired,
                format!(
                    "missing: KEDA's {} scaler requires {key} (or {key}FromEnv)",
                    t.scaler.trigger_type()
                ),
            );
        }
    }
    let list = |v: &str| {
        v.split(',')
            .map(|s| s.trim().to_owned())
            .collect::<Vec<_>>()
    };
    t.bootstrap_servers = r.get("bootstrapServers").map(list).unwrap_or_default();
    t.consumer_group = r.get("consumerGroup").unwrap_or_default().to_owned();
    t.topics = match (r.get("topic"), t.scaler) {
        (None, _) => Vec::new(),
        (Some(topic), ScalerKind::Kafka) => vec![topic.to_owned()],
        (Some(topics), ScalerKind::ApacheKafka) => list(topics),
    };
    let from_env = |key: &str| r.get(&format!("{key}FromEnv")).map(str::to_owned);
    t.from_env = FromEnv {
        bootstrap_servers: from_env("bootstrapServers"),
        consumer_group: from_env("consumerGroup"),
        topic: from_env("topic"),
    };
}

/// Thresholds, the offset reset policy, the partition options and limitation.
fn read_lag_settings(r: &mut Reader, t: &mut KafkaTrigger, source: &mut KafkaSource) {
    t.lag_threshold = r.int("lagThreshold", DEFAULT_LAG_THRESHOLD);
    if r.get("lagThreshold").is_some() && t.lag_threshold <= 0 {
        let message = format!("{} must be above 0", t.lag_threshold);
        r.error("lagThreshold", RuleId::KafkaThreshold, message);
    }
    t.activation_lag_threshold = r.int("activationLagThreshold", 0);
    if t.activation_lag_threshold < 0 {
        let message = format!("{} must be 0 or more", t.activation_lag_threshold);
        r.error("activationLagThreshold", RuleId::KafkaThreshold, message);
    }
    let policy = r.one_of(
        "offsetResetPolicy",
        &["latest", "earliest"],
        OffsetReset::KEDA_DEFAULT.as_str(),
    );
    t.offset_reset = OffsetReset::parse(&policy).unwrap_or(OffsetReset::KEDA_DEFAULT);
    source.offset_reset_given = r.get("offsetResetPolicy").is_some();
    t.allow_idle_consumers = r.boolean("allowIdleConsumers");
    t.exclude_persistent_lag = r.boolean("excludePersistentLag");
    t.scale_to_zero_on_invalid_offset = r.boolean("scaleToZeroOnInvalidOffset");
    t.limit_to_partitions_with_lag = r.boolean("limitToPartitionsWithLag");
    t.ensure_even_distribution_of_partitions = r.boolean("ensureEvenDistributionOfPartitions");
    let Some(text) = r.get("partitionLimitation").map(str::to_owned) else {
        return;
    };
    let parsed = match source.scaler {
        ScalerKind::Kafka => kafka_partition_limitation(&text),
        ScalerKind::ApacheKafka => apache_partition_limitation(&text),
    };
    match parsed {
        Err(message) => r.error("partitionLimitation", RuleId::KafkaValue, message),
        // Both scalers drop the limitation without a topic (Validate).
        Ok(_) if !source.has_topic() => r.problem(
            Severity::Warning,
            "partitionLimitation",
            RuleId::KafkaExclusive,
            "ignored by KEDA without a topic".into(),
        ),
        Ok(ids) => t.partition_limitation = Some(ids),
    }
}

/// Mutually exclusive options and options that need a topic (both scalers' Validate).
fn check_exclusive(r: &mut Reader, t: &KafkaTrigger, source: &KafkaSource) {
    if t.allow_idle_consumers && t.limit_to_partitions_with_lag {
        r.error(
            "",
            RuleId::KafkaExclusive,
            "allowIdleConsumers and limitToPartitionsWithLag cannot be set simultaneously".into(),
        );
    }
    if !source.has_topic() && t.limit_to_partitions_with_lag {
        r.error(
            "limitToPartitionsWithLag",
            RuleId::KafkaExclusive,
            "topic must be specified when using limitToPartitionsWithLag".into(),
        );
    }
}

/// What only the `kafka` scaler refuses (kafka_scaler.go Validate, parseKafkaMetadata).
fn check_kafka_only(r: &mut Reader, t: &KafkaTrigger, source: &KafkaSource) {
    if t.limit_to_partitions_with_lag && t.ensure_even_distribution_of_partitions {
        r.error(
            "",
            RuleId::KafkaExclusive,
            "limitToPartitionsWithLag and ensureEvenDistributionOfPartitions cannot be set simultaneously".into(),
        );
    }
    if !source.has_topic() && t.ensure_even_distribution_of_partitions {
        r.error(
            "ensureEvenDistributionOfPartitions",
            RuleId::KafkaExclusive,
            "topic must be specified when using ensureEvenDistributionOfPartitions".into(),
        );
    }
    if let Some(v) = r.get("version").filter(|v| !sarama_version_ok(v)) {
        let message = format!("{v:?} is not a Kafka version sarama parses (1.0.0 or later as X.Y.Z, older as 0.X.Y.Z)");
        r.error("version", RuleId::KafkaValue, message);
    }
    let full = r.get("fullMetadata").and_then(go_parse_bool);
    if full == Some(false) && !source.has_topic() {
        r.problem(
            Severity::Warning,
            "fullMetadata",
            RuleId::KafkaMainOnly,
            "KEDA main refuses fullMetadata \"false\" without a topic".into(),
        );
    }
}

fn report_unknown_keys(r: &mut Reader, scaler: ScalerKind) {
    let known: &[&str] = match scaler {
        ScalerKind::Kafka => KAFKA_KEYS,
        ScalerKind::ApacheKafka => APACHE_KAFKA_KEYS,
    };
    let keys: Vec<String> = r.metadata.keys().cloned().collect();
    let aws = matches!(r.get("sasl"), Some("aws_msk_iam"))
        || matches!(r.get("saslTokenProvider"), Some("aws_msk_iam"));
    for key in keys {
        let base = key.strip_suffix("FromEnv").filter(|b| FROM_ENV.contains(b));
        if known.contains(&key.as_str()) || base.is_some() {
            continue;
        }
        if aws && AWS_METADATA_KEYS.contains(&key.as_str()) {
            continue;
        }
        let (rule, message) = if MAIN_ONLY_KEYS.contains(&key.as_str())
            && scaler == ScalerKind::Kafka
        {
            (
                RuleId::KafkaMainOnly,
                format!(
                    "KEDA {} ignores it: only KEDA main (after v2.20.2) reads {key}",
                    crate::pins::pins().keda
                ),
            )
        } else if AUTH_ONLY_KEYS.contains(&key.as_str()) {
            (
                RuleId::KafkaUnknownKey,
                "KEDA reads it only from a TriggerAuthentication (authenticationRef), never from trigger metadata: here it is ignored".to_owned(),
            )
        } else if let Some(guess) = closest(&key) {
            (
                RuleId::KafkaUnknownKey,
                format!("unknown key (did you mean {guess}?): KEDA ignores it silently"),
            )
        } else {
            (
                RuleId::KafkaUnknownKey,
                format!(
                    "unknown key: KEDA's {} scaler ignores it silently",
                    scaler.trigger_type()
                ),
            )
        };
        r.problem(Severity::Warning, &key, rule, message);
    }
}

/// `tls` and `sasl`, and the SASL and TLS settings KEDA refuses before it connects.
/// Username, password, cert and key live in a TriggerAuthentication: without
/// `authenticationRef` they cannot be there.
fn read_auth(r: &mut Reader, t: &mut KafkaSource, has_authentication: bool) {
    t.tls = r.one_of("tls", &["enable", "disable"], "disable") == "enable";
    // The words each scaler's enum allows (kafka_scaler.go and apache_kafka_scaler.go
    // kafkaMetadata tags).
    let allowed: &[SaslMode] = match t.scaler {
        ScalerKind::Kafka => &[
            SaslMode::None,
            SaslMode::Plaintext,
            SaslMode::ScramSha256,
            SaslMode::ScramSha512,
            SaslMode::OAuthBearer,
            SaslMode::Gssapi,
        ],
        ScalerKind::ApacheKafka => &[
            SaslMode::None,
            SaslMode::Plaintext,
            SaslMode::ScramSha256,
            SaslMode::ScramSha512,
            SaslMode::Gssapi,
            SaslMode::AwsMskIam,
        ],
    };
    let words: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
    t.sasl = SaslMode::parse(&r.one_of("sasl", &words, "none")).unwrap_or(SaslMode::None);
    match t.scaler {
        ScalerKind::Kafka => check_kafka_auth(r, t, has_authentication),
        ScalerKind::ApacheKafka => check_apache_kafka_auth(r, t, has_authentication),
    }
}

/// kafka_scaler.go parseTLS, parseSASL.
fn check_kafka_auth(r: &mut Reader, t: &KafkaSource, has_authentication: bool) {
    r.boolean("unsafeSsl");
    let provider = r.one_of("saslTokenProvider", &["bearer", "aws_msk_iam"], "bearer");
    let sasl = t.sasl;
    let needs_secret = sasl.needs_credentials()
        || sasl == SaslMode::Gssapi
        || (sasl == SaslMode::OAuthBearer && provider == "bearer");
    if needs_secret && !has_authentication {
        r.error(
            "sasl",
            RuleId::KafkaAuth,
            format!("sasl {} needs a username and a password, which KEDA reads only from a TriggerAuthentication: without authenticationRef the scaler fails with \"no username given\"", sasl.as_str()),
        );
    }
    if sasl == SaslMode::OAuthBearer && provider == "aws_msk_iam" {
        if !t.tls {
            r.error(
                "tls",
                RuleId::KafkaAuth,
                "TLS is required for AWS MSK authentication".into(),
            );
        }
        if r.get("awsRegion").is_none() {
            r.error("awsRegion", RuleId::KafkaAuth, "no awsRegion given".into());
        }
    }
}

/// apache_kafka_scaler.go Validate, parseApacheKafkaAuthParams.
fn check_apache_kafka_auth(r: &mut Reader, t: &KafkaSource, has_authentication: bool) {
    let sasl = t.sasl;
    if sasl.needs_credentials() && !has_authentication {
        r.error(
            "sasl",
            RuleId::KafkaAuth,
            format!("sasl {} needs a username and a password from a TriggerAuthentication (authenticationRef)", sasl.as_str()),
        );
    }
    if sasl == SaslMode::Gssapi {
        r.error(
            "sasl",
            RuleId::KafkaAuth,
            "the apache-kafka scaler accepts gssapi in its enum but has no client for it (\"err sasl type\")".into(),
        );
    }
    if sasl == SaslMode::AwsMskIam {
        if r.get("awsRegion").is_none() {
            r.error(
                "awsRegion",
                RuleId::KafkaAuth,
                "awsRegion must be set when using AWS MSK IAM".into(),
            );
        }
        if !t.tls {
            r.error(
                "tls",
                RuleId::KafkaAuth,
                "TLS must be enabled when using AWS MSK IAM".into(),
            );
        }
    }
}

/// Go's `json.Unmarshal` of a number into an int64: an optional `-`, then `0` or digits
/// without a leading zero, within int64.
pub fn json_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let well_formed = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    well_formed.then(|| text.parse().ok()).flatten()
}

/// Go's `strconv.ParseBool`.
pub fn go_parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 10, 32)`: an optional sign, decimal digits, within int32.
fn go_parse_int32(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// kafka_scaler.go `parsePartitionLimitation`: `1,3-5` -> [1, 3, 4, 5].
fn kafka_partition_limitation(text: &str) -> Result<Vec<i32>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        if part.contains('-') {
            let bounds: Vec<&str> = part.split('-').collect();
            let [start, end] = bounds.as_slice() else {
                return Err(format!("invalid partition limitation range: {part}"));
            };
            let (Some(start), Some(end)) =
                (go_parse_int32(start.trim()), go_parse_int32(end.trim()))
            else {
                return Err(format!("invalid partition limitation: {part}"));
            };
            out.extend(start..=end);
        } else {
            out.push(
                go_parse_int32(part)
                    .ok_or_else(|| format!("invalid partition limitation: {part}"))?,
            );
        }
    }
    Ok(out)
}

/// apache_kafka_scaler.go `partitionLimitation` (`[]int`, `range` tag): typed_config.go
/// setConfigValueSlice and setConfigValueRange, each number through `json.Unmarshal`.
fn apache_partition_limitation(text: &str) -> Result<Vec<i32>, String> {
    let mut out = Vec::new();
    for (i, part) in text.split(',').map(str::trim).enumerate() {
        let number = |s: &str| {
            json_int(s.trim())
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| format!("slice element {i}: {s:?} is not a whole number"))
        };
        if part.contains('-') {
            let bounds: Vec<&str> = part.split('-').collect();
            let [start, end] = bounds.as_slice() else {
                return Err(format!(
                    "slice element {i}: expected format start-end, got {part:?}"
                ));
            };
            out.extend(number(start)?..=number(end)?);
        } else {
            out.push(number(part)?);
        }
    }
    Ok(out)
}

/// sarama `ParseKafkaVersion`: at least 5 characters; `0.X.Y.Z` before Kafka 1.0,
/// `X.Y.Z` after.
fn sarama_version_ok(v: &str) -> bool {
    let numbers = |s: &str, n: usize| {
        let parts: Vec<&str> = s.split('.').collect();
        parts.len() == n
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    v.len() >= 5
        && if let Some(rest) = v.strip_prefix("0.") {
            numbers(rest, 3)
        } else {
            !v.starts_with('0') && numbers(v, 3)
        }
}

/// The known key closest to `unknown` (edit distance <= 3, case-insensitive).
fn closest(unknown: &str) -> Option<&'static str> {
    all_known()
        .map(|k| {
            (
                strsim::levenshtein(&unknown.to_ascii_lowercase(), &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const BASE: &[(&str, &str)] = &[
        ("bootstrapServers", "k:9092"),
        ("consumerGroup", "g"),
        ("topic", "t"),
    ];

    fn with(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut m = meta(BASE);
        m.extend(meta(extra));
        m
    }

    fn errors(scaler: ScalerKind, m: &BTreeMap<String, String>) -> Vec<String> {
        parse(scaler, m, false, 0)
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect()
    }

    #[test]
    fn whole_numbers_are_json_int64_as_in_typed_config_set_config_value_helper() {
        for good in ["5", "0", "-3", "9223372036854775807"] {
            assert!(json_int(good).is_some(), "{good}");
        }
        for bad in [
            "05",
            "+5",
            "5.0",
            "1e1",
            "",
            "-",
            "9223372036854775808",
            " 5",
        ] {
            assert!(json_int(bad).is_none(), "{bad}");
        }
        // Trimmed first, as configParamValue does.
        let t = parse(
            ScalerKind::Kafka,
            &with(&[("lagThreshold", " 7 ")]),
            false,
            0,
        )
        .trigger;
        assert_eq!(t.lag_threshold, 7);
        let e = errors(ScalerKind::Kafka, &with(&[("lagThreshold", "05")]));
        assert!(
            e[0].contains("lagThreshold: \"05\" is not a whole number"),
            "{e:?}"
        );
    }

    #[test]
    fn required_keys_and_their_from_env_forms_kafka_metadata_tags() {
        let e = errors(ScalerKind::Kafka, &meta(&[("topic", "t")]));
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("bootstrapServers: missing"), "{e:?}");
        let from_env = meta(&[
            ("bootstrapServersFromEnv", "BROKERS"),
            ("consumerGroupFromEnv", "GROUP"),
        ]);
        assert!(errors(ScalerKind::Kafka, &from_env).is_empty());
        assert!(
            errors(ScalerKind::ApacheKafka, &meta(&[("consumerGroup", "g")]))[0]
                .contains("bootstrapServers: missing")
        );
    }

    #[test]
    fn kafka_validate_refuses_what_kafka_scaler_go_refuses() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("lagThreshold", "0")], "lagThreshold: 0 must be above 0"),
            (&[("activationLagThreshold", "-1")], "must be 0 or more"),
            (
                &[("offsetResetPolicy", "oldest")],
                "must be one of latest, earliest",
            ),
            (
                &[("allowIdleConsumers", "yes")],
                "allowIdleConsumers: \"yes\" is not a boolean",
            ),
            (
                &[
                    ("allowIdleConsumers", "true"),
                    ("limitToPartitionsWithLag", "true"),
                ],
                "cannot be set simultaneously",
            ),
            (
                &[
                    ("ensureEvenDistributionOfPartitions", "true"),
                    ("limitToPartitionsWithLag", "true"),
                ],
                "limitToPartitionsWithLag and ensureEvenDistributionOfPartitions",
            ),
            (
                &[("version", "4.3")],
                "version: \"4.3\" is not a Kafka version",
            ),
            (
                &[("partitionLimitation", "1,x")],
                "invalid partition limitation: x",
            ),
            (
                &[("partitionLimitation", "1-2-3")],
                "invalid partition limitation range: 1-2-3",
            ),
            (
                &[("tls", "on")],
                "tls: \"on\" must be one of enable, disable",
            ),
            (
                &[("sasl", "scram_sha512")],
                "needs a username and a password",
            ),
            (
                &[("sasl", "SCRAM-SHA-512")],
                "must be one of none, plaintext",
            ),
        ];
        for (extra, expected) in cases {
            let e = errors(ScalerKind::Kafka, &with(extra));
            assert!(
                e.iter().any(|m| m.contains(expected)),
                "{extra:?}: {expected:?} not in {e:?}"
            );
        }
        let no_topic = meta(&[("bootstrapServers", "k:9092"), ("consumerGroup", "g")]);
        for key in [
            "limitToPartitionsWithLag",
            "ensureEvenDistributionOfPartitions",
        ] {
            let mut m = no_topic.clone();
            m.insert(key.into(), "true".into());
            let e = errors(ScalerKind::Kafka, &m);
            assert!(e[0].contains("topic must be specified"), "{key}: {e:?}");
        }
    }

    #[test]
    fn partition_limitation_lists_and_ranges_in_both_scalers() {
        let t = parse(
            ScalerKind::Kafka,
            &with(&[("partitionLimitation", "0, 2-4,+7")]),
            false,
            0,
        )
        .trigger;
        assert_eq!(t.partition_limitation, Some(vec![0, 2, 3, 4, 7]));
        let t = parse(
            ScalerKind::ApacheKafka,
            &with(&[("partitionLimitation", "1 - 3,5")]),
            false,
            0,
        )
        .trigger;
        assert_eq!(t.partition_limitation, Some(vec![1, 2, 3, 5]));
        assert!(
            !errors(
                ScalerKind::ApacheKafka,
                &with(&[("partitionLimitation", "+7")])
            )
            .is_empty(),
            "apache-kafka reads numbers as JSON: no + sign"
        );
        let no_topic = meta(&[
            ("bootstrapServers", "k"),
            ("consumerGroup", "g"),
            ("partitionLimitation", "1"),
        ]);
        let parsed = parse(ScalerKind::Kafka, &no_topic, false, 0);
        assert_eq!(
            parsed.trigger.partition_limitation, None,
            "dropped without a topic"
        );
        assert!(parsed.problems[0]
            .message
            .contains("ignored by KEDA without a topic"));
    }

    #[test]
    fn apache_kafka_differs_where_its_scaler_does() {
        let t = parse(
            ScalerKind::ApacheKafka,
            &with(&[("topic", "a, b")]),
            false,
            0,
        )
        .source;
        assert_eq!(t.topics, ["a", "b"], "topic is a list");
        // ensureEvenDistributionOfPartitions with limitToPartitionsWithLag: not refused.
        let m = with(&[
            ("ensureEvenDistributionOfPartitions", "true"),
            ("limitToPartitionsWithLag", "true"),
        ]);
        assert!(errors(ScalerKind::ApacheKafka, &m).is_empty());
        // version is not one of its keys.
        let p = parse(
            ScalerKind::ApacheKafka,
            &with(&[("version", "1.0.0")]),
            false,
            0,
        );
        assert_eq!(p.problems[0].rule, RuleId::KafkaUnknownKey);
        assert!(!errors(ScalerKind::ApacheKafka, &with(&[("sasl", "oauthbearer")])).is_empty());
    }

    #[test]
    fn unknown_keys_typos_auth_only_keys_and_main_only_keys_are_warned_about() {
        let p = parse(
            ScalerKind::Kafka,
            &with(&[
                ("lagTreshold", "5"),
                ("password", "x"),
                ("fullMetadata", "false"),
                ("colour", "red"),
            ]),
            false,
            0,
        );
        let warnings: Vec<(String, RuleId, String)> = p
            .problems
            .iter()
            .map(|p| (p.field.clone(), p.rule, p.message.clone()))
            .collect();
        assert_eq!(
            p.trigger.lag_threshold, 10,
            "the typo changed nothing, as in KEDA"
        );
        let find = |k: &str| warnings.iter().find(|w| w.0.ends_with(k)).unwrap().clone();
        assert!(find("lagTreshold").2.contains("did you mean lagThreshold?"));
        assert!(find("password")
            .2
            .contains("only from a TriggerAuthentication"));
        assert_eq!(find("fullMetadata").1, RuleId::KafkaMainOnly);
        assert!(find("colour").2.contains("ignores it silently"));
    }
}
