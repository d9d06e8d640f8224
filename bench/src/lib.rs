//! `bench`: the producer, the consumer and the lab measured side by side with the
//! clients users would reach for (kcat, confluent-kafka), on the same broker, in one run.
//!
//! [`run`] measures; [`tables::tables`] turns the results into the printed figures. The
//! figures are in [`figures`], one module each; the reference clients in [`reference`].
//! Nothing here asserts a time: the bench prints what it measured and how it compares.

pub mod broker;
pub mod events;
pub mod figures;
pub mod machine;
pub mod options;
pub mod process;
pub mod reference;
pub mod report;
pub mod scrape;
pub mod stats;
pub mod tables;

use std::path::PathBuf;

use anyhow::Context;
use harness::{unique, Binary};

use broker::{Broker, BrokerKind};
use figures::{
    burst::Burst, drain::Drain, footprint::Idle, period::Accuracy, scaling::Scaling,
    startup::Startup,
};
pub use options::{Figure, Options};
use reference::{Reference, Tools};

/// Partitions of every topic the bench uses (the manifests' topic has 10).
pub const PARTITIONS: i32 = 10;

/// Work per event in the scale-out figure, ms.
pub const SCALING_PROCESSING_MS: u64 = 1;

/// The runs of one client.
#[derive(Debug, Clone)]
pub struct ClientRuns<T> {
    /// What it is, with its version.
    pub client: String,
    /// A reference client (compared against the project's first entry).
    pub reference: bool,
    pub runs: Vec<T>,
}

/// What was measured on one broker.
#[derive(Debug, Clone)]
pub struct BrokerResults {
    pub broker: BrokerKind,
    pub drain: Vec<ClientRuns<Drain>>,
    pub burst: Vec<ClientRuns<Burst>>,
    /// Tick accuracy at each period asked for, ms.
    pub period: Vec<(u64, Accuracy)>,
    pub startup: Vec<(Binary, Vec<Startup>)>,
    /// Drains by groups of replicas, without and with processing time.
    pub scaling: Vec<Scaling>,
    pub idle: Option<Idle>,
    /// References that cannot talk to this broker.
    pub skipped: Vec<String>,
}

/// Everything one bench run measured.
#[derive(Debug, Clone)]
pub struct Results {
    pub machine: machine::Machine,
    pub options: Options,
    /// Payload size of one event, bytes.
    pub event_bytes: usize,
    pub brokers: Vec<BrokerResults>,
    /// Wall time of each `lab simulate` of one hour, s.
    pub simulate: Vec<f64>,
    /// Wall time of each in-process simulation of the same hour, s.
    pub simulate_in_process: Vec<f64>,
    /// The `lab tune` run of the published scenario, if measured.
    pub tune: Option<figures::simulate::TuneRun>,
    /// The `lab tune` run of a day, if measured.
    pub day: Option<figures::simulate::TuneRun>,
    /// A day's recording and its `lab tune --trace` run, if measured.
    pub trace_day: Option<(figures::day::Recording, figures::simulate::TuneRun)>,
    /// The binaries' and images' sizes (figure 5).
    pub artifacts: Vec<figures::footprint::Artifact>,
}

