//! `lab tune`: the ScaledObject a workload should have. Candidates (the baseline's
//! settings rewritten: [`knobs`]) are simulated over the same seeds as the baseline, on
//! every core, raced or exhaustively ([`race`]); each run gives [`SeedFigures`], a
//! candidate's seeds pool into its [`Figures`]; the ranking keeps those within the
//! objective's bounds and orders them by replica-seconds, then scale changes. Only
//! candidates that KEDA accepts and that draw no advice ([`crate::advice`]) are ranked:
//! the recommendation passes `check-manifests` clean.

pub mod figures;
pub mod fit;
pub mod knobs;
pub mod race;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::keda::model::ScaledObject;

use crate::emulator::ScalingSpec;
use crate::scenario::Scenario;
pub use figures::{Figures, Histogram, Pool, SeedFigures, SeedScore};
pub use knobs::Knobs;
pub use race::{Strategy, Wins};

/// What the recommendation must meet, then what it should save.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    /// p95 lag at most this, events.
    pub max_p95_lag: f64,
    /// p95 delay at most this, s (none: not bounded).
    pub max_p95_delay_s: Option<f64>,
}

impl Objective {
    /// Which bounds `f` misses, in words (empty: it meets them all).
    pub fn misses(&self, f: &Figures) -> Vec<String> {
        let mut out = Vec::new();
        if f.p95_lag > self.max_p95_lag {
            out.push(format!(
                "p95 lag {:.0} > {:.0}",
                f.p95_lag, self.max_p95_lag
            ));
        }
        if let Some(d) = self.max_p95_delay_s {
            if f.p95_delay_s > d {
                out.push(format!("p95 delay {:.1} s > {d:.1} s", f.p95_delay_s));
            }
        }
        out
    }

    /// Whether one seed's own figures meet the bounds.
    pub fn seed_met(&self, s: &SeedScore) -> bool {
        s.p95_lag as f64 <= self.max_p95_lag
            && self
                .max_p95_delay_s
                .is_none_or(|d| s.p95_delay_ms as f64 / 1000.0 <= d)
    }
}

/// One evaluated candidate.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub knobs: Knobs,
    /// The ScaledObject it stands for.
    pub manifest: ScaledObject,
    /// Pooled over the seeds it got.
    pub figures: Figures,
    /// The bounds it misses (empty: within the objective).
    pub misses: Vec<String>,
    /// Each seed's own score, seeds 1, 2, ... (fewer than the search's seeds: the race
    /// left it behind).
    pub seeds: Vec<SeedScore>,
}

/// Where a search stopped early (Ctrl-C).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Simulations done, of those planned.
    pub done: u64,
    pub planned: u64,
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub baseline: Figures,
    pub objective: Objective,
    /// Every candidate evaluated, best first: those with every seed, then those the race
    /// left behind.
    pub ranked: Vec<Candidate>,
    /// Candidates left out before simulating: KEDA refuses them or they draw advice.
    pub rejected: usize,
    /// The seeds a finalist gets.
    pub seeds: u64,
    pub strategy: Strategy,
    /// Each round of the race: (candidates, seeds each had after it); the neighbours' ring
    /// is not in it.
    pub rounds: Vec<(usize, u64)>,
    /// Runs simulated, the baseline's included.
    pub simulations: u64,
    /// Set when the search was stopped before the end: a partial search, no
    /// recommendation.
    pub stopped: Option<Stopped>,
}

impl Outcome {
    /// The best candidate within the objective that got every seed, unless the search
    /// was stopped.
    pub fn recommendation(&self) -> Option<&Candidate> {
        if self.stopped.is_some() {
            return None;
        }
        self.ranked
            .first()
            .filter(|c| c.misses.is_empty() && c.seeds.len() as u64 == self.seeds)
    }

    /// How sure the ranking of `a` over `b` is, seed by seed.
    pub fn wins(&self, a: &Candidate, b: &Candidate) -> Option<Wins> {
        Wins::of(&a.seeds, &b.seeds, &self.objective)
    }
}

/// What to search.
pub struct Search<'a> {
    pub scenario: &'a Scenario,
    /// The baseline ScaledObject (typed, as the API server stores it) and its spec.
    pub baseline: &'a ScaledObject,
    pub baseline_spec: &'a ScalingSpec,
    /// Seeds a finalist (and the baseline) is simulated over.
    pub seeds: u64,
    /// Random candidates to draw; then the best one's neighbours are tried.
    pub candidates: usize,
    /// A p95-lag bound; `None`: the baseline's own p95 lag.
    pub max_p95_lag: Option<f64>,
    pub max_p95_delay_s: Option<f64>,
    /// Threads to simulate on.
    pub threads: usize,
    pub strategy: Strategy,
}

/// Who follows a search: told (simulations done, planned) as runs finish; the search
/// stops, keeping what it has, once `stop` is set.
pub struct Progress<'a> {
    pub tell: &'a (dyn Fn(u64, u64) + Sync),
    pub stop: &'a AtomicBool,
}

