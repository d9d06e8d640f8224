//! `lab record`: what KEDA and the HPA did on a cluster, second by second.
//!
//! Every second on a fixed grid (a tick a slow read overran is skipped, never queued), one
//! row: the scale target's spec and ready replicas, the HPA's desired and current replicas,
//! its metric and conditions, the ScaledObject's conditions and fallback failures (these
//! four from watches), KEDA's metric from the external metrics API requested as the HPA
//! requests it, and the group's end and committed offsets read from Kafka, the produce rate
//! taken over the samples' own timestamps. A read that fails leaves its cells empty and is
//! counted. Rows are appended and flushed as they come, so Ctrl-C, a lost API server or a
//! crash leaves everything recorded so far.
//!
//! Files (in `--out`): `timeline.csv` (the columns `lab report` reads, then the cluster's
//! own), `trace.jsonl` (offsets with the ready replicas: `lab plan` and `lab tune --trace`
//! take it), `events.jsonl` (KEDA's events on the ScaledObject, the HPA's on itself) and
//! `recording.md` (what was read from where, and every failed read).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use lab_kafka::offsets::OffsetReader;
use lab_model::emulator::scaler::KafkaScaler;
use lab_model::emulator::{Offsets, ScalingSpec};
use lab_model::trace::TraceSample;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::api::Cluster;
use crate::error::ReadError;
use crate::live::{follow, Live};
use crate::objects::{HpaReading, Replicas, ScaledObjectStatus};
use crate::subject::{KafkaTarget, Subject};

/// How long one read may take before its cell stays empty: under the one-second grid.
const READ_TIMEOUT: Duration = Duration::from_millis(800);

/// A phase of the recording, for the rows' phase columns (a scenario's, when the
/// experiment runs one; else one phase, "recorded").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseLabel {
    pub name: String,
    pub seconds: u64,
    /// The producer's period, ms (0: none, or not known).
    pub period_ms: u64,
}

/// What to record, and for how long.
pub struct Options {
    pub out: PathBuf,
    /// Stop after this many seconds; `None`: until Ctrl-C.
    pub seconds: Option<u64>,
    pub phases: Vec<PhaseLabel>,
    /// Give up after the API server could not be reached at all for this long.
    pub give_up_after: Duration,
}

/// One row of `timeline.csv`. The first eleven columns are the ones `lab report` reads
/// (what a replay writes); an unread cell is empty.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Row {
    pub t_s: f64,
    pub phase: usize,
    pub phase_name: String,
    pub period_ms: u64,
    pub produced_per_s: Option<f64>,
    /// Lag summed as KEDA's scaler sums it, from the offsets read (uncapped).
    pub total_lag: Option<i64>,
    /// KEDA's metric as the external metrics API serves it to the HPA (whole units).
    pub metric: Option<i64>,
    /// The ScaledObject's Active condition.
    pub active: Option<bool>,
    pub hpa_desired: Option<i32>,
    /// The scale target's `spec.replicas`.
    pub replicas: Option<i32>,
    /// The scale target's ready replicas.
    pub running: Option<i32>,
    /// When the row was read (RFC 3339, ms).
    pub at: String,
    pub hpa_current: Option<i32>,
    /// The metric the HPA last reported in its status, milli-units.
    pub hpa_metric_milli: Option<i64>,
    pub able_to_scale: Option<String>,
    pub scaling_active: Option<String>,
    pub scaling_limited: Option<String>,
    pub ready: Option<String>,
    pub active_condition: Option<String>,
    pub fallback: Option<String>,
    pub paused: Option<String>,
    /// The most failures any metric counts in `status.health` (with a fallback).
    pub failures: Option<i32>,
    /// KEDA's metric as the lab computes it from the offsets (the trigger's settings).
    pub lab_metric: Option<i64>,
    /// Cells of this row that could not be read.
    pub unread: usize,
}

/// What a recording left.
#[derive(Debug, Default)]
pub struct Recording {
    pub rows: usize,
    pub events: usize,
    /// Failed reads per source, with the first error of each.
    pub failed: BTreeMap<&'static str, (usize, String)>,
    pub stopped: Stop,
}

/// Why the recording ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Stop {
    #[default]
    Done,
    Interrupted,
    /// The API server could not be reached for `give_up_after`.
    Lost(String),
}