/// Runs the figures `options` asks for and returns what they measured.
pub fn run(options: &Options) -> anyhow::Result<Results> {
    harness::echo_logs(options.show_logs);
    std::fs::create_dir_all(&options.work)
        .with_context(|| format!("cannot create {}", options.work.display()))?;
    let tools = Tools {
        kcat: options.kcat.clone(),
        python: options.python.clone().unwrap_or_else(default_python),
        script: repo_root().join("bench/reference.py"),
    };
    let mut references = Vec::new();
    if options.wants(Figure::Drain) || options.wants(Figure::Burst) {
        for reference in &options.reference {
            references.push((*reference, tools.version(*reference)?));
        }
    }
    // The equal-work row is confluent-kafka again: the header names each tool once.
    let tools_used: Vec<_> = references
        .iter()
        .filter(|(r, _)| r.produces())
        .cloned()
        .collect();
    let machine = machine::Machine::read(&tools_used);
    let event_file = options.work.join("events.txt");
    let event_bytes = events::write_file(&event_file, options.events)?;

    let mut brokers = Vec::new();
    for kind in options.broker.kinds() {
        eprintln!("bench: on {kind}");
        let broker = Broker::start(kind)?;
        brokers.push(on_broker(
            options,
            &broker,
            &tools,
            &references,
            &event_file,
        )?);
    }

    let lab = lab_figures(options)?;
    let artifacts = if options.wants(Figure::Footprint) {
        figures::footprint::artifacts()?
    } else {
        Vec::new()
    };
    Ok(Results {
        artifacts,
        machine,
        options: options.clone(),
        event_bytes,
        brokers,
        simulate: lab.simulate,
        simulate_in_process: lab.simulate_in_process,
        tune: lab.tune,
        day: lab.day,
        trace_day: lab.trace_day,
    })
}

/// What the lab's figures (6, 8, 9, 10) measured.
struct LabFigures {
    simulate: Vec<f64>,
    simulate_in_process: Vec<f64>,
    tune: Option<figures::simulate::TuneRun>,
    day: Option<figures::simulate::TuneRun>,
    trace_day: Option<(figures::day::Recording, figures::simulate::TuneRun)>,
}

/// Runs the lab's figures `options` asks for.
fn lab_figures(options: &Options) -> anyhow::Result<LabFigures> {
    let mut simulate = Vec::new();
    let mut simulate_in_process = Vec::new();
    if options.wants(Figure::Simulate) {
        eprintln!(
            "bench: lab simulate, one hour of virtual time x{}",
            options.simulate_runs
        );
        let scenario = figures::simulate::write_scenario(&options.work)?;
        for _ in 0..options.simulate_runs {
            let wall = figures::simulate::run_once(
                &options.lab(),
                &scenario,
                &options.work.join("simulate"),
            )?;
            simulate.push(wall.as_secs_f64());
        }
        simulate_in_process = figures::simulate::in_process(&scenario, options.simulate_runs)?;
    }
    let tune = if options.wants(Figure::Tune) {
        eprintln!(
            "bench: lab tune --scenario published, {} seeds, {} candidates",
            options.tune_seeds, options.tune_candidates
        );
        Some(figures::simulate::tune(
            &options.lab(),
            &["--scenario".into(), "published".into()],
            options.tune_seeds,
            options.tune_candidates,
            &options.work.join("tune"),
        )?)
    } else {
        None
    };
    let day = if options.wants(Figure::Day) {
        eprintln!(
            "bench: lab tune of a day (diurnal, {} h), {} seeds, {} candidates",
            options.day_hours, options.day_seeds, options.day_candidates
        );
        let scenario = figures::day::write_day(&options.work, options.day_hours, None)?;
        Some(figures::simulate::tune(
            &options.lab(),
            &["--scenario".into(), scenario.into()],
            options.day_seeds,
            options.day_candidates,
            &options.work.join("tune-day"),
        )?)
    } else {
        None
    };
    let trace_day = if options.wants(Figure::TraceDay) {
        eprintln!(
            "bench: a day's recording on {} partitions, fitted and tuned ({} seeds, {} candidates)",
            options.trace_partitions, options.trace_seeds, options.trace_candidates
        );
        // Recorded by this bench's lab, so an older `--lab` fits the same recording.
        let lab = harness::app::binary_dir().join("lab");
        let recording = figures::day::record_day(
            &lab,
            &options.work,
            options.day_hours,
            options.trace_partitions,
        )?;
        let tuned = figures::simulate::tune(
            &options.lab(),
            &["--trace".into(), recording.trace.clone().into()],
            options.trace_seeds,
            options.trace_candidates,
            &options.work.join("tune-trace-day"),
        )?;
        Some((recording, tuned))
    } else {
        None
    };
    Ok(LabFigures {
        simulate,
        simulate_in_process,
        tune,
        day,
        trace_day,
    })
}

