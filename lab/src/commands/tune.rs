//! `lab tune`: search the ScaledObject settings for the scenario's workload, write the
//! recommendation and every candidate, and with `--verify` replay the recommendation with
//! the real binaries.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;

use super::{load_scenario, out_dir, scenario_spec};
use crate::report::tune as report;
use lab_model::keda::model::ScaledObject;
use lab_model::scenario::Scenario;
use lab_model::tune::{fit, Figures, Knobs, Outcome, Progress, Search, Strategy};

/// Find the ScaledObject settings the scenario's workload should have.
///
/// Candidates (lagThreshold, activationLagThreshold, pollingInterval, cooldownPeriod,
/// min/max replicas, the scale-up and scale-down windows and policy, the trigger's
/// partition options) are simulated over the same seeds as the given ScaledObject. The
/// objective: p95 lag no worse than the given ScaledObject's (or --max-p95-lag), p95 delay
/// within --max-p95-delay if given; then the fewest replica-seconds, then the fewest scale
/// changes.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// published, original, diurnal, or a scenario file (.toml, .yaml).
    #[arg(long, default_value = "published")]
    pub scenario: String,
    /// The ScaledObject to improve on (default: the scenario's); with --trace, the one
    /// the recording ran with.
    #[arg(long)]
    pub scaled_object: Option<PathBuf>,
    /// A recording to fit the workload to (JSON lines with the replicas running: the
    /// trace.jsonl of lab record, lab simulate or lab replay): the produce rate's phases,
    /// the key spread, the commit interval and the processing time; the scenario gives
    /// what a trace cannot show (pod start, rebalance rounds, the session timeout).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Seeds the baseline and each finalist are simulated over.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub seeds: u64,
    /// Random candidates to draw before the local search around the best (at most the
    /// search space, 103,680).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=Knobs::SPACE as u64))]
    pub candidates: u64,
    /// raced: all candidates on a few seeds, the best third on three times as many, until
    /// the finalists have every seed (successive halving); exhaustive: every candidate on
    /// every seed.
    #[arg(long, default_value = "raced", value_parser = clap::builder::PossibleValuesParser::new(["raced", "exhaustive"]))]
    pub search: String,
    /// Bound on the p95 lag, events (default: the given ScaledObject's p95 lag).
    #[arg(long)]
    pub max_p95_lag: Option<f64>,
    /// Bound on the p95 time from produced to processed, s (default: none).
    #[arg(long)]
    pub max_p95_delay: Option<f64>,
    /// Threads to simulate on (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Where the results go (default lab-out/<scenario>-tune).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replay the recommendation with the real producer and consumers on the embedded
    /// broker and report whether it met the objective there.
    #[arg(long)]
    pub verify: bool,
    /// The verify replay's speed (as `lab replay --speed`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub speed: u64,
}

pub fn tune(args: TuneArgs) -> anyhow::Result<()> {
    let mut scenario = load_scenario(&args.scenario, args.scaled_object.clone())?;
    // Refused as `lab plan` refuses it.
    let baseline_spec = scenario_spec(&scenario)?;
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let fitted = match &args.trace {
        Some(path) => {
            let started = Instant::now();
            eprintln!("fitting the workload to {} ...", path.display());
            let recording = fit::Recording::read(path, &baseline_spec.trigger)?;
            let fit = fit::fit(&scenario, &baseline_spec, &recording, threads)
                .with_context(|| format!("{}: cannot fit a workload", path.display()))?;
            let text = format!(
                "{}Fitted in {:.1} s.\n\n",
                fit::markdown(&fit, &path.display().to_string()),
                started.elapsed().as_secs_f64()
            );
            eprint!("{text}");
            scenario = fit.scenario;
            Some(text)
        }
        None => None,
    };
    let baseline = baseline_manifest(&scenario)?;
    let search = Search {
        scenario: &scenario,
        baseline: &baseline,
        baseline_spec: &baseline_spec,
        seeds: args.seeds,
        candidates: args.candidates as usize,
        max_p95_lag: args.max_p95_lag,
        max_p95_delay_s: args.max_p95_delay,
        threads,
        strategy: args
            .search
            .parse::<Strategy>()
            .map_err(anyhow::Error::msg)?,
    };
    let started = Instant::now();
    let outcome = search_with_progress(&search)?;
    let took = started.elapsed();
    let dir = out_dir(args.out.clone(), &scenario, "tune");
    report::write_files(&outcome, &dir)?;
    if let Some(stopped) = outcome.stopped {
        let summary = report::summary(&outcome, &scenario.name, None);
        std::fs::write(dir.join("summary.md"), &summary)?;
        print!("{summary}");
        eprintln!(
            "stopped after {} of {} simulations: the candidates so far are in {}, marked as a partial search",
            stopped.done,
            stopped.planned,
            dir.display()
        );
        return Err(super::ExitWith(130).into());
    }
    let verdict = match (args.verify, outcome.recommendation()) {
        (true, Some(best)) => Some(verify(&scenario, best, &outcome, &args, &dir)?),
        _ => None,
    };
    let mut summary = report::summary(&outcome, &scenario.name, verdict.as_deref());
    if let Some(best) = outcome.recommendation() {
        let spec = lab_model::keda::validate::validate(&best.manifest)
            .into_spec()
            .map_err(|p| anyhow::anyhow!("the recommendation is refused: {p:?}"))?;
        let current = lab_model::simulate::samples(&scenario, &baseline_spec, 1)?;
        let better = lab_model::simulate::samples(&scenario, &spec, 1)?;
        std::fs::write(dir.join("chart.svg"), report::chart(&current, &better))?;
        let names: Vec<String> = scenario.phases.iter().map(|p| p.name.clone()).collect();
        summary.push_str(&report::phases(&names, &current, &better));
    }
    if let Some(text) = &fitted {
        summary.push_str(text);
    }
    summary.push_str(&format!(
        "Searched in {:.1} s on {threads} thread(s): {} simulations.\n",
        took.as_secs_f64(),
        outcome.simulations
    ));
    std::fs::write(dir.join("summary.md"), &summary)?;
    print!("{summary}");
    println!("results in {}", dir.display());
    anyhow::ensure!(
        outcome.recommendation().is_some(),
        "no candidate meets the objective (see {}: the nearest and the bounds each misses)",
        dir.join("summary.md").display()
    );
    Ok(())
}

