//! Deployments as the checks need them: their containers' images and pull policies, and
//! the settings the producer and consumer read from the environment. Settings are named
//! by the binaries' own declarations ([`common::config::Setting`]: the producer's, the
//! consumer's and the shared security settings), read under every spelling the binaries
//! accept (dotted first), with the binaries' defaults.

use common::config::{Preset, Setting};
use common::kafka::security::{self, Protocol};
use serde_yaml_ng::Value;

use super::Document;

/// A Deployment document and what the checks read from it.
pub struct Deployment<'a> {
    pub doc: &'a Document,
}

/// Which of the project's binaries a Deployment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Producer,
    Consumer,
}

impl Role {
    /// The setting that names the brokers it connects to.
    pub fn brokers(self) -> &'static Setting {
        match self {
            Role::Producer => &producer::config::BROKERS_HOST,
            Role::Consumer => &consumer::config::BROKERS,
        }
    }

    /// The image the project builds for it.
    pub fn image(self) -> &'static str {
        match self {
            Role::Producer => "kafka-producer-callback",
            Role::Consumer => "kafka-consumer",
        }
    }
}

/// An environment setting in a manifest: its value, or that it comes from a Secret or
/// ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// Set in the manifest, under this variable name.
    Value { name: String, value: String },
    /// `valueFrom`: known only in the cluster.
    FromReference { name: String },
    /// Not set: the binary's default applies.
    Unset,
}

impl<'a> Deployment<'a> {
    pub fn name(&self) -> &str {
        self.doc.name()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.doc.namespace()
    }

    fn spec(&self) -> Option<&'a Value> {
        self.doc.value.get("spec")
    }

    /// `spec.template.spec`.
    pub fn pod(&self) -> Option<&'a Value> {
        self.spec()?.get("template")?.get("spec")
    }

    pub fn containers(&self) -> Vec<&'a Value> {
        self.pod()
            .and_then(|s| s.get("containers"))
            .and_then(Value::as_sequence)
            .map(|c| c.iter().collect())
            .unwrap_or_default()
    }

    /// `spec.replicas`, if the manifest sets it.
    pub fn replicas(&self) -> Option<&'a Value> {
        self.spec().and_then(|s| s.get("replicas"))
    }

    /// `setting` in any container (`envSourceContainerName` picks one), under any of the
    /// spellings the binaries accept, the dotted one first.
    pub fn env(&self, setting: &Setting, container: Option<&str>) -> EnvValue {
        for c in self.containers() {
            if container.is_some_and(|name| c.get("name").and_then(Value::as_str) != Some(name)) {
                continue;
            }
            let env = c.get("env").and_then(Value::as_sequence);
            for spelling in common::config::spellings(setting.key) {
                let Some(entry) = env
                    .into_iter()
                    .flatten()
                    .find(|e| e.get("name").and_then(Value::as_str) == Some(spelling.as_str()))
                else {
                    continue;
                };
                return match entry.get("value").and_then(Value::as_str) {
                    Some(v) => EnvValue::Value {
                        name: spelling,
                        value: v.to_owned(),
                    },
                    None if entry.get("valueFrom").is_some() => {
                        EnvValue::FromReference { name: spelling }
                    }
                    None => EnvValue::Value {
                        name: spelling,
                        value: String::new(),
                    },
                };
            }
        }
        EnvValue::Unset
    }

    /// The value the binary runs with: the manifest's, else the setting's default; `None`
    /// when it comes from a reference only the cluster can resolve, or is unset without
    /// a default.
    pub fn value(&self, setting: &Setting) -> Option<String> {
        match self.env(setting, None) {
            EnvValue::Value { value, .. } => Some(value),
            EnvValue::FromReference { .. } => None,
            EnvValue::Unset => match setting.default {
                Preset::Value(v) => Some(v.to_owned()),
                Preset::Required | Preset::Unset(_) => None,
            },
        }
    }

    /// A list setting (topics, brokers) split at commas, trimmed.
    pub fn list(&self, setting: &Setting) -> Option<Vec<String>> {
        let value = self.value(setting)?;
        Some(value.split(',').map(|s| s.trim().to_owned()).collect())
    }

    /// The protocol it connects with (`kafka.security.protocol`); `None` when it comes
    /// from a reference, or is no protocol (the binary refuses it at start-up).
    pub fn protocol(&self) -> Option<Protocol> {
        Protocol::parse(&self.value(&security::SECURITY_PROTOCOL)?)
    }

    /// The `env` entry named exactly `name`, in any container.
    pub fn env_entry(&self, name: &str) -> Option<&'a Value> {
        self.containers().into_iter().find_map(|c| {
            c.get("env")?
                .as_sequence()?
                .iter()
                .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
        })
    }

    /// A plain environment variable of the container KEDA reads `...FromEnv` from.
    pub fn env_var(&self, name: &str, container: Option<&str>) -> Option<String> {
        for c in self.containers() {
            if container.is_some_and(|n| c.get("name").and_then(Value::as_str) != Some(n)) {
                continue;
            }
            let found = c
                .get("env")
                .and_then(Value::as_sequence)
                .and_then(|env| {
                    env.iter()
                        .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
                })
                .and_then(|e| e.get("value"))
                .and_then(Value::as_str);
            if let Some(v) = found {
                return Some(v.to_owned());
            }
            if container.is_none() {
                // KEDA reads the first container unless envSourceContainerName says otherwise.
                break;
            }
        }
        None
    }

    /// Which binary reads these settings: the producer names its brokers
    /// `kafka.brokers.host`, the consumer `kafka.brokers`; else the image tells.
    pub fn role(&self) -> Option<Role> {
        let images: Vec<&str> = self.images().into_iter().map(image_name).collect();
        [Role::Producer, Role::Consumer].into_iter().find(|role| {
            self.env(role.brokers(), None) != EnvValue::Unset || images.contains(&role.image())
        })
    }

    pub fn images(&self) -> Vec<&'a str> {
        self.containers()
            .iter()
            .filter_map(|c| c.get("image").and_then(Value::as_str))
            .collect()
    }
}

