//! Deployments as the checks need them: their containers' images and pull policies, and
//! the settings the producer and consumer read from the environment (under any of the
//! spellings the binaries accept, dotted first, with the binaries' defaults).

use serde_yaml_ng::Value;

use super::Document;

/// A Deployment document and what the checks read from it.
pub struct Deployment<'a> {
    pub doc: &'a Document,
}

/// An environment setting: its value, or that it comes from a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
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

    pub fn containers(&self) -> Vec<&'a Value> {
        self.spec()
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("containers"))
            .and_then(Value::as_sequence)
            .map(|c| c.iter().collect())
            .unwrap_or_default()
    }

    /// `spec.replicas`, if the manifest sets it.
    pub fn replicas(&self) -> Option<&'a Value> {
        self.spec().and_then(|s| s.get("replicas"))
    }

    /// The setting `dotted` in any container (`envSourceContainerName` picks one).
    pub fn setting(&self, dotted: &str, container: Option<&str>) -> Setting {
        for c in self.containers() {
            if container.is_some_and(|name| c.get("name").and_then(Value::as_str) != Some(name)) {
                continue;
            }
            let env: Vec<&Value> = c
                .get("env")
                .and_then(Value::as_sequence)
                .map(|e| e.iter().collect())
                .unwrap_or_default();
            for spelling in common::config::spellings(dotted) {
                let Some(entry) = env
                    .iter()
                    .find(|e| e.get("name").and_then(Value::as_str) == Some(spelling.as_str()))
                else {
                    continue;
                };
                return match entry.get("value").and_then(Value::as_str) {
                    Some(v) => Setting::Value {
                        name: spelling,
                        value: v.to_owned(),
                    },
                    None if entry.get("valueFrom").is_some() => {
                        Setting::FromReference { name: spelling }
                    }
                    None => Setting::Value {
                        name: spelling,
                        value: String::new(),
                    },
                };
            }
        }
        Setting::Unset
    }

    /// The effective value of `dotted`: set, or `default`; `None` when it comes from a
    /// reference only the cluster can resolve.
    pub fn effective(&self, dotted: &str, default: Option<&str>) -> Option<String> {
        match self.setting(dotted, None) {
            Setting::Value { value, .. } => Some(value),
            Setting::FromReference { .. } => None,
            Setting::Unset => default.map(str::to_owned),
        }
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

    /// Whether the binary reading these settings is the producer (`kafka.brokers.host`).
    pub fn is_producer(&self) -> bool {
        self.setting("kafka.brokers.host", None) != Setting::Unset
            || self
                .images()
                .iter()
                .any(|i| image_name(i) == "kafka-producer-callback")
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
}
