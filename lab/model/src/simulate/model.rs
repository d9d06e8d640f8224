//! The workload `lab simulate` models, stepped every 10 ms of virtual time:
//! - the producer sends one event per period to the partition librdkafka's default
//!   partitioner picks for key `seq` (CRC32 of the key, modulo the partition count), or
//!   where the phase's shape sends it (a hot partition, silent partitions:
//!   [`workload::shape::Shape`], the replay producer's own rule); a new phase is a new
//!   producer pod (a pod start later, at a random point of its period, sequence from 0),
//!   which first sends the phase's burst, if any;
//! - each consumer replica takes events from its partitions in turn, spends
//!   `processing_ms` on each, stores the offset, and commits its stored offsets every
//!   `commit_interval_ms` (its own timer, from its start, as librdkafka's is), and when it
//!   loses a partition or stops; a stuck partition (a poison record at its head) is never
//!   got past;
//! - a replica the Deployment gains starts a random 0.5x..1.5x `pod_start_ms` later; the
//!   newest replica stops first;
//! - every join or leave rebalances the group. Cooperative-sticky: only partitions that
//!   change owner move; a join takes two rounds of `rebalance_round_ms`, a leave one;
//!   until it is over the group's commits fail (RebalanceInProgress) and moving partitions
//!   are not consumed. Eager: every member commits and gives up every partition first,
//!   one round, and the whole group waits. A partition's new owner starts at its committed
//!   offset (at the log start when it has none, or when retention deleted it);
//! - while the broker is away nothing is delivered, consumed or committed: the producer
//!   holds its events and delivers them when the broker is back, except those older than
//!   its `message.timeout.ms` (30 s); an outage as long as the session timeout costs the
//!   group its members, and they all join again;
//! - the emulator reads end and committed offsets, as KEDA does, at its own schedule, or
//!   fails as the scenario says.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ready::Ready;
use crate::emulator::{Millis, Offsets, ScalerError};
use crate::run::{Observation, WARMUP_MS};
use crate::scenario::{Assignment, ConsumerModel, Scenario, Span};

/// Virtual time step, ms.
const STEP: Millis = 10;

/// The producer's delivery timeout ([`workload::DELIVERY_TIMEOUT`]): an event not
/// delivered this long after it was sent fails.
const MESSAGE_TIMEOUT_MS: Millis = workload::DELIVERY_TIMEOUT.as_millis() as Millis;

#[derive(Debug)]
struct Replica {
    id: u32,
    /// Joins the group at this time.
    joins_at: Millis,
    member: bool,
    /// The event in progress: (partition, when it is done, model clock). While the broker
    /// is away the work stands still: [`Model::broker_back`] moves the time on.
    busy: Option<(usize, Millis)>,
    next_commit: Millis,
    /// Round-robin cursor: the partition after the one it last took from (mod the
    /// partition count) ...
    cursor: usize,
    /// ... and where in `owned` that is: the next look for an event starts there.
    cursor_at: usize,
    /// The partitions it owns, in order (kept by [`Model::refresh_ownership`]).
    owned: Vec<usize>,
    /// Which of them hold an event to take (not stuck, position before the end), by index
    /// in `owned`: its look for the next event visits only those, and a replica with none
    /// is passed over.
    ready: Ready,
    /// Events it finished processing (its CPU work, for cpu triggers: `usage`).
    processed: u64,
}

struct Partition {
    /// Log-start offset (retention deleted everything before it).
    start: i64,
    end: i64,
    /// Next offset to process.
    position: i64,
    /// Offset after the last processed event.
    stored: i64,
    committed: Option<i64>,
    owner: Option<u32>,
    /// Its index in its owner's `owned`.
    owned_at: usize,
    /// Not consumed before this time (moving between owners).
    available_at: Millis,
    /// A poison record at its head: no replica gets past it.
    stuck: bool,
    /// When each event from offset `base` on was sent (model clock); the front is
    /// dropped as events are processed, so it holds about the backlog.
    sent: std::collections::VecDeque<Millis>,
    base: i64,
    /// The first offset whose processing has not been recorded yet.
    unrecorded: i64,
}

impl Partition {
    /// An event sent at `at` lands at the log end.
    fn append(&mut self, at: Millis) {
        self.sent.push_back(at);
        self.end += 1;
    }

