//! What drives the emulator: the settings of one ScaledObject with one Kafka trigger, as
//! `keda::validate` leaves them: every default filled in (KEDA's and the HPA's), the
//! paused annotations turned into what KEDA does with them, durations in milliseconds.

/// Milliseconds on the emulator's clock (virtual or wall, the emulator does not care).
pub type Millis = u64;

/// The HPA controller's sync period (kube-controller-manager
/// `--horizontal-pod-autoscaler-sync-period`, default 15 s).
pub const HPA_SYNC: Millis = 15_000;
/// The HPA controller's tolerance (`--horizontal-pod-autoscaler-tolerance`, default 0.1),
/// used for a direction whose `behavior.<direction>.tolerance` is unset.
pub const HPA_TOLERANCE: f64 = 0.1;
/// The controller's scale-down stabilization window
/// (`--horizontal-pod-autoscaler-downscale-stabilization`, default 5 min): the legacy
/// path's window, and a `behavior.scaleDown` window left unset.
pub const DOWNSCALE_STABILIZATION: Millis = 300_000;

/// A ScaledObject, as far as scaling decisions go.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingSpec {
    /// `scaleTargetRef.name`: the workload being scaled.
    pub target: String,
    /// `pollingInterval` (default 30 s).
    pub polling_interval: Millis,
    /// `cooldownPeriod` (default 300 s): only governs the drop to zero (or idle).
    pub cooldown_period: Millis,
    /// `initialCooldownPeriod` (default 0).
    pub initial_cooldown_period: Millis,
    /// `minReplicaCount` (default 0).
    pub min_replicas: u32,
    /// `maxReplicaCount` (default 100).
    pub max_replicas: u32,
    /// `idleReplicaCount` (default unset).
    pub idle_replicas: Option<u32>,
    /// The HPA's `behavior`, defaults filled in as the API server does; `None` when the
    /// HPA has none (the legacy path).
    pub behavior: Option<Behavior>,
    /// The HPA's sync period (15 s; scaled with `--speed`).
    pub hpa_sync: Millis,
    pub trigger: KafkaTrigger,
    /// `triggers[].metricType`.
    pub metric_type: MetricType,
    /// `triggers[].useCachedMetrics`: the HPA gets the metric of KEDA's last poll instead
    /// of a fresh scaler call.
    pub use_cached_metrics: bool,
    /// The `autoscaling.keda.sh/*` annotations.
    pub annotations: Annotations,
    /// `fallback`: what the HPA is served while the scaler keeps failing.
    pub fallback: Option<Fallback>,
    /// The triggers beyond `trigger`, `scalingModifiers` and the target's requests
    /// (default: `trigger` is the only one).
    pub triggers: super::triggers::Triggers,
}

/// `spec.fallback` (pkg/fallback/fallback.go): after more than `failure_threshold`
/// failed scaler calls in a row the metric becomes lagThreshold x the behavior's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fallback {
    pub failure_threshold: u32,
    pub replicas: u32,
    pub behavior: FallbackBehavior,
}

/// `fallback.behavior` (apis/keda/v1alpha1/scaledobject_types.go; default static).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackBehavior {
    /// `fallback.replicas`.
    Static,
    /// The target's current replica count.
    CurrentReplicas,
    /// The larger of the current count and `fallback.replicas`.
    CurrentReplicasIfHigher,
    /// The smaller of the current count and `fallback.replicas`.
    CurrentReplicasIfLower,
    /// With `scalingModifiers`: a trigger past the threshold reads as nil in the formula;
    /// a nil formula gives `fallback.replicas x target`.
    ScalingModifiers,
}

impl ScalingSpec {
    /// The HPA's `minReplicas`: KEDA never gives it 0 (GetHPAMinReplicas).
    pub fn hpa_min(&self) -> u32 {
        self.min_replicas.max(1)
    }
}

/// The `autoscaling.keda.sh/*` annotations KEDA reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    /// `paused` (or `paused-replicas`): KEDA stops its loop and deletes the HPA.
    pub paused: bool,
    /// `paused-replicas`: the count KEDA sets before pausing.
    pub paused_replicas: Option<u32>,
    /// `paused-scale-in`: no drop to zero or idle; the HPA's scale-down is Disabled.
    pub paused_scale_in: bool,
    /// `paused-scale-out`: no scale from zero; the HPA's scale-up is Disabled.
    pub paused_scale_out: bool,
    /// `force-activation`: the triggers count as active.
    pub force_activation: bool,
}

/// How the HPA reads the external metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// Per pod: ratio = metric / (target x pods); KEDA's default.
    AverageValue,
    /// Whole: ratio = metric / target; desired = ceil(ratio x ready pods).
    Value,
}

/// KEDA's default `lagThreshold` (kafka_scaler.go, `default=10`).
pub const DEFAULT_LAG_THRESHOLD: i64 = 10;