/// `registry:5000/team/kafka-consumer:1.2@sha256:..` -> `kafka-consumer`.
pub fn image_name(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

/// The pull policy Kubernetes uses for a container: its `imagePullPolicy`, else `Always`
/// for a `:latest` or untagged image without a digest, else `IfNotPresent`
/// (pkg/apis/core/v1/defaults.go SetDefaults_Container).
pub fn pull_policy(container: &Value) -> (String, bool) {
    if let Some(p) = container.get("imagePullPolicy").and_then(Value::as_str) {
        return (p.to_owned(), true);
    }
    let image = container.get("image").and_then(Value::as_str).unwrap_or("");
    let has_digest = image.contains('@');
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last
        .split('@')
        .next()
        .unwrap_or(last)
        .split_once(':')
        .map(|(_, t)| t);
    let implied = if !has_digest && matches!(tag, None | Some("latest")) {
        "Always"
    } else {
        "IfNotPresent"
    };
    (implied.to_owned(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_ignore_registry_tag_and_digest() {
        assert_eq!(
            image_name("reg:5000/team/kafka-consumer:1.2@sha256:abc"),
            "kafka-consumer"
        );
        assert_eq!(image_name("kafka-consumer"), "kafka-consumer");
    }

    #[test]
    fn pull_policy_defaults_as_kubernetes_does() {
        let c = |yaml: &str| pull_policy(&serde_yaml_ng::from_str(yaml).unwrap());
        assert_eq!(c("{image: x}"), ("Always".into(), false));
        assert_eq!(c("{image: 'reg:5000/x:latest'}"), ("Always".into(), false));
        assert_eq!(
            c("{image: 'reg:5000/x:0.1.0'}"),
            ("IfNotPresent".into(), false)
        );
        assert_eq!(c("{image: 'x@sha256:ab'}"), ("IfNotPresent".into(), false));
        assert_eq!(
            c("{image: x, imagePullPolicy: Never}"),
            ("Never".into(), true)
        );
    }

    /// Settings are read as the binaries read them: any spelling, dotted first, with the
    /// binaries' declared defaults.
    #[test]
    fn settings_are_the_binaries_own_with_their_spellings_and_defaults() {
        let doc = Document {
            file: "f".into(),
            value: serde_yaml_ng::from_str(
                "kind: Deployment\nmetadata: {name: c}\nspec: {template: {spec: {containers: [{name: c, image: 'r/kafka-consumer:1', env: [{name: KAFKA_GROUPID, value: g}, {name: KAFKA_SECURITY_PROTOCOL, value: SASL_SSL}, {name: kafka.topics, value: 'a, b'}, {name: kafka.sasl.password, valueFrom: {secretKeyRef: {name: s, key: password}}}]}]}}}",
            )
            .unwrap(),
        };
        let app = Deployment { doc: &doc };
        assert_eq!(app.role(), Some(Role::Consumer), "by its image");
        assert_eq!(app.value(&consumer::config::GROUP_ID).as_deref(), Some("g"));
        assert_eq!(
            app.value(&consumer::config::AUTO_OFFSET_RESET).as_deref(),
            Some("earliest"),
            "the consumer's declared default"
        );
        assert_eq!(app.list(&consumer::config::TOPICS).unwrap(), ["a", "b"]);
        assert_eq!(app.protocol(), Some(Protocol::SaslSsl), "any case");
        assert_eq!(app.value(&security::SASL_PASSWORD), None, "from a Secret");
        assert_eq!(
            app.value(&consumer::config::BROKERS),
            None,
            "required, unset"
        );
    }
}
