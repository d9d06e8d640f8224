//! Reading a KEDA ScaledObject manifest into a [`ScalingSpec`].
//!
//! Strict where KEDA or the API server would refuse (wrong types, unquoted trigger
//! values, bad enum values: a clear error naming the field) and loud where KEDA would be
//! silent: an unknown trigger metadata key is a warning, with the known key it most
//! likely meant, because KEDA ignores it and so the setting does nothing.

use std::path::Path;

use serde_yaml_ng::{Mapping, Value};

use crate::emulator::spec::{
    Behavior, KafkaTrigger, Millis, OffsetReset, Policy, PolicyKind, ScalingRules, ScalingSpec,
    SelectPolicy, HPA_SYNC,
};

/// The Kafka trigger metadata keys KEDA knows (2.8 to 2.x).
pub const KNOWN_KAFKA_KEYS: &[&str] = &[
    "bootstrapServers",
    "bootstrapServersFromEnv",
    "consumerGroup",
    "consumerGroupFromEnv",
    "topic",
    "topicFromEnv",
    "lagThreshold",
    "activationLagThreshold",
    "offsetResetPolicy",
    "allowIdleConsumers",
    "scaleToZeroOnInvalidOffset",
    "excludePersistentLag",
    "limitToPartitionsWithLag",
    "ensureEvenDistributionOfPartitions",
    "partitionLimitation",
    "version",
    "sasl",
    "saslTokenProvider",
    "tls",
    "unsafeSsl",
    "username",
    "password",
    "ca",
    "cert",
    "key",
    "keyPassword",
    "awsRegion",
    "awsEndpoint",
    "oauthTokenEndpointUri",
    "scopes",
    "oauthExtensions",
    "kerberosConfig",
    "kerberosServiceName",
    "kerberosDisableFAST",
    "realm",
    "keytab",
];

/// A ScaledObject that cannot be used, with the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not YAML: {message}")]
    Yaml { path: String, message: String },
    #[error("{0}: no ScaledObject in this file")]
    NoScaledObject(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: &str, message: impl Into<String>) -> SpecError {
    SpecError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A parsed ScaledObject and what KEDA would have ignored in it.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub name: String,
    pub spec: ScalingSpec,
    pub warnings: Vec<String>,
}

/// Reads the first ScaledObject of a (possibly multi-document) YAML file.
pub fn load(path: &Path) -> Result<Parsed, SpecError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        path: shown.clone(),
        source,
    })?;
    for document in serde_yaml_ng::Deserializer::from_str(&text) {
        let value: Value =
            serde::Deserialize::deserialize(document).map_err(|e| SpecError::Yaml {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        if value.get("kind").and_then(Value::as_str) == Some("ScaledObject") {
            return parse(&value);
        }
    }
    Err(SpecError::NoScaledObject(shown))
}

/// Parses one ScaledObject document.
pub fn parse(doc: &Value) -> Result<Parsed, SpecError> {
    let mut warnings = Vec::new();
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_owned();
    let spec = doc
        .get("spec")
        .and_then(Value::as_mapping)
        .ok_or_else(|| invalid("spec", "missing"))?;
    let target = spec
        .get("scaleTargetRef")
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("spec.scaleTargetRef.name", "missing"))?
        .to_owned();
    let seconds = |key: &str, default: u64| -> Result<Millis, SpecError> {
        Ok(int(spec, key, &format!("spec.{key}"))?.unwrap_or(default) * 1000)
    };
    let polling_interval = seconds("pollingInterval", 30)?;
    if polling_interval == 0 {
        return Err(invalid("spec.pollingInterval", "must be at least 1"));
    }
    let cooldown_period = seconds("cooldownPeriod", 300)?;
    let initial_cooldown_period = seconds("initialCooldownPeriod", 0)?;
    let min_replicas = int(spec, "minReplicaCount", "spec.minReplicaCount")?.unwrap_or(0) as u32;
    let max_replicas = int(spec, "maxReplicaCount", "spec.maxReplicaCount")?.unwrap_or(100) as u32;
    let idle_replicas = int(spec, "idleReplicaCount", "spec.idleReplicaCount")?.map(|n| n as u32);
    if min_replicas > max_replicas {
        return Err(invalid(
            "spec.minReplicaCount",
            format!("{min_replicas} is above maxReplicaCount {max_replicas}"),
        ));
    }
    if max_replicas == 0 {
        return Err(invalid("spec.maxReplicaCount", "must be at least 1"));
    }
    let behavior = spec
        .get("advanced")
        .and_then(|a| a.get("horizontalPodAutoscalerConfig"))
        .and_then(|h| h.get("behavior"))
        .map(parse_behavior)
        .transpose()?;
    let trigger = parse_trigger(spec, &mut warnings)?;
    Ok(Parsed {
        name,
        spec: ScalingSpec {
            target,
            polling_interval,
            cooldown_period,
            initial_cooldown_period,
            min_replicas,
            max_replicas,
            idle_replicas,
            behavior,
            hpa_sync: HPA_SYNC,
            trigger,
        },
        warnings,
    })
}

