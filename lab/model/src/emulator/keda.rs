//! KEDA's own scaling loop for a ScaledObject (pkg/scaling/executor/scale_scaledobjects.go
//! RequestScale, scaleFromZeroOrIdle, scaleToZeroOrIdle).
//!
//! Every pollingInterval KEDA asks its triggers whether they are active:
//! - active (or `force-activation`): at 0 replicas, or below minReplicaCount with
//!   idleReplicaCount set, KEDA scales to max(minReplicaCount, 1) itself (unless
//!   `paused-scale-out`); otherwise it only records lastActiveTime;
//! - inactive, above idleReplicaCount (or above 0 with minReplicaCount 0): once the
//!   cooldown has passed KEDA scales straight to idleReplicaCount or minReplicaCount from
//!   any N, bypassing the HPA (unless `paused-scale-in`);
//! - inactive and below minReplicaCount (idleReplicaCount unset): KEDA raises the target
//!   to minReplicaCount.
//!
//! lastActiveTime and creationTimestamp are `metav1.Time`: the API server stores them as
//! RFC 3339 with whole seconds, and KEDA re-reads the object every poll, so the cooldown
//! is counted from the last active poll's time truncated to the second. The test
//! `lastActiveTime + cooldown < now` is made at a poll that lands a little after its timer
//! (startScaleLoop), so on the emulator's exact grid a lastActiveTime exactly
//! cooldownPeriod old has expired.

use super::spec::{Millis, ScalingSpec};

/// What one poll did; written `keda:<action>` in decisions.csv and `lab plan`'s lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KedaAction {
    /// Nothing (N -> N is the HPA's business).
    #[serde(rename = "keda:hold")]
    Hold,
    /// Active at 0 (or below min with idle set): scaled to max(min, 1).
    #[serde(rename = "keda:activate")]
    Activate,
    /// Inactive for longer than the cooldown: scaled to idle or min.
    #[serde(rename = "keda:deactivate")]
    Deactivate,
    /// Inactive, but the cooldown has not passed yet.
    #[serde(rename = "keda:cooling-down")]
    CoolingDown,
    /// Below minReplicaCount without idleReplicaCount: raised to min.
    #[serde(rename = "keda:raise-to-min")]
    RaiseToMin,
    /// A pause annotation stopped the change.
    #[serde(rename = "keda:paused")]
    Paused,
    /// The scaler failed and no fallback is configured: Ready goes False
    /// (`TriggerError`), the count is held, no drop to zero.
    #[serde(rename = "keda:trigger-error")]
    TriggerError,
    /// The scaler failed, the fallback has not taken over yet (failureThreshold not
    /// passed) and `fallback.replicas` is not 0: the count is held, no drop to zero.
    #[serde(rename = "keda:fallback-pending")]
    FallbackPending,
    /// KEDA could not build the scaler (no broker answers): `checkScalers` returned before
    /// `RequestScale`, nothing changed.
    #[serde(rename = "keda:no-scaler")]
    NoScaler,
}

impl KedaAction {
    /// The upstream code that decided it (KEDA v2.20.2).
    pub fn upstream(self) -> &'static str {
        match self {
            KedaAction::Hold => "pkg/scaling/executor/scale_scaledobjects.go RequestScale (active at N > 0: lastActiveTime only; inactive with nothing to do)",
            KedaAction::Activate => "pkg/scaling/executor/scale_scaledobjects.go RequestScale -> scaleFromZeroOrIdle",
            KedaAction::Deactivate | KedaAction::CoolingDown => "pkg/scaling/executor/scale_scaledobjects.go RequestScale -> scaleToZeroOrIdle (lastActiveTime + cooldownPeriod)",
            KedaAction::RaiseToMin => "pkg/scaling/executor/scale_scaledobjects.go RequestScale (inactive below minReplicaCount, idleReplicaCount unset)",
            KedaAction::Paused => "apis/keda/v1alpha1/scaledobject_types.go NeedToPauseScaleIn/Out; controllers/keda/scaledobject_controller.go (paused)",
            KedaAction::TriggerError => "pkg/scaling/executor/scale_scaledobjects.go RequestScale (isError && Fallback == nil: Ready False, TriggerError)",
            KedaAction::FallbackPending => "pkg/scaling/executor/scale_scaledobjects.go RequestScale (isError && Fallback.Replicas != 0: held until the fallback takes over)",
            KedaAction::NoScaler => "pkg/scaling/scale_handler.go checkScalers (getScaledObjectState returns the scalers cache's error: RequestScale is not called); buildScalers -> NewKafkaScaler -> sarama.NewClient",
        }
    }
}

/// What KEDA's poll learned from its triggers (`getScaledObjectState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Triggers {
    /// Some trigger is active (or the fallback answered).
    pub active: bool,
    /// Some trigger's scaler call failed (not answered by the fallback).
    pub error: bool,
}

