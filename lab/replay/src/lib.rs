//! `lab replay`: the real producer and consumers against a real broker, scaled by the
//! emulator from lag it measures the way KEDA does, driven by the run loop
//! ([`lab_model::run`]).
//!
//! Time: the scenario's clock runs `speed` times faster than the wall clock. The
//! emulator (KEDA and HPA) runs on the scenario clock with the ScaledObject's own
//! settings; the workload's clocks (producer period, processing time, commit interval)
//! are divided by `speed`. The broker's group timing (joins, rebalances) is not.
//!
//! Every event is accounted for: the producer and the consumers write ledgers, and
//! [`accounting`] compares them with the group's final committed offsets. The consumers'
//! ledgers also give each event's end-to-end delay, from its `time` to its processing
//! (the timeline's `event_delays`, as `lab simulate` measures them).
//!
//! Faults are real: a broker outage takes the embedded broker down (every connection
//! closed and refused) and brings it back; the lag reader then fails as KEDA's scaler
//! would, and the error it gets is what the emulator is told.

pub mod accounting;
pub mod cpu;
pub mod workload;

use anyhow::Context as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lab_kafka::embedded_broker::MockBroker;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use tokio_util::sync::CancellationToken;

use lab_kafka::offsets::OffsetReader;
use lab_model::emulator::{Millis, ScalingSpec};
use lab_model::run::{self, Observation, Watch, World, WARMUP_MS};
use lab_model::scenario::{Scenario, Span};
use lab_model::timeline::Timeline;
use workload::Workload;

/// How long the broker may take to answer before the replay gives up.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one lag read waits for the broker before it counts as failed (wall time): a
/// healthy read takes milliseconds; KEDA's scaler gives up after its own timeout.
const READ_TIMEOUT: Duration = Duration::from_secs(2);

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
    scenario: Scenario,
    workload: Workload,
    reader: Arc<OffsetReader>,
    /// The embedded broker (`None`: an external one, which the replay cannot stop).
    broker: Option<MockBroker>,
    /// When the broker is taken away, and whether it is away now.
    outages: Vec<Span>,
    down: bool,
    speed: u64,
    /// When scenario time 0 was (set when the warm-up ends), as an instant and in Unix
    /// ms (the ledgers' clock).
    started: Option<(Instant, u64)>,
    shutdown: CancellationToken,
    /// The consumers' CPU from /proc, for cpu and memory triggers.
    pods: Option<cpu::PodCpu>,
}

impl Replay {
    fn wall(&self, scenario_ms: Millis) -> Duration {
        Duration::from_micros(scenario_ms * 1000 / self.speed)
    }

