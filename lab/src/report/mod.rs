//! What a run leaves behind: `timeline.csv`, `chart.svg`, `chart.png`, `summary.md`.

pub mod chart;
pub mod summary;
pub mod timeline;

use std::path::Path;

use crate::emulator::ScalingSpec;
use timeline::Timeline;

/// Writes every report of `timeline` into `dir` (created if needed).
pub fn write_all(
    timeline: &Timeline,
    spec: &ScalingSpec,
    notes: &[String],
    dir: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    timeline.write_csv(&dir.join("timeline.csv"))?;
    chart::write(timeline, dir)?;
    std::fs::write(
        dir.join("summary.md"),
        summary::markdown(timeline, spec, notes),
    )?;
    Ok(())
}
