//! What KEDA does when its Kafka scaler fails, read from KEDA v2.20.2:
//!
//! - Every scaler call goes through `fallback.GetMetricsWithFallback`
//!   (pkg/fallback/fallback.go), KEDA's poll (`getScalerState`) and the HPA's metric request
//!   (`GetScaledObjectMetrics`) alike. With a valid `fallback`, a failing call adds one to
//!   the trigger's `status.health[metric].numberOfFailures` and a successful one sets it
//!   back to 0; once it is above `failureThreshold`, the call is answered with the fallback
//!   metric (`doFallback`) and counts as active.
//! - After any failed call that was not answered by the fallback, KEDA drops the
//!   ScaledObject's scalers from its cache (`ClearScalersCache`, both paths) and builds them
//!   again at the next call (`performGetScalersCache` -> `buildScalers` ->
//!   `NewKafkaScaler`). Building the Kafka scaler opens a sarama client, and
//!   `sarama.NewClient` fetches the cluster's metadata first: with no broker answering it
//!   fails, and then the call fails before the fallback is asked. So during a broker
//!   outage only the first failing call counts: fallback comes only with
//!   `failureThreshold: 0` (the gap kedacore/keda#8056 describes for unreachable scalers),
//!   and KEDA's poll returns from `checkScalers` without calling `RequestScale` at all.
//! - A failure the broker answers (the group's coordinator moving, the topic gone) leaves
//!   the scaler buildable: every call fails and counts.
//!
//! The scaler is rebuilt with no memory: `excludePersistentLag`'s previous offsets start
//! over (`previousOffsets` is made empty by `NewKafkaScaler`).

use serde::{Deserialize, Serialize};

use super::scaler::{KafkaScaler, Offsets, Reading};
use super::spec::{FallbackBehavior, MetricType, ScalingSpec};

/// Why a scaler call failed, where KEDA's handling differs. Written `broker-unreachable`;
/// read from any spelling [`ScalerError::parse`] takes (`broker unreachable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", try_from = "String")]
pub enum ScalerError {
    /// No broker answers (a broker outage, a network partition): once the scaler is out of
    /// KEDA's cache, building it fails too.
    BrokerUnreachable,
    /// The group's coordinator is moving (OffsetFetch answers NOT_COORDINATOR): the call
    /// fails, the scaler builds.
    CoordinatorMoving,
    /// The topic is not there (DescribeTopics answers UNKNOWN_TOPIC_OR_PARTITION).
    TopicNotFound,
    /// A value trigger's source did not answer (Prometheus, the metrics API, a ConfigMap
    /// gone): the call fails, the scaler builds.
    MetricUnavailable,
}

impl ScalerError {
    pub const ALL: [ScalerError; 4] = [
        ScalerError::BrokerUnreachable,
        ScalerError::CoordinatorMoving,
        ScalerError::TopicNotFound,
        ScalerError::MetricUnavailable,
    ];

    /// Its name in traces and scenario files (`broker unreachable`).
    pub fn as_str(self) -> &'static str {
        match self {
            ScalerError::BrokerUnreachable => "broker unreachable",
            ScalerError::CoordinatorMoving => "coordinator moving",
            ScalerError::TopicNotFound => "topic not found",
            ScalerError::MetricUnavailable => "metric unavailable",
        }
    }

    /// The error `text` names (spaces or dashes, any case).
    pub fn parse(text: &str) -> Result<Self, String> {
        let words = text.trim().to_ascii_lowercase().replace('-', " ");
        if words == "group not found" {
            return Err("\"group not found\" is no scaler error: Kafka answers OffsetFetch for an unknown group with offset -1 on every partition (a group that never committed: record the partitions with \"committed\": null)".into());
        }
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == words)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|e| e.as_str()).collect();
                format!(
                    "{text:?} is no scaler error the emulator knows ({})",
                    known.join(", ")
                )
            })
    }

    /// Whether a broker answers: KEDA can build the scaler again.
    pub fn scaler_builds(self) -> bool {
        self != ScalerError::BrokerUnreachable
    }
}

