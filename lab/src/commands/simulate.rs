//! `lab simulate`: one seed with reports, and optionally how often each phase ends at
//! each count over many seeds.

use std::path::PathBuf;
use std::time::Instant;

use super::{out_dir, print_table, scenario_spec};
use crate::scenario::Scenario;

pub fn simulate(
    scenario: &str,
    out: Option<PathBuf>,
    seed: u64,
    seeds: Option<u64>,
) -> anyhow::Result<()> {
    let scenario = Scenario::load(scenario)?;
    let spec = scenario_spec(&scenario)?;
    let started = Instant::now();
    let timeline = crate::simulate::run(&scenario, &spec, seed)?;
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
        let spread = crate::simulate::robustness(&scenario, &spec, n)?;
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
