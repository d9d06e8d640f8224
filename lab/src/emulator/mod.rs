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

pub mod hpa;
pub mod keda;
pub mod scaler;
pub mod spec;

use serde::{Deserialize, Serialize};

pub use hpa::HpaReason;
pub use keda::KedaAction;
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
    scaler: scaler::KafkaScaler,
    keda: keda::KedaLoop,
    hpa: hpa::Hpa,
    replicas: u32,
    next_poll: Millis,
    next_sync: Millis,
    /// The metric and activity of KEDA's last poll (served to the HPA with
    /// `useCachedMetrics`).
    cached: (i64, bool),
    /// Paused by annotation: KEDA stopped its loop and deleted the HPA.
    paused: bool,
}

impl Autoscaler {
    /// A ScaledObject at t = 0 on a workload at `replicas`.
    pub fn new(spec: ScalingSpec, replicas: u32, start: Start) -> Self {
        Self {
            scaler: scaler::KafkaScaler::new(spec.trigger.clone()),
            keda: match start {
                Start::Created => keda::KedaLoop::new(0),
                Start::Active => keda::KedaLoop::active_until(0),
            },
            hpa: hpa::Hpa::new(),
            next_poll: 0,
            next_sync: spec.hpa_sync,
            paused: spec.annotations.paused,
            spec,
            replicas,
            cached: (0, false),
        }
    }

    pub fn spec(&self) -> &ScalingSpec {
        &self.spec
    }

    /// The workload's replica count as the controllers left it.
    pub fn replicas(&self) -> u32 {
        self.replicas
    }

    /// When the next evaluation is due.
    pub fn next_due(&self) -> Millis {
        if self.paused {
            return if self.next_poll == 0 { 0 } else { Millis::MAX };
        }
        self.next_poll.min(self.next_sync)
    }

    /// Runs every evaluation due at or before `now` with `offsets` (the latest reading
    /// of the topic's partitions), in time order, KEDA before the HPA on ties.
    pub fn evaluate(&mut self, now: Millis, offsets: &[Offsets]) -> Vec<Decision> {
        let mut out = Vec::new();
        if self.paused {
            if self.next_poll == 0 {
                self.next_poll = Millis::MAX;
                let from = self.replicas;
                self.replicas = self.spec.annotations.paused_replicas.unwrap_or(from);
                out.push(Decision {
                    at: 0,
                    by: Controller::Keda,
                    metric: 0,
                    active: false,
                    from,
                    desired: self.replicas,
                    replicas: self.replicas,
                    why: Why::Keda(KedaAction::Paused),
                });
            }
            return out;
        }
        while self.next_due() <= now {
            if self.next_poll <= self.next_sync {
                out.push(self.poll(self.next_poll, offsets));
                self.next_poll += self.spec.polling_interval;
            } else {
                out.push(self.sync(self.next_sync, offsets));
                self.next_sync += self.spec.hpa_sync;
            }
        }
        out
    }

    fn poll(&mut self, at: Millis, offsets: &[Offsets]) -> Decision {
        let reading = self.scaler.read(offsets);
        self.cached = (reading.metric, reading.active);
        let from = self.replicas;
        let (replicas, action) = self.keda.poll(&self.spec, at, reading.active, from);
        self.replicas = replicas;
        Decision {
            at,
            by: Controller::Keda,
            metric: reading.metric,
            active: reading.active,
            from,
            desired: replicas,
            replicas,
            why: Why::Keda(action),
        }
    }

    fn sync(&mut self, at: Millis, offsets: &[Offsets]) -> Decision {
        let (metric, active) = if self.spec.use_cached_metrics {
            self.cached
        } else {
            let reading = self.scaler.read(offsets);
            (reading.metric, reading.active)
        };
        let from = self.replicas;
        let sync = self.hpa.sync(&self.spec, at, metric, from);
        self.replicas = sync.replicas;
        Decision {
            at,
            by: Controller::Hpa,
            metric,
            active,
            from,
            desired: sync.recommended,
            replicas: sync.replicas,
            why: Why::Hpa(sync.reason),
        }
    }
}

/// What KEDA and the HPA would make of one reading, for `lab lag` and the reports: the
/// metric's proposal at `replicas` (within the tolerance or not) and the HPA's bounds.
pub fn proposal(spec: &ScalingSpec, reading: &Reading, replicas: u32) -> (u32, bool) {
    hpa::recommendation(spec, reading.metric, replicas.max(1))
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
            .evaluate(60_000, &offsets(1))
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
        let d = a.evaluate(0, &offsets(50));
        assert_eq!((d[0].from, d[0].replicas), (0, 1));
        let d = a.evaluate(15_000, &offsets(50));
        assert_eq!((d[0].from, d[0].replicas), (1, 5));
    }

    /// excludePersistentLag: KEDA's poll and the HPA's metric request each call the
    /// scaler, so at a shared instant the HPA sees the lag as persistent (0).
    #[test]
    fn a_poll_and_a_sync_at_one_instant_make_two_scaler_calls() {
        let mut spec = published();
        spec.trigger.exclude_persistent_lag = true;
        let mut a = Autoscaler::new(spec, 1, Start::Active);
        a.evaluate(29_999, &offsets(30));
        let d = a.evaluate(30_000, &offsets(30));
        assert_eq!((d[0].by, d[1].by), (Controller::Keda, Controller::Hpa));
        assert_eq!(
            (d[0].metric, d[1].metric),
            (0, 0),
            "committed offset unchanged since 15 s"
        );
        let mut spec = published();
        spec.trigger.exclude_persistent_lag = true;
        let mut a = Autoscaler::new(spec, 1, Start::Active);
        let d = a.evaluate(0, &offsets(30));
        assert_eq!(d[0].metric, 30, "first call: nothing to compare with");
        let d = a.evaluate(15_000, &offsets(30));
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
        a.evaluate(0, &offsets(40));
        let d = a.evaluate(15_000, &offsets(0));
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
        let d = a.evaluate(600_000, &offsets(500));
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].from, d[0].replicas), (1, 3));
        assert!(a.evaluate(900_000, &offsets(500)).is_empty());
    }
}
