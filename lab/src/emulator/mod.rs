//! A deterministic emulator of how KEDA and the HPA scale a Deployment from Kafka lag.
//!
//! Pure: no clock, no I/O. The caller says what time it is and what the offsets are;
//! [`Autoscaler::evaluate`] runs every evaluation due by then (KEDA's poll first, then
//! the HPA's sync, when both fall on the same instant) and returns one [`Decision`] each.
//! Pods are taken as ready the moment they are requested. The formulas are those of
//! `docs/keda-hpa-semantics.md` (scaler, KEDA loop, HPA), one module each.

pub mod hpa;
pub mod keda;
pub mod scaler;
pub mod spec;

use serde::Serialize;

pub use scaler::{Offsets, Reading};
pub use spec::{Millis, ScalingSpec};

/// Which controller decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Controller {
    Keda,
    Hpa,
}

/// One evaluation, as `lab plan` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// When, in ms since the ScaledObject was created.
    #[serde(skip)]
    pub at: Millis,
    pub by: Controller,
    /// The scaler's metric (what the HPA sees).
    pub metric: i64,
    /// Whether the trigger was active.
    pub active: bool,
    /// KEDA: the count it asked for (1 from zero, the floor after the cooldown, else
    /// unchanged). HPA: its raw recommendation ceil(metric / T) (before stabilization
    /// and policies).
    pub desired: u32,
    /// The replica count after this evaluation.
    pub replicas: u32,
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
}

impl Autoscaler {
    /// A ScaledObject created at t=0 on a Deployment at `replicas`.
    pub fn new(spec: ScalingSpec, replicas: u32) -> Self {
        Self {
            scaler: scaler::KafkaScaler::new(spec.trigger.clone()),
            keda: keda::KedaLoop::new(0),
            hpa: hpa::Hpa::new(),
            spec,
            replicas,
            next_poll: 0,
            next_sync: 0,
        }
    }

    pub fn spec(&self) -> &ScalingSpec {
        &self.spec
    }

    /// The Deployment's replica count as the controllers left it.
    pub fn replicas(&self) -> u32 {
        self.replicas
    }

    /// When the next evaluation is due.
    pub fn next_due(&self) -> Millis {
        self.next_poll.min(self.next_sync)
    }

    /// Runs every evaluation due at or before `now` with `offsets` (the latest reading
    /// of the topic's partitions), in time order, KEDA before the HPA on ties.
    pub fn evaluate(&mut self, now: Millis, offsets: &[Offsets]) -> Vec<Decision> {
        let mut out = Vec::new();
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
        let replicas = self
            .keda
            .poll(&self.spec, at, reading.active, self.replicas);
        self.replicas = replicas;
        Decision {
            at,
            by: Controller::Keda,
            metric: reading.metric,
            active: reading.active,
            desired: replicas,
            replicas,
        }
    }

    fn sync(&mut self, at: Millis, offsets: &[Offsets]) -> Decision {
        let reading = self.scaler.read(offsets);
        let sync = self.hpa.sync(&self.spec, at, reading.metric, self.replicas);
        self.replicas = sync.replicas;
        Decision {
            at,
            by: Controller::Hpa,
            metric: reading.metric,
            active: reading.active,
            desired: sync.recommended,
            replicas: sync.replicas,
        }
    }
}
