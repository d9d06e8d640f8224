//! The real workload, in this process: the producer and each consumer replica run the
//! binaries' library code (`producer::run`, `consumer::run`) as tasks, each replica with
//! its own Kafka client in the group, each on its own loopback HTTP port. Starting a
//! replica is a pod starting; stopping one is a SIGTERM (drain, commit, leave). The
//! producer and every replica write ledgers ([`crate::accounting`]).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::config::Env;
use common::kafka::KafkaSettings;
use common::service::HttpSettings;
use consumer::config::{ConsumerConfig, OffsetReset};
use producer::ProducerConfig;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::accounting::Ledgers;
use lab_model::scenario::ConsumerModel;

const LOOPBACK: HttpSettings = HttpSettings {
    address: IpAddr::V4(Ipv4Addr::LOCALHOST),
    port: 0,
};

struct Running<T> {
    stop: CancellationToken,
    task: JoinHandle<anyhow::Result<T>>,
    /// Where its health routes answer.
    address: std::net::SocketAddr,
}

/// The producer (zero or one) and the consumer replicas.
pub struct Workload {
    brokers: String,
    topic: String,
    group: String,
    speed: u64,
    consumer: ConsumerModel,
    producer: Option<Running<producer::DeliveryReport>>,
    replicas: Vec<Running<consumer::ConsumeReport>>,
    stopping: Vec<JoinHandle<anyhow::Result<consumer::ConsumeReport>>>,
    started: u32,
    /// Replicas running when the scenario starts (no pod start delay for them).
    initial: u32,
    ledgers: Ledgers,
    /// Events the producers that stopped gave up on (not delivered in
    /// `message.timeout.ms`).
    failed: u64,
}

/// `ms` of scenario time in wall time.
fn scaled(ms: u64, speed: u64) -> Duration {
    Duration::from_micros(ms * 1000 / speed)
}

impl Workload {
    pub fn new(
        brokers: &str,
        topic: &str,
        group: &str,
        consumer: ConsumerModel,
        speed: u64,
        initial: u32,
        ledgers: Ledgers,
    ) -> Self {
        Self {
            brokers: brokers.to_owned(),
            topic: topic.to_owned(),
            group: group.to_owned(),
            speed,
            consumer,
            producer: None,
            replicas: Vec::new(),
            stopping: Vec::new(),
            started: 0,
            initial,
            ledgers,
            failed: 0,
        }
    }

    /// The client settings; `passthrough` as `KAFKA_EXTRA_*` would give them.
    fn settings(
        &self,
        client_id: String,
        passthrough: &[(&str, &str)],
    ) -> anyhow::Result<KafkaSettings> {
        let env = Env::from_pairs(
            passthrough
                .iter()
                .map(|(k, v)| (format!("{}{k}", common::kafka::EXTRA_PREFIX), *v)),
        );
        Ok(KafkaSettings::new(self.brokers.clone(), client_id, &env)?)
    }

    /// Events the producers gave up on so far.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Replaces the producer (a new pod, as `kubectl edit` makes) or deletes it. The new
    /// one spreads its events as `shape` says and first sends `burst` events at once.
    pub async fn set_producer(
        &mut self,
        period_ms: Option<u64>,
        generation: usize,
        shape: workload::shape::Shape,
        burst: Option<u64>,
    ) -> anyhow::Result<()> {
        if let Some(old) = self.producer.take() {
            old.stop.cancel();
            if let Ok(Ok(report)) = old.task.await {
                self.failed += report.failed;
            }
        }
        let Some(period_ms) = period_ms else {
            return Ok(());
        };
        let source = format!("producer-{generation}");
        let config = ProducerConfig {
            topic: self.topic.clone(),
            kafka: self.settings(format!("lab-{source}"), &[])?,
            period: scaled(period_ms, self.speed).max(Duration::from_millis(1)),
            flush_timeout: Duration::from_secs(5),
            source,
            ledger: Some(self.ledgers.producer.clone()),
            http: LOOPBACK,
            http_token: None,
            shape,
        };
        let listener = TcpListener::bind(LOOPBACK.socket_addr()).await?;
        let address = listener.local_addr()?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(producer::run(config, listener, stop.clone()));
        if let Some(count) = burst {
            post_burst(address, count).await?;
        }
        self.producer = Some(Running {
            stop,
            task,
            address,
        });
        Ok(())
    }

