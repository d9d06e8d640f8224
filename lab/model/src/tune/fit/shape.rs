//! What a run is made of, phase by phase, and how unlike the recording a candidate
//! workload's runs are: the fit's loss.
//!
//! A run's shape is, per phase and per [`BIN_S`] bin from the phase's start, the mean lag
//! KEDA reads and the mean replicas running (how fast the lag climbs when the rate
//! rises, when KEDA adds consumers, how fast the group drains it), and per phase the lag's
//! median, 75th and 95th percentiles. The loss is a synthetic likelihood (Wood, "Statistical
//! inference for noisy nonlinear ecological dynamic systems", Nature 466, 2010): each
//! statistic of the recording against the mean and spread of the same statistic over the
//! candidate's seeds, ((recorded - mean) / spread)^2, averaged. A statistic that varies
//! from seed to seed (when KEDA's poll falls, how a rebalance goes) weighs little; one
//! the workload fixes (the lag's climb while one consumer is saturated) weighs much.
//! Sample-by-sample agreement could not tell a consumer 12 times too fast from the true
//! one; this can.

use std::collections::BTreeMap;

use super::rates::Rate;
use super::recording::Recording;
use crate::emulator::ScalingSpec;
use crate::run::Watch;
use crate::scenario::Scenario;
use crate::timeline::Sample;
use crate::tune::figures::Histogram;

/// Lag quantiles compared.
const LAG_QUANTILES: [f64; 3] = [0.5, 0.75, 0.95];
/// The bins the course is read over, s.
pub const BIN_S: f64 = 30.0;
/// The least spread a statistic is given: lags are compared as ln(1 + lag), so 0.1 is
/// about 10 %; replicas as they are, a quarter of one.
const LAG_FLOOR: f64 = 0.1;
const REPLICA_FLOOR: f64 = 0.25;
/// The most one statistic adds: three spreads. A stretch of the recording no candidate
/// reproduces (a scale-up one seed in twenty shows) then costs every candidate the same,
/// and the rest of the recording decides.
const MOST_Z2: f64 = 9.0;

/// One bin of a phase: sums over its samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bin {
    pub lag: f64,
    pub replicas: f64,
    /// Samples with a lag; and with a replica count.
    pub samples: u64,
    pub counted: u64,
}

/// One phase of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhaseShape {
    /// Replica count -> samples at it.
    pub replicas: BTreeMap<u32, u64>,
    /// The lag KEDA reads, one value a sample.
    pub lags: Histogram,
    /// The course, [`BIN_S`] bins from the phase's start.
    pub course: Vec<Bin>,
}

impl PhaseShape {
    /// The mean replica count (0 with no samples).
    pub fn mean_replicas(&self) -> f64 {
        let n: u64 = self.replicas.values().sum();
        let sum: u64 = self.replicas.iter().map(|(r, c)| u64::from(*r) * c).sum();
        sum as f64 / n.max(1) as f64
    }

    /// Counts one sample: `replicas` running, `lag`, `at` seconds into the phase.
    fn add(&mut self, replicas: Option<u32>, lag: i64, at: f64) {
        self.lags.add(lag);
        let bin = (at.max(0.0) / BIN_S) as usize;
        if self.course.len() <= bin {
            self.course.resize(bin + 1, Bin::default());
        }
        let b = &mut self.course[bin];
        b.lag += lag.max(0) as f64;
        b.samples += 1;
        if let Some(r) = replicas {
            *self.replicas.entry(r).or_default() += 1;
            b.replicas += f64::from(r);
            b.counted += 1;
        }
    }
}

/// Which statistic: (phase, what, bin or quantile index).
type Key = (usize, u8, usize);
const COURSE_LAG: u8 = 0;
const COURSE_REPLICAS: u8 = 1;
const QUANTILE: u8 = 2;

/// A run, phase by phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    pub phases: Vec<PhaseShape>,
}

impl Shape {
    /// The recording's shape over the fitted `phases` (samples in gaps are missing, not
    /// made up).
    pub fn recorded(recording: &Recording, phases: &[Rate]) -> Self {
        let mut shape = Shape {
            phases: vec![PhaseShape::default(); phases.len()],
        };
        let t0 = recording.points.first().map_or(0.0, |p| p.t);
        for point in &recording.points {
            let at = point.t - t0;
            let i = phases
                .partition_point(|p| p.start <= at)
                .saturating_sub(1)
                .min(phases.len().saturating_sub(1));
            if let (Some(phase), Some(rate)) = (shape.phases.get_mut(i), phases.get(i)) {
                phase.add(point.replicas, point.lag, at - rate.start);
            }
        }
        shape
    }

    /// The shape of `scenario` simulated with `spec` on `seed` (its phases are the fitted
    /// ones).
    pub fn simulated(scenario: &Scenario, spec: &ScalingSpec, seed: u64) -> anyhow::Result<Self> {
        let mut watch = ShapeWatch {
            shape: Shape {
                phases: vec![PhaseShape::default(); scenario.phases.len()],
            },
            starts: scenario
                .phases
                .iter()
                .scan(0.0, |start, p| {
                    let this = *start;
                    *start += p.seconds as f64;
                    Some(this)
                })
                .collect(),
        };
        crate::simulate::watched(scenario, spec, seed, &mut watch)?;
        Ok(watch.shape)
    }

