//! `lab check-manifests`: the rules a cluster enforces that schema validators miss.
//!
//! Every ScaledObject gets KEDA's own rules ([`lab_model::keda`]); the Strimzi resources get
//! strict schemas and the pinned Strimzi's supported Kafka versions; and the objects are
//! checked against each other as a running cluster would connect them: keda-operator
//! resolving the trigger's brokers from its own namespace, the trigger reading the
//! consumer's group and topic, the HPA owning the Deployment's replica count, the kubelet
//! pulling images. Each finding names file, object, field, rule and fix. Checks whose
//! objects are absent (a Kafka installed separately or managed, no Dockerfile) are
//! skipped, and the report says which and why.
//!
//! [`lab_model::rules`] lists the rules with their sources.

pub mod apps;
pub mod cluster;
pub mod strimzi;

mod checks;

use lab_model::rules::RuleId;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use serde_yaml_ng::Value;

/// One YAML document and the file it came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file that defines it: the kustomize origin annotation when the document was
    /// rendered with `buildMetadata: [originAnnotations]`, else the file read.
    pub file: String,
    pub value: Value,
}

impl Document {
    pub fn kind(&self) -> &str {
        self.value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        self.value
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("?")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.value
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
    }

    /// `Kind/name`.
    pub fn object(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }
}

/// Parses every document of a multi-document YAML `text` read from `file`. Documents
/// with a `config.kubernetes.io/origin` annotation are attributed to the file it names,
/// relative to `origin_base` (the directory of the kustomization that rendered them).
pub fn documents(text: &str, file: &str, origin_base: &Path) -> Result<Vec<Document>, String> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| {
            Value::deserialize(d)
                .map_err(|e| lab_model::line::one_line(&format!("{file}: not YAML: {e}")))
        })
        .filter(|v| !matches!(v, Ok(Value::Null)))
        .map(|v| {
            v.map(|value| {
                let origin = value
                    .get("metadata")
                    .and_then(|m| m.get("annotations"))
                    .and_then(|a| a.get("config.kubernetes.io/origin"))
                    .and_then(Value::as_str)
                    .and_then(|o| o.lines().find_map(|l| l.trim().strip_prefix("path: ")))
                    .map(|p| normalize(&origin_base.join(p.trim())).display().to_string());
                Document {
                    file: origin.unwrap_or_else(|| file.to_owned()),
                    value,
                }
            })
        })
        .collect()
}

/// `a/b/../../k8s/x` -> `k8s/x`, lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// One problem, with everything a reader needs to mend it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: String,
    /// `Kind/name`.
    pub object: String,
    /// Path in the object.
    pub field: String,
    pub rule: RuleId,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} [{}]: {}\n    fix: {}",
            self.file, self.object, self.field, self.rule, self.message, self.fix
        )
    }
}

/// What the check needs besides the documents.
#[derive(Debug, Clone)]
pub struct Context {
    /// The namespace keda-operator runs in.
    pub keda_namespace: String,
    /// The Strimzi release whose Kafka versions apply.
    pub strimzi: String,
    /// The Dockerfile's text, if one was given.
    pub dockerfile: Option<String>,
}

impl Default for Context {
    fn default() -> Self {
        Self {
            keda_namespace: "keda".into(),
            strimzi: lab_model::pins::pins().strimzi.clone(),
            dockerfile: None,
        }
    }
}

/// The outcome: findings (the check fails with any), notes (settings the lab's emulator
/// does not reproduce; informational here), the checks skipped, with why, the documents
/// checked and the kinds left alone, with why: nothing is passed over silently.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Settings KEDA accepts that users regret ([`lab_model::advice`]).
    pub advice: Vec<Finding>,
    pub notes: Vec<Finding>,
    pub skipped: Vec<(RuleId, String)>,
    /// The documents the checks read (`Kind/name`).
    pub checked: Vec<String>,
    /// The kinds no check reads: (kind, documents of it, why it is left alone).
    pub left_alone: Vec<(String, usize, String)>,
}

/// Runs every check that applies to `documents`.
pub fn check(documents: &[Document], context: &Context) -> Report {
    checks::run(documents, context)
}

#[cfg(test)]
mod tests;