#[derive(Debug, Clone)]
pub struct KedaLoop {
    created: Millis,
    /// `status.lastActiveTime`, as read back (whole seconds).
    last_active: Option<Millis>,
}

/// A `metav1.Time` read back from the API server: whole seconds.
fn stored(t: Millis) -> Millis {
    t - t % 1000
}

impl KedaLoop {
    /// A ScaledObject created at `created` that was never active.
    pub fn new(created: Millis) -> Self {
        Self {
            created: stored(created),
            last_active: None,
        }
    }

    /// A ScaledObject that was active up to `at` (a demo already running).
    pub fn active_until(at: Millis) -> Self {
        Self {
            created: 0,
            last_active: Some(stored(at)),
        }
    }

    /// The last poll that found the trigger active, as KEDA stores it.
    pub fn last_active(&self) -> Option<Millis> {
        self.last_active
    }

    /// One poll: the replica count KEDA leaves the target at, and why.
    pub fn poll(
        &mut self,
        spec: &ScalingSpec,
        now: Millis,
        triggers: Triggers,
        replicas: u32,
    ) -> (u32, KedaAction) {
        let min = spec.min_replicas;
        let a = &spec.annotations;
        if triggers.active || a.force_activation {
            let below_idle_min = spec.idle_replicas.is_some() && replicas < min;
            if replicas == 0 || below_idle_min {
                if a.paused_scale_out {
                    return (replicas, KedaAction::Paused);
                }
                self.last_active = Some(stored(now));
                return (min.max(1), KedaAction::Activate);
            }
            if triggers.error {
                // Some triggers active, some failing (PartialTriggerError): lastActiveTime
                // is not renewed.
                return (replicas, KedaAction::Hold);
            }
            self.last_active = Some(stored(now));
            return (replicas, KedaAction::Hold);
        }
        match (&spec.fallback, triggers.error) {
            (Some(f), true) if f.replicas != 0 => return (replicas, KedaAction::FallbackPending),
            (None, true) => return (replicas, KedaAction::TriggerError),
            // fallback.replicas 0: on to the drop to zero, as if inactive.
            _ => {}
        }
        let may_drop =
            spec.idle_replicas.is_some_and(|idle| replicas > idle) || (replicas > 0 && min == 0);
        if may_drop {
            if a.paused_scale_in {
                return (replicas, KedaAction::Paused);
            }
            let since = match self.last_active {
                Some(last) => last + spec.cooldown_period,
                None => self.created + spec.initial_cooldown_period,
            };
            // `since < now` on a clock slightly behind the real one: at equality the
            // real poll is already later.
            if since <= now {
                return (spec.idle_replicas.unwrap_or(min), KedaAction::Deactivate);
            }
            return (replicas, KedaAction::CoolingDown);
        }
        if spec.idle_replicas.is_none() && replicas < min {
            return (min, KedaAction::RaiseToMin);
        }
        (replicas, KedaAction::Hold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::spec::fixtures::published;

    const ACTIVE: Triggers = Triggers {
        active: true,
        error: false,
    };
    const IDLE: Triggers = Triggers {
        active: false,
        error: false,
    };

    fn spec(min: u32, idle: Option<u32>) -> ScalingSpec {
        ScalingSpec {
            min_replicas: min,
            idle_replicas: idle,
            ..published()
        }
    }

    #[test]
    fn active_at_zero_scales_to_one() {
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&spec(0, None), 0, ACTIVE, 0).0, 1);
        assert_eq!(keda.poll(&spec(3, None), 0, ACTIVE, 0).0, 3, "max(min, 1)");
        assert_eq!(
            keda.poll(&spec(0, None), 30_000, ACTIVE, 4),
            (4, KedaAction::Hold),
            "N stays N: the HPA's business"
        );
    }

