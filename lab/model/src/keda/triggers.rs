//! Every trigger of a ScaledObject, read as its scaler reads it, into the emulator's
//! [`Triggers`]: `kafka` and `apache-kafka` ([`super::trigger`]), `cpu` and `memory`
//! (pkg/scalers/cpu_memory_scaler.go `parseResourceMetadata`; the webhook's
//! `verifyCPUMemoryScalers` against the scale target), and the value triggers
//! (`prometheus`, `metrics-api`, `kubernetes-workload`, `kubernetes-resource`: a
//! threshold and an activation threshold; their value comes from a trace or scenario).
//! Any other type is refused as not emulated, naming it. Each external metric is named
//! as KEDA names it (`s<index>-<name>`, controllers/keda/hpa.go, with
//! pkg/util/normalize_string.go NormalizeString), and a name made twice is KEDA's error.

use std::collections::BTreeMap;

use super::model::{self, ScaledObject};
use super::source::{KafkaSource, ScalerKind};
use super::trigger::{self, go_parse_bool};
use super::validate::Collector;
use super::workload::Workload;
use super::{quantity, TriggerReading};
use crate::emulator::spec::{KafkaTrigger, MetricType};
use crate::emulator::triggers::{
    Resource, ResourceTarget, ResourceTrigger, Source, TriggerSpec, Triggers, ValueTrigger,
};
use crate::rules::RuleId;

/// The trigger types the emulator runs, for the refusal of the others.
pub const EMULATED: &[&str] = &[
    "kafka",
    "apache-kafka",
    "cpu",
    "memory",
    "prometheus",
    "metrics-api",
    "kubernetes-workload",
    "kubernetes-resource",
];

/// What reading the triggers gives.
pub struct Read {
    /// Every Kafka trigger, as KEDA reads it.
    pub kafka: Vec<TriggerReading>,
    /// The first Kafka trigger's settings, metricType and useCachedMetrics.
    pub primary: Option<(KafkaTrigger, MetricType, bool)>,
    /// The trigger list's shape for the emulator (modifiers and requests filled later).
    pub triggers: Triggers,
}

/// Reads every trigger of `so`, its scale target `target` when known.
pub fn read(c: &mut Collector, so: &ScaledObject, target: Option<&Workload>) -> Read {
    let mut read = Read {
        kafka: Vec::new(),
        primary: None,
        triggers: Triggers {
            kafka_index: None,
            ..Triggers::default()
        },
    };
    let namespace = so.metadata.namespace.as_deref().unwrap_or("default");
    let modifiers = uses_modifiers(so);
    let mut names: Vec<(String, usize)> = Vec::new();
    for (i, t) in so.spec.triggers.iter().enumerate() {
        let scaler = match t.kind.as_str() {
            "kafka" => Some(ScalerKind::Kafka),
            "apache-kafka" => Some(ScalerKind::ApacheKafka),
            _ => None,
        };
        let (metric, source) = if let Some(scaler) = scaler {
            let parsed = trigger::parse(scaler, &t.metadata, t.authentication_ref.is_some(), i);
            c.extend(parsed.problems);
            check_kafka_emulated(c, i, &parsed.source);
            let metric = kafka_metric(i, &parsed.source);
            read.kafka.push(TriggerReading {
                index: i,
                source: parsed.source,
                trigger: parsed.trigger.clone(),
            });
            if read.primary.is_none() {
                let metric_type = super::validate::metric_type(c, i, t.metric_type.as_deref());
                read.primary = Some((parsed.trigger, metric_type, t.use_cached_metrics));
                read.triggers.kafka_index = Some(i);
                read.triggers.kafka_name = t.name.clone().filter(|n| !n.is_empty());
                read.triggers.kafka_metric = metric.clone();
                read.triggers.kafka_reads = reads(&read.kafka[read.kafka.len() - 1].source);
                names.push((metric, i));
                continue;
            }
            (metric, Source::Kafka(parsed.trigger))
        } else if let Some(resource) = resource_of(&t.kind) {
            let Some(r) = read_resource(c, i, t, resource, target) else {
                continue;
            };
            (resource.as_str().to_owned(), Source::Resource(r))
        } else if let Some(kind) = VALUE_TRIGGERS.iter().find(|v| v.kind == t.kind) {
            let Some(v) = read_value(c, i, t, kind, modifiers) else {
                continue;
            };
            (
                value_metric(i, kind, &t.metadata, namespace),
                Source::Value(v),
            )
        } else {
            c.not_emulated(
                &format!("spec.triggers[{i}].type"),
                format!(
                    "a {} trigger (the emulator runs {} triggers)",
                    t.kind,
                    EMULATED.join(", ")
                ),
            );
            continue;
        };
        let kafka_reads = read
            .kafka
            .last()
            .filter(|k| k.index == i)
            .map(|k| reads(&k.source))
            .unwrap_or_default();
        let external = !matches!(source, Source::Resource(_));
        let metric_type = if external {
            super::validate::metric_type(c, i, t.metric_type.as_deref())
        } else {
            MetricType::AverageValue
        };
        if external {
            names.push((metric.clone(), i));
        }
        read.triggers.others.push(TriggerSpec {
            index: i,
            name: t.name.clone().filter(|n| !n.is_empty()),
            metric,
            source,
            metric_type,
            use_cached_metrics: t.use_cached_metrics,
            reads: kafka_reads,
        });
    }
    check_metric_names(c, &so.metadata.name, &names);
    read
}

