//! `lab replay`: the real producer and consumers against a real broker, scaled by the
//! emulator from lag it measures the way KEDA does, driven by the run loop
//! ([`crate::run`]).
//!
//! Time: the scenario's clock runs `speed` times faster than the wall clock. The
//! emulator (KEDA and HPA) runs on the scenario clock with the ScaledObject's own
//! settings; the workload's clocks (producer period, processing time, commit interval)
//! are divided by `speed`. The broker's group timing (joins, rebalances) is not.
//!
//! Every event is accounted for: the producer and the consumers write ledgers, and
//! [`accounting`] compares them with the group's final committed offsets.

pub mod live;
pub mod workload;

use anyhow::Context as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::embedded_broker::MockBroker;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use tokio_util::sync::CancellationToken;

use crate::emulator::{Millis, Offsets, ScalingSpec};
use crate::offsets::OffsetReader;
use crate::run::{self, World, WARMUP_MS};
use crate::scenario::Scenario;
use crate::timeline::Timeline;
use live::LiveView;
use workload::Workload;

/// How long the broker may take to answer before the replay gives up.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the replay runs.
pub struct Setup {
    pub scenario: Scenario,
    pub spec: ScalingSpec,
    /// An external broker; `None` starts the embedded one.
    pub brokers: Option<String>,
    pub speed: u64,
    /// Where the producer's and consumers' ledgers go.
    pub ledger_dir: PathBuf,
}

/// What a replay leaves: the timeline, notes for the summary, and the accounting.
pub struct Outcome {
    pub timeline: Timeline,
    pub notes: Vec<String>,
    pub accounting: crate::accounting::Accounting,
}

/// The real workload, the lag reader and the scenario clock.
struct Replay {
    workload: Workload,
    reader: Arc<OffsetReader>,
    speed: u64,
    /// When scenario time 0 was (set when the warm-up ends), as an instant and in Unix
    /// ms (the ledgers' clock).
    started: Option<(Instant, u64)>,
    shutdown: CancellationToken,
}

impl Replay {
    fn wall(&self, scenario_ms: Millis) -> Duration {
        Duration::from_micros(scenario_ms * 1000 / self.speed)
    }
}

impl World for Replay {
    fn now(&self) -> Millis {
        self.started.map_or(0, |(s, _)| {
            s.elapsed().as_micros() as u64 * self.speed / 1000
        })
    }

    async fn warm_up(&mut self, period_ms: Option<u64>, replicas: u32) -> anyhow::Result<()> {
        // The demo was already running: the group has committed every partition and its
        // replicas have joined before the clock starts.
        let reader = self.reader.clone();
        let zeros = vec![0i64; reader.partitions() as usize];
        tokio::task::spawn_blocking(move || reader.commit(&zeros)).await??;
        self.workload.scale_consumers(replicas).await?;
        eprintln!("waiting for {replicas} consumer replica(s) to join the group...");
        self.workload.wait_ready(Duration::from_secs(60)).await?;
        self.workload.set_producer(period_ms, 0).await?;
        let warmup = self.wall(WARMUP_MS);
        eprintln!("warming up for {warmup:?} at the first phase's rate before the clock starts...");
        tokio::select! {
            _ = self.shutdown.cancelled() => {}
            _ = tokio::time::sleep(warmup) => {}
        }
        self.started = Some((Instant::now(), common::event::now_millis()));
        Ok(())
    }

    async fn set_producer(&mut self, period_ms: Option<u64>, phase: usize) -> anyhow::Result<()> {
        self.workload.set_producer(period_ms, phase).await
    }