    /// The event at `offset` was processed at `at`: its delay, the first time.
    fn processed(&mut self, offset: i64, at: Millis) -> Option<Millis> {
        if offset < self.unrecorded {
            return None;
        }
        self.unrecorded = offset + 1;
        // Events before it will never be recorded again: their send times go.
        while self.base < offset && self.sent.pop_front().is_some() {
            self.base += 1;
        }
        let sent = *self.sent.get(usize::try_from(offset - self.base).ok()?)?;
        (sent >= WARMUP_MS).then(|| at.saturating_sub(sent))
    }

    /// Whether an owner has an event to take here.
    fn has_work(&self) -> bool {
        !self.stuck && self.position < self.end
    }

    /// Where a new owner starts: the committed offset, or the log start when there is
    /// none or retention deleted it (`auto.offset.reset: earliest`).
    fn resume_at(&self) -> i64 {
        self.committed.unwrap_or(self.start).max(self.start)
    }
}

/// The phase's producer pod.
struct Producer {
    period: Millis,
    next_send: Millis,
    seq: u64,
    shape: workload::shape::Shape,
    /// Events it sends at once with its first one.
    burst: u64,
}

/// What the scenario does to the broker and to KEDA's scaler, in scenario time.
struct Faults {
    outages: Vec<Span>,
    scaler_errors: Vec<(Span, ScalerError)>,
    /// Whether the broker was away at the last step.
    down: bool,
    /// When the current outage began (model clock).
    down_since: Millis,
    /// Events the producer holds while the broker is away: (sent at, partition).
    held: Vec<(Millis, usize)>,
    /// Events that failed: held longer than `message.timeout.ms`.
    expired: u64,
}

/// The modelled workload; `clock` counts from the start of the warm-up.
pub(super) struct Model {
    scenario: Scenario,
    consumer: ConsumerModel,
    clock: Millis,
    /// The group's commits fail until then (a rebalance is in progress).
    rebalancing_until: Millis,
    /// The earliest auto-commit of a member, and the earliest join of a replica still
    /// starting (`Millis::MAX`: none): before them `commit_due` and `join_due` have nothing
    /// to do (kept by [`Model::refresh_timers`]).
    next_commit_at: Millis,
    next_join_at: Millis,
    partitions: Vec<Partition>,
    replicas: Vec<Replica>,
    next_id: u32,
    rng: StdRng,
    producer: Option<Producer>,
    faults: Faults,
    /// Each event's time from sent to processed (the first time), for events sent in
    /// scenario time.
    delays: Vec<Millis>,
    keyed: KeyedPartitions,
}

impl Model {
    pub(super) fn new(scenario: &Scenario, seed: u64) -> Self {
        let silent_from_start = scenario
            .phases
            .first()
            .map(|p| p.silent_partitions.clone())
            .unwrap_or_default();
        let partitions = (0..scenario.partitions)
            .map(|p| {
                let (start, end, committed) = match scenario.history {
                    // A new group on an old topic: nothing committed.
                    Some(h) => ((h.events - h.retained) as i64, h.events as i64, None),
                    // The demo was already running: the group has committed every
                    // partition it ever got an event on.
                    None if silent_from_start.contains(&p) => (0, 0, None),
                    None => (0, 0, Some(0)),
                };
                Partition {
                    start,
                    end,
                    position: start,
                    stored: start,
                    committed,
                    owner: None,
                    owned_at: 0,
                    available_at: 0,
                    stuck: scenario.consumer.stuck_partition == Some(p),
                    sent: Default::default(),
                    base: end,
                    unrecorded: end,
                }
            })
            .collect();
        Self {
            scenario: scenario.clone(),
            consumer: scenario.consumer.clone(),
            clock: 0,
            rebalancing_until: 0,
            next_commit_at: Millis::MAX,
            next_join_at: Millis::MAX,
            partitions,
            replicas: Vec::new(),
            next_id: 0,
            rng: StdRng::seed_from_u64(seed),
            producer: None,
            faults: Faults {
                outages: scenario.outages(),
                scaler_errors: scenario.scaler_errors(),
                down: false,
                down_since: 0,
                held: Vec::new(),
                expired: 0,
            },
            delays: Vec::new(),
            keyed: KeyedPartitions::borrow(scenario.partitions),
        }
    }

    /// Each event's time from sent to first processed, ms (events sent in scenario time).
    pub(super) fn event_delays(&mut self) -> Vec<Millis> {
        std::mem::take(&mut self.delays)
    }

    pub(super) fn clock(&self) -> Millis {
        self.clock
    }

