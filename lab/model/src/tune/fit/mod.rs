//! `lab tune --trace`: the workload fitted from a recording of the group's offsets
//! ([`crate::trace`]: what `lab record`, `lab lag --record`, `lab simulate` or `lab
//! replay` wrote), so that tune searches settings for the workload the cluster really had.
//!
//! - **Produce rate** ([`rates`]): the log ends' growth over 30 s windows; neighbouring
//!   windows within a quarter of each other make one phase at that rate, windows without
//!   events a phase without a producer, and one window ten times its neighbours a batch
//!   burst (its events sent at once).
//! - **Key spread**: partitions that got no event are silent; one partition with clearly
//!   more than its share is the hot partition.
//! - **Commit interval**: a partition's committed offset moves in steps, one at each of
//!   its owner's commits; the time between steps that left work on the partition (the
//!   next commit had something to commit) is the interval ([`recording`]). Steps one
//!   sample apart only bound it: then it is searched with the processing time.
//! - **Processing time** ([`search`]): the one whose simulation, with the ScaledObject the
//!   recording ran with, looks most like the recording phase by phase: the share of time
//!   at each replica count and the lag's level and spread ([`shape`]); with the range of
//!   those as good within the seeds' noise.
//!
//! Gaps (the recorder missed samples) of up to [`LONGEST_GAP_S`] are bridged: the log
//! ends are read linearly across them and no replica count is made up. Everything a
//! trace cannot show (pod start, rebalance rounds, the session timeout) comes from the
//! scenario given with it.

pub mod rates;
pub mod recording;
pub mod search;
pub mod shape;

use crate::emulator::ScalingSpec;
use crate::scenario::{Phase, Scenario};
pub use rates::{Rate, Spread, IDLE_RATE, WINDOW_S};
pub use recording::{Gap, Recording};
use shape::Shape;

/// The least recorded time a fit needs, s (four KEDA polls at the default 30 s).
pub const MIN_SECONDS: f64 = 120.0;
/// The fewest events produced over the trace that a fit needs.
pub const MIN_EVENTS: i64 = 20;
/// The longest gap a fit bridges, s: ten KEDA polls at the default 30 s; over a longer
/// one the replicas and the rate are unknown for longer than KEDA's decisions last.
pub const LONGEST_GAP_S: f64 = 300.0;
/// The largest share of a recording gaps may take.
pub const MOST_GAPS: f64 = 0.1;
/// Seeds the fitted workload's own shape is shown over.
const SHOWN_SEEDS: u64 = 3;

/// Where the commit interval came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CommitFrom {
    /// The committed offsets' steps: this many, their median, ms; `all` when too few
    /// steps left work and every step was read.
    Steps {
        steps: u64,
        median_ms: u64,
        all: bool,
    },
    /// Steps one sample apart: the interval is at most the sample interval (ms), and was
    /// searched.
    Sampling { interval_ms: u64 },
    /// No steps to read: the scenario's.
    Scenario,
}

/// The fitted workload.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The given scenario with the fitted phases, partitions, start replicas, commit
    /// interval and processing time.
    pub scenario: Scenario,
    /// Samples with offsets, seconds they span, events produced over them.
    pub samples: usize,
    pub seconds: f64,
    pub produced: i64,
    pub phases: Vec<Rate>,
    pub spread: Spread,
    pub commit_from: CommitFrom,
    /// Processing times and commit intervals as good as the fitted ones within the
    /// seeds' noise, ms.
    pub plausible_processing: (u64, u64),
    pub plausible_commit: (u64, u64),
    /// Processing times slower than this were not tried, ms: a replica did 1/this of
    /// events a second in the fastest window (with a quarter's margin).
    pub slowest_ms: u64,
    /// The loss at the fitted timing, and its standard error (the jackknife over seeds).
    pub loss: (f64, f64),
    /// The recording's shape and the fitted workload's (seeds pooled), phase by phase.
    pub recorded: Shape,
    pub fitted: Shape,
    pub gaps: Vec<Gap>,
    /// Simulations the search ran.
    pub simulations: u64,
}

