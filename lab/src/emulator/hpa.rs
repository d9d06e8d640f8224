//! The Horizontal Pod Autoscaler KEDA creates (`keda-hpa-<name>`): 1 <-> N.
//!
//! Every sync (15 s) with an External metric and an AverageValue target T:
//! ratio = metric / (T x replicas); outside the 0.1 tolerance the raw recommendation is
//! ceil(metric / T). With `behavior`, recommendations are stabilized over windows of
//! UNstabilized recommendations (strictly newer than the cutoff) and the change is
//! limited by the Pods/Percent policies, counting the scale events of each policy's
//! period; without it, the legacy path keeps the largest recommendation of the last
//! 300 s and limits scale-up to max(2 x current, 4). At 0 replicas the HPA does nothing.

use super::spec::{
    Behavior, Millis, PolicyKind, ScalingRules, ScalingSpec, SelectPolicy, HPA_TOLERANCE,
    LEGACY_DOWNSCALE_WINDOW,
};

/// One HPA sync's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sync {
    /// The raw recommendation from the metric (before stabilization and policies).
    pub recommended: u32,
    /// The replica count after this sync.
    pub replicas: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Hpa {
    /// (time, unstabilized recommendation); seeded with the current count on first sight.
    recommendations: Vec<(Millis, u32)>,
    seeded: bool,
    /// (time, replicas added) and (time, replicas removed) by this HPA.
    scale_up_events: Vec<(Millis, u32)>,
    scale_down_events: Vec<(Millis, u32)>,
}

impl Hpa {
    pub fn new() -> Self {
        Self::default()
    }

    /// One sync at `now` with the trigger's `metric` and the Deployment at `replicas`.
    pub fn sync(&mut self, spec: &ScalingSpec, now: Millis, metric: i64, replicas: u32) -> Sync {
        let (min, max) = (spec.hpa_min(), spec.max_replicas);
        if replicas == 0 {
            return Sync {
                recommended: 0,
                replicas: 0,
            };
        }
        let recommended = recommendation(metric, spec.trigger.lag_threshold, replicas);
        let desired = if replicas > max {
            max
        } else if replicas < min {
            min
        } else {
            match &spec.behavior {
                Some(behavior) => {
                    self.with_behavior(behavior, now, replicas, recommended, min, max)
                }
                None => self.legacy(now, replicas, recommended, min, max),
            }
        };
        if spec.behavior.is_some() && desired != replicas {
            if desired > replicas {
                self.scale_up_events.push((now, desired - replicas));
            } else {
                self.scale_down_events.push((now, replicas - desired));
            }
        }
        Sync {
            recommended,
            replicas: desired,
        }
    }

    fn with_behavior(
        &mut self,
        b: &Behavior,
        now: Millis,
        current: u32,
        desired: u32,
        min: u32,
        max: u32,
    ) -> u32 {
        if !self.seeded {
            self.recommendations.push((now, current));
            self.seeded = true;
        }
        let up_cutoff = now.checked_sub(b.scale_up.stabilization_window);
        let down_cutoff = now.checked_sub(b.scale_down.stabilization_window);
        // "strictly newer than now - window"; a window reaching before t=0 holds everything.
        let newer = |t: Millis, cutoff: Option<Millis>| cutoff.is_none_or(|c| t > c);
        let mut up = desired;
        let mut down = desired;
        for &(t, rec) in &self.recommendations {
            if newer(t, up_cutoff) {
                up = up.min(rec);
            }
            if newer(t, down_cutoff) {
                down = down.max(rec);
            }
        }
        let stabilized = current.max(up).min(down);
        self.recommendations
            .retain(|&(t, _)| newer(t, up_cutoff) || newer(t, down_cutoff));
        self.recommendations.push((now, desired));

        if stabilized > current {
            let limit = self.scale_up_limit(&b.scale_up, now, current).max(current);
            stabilized.min(max.min(limit))
        } else if stabilized < current {
            let limit = self
                .scale_down_limit(&b.scale_down, now, current)
                .min(current);
            stabilized.max(min.max(limit))
        } else {
            stabilized
        }
    }

