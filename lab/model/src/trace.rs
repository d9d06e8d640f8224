//! The lag trace: JSON lines of every partition's end and committed offsets over time, as
//! `lab lag --record` writes them on a cluster, `lab simulate` and `lab replay` write them
//! beside their timelines (`trace.jsonl`, with the replicas running), `lab plan` replays
//! them through the emulator and `lab tune --trace` fits a workload to them.
//!
//! A line: `{"t": seconds, "partitions": [{"partition": id, "end": N, "committed":
//! N|null}, ...], "total_lag": N, "replicas": N}` (`partition` defaults to the entry's
//! index; `total_lag` and `replicas` are optional), or an error a scaler got from then on,
//! `{"t": 60, "error": "broker unreachable"}`. For a ScaledObject with more triggers a
//! line may also give the others' readings, `"triggers": {"prom": {"value": 42}}`, and
//! the target's pods as metrics-server serves them, `"pods": [{"cpu_millicores": 120,
//! "memory_bytes": 41943040}]`.

use anyhow::Context as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::emulator::{Offsets, ScalerError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSample {
    pub t: f64,
    /// Every partition's offsets (absent from an error sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<Vec<TracePartition>>,
    /// Lag summed as KEDA computes it, when the recorder knew it (informational: plan
    /// computes its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_lag: Option<i64>,
    /// The error a scaler gets from `t` on, instead of offsets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The consumer replicas running at `t`, when the recorder knew them (`lab tune
    /// --trace` needs them to fit a replica's throughput; `lab plan` ignores them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// What the ScaledObject's other triggers read from `t` on, by trigger name (or
    /// index): partitions (another Kafka trigger), a value (prometheus, metrics-api,
    /// kubernetes-workload, kubernetes-resource) or an error (`lab plan`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub triggers: std::collections::BTreeMap<String, TraceTrigger>,
    /// The target's pods as metrics-server serves them from `t` on, for cpu and memory
    /// triggers (`lab plan` gives entry i to the emulated target's pod i).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<TracePod>,
}

/// One other trigger's reading in a trace sample: exactly one of its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceTrigger {
    /// Another Kafka trigger's partitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<Vec<TracePartition>>,
    /// A value trigger's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The error its scaler gets (`metric unavailable`, `broker unreachable`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One pod as metrics-server serves it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracePod {
    /// CPU over metrics-server's last window, millicores (absent: no reading yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_millicores: Option<i64>,
    /// Working set, bytes (absent: no reading yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracePartition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    pub end: i64,
    pub committed: Option<i64>,
}

impl TraceSample {
    /// The offsets this sample records (partition ids defaulting to positions).
    pub fn offsets(&self) -> Vec<Offsets> {
        self.partitions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, p)| Offsets {
                partition: p.partition.unwrap_or(i as i32),
                end: p.end,
                committed: p.committed,
            })
            .collect()
    }

    /// A sample of `offsets` at `t` seconds.
    pub fn of(t: f64, offsets: &[Offsets], total_lag: Option<i64>) -> Self {
        Self {
            t,
            partitions: Some(
                offsets
                    .iter()
                    .map(|o| TracePartition {
                        partition: Some(o.partition),
                        end: o.end,
                        committed: o.committed,
                    })
                    .collect(),
            ),
            total_lag,
            error: None,
            replicas: None,
            triggers: Default::default(),
            pods: Vec::new(),
        }
    }

    /// A sample of a scaler error at `t` seconds.
    pub fn failed(t: f64, error: ScalerError) -> Self {
        Self {
            t,
            partitions: None,
            total_lag: None,
            error: Some(error.as_str().to_owned()),
            replicas: None,
            triggers: Default::default(),
            pods: Vec::new(),
        }
    }
}

/// The latest time a trace may reach, s: a year of samples (a recording longer than that
/// is a mistake, and replaying it stays bounded).
pub const LAST_T_S: f64 = 365.0 * 86_400.0;

/// Reads and checks a trace file.
pub fn read_trace(path: &Path) -> anyhow::Result<Vec<TraceSample>> {
    let mut samples = Vec::new();
    each_sample(path, |_, sample| {
        samples.push(sample);
        Ok(())
    })?;
    Ok(samples)
}

