//! `lab tune --trace`: the workload fitted from a recording of the group's offsets
//! ([`crate::trace`], what `lab lag --record` or `scripts/kind-experiment` wrote on a
//! cluster), so that tune searches settings for the workload the cluster really had.
//!
//! - **Produce rate**: the log ends' growth over 30 s windows; neighbouring windows within
//!   a quarter of each other make one phase at that rate (a producer period), windows
//!   without events a phase without a producer.
//! - **Key spread**: partitions that got no event are silent; one partition with clearly
//!   more than its share is the hot partition.
//! - **A replica's throughput**: the committed offsets' growth per running replica, over
//!   the windows in which the group had at least the window's work waiting at its start
//!   (it could not have gone faster). A group that KEDA keeps caught up has no such
//!   window: then the processing time is the one, of a grid within the bound the fastest
//!   window sets, whose simulation runs the recorded replica counts most often.
//!
//! Everything a trace cannot show (commit interval, pod start, rebalance rounds, the
//! ScaledObject) comes from the scenario given with it. [`agreement`] says how well the
//! fitted workload replays the replica counts the recording saw.

use anyhow::Context as _;

use crate::emulator::ScalingSpec;
use crate::scenario::{Phase, Scenario};
use crate::trace::TraceSample;

/// The least recorded time a fit needs, s (four KEDA polls at the default 30 s).
pub const MIN_SECONDS: f64 = 120.0;
/// The fewest events produced over the trace that a fit needs.
pub const MIN_EVENTS: i64 = 20;
/// The windows rates are measured over, s.
const WINDOW_S: f64 = 30.0;
/// Below this, events/s, a window counts as having no producer.
const IDLE_RATE: f64 = 0.1;

/// One window or phase of the fitted workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Seconds from the trace's first sample.
    pub start: f64,
    pub seconds: f64,
    /// Events produced per second.
    pub per_s: f64,
}

/// What the trace says about one replica's throughput.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Throughput {
    /// Measured over `windows` windows in which the group had work waiting throughout.
    Measured { per_replica: f64, windows: usize },
    /// Not measurable: the group never had a window's work waiting. The processing time
    /// whose simulation agrees best with the recorded replica counts, of `tried` on the
    /// grid; a replica did at least `at_least` events/s in the fastest window.
    Replayed { at_least: Option<f64>, tried: usize },
}

/// Processing times tried when the throughput cannot be measured, ms (steps of about a
/// quarter).
const PROCESSING_GRID: [u64; 30] = [
    10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 100, 120, 150, 200, 250, 300, 400, 500, 600, 750, 1000,
    1200, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7500,
];

/// The fitted workload.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The given scenario with the fitted phases, partitions, start replicas and
    /// processing time.
    pub scenario: Scenario,
    /// Samples with offsets, seconds they span, events produced over them.
    pub samples: usize,
    pub seconds: f64,
    pub produced: i64,
    pub phases: Vec<Rate>,
    /// The hot partition's share of the events, when one stands out.
    pub hot_share: Option<(i32, f64)>,
    /// Partitions that got no event.
    pub silent: Vec<i32>,
    pub throughput: Throughput,
    /// How well the fitted workload replays the recorded replica counts.
    pub agreement: Agreement,
}

/// One sample with offsets, reduced to what the fit reads.
struct Point {
    t: f64,
    ends: Vec<i64>,
    end_total: i64,
    /// Committed offsets summed (`None` when a partition has none).
    committed: Option<i64>,
    replicas: Option<u32>,
}

impl Point {
    fn lag(&self) -> Option<i64> {
        self.committed.map(|c| self.end_total - c)
    }
}

