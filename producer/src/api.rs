//! The producer's HTTP API: read and change the period, start a burst, read the counts.
//!
//! - `GET /period` -> `{"period_ms": N}`
//! - `PUT /period` `{"period_ms": N}` -> `{"period_ms": N, "previous_ms": M}`; N in 1..=3600000
//! - `POST /burst` `{"count": N}` -> 202 `{"count": N, "first_seq": S}`; N in 1..=1000000;
//!   409 while another burst runs
//! - `GET /stats` -> sent, delivered, failed, in-flight counts and the next sequence number
//!
//! With `http.token` set, the two changes (`PUT /period`, `POST /burst`) need
//! `Authorization: Bearer <token>` (401 JSON otherwise; the token is compared in constant
//! time); reads and the probes stay open, so Prometheus and kubelet need no secret.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::http::{error, ApiJson};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::PERIOD_RANGE_MS;
use crate::sender::Sender;
use crate::token::Token;

/// The largest burst one request may ask for.
pub const MAX_BURST: u64 = 1_000_000;

#[derive(Clone)]
pub struct ApiState {
    pub period: Arc<watch::Sender<Duration>>,
    pub sender: Arc<Sender>,
    pub bursting: Arc<AtomicBool>,
    pub tasks: TaskTracker,
    pub shutdown: CancellationToken,
    /// `http.token`: when set, changes need it as a bearer token.
    pub token: Option<Token>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodBody {
    period_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BurstBody {
    count: u64,
}

pub fn routes(state: ApiState) -> Router {
    Router::new()
        .route("/period", get(get_period).put(put_period))
        .route("/burst", post(post_burst))
        .route("/stats", get(get_stats))
        .route_layer(middleware::from_fn_with_state(state.clone(), authorize))
        .with_state(state)
}

/// Lets reads through; a change needs the bearer token when one is configured.
async fn authorize(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let Some(token) = &state.token else {
        return next.run(request).await;
    };
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(presented) if token.matches(presented) => next.run(request).await,
        _ => {
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                "this change needs Authorization: Bearer <http.token>",
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().unwrap());
            response
        }
    }
}

async fn get_period(State(state): State<ApiState>) -> Json<serde_json::Value> {
    Json(json!({ "period_ms": state.period.borrow().as_millis() as u64 }))
}

async fn put_period(State(state): State<ApiState>, ApiJson(body): ApiJson<PeriodBody>) -> Response {
    if !PERIOD_RANGE_MS.contains(&body.period_ms) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "invalid period_ms={}: expected milliseconds {}..={}",
                body.period_ms,
                PERIOD_RANGE_MS.start(),
                PERIOD_RANGE_MS.end()
            ),
        );
    }
    let previous = state
        .period
        .send_replace(Duration::from_millis(body.period_ms));
    Json(json!({ "period_ms": body.period_ms, "previous_ms": previous.as_millis() as u64 }))
        .into_response()
}

async fn post_burst(State(state): State<ApiState>, ApiJson(body): ApiJson<BurstBody>) -> Response {
    if !(1..=MAX_BURST).contains(&body.count) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid count={}: expected 1..={MAX_BURST}", body.count),
        );
    }
    if state.shutdown.is_cancelled() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    if state.bursting.swap(true, Ordering::SeqCst) {
        return error(StatusCode::CONFLICT, "a burst is already running");
    }
    let first_seq = state.sender.reserve(body.count);
    let (sender, bursting, shutdown) = (
        state.sender.clone(),
        state.bursting.clone(),
        state.shutdown.clone(),
    );
    state.tasks.spawn(async move {
        crate::burst::run(sender, first_seq, body.count, shutdown).await;
        bursting.store(false, Ordering::SeqCst);
    });
    (
        StatusCode::ACCEPTED,
        Json(json!({ "count": body.count, "first_seq": first_seq })),
    )
        .into_response()
}

async fn get_stats(State(state): State<ApiState>) -> Json<serde_json::Value> {
    let report = state.sender.report();
    Json(json!({
        "sent": report.sent,
        "delivered": report.delivered,
        "failed": report.failed,
        "in_flight": report.in_flight,
        "next_seq": report.next_seq,
        "bursting": state.bursting.load(Ordering::SeqCst),
        "period_ms": state.period.borrow().as_millis() as u64,
    }))
}
