//! Figures 6 and 8, the lab: `lab simulate` of one hour of virtual time (the published
//! scenario's workload and ScaledObject, one 3600 s phase at 100 ms), wall time per run;
//! and `lab tune` runs, watched for their wall time, their first ETA and their memory
//! (figures 8 to 10).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use lab_model::scenario::{Phase, Scenario};

use crate::process::Watched;

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

/// Runs `lab simulate` once (the `lab` binary), returning wall time.
pub fn run_once(lab: &Path, scenario: &Path, out: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let output = Command::new(lab)
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

/// The longest a `lab tune` run may take before it is killed.
pub const TUNE_TIMEOUT: Duration = Duration::from_secs(3600);

/// What one `lab tune` run took.
#[derive(Debug, Clone)]
pub struct TuneRun {
    /// The lab binary measured.
    pub lab: PathBuf,
    /// Wall time of the whole command, s.
    pub wall: f64,
    /// When the first progress line with an ETA reached stderr, s (none: the lab prints no ETA).
    pub first_eta: Option<f64>,
    /// Peak resident memory, bytes.
    pub peak_rss: u64,
    /// Candidates it evaluated (rows of candidates.csv).
    pub candidates: usize,
    pub seeds: u64,
    /// Simulations run, as the lab reports them (a raced search), or every candidate and
    /// the baseline on every seed (a lab that does not report them searched exhaustively).
    pub simulations: u64,
}

/// Runs `lab tune` with `args`, `--seeds`, `--candidates` and `--out out`, watching its
/// stderr (when the first ETA came) and its memory.
pub fn tune(
    lab: &Path,
    args: &[OsString],
    seeds: u64,
    candidates: u64,
    out: &Path,
) -> anyhow::Result<TuneRun> {
    let mut command = Command::new(lab);
    command
        .arg("tune")
        .args(args)
        .args(["--seeds", &seeds.to_string()])
        .args(["--candidates", &candidates.to_string()])
        .arg("--out")
        .arg(out);
    let mut watched = Watched::spawn(&mut command)?;
    let stdout = watched.read_stdout();
    let finished = watched.wait(TUNE_TIMEOUT)?;
    ensure!(
        finished.status.success(),
        "{} tune failed: {}",
        lab.display(),
        finished.stderr.trim()
    );
    let csv = std::fs::read_to_string(out.join("candidates.csv"))
        .with_context(|| format!("{} tune wrote no candidates.csv", lab.display()))?;
    let evaluated = csv.lines().count().saturating_sub(1);
    Ok(TuneRun {
        lab: lab.to_owned(),
        wall: finished.wall.as_secs_f64(),
        first_eta: finished
            .first_stderr(|line| line.contains("ETA"))
            .map(|at| at.as_secs_f64()),
        peak_rss: finished.peak_rss,
        candidates: evaluated,
        seeds,
        simulations: reported_simulations(&stdout).unwrap_or((evaluated as u64 + 1) * seeds),
    })
}

/// The count in `Searched in 91.4 s on 2 thread(s): 1800 simulations.`, if stdout has it.
fn reported_simulations(stdout: &str) -> Option<u64> {
    stdout
        .lines()
        .find(|line| line.starts_with("Searched in "))?
        .rsplit(": ")
        .next()?
        .strip_suffix(" simulations.")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulations_are_read_from_the_search_line() {
        let out =
            "fitting...\nSearched in 91.4 s on 2 thread(s): 1800 simulations.\nresults in x\n";
        assert_eq!(reported_simulations(out), Some(1800));
        assert_eq!(reported_simulations("results in x\n"), None);
    }
}
