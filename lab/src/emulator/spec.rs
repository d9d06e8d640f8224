//! What drives the emulator: the settings of one ScaledObject with one Kafka trigger,
//! with every default filled in (KEDA's and the HPA's), durations in milliseconds.

/// Milliseconds on the emulator's clock (virtual or wall, the emulator does not care).
pub type Millis = u64;

/// The HPA controller's sync period (kube-controller-manager default).
pub const HPA_SYNC: Millis = 15_000;
/// The HPA's tolerance: no change while |1 - metric/target| <= 0.1.
pub const HPA_TOLERANCE: f64 = 0.1;
/// The legacy (no `behavior`) scale-down stabilization window.
pub const LEGACY_DOWNSCALE_WINDOW: Millis = 300_000;

/// A ScaledObject, as far as scaling decisions go.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingSpec {
    /// `scaleTargetRef.name`: the Deployment being scaled.
    pub target: String,
    /// `pollingInterval` (default 30 s).
    pub polling_interval: Millis,
    /// `cooldownPeriod` (default 300 s): only governs the drop to zero.
    pub cooldown_period: Millis,
    /// `initialCooldownPeriod` (default 0).
    pub initial_cooldown_period: Millis,
    /// `minReplicaCount` (default 0).
    pub min_replicas: u32,
    /// `maxReplicaCount` (default 100).
    pub max_replicas: u32,
    /// `idleReplicaCount` (default unset).
    pub idle_replicas: Option<u32>,
    /// `advanced.horizontalPodAutoscalerConfig.behavior`, defaults filled in; `None`
    /// when the ScaledObject gives none (the HPA's legacy path).
    pub behavior: Option<Behavior>,
    /// The HPA's sync period (15 s; scaled with `--speed`).
    pub hpa_sync: Millis,
    pub trigger: KafkaTrigger,
}

impl ScalingSpec {
    /// The HPA's `minReplicas`: KEDA never gives it 0.
    pub fn hpa_min(&self) -> u32 {
        self.min_replicas.max(1)
    }
}

/// The Kafka trigger's metadata, parsed, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaTrigger {
    pub bootstrap_servers: String,
    pub consumer_group: String,
    /// `topic` (optional in KEDA: all topics of the group).
    pub topic: Option<String>,
    /// `lagThreshold` (default 10, must be > 0).
    pub lag_threshold: i64,
    /// `activationLagThreshold` (default 0).
    pub activation_lag_threshold: i64,
    /// `offsetResetPolicy` (default latest).
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
            bootstrap_servers: String::new(),
            consumer_group: String::new(),
            topic: None,
            lag_threshold: 10,
            activation_lag_threshold: 0,
            offset_reset: OffsetReset::Latest,
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

/// `behavior` of an HPA (autoscaling/v2), with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`, in ms.
    pub stabilization_window: Millis,
    pub select: SelectPolicy,
    pub policies: Vec<Policy>,
}

impl ScalingRules {
    /// Kubernetes' scale-up default: no window, 4 pods or 100 % per 15 s, the larger.
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
        }
    }

    /// Kubernetes' scale-down default: 300 s window, 100 % per 15 s.
    pub fn default_down() -> Self {
        Self {
            stabilization_window: 300_000,
            select: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Percent,
                value: 100,
                period: 15_000,
            }],
        }
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
