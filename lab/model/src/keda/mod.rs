//! KEDA's side of the lab: one model of a ScaledObject and one validation with KEDA's own
//! rules, used by `check-manifests`, `plan`, `simulate`, `replay` and `lag`.
//!
//! - [`model`]: the ScaledObject as the API server stores it (typed, strict).
//! - [`trigger`]: `kafka` and `apache-kafka` trigger metadata, read as their scalers do.
//! - [`validate`]: every rule KEDA (and the HPA API) applies, and what the emulator cannot
//!   reproduce, turning a valid ScaledObject into the emulator's [`ScalingSpec`];
//!   [`triggers`] reads every trigger (Kafka, cpu, memory, value triggers), [`modifiers`]
//!   the `scalingModifiers`, [`behavior`] the HPA behavior, [`workload`] the scale
//!   target's requests ([`quantity`] reads them).
//!
//! The versions followed are the pinned ones (k8s/versions.env): KEDA
//! [`crate::pins::Pins::keda`] and Kubernetes [`crate::pins::Pins::kubernetes_max`].

pub mod behavior;
pub mod model;
pub mod modifiers;
pub mod quantity;
pub mod scaledjob;
pub mod source;
pub mod trigger;
pub mod triggers;
pub mod validate;
pub mod workload;

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::emulator::spec::KafkaTrigger;
use crate::emulator::ScalingSpec;
use crate::rules::RuleId;
use source::KafkaSource;
use workload::Workload;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// KEDA, the webhook or the API server refuses the object, or the scaler fails.
    Error,
    /// Accepted, but it does not do what it says (KEDA ignores a key, for instance).
    Warning,
}

/// One problem with a ScaledObject: where, which rule, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// Path in the object, such as `spec.triggers[0].metadata.lagThreshold`.
    pub field: String,
    pub rule: RuleId,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Field and message may quote the user's own text (a key with a line break).
        let line = format!("{}: {} [{}]", self.field, self.message, self.rule);
        f.write_str(&crate::line::one_line(&line))
    }
}

/// A `kafka` or `apache-kafka` trigger of a ScaledObject, read as its scaler reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerReading {
    /// Its place in `spec.triggers`.
    pub index: usize,
    /// Where it reads lag (KEDA's side).
    pub source: KafkaSource,
    /// Its scaling settings (the emulator's side).
    pub trigger: KafkaTrigger,
}

/// A ScaledObject read and checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub name: String,
    /// The typed object (absent when it does not fit the CRD's schema).
    pub object: Option<model::ScaledObject>,
    /// Its Kafka triggers, read once (a value KEDA refuses reads as its default).
    pub triggers: Vec<TriggerReading>,
    /// Errors and warnings, as KEDA would have them.
    pub problems: Vec<Problem>,
    /// Settings that change scaling and that the emulator does not reproduce.
    pub not_emulated: Vec<Problem>,
    /// What the emulator runs (absent when an error stops KEDA).
    pub spec: Option<ScalingSpec>,
}

impl Checked {
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    /// The spec for the emulator, or every reason there is none (KEDA's errors first,
    /// then what is not emulated).
    pub fn into_spec(self) -> Result<ScalingSpec, Vec<Problem>> {
        spec_or_refusals(self.spec, self.problems, self.not_emulated)
    }
}

/// A ScaledObject file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not YAML: {message}")]
    Yaml { path: String, message: String },
    #[error("{0}: no ScaledObject in this file")]
    NoScaledObject(String),
    #[error("{0}: no ScaledObject or ScaledJob in this file")]
    NoScalable(String),
    #[error("{path}: {kind}/{name}:\n  {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
    Refused {
        path: String,
        /// ScaledObject or ScaledJob.
        kind: &'static str,
        name: String,
        problems: Vec<Problem>,
    },
}

/// A ScaledObject the emulator can run, and the warnings KEDA would have had.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub name: String,
    pub spec: ScalingSpec,
    pub warnings: Vec<Problem>,
}

/// A ScaledJob the emulator can run, and the warnings KEDA would have had.
#[derive(Debug, Clone)]
pub struct LoadedJob {
    pub name: String,
    pub spec: crate::emulator::jobs::JobSpec,
    pub warnings: Vec<Problem>,
}

/// What a file scales with: a ScaledObject or a ScaledJob.
#[derive(Debug, Clone)]
pub enum Scalable {
    Object(Box<Loaded>),
    Job(LoadedJob),
}

/// Reads the first ScaledObject or ScaledJob of a YAML file and checks it, refusing it
/// when KEDA would or the emulator cannot reproduce it.
pub fn load_scalable(path: &Path) -> Result<Scalable, LoadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: shown.clone(),
        source,
    })?;
    load_scalable_text(&text, &shown)
}

/// [`load_scalable`] from text (`shown` names it in errors).
pub fn load_scalable_text(text: &str, shown: &str) -> Result<Scalable, LoadError> {
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| LoadError::Yaml {
            path: shown.to_owned(),
            message: crate::line::one_line(&e.to_string()),
        })?;
        match value.get("kind").and_then(Value::as_str) {
            Some("ScaledObject") => {
                return load_text(text, shown).map(|l| Scalable::Object(Box::new(l)))
            }
            Some("ScaledJob") => {
                let checked = scaledjob::check(&value);
                let name = checked.name.clone();
                let warnings: Vec<Problem> = checked
                    .problems
                    .iter()
                    .filter(|p| p.severity == Severity::Warning)
                    .cloned()
                    .collect();
                return match checked.into_spec() {
                    Ok(spec) => Ok(Scalable::Job(LoadedJob {
                        name,
                        spec,
                        warnings,
                    })),
                    Err(problems) => Err(LoadError::Refused {
                        path: shown.to_owned(),
                        kind: "ScaledJob",
                        name,
                        problems,
                    }),
                };
            }
            _ => {}
        }
    }
    Err(LoadError::NoScalable(shown.to_owned()))
}

