//! The results as figures: one table each, every ratio next to its target.

use crate::figures::burst::Burst;
use crate::figures::drain::Drain;
use crate::figures::footprint::Artifact;
use crate::report::{mib, rate, ratio, seconds, Figure};
use crate::stats::{median, speed_ratio};
use crate::{BrokerResults, ClientRuns, Results, PARTITIONS};

/// The targets: at least as fast as each reference (ratio reference time ÷ project
/// time), and no more peak memory.
pub const THROUGHPUT_TARGET: f64 = 1.0;
pub const JITTER_P99_TARGET_MS: f64 = 5.0;

pub fn tables(results: &Results) -> Vec<Figure> {
    let mut tables = Vec::new();
    let with = |f: fn(&BrokerResults) -> bool| results.brokers.iter().any(f);
    if with(|b| !b.drain.is_empty()) {
        tables.push(drain(results));
    }
    if with(|b| !b.burst.is_empty()) {
        tables.push(burst(results));
    }
    if with(|b| !b.period.is_empty()) {
        tables.push(period(results));
    }
    if with(|b| !b.scaling.is_empty()) {
        tables.push(scaling(results));
    }
    if with(|b| !b.startup.is_empty()) {
        tables.push(startup(results));
    }
    if with(|b| b.idle.is_some()) {
        tables.push(footprint(results));
    }
    if !results.simulate.is_empty() {
        tables.push(simulate(results));
    }
    if let Some(tuned) = &results.tune {
        tables.push(tune(tuned));
    }
    if let Some(day) = &results.day {
        tables.push(tune_day(day, results.options.day_hours));
    }
    if let Some((recording, tuned)) = &results.trace_day {
        tables.push(trace_day(recording, tuned));
    }
    tables
}

/// Targets of the lab's day figures: a day tuned (500 candidates x 10 seeds) in at most
/// 120 s on 2 cores with an ETA from the first second; a day's recording on 100
/// partitions fitted and tuned in at most 200 MiB.
pub const DAY_TUNE_TARGET_S: f64 = 120.0;
pub const FIRST_ETA_TARGET_S: f64 = 1.0;
pub const TRACE_DAY_TARGET_MIB: f64 = 200.0;

/// `value (met)` or `value (MISSED)` against an upper bound.
fn at_most(shown: String, value: f64, bound: f64) -> String {
    let verdict = if value <= bound { "met" } else { "MISSED" };
    format!("{shown} ({verdict})")
}

/// The columns a watched `lab tune` run shows, wall time and first ETA judged against
/// their targets where given.
fn tune_row(
    run: &crate::figures::simulate::TuneRun,
    wall_target: Option<f64>,
    eta_target: Option<f64>,
) -> Vec<String> {
    let wall = seconds(run.wall);
    vec![
        run.lab.display().to_string(),
        run.candidates.to_string(),
        run.seeds.to_string(),
        run.simulations.to_string(),
        match wall_target {
            Some(bound) => at_most(wall, run.wall, bound),
            None => wall,
        },
        match (run.first_eta, eta_target) {
            (Some(at), Some(bound)) => at_most(seconds(at), at, bound),
            (Some(at), None) => seconds(at),
            (None, _) => "no ETA printed".into(),
        },
        mib(run.peak_rss),
    ]
}

const TUNE_COLUMNS: [&str; 7] = [
    "lab",
    "candidates",
    "seeds",
    "simulations",
    "wall time",
    "first ETA on stderr",
    "peak RSS",
];

fn tune_day(run: &crate::figures::simulate::TuneRun, hours: u64) -> Figure {
    let mut table = Figure::new(
        format!("9. lab tune of a day (diurnal: {hours} one-hour phases), on every core"),
        &TUNE_COLUMNS,
    );
    table.row(tune_row(
        run,
        Some(DAY_TUNE_TARGET_S),
        Some(FIRST_ETA_TARGET_S),
    ));
    table.note(format!(
        "The `diurnal` day written to a scenario file (bench's work folder) so that an older lab reads the same day; \
         targets: at most {DAY_TUNE_TARGET_S:.0} s for 500 candidates x 10 seeds on 2 cores, the first progress line \
         with an ETA within {FIRST_ETA_TARGET_S:.0} s. Simulations: as the lab reports them, or every candidate and the \
         baseline on every seed for a lab that does not (an exhaustive search)."
    ));
    table
}

