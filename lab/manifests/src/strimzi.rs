//! The Strimzi custom resources the demo uses (`kafka.strimzi.io/v1`, Strimzi 1.x), typed
//! and strict: the subset of each CRD this project writes, unknown fields refused (as
//! kubectl's strict field validation refuses them), and what a cluster derives from them:
//! the bootstrap Services a Kafka's listeners get.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml_ng::Value;

use lab_model::keda::model::ObjectMeta;

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
    /// Whether it authenticates clients with SCRAM-SHA-512.
    pub fn scram(&self) -> bool {
        self.authentication.as_ref().map(|a| a.kind.as_str()) == Some("scram-sha-512")
    }

    /// The `security.protocol` a client must speak to it.
    pub fn protocol(&self) -> common::kafka::security::Protocol {
        common::kafka::security::Protocol::for_listener(self.tls, self.scram())
    }

    /// `Kafka/<cluster> listener <name> (port <port>)`, for findings.
    pub fn describe(&self, cluster: &str) -> String {
        format!(
            "Kafka/{cluster} listener {} (port {})",
            self.name, self.port
        )
    }

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaUser {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: UserSpec,
    #[serde(default)]
    pub status: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserSpec {
    pub authentication: Option<ListenerAuthentication>,
    pub authorization: Option<UserAuthorization>,
    pub quotas: Option<Value>,
    pub template: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserAuthorization {
    /// `simple`.
    #[serde(rename = "type")]
    pub kind: String,
    pub acls: Vec<AclRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AclRule {
    pub resource: AclResource,
    pub operations: Vec<String>,
    pub host: Option<String>,
    /// `allow` (default) or `deny`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AclResource {
    /// topic, group, cluster, transactionalId.
    #[serde(rename = "type")]
    pub kind: String,
    pub name: Option<String>,
    /// `literal` (default) or `prefix`.
    pub pattern_type: Option<String>,
}

impl KafkaUser {
    /// The Kafka it belongs to (label `strimzi.io/cluster`).
    pub fn cluster(&self) -> Option<&str> {
        self.metadata
            .labels
            .get("strimzi.io/cluster")
            .map(String::as_str)
    }

    /// The keys of the Secret the User Operator writes for this user, named after it
    /// (Strimzi 1.2.0 KafkaUserModel: `password` and `sasl.jaas.config` for SCRAM users;
    /// `ca.crt`, `user.crt`, `user.key`, `user.p12`, `user.password` for TLS users).
    pub fn secret_keys(&self) -> &'static [&'static str] {
        match self.spec.authentication.as_ref().map(|a| a.kind.as_str()) {
            Some("scram-sha-512") => &["password", "sasl.jaas.config"],
            Some("tls") => &[
                "ca.crt",
                "user.crt",
                "user.key",
                "user.p12",
                "user.password",
            ],
            _ => &[],
        }
    }

    /// Whether an `allow` ACL grants `operation` on the resource `kind`/`name` (Kafka:
    /// Read, Write, Delete and Alter imply Describe).
    pub fn allows(&self, kind: &str, name: &str, operation: &str) -> bool {
        let Some(authz) = &self.spec.authorization else {
            return false;
        };
        authz.acls.iter().any(|rule| {
            let allow = rule.kind.as_deref().unwrap_or("allow") == "allow";
            let resource = &rule.resource;
            let pattern = resource.name.as_deref().unwrap_or("*");
            let names_it = match resource.pattern_type.as_deref().unwrap_or("literal") {
                "prefix" => name.starts_with(pattern),
                _ => pattern == "*" || pattern == name,
            };
            let grants = rule.operations.iter().any(|op| {
                op == operation
                    || op == "All"
                    || (operation == "Describe"
                        && ["Read", "Write", "Delete", "Alter"].contains(&op.as_str()))
            });
            allow && resource.kind == kind && names_it && grants
        })
    }
}

/// The keys of the Secret `<cluster>-cluster-ca-cert` (Strimzi 1.2.0
/// KafkaResources.clusterCaCertificateSecretName; Ca.CA_CRT and friends).
pub const CLUSTER_CA_KEYS: &[&str] = &["ca.crt", "ca.p12", "ca.password"];