    /// Replicas at the start of a policy's period: current minus what this HPA added
    /// plus what it removed within the period.
    fn period_start(&self, now: Millis, period: Millis, current: u32) -> i64 {
        let cutoff = now.checked_sub(period);
        let within = |events: &[(Millis, u32)]| -> i64 {
            events
                .iter()
                .filter(|(t, _)| cutoff.is_none_or(|c| *t > c))
                .map(|(_, n)| *n as i64)
                .sum()
        };
        current as i64 - within(&self.scale_up_events) + within(&self.scale_down_events)
    }

    fn scale_up_limit(&self, rules: &ScalingRules, now: Millis, current: u32) -> u32 {
        let proposals = rules.policies.iter().map(|p| {
            let start = self.period_start(now, p.period, current);
            match p.kind {
                PolicyKind::Pods => start + p.value as i64,
                PolicyKind::Percent => {
                    (start as f64 * (1.0 + p.value as f64 / 100.0)).ceil() as i64
                }
            }
        });
        let limit = match rules.select {
            SelectPolicy::Disabled => return current,
            SelectPolicy::Max => proposals.max(),
            SelectPolicy::Min => proposals.min(),
        };
        limit.map_or(current, |l| l.clamp(0, u32::MAX as i64) as u32)
    }

    fn scale_down_limit(&self, rules: &ScalingRules, now: Millis, current: u32) -> u32 {
        let proposals = rules.policies.iter().map(|p| {
            let start = self.period_start(now, p.period, current);
            match p.kind {
                PolicyKind::Pods => start - p.value as i64,
                PolicyKind::Percent => {
                    (start as f64 * (1.0 - p.value as f64 / 100.0)).trunc() as i64
                }
            }
        });
        // For scaling down the largest change is the smallest count.
        let limit = match rules.select {
            SelectPolicy::Disabled => return current,
            SelectPolicy::Max => proposals.min(),
            SelectPolicy::Min => proposals.max(),
        };
        limit.map_or(current, |l| l.clamp(0, u32::MAX as i64) as u32)
    }

    fn legacy(&mut self, now: Millis, current: u32, desired: u32, min: u32, max: u32) -> u32 {
        // Not older than the cutoff: timestamp >= now - 300 s.
        let cutoff = now.saturating_sub(LEGACY_DOWNSCALE_WINDOW);
        let keep = |t: Millis| t >= cutoff;
        let stabilized = self
            .recommendations
            .iter()
            .filter(|(t, _)| keep(*t))
            .map(|(_, r)| *r)
            .fold(desired, u32::max);
        self.recommendations.retain(|(t, _)| keep(*t));
        self.recommendations.push((now, desired));
        let scale_up_limit = (2 * current).max(4);
        let allowed_max = max.min(scale_up_limit);
        stabilized.clamp(min, allowed_max.max(min))
    }
}

