//! A recording reduced, line by line, to what a fit reads: per sample the time, the log
//! ends and committed offsets summed, the lag as KEDA reads it and the replicas running;
//! the first and last log ends of each partition (the key spread); the intervals between
//! the steps of each partition's committed offset (the commit interval); and the gaps
//! where the recorder missed samples. A day of samples of 100 partitions takes a few
//! megabytes, not the trace's hundreds.

use crate::emulator::scaler::KafkaScaler;
use crate::emulator::spec::KafkaTrigger;
use crate::trace::TraceSample;
use crate::tune::figures::Histogram;

/// One sample with offsets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Seconds, as recorded.
    pub t: f64,
    /// The trace line it came from.
    pub line: usize,
    pub end_total: i64,
    /// Committed offsets summed (`None` when a partition has none).
    pub committed: Option<i64>,
    /// The lag a fresh KEDA scaler reads from these offsets (the trigger the recording ran
    /// with), as `lab simulate` samples it.
    pub lag: i64,
    pub replicas: Option<u32>,
}

/// Samples missing between two recorded ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    pub from_t: f64,
    pub to_t: f64,
    /// The trace lines on either side.
    pub from_line: usize,
    pub to_line: usize,
}

impl Gap {
    pub fn seconds(&self) -> f64 {
        self.to_t - self.from_t
    }
}

/// An interval between samples longer than this many typical ones is a gap.
const GAP_INTERVALS: f64 = 2.5;

/// The recording, reduced.
#[derive(Debug, Clone)]
pub struct Recording {
    pub points: Vec<Point>,
    pub first_ends: Vec<i64>,
    pub last_ends: Vec<i64>,
    /// Time between two steps of a partition's committed offset, ms, where the step
    /// left work on the partition (its next commit had something new to commit).
    pub commit_steps: Histogram,
    /// The same, every step (when too few steps left work).
    pub all_commit_steps: Histogram,
    /// The typical time between samples (their median), s.
    pub interval_s: f64,
    /// Where samples are missing.
    pub gaps: Vec<Gap>,
}

/// Builds a [`Recording`] from samples given in order.
pub struct Reducer {
    scaler: KafkaScaler,
    recording: Recording,
    /// Per partition: the committed offset at the last sample, when it last stepped and
    /// whether that step left work.
    committed: Vec<Option<i64>>,
    last_step: Vec<Option<(f64, bool)>>,
    /// The shortest interval between samples so far, s: a longer one than
    /// [`GAP_INTERVALS`] of it ends every partition's step tracking.
    shortest: f64,
}

impl Reducer {
    /// A reducer reading lag as `trigger` does.
    pub fn new(trigger: &KafkaTrigger) -> Self {
        Self {
            scaler: KafkaScaler::new(trigger.clone()),
            recording: Recording {
                points: Vec::new(),
                first_ends: Vec::new(),
                last_ends: Vec::new(),
                commit_steps: Histogram::default(),
                all_commit_steps: Histogram::default(),
                interval_s: 0.0,
                gaps: Vec::new(),
            },
            committed: Vec::new(),
            last_step: Vec::new(),
            shortest: f64::INFINITY,
        }
    }

    /// Takes trace line `line`'s sample (error samples carry no offsets and are passed
    /// over).
    pub fn take(&mut self, line: usize, sample: &TraceSample) -> anyhow::Result<()> {
        if sample.partitions.is_none() {
            return Ok(());
        }
        let offsets = sample.offsets();
        let rec = &mut self.recording;
        if rec.points.is_empty() {
            rec.first_ends = offsets.iter().map(|o| o.end).collect();
            self.committed = offsets.iter().map(|o| o.committed).collect();
            self.last_step = vec![None; offsets.len()];
        }
        anyhow::ensure!(
            offsets.len() == rec.first_ends.len(),
            "line {line}: the sample at t={} has {} partitions, the first one {}: a trace of one topic is needed",
            sample.t,
            offsets.len(),
            rec.first_ends.len()
        );
        if let Some(previous) = rec.points.last() {
            let dt = sample.t - previous.t;
            if dt > 0.0 {
                if dt > GAP_INTERVALS * self.shortest {
                    // Steps across missing samples are not intervals between commits.
                    self.last_step.iter_mut().for_each(|s| *s = None);
                }
                self.shortest = self.shortest.min(dt);
            }
        }
        for (p, o) in offsets.iter().enumerate() {
            if o.committed != self.committed[p] {
                if let (Some((at, left_work)), Some(_)) = (self.last_step[p], self.committed[p]) {
                    let ms = ((sample.t - at) * 1000.0).round() as i64;
                    rec.all_commit_steps.add(ms);
                    if left_work {
                        rec.commit_steps.add(ms);
                    }
                }
                let left_work = o.committed.is_some_and(|c| c < o.end);
                self.last_step[p] = Some((sample.t, left_work));
                self.committed[p] = o.committed;
            }
        }
        self.scaler.forget();
        let lag = self.scaler.read(&offsets).total_lag;
        rec.last_ends = offsets.iter().map(|o| o.end).collect();
        rec.points.push(Point {
            t: sample.t,
            line,
            end_total: offsets.iter().map(|o| o.end).sum(),
            committed: offsets.iter().map(|o| o.committed).sum::<Option<i64>>(),
            lag,
            replicas: sample.replicas,
        });
        Ok(())
    }

