//! A timeline's files: `timeline.csv` (a sample a row; a recorder's unread cell is empty),
//! `decisions.csv` (every evaluation, with its reason), and `trace.jsonl` (what a scaler
//! read at each sample: the trace `lab plan` and `lab tune --trace` take).

use anyhow::Context as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Sample, Timeline};
use crate::emulator::{CallOutcome, Controller, Decision, Why};
use crate::scenario::{Phase, Scenario};

/// A row of `timeline.csv` as a recorder on a cluster writes it: a measurement it could
/// not read is an empty cell.
#[derive(Debug, Deserialize)]
struct RecordedRow {
    #[serde(rename = "t_s")]
    t: f64,
    phase: usize,
    phase_name: std::sync::Arc<str>,
    period_ms: u64,
    produced_per_s: Option<f64>,
    total_lag: Option<i64>,
    metric: Option<i64>,
    active: Option<bool>,
    hpa_desired: Option<u32>,
    replicas: Option<u32>,
    running: Option<u32>,
    #[serde(default)]
    scaler_error: Option<crate::emulator::ScalerError>,
}

/// The latest time a timeline may reach, s (ten years: a recording longer than that is a
/// mistake, and sums of phase lengths stay far inside u64).
const LAST_T_S: f64 = 10.0 * 365.0 * 86_400.0;

impl RecordedRow {
    /// Refuses values no run records: a time that is not a number from 0 to ten years, a
    /// rate that is not a finite number of 0 or more.
    fn check(&self) -> Result<(), String> {
        if !(self.t.is_finite() && (0.0..=LAST_T_S).contains(&self.t)) {
            return Err(format!(
                "t_s={} is not a time from 0 to {LAST_T_S} s",
                self.t
            ));
        }
        if let Some(rate) = self
            .produced_per_s
            .filter(|r| !(r.is_finite() && *r >= 0.0))
        {
            return Err(format!("produced_per_s={rate} is not a rate of 0 or more"));
        }
        Ok(())
    }

    /// The sample, with each empty cell taken from `previous` (zero before the first row);
    /// also how many cells were empty.
    fn fill(self, previous: Option<&Sample>) -> (Sample, usize) {
        fn cell<T: Copy + Default>(cell: Option<T>, before: Option<T>, empty: &mut usize) -> T {
            cell.unwrap_or_else(|| {
                *empty += 1;
                before.unwrap_or_default()
            })
        }
        let mut empty = 0;
        let e = &mut empty;
        let sample = Sample {
            produced_per_s: cell(self.produced_per_s, previous.map(|p| p.produced_per_s), e),
            total_lag: cell(self.total_lag, previous.map(|p| p.total_lag), e),
            metric: cell(self.metric, previous.map(|p| p.metric), e),
            active: cell(self.active, previous.map(|p| p.active), e),
            hpa_desired: cell(self.hpa_desired, previous.map(|p| p.hpa_desired), e),
            replicas: cell(self.replicas, previous.map(|p| p.replicas), e),
            running: cell(self.running, previous.map(|p| p.running), e),
            t: self.t,
            phase: self.phase,
            phase_name: self.phase_name,
            period_ms: self.period_ms,
            scaler_error: self.scaler_error,
        };
        (sample, empty)
    }
}

/// One row of `decisions.csv`: a [`Decision`] with its time in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DecisionRow {
    #[serde(rename = "t_s")]
    t: f64,
    by: Controller,
    metric: i64,
    active: bool,
    from: u32,
    desired: u32,
    replicas: u32,
    why: Why,
    /// Absent from decisions.csv files written before scaler failures were emulated.
    #[serde(default)]
    call: CallOutcome,
    /// The fallback's failure count after the call (absent from older files: 0).
    #[serde(default)]
    failures: u32,
}

impl From<&Decision> for DecisionRow {
    fn from(d: &Decision) -> Self {
        Self {
            t: d.at as f64 / 1000.0,
            by: d.by,
            metric: d.metric,
            active: d.active,
            from: d.from,
            desired: d.desired,
            replicas: d.replicas,
            why: d.why,
            call: d.call,
            failures: d.failures,
        }
    }
}

impl From<DecisionRow> for Decision {
    fn from(row: DecisionRow) -> Self {
        Self {
            at: (row.t * 1000.0).round() as u64,
            by: row.by,
            metric: row.metric,
            active: row.active,
            from: row.from,
            desired: row.desired,
            replicas: row.replicas,
            why: row.why,
            call: row.call,
            failures: row.failures,
        }
    }
}

