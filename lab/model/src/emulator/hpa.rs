//! The Horizontal Pod Autoscaler KEDA creates (`keda-hpa-<name>`): 1 <-> N.
//!
//! Follows kubernetes pkg/controller/podautoscaler at 1.35 (the newest release the pinned
//! KEDA supports), horizontal.go reconcileAutoscaler and replica_calculator.go:
//! - the first reconcile records the current count as a recommendation
//!   (recordInitialRecommendation, every HPA, with or without `behavior`);
//! - at 0 replicas the HPA does nothing; above maxReplicas or below minReplicas it goes
//!   straight there; otherwise the metric proposes a count:
//!   AverageValue (GetExternalPerPodMetricReplicas): ratio = metric / (T x replicas),
//!   Value (GetExternalMetricReplicas): ratio = metric / T; within the tolerance
//!   (Tolerances.isWithin: (1 - down) <= ratio <= (1 + up), inclusive, each direction's
//!   `behavior.<direction>.tolerance` or the controller's 0.1) the count stays, otherwise
//!   ceil(metric / T), or ceil(ratio x ready pods) for Value;
//! - with `behavior` (normalizeDesiredReplicasWithBehaviors): stabilized between the
//!   smallest recommendation of the scale-up window and the largest of the scale-down
//!   window (stabilizeRecommendationWithBehaviors), then rate-limited by the policies,
//!   each proposing from the count at the start of its period
//!   (convertDesiredReplicasWithBehaviorRate); scale events are stored per direction,
//!   a new one overwriting an event older than that direction's longest policy period
//!   (storeScaleEvent, markScaleEventsOutdated);
//! - without `behavior` (normalizeDesiredReplicas): the largest recommendation of the
//!   last 300 s (stabilizeRecommendation), scale-up limited to max(2 x current, 4)
//!   (convertDesiredReplicasWithRules).
//!
//! Recommendations kept are the UNstabilized proposals. A recommendation, window edge or
//! scale event counts only when it is strictly newer than the cutoff (`After(cutoff)`),
//! and is old when strictly older (`Before(cutoff)`). Real syncs are re-queued 15 s after
//! a reconcile ends, so they drift later than the emulator's exact grid: an entry exactly
//! one window or period old on the grid is, on a cluster, a little older. Both paths
//! therefore treat "exactly one window old" as outside the window.

use super::spec::{
    Behavior, MetricType, Millis, PolicyKind, ScalingRules, ScalingSpec, SelectPolicy,
    DOWNSCALE_STABILIZATION, HPA_TOLERANCE,
};

/// What one sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sync {
    /// The metric's proposal (before stabilization and limits); 0 when not computed.
    pub recommended: u32,
    /// After stabilization, before rate limits and bounds.
    pub stabilized: u32,
    /// The replica count after this sync.
    pub replicas: u32,
    pub reason: HpaReason,
}

/// Why a sync ended where it did (the HPA's condition reasons); written `hpa:<reason>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HpaReason {
    /// At 0 replicas: ScalingDisabled.
    #[serde(rename = "hpa:disabled")]
    Disabled,
    /// Above maxReplicas: set to max.
    #[serde(rename = "hpa:above-max")]
    AboveMax,
    /// Below minReplicas: set to min.
    #[serde(rename = "hpa:below-min")]
    BelowMin,
    /// Within the tolerance: the current count.
    #[serde(rename = "hpa:within-tolerance")]
    WithinTolerance,
    /// The stabilized count was allowed through.
    #[serde(rename = "hpa:desired-within-range")]
    DesiredWithinRange,
    /// Held back by the scale-up policies (or the legacy 2x/4 limit).
    #[serde(rename = "hpa:scale-up-limit")]
    ScaleUpLimit,
    /// Capped at maxReplicas.
    #[serde(rename = "hpa:too-many-replicas")]
    TooManyReplicas,
    /// Held back by the scale-down policies.
    #[serde(rename = "hpa:scale-down-limit")]
    ScaleDownLimit,
    /// Raised to minReplicas.
    #[serde(rename = "hpa:too-few-replicas")]
    TooFewReplicas,
    /// The external metrics API answered with an error (KEDA's scaler failed, no
    /// fallback): nothing changes and no recommendation is recorded.
    #[serde(rename = "hpa:failed-get-external-metric")]
    FailedGetExternalMetric,
    /// The resource metrics (cpu, memory) could not be computed (no pod metrics yet, a
    /// missing request): as above when it is the only metric, or some metric failed and
    /// the rest would scale down.
    #[serde(rename = "hpa:failed-get-resource-metric")]
    FailedGetResourceMetric,
}

