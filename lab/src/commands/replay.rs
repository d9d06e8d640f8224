//! `lab replay`: the run on a broker, with its logs in a file and its reports at the end,
//! also when Ctrl-C stops it. `--quick` is the published run with each phase shortened,
//! at 1x; `--dry-run` says what would run and starts nothing.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{load_scenario, out_dir, print_table, scenario_spec};
use lab_model::emulator::ScalingSpec;
use lab_model::scenario::Scenario;

/// Run the real producer and consumers against a broker, scaled by the emulator.
///
/// The scenario runs in real time: the published one takes about 13 minutes. For a short
/// replay that tells the same story, --quick runs the published phases shortened, at 1x
/// (`lab replay --quick --dry-run` lists them); --speed distorts the scaling, because the
/// broker's group timing does not speed up.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// published, quick, original, diurnal, or a scenario file (.toml, .yaml).
    #[arg(long, default_value = "published")]
    pub scenario: String,
    /// The published run with each phase shortened (the built-in scenario `quick`: the
    /// same topic, consumer, ScaledObject and producer periods), at 1x.
    #[arg(long, conflicts_with = "scenario")]
    pub quick: bool,
    /// Scale with this ScaledObject instead of the scenario's (a what-if).
    #[arg(long)]
    pub scaled_object: Option<PathBuf>,
    /// Use this broker instead of the embedded one (host:port).
    #[arg(long)]
    pub brokers: Option<String>,
    /// Divide the workload's and KEDA's clocks by N (default 1). The broker's group timing
    /// (joins, rebalances, session timeouts) does not speed up, so above 1 every rebalance
    /// lasts N times longer in scenario time and the counts are not the scenario's: a
    /// warning says so, and --quick refuses it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub speed: Option<u64>,
    /// Where the reports go (default lab-out/<scenario>-replay).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the scenario, its phases, the ScaledObject's settings, the broker and how long
    /// the replay takes, then exit without starting anything.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let speed = args.speed.unwrap_or(1);
    if args.quick && speed != 1 {
        anyhow::bail!(
            "--speed {speed}: --quick replays at 1x only; it is short because its phases are, and \
             at {speed}x the broker's rebalances would last {speed} times longer in scenario time \
             (drop --speed, or use --scenario published --speed {speed} for a distorted quick look)"
        );
    }
    let name = if args.quick {
        "quick"
    } else {
        args.scenario.as_str()
    };
    let scenario = load_scenario(name, args.scaled_object.clone())?;
    let spec = scenario_spec(&scenario)?;
    let dir = out_dir(args.out.clone(), &scenario, "replay");
    if args.dry_run {
        print!("{}", plan(&scenario, &spec, &args, speed, &dir));
        return Ok(());
    }
    if let Some(warning) = lab_replay::speed_warning(speed) {
        eprintln!("warning: --speed {speed}: {warning}");
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let log = dir.join("replay.log");
    crate::telemetry::to_file(&log)?;
    eprintln!(
        "replaying {} ({} partitions, {} s of scenario time at {speed}x: about {} s); logs in {}",
        scenario.name,
        scenario.partitions,
        scenario.seconds(),
        wall_seconds(&scenario, speed),
        log.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut live = crate::live::LiveView::new(scenario.seconds());
    let outcome = runtime.block_on(async {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let on_signal = shutdown.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nCtrl-C: stopping the replay and writing what was recorded");
                on_signal.cancel();
            }
        });
        lab_replay::run(
            lab_replay::Setup {
                scenario,
                spec: spec.clone(),
                brokers: args.brokers,
                speed,
                ledger_dir: dir.join("ledger"),
            },
            shutdown,
            &mut live,
        )
        .await
    });
    live.finish();
    let outcome = outcome?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    let mut notes = outcome.notes;
    notes.push(format!(
        "full logs of the producer and consumers: {}",
        log.display()
    ));
    crate::report::write_all(
        &outcome.timeline,
        &spec,
        Some(&outcome.accounting),
        &notes,
        &dir,
    )?;
    print_table(&outcome.timeline);
    let t = &outcome.accounting.total;
    println!(
        "events: {} produced, {} processed, {} lost, {} duplicated, {} pending at the end",
        t.produced, t.processed, t.lost, t.duplicated, t.pending
    );
    if let Some(delay) = crate::report::summary::delay_note(&outcome.timeline) {
        println!("{delay}");
    }
    println!("reports in {}", dir.display());
    Ok(())
}

/// About how long the replay takes, wall seconds: the warm-up and the phases.
fn wall_seconds(scenario: &Scenario, speed: u64) -> u64 {
    (lab_model::run::WARMUP_MS / 1000 + scenario.seconds()) / speed
}

/// What `--dry-run` prints: the replay that would run, phase by phase.
fn plan(
    scenario: &Scenario,
    spec: &ScalingSpec,
    args: &ReplayArgs,
    speed: u64,
    dir: &std::path::Path,
) -> String {
    let c = &scenario.consumer;
    let mut out = format!(
        "replay {} at {speed}x: {} s of phases after a {} s warm-up, about {} s\n",
        scenario.name,
        scenario.seconds(),
        lab_model::run::WARMUP_MS / 1000,
        wall_seconds(scenario, speed)
    );
    out.push_str(&format!(
        "topic: {} partitions; consumer: {} ms per event, commits every {} ms, session timeout {} ms, \
         {} replica(s) at the start\n",
        scenario.partitions,
        c.processing_ms,
        c.commit_interval_ms,
        c.session_timeout_ms,
        scenario.start_replicas
    ));
    out.push_str(&format!(
        "scaled object: {}: lagThreshold {}, pollingInterval {} s, cooldownPeriod {} s, replicas {}..{}\n",
        scenario.scaled_object.display(),
        spec.trigger.lag_threshold,
        spec.polling_interval / 1000,
        spec.cooldown_period / 1000,
        spec.min_replicas,
        spec.max_replicas
    ));
    out.push_str(&match &args.brokers {
        Some(brokers) => format!("broker: {brokers} (external)\n"),
        None => "broker: the embedded librdkafka mock cluster (in-process, real TCP)\n".into(),
    });
    for phase in &scenario.phases {
        let producer = phase
            .producer_period_ms
            .map_or("no producer".into(), |p| format!("period {p} ms"));
        let published = phase
            .published
            .map_or(String::new(), |p| format!(", published {p}"));
        out.push_str(&format!(
            "phase {:?}: {} s, {producer}{published}\n",
            phase.name, phase.seconds
        ));
    }
    if let Some(warning) = lab_replay::speed_warning(speed) {
        out.push_str(&format!("warning: --speed {speed}: {warning}\n"));
    }
    out.push_str(&format!("reports would go to {}\n", dir.display()));
    out
}
