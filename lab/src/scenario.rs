//! Scenarios: what the producer does phase by phase, how the consumer behaves, and which
//! ScaledObject scales it. Built in: `published` and `original`; or a TOML/YAML file.

use anyhow::Context as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::emulator::{Millis, ScalerError};

/// The repository's manifests, which the built-in scenarios read.
pub fn repo_root() -> PathBuf {
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if compiled.join("k8s").is_dir() {
        compiled
    } else {
        PathBuf::from(".")
    }
}

/// One replay of the experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// One paragraph saying what this scenario shows.
    #[serde(default)]
    pub description: String,
    /// Partitions of the topic.
    pub partitions: u32,
    /// Consumer replicas before the first phase (the Deployment's `replicas`).
    #[serde(default = "one")]
    pub start_replicas: u32,
    /// The ScaledObject manifest (relative paths are from the repository root).
    #[serde(default = "default_scaled_object")]
    pub scaled_object: PathBuf,
    pub consumer: ConsumerModel,
    /// What the topic held before this consumer group existed (`lab simulate` only).
    #[serde(default)]
    pub history: Option<History>,
    pub phases: Vec<Phase>,
}

/// A topic older than its consumer group: events in every partition, the oldest deleted
/// by retention, and no offset committed by the group anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct History {
    /// Events written to each partition before the run (its log-end offset at the start).
    pub events: u64,
    /// Of those, how many retention has kept (the newest): the log-start offset is
    /// `events - retained`. A new consumer starting from `earliest` reads only these.
    pub retained: u64,
}

/// A stretch of scenario time, ms: from `start` (included) to `end` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: Millis,
    pub end: Millis,
}

impl Span {
    pub fn contains(&self, t: Millis) -> bool {
        (self.start..self.end).contains(&t)
    }
}

fn one() -> u32 {
    1
}

fn default_scaled_object() -> PathBuf {
    PathBuf::from("k8s/keda/scaled-object.yaml")
}

/// How a consumer replica behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerModel {
    /// Simulated work per event (`processing.time`), ms.
    pub processing_ms: u64,
    /// Offset commit interval (`kafka.commit.interval`), ms.
    pub commit_interval_ms: u64,
    /// Group session timeout (`kafka.session.timeout`), ms.
    #[serde(default = "session")]
    pub session_timeout_ms: u64,
    /// From a replica being asked for to its consumer starting, ms: each new replica
    /// waits a random 0.5x..1.5x of this (pods do not start in lockstep).
    #[serde(default = "pod_start")]
    pub pod_start_ms: u64,
    /// `lab simulate`: one round of the group protocol, ms (the embedded broker's take
    /// about session timeout - 1 s). A join costs two rounds (cooperative rebalancing),
    /// a leave one; meanwhile the group's commits fail and moving partitions wait.
    #[serde(default = "rebalance_round")]
    pub rebalance_round_ms: u64,
    /// How the group assigns partitions (`partition.assignment.strategy`): the
    /// consumer's cooperative-sticky (default), or eager (`range`): every rebalance
    /// revokes every partition, and the whole group pauses.
    #[serde(default)]
    pub assignment: Assignment,
    /// A partition no replica gets past (a poison record at its head): its committed
    /// offset stops, its lag grows for the whole run.
    #[serde(default)]
    pub stuck_partition: Option<u32>,
}

/// `partition.assignment.strategy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assignment {
    #[default]
    CooperativeSticky,
    Eager,
}

impl Assignment {
    /// The librdkafka strategy.
    pub fn strategy(self) -> &'static str {
        match self {
            Assignment::CooperativeSticky => "cooperative-sticky",
            Assignment::Eager => "range",
        }
    }
}

fn session() -> u64 {
    6000
}
fn pod_start() -> u64 {
    2000
}
fn rebalance_round() -> u64 {
    5000
}

