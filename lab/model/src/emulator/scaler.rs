//! KEDA's Kafka scaler: from per-partition offsets to one metric and "active"
//! (pkg/scalers/kafka_scaler.go getTotalLag and getLagForPartition; apache_kafka_scaler.go
//! has the same maths).
//!
//! Per partition, lag = log-end offset - committed offset, NOT clamped: a stale end read
//! can make it negative, and then it lowers the total. A partition the group never
//! committed counts 1 (`latest`) or its whole log (`earliest`), or 0 with
//! `scaleToZeroOnInvalidOffset`. `partitionLimitation` keeps only the listed partitions.
//! With `ensureEvenDistributionOfPartitions` the total becomes the smallest factor f of
//! the partition count with f x threshold >= lag, times the threshold. Unless idle
//! consumers are allowed, the total is then capped at partitions x lagThreshold, testing
//! `total / threshold > partitions` with INTEGER division, so the cap only bites from
//! (partitions + 1) x threshold. The HPA sees the total as a quantity, which KEDA floors
//! at 0 (scaler.go GenerateMetricInMili, quantityFromFloat64). "Active" compares the
//! unclamped, uncapped lag (persistent lag included) with activationLagThreshold, strictly.

use std::collections::HashMap;

use serde::Serialize;

use super::spec::{KafkaTrigger, OffsetReset};

/// One partition's offsets as KEDA reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Offsets {
    /// The partition id.
    pub partition: i32,
    /// Log-end offset (high watermark).
    pub end: i64,
    /// The group's committed offset; `None` when it never committed.
    pub committed: Option<i64>,
}

impl Offsets {
    /// Offsets of partitions 0, 1, 2, ... in that order.
    pub fn numbered(pairs: impl IntoIterator<Item = (i64, Option<i64>)>) -> Vec<Offsets> {
        pairs
            .into_iter()
            .enumerate()
            .map(|(p, (end, committed))| Offsets {
                partition: p as i32,
                end,
                committed,
            })
            .collect()
    }
}

/// What one scaler call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The metric handed to the HPA (persistent lag excluded, evened, capped, floored at 0).
    pub metric: i64,
    /// Whether the trigger is active (KEDA scales 0 -> 1 and resets the cooldown).
    pub active: bool,
    /// Lag summed over the partitions counted, uncapped, persistent lag included.
    pub total_lag: i64,
    /// Partitions counted (after partitionLimitation).
    pub partitions: usize,
    /// Partitions whose (metric) lag is above zero.
    pub partitions_with_lag: usize,
    /// The cap applied, if any: partitions (or partitions with lag) x lagThreshold.
    pub cap: Option<i64>,
}

/// The scaler, with the state `excludePersistentLag` needs (the committed offsets seen
/// at the previous call, by partition id).
#[derive(Debug, Clone)]
pub struct KafkaScaler {
    trigger: KafkaTrigger,
    previous_committed: HashMap<i32, i64>,
}

impl KafkaScaler {
    pub fn new(trigger: KafkaTrigger) -> Self {
        Self {
            trigger,
            previous_committed: HashMap::new(),
        }
    }

    /// Forgets the committed offsets it remembers (`excludePersistentLag`'s memory): its
    /// next reading is a fresh scaler's.
    pub fn forget(&mut self) {
        self.previous_committed.clear();
    }

    pub fn trigger(&self) -> &KafkaTrigger {
        &self.trigger
    }

    /// (lag for the metric, lag for activation) of one partition (getLagForPartition).
    fn partition_lag(&mut self, offsets: Offsets) -> (i64, i64) {
        let t = &self.trigger;
        let Some(committed) = offsets.committed else {
            let lag = match (t.scale_to_zero_on_invalid_offset, t.offset_reset) {
                (true, _) => 0,
                (false, OffsetReset::Latest) => 1,
                (false, OffsetReset::Earliest) => offsets.end,
            };
            return (lag, lag);
        };
        let lag = offsets.end - committed;
        if t.exclude_persistent_lag {
            let previous = self.previous_committed.insert(offsets.partition, committed);
            if previous == Some(committed) {
                return (0, lag);
            }
        }
        (lag, lag)
    }

