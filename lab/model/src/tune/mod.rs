//! `lab tune`: the ScaledObject a workload should have. Candidates (the baseline's
//! settings rewritten: [`knobs`]) are simulated over the same seeds as the baseline, on
//! every core; each gets its figures ([`Figures`]); the ranking keeps those within the
//! objective's bounds and orders them by replica-seconds, then scale changes. Only
//! candidates that KEDA accepts and that draw no advice ([`crate::advice`]) are ranked:
//! the recommendation passes `check-manifests` clean.

pub mod fit;
pub mod knobs;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::keda::model::ScaledObject;

use crate::emulator::{Millis, ScalingSpec};
use crate::scenario::Scenario;
use crate::timeline::Timeline;
pub use knobs::Knobs;

/// What a run gave, averaged over the seeds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    /// The 95th percentile of the lag KEDA reads (one sample a second, all seeds
    /// pooled), events.
    pub p95_lag: f64,
    /// The 95th percentile of each event's time from produced to processed (the model's
    /// events, all seeds pooled), s.
    pub p95_delay_s: f64,
    /// Replicas x seconds, per seed.
    pub replica_seconds: f64,
    /// Replica count changes, per seed.
    pub scale_changes: f64,
}

impl Figures {
    /// The figures of `timelines` (one per seed).
    pub fn of(timelines: &[Timeline]) -> Self {
        let n = timelines.len().max(1) as f64;
        let mut lags: Vec<i64> = timelines
            .iter()
            .flat_map(|t| t.samples.iter().map(|s| s.total_lag))
            .collect();
        let mut delays: Vec<Millis> = timelines
            .iter()
            .flat_map(|t| t.event_delays.iter().copied())
            .collect();
        let replica_seconds: u64 = timelines
            .iter()
            .flat_map(|t| t.samples.iter().map(|s| u64::from(s.replicas)))
            .sum();
        let changes: usize = timelines
            .iter()
            .map(|t| {
                t.samples
                    .windows(2)
                    .filter(|w| w[0].replicas != w[1].replicas)
                    .count()
            })
            .sum();
        Self {
            p95_lag: percentile(&mut lags, 0.95) as f64,
            p95_delay_s: percentile(&mut delays, 0.95) as f64 / 1000.0,
            replica_seconds: replica_seconds as f64 / n,
            scale_changes: changes as f64 / n,
        }
    }
}

/// The nearest-rank percentile `q` of `values` (0 for none).
pub fn percentile<T: Copy + Ord + Default>(values: &mut [T], q: f64) -> T {
    if values.is_empty() {
        return T::default();
    }
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

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
}

/// One evaluated candidate.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub knobs: Knobs,
    /// The ScaledObject it stands for.
    pub manifest: ScaledObject,
    pub figures: Figures,
    /// The bounds it misses (empty: within the objective).
    pub misses: Vec<String>,
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub baseline: Figures,
    pub objective: Objective,
    /// Every candidate evaluated, best first.
    pub ranked: Vec<Candidate>,
    /// Candidates left out before simulating: KEDA refuses them or they draw advice.
    pub rejected: usize,
}

impl Outcome {
    /// The best candidate within the objective, if any.
    pub fn recommendation(&self) -> Option<&Candidate> {
        self.ranked.first().filter(|c| c.misses.is_empty())
    }
}

/// What to search.
pub struct Search<'a> {
    pub scenario: &'a Scenario,
    /// The baseline ScaledObject (typed, as the API server stores it) and its spec.
    pub baseline: &'a ScaledObject,
    pub baseline_spec: &'a ScalingSpec,
    pub seeds: u64,
    /// Random candidates to draw; then the best one's neighbours are tried.
    pub candidates: usize,
    /// A p95-lag bound; `None`: the baseline's own p95 lag.
    pub max_p95_lag: Option<f64>,
    pub max_p95_delay_s: Option<f64>,
    /// Threads to simulate on.
    pub threads: usize,
}

