//! What the lab reads of each object, as KEDA v2.20.2 and Kubernetes 1.35 write it: the
//! ScaledObject's status (its conditions, `health`, `hpaName`), the HPA's status and
//! conditions, the scale target's replicas, an event, and a Kubernetes quantity.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Event;
use serde::{Deserialize, Serialize};

/// A condition as KEDA and the HPA write them (KEDA's carry no transition time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl Condition {
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }

    /// `True/ScalerActive`, as a timeline cell shows it.
    pub fn cell(&self) -> String {
        match &self.reason {
            Some(reason) if !reason.is_empty() => format!("{}/{reason}", self.status),
            _ => self.status.clone(),
        }
    }
}

/// One metric's fallback bookkeeping (`status.health[metric]`, written only with a fallback).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    #[serde(default)]
    pub number_of_failures: Option<i32>,
    /// `Happy` or `Failing`.
    #[serde(default)]
    pub status: Option<String>,
}

/// A ScaledObject's `status` (apis/keda/v1alpha1/scaledobject_types.go ScaledObjectStatus).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectStatus {
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub health: BTreeMap<String, Health>,
    #[serde(default)]
    pub hpa_name: Option<String>,
    #[serde(default)]
    pub last_active_time: Option<String>,
    #[serde(default)]
    pub external_metric_names: Vec<String>,
    #[serde(default)]
    pub paused_replica_count: Option<i32>,
    /// `apps/v1.Deployment`.
    #[serde(default)]
    pub scale_target_kind: Option<String>,
}

impl ScaledObjectStatus {
    /// The status of a stored ScaledObject (an absent or unreadable status reads empty:
    /// KEDA has not reconciled the object yet).
    pub fn of(scaled_object: &serde_json::Value) -> Self {
        serde_json::from_value(scaled_object["status"].clone()).unwrap_or_default()
    }

    /// The condition of `kind` (`Ready`, `Active`, `Fallback`, `Paused`, `HPAActive`).
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// The most failures any metric counts (`health[*].numberOfFailures`).
    pub fn failures(&self) -> Option<i32> {
        self.health
            .values()
            .filter_map(|h| h.number_of_failures)
            .max()
    }
}

/// What the lab reads of the HPA (autoscaling/v2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HpaReading {
    pub name: String,
    pub min: i32,
    pub max: i32,
    /// `status.currentReplicas` (absent at 0: read as 0).
    pub current: i32,
    pub desired: i32,
    /// Each External metric it reports: name and value, milli-units (`current.value` or
    /// `current.averageValue`).
    pub metrics: Vec<(String, i64)>,
    /// AbleToScale, ScalingActive, ScalingLimited.
    pub conditions: Vec<Condition>,
    /// `spec.behavior`, as JSON (compared with what the ScaledObject asked for).
    pub behavior: Option<serde_json::Value>,
}

impl HpaReading {
    pub fn of(hpa: &HorizontalPodAutoscaler) -> Self {
        let spec = hpa.spec.as_ref();
        let status = hpa.status.as_ref();
        let metrics = status
            .and_then(|s| s.current_metrics.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|m| {
                let external = m.external.as_ref()?;
                let value = external
                    .current
                    .value
                    .as_ref()
                    .or(external.current.average_value.as_ref())?;
                Some((external.metric.name.clone(), quantity_milli(&value.0)?))
            })
            .collect();
        let conditions = status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .map(|c| Condition {
                kind: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
            })
            .collect();
        Self {
            name: hpa.metadata.name.clone().unwrap_or_default(),
            min: spec.and_then(|s| s.min_replicas).unwrap_or(1),
            max: spec.map_or(0, |s| s.max_replicas),
            current: status.and_then(|s| s.current_replicas).unwrap_or(0),
            desired: status.map_or(0, |s| s.desired_replicas),
            metrics,
            conditions,
            behavior: spec
                .and_then(|s| s.behavior.as_ref())
                .and_then(|b| serde_json::to_value(b).ok()),
        }
    }

    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// The External metric it reports, per pod for an AverageValue target (milli-units).
    pub fn metric(&self) -> Option<i64> {
        self.metrics.first().map(|(_, v)| *v)
    }
}

