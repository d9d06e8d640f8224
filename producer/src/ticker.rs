//! The periodic send loop.
//!
//! One event per period, never waiting for a delivery: the delivery callback settles it
//! (see [`crate::sender`]). A late tick is sent late and the schedule moves with it
//! (`MissedTickBehavior::Delay`), so a stalled process never sends a catch-up burst.
//! A new period (from `PUT /period`) applies from the next tick: that tick comes one new
//! period after the previous one, or at once if that moment has already passed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use common::event::Encoder;

use crate::sender::{is_queue_full, Sender, Verbosity};

pub async fn run(
    sender: Arc<Sender>,
    mut period: watch::Receiver<Duration>,
    shutdown: CancellationToken,
) {
    let mut current = *period.borrow_and_update();
    let mut ticks = schedule(Instant::now(), current);
    let mut last_tick = Instant::now();
    let mut encoder = Encoder::default();
    // Gauges idle for a minute leave /metrics: refresh even when ticks are rare.
    let every = Duration::from_secs(10);
    let mut refresh = tokio::time::interval_at(Instant::now() + every, every);
    metrics::gauge!("producer_period_seconds").set(current.as_secs_f64());
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            changed = period.changed() => {
                if changed.is_err() {
                    break;
                }
                let new = *period.borrow_and_update();
                tracing::info!(from_ms = current.as_millis() as u64, to_ms = new.as_millis() as u64, "period changed");
                current = new;
                metrics::gauge!("producer_period_seconds").set(current.as_secs_f64());
                ticks = schedule((last_tick + new).max(Instant::now()), new);
            }
            tick = ticks.tick() => {
                last_tick = tick;
                send_one(&sender, &mut encoder);
            }
            _ = refresh.tick() => {
                metrics::gauge!("producer_period_seconds").set(current.as_secs_f64());
            }
        }
    }
}

fn schedule(first: Instant, period: Duration) -> Interval {
    let mut ticks = interval_at(first, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
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
