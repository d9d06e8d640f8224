//! `GET /stats`: what this replica has processed so far, read without rendering all of
//! `/metrics` (the benchmark polls it every few milliseconds while a consumer drains).
//!
//! `GET /stats` -> `{"consumed": N, "malformed": M, "group": "..."}`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

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

pub fn routes(progress: Arc<Progress>, group: String) -> Router {
    Router::new()
        .route("/stats", get(get_stats))
        .with_state((progress, Arc::new(group)))
}

async fn get_stats(
    State((progress, group)): State<(Arc<Progress>, Arc<String>)>,
) -> Json<serde_json::Value> {
    Json(json!({
        "consumed": progress.consumed(),
        "malformed": progress.malformed(),
        "group": group.as_str(),
    }))
}
