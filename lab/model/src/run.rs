//! The one run loop that `simulate` and `replay` both drive: the warm-up, the phases, the
//! emulator's evaluations, one sample per second, the timeline.
//!
//! A run needs a [`World`]: the model of `simulate` (virtual time, no broker) or the real
//! workload of `replay` (a broker, the producer and consumer code, the wall clock). The
//! loop asks the world for offsets, lets the [`Autoscaler`] decide, asks the world for
//! that many consumers, and lets it run until the next thing is due: a sample, an
//! evaluation, a phase change or the end.

use crate::emulator::{
    Autoscaler, Controller, Decision, Millis, Observed, Offsets, ScalerError, ScalingSpec, Start,
};
use crate::scenario::Scenario;
use crate::timeline::{Sample, Timeline};
use crate::trace::TraceSample;

/// Scenario time between two samples, ms.
pub const SAMPLE_MS: Millis = 1000;
/// How long the workload runs at the first phase's rate before the clock starts, ms of
/// scenario time: the published run started from a demo already running.
pub const WARMUP_MS: Millis = 20_000;

/// Where a run happens: the model's virtual time (`lab simulate`) or the replay's
/// real processes. The run loop drives one world on one task and never sends its futures
/// to another thread, so the futures need no `Send` bound.
#[allow(async_fn_in_trait)]
pub trait World {
    /// Scenario time now, ms (0: the first phase starts).
    fn now(&self) -> Millis;
    /// Starts `replicas` consumers (already members of the group) and the producer at
    /// `period_ms`, and runs them for [`WARMUP_MS`] before scenario time 0.
    async fn warm_up(&mut self, period_ms: Option<u64>, replicas: u32) -> anyhow::Result<()>;
    /// A new producer pod at `period_ms` for phase `phase`, or none.
    async fn set_producer(&mut self, period_ms: Option<u64>, phase: usize) -> anyhow::Result<()>;
    /// What a scaler reading the group now finds: the end and committed offsets of every
    /// partition, or the error a scaler would get.
    async fn observe(&mut self) -> anyhow::Result<Observation>;
    /// Starts or stops consumer replicas until `replicas` are wanted.
    async fn scale(&mut self, replicas: u32) -> anyhow::Result<()>;
    /// Consumers actually running (started, not yet stopped).
    fn running(&self) -> u32;
    /// Lets the workload run until scenario time `until`; `false` when interrupted.
    async fn advance(&mut self, until: Millis) -> anyhow::Result<bool>;
    /// Events the producer gave up on so far: held through a broker outage longer than
    /// its `message.timeout.ms`, never delivered.
    fn expired(&self) -> u64;
    /// Each event's time from sent to first processed, ms, where the world knows it when
    /// the run ends (`simulate`'s model; a replay reads its delays from the consumers'
    /// ledgers after its workload stopped, and returns none here).
    fn event_delays(&mut self) -> Vec<Millis>;
    /// The target's pods as metrics-server serves them to the HPA now, for cpu and memory
    /// triggers; `None` where the world measures no pod usage.
    fn pods(&mut self) -> Option<Vec<crate::emulator::PodMetric>> {
        None
    }
}

/// What a scaler finds at the broker at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    Offsets(Vec<Offsets>),
    Error(ScalerError),
}

impl Observation {
    pub fn observed(&self) -> Observed<'_> {
        match self {
            Observation::Offsets(o) => Observed::Offsets(o),
            Observation::Error(e) => Observed::Error(*e),
        }
    }
}

/// Who watches a run as it goes (the replay's live view); both methods may do nothing.
pub trait Watch {
    fn sample(&mut self, _sample: &Sample, _phase_name: &str, _phases: usize) {}
    fn decision(&mut self, _decision: &Decision) {}
}

/// A run nobody watches.
pub struct Unwatched;
impl Watch for Unwatched {}

/// What a run keeps of what it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every sample, decision and trace line: what the reports and `trace.jsonl` need.
    Everything,
    /// Samples and decisions, no trace lines (a chart's; a trace line holds every
    /// partition's offsets, most of a run's memory on a topic with many partitions).
    Samples,
    /// Only what the watch is told as the run goes (and the events' delays): a tune's
    /// figures are taken that way, without a day of samples in memory.
    Watched,
}

