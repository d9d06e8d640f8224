//! The consumer's timing that makes a simulation look like the recording: processing
//! times on a geometric grid (and commit intervals, when the recording's samples are too
//! far apart to show them), each simulated over a few seeds and scored by
//! [`Shape::loss`], the recording against the seeds' spread; the best coarse points are
//! refined with more seeds. The uncertainty is the range of processing times whose loss
//! is within two standard errors (leaving one seed out at a time: the jackknife) of the
//! best one's, or within the loss a recording of the fitted workload itself shows.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::shape::Shape;
use crate::emulator::ScalingSpec;
use crate::scenario::Scenario;

/// Processing times tried, ms: 5 ms to 10 s, each 2^(1/8) (about 9 %) after the one
/// before; the coarse pass takes every fourth (a factor of about 1.41).
pub fn processing_grid() -> Vec<u64> {
    let mut grid: Vec<u64> = (0..)
        .map(|k| (5.0 * 2f64.powf(k as f64 / 8.0)).round() as u64)
        .take_while(|ms| *ms <= 10_000)
        .collect();
    grid.dedup();
    grid
}

/// Seeds each coarse point is simulated over, and each refined point.
const COARSE_SEEDS: u64 = 4;
const FINE_SEEDS: u64 = 8;
/// Coarse points refined (the best ones).
const REFINED: usize = 2;

/// One consumer timing tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timing {
    pub processing_ms: u64,
    pub commit_interval_ms: u64,
}

/// A timing's loss over its seeds pooled, and the losses leaving out each seed in turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub timing: Timing,
    pub loss: f64,
    pub left_out: Vec<f64>,
}

impl Scored {
    fn of(timing: Timing, shapes: &[&Shape], grid: &Grid) -> Self {
        let loss = |runs: &[&Shape]| Shape::loss(grid.recorded, runs, &grid.seconds);
        let left_out = match shapes.len() {
            0..=2 => Vec::new(),
            n => (0..n)
                .map(|i| {
                    let others: Vec<&Shape> =
                        (0..n).filter(|j| *j != i).map(|j| shapes[j]).collect();
                    loss(&others)
                })
                .collect(),
        };
        Self {
            timing,
            loss: loss(shapes),
            left_out,
        }
    }

    /// The jackknife's standard error of the loss (0 with one seed).
    pub fn standard_error(&self) -> f64 {
        let n = self.left_out.len() as f64;
        if n < 2.0 {
            return 0.0;
        }
        let mean = self.left_out.iter().sum::<f64>() / n;
        let spread: f64 = self.left_out.iter().map(|l| (l - mean).powi(2)).sum();
        ((n - 1.0) / n * spread).sqrt()
    }
}

/// What the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub best: Scored,
    /// Processing times (ms) as good as the best: within two standard errors of its loss,
    /// or within the loss a recording of the fitted workload itself would typically show.
    pub plausible: (u64, u64),
    /// Commit intervals (ms) likewise, when several were tried.
    pub plausible_commit: (u64, u64),
    /// Every timing tried, with its loss.
    pub tried: Vec<Scored>,
    /// Simulations run.
    pub simulations: u64,
}

/// What to search.
pub struct Grid<'a> {
    pub scenario: &'a Scenario,
    pub spec: &'a ScalingSpec,
    pub recorded: &'a Shape,
    /// Each phase's seconds (the loss's weights).
    pub seconds: Vec<f64>,
    /// Processing times no slower than this, ms.
    pub slowest_ms: u64,
    pub commit_intervals: Vec<u64>,
    pub threads: usize,
}

