//! KEDA's side of the lab: one model of a ScaledObject and one validation with KEDA's own
//! rules, used by `check-manifests`, `plan`, `simulate`, `replay` and `lag`.
//!
//! - [`model`]: the ScaledObject as the API server stores it (typed, strict).
//! - [`trigger`]: `kafka` and `apache-kafka` trigger metadata, read as their scalers do.
//! - [`validate`]: every rule KEDA (and the HPA API) applies, and what the emulator cannot
//!   reproduce, turning a valid ScaledObject into the emulator's [`ScalingSpec`].
//!
//! The versions followed are the pinned ones (k8s/versions.env): KEDA
//! [`crate::pins::Pins::keda`] and Kubernetes [`crate::pins::Pins::kubernetes_max`].

pub mod model;
pub mod source;
pub mod trigger;
pub mod validate;

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::emulator::spec::KafkaTrigger;
use crate::emulator::ScalingSpec;
use crate::rules::RuleId;
use source::KafkaSource;

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
        let refusals: Vec<Problem> = self
            .problems
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .chain(self.not_emulated)
            .collect();
        match self.spec {
            Some(spec) if refusals.is_empty() => Ok(spec),
            _ => Err(refusals),
        }
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
    #[error("{path}: ScaledObject/{name}:\n  {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n  "))]
    Refused {
        path: String,
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
/// every problem, refused or not.
pub fn check_text(text: &str, shown: &str) -> Result<Checked, LoadError> {
    for document in serde_yaml_ng::Deserializer::from_str(text) {
        let value = Value::deserialize(document).map_err(|e| LoadError::Yaml {
            path: shown.to_owned(),
            message: crate::line::one_line(&e.to_string()),
        })?;
        if value.get("kind").and_then(Value::as_str) == Some("ScaledObject") {
            return Ok(check(&value));
        }
    }
    Err(LoadError::NoScaledObject(shown.to_owned()))
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
            name,
            problems,
        }),
    }
}

/// Checks one ScaledObject document: the schema first, then every value rule.
pub fn check(doc: &Value) -> Checked {
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)")
        .to_owned();
    match model::from_value(doc) {
        Ok(so) => validate::validate(&so),
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