/// Fits `base`'s workload to `trace`, recorded under the ScaledObject `spec`, and replays
/// it over seeds 1..=`seeds`; errors say what the trace lacks.
pub fn fit(
    base: &Scenario,
    spec: &ScalingSpec,
    trace: &[TraceSample],
    seeds: u64,
) -> anyhow::Result<Fit> {
    let points = points(trace)?;
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
         cannot be fitted without them. scripts/kind-experiment writes them to trace.jsonl, \
         lab simulate and lab replay too"
    );
    let windows = windows(&points);
    let phases = merge(&windows);
    let (hot_share, silent) = spread(first, last);
    let mut scenario = scenario(base, first, &phases, hot_share, &silent)?;
    let recorded = recorded(trace);
    let (throughput, agreement) = match throughput(&points) {
        Throughput::Measured {
            per_replica,
            windows,
        } => {
            scenario.consumer.processing_ms = (1000.0 / per_replica).round().max(1.0) as u64;
            let agreement = agreement(&scenario, spec, &recorded, seeds)?;
            (
                Throughput::Measured {
                    per_replica,
                    windows,
                },
                agreement,
            )
        }
        Throughput::Replayed { at_least, .. } => {
            replayed(&mut scenario, spec, &recorded, seeds, at_least)?
        }
    };
    Ok(Fit {
        scenario,
        samples: points.len(),
        seconds,
        produced,
        phases,
        hot_share,
        silent,
        throughput,
        agreement,
    })
}

/// The processing time, of the grid and no slower than `at_least` allows, whose
/// simulation runs the `recorded` replica counts most often; set on `scenario`.
fn replayed(
    scenario: &mut Scenario,
    spec: &ScalingSpec,
    recorded: &[(f64, u32)],
    seeds: u64,
    at_least: Option<f64>,
) -> anyhow::Result<(Throughput, Agreement)> {
    // The bound itself when the grid has nothing that fast.
    let bound = at_least.map_or(u64::MAX, |r| ((1000.0 / r).round() as u64).max(1));
    let mut grid: Vec<u64> = PROCESSING_GRID
        .into_iter()
        .filter(|ms| *ms <= bound)
        .collect();
    if grid.is_empty() {
        grid.push(bound);
    }
    let mut best: Option<(u64, Agreement)> = None;
    for &ms in &grid {
        scenario.consumer.processing_ms = ms;
        let a = agreement(scenario, spec, recorded, seeds)?;
        // On a tie the slower consumer: settings tuned for it have headroom.
        if best.is_none_or(|(_, b)| !b.better_than(&a)) {
            best = Some((ms, a));
        }
    }
    let (ms, agreement) = best.context("the grid is never empty")?;
    scenario.consumer.processing_ms = ms;
    let tried = grid.len();
    Ok((Throughput::Replayed { at_least, tried }, agreement))
}

/// The recorded replica counts: (seconds from the first sample with offsets, replicas).
fn recorded(trace: &[TraceSample]) -> Vec<(f64, u32)> {
    let t0 = trace
        .iter()
        .find(|s| s.partitions.is_some())
        .map_or(0.0, |s| s.t);
    trace
        .iter()
        .filter_map(|s| Some((s.t - t0, s.replicas?)))
        .filter(|(t, _)| *t >= 0.0)
        .collect()
}

fn points(trace: &[TraceSample]) -> anyhow::Result<Vec<Point>> {
    let mut points: Vec<Point> = Vec::new();
    for sample in trace.iter().filter(|s| s.partitions.is_some()) {
        let offsets = sample.offsets();
        if let Some(first) = points.first() {
            anyhow::ensure!(
                offsets.len() == first.ends.len(),
                "the sample at t={} has {} partitions, the first one {}: a trace of one topic is needed",
                sample.t,
                offsets.len(),
                first.ends.len()
            );
        }
        let committed = offsets.iter().map(|o| o.committed).sum::<Option<i64>>();
        points.push(Point {
            t: sample.t,
            ends: offsets.iter().map(|o| o.end).collect(),
            end_total: offsets.iter().map(|o| o.end).sum(),
            committed,
            replicas: sample.replicas,
        });
    }
    anyhow::ensure!(
        points.len() >= 2,
        "the trace has {} sample(s) with offsets: a fit needs at least {MIN_SECONDS:.0} s of them",
        points.len()
    );
    Ok(points)
}

/// The last point at or before `t` (the first when none is).
fn at(points: &[Point], t: f64) -> &Point {
    let i = points.partition_point(|p| p.t <= t);
    &points[i.saturating_sub(1)]
}

