//! The ScaledObject a command is about, found on the cluster: read with KEDA's rules (the
//! same reading `check-manifests` and `plan` make of a file), its scale target, its HPA
//! (`status.hpaName`), KEDA's metric name, and where its Kafka trigger reads lag: brokers,
//! group and topic as KEDA resolves them (written, or `<key>FromEnv` from the target's
//! container), TLS and SASL from its TriggerAuthentication when the Secret may be read,
//! else from the `kafka.*` settings `lab lag` takes.

use std::collections::BTreeMap;
use std::path::Path;

use common::config::Env;
use common::kafka::Security;
use k8s_openapi::api::apps::v1::Deployment;
use lab_model::keda::source::{KafkaSource, SaslMode};
use lab_model::keda::Checked;

use crate::api::Cluster;
use crate::error::ReadError;
use crate::objects::ScaledObjectStatus;

/// A ScaledObject on the cluster, and what it points at.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: String,
    /// The object as the API server stores it.
    pub object: serde_json::Value,
    /// KEDA's reading of it (spec, triggers, problems, what the emulator runs).
    pub checked: Checked,
    /// `scaleTargetRef.kind` (default Deployment) and name.
    pub target: (String, String),
    /// The HPA KEDA made (`status.hpaName`); `None` before KEDA reconciled it.
    pub hpa: Option<String>,
    /// KEDA's external metric for the first Kafka trigger (`status.externalMetricNames`,
    /// else `s<i>-kafka-<topic>` as KEDA names it).
    pub metric: Option<String>,
}

/// Where the lab reads the group's lag.
#[derive(Debug, Clone)]
pub struct KafkaTarget {
    pub brokers: String,
    pub group: String,
    pub topic: String,
    pub security: Security,
    /// Where the connection settings came from, for the recording's notes.
    pub from: String,
}

/// How the lab may reach the brokers: given on the command line, or as the trigger says.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--brokers`: instead of the trigger's (Strimzi's advertised names resolve only
    /// inside the cluster).
    pub brokers: Option<String>,
    /// `--read-secrets`: read the TriggerAuthentication's Secrets for TLS and SASL.
    pub read_secrets: bool,
}

impl Subject {
    /// Finds the ScaledObject `name` and reads it with KEDA's rules.
    pub async fn find(cluster: &Cluster, name: &str) -> Result<Self, ReadError> {
        let object = cluster.scaled_object(name).await?;
        let checked = check(&object);
        let target_ref = &object["spec"]["scaleTargetRef"];
        let text = |v: &serde_json::Value, default: &str| v.as_str().unwrap_or(default).to_owned();
        let kind = target_ref["kind"].as_str().unwrap_or("Deployment");
        if kind != "Deployment" {
            return Err(ReadError::Unsupported(format!(
                "ScaledObject {name} scales a {kind}: lab record and lab doctor read Deployment targets"
            )));
        }
        let status = ScaledObjectStatus::of(&object);
        let metric = status.external_metric_names.first().cloned().or_else(|| {
            let reading = checked.triggers.first()?;
            Some(metric_name(reading.index, &reading.source))
        });
        Ok(Self {
            name: name.to_owned(),
            target: (
                text(&target_ref["kind"], "Deployment"),
                text(&target_ref["name"], ""),
            ),
            hpa: status.hpa_name.filter(|h| !h.is_empty()),
            metric,
            checked,
            object,
        })
    }