impl TryFrom<String> for ScalerError {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text)
    }
}

impl std::fmt::Display for ScalerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a scaler call finds at the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed<'a> {
    Offsets(&'a [Offsets]),
    Error(ScalerError),
}

/// What one scaler call gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// The scaler read the offsets.
    Read(Reading),
    /// The HPA was served KEDA's last poll (`useCachedMetrics`): metric in milli-units.
    Cached { metric_milli: i64, active: bool },
    /// The scaler failed and the fallback answered: metric in milli-units, active.
    Fallback { metric_milli: i64 },
    /// A value trigger's scaler read its value: metric in milli-units, and whether it is
    /// above the activation threshold.
    Value { metric_milli: i64, active: bool },
    /// The scaler failed past `failureThreshold` with `fallback.behavior:
    /// scalingModifiers`: no error, the placeholder value -1, which the formula reads as
    /// nil (fallback.go GetMetricsWithFallback, modifiers/formula.go
    /// scalingModifierTriggerValue).
    FallbackNil,
    /// The scaler failed; the failure was counted (with a fallback) or not.
    Failed(ScalerError),
    /// The scaler could not be built: the call failed before the fallback was asked.
    NoScaler(ScalerError),
}

/// How the scaler call ended, as decisions record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallOutcome {
    #[default]
    Read,
    Cached,
    Fallback,
    Failed,
    NoScaler,
    /// `fallback-nil`: past the threshold with the scalingModifiers fallback behavior.
    FallbackNil,
}

impl Call {
    pub fn outcome(&self) -> CallOutcome {
        match self {
            Call::Read(_) | Call::Value { .. } => CallOutcome::Read,
            Call::Cached { .. } => CallOutcome::Cached,
            Call::FallbackNil => CallOutcome::FallbackNil,
            Call::Fallback { .. } => CallOutcome::Fallback,
            Call::Failed(_) => CallOutcome::Failed,
            Call::NoScaler(_) => CallOutcome::NoScaler,
        }
    }

    /// The metric the caller gets, in milli-units; `None` when the call failed.
    pub fn metric_milli(&self) -> Option<i64> {
        match self {
            Call::Read(r) => Some(r.metric * 1000),
            Call::Cached { metric_milli, .. }
            | Call::Fallback { metric_milli }
            | Call::Value { metric_milli, .. } => Some(*metric_milli),
            Call::FallbackNil => Some(-1000),
            Call::Failed(_) | Call::NoScaler(_) => None,
        }
    }

    /// The metric, whole (0 when the call failed), for decisions.
    pub fn metric(&self) -> i64 {
        self.metric_milli().unwrap_or(0) / 1000
    }

    /// Whether the trigger counts as active (`isActiveOrFallback`).
    pub fn active(&self) -> bool {
        match self {
            Call::Read(r) => r.active,
            Call::Cached { active, .. } | Call::Value { active, .. } => *active,
            Call::Fallback { .. } => true,
            Call::Failed(_) | Call::NoScaler(_) | Call::FallbackNil => false,
        }
    }

    /// The scaler's error, when the call failed.
    pub fn error(&self) -> Option<ScalerError> {
        match self {
            Call::Failed(e) | Call::NoScaler(e) => Some(*e),
            _ => None,
        }
    }

    /// What KEDA's poll keeps for the HPA with `useCachedMetrics`
    /// (metricscache.MetricsRecord: the metric after the fallback, and its error); `None`
    /// when the poll stored nothing (`checkScalers` returned before `StoreRecords`).
    pub fn record(&self) -> Option<Record> {
        match self {
            Call::NoScaler(_) => None,
            Call::Failed(e) => Some(Record {
                metric_milli: 0,
                active: false,
                error: Some(*e),
            }),
            ok => Some(Record {
                metric_milli: ok.metric_milli().unwrap_or(0),
                active: ok.active(),
                error: None,
            }),
        }
    }
}