    /// scale_scaledobjects.go scaleToZeroOrIdle compares the stored (whole-second)
    /// lastActiveTime + cooldownPeriod with the time of a poll that lands after its timer:
    /// with cooldown 30 s and polls every 30 s the first inactive poll already drops.
    #[test]
    fn drop_to_zero_at_the_first_inactive_poll_a_cooldown_after_the_last_active_one() {
        let s = spec(0, None);
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&s, 0, ACTIVE, 1).0, 1);
        assert_eq!(
            keda.poll(&s, 30_000, IDLE, 5),
            (0, KedaAction::Deactivate),
            "0 + 30 s is not after a poll landing just after 30 s: straight from 5 to 0"
        );
        let mut keda = KedaLoop::new(0);
        keda.poll(&s, 30_700, ACTIVE, 1);
        assert_eq!(keda.last_active(), Some(30_000), "stored in whole seconds");
        assert_eq!(keda.poll(&s, 60_000, IDLE, 1).1, KedaAction::Deactivate);
        let mut keda = KedaLoop::new(0);
        keda.poll(&s, 10_000, ACTIVE, 1);
        assert_eq!(keda.poll(&s, 39_999, IDLE, 1).1, KedaAction::CoolingDown);
    }

    /// Without a lastActiveTime KEDA counts from creationTimestamp + initialCooldownPeriod
    /// (default 0): the first poll after creation already drops.
    #[test]
    fn before_any_active_poll_the_initial_cooldown_counts_from_creation() {
        let mut s = spec(0, None);
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&s, 0, IDLE, 1), (0, KedaAction::Deactivate));
        s.initial_cooldown_period = 60_000;
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&s, 30_000, IDLE, 1).0, 1);
        assert_eq!(keda.poll(&s, 60_000, IDLE, 1).0, 0);
    }

    /// RequestScale: inactive, idleReplicaCount unset and below minReplicaCount -> min.
    #[test]
    fn below_min_replica_count_keda_raises_the_target() {
        let mut keda = KedaLoop::new(0);
        assert_eq!(
            keda.poll(&spec(2, None), 0, IDLE, 0),
            (2, KedaAction::RaiseToMin)
        );
        assert_eq!(
            keda.poll(&spec(3, None), 0, ACTIVE, 1),
            (1, KedaAction::Hold),
            "active and above 0: the HPA raises it, not KEDA"
        );
        assert_eq!(keda.poll(&spec(2, None), 100_000, IDLE, 2).0, 2);
    }

    #[test]
    fn idle_replicas_are_the_floor() {
        let s = spec(3, Some(0));
        let mut keda = KedaLoop::new(0);
        assert_eq!(
            keda.poll(&s, 0, ACTIVE, 0).0,
            3,
            "idle set and below min: to min"
        );
        assert_eq!(keda.poll(&s, 30_000, ACTIVE, 3).0, 3);
        assert_eq!(keda.poll(&s, 60_000, IDLE, 3).0, 0, "to idleReplicaCount");
    }

    /// scaleToZeroOrIdle / scaleFromZeroOrIdle return early on the paused-scale-in/out
    /// annotations; force-activation counts as active.
    #[test]
    fn pause_and_force_annotations() {
        let mut s = spec(0, None);
        s.annotations.paused_scale_in = true;
        assert_eq!(
            KedaLoop::new(0).poll(&s, 90_000, IDLE, 3),
            (3, KedaAction::Paused)
        );
        s.annotations = Default::default();
        s.annotations.paused_scale_out = true;
        assert_eq!(
            KedaLoop::new(0).poll(&s, 0, ACTIVE, 0),
            (0, KedaAction::Paused)
        );
        s.annotations = Default::default();
        s.annotations.force_activation = true;
        assert_eq!(KedaLoop::new(0).poll(&s, 0, IDLE, 0).0, 1);
    }

    const FAILING: Triggers = Triggers {
        active: false,
        error: true,
    };

    /// pkg/scaling/executor/scale_scaledobjects.go RequestScale, inactive with an error:
    /// no fallback -> Ready False (TriggerError) and nothing scaled; a fallback with
    /// replicas != 0 -> held for the fallback; fallback.replicas 0 -> on to the usual drop.
    #[test]
    fn a_failing_trigger_never_drops_to_zero_unless_fallback_replicas_is_0() {
        let s = spec(0, None);
        let mut keda = KedaLoop::active_until(0);
        assert_eq!(
            keda.poll(&s, 600_000, FAILING, 3),
            (3, KedaAction::TriggerError)
        );
        let mut with = s.clone();
        with.fallback = Some(crate::emulator::spec::Fallback {
            failure_threshold: 3,
            replicas: 6,
            behavior: crate::emulator::spec::FallbackBehavior::Static,
        });
        assert_eq!(
            keda.poll(&with, 600_000, FAILING, 3),
            (3, KedaAction::FallbackPending)
        );
        with.fallback.as_mut().unwrap().replicas = 0;
        assert_eq!(
            keda.poll(&with, 600_000, FAILING, 3),
            (0, KedaAction::Deactivate)
        );
    }

    /// RequestScale, active with an error (PartialTriggerError): held, and lastActiveTime
    /// is not renewed, so the cooldown keeps counting from the last clean active poll.
    #[test]
    fn an_active_poll_with_a_failing_trigger_does_not_renew_last_active_time() {
        let s = spec(0, None);
        let mut keda = KedaLoop::new(0);
        keda.poll(&s, 0, ACTIVE, 1);
        let partial = Triggers {
            active: true,
            error: true,
        };
        assert_eq!(keda.poll(&s, 30_000, partial, 1), (1, KedaAction::Hold));
        assert_eq!(keda.last_active(), Some(0));
        assert_eq!(keda.poll(&s, 60_000, IDLE, 1).1, KedaAction::Deactivate);
    }
}