/// Runs `search` with a progress bar over its simulations; the first Ctrl-C stops it
/// with what it has (a second ends the process).
fn search_with_progress(search: &Search) -> anyhow::Result<Outcome> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sigint = signal_hook::consts::SIGINT;
    signal_hook::flag::register_conditional_shutdown(sigint, 130, stop.clone())?;
    let registered = signal_hook::flag::register(sigint, stop.clone())?;
    let bar = std::sync::Mutex::new(crate::progress::Progress::new(
        "tune",
        search.planned(),
        "simulations",
    ));
    let tell = |done: u64, planned: u64| {
        let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
        bar.set_total(planned);
        bar.set(done, "");
    };
    let outcome = search.run(&Progress {
        tell: &tell,
        stop: &stop,
    });
    bar.lock().unwrap_or_else(|e| e.into_inner()).finish();
    signal_hook::low_level::unregister(registered);
    outcome
}

/// The scenario's ScaledObject, typed (the compiled-in default where the repository is
/// not).
fn baseline_manifest(scenario: &Scenario) -> anyhow::Result<ScaledObject> {
    let path = scenario.scaled_object_path();
    let text = if path.exists() {
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?
    } else {
        lab_model::keda::REPOSITORY_SCALED_OBJECT.to_owned()
    };
    let shown = path.display().to_string();
    let checked = lab_model::keda::check_text(&text, &shown)?;
    checked
        .object
        .ok_or_else(|| anyhow::anyhow!("{shown}: the ScaledObject does not fit KEDA's schema"))
}

/// Replays the recommendation on the embedded broker; returns the verdict paragraph.
fn verify(
    scenario: &Scenario,
    best: &lab_model::tune::Candidate,
    outcome: &Outcome,
    args: &TuneArgs,
    dir: &std::path::Path,
) -> anyhow::Result<String> {
    let spec = lab_model::keda::validate::validate(&best.manifest)
        .into_spec()
        .map_err(|p| anyhow::anyhow!("the recommendation is refused: {p:?}"))?;
    let replay_dir = dir.join("verify");
    eprintln!(
        "verifying: replaying the recommendation on the embedded broker ({}x)...",
        args.speed
    );
    if let Some(warning) = lab_replay::speed_warning(args.speed) {
        eprintln!("warning: --speed {}: {warning}", args.speed);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut live = crate::live::LiveView::new(scenario.seconds());
    let replayed = runtime.block_on(lab_replay::run(
        lab_replay::Setup {
            scenario: scenario.clone(),
            spec: spec.clone(),
            brokers: None,
            speed: args.speed,
            ledger_dir: replay_dir.join("ledger"),
        },
        tokio_util::sync::CancellationToken::new(),
        &mut live,
    ));
    live.finish();
    let replayed = replayed?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    crate::report::write_all(
        &replayed.timeline,
        &spec,
        Some(&replayed.accounting),
        &replayed.notes,
        &replay_dir,
    )?;
    let figures = Figures::of(std::slice::from_ref(&replayed.timeline));
    let objective = &outcome.objective;
    let verdict = |ok: bool| if ok { "met" } else { "missed" };
    let lag = format!(
        "p95 lag {:.0} against the bound {:.0}: **{}**",
        figures.p95_lag,
        objective.max_p95_lag,
        verdict(figures.p95_lag <= objective.max_p95_lag)
    );
    // The delays come from the consumers' ledgers: each event's `time` to its processing.
    let delay = match (
        replayed.timeline.event_delays.is_empty(),
        objective.max_p95_delay_s,
    ) {
        (true, Some(bound)) => format!(
            "p95 delay against the bound {bound:.1} s: **not measured** (no event was made and \
             processed within the replay)"
        ),
        (true, None) => {
            "no event delay measured (none made and processed within the replay)".into()
        }
        (false, Some(bound)) => format!(
            "p95 delay {:.1} s against the bound {bound:.1} s: **{}** ({:.1} s simulated)",
            figures.p95_delay_s,
            verdict(figures.p95_delay_s <= bound),
            best.figures.p95_delay_s
        ),
        (false, None) => format!(
            "p95 delay {:.1} s, no bound given ({:.1} s simulated)",
            figures.p95_delay_s, best.figures.p95_delay_s
        ),
    };
    Ok(format!(
        "The recommendation replayed once with the real producer and consumers on the embedded broker \
         (reports in `verify/`): {lag}; {delay}; {:.0} replica-seconds ({:.0} simulated); {} events lost. \
         The delay is each event's, from its `time` to its first processing, read from the consumers' ledgers.",
        figures.replica_seconds,
        best.figures.replica_seconds,
        replayed.accounting.total.lost
    ))
}
