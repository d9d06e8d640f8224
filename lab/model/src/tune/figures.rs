//! What a tune measures of a run, and how seeds pool: each run's lag samples and event
//! delays go into [`Histogram`]s (a day of samples is not kept), its replica-seconds and
//! scale changes are counted ([`SeedFigures`], taken as the run goes by [`FigureWatch`]);
//! a candidate's seeds pool into one [`Pool`], whose [`Figures`] are what the ranking reads.

use crate::emulator::{Millis, ScalingSpec};
use crate::run::Watch;
use crate::scenario::Scenario;
use crate::timeline::{Sample, Timeline};

/// Counts of non-negative values: exact below 4096, to 12 significant bits above (less
/// than 1/2048, 0.05 %, below the value), kept sorted and sparse, so that a day of
/// samples takes a few kilobytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// (bucket, count), by bucket.
    buckets: Vec<(u64, u64)>,
    total: u64,
}

impl Histogram {
    /// Significant bits a value keeps.
    const BITS: u32 = 12;

    /// The bucket of `value`: itself below 2^12, else its top 12 bits.
    fn bucket(value: u64) -> u64 {
        let shift = (u64::BITS - value.leading_zeros()).saturating_sub(Self::BITS);
        value >> shift << shift
    }

    /// Counts `value` (negative values count as 0).
    pub fn add(&mut self, value: i64) {
        self.add_n(value, 1);
    }

    fn add_n(&mut self, value: i64, n: u64) {
        let bucket = Self::bucket(value.max(0) as u64);
        match self.buckets.binary_search_by_key(&bucket, |(b, _)| *b) {
            Ok(i) => self.buckets[i].1 += n,
            Err(i) => self.buckets.insert(i, (bucket, n)),
        }
        self.total += n;
    }

    /// Every value of `values`, sorted first (faster than one by one for many).
    pub fn extend(&mut self, values: &mut [Millis]) {
        values.sort_unstable();
        let mut run: Option<(u64, u64)> = None;
        for v in values.iter().map(|v| Self::bucket(*v)) {
            match &mut run {
                Some((b, n)) if *b == v => *n += 1,
                _ => {
                    if let Some((b, n)) = run.replace((v, 1)) {
                        self.add_n(b as i64, n);
                    }
                }
            }
        }
        if let Some((b, n)) = run {
            self.add_n(b as i64, n);
        }
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Histogram) {
        let (x, y) = (&self.buckets, &other.buckets);
        let mut merged = Vec::with_capacity(x.len().max(y.len()));
        let (mut i, mut j) = (0, 0);
        loop {
            match (x.get(i), y.get(j)) {
                (Some(a), Some(b)) if a.0 == b.0 => {
                    merged.push((a.0, a.1 + b.1));
                    (i, j) = (i + 1, j + 1);
                }
                (Some(a), Some(b)) if a.0 < b.0 => {
                    merged.push(*a);
                    i += 1;
                }
                (Some(a), None) => {
                    merged.push(*a);
                    i += 1;
                }
                (_, Some(b)) => {
                    merged.push(*b);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        self.buckets = merged;
        self.total += other.total;
    }

    /// The nearest-rank quantile `q` (0 for no values): the smallest value with at least
    /// `q` of the values at or below it (its bucket's low end above 4096).
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (bucket, count) in &self.buckets {
            seen += count;
            if seen >= rank {
                return *bucket;
            }
        }
        self.buckets.last().map_or(0, |(b, _)| *b)
    }

    /// The mean of the values at most `limit` (their buckets' low ends), if any.
    pub fn mean_up_to(&self, limit: u64) -> Option<f64> {
        let (sum, n) = self
            .buckets
            .iter()
            .take_while(|(b, _)| *b <= limit)
            .fold((0.0, 0u64), |(sum, n), (b, c)| {
                (sum + (*b * *c) as f64, n + c)
            });
        (n > 0).then(|| sum / n as f64)
    }

    /// Values counted.
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// One seed's run, as a tune reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeedFigures {
    /// The lag KEDA reads, one sample a second, events.
    pub lags: Histogram,
    /// Each event's time from produced to processed, ms.
    pub delays: Histogram,
    /// Replicas (desired) summed over the samples: replica-seconds.
    pub replica_seconds: u64,
    /// Samples at which the replica count changed.
    pub scale_changes: u64,
}

impl SeedFigures {
    /// Simulates `scenario` with `spec` on `seed`, keeping only these figures.
    pub fn simulate(scenario: &Scenario, spec: &ScalingSpec, seed: u64) -> anyhow::Result<Self> {
        let mut watch = FigureWatch::default();
        let mut timeline = crate::simulate::watched(scenario, spec, seed, &mut watch)?;
        Ok(watch.finish(&mut timeline.event_delays))
    }

    /// The figures of a timeline that kept its samples (a replay's, a full simulation's).
    pub fn of(timeline: &Timeline) -> Self {
        let mut watch = FigureWatch::default();
        for s in &timeline.samples {
            watch.sample(s, "", 0);
        }
        watch.finish(&mut timeline.event_delays.clone())
    }

    /// This seed's own figures (its lag and delay percentiles alone).
    pub fn score(&self) -> SeedScore {
        SeedScore {
            p95_lag: self.lags.quantile(0.95),
            p95_delay_ms: self.delays.quantile(0.95),
            replica_seconds: self.replica_seconds,
            scale_changes: self.scale_changes,
        }
    }
}

/// Takes a run's [`SeedFigures`] sample by sample.
#[derive(Debug, Default)]
pub struct FigureWatch {
    figures: SeedFigures,
    last_replicas: Option<u32>,
}

impl FigureWatch {
    /// The figures, with the run's event delays.
    pub fn finish(mut self, delays: &mut [Millis]) -> SeedFigures {
        self.figures.delays.extend(delays);
        self.figures
    }
}

impl Watch for FigureWatch {
    fn sample(&mut self, sample: &Sample, _phase_name: &str, _phases: usize) {
        let f = &mut self.figures;
        f.lags.add(sample.total_lag);
        f.replica_seconds += u64::from(sample.replicas);
        if self.last_replicas.is_some_and(|r| r != sample.replicas) {
            f.scale_changes += 1;
        }
        self.last_replicas = Some(sample.replicas);
    }
}

/// One seed's figures in brief, to compare two candidates seed by seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedScore {
    pub p95_lag: u64,
    pub p95_delay_ms: u64,
    pub replica_seconds: u64,
    pub scale_changes: u64,
}

/// A candidate's seeds so far.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    lags: Histogram,
    delays: Histogram,
    replica_seconds: u64,
    scale_changes: u64,
    /// Each seed's own score, by seed (1, 2, ...).
    pub seeds: Vec<SeedScore>,
}