/// A KEDA poll's result, kept for the HPA's requests with `useCachedMetrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    metric_milli: i64,
    active: bool,
    error: Option<ScalerError>,
}

impl Record {
    /// The stored scaler error, if the poll's call failed.
    pub(crate) fn error(&self) -> Option<ScalerError> {
        self.error
    }

    /// The stored metric, milli-units.
    pub(crate) fn metric_milli(&self) -> i64 {
        self.metric_milli
    }

    /// Whether the stored call was active.
    pub(crate) fn active(&self) -> bool {
        self.active
    }
}

/// KEDA's scalers cache for the ScaledObject and the fallback's failure count.
#[derive(Debug, Clone)]
pub struct ScalerCache {
    /// The scaler in KEDA's cache; `None` once an error cleared it.
    scaler: Option<KafkaScaler>,
    /// `status.health[metric].numberOfFailures` (kept only with a fallback).
    failures: u32,
}

impl ScalerCache {
    pub fn new(spec: &ScalingSpec) -> Self {
        Self {
            scaler: Some(KafkaScaler::new(spec.trigger.clone())),
            failures: 0,
        }
    }

    /// The fallback's failure count.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The scaler from KEDA's cache, built again if an error cleared it; building fails
    /// when no broker answers.
    fn built(
        &mut self,
        spec: &ScalingSpec,
        observed: Observed,
    ) -> Result<&mut KafkaScaler, ScalerError> {
        if self.scaler.is_none() {
            if let Observed::Error(e) = observed {
                if !e.scaler_builds() {
                    return Err(e);
                }
            }
        }
        Ok(self
            .scaler
            .get_or_insert_with(|| KafkaScaler::new(spec.trigger.clone())))
    }

    /// One scaler call (a KEDA poll, or an HPA metric request) for a workload at
    /// `replicas` (all ready: the emulator's pods are ready when requested).
    pub fn call(&mut self, spec: &ScalingSpec, observed: Observed, replicas: u32) -> Call {
        let scaler = match self.built(spec, observed) {
            Ok(scaler) => scaler,
            Err(e) => return Call::NoScaler(e),
        };
        match observed {
            Observed::Offsets(offsets) => {
                let reading = scaler.read(offsets);
                self.succeeded(spec);
                Call::Read(reading)
            }
            Observed::Error(e) => self.failed(spec, e, replicas),
        }
    }

    /// An HPA metric request with `useCachedMetrics`: KEDA's last poll's record, through
    /// the fallback again (a live call when the poll stored none).
    pub fn call_cached(
        &mut self,
        spec: &ScalingSpec,
        observed: Observed,
        record: Option<Record>,
        replicas: u32,
    ) -> Call {
        let Some(record) = record else {
            return self.call(spec, observed, replicas);
        };
        if let Err(e) = self.built(spec, observed) {
            return Call::NoScaler(e);
        }
        match record.error {
            None => {
                self.succeeded(spec);
                Call::Cached {
                    metric_milli: record.metric_milli,
                    active: record.active,
                }
            }
            Some(e) => self.failed(spec, e, replicas),
        }
    }

    /// GetMetricsWithFallback without an error: the count goes back to 0.
    fn succeeded(&mut self, spec: &ScalingSpec) {
        if spec.fallback.is_some() {
            self.failures = 0;
        }
    }

    /// GetMetricsWithFallback with an error: counted, answered by the fallback past the
    /// threshold; otherwise the error stands and the cache is cleared.
    fn failed(&mut self, spec: &ScalingSpec, error: ScalerError, replicas: u32) -> Call {
        if let Some(fallback) = &spec.fallback {
            self.failures += 1;
            if self.failures > fallback.failure_threshold {
                if let Some(metric_milli) = fallback_metric_milli(spec, replicas) {
                    return Call::Fallback { metric_milli };
                }
            }
        }
        self.scaler = None;
        Call::Failed(error)
    }
}

