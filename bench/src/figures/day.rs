//! Figures 9 and 10, a day for the lab:
//! - 9: `lab tune` of the built-in `diurnal` day (24 one-hour phases of the published
//!   workload), written to a scenario file that every lab since the first `lab tune` reads,
//!   so that an older lab binary (`bench --lab PATH`) is measured on the same day;
//! - 10: a day's recording (24 hours of 1 s samples, on a topic of many partitions, which
//!   today's `lab simulate` writes) fitted and tuned by `lab tune --trace`.
//!
//! Both are `lab tune` runs measured as figure 8's ([`super::simulate::tune`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{ensure, Context};
use lab_model::scenario::Scenario;

/// Writes the first `hours` of the `diurnal` day as a scenario file in `dir` (on
/// `partitions`, or the manifests' topic) and returns its path. Only the fields every lab with `lab tune`
/// reads are written: name, description, partitions, the consumer's processing time and
/// commit interval, and the phases with their producer period and burst.
pub fn write_day(dir: &Path, hours: u64, partitions: Option<u32>) -> anyhow::Result<PathBuf> {
    use toml::{Table, Value};
    let day = Scenario::diurnal()?;
    let partitions = partitions.unwrap_or(day.partitions);
    let mut file = Table::new();
    let name = format!("diurnal-{hours}h-{partitions}");
    file.insert("name".into(), Value::String(name.clone()));
    file.insert(
        "description".into(),
        Value::String(format!(
            "{} On {partitions} partitions (bench).",
            day.description
        )),
    );
    file.insert("partitions".into(), Value::Integer(partitions.into()));
    let mut consumer = Table::new();
    consumer.insert(
        "processing_ms".into(),
        Value::Integer(day.consumer.processing_ms as i64),
    );
    consumer.insert(
        "commit_interval_ms".into(),
        Value::Integer(day.consumer.commit_interval_ms as i64),
    );
    file.insert("consumer".into(), Value::Table(consumer));
    let phases = day
        .phases
        .iter()
        .take(hours as usize)
        .map(|phase| {
            let mut t = Table::new();
            t.insert("name".into(), Value::String(phase.name.clone()));
            t.insert("seconds".into(), Value::Integer(phase.seconds as i64));
            if let Some(period) = phase.producer_period_ms {
                t.insert("producer_period_ms".into(), Value::Integer(period as i64));
            }
            if let Some(burst) = phase.burst {
                t.insert("burst".into(), Value::Integer(burst as i64));
            }
            Value::Table(t)
        })
        .collect();
    file.insert("phases".into(), Value::Array(phases));
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml::to_string(&file)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// A day's recording, written by today's `lab simulate`.
#[derive(Debug, Clone)]
pub struct Recording {
    pub trace: PathBuf,
    pub partitions: u32,
    /// Hours of the day it covers.
    pub hours: u64,
    /// Its size, bytes.
    pub bytes: u64,
    /// Samples (lines) in it.
    pub samples: u64,
    /// How long `lab simulate` took to write it, s.
    pub wall: f64,
}

/// Simulates the first `hours` of the `diurnal` day on `partitions` with today's lab (seed 1) and returns its
/// `trace.jsonl`: a sample a second with every partition's end and committed offsets and
/// the replica count, as `lab record` writes on a cluster.
pub fn record_day(
    lab: &Path,
    dir: &Path,
    hours: u64,
    partitions: u32,
) -> anyhow::Result<Recording> {
    let scenario = write_day(dir, hours, Some(partitions))?;
    let out = dir.join(format!("recording-{partitions}"));
    let started = Instant::now();
    let output = Command::new(lab)
        .arg("simulate")
        .arg("--scenario")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .output()
        .with_context(|| format!("cannot run {}", lab.display()))?;
    let wall = started.elapsed().as_secs_f64();
    ensure!(
        output.status.success(),
        "lab simulate failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let trace = out.join("trace.jsonl");
    let bytes = std::fs::metadata(&trace)
        .with_context(|| format!("lab simulate wrote no {}", trace.display()))?
        .len();
    let samples = {
        use std::io::BufRead;
        let file = std::fs::File::open(&trace)?;
        std::io::BufReader::new(file).lines().count() as u64
    };
    Ok(Recording {
        trace,
        partitions,
        hours,
        bytes,
        samples,
        wall,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_file_is_the_diurnal_day() {
        let dir = std::env::temp_dir().join(harness::unique("bench-day"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = write_day(&dir, 24, Some(100)).unwrap();
        let file = Scenario::load(&path.display().to_string()).unwrap();
        let day = Scenario::diurnal().unwrap();
        assert_eq!(file.partitions, 100);
        assert_eq!(file.phases, day.phases);
        let three = write_day(&dir, 3, None).unwrap();
        let three = Scenario::load(&three.display().to_string()).unwrap();
        assert_eq!(three.phases, day.phases[..3]);
        assert_eq!(three.partitions, day.partitions);
        assert_eq!(
            (
                file.consumer.processing_ms,
                file.consumer.commit_interval_ms
            ),
            (day.consumer.processing_ms, day.consumer.commit_interval_ms)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
