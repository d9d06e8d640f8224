//! `lab check-manifests`: the checks no off-the-shelf tool does for this demo.
//!
//! Strict schemas for the custom resources (ScaledObject, Kafka, KafkaNodePool,
//! KafkaTopic): unknown fields and wrong types are errors, because KEDA and Strimzi
//! would ignore or reject them at apply time, far from here. Then the cross-checks that
//! make the demo work at all: the ScaledObject targets the consumer Deployment; its
//! trigger names the brokers, group and topic the apps use; its keys are known KEDA
//! keys and its values strings; min <= max <= partitions; images match the Dockerfile.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::scaled_object::KNOWN_KAFKA_KEYS;

/// The Dockerfile target each Deployment's image is built from.
pub const IMAGES: &[(&str, &str)] = &[
    ("kafka-producer-callback", "producer"),
    ("kafka-consumer", "consumer"),
];

// ---- strict schemas (the subset of each CRD this project uses) ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaledObject {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: ScaledObjectSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    pub scale_target_ref: ScaleTargetRef,
    pub polling_interval: Option<u32>,
    pub cooldown_period: Option<u32>,
    pub initial_cooldown_period: Option<u32>,
    pub idle_replica_count: Option<u32>,
    pub min_replica_count: Option<u32>,
    pub max_replica_count: Option<u32>,
    pub fallback: Option<Fallback>,
    pub advanced: Option<Advanced>,
    pub triggers: Vec<Trigger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleTargetRef {
    pub name: String,
    pub kind: Option<String>,
    pub api_version: Option<String>,
    pub env_source_container_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fallback {
    pub failure_threshold: u32,
    pub replicas: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Advanced {
    pub restore_to_original_replica_count: Option<bool>,
    pub horizontal_pod_autoscaler_config: Option<HpaConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaConfig {
    pub name: Option<String>,
    pub behavior: Option<HpaBehavior>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaBehavior {
    pub scale_up: Option<HpaRules>,
    pub scale_down: Option<HpaRules>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaRules {
    pub stabilization_window_seconds: Option<u32>,
    pub select_policy: Option<String>,
    #[serde(default)]
    pub policies: Vec<HpaPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaPolicy {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: u32,
    pub period_seconds: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Trigger {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    /// Strings only: a number or boolean here fails to parse, as it fails at the API server.
    pub metadata: BTreeMap<String, String>,
    pub authentication_ref: Option<BTreeMap<String, String>>,
    pub metric_type: Option<String>,
    pub use_cached_metrics: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kafka {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: KafkaSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaSpec {
    pub kafka: KafkaClusterSpec,
    pub entity_operator: Option<EntityOperator>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaClusterSpec {
    pub version: Option<String>,
    pub metadata_version: Option<String>,
    pub listeners: Vec<Listener>,
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Listener {
    pub name: String,
    pub port: u16,
    #[serde(rename = "type")]
    pub kind: String,
    pub tls: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntityOperator {
    pub topic_operator: Option<BTreeMap<String, Value>>,
    pub user_operator: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaNodePool {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: NodePoolSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePoolSpec {
    pub replicas: u32,
    pub roles: Vec<String>,
    pub storage: Storage,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Storage {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Volume {
    pub id: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub size: Option<String>,
    pub delete_claim: Option<bool>,
    pub kraft_metadata: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaTopic {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: TopicSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TopicSpec {
    pub topic_name: Option<String>,
    pub partitions: u32,
    pub replicas: u32,
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
}

// ---- the check ----

/// Every problem found, one line each (empty: all good).
pub fn check(documents: &[Value], dockerfile: Option<&str>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut scaled_objects: Vec<ScaledObject> = Vec::new();
    let mut kafkas: Vec<Kafka> = Vec::new();
    let mut pools: Vec<KafkaNodePool> = Vec::new();
    let mut topics: Vec<KafkaTopic> = Vec::new();
    let mut deployments: BTreeMap<String, &Value> = BTreeMap::new();
    for doc in documents {
        let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
        let name = doc
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        let at = format!("{kind}/{name}");
        match kind {
            "ScaledObject" => scaled_objects.extend(strict(&at, doc, &mut problems)),
            "Kafka" => kafkas.extend(strict(&at, doc, &mut problems)),
            "KafkaNodePool" => pools.extend(strict(&at, doc, &mut problems)),
            "KafkaTopic" => topics.extend(strict(&at, doc, &mut problems)),
            "Deployment" => {
                check_deployment(&at, doc, &mut problems);
                deployments.insert(name.to_owned(), doc);
            }
            _ => {}
        }
    }
    for (kind, api, ok) in scaled_objects
        .iter()
        .map(|o| {
            (
                "ScaledObject",
                &o.api_version,
                o.api_version == "keda.sh/v1alpha1",
            )
        })
        .chain(kafkas.iter().map(|o| {
            (
                "Kafka",
                &o.api_version,
                o.api_version == "kafka.strimzi.io/v1",
            )
        }))
        .chain(pools.iter().map(|o| {
            (
                "KafkaNodePool",
                &o.api_version,
                o.api_version == "kafka.strimzi.io/v1",
            )
        }))
        .chain(topics.iter().map(|o| {
            (
                "KafkaTopic",
                &o.api_version,
                o.api_version == "kafka.strimzi.io/v1",
            )
        }))
    {
        if !ok {
            problems.push(format!("{kind}: apiVersion {api} is not served (KEDA: keda.sh/v1alpha1; Strimzi 1.x: kafka.strimzi.io/v1)"));
        }
    }
    let [kafka] = kafkas.as_slice() else {
        problems.push(format!(
            "expected exactly one Kafka, found {}",
            kafkas.len()
        ));
        return problems;
    };
    for pool in &pools {
        if pool.metadata.labels.get("strimzi.io/cluster") != Some(&kafka.metadata.name) {
            problems.push(format!(
                "KafkaNodePool/{}: label strimzi.io/cluster must be {}",
                pool.metadata.name, kafka.metadata.name
            ));
        }
    }
    if pools.is_empty() {
        problems.push("no KafkaNodePool: Strimzi 1.x needs one for its nodes".into());
    }
    for topic in &topics {
        if topic.metadata.labels.get("strimzi.io/cluster") != Some(&kafka.metadata.name) {
            problems.push(format!(
                "KafkaTopic/{}: label strimzi.io/cluster must be {}",
                topic.metadata.name, kafka.metadata.name
            ));
        }
    }
    let bootstrap = kafka
        .spec
        .kafka
        .listeners
        .iter()
        .find(|l| !l.tls && l.kind == "internal")
        .map(|l| format!("{}-kafka-bootstrap:{}", kafka.metadata.name, l.port));

    let env = |deployment: &str, key: &str| -> Option<String> {
        let containers = deployments
            .get(deployment)?
            .get("spec")?
            .get("template")?
            .get("spec")?
            .get("containers")?
            .as_sequence()?;
        containers.iter().find_map(|c| {
            c.get("env")?.as_sequence()?.iter().find_map(|e| {
                (e.get("name")?.as_str()? == key)
                    .then(|| e.get("value").and_then(Value::as_str).map(str::to_owned))
                    .flatten()
            })
        })
    };
    for (image, target) in IMAGES {
        let Some(deployment) = deployments.get(*image) else {
            problems.push(format!("no Deployment named {image}"));
            continue;
        };
        let images: Vec<&str> = deployment
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("containers"))
            .and_then(Value::as_sequence)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c.get("image").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if !images.iter().any(|i| image_name(i) == *image) {
            problems.push(format!(
                "Deployment/{image}: no container image named {image} (images: {images:?})"
            ));
        }
        if let Some(dockerfile) = dockerfile {
            if !dockerfile.lines().any(|l| {
                l.trim_start().to_ascii_uppercase().starts_with("FROM ")
                    && l.trim_end().ends_with(&format!(" AS {target}"))
            }) {
                problems.push(format!(
                    "Dockerfile: no stage `AS {target}` to build image {image}"
                ));
            }
        }
    }

    for so in &scaled_objects {
        let at = format!("ScaledObject/{}", so.metadata.name);
        let target = &so.spec.scale_target_ref;
        if target.kind.as_deref().unwrap_or("Deployment") != "Deployment"
            || !deployments.contains_key(&target.name)
        {
            problems.push(format!(
                "{at}: scaleTargetRef names {} {}, which is not a Deployment here",
                target.kind.as_deref().unwrap_or("Deployment"),
                target.name
            ));
        } else if target.name != "kafka-consumer" {
            problems.push(format!(
                "{at}: scaleTargetRef must name the consumer Deployment kafka-consumer, not {}",
                target.name
            ));
        }
        let (min, max) = (
            so.spec.min_replica_count.unwrap_or(0),
            so.spec.max_replica_count.unwrap_or(100),
        );
        if min > max {
            problems.push(format!(
                "{at}: minReplicaCount {min} is above maxReplicaCount {max}"
            ));
        }
        let Some(trigger) = so.spec.triggers.iter().find(|t| t.kind == "kafka") else {
            problems.push(format!("{at}: no kafka trigger"));
            continue;
        };
        for key in trigger.metadata.keys() {
            if !KNOWN_KAFKA_KEYS.contains(&key.as_str()) {
                problems.push(format!(
                    "{at}: unknown kafka trigger key {key} (KEDA would ignore it silently)"
                ));
            }
        }
        let meta = |k: &str| trigger.metadata.get(k).cloned();
        let topic = meta("topic");
        match topics.iter().find(|t| Some(t.spec.topic_name.as_ref().unwrap_or(&t.metadata.name)) == topic.as_ref()) {
            Some(t) if max > t.spec.partitions => problems.push(format!(
                "{at}: maxReplicaCount {max} is above the {} partitions of topic {}: replicas past that sit idle",
                t.spec.partitions, t.metadata.name
            )),
            Some(_) => {}
            None => problems.push(format!("{at}: trigger topic {topic:?} is not a KafkaTopic here")),
        }
        let expect = |what: &str,
                      trigger_value: Option<String>,
                      app_value: Option<String>,
                      app: &str| {
            (trigger_value != app_value).then(|| {
                format!("{at}: trigger {what} {trigger_value:?} does not match {app} {app_value:?}")
            })
        };
        problems.extend(
            [
                expect(
                    "bootstrapServers",
                    meta("bootstrapServers"),
                    env("kafka-consumer", "kafka.brokers"),
                    "kafka-consumer's kafka.brokers",
                ),
                expect(
                    "bootstrapServers",
                    meta("bootstrapServers"),
                    env("kafka-producer-callback", "kafka.brokers.host"),
                    "kafka-producer-callback's kafka.brokers.host",
                ),
                expect(
                    "bootstrapServers",
                    meta("bootstrapServers"),
                    bootstrap.clone(),
                    "the Kafka cluster's plain bootstrap service",
                ),
                expect(
                    "consumerGroup",
                    meta("consumerGroup"),
                    env("kafka-consumer", "kafka.groupId"),
                    "kafka-consumer's kafka.groupId",
                ),
                expect(
                    "topic",
                    meta("topic"),
                    env("kafka-consumer", "kafka.topics"),
                    "kafka-consumer's kafka.topics",
                ),
                expect(
                    "topic",
                    meta("topic"),
                    env("kafka-producer-callback", "kafka.topic"),
                    "kafka-producer-callback's kafka.topic",
                ),
            ]
            .into_iter()
            .flatten(),
        );
    }
    if !documents
        .iter()
        .any(|d| d.get("kind").and_then(Value::as_str) == Some("ScaledObject"))
    {
        problems.push("no ScaledObject".into());
    }
    problems
}

/// Deserializes `doc` into its strict schema, recording the path of the first problem.
fn strict<T: serde::de::DeserializeOwned>(
    at: &str,
    doc: &Value,
    problems: &mut Vec<String>,
) -> Option<T> {
    match serde_path_to_error::deserialize(doc.clone()) {
        Ok(value) => Some(value),
        Err(err) => {
            problems.push(format!("{at}: {}: {}", err.path(), err.inner()));
            None
        }
    }
}

/// apiVersion apps/v1, and a selector the pod template's labels match (the API server
/// rejects a mismatch, long after this check could have said so).
fn check_deployment(at: &str, doc: &Value, problems: &mut Vec<String>) {
    let api = doc
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api != "apps/v1" {
        problems.push(format!("{at}: apiVersion {api:?} is not apps/v1"));
    }
    let spec = doc.get("spec");
    let selector = spec
        .and_then(|s| s.get("selector"))
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_mapping);
    let labels = spec
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_mapping);
    match (selector, labels) {
        (Some(selector), Some(labels)) if !selector.is_empty() => {
            for (key, value) in selector {
                if labels.get(key) != Some(value) {
                    problems.push(format!(
                        "{at}: selector {}={} does not match the pod template's labels",
                        key.as_str().unwrap_or("?"),
                        value.as_str().unwrap_or("?")
                    ));
                }
            }
        }
        _ => problems.push(format!(
            "{at}: needs spec.selector.matchLabels and spec.template.metadata.labels"
        )),
    }
    if let Some(replicas) = spec.and_then(|s| s.get("replicas")) {
        if !replicas.is_u64() {
            problems.push(format!(
                "{at}: replicas must be a whole number, not {replicas:?}"
            ));
        }
    }
}

/// `registry:5000/team/kafka-consumer:1.2@sha256:..` -> `kafka-consumer`.
fn image_name(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

/// Parses every document of a multi-document YAML text.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).map_err(|e| e.to_string()))
        .filter(|v| !matches!(v, Ok(Value::Null)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn repo_text() -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../k8s");
        [
            "kafka/kafka.yaml",
            "kafka/topic.yaml",
            "producer/deployment.yaml",
            "producer/service.yaml",
            "consumer/deployment.yaml",
            "keda/scaled-object.yaml",
        ]
        .iter()
        .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n")
    }

    fn dockerfile() -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Dockerfile"))
            .unwrap()
    }

    fn problems(text: &str) -> Vec<String> {
        check(&documents(text).unwrap(), Some(&dockerfile()))
    }

    #[test]
    fn the_repository_manifests_pass() {
        assert_eq!(problems(&repo_text()), Vec::<String>::new());
    }

    /// Each rule, shown to fail on a broken copy of the manifests.
    #[test]
    fn every_rule_catches_its_breakage() {
        let good = repo_text();
        let cases: Vec<(&str, String, &str)> = vec![
            ("unknown field", good.replace("  cooldownPeriod: 30", "  cooldownPeriod: 30\n  coolDown: 30"), "unknown field `coolDown`"),
            ("wrong type", good.replace("  maxReplicaCount: 10", "  maxReplicaCount: u5"), "maxReplicaCount"),
            ("unquoted trigger value", good.replace("lagThreshold: \"5\"", "lagThreshold: 5"), "invalid type: integer `5`, expected a string"),
            ("trigger key typo", good.replace("lagThreshold:", "lagTreshold:"), "unknown kafka trigger key lagTreshold"),
            ("scale target", good.replace("  scaleTargetRef:\n    name: kafka-consumer", "  scaleTargetRef:\n    name: consumer"), "scaleTargetRef names Deployment consumer"),
            ("trigger group", good.replace("consumerGroup: event", "consumerGroup: events"), "trigger consumerGroup"),
            ("trigger topic", good.replace("        topic: event", "        topic: events"), "trigger topic"),
            ("trigger brokers", good.replace("bootstrapServers: my-cluster-kafka-bootstrap:9092", "bootstrapServers: kafka:9092"), "trigger bootstrapServers"),
            ("min above max", good.replace("  minReplicaCount: 0", "  minReplicaCount: 11"), "minReplicaCount 11 is above maxReplicaCount 10"),
            ("max above partitions", good.replace("  partitions: 10", "  partitions: 3"), "maxReplicaCount 10 is above the 3 partitions"),
            ("image name", good.replace("image: kafka-consumer", "image: consumer"), "Deployment/kafka-consumer: no container image named kafka-consumer"),
            ("old Strimzi API", good.replace("kafka.strimzi.io/v1\nkind: KafkaTopic", "kafka.strimzi.io/v1beta2\nkind: KafkaTopic"), "apiVersion kafka.strimzi.io/v1beta2 is not served"),
            ("topic cluster label", good.replace("    strimzi.io/cluster: my-cluster\nspec:\n  partitions", "    strimzi.io/cluster: other\nspec:\n  partitions"), "KafkaTopic/event: label strimzi.io/cluster"),
            ("published apps/v1 typo", good.replace("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: kafka-consumer", "apiVersion: apps/v1 kafka-consumer\nkind: Deployment\nmetadata:\n  name: kafka-consumer"), "apiVersion \"apps/v1 kafka-consumer\" is not apps/v1"),
            ("published replicas typo", good.replace("  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kafka-consumer", "  replicas: u5\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kafka-consumer"), "Deployment/kafka-consumer: replicas must be a whole number"),
            ("published selector mismatch", good.replace("    matchLabels:\n      app.kubernetes.io/name: kafka-producer-callback", "    matchLabels:\n      app: kafka-producer"), "selector app=kafka-producer does not match"),
        ];
        for (rule, broken, expected) in cases {
            assert_ne!(broken, good, "{rule}: the broken copy must differ");
            let found = problems(&broken);
            assert!(
                found.iter().any(|p| p.contains(expected)),
                "{rule}: {expected:?} not in {found:#?}"
            );
        }
        let no_stage = dockerfile().replace(" AS consumer", " AS other");
        let found = check(&documents(&good).unwrap(), Some(&no_stage));
        assert!(
            found.iter().any(|p| p.contains("no stage `AS consumer`")),
            "{found:?}"
        );
    }

    #[test]
    fn image_names_ignore_registry_tag_and_digest() {
        assert_eq!(
            image_name("reg:5000/team/kafka-consumer:1.2@sha256:abc"),
            "kafka-consumer"
        );
        assert_eq!(image_name("kafka-consumer"), "kafka-consumer");
    }
}