/// A non-negative integer field, if present.
fn int(map: &Mapping, key: &str, field: &str) -> Result<Option<u64>, SpecError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(field, format!("{n} is not a whole number >= 0"))),
        Some(other) => Err(invalid(
            field,
            format!("expected a whole number, got {}", describe(other)),
        )),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        Value::Bool(b) => format!("the boolean {b}"),
        other => serde_yaml_ng::to_string(other)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
    }
}

fn parse_behavior(v: &Value) -> Result<Behavior, SpecError> {
    let map = v
        .as_mapping()
        .ok_or_else(|| invalid("behavior", "expected a mapping"))?;
    let rules = |key: &str, default: ScalingRules| -> Result<ScalingRules, SpecError> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => parse_rules(v, &format!("behavior.{key}"), default),
        }
    };
    Ok(Behavior {
        scale_up: rules("scaleUp", ScalingRules::default_up())?,
        scale_down: rules("scaleDown", ScalingRules::default_down())?,
    })
}

/// Scaling rules with Kubernetes' defaults for any field left out.
fn parse_rules(v: &Value, field: &str, default: ScalingRules) -> Result<ScalingRules, SpecError> {
    let map = v
        .as_mapping()
        .ok_or_else(|| invalid(field, "expected a mapping"))?;
    let window = match int(
        map,
        "stabilizationWindowSeconds",
        &format!("{field}.stabilizationWindowSeconds"),
    )? {
        Some(s) if s > 3600 => {
            return Err(invalid(
                &format!("{field}.stabilizationWindowSeconds"),
                "must be 0..=3600",
            ))
        }
        Some(s) => s * 1000,
        None => default.stabilization_window,
    };
    let select = match map.get("selectPolicy").map(|v| v.as_str()) {
        None => SelectPolicy::Max,
        Some(Some("Max")) => SelectPolicy::Max,
        Some(Some("Min")) => SelectPolicy::Min,
        Some(Some("Disabled")) => SelectPolicy::Disabled,
        Some(_) => {
            return Err(invalid(
                &format!("{field}.selectPolicy"),
                "expected Max, Min or Disabled",
            ))
        }
    };
    let policies = match map.get("policies") {
        None | Some(Value::Null) => default.policies,
        Some(Value::Sequence(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, p)| parse_policy(p, &format!("{field}.policies[{i}]")))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(invalid(
                &format!("{field}.policies"),
                "expected a non-empty list",
            ))
        }
    };
    Ok(ScalingRules {
        stabilization_window: window,
        select,
        policies,
    })
}

fn parse_policy(v: &Value, field: &str) -> Result<Policy, SpecError> {
    let map = v
        .as_mapping()
        .ok_or_else(|| invalid(field, "expected a mapping"))?;
    let kind = match map.get("type").and_then(Value::as_str) {
        Some("Pods") => PolicyKind::Pods,
        Some("Percent") => PolicyKind::Percent,
        _ => {
            return Err(invalid(
                &format!("{field}.type"),
                "expected Pods or Percent",
            ))
        }
    };
    let value = int(map, "value", &format!("{field}.value"))?
        .ok_or_else(|| invalid(&format!("{field}.value"), "missing"))?;
    let period = int(map, "periodSeconds", &format!("{field}.periodSeconds"))?
        .ok_or_else(|| invalid(&format!("{field}.periodSeconds"), "missing"))?;
    if value == 0 {
        return Err(invalid(&format!("{field}.value"), "must be above 0"));
    }
    if !(1..=1800).contains(&period) {
        return Err(invalid(
            &format!("{field}.periodSeconds"),
            "must be 1..=1800",
        ));
    }
    Ok(Policy {
        kind,
        value: value as u32,
        period: period * 1000,
    })
}