/// What every figure of one broker measures with.
struct OnBroker<'a> {
    options: &'a Options,
    broker: &'a Broker,
    tools: &'a Tools,
    /// The references that can talk to this broker.
    references: Vec<&'a (Reference, String)>,
    event_file: &'a std::path::Path,
}

fn on_broker(
    options: &Options,
    broker: &Broker,
    tools: &Tools,
    references: &[(Reference, String)],
    event_file: &std::path::Path,
) -> anyhow::Result<BrokerResults> {
    let (usable, unusable): (Vec<_>, Vec<_>) = references
        .iter()
        .partition(|(reference, _)| *reference != Reference::Kcat || broker.speaks_to_kcat());
    let bench = OnBroker {
        options,
        broker,
        tools,
        references: usable,
        event_file,
    };
    let mut results = BrokerResults {
        broker: broker.kind(),
        drain: Vec::new(),
        burst: Vec::new(),
        period: Vec::new(),
        startup: Vec::new(),
        scaling: Vec::new(),
        idle: None,
        skipped: unusable.iter().map(|(_, name)| name.clone()).collect(),
    };
    // One pre-filled topic serves every drain (each in a fresh group) and the
    // consumer's start-up runs.
    let filled = unique("bench-filled");
    if options.wants(Figure::Drain) || options.wants(Figure::Startup) {
        broker.create_topic(&filled, PARTITIONS)?;
        eprintln!("bench: pre-filling {filled} with {} events", options.events);
        events::prefill(broker.bootstrap(), &filled, options.events)?;
    }
    if options.wants(Figure::Drain) {
        results.drain = bench.drain(&filled)?;
    }
    if options.wants(Figure::Burst) {
        results.burst = bench.burst()?;
    }
    if options.wants(Figure::Period) {
        results.period = bench.period()?;
    }
    if options.wants(Figure::Scaling) {
        results.scaling = bench.scaling()?;
    }
    if options.wants(Figure::Startup) {
        results.startup = bench.startup(&filled)?;
    }
    if options.wants(Figure::Footprint) {
        eprintln!(
            "bench: idle memory ({} s)",
            figures::footprint::IDLE.as_secs()
        );
        let topic = fresh_topic(broker, "bench-idle")?;
        results.idle = Some(figures::footprint::idle(options, broker, &topic)?);
    }
    Ok(results)
}

