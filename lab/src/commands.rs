//! The subcommands, each turning arguments into a run and its output.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::emulator::ScalingSpec;
use crate::scaled_object;
use crate::scenario::Scenario;

/// Loads a ScaledObject and prints what KEDA would have ignored.
pub fn load_spec(path: &Path) -> anyhow::Result<ScalingSpec> {
    let parsed = scaled_object::load(path)?;
    for warning in &parsed.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok(parsed.spec)
}

fn out_dir(out: Option<PathBuf>, scenario: &Scenario, mode: &str) -> PathBuf {
    out.unwrap_or_else(|| PathBuf::from("lab-out").join(format!("{}-{mode}", scenario.name)))
}

/// Prints the phase table to the terminal.
pub fn print_table(timeline: &crate::report::timeline::Timeline) {
    println!(
        "{:<20} {:>9} {:>9} {:>12}",
        "phase", "published", "observed", "range"
    );
    for (i, phase) in timeline.scenario.phases.iter().enumerate() {
        let published = phase.published.map_or("-".into(), |p| p.to_string());
        match timeline.outcome(i) {
            Some(o) => println!(
                "{:<20} {:>9} {:>9} {:>12}",
                phase.name,
                published,
                o.settled,
                format!("{}..{}", o.min, o.max)
            ),
            None => println!("{:<20} {:>9} {:>9}", phase.name, published, "-"),
        }
    }
}

pub fn simulate(scenario: &str, out: Option<PathBuf>, seed: u64) -> anyhow::Result<()> {
    let scenario = Scenario::load(scenario)?;
    let spec = load_spec(&scenario.scaled_object_path())?;
    let started = Instant::now();
    let timeline = crate::simulate::run(&scenario, &spec, seed);
    let took = started.elapsed();
    let dir = out_dir(out, &scenario, "simulate");
    crate::report::write_all(
        &timeline,
        &spec,
        &[format!(
            "simulated {} s of virtual time in {:.3} s (seed {seed})",
            scenario.seconds(),
            took.as_secs_f64()
        )],
        &dir,
    )?;
    print_table(&timeline);
    println!(
        "simulated {} s in {:.3} s; reports in {}",
        scenario.seconds(),
        took.as_secs_f64(),
        dir.display()
    );
    Ok(())
}

pub fn plan(
    scaled_object: &Path,
    trace: &Path,
    replicas: u32,
    until: Option<f64>,
) -> anyhow::Result<()> {
    let spec = load_spec(scaled_object)?;
    let samples = crate::plan::read_trace(trace)?;
    let mut stdout = std::io::stdout().lock();
    crate::plan::run(spec, &samples, replicas, until, &mut stdout)
}

pub fn replay(
    scenario: &str,
    brokers: Option<String>,
    speed: u64,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let _ = (scenario, brokers, speed, out);
    anyhow::bail!("replay is not available yet")
}

pub fn lag(
    brokers: &str,
    group: &str,
    topic: &str,
    scaled_object: Option<PathBuf>,
    watch: Option<u64>,
) -> anyhow::Result<()> {
    let _ = (brokers, group, topic, scaled_object, watch);
    anyhow::bail!("lag is not available yet")
}
