//! `lab simulate`: one seed with reports, and optionally how often each phase ends at
//! each count over many seeds.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::{load_scenario, out_dir, print_table, scenario_spec};

/// Run a scenario in virtual time with a model of the workload (no broker).
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// published, original, diurnal, or a scenario file (.toml, .yaml).
    #[arg(long, default_value = "published")]
    pub scenario: String,
    /// Scale with this ScaledObject instead of the scenario's (a what-if).
    #[arg(long)]
    pub scaled_object: Option<PathBuf>,
    /// Where the reports go (default lab-out/<scenario>-simulate).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of the model's randomness (commit timer phases, producer start).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also run seeds 1..=N and print how often each phase ends at each count.
    #[arg(long)]
    pub seeds: Option<u64>,
}

pub fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let SimulateArgs {
        scenario,
        scaled_object,
        out,
        seed,
        seeds,
    } = args;
    let scenario = load_scenario(&scenario, scaled_object)?;
    if let lab_model::keda::Scalable::Job(job) = scenario.load_scalable()? {
        return simulate_jobs(&scenario, &job, out, seed);
    }
    let spec = scenario_spec(&scenario)?;
    let started = Instant::now();
    let timeline = lab_model::simulate::run(&scenario, &spec, seed)?;
    let took = started.elapsed();
    let dir = out_dir(out, &scenario, "simulate");
    crate::report::write_all(
        &timeline,
        &spec,
        None,
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
    if let Some(n) = seeds {
        let spread = lab_model::simulate::robustness(&scenario, &spec, n)?;
        println!("over seeds 1..={n}:");
        for (phase, counts) in scenario.phases.iter().zip(&spread.counts) {
            let shown: Vec<String> = counts
                .iter()
                .map(|(r, c)| format!("{r} replica(s) x{c}"))
                .collect();
            println!(
                "  {:<20} published {:>2}: {}",
                phase.name,
                phase.published.map_or("-".into(), |p| p.to_string()),
                shown.join(", ")
            );
        }
        println!(
            "  every phase as published: {}/{n}",
            spread.all_as_published
        );
    }
    Ok(())
}

/// A ScaledJob's scenario: `jobs.csv` (a sample a second), `job-decisions.csv` (every
/// poll) and a table of each phase's Jobs.
fn simulate_jobs(
    scenario: &lab_model::scenario::Scenario,
    job: &lab_model::keda::LoadedJob,
    out: Option<PathBuf>,
    seed: u64,
) -> anyhow::Result<()> {
    for warning in &job.warnings {
        eprintln!("warning: ScaledJob/{}: {warning}", job.name);
    }
    let started = Instant::now();
    let timeline = lab_model::simulate::jobs::run(scenario, &job.spec, seed)?;
    let dir = out_dir(out, scenario, "simulate");
    crate::report::jobs::write(&timeline, &dir)?;
    println!(
        "{:<20} {:>8} {:>15} {:>12}",
        "phase", "created", "peak unfinished", "lag at end"
    );
    for (i, phase) in scenario.phases.iter().enumerate() {
        let end = timeline.samples.iter().rfind(|s| s.phase == i);
        println!(
            "{:<20} {:>8} {:>15} {:>12}",
            phase.name,
            timeline.created_in(i),
            timeline.peak_unfinished(i),
            end.map_or(0, |s| s.total_lag)
        );
    }
    println!(
        "simulated {} s in {:.3} s; reports in {}",
        scenario.seconds(),
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(())
}