/// Fits `base`'s workload to `recording`, recorded under the ScaledObject `spec`,
/// simulating on `threads` threads; errors say what the recording lacks.
pub fn fit(
    base: &Scenario,
    spec: &ScalingSpec,
    recording: &Recording,
    threads: usize,
) -> anyhow::Result<Fit> {
    let points = &recording.points;
    anyhow::ensure!(
        points.len() >= 2,
        "the trace has {} sample(s) with offsets: a fit needs at least {MIN_SECONDS:.0} s of them",
        points.len()
    );
    let (first, last) = (&points[0], &points[points.len() - 1]);
    let seconds = last.t - first.t;
    let produced = last.end_total - first.end_total;
    anyhow::ensure!(
        seconds >= MIN_SECONDS && produced >= MIN_EVENTS,
        "the trace covers {seconds:.0} s in which {produced} events were produced: a fit needs at \
         least {MIN_SECONDS:.0} s and {MIN_EVENTS} events (record longer, while the producer runs)"
    );
    anyhow::ensure!(
        points.iter().any(|p| p.replicas.is_some()),
        "the trace has no replica counts (\"replicas\" on its lines): a replica's throughput \
         cannot be fitted without them. lab record writes them, lab simulate and lab replay too"
    );
    bridgeable(recording)?;
    let phases = rates::merge(&rates::windows(recording));
    let spread = rates::spread(recording);
    let mut scenario = scenario(base, first.replicas, recording, &phases, &spread)?;
    let (commit_intervals, commit_from) = commit(recording, base.consumer.commit_interval_ms);
    let recorded = Shape::recorded(recording, &phases);
    let slowest_ms = slowest(recording);
    let found = search::Grid {
        scenario: &scenario,
        spec,
        recorded: &recorded,
        seconds: phases.iter().map(|p| p.seconds).collect(),
        slowest_ms,
        commit_intervals,
        threads,
    }
    .search()?;
    scenario.consumer.processing_ms = found.best.timing.processing_ms;
    scenario.consumer.commit_interval_ms = found.best.timing.commit_interval_ms;
    let mut fitted = Shape::default();
    for seed in 1..=SHOWN_SEEDS {
        fitted.pool(&Shape::simulated(&scenario, spec, seed)?);
    }
    Ok(Fit {
        scenario,
        samples: points.len(),
        seconds,
        produced,
        phases,
        spread,
        commit_from,
        plausible_processing: found.plausible,
        plausible_commit: found.plausible_commit,
        slowest_ms,
        loss: (found.best.loss, found.best.standard_error()),
        recorded,
        fitted,
        gaps: recording.gaps.clone(),
        simulations: found.simulations,
    })
}

/// Refuses gaps a fit cannot bridge, saying where they are and what to do.
fn bridgeable(recording: &Recording) -> anyhow::Result<()> {
    if let Some(gap) = recording
        .gaps
        .iter()
        .max_by(|a, b| a.seconds().total_cmp(&b.seconds()))
        .filter(|g| g.seconds() > LONGEST_GAP_S)
    {
        anyhow::bail!(
            "the trace has a gap of {:.0} s from t={} to t={} (lines {} and {}): a fit bridges gaps of at \
             most {LONGEST_GAP_S:.0} s. Record that time again, or fit the part before the gap (lines up to \
             {}) or after it (from line {}) on its own",
            gap.seconds(),
            gap.from_t,
            gap.to_t,
            gap.from_line,
            gap.to_line,
            gap.from_line,
            gap.to_line
        );
    }
    let share = recording.gap_seconds() / recording.seconds().max(f64::MIN_POSITIVE);
    anyhow::ensure!(
        share <= MOST_GAPS,
        "gaps make up {:.0} % of the trace ({} gaps, {:.0} s): a fit bridges at most {:.0} %. Record again \
         with fewer interruptions (lab record retries a failed read every second)",
        100.0 * share,
        recording.gaps.len(),
        recording.gap_seconds(),
        100.0 * MOST_GAPS
    );
    Ok(())
}