impl Pool {
    /// Adds the next seed's figures.
    pub fn add(&mut self, seed: &SeedFigures) {
        self.lags.merge(&seed.lags);
        self.delays.merge(&seed.delays);
        self.replica_seconds += seed.replica_seconds;
        self.scale_changes += seed.scale_changes;
        self.seeds.push(seed.score());
    }

    /// The pooled figures: percentiles over every seed's samples, sums per seed.
    pub fn figures(&self) -> Figures {
        let n = self.seeds.len().max(1) as f64;
        Figures {
            p95_lag: self.lags.quantile(0.95) as f64,
            p95_delay_s: self.delays.quantile(0.95) as f64 / 1000.0,
            replica_seconds: self.replica_seconds as f64 / n,
            scale_changes: self.scale_changes as f64 / n,
        }
    }

    /// Lets the histograms go once the ranking no longer needs them (a candidate out of
    /// the race keeps its figures and seed scores).
    pub fn release(&mut self) {
        self.lags = Histogram::default();
        self.delays = Histogram::default();
    }
}

/// What a run gave, pooled over the seeds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    /// The 95th percentile of the lag KEDA reads (one sample a second, all seeds
    /// pooled), events.
    pub p95_lag: f64,
    /// The 95th percentile of each event's time from produced to processed (all seeds
    /// pooled), s.
    pub p95_delay_s: f64,
    /// Replicas x seconds, per seed.
    pub replica_seconds: f64,
    /// Replica count changes, per seed.
    pub scale_changes: f64,
}

impl Figures {
    /// The figures of `timelines` (one per seed).
    pub fn of(timelines: &[Timeline]) -> Self {
        let mut pool = Pool::default();
        for t in timelines {
            pool.add(&SeedFigures::of(t));
        }
        pool.figures()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank_and_exact_below_4096() {
        let mut h = Histogram::default();
        for v in 1..=100 {
            h.add(v);
        }
        assert_eq!((h.quantile(0.95), h.quantile(0.5), h.len()), (95, 50, 100));
        assert_eq!(Histogram::default().quantile(0.95), 0);
        h.add(-3);
        assert_eq!(h.quantile(0.0), 0);
        let mut big = Histogram::default();
        big.add(1_000_003);
        let got = big.quantile(0.5);
        assert!(
            got <= 1_000_003 && 1_000_003 - got < 1_000_003 / 2048,
            "{got}"
        );
    }

    #[test]
    fn merged_and_extended_histograms_count_as_one() {
        let (mut a, mut b, mut both) = (
            Histogram::default(),
            Histogram::default(),
            Histogram::default(),
        );
        let mut values: Vec<Millis> = (0..5000).map(|i| (i * 7919) % 9000).collect();
        for (i, v) in values.iter().enumerate() {
            if i % 3 == 0 {
                a.add(*v as i64);
            } else {
                b.add(*v as i64);
            }
        }
        both.extend(&mut values);
        a.merge(&b);
        assert_eq!(a, both);
        for q in [0.1, 0.5, 0.95, 1.0] {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let exact = sorted[((q * 5000.0_f64).ceil() as usize).clamp(1, 5000) - 1];
            let got = both.quantile(q);
            assert!(
                got <= exact && exact - got <= exact / 2048,
                "q {q}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn a_watched_run_and_a_kept_timeline_give_the_same_figures() {
        let scenario = Scenario::published().unwrap();
        let spec = scenario.load_scaled_object().unwrap().spec;
        let kept = crate::simulate::run(&scenario, &spec, 3).unwrap();
        let watched = SeedFigures::simulate(&scenario, &spec, 3).unwrap();
        assert_eq!(SeedFigures::of(&kept), watched);
        assert!(watched.replica_seconds > 0 && !watched.delays.is_empty());
    }
}
