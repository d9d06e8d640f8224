//! `lab replay`: the run on a broker, with its logs in a file and its reports at the end,
//! also when Ctrl-C stops it.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::{load_scenario, out_dir, print_table, scenario_spec};

/// Run the real producer and consumers against a broker, scaled by the emulator.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// published, original, diurnal, or a scenario file (.toml, .yaml).
    #[arg(long, default_value = "published")]
    pub scenario: String,
    /// Scale with this ScaledObject instead of the scenario's (a what-if).
    #[arg(long)]
    pub scaled_object: Option<PathBuf>,
    /// Use this broker instead of the embedded one (host:port).
    #[arg(long)]
    pub brokers: Option<String>,
    /// Divide every clock by N for a quick look (rebalances do not speed up).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub speed: u64,
    /// Where the reports go (default lab-out/<scenario>-replay).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let ReplayArgs {
        scenario,
        scaled_object,
        brokers,
        speed,
        out,
    } = args;
    let scenario = load_scenario(&scenario, scaled_object)?;
    let spec = scenario_spec(&scenario)?;
    let dir = out_dir(out, &scenario, "replay");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
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
                brokers,
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
    println!("reports in {}", dir.display());
    Ok(())
}
