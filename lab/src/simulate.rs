//! `lab simulate`: the scenario in virtual time with a model of the workload, no broker.
//!
//! The model, stepped every 10 ms of virtual time:
//! - the producer sends one event per period to the partition librdkafka's default
//!   partitioner picks for key `seq` (CRC32 of the key, modulo the partition count);
//! - each consumer replica takes events from its partitions in turn, spends
//!   `processing_ms` on each, stores the offset, and commits its stored offsets every
//!   `commit_interval_ms` (its own timer, at a random phase), and when it loses a
//!   partition or stops;
//! - a replica the Deployment gains starts a random 0.5x..1.5x `pod_start_ms` later,
//!   and its commit timer runs from its start (as librdkafka's does);
//! - every join or leave rebalances the group (cooperative-sticky: only partitions that
//!   change owner move); a join takes two rounds of `rebalance_round_ms`, a leave one;
//!   until it is over the group's commits fail (RebalanceInProgress) and moving
//!   partitions are not consumed; a partition's new owner starts at its committed offset;
//! - the emulator reads end and committed offsets, as KEDA does, at its own schedule.
//!
//! Deterministic for a given seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::emulator::{Autoscaler, Controller, Offsets, ScalingSpec};
use crate::report::timeline::{Sample, Timeline};
use crate::scenario::Scenario;

/// Virtual time step, ms.
const STEP: u64 = 10;
/// Sample interval, ms.
const SAMPLE: u64 = 1000;
/// How long the workload runs before the emulator starts, ms.
const WARMUP: u64 = 20_000;

/// The partition librdkafka's default (consistent_random) partitioner picks for `key`.
pub fn partition_for(key: &str, partitions: u32) -> u32 {
    crc32fast::hash(key.as_bytes()) % partitions
}

#[derive(Debug)]
struct Replica {
    id: u32,
    /// Joins the group at this time.
    joins_at: u64,
    member: bool,
    /// The event in progress: (partition, ms left).
    busy: Option<(usize, u64)>,
    next_commit: u64,
    /// Round-robin cursor over partitions.
    cursor: usize,
}

struct Partition {
    end: i64,
    /// Next offset to process.
    position: i64,
    /// Offset after the last processed event.
    stored: i64,
    committed: Option<i64>,
    owner: Option<u32>,
    /// Not consumed before this time (moving between owners).
    available_at: u64,
}

struct World {
    /// The group's commits fail until then (a rebalance is in progress).
    rebalancing_until: u64,
    partitions: Vec<Partition>,
    replicas: Vec<Replica>,
    next_id: u32,
    rng: StdRng,
}

impl World {
    fn commit(&mut self, now: u64, owner: u32) {
        if now < self.rebalancing_until {
            return;
        }
        for p in self
            .partitions
            .iter_mut()
            .filter(|p| p.owner == Some(owner))
        {
            if p.committed.is_none_or(|c| c < p.stored) {
                p.committed = Some(p.stored);
            }
        }
    }

    /// Cooperative-sticky: keep owners within their quota, give the rest to the members
    /// with room, in order.
    fn rebalance(&mut self, now: u64, duration: u64) {
        self.rebalancing_until = self.rebalancing_until.max(now + duration);
        let members: Vec<u32> = self
            .replicas
            .iter()
            .filter(|r| r.member)
            .map(|r| r.id)
            .collect();
        let n = self.partitions.len();
        let quota = |i: usize| {
            if members.is_empty() {
                0
            } else {
                n / members.len() + usize::from(i < n % members.len())
            }
        };
        let mut kept = vec![0usize; members.len()];
        let mut target: Vec<Option<u32>> = vec![None; n];
        for (p, partition) in self.partitions.iter().enumerate() {
            if let Some(i) = partition
                .owner
                .and_then(|o| members.iter().position(|m| *m == o))
            {
                if kept[i] < quota(i) {
                    kept[i] += 1;
                    target[p] = partition.owner;
                }
            }
        }
        for slot in target.iter_mut().filter(|t| t.is_none()) {
            if let Some(i) = (0..members.len()).find(|&i| kept[i] < quota(i)) {
                kept[i] += 1;
                *slot = Some(members[i]);
            }
        }
        for (p, new_owner) in target.into_iter().enumerate() {
            let old_owner = self.partitions[p].owner;
            if old_owner == new_owner {
                continue;
            }
            if let Some(old) = old_owner {
                // The old owner finishes an event of this partition, then commits it.
                if let Some(r) = self.replicas.iter_mut().find(|r| r.id == old) {
                    if r.busy.is_some_and(|(bp, _)| bp == p) {
                        r.busy = None;
                        self.partitions[p].stored = self.partitions[p].position;
                    }
                }
                // Its commit on revoke happens mid-rebalance and fails: the new owner
                // reads again from the last committed offset.
            }
            let part = &mut self.partitions[p];
            part.owner = new_owner;
            // The new owner starts at the committed offset (earliest when none).
            part.position = part.committed.unwrap_or(0);
            part.stored = part.position;
            part.available_at = self.rebalancing_until;
        }
    }