impl HpaReason {
    /// The upstream code that decided it (Kubernetes 1.35, pkg/controller/podautoscaler).
    pub fn upstream(self) -> &'static str {
        match self {
            HpaReason::Disabled | HpaReason::AboveMax | HpaReason::BelowMin => "horizontal.go reconcileAutoscaler (ScalingDisabled at 0; above maxReplicas; below minReplicas)",
            HpaReason::WithinTolerance => "replica_calculator.go GetExternalPerPodMetricReplicas / GetExternalMetricReplicas (Tolerances.isWithin)",
            HpaReason::DesiredWithinRange | HpaReason::ScaleUpLimit | HpaReason::TooManyReplicas | HpaReason::ScaleDownLimit | HpaReason::TooFewReplicas => "horizontal.go normalizeDesiredReplicas(WithBehaviors): stabilizeRecommendation, convertDesiredReplicasWithBehaviorRate",
            HpaReason::FailedGetExternalMetric => "horizontal.go reconcileAutoscaler (computeReplicasForMetrics fails: FailedGetExternalMetric, return before normalizing)",
            HpaReason::FailedGetResourceMetric => "horizontal.go computeReplicasForMetrics (a Resource metric failed: replica_calculator.go GetResourceReplicas; all metrics invalid, or some invalid and the rest below the current count: return before normalizing)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct ScaleEvent {
    change: u32,
    at: Millis,
    outdated: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Hpa {
    /// (time, unstabilized recommendation); `None` until the first reconcile.
    recommendations: Option<Vec<(Millis, u32)>>,
    scale_up_events: Vec<ScaleEvent>,
    scale_down_events: Vec<ScaleEvent>,
}

/// `t` is strictly newer than `now - window` (a window reaching before 0 holds all).
fn within(t: Millis, now: Millis, window: Millis) -> bool {
    now.checked_sub(window).is_none_or(|cutoff| t > cutoff)
}

impl Hpa {
    pub fn new() -> Self {
        Self::default()
    }

    /// One sync at `now` with the trigger's metric in milli-units (`None`: the external
    /// metrics API answered with an error) and the target at `replicas` (spec, status and
    /// ready pods taken as equal: pods are ready the moment they are asked for).
    pub fn sync(
        &mut self,
        spec: &ScalingSpec,
        now: Millis,
        metric_milli: Option<i64>,
        replicas: u32,
    ) -> Sync {
        let proposal = match metric_milli {
            Some(m) => Ok(recommendation_milli(spec, m, replicas)),
            None => Err(HpaReason::FailedGetExternalMetric),
        };
        self.sync_proposals(spec, now, replicas, &[proposal])
    }

    /// One sync with each metric's proposal, (replicas, within the tolerance) or the
    /// reason it could not be computed (horizontal.go computeReplicasForMetrics: the
    /// largest valid proposal; when every metric failed, or some failed and the largest
    /// of the rest is below the current count, the HPA returns before normalizing, with
    /// the first failure's reason, and records no recommendation).
    pub fn sync_proposals(
        &mut self,
        spec: &ScalingSpec,
        now: Millis,
        replicas: u32,
        proposals: &[Result<(u32, bool), HpaReason>],
    ) -> Sync {
        let (min, max) = (spec.hpa_min(), spec.max_replicas);
        let done = |replicas: u32, reason| Sync {
            recommended: 0,
            stabilized: replicas,
            replicas,
            reason,
        };
        self.recommendations
            .get_or_insert_with(|| vec![(now, replicas)]);
        let sync = if replicas == 0 {
            return done(0, HpaReason::Disabled);
        } else if replicas > max {
            done(max, HpaReason::AboveMax)
        } else if replicas < min {
            done(min, HpaReason::BelowMin)
        } else {
            let first_failure = proposals.iter().find_map(|p| p.err());
            let valid = proposals.iter().filter_map(|p| p.ok());
            let recommended = valid.clone().map(|(r, _)| r).max();
            match (recommended, first_failure) {
                (Some(r), Some(_)) if r >= replicas => {}
                (Some(_), None) => {}
                (_, failure) => {
                    let reason = failure.unwrap_or(HpaReason::FailedGetExternalMetric);
                    return done(replicas, reason);
                }
            }
            let recommended = recommended.unwrap_or(replicas);
            let tolerated = valid.clone().all(|(_, within)| within);
            self.normalize(spec, now, replicas, recommended, tolerated)
        };
        if sync.replicas != replicas {
            if let Some(b) = &spec.behavior {
                self.store_scale_event(b, now, replicas, sync.replicas);
            }
        }
        sync
    }

    /// normalizeDesiredReplicas(WithBehaviors) of the metrics' proposal.
    fn normalize(
        &mut self,
        spec: &ScalingSpec,
        now: Millis,
        replicas: u32,
        recommended: u32,
        tolerated: bool,
    ) -> Sync {
        let (min, max) = (spec.hpa_min(), spec.max_replicas);
        let recommendations = self.recommendations.get_or_insert_with(Vec::new);
        let (stabilized, replicas_after, reason) = match &spec.behavior {
            Some(b) => {
                let stabilized =
                    stabilize_with_behavior(recommendations, b, now, replicas, recommended);
                let (r, reason) = self.rate_limit(b, now, replicas, stabilized, min, max);
                (stabilized, r, reason)
            }
            None => {
                let stabilized = stabilize_legacy(recommendations, now, recommended);
                let (r, reason) = legacy_limit(replicas, stabilized, min, max);
                (stabilized, r, reason)
            }
        };
        let reason = if tolerated && replicas_after == replicas {
            HpaReason::WithinTolerance
        } else {
            reason
        };
        Sync {
            recommended,
            stabilized,
            replicas: replicas_after,
            reason,
        }
    }

    fn rate_limit(
        &self,
        b: &Behavior,
        now: Millis,
        current: u32,
        stabilized: u32,
        min: u32,
        max: u32,
    ) -> (u32, HpaReason) {
        if stabilized > current {
            let limit = self
                .scale_limit(&b.scale_up, now, current, true)
                .max(current as i64);
            let (allowed, reason) = if (max as i64) > limit {
                (limit, HpaReason::ScaleUpLimit)
            } else {
                (max as i64, HpaReason::TooManyReplicas)
            };
            if stabilized as i64 > allowed {
                return (allowed as u32, reason);
            }
        } else if stabilized < current {
            let limit = self
                .scale_limit(&b.scale_down, now, current, false)
                .min(current as i64);
            let (allowed, reason) = if (min as i64) < limit {
                (limit, HpaReason::ScaleDownLimit)
            } else {
                (min as i64, HpaReason::TooFewReplicas)
            };
            if (stabilized as i64) < allowed {
                return (allowed as u32, reason);
            }
        }
        (stabilized, HpaReason::DesiredWithinRange)
    }

    /// calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors.
    fn scale_limit(&self, rules: &ScalingRules, now: Millis, current: u32, up: bool) -> i64 {
        let select = rules.select;
        if select == SelectPolicy::Disabled {
            return current as i64;
        }
        let changed = |events: &[ScaleEvent], period: Millis| -> i64 {
            events
                .iter()
                .filter(|e| within(e.at, now, period))
                .map(|e| e.change as i64)
                .sum()
        };
        let proposals = rules.policies.iter().map(|p| {
            let start = current as i64 - changed(&self.scale_up_events, p.period)
                + changed(&self.scale_down_events, p.period);
            let value = p.value as f64;
            match (p.kind, up) {
                (PolicyKind::Pods, true) => start + p.value as i64,
                (PolicyKind::Percent, true) => (start as f64 * (1.0 + value / 100.0)).ceil() as i64,
                (PolicyKind::Pods, false) => start - p.value as i64,
                (PolicyKind::Percent, false) => (start as f64 * (1.0 - value / 100.0)) as i64,
            }
        });
        // Max picks the largest change: the most replicas up, the fewest down.
        let largest_change = (select == SelectPolicy::Max) == up;
        let limit = if largest_change {
            proposals.max()
        } else {
            proposals.min()
        };
        limit.unwrap_or(current as i64)
    }

    /// storeScaleEvent: mark events older than the direction's longest policy period
    /// outdated, and let the new event overwrite the last outdated one.
    fn store_scale_event(&mut self, b: &Behavior, now: Millis, from: u32, to: u32) {
        let (events, rules, change) = if to > from {
            (&mut self.scale_up_events, &b.scale_up, to - from)
        } else {
            (&mut self.scale_down_events, &b.scale_down, from - to)
        };
        let longest = rules.longest_period();
        for e in events.iter_mut() {
            if !within(e.at, now, longest) {
                e.outdated = true;
            }
        }
        let event = ScaleEvent {
            change,
            at: now,
            outdated: false,
        };
        match events.iter().rposition(|e| e.outdated) {
            Some(i) => events[i] = event,
            None => events.push(event),
        }
    }
}

/// The metric's proposal and whether it fell within the tolerance (replica_calculator.go
/// GetExternalPerPodMetricReplicas / GetExternalMetricReplicas, in milli-units as there).
pub fn recommendation(spec: &ScalingSpec, metric: i64, replicas: u32) -> (u32, bool) {
    recommendation_milli(spec, metric * 1000, replicas)
}

/// [`recommendation`] for a metric given in milli-units (KEDA's fallback metric can have
/// a fraction).
pub fn recommendation_milli(spec: &ScalingSpec, metric_milli: i64, replicas: u32) -> (u32, bool) {
    let target = spec.trigger.lag_threshold * 1000;
    external_recommendation(spec, metric_milli, target, spec.metric_type, replicas)
}

/// An External metric's proposal for a target of `target_milli`
/// (GetExternalPerPodMetricReplicas for AverageValue, where a negative sum is taken for an
/// int64 overflow: MaxInt64; GetExternalMetricReplicas for Value).
pub fn external_recommendation(
    spec: &ScalingSpec,
    metric_milli: i64,
    target_milli: i64,
    metric_type: MetricType,
    replicas: u32,
) -> (u32, bool) {
    let target = target_milli as f64;
    let (up, down) = tolerances(spec.behavior.as_ref());
    let is_within = |ratio: f64| (1.0 - down) <= ratio && ratio <= (1.0 + up);
    match metric_type {
        MetricType::AverageValue => {
            let usage = if metric_milli < 0 {
                i64::MAX
            } else {
                metric_milli
            } as f64;
            let ratio = usage / (target * replicas as f64);
            if is_within(ratio) {
                (replicas, true)
            } else {
                (
                    (usage / target).ceil().min(f64::from(i32::MAX)) as u32,
                    false,
                )
            }
        }
        MetricType::Value => {
            let ratio = metric_milli as f64 / target;
            if replicas != 0 && is_within(ratio) {
                (replicas, true)
            } else if replicas != 0 {
                (
                    (ratio * replicas as f64).ceil().min(f64::from(i32::MAX)) as u32,
                    false,
                )
            } else {
                (ratio.ceil() as u32, false)
            }
        }
    }
}

/// The tolerances for (scale up, scale down): `behavior.<direction>.tolerance`, or the
/// controller's 0.1 (HPAConfigurableTolerance, on by default from Kubernetes 1.35).
pub fn tolerances(behavior: Option<&Behavior>) -> (f64, f64) {
    match behavior {
        Some(b) => (
            b.scale_up.tolerance.unwrap_or(HPA_TOLERANCE),
            b.scale_down.tolerance.unwrap_or(HPA_TOLERANCE),
        ),
        None => (HPA_TOLERANCE, HPA_TOLERANCE),
    }
}

/// stabilizeRecommendationWithBehaviors.
fn stabilize_with_behavior(
    recommendations: &mut Vec<(Millis, u32)>,
    b: &Behavior,
    now: Millis,
    current: u32,
    desired: u32,
) -> u32 {
    let (up_window, down_window) = (
        b.scale_up.stabilization_window,
        b.scale_down.stabilization_window,
    );
    let mut up = desired;
    let mut down = desired;
    let mut old = None;
    for (i, &(t, rec)) in recommendations.iter().enumerate() {
        if within(t, now, up_window) {
            up = up.min(rec);
        }
        if within(t, now, down_window) {
            down = down.max(rec);
        }
        if !within(t, now, up_window) && !within(t, now, down_window) {
            old = Some(i);
        }
    }
    let stabilized = current.max(up).min(down);
    match old {
        Some(i) => recommendations[i] = (now, desired),
        None => recommendations.push((now, desired)),
    }
    stabilized
}

/// stabilizeRecommendation: the largest recommendation not older than 300 s.
fn stabilize_legacy(recommendations: &mut Vec<(Millis, u32)>, now: Millis, desired: u32) -> u32 {
    let mut largest = desired;
    let mut old = None;
    for (i, &(t, rec)) in recommendations.iter().enumerate() {
        if within(t, now, DOWNSCALE_STABILIZATION) {
            largest = largest.max(rec);
        } else {
            old = Some(i);
        }
    }
    match old {
        Some(i) => recommendations[i] = (now, desired),
        None => recommendations.push((now, desired)),
    }
    largest
}

/// convertDesiredReplicasWithRules: scale-up at most to max(2 x current, 4).
fn legacy_limit(current: u32, desired: u32, min: u32, max: u32) -> (u32, HpaReason) {
    let scale_up_limit = (2 * current).max(4);
    let (allowed, reason) = if max > scale_up_limit {
        (scale_up_limit, HpaReason::ScaleUpLimit)
    } else {
        (max, HpaReason::TooManyReplicas)
    };
    if desired < min {
        (min, HpaReason::TooFewReplicas)
    } else if desired > allowed {
        (allowed, reason)
    } else {
        (desired, HpaReason::DesiredWithinRange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::spec::fixtures::published;
    use crate::emulator::spec::Policy;

    fn rec(metric: i64, replicas: u32) -> u32 {
        recommendation(&published(), metric, replicas).0
    }

    /// replica_calculator.go Tolerances.isWithin (Kubernetes 1.33+) is inclusive: at
    /// lagThreshold 5, 2 replicas and lag 11 the ratio is exactly 1.1 and the count holds
    /// (before 1.33, |1 - ratio| > 0.1 scaled it to 3).
    #[test]
    fn recommendation_respects_the_inclusive_tolerance() {
        assert_eq!(rec(11, 2), 2, "11 / 10 = 1.1: within (1.33+)");
        assert_eq!(rec(12, 2), 3, "1.2: outside");
        assert_eq!(rec(9, 2), 2, "0.9: within");
        assert_eq!(rec(8, 2), 2, "0.8: outside, ceil(1.6) = 2");
        assert_eq!(rec(16, 3), 3, "16/15 within 10 %");
        assert_eq!(rec(17, 3), 4, "17/15 outside: ceil(3.4)");
        assert_eq!(rec(0, 3), 0);
        assert_eq!(rec(10, 3), 2);
        assert_eq!(rec(11, 3), 3, "outside the tolerance, ceil(2.2) = 3");
        assert_eq!(rec(13, 3), 3, "outside the tolerance, ceil(2.6) = 3");
    }

    /// horizontal.go tolerancesForHpa: behavior.scaleUp/scaleDown.tolerance per direction.
    #[test]
    fn behavior_tolerances_apply_per_direction() {
        let mut spec = published();
        let b = spec.behavior.as_mut().unwrap();
        b.scale_up.tolerance = Some(0.5);
        b.scale_down.tolerance = Some(0.0);
        assert_eq!(recommendation(&spec, 14, 2).0, 2, "1.4 within +50 %");
        assert_eq!(
            recommendation(&spec, 9, 2).0,
            2,
            "0.9 outside -0 %: ceil(1.8) = 2"
        );
        assert_eq!(recommendation(&spec, 7, 2).0, 2, "ceil(1.4)");
        assert_eq!(recommendation(&spec, 5, 2).0, 1);
    }

    /// GetExternalMetricReplicas: a Value target is the whole metric, not per pod.
    #[test]
    fn value_metric_type_scales_with_ready_pods() {
        let mut spec = published();
        spec.metric_type = MetricType::Value;
        assert_eq!(recommendation(&spec, 5, 4).0, 4, "ratio 1: hold");
        assert_eq!(recommendation(&spec, 10, 3).0, 6, "ratio 2 x 3 pods");
        assert_eq!(recommendation(&spec, 2, 3).0, 2, "ceil(0.4 x 3)");
    }

    #[test]
    fn scale_up_from_one_reaches_five_in_one_step() {
        let mut hpa = Hpa::new();
        let s = hpa.sync(&published(), 15_000, Some(50_000), 1);
        assert_eq!((s.recommended, s.replicas), (10, 5), "max(1 + 4, 1 x 2)");
        assert_eq!(s.reason, HpaReason::ScaleUpLimit);
        let s = hpa.sync(&published(), 30_000, Some(50_000), 5);
        assert_eq!(
            s.replicas, 10,
            "the +4 at 15 is not newer than 30 - 15: period start 5, Percent 100 gives 10"
        );
    }

    #[test]
    fn scale_down_from_three_goes_to_one_in_one_step_after_the_window() {
        let spec = published();
        let mut hpa = Hpa::new();
        // Seeded with 3 at the first sync; recommendations of 1 from then on.
        assert_eq!(
            hpa.sync(&spec, 0, Some(2_000), 3).replicas,
            3,
            "seed (3) is in the window"
        );
        assert_eq!(hpa.sync(&spec, 15_000, Some(2_000), 3).replicas, 3);
        assert_eq!(
            hpa.sync(&spec, 30_000, Some(2_000), 3).replicas,
            1,
            "seed at 0 is not newer than 30 - 30; trunc(1.5) = 1"
        );
    }

    #[test]
    fn scale_down_from_ten_goes_ten_five_two_one() {
        let spec = published();
        let mut hpa = Hpa::new();
        let mut replicas = 10;
        let mut path = vec![];
        for step in 0..12u64 {
            let s = hpa.sync(&spec, step * 15_000, Some(0_000), replicas);
            if s.replicas != replicas {
                path.push((step * 15, s.replicas));
            }
            replicas = s.replicas;
        }
        assert_eq!(path, [(30, 5), (60, 2), (90, 1)], "at least 30 s apart");
    }

    /// stabilizeRecommendationWithBehaviors counts a recommendation only when it is After
    /// the cutoff: one exactly a window old is outside.
    #[test]
    fn scale_down_waits_for_every_recent_recommendation_to_be_lower() {
        let spec = published();
        let mut hpa = Hpa::new();
        assert_eq!(hpa.sync(&spec, 0, Some(15_000), 3).replicas, 3);
        assert_eq!(
            hpa.sync(&spec, 15_000, Some(5_000), 3).replicas,
            3,
            "recent 3s hold it"
        );
        assert_eq!(hpa.sync(&spec, 30_000, Some(15_000), 3).replicas, 3);
        assert_eq!(
            hpa.sync(&spec, 45_000, Some(5_000), 3).replicas,
            3,
            "the 3 at 30 s is inside the window"
        );
        assert_eq!(
            hpa.sync(&spec, 60_000, Some(5_000), 3).replicas,
            1,
            "the 3 at 30 s is exactly 30 s old: outside"
        );
    }

    #[test]
    fn select_min_and_disabled() {
        let mut spec = published();
        spec.behavior.as_mut().unwrap().scale_up.select = SelectPolicy::Min;
        assert_eq!(
            Hpa::new().sync(&spec, 0, Some(50_000), 1).replicas,
            2,
            "min(1 + 4, 2)"
        );
        spec.behavior.as_mut().unwrap().scale_up.select = SelectPolicy::Disabled;
        assert_eq!(Hpa::new().sync(&spec, 0, Some(50_000), 1).replicas, 1);
    }

    #[test]
    fn pods_policy_scale_down_and_min_replicas() {
        let mut spec = published();
        spec.behavior.as_mut().unwrap().scale_down = ScalingRules {
            stabilization_window: 0,
            select: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Pods,
                value: 2,
                period: 60_000,
            }],
            tolerance: None,
        };
        spec.min_replicas = 2;
        let mut hpa = Hpa::new();
        assert_eq!(hpa.sync(&spec, 0, Some(0_000), 7).replicas, 5);
        assert_eq!(
            hpa.sync(&spec, 15_000, Some(0_000), 5).replicas,
            5,
            "2 removed within 60 s: period start 7, limit 5"
        );
        assert_eq!(
            hpa.sync(&spec, 60_000, Some(0_000), 5).replicas,
            3,
            "event at 0 is not newer than 0"
        );
        let s = hpa.sync(&spec, 120_000, Some(0_000), 3);
        assert_eq!(
            (s.replicas, s.reason),
            (2, HpaReason::TooFewReplicas),
            "minReplicas"
        );
    }

    /// storeScaleEvent overwrites an event older than the direction's longest policy
    /// period, even when the other direction's longer period would still count it.
    #[test]
    fn outdated_scale_events_are_overwritten_as_store_scale_event_does() {
        let mut spec = published();
        let b = spec.behavior.as_mut().unwrap();
        b.scale_up = ScalingRules {
            stabilization_window: 0,
            select: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Pods,
                value: 1,
                period: 15_000,
            }],
            tolerance: None,
        };
        b.scale_down = ScalingRules {
            stabilization_window: 0,
            select: SelectPolicy::Max,
            policies: vec![Policy {
                kind: PolicyKind::Pods,
                value: 1,
                period: 120_000,
            }],
            tolerance: None,
        };
        let mut hpa = Hpa::new();
        assert_eq!(hpa.sync(&spec, 0, Some(50_000), 4).replicas, 5, "+1 at 0");
        assert_eq!(
            hpa.sync(&spec, 30_000, Some(50_000), 5).replicas,
            6,
            "+1 at 30 overwrites the +1 at 0"
        );
        // Scale down at 45 s: within 120 s only the +1 of 30 s is left, so the period
        // started at 6 - 1 = 5 and Pods 1 proposes 4. Keeping both +1 events would give
        // a start of 4 and a proposal of 3.
        let s = hpa.sync(&spec, 45_000, Some(0_000), 6);
        assert_eq!(s.replicas, 4, "{s:?}");
    }

