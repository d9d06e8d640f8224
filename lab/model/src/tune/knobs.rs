//! The settings `lab tune` searches, and how a set of them becomes a ScaledObject: the
//! baseline manifest with those fields rewritten, so that everything else (target,
//! trigger connection, fallback, annotations) stays the user's own.

use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::keda::model::{
    Advanced, Behavior, HpaConfig, ScaledObject, ScalingPolicy, ScalingRules,
};

/// How the scaler treats partitions beyond lag (the trigger's partition options).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartitionOption {
    /// Neither: the metric is capped at partitions x lagThreshold.
    Plain,
    /// `limitToPartitionsWithLag`: capped at partitions-with-lag x lagThreshold.
    LimitToPartitionsWithLag,
    /// `ensureEvenDistributionOfPartitions`: a factor of the partition count.
    EvenDistribution,
}

/// One candidate: every searched setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Knobs {
    /// `lagThreshold`.
    pub lag_threshold: i64,
    /// `activationLagThreshold`.
    pub activation_lag_threshold: i64,
    /// `pollingInterval`, s.
    pub polling_s: u32,
    /// `cooldownPeriod`, s.
    pub cooldown_s: u32,
    /// `minReplicaCount`.
    pub min: u32,
    /// `maxReplicaCount`.
    pub max: u32,
    /// `behavior.scaleUp.stabilizationWindowSeconds`.
    pub up_window_s: u32,
    /// `behavior.scaleDown.stabilizationWindowSeconds`.
    pub down_window_s: u32,
    /// `behavior.scaleDown` policy: this percent per 30 s.
    pub down_percent: u32,
    pub partitions: PartitionOption,
}

const LAG_THRESHOLDS: [i64; 8] = [2, 3, 5, 8, 10, 15, 20, 30];
const ACTIVATIONS: [i64; 3] = [0, 2, 5];
const POLLINGS: [u32; 4] = [5, 10, 15, 30];
const COOLDOWNS: [u32; 4] = [60, 120, 300, 600];
const MINS: [u32; 2] = [0, 1];
const UP_WINDOWS: [u32; 3] = [0, 15, 30];
const DOWN_WINDOWS: [u32; 5] = [15, 30, 60, 120, 300];
const DOWN_PERCENTS: [u32; 3] = [25, 50, 100];
const PARTITION_OPTIONS: [PartitionOption; 3] = [
    PartitionOption::Plain,
    PartitionOption::LimitToPartitionsWithLag,
    PartitionOption::EvenDistribution,
];

impl Knobs {
    /// How many distinct candidates the search space holds (for a given max).
    pub const SPACE: usize = LAG_THRESHOLDS.len()
        * ACTIVATIONS.len()
        * POLLINGS.len()
        * COOLDOWNS.len()
        * MINS.len()
        * UP_WINDOWS.len()
        * DOWN_WINDOWS.len()
        * DOWN_PERCENTS.len()
        * PARTITION_OPTIONS.len();

    /// The most neighbours a candidate has: two values next to it in each of the eight
    /// ranged settings, and the two other partition options.
    pub const MOST_NEIGHBOURS: usize = 2 * 8 + 2;

    /// A candidate drawn at random from the space; `max` is the topic's partition count
    /// (more consumers than partitions idle).
    pub fn random(rng: &mut StdRng, max: u32) -> Self {
        fn pick<T: Copy>(rng: &mut StdRng, from: &[T]) -> T {
            from[rng.random_range(0..from.len())]
        }
        Self {
            lag_threshold: pick(rng, &LAG_THRESHOLDS),
            activation_lag_threshold: pick(rng, &ACTIVATIONS),
            polling_s: pick(rng, &POLLINGS),
            cooldown_s: pick(rng, &COOLDOWNS),
            min: pick(rng, &MINS),
            max,
            up_window_s: pick(rng, &UP_WINDOWS),
            down_window_s: pick(rng, &DOWN_WINDOWS),
            down_percent: pick(rng, &DOWN_PERCENTS),
            partitions: pick(rng, &PARTITION_OPTIONS),
        }
    }

