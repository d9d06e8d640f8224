//! Figure 6, the lab: `lab simulate` of one hour of virtual time (the published
//! scenario's workload and ScaledObject, one 3600 s phase at 100 ms), wall time per run.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use lab::scenario::{Phase, Scenario};

/// Virtual time simulated per run, s.
pub const VIRTUAL_SECONDS: u64 = 3600;

/// Writes the one-hour scenario into `dir` and returns its path.
pub fn write_scenario(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let mut scenario = Scenario::published()?;
    scenario.name = "one-hour".into();
    scenario.description = "The published workload at 100 ms for one hour (bench).".into();
    scenario.phases = vec![Phase {
        name: "period 100 ms".into(),
        seconds: VIRTUAL_SECONDS,
        producer_period_ms: Some(100),
        published: None,
        ..Phase::default()
    }];
    let path = dir.join("one-hour.toml");
    std::fs::write(&path, toml::to_string(&scenario)?)?;
    Ok(path)
}

/// Runs `lab simulate` once (the release binary next to this one), returning wall time.
pub fn run_once(scenario: &Path, out: &Path) -> anyhow::Result<Duration> {
    let lab = harness::app::binary_dir().join("lab");
    let started = Instant::now();
    let output = Command::new(&lab)
        .arg("simulate")
        .arg("--scenario")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .with_context(|| format!("cannot run {}", lab.display()))?;
    let wall = started.elapsed();
    ensure!(
        output.status.success(),
        "lab simulate failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    ensure!(
        out.join("summary.md").exists(),
        "lab simulate wrote no summary"
    );
    Ok(wall)
}