    /// Starts or stops replicas (newest first) until `wanted` run.
    pub async fn scale_consumers(&mut self, wanted: u32) -> anyhow::Result<()> {
        while (self.replicas.len() as u32) < wanted {
            self.started += 1;
            let instance = format!("consumer-{}", self.started);
            let c = &self.consumer;
            let config = ConsumerConfig {
                topics: vec![self.topic.clone()],
                kafka: self.settings(
                    format!("lab-{instance}"),
                    &[("partition.assignment.strategy", c.assignment.strategy())],
                )?,
                group_id: self.group.clone(),
                processing_time: scaled(c.processing_ms, self.speed),
                commit_interval: scaled(c.commit_interval_ms, self.speed)
                    .max(Duration::from_millis(1)),
                // Group timing is the broker's: it does not speed up.
                session_timeout: Some(Duration::from_millis(c.session_timeout_ms)),
                offset_reset: OffsetReset::Earliest,
                close_timeout: Duration::from_secs(10),
                instance,
                ledger: Some(self.ledgers.consumers.clone()),
                http: LOOPBACK,
                stuck_partitions: c.stuck_partition.map(|p| p as i32).into_iter().collect(),
            };
            let listener = TcpListener::bind(LOOPBACK.socket_addr()).await?;
            let address = listener.local_addr()?;
            let stop = CancellationToken::new();
            // Pods do not start in lockstep: each new replica waits 0.5x..1.5x the pod
            // start time (the replicas present at the start are already running).
            let delay = if self.started <= self.initial {
                Duration::ZERO
            } else {
                let pod_start = self.consumer.pod_start_ms;
                scaled(
                    rand::random_range(pod_start / 2..=pod_start + pod_start / 2),
                    self.speed,
                )
            };
            let token = stop.clone();
            let task = tokio::spawn(async move {
                tokio::select! {
                    _ = token.cancelled() => return Ok(consumer::ConsumeReport::default()),
                    _ = tokio::time::sleep(delay) => {}
                }
                consumer::run(config, listener, token).await
            });
            self.replicas.push(Running {
                stop,
                task,
                address,
            });
        }
        while (self.replicas.len() as u32) > wanted {
            let leaving = self.replicas.pop().expect("more replicas than wanted");
            leaving.stop.cancel();
            self.stopping.push(leaving.task);
        }
        self.stopping.retain(|t| !t.is_finished());
        Ok(())
    }

    /// Waits until every replica answers 200 on /health/ready (it has joined the group).
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        for replica in &self.replicas {
            while !ready(replica.address).await {
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "consumer replicas did not join the group within {timeout:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// Consumers whose task still runs (including those draining).
    pub fn running(&self) -> u32 {
        (self
            .replicas
            .iter()
            .filter(|r| !r.task.is_finished())
            .count()
            + self.stopping.iter().filter(|t| !t.is_finished()).count()) as u32
    }

    /// Stops everything and waits for the drains.
    pub async fn shutdown(mut self) -> u64 {
        let _ = self.set_producer(None, 0, Default::default(), None).await;
        let _ = self.scale_consumers(0).await;
        for task in self.stopping {
            let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        }
        self.failed
    }
}

/// Asks the producer at `address` for a burst of `count` events (`POST /burst`); its
/// server may still be starting, so connecting is retried for a few seconds.
async fn post_burst(address: std::net::SocketAddr, count: u64) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = format!("{{\"count\": {count}}}");
    let request = format!(
        "POST /burst HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = async {
            let mut stream = tokio::net::TcpStream::connect(address).await?;
            stream.write_all(request.as_bytes()).await?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await?;
            Ok::<String, std::io::Error>(answer)
        };
        match attempt.await {
            Ok(answer)
                if answer.starts_with("HTTP/1.0 202") || answer.starts_with("HTTP/1.1 202") =>
            {
                return Ok(())
            }
            Ok(answer) => anyhow::bail!(
                "the producer refused the burst of {count}: {}",
                answer.lines().last().unwrap_or_default()
            ),
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => anyhow::bail!("the producer at {address} did not take the burst: {e}"),
        }
    }
}

/// Whether the service at `address` answers 200 on `/health/ready`.
async fn ready(address: std::net::SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream
            .write_all(b"GET /health/ready HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<bool, std::io::Error>(head.ends_with(b"200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), attempt).await,
        Ok(Ok(true))
    )
}