    #[test]
    fn bounds_and_zero() {
        let spec = published();
        assert_eq!(
            Hpa::new().sync(&spec, 0, Some(500_000), 12).replicas,
            10,
            "above max -> max"
        );
        assert_eq!(
            Hpa::new().sync(&spec, 0, Some(500_000), 0).reason,
            HpaReason::Disabled
        );
        assert_eq!(
            Hpa::new().sync(&spec, 0, Some(500_000), 9).replicas,
            10,
            "capped at max"
        );
    }

    /// recordInitialRecommendation runs for every HPA: without behavior the seed holds a
    /// scale-down for 300 s, and one exactly 300 s old no longer counts
    /// (stabilizeRecommendation: Before(cutoff) is old).
    #[test]
    fn legacy_path_without_behavior_is_seeded_too() {
        let mut spec = published();
        spec.behavior = None;
        let mut hpa = Hpa::new();
        assert_eq!(
            hpa.sync(&spec, 0, Some(0_000), 3).replicas,
            3,
            "the seed (3) holds"
        );
        assert_eq!(
            hpa.sync(&spec, 15_000, Some(50_000), 3).replicas,
            6,
            "max(2 x 3, 4)"
        );
        assert_eq!(
            hpa.sync(&spec, 30_000, Some(50_000), 6).replicas,
            10,
            "capped at max 10"
        );
        assert_eq!(
            hpa.sync(&spec, 314_999, Some(0_000), 10).replicas,
            10,
            "the 10 of 15 s is inside 300 s"
        );
        assert_eq!(
            hpa.sync(&spec, 330_000, Some(0_000), 10).replicas,
            1,
            "the 10 of 30 s is exactly 300 s old"
        );
    }
}