/// IsUsingModifiers: any scalingModifiers field set.
pub fn uses_modifiers(so: &ScaledObject) -> bool {
    so.spec
        .advanced
        .as_ref()
        .and_then(|a| a.scaling_modifiers.as_ref())
        .is_some_and(|m| {
            [&m.formula, &m.target, &m.activation_target, &m.metric_type]
                .iter()
                .any(|f| f.as_deref().is_some_and(|v| !v.is_empty()))
        })
}

fn resource_of(kind: &str) -> Option<Resource> {
    match kind {
        "cpu" => Some(Resource::Cpu),
        "memory" => Some(Resource::Memory),
        _ => None,
    }
}

/// What the emulator cannot run of a Kafka trigger.
fn check_kafka_emulated(c: &mut Collector, i: usize, t: &KafkaSource) {
    if t.scaler == ScalerKind::ApacheKafka && t.topics.is_empty() {
        c.not_emulated(
            &format!("spec.triggers[{i}].metadata.topic"),
            "apache-kafka without a topic reads every topic of the cluster and fails while the group has no members (apache_kafka_scaler.go getTopicPartitions); give the topic",
        );
    }
    if t.topics.len() > 1 {
        c.not_emulated(
            &format!("spec.triggers[{i}].metadata.topic"),
            "several topics (the lab reads one topic)",
        );
    }
}

/// `<group>/<topic>` of a Kafka trigger (a variable's name when given from the environment).
fn reads(t: &KafkaSource) -> String {
    let group = if t.consumer_group.is_empty() {
        t.from_env.consumer_group.clone().unwrap_or_default()
    } else {
        t.consumer_group.clone()
    };
    let topic = t
        .topics
        .first()
        .cloned()
        .or_else(|| t.from_env.topic.clone())
        .unwrap_or_default();
    format!("{group}/{topic}")
}

/// kafka_scaler.go GetMetricSpecForScaling: `kafka-<topic>`, or `kafka-<group>-topics`.
fn kafka_metric(i: usize, t: &KafkaSource) -> String {
    let topic = t
        .topics
        .first()
        .cloned()
        .or_else(|| t.from_env.topic.clone());
    let name = match topic {
        Some(topic) => format!("kafka-{topic}"),
        None => format!("kafka-{}-topics", t.consumer_group),
    };
    format!("s{i}-{}", normalize(&name))
}

/// pkg/util/normalize_string.go NormalizeString.
fn normalize(s: &str) -> String {
    s.replace(['/', '.', ':', '%', '(', ')'], "-")
}

/// cpu_memory_scaler.go parseResourceMetadata and the webhook's verifyCPUMemoryScalers.
fn read_resource(
    c: &mut Collector,
    i: usize,
    t: &model::Trigger,
    resource: Resource,
    target: Option<&Workload>,
) -> Option<ResourceTrigger> {
    let at = format!("spec.triggers[{i}]");
    let r = resource.as_str();
    let wrap = |m: String| format!("error parsing {r} metadata: {m}");
    let get = |k: &str| {
        t.metadata
            .get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    for key in t.metadata.keys() {
        if !["type", "value", "containerName"].contains(&key.as_str()) {
            c.warning(
                &format!("{at}.metadata.{key}"),
                RuleId::KedaCpuMemory,
                format!("unknown key: KEDA's {r} scaler ignores it silently"),
            );
        }
    }
    if get("type").is_some() {
        let m = wrap(
            "The 'type' setting is DEPRECATED and is removed in v2.18 - Use 'metricType' instead."
                .into(),
        );
        c.error(&format!("{at}.metadata.type"), RuleId::KedaCpuMemory, m);
    }
    let Some(value) = get("value") else {
        let m = wrap("missing required parameter \"value\" in [triggerMetadata]".into());
        c.error(&format!("{at}.metadata.value"), RuleId::KedaCpuMemory, m);
        return None;
    };
    let target_value = match t.metric_type.as_deref().unwrap_or("") {
        "Utilization" => match value.parse::<i32>() {
            Ok(n) => ResourceTarget::Utilization(n),
            Err(_) => {
                let m = wrap(format!(
                    "strconv.ParseInt: parsing {value:?}: invalid syntax"
                ));
                c.error(&format!("{at}.metadata.value"), RuleId::KedaCpuMemory, m);
                return None;
            }
        },
        "AverageValue" => match quantity::milli(value) {
            Some(q) => ResourceTarget::AverageValue(q),
            None => {
                let m = wrap(format!(
                    "{value:?} is not a quantity (resource.MustParse panics on it)"
                ));
                c.error(&format!("{at}.metadata.value"), RuleId::KedaCpuMemory, m);
                return None;
            }
        },
        other => {
            let m = wrap(format!(
                "unknown metric type: {other}, allowed values are 'Utilization' or 'AverageValue'"
            ));
            c.error(&format!("{at}.metricType"), RuleId::KedaCpuMemory, m);
            return None;
        }
    };
    let container = get("containerName").map(str::to_owned);
    match target {
        Some(w) => {
            if let Some(m) = w.missing_request(resource, container.as_deref()) {
                c.error(&format!("{at}.type"), RuleId::KedaCpuMemory, m);
            }
        }
        None => c.not_emulated(
            &format!("{at}.type"),
            format!("a {r} trigger needs the scale target's {r} requests: give the target Deployment (or StatefulSet) in the same file as the ScaledObject"),
        ),
    }
    Some(ResourceTrigger {
        resource,
        target: target_value,
        container,
    })
}

/// One value trigger type: its target and activation keys, the keys it requires, and
/// whether the target must be above 0 (unless the trigger only feeds a formula).
struct ValueKind {
    kind: &'static str,
    target: &'static str,
    activation: &'static str,
    required: &'static [&'static str],
    target_positive: bool,
}