/// fallback.go doFallback: the replica count by behavior, times the target; for a `Value`
/// metric divided by the ready replicas (none ready: no fallback, "error performing
/// fallback"). In milli-units, as `resource.NewMilliQuantity(int64(target * 1000 *
/// replicas))` makes it.
fn fallback_metric_milli(spec: &ScalingSpec, replicas: u32) -> Option<i64> {
    let f = spec.fallback.as_ref()?;
    let wanted = match f.behavior {
        FallbackBehavior::Static => f.replicas,
        FallbackBehavior::CurrentReplicas => replicas,
        FallbackBehavior::CurrentReplicasIfHigher => replicas.max(f.replicas),
        FallbackBehavior::CurrentReplicasIfLower => replicas.min(f.replicas),
        // Never for a ScaledObject without a formula (the webhook refuses it).
        FallbackBehavior::ScalingModifiers => return None,
    } as f64;
    let per = match spec.metric_type {
        MetricType::AverageValue => wanted,
        MetricType::Value if replicas == 0 => return None,
        MetricType::Value => wanted / replicas as f64,
    };
    Some((spec.trigger.lag_threshold as f64 * 1000.0 * per) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::spec::fixtures::published;
    use crate::emulator::spec::Fallback;

    const MOVING: Observed<'static> = Observed::Error(ScalerError::CoordinatorMoving);
    const UNREACHABLE: Observed<'static> = Observed::Error(ScalerError::BrokerUnreachable);

    fn with_fallback(threshold: u32, replicas: u32, behavior: FallbackBehavior) -> ScalingSpec {
        ScalingSpec {
            fallback: Some(Fallback {
                failure_threshold: threshold,
                replicas,
                behavior,
            }),
            ..published()
        }
    }

    fn offsets(lag: i64) -> Vec<Offsets> {
        Offsets::numbered((0..10).map(|p| (100 + if p == 0 { lag } else { 0 }, Some(100))))
    }

    /// pkg/fallback/fallback.go GetMetricsWithFallback: every failing call adds one
    /// (IncrementFailure), past failureThreshold doFallback answers (active), and a call
    /// without an error sets the count back to 0 (UpdateHealthStatus).
    #[test]
    fn the_fallback_counts_every_failing_call_and_a_success_resets_it() {
        let spec = with_fallback(3, 6, FallbackBehavior::Static);
        let mut cache = ScalerCache::new(&spec);
        let calls: Vec<Call> = (0..4).map(|_| cache.call(&spec, MOVING, 2)).collect();
        assert!(calls[..3]
            .iter()
            .all(|c| *c == Call::Failed(ScalerError::CoordinatorMoving)));
        assert_eq!(
            calls[3],
            Call::Fallback {
                metric_milli: 30_000
            },
            "5 x 6 replicas"
        );
        assert!(calls[3].active(), "doFallback's answer counts as active");
        assert_eq!(cache.failures(), 4);
        let lag = offsets(12);
        assert_eq!(cache.call(&spec, Observed::Offsets(&lag), 2).metric(), 12);
        assert_eq!(cache.failures(), 0, "reset on success");
        assert_eq!(
            cache.call(&spec, MOVING, 2).outcome(),
            CallOutcome::Failed,
            "counting starts over"
        );
    }

    /// fallback.go doFallback: the replica count by behavior (GetCurrentReplicas for all but
    /// static), times the target for AverageValue.
    #[test]
    fn each_behavior_picks_its_replica_count() {
        use FallbackBehavior::*;
        for (behavior, at_4, at_8) in [
            (Static, 6, 6),
            (CurrentReplicas, 4, 8),
            (CurrentReplicasIfHigher, 6, 8),
            (CurrentReplicasIfLower, 4, 6),
        ] {
            let spec = with_fallback(0, 6, behavior);
            assert_eq!(
                (
                    fallback_metric_milli(&spec, 4),
                    fallback_metric_milli(&spec, 8)
                ),
                (Some(at_4 * 5000), Some(at_8 * 5000)),
                "{behavior:?}"
            );
        }
    }

    /// doFallback for a Value metric: divided by the ready replicas; none ready gives no
    /// metric ("error performing fallback"): the call fails.
    #[test]
    fn a_value_metric_is_divided_by_the_ready_replicas() {
        let mut spec = with_fallback(0, 6, FallbackBehavior::Static);
        spec.metric_type = MetricType::Value;
        assert_eq!(fallback_metric_milli(&spec, 4), Some(7500), "5 x 6 / 4");
        let mut cache = ScalerCache::new(&spec);
        assert_eq!(
            cache.call(&spec, MOVING, 0),
            Call::Failed(ScalerError::CoordinatorMoving)
        );
    }

    /// pkg/scaling/scale_handler.go: an unanswered error clears the scalers cache; the next
    /// call rebuilds the scaler (NewKafkaScaler -> sarama.NewClient), which fails with no
    /// broker answering, before GetMetricsWithFallback is reached: the count stays at 1
    /// and a threshold above 0 is never passed (kedacore/keda#8056).
    #[test]
    fn an_unreachable_broker_is_counted_once_then_the_scaler_cannot_be_built() {
        let spec = with_fallback(3, 6, FallbackBehavior::Static);
        let mut cache = ScalerCache::new(&spec);
        assert_eq!(
            cache.call(&spec, UNREACHABLE, 2).outcome(),
            CallOutcome::Failed
        );
        for _ in 0..10 {
            assert_eq!(
                cache.call(&spec, UNREACHABLE, 2),
                Call::NoScaler(ScalerError::BrokerUnreachable)
            );
        }
        assert_eq!(cache.failures(), 1, "never past failureThreshold 3");
        let lag = offsets(0);
        assert_eq!(
            cache.call(&spec, Observed::Offsets(&lag), 2).outcome(),
            CallOutcome::Read,
            "built again once the broker answers"
        );

        // failureThreshold 0: the first failure is answered by the fallback, the cache is
        // kept, and every call after it is answered too.
        let spec = with_fallback(0, 6, FallbackBehavior::Static);
        let mut cache = ScalerCache::new(&spec);
        for _ in 0..3 {
            assert_eq!(
                cache.call(&spec, UNREACHABLE, 2),
                Call::Fallback {
                    metric_milli: 30_000
                }
            );
        }
    }

    /// Without a fallback nothing is counted; a failure the broker answers leaves the
    /// scaler buildable, so every call fails (not NoScaler).
    #[test]
    fn without_a_fallback_every_call_fails_and_nothing_is_counted() {
        let spec = published();
        let mut cache = ScalerCache::new(&spec);
        for _ in 0..3 {
            assert_eq!(
                cache.call(&spec, MOVING, 2),
                Call::Failed(ScalerError::CoordinatorMoving)
            );
        }
        assert_eq!(cache.failures(), 0);
    }

    /// useCachedMetrics: the HPA's request goes through GetMetricsWithFallback with the
    /// poll's stored error, so it counts too.
    #[test]
    fn a_cached_error_counts_as_a_failing_call() {
        let spec = with_fallback(1, 6, FallbackBehavior::Static);
        let mut cache = ScalerCache::new(&spec);
        let poll = cache.call(&spec, MOVING, 2);
        let record = poll.record();
        assert_eq!(
            cache.call_cached(&spec, MOVING, record, 2),
            Call::Fallback {
                metric_milli: 30_000
            }
        );
        assert_eq!(
            Call::NoScaler(ScalerError::BrokerUnreachable).record(),
            None,
            "checkScalers stored nothing"
        );
    }

    #[test]
    fn error_names_parse_and_group_not_found_is_explained() {
        assert_eq!(
            ScalerError::parse("Broker-Unreachable"),
            Ok(ScalerError::BrokerUnreachable)
        );
        assert_eq!(
            ScalerError::try_from("topic not found".to_owned()),
            Ok(ScalerError::TopicNotFound)
        );
        assert!(ScalerError::parse("group not found")
            .unwrap_err()
            .contains("offset -1"));
        assert!(ScalerError::parse("disk full").unwrap_err().contains(
            "broker unreachable, coordinator moving, topic not found, metric unavailable"
        ));
    }
}