/// A scale target's replicas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replicas {
    /// `spec.replicas`: what KEDA and the HPA asked for.
    pub spec: i32,
    /// `status.readyReplicas`: consumers running.
    pub ready: i32,
}

impl Replicas {
    pub fn of(deployment: &Deployment) -> Self {
        Self {
            spec: deployment
                .spec
                .as_ref()
                .and_then(|s| s.replicas)
                .unwrap_or(1),
            ready: deployment
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0),
        }
    }
}

/// One event as `events.jsonl` keeps it: KEDA's on the ScaledObject, the HPA's on itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    /// Seconds since the recording started, when the recorder saw it.
    pub t: f64,
    /// `ScaledObject/kafka-consumer`, `HorizontalPodAutoscaler/keda-hpa-kafka-consumer`.
    pub object: String,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
    /// Who recorded it (`keda-operator`, `horizontal-pod-autoscaler`).
    pub source: String,
    /// How many times it happened (a core/v1 count, or an events.k8s.io series).
    pub count: i32,
}

impl EventLine {
    pub fn of(event: &Event, t: f64) -> Self {
        let o = &event.involved_object;
        let source = event
            .reporting_component
            .clone()
            .filter(|c| !c.is_empty())
            .or_else(|| event.source.as_ref().and_then(|s| s.component.clone()))
            .unwrap_or_default();
        let count = event
            .series
            .as_ref()
            .and_then(|s| s.count)
            .or(event.count)
            .unwrap_or(1);
        Self {
            t,
            object: format!(
                "{}/{}",
                o.kind.clone().unwrap_or_default(),
                o.name.clone().unwrap_or_default()
            ),
            kind: event.type_.clone().unwrap_or_default(),
            reason: event.reason.clone().unwrap_or_default(),
            message: lab_model::line::one_line(event.message.as_deref().unwrap_or_default()),
            source,
            count,
        }
    }
}

/// A Kubernetes quantity (`12500m`, `25`, `1.5`, `2k`, `3Mi`) in milli-units; `None` for
/// text that is not one.
pub fn quantity_milli(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let factor: f64 = match suffix {
        "" => 1.0,
        "m" => 0.001,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let value: f64 = number.parse().ok()?;
    let milli = value * factor * 1000.0;
    (milli.is_finite() && milli.abs() < 9.0e18).then(|| milli.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_as_keda_s_metrics_server_writes_them() {
        assert_eq!(quantity_milli("25"), Some(25_000));
        assert_eq!(quantity_milli("12500m"), Some(12_500));
        assert_eq!(quantity_milli("1.5"), Some(1_500));
        assert_eq!(quantity_milli("2k"), Some(2_000_000));
        assert_eq!(quantity_milli("1Ki"), Some(1_024_000));
        assert_eq!(quantity_milli("five"), None);
        assert_eq!(quantity_milli("5x"), None);
    }

    #[test]
    fn a_scaled_object_status_reads_as_keda_writes_it() {
        let so = serde_json::json!({"status": {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "ScaledObjectReady", "message": "ok"},
                {"type": "Paused", "status": "False"}
            ],
            "health": {"s0-kafka-event": {"numberOfFailures": 4, "status": "Failing"}},
            "hpaName": "keda-hpa-kafka-consumer",
            "externalMetricNames": ["s0-kafka-event"]
        }});
        let status = ScaledObjectStatus::of(&so);
        assert_eq!(
            status.condition("Ready").unwrap().cell(),
            "True/ScaledObjectReady"
        );
        assert_eq!(status.condition("Paused").unwrap().cell(), "False");
        assert_eq!(status.failures(), Some(4));
        assert_eq!(status.hpa_name.as_deref(), Some("keda-hpa-kafka-consumer"));
        assert_eq!(
            ScaledObjectStatus::of(&serde_json::json!({})),
            ScaledObjectStatus::default()
        );
    }
}
