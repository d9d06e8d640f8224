//! `lab replay`: the run on a broker, with its logs in a file and its reports at the end,
//! also when Ctrl-C stops it.

use std::path::PathBuf;

use super::{out_dir, print_table, scenario_spec};
use crate::scenario::Scenario;

pub fn replay(
    scenario: &str,
    brokers: Option<String>,
    speed: u64,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let scenario = Scenario::load(scenario)?;
    let spec = scenario_spec(&scenario)?;
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
    let outcome = runtime.block_on(async {
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
                ledger_dir: dir.join("ledger"),
            },
            shutdown,
        )
        .await
    })?;
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