fn parse_trigger(spec: &Mapping, warnings: &mut Vec<String>) -> Result<KafkaTrigger, SpecError> {
    let triggers = spec
        .get("triggers")
        .and_then(Value::as_sequence)
        .ok_or_else(|| invalid("spec.triggers", "missing"))?;
    let mut kafka = None;
    for (i, t) in triggers.iter().enumerate() {
        match t.get("type").and_then(Value::as_str) {
            Some("kafka") if kafka.is_none() => kafka = Some((i, t)),
            Some("kafka") => warnings.push(format!(
                "spec.triggers[{i}]: a second kafka trigger is not emulated"
            )),
            Some(other) => warnings.push(format!(
                "spec.triggers[{i}]: trigger type {other} is not emulated"
            )),
            None => return Err(invalid(&format!("spec.triggers[{i}].type"), "missing")),
        }
    }
    let (i, trigger) = kafka.ok_or_else(|| invalid("spec.triggers", "no trigger of type kafka"))?;
    let base = format!("spec.triggers[{i}].metadata");
    let metadata = trigger
        .get("metadata")
        .and_then(Value::as_mapping)
        .ok_or_else(|| invalid(&base, "missing"))?;
    let mut t = KafkaTrigger::default();
    for (key, value) in metadata {
        let key = key
            .as_str()
            .ok_or_else(|| invalid(&base, "keys must be strings"))?;
        let field = format!("{base}.{key}");
        let Some(text) = value.as_str() else {
            return Err(invalid(
                &field,
                format!(
                    "KEDA trigger metadata values are strings: quote {}",
                    describe(value)
                ),
            ));
        };
        match key {
            "bootstrapServers" => t.bootstrap_servers = text.to_owned(),
            "consumerGroup" => t.consumer_group = text.to_owned(),
            "topic" => t.topic = Some(text.to_owned()),
            "lagThreshold" => {
                t.lag_threshold = text.trim().parse().ok().filter(|n: &i64| *n > 0).ok_or_else(|| invalid(&field, format!("{text:?} is not a whole number above 0")))?
            }
            "activationLagThreshold" => {
                t.activation_lag_threshold = text.trim().parse().ok().filter(|n: &i64| *n >= 0).ok_or_else(|| invalid(&field, format!("{text:?} is not a whole number >= 0")))?
            }
            "offsetResetPolicy" => {
                t.offset_reset = match text {
                    "latest" => OffsetReset::Latest,
                    "earliest" => OffsetReset::Earliest,
                    _ => return Err(invalid(&field, format!("{text:?}: expected latest or earliest"))),
                }
            }
            "allowIdleConsumers" => t.allow_idle_consumers = boolean(&field, text)?,
            "scaleToZeroOnInvalidOffset" => t.scale_to_zero_on_invalid_offset = boolean(&field, text)?,
            "excludePersistentLag" => t.exclude_persistent_lag = boolean(&field, text)?,
            "limitToPartitionsWithLag" => t.limit_to_partitions_with_lag = boolean(&field, text)?,
            "ensureEvenDistributionOfPartitions" => {
                t.ensure_even_distribution_of_partitions = boolean(&field, text)?;
                if t.ensure_even_distribution_of_partitions {
                    warnings.push(format!("{field}: only its partition cap is emulated, not the rounding to a factor of the partition count"));
                }
            }
            known if KNOWN_KAFKA_KEYS.contains(&known) => {}
            unknown => warnings.push(match closest(unknown) {
                Some(guess) => format!("{field}: unknown kafka trigger key (did you mean {guess}?): KEDA ignores it silently"),
                None => format!("{field}: unknown kafka trigger key: KEDA ignores it silently"),
            }),
        }
    }
    if t.limit_to_partitions_with_lag && t.allow_idle_consumers {
        warnings.push(format!(
            "{base}: KEDA rejects allowIdleConsumers together with limitToPartitionsWithLag"
        ));
    }
    Ok(t)
}

/// Go's strconv.ParseBool, which KEDA uses.
fn boolean(field: &str, text: &str) -> Result<bool, SpecError> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(invalid(
            field,
            format!("{text:?}: expected \"true\" or \"false\""),
        )),
    }
}

/// The known key closest to `unknown` (edit distance <= 3).
fn closest(unknown: &str) -> Option<&'static str> {
    KNOWN_KAFKA_KEYS
        .iter()
        .map(|k| {
            (
                distance(&unknown.to_ascii_lowercase(), &k.to_ascii_lowercase()),
                *k,
            )
        })
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(yaml: &str) -> Result<Parsed, SpecError> {
        parse(&serde_yaml_ng::from_str(yaml).unwrap())
    }

    const MINIMAL: &str = "
kind: ScaledObject
metadata: {name: so}
spec:
  scaleTargetRef: {name: kafka-consumer}
  triggers:
    - type: kafka
      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t}