    /// The triggers KEDA runs that the lab does not read (not kafka), as `index: type`.
    pub fn other_triggers(&self) -> Vec<String> {
        let triggers = self.object["spec"]["triggers"].as_array();
        triggers
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, t)| {
                let kind = t["type"].as_str().unwrap_or("?");
                (!matches!(kind, "kafka" | "apache-kafka"))
                    .then(|| format!("triggers[{i}]: {kind}"))
            })
            .collect()
    }

    /// The first Kafka trigger's source, or the refusal naming the triggers it has.
    pub fn kafka_source(&self) -> anyhow::Result<&KafkaSource> {
        match self.checked.triggers.first() {
            Some(reading) => Ok(&reading.source),
            None => anyhow::bail!(
                "ScaledObject {} has no kafka trigger ({}): lab record and lab doctor read Kafka lag triggers (kafka, apache-kafka)",
                self.name,
                self.other_triggers().join(", ")
            ),
        }
    }

    /// Where the first Kafka trigger reads lag, resolved as KEDA resolves it.
    pub async fn kafka(
        &self,
        cluster: &Cluster,
        overrides: &Overrides,
        scratch: &Path,
    ) -> anyhow::Result<KafkaTarget> {
        let source = self.kafka_source()?;
        let env = self.container_env(cluster).await;
        let from_env = |var: &Option<String>| var.as_ref().and_then(|v| env.get(v).cloned());
        let brokers = match &overrides.brokers {
            Some(b) => b.clone(),
            None if !source.bootstrap_servers.is_empty() => source.bootstrap_servers.join(","),
            None => from_env(&source.from_env.bootstrap_servers).ok_or_else(|| {
                anyhow::anyhow!("the trigger's bootstrapServers come from a variable of {} this lab cannot read: give --brokers", self.target.1)
            })?,
        };
        let group = Some(source.consumer_group.clone())
            .filter(|g| !g.is_empty())
            .or_else(|| from_env(&source.from_env.consumer_group))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "the trigger's consumerGroup comes from a variable this lab cannot read"
                )
            })?;
        let topic = source
            .topics
            .first()
            .cloned()
            .or_else(|| from_env(&source.from_env.topic))
            .ok_or_else(|| anyhow::anyhow!("the trigger names no topic: KEDA then reads every topic the group committed on; lab record reads one topic"))?;
        let (security, from) = self.security(cluster, source, overrides, scratch).await?;
        Ok(KafkaTarget {
            brokers,
            group,
            topic,
            security,
            from,
        })
    }

    /// The plain variables of the scale target's container (`envSourceContainerName`, else
    /// the first), which `<key>FromEnv` names; empty when they cannot be read.
    async fn container_env(&self, cluster: &Cluster) -> BTreeMap<String, String> {
        let Ok(deployment) = cluster.deployment(&self.target.1).await else {
            return BTreeMap::new();
        };
        let wanted = self.object["spec"]["scaleTargetRef"]["envSourceContainerName"].as_str();
        container_env(&deployment, wanted)
    }

    /// TLS and SASL: from the TriggerAuthentication's Secrets with `--read-secrets`, else
    /// the `kafka.*` settings of this process's environment.
    async fn security(
        &self,
        cluster: &Cluster,
        source: &KafkaSource,
        overrides: &Overrides,
        scratch: &Path,
    ) -> anyhow::Result<(Security, String)> {
        let reference = self
            .checked
            .triggers
            .first()
            .and_then(|r| self.object["spec"]["triggers"][r.index]["authenticationRef"].as_object())
            .cloned();
        let environment = || -> anyhow::Result<(Security, String)> {
            let security = Security::from_env(&Env::from_process())?;
            let from = format!(
                "the kafka.* settings of this process ({})",
                security.protocol.as_str()
            );
            Ok((security, from))
        };
        let (Some(reference), true) = (reference, overrides.read_secrets) else {
            if source.sasl != SaslMode::None || source.tls {
                tracing::info!("the trigger uses tls or sasl: give --read-secrets to take them from its TriggerAuthentication, or the KAFKA_SECURITY_PROTOCOL and KAFKA_SASL_* settings");
            }
            return environment();
        };
        let name = reference
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or_default();
        let cluster_scoped =
            reference.get("kind").and_then(|k| k.as_str()) == Some("ClusterTriggerAuthentication");
        let auth = cluster.trigger_authentication(name, cluster_scoped).await?;
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for target in auth["spec"]["secretTargetRef"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (Some(parameter), Some(secret), Some(key)) = (
                target["parameter"].as_str(),
                target["name"].as_str(),
                target["key"].as_str(),
            ) else {
                continue;
            };
            let data = cluster.secret(secret).await?.data.unwrap_or_default();
            if let Some(value) = data.get(key) {
                params.insert(
                    parameter.to_owned(),
                    String::from_utf8_lossy(&value.0).into_owned(),
                );
            }
        }
        let security = security_from_auth(source, &params, scratch)?;
        Ok((
            security,
            format!("TriggerAuthentication {name} and its Secrets"),
        ))
    }
}

/// KEDA's reading of a stored ScaledObject (the status and server fields are accepted).
pub fn check(object: &serde_json::Value) -> Checked {
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::to_value(object).unwrap_or_default();
    lab_model::keda::check(&yaml)
}

/// KEDA's name for a Kafka trigger's external metric: `s<index>-` then
/// `kafka-<topic>` (or `kafka-<group>-topics` without a topic) with `/ . : % ( )` made `-`
/// (pkg/scalers/scaler.go GenerateMetricNameWithIndex, kafka_scaler.go
/// GetMetricSpecForScaling, pkg/util/normalize_string.go NormalizeString).
pub fn metric_name(index: usize, source: &KafkaSource) -> String {
    let name = match source.topics.first() {
        Some(topic) => format!("kafka-{topic}"),
        None => format!("kafka-{}-topics", source.consumer_group),
    };
    let normalized: String = name
        .chars()
        .map(|c| if "/.:%()".contains(c) { '-' } else { c })
        .collect();
    format!("s{index}-{normalized}")
}