impl OnBroker<'_> {
    /// Figure 1: the project's consumer and each reference drain `filled`, interleaved.
    fn drain(&self, filled: &str) -> anyhow::Result<Vec<ClientRuns<figures::drain::Drain>>> {
        let (options, count) = (self.options, self.options.events);
        let mut clients = vec![runs_of("kafka-consumer (processing 0)", false)];
        clients.extend(self.references.iter().map(|(_, name)| runs_of(name, true)));
        for run in 1..=options.runs {
            eprintln!("bench: drain run {run}/{}", options.runs);
            let project = figures::drain::project(options, self.broker, filled, count)?;
            clients[0].runs.push(project);
            for (i, (reference, _)) in self.references.iter().enumerate() {
                let group = unique("bench-ref");
                let drain =
                    reference::drain(self.tools, *reference, self.broker, filled, &group, count)?;
                clients[i + 1].runs.push(drain);
            }
        }
        Ok(clients)
    }

    /// Figure 2: a burst of `events` from the producer and each producing reference.
    fn burst(&self) -> anyhow::Result<Vec<ClientRuns<figures::burst::Burst>>> {
        let (options, count) = (self.options, self.options.events);
        let producing: Vec<_> = self
            .references
            .iter()
            .filter(|(r, _)| r.produces())
            .collect();
        let mut clients = vec![runs_of("kafka-producer-callback (POST /burst)", false)];
        clients.extend(producing.iter().map(|(_, name)| runs_of(name, true)));
        for run in 1..=options.runs {
            eprintln!("bench: burst run {run}/{}", options.runs);
            let topic = fresh_topic(self.broker, "bench-burst")?;
            let project = figures::burst::project(options, self.broker, &topic, count)?;
            clients[0].runs.push(project);
            for (i, (reference, _)) in producing.iter().enumerate() {
                let topic = fresh_topic(self.broker, "bench-burst-ref")?;
                let burst = reference::burst(
                    self.tools,
                    *reference,
                    self.broker,
                    &topic,
                    self.event_file,
                    count,
                )?;
                clients[i + 1].runs.push(burst);
            }
        }
        Ok(clients)
    }

    /// Figure 3: send accuracy at each period.
    fn period(&self) -> anyhow::Result<Vec<(u64, figures::period::Accuracy)>> {
        let options = self.options;
        let mut out = Vec::new();
        for &period_ms in &options.period_ms {
            eprintln!(
                "bench: period {period_ms} ms for {} s",
                options.period_seconds
            );
            let topic = fresh_topic(self.broker, "bench-period")?;
            let accuracy = figures::period::project(
                options,
                self.broker,
                &topic,
                period_ms,
                options.period_seconds,
            )?;
            out.push((period_ms, accuracy));
        }
        Ok(out)
    }

    /// Figure 7: one group of n replicas working through slow events.
    fn scaling(&self) -> anyhow::Result<Vec<figures::scaling::Scaling>> {
        let options = self.options;
        let mut out = Vec::new();
        for replicas in figures::scaling::REPLICAS {
            eprintln!(
                "bench: {replicas} replicas, {} events of {SCALING_PROCESSING_MS} ms",
                options.scaling_events
            );
            let topic = fresh_topic(self.broker, "bench-scale")?;
            out.push(figures::scaling::project(
                options,
                self.broker,
                &topic,
                replicas,
                SCALING_PROCESSING_MS,
                options.scaling_events,
            )?);
        }
        Ok(out)
    }

    /// Figure 4: start-up of each binary.
    fn startup(
        &self,
        filled: &str,
    ) -> anyhow::Result<Vec<(Binary, Vec<figures::startup::Startup>)>> {
        let options = self.options;
        let produced = fresh_topic(self.broker, "bench-start")?;
        let mut out = Vec::new();
        for (binary, topic) in [
            (Binary::Producer, produced.as_str()),
            (Binary::Consumer, filled),
        ] {
            eprintln!(
                "bench: start-up of {} x{}",
                binary.name(),
                options.startup_runs
            );
            let runs = (0..options.startup_runs)
                .map(|_| figures::startup::project(options, self.broker, binary, topic))
                .collect::<anyhow::Result<Vec<_>>>()?;
            out.push((binary, runs));
        }
        Ok(out)
    }
}

fn runs_of<T>(client: &str, reference: bool) -> ClientRuns<T> {
    ClientRuns {
        client: client.to_owned(),
        reference,
        runs: Vec::new(),
    }
}

fn fresh_topic(broker: &Broker, prefix: &str) -> anyhow::Result<String> {
    let topic = unique(prefix);
    broker.create_topic(&topic, PARTITIONS)?;
    Ok(topic)
}

/// The repository (for `bench/reference.py` and the default Python).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The interpreter `scripts/bench` installs confluent-kafka into.
fn default_python() -> PathBuf {
    repo_root().join(".tools/bench-venv/bin/python")
}

/// Prints every figure and, with `--out`, writes them as Markdown.
pub fn publish(results: &Results, options: &Options) -> anyhow::Result<()> {
    let figures = tables::tables(results);
    println!("{}\n", results.machine.describe());
    for figure in &figures {
        println!("{}", figure.text());
    }
    if let Some(path) = &options.out {
        let mut md = format!(
            "# Benchmark figures\n\n{}\n\nCommand: `{}`\n\n",
            results.machine.describe(),
            std::env::args().collect::<Vec<_>>().join(" ")
        );
        for figure in &figures {
            md.push_str(&figure.markdown());
        }
        std::fs::write(path, md).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(())
}
