//! KEDA's Kafka scaler: from per-partition offsets to one metric and "active".
//!
//! Per partition, lag = log-end offset - committed offset. A partition the group never
//! committed counts 1 (`latest`) or its whole log (`earliest`), or 0 with
//! `scaleToZeroOnInvalidOffset`. Unless idle consumers are allowed, the total is capped
//! at partitions x lagThreshold, testing `total / threshold > partitions` with INTEGER
//! division as KEDA does, so the cap only bites from (partitions + 1) x threshold.
//! "Active" compares the uncapped lag (persistent lag included) with
//! activationLagThreshold, strictly.

use std::collections::HashMap;

use super::spec::{KafkaTrigger, OffsetReset};

/// One partition's offsets as KEDA reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offsets {
    /// Log-end offset (high watermark).
    pub end: i64,
    /// The group's committed offset; `None` when it never committed.
    pub committed: Option<i64>,
}

/// What one scaler call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The metric handed to the HPA (capped, persistent lag excluded).
    pub metric: i64,
    /// Whether the trigger is active (KEDA scales 0 -> 1 and resets the cooldown).
    pub active: bool,
    /// Lag summed over partitions, uncapped, persistent lag included.
    pub total_lag: i64,
    /// Partitions whose (metric) lag is above zero.
    pub partitions_with_lag: usize,
}

/// The scaler, with the state `excludePersistentLag` needs (the committed offsets seen
/// at the previous call).
#[derive(Debug, Clone)]
pub struct KafkaScaler {
    trigger: KafkaTrigger,
    previous_committed: HashMap<usize, i64>,
}

impl KafkaScaler {
    pub fn new(trigger: KafkaTrigger) -> Self {
        Self {
            trigger,
            previous_committed: HashMap::new(),
        }
    }

    pub fn trigger(&self) -> &KafkaTrigger {
        &self.trigger
    }

    /// (lag for the metric, lag for activation) of one partition.
    fn partition_lag(&mut self, index: usize, offsets: Offsets) -> (i64, i64) {
        let t = &self.trigger;
        let Some(committed) = offsets.committed else {
            let lag = match (t.scale_to_zero_on_invalid_offset, t.offset_reset) {
                (true, _) => 0,
                (false, OffsetReset::Latest) => 1,
                (false, OffsetReset::Earliest) => offsets.end,
            };
            return (lag, lag);
        };
        // A committed offset past the end cannot happen on a healthy broker; count 0.
        let lag = (offsets.end - committed).max(0);
        if t.exclude_persistent_lag {
            let previous = self.previous_committed.insert(index, committed);
            if previous == Some(committed) {
                return (0, lag);
            }
        }
        (lag, lag)
    }