/// The plain `value` variables of a Deployment's container `wanted` (else its first).
pub fn container_env(deployment: &Deployment, wanted: Option<&str>) -> BTreeMap<String, String> {
    let containers = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.clone())
        .unwrap_or_default();
    let container = match wanted {
        Some(name) => containers.iter().find(|c| c.name == name),
        None => containers.first(),
    };
    container
        .and_then(|c| c.env.clone())
        .into_iter()
        .flatten()
        .filter_map(|v| Some((v.name, v.value?)))
        .collect()
}

/// The connection a TriggerAuthentication's parameters give (`tls`, `sasl`, `username`,
/// `password`, `ca`), read as KEDA's kafka scaler reads them (parseTLS, parseSASL; a
/// parameter in the auth wins over the metadata): as the binaries' own settings, so the
/// same checks apply. The CA is written to `scratch`.
pub fn security_from_auth(
    source: &KafkaSource,
    params: &BTreeMap<String, String>,
    scratch: &Path,
) -> anyhow::Result<Security> {
    let tls = params.get("tls").map_or(source.tls, |t| t == "enable");
    let sasl = match params.get("sasl") {
        Some(word) => SaslMode::parse(word).ok_or_else(|| {
            anyhow::anyhow!("sasl {word:?} in the TriggerAuthentication is none of KEDA's")
        })?,
        None => source.sasl,
    };
    let mechanism = match sasl {
        SaslMode::None => None,
        SaslMode::Plaintext => Some("PLAIN"),
        SaslMode::ScramSha256 => Some("SCRAM-SHA-256"),
        SaslMode::ScramSha512 => Some("SCRAM-SHA-512"),
        other => anyhow::bail!(
            "sasl {} is not one the lab's Kafka client speaks (PLAIN, SCRAM)",
            other.as_str()
        ),
    };
    let protocol = common::kafka::security::Protocol::for_listener(tls, mechanism.is_some());
    let mut pairs = vec![(
        "KAFKA_SECURITY_PROTOCOL".to_owned(),
        protocol.as_str().to_owned(),
    )];
    if let Some(mechanism) = mechanism {
        pairs.push(("KAFKA_SASL_MECHANISM".into(), mechanism.into()));
        for (param, key) in [
            ("username", "KAFKA_SASL_USERNAME"),
            ("password", "KAFKA_SASL_PASSWORD"),
        ] {
            let value = params.get(param).ok_or_else(|| {
                anyhow::anyhow!(
                    "sasl {} needs `{param}` in the TriggerAuthentication",
                    sasl.as_str()
                )
            })?;
            pairs.push((key.into(), value.clone()));
        }
    }
    if let (true, Some(ca)) = (tls, params.get("ca")) {
        std::fs::create_dir_all(scratch)?;
        let path = scratch.join("trigger-ca.crt");
        std::fs::write(&path, ca)?;
        pairs.push(("KAFKA_SSL_CA_LOCATION".into(), path.display().to_string()));
    }
    Ok(Security::from_env(&Env::from_pairs(pairs))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lab_model::keda::source::ScalerKind;

    fn source(topic: &str) -> KafkaSource {
        KafkaSource {
            consumer_group: "orders".into(),
            topics: (!topic.is_empty())
                .then(|| topic.to_owned())
                .into_iter()
                .collect(),
            ..KafkaSource::new(ScalerKind::Kafka)
        }
    }

    #[test]
    fn metric_names_as_keda_makes_them() {
        assert_eq!(metric_name(0, &source("event")), "s0-kafka-event");
        assert_eq!(metric_name(1, &source("orders.v1")), "s1-kafka-orders-v1");
        assert_eq!(metric_name(0, &source("")), "s0-kafka-orders-topics");
    }

    #[test]
    fn a_trigger_authentication_becomes_the_binaries_settings() {
        let dir = std::env::temp_dir().join(format!("subject-{}", std::process::id()));
        let params: BTreeMap<String, String> = [
            ("sasl", "scram_sha512"),
            ("tls", "enable"),
            ("username", "kafka-consumer"),
            ("password", "secret"),
            ("ca", "-----BEGIN CERTIFICATE-----\n"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let security = security_from_auth(&source("event"), &params, &dir).unwrap();
        assert_eq!(security.protocol.as_str(), "sasl_ssl");
        assert_eq!(security.sasl.as_ref().unwrap().mechanism, "SCRAM-SHA-512");
        assert!(security.ca_location.unwrap().ends_with("trigger-ca.crt"));
        let mut no_password = params.clone();
        no_password.remove("password");
        let err = security_from_auth(&source("event"), &no_password, &dir).unwrap_err();
        assert!(err.to_string().contains("needs `password`"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
