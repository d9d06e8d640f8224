//! The periodic send loop.
//!
//! One event per period, never waiting for a delivery: the delivery callback settles it
//! (see [`crate::sender`]). The ticks keep to a fixed grid ([`Cadence`]): a late tick is
//! sent late and the next ones are due where they always were, so lateness does not add
//! up (with the schedule moving at each late tick, tokio's 1 ms timer made a 1 ms period
//! send 8955 events in 10 s and a 10 ms period 996). A stall longer than [`CATCH_UP`] is
//! not caught up: the grid starts again and the skipped ticks are logged and counted.
//! A new period (from `PUT /period`) applies from the next tick: that tick comes one new
//! period after the previous one, or at once if that moment has already passed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use common::event::Encoder;

use crate::sender::{is_queue_full, Sender, Verbosity};

/// The longest lateness caught up by sending the missed ticks at once.
pub const CATCH_UP: Duration = Duration::from_secs(1);

pub async fn run(
    sender: Arc<Sender>,
    mut period: watch::Receiver<Duration>,
    shutdown: CancellationToken,
) {
    let mut cadence = Cadence::new(Instant::now(), *period.borrow_and_update());
    let mut encoder = sender.encoder();
    // Gauges idle for a minute leave /metrics: refresh even when ticks are rare.
    let every = Duration::from_secs(10);
    let mut refresh = tokio::time::interval_at(Instant::now() + every, every);
    let period_gauge = metrics::gauge!("producer_period_seconds");
    period_gauge.set(cadence.period().as_secs_f64());
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            changed = period.changed() => {
                if changed.is_err() {
                    break;
                }
                let new = *period.borrow_and_update();
                tracing::info!(from_ms = cadence.period().as_millis() as u64, to_ms = new.as_millis() as u64, "period changed");
                cadence.set_period(new);
                period_gauge.set(new.as_secs_f64());
            }
            skipped = cadence.tick() => {
                if skipped > 0 {
                    tracing::warn!(skipped, period_ms = cadence.period().as_millis() as u64, "the producer stalled: ticks skipped, schedule restarted");
                    metrics::counter!("producer_ticks_skipped_total").increment(skipped);
                }
                send_one(&sender, &mut encoder);
            }
            _ = refresh.tick() => period_gauge.set(cadence.period().as_secs_f64()),
        }
    }
}

/// When ticks are due: every `period` on a grid that starts at the first tick.
#[derive(Debug)]
pub struct Cadence {
    ticks: Interval,
    period: Duration,
    /// When the last tick was due.
    last: Instant,
}

impl Cadence {
    /// Ticks every `period`, the first at `first`.
    pub fn new(first: Instant, period: Duration) -> Self {
        Self {
            ticks: grid(first, period),
            period,
            last: first,
        }
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// A new period: the next tick is one new period after the last one, or now if that
    /// moment has passed.
    pub fn set_period(&mut self, period: Duration) {
        self.period = period;
        self.ticks = grid((self.last + period).max(Instant::now()), period);
    }

    /// Waits for the next tick. Returns how many ticks a stall longer than [`CATCH_UP`]
    /// skipped (0 when on time or only a little late).
    pub async fn tick(&mut self) -> u64 {
        let due = self.ticks.tick().await;
        let now = Instant::now();
        let late = now - due;
        if late <= CATCH_UP {
            self.last = due;
            return 0;
        }
        self.last = now;
        self.ticks = grid(now + self.period, self.period);
        (late.as_nanos() / self.period.as_nanos()) as u64
    }
}

/// Ticks at `first + n * period`; a late tick fires at once and the next stay on the grid.
fn grid(first: Instant, period: Duration) -> Interval {
    let mut ticks = interval_at(first, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    ticks
}

fn send_one(sender: &Sender, encoder: &mut Encoder) {
    let seq = sender.next_seq();
    match sender.try_send(seq, Verbosity::EachEvent, encoder) {
        Ok(()) => {}
        // The local queue holds 20000 events, of which a burst takes at most 19000: full
        // means the broker has been away a long time. The tick is counted as a failure
        // rather than blocking the schedule.
        Err(err) if is_queue_full(&err) => {
            sender.give_up(seq, &err);
        }
        Err(_) => {} // already counted and logged by try_send
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERIOD: Duration = Duration::from_millis(100);

    #[tokio::test(start_paused = true)]
    async fn late_ticks_are_caught_up_and_the_grid_does_not_move() {
        let start = Instant::now();
        let mut cadence = Cadence::new(start, PERIOD);
        assert_eq!(cadence.tick().await, 0); // at start
                                             // The task is busy for 250 ms: ticks 100 and 200 are late.
        tokio::time::advance(Duration::from_millis(250)).await;
        assert_eq!(cadence.tick().await, 0);
        assert_eq!(cadence.tick().await, 0);
        assert_eq!(
            Instant::now() - start,
            Duration::from_millis(250),
            "both at once"
        );
        // The next tick is due at 300 ms, on the grid, not at 350 ms.
        cadence.tick().await;
        assert_eq!(Instant::now() - start, Duration::from_millis(300));
        // A second of ticks from there: ten of them, on the grid.
        let mut count = 0;
        while Instant::now() - start < Duration::from_millis(1300) {
            cadence.tick().await;
            count += 1;
        }
        assert_eq!(count, 10);
        assert_eq!(Instant::now() - start, Duration::from_millis(1300));
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_stall_is_skipped_not_sent_at_once() {
        let start = Instant::now();
        let mut cadence = Cadence::new(start, PERIOD);
        cadence.tick().await;
        tokio::time::advance(Duration::from_secs(5)).await;
        // The tick due at 100 ms is sent now; those due at 200 ms ... 5000 ms are
        // skipped and counted...
        assert_eq!(cadence.tick().await, 49);
        // ...and the next tick one period later: no burst.
        cadence.tick().await;
        assert_eq!(Instant::now() - start, Duration::from_millis(5100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_period_starts_one_new_period_after_the_last_tick() {
        let start = Instant::now();
        let mut cadence = Cadence::new(start, Duration::from_secs(10));
        cadence.tick().await;
        tokio::time::advance(Duration::from_secs(2)).await;
        cadence.set_period(Duration::from_secs(1));
        cadence.tick().await;
        assert_eq!(
            Instant::now() - start,
            Duration::from_secs(2),
            "1 s after 0: due now"
        );
        cadence.set_period(Duration::from_secs(5));
        cadence.tick().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(7));
    }
}
