//! The Strimzi custom resources the demo uses (`kafka.strimzi.io/v1`, Strimzi 1.x), typed
//! and strict: the subset of each CRD this project writes, unknown fields refused (as
//! kubectl's strict field validation refuses them), and what a cluster derives from them:
//! the bootstrap Services a Kafka's listeners get.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::keda::model::ObjectMeta;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kafka {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: KafkaSpec,
    #[serde(default)]
    pub status: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaSpec {
    pub kafka: KafkaClusterSpec,
    pub entity_operator: Option<EntityOperator>,
    pub cruise_control: Option<Value>,
    pub kafka_exporter: Option<Value>,
    pub cluster_ca: Option<Value>,
    pub clients_ca: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaClusterSpec {
    /// Default: the Strimzi release's default Kafka version.
    pub version: Option<String>,
    pub metadata_version: Option<String>,
    pub listeners: Vec<Listener>,
    pub authorization: Option<Value>,
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
    pub resources: Option<Value>,
    pub metrics_config: Option<Value>,
    pub logging: Option<Value>,
    pub template: Option<Value>,
    pub jvm_options: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Listener {
    pub name: String,
    pub port: u16,
    /// internal, cluster-ip, nodeport, loadbalancer, route, tlsroute, ingress.
    #[serde(rename = "type")]
    pub kind: String,
    pub tls: bool,
    pub authentication: Option<ListenerAuthentication>,
    pub configuration: Option<Value>,
    pub network_policy_peers: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerAuthentication {
    /// scram-sha-512, tls, oauth, custom.
    #[serde(rename = "type")]
    pub kind: String,
}

impl Listener {
    /// The Service a client bootstraps through (Strimzi 1.2.0
    /// ListenersUtils.backwardsCompatibleBootstrapServiceName).
    pub fn bootstrap_service(&self, cluster: &str) -> String {
        if self.kind == "internal" {
            format!("{cluster}-kafka-bootstrap")
        } else {
            format!("{cluster}-kafka-{}-bootstrap", self.name)
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntityOperator {
    pub topic_operator: Option<BTreeMap<String, Value>>,
    pub user_operator: Option<BTreeMap<String, Value>>,
    pub template: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaNodePool {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: NodePoolSpec,
    #[serde(default)]
    pub status: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePoolSpec {
    pub replicas: u32,
    pub roles: Vec<String>,
    pub storage: Storage,
    pub resources: Option<Value>,
    pub template: Option<Value>,
    pub jvm_options: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Storage {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub volumes: Vec<Volume>,
    pub size: Option<String>,
    pub delete_claim: Option<bool>,
    pub kraft_metadata: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Volume {
    pub id: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub size: Option<String>,
    pub delete_claim: Option<bool>,
    pub kraft_metadata: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaTopic {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: TopicSpec,
    #[serde(default)]
    pub status: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TopicSpec {
    pub topic_name: Option<String>,
    pub partitions: u32,
    pub replicas: u32,
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
}

impl KafkaTopic {
    /// The topic's name in Kafka (`spec.topicName`, else the resource's name).
    pub fn topic_name(&self) -> &str {
        self.spec
            .topic_name
            .as_deref()
            .unwrap_or(&self.metadata.name)
    }
}
