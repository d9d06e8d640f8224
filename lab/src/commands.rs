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

pub fn simulate(
    scenario: &str,
    out: Option<PathBuf>,
    seed: u64,
    seeds: Option<u64>,
) -> anyhow::Result<()> {
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
    if let Some(n) = seeds {
        print_robustness(&scenario, &spec, n);
    }
    Ok(())
}

/// How often each phase settles at each replica count over seeds 1..=n.
fn print_robustness(scenario: &Scenario, spec: &ScalingSpec, n: u64) {
    let mut counts = vec![std::collections::BTreeMap::<u32, u64>::new(); scenario.phases.len()];
    let mut exact = 0;
    for seed in 1..=n {
        let timeline = crate::simulate::run(scenario, spec, seed);
        let mut all = true;
        for (i, phase) in scenario.phases.iter().enumerate() {
            let settled = timeline.outcome(i).map(|o| o.settled);
            if let Some(settled) = settled {
                *counts[i].entry(settled).or_default() += 1;
            }
            all &= phase.published.is_none() || phase.published == settled;
        }
        exact += u64::from(all);
    }
    println!("over seeds 1..={n}:");
    for (phase, counts) in scenario.phases.iter().zip(&counts) {
        let spread: Vec<String> = counts
            .iter()
            .map(|(r, c)| format!("{r} replica(s) x{c}"))
            .collect();
        println!(
            "  {:<20} published {:>2}: {}",
            phase.name,
            phase.published.map_or("-".into(), |p| p.to_string()),
            spread.join(", ")
        );
    }
    println!("  every phase as published: {exact}/{n}");
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
    let scenario = Scenario::load(scenario)?;
    let spec = load_spec(&scenario.scaled_object_path())?;
    let dir = out_dir(out, &scenario, "replay");
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let log = dir.join("replay.log");
    crate::telemetry::to_file(&log)?;
    eprintln!(
        "replaying {} ({} partitions, {} s of scenario time at {speed}x: about {} s); logs in {}",
        scenario.name,
        scenario.partitions,
        scenario.seconds(),
        scenario.seconds() / speed,
        log.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (timeline, mut notes) = runtime.block_on(async {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let on_signal = shutdown.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nCtrl-C: stopping the replay and writing what was recorded");
                on_signal.cancel();
            }
        });
        crate::replay::run(
            crate::replay::Setup {
                scenario,
                spec: spec.clone(),
                brokers,
                speed,
            },
            shutdown,
        )
        .await
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    notes.push(format!(
        "full logs of the producer and consumers: {}",
        log.display()
    ));
    crate::report::write_all(&timeline, &spec, &notes, &dir)?;
    print_table(&timeline);
    println!("reports in {}", dir.display());
    Ok(())
}

pub fn lag(
    brokers: &str,
    group: &str,
    topic: &str,
    scaled_object: Option<PathBuf>,
    watch: Option<u64>,
) -> anyhow::Result<()> {
    let path = scaled_object
        .unwrap_or_else(|| crate::scenario::repo_root().join("k8s/keda/scaled-object.yaml"));
    let spec = load_spec(&path)?;
    let reader = crate::replay::lag::LagReader::connect(
        brokers,
        group,
        topic,
        std::time::Duration::from_secs(10),
    )?;
    let mut scaler = crate::emulator::scaler::KafkaScaler::new(spec.trigger.clone());
    loop {
        let offsets = reader.read()?;
        let mut stdout = std::io::stdout().lock();
        crate::lag::print(&mut stdout, &spec, &offsets, &mut scaler)?;
        drop(stdout);
        let Some(every) = watch else { return Ok(()) };
        std::thread::sleep(std::time::Duration::from_secs(every.max(1)));
        println!();
    }
}

pub fn check_manifests(files: &[PathBuf], dockerfile: &Path) -> anyhow::Result<()> {
    let mut documents = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        documents.extend(
            crate::manifests::documents(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
        );
    }
    let dockerfile = std::fs::read_to_string(dockerfile)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", dockerfile.display()))?;
    let problems = crate::manifests::check(&documents, Some(&dockerfile));
    for problem in &problems {
        eprintln!("{problem}");
    }
    anyhow::ensure!(
        problems.is_empty(),
        "{} problem(s) in the manifests",
        problems.len()
    );
    println!(
        "manifests: {} documents checked, no problems",
        documents.len()
    );
    Ok(())
}
