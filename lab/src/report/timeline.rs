//! What a replay or a simulation recorded: one sample per second and every decision.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::emulator::Decision;
use crate::scenario::Scenario;

/// The state of the experiment at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// Scenario time, seconds (wall seconds x speed in a sped-up replay).
    pub t: f64,
    /// Index of the phase.
    pub phase: usize,
    /// The producer's period, ms (0 while it is deleted).
    pub period_ms: u64,
    /// Events produced per scenario second, over the last sample interval.
    pub produced_per_s: f64,
    /// Lag summed over partitions as KEDA computes it (uncapped).
    pub total_lag: i64,
    /// The scaler's metric (capped).
    pub metric: i64,
    /// Whether the trigger was active.
    pub active: bool,
    /// The HPA's last raw recommendation, ceil(metric / lagThreshold).
    pub hpa_desired: u32,
    /// The Deployment's replica count.
    pub replicas: u32,
    /// Consumers actually running (started, not yet stopped).
    pub running: u32,
}

/// How one phase ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhaseOutcome {
    /// The replica count held longest over the second half of the phase: "the replica
    /// count of a phase".
    pub settled: u32,
    pub min: u32,
    pub max: u32,
    /// The count at the end of the phase.
    pub at_end: u32,
    /// Share of the second half spent at `settled`, percent.
    pub settled_share: u32,
}

/// Everything recorded, for the reports.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub scenario: Scenario,
    /// Scenario seconds each phase starts at.
    pub phase_starts: Vec<f64>,
    pub samples: Vec<Sample>,
    /// Decisions, with `at` in scenario ms.
    pub decisions: Vec<Decision>,
    /// How the timeline was made ("simulate", "replay").
    pub mode: &'static str,
    /// Set when a replay was stopped before its end.
    pub interrupted: bool,
}

impl Timeline {
    pub fn new(scenario: Scenario, mode: &'static str) -> Self {
        let mut phase_starts = Vec::new();
        let mut t = 0.0;
        for phase in &scenario.phases {
            phase_starts.push(t);
            t += phase.seconds as f64;
        }
        Self {
            scenario,
            phase_starts,
            samples: Vec::new(),
            decisions: Vec::new(),
            mode,
            interrupted: false,
        }
    }

    pub fn phase_at(&self, t: f64) -> usize {
        self.phase_starts
            .iter()
            .rposition(|start| *start <= t)
            .unwrap_or(0)
    }

    pub fn phase_end(&self, phase: usize) -> f64 {
        self.phase_starts[phase] + self.scenario.phases[phase].seconds as f64
    }

    /// The outcome of `phase`, or `None` if nothing of its second half was recorded.
    pub fn outcome(&self, phase: usize) -> Option<PhaseOutcome> {
        let (start, end) = (self.phase_starts[phase], self.phase_end(phase));
        let half = (start + end) / 2.0;
        let samples: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.t >= half && s.t < end)
            .collect();
        let last = *samples.last()?;
        let mut time_at = std::collections::BTreeMap::<u32, f64>::new();
        for pair in samples.windows(2) {
            *time_at.entry(pair[0].replicas).or_default() += pair[1].t - pair[0].t;
        }
        *time_at.entry(last.replicas).or_default() += (end - last.t).max(0.0);
        let total: f64 = time_at.values().sum();
        let (&settled, &time) = time_at
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))?;
        Some(PhaseOutcome {
            settled,
            min: samples.iter().map(|s| s.replicas).min()?,
            max: samples.iter().map(|s| s.replicas).max()?,
            at_end: last.replicas,
            settled_share: if total > 0.0 {
                (100.0 * time / total).round() as u32
            } else {
                100
            },
        })
    }

    /// Samples of one phase.
    pub fn phase_samples(&self, phase: usize) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(move |s| s.phase == phase)
    }

    pub fn write_csv(&self, path: &Path) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(out, "t_s,phase,phase_name,period_ms,produced_per_s,total_lag,metric,active,hpa_desired,replicas,running")?;
        for s in &self.samples {
            writeln!(
                out,
                "{:.1},{},{},{},{:.2},{},{},{},{},{},{}",
                s.t,
                s.phase,
                csv_field(&self.scenario.phases[s.phase].name),
                s.period_ms,
                s.produced_per_s,
                s.total_lag,
                s.metric,
                s.active,
                s.hpa_desired,
                s.replicas,
                s.running
            )?;
        }
        out.flush()
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, replicas: u32) -> Sample {
        Sample {
            t,
            phase: 0,
            period_ms: 100,
            produced_per_s: 10.0,
            total_lag: 0,
            metric: 0,
            active: false,
            hpa_desired: 1,
            replicas,
            running: replicas,
        }
    }

    #[test]
    fn outcome_is_the_time_weighted_mode_of_the_second_half() {
        let mut scenario = Scenario::original();
        scenario.phases.truncate(1);
        scenario.phases[0].seconds = 100;
        let mut timeline = Timeline::new(scenario, "test");
        // First half at 5 (ignored); second half: 3 for 30 s, 4 for 10 s, 3 for 10 s.
        for t in 0..50 {
            timeline.samples.push(sample(t as f64, 5));
        }
        for t in 50..100 {
            let replicas = if (80..90).contains(&t) { 4 } else { 3 };
            timeline.samples.push(sample(t as f64, replicas));
        }
        let outcome = timeline.outcome(0).unwrap();
        assert_eq!(
            (
                outcome.settled,
                outcome.min,
                outcome.max,
                outcome.at_end,
                outcome.settled_share
            ),
            (3, 3, 4, 3, 80)
        );
    }
}