    /// Sleeps until scenario time `until` (`false`: interrupted).
    async fn sleep_until(&self, until: Millis) -> bool {
        let wait = self.wall(until.saturating_sub(self.now()));
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = tokio::time::sleep(wait) => true,
        }
    }

    /// Takes the embedded broker away or brings it back, as the outages say for `now`.
    fn follow_outages(&mut self, now: Millis) -> anyhow::Result<()> {
        let down = self.outages.iter().any(|s| s.contains(now));
        if down == self.down {
            return Ok(());
        }
        let broker = self
            .broker
            .as_ref()
            .context("a broker outage needs the embedded broker")?;
        if down {
            broker.broker_down()?;
            tracing::warn!(t_ms = now, "broker outage: the embedded broker is down");
        } else {
            broker.broker_up()?;
            tracing::warn!(
                t_ms = now,
                "broker outage over: the embedded broker is back"
            );
        }
        self.down = down;
        Ok(())
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
        let shape = self.scenario.shape(0);
        self.workload
            .set_producer(period_ms, 0, shape, None)
            .await?;
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
        let shape = self.scenario.shape(phase);
        let burst = self.scenario.phases[phase].burst;
        self.workload
            .set_producer(period_ms, phase, shape, burst)
            .await
    }

    async fn observe(&mut self) -> anyhow::Result<Observation> {
        // An outage starting now starts before this read, as in `simulate`.
        self.follow_outages(self.now())?;
        let (now, speed) = (self.now(), self.speed);
        if let Some(pods) = &mut self.pods {
            pods.scrape_if_due(now, speed);
        }
        let reader = self.reader.clone();
        let read = tokio::task::spawn_blocking(move || reader.read_within(READ_TIMEOUT)).await?;
        Ok(match read {
            Ok(offsets) => Observation::Offsets(offsets),
            Err(e) => {
                tracing::warn!(error = %e, "lag read failed");
                Observation::Error(lab_kafka::offsets::scaler_error(&e))
            }
        })
    }

    async fn scale(&mut self, replicas: u32) -> anyhow::Result<()> {
        self.workload.scale_consumers(replicas).await
    }

    fn running(&self) -> u32 {
        self.workload.running()
    }

    /// Sleeps until `until`, taking the broker away and back at the outages' edges on the
    /// way.
    async fn advance(&mut self, until: Millis) -> anyhow::Result<bool> {
        loop {
            let now = self.now();
            self.follow_outages(now)?;
            let edge = self
                .outages
                .iter()
                .flat_map(|s| [s.start, s.end])
                .filter(|e| *e > now && *e < until)
                .min();
            let Some(edge) = edge else {
                return Ok(self.sleep_until(until).await);
            };
            if !self.sleep_until(edge).await {
                return Ok(false);
            }
        }
    }

    fn expired(&self) -> u64 {
        self.workload.failed()
    }

    fn pods(&mut self) -> Option<Vec<lab_model::emulator::PodMetric>> {
        let replicas = self.workload.running();
        self.pods.as_ref().map(|p| p.readings(replicas))
    }

    /// None yet: the replay reads them from the consumers' ledgers once the workload has
    /// stopped ([`run`]), when every line is written.
    fn event_delays(&mut self) -> Vec<Millis> {
        Vec::new()
    }
}

