//! `GET /stats`: what this replica has processed so far and which partitions it holds,
//! read without rendering all of `/metrics` (the benchmark polls it every few milliseconds
//! while a consumer drains; the tests read the assignment here instead of in the logs).
//!
//! `GET /stats` -> `{"consumed": N, "malformed": M, "group": "...",
//!   "assignment": [{"topic": "event", "partition": 0}, ...],
//!   "first_processed_at_us": T0, "last_processed_at_us": T1}`
//!
//! The counts move when the consume loop stores a batch's offsets (at most
//! `BATCH_AGE` after a record was processed). `first_processed_at_us` is when this replica
//! processed its first record, `last_processed_at_us` when it last stored a batch, both
//! Unix time in microseconds (`null` before the first record): how long ago a replica did
//! any work, and, for the benchmark, a drain timed on the consumer's own clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::group::Assignment;

/// Counts of one replica, updated by the consume loop.
#[derive(Debug, Default)]
pub struct Progress {
    consumed: AtomicU64,
    malformed: AtomicU64,
    /// Unix time of the first record processed, µs (0: none yet).
    first_processed_at: AtomicU64,
    /// Unix time of the last batch stored, µs (0: none yet).
    last_processed_at: AtomicU64,
}

/// Now as Unix time in microseconds.
fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

impl Progress {
    /// A first record is being processed (only the first call of a run counts).
    pub fn started(&self) {
        let _ = self.first_processed_at.compare_exchange(
            0,
            unix_micros(),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// A batch was stored: `consumed` good events and `malformed` skipped records.
    pub fn stored(&self, consumed: u64, malformed: u64) {
        self.consumed.fetch_add(consumed, Ordering::Relaxed);
        self.malformed.fetch_add(malformed, Ordering::Relaxed);
        self.last_processed_at
            .store(unix_micros(), Ordering::Relaxed);
    }

    pub fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }

    pub fn malformed(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
    }

    /// When the first record was processed, Unix µs.
    pub fn first_processed_at(&self) -> Option<u64> {
        Some(self.first_processed_at.load(Ordering::Relaxed)).filter(|&t| t > 0)
    }

    /// When the last batch was stored, Unix µs.
    pub fn last_processed_at(&self) -> Option<u64> {
        Some(self.last_processed_at.load(Ordering::Relaxed)).filter(|&t| t > 0)
    }
}

type StatsState = (Arc<Progress>, Arc<String>, Assignment);

pub fn routes(progress: Arc<Progress>, group: String, assignment: Assignment) -> Router {
    Router::new().route("/stats", get(get_stats)).with_state((
        progress,
        Arc::new(group),
        assignment,
    ))
}

async fn get_stats(
    State((progress, group, assignment)): State<StatsState>,
) -> Json<serde_json::Value> {
    let assignment: Vec<serde_json::Value> = assignment
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(topic, partition)| json!({"topic": topic, "partition": partition}))
        .collect();
    Json(json!({
        "consumed": progress.consumed(),
        "malformed": progress.malformed(),
        "group": group.as_str(),
        "assignment": assignment,
        "first_processed_at_us": progress.first_processed_at(),
        "last_processed_at_us": progress.last_processed_at(),
    }))
}