    /// One scaler call over the topic's partitions.
    pub fn read(&mut self, partitions: &[Offsets]) -> Reading {
        let mut total = 0i64;
        let mut total_with_persistent = 0i64;
        let mut with_lag = 0usize;
        let mut counted = 0usize;
        for offsets in partitions {
            let limited = self.trigger.partition_limitation.as_ref();
            if limited.is_some_and(|ids| !ids.contains(&offsets.partition)) {
                continue;
            }
            counted += 1;
            let (lag, lag_with_persistent) = self.partition_lag(*offsets);
            total += lag;
            total_with_persistent += lag_with_persistent;
            if lag > 0 {
                with_lag += 1;
            }
        }
        let t = &self.trigger;
        let threshold = t.lag_threshold;
        let partition_count = counted as i64;
        let mut cap = None;
        if !t.allow_idle_consumers
            || t.limit_to_partitions_with_lag
            || t.ensure_even_distribution_of_partitions
        {
            if t.ensure_even_distribution_of_partitions {
                total = next_factor(total, partition_count, threshold) * threshold;
            }
            let upper = if t.limit_to_partitions_with_lag {
                with_lag as i64
            } else {
                partition_count
            };
            if total / threshold > upper {
                total = upper * threshold;
                cap = Some(total);
            }
        }
        Reading {
            metric: total.max(0),
            active: total_with_persistent > t.activation_lag_threshold,
            total_lag: total_with_persistent,
            partitions: counted,
            partitions_with_lag: with_lag,
            cap,
        }
    }
}

/// getNextFactorThatBalancesConsumersToTopicPartitions: the smallest factor f of
/// `partitions` with f x threshold >= lag, else `partitions`.
fn next_factor(lag: i64, partitions: i64, threshold: i64) -> i64 {
    (1..=partitions)
        .filter(|f| partitions % f == 0)
        .find(|f| f * threshold >= lag)
        .unwrap_or(partitions)
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
        Offsets::numbered(lags.iter().map(|&l| (100 + l, Some(100))))
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
            (r.metric, r.total_lag, r.cap),
            (15, 300, Some(15)),
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
    }

    /// kafka_scaler.go getTotalLag with ensureEvenDistributionOfPartitions: the metric is
    /// rounded up to a factor of the partition count (10 partitions: 1, 2, 5, 10).
    #[test]
    fn even_distribution_rounds_up_to_a_factor_of_the_partition_count() {
        let mut s = KafkaScaler::new(KafkaTrigger {
            ensure_even_distribution_of_partitions: true,
            ..trigger(5)
        });
        let ten = |lag: i64| {
            let mut l = vec![0; 10];
            l[0] = lag;
            lags(&l)
        };
        assert_eq!(
            s.read(&ten(11)).metric,
            25,
            "3 replicas' worth -> 5 (factor of 10)"
        );
        assert_eq!(s.read(&ten(10)).metric, 10, "2 is a factor");
        assert_eq!(
            s.read(&ten(0)).metric,
            5,
            "even 0 becomes the smallest factor, 1"
        );
        assert_eq!(s.read(&ten(1000)).metric, 50, "then the partition cap");
    }

    #[test]
    fn invalid_offsets_follow_reset_policy() {
        let never = Offsets::numbered([(40, None), (7, None)]);
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
        let moved = Offsets::numbered([(108, Some(101)), (102, Some(100))]);
        assert_eq!(
            s.read(&moved).metric,
            7,
            "partition 0 moved on; partition 1 still stuck"
        );
    }

    /// getLagForPartition returns latestOffset - consumerOffset unclamped; the total goes
    /// to the HPA through quantityFromFloat64, which floors it at 0.
    #[test]
    fn negative_lag_lowers_the_total_and_the_metric_is_floored_at_zero() {
        let r =
            KafkaScaler::new(trigger(5)).read(&Offsets::numbered([(5, Some(9)), (10, Some(7))]));
        assert_eq!(
            (r.total_lag, r.metric, r.active),
            (-1, 0, false),
            "-4 + 3: the negative partition cancels the other's lag"
        );
        let r =
            KafkaScaler::new(trigger(5)).read(&Offsets::numbered([(5, Some(6)), (20, Some(7))]));
        assert_eq!((r.total_lag, r.metric), (12, 12));
    }

    #[test]
    fn partition_limitation_counts_only_the_listed_partition_ids() {
        let mut s = KafkaScaler::new(KafkaTrigger {
            partition_limitation: Some(vec![1, 3]),
            ..trigger(5)
        });
        let r = s.read(&lags(&[100, 2, 100, 3]));
        assert_eq!((r.total_lag, r.partitions, r.metric), (5, 2, 5));
    }
}
