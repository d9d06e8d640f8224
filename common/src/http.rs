//! HTTP scaffolding shared by both binaries: health routes, Prometheus metrics, JSON
//! errors and the limits every route gets.
//!
//! `GET /health/live` is 200 while the process serves; `GET /health/ready` is 200 or 503
//! with the reason (the service decides via [`Readiness`]); `GET /metrics` renders the
//! process-wide Prometheus recorder. Request bodies are capped at [`MAX_BODY_BYTES`] and
//! requests at [`REQUEST_TIMEOUT`]; every error, including unknown routes and methods
//! and rejected JSON bodies, is a JSON object `{"error": "..."}` with a 4xx status.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// How long one request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Histogram buckets (seconds) for the consumer's processing time.
const PROCESSING_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder, installed on first use. The exporter's HTTP
/// listener is off (we serve `/metrics` ourselves), so its upkeep (histogram draining)
/// runs on a thread of its own here.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), PROCESSING_BUCKETS)
                .expect("bucket list is not empty")
                // Per-partition lag gauges of partitions this replica lost must not stay
                // frozen in the output: gauges not updated for a minute are dropped.
                // (Every gauge here is refreshed every few seconds while it means something.)
                .idle_timeout(MetricKindMask::GAUGE, Some(Duration::from_secs(60)))
                .install_recorder()
                .expect("the Prometheus recorder is installed once per process");
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                })
                .expect("spawning the metrics upkeep thread");
            handle
        })
        .clone()
}

/// Whether the service is ready, and if not, why.
#[derive(Debug)]
pub struct Readiness {
    ready: AtomicBool,
    reason: Mutex<String>,
}

impl Readiness {
    pub fn new(initial_reason: &str) -> Arc<Self> {
        Arc::new(Self {
            ready: AtomicBool::new(false),
            reason: Mutex::new(initial_reason.to_owned()),
        })
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Marks the service not ready. Returns whether it was ready before, so that callers
    /// can log transitions only.
    pub fn set_not_ready(&self, reason: impl Into<String>) -> bool {
        *self.reason.lock().unwrap_or_else(|e| e.into_inner()) = reason.into();
        self.ready.swap(false, Ordering::SeqCst)
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub fn reason(&self) -> String {
        self.reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A JSON error response: `{"error": message}` with `status`.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// `Json<T>` whose rejections (bad syntax, wrong shape, wrong content type, too large)
/// are JSON errors with the same status as axum's.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Response {
    let status = rejection.status();
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "expected a request with Content-Type: application/json".to_owned()
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
            format!("request body exceeds {MAX_BODY_BYTES} bytes")
        }
        _ => rejection.body_text(),
    };
    error(status, message)
}

/// The service's routes plus health, metrics, fallbacks and limits.
pub fn router(service_routes: Router, readiness: Arc<Readiness>) -> Router {
    let metrics = prometheus();
    let health = Router::new()
        .route(
            "/health/live",
            get(|| async { Json(json!({ "status": "live" })) }),
        )
        .route("/health/ready", get(ready))
        .with_state(readiness)
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [("content-type", "text/plain; version=0.0.4")],
                        metrics.render(),
                    )
                }
            }),
        );
    service_routes
        .merge(health)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this route",
            )
        })
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
}

async fn ready(State(readiness): State<Arc<Readiness>>) -> Response {
    if readiness.is_ready() {
        Json(json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "reason": readiness.reason() })),
        )
            .into_response()
    }
}

/// Serves `router` on `listener` until `shutdown` fires, then finishes open requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::put;
    use http_body_util::BodyExt;
    use serde::Deserialize;
    use tower::ServiceExt;

    #[derive(Deserialize)]
    struct Body1 {
        n: u32,
    }

    fn app(readiness: Arc<Readiness>) -> Router {
        let routes = Router::new().route(
            "/n",
            put(|ApiJson(b): ApiJson<Body1>| async move { Json(json!({ "n": b.n })) }),
        );
        router(routes, readiness)
    }

    async fn call(
        app: &Router,
        method: &str,
        uri: &str,
        ctype: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, serde_json::Value, String) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(ctype) = ctype {
            req = req.header("content-type", ctype);
        }
        let res = app
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            text,
        )
    }

    #[tokio::test]
    async fn health_follows_readiness() {
        let readiness = Readiness::new("starting");
        let app = app(readiness.clone());
        assert_eq!(
            call(&app, "GET", "/health/live", None, vec![]).await.0,
            StatusCode::OK
        );
        let (status, body, _) = call(&app, "GET", "/health/ready", None, vec![]).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["reason"], "starting");
        readiness.set_ready();
        assert_eq!(
            call(&app, "GET", "/health/ready", None, vec![]).await.0,
            StatusCode::OK
        );
        assert!(readiness.set_not_ready("broker down"));
        assert!(!readiness.set_not_ready("still down"));
        let (status, body, _) = call(&app, "GET", "/health/ready", None, vec![]).await;
        assert_eq!(
            (status, body["reason"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("still down"))
        );
    }

    #[tokio::test]
    async fn errors_are_json_4xx() {
        let app = app(Readiness::new("x"));
        let json = Some("application/json");
        // (method, uri, content type, body, expected status)
        type Case<'a> = (&'a str, &'a str, Option<&'a str>, Vec<u8>, StatusCode);
        let cases: Vec<Case> = vec![
            ("GET", "/nope", None, vec![], StatusCode::NOT_FOUND),
            ("DELETE", "/n", None, vec![], StatusCode::METHOD_NOT_ALLOWED),
            (
                "PUT",
                "/n",
                Some("text/plain"),
                b"{\"n\":1}".to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            ("PUT", "/n", json, b"{".to_vec(), StatusCode::BAD_REQUEST),
            (
                "PUT",
                "/n",
                json,
                b"{\"n\":\"x\"}".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                "/n",
                json,
                vec![b' '; MAX_BODY_BYTES + 1],
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        for (method, uri, ctype, body, expected) in cases {
            let (status, json, text) = call(&app, method, uri, ctype, body).await;
            assert_eq!(status, expected, "{method} {uri}: {text}");
            assert!(
                json["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{method} {uri}: {text}"
            );
        }
        let (status, body, _) = call(&app, "PUT", "/n", json, b"{\"n\":7}".to_vec()).await;
        assert_eq!((status, body["n"].as_u64()), (StatusCode::OK, Some(7)));
    }

    #[tokio::test]
    async fn metrics_render_as_prometheus_text() {
        let app = app(Readiness::new("x"));
        metrics::counter!("http_test_total").increment(3);
        metrics::gauge!("http_test_gauge").set(42.0);
        let (status, _, text) = call(&app, "GET", "/metrics", None, vec![]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(text.contains("http_test_total 3"), "{text}");
        assert!(text.contains("http_test_gauge 42"), "{text}");
    }
}