    pub(super) fn expired_events(&self) -> u64 {
        self.faults.expired
    }

    pub(super) fn replica_count(&self) -> u32 {
        self.replicas.len() as u32
    }

    /// Each replica as its pod: (id, when it joins the group, model clock; whether it
    /// has; events it processed; events waiting in the partitions it owns).
    pub(super) fn pods(&self) -> impl Iterator<Item = (u32, Millis, bool, u64, i64)> + '_ {
        self.replicas.iter().map(|r| {
            let waiting = r
                .owned
                .iter()
                .map(|&p| self.partitions[p].end - self.partitions[p].position)
                .sum();
            (r.id, r.joins_at, r.member, r.processed, waiting)
        })
    }

    /// The warm start: `replicas` members already holding their partitions, and the first
    /// phase's producer.
    pub(super) fn start(&mut self, period_ms: Option<u64>, replicas: u32) {
        self.reconcile(replicas);
        for r in &mut self.replicas {
            r.joins_at = 0;
        }
        self.refresh_timers();
        let first_send = period_ms.map(|p| self.rng.random_range(0..p.min(1000)));
        self.producer = period_ms.zip(first_send).map(|(p, at)| Producer {
            period: p,
            next_send: at,
            seq: 0,
            shape: self.scenario.shape(0),
            burst: 0,
        });
    }

    /// A new producer pod for `phase` (a pod start later), or none.
    pub(super) fn new_producer(&mut self, period_ms: Option<u64>, phase: usize) {
        self.producer = period_ms.map(|p| {
            let jitter = self.rng.random_range(0..p.min(1000));
            Producer {
                period: p,
                next_send: self.clock + self.consumer.pod_start_ms + jitter,
                seq: 0,
                shape: self.scenario.shape(phase),
                burst: self.scenario.phases[phase].burst.unwrap_or(0),
            }
        });
    }

    /// What KEDA's scaler finds now: an error, or every partition's end and committed
    /// offsets (KEDA v2.20.2 reads no log-start offset).
    pub(super) fn observation(&self) -> Observation {
        let now = self.clock.saturating_sub(WARMUP_MS);
        if self.broker_down() {
            return Observation::Error(ScalerError::BrokerUnreachable);
        }
        if let Some((_, e)) = self
            .faults
            .scaler_errors
            .iter()
            .find(|(span, _)| span.contains(now))
        {
            return Observation::Error(*e);
        }
        Observation::Offsets(Offsets::numbered(
            self.partitions.iter().map(|p| (p.end, p.committed)),
        ))
    }

    pub(super) fn scale_to(&mut self, replicas: u32) {
        if self.reconcile(replicas) {
            // A leave: one round.
            self.rebalance(self.consumer.rebalance_round_ms);
        }
    }

    /// Steps to `clock`. Steps in which nothing would happen but time passing (no send,
    /// join, commit, event finished or taken, broker going or coming) are skipped in one
    /// go: the result is the same as stepping through them, in far fewer steps.
    pub(super) fn advance_to(&mut self, clock: Millis) {
        while self.clock < clock {
            let next = self.next_eventful_step(clock);
            if next > self.clock {
                self.pass_quietly(next - self.clock);
                if self.clock >= clock {
                    break;
                }
            }
            self.step();
            self.clock += STEP;
        }
    }

    /// The first step, at or after now and at most `limit`, in which something happens.
    fn next_eventful_step(&self, limit: Millis) -> Millis {
        let now = self.clock;
        // The first step at or after `t`.
        let grid = |t: Millis| t.div_ceil(STEP) * STEP;
        let mut next = limit;
        let mut at = |t: Millis| {
            if t < next {
                next = next.min(grid(t).max(now));
            }
        };
        for span in &self.faults.outages {
            at(WARMUP_MS + span.start);
            at(WARMUP_MS + span.end);
        }
        if let Some(p) = &self.producer {
            at(p.next_send);
        }
        if self.faults.down {
            // Nothing joins, is consumed or committed while the broker is away.
            return next;
        }
        at(self.next_join_at);
        at(self.next_commit_at);
        for r in self.replicas.iter().filter(|r| r.member) {
            // When it takes its next event: once it is free (a busy replica finishes in the
            // step where what is left fits in it) and the partition is available. A busy
            // replica with nothing more to take finishes unseen, in the quiet steps
            // (`pass_quietly`).
            if r.ready.is_empty() {
                continue;
            }
            let free = r.busy.map_or(now, |(_, done)| {
                now + done.saturating_sub(now).saturating_sub(1) / STEP * STEP
            });
            for i in r.ready.from(0) {
                let part = &self.partitions[r.owned[i]];
                at(part.available_at.max(free));
                if part.available_at <= free {
                    // No partition can be taken before the replica is free.
                    break;
                }
            }
        }
        next
    }

    /// `ms` of steps in which nothing happens: events in progress get on with it, and
    /// those that end in them end (their offsets stored, as a step would store them).
    fn pass_quietly(&mut self, ms: Millis) {
        let end = self.clock + ms;
        if !self.faults.down {
            for r in self.replicas.iter_mut().filter(|r| r.member) {
                let Some((p, done)) = r.busy else { continue };
                if done > end {
                    continue;
                }
                r.busy = None;
                r.processed += 1;
                let part = &mut self.partitions[p];
                part.stored = part.position;
                if let Some(delay) = part.processed(part.position - 1, done) {
                    self.delays.push(delay);
                }
            }
        }
        self.clock = end;
    }

    /// Whether the broker is away at the current step (outages are in scenario time).
    fn broker_down(&self) -> bool {
        !self.faults.outages.is_empty()
            && self.clock >= WARMUP_MS
            && self
                .faults
                .outages
                .iter()
                .any(|s| s.contains(self.clock - WARMUP_MS))
    }

    /// One 10 ms step: the broker goes or comes back, produce, join, consume, commit.
    fn step(&mut self) {
        let down = self.broker_down();
        if down != self.faults.down {
            self.faults.down = down;
            if down {
                self.faults.down_since = self.clock;
            } else {
                self.broker_back();
            }
        }
        self.produce();
        if down {
            // Nothing joins, is consumed or committed without a broker.
            return;
        }
        self.join_due();
        self.consume();
        self.commit_due();
    }

    fn produce(&mut self) {
        let clock = self.clock;
        let Some(producer) = &mut self.producer else {
            return;
        };
        while producer.next_send <= clock {
            for _ in 0..=std::mem::take(&mut producer.burst) {
                let seq = producer.seq;
                let p = self.keyed.of(&producer.shape, seq);
                producer.seq += 1;
                if self.faults.down {
                    self.faults.held.push((clock, p));
                } else {
                    append(&mut self.partitions, &mut self.replicas, p, clock);
                }
            }
            producer.next_send += producer.period;
        }
    }

    /// The broker is back: held events are delivered (those still within the message
    /// timeout); after an outage as long as the session timeout every member joins again.
    fn broker_back(&mut self) {
        // The events in progress stood still while the broker was away.
        let away = self.clock - self.faults.down_since;
        for r in &mut self.replicas {
            if let Some((_, done)) = &mut r.busy {
                *done += away;
            }
        }
        for (sent_at, p) in std::mem::take(&mut self.faults.held) {
            if self.clock - sent_at <= MESSAGE_TIMEOUT_MS {
                append(&mut self.partitions, &mut self.replicas, p, sent_at);
            } else {
                self.faults.expired += 1;
            }
        }
        if self.clock - self.faults.down_since >= self.consumer.session_timeout_ms {
            // The coordinator expired every member: their partitions are lost (not
            // revoked: nothing is committed), and the whole group joins again.
            for p in &mut self.partitions {
                p.owner = None;
            }
            for r in &mut self.replicas {
                r.busy = None;
            }
            self.refresh_ownership();
            self.rebalance(2 * self.consumer.rebalance_round_ms);
        }
    }

    fn join_due(&mut self) {
        let clock = self.clock;
        if clock < self.next_join_at {
            return;
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
            self.refresh_timers();
            // A join: two rounds of the cooperative protocol, one of the eager one (none
            // for the replicas that were already running at the start).
            let rounds = match self.consumer.assignment {
                Assignment::CooperativeSticky => 2,
                Assignment::Eager => 1,
            };
            let duration = if clock == 0 {
                0
            } else {
                rounds * self.consumer.rebalance_round_ms
            };
            self.rebalance(duration);
        }
    }

    fn commit_due(&mut self) {
        if self.clock < self.next_commit_at {
            return;
        }
        let interval = self.consumer.commit_interval_ms;
        for i in 0..self.replicas.len() {
            let r = &self.replicas[i];
            if r.member && r.next_commit <= self.clock {
                self.commit(r.id);
                self.replicas[i].next_commit += interval;
            }
        }
        self.refresh_timers();
    }

    /// Recomputes the earliest commit and join after replicas, their membership or their
    /// commit timers changed.
    fn refresh_timers(&mut self) {
        let earliest = |member: bool, at: fn(&Replica) -> Millis| {
            self.replicas
                .iter()
                .filter(|r| r.member == member)
                .map(at)
                .min()
                .unwrap_or(Millis::MAX)
        };
        self.next_commit_at = earliest(true, |r| r.next_commit);
        self.next_join_at = earliest(false, |r| r.joins_at);
    }

    fn commit(&mut self, owner: u32) {
        if self.clock < self.rebalancing_until || self.faults.down {
            return;
        }
        for p in self
            .partitions
            .iter_mut()
            .filter(|p| p.owner == Some(owner))
        {
            // librdkafka commits only offsets stored since it last committed.
            if p.stored > p.committed.unwrap_or(p.start) {
                p.committed = Some(p.stored);
            }
        }
    }

    /// A rebalance of `duration`: cooperative-sticky keeps owners within their quota and
    /// gives the rest to the members with room, in order; eager takes every partition
    /// away first (each member commits what it stored) and deals them out in ranges.
    fn rebalance(&mut self, duration: Millis) {
        let eager = self.consumer.assignment == Assignment::Eager;
        if eager {
            // Revoked before the group rebalances: these commits succeed.
            let members: Vec<u32> = self.replicas.iter().map(|r| r.id).collect();
            for id in members {
                self.finish_in_flight(id);
                self.commit(id);
            }
        }
        self.rebalancing_until = self.rebalancing_until.max(self.clock + duration);
        let members: Vec<u32> = self
            .replicas
            .iter()
            .filter(|r| r.member)
            .map(|r| r.id)
            .collect();
        let target = if eager {
            range_assignment(&members, self.partitions.len())
        } else {
            self.sticky_assignment(&members)
        };
        for (p, new_owner) in target.into_iter().enumerate() {
            let old_owner = self.partitions[p].owner;
            if old_owner == new_owner && !eager {
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
            part.position = part.resume_at();
            part.stored = part.position;
            part.available_at = self.rebalancing_until;
        }
        self.refresh_ownership();
    }

    /// Each replica's list of the partitions it owns, after ownership changed.
    fn refresh_ownership(&mut self) {
        for r in &mut self.replicas {
            r.owned.clear();
        }
        for (p, part) in self.partitions.iter_mut().enumerate() {
            if let Some(r) = part
                .owner
                .and_then(|o| self.replicas.iter_mut().find(|r| r.id == o))
            {
                part.owned_at = r.owned.len();
                r.owned.push(p);
            }
        }
        for r in &mut self.replicas {
            r.ready.reset(r.owned.len());
            for (i, &p) in r.owned.iter().enumerate() {
                if self.partitions[p].has_work() {
                    r.ready.insert(i);
                }
            }
            r.cursor_at = r.owned.partition_point(|&p| p < r.cursor);
        }
    }

    /// Cooperative-sticky: current owners keep up to their quota; the rest go to members
    /// with room, in order.
    fn sticky_assignment(&self, members: &[u32]) -> Vec<Option<u32>> {
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
        target
    }

    /// A member's event in progress ends where it is (its offset stored).
    fn finish_in_flight(&mut self, id: u32) {
        if let Some(r) = self.replicas.iter_mut().find(|r| r.id == id) {
            if let Some((p, _)) = r.busy.take() {
                self.partitions[p].stored = self.partitions[p].position;
            }
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
                cursor_at: 0,
                owned: Vec::new(),
                ready: Ready::default(),
                processed: 0,
            });
            self.next_id += 1;
        }
        while (self.replicas.len() as u32) > wanted {
            let leaving = self.replicas.last().map(|r| (r.id, r.member));
            let Some((id, member)) = leaving else { break };
            if member {
                self.finish_in_flight(id);
                // Its last commit comes before it leaves: it succeeds (unless the broker
                // is away).
                let until = std::mem::take(&mut self.rebalancing_until);
                self.commit(id);
                self.rebalancing_until = until;
                for p in self.partitions.iter_mut().filter(|p| p.owner == Some(id)) {
                    p.owner = None;
                }
                left = true;
            }
            self.replicas.pop();
        }
        if left {
            self.refresh_ownership();
        }
        self.refresh_timers();
        left
    }

    fn consume(&mut self) {
        let (clock, processing) = (self.clock, self.consumer.processing_ms);
        let step_end = clock + STEP;
        for r in self.replicas.iter_mut().filter(|r| r.member) {
            // Where in the step this replica is.
            let mut at = clock;
            loop {
                if let Some((p, done)) = r.busy {
                    if done > step_end {
                        break;
                    }
                    at = done;
                    r.busy = None;
                    r.processed += 1;
                    let part = &mut self.partitions[p];
                    part.stored = part.position;
                    if let Some(delay) = part.processed(part.position - 1, done) {
                        self.delays.push(delay);
                    }
                }
                if r.ready.is_empty() {
                    break;
                }
                // Round robin over its partitions: the first, from the cursor on, with an
                // event to take.
                let next = r
                    .ready
                    .from(r.cursor_at)
                    .find(|&i| self.partitions[r.owned[i]].available_at <= clock);
                let Some(i) = next else { break };
                let p = r.owned[i];
                r.cursor = (p + 1) % self.partitions.len();
                r.cursor_at = i + 1;
                let part = &mut self.partitions[p];
                part.position += 1;
                if !part.has_work() {
                    r.ready.remove(i);
                }
                r.busy = Some((p, at + processing));
            }
        }
    }
}