/// The produce rate over consecutive windows (a last one shorter than half a window joins
/// the one before).
fn windows(points: &[Point]) -> Vec<Rate> {
    let (t0, end) = (points[0].t, points[points.len() - 1].t);
    let mut out: Vec<Rate> = Vec::new();
    let mut start = t0;
    while start < end {
        let mut stop = (start + WINDOW_S).min(end);
        if end - stop < WINDOW_S / 2.0 {
            stop = end;
        }
        let (a, b) = (at(points, start), at(points, stop));
        let per_s = if b.t > a.t {
            (b.end_total - a.end_total) as f64 / (b.t - a.t)
        } else {
            0.0
        };
        out.push(Rate {
            start: start - t0,
            seconds: stop - start,
            per_s,
        });
        start = stop;
    }
    out
}

/// Neighbouring windows whose rates are within a quarter of the phase's so far (or both
/// idle) make one phase.
fn merge(windows: &[Rate]) -> Vec<Rate> {
    let mut phases: Vec<Rate> = Vec::new();
    for w in windows {
        let joins = phases.last().is_some_and(|p| {
            let (idle_p, idle_w) = (p.per_s < IDLE_RATE, w.per_s < IDLE_RATE);
            (idle_p && idle_w)
                || (!idle_p && !idle_w && (w.per_s - p.per_s).abs() <= 0.25 * p.per_s)
        });
        match phases.last_mut() {
            Some(p) if joins => {
                let seconds = p.seconds + w.seconds;
                p.per_s = (p.per_s * p.seconds + w.per_s * w.seconds) / seconds;
                p.seconds = seconds;
            }
            _ => phases.push(*w),
        }
    }
    phases
}

/// The hot partition (its id and share) when it took over 1.5 times an even share of the
/// partitions that got events, and the silent partitions.
fn spread(first: &Point, last: &Point) -> (Option<(i32, f64)>, Vec<i32>) {
    let grown: Vec<i64> = first
        .ends
        .iter()
        .zip(&last.ends)
        .map(|(a, b)| b - a)
        .collect();
    let silent: Vec<i32> = (0..grown.len() as i32)
        .filter(|&p| grown[p as usize] == 0)
        .collect();
    let total: i64 = grown.iter().sum();
    let busy = grown.len() - silent.len();
    let (hot, most) = grown
        .iter()
        .enumerate()
        .max_by_key(|(p, n)| (**n, std::cmp::Reverse(*p)))
        .map_or((0, 0), |(p, n)| (p as i32, *n));
    let share = most as f64 / total.max(1) as f64;
    let hot_share = (busy > 1 && share > 1.5 / busy as f64).then_some((hot, share));
    (hot_share, silent)
}

/// A replica's throughput from the committed offsets' growth (see the module's header).
fn throughput(points: &[Point]) -> Throughput {
    let (t0, end) = (points[0].t, points[points.len() - 1].t);
    let (mut saturated, mut fastest) = (Vec::new(), None::<f64>);
    let mut start = t0;
    while start + WINDOW_S <= end {
        let stop = start + WINDOW_S;
        let inside: Vec<&Point> = points
            .iter()
            .filter(|p| p.t >= start && p.t <= stop)
            .collect();
        start = stop;
        let (Some(a), Some(b)) = (inside.first(), inside.last()) else {
            continue;
        };
        let replicas = a.replicas.filter(|r| {
            *r > 0 && inside.iter().all(|p| p.replicas == Some(*r)) // constant through it
        });
        let (Some(replicas), Some(from), Some(to), Some(lag)) =
            (replicas, a.committed, b.committed, a.lag())
        else {
            continue;
        };
        let done = to - from;
        if done <= 0 || b.t <= a.t {
            continue;
        }
        let per_replica = done as f64 / (b.t - a.t) / f64::from(replicas);
        fastest = Some(fastest.map_or(per_replica, |f| f.max(per_replica)));
        if lag >= done {
            saturated.push(per_replica);
        }
    }
    if saturated.is_empty() {
        return Throughput::Replayed {
            at_least: fastest,
            tried: 0,
        };
    }
    saturated.sort_by(f64::total_cmp);
    Throughput::Measured {
        per_replica: saturated[saturated.len() / 2],
        windows: saturated.len(),
    }
}