    /// Brings the number of replicas to `wanted`: new ones start, the newest stop.
    fn reconcile(&mut self, now: u64, wanted: u32, scenario: &Scenario) -> bool {
        let mut membership_changed = false;
        while (self.replicas.len() as u32) < wanted {
            let pod_start = scenario.consumer.pod_start_ms;
            let starts_at = now
                + self
                    .rng
                    .random_range(pod_start / 2..=pod_start + pod_start / 2);
            self.replicas.push(Replica {
                id: self.next_id,
                joins_at: starts_at,
                member: false,
                busy: None,
                // librdkafka starts the auto-commit timer when the client is created.
                next_commit: starts_at + scenario.consumer.commit_interval_ms,
                cursor: 0,
            });
            self.next_id += 1;
        }
        while (self.replicas.len() as u32) > wanted {
            let leaving = self.replicas.pop().expect("more replicas than wanted");
            if leaving.member {
                if let Some((p, _)) = leaving.busy {
                    let part = &mut self.partitions[p];
                    part.stored = part.position;
                }
                // Its last commit comes before it leaves: it succeeds.
                let until = std::mem::take(&mut self.rebalancing_until);
                self.commit(now, leaving.id);
                self.rebalancing_until = until;
                for p in self
                    .partitions
                    .iter_mut()
                    .filter(|p| p.owner == Some(leaving.id))
                {
                    p.owner = None;
                }
                membership_changed = true;
            }
        }
        membership_changed
    }

    fn consume(&mut self, now: u64, processing: u64) {
        for r in self.replicas.iter_mut().filter(|r| r.member) {
            let mut budget = STEP;
            loop {
                if let Some((p, left)) = r.busy {
                    if left > budget {
                        r.busy = Some((p, left - budget));
                        break;
                    }
                    budget -= left;
                    r.busy = None;
                    self.partitions[p].stored = self.partitions[p].position;
                }
                let n = self.partitions.len();
                let next = (0..n).map(|k| (r.cursor + k) % n).find(|&p| {
                    let part = &self.partitions[p];
                    part.owner == Some(r.id) && part.available_at <= now && part.position < part.end
                });
                let Some(p) = next else { break };
                r.cursor = (p + 1) % n;
                self.partitions[p].position += 1;
                r.busy = Some((p, processing));
            }
        }
    }

    fn offsets(&self) -> Vec<Offsets> {
        self.partitions
            .iter()
            .map(|p| Offsets {
                end: p.end,
                committed: p.committed,
            })
            .collect()
    }

    fn running(&self) -> u32 {
        self.replicas.len() as u32
    }
}