impl Search<'_> {
    /// How many candidates the search will simulate at most: those drawn, then a ring of
    /// neighbours around the best.
    pub fn planned(&self) -> usize {
        self.candidates.min(Knobs::SPACE) + Knobs::MOST_NEIGHBOURS
    }

    /// Runs the search; `progress` is told (done, total) as candidates finish.
    pub fn run(&self, progress: &(dyn Fn(usize, usize) + Sync)) -> anyhow::Result<Outcome> {
        let baseline = Figures::of(&self.timelines(self.baseline_spec)?);
        let objective = Objective {
            max_p95_lag: self.max_p95_lag.unwrap_or(baseline.p95_lag),
            max_p95_delay_s: self.max_p95_delay_s,
        };
        let max = self
            .scenario
            .partitions
            .min(self.baseline_spec.max_replicas.max(1));
        let drawn = Knobs::sample(self.candidates, max, 1);
        let (mut evaluated, mut rejected) = self.evaluate(&drawn, &objective, progress)?;
        // One ring of neighbours around the best: settings one step away.
        rank(&mut evaluated);
        if let Some(best) = evaluated.first().map(|c| c.knobs) {
            let seen: std::collections::HashSet<Knobs> =
                evaluated.iter().map(|c| c.knobs).collect();
            let ring: Vec<Knobs> = best
                .neighbours()
                .into_iter()
                .filter(|k| !seen.contains(k))
                .collect();
            let first = drawn.len();
            let (more, left_out) = self.evaluate(&ring, &objective, &|done, total| {
                progress(first + done, first + total)
            })?;
            evaluated.extend(more);
            rejected += left_out;
            rank(&mut evaluated);
        }
        Ok(Outcome {
            baseline,
            objective,
            ranked: evaluated,
            rejected,
        })
    }

    /// The scenario over every seed with `spec`.
    fn timelines(&self, spec: &ScalingSpec) -> anyhow::Result<Vec<Timeline>> {
        (1..=self.seeds)
            .map(|seed| crate::simulate::run(self.scenario, spec, seed))
            .collect()
    }

    /// Simulates `knobs` on every thread; returns the candidates and how many were left
    /// out (refused by KEDA's rules, or drawing advice).
    fn evaluate(
        &self,
        knobs: &[Knobs],
        objective: &Objective,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> anyhow::Result<(Vec<Candidate>, usize)> {
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, anyhow::Result<Option<Candidate>>)>> =
            Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..self.threads.max(1) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(k) = knobs.get(i) else { break };
                    let result = self.candidate(*k, objective);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, result));
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, knobs.len());
                });
            }
        });
        let mut out = Vec::new();
        let mut rejected = 0;
        let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        // In the order drawn, whichever thread finished first: ties rank the same every run.
        results.sort_by_key(|(i, _)| *i);
        for (_, r) in results {
            match r? {
                Some(c) => out.push(c),
                None => rejected += 1,
            }
        }
        Ok((out, rejected))
    }

    /// One candidate's figures; `None` when KEDA refuses it or it draws advice.
    fn candidate(&self, knobs: Knobs, objective: &Objective) -> anyhow::Result<Option<Candidate>> {
        let manifest = knobs.apply(self.baseline);
        let checked = crate::keda::validate::validate(&manifest);
        if !crate::advice::advise(&checked, Some(self.scenario.partitions)).is_empty() {
            return Ok(None);
        }
        let Ok(spec) = checked.into_spec() else {
            return Ok(None);
        };
        let figures = Figures::of(&self.timelines(&spec)?);
        Ok(Some(Candidate {
            knobs,
            manifest,
            misses: objective.misses(&figures),
            figures,
        }))
    }
}

/// Within the objective first, then fewer replica-seconds, fewer scale changes, lower
/// p95 lag; outside it, the nearest misses first. A stable sort: equal candidates keep
/// the order they were drawn in.
fn rank(candidates: &mut [Candidate]) {
    candidates.sort_by(|a, b| {
        let key = |c: &Candidate| {
            (
                !c.misses.is_empty(),
                if c.misses.is_empty() {
                    0.0
                } else {
                    c.figures.p95_lag
                },
                c.figures.replica_seconds,
                c.figures.scale_changes,
                c.figures.p95_lag,
            )
        };
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&mut v, 0.95), 95);
        assert_eq!(percentile(&mut [7i64][..], 0.95), 7);
        assert_eq!(percentile(&mut Vec::<i64>::new(), 0.95), 0);
    }

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