/// `base` with the fitted workload.
fn scenario(
    base: &Scenario,
    first: &Point,
    phases: &[Rate],
    hot_share: Option<(i32, f64)>,
    silent: &[i32],
) -> anyhow::Result<Scenario> {
    let mut scenario = base.clone();
    scenario.name = format!("{}-fitted", base.name);
    scenario.description = format!(
        "{}'s settings with a workload fitted from a trace.",
        base.name
    );
    scenario.partitions = first.ends.len() as u32;
    scenario.start_replicas = first.replicas.unwrap_or(base.start_replicas);
    scenario.history = None;
    scenario.consumer.stuck_partition = None;
    // The model's hot partition is partition 0: the hot one and 0 trade places.
    let hot = hot_share.map_or(0, |(p, _)| p);
    let renumbered: Vec<u32> = silent
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
        .map(|(i, rate)| Phase {
            name: match rate.per_s < IDLE_RATE {
                true => format!("fitted {}: no producer", i + 1),
                false => format!("fitted {}: {:.2} events/s", i + 1, rate.per_s),
            },
            seconds: (rate.seconds.round() as u64).max(1),
            producer_period_ms: (rate.per_s >= IDLE_RATE)
                .then(|| ((1000.0 / rate.per_s).round() as u64).clamp(1, 3_600_000)),
            hot_partition_share: hot_share.map(|(_, share)| share),
            silent_partitions: renumbered.clone(),
            ..Phase::default()
        })
        .collect();
    scenario.validate()?;
    Ok(scenario)
}

/// How well a fitted workload replays the recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// Recorded samples with a replica count.
    pub samples: usize,
    pub seeds: u64,
    /// Share of them at which the simulation ran as many replicas, 0..=1.
    pub equal: f64,
    /// Mean |simulated - recorded| replicas.
    pub mean_difference: f64,
}

impl Agreement {
    /// More samples equal, then a smaller mean difference.
    fn better_than(&self, other: &Self) -> bool {
        self.equal
            .total_cmp(&other.equal)
            .then(other.mean_difference.total_cmp(&self.mean_difference))
            .is_gt()
    }
}

/// Simulates `scenario` with `spec` (the ScaledObject the recording ran with) over seeds
/// 1..=`seeds` and compares the replicas running with the `recorded` ones, sample by
/// sample.
fn agreement(
    scenario: &Scenario,
    spec: &ScalingSpec,
    recorded: &[(f64, u32)],
    seeds: u64,
) -> anyhow::Result<Agreement> {
    let (mut equal, mut difference, mut n) = (0usize, 0u64, 0usize);
    for seed in 1..=seeds {
        let timeline = crate::simulate::run(scenario, spec, seed)?;
        for &(t, replicas) in recorded {
            let i = timeline.samples.partition_point(|s| s.t <= t);
            let Some(sample) = timeline.samples.get(i.saturating_sub(1)) else {
                continue;
            };
            equal += usize::from(sample.running == replicas);
            difference += u64::from(sample.running.abs_diff(replicas));
            n += 1;
        }
    }
    Ok(Agreement {
        samples: recorded.len(),
        seeds,
        equal: equal as f64 / n.max(1) as f64,
        mean_difference: difference as f64 / n.max(1) as f64,
    })
}