/// One phase of a scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub name: String,
    /// How long the phase lasts, seconds.
    pub seconds: u64,
    /// The producer's period, ms; absent when the producer is deleted.
    #[serde(default)]
    pub producer_period_ms: Option<u64>,
    /// The replica count the published run reported for this phase, if any.
    #[serde(default)]
    pub published: Option<u32>,
    /// The broker taken away during this phase: nothing is produced, consumed or
    /// committed, and KEDA's scaler cannot reach it (`broker unreachable`).
    #[serde(default)]
    pub broker_outage: Option<Window>,
    /// KEDA's scaler failing with this error during this phase while the workload runs on
    /// (`lab simulate` only: `coordinator moving`, `topic not found`, `broker
    /// unreachable`).
    #[serde(default)]
    pub scaler_error: Option<ErrorWindow>,
    /// The share of this phase's events that go to partition 0 (key skew), 0..=1.
    #[serde(default)]
    pub hot_partition_share: Option<f64>,
    /// Partitions the producer writes none of this phase's events to.
    #[serde(default)]
    pub silent_partitions: Vec<u32>,
    /// Events produced at once when the phase starts (`POST /burst`).
    #[serde(default)]
    pub burst: Option<u64>,
}

/// A stretch of a phase: from `after_s` into it, for `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[serde(default)]
    pub after_s: u64,
    pub seconds: u64,
}

/// A stretch of a phase during which KEDA's scaler fails with `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorWindow {
    /// `broker unreachable`, `coordinator moving` or `topic not found`.
    pub error: ScalerError,
    #[serde(default)]
    pub after_s: u64,
    pub seconds: u64,
}