    async fn offsets(&mut self) -> anyhow::Result<Vec<Offsets>> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || reader.read()).await?
    }

    async fn scale(&mut self, replicas: u32) -> anyhow::Result<()> {
        self.workload.scale_consumers(replicas).await
    }

    fn running(&self) -> u32 {
        self.workload.running()
    }

    async fn advance(&mut self, until: Millis) -> anyhow::Result<bool> {
        let wait = self.wall(until.saturating_sub(self.now()));
        tokio::select! {
            _ = self.shutdown.cancelled() => Ok(false),
            _ = tokio::time::sleep(wait) => Ok(true),
        }
    }
}

/// Runs the replay until its end or until `shutdown`; returns what it recorded.
pub async fn run(setup: Setup, shutdown: CancellationToken) -> anyhow::Result<Outcome> {
    let Setup {
        scenario,
        spec,
        brokers,
        speed,
        ledger_dir,
    } = setup;
    let mut notes = Vec::new();
    let (_embedded, brokers, topic, group) = match brokers {
        None => {
            let broker = MockBroker::start().context("embedded broker")?;
            broker
                .create_topic("event", scenario.partitions as i32)
                .context("embedded broker: creating topic event")?;
            let brokers = broker.bootstrap().to_owned();
            notes.push(format!(
                "broker: the embedded librdkafka mock cluster at {brokers}"
            ));
            (
                Some(broker),
                brokers,
                "event".to_owned(),
                "event".to_owned(),
            )
        }
        Some(brokers) => {
            let topic = format!("event-lab-{:08x}", rand::random::<u32>());
            create_topic(&brokers, &topic, scenario.partitions as i32).await?;
            notes.push(format!("broker: {brokers} (external), topic {topic}"));
            (None, brokers, topic.clone(), topic)
        }
    };
    notes.push(format!(
        "speed: {speed}x (the broker's group timing does not speed up)"
    ));
    let reader = {
        let (b, g, t) = (brokers.clone(), group.clone(), topic.clone());
        tokio::task::spawn_blocking(move || {
            OffsetReader::connect(&b, &Default::default(), &g, &t, BROKER_TIMEOUT)
        })
        .await??
    };
    std::fs::create_dir_all(&ledger_dir)
        .with_context(|| format!("cannot create {}", ledger_dir.display()))?;
    let ledgers = crate::accounting::Ledgers::in_dir(&ledger_dir);
    ledgers.clear()?;
    let mut replay = Replay {
        workload: Workload::new(
            &brokers,
            &topic,
            &group,
            scenario.consumer.clone(),
            speed,
            scenario.start_replicas,
            ledgers.clone(),
        ),
        reader: Arc::new(reader),
        speed,
        started: None,
        shutdown,
    };
    let mut live = LiveView::new(scenario.seconds() as f64);
    let result = run::drive(&scenario, &spec, &mut replay, &mut live, "replay").await;
    live.finish();
    eprintln!("stopping the workload (producer flush, consumers commit and leave)...");
    let epoch_ms = replay.started.map(|(_, ms)| ms);
    replay.workload.shutdown().await;
    let timeline = result?;
    let final_offsets = {
        let reader = replay.reader.clone();
        tokio::task::spawn_blocking(move || reader.read()).await??
    };
    let accounting = ledgers.account(&timeline, epoch_ms, speed, &final_offsets)?;
    Ok(Outcome {
        timeline,
        notes,
        accounting,
    })
}

/// Creates the topic on an external broker (CreateTopics); an existing topic is fine.
async fn create_topic(brokers: &str, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let options = AdminOptions::new()
        .request_timeout(Some(BROKER_TIMEOUT))
        .operation_timeout(Some(BROKER_TIMEOUT));
    let results = tokio::time::timeout(
        BROKER_TIMEOUT + Duration::from_secs(1),
        admin.create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &options,
        ),
    )
    .await
    .map_err(|_| anyhow::anyhow!("broker {brokers} did not answer within {BROKER_TIMEOUT:?}"))??;
    for result in results {
        match result {
            Ok(_) => {}
            Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, err)) => anyhow::bail!("creating topic {name} on {brokers}: {err}"),
        }
    }
    Ok(())
}
