//! Figure 6, the lab: `lab simulate` of one hour of virtual time (the published
//! scenario's workload and ScaledObject, one 3600 s phase at 100 ms), wall time per run.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use lab_model::scenario::{Phase, Scenario};

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

/// Runs the one-hour scenario in this process (`lab_model::simulate::run`, no process start, no
/// reports) `runs` times; returns each wall time, s.
pub fn in_process(scenario: &Path, runs: u32) -> anyhow::Result<Vec<f64>> {
    let scenario = lab_model::scenario::Scenario::load(&scenario.display().to_string())?;
    let spec = scenario.load_scaled_object()?.spec;
    (1..=u64::from(runs))
        .map(|seed| {
            let started = Instant::now();
            let timeline = lab_model::simulate::run(&scenario, &spec, seed)?;
            let wall = started.elapsed().as_secs_f64();
            ensure!(
                !timeline.samples.is_empty(),
                "the simulation recorded nothing"
            );
            Ok(wall)
        })
        .collect()
}

/// What one `lab tune` run took.
#[derive(Debug, Clone, Copy)]
pub struct Tuned {
    /// Wall time of the whole command, s.
    pub wall: f64,
    /// Candidates it evaluated (rows of candidates.csv).
    pub candidates: usize,
    pub seeds: u64,
}

/// Runs the release `lab tune --scenario published` once.
pub fn tune_once(seeds: u64, candidates: u64, out: &Path) -> anyhow::Result<Tuned> {
    let lab = harness::app::binary_dir().join("lab");
    let started = Instant::now();
    let output = Command::new(&lab)
        .args(["tune", "--scenario", "published", "--seeds"])
        .arg(seeds.to_string())
        .arg("--candidates")
        .arg(candidates.to_string())
        .arg("--out")
        .arg(out)
        .output()
        .with_context(|| format!("cannot run {}", lab.display()))?;
    let wall = started.elapsed().as_secs_f64();
    ensure!(
        output.status.success(),
        "lab tune failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let csv = std::fs::read_to_string(out.join("candidates.csv"))?;
    Ok(Tuned {
        wall,
        candidates: csv.lines().count().saturating_sub(1),
        seeds,
    })
}