/// Records `subject` until `options.seconds` pass, `shutdown` is cancelled, or the API
/// server is lost; writes what it recorded either way.
pub async fn record(
    cluster: &Cluster,
    subject: &Subject,
    kafka: &KafkaTarget,
    options: &Options,
    shutdown: CancellationToken,
) -> anyhow::Result<Recording> {
    let Some(hpa) = subject.hpa.clone() else {
        anyhow::bail!("{}", no_hpa(subject, cluster.namespace()));
    };
    // The one read whose failure ends the recording before it starts: nothing serves
    // KEDA's metric (a scaler error, a 500, is recorded as it comes).
    let metric = subject.metric.clone().unwrap_or_default();
    if let Err(e @ ReadError::MetricsNotServed { .. }) =
        cluster.external_metric(&metric, &subject.name).await
    {
        return Err(e.into());
    }
    let spec = subject.checked.clone().into_spec().ok();
    let reader = connect(kafka).await?;
    std::fs::create_dir_all(&options.out)?;
    let mut files = Files::create(&options.out)?;
    let started = Instant::now();
    let (live, watches) = follow(cluster, &subject.name, &hpa, &subject.target.1, started);
    // The first row waits for the watches' first lists (a few milliseconds; at most 5 s).
    let waiting = Instant::now();
    while !live.lock().unwrap_or_else(|e| e.into_inner()).answered()
        && waiting.elapsed() < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut recorder = Recorder {
        cluster,
        subject,
        spec,
        reader: Arc::new(reader),
        live,
        options,
        started,
        wall_start: SystemTime::now(),
        previous_ends: None,
        recording: Recording::default(),
        unreachable_since: None,
    };
    let mut grid = tokio::time::interval(Duration::from_secs(1));
    grid.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = grid.tick() => {}
            _ = shutdown.cancelled() => {
                recorder.recording.stopped = Stop::Interrupted;
                break;
            }
        }
        let elapsed = started.elapsed();
        if options
            .seconds
            .is_some_and(|s| elapsed.as_secs_f64() >= s as f64)
        {
            break;
        }
        let row = recorder.row(&mut files).await?;
        files.row(&row)?;
        recorder.recording.rows += 1;
        if let Some(lost) = recorder.lost(&row) {
            recorder.recording.stopped = Stop::Lost(lost);
            break;
        }
    }
    for task in watches {
        task.abort();
    }
    let recording = recorder.finish(&mut files)?;
    Ok(recording)
}

/// The line for a ScaledObject KEDA has not given an HPA yet.
pub fn no_hpa(subject: &Subject, namespace: &str) -> String {
    format!(
        "ScaledObject {namespace}/{} has no HPA yet (status.hpaName is unset): keda-operator has not reconciled it. Is KEDA running (kubectl get pods -n keda), and is the ScaledObject Ready (kubectl get scaledobject -n {namespace} {})?",
        subject.name, subject.name
    )
}

async fn connect(kafka: &KafkaTarget) -> anyhow::Result<OffsetReader> {
    let k = kafka.clone();
    tokio::task::spawn_blocking(move || {
        OffsetReader::connect(&k.brokers, &k.security, &k.group, &k.topic, Duration::from_secs(10))
    })
    .await?
    .map_err(|e| {
        anyhow::anyhow!(
            "brokers unreachable: {e:#} (the trigger's brokers resolve only inside the cluster with Strimzi: run it there with scripts/cluster-record, or give --brokers)"
        )
    })
}

struct Recorder<'a> {
    cluster: &'a Cluster,
    subject: &'a Subject,
    /// What the emulator runs of the ScaledObject (for the lab's own metric).
    spec: Option<ScalingSpec>,
    reader: Arc<OffsetReader>,
    live: Arc<std::sync::Mutex<Live>>,
    options: &'a Options,
    started: Instant,
    wall_start: SystemTime,
    /// The sum of the end offsets at the last reading, and its time.
    previous_ends: Option<(i64, f64)>,
    recording: Recording,
    unreachable_since: Option<f64>,
}