    /// The recording, its gaps found.
    pub fn finish(mut self) -> Recording {
        let rec = &mut self.recording;
        let mut intervals: Vec<f64> = rec
            .points
            .windows(2)
            .map(|w| w[1].t - w[0].t)
            .filter(|dt| *dt > 0.0)
            .collect();
        intervals.sort_by(f64::total_cmp);
        rec.interval_s = intervals.get(intervals.len() / 2).copied().unwrap_or(1.0);
        let longest = GAP_INTERVALS * rec.interval_s;
        rec.gaps = rec
            .points
            .windows(2)
            .filter(|w| w[1].t - w[0].t > longest)
            .map(|w| Gap {
                from_t: w[0].t,
                to_t: w[1].t,
                from_line: w[0].line,
                to_line: w[1].line,
            })
            .collect();
        self.recording
    }
}

impl Recording {
    /// Reduces `samples` (numbered from line 1).
    pub fn of(samples: &[TraceSample], trigger: &KafkaTrigger) -> anyhow::Result<Self> {
        let mut reducer = Reducer::new(trigger);
        for (i, s) in samples.iter().enumerate() {
            reducer.take(i + 1, s)?;
        }
        Ok(reducer.finish())
    }

    /// Reads and reduces the trace file at `path`, line by line.
    pub fn read(path: &std::path::Path, trigger: &KafkaTrigger) -> anyhow::Result<Self> {
        let mut reducer = Reducer::new(trigger);
        crate::trace::each_sample(path, |line, sample| reducer.take(line, &sample))?;
        Ok(reducer.finish())
    }

    /// The log ends summed at `t`, linear between samples (across a gap too).
    pub fn end_total_at(&self, t: f64) -> f64 {
        let points = &self.points;
        let i = points.partition_point(|p| p.t <= t);
        match (i.checked_sub(1).map(|i| &points[i]), points.get(i)) {
            (Some(a), Some(b)) if b.t > a.t => {
                let x = (t - a.t) / (b.t - a.t);
                a.end_total as f64 + x * (b.end_total - a.end_total) as f64
            }
            (Some(a), _) => a.end_total as f64,
            (None, Some(b)) => b.end_total as f64,
            (None, None) => 0.0,
        }
    }

    /// Seconds from the first sample to the last.
    pub fn seconds(&self) -> f64 {
        match (self.points.first(), self.points.last()) {
            (Some(a), Some(b)) => b.t - a.t,
            _ => 0.0,
        }
    }

    /// Seconds of the recording inside gaps.
    pub fn gap_seconds(&self) -> f64 {
        self.gaps.iter().map(Gap::seconds).sum()
    }

    /// Whether the sample interval after point `i` is a gap.
    pub fn gap_after(&self, i: usize) -> bool {
        match (self.points.get(i), self.points.get(i + 1)) {
            (Some(a), Some(b)) => b.t - a.t > GAP_INTERVALS * self.interval_s,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TracePartition;

    fn sample(t: f64, parts: &[(i64, Option<i64>)], replicas: u32) -> TraceSample {
        TraceSample {
            t,
            partitions: Some(
                parts
                    .iter()
                    .map(|(end, committed)| TracePartition {
                        partition: None,
                        end: *end,
                        committed: *committed,
                    })
                    .collect(),
            ),
            total_lag: None,
            error: None,
            replicas: Some(replicas),
            triggers: Default::default(),
            pods: Vec::new(),
        }
    }

    fn trigger() -> KafkaTrigger {
        crate::scenario::Scenario::published()
            .unwrap()
            .load_scaled_object()
            .unwrap()
            .spec
            .trigger
    }

    #[test]
    fn commit_steps_that_left_work_are_timed_and_gaps_found() {
        // Partition 0 commits every 2 s with work left; partition 1 catches up (no work
        // left), so its next step is timed only among all steps.
        let mut samples = Vec::new();
        for t in 0..=10 {
            let c0 = Some(10 * (t / 2));
            let c1 = Some(5 * (t / 3));
            samples.push(sample(
                t as f64,
                &[(10 * (t / 2) + 3, c0), (5 * (t / 3), c1)],
                1,
            ));
        }
        // A gap of 30 s: the steps across it are not timed.
        samples.push(sample(40.0, &[(500, Some(497)), (100, Some(100))], 2));
        samples.push(sample(41.0, &[(510, Some(497)), (100, Some(100))], 2));
        let rec = Recording::of(&samples, &trigger()).unwrap();
        assert_eq!(
            rec.commit_steps.len(),
            4,
            "partition 0's steps at 4, 6, 8, 10"
        );
        assert_eq!(rec.commit_steps.quantile(0.5), 2000);
        assert_eq!(rec.all_commit_steps.len(), 4 + 2);
        assert_eq!(rec.all_commit_steps.quantile(1.0), 3000);
        assert_eq!(rec.interval_s, 1.0);
        assert_eq!(rec.gaps.len(), 1);
        assert_eq!((rec.gaps[0].from_line, rec.gaps[0].to_line), (11, 12));
        assert_eq!(rec.gap_seconds(), 30.0);
        assert!(rec.gap_after(10) && !rec.gap_after(11));
        assert_eq!(rec.points[0].lag, 3);
        assert_eq!(rec.end_total_at(25.0), (68.0 + 600.0) / 2.0);
    }

    #[test]
    fn a_second_topic_is_refused_naming_the_line() {
        let samples = [
            sample(0.0, &[(1, Some(1))], 1),
            sample(1.0, &[(1, Some(1)), (2, Some(2))], 1),
        ];
        let err = Recording::of(&samples, &trigger()).unwrap_err().to_string();
        assert!(
            err.starts_with("line 2: the sample at t=1 has 2 partitions"),
            "{err}"
        );
    }
}