/// A Kafka trigger's scaling settings, as its scaler reads them: every value trimmed,
/// parsed and typed, KEDA's defaults filled in. Where the scaler reads lag (brokers, group,
/// topics, TLS, SASL) is KEDA's side of the trigger, `keda::source::KafkaSource` (the
/// emulator sits below KEDA's reading, and names it only here):
/// the emulator needs none of it.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaTrigger {
    /// `partitionLimitation`: only these partition ids count (only with a topic).
    pub partition_limitation: Option<Vec<i32>>,
    /// `lagThreshold` (default [`DEFAULT_LAG_THRESHOLD`], > 0).
    pub lag_threshold: i64,
    /// `activationLagThreshold` (default 0).
    pub activation_lag_threshold: i64,
    /// `offsetResetPolicy` (default [`OffsetReset::KEDA_DEFAULT`]).
    pub offset_reset: OffsetReset,
    pub allow_idle_consumers: bool,
    pub scale_to_zero_on_invalid_offset: bool,
    pub exclude_persistent_lag: bool,
    pub limit_to_partitions_with_lag: bool,
    pub ensure_even_distribution_of_partitions: bool,
}

impl Default for KafkaTrigger {
    fn default() -> Self {
        Self {
            partition_limitation: None,
            lag_threshold: DEFAULT_LAG_THRESHOLD,
            activation_lag_threshold: 0,
            offset_reset: OffsetReset::KEDA_DEFAULT,
            allow_idle_consumers: false,
            scale_to_zero_on_invalid_offset: false,
            exclude_persistent_lag: false,
            limit_to_partitions_with_lag: false,
            ensure_even_distribution_of_partitions: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    Latest,
    Earliest,
}

impl OffsetReset {
    /// KEDA's default `offsetResetPolicy` (kafka_scaler.go, `default=latest`).
    pub const KEDA_DEFAULT: OffsetReset = OffsetReset::Latest;

    pub fn as_str(self) -> &'static str {
        match self {
            OffsetReset::Latest => "latest",
            OffsetReset::Earliest => "earliest",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "latest" => Some(OffsetReset::Latest),
            "earliest" => Some(OffsetReset::Earliest),
            _ => None,
        }
    }
}

/// `behavior` of an HPA (autoscaling/v2), with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

impl Behavior {
    /// What the API server makes of `behavior: {}`.
    pub fn defaults() -> Self {
        Self {
            scale_up: ScalingRules::default_up(),
            scale_down: ScalingRules::default_down(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`, in ms.
    pub stabilization_window: Millis,
    pub select: SelectPolicy,
    pub policies: Vec<Policy>,
    /// `tolerance` (Kubernetes 1.33+; on by default from 1.35); `None`: the controller's 0.1.
    pub tolerance: Option<f64>,
}

impl ScalingRules {
    /// Kubernetes' scale-up default: no window, 4 pods or 100 % per 15 s, the larger
    /// (pkg/apis/autoscaling/v2/defaults.go GenerateHPAScaleUpRules).
    pub fn default_up() -> Self {
        Self {
            stabilization_window: 0,
            select: SelectPolicy::Max,
            policies: vec![
                Policy {
                    kind: PolicyKind::Pods,
                    value: 4,
                    period: 15_000,
                },
                Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period: 15_000,
                },
            ],
            tolerance: None,
        }
    }

    /// Kubernetes' scale-down default: the controller's 300 s window
    /// (maybeInitScaleDownStabilizationWindow), 100 % per 15 s
    /// (GenerateHPAScaleDownRules).
    pub fn default_down() -> Self {
        Self {
            stabilization_window: DOWNSCALE_STABILIZATION,
            select: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period: 15_000,
            }],
            tolerance: None,
        }
    }

    /// The longest policy period (getLongestPolicyPeriod).
    pub fn longest_period(&self) -> Millis {
        self.policies.iter().map(|p| p.period).max().unwrap_or(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub kind: PolicyKind,
    pub value: u32,
    /// `periodSeconds`, in ms.
    pub period: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Pods,
    Percent,
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// The published ScaledObject: T = 5, max 10, cooldown 30 s, scale-down window 30 s
    /// with Percent 50 per 30 s, scale-up defaults.
    pub fn published() -> ScalingSpec {
        ScalingSpec {
            target: "kafka-consumer".into(),
            polling_interval: 30_000,
            cooldown_period: 30_000,
            initial_cooldown_period: 0,
            min_replicas: 0,
            max_replicas: 10,
            idle_replicas: None,
            behavior: Some(Behavior {
                scale_up: ScalingRules::default_up(),
                scale_down: ScalingRules {
                    stabilization_window: 30_000,
                    select: SelectPolicy::Max,
                    policies: vec![Policy {
                        kind: PolicyKind::Percent,
                        value: 50,
                        period: 30_000,
                    }],
                    tolerance: None,
                },
            }),
            fallback: None,
            hpa_sync: HPA_SYNC,
            trigger: KafkaTrigger {
                lag_threshold: 5,
                ..KafkaTrigger::default()
            },
            metric_type: MetricType::AverageValue,
            use_cached_metrics: false,
            annotations: Annotations::default(),
            triggers: Default::default(),
        }
    }
}