impl Recorder<'_> {
    /// One row: the reads made now, the watched objects as they stand.
    async fn row(&mut self, files: &mut Files) -> anyhow::Result<Row> {
        let t = (self.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
        let metric_name = self.subject.metric.clone().unwrap_or_default();
        let reader = self.reader.clone();
        let (metric, offsets) = tokio::join!(
            tokio::time::timeout(
                READ_TIMEOUT,
                self.cluster
                    .external_metric(&metric_name, &self.subject.name)
            ),
            tokio::task::spawn_blocking(move || reader.read_within(READ_TIMEOUT)),
        );
        let metric = metric
            .unwrap_or_else(|_| Err(ReadError::Unreachable("no answer within 800 ms".into())));
        let offsets = offsets.map_err(anyhow::Error::from)?;
        let (phase, label) = self.phase_at(t);
        let mut row = Row {
            t_s: t,
            phase,
            phase_name: label.name.clone(),
            period_ms: label.period_ms,
            at: timestamp(self.wall_start + Duration::from_secs_f64(t)),
            ..Row::default()
        };
        self.objects(&mut row);
        match metric {
            Ok(milli) => row.metric = Some((milli as f64 / 1000.0).round() as i64),
            Err(e) => self.failed(&mut row, "external metric", &e.to_string()),
        }
        match offsets {
            Ok(offsets) => self.offsets(&mut row, &offsets, files)?,
            Err(e) => {
                self.failed(&mut row, "offsets", &e.to_string());
                let error = lab_kafka::offsets::scaler_error(&e);
                files.trace(&TraceSample::failed(t, error))?;
            }
        }
        let events =
            std::mem::take(&mut self.live.lock().unwrap_or_else(|e| e.into_inner()).events);
        self.recording.events += events.len();
        for event in &events {
            files.event(event)?;
        }
        Ok(row)
    }

    /// The ScaledObject's, the HPA's and the target's cells, from the watches.
    fn objects(&mut self, row: &mut Row) {
        let (so, hpa, target) = {
            let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
            (
                live.scaled_object.current(),
                live.hpa.current(),
                live.target.current(),
            )
        };
        match so {
            Ok(Some(so)) => {
                let status = ScaledObjectStatus::of(&so);
                let cell = |kind: &str| status.condition(kind).map(|c| c.cell());
                row.active = status.condition("Active").map(|c| c.is_true());
                row.ready = cell("Ready");
                row.active_condition = cell("Active");
                row.fallback = cell("Fallback");
                row.paused = cell("Paused");
                row.failures = status.failures();
            }
            Ok(None) => self.failed(row, "ScaledObject", "not found (deleted?)"),
            Err(e) => self.failed(row, "ScaledObject", &e.to_string()),
        }
        match hpa {
            Ok(Some(hpa)) => {
                let h = HpaReading::of(&hpa);
                let cell = |kind: &str| h.condition(kind).map(|c| c.cell());
                row.hpa_desired = Some(h.desired);
                row.hpa_current = Some(h.current);
                row.hpa_metric_milli = h.metric();
                row.able_to_scale = cell("AbleToScale");
                row.scaling_active = cell("ScalingActive");
                row.scaling_limited = cell("ScalingLimited");
            }
            Ok(None) => self.failed(row, "HPA", "not found (deleted, or KEDA paused it)"),
            Err(e) => self.failed(row, "HPA", &e.to_string()),
        }
        match target {
            Ok(Some(d)) => {
                let r = Replicas::of(&d);
                row.replicas = Some(r.spec);
                row.running = Some(r.ready);
            }
            Ok(None) => self.failed(row, "scale target", "not found"),
            Err(e) => self.failed(row, "scale target", &e.to_string()),
        }
    }

    /// The lag, the lab's metric and the rate from one reading of the offsets.
    fn offsets(
        &mut self,
        row: &mut Row,
        offsets: &[Offsets],
        files: &mut Files,
    ) -> anyhow::Result<()> {
        if let Some(spec) = &self.spec {
            let reading = KafkaScaler::new(spec.trigger.clone()).read(offsets);
            row.total_lag = Some(reading.total_lag);
            row.lab_metric = Some(reading.metric);
        }
        let ends: i64 = offsets.iter().map(|o| o.end).sum();
        row.produced_per_s = Some(match self.previous_ends {
            Some((before, at)) if row.t_s > at => (ends - before) as f64 / (row.t_s - at),
            _ => 0.0,
        });
        self.previous_ends = Some((ends, row.t_s));
        let mut sample = TraceSample::of(row.t_s, offsets, row.total_lag);
        sample.replicas = row.running.map(|r| r.max(0) as u32);
        files.trace(&sample)
    }

    fn failed(&mut self, row: &mut Row, source: &'static str, error: &str) {
        let cells = match source {
            "ScaledObject" => 6,
            "HPA" => 6,
            "scale target" => 2,
            "external metric" => 1,
            _ => 3,
        };
        row.unread += cells;
        let entry = self
            .recording
            .failed
            .entry(source)
            .or_insert_with(|| (0, error.to_owned()));
        entry.0 += 1;
        tracing::warn!(
            t = row.t_s,
            source,
            error,
            "a read failed: its cells stay empty"
        );
    }

    /// Where `t` falls among the phases (past the last: the last).
    fn phase_at(&self, t: f64) -> (usize, &PhaseLabel) {
        let mut end = 0.0;
        for (i, p) in self.options.phases.iter().enumerate() {
            end += p.seconds as f64;
            if t < end {
                return (i, p);
            }
        }
        let last = self.options.phases.len() - 1;
        (last, &self.options.phases[last])
    }

    /// Whether the API server has been out of reach for too long: every API read of this
    /// row failed without an answer.
    fn lost(&mut self, row: &Row) -> Option<String> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let gone = [&live.scaled_object.failing, &live.hpa.failing]
            .iter()
            .all(|f| f.as_ref().is_some_and(ReadError::unreachable));
        drop(live);
        if !gone {
            self.unreachable_since = None;
            return None;
        }
        let since = *self.unreachable_since.get_or_insert(row.t_s);
        (row.t_s - since >= self.options.give_up_after.as_secs_f64()).then(|| {
            format!(
                "the API server could not be reached for {:.0} s",
                row.t_s - since
            )
        })
    }

    /// Closes the files and writes `recording.md`.
    fn finish(mut self, files: &mut Files) -> anyhow::Result<Recording> {
        let errors = std::mem::take(
            &mut self
                .live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .event_errors,
        );
        if let Some(e) = errors.first() {
            self.recording
                .failed
                .insert("events", (errors.len(), e.to_string()));
        }
        files.flush()?;
        std::fs::write(self.options.out.join("recording.md"), self.notes())?;
        Ok(self.recording)
    }

    fn notes(&self) -> String {
        let r = &self.recording;
        let s = self.subject;
        let mut text = format!(
            "# lab record — {}/{}\n\n{} rows, {} events. Scale target {} {}, HPA {}, KEDA's metric {}.\n\n",
            self.cluster.namespace(),
            s.name,
            r.rows,
            r.events,
            s.target.0,
            s.target.1,
            s.hpa.as_deref().unwrap_or("-"),
            s.metric.as_deref().unwrap_or("-"),
        );
        match &r.stopped {
            Stop::Done => {}
            Stop::Interrupted => {
                text.push_str("**Interrupted**: stopped by Ctrl-C; what was recorded is here.\n\n")
            }
            Stop::Lost(why) => text.push_str(&format!(
                "**Lost the cluster**: {why}; what was recorded is here.\n\n"
            )),
        }
        if r.failed.is_empty() {
            text.push_str("Every read succeeded.\n");
        } else {
            text.push_str("Failed reads (their cells are empty):\n\n");
            for (source, (n, first)) in &r.failed {
                text.push_str(&format!("- {source}: {n}, the first: {first}\n"));
            }
        }
        text
    }
}

