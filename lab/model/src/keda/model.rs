//! A ScaledObject (`keda.sh/v1alpha1`) as the API server stores it: the fields of KEDA's
//! CRD (apis/keda/v1alpha1/scaledobject_types.go and scaletriggers_types.go at the pinned
//! KEDA) and of the HPA `behavior` it embeds (k8s.io/api autoscaling/v2), typed.
//!
//! Strict like `kubectl apply`, whose default field validation is strict: an unknown field
//! is an error naming its path, and so is a value of the wrong type (a number where the
//! trigger metadata wants a string, a string where a count is expected). Value rules
//! (ranges, enums, what KEDA's scalers accept) are [`super::validate`]'s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

/// A whole ScaledObject document.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaledObject {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ScaledObjectSpec,
    /// Present in `kubectl get -o yaml` output; never read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

/// Kubernetes object metadata (the fields a manifest or an exported object carries).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    // Set by the API server; accepted so that exported objects can be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_fields: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_link: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    pub scale_target_ref: ScaleTarget,
    /// Seconds between KEDA's polls (default [`defaults::POLLING_INTERVAL`], minimum 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polling_interval: Option<i32>,
    /// Seconds before the first drop to zero when no trigger was ever active (default
    /// [`defaults::INITIAL_COOLDOWN_PERIOD`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_cooldown_period: Option<i32>,
    /// Seconds of inactivity before KEDA drops to idle or min (default
    /// [`defaults::COOLDOWN_PERIOD`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown_period: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_replica_count: Option<i32>,
    /// Default [`defaults::MIN_REPLICA_COUNT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_replica_count: Option<i32>,
    /// Default [`defaults::MAX_REPLICA_COUNT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replica_count: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Advanced>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
}

/// KEDA's defaults for the ScaledObject's own fields (scaledobject_types.go; the executor
/// and the HPA KEDA builds read them through these): seconds and replica counts.
pub mod defaults {
    /// `pollingInterval`, seconds.
    pub const POLLING_INTERVAL: i32 = 30;
    /// `cooldownPeriod`, seconds.
    pub const COOLDOWN_PERIOD: i32 = 300;
    /// `initialCooldownPeriod`, seconds.
    pub const INITIAL_COOLDOWN_PERIOD: i32 = 0;
    /// `minReplicaCount`.
    pub const MIN_REPLICA_COUNT: i32 = 0;
    /// `maxReplicaCount`.
    pub const MAX_REPLICA_COUNT: i32 = 100;
}

impl ScaledObjectSpec {
    /// `pollingInterval` or KEDA's default, seconds.
    pub fn polling_interval(&self) -> i32 {
        self.polling_interval.unwrap_or(defaults::POLLING_INTERVAL)
    }

    /// `cooldownPeriod` or KEDA's default, seconds.
    pub fn cooldown_period(&self) -> i32 {
        self.cooldown_period.unwrap_or(defaults::COOLDOWN_PERIOD)
    }

    /// `initialCooldownPeriod` or KEDA's default, seconds.
    pub fn initial_cooldown_period(&self) -> i32 {
        self.initial_cooldown_period
            .unwrap_or(defaults::INITIAL_COOLDOWN_PERIOD)
    }

    /// `minReplicaCount` or KEDA's default.
    pub fn min_replicas(&self) -> i32 {
        self.min_replica_count
            .unwrap_or(defaults::MIN_REPLICA_COUNT)
    }

    /// `maxReplicaCount` or KEDA's default.
    pub fn max_replicas(&self) -> i32 {
        self.max_replica_count
            .unwrap_or(defaults::MAX_REPLICA_COUNT)
    }

    /// The HPA `behavior` the ScaledObject gives, if any.
    pub fn behavior(&self) -> Option<&Behavior> {
        self.advanced
            .as_ref()?
            .horizontal_pod_autoscaler_config
            .as_ref()?
            .behavior
            .as_ref()
    }

    /// The HPA's name: `horizontalPodAutoscalerConfig.name`, else `keda-hpa-<name>`.
    pub fn hpa_name(&self, scaled_object: &str) -> String {
        self.advanced
            .as_ref()
            .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
            .and_then(|h| h.name.clone())
            .unwrap_or_else(|| format!("keda-hpa-{scaled_object}"))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleTarget {
    pub name: String,
    /// Default `apps/v1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Default `Deployment`; kinds are case-sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_source_container_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Advanced {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub horizontal_pod_autoscaler_config: Option<HpaConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore_to_original_replica_count: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_modifiers: Option<ScalingModifiers>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaConfig {
    /// The HPA's name (default `keda-hpa-<ScaledObject name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Copied verbatim into the HPA KEDA creates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScalingModifiers {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
}

/// `autoscaling/v2` HorizontalPodAutoscalerBehavior.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Behavior {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScalingRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<ScalingRules>,
}

/// `autoscaling/v2` HPAScalingRules.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScalingRules {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stabilization_window_seconds: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<ScalingPolicy>>,
    /// A resource.Quantity (`"0.05"`, `"50m"`, or a bare number); Kubernetes 1.33+.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScalingPolicy {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: i32,
    pub period_seconds: i32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Trigger {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub use_cached_metrics: bool,
    /// Strings only: a number or a boolean here fails, as it fails at the API server.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<AuthenticationRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthenticationRef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fallback {
    pub failure_threshold: i32,
    pub replicas: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub behavior: Option<String>,
}

/// Deserializes one document, naming the path of the first problem
/// (`spec.triggers[0].metadata.lagThreshold: invalid type: integer 5, expected a string`).
pub fn from_value(doc: &Value) -> Result<ScaledObject, String> {
    serde_path_to_error::deserialize(doc.clone()).map_err(|e| {
        let path = e.path().to_string();
        let message = if path == "." {
            e.inner().to_string()
        } else {
            format!("{path}: {}", e.inner())
        };
        crate::line::one_line(&message)
    })
}
