//! `POST /burst`: send N events as fast as the client allows (a load generator).
//!
//! Sequence numbers are reserved up front so bursts and ticks never share one. When
//! librdkafka's local queue is full the burst waits a millisecond for deliveries to make
//! room and retries the same event: nothing is skipped. Shutdown stops a burst between
//! two events; the events not yet sent are logged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::producer::Producer as _;
use tokio_util::sync::CancellationToken;

use crate::sender::{is_queue_full, Sender, Verbosity};

/// A burst keeps at most this many events in librdkafka's queue (bounded at 20000 in the
/// producer's settings), leaving room for the periodic events: a tick never finds the
/// queue full because of a burst.
const MAX_IN_FLIGHT: i32 = 19_000;

/// The burst looks at the queue and at the shutdown token once every this many events
/// (each look takes a lock): between two looks the queue grows by at most this much.
const LOOK_EVERY: u64 = 256;

/// How long a burst waits for room in the queue before it looks again.
const ROOM_WAIT: Duration = Duration::from_millis(1);

/// Sends events `first_seq .. first_seq + count`.
pub async fn run(sender: Arc<Sender>, first_seq: u64, count: u64, shutdown: CancellationToken) {
    let started = Instant::now();
    let mut sent = 0;
    let mut waits = 0u64;
    let mut encoder = sender.encoder();
    'events: for seq in first_seq..first_seq + count {
        if sent % LOOK_EVERY == 0 {
            loop {
                if shutdown.is_cancelled() {
                    break 'events;
                }
                if sender.producer().in_flight_count() <= MAX_IN_FLIGHT - LOOK_EVERY as i32 {
                    break;
                }
                waits += 1;
                tokio::time::sleep(ROOM_WAIT).await;
            }
        }
        loop {
            match sender.try_send(seq, Verbosity::Quiet, &mut encoder) {
                Ok(()) => break,
                Err(err) if is_queue_full(&err) => {
                    if shutdown.is_cancelled() {
                        break 'events;
                    }
                    waits += 1;
                    tokio::time::sleep(ROOM_WAIT).await
                }
                Err(_) => break, // counted as failed by try_send
            }
        }
        sent += 1;
    }
    let enqueued = started.elapsed().as_secs_f64();
    // Deliveries settle on the client's thread; at shutdown the final flush takes over.
    tokio::select! {
        _ = sender.quiet_settled() => {}
        _ = shutdown.cancelled() => {}
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        requested = count,
        sent,
        not_sent = count - sent,
        enqueued_seconds = enqueued,
        waits_for_room = waits,
        seconds,
        events_per_second = (sent as f64 / seconds.max(1e-9)).round(),
        "burst finished"
    );
}