/// The recording's files, appended and flushed row by row.
struct Files {
    timeline: csv::Writer<File>,
    trace: BufWriter<File>,
    events: BufWriter<File>,
}

impl Files {
    fn create(dir: &Path) -> anyhow::Result<Self> {
        let open = |name: &str| -> anyhow::Result<File> {
            let path = dir.join(name);
            File::create(&path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
        };
        Ok(Self {
            timeline: csv::Writer::from_writer(open("timeline.csv")?),
            trace: BufWriter::new(open("trace.jsonl")?),
            events: BufWriter::new(open("events.jsonl")?),
        })
    }

    fn row(&mut self, row: &Row) -> anyhow::Result<()> {
        self.timeline.serialize(row)?;
        self.flush()
    }

    fn trace(&mut self, sample: &TraceSample) -> anyhow::Result<()> {
        writeln!(self.trace, "{}", serde_json::to_string(sample)?)?;
        Ok(())
    }

    fn event(&mut self, event: &crate::objects::EventLine) -> anyhow::Result<()> {
        writeln!(self.events, "{}", serde_json::to_string(event)?)?;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.timeline.flush()?;
        self.trace.flush()?;
        self.events.flush()?;
        Ok(())
    }
}

/// RFC 3339 to the millisecond, UTC.
fn timestamp(at: SystemTime) -> String {
    let ms = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| format!("{t:.3}"))
}
