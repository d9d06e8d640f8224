//! `lab simulate` for a ScaledJob with Kafka triggers: the scenario's producer writes
//! events to the topic's partitions (keyed, as the Deployment model's producer does);
//! KEDA's loop ([`crate::emulator::jobs::JobScaler`]) creates Jobs; each Job's pod starts a
//! random 0.5x..1.5x `pod_start_ms` after it is created (Pending until then) and joins
//! the group. The group's partitions are dealt over its running Jobs (partition p to the
//! (p mod n)-th, in the order they started; a partition that changes hands is committed
//! first and read again from there); each Job takes events from its partitions in turn,
//! `processing_ms` each, commits every `commit_interval_ms` and when it exits, which it
//! does after `consumer.job_events` events. A Job whose partitions hold nothing waits,
//! still running. KEDA reads lag as end - committed, so an event a Job took and has not
//! committed is still lag.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::emulator::jobs::{JobDecision, JobScaler, JobSpec};
use crate::emulator::{Millis, Offsets};
use crate::scenario::Scenario;

/// Virtual time step, ms.
const STEP: Millis = 10;

/// One second of a ScaledJob run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct JobSample {
    /// Scenario time, s.
    pub t: f64,
    pub phase: usize,
    /// Lag KEDA would read (end - committed, summed).
    pub total_lag: i64,
    /// Jobs created, not started.
    pub pending: u32,
    /// Jobs started, not done.
    pub running: u32,
    /// Jobs done so far.
    pub done: u32,
    /// Jobs created so far.
    pub created: u32,
}

/// What a ScaledJob run records.
#[derive(Debug, Clone, Default)]
pub struct JobTimeline {
    pub samples: Vec<JobSample>,
    pub decisions: Vec<JobDecision>,
}

impl JobTimeline {
    /// The most Jobs unfinished at once (pending or running) during phase `i`.
    pub fn peak_unfinished(&self, phase: usize) -> u32 {
        self.samples
            .iter()
            .filter(|s| s.phase == phase)
            .map(|s| s.pending + s.running)
            .max()
            .unwrap_or(0)
    }

    /// Jobs created during phase `i`.
    pub fn created_in(&self, phase: usize) -> u32 {
        let in_phase: Vec<&JobSample> = self.samples.iter().filter(|s| s.phase == phase).collect();
        match (in_phase.first(), in_phase.last()) {
            (Some(a), Some(b)) => b.created - a.created,
            _ => 0,
        }
    }
}

struct Partition {
    end: i64,
    committed: i64,
    /// Next offset to take.
    position: i64,
    /// Offset after the last processed event (committed at the next commit).
    stored: i64,
    /// The Job it is dealt to.
    holder: Option<usize>,
}

struct Job {
    starts_at: Millis,
    done: bool,
    processed: u64,
    /// The event in progress: (partition, ms left).
    busy: Option<(usize, Millis)>,
    next_commit: Millis,
    /// Where its round over its partitions goes on.
    cursor: usize,
}

/// Runs `scenario` with the ScaledJob `spec` (seeded as `lab simulate` is).
pub fn run(scenario: &Scenario, spec: &JobSpec, seed: u64) -> anyhow::Result<JobTimeline> {
    let events = scenario.consumer.job_events.ok_or_else(|| {
        anyhow::anyhow!("a ScaledJob scenario needs consumer.job_events: the events a Job takes before it exits")
    })?;
    anyhow::ensure!(events > 0, "consumer.job_events must be above 0");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut parts: Vec<Partition> = (0..scenario.partitions)
        .map(|_| Partition {
            end: 0,
            committed: 0,
            position: 0,
            stored: 0,
            holder: None,
        })
        .collect();
    let mut jobs: Vec<Job> = Vec::new();
    let mut keda = JobScaler::new(spec.clone());
    let mut out = JobTimeline::default();
    let c = &scenario.consumer;
    let end = scenario.seconds() * 1000;
    let mut producer = Producer::default();
    let mut phase = usize::MAX;
    let mut t: Millis = 0;
    while t < end {
        let current = phase_at(scenario, t);
        if current != phase {
            phase = current;
            producer = Producer::for_phase(scenario, phase, t, &mut rng);
        }
        producer.produce(scenario, t, &mut parts);
        deal(&mut parts, &jobs, t);
        for (i, job) in jobs.iter_mut().enumerate() {
            step_job(
                i,
                job,
                &mut parts,
                t,
                c.processing_ms,
                c.commit_interval_ms,
                events,
            );
        }
        let due = keda.next_due() <= t;
        let offsets: Vec<Offsets> = match due {
            true => Offsets::numbered(parts.iter().map(|p| (p.end, Some(p.committed)))),
            false => Vec::new(),
        };
        let unfinished = jobs.iter().filter(|j| !j.done).count() as i64;
        let pending = jobs.iter().filter(|j| !j.done && j.starts_at > t).count() as i64;
        let decision = match due {
            true => keda.poll(t, &|_| Ok(&offsets), unfinished, pending),
            false => None,
        };
        if let Some(d) = decision {
            for _ in 0..d.created {
                let start = c.pod_start_ms;
                let starts_at = t + rng.random_range(start / 2..=start + start / 2);
                jobs.push(Job {
                    starts_at,
                    done: false,
                    processed: 0,
                    busy: None,
                    next_commit: starts_at + c.commit_interval_ms,
                    cursor: 0,
                });
            }
            out.decisions.push(d);
        }
        if t.is_multiple_of(1000) {
            out.samples.push(sample(t, phase, &parts, &jobs));
        }
        t += STEP;
    }
    Ok(out)
}

