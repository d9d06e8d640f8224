//! A deterministic emulator of how KEDA and the HPA scale a workload from Kafka lag.
//!
//! Pure: no clock, no I/O. The caller says what time it is and what the offsets are;
//! [`Autoscaler::evaluate`] runs every evaluation due by then and returns one
//! [`Decision`] each. Pods are taken as ready the moment they are requested.
//!
//! The grid: KEDA polls at creation and every pollingInterval after (startScaleLoop
//! restarts its timer before each poll); the HPA's first sync comes one sync period after
//! KEDA creates the HPA (enqueueHPA adds it with the rate limiter's 15 s delay), then every
//! sync period. At a shared instant KEDA goes first. Each evaluation makes its own scaler
//! call, as KEDA's poll and the HPA's metric request do, so with `excludePersistentLag` a
//! poll and a sync at the same instant do not share one reading; with `useCachedMetrics`
//! the HPA gets the metric of KEDA's last poll instead. Boundaries are decided as a
//! cluster, whose evaluations land a little after their timers, decides them (see
//! [`keda`] and [`hpa`]).
//!
//! The formulas follow the pinned KEDA and Kubernetes ([`crate::pins`]), one module each:
//! [`scaler`] (the metric), [`keda`] (0 <-> 1 and the drop to zero), [`hpa`] (1 <-> N).

pub mod cache;
pub mod composite;
pub mod failure;
pub mod formula;
pub mod hpa;
pub mod jobs;
pub mod keda;
pub mod pipeline;
pub mod pods;
pub mod scaler;
pub mod spec;
pub mod triggers;

use serde::{Deserialize, Serialize};

use failure::Call;

pub use cache::Found;
pub use composite::{Inputs, MetricDetail};
pub use failure::{CallOutcome, Observed, ScalerError};
pub use hpa::HpaReason;
pub use keda::KedaAction;
pub use pods::PodMetric;
pub use scaler::{Offsets, Reading};
pub use spec::{Millis, ScalingSpec};

/// Which controller decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Controller {
    Keda,
    Hpa,
}

/// Why a decision came out as it did: `keda:<action>` or `hpa:<reason>` as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Why {
    Keda(KedaAction),
    Hpa(HpaReason),
}

impl Why {
    /// The upstream code behind the decision (KEDA v2.20.2, Kubernetes 1.35).
    pub fn upstream(self) -> &'static str {
        match self {
            Why::Keda(a) => a.upstream(),
            Why::Hpa(r) => r.upstream(),
        }
    }
}

/// One evaluation, as `lab plan` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// When, in ms since the ScaledObject was created.
    pub at: Millis,
    pub by: Controller,
    /// The scaler's metric (what the HPA sees).
    pub metric: i64,
    /// Whether the trigger was active.
    pub active: bool,
    /// The replica count before this evaluation.
    pub from: u32,
    /// KEDA: the count it asked for. HPA: the metric's raw proposal (before
    /// stabilization and policies).
    pub desired: u32,
    /// The replica count after this evaluation.
    pub replicas: u32,
    pub why: Why,
    /// How its scaler call ended (read, served from KEDA's cache, answered by the
    /// fallback, failed, or no scaler could be built).
    pub call: CallOutcome,
    /// The fallback's failure count after this call (`status.health[metric]
    /// .numberOfFailures`; kept only with a fallback).
    pub failures: u32,
}

/// How the ScaledObject meets the workload at t = 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Just created: no lastActiveTime yet (`lab plan`).
    Created,
    /// The demo was already running and active up to t = 0 (the replays' warm start).
    Active,
}

