//! `lab simulate`: the scenario in virtual time with a model of the workload, no broker,
//! driven by the same run loop as the replay ([`crate::run`]).
//!
//! The model, stepped every 10 ms of virtual time:
//! - the producer sends one event per period to the partition librdkafka's default
//!   partitioner picks for key `seq` (CRC32 of the key, modulo the partition count); a new
//!   phase is a new producer pod (a pod start later, at a random point of its period,
//!   sequence from 0);
//! - each consumer replica takes events from its partitions in turn, spends
//!   `processing_ms` on each, stores the offset, and commits its stored offsets every
//!   `commit_interval_ms` (its own timer, from its start, as librdkafka's is), and when it
//!   loses a partition or stops;
//! - a replica the Deployment gains starts a random 0.5x..1.5x `pod_start_ms` later; the
//!   newest replica stops first;
//! - every join or leave rebalances the group (cooperative-sticky: only partitions that
//!   change owner move); a join takes two rounds of `rebalance_round_ms`, a leave one;
//!   until it is over the group's commits fail (RebalanceInProgress) and moving
//!   partitions are not consumed; a partition's new owner starts at its committed offset;
//! - the emulator reads end and committed offsets, as KEDA does, at its own schedule.
//!
//! Deterministic for a given seed.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::emulator::{Millis, Offsets, ScalingSpec};
use crate::run::{self, World, WARMUP_MS};
use crate::scenario::{ConsumerModel, Scenario};
use crate::timeline::Timeline;

/// Virtual time step, ms.
const STEP: Millis = 10;

/// The partition librdkafka's default (consistent_random) partitioner picks for `key`.
pub fn partition_for(key: &str, partitions: u32) -> u32 {
    crc32fast::hash(key.as_bytes()) % partitions
}

/// Runs `scenario` against the emulator configured by `spec`.
pub fn run(scenario: &Scenario, spec: &ScalingSpec, seed: u64) -> anyhow::Result<Timeline> {
    let mut model = Model::new(scenario, seed);
    futures::executor::block_on(run::drive(
        scenario,
        spec,
        &mut model,
        &mut run::Unwatched,
        "simulate",
    ))
}

/// How often each phase settled at each replica count over seeds 1..=n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spread {
    /// Per phase: replica count -> seeds.
    pub counts: Vec<BTreeMap<u32, u64>>,
    /// Seeds whose every phase matched its published count.
    pub all_as_published: u64,
}

pub fn robustness(scenario: &Scenario, spec: &ScalingSpec, n: u64) -> anyhow::Result<Spread> {
    let mut counts = vec![BTreeMap::<u32, u64>::new(); scenario.phases.len()];
    let mut all_as_published = 0;
    for seed in 1..=n {
        let timeline = run(scenario, spec, seed)?;
        let mut all = true;
        for (i, phase) in scenario.phases.iter().enumerate() {
            let settled = timeline.outcome(i).map(|o| o.settled);
            if let Some(settled) = settled {
                *counts[i].entry(settled).or_default() += 1;
            }
            all &= phase.published.is_none() || phase.published == settled;
        }
        all_as_published += u64::from(all);
    }
    Ok(Spread {
        counts,
        all_as_published,
    })
}

#[derive(Debug)]
struct Replica {
    id: u32,
    /// Joins the group at this time.
    joins_at: Millis,
    member: bool,
    /// The event in progress: (partition, ms left).
    busy: Option<(usize, Millis)>,
    next_commit: Millis,
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
    available_at: Millis,
}

/// The modelled workload; `clock` counts from the start of the warm-up.
struct Model {
    consumer: ConsumerModel,
    clock: Millis,
    /// The group's commits fail until then (a rebalance is in progress).
    rebalancing_until: Millis,
    partitions: Vec<Partition>,
    replicas: Vec<Replica>,
    next_id: u32,
    rng: StdRng,
    /// The producer: its period, the next send and its sequence.
    producer: Option<(Millis, Millis)>,
    seq: u64,
}

impl World for Model {
    fn now(&self) -> Millis {
        self.clock.saturating_sub(WARMUP_MS)
    }

    async fn warm_up(&mut self, period_ms: Option<u64>, replicas: u32) -> anyhow::Result<()> {
        self.reconcile(replicas);
        // Replicas present at the start are already members with their partitions.
        for r in &mut self.replicas {
            r.joins_at = 0;
        }
        self.producer = period_ms.map(|p| (p, self.rng.random_range(0..p.min(1000))));
        self.advance_to(WARMUP_MS);
        Ok(())
    }