/// The fit and its agreement as a Markdown section.
pub fn markdown(fit: &Fit, trace: &str) -> String {
    let agreement = &fit.agreement;
    let mut out = format!(
        "## The workload, fitted from {trace}\n\n{} samples over {:.0} s, {} events produced, {} partitions.\n\n",
        fit.samples, fit.seconds, fit.produced, fit.scenario.partitions
    );
    out.push_str(
        "| from, s | seconds | produced, events/s | producer period |\n|---|---|---|---|\n",
    );
    for (rate, phase) in fit.phases.iter().zip(&fit.scenario.phases) {
        out.push_str(&format!(
            "| {:.0} | {:.0} | {:.2} | {} |\n",
            rate.start,
            rate.seconds,
            rate.per_s,
            phase
                .producer_period_ms
                .map_or("none".to_owned(), |p| format!("{p} ms"))
        ));
    }
    out.push('\n');
    if let Some((p, share)) = fit.hot_share {
        out.push_str(&format!(
            "- Key skew: partition {p} took {:.0} % of the events.\n",
            100.0 * share
        ));
    }
    if !fit.silent.is_empty() {
        out.push_str(&format!("- Partitions without events: {:?}.\n", fit.silent));
    }
    let processing = fit.scenario.consumer.processing_ms;
    out.push_str(&match fit.throughput {
        Throughput::Measured { per_replica, windows } => format!(
            "- A replica's throughput: {per_replica:.2} events/s, measured over {windows} window(s) of {WINDOW_S:.0} s \
             with work waiting throughout: {processing} ms per event.\n"
        ),
        Throughput::Replayed { at_least, tried } => format!(
            "- A replica's throughput: not measurable (the group never had a {WINDOW_S:.0} s window's work waiting{}): \
             {processing} ms per event, the one of {tried} tried whose simulation ran the recorded replica counts \
             most often.\n",
            at_least.map_or(String::new(), |r| format!("; a replica did at least {r:.2} events/s"))
        ),
    });
    out.push_str(&format!(
        "- Replayed with the given ScaledObject over seeds 1..={}, the fitted workload ran the recorded replica \
         count at {:.0} % of the {} recorded samples (mean difference {:.2} replicas).\n\n",
        agreement.seeds,
        100.0 * agreement.equal,
        agreement.samples,
        agreement.mean_difference
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_simulated_recording_fits_back_to_its_workload() {
        let (mut base, spec, trace) = recorded();
        // What the trace must tell: the processing time and the phases.
        base.consumer.processing_ms = 20;
        base.phases.truncate(1);
        let fit = fit(&base, &spec, &trace, 3).unwrap();
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
        // KEDA kept the group caught up: no window had its work waiting, so the
        // processing time is the one whose replay agrees best.
        assert!(
            matches!(fit.throughput, Throughput::Replayed { at_least: Some(_), tried } if tried > 5),
            "{:?}",
            fit.throughput
        );
        let processing = fit.scenario.consumer.processing_ms;
        assert!(processing.abs_diff(200) <= 50, "{processing} ms per event");
        assert_eq!((fit.hot_share, fit.silent.len()), (None, 0));
        // As close to the recording as the true workload itself on other seeds.
        let (truth, _, _) = recorded();
        let truth = agreement(&truth, &spec, &super::recorded(&trace), 3).unwrap();
        let fitted = fit.agreement;
        assert!(
            fitted.equal >= truth.equal - 0.05
                && fitted.mean_difference <= truth.mean_difference + 0.2,
            "fitted {fitted:?}, true workload {truth:?}"
        );
    }

    #[test]
    fn a_trace_too_short_without_movement_or_replicas_says_what_is_needed() {
        let (base, spec, trace) = recorded();
        let short = format!("{:#}", fit(&base, &spec, &trace[..60], 1).unwrap_err());
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
        let still = format!("{:#}", fit(&base, &spec, &still, 1).unwrap_err());
        assert!(still.contains("0 events were produced"), "{still}");
        let unknown: Vec<TraceSample> = trace
            .iter()
            .map(|s| TraceSample {
                replicas: None,
                ..s.clone()
            })
            .collect();
        let unknown = format!("{:#}", fit(&base, &spec, &unknown, 1).unwrap_err());
        assert!(unknown.contains("no replica counts"), "{unknown}");
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
        let fit = fit(&base, &spec, &skewed, 1).unwrap();
        let (hot, share) = fit.hot_share.unwrap();
        assert!(hot == 3 && share > 0.25, "{:?}", fit.hot_share);
        assert_eq!(fit.silent, vec![8]);
        // The model's hot partition is 0; partition 8 stays the silent one.
        assert_eq!(fit.scenario.phases[0].silent_partitions, vec![8]);
    }
}