/// Reads and checks a trace file line by line, handing each sample (with its line
/// number) to `take`: a day of samples with many partitions is never in memory at once.
/// Returns how many samples there were.
pub fn each_sample(
    path: &Path,
    mut take: impl FnMut(usize, TraceSample) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    use std::io::BufRead as _;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut checker = Checker::default();
    let mut line = String::new();
    let mut reader = std::io::BufReader::new(file);
    for n in 1.. {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .with_context(|| format!("{}: line {n}: cannot read", path.display()))?;
        if read == 0 {
            break;
        }
        if let Some(sample) = checker
            .line(n, &line)
            .with_context(|| path.display().to_string())?
        {
            take(n, sample).with_context(|| path.display().to_string())?;
        }
    }
    anyhow::ensure!(
        checker.samples > 0,
        "{}: the trace has no samples",
        path.display()
    );
    Ok(checker.samples)
}

pub fn parse_trace(text: &str) -> anyhow::Result<Vec<TraceSample>> {
    let mut checker = Checker::default();
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate() {
        samples.extend(checker.line(i + 1, line)?);
    }
    anyhow::ensure!(!samples.is_empty(), "the trace has no samples");
    Ok(samples)
}

/// Checks trace lines one at a time, in order.
#[derive(Default)]
struct Checker {
    previous_t: Option<f64>,
    samples: usize,
}

impl Checker {
    /// Line `n`'s sample (none for a blank line), or what is wrong with it.
    fn line(&mut self, n: usize, line: &str) -> anyhow::Result<Option<TraceSample>> {
        if line.trim().is_empty() {
            return Ok(None);
        }
        let sample: TraceSample = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("line {n}: {}", crate::line::one_line(&e.to_string())))?;
        anyhow::ensure!(
            sample.t.is_finite() && (0.0..=LAST_T_S).contains(&sample.t),
            "line {n}: t must be a number of seconds from 0 to {LAST_T_S} (a year)"
        );
        if let Some(previous) = self.previous_t {
            anyhow::ensure!(
                sample.t >= previous,
                "line {n}: t={} goes back in time (previous {previous})",
                sample.t,
            );
        }
        match &sample.error {
            Some(error) => {
                anyhow::ensure!(
                    sample.partitions.is_none() && sample.total_lag.is_none(),
                    "line {n}: an error sample carries no partitions or total_lag (the scaler read nothing)"
                );
                ScalerError::parse(error).map_err(|e| {
                    anyhow::anyhow!("line {n}: error: {}", crate::line::one_line(&e.to_string()))
                })?;
            }
            None => anyhow::ensure!(
                sample.partitions.is_some(),
                "line {n}: missing field `partitions` (or `error`, for a sample where the scaler failed)"
            ),
        }
        check_triggers(n, &sample)?;
        let mut ids = std::collections::HashSet::new();
        for (p, partition) in sample.offsets().iter().enumerate() {
            anyhow::ensure!(
                partition.end >= 0,
                "line {n}: partitions[{p}].end is negative"
            );
            anyhow::ensure!(
                partition.partition >= 0 && ids.insert(partition.partition),
                "line {n}: partitions[{p}]: partition id {} is negative or repeated",
                partition.partition
            );
        }
        self.previous_t = Some(sample.t);
        self.samples += 1;
        Ok(Some(sample))
    }
}

/// Each of a sample's other triggers has exactly one reading, and an error is one the
/// emulator knows.
fn check_triggers(n: usize, sample: &TraceSample) -> anyhow::Result<()> {
    for (key, t) in &sample.triggers {
        let given = usize::from(t.partitions.is_some())
            + usize::from(t.value.is_some())
            + usize::from(t.error.is_some());
        anyhow::ensure!(
            given == 1,
            "line {n}: triggers.{key}: give exactly one of partitions, value, error"
        );
        if let Some(e) = &t.error {
            ScalerError::parse(e).map_err(|e| {
                anyhow::anyhow!(
                    "line {n}: triggers.{key}.error: {}",
                    crate::line::one_line(&e)
                )
            })?;
        }
        if let Some(v) = t.value {
            anyhow::ensure!(
                v.is_finite(),
                "line {n}: triggers.{key}.value is not a number"
            );
        }
    }
    Ok(())
}