const VALUE_TRIGGERS: &[ValueKind] = &[
    ValueKind {
        kind: "prometheus",
        target: "threshold",
        activation: "activationThreshold",
        required: &["serverAddress", "query", "threshold"],
        target_positive: false,
    },
    ValueKind {
        kind: "metrics-api",
        target: "targetValue",
        activation: "activationTargetValue",
        required: &["url", "valueLocation"],
        target_positive: true,
    },
    ValueKind {
        kind: "kubernetes-workload",
        target: "value",
        activation: "activationValue",
        required: &["podSelector"],
        target_positive: true,
    },
    ValueKind {
        kind: "kubernetes-resource",
        target: "targetValue",
        activation: "activationTargetValue",
        required: &["resourceKind", "resourceName", "key"],
        target_positive: true,
    },
];

/// A value trigger's metadata (typed config: required keys, floats).
fn read_value(
    c: &mut Collector,
    i: usize,
    t: &model::Trigger,
    kind: &ValueKind,
    modifiers: bool,
) -> Option<ValueTrigger> {
    let field = |k: &str| format!("spec.triggers[{i}].metadata.{k}");
    let get = |k: &str| {
        t.metadata
            .get(k)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut ok = true;
    for key in kind.required {
        if get(key).is_none() {
            let m = format!(
                "missing required parameter {key:?} in [triggerMetadata] ({} scaler)",
                kind.kind
            );
            c.error(&field(key), RuleId::KedaValueTrigger, m);
            ok = false;
        }
    }
    let mut number = |key: &str| match get(key).map(|v| (v, v.parse::<f64>())) {
        None => Some(0.0),
        Some((_, Ok(n))) if n.is_finite() => Some(n),
        Some((v, _)) => {
            c.error(
                &field(key),
                RuleId::KedaValueTrigger,
                format!("{v:?} is not a number"),
            );
            None
        }
    };
    let (target, activation) = (number(kind.target)?, number(kind.activation)?);
    if kind.target_positive && !modifiers && target <= 0.0 {
        let m = format!(
            "{} must be a number above 0 (its scaler's Validate)",
            kind.target
        );
        c.error(&field(kind.target), RuleId::KedaValueTrigger, m);
        ok = false;
    }
    if let Some(v) = get("ignoreNullValues").filter(|v| go_parse_bool(v).is_none()) {
        c.error(
            &field("ignoreNullValues"),
            RuleId::KedaValueTrigger,
            format!("{v:?} is not a boolean"),
        );
    }
    ok.then(|| ValueTrigger {
        kind: kind.kind.to_owned(),
        target,
        activation,
    })
}

/// Each value scaler's GetMetricSpecForScaling name.
fn value_metric(i: usize, kind: &ValueKind, meta: &BTreeMap<String, String>, ns: &str) -> String {
    let get = |k: &str| meta.get(k).map(|v| v.trim()).unwrap_or_default();
    let name = match kind.kind {
        "prometheus" => "prometheus".to_owned(),
        "metrics-api" => format!("metric-api-{}", get("valueLocation")),
        "kubernetes-workload" => format!("workload-{ns}"),
        _ => format!(
            "{}-{}-{}",
            get("resourceKind").to_ascii_lowercase(),
            get("resourceName"),
            get("key")
        ),
    };
    format!("s{i}-{}", normalize(&name))
}

/// hpa.go getScaledObjectMetricSpecs: an external metric name made twice.
fn check_metric_names(c: &mut Collector, so: &str, names: &[(String, usize)]) {
    for (n, (name, i)) in names.iter().enumerate() {
        if names[..n].iter().any(|(other, _)| other == name) {
            c.error(
                &format!("spec.triggers[{i}]"),
                RuleId::KedaMetricNames,
                format!("metricName {name} defined multiple times in ScaledObject {so}"),
            );
        }
    }
}