impl Grid<'_> {
    /// The coarse pass over every commit interval, then the best points' neighbours on
    /// the fine grid, with more seeds.
    pub fn search(&self) -> anyhow::Result<Found> {
        let grid: Vec<u64> = processing_grid()
            .into_iter()
            .filter(|ms| *ms <= self.slowest_ms.max(5))
            .collect();
        let coarse: Vec<Timing> = self
            .commit_intervals
            .iter()
            .flat_map(|&c| {
                grid.iter().rev().step_by(4).map(move |&p| Timing {
                    processing_ms: p,
                    commit_interval_ms: c,
                })
            })
            .collect();
        let mut known = std::collections::HashMap::new();
        let mut tried = self.score(&coarse, 1..=COARSE_SEEDS, &mut known)?;
        tried.sort_by(|a, b| a.loss.total_cmp(&b.loss));
        // The best coarse points and the fine points up to a coarse step around them.
        let mut fine: Vec<Timing> = Vec::new();
        for s in tried.iter().take(REFINED) {
            let at = grid
                .iter()
                .position(|p| *p == s.timing.processing_ms)
                .unwrap_or(0);
            for p in &grid[at.saturating_sub(3)..(at + 4).min(grid.len())] {
                let t = Timing {
                    processing_ms: *p,
                    ..s.timing
                };
                if !fine.contains(&t) {
                    fine.push(t);
                }
            }
        }
        // The refined points on more seeds (a coarse point among them keeps the seeds it
        // has).
        let refined = self.score(&fine, 1..=FINE_SEEDS, &mut known)?;
        let simulations = known.len() as u64;
        let mut best = refined
            .iter()
            .min_by(|a, b| a.loss.total_cmp(&b.loss))
            .cloned()
            .ok_or_else(|| {
                anyhow::anyhow!("no processing time to try below {} ms", self.slowest_ms)
            })?;
        // Ties go to the slower consumer: settings tuned for it have headroom.
        for s in &refined {
            if s.loss == best.loss && s.timing.processing_ms > best.timing.processing_ms {
                best = s.clone();
            }
        }
        // As good: within two standard errors of the best, or within what a recording of
        // the fitted workload itself typically shows (one of its seeds against the rest).
        let own: Vec<&Shape> = (1..=FINE_SEEDS)
            .filter_map(|seed| known.get(&(best.timing, seed)))
            .collect();
        let within = (best.loss + 2.0 * best.standard_error()).max(self.own_distance(&own));
        let close: Vec<&Scored> = refined
            .iter()
            .chain(&tried)
            .filter(|s| s.loss <= within)
            .collect();
        let range = |f: fn(&Timing) -> u64| {
            let values = close.iter().map(|s| f(&s.timing));
            (values.clone().min().unwrap_or(0), values.max().unwrap_or(0))
        };
        let plausible = range(|t| t.processing_ms);
        let plausible_commit = range(|t| t.commit_interval_ms);
        tried.extend(refined);
        Ok(Found {
            best,
            plausible,
            plausible_commit,
            tried,
            simulations,
        })
    }

    /// Each timing's loss over `seeds`, simulating on every thread; `known` holds each
    /// (timing, seed)'s shape already simulated, and gets the new ones.
    fn score(
        &self,
        timings: &[Timing],
        seeds: std::ops::RangeInclusive<u64>,
        known: &mut std::collections::HashMap<(Timing, u64), Shape>,
    ) -> anyhow::Result<Vec<Scored>> {
        let items: Vec<(usize, u64)> = (0..timings.len())
            .flat_map(|i| seeds.clone().map(move |s| (i, s)))
            .filter(|(i, s)| !known.contains_key(&(timings[*i], *s)))
            .collect();
        let next = AtomicUsize::new(0);
        let shapes: Mutex<Vec<Option<anyhow::Result<Shape>>>> =
            Mutex::new((0..items.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..self.threads.max(1) {
                scope.spawn(|| loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(i, seed)) = items.get(at) else {
                        break;
                    };
                    let shape = self.simulate(timings[i], seed);
                    shapes.lock().unwrap_or_else(|e| e.into_inner())[at] = Some(shape);
                });
            }
        });
        let shapes = shapes.into_inner().unwrap_or_else(|e| e.into_inner());
        for (&(i, seed), shape) in items.iter().zip(shapes) {
            if let Some(shape) = shape {
                known.insert((timings[i], seed), shape?);
            }
        }
        Ok(timings
            .iter()
            .map(|t| {
                let shapes: Vec<&Shape> =
                    seeds.clone().filter_map(|s| known.get(&(*t, s))).collect();
                Scored::of(*t, &shapes, self)
            })
            .collect())
    }

    /// How far one seed's shape typically is from the others' pooled: the loss a
    /// recording of this very workload would show.
    fn own_distance(&self, shapes: &[&Shape]) -> f64 {
        if shapes.len() < 3 {
            return 0.0;
        }
        let each = (0..shapes.len()).map(|i| {
            let others: Vec<&Shape> = (0..shapes.len())
                .filter(|j| *j != i)
                .map(|j| shapes[j])
                .collect();
            Shape::loss(shapes[i], &others, &self.seconds)
        });
        each.sum::<f64>() / shapes.len() as f64
    }

    /// One seed's simulation of `timing`, as a shape.
    fn simulate(&self, timing: Timing, seed: u64) -> anyhow::Result<Shape> {
        let mut scenario = self.scenario.clone();
        scenario.consumer.processing_ms = timing.processing_ms;
        scenario.consumer.commit_interval_ms = timing.commit_interval_ms;
        Shape::simulated(&scenario, self.spec, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_geometric_from_5_ms_to_10_s() {
        let grid = processing_grid();
        assert_eq!(grid[0], 5);
        assert!(grid.contains(&10) && grid.contains(&20) && grid.contains(&40));
        assert!(*grid.last().unwrap() > 9000);
        assert!(grid.windows(2).all(|w| w[1] > w[0]));
        let s = Scored {
            timing: Timing {
                processing_ms: 1,
                commit_interval_ms: 1,
            },
            loss: 2.0,
            left_out: vec![1.0, 2.0, 3.0],
        };
        // The jackknife: sqrt((n - 1) / n x the squared deviations) = sqrt(2/3 x 2).
        assert!((s.standard_error() - (4.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }
}
