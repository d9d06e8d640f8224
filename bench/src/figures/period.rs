//! Figure 3, period accuracy: the producer at a fixed period for a fixed time, read back
//! from the topic. Each event carries the time its tick fired (`time`, ms since the
//! epoch, set when the event is made), so the topic itself is the record of the ticks.

use std::time::Duration;

use anyhow::ensure;
use harness::{read_events, Binary};

use crate::broker::Broker;
use crate::figures::{environment, producer_env};
use crate::stats::percentile;
use crate::{Options, PARTITIONS};

/// How closely the ticks kept to the period.
#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    /// Events stamped in `[first, first + window)`: the period divides the window.
    pub expected: u64,
    pub counted: u64,
    /// |interval - period| between consecutive events of the window, ms (nearest rank).
    pub jitter_p50_ms: f64,
    pub jitter_p99_ms: f64,
    pub jitter_max_ms: f64,
    /// How far the last tick of the window is from where a perfect clock puts it, ms
    /// (late ticks move the schedule: `MissedTickBehavior::Delay`).
    pub drift_ms: i64,
}

/// Measures ticks stamped `times_ms` (in send order) against `period_ms` over `window_ms`.
pub fn accuracy(times_ms: &[u64], period_ms: u64, window_ms: u64) -> Option<Accuracy> {
    let first = *times_ms.first()?;
    let window: Vec<u64> = times_ms
        .iter()
        .copied()
        .take_while(|t| *t < first + window_ms)
        .collect();
    let jitter: Vec<f64> = window
        .windows(2)
        .map(|pair| (pair[1] as f64 - pair[0] as f64 - period_ms as f64).abs())
        .collect();
    let last = *window.last()?;
    let ideal_last = first + (window.len() as u64 - 1) * period_ms;
    Some(Accuracy {
        expected: window_ms.div_ceil(period_ms),
        counted: window.len() as u64,
        jitter_p50_ms: percentile(&jitter, 50.0).unwrap_or(0.0),
        jitter_p99_ms: percentile(&jitter, 99.0).unwrap_or(0.0),
        jitter_max_ms: jitter.iter().copied().fold(0.0, f64::max),
        drift_ms: last as i64 - ideal_last as i64,
    })
}

/// Runs the producer at `period_ms` for `seconds` (+ a margin) on a fresh topic.
pub fn project(
    options: &Options,
    broker: &Broker,
    topic: &str,
    period_ms: u64,
    seconds: u64,
) -> anyhow::Result<Accuracy> {
    // Logging as deployed (every delivery at info), not the bench's quiet filter.
    let env = [
        vec![("RUST_LOG", "info".to_owned())],
        producer_env(broker, topic),
        vec![("kafka.time.period", period_ms.to_string())],
    ]
    .concat();
    let mut producer = harness::App::start(
        Binary::Producer,
        "producer",
        &environment(options, Binary::Producer, &env),
    );
    std::thread::sleep(Duration::from_secs(seconds) + Duration::from_millis(1500));
    producer.terminate(Duration::from_secs(30));
    let records = read_events(
        broker.bootstrap(),
        topic,
        PARTITIONS,
        None,
        Duration::from_secs(3),
    );
    let mut events: Vec<(u64, u64)> = records
        .iter()
        .filter_map(|r| r.event.as_ref().map(|e| (e.seq, e.time)))
        .collect();
    events.sort_unstable();
    ensure!(
        events
            .iter()
            .enumerate()
            .all(|(i, (seq, _))| *seq == i as u64),
        "the topic is missing events: {} read, sequence numbers not contiguous",
        events.len()
    );
    let times: Vec<u64> = events.iter().map(|(_, time)| *time).collect();
    accuracy(&times, period_ms, seconds * 1000)
        .ok_or_else(|| anyhow::anyhow!("the producer sent nothing in {seconds} s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_clock_has_no_jitter_and_the_expected_count() {
        let times: Vec<u64> = (0..700).map(|i| 1_000 + i * 100).collect();
        let a = accuracy(&times, 100, 60_000).unwrap();
        assert_eq!((a.expected, a.counted), (600, 600));
        assert_eq!(
            (
                a.jitter_p50_ms,
                a.jitter_p99_ms,
                a.jitter_max_ms,
                a.drift_ms
            ),
            (0.0, 0.0, 0.0, 0)
        );
    }

    #[test]
    fn one_late_tick_shows_as_jitter_and_moves_the_schedule() {
        // Tick 10 is 30 ms late and the schedule moves with it (Delay).
        let times: Vec<u64> = (0..700)
            .map(|i| if i < 10 { i * 100 } else { i * 100 + 30 })
            .collect();
        let a = accuracy(&times, 100, 60_000).unwrap();
        assert_eq!((a.expected, a.counted), (600, 600));
        assert_eq!(a.jitter_max_ms, 30.0);
        assert_eq!(a.jitter_p50_ms, 0.0);
        assert_eq!(a.drift_ms, 30);
    }

    #[test]
    fn a_slow_clock_sends_fewer_than_expected() {
        let times: Vec<u64> = (0..700).map(|i| i * 101).collect();
        let a = accuracy(&times, 100, 60_000).unwrap();
        assert_eq!(a.counted, 595); // 0, 101, ..., 59_994
        assert_eq!(a.jitter_p99_ms, 1.0);
        assert_eq!(a.drift_ms, 594);
    }

    #[test]
    fn nothing_sent_is_no_measurement() {
        assert_eq!(accuracy(&[], 100, 60_000), None);
    }
}