fn trace_day(
    recording: &crate::figures::day::Recording,
    run: &crate::figures::simulate::TuneRun,
) -> Figure {
    let mut table = Figure::new(
        format!(
            "10. lab tune --trace of a day's recording ({} h, {} partitions, {} samples, {}), fitted and tuned",
            recording.hours,
            recording.partitions,
            recording.samples,
            mib(recording.bytes)
        ),
        &TUNE_COLUMNS,
    );
    let mut row = tune_row(run, None, None);
    let peak = run.peak_rss as f64 / (1024.0 * 1024.0);
    row[6] = at_most(row[6].clone(), peak, TRACE_DAY_TARGET_MIB);
    table.row(row);
    table.note(format!(
        "The recording is the `diurnal` day on {} partitions as this bench's `lab simulate` writes it (a sample a second, \
         every partition's end and committed offsets, the replica count: what `lab record` writes), written in {}; \
         target: at most {TRACE_DAY_TARGET_MIB:.0} MiB peak resident memory for the fit and the tune. The search's \
         first ETA comes after the fit, which prints its own line when it starts and its result when done.",
        recording.partitions,
        seconds(recording.wall)
    ));
    table
}

/// `median (min-max)` of `values` in seconds.
fn spread(values: &[f64]) -> String {
    let m = median(values).unwrap_or(f64::NAN);
    if values.len() < 2 {
        return seconds(m);
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    format!("{} ({}–{})", seconds(m), seconds(lo), seconds(hi))
}

/// How a throughput figure reads its runs.
struct Throughput<C, M> {
    events: u64,
    /// The figure's own columns, from all runs of one client.
    columns: C,
    /// The timed part of a run (s) and its peak memory (bytes).
    measure: M,
    /// Whether the project's peak memory is held to the references'.
    memory_target: bool,
}

/// Rows of one broker for a throughput figure.
fn throughput_rows<T, C, M>(
    table: &mut Figure,
    broker: &BrokerResults,
    clients: &[ClientRuns<T>],
    figure: Throughput<C, M>,
) where
    C: Fn(&[T]) -> Vec<String>,
    M: Fn(&T) -> (f64, u64),
{
    let Throughput {
        events,
        columns,
        measure,
        memory_target,
    } = figure;
    let time = |run: &T| measure(run).0;
    let peak = |run: &T| measure(run).1;
    let project = clients
        .first()
        .and_then(|c| median(&c.runs.iter().map(&time).collect::<Vec<_>>()));
    let project_peak = clients
        .first()
        .and_then(|c| c.runs.iter().map(&peak).max())
        .unwrap_or(0);
    for client in clients {
        let times: Vec<f64> = client.runs.iter().map(&time).collect();
        let Some(mid) = median(&times) else { continue };
        let mut row = vec![broker.broker.to_string(), client.client.clone()];
        row.extend(columns(&client.runs));
        row.push(rate(events, mid));
        let client_peak = client.runs.iter().map(&peak).max().unwrap_or(0);
        row.push(mib(client_peak));
        row.push(match (client.reference, project) {
            (true, Some(project)) => ratio(speed_ratio(mid, project), THROUGHPUT_TARGET),
            _ => "-".into(),
        });
        if memory_target {
            row.push(match client.reference {
                true if project_peak <= client_peak => "met".into(),
                true => "MISSED".into(),
                false => "-".into(),
            });
        }
        table.row(row);
    }
}

fn skipped_notes(table: &mut Figure, results: &Results) {
    for broker in &results.brokers {
        for name in &broker.skipped {
            table.note(format!(
                "{name}: not on {} (Debian's kcat cannot read Tansu's ApiVersions answer)",
                broker.broker
            ));
        }
    }
}

fn drain(results: &Results) -> Figure {
    let o = &results.options;
    let mut table = Figure::new(
        format!(
            "1. Consumer drain: {} events of {} bytes on {PARTITIONS} partitions, one consumer in a fresh group (median of {})",
            o.events, results.event_bytes, o.runs
        ),
        &["broker", "client", "start → first record", "first → last record", "rate", "peak RSS", "project ÷ reference (target ≥ 1.0)", "project peak RSS ≤ reference"],
    );
    for broker in &results.brokers {
        throughput_rows(
            &mut table,
            broker,
            &broker.drain,
            Throughput {
                events: o.events,
                columns: |runs: &[Drain]| {
                    vec![
                        spread(&runs.iter().map(|r| r.join).collect::<Vec<_>>()),
                        spread(&runs.iter().map(|r| r.drain).collect::<Vec<_>>()),
                    ]
                },
                measure: |r: &Drain| (r.drain, r.peak_rss),
                memory_target: true,
            },
        );
    }
    table.note("The ratio is reference time ÷ project time over first → last record: above 1, the project is faster.");
    table.note("kafka-consumer: its own clock (the first record processed and the last batch stored, as its GET /stats reports them); kcat: when its first and last output lines arrive; confluent-kafka: its own clock (bench/reference.py, consume() in batches of up to 500).");
    table.note("start → first record includes process start and the group join: the mock cluster holds a new group's join for about one rebalance, Tansu holds a first JoinGroup for half the session timeout (6 s).");
    skipped_notes(&mut table, results);
    table
}

fn burst(results: &Results) -> Figure {
    let o = &results.options;
    let mut table = Figure::new(
        format!(
            "2. Producer burst: {} events of {} bytes to {PARTITIONS} partitions, every one acknowledged (median of {})",
            o.events, results.event_bytes, o.runs
        ),
        &["broker", "client", "send + acknowledge", "rate", "peak RSS", "project ÷ reference (target ≥ 1.0)"],
    );
    for broker in &results.brokers {
        throughput_rows(
            &mut table,
            broker,
            &broker.burst,
            Throughput {
                events: o.events,
                columns: |runs: &[Burst]| {
                    vec![spread(&runs.iter().map(|r| r.seconds).collect::<Vec<_>>())]
                },
                measure: |r: &Burst| (r.seconds, r.peak_rss),
                memory_target: false,
            },
        );
    }
    table.note("kafka-producer-callback: POST /burst, timed by the producer from the first send to the last delivery report (its \"burst finished\" log line), with its deployed settings (idempotent, 20000-event local queue).");
    table.note("kcat -P -l FILE: wall time minus a one-event run of the same command (start, connect, close); confluent-kafka: produce() with a delivery callback per event, then flush(), on its own clock. Both with librdkafka's defaults.");
    skipped_notes(&mut table, results);
    table
}

fn period(results: &Results) -> Figure {
    let o = &results.options;
    let mut table = Figure::new(
        format!(
            "3. Period accuracy: the producer at each period for {} s",
            o.period_seconds
        ),
        &[
            "broker",
            "period",
            "events (expected)",
            "interval jitter p50",
            "p99",
            "max",
            "drift of the last tick",
            "target: count ±1, p99 < 5 ms",
        ],
    );
    for broker in &results.brokers {
        for (period_ms, a) in &broker.period {
            let met = a.counted.abs_diff(a.expected) <= 1 && a.jitter_p99_ms < JITTER_P99_TARGET_MS;
            table.row(vec![
                broker.broker.to_string(),
                format!("{period_ms} ms"),
                format!("{} ({})", a.counted, a.expected),
                format!("{} ms", a.jitter_p50_ms),
                format!("{} ms", a.jitter_p99_ms),
                format!("{} ms", a.jitter_max_ms),
                format!("{} ms", a.drift_ms),
                if met { "met" } else { "MISSED" }.into(),
            ]);
        }
    }
    table.note("Read back from the topic: each event's `time` is stamped when its tick fires (ms resolution). Jitter: |interval − period| between consecutive events; drift: the window's last tick against a perfect clock started at the first.");
    table.note("Logging as deployed (each delivery at info).");
    table
}

fn scaling(results: &Results) -> Figure {
    let mut table = Figure::new(
        format!("7. Scale-out: n replicas in one group drain {PARTITIONS} partitions, events that take work (one run each)"),
        &[
            "broker",
            "processing per event",
            "events",
            "replicas",
            "first → last record",
            "rate",
            "× one replica",
            "records processed twice",
        ],
    );
    for broker in &results.brokers {
        for s in &broker.scaling {
            let one = broker
                .scaling
                .iter()
                .find(|o| o.replicas == 1 && o.processing_ms == s.processing_ms);
            table.row(vec![
                broker.broker.to_string(),
                format!("{} ms", s.processing_ms),
                s.events.to_string(),
                s.replicas.to_string(),
                seconds(s.seconds),
                rate(s.events, s.seconds),
                one.map_or("-".into(), |o| format!("{:.2}", o.seconds / s.seconds)),
                s.repeated.to_string(),
            ]);
        }
    }
    table.note("The replicas join one fresh group on an empty topic; once they have split its partitions the topic is filled. Timed from the group's first record processed to its last, on the replicas' own clocks (GET /stats).");
    table.note("Each replica works through its records one at a time, so the group's pace is set by the replica holding the most partitions: 10 partitions over 3 replicas is 4 + 3 + 3, over 5 replicas 2 each. With no work per event the drain is bound by CPU instead (figure 1).");
    table
}

fn startup(results: &Results) -> Figure {
    let o = &results.options;
    let mut table = Figure::new(
        format!("4. Start-up: median (min–max) of {} starts", o.startup_runs),
        &[
            "broker",
            "binary",
            "process start → /health/live 200",
            "→ first event delivered / processed",
        ],
    );
    for broker in &results.brokers {
        for (binary, runs) in &broker.startup {
            table.row(vec![
                broker.broker.to_string(),
                binary.name().into(),
                spread(&runs.iter().map(|r| r.live).collect::<Vec<_>>()),
                spread(&runs.iter().map(|r| r.first_event).collect::<Vec<_>>()),
            ]);
        }
    }
    table.note("Polled every 2 ms. The consumer's first event waits for the group join (see figure 1); the producer's is its first tick's delivery report.");
    table
}

fn footprint(results: &Results) -> Figure {
    let mut table = Figure::new(
        "5. Footprint",
        &["what", "kafka-producer-callback", "kafka-consumer"],
    );
    let both = |f: &dyn Fn(&Artifact) -> String| results.artifacts.iter().map(f).collect();
    let mut row = |what: String, cells: Vec<String>| {
        let mut r = vec![what];
        r.extend(cells);
        table.row(r);
    };
    row("release binary (stripped)".into(), both(&|a| mib(a.bytes)));
    row(
        "runtime image".into(),
        both(&|a| match &a.image {
            Some(i) => format!("{} (stand-in base; built {})", mib(i.bytes), i.created),
            None => "not built here (scripts/image-check)".into(),
        }),
    );
    for broker in &results.brokers {
        if let Some(idle) = &broker.idle {
            row(
                format!(
                    "idle RSS after {} s ({})",
                    crate::figures::footprint::IDLE.as_secs(),
                    broker.broker
                ),
                vec![mib(idle.producer), mib(idle.consumer)],
            );
        }
        let peak_of = |runs: Option<u64>| runs.map(mib).unwrap_or_else(|| "-".into());
        let producer = broker
            .burst
            .first()
            .and_then(|c| c.runs.iter().map(|r| r.peak_rss).max());
        let consumer = broker
            .drain
            .first()
            .and_then(|c| c.runs.iter().map(|r| r.peak_rss).max());
        if producer.is_some() || consumer.is_some() {
            row(
                format!("peak RSS under load: burst / drain ({})", broker.broker),
                vec![peak_of(producer), peak_of(consumer)],
            );
        }
    }
    table.note("RSS from /proc/PID/status (VmRSS idle, VmHWM under load). Image sizes as podman reports them for the images scripts/image-check builds on stand-in bases (the real distroless base is larger).");
    table
}

fn simulate(results: &Results) -> Figure {
    let mut table = Figure::new(
        format!(
            "6. lab simulate: one hour of virtual time (published workload, 100 ms period), {} runs",
            results.simulate.len()
        ),
        &["run", "wall time, median (min–max)", "virtual ÷ wall"],
    );
    let hour = crate::figures::simulate::VIRTUAL_SECONDS as f64;
    for (what, runs) in [
        ("lab simulate (process)", &results.simulate),
        ("in-process simulate::run", &results.simulate_in_process),
    ] {
        let mid = median(runs).unwrap_or(f64::NAN);
        table.row(vec![
            what.into(),
            spread(runs),
            format!("{:.0}x", hour / mid),
        ]);
    }
    table.note("The release lab binary as a user runs it (process start, simulation, reports), and the same simulation called in this (release) process: 10 ms steps, the steps in which nothing happens skipped.");
    table
}

fn tune(tuned: &crate::figures::simulate::TuneRun) -> Figure {
    let mut table = Figure::new(
        "8. lab tune --scenario published: candidates x seeds, on every core",
        &[
            "lab",
            "candidates",
            "seeds",
            "simulations",
            "wall time",
            "simulations per second",
        ],
    );
    table.row(vec![
        tuned.lab.display().to_string(),
        tuned.candidates.to_string(),
        tuned.seeds.to_string(),
        tuned.simulations.to_string(),
        seconds(tuned.wall),
        format!("{:.0}", tuned.simulations as f64 / tuned.wall),
    ]);
    table.note("The lab binary: its search over the candidates and seeds (750 s of virtual time each; a raced search gives most candidates fewer seeds), candidates.csv, summary and chart written.");
    table
}