    /// `n` distinct candidates drawn with `seed`, the whole space when it is smaller.
    pub fn sample(n: usize, max: u32, seed: u64) -> Vec<Self> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out: Vec<Self> = Vec::with_capacity(n);
        let mut seen = std::collections::HashSet::new();
        let mut tries = 0;
        while out.len() < n.min(Self::SPACE) && tries < n * 50 {
            tries += 1;
            let k = Self::random(&mut rng, max);
            if seen.insert(k) {
                out.push(k);
            }
        }
        out
    }

    /// The candidates one setting away from `self` (a local search's next ring).
    pub fn neighbours(&self) -> Vec<Self> {
        fn around<T: Copy + PartialEq>(values: &[T], current: T) -> Vec<T> {
            match values.iter().position(|v| *v == current) {
                Some(i) => [i.checked_sub(1), Some(i + 1)]
                    .into_iter()
                    .flatten()
                    .filter_map(|j| values.get(j).copied())
                    .collect(),
                None => values.to_vec(),
            }
        }
        let mut out = Vec::new();
        let k = *self;
        // Each setting's values next to its current one, the others as they are.
        macro_rules! ring {
            ($values:expr, $field:ident) => {
                out.extend(
                    around(&$values, k.$field)
                        .into_iter()
                        .map(|v| Self { $field: v, ..k }),
                )
            };
        }
        ring!(LAG_THRESHOLDS, lag_threshold);
        ring!(ACTIVATIONS, activation_lag_threshold);
        ring!(POLLINGS, polling_s);
        ring!(COOLDOWNS, cooldown_s);
        ring!(MINS, min);
        ring!(UP_WINDOWS, up_window_s);
        ring!(DOWN_WINDOWS, down_window_s);
        ring!(DOWN_PERCENTS, down_percent);
        out.extend(
            PARTITION_OPTIONS
                .into_iter()
                .filter(|p| *p != k.partitions)
                .map(|v| Self { partitions: v, ..k }),
        );
        out
    }

    /// The baseline ScaledObject with these settings written in. A setting KEDA's webhook
    /// calls irrelevant is left out (pollingInterval and cooldownPeriod with
    /// minReplicaCount above 0), and the partition options the trigger does not use are
    /// removed.
    pub fn apply(&self, baseline: &ScaledObject) -> ScaledObject {
        let mut so = baseline.clone();
        let spec = &mut so.spec;
        let scales_to_zero = self.min == 0;
        spec.polling_interval = scales_to_zero.then_some(self.polling_s as i32);
        spec.cooldown_period = scales_to_zero.then_some(self.cooldown_s as i32);
        spec.min_replica_count = Some(self.min as i32);
        spec.max_replica_count = Some(self.max as i32);
        let advanced = spec.advanced.get_or_insert_with(Advanced::default);
        let hpa = advanced
            .horizontal_pod_autoscaler_config
            .get_or_insert_with(HpaConfig::default);
        let behavior = hpa.behavior.get_or_insert_with(Behavior::default);
        let up = behavior.scale_up.get_or_insert_with(ScalingRules::default);
        up.stabilization_window_seconds = Some(self.up_window_s as i32);
        let down = behavior
            .scale_down
            .get_or_insert_with(ScalingRules::default);
        down.stabilization_window_seconds = Some(self.down_window_s as i32);
        down.policies = Some(vec![ScalingPolicy {
            kind: "Percent".into(),
            value: self.down_percent as i32,
            period_seconds: 30,
        }]);
        for trigger in spec.triggers.iter_mut().filter(|t| t.kind == "kafka") {
            let metadata = &mut trigger.metadata;
            let mut set = |key: &str, value: Option<String>| match value {
                Some(v) => {
                    metadata.insert(key.to_owned(), v);
                }
                None => {
                    metadata.remove(key);
                }
            };
            set("lagThreshold", Some(self.lag_threshold.to_string()));
            set(
                "activationLagThreshold",
                Some(self.activation_lag_threshold.to_string()),
            );
            let (limit, even) = match self.partitions {
                PartitionOption::Plain => (None, None),
                PartitionOption::LimitToPartitionsWithLag => (Some("true".into()), None),
                PartitionOption::EvenDistribution => (None, Some("true".into())),
            };
            set("limitToPartitionsWithLag", limit);
            set("ensureEvenDistributionOfPartitions", even);
        }
        so
    }
}

impl fmt::Display for Knobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lagThreshold {}, activation {}, {}min {} max {}, up window {} s, down window {} s at {} %/30 s{}",
            self.lag_threshold,
            self.activation_lag_threshold,
            if self.min == 0 {
                format!("polling {} s, cooldown {} s, ", self.polling_s, self.cooldown_s)
            } else {
                String::new()
            },
            self.min,
            self.max,
            self.up_window_s,
            self.down_window_s,
            self.down_percent,
            match self.partitions {
                PartitionOption::Plain => "",
                PartitionOption::LimitToPartitionsWithLag => ", limitToPartitionsWithLag",
                PartitionOption::EvenDistribution => ", ensureEvenDistributionOfPartitions",
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> ScaledObject {
        crate::keda::check_text(crate::keda::REPOSITORY_SCALED_OBJECT, "repo")
            .unwrap()
            .object
            .unwrap()
    }

    #[test]
    fn a_candidate_is_the_baseline_with_its_settings_written_in() {
        let k = Knobs {
            lag_threshold: 8,
            activation_lag_threshold: 2,
            polling_s: 10,
            cooldown_s: 120,
            min: 0,
            max: 10,
            up_window_s: 15,
            down_window_s: 60,
            down_percent: 50,
            partitions: PartitionOption::LimitToPartitionsWithLag,
        };
        let checked = crate::keda::validate::validate(&k.apply(&repository()));
        assert_eq!(checked.errors().count(), 0, "{:?}", checked.problems);
        let spec = checked.spec.clone().unwrap();
        assert_eq!(
            (
                spec.trigger.lag_threshold,
                spec.polling_interval,
                spec.cooldown_period
            ),
            (8, 10_000, 120_000)
        );
        assert!(spec.trigger.limit_to_partitions_with_lag);
        assert_eq!(
            spec.behavior.unwrap().scale_down.stabilization_window,
            60_000
        );
        assert_eq!(
            checked.triggers[0].source.consumer_group, "event",
            "the rest is the user's"
        );
        assert_eq!(crate::advice::advise(&checked, Some(10)), []);
        let min_one = crate::keda::validate::validate(&Knobs { min: 1, ..k }.apply(&repository()));
        let so = min_one.object.as_ref().unwrap();
        assert!(so.spec.polling_interval.is_none() && so.spec.cooldown_period.is_none());
        assert_eq!(crate::advice::advise(&min_one, Some(10)), []);
    }

    #[test]
    fn samples_are_distinct_and_neighbours_differ_in_one_setting() {
        let sample = Knobs::sample(200, 10, 7);
        assert_eq!(sample.len(), 200);
        let set: std::collections::HashSet<_> = sample.iter().collect();
        assert_eq!(set.len(), 200);
        assert_eq!(sample, Knobs::sample(200, 10, 7), "deterministic");
        let k = sample[0];
        assert!(k.neighbours().iter().all(|n| n != &k));
    }
}
