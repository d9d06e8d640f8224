//! The built-in scenarios: `published` (the write-up's run on the manifests' topic),
//! `quick` (the same run, each phase shortened, for a replay of a few minutes),
//! `original` (the original manifests' 3-partition topic) and `diurnal` (a day of the
//! published workload: 24 hours following a workday's curve).

use super::format::{default_scaled_object, pod_start, rebalance_round, session};
use super::topic::{manifest_partitions, TOPIC_MANIFEST};
use super::{Assignment, ConsumerModel, Phase, Scenario};

impl Scenario {
    /// The published run: on the manifests' topic, 1000 ms, producer deleted, 100 ms,
    /// then 10 s.
    pub fn published() -> anyhow::Result<Self> {
        let partitions = manifest_partitions(TOPIC_MANIFEST, "k8s/kafka/topic.yaml")?;
        Ok(Self {
            name: "published".into(),
            description: format!(
                "The published run on the manifests' {partitions}-partition topic. The consumer takes \
                 {PUBLISHED_PROCESSING_MS} ms per event and commits every {PUBLISHED_COMMIT_MS} ms: \
                 the settings under which {partitions} partitions give 3 replicas at a 100 ms period."
            ),
            partitions,
            start_replicas: 1,
            scaled_object: default_scaled_object(),
            consumer: ConsumerModel {
                usage: Default::default(),
                job_events: None,
                processing_ms: PUBLISHED_PROCESSING_MS,
                commit_interval_ms: PUBLISHED_COMMIT_MS,
                session_timeout_ms: session(),
                pod_start_ms: pod_start(),
                rebalance_round_ms: rebalance_round(),
                assignment: Assignment::default(),
                stuck_partition: None,
            },
            history: None,
            phases: published_phases(),
        })
    }

    /// The original manifests: a 3-partition topic and a consumer that processes
    /// instantly and commits every 5 s (the Java client's default).
    pub fn original() -> Self {
        Self {
            name: "original".into(),
            description: "The original manifests: topic `event` with 3 partitions, a consumer that processes \
                          instantly with the Java client's 5 s auto-commit."
                .into(),
            partitions: 3,
            start_replicas: 1,
            scaled_object: default_scaled_object(),
            consumer: ConsumerModel {
                usage: Default::default(),
                job_events: None,
                processing_ms: 0,
                commit_interval_ms: 5000,
                session_timeout_ms: session(),
                pod_start_ms: pod_start(),
                rebalance_round_ms: rebalance_round(),
                assignment: Assignment::default(),
                stuck_partition: None,
            },
            history: None,
            phases: published_phases(),
        }
    }
}

/// A day's produce rate, events/s, hour by hour from midnight (`None`: the producer is
/// deleted). A stylized workday curve, not fitted to any dataset: a quiet evening
/// declining to a night trough that reaches zero (01:00-05:00, no producer), a morning
/// ramp from 05:00, a noon peak of 20 events/s (what one published consumer processes at
/// 50 ms an event), an afternoon plateau and an evening decline; and a nightly batch job
/// at 02:00 ([`DIURNAL_BATCH`]).
pub const DIURNAL_RATES: [Option<f64>; 24] = [
    Some(2.0),
    None,
    Some(0.0),
    None,
    None,
    Some(0.5),
    Some(2.0),
    Some(5.0),
    Some(10.0),
    Some(14.0),
    Some(16.0),
    Some(18.0),
    Some(20.0),
    Some(18.0),
    Some(16.0),
    Some(15.0),
    Some(14.0),
    Some(12.0),
    Some(10.0),
    Some(8.0),
    Some(6.0),
    Some(5.0),
    Some(4.0),
    Some(3.0),
];

/// The nightly batch job: events produced at once at 02:00 (the hour's only other event
/// is the batch producer's one per hour).
pub const DIURNAL_BATCH: u64 = 20_000;