/// Runs `scenario` against the emulator configured by `spec`.
pub fn run(scenario: &Scenario, spec: &ScalingSpec, seed: u64) -> Timeline {
    let mut timeline = Timeline::new(scenario.clone(), "simulate");
    let mut autoscaler = Autoscaler::new(spec.clone(), scenario.start_replicas);
    let mut world = World {
        rebalancing_until: 0,
        partitions: (0..scenario.partitions)
            .map(|_| Partition {
                end: 0,
                position: 0,
                stored: 0,
                // Warm start: the demo was already running, so the group has
                // committed every partition.
                committed: Some(0),
                owner: None,
                available_at: 0,
            })
            .collect(),
        replicas: Vec::new(),
        next_id: 0,
        rng: StdRng::seed_from_u64(seed),
    };
    world.reconcile(0, scenario.start_replicas, scenario);
    // Replicas present at the start are already members with their partitions.
    for r in &mut world.replicas {
        r.joins_at = 0;
    }

    // The world runs WARMUP ms before the emulator starts: the demo was already running
    // at the first phase's rate, as in the published run.
    let end = WARMUP + scenario.seconds() * 1000;
    let (mut seq, mut next_send, mut current_phase) = (0u64, 0u64, usize::MAX);
    let (mut produced_since_sample, mut last_hpa) = (0u64, scenario.start_replicas);
    let mut clock = 0;
    while clock < end {
        let t = clock.saturating_sub(WARMUP);
        let phase = timeline.phase_at(t as f64 / 1000.0);
        let period = scenario.phases[phase].producer_period_ms;
        if phase != current_phase {
            // A new phase is a new producer pod (or none): it starts a pod start later,
            // at a random moment within one period, and its sequence starts again.
            current_phase = phase;
            seq = 0;
            let jitter = period.map_or(0, |p| world.rng.random_range(0..p.min(1000)));
            let delay = if clock == 0 {
                0
            } else {
                scenario.consumer.pod_start_ms
            };
            next_send = clock + delay + jitter;
        }
        if let Some(period) = period {
            while next_send <= clock {
                let p = partition_for(&seq.to_string(), scenario.partitions) as usize;
                world.partitions[p].end += 1;
                seq += 1;
                produced_since_sample += 1;
                next_send += period;
            }
        }

        let mut joined = false;
        for r in world
            .replicas
            .iter_mut()
            .filter(|r| !r.member && r.joins_at <= clock)
        {
            r.member = true;
            joined = true;
        }
        if joined {
            // A join: two rounds of the cooperative protocol (none for the replicas that
            // were already running at the start).
            let duration = if clock == 0 {
                0
            } else {
                2 * scenario.consumer.rebalance_round_ms
            };
            world.rebalance(clock, duration);
        }
        world.consume(clock, scenario.consumer.processing_ms);
        let due: Vec<u32> = world
            .replicas
            .iter()
            .filter(|r| r.member && r.next_commit <= clock)
            .map(|r| r.id)
            .collect();
        for id in due {
            world.commit(clock, id);
            let r = world
                .replicas
                .iter_mut()
                .find(|r| r.id == id)
                .expect("replica exists");
            r.next_commit += scenario.consumer.commit_interval_ms;
        }

        if clock >= WARMUP && autoscaler.next_due() <= t {
            let offsets = world.offsets();
            for decision in autoscaler.evaluate(t, &offsets) {
                if decision.by == Controller::Hpa {
                    last_hpa = decision.desired;
                }
                timeline.decisions.push(decision);
            }
            if world.reconcile(clock, autoscaler.replicas(), scenario) {
                // A leave: one round.
                world.rebalance(clock, scenario.consumer.rebalance_round_ms);
            }
        }

        if clock >= WARMUP && t % SAMPLE == 0 {
            let reading = crate::emulator::scaler::KafkaScaler::new(spec.trigger.clone())
                .read(&world.offsets());
            timeline.samples.push(Sample {
                t: t as f64 / 1000.0,
                phase,
                period_ms: period.unwrap_or(0),
                produced_per_s: produced_since_sample as f64 * 1000.0 / SAMPLE as f64,
                total_lag: reading.total_lag,
                metric: reading.metric,
                active: reading.active,
                hpa_desired: last_hpa,
                replicas: autoscaler.replicas(),
                running: world.running(),
            });
        }
        if t % SAMPLE == 0 {
            produced_since_sample = 0;
        }
        clock += STEP;
    }
    timeline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitioner_spreads_sequence_keys_over_all_partitions() {
        let mut counts = [0u32; 10];
        for seq in 0..1000 {
            counts[partition_for(&seq.to_string(), 10) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (70..=130).contains(&c)),
            "{counts:?}"
        );
    }
}