/// Runs `scenario` in `world`, scaled by `spec`; returns the timeline (marked interrupted
/// when the world was stopped early).
pub async fn drive<W: World>(
    scenario: &Scenario,
    spec: &ScalingSpec,
    world: &mut W,
    watch: &mut dyn Watch,
    mode: &'static str,
    keep: Keep,
) -> anyhow::Result<Timeline> {
    let mut timeline = Timeline::new(scenario.clone(), mode);
    if keep != Keep::Watched {
        // One sample a second: reserved once, not grown (and copied) as the run goes.
        let samples = scenario.seconds() as usize + 1;
        timeline.samples.reserve_exact(samples);
        if keep == Keep::Everything {
            timeline.trace.reserve_exact(samples);
        }
    }
    world
        .warm_up(
            scenario.phases[0].producer_period_ms,
            scenario.start_replicas,
        )
        .await?;
    let mut autoscaler = Autoscaler::new(spec.clone(), scenario.start_replicas, Start::Active);
    let end = scenario.seconds() * 1000;
    let phase_starts: Vec<Millis> = timeline
        .phase_starts
        .iter()
        .map(|s| (*s * 1000.0) as Millis)
        .collect();
    let (mut phase, mut next_sample, mut hpa_desired) = (0usize, 0, scenario.start_replicas);
    let mut sampler = Sampler {
        scenario,
        scaler: crate::emulator::scaler::KafkaScaler::new(spec.trigger.clone()),
        names: scenario
            .phases
            .iter()
            .map(|p| p.name.as_str().into())
            .collect(),
        produced_at: None,
        last_read: None,
    };
    loop {
        let now = world.now().min(end);
        if now >= end {
            break;
        }
        let current = timeline.phase_at(now as f64 / 1000.0);
        if current != phase {
            phase = current;
            world
                .set_producer(scenario.phases[phase].producer_period_ms, phase)
                .await?;
        }
        let observation = world.observe().await?;
        let pods = match spec.triggers.has_resources() {
            true => world.pods(),
            false => None,
        };
        let values = &scenario.phases[phase].trigger_values;
        let others = crate::inputs::from_phase(&spec.triggers, observation.observed(), values);
        let inputs = crate::emulator::Inputs {
            kafka: observation.observed(),
            others: &others,
            pods: pods.as_deref(),
        };
        for d in autoscaler.evaluate_with(now, &inputs) {
            watch.decision(&d);
            if d.by == Controller::Hpa {
                hpa_desired = d.desired;
            }
            if keep != Keep::Watched {
                timeline.decisions.push(d);
            }
        }
        world.scale(autoscaler.replicas()).await?;
        if now >= next_sample {
            let sample = sampler.sample(now, phase, &observation, hpa_desired, &autoscaler, world);
            watch.sample(&sample, &scenario.phases[phase].name, scenario.phases.len());
            if keep == Keep::Everything {
                timeline.trace.push(trace_sample(&sample, &observation));
            }
            if keep != Keep::Watched {
                timeline.samples.push(sample);
            }
            next_sample = (now / SAMPLE_MS + 1) * SAMPLE_MS;
        }
        let next_phase = phase_starts
            .iter()
            .copied()
            .find(|s| *s > now)
            .unwrap_or(end);
        let until = next_sample
            .min(autoscaler.next_due())
            .min(next_phase)
            .min(end);
        if !world.advance(until).await? {
            timeline.interrupted = true;
            break;
        }
    }
    timeline.expired = world.expired();
    timeline.event_delays = world.event_delays();
    Ok(timeline)
}

/// The trace line of `sample`: what the scaler read, with the consumers running.
fn trace_sample(sample: &Sample, observation: &Observation) -> TraceSample {
    let mut line = match observation {
        Observation::Offsets(offsets) => TraceSample::of(sample.t, offsets, Some(sample.total_lag)),
        Observation::Error(e) => TraceSample::failed(sample.t, *e),
    };
    line.replicas = Some(sample.running);
    line
}

/// Makes the timeline's samples: what the lag looks like now, as a fresh scaler reads it.
struct Sampler<'a> {
    scenario: &'a Scenario,
    /// Reads each sample's lag as a fresh scaler would ([`crate::emulator::scaler::KafkaScaler::forget`]).
    scaler: crate::emulator::scaler::KafkaScaler,
    /// Each phase's name, shared by its samples.
    names: Vec<std::sync::Arc<str>>,
    /// The last end-offset total and when it was read (for the produce rate).
    produced_at: Option<(Millis, i64)>,
    /// The last offsets read (a sample during a scaler error shows them again).
    last_read: Option<(i64, i64, bool)>,
}

impl Sampler<'_> {
    fn sample<W: World>(
        &mut self,
        now: Millis,
        phase: usize,
        observation: &Observation,
        hpa_desired: u32,
        autoscaler: &Autoscaler,
        world: &W,
    ) -> Sample {
        let (produced_per_s, (total_lag, metric, active)) = match observation {
            Observation::Offsets(offsets) => {
                let end_total: i64 = offsets.iter().map(|o| o.end).sum();
                let rate = match self.produced_at {
                    Some((t, total)) if now > t => {
                        (end_total - total) as f64 * 1000.0 / (now - t) as f64
                    }
                    _ => 0.0,
                };
                self.produced_at = Some((now, end_total));
                // A fresh scaler: the sample shows the lag, not excludePersistentLag's memory.
                self.scaler.forget();
                let reading = self.scaler.read(offsets);
                self.last_read = Some((reading.total_lag, reading.metric, reading.active));
                (rate, (reading.total_lag, reading.metric, reading.active))
            }
            // Nothing read: the last reading stands, no rate is measured.
            Observation::Error(_) => (0.0, self.last_read.unwrap_or((0, 0, false))),
        };
        let p = &self.scenario.phases[phase];
        Sample {
            t: now as f64 / 1000.0,
            phase,
            phase_name: self.names[phase].clone(),
            period_ms: p.producer_period_ms.unwrap_or(0),
            produced_per_s,
            total_lag,
            metric,
            active,
            hpa_desired,
            replicas: autoscaler.replicas(),
            running: world.running(),
            scaler_error: match observation {
                Observation::Error(e) => Some(*e),
                Observation::Offsets(_) => None,
            },
        }
    }
}
