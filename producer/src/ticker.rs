//! The periodic send loop.
//!
//! One event per period, never waiting for a delivery: each delivery is settled on a
//! task of its own. A late tick is sent late and the schedule moves with it
//! (`MissedTickBehavior::Delay`), so a stalled process never sends a catch-up burst.
//! A new period (from `PUT /period`) applies from the next tick: that tick comes one new
//! period after the previous one, or at once if that moment has already passed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::sender::{is_queue_full, Sender, Verbosity};

pub async fn run(
    sender: Arc<Sender>,
    mut period: watch::Receiver<Duration>,
    deliveries: TaskTracker,
    shutdown: CancellationToken,
) {
    let mut current = *period.borrow_and_update();
    let mut ticks = schedule(Instant::now(), current);
    let mut last_tick = Instant::now();
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
                send_one(&sender, &deliveries);
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

fn send_one(sender: &Arc<Sender>, deliveries: &TaskTracker) {
    let event = sender.next_event();
    match sender.try_send(&event) {
        Ok(delivery) => {
            let sender = sender.clone();
            deliveries.spawn(async move {
                sender
                    .settle(event.seq, delivery, Verbosity::EachEvent)
                    .await
            });
        }
        // The local queue holds 100k events: full means the broker has been away a long
        // time. The tick is counted as a failure rather than blocking the schedule.
        Err(err) if is_queue_full(&err) => {
            sender.give_up(event.seq, &err);
        }
        Err(_) => {} // already counted and logged by try_send
    }
}
