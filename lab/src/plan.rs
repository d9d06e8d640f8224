//! `lab plan`: replays a recorded lag trace through the emulator.
//!
//! Trace: JSON lines `{"t": seconds, "partitions": [{"end": N, "committed": N|null}]}`,
//! sampled whenever something changes; each evaluation uses the latest sample at or
//! before it (none yet: no partitions, so no lag). Evaluations start at t=0, KEDA first
//! on ties, and repeat every pollingInterval and every 15 s up to the last sample's t
//! (or `--until`). Output: one JSON line per evaluation.

use std::io::Write;
use std::path::Path;

use serde::Deserialize;
use serde_json::json;

use crate::emulator::{Autoscaler, Offsets, ScalingSpec};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSample {
    pub t: f64,
    pub partitions: Vec<TracePartition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracePartition {
    pub end: i64,
    pub committed: Option<i64>,
}

/// Reads and checks a trace file.
pub fn read_trace(path: &Path) -> anyhow::Result<Vec<TraceSample>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    parse_trace(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn parse_trace(text: &str) -> anyhow::Result<Vec<TraceSample>> {
    let mut samples: Vec<TraceSample> = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let n = i + 1;
        let sample: TraceSample =
            serde_json::from_str(line).map_err(|e| anyhow::anyhow!("line {n}: {e}"))?;
        anyhow::ensure!(
            sample.t.is_finite() && sample.t >= 0.0,
            "line {n}: t must be a number >= 0"
        );
        if let Some(previous) = samples.last() {
            anyhow::ensure!(
                sample.t >= previous.t,
                "line {n}: t={} goes back in time (previous {})",
                sample.t,
                previous.t
            );
        }
        for (p, partition) in sample.partitions.iter().enumerate() {
            anyhow::ensure!(
                partition.end >= 0,
                "line {n}: partitions[{p}].end is negative"
            );
        }
        samples.push(sample);
    }
    anyhow::ensure!(!samples.is_empty(), "the trace has no samples");
    Ok(samples)
}

/// Writes one JSON line per evaluation to `out`.
pub fn run(
    spec: ScalingSpec,
    samples: &[TraceSample],
    replicas: u32,
    until: Option<f64>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let last = until.unwrap_or_else(|| samples.last().map_or(0.0, |s| s.t));
    anyhow::ensure!(
        last.is_finite() && last >= 0.0,
        "--until must be a number >= 0"
    );
    let last_ms = (last * 1000.0).round() as u64;
    let mut autoscaler = Autoscaler::new(spec, replicas);
    while autoscaler.next_due() <= last_ms {
        let now = autoscaler.next_due();
        let offsets: Vec<Offsets> = samples
            .iter()
            .take_while(|s| (s.t * 1000.0).round() as u64 <= now)
            .last()
            .map(|s| {
                s.partitions
                    .iter()
                    .map(|p| Offsets {
                        end: p.end,
                        committed: p.committed,
                    })
                    .collect()
            })
            .unwrap_or_default();
        for d in autoscaler.evaluate(now, &offsets) {
            let t = if d.at % 1000 == 0 {
                json!(d.at / 1000)
            } else {
                json!(d.at as f64 / 1000.0)
            };
            let line = json!({ "t": t, "by": d.by, "metric": d.metric, "active": d.active, "desired": d.desired, "replicas": d.replicas });
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}
