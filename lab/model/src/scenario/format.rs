//! The scenario file format (TOML or YAML): every field with its unit and default.
//! Unknown fields are refused, naming the field.

use anyhow::Context as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::emulator::{Millis, ScalerError};

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

pub(super) fn one() -> u32 {
    1
}

pub(super) fn default_scaled_object() -> PathBuf {
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
    /// What a replica's pod uses, for cpu and memory triggers (`lab simulate` only).
    #[serde(default)]
    pub usage: Usage,
    /// Events a ScaledJob's Job takes before it exits (a scenario whose ScaledObject file
    /// holds a ScaledJob; `lab simulate` only).
    #[serde(default)]
    pub job_events: Option<u64>,
}

/// A replica pod's CPU and memory in `lab simulate`'s model: CPU from the events it
/// processes, memory from the events waiting in its partitions (what its consumer
/// prefetches). metrics-server reads them every 15 s ([`crate::emulator::pipeline`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// CPU while it processes an event, millicores (default 1000: `processing_ms` is CPU
    /// work on one core).
    #[serde(default = "cpu_busy")]
    pub cpu_busy_millicores: u64,
    /// CPU while idle (the Kafka client's threads), millicores (default 2).
    #[serde(default = "cpu_idle")]
    pub cpu_idle_millicores: u64,
    /// Working set of an idle replica, MiB (default 12).
    #[serde(default = "memory_base")]
    pub memory_base_mib: u64,
    /// Working set per event waiting in its partitions, bytes (default 512), up to the
    /// consumer's prefetch bound (`queued.max.messages.kbytes`, consumer PREFETCH_KIB:
    /// 2 MiB).
    #[serde(default = "memory_per_event")]
    pub memory_per_event_bytes: u64,
}

impl Default for Usage {
    fn default() -> Self {
        Self {
            cpu_busy_millicores: cpu_busy(),
            cpu_idle_millicores: cpu_idle(),
            memory_base_mib: memory_base(),
            memory_per_event_bytes: memory_per_event(),
        }
    }
}

fn cpu_busy() -> u64 {
    1000
}
fn cpu_idle() -> u64 {
    2
}
fn memory_base() -> u64 {
    12
}
fn memory_per_event() -> u64 {
    512
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

pub(super) fn session() -> u64 {
    6000
}
pub(super) fn pod_start() -> u64 {
    2000
}
pub(super) fn rebalance_round() -> u64 {
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
    /// The value each value trigger (prometheus, metrics-api, kubernetes-workload,
    /// kubernetes-resource) reads during this phase, by trigger name (or index).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub trigger_values: std::collections::BTreeMap<String, f64>,
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

/// How a scenario file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

impl Format {
    /// The format a file's extension names (`.toml`, `.yaml`, `.yml`).
    pub fn of(path: &Path) -> Option<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Some(Format::Toml),
            Some("yaml" | "yml") => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// Reads a scenario file, by its extension (`.toml`, `.yaml`, `.yml`), and checks it.
pub(super) fn from_file(path: &Path) -> anyhow::Result<Scenario> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!(
            "unknown scenario {:?}: not published, quick, original, diurnal, or a readable file ({e})",
            path.display().to_string()
        )
    })?;
    let Some(format) = Format::of(path) else {
        anyhow::bail!(
            "{}: a scenario file ends in .toml, .yaml or .yml",
            path.display()
        );
    };
    Scenario::parse(&text, format).with_context(|| format!("{}", path.display()))
}

impl Scenario {
    /// A scenario from its text, checked ([`Scenario::validate`]): the first problem,
    /// named by its field, or the scenario.
    pub fn parse(text: &str, format: Format) -> anyhow::Result<Self> {
        let scenario: Scenario = match format {
            Format::Toml => toml::from_str(text)
                .map_err(|e| anyhow::anyhow!("{}", crate::line::toml_error(text, &e)))?,
            Format::Yaml => serde_yaml_ng::from_str(text)
                .map_err(|e| anyhow::anyhow!("{}", crate::line::one_line(&e.to_string())))?,
        };
        scenario.validate()?;
        Ok(scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
