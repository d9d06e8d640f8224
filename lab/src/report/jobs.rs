//! A ScaledJob run's reports: `jobs.csv`, one row a second (lag, pending, running, done
//! and created Jobs), and `job-decisions.csv`, one row per KEDA poll (the queue,
//! maxScale, the strategy's effective max, the Jobs created).

use anyhow::Context as _;
use std::path::Path;

use lab_model::simulate::jobs::JobTimeline;

/// Writes both files into `dir` (created if needed).
pub fn write(timeline: &JobTimeline, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("jobs.csv");
    let mut w = csv::Writer::from_path(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    for s in &timeline.samples {
        w.serialize(s)?;
    }
    w.flush()?;
    let path = dir.join("job-decisions.csv");
    let mut w = csv::Writer::from_path(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    for d in &timeline.decisions {
        w.serialize(d)?;
    }
    w.flush()?;
    Ok(())
}