    async fn set_producer(&mut self, period_ms: Option<u64>, _phase: usize) -> anyhow::Result<()> {
        self.seq = 0;
        self.producer = period_ms.map(|p| {
            let jitter = self.rng.random_range(0..p.min(1000));
            (p, self.clock + self.consumer.pod_start_ms + jitter)
        });
        Ok(())
    }

    async fn offsets(&mut self) -> anyhow::Result<Vec<Offsets>> {
        Ok(Offsets::numbered(
            self.partitions.iter().map(|p| (p.end, p.committed)),
        ))
    }

    async fn scale(&mut self, replicas: u32) -> anyhow::Result<()> {
        if self.reconcile(replicas) {
            // A leave: one round.
            self.rebalance(self.consumer.rebalance_round_ms);
        }
        Ok(())
    }

    fn running(&self) -> u32 {
        self.replicas.len() as u32
    }

    async fn advance(&mut self, until: Millis) -> anyhow::Result<bool> {
        self.advance_to(WARMUP_MS + until);
        Ok(true)
    }
}

impl Model {
    fn new(scenario: &Scenario, seed: u64) -> Self {
        Self {
            consumer: scenario.consumer.clone(),
            clock: 0,
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
            producer: None,
            seq: 0,
        }
    }

    fn advance_to(&mut self, clock: Millis) {
        while self.clock < clock {
            self.step();
            self.clock += STEP;
        }
    }

    /// One 10 ms step: produce, join, consume, commit.
    fn step(&mut self) {
        let clock = self.clock;
        if let Some((period, next_send)) = &mut self.producer {
            while *next_send <= clock {
                let p = partition_for(&self.seq.to_string(), self.partitions.len() as u32);
                self.partitions[p as usize].end += 1;
                self.seq += 1;
                *next_send += *period;
            }
        }
        let mut joined = false;
        for r in self
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
                2 * self.consumer.rebalance_round_ms
            };
            self.rebalance(duration);
        }
        self.consume();
        let due: Vec<u32> = self
            .replicas
            .iter()
            .filter(|r| r.member && r.next_commit <= clock)
            .map(|r| r.id)
            .collect();
        for id in due {
            self.commit(id);
            let interval = self.consumer.commit_interval_ms;
            if let Some(r) = self.replicas.iter_mut().find(|r| r.id == id) {
                r.next_commit += interval;
            }
        }
    }

    fn commit(&mut self, owner: u32) {
        if self.clock < self.rebalancing_until {
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
    fn rebalance(&mut self, duration: Millis) {
        self.rebalancing_until = self.rebalancing_until.max(self.clock + duration);
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
                // The old owner finishes an event of this partition; its commit on revoke
                // happens mid-rebalance and fails, so the new owner reads again from the
                // last committed offset.
                if let Some(r) = self.replicas.iter_mut().find(|r| r.id == old) {
                    if r.busy.is_some_and(|(bp, _)| bp == p) {
                        r.busy = None;
                        self.partitions[p].stored = self.partitions[p].position;
                    }
                }
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
    /// Returns whether a member left the group.
    fn reconcile(&mut self, wanted: u32) -> bool {
        let mut left = false;
        while (self.replicas.len() as u32) < wanted {
            let pod_start = self.consumer.pod_start_ms;
            let starts_at = self.clock
                + self
                    .rng
                    .random_range(pod_start / 2..=pod_start + pod_start / 2);
            self.replicas.push(Replica {
                id: self.next_id,
                joins_at: starts_at,
                member: false,
                busy: None,
                // librdkafka starts the auto-commit timer when the client is created.
                next_commit: starts_at + self.consumer.commit_interval_ms,
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
                self.commit(leaving.id);
                self.rebalancing_until = until;
                for p in self
                    .partitions
                    .iter_mut()
                    .filter(|p| p.owner == Some(leaving.id))
                {
                    p.owner = None;
                }
                left = true;
            }
        }
        left
    }

    fn consume(&mut self) {
        let (clock, processing) = (self.clock, self.consumer.processing_ms);
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
                    part.owner == Some(r.id)
                        && part.available_at <= clock
                        && part.position < part.end
                });
                let Some(p) = next else { break };
                r.cursor = (p + 1) % n;
                self.partitions[p].position += 1;
                r.busy = Some((p, processing));
            }
        }
    }
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
