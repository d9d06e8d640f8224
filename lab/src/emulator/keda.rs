//! KEDA's own scaling loop for a ScaledObject: 0 -> 1, and N -> 0 after the cooldown.
//!
//! Every pollingInterval KEDA asks its triggers whether they are active. Active with no
//! replicas: KEDA scales to max(minReplicaCount, 1) itself (the HPA does nothing at 0).
//! Inactive for longer than cooldownPeriod (counted from the last active poll, strictly):
//! KEDA scales straight to idleReplicaCount or minReplicaCount, from any N, bypassing
//! the HPA's policies. Everything between 1 and N is the HPA's business.

use super::spec::{Millis, ScalingSpec};

#[derive(Debug, Clone)]
pub struct KedaLoop {
    created: Millis,
    last_active: Option<Millis>,
}

impl KedaLoop {
    /// A ScaledObject created at `created`.
    pub fn new(created: Millis) -> Self {
        Self {
            created,
            last_active: None,
        }
    }

    /// The last poll that found the trigger active.
    pub fn last_active(&self) -> Option<Millis> {
        self.last_active
    }

    /// One poll: returns the replica count KEDA leaves the Deployment at.
    pub fn poll(&mut self, spec: &ScalingSpec, now: Millis, active: bool, replicas: u32) -> u32 {
        let min = spec.min_replicas;
        if active {
            self.last_active = Some(now);
            let below_idle_min = spec.idle_replicas.is_some() && replicas < min;
            if replicas == 0 || below_idle_min {
                return min.max(1);
            }
            return replicas;
        }
        let may_drop =
            (replicas > 0 && min == 0) || spec.idle_replicas.is_some_and(|idle| replicas > idle);
        if may_drop {
            let cooled_down = match self.last_active {
                Some(last) => last + spec.cooldown_period < now,
                None => self.created + spec.initial_cooldown_period < now,
            };
            if cooled_down {
                return spec.idle_replicas.unwrap_or(min);
            }
        }
        replicas
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::spec::KafkaTrigger;

    fn spec(min: u32, idle: Option<u32>) -> ScalingSpec {
        ScalingSpec {
            target: "kafka-consumer".into(),
            polling_interval: 30_000,
            cooldown_period: 30_000,
            initial_cooldown_period: 0,
            min_replicas: min,
            max_replicas: 10,
            idle_replicas: idle,
            behavior: None,
            hpa_sync: 15_000,
            trigger: KafkaTrigger::default(),
        }
    }

    #[test]
    fn active_at_zero_scales_to_one() {
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&spec(0, None), 0, true, 0), 1);
        assert_eq!(keda.poll(&spec(3, None), 0, true, 0), 3, "max(min, 1)");
        assert_eq!(
            keda.poll(&spec(0, None), 30_000, true, 4),
            4,
            "N stays N: the HPA's business"
        );
    }

    #[test]
    fn drop_to_zero_waits_strictly_longer_than_the_cooldown() {
        let s = spec(0, None);
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&s, 0, true, 1), 1);
        assert_eq!(
            keda.poll(&s, 30_000, false, 5),
            5,
            "0 + 30 s < 30 s is false"
        );
        assert_eq!(keda.poll(&s, 60_000, false, 5), 0, "straight from 5 to 0");
        assert_eq!(keda.last_active(), Some(0));
    }

    #[test]
    fn before_any_active_poll_the_initial_cooldown_counts_from_creation() {
        let mut s = spec(0, None);
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&s, 0, false, 1), 1, "creation + 0 < 0 is false");
        assert_eq!(keda.poll(&s, 30_000, false, 1), 0);
        s.initial_cooldown_period = 60_000;
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&s, 30_000, false, 1), 1);
        assert_eq!(keda.poll(&s, 60_000, false, 1), 1);
        assert_eq!(keda.poll(&s, 90_000, false, 1), 0);
    }

    #[test]
    fn min_above_zero_never_drops_and_idle_replicas_are_the_floor() {
        let mut keda = KedaLoop::new(0);
        assert_eq!(keda.poll(&spec(2, None), 100_000, false, 2), 2);
        let s = spec(3, Some(0));
        let mut keda = KedaLoop::new(0);
        assert_eq!(
            keda.poll(&s, 0, true, 0),
            3,
            "idle set and below min: to min"
        );
        assert_eq!(keda.poll(&s, 30_000, false, 3), 3);
        assert_eq!(keda.poll(&s, 60_000, false, 3), 0, "to idleReplicaCount");
    }
}
