//! What a recording says about the producer: the rate over 30 s windows, merged into
//! phases of one rate (a window ten times its neighbours is a batch burst, not a rate);
//! and the key spread (silent partitions, a hot one).

use super::recording::Recording;

/// The windows rates are measured over, s.
pub const WINDOW_S: f64 = 30.0;
/// Below this, events/s, a window counts as having no producer.
pub const IDLE_RATE: f64 = 0.1;

/// One window or phase of the fitted workload.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Seconds from the trace's first sample.
    pub start: f64,
    pub seconds: f64,
    /// Events produced per second.
    pub per_s: f64,
}

/// The produce rate over consecutive windows (a last one shorter than half a window joins
/// the one before); the log ends are read linearly between samples, across gaps too.
pub fn windows(recording: &Recording) -> Vec<Rate> {
    let (Some(first), Some(last)) = (recording.points.first(), recording.points.last()) else {
        return Vec::new();
    };
    let (t0, end) = (first.t, last.t);
    let mut out: Vec<Rate> = Vec::new();
    let mut start = t0;
    while start < end {
        let mut stop = (start + WINDOW_S).min(end);
        if end - stop < WINDOW_S / 2.0 {
            stop = end;
        }
        let grown = recording.end_total_at(stop) - recording.end_total_at(start);
        out.push(Rate {
            start: start - t0,
            seconds: stop - start,
            per_s: grown / (stop - start),
        });
        start = stop;
    }
    out
}

impl Rate {
    /// Events produced over it.
    pub fn events(&self) -> f64 {
        self.per_s * self.seconds
    }
}

/// A burst rather than a rate: a phase of one window at least [`BURST_FACTOR`] times the
/// rate of the phases on either side (a batch job's events sent at once). It is fitted as
/// its events produced at the phase's start: spread over the window at a producer period
/// rounded to whole milliseconds, a batch of 20,000 became 30,000.
pub fn is_burst(phases: &[Rate], i: usize) -> bool {
    let Some(phase) = phases.get(i) else {
        return false;
    };
    let around = [i.checked_sub(1), Some(i + 1)]
        .into_iter()
        .flatten()
        .filter_map(|j| phases.get(j))
        .map(|p| p.per_s)
        .fold(IDLE_RATE, f64::max);
    phase.seconds <= 1.5 * WINDOW_S && phase.per_s >= BURST_FACTOR * around && phases.len() > 1
}

/// How many times its neighbours' rate a one-window phase must be to be a burst.
pub const BURST_FACTOR: f64 = 10.0;

/// Neighbouring windows whose rates are within a quarter of the phase's so far (or both
/// idle) make one phase.
pub fn merge(windows: &[Rate]) -> Vec<Rate> {
    let mut phases: Vec<Rate> = Vec::new();
    for w in windows {
        let joins = phases.last().is_some_and(|p| {
            let (idle_p, idle_w) = (p.per_s < IDLE_RATE, w.per_s < IDLE_RATE);
            (idle_p && idle_w)
                || (!idle_p && !idle_w && (w.per_s - p.per_s).abs() <= 0.25 * p.per_s)
        });
        match phases.last_mut() {
            Some(p) if joins => {
                let seconds = p.seconds + w.seconds;
                p.per_s = (p.per_s * p.seconds + w.per_s * w.seconds) / seconds;
                p.seconds = seconds;
            }
            _ => phases.push(*w),
        }
    }
    phases
}

/// How the keys spread over the partitions.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    /// The hot partition (its id and share) when it took over 1.5 times an even share of
    /// the partitions that got events.
    pub hot_share: Option<(i32, f64)>,
    /// Partitions that got no event.
    pub silent: Vec<i32>,
}

pub fn spread(recording: &Recording) -> Spread {
    let grown: Vec<i64> = recording
        .first_ends
        .iter()
        .zip(&recording.last_ends)
        .map(|(a, b)| b - a)
        .collect();
    let silent: Vec<i32> = (0..grown.len() as i32)
        .filter(|&p| grown[p as usize] == 0)
        .collect();
    let total: i64 = grown.iter().sum();
    let busy = grown.len() - silent.len();
    let (hot, most) = grown
        .iter()
        .enumerate()
        .max_by_key(|(p, n)| (**n, std::cmp::Reverse(*p)))
        .map_or((0, 0), |(p, n)| (p as i32, *n));
    let share = most as f64 / total.max(1) as f64;
    let hot_share = (busy > 1 && share > 1.5 / busy as f64).then_some((hot, share));
    Spread { hot_share, silent }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_within_a_quarter_merge_and_idle_ones_too() {
        let w = |start, per_s| Rate {
            start,
            seconds: 30.0,
            per_s,
        };
        let phases = merge(&[
            w(0.0, 10.0),
            w(30.0, 11.0),
            w(60.0, 2.0),
            w(90.0, 0.0),
            w(120.0, 0.05),
        ]);
        assert_eq!(phases.len(), 3);
        assert_eq!((phases[0].seconds, phases[0].per_s), (60.0, 10.5));
        assert_eq!((phases[2].start, phases[2].seconds), (90.0, 60.0));
    }

    #[test]
    fn one_window_ten_times_its_neighbours_is_a_burst() {
        let w = |start, seconds, per_s| Rate {
            start,
            seconds,
            per_s,
        };
        let night = [
            w(0.0, 3600.0, 0.0),
            w(3600.0, 30.0, 666.0),
            w(3630.0, 3600.0, 0.0),
        ];
        assert!(is_burst(&night, 1) && !is_burst(&night, 0));
        assert_eq!(night[1].events(), 19980.0);
        // A busy hour is no burst, nor a window only twice its neighbours.
        let day = [
            w(0.0, 30.0, 10.0),
            w(30.0, 30.0, 20.0),
            w(60.0, 3600.0, 20.0),
        ];
        assert!(!is_burst(&day, 1) && !is_burst(&day, 2));
    }
}