/// The commit intervals to try, ms, and where they came from (see the module's header).
fn commit(recording: &Recording, scenario_ms: u64) -> (Vec<u64>, CommitFrom) {
    let all = recording.commit_steps.len() < 10;
    let steps = match all {
        true => &recording.all_commit_steps,
        false => &recording.commit_steps,
    };
    if steps.len() < 3 {
        return (vec![scenario_ms], CommitFrom::Scenario);
    }
    let median_ms = steps.quantile(0.5);
    // Steps that skipped a commit (nothing new) are multiples: the median's double at most.
    let mean = steps.mean_up_to(2 * median_ms).unwrap_or(median_ms as f64);
    let sampling_ms = (recording.interval_s * 1000.0).round() as u64;
    // Steps one sample apart, nearly all: the interval is the sampling's or shorter.
    if median_ms <= sampling_ms && mean < 1.2 * sampling_ms as f64 {
        let tried = [sampling_ms / 4, sampling_ms / 2, sampling_ms]
            .map(|ms| (ms / 10 * 10).max(10))
            .to_vec();
        return (
            tried,
            CommitFrom::Sampling {
                interval_ms: sampling_ms,
            },
        );
    }
    (
        vec![((mean / 10.0).round() as u64 * 10).max(10)],
        CommitFrom::Steps {
            steps: steps.len(),
            median_ms,
            all,
        },
    )
}

/// The slowest processing time the recording allows, ms: a replica did at least the
/// fastest window's committed events a second (with a quarter's margin for commits
/// falling either side of a window's ends); 10 s when no window shows work done.
fn slowest(recording: &Recording) -> u64 {
    let points = &recording.points;
    let mut fastest = None::<f64>;
    let mut i = 0;
    while i + 1 < points.len() {
        let start = points[i].t;
        let j = (points.partition_point(|p| p.t <= start + WINDOW_S) - 1).max(i + 1);
        let window = &points[i..=j];
        i = j;
        let (a, b) = (&window[0], &window[window.len() - 1]);
        let steady = window.iter().all(|p| p.replicas == a.replicas);
        let (Some(r), Some(from), Some(to)) =
            (a.replicas.filter(|r| *r > 0), a.committed, b.committed)
        else {
            continue;
        };
        if steady && b.t - a.t >= WINDOW_S / 2.0 && to > from {
            let per_replica = (to - from) as f64 / (b.t - a.t) / f64::from(r);
            fastest = Some(fastest.map_or(per_replica, |f: f64| f.max(per_replica)));
        }
    }
    fastest.map_or(10_000, |f| ((1250.0 / f).round() as u64).clamp(5, 10_000))
}

/// `base` with the fitted workload.
fn scenario(
    base: &Scenario,
    first_replicas: Option<u32>,
    recording: &Recording,
    phases: &[Rate],
    spread: &Spread,
) -> anyhow::Result<Scenario> {
    let mut scenario = base.clone();
    scenario.name = format!("{}-fitted", base.name);
    scenario.description = format!(
        "{}'s settings with a workload fitted from a trace.",
        base.name
    );
    scenario.partitions = recording.first_ends.len() as u32;
    scenario.start_replicas = first_replicas.unwrap_or(base.start_replicas);
    scenario.history = None;
    scenario.consumer.stuck_partition = None;
    // The model's hot partition is partition 0: the hot one and 0 trade places.
    let hot = spread.hot_share.map_or(0, |(p, _)| p);
    let renumbered: Vec<u32> = spread
        .silent
        .iter()
        .map(|&p| match p {
            0 => hot,
            p if p == hot => 0,
            p => p,
        } as u32)
        .collect();
    scenario.phases = phases
        .iter()
        .enumerate()
        .map(|(i, rate)| {
            let burst = rates::is_burst(phases, i);
            let producing = rate.per_s >= IDLE_RATE && !burst;
            Phase {
                name: match (burst, producing) {
                    (true, _) => {
                        format!("fitted {}: a burst of {:.0} events", i + 1, rate.events())
                    }
                    (false, false) => format!("fitted {}: no producer", i + 1),
                    (false, true) => format!("fitted {}: {:.2} events/s", i + 1, rate.per_s),
                },
                seconds: (rate.seconds.round() as u64).max(1),
                // A burst is sent by a producer pod's first tick, with its one event of the
                // hour: the burst's events less one.
                producer_period_ms: match (burst, producing) {
                    (true, _) => Some(3_600_000),
                    (false, true) => {
                        Some(((1000.0 / rate.per_s).round() as u64).clamp(1, 3_600_000))
                    }
                    (false, false) => None,
                },
                burst: burst.then(|| (rate.events().round() as u64).saturating_sub(1)),
                hot_partition_share: spread.hot_share.map(|(_, share)| share),
                silent_partitions: renumbered.clone(),
                ..Phase::default()
            }
        })
        .collect();
    scenario.validate()?;
    Ok(scenario)
}