/// A candidate in the race.
struct Entry {
    knobs: Knobs,
    manifest: ScaledObject,
    spec: ScalingSpec,
    pool: Pool,
}

impl Search<'_> {
    /// The most simulations the search takes: the baseline, the rounds (no candidate
    /// refused), a ring of neighbours over every seed.
    pub fn planned(&self) -> u64 {
        let drawn = self.candidates.min(Knobs::SPACE);
        self.seeds * (1 + Knobs::MOST_NEIGHBOURS as u64)
            + self.strategy.simulations(drawn, self.seeds)
    }

    /// Runs the search.
    pub fn run(&self, progress: &Progress) -> anyhow::Result<Outcome> {
        let planned = AtomicU64::new(self.planned());
        let done = AtomicU64::new(0);
        let count = Counter {
            progress,
            done: &done,
            planned: &planned,
        };
        let mut baseline = Pool::default();
        let runs = self.simulate_from(&[(self.baseline_spec, self.seeds)], &[1], &count)?;
        for figures in runs.iter().flatten().map_while(Option::as_ref) {
            baseline.add(figures);
        }
        let baseline = baseline.figures();
        let objective = Objective {
            max_p95_lag: self.max_p95_lag.unwrap_or(baseline.p95_lag),
            max_p95_delay_s: self.max_p95_delay_s,
        };
        let max = self
            .scenario
            .partitions
            .min(self.baseline_spec.max_replicas.max(1));
        let drawn = Knobs::sample(self.candidates, max, 1);
        let (mut entries, mut rejected) = self.accepted(&drawn);
        // What refused candidates would have cost is no longer planned.
        planned.fetch_sub(
            self.strategy.simulations(drawn.len(), self.seeds)
                - self.strategy.simulations(entries.len(), self.seeds),
            Ordering::Relaxed,
        );
        let alive: Vec<usize> = (0..entries.len()).collect();
        let mut rounds = Vec::new();
        let mut finalists = self.race(&mut entries, alive, &objective, &count, &mut rounds)?;
        // One ring of neighbours around the best finalist, over every seed.
        rank_by(&mut finalists, |i| key(&entries[*i], &objective));
        let best = finalists.first().map(|i| entries[*i].knobs);
        let ring: Vec<Knobs> = best.map_or(Vec::new(), |best| {
            let seen: std::collections::HashSet<Knobs> = entries.iter().map(|e| e.knobs).collect();
            best.neighbours()
                .into_iter()
                .filter(|k| !seen.contains(k))
                .collect()
        });
        planned.fetch_sub(
            (Knobs::MOST_NEIGHBOURS - ring.len()) as u64 * self.seeds,
            Ordering::Relaxed,
        );
        if !progress.stop.load(Ordering::Relaxed) {
            let (ring, left_out) = self.accepted(&ring);
            planned.fetch_sub(left_out as u64 * self.seeds, Ordering::Relaxed);
            rejected += left_out;
            let first = entries.len();
            entries.extend(ring);
            let everyone: Vec<usize> = (first..entries.len()).collect();
            self.run_round(&mut entries, &everyone, self.seeds, &count)?;
        }
        let stopped = progress.stop.load(Ordering::Relaxed).then(|| Stopped {
            done: done.load(Ordering::Relaxed),
            planned: planned.load(Ordering::Relaxed),
        });
        Ok(Outcome {
            baseline,
            ranked: ranked(entries, &objective, self.seeds),
            objective,
            rejected,
            seeds: self.seeds,
            strategy: self.strategy,
            rounds,
            simulations: done.load(Ordering::Relaxed),
            stopped,
        })
    }

    /// The rounds of the race (one round exhaustively); returns the candidates that got
    /// every seed.
    fn race(
        &self,
        entries: &mut [Entry],
        mut alive: Vec<usize>,
        objective: &Objective,
        count: &Counter,
        ran: &mut Vec<(usize, u64)>,
    ) -> anyhow::Result<Vec<usize>> {
        let rounds = self.strategy.rounds(self.seeds);
        for (round, &seeds) in rounds.iter().enumerate() {
            self.run_round(entries, &alive, seeds, count)?;
            ran.push((alive.len(), seeds));
            if count.progress.stop.load(Ordering::Relaxed) || round + 1 == rounds.len() {
                break;
            }
            rank_by(&mut alive, |i| key(&entries[*i], objective));
            for left_behind in alive.split_off(self.strategy.kept(alive.len())) {
                entries[left_behind].pool.release();
            }
        }
        Ok(alive
            .into_iter()
            .filter(|i| entries[*i].pool.seeds.len() as u64 == self.seeds)
            .collect())
    }

    /// Brings each of `alive` to `seeds` seeds.
    fn run_round(
        &self,
        entries: &mut [Entry],
        alive: &[usize],
        seeds: u64,
        count: &Counter,
    ) -> anyhow::Result<()> {
        let had = |i: usize| entries[i].pool.seeds.len() as u64;
        let work: Vec<(&ScalingSpec, u64)> = alive
            .iter()
            .map(|&i| (&entries[i].spec, seeds.saturating_sub(had(i))))
            .collect();
        let firsts: Vec<u64> = alive.iter().map(|&i| had(i) + 1).collect();
        let runs = self.simulate_from(&work, &firsts, count)?;
        for (&i, runs) in alive.iter().zip(runs) {
            // Seeds in order: a stopped search keeps each candidate's unbroken first ones.
            for figures in runs.iter().map_while(Option::as_ref) {
                entries[i].pool.add(figures);
            }
        }
        Ok(())
    }

    /// The candidates KEDA accepts and that draw no advice, and how many were left out.
    fn accepted(&self, knobs: &[Knobs]) -> (Vec<Entry>, usize) {
        let mut entries = Vec::new();
        for k in knobs {
            let manifest = k.apply(self.baseline);
            let checked = crate::keda::validate::validate(&manifest);
            if !crate::advice::advise(&checked, Some(self.scenario.partitions)).is_empty() {
                continue;
            }
            if let Ok(spec) = checked.into_spec() {
                entries.push(Entry {
                    knobs: *k,
                    manifest,
                    spec,
                    pool: Pool::default(),
                });
            }
        }
        let rejected = knobs.len() - entries.len();
        (entries, rejected)
    }

    /// Simulates, for each `(spec, n)` of `work`, `n` seeds from `firsts[i]` on, on every
    /// thread; each run's figures, in order (`None` for those a stop left undone).
    fn simulate_from(
        &self,
        work: &[(&ScalingSpec, u64)],
        firsts: &[u64],
        count: &Counter,
    ) -> anyhow::Result<Vec<Vec<Option<SeedFigures>>>> {
        let items: Vec<(usize, &ScalingSpec, u64)> = work
            .iter()
            .zip(firsts)
            .enumerate()
            .flat_map(|(i, ((spec, n), first))| {
                (*first..first + n).map(move |seed| (i, *spec, seed))
            })
            .collect();
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<anyhow::Result<SeedFigures>>>> =
            Mutex::new((0..items.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..self.threads.max(1) {
                scope.spawn(|| loop {
                    if count.progress.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some((_, spec, seed)) = items.get(at) else {
                        break;
                    };
                    let figures = SeedFigures::simulate(self.scenario, spec, *seed);
                    results.lock().unwrap_or_else(|e| e.into_inner())[at] = Some(figures);
                    count.one_more();
                });
            }
        });
        let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<Vec<Option<SeedFigures>>> = work.iter().map(|_| Vec::new()).collect();
        for ((i, _, _), result) in items.iter().zip(results) {
            out[*i].push(result.transpose()?);
        }
        Ok(out)
    }
}

