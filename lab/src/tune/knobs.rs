//! The settings `lab tune` searches, and how a set of them becomes a ScaledObject: the
//! baseline manifest with those fields rewritten, so that everything else (target,
//! trigger connection, fallback, annotations) stays the user's own.

use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_yaml_ng::{Mapping, Value};

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

    /// The baseline ScaledObject (`doc`) with these settings written in. A setting KEDA's
    /// webhook calls irrelevant is left out (pollingInterval and cooldownPeriod with
    /// minReplicaCount above 0), and the partition options the trigger does not use are
    /// removed.
    pub fn apply(&self, doc: &Value) -> Value {
        let mut doc = doc.clone();
        let spec = mapping(&mut doc, "spec");
        let scales_to_zero = self.min == 0;
        set_or_remove(
            spec,
            "pollingInterval",
            scales_to_zero.then_some(Value::from(self.polling_s)),
        );
        set_or_remove(
            spec,
            "cooldownPeriod",
            scales_to_zero.then_some(Value::from(self.cooldown_s)),
        );
        set_or_remove(spec, "minReplicaCount", Some(Value::from(self.min)));
        set_or_remove(spec, "maxReplicaCount", Some(Value::from(self.max)));
        let behavior = mapping(
            mapping(mapping(spec, "advanced"), "horizontalPodAutoscalerConfig"),
            "behavior",
        );
        let up = mapping(behavior, "scaleUp");
        set_or_remove(
            up,
            "stabilizationWindowSeconds",
            Some(Value::from(self.up_window_s)),
        );
        let down = mapping(behavior, "scaleDown");
        set_or_remove(
            down,
            "stabilizationWindowSeconds",
            Some(Value::from(self.down_window_s)),
        );
        let policy: Value = serde_yaml_ng::from_str(&format!(
            "[{{type: Percent, value: {}, periodSeconds: 30}}]",
            self.down_percent
        ))
        .expect("a policy list is YAML");
        set_or_remove(down, "policies", Some(policy));
        let triggers = mapping(&mut doc, "spec")
            .get_mut("triggers")
            .and_then(Value::as_sequence_mut);
        for trigger in triggers.into_iter().flatten() {
            if trigger.get("type").and_then(Value::as_str) != Some("kafka") {
                continue;
            }
            let metadata = mapping(trigger, "metadata");
            let text = |v: String| Some(Value::from(v));
            set_or_remove(
                metadata,
                "lagThreshold",
                text(self.lag_threshold.to_string()),
            );
            set_or_remove(
                metadata,
                "activationLagThreshold",
                text(self.activation_lag_threshold.to_string()),
            );
            let (limit, even) = match self.partitions {
                PartitionOption::Plain => (None, None),
                PartitionOption::LimitToPartitionsWithLag => (text("true".into()), None),
                PartitionOption::EvenDistribution => (None, text("true".into())),
            };
            set_or_remove(metadata, "limitToPartitionsWithLag", limit);
            set_or_remove(metadata, "ensureEvenDistributionOfPartitions", even);
        }
        doc
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

/// The mapping under `key` in `value`, made if it is missing.
fn mapping<'a>(value: &'a mut Value, key: &str) -> &'a mut Value {
    if !value.is_mapping() {
        *value = Value::Mapping(Mapping::new());
    }
    let map = value.as_mapping_mut().expect("just made a mapping");
    map.entry(Value::from(key))
        .or_insert_with(|| Value::Mapping(Mapping::new()))
}

fn set_or_remove(value: &mut Value, key: &str, to: Option<Value>) {
    let Some(map) = value.as_mapping_mut() else {
        return;
    };
    match to {
        Some(v) => {
            map.insert(Value::from(key), v);
        }
        None => {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository() -> Value {
        serde_yaml_ng::from_str(crate::keda::REPOSITORY_SCALED_OBJECT).unwrap()
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
        let checked = crate::keda::check(&k.apply(&repository()));
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
            spec.trigger.consumer_group, "event",
            "the rest is the user's"
        );
        assert_eq!(crate::advice::advise(&checked, Some(10)), []);
        let min_one = crate::keda::check(&Knobs { min: 1, ..k }.apply(&repository()));
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