/// The fit as a Markdown section.
pub fn markdown(fit: &Fit, trace: &str) -> String {
    let mut out = format!(
        "## The workload, fitted from {trace}\n\n{} samples over {:.0} s, {} events produced, {} partitions.{}\n\n",
        fit.samples,
        fit.seconds,
        fit.produced,
        fit.scenario.partitions,
        gaps(fit)
    );
    let mut table = crate::markdown::Table::new([
        "from, s",
        "seconds",
        "produced, events/s",
        "producer period",
        "replicas, recorded (fitted)",
        "lag p50 / p95, recorded (fitted)",
    ]);
    for (i, (rate, phase)) in fit.phases.iter().zip(&fit.scenario.phases).enumerate() {
        let (rec, sim) = (&fit.recorded.phases[i], &fit.fitted.phases[i]);
        table.row([
            format!("{:.0}", rate.start),
            format!("{:.0}", rate.seconds),
            format!("{:.2}", rate.per_s),
            phase
                .producer_period_ms
                .map_or("none".to_owned(), |p| format!("{p} ms")),
            format!("{:.2} ({:.2})", rec.mean_replicas(), sim.mean_replicas()),
            format!(
                "{} / {} ({} / {})",
                rec.lags.quantile(0.5),
                rec.lags.quantile(0.95),
                sim.lags.quantile(0.5),
                sim.lags.quantile(0.95)
            ),
        ]);
    }
    out.push_str(&format!("{table}\n"));
    if let Some((p, share)) = fit.spread.hot_share {
        out.push_str(&format!(
            "- Key skew: partition {p} took {:.0} % of the events.\n",
            100.0 * share
        ));
    }
    if !fit.spread.silent.is_empty() {
        out.push_str(&format!(
            "- Partitions without events: {:?}.\n",
            fit.spread.silent
        ));
    }
    out.push_str(&commit_line(fit));
    let (lo, hi) = fit.plausible_processing;
    out.push_str(&format!(
        "- Processing: **{} ms per event** (as good within the seeds' noise: {lo}-{hi} ms), of the processing times \
         up to {} ms (a replica's fastest 30 s window, with a quarter's margin): the one whose simulation with the \
         given ScaledObject looks most like the recording, phase by phase (time at each replica count, lag p50, \
         p75, p95). Loss {:.3} ± {:.3} over {} simulations.\n\n",
        fit.scenario.consumer.processing_ms,
        fit.slowest_ms,
        fit.loss.0,
        fit.loss.1,
        fit.simulations
    ));
    if hi > 2 * lo.max(1) {
        out.push_str(&format!(
            "- **The recording hardly shows the processing time**: anything from {lo} to {hi} ms fits it about as \
             well. This happens when the committed offsets' own trail (about half a commit interval of events, of \
             {} ms here) makes most of the lag KEDA reads, so the consumers' speed barely moves the replica count; \
             a recording in which one consumer is saturated for a while (a rate step, a burst) shows it. Check \
             settings tuned here with `lab simulate` at {hi} ms too.\n\n",
            fit.scenario.consumer.commit_interval_ms
        ));
    }
    out
}

