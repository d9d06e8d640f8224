//! `GET /stats`: what this replica has processed so far and which partitions it holds,
//! read without rendering all of `/metrics` (the benchmark polls it every few milliseconds
//! while a consumer drains; the tests read the assignment here instead of in the logs).
//!
//! `GET /stats` -> `{"consumed": N, "malformed": M, "group": "...",
//!   "assignment": [{"topic": "event", "partition": 0}, ...]}`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
}

impl Progress {
    pub fn consumed_one(&self) {
        self.consumed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn malformed_one(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }

    pub fn malformed(&self) -> u64 {
        self.malformed.load(Ordering::Relaxed)
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
    }))
}
