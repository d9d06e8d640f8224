//! What a run leaves behind: `timeline.csv`, `decisions.csv`, `chart.svg`, `chart.png`,
//! `summary.md` (and `accounting.csv` for a replay). `lab report` renders the same from a
//! timeline file, replayed or recorded on a cluster. A ScaledJob's simulation writes
//! `jobs.csv` and `job-decisions.csv` instead ([`jobs`]).

pub mod chart;
pub mod jobs;
pub mod summary;
pub mod tune;

use anyhow::Context as _;
use std::path::Path;

use lab_model::emulator::ScalingSpec;
use lab_model::timeline::Timeline;
use lab_replay::accounting::Accounting;

/// Writes every report of `timeline` into `dir` (created if needed).
pub fn write_all(
    timeline: &Timeline,
    spec: &ScalingSpec,
    accounting: Option<&Accounting>,
    notes: &[String],
    dir: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    timeline.write_csv(&dir.join("timeline.csv"))?;
    if !timeline.decisions.is_empty() {
        timeline.write_decisions_csv(&dir.join("decisions.csv"))?;
    }
    if !timeline.trace.is_empty() {
        timeline.write_trace(&dir.join("trace.jsonl"))?;
    }
    if let Some(a) = accounting {
        a.write_csv(&dir.join("accounting.csv"))?;
    }
    write_renderings(timeline, spec, accounting, notes, dir)
}

/// The chart and the summary only (`lab report` does not rewrite its input).
pub fn write_renderings(
    timeline: &Timeline,
    spec: &ScalingSpec,
    accounting: Option<&Accounting>,
    notes: &[String],
    dir: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    chart::write(timeline, dir)?;
    std::fs::write(
        dir.join("summary.md"),
        summary::markdown(timeline, spec, accounting, notes),
    )?;
    Ok(())
}