/// KEDA's loop, the Kafka scaler and the HPA for one ScaledObject.
#[derive(Debug, Clone)]
pub struct Autoscaler {
    spec: ScalingSpec,
    scalers: failure::ScalerCache,
    keda: keda::KedaLoop,
    hpa: hpa::Hpa,
    replicas: u32,
    next_poll: Millis,
    next_sync: Millis,
    /// KEDA's last poll, kept for the HPA with `useCachedMetrics`.
    record: Option<failure::Record>,
    /// Paused by annotation: KEDA stopped its loop and deleted the HPA.
    paused: bool,
    /// Several triggers (or a formula): KEDA's cache over all of them
    /// ([`composite`]); `None` for one Kafka trigger.
    composite: Option<composite::Composite>,
}

impl Autoscaler {
    /// A ScaledObject at t = 0 on a workload at `replicas`.
    pub fn new(spec: ScalingSpec, replicas: u32, start: Start) -> Self {
        Self {
            scalers: failure::ScalerCache::new(&spec),
            keda: match start {
                Start::Created => keda::KedaLoop::new(0),
                Start::Active => keda::KedaLoop::active_until(0),
            },
            hpa: hpa::Hpa::new(),
            next_poll: 0,
            next_sync: spec.hpa_sync,
            paused: spec.annotations.paused,
            composite: (!spec.triggers.is_single_kafka()).then(|| composite::Composite::new(&spec)),
            spec,
            replicas,
            record: None,
        }
    }

    pub fn spec(&self) -> &ScalingSpec {
        &self.spec
    }

    /// The workload's replica count as the controllers left it.
    pub fn replicas(&self) -> u32 {
        self.replicas
    }

    /// The fallback's count of failed scaler calls in a row.
    pub fn failures(&self) -> u32 {
        match &self.composite {
            None => self.scalers.failures(),
            Some(c) => c
                .scalers
                .slots
                .iter()
                .find(|s| s.other.is_none())
                .map_or(0, |s| s.failures),
        }
    }

    /// When the next evaluation is due.
    pub fn next_due(&self) -> Millis {
        if self.paused {
            return if self.next_poll == 0 { 0 } else { Millis::MAX };
        }
        self.next_poll.min(self.next_sync)
    }

    /// Runs every evaluation due at or before `now` with what the broker answers now
    /// (the partitions' offsets, or an error), in time order, KEDA before the HPA on ties.
    pub fn evaluate(&mut self, now: Millis, observed: Observed) -> Vec<Decision> {
        self.evaluate_with(now, &Inputs::kafka(observed))
    }

    /// [`Autoscaler::evaluate`] with every trigger's source (several triggers, pods).
    pub fn evaluate_with(&mut self, now: Millis, inputs: &Inputs) -> Vec<Decision> {
        self.evaluate_detailed(now, inputs)
            .into_iter()
            .map(|(d, _)| d)
            .collect()
    }

    /// [`Autoscaler::evaluate_with`], each decision with every metric's part in it (empty
    /// for one Kafka trigger: the decision says it all).
    pub fn evaluate_detailed(
        &mut self,
        now: Millis,
        inputs: &Inputs,
    ) -> Vec<(Decision, Vec<MetricDetail>)> {
        let mut out = Vec::new();
        if self.paused {
            if self.next_poll == 0 {
                self.next_poll = Millis::MAX;
                let from = self.replicas;
                self.replicas = self.spec.annotations.paused_replicas.unwrap_or(from);
                let d = Decision {
                    at: 0,
                    by: Controller::Keda,
                    metric: 0,
                    active: false,
                    from,
                    desired: self.replicas,
                    replicas: self.replicas,
                    why: Why::Keda(KedaAction::Paused),
                    call: CallOutcome::Read,
                    failures: 0,
                };
                out.push((d, Vec::new()));
            }
            return out;
        }
        while self.next_due() <= now {
            if self.next_poll <= self.next_sync {
                let at = self.next_poll;
                out.push(match self.composite.is_some() {
                    false => (self.poll(at, inputs.kafka), Vec::new()),
                    true => self.poll_composite(at, inputs),
                });
                self.next_poll += self.spec.polling_interval;
            } else {
                let at = self.next_sync;
                out.push(match self.composite.is_some() {
                    false => (self.sync(at, inputs.kafka), Vec::new()),
                    true => self.sync_composite(at, inputs),
                });
                self.next_sync += self.spec.hpa_sync;
            }
        }
        out
    }

