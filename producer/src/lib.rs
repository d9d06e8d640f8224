//! kafka-producer-callback: sends one event every period to a Kafka topic.
//!
//! [`run`] is what the binary and the tests drive: it creates the client, starts the tick
//! loop ([`ticker`]), the broker watch that keeps `/health/ready` honest, and the HTTP API
//! ([`api`]: change the period, start a [`burst`]); then, when `shutdown` fires, it stops
//! ticking, flushes with a bounded timeout off the async workers, and reports what was
//! delivered and what could not be ([`sender::DeliveryReport`]).

pub mod api;
pub mod burst;
pub mod config;
pub mod sender;
pub mod ticker;
pub mod token;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use common::config::{ConfigError, Env};
use common::http::{self, Readiness};
use common::kafka::creation_error;
use common::ledger::Ledger;
use common::service::{HttpSettings, Service};
use rdkafka::producer::Producer as _;
use rdkafka::util::Timeout;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::ProducerConfig;
pub use sender::DeliveryReport;

use sender::Sender;

/// How often the producer checks that the broker answers and the topic exists.
const BROKER_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// The producer as a [`Service`] for `common::service::main`.
pub struct Producer;

impl Service for Producer {
    const NAME: &'static str = "kafka-producer-callback";
    fn settings() -> Vec<&'static common::config::Setting> {
        config::settings()
    }
    type Config = ProducerConfig;

    fn load(env: &Env) -> Result<ProducerConfig, ConfigError> {
        ProducerConfig::from_env(env)
    }

    fn http(config: &ProducerConfig) -> HttpSettings {
        config.http
    }

    async fn run(
        config: ProducerConfig,
        listener: TcpListener,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        run(config, listener, shutdown).await.map(drop)
    }
}

/// librdkafka settings of the producer (passthrough settings override them).
fn client_defaults() -> Vec<(&'static str, String)> {
    vec![
        // Exactly one copy per event in the log, in order, even across retries.
        ("enable.idempotence", "true".into()),
        // An outage longer than this shows up as counted failures, not an endless queue.
        (
            "message.timeout.ms",
            workload::DELIVERY_TIMEOUT.as_millis().to_string(),
        ),
        // Bounds the local queue (librdkafka's default, 100000, took the process to
        // 90 MiB during a burst): 20000 small events keep it around 25 MiB, well inside
        // the 64 MiB limit of the manifests. A burst waits for room instead.
        ("queue.buffering.max.messages", "20000".into()),
        // How long a record waits for others to share its request (librdkafka default:
        // 5 ms). A tick's event goes out at once either way; a burst's last batch, and
        // every batch while the bounded queue is full, waits for it: 1 ms made bursts
        // about 12 % faster (97 ms against 112 ms, median of 8 alternating runs).
        ("linger.ms", "1".into()),
    ]
}

/// HELP texts for `/metrics`.
fn describe_metrics() {
    metrics::describe_counter!(
        "events_produced_total",
        "Events handed to Kafka, by delivery outcome (delivered or failed)."
    );
    metrics::describe_counter!(
        "producer_ticks_skipped_total",
        "Ticks not sent because the producer stalled for longer than a second."
    );
    metrics::describe_gauge!(
        "producer_period_seconds",
        metrics::Unit::Seconds,
        "Time between two events."
    );
}