/// Reads the first ScaledObject of a (possibly multi-document) YAML file and checks it;
/// refuses it when KEDA would, or when the emulator cannot reproduce it.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: shown.clone(),
        source,
    })?;
    load_text(&text, &shown)
}

/// KEDA's reading of the first ScaledObject in `text` (`shown` names it in errors), with
/// every problem, refused or not. Its scale target's pod template is read from the same
/// text when there (a Deployment or StatefulSet of that name, with the namespace's
/// LimitRanges): what cpu and memory triggers need.
pub fn check_text(text: &str, shown: &str) -> Result<Checked, LoadError> {
    let mut documents = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| LoadError::Yaml {
            path: shown.to_owned(),
            message: crate::line::one_line(&e.to_string()),
        })?;
        documents.push(value);
    }
    let so = documents
        .iter()
        .find(|v| v.get("kind").and_then(Value::as_str) == Some("ScaledObject"))
        .ok_or_else(|| LoadError::NoScaledObject(shown.to_owned()))?;
    let target = scale_target(so, &documents);
    Ok(check_with(so, target.as_ref()))
}

/// The pod template of `so`'s scale target among `documents` (same name and namespace,
/// a Deployment or StatefulSet), with the LimitRange defaults of its namespace.
pub fn scale_target(so: &Value, documents: &[Value]) -> Option<Workload> {
    let str_at = |v: &Value, path: &[&str]| -> Option<String> {
        let mut at = v;
        for key in path {
            at = at.get(*key)?;
        }
        at.as_str().map(str::to_owned)
    };
    let name = str_at(so, &["spec", "scaleTargetRef", "name"])?;
    let kind = str_at(so, &["spec", "scaleTargetRef", "kind"]).unwrap_or("Deployment".into());
    let namespace = str_at(so, &["metadata", "namespace"]);
    let in_namespace = |d: &&Value| str_at(d, &["metadata", "namespace"]) == namespace;
    let doc = documents.iter().filter(in_namespace).find(|d| {
        str_at(d, &["kind"]).as_deref() == Some(kind.as_str())
            && matches!(kind.as_str(), "Deployment" | "StatefulSet")
            && str_at(d, &["metadata", "name"]).as_deref() == Some(name.as_str())
    })?;
    let mut workload = Workload::from_document(doc)?;
    for range in documents
        .iter()
        .filter(in_namespace)
        .filter(|d| str_at(d, &["kind"]).as_deref() == Some("LimitRange"))
    {
        workload.add_limit_range(range);
    }
    Some(workload)
}

/// [`load`] from text (`shown` names it in errors): [`check_text`], then the spec, or the
/// refusal with every reason.
pub fn load_text(text: &str, shown: &str) -> Result<Loaded, LoadError> {
    loaded(check_text(text, shown)?, shown)
}

/// A checked ScaledObject the emulator can run, or the refusal with every reason.
pub fn loaded(checked: Checked, shown: &str) -> Result<Loaded, LoadError> {
    let name = checked.name.clone();
    let warnings: Vec<Problem> = checked.warnings().cloned().collect();
    match checked.into_spec() {
        Ok(spec) => Ok(Loaded {
            name,
            spec,
            warnings,
        }),
        Err(problems) => Err(LoadError::Refused {
            path: shown.to_owned(),
            kind: "ScaledObject",
            name,
            problems,
        }),
    }
}

/// Checks one ScaledObject document: the schema first, then every value rule.
pub fn check(doc: &Value) -> Checked {
    check_with(doc, None)
}

/// [`check`] with the scale target's pod template, when known.
pub fn check_with(doc: &Value, target: Option<&Workload>) -> Checked {
    let name = document_name(doc);
    match model::from_value(doc) {
        Ok(so) => validate::validate_with(&so, target),
        Err(message) => Checked {
            name,
            problems: vec![Problem {
                severity: Severity::Error,
                field: "(schema)".into(),
                rule: RuleId::KedaSchema,
                message,
            }],
            not_emulated: Vec::new(),
            spec: None,
            object: None,
            triggers: Vec::new(),
        },
    }
}

/// The repository's ScaledObject, compiled in: the default of `lab lag` in the lab image,
/// where the repository is not.
pub const REPOSITORY_SCALED_OBJECT: &str = include_str!("../../../../k8s/keda/scaled-object.yaml");

/// A document's `metadata.name`, or `(unnamed)`: what a refusal names before the schema
/// is read.
pub(crate) fn document_name(doc: &Value) -> String {
    doc.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_owned()
}

/// A spec, or every reason there is none: KEDA's errors first, then what is not emulated
/// (a ScaledObject's and a ScaledJob's alike).
pub(crate) fn spec_or_refusals<S>(
    spec: Option<S>,
    problems: Vec<Problem>,
    not_emulated: Vec<Problem>,
) -> Result<S, Vec<Problem>> {
    let refusals: Vec<Problem> = problems
        .into_iter()
        .filter(|p| p.severity == Severity::Error)
        .chain(not_emulated)
        .collect();
    match spec {
        Some(spec) if refusals.is_empty() => Ok(spec),
        _ => Err(refusals),
    }
}