fn sample(t: Millis, phase: usize, parts: &[Partition], jobs: &[Job]) -> JobSample {
    JobSample {
        t: t as f64 / 1000.0,
        phase,
        total_lag: parts.iter().map(|p| p.end - p.committed).sum(),
        pending: jobs.iter().filter(|j| !j.done && j.starts_at > t).count() as u32,
        running: jobs.iter().filter(|j| !j.done && j.starts_at <= t).count() as u32,
        done: jobs.iter().filter(|j| j.done).count() as u32,
        created: jobs.len() as u32,
    }
}

fn phase_at(scenario: &Scenario, t: Millis) -> usize {
    (0..scenario.phases.len())
        .rev()
        .find(|i| scenario.phase_start(*i) <= t)
        .unwrap_or(0)
}

/// The group's assignment: partition p to the (p mod n)-th running Job; a partition that
/// changes hands is committed (its new owner reads on from there).
fn deal(parts: &mut [Partition], jobs: &[Job], t: Millis) {
    let running: Vec<usize> = (0..jobs.len())
        .filter(|&i| !jobs[i].done && jobs[i].starts_at <= t)
        .collect();
    for (p, part) in parts.iter_mut().enumerate() {
        let holder = (!running.is_empty()).then(|| running[p % running.len()]);
        if holder != part.holder {
            part.committed = part.committed.max(part.stored);
            part.position = part.committed;
            part.stored = part.committed;
            part.holder = holder;
        }
    }
}

/// One Job over one step: process, commit, take the next event of its partitions, exit
/// after `events`.
fn step_job(
    id: usize,
    job: &mut Job,
    parts: &mut [Partition],
    t: Millis,
    processing_ms: Millis,
    commit_interval: Millis,
    events: u64,
) {
    if job.done || job.starts_at > t {
        return;
    }
    if let Some((p, left)) = job.busy {
        if left > STEP {
            job.busy = Some((p, left - STEP));
        } else {
            job.busy = None;
            job.processed += 1;
            if parts[p].holder == Some(id) {
                parts[p].stored = parts[p].position;
            }
        }
    }
    let mine = |parts: &[Partition], p: usize| parts[p].holder == Some(id);
    let commit = |parts: &mut [Partition]| {
        for part in parts.iter_mut().filter(|part| part.holder == Some(id)) {
            part.committed = part.committed.max(part.stored);
        }
    };
    if t >= job.next_commit {
        commit(parts);
        job.next_commit += commit_interval;
    }
    if job.busy.is_some() {
        return;
    }
    if job.processed >= events {
        commit(parts);
        job.done = true;
        return;
    }
    let n = parts.len();
    let next = (0..n)
        .map(|i| (job.cursor + i) % n)
        .find(|&p| mine(parts, p) && parts[p].position < parts[p].end);
    if let Some(p) = next {
        parts[p].position += 1;
        job.cursor = p + 1;
        job.busy = Some((p, processing_ms.max(1)));
    }
}

/// The phase's producer: one event per period, to the partition its shape picks.
#[derive(Default)]
struct Producer {
    period: Option<Millis>,
    next: Millis,
    seq: u64,
    burst: u64,
    shape: workload::shape::Shape,
}

impl Producer {
    fn for_phase(scenario: &Scenario, phase: usize, t: Millis, rng: &mut StdRng) -> Self {
        let p = &scenario.phases[phase];
        let period = p.producer_period_ms;
        Producer {
            period,
            next: t + period.map_or(0, |p| rng.random_range(0..p.min(1000))),
            seq: 0,
            burst: p.burst.unwrap_or(0),
            shape: scenario.shape(phase),
        }
    }

    fn produce(&mut self, scenario: &Scenario, t: Millis, parts: &mut [Partition]) {
        let Some(period) = self.period else { return };
        while self.next <= t {
            for _ in 0..=std::mem::take(&mut self.burst) {
                let p = self.shape.partition(self.seq, scenario.partitions) as usize;
                parts[p].end += 1;
                self.seq += 1;
            }
            self.next += period;
        }
    }
}
