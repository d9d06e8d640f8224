//! A ScaledObject's triggers beyond its first Kafka trigger, as the emulator runs them:
//! more Kafka triggers (another topic or group), `cpu` and `memory` triggers (the HPA's
//! Resource metrics, computed from the pods' usage), triggers whose metric is one value
//! the lab does not compute itself (`prometheus`, `metrics-api`, `kubernetes-workload`,
//! `kubernetes-resource`: the value comes from a trace or a scenario), the
//! `scalingModifiers` formula, and the scale target's resource requests.
//!
//! [`Triggers::default`] is a ScaledObject with one Kafka trigger: the lab's published
//! case, run by the emulator exactly as before these existed.

use super::formula::Formula;
use super::spec::{KafkaTrigger, MetricType, Millis};

/// The shape of the ScaledObject's trigger list.
#[derive(Debug, Clone, PartialEq)]
pub struct Triggers {
    /// Where the first Kafka trigger (`ScalingSpec::trigger`) sits in `spec.triggers`;
    /// `None` when the ScaledObject has no Kafka trigger.
    pub kafka_index: Option<usize>,
    /// That trigger's `name` (its variable in a formula).
    pub kafka_name: Option<String>,
    /// That trigger's external metric name (`s<index>-kafka-<topic>`).
    pub kafka_metric: String,
    /// What it reads: `<group>/<topic>` (a model of one group on one topic can feed
    /// another Kafka trigger only if it reads the same).
    pub kafka_reads: String,
    /// The other triggers, in `spec.triggers` order.
    pub others: Vec<TriggerSpec>,
    /// `advanced.scalingModifiers`, when a formula is set.
    pub modifiers: Option<Modifiers>,
    /// The scale target's requests per pod (what the HPA divides usage by for a
    /// Utilization target); needed only with a cpu or memory trigger.
    pub requests: PodRequests,
}

impl Default for Triggers {
    fn default() -> Self {
        Self {
            kafka_index: Some(0),
            kafka_name: None,
            kafka_metric: "s0-kafka".into(),
            kafka_reads: String::new(),
            others: Vec::new(),
            modifiers: None,
            requests: PodRequests::default(),
        }
    }
}

impl Triggers {
    /// One Kafka trigger and nothing else: the emulator's original path.
    pub fn is_single_kafka(&self) -> bool {
        self.kafka_index.is_some() && self.others.is_empty() && self.modifiers.is_none()
    }

    /// How many triggers the ScaledObject has.
    pub fn count(&self) -> usize {
        self.others.len() + usize::from(self.kafka_index.is_some())
    }

    /// Whether every trigger is cpu or memory (scale_handler.go getScaledObjectState's
    /// `cpuMemCount` rule: always active).
    pub fn only_resources(&self) -> bool {
        self.kafka_index.is_none()
            && self
                .others
                .iter()
                .all(|t| matches!(t.source, Source::Resource(_)))
    }

    /// Whether a cpu or memory trigger needs per-pod usage.
    pub fn has_resources(&self) -> bool {
        self.others
            .iter()
            .any(|t| matches!(t.source, Source::Resource(_)))
    }
}

/// One trigger other than the first Kafka trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerSpec {
    /// Its place in `spec.triggers` (the `s<index>-` of its metric name).
    pub index: usize,
    /// `triggers[].name`.
    pub name: Option<String>,
    /// The external metric's name (`s1-prometheus`); `cpu` or `memory` for a Resource
    /// metric, which has no name.
    pub metric: String,
    pub source: Source,
    /// `triggers[].metricType` of an external metric.
    pub metric_type: MetricType,
    /// `triggers[].useCachedMetrics`.
    pub use_cached_metrics: bool,
    /// A Kafka trigger's `<group>/<topic>` (empty for other types).
    pub reads: String,
}

impl TriggerSpec {
    /// The key a trace or scenario names it by: its name, else its index.
    pub fn key(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.index.to_string())
    }
}

/// Where a trigger's metric comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Another Kafka trigger (a second topic or group), read by the same scaler code.
    Kafka(KafkaTrigger),
    /// `cpu` or `memory`: a Resource metric the HPA computes from metrics-server.
    Resource(ResourceTrigger),
    /// One value from a source the lab does not run.
    Value(ValueTrigger),
}

/// The resource of a cpu or memory trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Cpu,
    Memory,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
        }
    }
}