    /// KEDA's poll over several triggers.
    fn poll_composite(&mut self, at: Millis, inputs: &Inputs) -> (Decision, Vec<MetricDetail>) {
        let from = self.replicas;
        let composite = self.composite.as_mut().expect("several triggers");
        let state = composite.poll(&self.spec, inputs, from);
        let (replicas, action) = match state.no_scaler {
            Some(_) => (from, KedaAction::NoScaler),
            None => {
                let triggers = keda::Triggers {
                    active: state.active,
                    error: state.error,
                };
                self.keda.poll(&self.spec, at, triggers, from)
            }
        };
        self.replicas = replicas;
        let primary = state.primary;
        let d = Decision {
            at,
            by: Controller::Keda,
            metric: primary.map_or(0, |c| c.metric()),
            active: state.active,
            from,
            desired: replicas,
            replicas,
            why: Why::Keda(action),
            call: primary.map_or(CallOutcome::Read, |c| c.outcome()),
            failures: state.primary_failures,
        };
        (d, state.details)
    }

    /// The HPA's sync over several metrics.
    fn sync_composite(&mut self, at: Millis, inputs: &Inputs) -> (Decision, Vec<MetricDetail>) {
        let from = self.replicas;
        let composite = self.composite.as_mut().expect("several triggers");
        let (sync, state) = composite.sync(&self.spec, &mut self.hpa, at, inputs, from);
        self.replicas = sync.replicas;
        let d = hpa_decision(at, from, state.primary, &sync, state.primary_failures);
        (d, state.details)
    }

    fn poll(&mut self, at: Millis, observed: Observed) -> Decision {
        let from = self.replicas;
        let call = self.scalers.call(&self.spec, observed, from);
        let (replicas, action) = if let Call::NoScaler(_) = call {
            (from, KedaAction::NoScaler)
        } else {
            self.record = call.record();
            let triggers = keda::Triggers {
                active: call.active(),
                error: call.error().is_some(),
            };
            self.keda.poll(&self.spec, at, triggers, from)
        };
        self.replicas = replicas;
        Decision {
            at,
            by: Controller::Keda,
            metric: call.metric(),
            active: call.active(),
            from,
            desired: replicas,
            replicas,
            why: Why::Keda(action),
            call: call.outcome(),
            failures: self.scalers.failures(),
        }
    }

    fn sync(&mut self, at: Millis, observed: Observed) -> Decision {
        let from = self.replicas;
        // At 0 replicas the HPA is disabled: it asks for no metric.
        let call = if from == 0 {
            None
        } else if self.spec.use_cached_metrics {
            Some(
                self.scalers
                    .call_cached(&self.spec, observed, self.record, from),
            )
        } else {
            Some(self.scalers.call(&self.spec, observed, from))
        };
        let metric = call.map_or(Some(0), |c| c.metric_milli());
        let sync = self.hpa.sync(&self.spec, at, metric, from);
        self.replicas = sync.replicas;
        hpa_decision(at, from, call, &sync, self.scalers.failures())
    }
}

/// What KEDA and the HPA would make of one reading, for `lab lag` and the reports: the
/// metric's proposal at `replicas` (within the tolerance or not) and the HPA's bounds.
pub fn proposal(spec: &ScalingSpec, reading: &Reading, replicas: u32) -> (u32, bool) {
    hpa::recommendation(spec, reading.metric, replicas.max(1))
}