impl Timeline {
    /// `trace.jsonl`: the trace format of `lab lag --record`, one line per sample.
    pub fn write_trace(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = String::new();
        for sample in &self.trace {
            text.push_str(&serde_json::to_string(sample)?);
            text.push('\n');
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// `timeline.csv`: one row per sample (times to the millisecond, so that `lab report`
    /// weighs the phases' counts as the run did; rates to 0.01/s).
    pub fn write_csv(&self, path: &Path) -> anyhow::Result<()> {
        let mut w = csv::Writer::from_path(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        for s in &self.samples {
            w.serialize(Sample {
                t: (s.t * 1000.0).round() / 1000.0,
                produced_per_s: (s.produced_per_s * 100.0).round() / 100.0,
                ..s.clone()
            })?;
        }
        w.flush()?;
        Ok(())
    }

    /// `decisions.csv`: one row per evaluation.
    pub fn write_decisions_csv(&self, path: &Path) -> anyhow::Result<()> {
        let mut w = csv::Writer::from_path(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        for d in &self.decisions {
            w.serialize(DecisionRow::from(d))?;
        }
        w.flush()?;
        Ok(())
    }

    /// Reads `timeline.csv` (and `decisions.csv` beside it, if there is one): as
    /// [`Timeline::parse_csv`], its phases named after the folder when no scenario is given.
    pub fn read(path: &Path, scenario: Option<Scenario>) -> anyhow::Result<Self> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
        let name = path
            .parent()
            .and_then(|p| p.file_name())
            .map_or("recorded".into(), |n| n.to_string_lossy().into_owned());
        let mut timeline = Self::parse_csv(&text, &shown, &name, scenario)?;
        if let Some(decisions) = companion(path, "decisions") {
            timeline.decisions = read_decisions(&decisions)?;
        }
        Ok(timeline)
    }

    /// A timeline from the text of a `timeline.csv` (`shown` names it in errors). Phases
    /// come from `scenario` when given (names must match), else from the rows themselves,
    /// under `name`: each phase lasts from its first sample to the next phase's, nothing
    /// published. An empty measurement cell (a recorder that could not read the cluster)
    /// takes the value of the row before, and is counted.
    pub fn parse_csv(
        text: &str,
        shown: &str,
        name: &str,
        scenario: Option<Scenario>,
    ) -> anyhow::Result<Self> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut samples: Vec<Sample> = Vec::new();
        let mut unread_cells = 0;
        for (i, row) in reader.deserialize::<RecordedRow>().enumerate() {
            let row =
                row.map_err(|e| anyhow::anyhow!("{shown}: row {}: {}", i + 2, one_line(&e)))?;
            row.check()
                .map_err(|e| anyhow::anyhow!("{shown}: row {}: {e}", i + 2))?;
            let (sample, empty) = row.fill(samples.last());
            unread_cells += empty;
            samples.push(sample);
        }
        anyhow::ensure!(!samples.is_empty(), "{shown}: no samples");
        for pair in samples.windows(2) {
            anyhow::ensure!(
                pair[1].t >= pair[0].t && pair[1].phase >= pair[0].phase,
                "{shown}: t={} (phase {}) comes after t={} (phase {}): rows must be in time order",
                pair[1].t,
                pair[1].phase,
                pair[0].t,
                pair[0].phase
            );
        }
        let scenario = match scenario {
            Some(s) => {
                for sample in &samples {
                    let phase = s.phases.get(sample.phase).map(|p| p.name.as_str());
                    anyhow::ensure!(
                        phase == Some(&*sample.phase_name),
                        "{shown}: phase {} is {:?} in the file but {:?} in scenario {}",
                        sample.phase,
                        sample.phase_name,
                        phase.unwrap_or("(none)"),
                        s.name
                    );
                }
                s
            }
            None => scenario_from_samples(&samples, name)?,
        };
        let mut timeline = Timeline::new(scenario, "report");
        timeline.samples = samples;
        timeline.unread_cells = unread_cells;
        Ok(timeline)
    }
}

/// A CSV error on one line (a field's text may hold a line break).
fn one_line(e: &csv::Error) -> String {
    crate::line::one_line(&e.to_string())
}

/// A file a run wrote beside its timeline: `<what>.csv` as a run writes it, or
/// `<timeline stem>-<what>.csv` as docs/results keeps several runs in one folder.
pub fn companion(timeline: &Path, what: &str) -> Option<std::path::PathBuf> {
    let stem = timeline.file_stem()?.to_string_lossy();
    [format!("{what}.csv"), format!("{stem}-{what}.csv")]
        .into_iter()
        .map(|name| timeline.with_file_name(name))
        .find(|p| p.exists())
}

/// Phases as the samples show them (a timeline recorded without a scenario file), the
/// scenario named `name`. Phase numbers count up from 0 without a gap.
fn scenario_from_samples(samples: &[Sample], name: &str) -> anyhow::Result<Scenario> {
    let mut phases: Vec<Phase> = Vec::new();
    let mut starts: Vec<f64> = Vec::new();
    for s in samples {
        anyhow::ensure!(
            s.phase <= phases.len(),
            "t={}: phase {} follows phase {}: phases are numbered 0, 1, 2, ... in order",
            s.t,
            s.phase,
            phases.len().saturating_sub(1)
        );
        if phases.len() == s.phase {
            phases.push(Phase {
                name: s.phase_name.to_string(),
                seconds: 0,
                producer_period_ms: (s.period_ms > 0).then_some(s.period_ms),
                ..Phase::default()
            });
            starts.push(s.t);
        }
    }
    let end = samples.last().map_or(0.0, |s| s.t + 1.0);
    for (i, phase) in phases.iter_mut().enumerate() {
        let next = starts.get(i + 1).copied().unwrap_or(end);
        phase.seconds = (next - starts[i]).round().max(1.0) as u64;
    }
    let mut scenario = Scenario::original();
    scenario.name = name.to_owned();
    scenario.description = String::new();
    scenario.phases = phases;
    Ok(scenario)
}

fn read_decisions(path: &Path) -> anyhow::Result<Vec<Decision>> {
    let shown = path.display();
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {shown}"))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            let row: DecisionRow = row.with_context(|| format!("{shown}: row {}", i + 2))?;
            Ok(row.into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, replicas: u32) -> Sample {
        Sample {
            t,
            phase: 0,
            phase_name: "period 1000 ms".into(),
            period_ms: 100,
            produced_per_s: 10.0,
            total_lag: 0,
            metric: 0,
            active: false,
            hpa_desired: 1,
            replicas,
            running: replicas,
            scaler_error: None,
        }
    }

    #[test]
    fn empty_cells_of_a_recording_take_the_row_before_and_are_counted() {
        let dir = std::env::temp_dir().join(format!("timeline-gaps-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("timeline.csv");
        std::fs::write(
            &path,
            "t_s,phase,phase_name,period_ms,produced_per_s,total_lag,metric,active,hpa_desired,replicas,running\n\
             0,0,period 1000 ms,1000,,3,,true,1,1,1\n\
             1,0,period 1000 ms,1000,1.00,4,4,true,1,2,1\n\
             2,0,period 1000 ms,1000,1.00,,,,,,\n",
        )
        .unwrap();
        let timeline = Timeline::read(&path, None).unwrap();
        let row = |i: usize| {
            let s = &timeline.samples[i];
            (
                s.produced_per_s,
                s.total_lag,
                s.metric,
                s.active,
                s.replicas,
            )
        };
        assert_eq!(
            row(0),
            (0.0, 3, 0, true, 1),
            "nothing before the first row: zero"
        );
        assert_eq!(row(2), (1.0, 4, 4, true, 2), "carried from row 1");
        assert_eq!(timeline.unread_cells, 2 + 6);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Every reason is written as `controller:reason` and read back by serde, as
    /// decisions.csv files written before carry them.
    #[test]
    fn decision_reasons_are_written_and_read_as_labels() {
        use crate::emulator::{HpaReason, KedaAction};
        for (why, label) in [
            (Why::Keda(KedaAction::CoolingDown), "keda:cooling-down"),
            (Why::Hpa(HpaReason::ScaleDownLimit), "hpa:scale-down-limit"),
        ] {
            assert_eq!(serde_json::to_value(why).unwrap(), label);
            assert_eq!(serde_json::from_value::<Why>(label.into()).unwrap(), why);
        }
        assert_eq!(serde_json::to_value(Controller::Hpa).unwrap(), "hpa");
        let published = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/results/published-replay-decisions.csv"
        );
        let decisions = read_decisions(Path::new(published)).unwrap();
        assert!(decisions.len() > 60, "the published decisions read back");
        assert!(serde_json::from_value::<Why>("hpa:sideways".into()).is_err());
    }

    #[test]
    fn timeline_and_decisions_round_trip_through_csv() {
        let dir = std::env::temp_dir().join(format!("timeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut timeline = Timeline::new(Scenario::original(), "test");
        timeline.samples = vec![sample(0.0, 1), sample(1.0404, 2)];
        timeline.decisions = vec![Decision {
            at: 15_000,
            by: Controller::Hpa,
            metric: 12,
            active: true,
            from: 1,
            desired: 3,
            replicas: 3,
            why: Why::Hpa(crate::emulator::HpaReason::DesiredWithinRange),
            call: CallOutcome::Read,
            failures: 0,
        }];
        timeline.write_csv(&dir.join("timeline.csv")).unwrap();
        timeline
            .write_decisions_csv(&dir.join("decisions.csv"))
            .unwrap();
        let text = std::fs::read_to_string(dir.join("timeline.csv")).unwrap();
        assert!(text.starts_with("t_s,phase,phase_name,period_ms,produced_per_s,total_lag,metric,active,hpa_desired,replicas,running,scaler_error\n"));
        let back = Timeline::read(&dir.join("timeline.csv"), Some(Scenario::original())).unwrap();
        assert_eq!(back.samples[1].t, 1.04, "to the millisecond");
        assert_eq!(back.decisions, timeline.decisions);
        let wrong = Timeline::read(
            &dir.join("timeline.csv"),
            Some(Scenario::published().unwrap()),
        );
        assert!(wrong.is_ok(), "same phase names");
        std::fs::write(dir.join("timeline.csv"), "t_s,phase\n1,0\n").unwrap();
        let err = Timeline::read(&dir.join("timeline.csv"), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 2"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
