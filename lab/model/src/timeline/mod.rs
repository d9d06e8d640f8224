//! What a run recorded: one sample per second and every decision. Written and read as
//! files ([`files`]: `timeline.csv`, `decisions.csv`, `trace.jsonl`), so that `lab report`
//! renders the same reports from a file, whether a replay wrote it or a recorder on a real
//! cluster; and summed up phase by phase ([`outcome`]).

pub mod files;
pub mod outcome;

use serde::{Deserialize, Serialize};

use crate::emulator::Decision;
use crate::scenario::Scenario;

pub use files::companion;
pub use outcome::PhaseOutcome;

/// The state of the experiment at one instant: one row of `timeline.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Scenario time, seconds (wall seconds x speed in a sped-up replay).
    #[serde(rename = "t_s")]
    pub t: f64,
    /// Index of the phase.
    pub phase: usize,
    /// Shared with the scenario's phase (one allocation a phase, not a sample).
    pub phase_name: std::sync::Arc<str>,
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
    /// The HPA's last raw recommendation.
    pub hpa_desired: u32,
    /// The workload's replica count (desired).
    pub replicas: u32,
    /// Consumers actually running (started, not yet stopped).
    pub running: u32,
    /// The error a scaler reading the group got at this instant (a broker outage), if any;
    /// the lag columns then repeat the last reading.
    #[serde(default)]
    pub scaler_error: Option<crate::emulator::ScalerError>,
}

/// Everything recorded, for the reports.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub scenario: Scenario,
    /// Scenario seconds each phase starts at.
    pub phase_starts: Vec<f64>,
    pub samples: Vec<Sample>,
    /// Decisions, with `at` in scenario ms (none for a timeline recorded on a cluster).
    pub decisions: Vec<Decision>,
    /// How the timeline was made ("simulate", "replay", "report").
    pub mode: &'static str,
    /// Set when a replay was stopped before its end.
    pub interrupted: bool,
    /// Cells a recorder left empty because it could not read them (a failed `kubectl`
    /// call on a cluster); each took the value of the row before it.
    pub unread_cells: usize,
    /// Events the producer gave up on (held through a broker outage past its
    /// `message.timeout.ms`): never in the topic, so no accounting row shows them.
    pub expired: u64,
    /// Each event's time from sent to first processed, scenario ms: the model's events
    /// (`lab simulate`), or the consumers' ledgers (`lab replay`); not written to the CSV
    /// files, so a timeline read back (`lab report`) has none.
    pub event_delays: Vec<crate::emulator::Millis>,
    /// What a scaler read at each sample, with the replicas running: the trace `lab lag
    /// --record` would have written (`trace.jsonl`; empty for a recorded timeline).
    pub trace: Vec<crate::trace::TraceSample>,
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
            unread_cells: 0,
            expired: 0,
            event_delays: Vec::new(),
            trace: Vec::new(),
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

    /// Samples of one phase.
    pub fn phase_samples(&self, phase: usize) -> impl Iterator<Item = &Sample> {
        self.samples.iter().filter(move |s| s.phase == phase)
    }
}