/// The decision of one HPA sync from `from` replicas: the metric and activity of the
/// (first Kafka) trigger's scaler call KEDA served it, if any, and its failure count.
fn hpa_decision(
    at: Millis,
    from: u32,
    call: Option<Call>,
    sync: &hpa::Sync,
    failures: u32,
) -> Decision {
    Decision {
        at,
        by: Controller::Hpa,
        metric: call.map_or(0, |c| c.metric()),
        active: call.is_some_and(|c| c.active()),
        from,
        desired: sync.recommended,
        replicas: sync.replicas,
        why: Why::Hpa(sync.reason),
        call: call.map_or(CallOutcome::Read, |c| c.outcome()),
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::spec::fixtures::published;
    use super::*;

    /// Ten partitions, `lag` on the first (the published topic: the cap is 50).
    fn offsets(lag: i64) -> Vec<Offsets> {
        Offsets::numbered((0..10).map(|p| (100 + if p == 0 { lag } else { 0 }, Some(100))))
    }

    #[test]
    fn the_grid_polls_at_creation_and_syncs_one_period_after() {
        let mut a = Autoscaler::new(published(), 1, Start::Active);
        let at: Vec<(Millis, Controller)> = a
            .evaluate(60_000, Observed::Offsets(&offsets(1)))
            .iter()
            .map(|d| (d.at, d.by))
            .collect();
        assert_eq!(
            at,
            [
                (0, Controller::Keda),
                (15_000, Controller::Hpa),
                (30_000, Controller::Keda),
                (30_000, Controller::Hpa),
                (45_000, Controller::Hpa),
                (60_000, Controller::Keda),
                (60_000, Controller::Hpa),
            ]
        );
    }

    #[test]
    fn decisions_carry_the_count_they_started_from() {
        let mut a = Autoscaler::new(published(), 0, Start::Active);
        let d = a.evaluate(0, Observed::Offsets(&offsets(50)));
        assert_eq!((d[0].from, d[0].replicas), (0, 1));
        let d = a.evaluate(15_000, Observed::Offsets(&offsets(50)));
        assert_eq!((d[0].from, d[0].replicas), (1, 5));
    }

    /// excludePersistentLag: KEDA's poll and the HPA's metric request each call the
    /// scaler, so at a shared instant the HPA sees the lag as persistent (0).
    #[test]
    fn a_poll_and_a_sync_at_one_instant_make_two_scaler_calls() {
        let mut spec = published();
        spec.trigger.exclude_persistent_lag = true;
        let mut a = Autoscaler::new(spec, 1, Start::Active);
        a.evaluate(29_999, Observed::Offsets(&offsets(30)));
        let d = a.evaluate(30_000, Observed::Offsets(&offsets(30)));
        assert_eq!((d[0].by, d[1].by), (Controller::Keda, Controller::Hpa));
        assert_eq!(
            (d[0].metric, d[1].metric),
            (0, 0),
            "committed offset unchanged since 15 s"
        );
        let mut spec = published();
        spec.trigger.exclude_persistent_lag = true;
        let mut a = Autoscaler::new(spec, 1, Start::Active);
        let d = a.evaluate(0, Observed::Offsets(&offsets(30)));
        assert_eq!(d[0].metric, 30, "first call: nothing to compare with");
        let d = a.evaluate(15_000, Observed::Offsets(&offsets(30)));
        assert_eq!(
            d[0].metric, 0,
            "the sync's call sees the poll's committed offset"
        );
    }

    #[test]
    fn cached_metrics_serve_the_last_poll_to_the_hpa() {
        let mut spec = published();
        spec.use_cached_metrics = true;
        let mut a = Autoscaler::new(spec, 1, Start::Active);
        a.evaluate(0, Observed::Offsets(&offsets(40)));
        let d = a.evaluate(15_000, Observed::Offsets(&offsets(0)));
        assert_eq!(
            (d[0].metric, d[0].replicas),
            (40, 5),
            "the poll's 40, not the fresh 0"
        );
    }

    /// controllers/keda/scaledobject_controller.go: paused (or paused-replicas) stops the
    /// scale loop and deletes the HPA; paused-replicas first sets the count.
    #[test]
    fn paused_scaled_objects_only_set_the_paused_count() {
        let mut spec = published();
        spec.annotations.paused = true;
        spec.annotations.paused_replicas = Some(3);
        let mut a = Autoscaler::new(spec, 1, Start::Active);
        let d = a.evaluate(600_000, Observed::Offsets(&offsets(500)));
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].from, d[0].replicas), (1, 3));
        assert!(a
            .evaluate(900_000, Observed::Offsets(&offsets(500)))
            .is_empty());
    }

    const UNREACHABLE: Observed<'static> = Observed::Error(ScalerError::BrokerUnreachable);
    const MOVING: Observed<'static> = Observed::Error(ScalerError::CoordinatorMoving);

    /// A broker outage at 3 replicas (scale_handler.go checkScalers returns on the cache's
    /// error; horizontal.go returns on FailedGetExternalMetric): nothing moves, however long
    /// the cooldown has passed.
    #[test]
    fn a_broker_outage_holds_the_count() {
        let mut a = Autoscaler::new(published(), 3, Start::Active);
        let d = a.evaluate(300_000, UNREACHABLE);
        assert!(d.iter().all(|d| d.replicas == 3), "{d:?}");
        assert_eq!(
            d[0].why,
            Why::Keda(KedaAction::TriggerError),
            "the first poll's call fails"
        );
        assert!(d[2..]
            .iter()
            .all(|d| d.why == Why::Keda(KedaAction::NoScaler)
                || d.why == Why::Hpa(HpaReason::FailedGetExternalMetric)));
        let back = a.evaluate(345_000, Observed::Offsets(&offsets(0)));
        let poll = back.iter().find(|d| d.by == Controller::Keda).unwrap();
        assert_eq!(
            (poll.at, poll.replicas, poll.why),
            (330_000, 0, Why::Keda(KedaAction::Deactivate)),
            "the first clean idle poll drops straight to 0: no poll renewed lastActiveTime during the outage"
        );
    }

    /// At 0 replicas the HPA asks for no metric (ScalingDisabled) and KEDA's poll cannot
    /// build the scaler: a backlog building during the outage wakes nothing.
    #[test]
    fn at_zero_replicas_an_outage_hides_the_backlog() {
        let mut a = Autoscaler::new(published(), 0, Start::Active);
        let d = a.evaluate(120_000, UNREACHABLE);
        assert!(d.iter().all(|d| d.replicas == 0));
        assert!(d.iter().any(|d| d.why == Why::Hpa(HpaReason::Disabled)));
        let d = a.evaluate(150_000, Observed::Offsets(&offsets(40)));
        let poll = d.iter().find(|d| d.by == Controller::Keda).unwrap();
        assert_eq!(
            (poll.at, poll.replicas),
            (150_000, 1),
            "the first poll after the outage activates"
        );
    }

    /// The coordinator moving with a fallback (failureThreshold 3, replicas 6): KEDA's
    /// polls and the HPA's requests both count; the fourth failing call is answered with
    /// 5 x 6 and the HPA scales to 6 (its scale-up policy allows +4 then doubling).
    #[test]
    fn a_coordinator_moving_brings_the_fallback_replicas() {
        let mut spec = published();
        spec.fallback = Some(spec::Fallback {
            failure_threshold: 3,
            replicas: 6,
            behavior: spec::FallbackBehavior::Static,
        });
        let mut a = Autoscaler::new(spec, 2, Start::Active);
        let d = a.evaluate(45_000, MOVING);
        let calls: Vec<CallOutcome> = d.iter().map(|d| d.call).collect();
        assert_eq!(
            calls,
            [
                CallOutcome::Failed,
                CallOutcome::Failed,
                CallOutcome::Failed,
                CallOutcome::Fallback,
                CallOutcome::Fallback,
            ],
            "poll 0, sync 15, poll 30, sync 30, sync 45: from the fourth call on, past 3"
        );
        assert_eq!(d[0].why, Why::Keda(KedaAction::FallbackPending));
        let d = a.evaluate(90_000, MOVING);
        assert_eq!(d.last().unwrap().replicas, 6, "{d:?}");
    }
}