impl Scenario {
    /// A day of the published workload: 24 one-hour phases whose producer period follows
    /// [`DIURNAL_RATES`], with the nightly batch at 02:00.
    pub fn diurnal() -> anyhow::Result<Self> {
        let mut day = Self::published()?;
        day.name = "diurnal".into();
        day.description = "A day of the published workload: a stylized workday curve (night trough reaching \
             zero at 01:00-05:00, morning ramp, noon peak of 20 events/s, afternoon plateau, evening \
             decline) and a nightly batch of 20000 events at 02:00."
            .into();
        day.phases = DIURNAL_RATES
            .iter()
            .enumerate()
            .map(|(hour, rate)| Phase {
                name: format!("{hour:02}:00"),
                seconds: 3600,
                producer_period_ms: rate.map(|r| match r > 0.0 {
                    true => (1000.0 / r).round() as u64,
                    false => 3_600_000,
                }),
                burst: (hour == 2).then_some(DIURNAL_BATCH),
                ..Phase::default()
            })
            .collect();
        Ok(day)
    }
}

/// How long each published phase lasts in `quick`, seconds (the published run: 120, 150,
/// 240, 240).
pub const QUICK_PHASE_SECONDS: [u64; 4] = [30, 45, 180, 45];

impl Scenario {
    /// The published run, shortened for a replay of a few minutes at 1x (`lab replay
    /// --quick`): the same topic, consumer, ScaledObject and producer periods, in the same
    /// order, each phase cut to [`QUICK_PHASE_SECONDS`]. Nothing is sped up, so the
    /// broker's group timing (joins, rebalances, session timeouts), pod starts and KEDA's
    /// and the HPA's clocks keep their proportions to the workload; only less of each phase
    /// is seen.
    pub fn quick() -> anyhow::Result<Self> {
        let mut quick = Self::published()?;
        quick.name = "quick".into();
        quick.description = format!(
            "The published run shortened to {} s: the same topic, consumer, ScaledObject and producer \
             periods, each phase cut to the time KEDA's 30 s polls, its 30 s cooldown and the HPA's 30 s \
             scale-down window need to show the phase's count; nothing is sped up.",
            QUICK_PHASE_SECONDS.iter().sum::<u64>()
        );
        for (phase, seconds) in quick.phases.iter_mut().zip(QUICK_PHASE_SECONDS) {
            phase.seconds = seconds;
        }
        Ok(quick)
    }
}

/// Consumer settings of the `published` scenario (see `docs/lab.md` for how they were
/// chosen).
pub const PUBLISHED_PROCESSING_MS: u64 = 50;
pub const PUBLISHED_COMMIT_MS: u64 = 2070;

fn published_phases() -> Vec<Phase> {
    vec![
        Phase {
            name: "period 1000 ms".into(),
            seconds: 120,
            producer_period_ms: Some(1000),
            published: Some(1),
            ..Phase::default()
        },
        Phase {
            name: "producer deleted".into(),
            seconds: 150,
            producer_period_ms: None,
            published: Some(0),
            ..Phase::default()
        },
        Phase {
            name: "period 100 ms".into(),
            seconds: 240,
            producer_period_ms: Some(100),
            published: Some(3),
            ..Phase::default()
        },
        Phase {
            name: "period 10 s".into(),
            seconds: 240,
            producer_period_ms: Some(10_000),
            published: Some(1),
            ..Phase::default()
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_load() {
        let published = Scenario::load("published").unwrap();
        assert_eq!(published.partitions, 10, "from k8s/kafka/topic.yaml");
        assert_eq!(
            published
                .phases
                .iter()
                .map(|p| p.published)
                .collect::<Vec<_>>(),
            [Some(1), Some(0), Some(3), Some(1)]
        );
        assert!(published.seconds() < 15 * 60, "real time under 15 minutes");
        // quick: the published run with shorter phases, nothing else changed.
        let quick = Scenario::load("quick").unwrap();
        let mut shortened = published.clone();
        for (phase, seconds) in shortened.phases.iter_mut().zip(QUICK_PHASE_SECONDS) {
            phase.seconds = seconds;
        }
        assert_eq!(
            (&quick.phases, &quick.consumer, quick.partitions),
            (&shortened.phases, &published.consumer, published.partitions)
        );
        assert_eq!(
            (&quick.scaled_object, quick.start_replicas),
            (&published.scaled_object, published.start_replicas)
        );
        assert_eq!(quick.seconds(), 300);
        let original = Scenario::load("original").unwrap();
        assert_eq!(
            (original.partitions, original.consumer.commit_interval_ms),
            (3, 5000)
        );
    }
}