/// Appends an event sent at `at` to partition `p`; its owner has one more partition to
/// take from when it was empty.
fn append(partitions: &mut [Partition], replicas: &mut [Replica], p: usize, at: Millis) {
    let part = &mut partitions[p];
    let had_work = part.has_work();
    part.append(at);
    if !had_work && part.has_work() {
        if let Some(r) = part
            .owner
            .and_then(|o| replicas.iter_mut().find(|r| r.id == o))
        {
            r.ready.insert(part.owned_at);
        }
    }
}

/// The keyed partition of each sequence number, remembered: every phase's producer counts
/// from 0 again, and a tune simulates thousands of runs, so the CRCs of the same keys (and
/// the division after them) were a tenth of the time. A model borrows its thread's table
/// for its run and gives it back when dropped.
struct KeyedPartitions {
    /// The partition count the table is for.
    partitions: u32,
    /// Event `seq`'s partition.
    table: Vec<u32>,
}

thread_local! {
    static KEYED_PARTITIONS: std::cell::Cell<Vec<u32>> = const { std::cell::Cell::new(Vec::new()) };
    static KEYED_FOR: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl KeyedPartitions {
    /// Beyond this, hashed each time (a table of 4 MiB at most per thread).
    const CACHED: u64 = 1 << 20;

    fn borrow(partitions: u32) -> Self {
        let mut table = KEYED_PARTITIONS.take();
        if KEYED_FOR.get() != partitions {
            table.clear();
        }
        Self { partitions, table }
    }

    /// [`workload::shape::Shape::partition`] of event `seq`.
    fn of(&mut self, shape: &workload::shape::Shape, seq: u64) -> usize {
        if !shape.is_keyed() || seq >= Self::CACHED {
            return shape.partition(seq, self.partitions) as usize;
        }
        while self.table.len() as u64 <= seq {
            let next = self.table.len() as u64;
            self.table.push(shape.partition(next, self.partitions));
        }
        self.table[seq as usize] as usize
    }
}

impl Drop for KeyedPartitions {
    fn drop(&mut self) {
        KEYED_FOR.set(self.partitions);
        KEYED_PARTITIONS.set(std::mem::take(&mut self.table));
    }
}

/// Eager `range`: partitions in order, split in contiguous ranges over the members in
/// order, the first members taking one more when they do not divide evenly.
fn range_assignment(members: &[u32], partitions: usize) -> Vec<Option<u32>> {
    if members.is_empty() {
        return vec![None; partitions];
    }
    let (each, extra) = (partitions / members.len(), partitions % members.len());
    let mut target = Vec::with_capacity(partitions);
    for (i, m) in members.iter().enumerate() {
        let count = each + usize::from(i < extra);
        target.extend(std::iter::repeat_n(Some(*m), count));
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_events_spread_over_all_partitions() {
        let keyed = workload::shape::Shape::default();
        let mut counts = [0u32; 10];
        for seq in 0..1000 {
            counts[keyed.partition(seq, 10) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (70..=130).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn range_assignment_deals_contiguous_ranges() {
        assert_eq!(
            range_assignment(&[7, 9, 4], 10),
            [7, 7, 7, 7, 9, 9, 9, 4, 4, 4].map(Some)
        );
        assert_eq!(range_assignment(&[], 2), [None, None]);
    }
}