/// ceil(metric / T) when |1 - metric / (T x replicas)| exceeds the tolerance, else the
/// current count.
pub fn recommendation(metric: i64, threshold: i64, replicas: u32) -> u32 {
    let ratio = metric as f64 / (threshold as f64 * replicas as f64);
    if (1.0 - ratio).abs() <= HPA_TOLERANCE {
        replicas
    } else {
        (metric as f64 / threshold as f64).ceil().max(0.0) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::spec::{KafkaTrigger, Policy};

    /// The published ScaledObject: T = 5, max 10, scale-down window 30 s with Percent 50
    /// per 30 s, scale-up defaults.
    fn published() -> ScalingSpec {
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
                },
            }),
            hpa_sync: 15_000,
            trigger: KafkaTrigger {
                lag_threshold: 5,
                ..KafkaTrigger::default()
            },
        }
    }

    #[test]
    fn recommendation_respects_tolerance() {
        assert_eq!(recommendation(16, 5, 3), 3, "16/15 within 10 %");
        assert_eq!(recommendation(17, 5, 3), 4, "17/15 outside: ceil(3.4)");
        assert_eq!(recommendation(0, 5, 3), 0);
        assert_eq!(recommendation(14, 5, 3), 3, "14/15 within 10 %");
        assert_eq!(recommendation(13, 5, 3), 3, "outside, but ceil(2.6) = 3");
        assert_eq!(recommendation(10, 5, 3), 2);
    }

    #[test]
    fn scale_up_from_one_reaches_five_in_one_step() {
        let mut hpa = Hpa::new();
        let s = hpa.sync(&published(), 0, 50, 1);
        assert_eq!((s.recommended, s.replicas), (10, 5), "max(1 + 4, 1 x 2)");
        let s = hpa.sync(&published(), 15_000, 50, 5);
        assert_eq!(
            s.replicas, 10,
            "the +4 at 0 is not newer than 15 - 15: period start 5, Percent 100 gives 10"
        );
    }

    #[test]
    fn scale_down_from_three_goes_to_one_in_one_step_after_the_window() {
        let spec = published();
        let mut hpa = Hpa::new();
        // Seeded with 3 at t=0; recommendations of 1 from then on.
        assert_eq!(
            hpa.sync(&spec, 0, 2, 3).replicas,
            3,
            "seed (3) is in the window"
        );
        assert_eq!(hpa.sync(&spec, 15_000, 2, 3).replicas, 3);
        assert_eq!(
            hpa.sync(&spec, 30_000, 2, 3).replicas,
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
            let s = hpa.sync(&spec, step * 15_000, 0, replicas);
            if s.replicas != replicas {
                path.push((step * 15, s.replicas));
            }
            replicas = s.replicas;
        }
        assert_eq!(path, [(30, 5), (60, 2), (90, 1)], "at least 30 s apart");
    }

    #[test]
    fn scale_down_waits_for_every_recent_recommendation_to_be_lower() {
        let spec = published();
        let mut hpa = Hpa::new();
        assert_eq!(hpa.sync(&spec, 0, 15, 3).replicas, 3);
        assert_eq!(
            hpa.sync(&spec, 15_000, 5, 3).replicas,
            3,
            "recent 3s hold it"
        );
        assert_eq!(hpa.sync(&spec, 30_000, 15, 3).replicas, 3);
        assert_eq!(
            hpa.sync(&spec, 45_000, 5, 3).replicas,
            3,
            "the 3 at 30 s is inside the window"
        );
        assert_eq!(
            hpa.sync(&spec, 60_000, 5, 3).replicas,
            1,
            "the 3 at 30 s is not newer than 60 - 30"
        );
    }

    #[test]
    fn select_min_and_disabled() {
        let mut spec = published();
        let behavior = spec.behavior.as_mut().unwrap();
        behavior.scale_up.select = SelectPolicy::Min;
        assert_eq!(
            Hpa::new().sync(&spec, 0, 50, 1).replicas,
            2,
            "min(1 + 4, 2)"
        );
        spec.behavior.as_mut().unwrap().scale_up.select = SelectPolicy::Disabled;
        assert_eq!(Hpa::new().sync(&spec, 0, 50, 1).replicas, 1);
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
        };
        spec.min_replicas = 2;
        let mut hpa = Hpa::new();
        assert_eq!(hpa.sync(&spec, 0, 0, 7).replicas, 5);
        assert_eq!(
            hpa.sync(&spec, 15_000, 0, 5).replicas,
            5,
            "2 removed within 60 s: period start 7, limit 5"
        );
        assert_eq!(
            hpa.sync(&spec, 60_000, 0, 5).replicas,
            3,
            "event at 0 is not newer than 0"
        );
        assert_eq!(hpa.sync(&spec, 120_000, 0, 3).replicas, 2, "minReplicas");
    }

    #[test]
    fn bounds_and_zero() {
        let spec = published();
        assert_eq!(
            Hpa::new().sync(&spec, 0, 500, 12).replicas,
            10,
            "above max -> max"
        );
        assert_eq!(
            Hpa::new().sync(&spec, 0, 500, 0).replicas,
            0,
            "disabled at 0"
        );
        assert_eq!(
            Hpa::new().sync(&spec, 0, 500, 9).replicas,
            10,
            "capped at max"
        );
    }

    #[test]
    fn legacy_path_without_behavior() {
        let mut spec = published();
        spec.behavior = None;
        let mut hpa = Hpa::new();
        assert_eq!(hpa.sync(&spec, 0, 50, 1).replicas, 4, "max(2 x 1, 4)");
        assert_eq!(hpa.sync(&spec, 15_000, 50, 4).replicas, 8);
        assert_eq!(
            hpa.sync(&spec, 30_000, 0, 8).replicas,
            10,
            "max of the last 300 s is 10, capped at max 10"
        );
        assert_eq!(
            hpa.sync(&spec, 300_000, 0, 10).replicas,
            10,
            "the rec at 0 is exactly 300 s old: kept (>=)"
        );
        assert_eq!(hpa.sync(&spec, 330_001, 0, 10).replicas, 1);
    }
}