/// Runs the producer until `shutdown` is cancelled, then drains and reports.
pub async fn run(
    config: ProducerConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<DeliveryReport> {
    // Install the recorder before any task records a metric.
    http::prometheus();
    describe_metrics();
    tracing::info!(
        topic = %config.topic,
        period_ms = config.period.as_millis() as u64,
        source = %config.source,
        kafka = %config.kafka.describe(),
        "producer starting"
    );
    let ledger = Ledger::open(config.ledger.as_deref())?;
    let readiness = Readiness::new("the broker has not answered yet");
    let sender = Sender::create(
        &config.kafka.client_config(&client_defaults()),
        config.topic.clone(),
        config.source.clone(),
        config.shape.clone(),
        ledger,
        readiness.clone(),
    )
    .map_err(|err| creation_error(&config.kafka, &err))?;

    let (period_tx, period_rx) = watch::channel(config.period);
    let bursts = TaskTracker::new();
    let tasks = TaskTracker::new();
    tasks.spawn(ticker::run(sender.clone(), period_rx, shutdown.clone()));
    tasks.spawn(watch_broker(
        sender.clone(),
        readiness.clone(),
        shutdown.clone(),
    ));
    let api = api::routes(api::ApiState {
        period: Arc::new(period_tx),
        sender: sender.clone(),
        bursting: Arc::new(AtomicBool::new(false)),
        tasks: bursts.clone(),
        shutdown: shutdown.clone(),
        token: config.http_token.clone(),
    });
    let server = tokio::spawn(http::serve(
        listener,
        http::router(api, readiness),
        shutdown.clone(),
    ));

    shutdown.cancelled().await;
    tasks.close();
    tasks.wait().await;
    let report = drain(&sender, &bursts, config.flush_timeout).await;
    if let Ok(Err(err)) = server.await {
        tracing::warn!(error = %err, "HTTP server stopped with an error");
    }
    Ok(report)
}

/// Flushes the client (bounded, on a blocking thread): the delivery callback settles
/// what the broker acknowledges meanwhile; the rest is reported as undelivered.
async fn drain(sender: &Arc<Sender>, bursts: &TaskTracker, bound: Duration) -> DeliveryReport {
    let before = sender.report();
    tracing::info!(
        in_flight = before.in_flight,
        bound_ms = bound.as_millis() as u64,
        "flushing"
    );
    let flushing = sender.clone();
    let flush =
        tokio::task::spawn_blocking(move || flushing.producer().flush(Timeout::After(bound)));
    if let Ok(Err(err)) = flush.await {
        tracing::warn!(error = %err, "flush did not complete");
    }
    // A burst stopped by shutdown logs its summary and ends at once.
    bursts.close();
    bursts.wait().await;
    let report = sender.report();
    tracing::info!(
        sent = report.sent,
        delivered = report.delivered,
        failed = report.failed,
        undelivered = report.in_flight,
        "producer stopped"
    );
    report
}

/// Keeps readiness in step with the broker: ready when the topic's metadata can be
/// fetched and the last delivery did not fail.
async fn watch_broker(sender: Arc<Sender>, readiness: Arc<Readiness>, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(BROKER_CHECK_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let probe = sender.clone();
        let topic = sender.topic().to_owned();
        let probing = tokio::task::spawn_blocking(move || {
            let metadata = probe
                .producer()
                .client()
                .fetch_metadata(Some(&topic), Timeout::After(BROKER_CHECK_INTERVAL))
                .map_err(|e| {
                    format!("the broker does not answer: {e} (check kafka.brokers.host, and kafka.security.protocol if the listener uses TLS)")
                })?;
            match metadata.topics().first() {
                Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                    Ok(t.partitions().len())
                }
                _ => Err(format!("topic {topic} does not exist")),
            }
        });
        // Shutdown does not wait for a probe: against a broker that refuses the client,
        // librdkafka's metadata request can outlast its timeout by seconds, and the drain
        // (with its own bound) must start at once.
        let check = tokio::select! {
            _ = shutdown.cancelled() => return,
            joined = probing => joined.unwrap_or_else(|e| Err(e.to_string())),
        };
        match check {
            Ok(_) if sender.last_delivery_failed() => {
                // `Sender` already explained; stay not ready until a delivery succeeds.
            }
            Ok(partitions) => {
                sender.security_resolved();
                if !readiness.is_ready() {
                    tracing::info!(partitions, "broker reachable: ready");
                }
                readiness.set_ready();
            }
            Err(reason) => {
                // A TLS or SASL problem names the setting to fix; it was logged once.
                if let Some(problem) = sender.security_problem() {
                    readiness.set_not_ready(problem);
                } else if readiness.set_not_ready(reason.clone()) {
                    tracing::warn!(%reason, "not ready");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    /// The API against a client whose broker does not exist: enough for the handlers,
    /// which never wait on the broker.
    fn app() -> (axum::Router, Arc<watch::Sender<Duration>>) {
        app_with(None)
    }

    fn app_with(token: Option<token::Token>) -> (axum::Router, Arc<watch::Sender<Duration>>) {
        let settings =
            common::kafka::KafkaSettings::new("127.0.0.1:9".into(), "t".into(), &Env::default())
                .unwrap();
        let readiness = Readiness::new("test");
        let sender = Sender::create(
            &settings.client_config(&client_defaults()),
            "event".into(),
            "test".into(),
            Default::default(),
            Ledger::default(),
            readiness.clone(),
        )
        .unwrap();
        let period = Arc::new(watch::channel(Duration::from_millis(1000)).0);
        let state = api::ApiState {
            period: period.clone(),
            sender,
            bursting: Arc::new(AtomicBool::new(true)),
            tasks: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            token,
        };
        (http::router(api::routes(state), readiness), period)
    }

    async fn call(
        app: &axum::Router,
        method: &str,
        uri: &str,
        ctype: &str,
        body: &str,
    ) -> (StatusCode, serde_json::Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", ctype)
            .body(Body::from(body.to_owned()))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    #[tokio::test]
    async fn with_a_token_changes_need_it_and_reads_stay_open() {
        let (app, period) = app_with(Some(token::Token::new("s3cret")));
        let put = |authorization: Option<&'static str>| {
            let mut req = Request::builder()
                .method("PUT")
                .uri("/period")
                .header("content-type", "application/json");
            if let Some(value) = authorization {
                req = req.header("authorization", value);
            }
            let req = req.body(Body::from(r#"{"period_ms":100}"#)).unwrap();
            let app = app.clone();
            async move {
                let res = app.oneshot(req).await.unwrap();
                let status = res.status();
                let challenge = res.headers().get("www-authenticate").cloned();
                let bytes = res.into_body().collect().await.unwrap().to_bytes();
                let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                (status, challenge, body)
            }
        };
        for wrong in [
            None,
            Some("Bearer s3cre"),
            Some("Bearer s3cret2"),
            Some("s3cret"),
        ] {
            let (status, challenge, body) = put(wrong).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong:?}");
            assert_eq!(challenge.unwrap(), "Bearer");
            assert!(
                body["error"].as_str().unwrap().contains("http.token"),
                "{body}"
            );
            assert_eq!(*period.borrow(), Duration::from_millis(1000), "unchanged");
        }
        let (status, _) = call(&app, "POST", "/burst", "application/json", r#"{"count":1}"#).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        for read in ["/period", "/stats", "/health/live"] {
            assert_eq!(
                call(&app, "GET", read, "", "").await.0,
                StatusCode::OK,
                "{read}"
            );
        }
        let (status, _, body) = put(Some("Bearer s3cret")).await;
        assert_eq!(
            (status, body["period_ms"].as_u64()),
            (StatusCode::OK, Some(100))
        );
        assert_eq!(
            format!("{:?}", token::Token::new("s3cret")),
            "Token([redacted])"
        );
    }

    #[test]
    fn the_client_is_idempotent_bounded_and_lingers_briefly() {
        let defaults = client_defaults();
        let value = |key: &str| {
            defaults
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(value("enable.idempotence"), Some("true"));
        assert_eq!(value("queue.buffering.max.messages"), Some("20000"));
        let linger: u64 = value("linger.ms").unwrap().parse().unwrap();
        assert!(linger <= 1, "linger.ms={linger}");
    }

    #[tokio::test]
    async fn period_can_be_read_and_changed() {
        let (app, period) = app();
        let (status, body) = call(&app, "GET", "/period", "", "").await;
        assert_eq!(
            (status, body["period_ms"].as_u64()),
            (StatusCode::OK, Some(1000))
        );
        let (status, body) = call(
            &app,
            "PUT",
            "/period",
            "application/json",
            r#"{"period_ms":100}"#,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (body["period_ms"].as_u64(), body["previous_ms"].as_u64()),
            (Some(100), Some(1000))
        );
        assert_eq!(*period.borrow(), Duration::from_millis(100));
    }

    #[tokio::test]
    async fn bad_bodies_get_json_4xx_and_change_nothing() {
        let (app, period) = app();
        let json = "application/json";
        let cases = [
            (
                "PUT",
                "/period",
                json,
                r#"{"period_ms":0}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                "/period",
                json,
                r#"{"period_ms":-1}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                "/period",
                json,
                r#"{"period_ms":"100"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                "/period",
                json,
                r#"{"period_ms":1.5}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                "/period",
                json,
                r#"{"period_ms":3600001}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                "/period",
                json,
                r#"{"period_ms":99999999999999999999999}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                "/period",
                json,
                r#"{"period":100}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "PUT",
                "/period",
                json,
                r#"{"period_ms":"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                "PUT",
                "/period",
                "text/plain",
                r#"{"period_ms":100}"#,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                "POST",
                "/period",
                json,
                r#"{"period_ms":100}"#,
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                "POST",
                "/burst",
                json,
                r#"{"count":0}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                "/burst",
                json,
                r#"{"count":1000001}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "POST",
                "/burst",
                json,
                r#"{"count":5}"#,
                StatusCode::CONFLICT,
            ),
            ("GET", "/nothing", "", "", StatusCode::NOT_FOUND),
        ];
        for (method, uri, ctype, body, expected) in cases {
            let (status, json) = call(&app, method, uri, ctype, body).await;
            assert_eq!(status, expected, "{method} {uri} {body}");
            assert!(json["error"].is_string(), "{method} {uri} {body}: {json}");
        }
        assert_eq!(*period.borrow(), Duration::from_millis(1000));
    }
}
