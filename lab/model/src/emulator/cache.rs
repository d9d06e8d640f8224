//! KEDA's scalers cache for a ScaledObject with several triggers
//! (pkg/scaling/cache/scalers_cache.go, pkg/scaling/scalers_builder.go), and each
//! trigger's fallback (pkg/fallback/fallback.go), one slot per trigger with an external
//! metric (Kafka and value triggers; cpu and memory have no scaler call):
//!
//! - building the cache builds every trigger's scaler; one that cannot be built (a Kafka
//!   trigger whose brokers do not answer: `NewKafkaScaler` -> `sarama.NewClient`) fails the
//!   whole build (`buildScalers` closes the rest), and the call fails before any fallback;
//! - each call goes through `GetMetricsWithFallback` with the trigger's own failure count
//!   (`status.health[<its metric name>]`): reset by a success, counted on a failure,
//!   answered by `doFallback` past `failureThreshold` (or, with `behavior:
//!   scalingModifiers`, by a placeholder the formula reads as nil);
//! - after a call that failed unanswered, the caller clears the whole cache (every
//!   trigger's scaler is built again at the next call: `ClearScalersCache`).

use super::failure::{Call, Record, ScalerError};
use super::scaler::{KafkaScaler, Offsets};
use super::spec::{FallbackBehavior, MetricType, ScalingSpec};
use super::triggers::Source;

/// What a trigger's source gives at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found<'a> {
    /// A Kafka trigger's partitions.
    Offsets(&'a [Offsets]),
    /// A value trigger's value.
    Value(f64),
    /// The error its scaler gets.
    Error(ScalerError),
}

/// One trigger with an external metric.
#[derive(Debug, Clone)]
pub struct Slot {
    /// `None`: the first Kafka trigger (`ScalingSpec::trigger`); `Some(i)`:
    /// `spec.triggers.others[i]`.
    pub other: Option<usize>,
    /// Its place in `spec.triggers`.
    pub index: usize,
    /// A Kafka trigger's scaler (with `excludePersistentLag`'s memory).
    kafka: Option<KafkaScaler>,
    /// `status.health[metric].numberOfFailures` (kept only with a valid fallback).
    pub failures: u32,
    /// KEDA's last poll's record for this metric (`useCachedMetrics`).
    pub record: Option<Record>,
}

/// The cache's slots, in `spec.triggers` order.
#[derive(Debug, Clone)]
pub struct Scalers {
    pub slots: Vec<Slot>,
    /// Whether the cache holds built scalers (an unanswered error clears it).
    built: bool,
}

impl Scalers {
    pub fn new(spec: &ScalingSpec) -> Self {
        let t = &spec.triggers;
        let mut slots: Vec<Slot> = t
            .others
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let kafka = match &o.source {
                    Source::Kafka(k) => Some(KafkaScaler::new(k.clone())),
                    Source::Value(_) => None,
                    Source::Resource(_) => return None,
                };
                Some(Slot {
                    other: Some(i),
                    index: o.index,
                    kafka,
                    failures: 0,
                    record: None,
                })
            })
            .collect();
        if let Some(index) = t.kafka_index {
            slots.push(Slot {
                other: None,
                index,
                kafka: Some(KafkaScaler::new(spec.trigger.clone())),
                failures: 0,
                record: None,
            });
        }
        slots.sort_by_key(|s| s.index);
        Self { slots, built: true }
    }

    /// Builds the cache if an error cleared it; fails when a Kafka trigger's brokers do
    /// not answer (nothing else is tried then).
    pub fn build<'f>(&mut self, found: &dyn Fn(&Slot) -> Found<'f>) -> Result<(), ScalerError> {
        if self.built {
            return Ok(());
        }
        for slot in &self.slots {
            if let Found::Error(e) = found(slot) {
                if slot.kafka.is_some() && !e.scaler_builds() {
                    return Err(e);
                }
            }
        }
        for slot in &mut self.slots {
            if let Some(k) = &mut slot.kafka {
                k.forget();
            }
        }
        self.built = true;
        Ok(())
    }

    /// ClearScalersCache: every scaler is built again at the next call.
    pub fn clear(&mut self) {
        self.built = false;
    }

    /// One scaler call of slot `i` through the fallback, for a target at `replicas`.
    pub fn call(&mut self, spec: &ScalingSpec, i: usize, found: Found, replicas: u32) -> Call {
        let raw = match (found, &mut self.slots[i].kafka) {
            (Found::Offsets(offsets), Some(scaler)) => Ok(Call::Read(scaler.read(offsets))),
            (Found::Value(v), None) => Ok(value_call(spec, &self.slots[i], v)),
            (Found::Error(e), _) => Err(e),
            // A source of the wrong kind: nothing read (a trace without this trigger).
            (_, _) => Err(ScalerError::MetricUnavailable),
        };
        self.through_fallback(spec, i, raw, replicas)
    }

    /// An HPA request with `useCachedMetrics`: the poll's record, through the fallback
    /// again (a live call when the poll stored none).
    pub fn call_cached(
        &mut self,
        spec: &ScalingSpec,
        i: usize,
        found: Found,
        replicas: u32,
    ) -> Call {
        match self.slots[i].record {
            None => self.call(spec, i, found, replicas),
            Some(record) => {
                let raw = match record.error() {
                    None => Ok(Call::Cached {
                        metric_milli: record.metric_milli(),
                        active: record.active(),
                    }),
                    Some(e) => Err(e),
                };
                self.through_fallback(spec, i, raw, replicas)
            }
        }
    }

    /// GetMetricsWithFallback for slot `i`.
    fn through_fallback(
        &mut self,
        spec: &ScalingSpec,
        i: usize,
        raw: Result<Call, ScalerError>,
        replicas: u32,
    ) -> Call {
        let valid = fallback_valid(spec);
        let slot = &mut self.slots[i];
        let error = match raw {
            Ok(call) => {
                if valid {
                    slot.failures = 0;
                }
                return call;
            }
            Err(e) => e,
        };
        let Some(f) = spec.fallback.filter(|_| valid) else {
            return Call::Failed(error);
        };
        slot.failures += 1;
        if slot.failures <= f.failure_threshold {
            return Call::Failed(error);
        }
        if f.behavior == FallbackBehavior::ScalingModifiers {
            return Call::FallbackNil;
        }
        match do_fallback(spec, slot, replicas) {
            Some(metric_milli) => Call::Fallback { metric_milli },
            None => Call::Failed(error),
        }
    }
}