/// A cpu or memory trigger (pkg/scalers/cpu_memory_scaler.go parseResourceMetadata).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceTrigger {
    pub resource: Resource,
    pub target: ResourceTarget,
    /// `metadata.containerName`: a ContainerResource metric of that container only.
    pub container: Option<String>,
}

/// The target of a Resource metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceTarget {
    /// `metricType: Utilization`: percent of the request.
    Utilization(i32),
    /// `metricType: AverageValue`: millicores, or milli-bytes for memory (as
    /// resource.Quantity MilliValue).
    AverageValue(i64),
}

/// A trigger whose metric is one value (pkg/scalers prometheus_scaler.go,
/// metrics_api_scaler.go, kubernetes_workload_scaler.go, kubernetes_resource_scaler.go):
/// active when the value is strictly above the activation threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueTrigger {
    /// The trigger type (`prometheus`).
    pub kind: String,
    /// The target (`threshold`, `targetValue`, `value`).
    pub target: f64,
    /// The activation threshold (`activationThreshold`, `activationTargetValue`,
    /// `activationValue`), default 0.
    pub activation: f64,
}

/// The scale target's requests per pod, as the HPA's calculateRequests sums them
/// (the API server defaults a missing request to the container's limit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRequests {
    /// Millicores per pod; `None` when some container has no cpu request.
    pub cpu_milli: Option<i64>,
    /// Bytes per pod; `None` when some container has no memory request.
    pub memory_bytes: Option<i64>,
    /// Each container's (cpu millicores, memory bytes), by name, for `containerName`.
    pub containers: Vec<(String, Option<i64>, Option<i64>)>,
}

impl PodRequests {
    /// The request the HPA divides by for `resource` (of `container`, when named), in the
    /// unit of the usage it reads (millicores; memory in milli-bytes, as MilliValue).
    pub fn milli(&self, resource: Resource, container: Option<&str>) -> Option<i64> {
        let pick = |cpu: Option<i64>, mem: Option<i64>| match resource {
            Resource::Cpu => cpu,
            Resource::Memory => mem.map(|b| b.saturating_mul(1000)),
        };
        match container {
            None => pick(self.cpu_milli, self.memory_bytes),
            Some(name) => self
                .containers
                .iter()
                .find(|(n, _, _)| n == name)
                .and_then(|(_, c, m)| pick(*c, *m)),
        }
    }
}

/// `advanced.scalingModifiers` (apis/keda/v1alpha1/scaledobject_types.go ScalingModifiers).
#[derive(Debug, Clone, PartialEq)]
pub struct Modifiers {
    /// The formula, compiled (KEDA's castToFloatIfNecessary applied).
    pub formula: Formula,
    /// `target`, parsed (ParseFloat; > 0).
    pub target: f64,
    /// `target` as written: the fallback needs it to parse as a whole number
    /// (fallback.go HasValidFallback).
    pub target_text: String,
    /// `activationTarget` (default 0): active when the composite metric is above it.
    pub activation_target: f64,
    /// `metricType` of the composite metric (default AverageValue).
    pub metric_type: MetricType,
}

impl Modifiers {
    /// The composite metric's name (kedav1alpha1.CompositeMetricName).
    pub const METRIC: &'static str = "composite-metric";
}

/// metrics-server's settings the HPA's Resource metrics depend on.
pub mod pipeline {
    use super::Millis;

    /// metrics-server's `--metric-resolution` in its published manifest
    /// (kubernetes-sigs/metrics-server v0.9.0 manifests/base/deployment.yaml: 15s; the
    /// binary's own default is 60 s): how often it scrapes the kubelets, and the CPU
    /// window (the rate between its last two scrapes).
    pub const RESOLUTION: Millis = 15_000;
    /// When the first scrape lands after t = 0 (the scrapes' phase against KEDA's and
    /// the HPA's timers, which it does not share): 7 s, so no scrape ties with a sync and
    /// every scrape falls on a whole second.
    pub const FIRST_SCRAPE: Millis = 7_000;
    /// A container younger than this at its first scrape has no CPU reading yet; an older
    /// one is read against (its start, 0) (metrics-server pkg/storage/pod.go).
    pub const FRESH_CONTAINER: Millis = 10_000;
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` default (5 min,
    /// pkg/controller/podautoscaler/config/v1alpha1/defaults.go).
    pub const CPU_INITIALIZATION: Millis = 300_000;
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` default (30 s).
    pub const INITIAL_READINESS_DELAY: Millis = 30_000;
}
