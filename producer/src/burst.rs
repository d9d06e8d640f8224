//! `POST /burst`: send N events as fast as the client allows (a load generator).
//!
//! Sequence numbers are reserved up front so bursts and ticks never share one. When
//! librdkafka's local queue is full the burst waits for a delivery to settle and
//! retries the same event: nothing is skipped. Shutdown stops a burst between two
//! events; the events not yet sent are logged.

use std::sync::Arc;
use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use crate::sender::{is_queue_full, Sender, Verbosity};

/// A burst keeps at most this many events in librdkafka's queue (bounded at 20000 in the
/// producer's settings), leaving room for the periodic events: a tick never finds the
/// queue full because of a burst.
const MAX_IN_FLIGHT: i32 = 19_000;

/// Sends events `first_seq .. first_seq + count`.
pub async fn run(sender: Arc<Sender>, first_seq: u64, count: u64, shutdown: CancellationToken) {
    let started = Instant::now();
    let mut open = FuturesUnordered::new();
    let mut sent = 0;
    'events: for seq in first_seq..first_seq + count {
        if shutdown.is_cancelled() {
            break;
        }
        let event = sender.event(seq);
        while rdkafka::producer::Producer::in_flight_count(sender.producer()) >= MAX_IN_FLIGHT {
            if open.next().await.is_none() {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            if shutdown.is_cancelled() {
                break 'events;
            }
        }
        loop {
            match sender.try_send(&event) {
                Ok(delivery) => {
                    let sender = sender.clone();
                    open.push(async move { sender.settle(seq, delivery, Verbosity::Quiet).await });
                    sent += 1;
                    break;
                }
                Err(err) if is_queue_full(&err) => {
                    if open.next().await.is_none() {
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                    if shutdown.is_cancelled() {
                        break 'events;
                    }
                }
                Err(_) => {
                    sent += 1; // counted as failed by try_send
                    break;
                }
            }
        }
        while let Some(Some(())) = open.next().now_or_never() {}
    }
    while open.next().await.is_some() {}
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        requested = count,
        sent,
        not_sent = count - sent,
        seconds,
        events_per_second = (sent as f64 / seconds.max(1e-9)).round(),
        "burst finished"
    );
}