";

    #[test]
    fn the_repository_manifest_is_the_published_intent() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../k8s/keda/scaled-object.yaml");
        let parsed = load(&path).unwrap();
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let s = parsed.spec;
        assert_eq!(
            (
                s.target.as_str(),
                s.cooldown_period,
                s.max_replicas,
                s.polling_interval
            ),
            ("kafka-consumer", 30_000, 10, 30_000)
        );
        assert_eq!(
            (
                s.trigger.lag_threshold,
                s.trigger.consumer_group.as_str(),
                s.trigger.topic.as_deref()
            ),
            (5, "event", Some("event"))
        );
        let b = s.behavior.unwrap();
        assert_eq!(
            b.scale_up,
            ScalingRules::default_up(),
            "scale-up defaults filled in"
        );
        assert_eq!(b.scale_down.stabilization_window, 30_000);
        assert_eq!(
            b.scale_down.policies,
            [Policy {
                kind: PolicyKind::Percent,
                value: 50,
                period: 30_000
            }]
        );
    }

    #[test]
    fn defaults_are_keda_s() {
        let s = from(MINIMAL).unwrap().spec;
        assert_eq!(
            (
                s.polling_interval,
                s.cooldown_period,
                s.min_replicas,
                s.max_replicas
            ),
            (30_000, 300_000, 0, 100)
        );
        assert_eq!(
            (s.trigger.lag_threshold, s.trigger.offset_reset),
            (10, OffsetReset::Latest)
        );
        assert!(s.behavior.is_none(), "no behavior: the HPA's legacy path");
    }

    #[test]
    fn partial_behavior_gets_kubernetes_defaults() {
        let yaml = MINIMAL.replace(
            "  triggers:",
            "  advanced: {horizontalPodAutoscalerConfig: {behavior: {scaleDown: {policies: [{type: Pods, value: 1, periodSeconds: 60}]}}}}\n  triggers:",
        );
        let b = from(&yaml).unwrap().spec.behavior.unwrap();
        assert_eq!(b.scale_down.stabilization_window, 300_000);
        assert_eq!(b.scale_down.select, SelectPolicy::Max);
        assert_eq!(b.scale_up, ScalingRules::default_up());
    }

    #[test]
    fn typos_in_trigger_keys_are_warned_about() {
        let yaml = MINIMAL.replace("topic: t}", "topic: t, lagTreshold: '5'}");
        let parsed = from(&yaml).unwrap();
        assert_eq!(
            parsed.spec.trigger.lag_threshold, 10,
            "the typo changed nothing, as in KEDA"
        );
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].contains("did you mean lagThreshold?"),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            (
                MINIMAL.replace("topic: t}", "topic: t, lagThreshold: 5}"),
                "metadata.lagThreshold: KEDA trigger metadata values are strings",
            ),
            (
                MINIMAL.replace("topic: t}", "topic: t, lagThreshold: '0'}"),
                "lagThreshold: \"0\" is not a whole number above 0",
            ),
            (
                MINIMAL.replace("topic: t}", "topic: t, offsetResetPolicy: oldest}"),
                "offsetResetPolicy: \"oldest\"",
            ),
            (
                MINIMAL.replace("topic: t}", "topic: t, allowIdleConsumers: 'yes'}"),
                "allowIdleConsumers: \"yes\"",
            ),
            (
                MINIMAL.replace("  triggers:", "  maxReplicaCount: u5\n  triggers:"),
                "spec.maxReplicaCount: expected a whole number, got the string \"u5\"",
            ),
            (
                MINIMAL.replace(
                    "  triggers:",
                    "  minReplicaCount: 3\n  maxReplicaCount: 2\n  triggers:",
                ),
                "spec.minReplicaCount: 3 is above maxReplicaCount 2",
            ),
            (
                MINIMAL.replace("type: kafka", "type: cpu"),
                "spec.triggers: no trigger of type kafka",
            ),
            (
                MINIMAL.replace("  scaleTargetRef: {name: kafka-consumer}\n", ""),
                "spec.scaleTargetRef.name: missing",
            ),
        ];
        for (yaml, expected) in cases {
            let err = from(&yaml).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected:?} not in {err:?}");
        }
    }

    #[test]
    fn missing_file_and_file_without_scaled_object() {
        assert!(load(Path::new("/nonexistent.yaml"))
            .unwrap_err()
            .to_string()
            .starts_with("cannot read /nonexistent.yaml"));
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../k8s/kafka/topic.yaml");
        assert!(matches!(load(&path), Err(SpecError::NoScaledObject(_))));
    }
}