    /// Every statistic of the shape, with the least spread it is given.
    fn statistics(&self) -> BTreeMap<Key, (f64, f64)> {
        let mut out = BTreeMap::new();
        for (p, phase) in self.phases.iter().enumerate() {
            for (b, bin) in phase.course.iter().enumerate() {
                if bin.samples > 0 {
                    let lag = (1.0 + bin.lag / bin.samples as f64).ln();
                    out.insert((p, COURSE_LAG, b), (lag, LAG_FLOOR));
                }
                if bin.counted > 0 {
                    let replicas = bin.replicas / bin.counted as f64;
                    out.insert((p, COURSE_REPLICAS, b), (replicas, REPLICA_FLOOR));
                }
            }
            if !phase.lags.is_empty() {
                for (i, q) in LAG_QUANTILES.iter().enumerate() {
                    let lag = (1.0 + phase.lags.quantile(*q) as f64).ln();
                    out.insert((p, QUANTILE, i), (lag, LAG_FLOOR));
                }
            }
        }
        out
    }

    /// The loss of the `recorded` shape against a candidate's `runs` (one per seed): per
    /// statistic ((recorded - mean) / spread)^2, the spread the runs' standard deviation
    /// or the floor, whichever is larger, and at most [`MOST_Z2`]; averaged within each
    /// phase and the phases weighted by their `seconds`.
    pub fn loss(recorded: &Shape, runs: &[&Shape], seconds: &[f64]) -> f64 {
        let runs: Vec<BTreeMap<Key, (f64, f64)>> = runs.iter().map(|s| s.statistics()).collect();
        let mut per_phase: Vec<(f64, u64)> = vec![(0.0, 0); recorded.phases.len()];
        for (key, (value, floor)) in recorded.statistics() {
            let values: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.get(&key).map(|v| v.0))
                .collect();
            if values.is_empty() {
                continue;
            }
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let variance = match values.len() {
                1 => 0.0,
                _ => values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0),
            };
            let z2 = ((value - mean).powi(2) / variance.max(floor * floor)).min(MOST_Z2);
            per_phase[key.0].0 += z2;
            per_phase[key.0].1 += 1;
        }
        let (mut sum, mut weights) = (0.0, 0.0);
        for ((total, n), w) in per_phase.iter().zip(seconds) {
            if *n > 0 {
                sum += w * total / *n as f64;
                weights += w;
            }
        }
        sum / weights.max(f64::MIN_POSITIVE)
    }

    /// Pools `other`'s samples into this one (several seeds' shapes as one, for the
    /// report).
    pub fn pool(&mut self, other: &Shape) {
        if self.phases.is_empty() {
            self.phases = vec![PhaseShape::default(); other.phases.len()];
        }
        for (a, b) in self.phases.iter_mut().zip(&other.phases) {
            for (r, n) in &b.replicas {
                *a.replicas.entry(*r).or_default() += n;
            }
            a.lags.merge(&b.lags);
            if a.course.len() < b.course.len() {
                a.course.resize(b.course.len(), Bin::default());
            }
            for (x, y) in a.course.iter_mut().zip(&b.course) {
                x.lag += y.lag;
                x.replicas += y.replicas;
                x.samples += y.samples;
                x.counted += y.counted;
            }
        }
    }
}

/// Takes a simulation's shape as it runs: the replicas running and the lag, per phase.
struct ShapeWatch {
    shape: Shape,
    /// Each phase's start, scenario s.
    starts: Vec<f64>,
}

impl Watch for ShapeWatch {
    fn sample(&mut self, sample: &Sample, _phase_name: &str, _phases: usize) {
        let start = self.starts.get(sample.phase).copied().unwrap_or(0.0);
        if let Some(phase) = self.shape.phases.get_mut(sample.phase) {
            phase.add(Some(sample.running), sample.total_lag, sample.t - start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One phase of `bins` bins, each sample at `lag` with `replicas`.
    fn shape(lags: &[i64], replicas: u32) -> Shape {
        let mut phase = PhaseShape::default();
        for (b, lag) in lags.iter().enumerate() {
            for s in 0..30 {
                phase.add(Some(replicas), *lag, b as f64 * BIN_S + s as f64);
            }
        }
        Shape {
            phases: vec![phase],
        }
    }

    #[test]
    fn the_loss_weighs_each_statistic_by_how_much_the_seeds_vary() {
        let recorded = shape(&[10, 100, 10], 2);
        // Runs that agree with each other: a difference costs much; a run like the
        // recording costs nothing.
        let (a, b) = (shape(&[10, 100, 10], 2), shape(&[10, 100, 10], 2));
        assert_eq!(Shape::loss(&recorded, &[&a, &b], &[1.0]), 0.0);
        let (c, d) = (shape(&[10, 50, 10], 2), shape(&[10, 50, 10], 2));
        let tight = Shape::loss(&recorded, &[&c, &d], &[1.0]);
        // Runs that vary as much as the difference: it costs far less.
        let (e, f) = (shape(&[10, 25, 10], 2), shape(&[10, 100, 10], 2));
        let loose = Shape::loss(&recorded, &[&e, &f], &[1.0]);
        assert!(tight > 5.0 * loose, "{tight} vs {loose}");
        // A replica apart everywhere: (1 / 0.25)^2 = 16 on each replica statistic, counted
        // as at most 9.
        let g = shape(&[10, 100, 10], 3);
        let replicas_off = Shape::loss(&recorded, &[&g, &g], &[1.0]);
        let statistics = 3 + 3 + LAG_QUANTILES.len();
        assert!(
            (replicas_off - MOST_Z2 * 3.0 / statistics as f64).abs() < 1e-9,
            "{replicas_off}"
        );
        let mut pooled = Shape::default();
        pooled.pool(&a);
        pooled.pool(&g);
        assert_eq!(pooled.phases[0].mean_replicas(), 2.5);
    }
}