impl Scenario {
    /// A built-in scenario by name, or a scenario file.
    pub fn load(name_or_path: &str) -> anyhow::Result<Self> {
        let scenario = match name_or_path {
            "published" => Self::published()?,
            "original" => Self::original(),
            path => Self::from_file(Path::new(path))?,
        };
        scenario.validate()?;
        Ok(scenario)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "unknown scenario {:?}: not published, original, or a readable file ({e})",
                path.display().to_string()
            )
        })?;
        let scenario = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => toml::from_str(&text).with_context(|| format!("{}", path.display()))?,
            Some("yaml" | "yml") => {
                serde_yaml_ng::from_str(&text).with_context(|| format!("{}", path.display()))?
            }
            _ => anyhow::bail!(
                "{}: a scenario file ends in .toml, .yaml or .yml",
                path.display()
            ),
        };
        Ok(scenario)
    }

    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=1000).contains(&self.partitions),
            "partitions: {} is not 1..=1000",
            self.partitions
        );
        anyhow::ensure!(
            !self.phases.is_empty(),
            "phases: at least one phase is needed"
        );
        anyhow::ensure!(
            self.consumer.commit_interval_ms > 0,
            "consumer.commit_interval_ms must be above 0"
        );
        if let Some(p) = self.consumer.stuck_partition {
            anyhow::ensure!(
                p < self.partitions,
                "consumer.stuck_partition: {p} is no partition of the {}-partition topic",
                self.partitions
            );
        }
        if let Some(h) = self.history {
            anyhow::ensure!(
                h.retained <= h.events,
                "history.retained: {} is more than history.events {}: retention keeps at most what was written",
                h.retained,
                h.events
            );
        }
        for (i, phase) in self.phases.iter().enumerate() {
            self.validate_phase(i, phase)?;
        }
        Ok(())
    }

    fn validate_phase(&self, i: usize, phase: &Phase) -> anyhow::Result<()> {
        anyhow::ensure!(phase.seconds > 0, "phases[{i}].seconds must be above 0");
        if let Some(period) = phase.producer_period_ms {
            anyhow::ensure!(
                (1..=3_600_000).contains(&period),
                "phases[{i}].producer_period_ms: {period} is not 1..=3600000"
            );
        }
        let windows = [
            ("broker_outage", phase.broker_outage),
            (
                "scaler_error",
                phase.scaler_error.as_ref().map(|e| Window {
                    after_s: e.after_s,
                    seconds: e.seconds,
                }),
            ),
        ];
        for (field, window) in windows {
            if let Some(w) = window {
                anyhow::ensure!(
                    w.seconds > 0 && w.after_s + w.seconds <= phase.seconds,
                    "phases[{i}].{field}: after_s {} + seconds {} must lie within the phase's {} s (seconds above 0)",
                    w.after_s,
                    w.seconds,
                    phase.seconds
                );
            }
        }
        if let Some(share) = phase.hot_partition_share {
            anyhow::ensure!(
                (0.0..=1.0).contains(&share),
                "phases[{i}].hot_partition_share: {share} is not a share 0..=1"
            );
        }
        for p in &phase.silent_partitions {
            anyhow::ensure!(
                *p < self.partitions,
                "phases[{i}].silent_partitions: {p} is no partition of the {}-partition topic",
                self.partitions
            );
        }
        anyhow::ensure!(
            (phase.silent_partitions.len() as u32) < self.partitions,
            "phases[{i}].silent_partitions: the producer needs at least one partition to write to"
        );
        if let Some(n) = phase.burst {
            anyhow::ensure!(
                (1..=1_000_000).contains(&n),
                "phases[{i}].burst: {n} is not 1..=1000000 (the producer's POST /burst range)"
            );
            anyhow::ensure!(
                phase.producer_period_ms.is_some(),
                "phases[{i}].burst: a burst is sent by the phase's producer, and this phase has none (set producer_period_ms)"
            );
        }
        Ok(())
    }

    /// When phase `i` starts, ms of scenario time.
    pub fn phase_start(&self, i: usize) -> Millis {
        self.phases[..i].iter().map(|p| p.seconds * 1000).sum()
    }

    /// When the broker is away, in time order.
    pub fn outages(&self) -> Vec<Span> {
        self.windows(|p| p.broker_outage.map(|w| (w, ())))
            .into_iter()
            .map(|(span, ())| span)
            .collect()
    }

    /// When KEDA's scaler fails while the broker serves the workload, and with what.
    pub fn scaler_errors(&self) -> Vec<(Span, ScalerError)> {
        self.windows(|p| {
            p.scaler_error.as_ref().map(|e| {
                (
                    Window {
                        after_s: e.after_s,
                        seconds: e.seconds,
                    },
                    e.error,
                )
            })
        })
    }

    fn windows<T>(&self, window: impl Fn(&Phase) -> Option<(Window, T)>) -> Vec<(Span, T)> {
        self.phases
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let (w, what) = window(p)?;
                let start = self.phase_start(i) + w.after_s * 1000;
                Some((
                    Span {
                        start,
                        end: start + w.seconds * 1000,
                    },
                    what,
                ))
            })
            .collect()
    }

    /// How phase `i`'s producer spreads its events over the partitions.
    pub fn shape(&self, i: usize) -> producer::shape::Shape {
        let p = &self.phases[i];
        producer::shape::Shape {
            partitions: self.partitions as i32,
            hot_share: p.hot_partition_share.unwrap_or(0.0),
            silent: p.silent_partitions.iter().map(|s| *s as i32).collect(),
        }
    }

    /// The ScaledObject path, resolved against the repository root.
    pub fn scaled_object_path(&self) -> PathBuf {
        if self.scaled_object.is_absolute() {
            self.scaled_object.clone()
        } else {
            repo_root().join(&self.scaled_object)
        }
    }

    /// The scenario's ScaledObject, checked; the repository's default is compiled in, so
    /// the built-in scenarios also run where the repository is not.
    pub fn load_scaled_object(&self) -> Result<crate::keda::Loaded, crate::keda::LoadError> {
        let path = self.scaled_object_path();
        if self.scaled_object == default_scaled_object() && !path.exists() {
            return crate::keda::load_text(
                crate::keda::REPOSITORY_SCALED_OBJECT,
                "k8s/keda/scaled-object.yaml (compiled in)",
            );
        }
        crate::keda::load(&path)
    }

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

    /// Total length, seconds.
    pub fn seconds(&self) -> u64 {
        self.phases.iter().map(|p| p.seconds).sum()
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

/// The repository's KafkaTopic manifest, compiled in.
const TOPIC_MANIFEST: &str = include_str!("../../k8s/kafka/topic.yaml");

/// `spec.partitions` of a KafkaTopic manifest (`shown` names it in errors).
pub fn manifest_partitions(text: &str, shown: &str) -> anyhow::Result<u32> {
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).with_context(|| shown.to_string())?;
    let partitions = doc
        .get("spec")
        .and_then(|s| s.get("partitions"))
        .and_then(serde_yaml_ng::Value::as_u64)
        .ok_or_else(|| anyhow::anyhow!("{shown}: no spec.partitions"))?;
    Ok(partitions as u32)
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
        let original = Scenario::load("original").unwrap();
        assert_eq!(
            (original.partitions, original.consumer.commit_interval_ms),
            (3, 5000)
        );
    }

    #[test]
    fn files_and_errors() {
        let dir = std::env::temp_dir().join(format!("scenario-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let toml_path = dir.join("s.toml");
        std::fs::write(
            &toml_path,
            "name = 'mine'\npartitions = 4\n[consumer]\nprocessing_ms = 10\ncommit_interval_ms = 500\n[[phases]]\nname = 'fast'\nseconds = 60\nproducer_period_ms = 50\n",
        )
        .unwrap();
        let s = Scenario::load(toml_path.to_str().unwrap()).unwrap();
        assert_eq!(
            (
                s.partitions,
                s.start_replicas,
                s.phases[0].producer_period_ms
            ),
            (4, 1, Some(50))
        );
        let yaml_path = dir.join("s.yaml");
        std::fs::write(&yaml_path, "name: y\npartitions: 0\nconsumer: {processing_ms: 0, commit_interval_ms: 1}\nphases: [{name: a, seconds: 1}]\n").unwrap();
        assert!(format!(
            "{:#}",
            Scenario::load(yaml_path.to_str().unwrap()).unwrap_err()
        )
        .contains("partitions: 0"));
        std::fs::write(&yaml_path, "name: y\npartitions: 1\nconsumer: {processing_ms: 0, commit_interval_ms: 1, typo: 1}\nphases: []\n").unwrap();
        assert!(format!(
            "{:#}",
            Scenario::load(yaml_path.to_str().unwrap()).unwrap_err()
        )
        .contains("unknown field `typo`"));
        let err = Scenario::load("nope").unwrap_err().to_string();
        assert!(err.starts_with("unknown scenario \"nope\""), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A fault or shape the emulator cannot place is refused with the phase and field.
    #[test]
    fn faults_and_shapes_name_the_field_they_break() {
        let dir = std::env::temp_dir().join(format!("scenario-faults-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.yaml");
        let base =
            "name: f\npartitions: 4\nconsumer: {processing_ms: 0, commit_interval_ms: 1000}\n";
        for (extra, phase, expected) in [
            (
                "",
                "broker_outage: {after_s: 50, seconds: 20}",
                "phases[0].broker_outage: after_s 50 + seconds 20 must lie within the phase's 60 s",
            ),
            (
                "",
                "scaler_error: {error: disk full, seconds: 10}",
                "is no scaler error the emulator knows",
            ),
            (
                "",
                "scaler_error: {error: coordinator moving, seconds: 0}",
                "phases[0].scaler_error: after_s 0 + seconds 0",
            ),
            (
                "",
                "hot_partition_share: 1.5",
                "phases[0].hot_partition_share: 1.5 is not a share 0..=1",
            ),
            (
                "",
                "silent_partitions: [4]",
                "phases[0].silent_partitions: 4 is no partition of the 4-partition topic",
            ),
            (
                "",
                "silent_partitions: [0, 1, 2, 3]",
                "the producer needs at least one partition",
            ),
            ("", "burst: 0", "phases[0].burst: 0 is not 1..=1000000"),
            (
                "history: {events: 10, retained: 11}\n",
                "producer_period_ms: 100",
                "history.retained: 11 is more than history.events 10",
            ),
        ] {
            std::fs::write(
                &path,
                format!("{base}{extra}phases:\n  - name: p\n    seconds: 60\n    {phase}\n"),
            )
            .unwrap();
            let err = format!("{:#}", Scenario::load(path.to_str().unwrap()).unwrap_err());
            assert!(err.contains(expected), "{phase}: {err}");
        }
        std::fs::write(
            &path,
            format!("{base}phases:\n  - {{name: p, seconds: 60, burst: 10}}\n"),
        )
        .unwrap();
        let err = format!("{:#}", Scenario::load(path.to_str().unwrap()).unwrap_err());
        assert!(
            err.contains("phases[0].burst: a burst is sent by the phase's producer"),
            "{err}"
        );
        std::fs::write(&path, format!("{base}consumer_extra: 1\nphases: []\n")).unwrap();
        assert!(Scenario::load(path.to_str().unwrap()).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn windows_and_shapes_land_in_scenario_time() {
        let mut s = Scenario::published().unwrap();
        s.phases[2].broker_outage = Some(Window {
            after_s: 10,
            seconds: 25,
        });
        s.phases[3].scaler_error = Some(ErrorWindow {
            error: ScalerError::TopicNotFound,
            after_s: 0,
            seconds: 5,
        });
        s.phases[1].hot_partition_share = Some(0.5);
        assert_eq!(
            s.outages(),
            [Span {
                start: 280_000,
                end: 305_000
            }]
        );
        assert_eq!(
            s.scaler_errors(),
            [(
                Span {
                    start: 510_000,
                    end: 515_000
                },
                ScalerError::TopicNotFound
            )]
        );
        assert_eq!(s.shape(1).hot_share, 0.5);
        assert!(s.shape(0).is_keyed());
    }
}