    /// One scaler call over the topic's partitions (in partition order).
    pub fn read(&mut self, partitions: &[Offsets]) -> Reading {
        let mut total = 0i64;
        let mut total_with_persistent = 0i64;
        let mut with_lag = 0usize;
        for (index, offsets) in partitions.iter().enumerate() {
            let (lag, lag_with_persistent) = self.partition_lag(index, *offsets);
            total += lag;
            total_with_persistent += lag_with_persistent;
            if lag > 0 {
                with_lag += 1;
            }
        }
        let t = &self.trigger;
        let capped = !t.allow_idle_consumers
            || t.limit_to_partitions_with_lag
            || t.ensure_even_distribution_of_partitions;
        if capped {
            let upper = if t.limit_to_partitions_with_lag {
                with_lag
            } else {
                partitions.len()
            } as i64;
            if total / t.lag_threshold > upper {
                total = upper * t.lag_threshold;
            }
        }
        Reading {
            metric: total,
            active: total_with_persistent > t.activation_lag_threshold,
            total_lag: total_with_persistent,
            partitions_with_lag: with_lag,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(threshold: i64) -> KafkaTrigger {
        KafkaTrigger {
            lag_threshold: threshold,
            ..KafkaTrigger::default()
        }
    }

    fn lags(lags: &[i64]) -> Vec<Offsets> {
        lags.iter()
            .map(|&l| Offsets {
                end: 100 + l,
                committed: Some(100),
            })
            .collect()
    }

    #[test]
    fn metric_is_summed_lag() {
        let r = KafkaScaler::new(trigger(5)).read(&lags(&[1, 2, 0]));
        assert_eq!(
            (r.metric, r.active, r.total_lag, r.partitions_with_lag),
            (3, true, 3, 2)
        );
    }

    #[test]
    fn cap_uses_integer_division() {
        // P = 3, T = 5: 16..19 are not capped (16/5 = 3, not > 3); 20 is capped to 15.
        let mut s = KafkaScaler::new(trigger(5));
        assert_eq!(s.read(&lags(&[16, 0, 0])).metric, 16);
        assert_eq!(s.read(&lags(&[19, 0, 0])).metric, 19);
        assert_eq!(s.read(&lags(&[20, 0, 0])).metric, 15);
        let r = s.read(&lags(&[100, 100, 100]));
        assert_eq!(
            (r.metric, r.total_lag),
            (15, 300),
            "capped metric, uncapped total"
        );
    }

    #[test]
    fn allow_idle_consumers_lifts_the_cap_and_limit_to_partitions_with_lag_tightens_it() {
        let mut idle = KafkaScaler::new(KafkaTrigger {
            allow_idle_consumers: true,
            ..trigger(5)
        });
        assert_eq!(idle.read(&lags(&[100, 0, 0])).metric, 100);
        let mut limited = KafkaScaler::new(KafkaTrigger {
            limit_to_partitions_with_lag: true,
            ..trigger(5)
        });
        assert_eq!(
            limited.read(&lags(&[100, 0, 0])).metric,
            5,
            "1 partition with lag -> cap 1 x 5"
        );
        let mut both = KafkaScaler::new(KafkaTrigger {
            allow_idle_consumers: true,
            limit_to_partitions_with_lag: true,
            ..trigger(5)
        });
        assert_eq!(
            both.read(&lags(&[100, 3, 0])).metric,
            10,
            "limitToPartitionsWithLag caps even with idle consumers allowed"
        );
    }

    #[test]
    fn invalid_offsets_follow_reset_policy() {
        let never = [
            Offsets {
                end: 40,
                committed: None,
            },
            Offsets {
                end: 7,
                committed: None,
            },
        ];
        let latest = KafkaScaler::new(trigger(5)).read(&never);
        assert_eq!(
            (latest.metric, latest.active),
            (2, true),
            "latest: 1 per partition, never scales to 0"
        );
        let earliest = KafkaScaler::new(KafkaTrigger {
            offset_reset: OffsetReset::Earliest,
            ..trigger(100)
        })
        .read(&never);
        assert_eq!(earliest.metric, 47, "earliest: the whole log");
        for reset in [OffsetReset::Latest, OffsetReset::Earliest] {
            let t = KafkaTrigger {
                offset_reset: reset,
                scale_to_zero_on_invalid_offset: true,
                ..trigger(5)
            };
            let r = KafkaScaler::new(t).read(&never);
            assert_eq!(
                (r.metric, r.active),
                (0, false),
                "{reset:?} with scaleToZeroOnInvalidOffset"
            );
        }
    }

    #[test]
    fn activation_is_strictly_greater() {
        let t = KafkaTrigger {
            activation_lag_threshold: 3,
            ..trigger(5)
        };
        let mut s = KafkaScaler::new(t);
        assert!(!s.read(&lags(&[3])).active);
        assert!(s.read(&lags(&[4])).active);
        assert!(
            !KafkaScaler::new(trigger(5)).read(&lags(&[0, 0])).active,
            "zero lag is inactive at threshold 0"
        );
    }

    #[test]
    fn persistent_lag_is_excluded_from_the_metric_but_not_from_activation() {
        let t = KafkaTrigger {
            exclude_persistent_lag: true,
            ..trigger(5)
        };
        let mut s = KafkaScaler::new(t);
        let stuck = lags(&[8, 2]);
        let first = s.read(&stuck);
        assert_eq!(first.metric, 10, "first call: nothing to compare with");
        let second = s.read(&stuck);
        assert_eq!(
            (second.metric, second.active, second.partitions_with_lag),
            (0, true, 0)
        );
        let moved = [
            Offsets {
                end: 108,
                committed: Some(101),
            },
            Offsets {
                end: 102,
                committed: Some(100),
            },
        ];
        assert_eq!(
            s.read(&moved).metric,
            7,
            "partition 0 moved on; partition 1 still stuck"
        );
    }

    #[test]
    fn negative_lag_counts_as_zero() {
        let r = KafkaScaler::new(trigger(5)).read(&[Offsets {
            end: 5,
            committed: Some(9),
        }]);
        assert_eq!((r.metric, r.active), (0, false));
    }
}