/// Runs the replay until its end or until `shutdown`; returns what it recorded.
/// Runs the replay, telling `watch` each sample and decision as they come.
pub async fn run(
    setup: Setup,
    shutdown: CancellationToken,
    watch: &mut dyn Watch,
) -> anyhow::Result<Outcome> {
    let Setup {
        scenario,
        spec,
        brokers,
        speed,
        ledger_dir,
    } = setup;
    replayable(&scenario, brokers.is_some(), speed)?;
    lab_model::simulate::check_triggers(&scenario, &spec)?;
    let mut notes = Vec::new();
    let (embedded, brokers, topic, group) = match brokers {
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
    notes.push(match speed_warning(speed) {
        Some(warning) => format!("speed: {speed}x: {warning}"),
        None => "speed: 1x, as on a cluster".into(),
    });
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
    let outages = scenario.outages();
    let mut replay = Replay {
        scenario: scenario.clone(),
        broker: embedded,
        outages,
        down: false,
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
        pods: spec.triggers.has_resources().then(cpu::PodCpu::new),
    };
    let result = run::drive(
        &scenario,
        &spec,
        &mut replay,
        watch,
        "replay",
        run::Keep::Everything,
    )
    .await;
    eprintln!("stopping the workload (producer flush, consumers commit and leave)...");
    let epoch_ms = replay.started.map(|(_, ms)| ms);
    if replay.down {
        // Interrupted during an outage: the broker comes back for the final commits.
        replay.follow_outages(Millis::MAX)?;
    }
    let failed = replay.workload.shutdown().await;
    let mut timeline = result?;
    timeline.expired = failed;
    let final_offsets = {
        let reader = replay.reader.clone();
        tokio::task::spawn_blocking(move || reader.read()).await??
    };
    let accounting = ledgers.account(&timeline, epoch_ms, speed, &final_offsets)?;
    if let Some(epoch) = epoch_ms {
        // Up to the last second sampled: the scenario's end, or where it was interrupted.
        let end = timeline
            .samples
            .last()
            .map_or(0, |s| (s.t * 1000.0) as Millis + run::SAMPLE_MS)
            .min(scenario.seconds() * 1000);
        timeline.event_delays = ledgers.delays(epoch, speed, end)?;
    }
    Ok(Outcome {
        timeline,
        notes,
        accounting,
    })
}

/// What a replay at `speed` distorts, in words (`None` at 1x). The producer's period, the
/// processing time, the commit interval, pod starts and KEDA's and the HPA's clocks are
/// divided by `speed`; the broker's group timing is not (a rebalance on the embedded
/// broker waits about the session timeout less 1 s, 5 s at 6000 ms).
pub fn speed_warning(speed: u64) -> Option<String> {
    (speed > 1).then(|| {
        format!(
            "the broker's group timing (joins, rebalances, session timeouts) does not speed up, so \
             every rebalance lasts {speed} times longer in scenario time and piles up that much more \
             lag: the replica counts are not the scenario's (for a short replay that keeps them, \
             use --quick, or a scenario with shorter phases, at 1x)"
        )
    })
}

/// Refuses what a replay cannot do for real, naming the scenario field.
fn replayable(scenario: &Scenario, external: bool, speed: u64) -> anyhow::Result<()> {
    if scenario.history.is_some() {
        anyhow::bail!(
            "history: `lab simulate` only. A replay would need the broker to delete records by \
             retention on demand; the embedded mock cluster has no DeleteRecords and trims a \
             partition only past 5 MiB (librdkafka rd_kafka_mock_partition_init)"
        );
    }
    for (i, phase) in scenario.phases.iter().enumerate() {
        anyhow::ensure!(
            phase.scaler_error.is_none(),
            "phases[{i}].scaler_error: `lab simulate` only; in a replay KEDA's scaler errors are \
             the broker's own (use broker_outage)"
        );
        if let Some(w) = phase.broker_outage {
            anyhow::ensure!(
                !external,
                "phases[{i}].broker_outage: needs the embedded broker (the replay cannot take \
                 an external broker away); run without --brokers"
            );
            // The producer's message.timeout.ms is wall time: it does not speed up.
            let timeout = ::workload::DELIVERY_TIMEOUT;
            anyhow::ensure!(
                u128::from(w.seconds * 1000 / speed) < timeout.as_millis(),
                "phases[{i}].broker_outage: {} s at {speed}x is not under the producer's \
                 message.timeout.ms ({} s of wall time): events held that long fail undelivered \
                 (`lab simulate` shows what that does)",
                w.seconds,
                timeout.as_secs()
            );
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use lab_model::scenario::{ErrorWindow, History, Window};

    /// What the replay cannot do for real is refused, naming the field.
    #[test]
    fn the_replay_refuses_what_it_cannot_do_for_real() {
        let mut s = Scenario::published().unwrap();
        s.history = Some(History {
            events: 10,
            retained: 0,
        });
        assert!(replayable(&s, false, 1)
            .unwrap_err()
            .to_string()
            .starts_with("history: `lab simulate` only"));
        let mut s = Scenario::published().unwrap();
        s.phases[1].scaler_error = Some(ErrorWindow {
            error: lab_model::emulator::ScalerError::CoordinatorMoving,
            after_s: 0,
            seconds: 10,
        });
        assert!(replayable(&s, false, 1)
            .unwrap_err()
            .to_string()
            .starts_with("phases[1].scaler_error"));
        let mut s = Scenario::published().unwrap();
        s.phases[2].broker_outage = Some(Window {
            after_s: 0,
            seconds: 40,
        });
        assert!(replayable(&s, true, 2)
            .unwrap_err()
            .to_string()
            .contains("needs the embedded broker"));
        let err = replayable(&s, false, 1).unwrap_err().to_string();
        assert!(
            err.contains("40 s at 1x is not under the producer's message.timeout.ms"),
            "{err}"
        );
        assert!(replayable(&s, false, 2).is_ok(), "20 s of wall time at 2x");
    }
}
