//! The fit on workloads it is never shown: each scenario file (default: every one in
//! lab/tests/fixtures/fit) is simulated on seed 1 (or `--seed N`), as `lab simulate`
//! would, and its trace
//! fitted with the published scenario as the base (its 50 ms and 2070 ms are not the
//! truth), as `lab tune --trace` would. Prints each workload's truth, the fit and the
//! error: the figures the docs quote.
//!
//!   cargo run --release -p keda-kafka-lab-model --example fit_workloads [-- --seed N] [FILE...]

use lab_model::markdown::Table;
use lab_model::scenario::Scenario;
use lab_model::tune::fit;

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut seed = 1;
    if args.first().is_some_and(|a| a == "--seed") {
        seed = args.get(1).map_or(Ok(1), |s| s.parse())?;
        args.drain(..2.min(args.len()));
    }
    let mut files: Vec<std::path::PathBuf> = args.into_iter().map(Into::into).collect();
    if files.is_empty() {
        let dir = lab_model::scenario::repo_root().join("lab/tests/fixtures/fit");
        for entry in std::fs::read_dir(&dir)? {
            files.push(entry?.path());
        }
        files.sort();
    }
    let base = Scenario::published()?;
    let base_spec = base.load_scaled_object()?.spec;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut table = Table::new([
        "workload",
        "partitions",
        "true processing",
        "fitted (as good)",
        "error",
        "true commit",
        "fitted commit",
        "fit time",
    ]);
    for file in &files {
        let truth = Scenario::load(&file.display().to_string())?;
        let spec = truth.load_scaled_object()?.spec;
        let trace = lab_model::simulate::run(&truth, &spec, seed)?.trace;
        let started = std::time::Instant::now();
        let recording = fit::Recording::of(&trace, &base_spec.trigger)?;
        let fitted = fit::fit(&base, &spec, &recording, threads)?;
        let took = started.elapsed().as_secs_f64();
        let (p, c) = (
            fitted.scenario.consumer.processing_ms,
            fitted.scenario.consumer.commit_interval_ms,
        );
        let error = |got: u64, want: u64| 100.0 * (got as f64 - want as f64) / want as f64;
        let (lo, hi) = fitted.plausible_processing;
        table.row([
            truth.name.clone(),
            truth.partitions.to_string(),
            format!("{} ms", truth.consumer.processing_ms),
            format!("{p} ms ({lo}-{hi})"),
            format!("{:+.0} %", error(p, truth.consumer.processing_ms)),
            format!("{} ms", truth.consumer.commit_interval_ms),
            match fitted.commit_from {
                fit::CommitFrom::Sampling { interval_ms } => format!(
                    "{c} ms ({:+.0} %; at most the {interval_ms} ms between samples, as good {}-{})",
                    error(c, truth.consumer.commit_interval_ms),
                    fitted.plausible_commit.0,
                    fitted.plausible_commit.1
                ),
                _ => format!("{c} ms ({:+.0} %)", error(c, truth.consumer.commit_interval_ms)),
            },
            format!("{took:.1} s"),
        ]);
    }
    print!("{table}");
    Ok(())
}