/// The simulations done, told to the progress.
struct Counter<'a> {
    progress: &'a Progress<'a>,
    done: &'a AtomicU64,
    planned: &'a AtomicU64,
}

impl Counter<'_> {
    fn one_more(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let planned = self.planned.load(Ordering::Relaxed).max(done);
        (self.progress.tell)(done, planned);
    }
}

/// The ranking's key: within the objective first, then fewer replica-seconds, fewer scale
/// changes, lower p95 lag; outside it, the nearest misses first.
type Key = (bool, f64, f64, f64, f64);

fn key(e: &Entry, objective: &Objective) -> Key {
    figures_key(
        &e.pool.figures(),
        objective.misses(&e.pool.figures()).is_empty(),
    )
}

fn figures_key(f: &Figures, within: bool) -> Key {
    (
        !within,
        if within { 0.0 } else { f.p95_lag },
        f.replica_seconds,
        f.scale_changes,
        f.p95_lag,
    )
}

/// A stable sort by `key`: equal items keep the order they were drawn in.
fn rank_by<T>(items: &mut [T], key: impl Fn(&T) -> Key) {
    items.sort_by(|a, b| {
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Every candidate that got a seed, best first: those with every seed, then those the
/// race left behind (each ranked on the seeds it got).
fn ranked(entries: Vec<Entry>, objective: &Objective, seeds: u64) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = entries
        .into_iter()
        .filter(|e| !e.pool.seeds.is_empty())
        .map(|e| {
            let figures = e.pool.figures();
            Candidate {
                knobs: e.knobs,
                manifest: e.manifest,
                misses: objective.misses(&figures),
                figures,
                seeds: e.pool.seeds,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let k = |c: &Candidate| {
            let (missing, nearest, rs, changes, lag) = figures_key(&c.figures, c.misses.is_empty());
            (
                (c.seeds.len() as u64) < seeds,
                missing,
                nearest,
                rs,
                changes,
                lag,
            )
        };
        k(a).partial_cmp(&k(b)).unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_objective_names_each_bound_missed() {
        let o = Objective {
            max_p95_lag: 20.0,
            max_p95_delay_s: Some(2.0),
        };
        let f = Figures {
            p95_lag: 30.0,
            p95_delay_s: 3.5,
            ..Figures::default()
        };
        assert_eq!(o.misses(&f), ["p95 lag 30 > 20", "p95 delay 3.5 s > 2.0 s"]);
        assert!(o.misses(&Figures::default()).is_empty());
    }
}