/// A value trigger's reading: the value as a quantity (scaler.go GenerateMetricInMili:
/// negative, NaN and infinite values become 0), active above the activation threshold.
fn value_call(spec: &ScalingSpec, slot: &Slot, value: f64) -> Call {
    let activation = match slot.other.map(|i| &spec.triggers.others[i].source) {
        Some(Source::Value(v)) => v.activation,
        _ => 0.0,
    };
    let metric_milli = if value.is_finite() && value > 0.0 {
        (value * 1000.0).round() as i64
    } else {
        0
    };
    Call::Value {
        metric_milli,
        active: value > activation,
    }
}

/// fallback.go HasValidFallback: counts of 0 or more (the emulator's spec cannot hold
/// less), and with scalingModifiers a target that parses as a whole number above 0.
pub fn fallback_valid(spec: &ScalingSpec) -> bool {
    match (&spec.fallback, &spec.triggers.modifiers) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(_), Some(m)) => m.target_text.parse::<i64>().is_ok_and(|t| t > 0),
    }
}

/// A trigger's target for the fallback and the HPA: (milli-units, metric type).
pub fn target_of(spec: &ScalingSpec, slot: &Slot) -> (i64, MetricType) {
    match slot.other.map(|i| &spec.triggers.others[i]) {
        None => (spec.trigger.lag_threshold * 1000, spec.metric_type),
        Some(t) => match &t.source {
            Source::Kafka(k) => (k.lag_threshold * 1000, t.metric_type),
            Source::Value(v) => ((v.target * 1000.0).round() as i64, t.metric_type),
            Source::Resource(_) => (0, t.metric_type),
        },
    }
}

/// fallback.go doFallback: the replica count by behavior, divided by the ready replicas
/// for a Value metric (none ready: no fallback), times the target (the composite
/// metric's with scalingModifiers), in milli-units.
fn do_fallback(spec: &ScalingSpec, slot: &Slot, replicas: u32) -> Option<i64> {
    let f = spec.fallback?;
    let wanted = match f.behavior {
        FallbackBehavior::Static | FallbackBehavior::ScalingModifiers => f.replicas,
        FallbackBehavior::CurrentReplicas => replicas,
        FallbackBehavior::CurrentReplicasIfHigher => replicas.max(f.replicas),
        FallbackBehavior::CurrentReplicasIfLower => replicas.min(f.replicas),
    } as f64;
    let (target, metric_type) = match &spec.triggers.modifiers {
        Some(m) => ((m.target * 1000.0) as i64, m.metric_type),
        None => target_of(spec, slot),
    };
    let per = match metric_type {
        MetricType::AverageValue => wanted,
        MetricType::Value if replicas == 0 => return None,
        MetricType::Value => wanted / replicas as f64,
    };
    Some((target as f64 * per) as i64)
}