/// ` 2 gaps where the recorder missed samples: 45 s (0.4 %), the longest 30 s from t=...`
fn gaps(fit: &Fit) -> String {
    let Some(longest) = fit
        .gaps
        .iter()
        .max_by(|a, b| a.seconds().total_cmp(&b.seconds()))
    else {
        return String::new();
    };
    let total: f64 = fit.gaps.iter().map(Gap::seconds).sum();
    format!(
        " {} gap(s) where the recorder missed samples, {total:.0} s in all ({:.1} % of the trace), the longest \
         {:.0} s from t={} (line {}): bridged, the log ends read linearly across them, no replica count made up.",
        fit.gaps.len(),
        100.0 * total / fit.seconds.max(f64::MIN_POSITIVE),
        longest.seconds(),
        longest.from_t,
        longest.from_line
    )
}

fn commit_line(fit: &Fit) -> String {
    let ms = fit.scenario.consumer.commit_interval_ms;
    match fit.commit_from {
        CommitFrom::Steps {
            steps,
            median_ms,
            all,
        } => format!(
            "- Commit interval: **{ms} ms**, the mean time between {steps} steps of a partition's committed offset{} \
             (median {median_ms} ms; steps that skipped a commit with nothing new left out).\n",
            if all { "" } else { " that left work on it" }
        ),
        CommitFrom::Sampling { interval_ms } => {
            let (lo, hi) = fit.plausible_commit;
            format!(
                "- Commit interval: at most the {interval_ms} ms between samples (committed offsets stepped at every \
                 sample): **{ms} ms** fitted with the processing time (as good: {lo}-{hi} ms).\n"
            )
        }
        CommitFrom::Scenario => format!(
            "- Commit interval: {ms} ms, the scenario's (the committed offsets hardly moved: no steps to time).\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceSample;

    /// One replica keeps 1 event/s, falls behind at 10 events/s with 200 ms per event
    /// until KEDA adds replicas, then the producer stops.
    fn recorded() -> (Scenario, ScalingSpec, Vec<TraceSample>) {
        let mut scenario = Scenario::published().unwrap();
        scenario.consumer.processing_ms = 200;
        scenario.phases = vec![
            Phase {
                name: "slow".into(),
                seconds: 120,
                producer_period_ms: Some(1000),
                ..Phase::default()
            },
            Phase {
                name: "fast".into(),
                seconds: 240,
                producer_period_ms: Some(100),
                ..Phase::default()
            },
            Phase {
                name: "stopped".into(),
                seconds: 120,
                ..Phase::default()
            },
        ];
        let spec = scenario.load_scaled_object().unwrap().spec;
        let timeline = crate::simulate::run(&scenario, &spec, 7).unwrap();
        (scenario, spec, timeline.trace)
    }

    fn fit_of(base: &Scenario, spec: &ScalingSpec, trace: &[TraceSample]) -> anyhow::Result<Fit> {
        fit(base, spec, &Recording::of(trace, &spec.trigger)?, 2)
    }

    #[test]
    fn a_simulated_recording_fits_back_to_its_workload() {
        let (mut base, spec, trace) = recorded();
        // What the trace must tell: the processing time, the commit interval, the phases.
        base.consumer.processing_ms = 20;
        base.consumer.commit_interval_ms = 5000;
        base.phases.truncate(1);
        let fit = fit_of(&base, &spec, &trace).unwrap();
        let periods: Vec<Option<u64>> = fit
            .scenario
            .phases
            .iter()
            .map(|p| p.producer_period_ms)
            .collect();
        assert_eq!(periods.len(), 3, "{:#?}", fit.phases);
        let near = |got: Option<u64>, want: u64| got.is_some_and(|g| g.abs_diff(want) * 10 <= want);
        assert!(
            near(periods[0], 1000) && near(periods[1], 100),
            "{periods:?}"
        );
        assert_eq!(periods[2], None);
        let consumer = &fit.scenario.consumer;
        assert!(
            consumer.processing_ms.abs_diff(200) <= 50,
            "{} ms per event",
            consumer.processing_ms
        );
        assert!(
            matches!(fit.commit_from, CommitFrom::Steps { .. })
                && consumer.commit_interval_ms.abs_diff(2070) <= 200,
            "{:?}: {} ms",
            fit.commit_from,
            consumer.commit_interval_ms
        );
        let (lo, hi) = fit.plausible_processing;
        assert!(lo <= consumer.processing_ms && consumer.processing_ms <= hi);
        assert_eq!((fit.spread.hot_share, fit.spread.silent.len()), (None, 0));
        let text = markdown(&fit, "trace.jsonl");
        assert!(
            text.contains("**2070 ms**") || text.contains("Commit interval: **"),
            "{text}"
        );
    }

    #[test]
    fn a_trace_too_short_without_movement_or_replicas_says_what_is_needed() {
        let (base, spec, trace) = recorded();
        let short = format!("{:#}", fit_of(&base, &spec, &trace[..60]).unwrap_err());
        assert!(
            short.contains("covers 59 s") && short.contains("at least 120 s and 20 events"),
            "{short}"
        );
        let still: Vec<TraceSample> = trace
            .iter()
            .map(|s| TraceSample {
                partitions: trace[0].partitions.clone(),
                ..s.clone()
            })
            .collect();
        let still = format!("{:#}", fit_of(&base, &spec, &still).unwrap_err());
        assert!(still.contains("0 events were produced"), "{still}");
        let unknown: Vec<TraceSample> = trace
            .iter()
            .map(|s| TraceSample {
                replicas: None,
                ..s.clone()
            })
            .collect();
        let unknown = format!("{:#}", fit_of(&base, &spec, &unknown).unwrap_err());
        assert!(unknown.contains("no replica counts"), "{unknown}");
    }

    #[test]
    fn gaps_are_bridged_up_to_five_minutes_and_refused_beyond_saying_where() {
        let (base, spec, trace) = recorded();
        // 40 s missing in the middle: bridged, and said.
        let mut gapped = trace.clone();
        gapped.drain(200..240);
        let fit = fit_of(&base, &spec, &gapped).unwrap();
        assert_eq!(fit.gaps.len(), 1);
        let text = markdown(&fit, "trace.jsonl");
        assert!(
            text.contains("1 gap(s) where the recorder missed samples, 41 s in all"),
            "{text}"
        );
        // A longer trace with 400 s missing: refused, with the lines on either side.
        let mut long = base.clone();
        long.phases[0].seconds = 1200;
        let mut trace = crate::simulate::run(&long, &spec, 1).unwrap().trace;
        trace.drain(300..700);
        let err = format!("{:#}", fit_of(&base, &spec, &trace).unwrap_err());
        assert!(
            err.contains("a gap of 401 s from t=299 to t=700 (lines 300 and 301)")
                && err.contains("at most 300 s"),
            "{err}"
        );
    }

    #[test]
    fn skewed_and_silent_partitions_are_found() {
        let (base, spec, trace) = recorded();
        // Partition 3 gets every other event's worth on top; partition 8 none.
        let skewed: Vec<TraceSample> = trace
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if let Some(parts) = &mut s.partitions {
                    let extra = parts[3].end;
                    parts[3].end += extra * 2;
                    parts[8].end = trace[0].partitions.as_ref().unwrap()[8].end;
                    parts[8].committed = Some(parts[8].end);
                }
                s
            })
            .collect();
        let fit = fit_of(&base, &spec, &skewed).unwrap();
        let (hot, share) = fit.spread.hot_share.unwrap();
        assert!(hot == 3 && share > 0.25, "{:?}", fit.spread.hot_share);
        assert_eq!(fit.spread.silent, vec![8]);
        // The model's hot partition is 0; partition 8 stays the silent one.
        assert_eq!(fit.scenario.phases[0].silent_partitions, vec![8]);
    }
}
