//! `lab replay`: the real producer and consumers against a real broker, scaled by the
//! emulator from lag it measures the way KEDA does.
//!
//! Time: the scenario's clock runs `speed` times faster than the wall clock. The
//! emulator (KEDA and HPA) runs on the scenario clock with the ScaledObject's own
//! settings; the workload's clocks (producer period, processing time, commit interval)
//! are divided by `speed`. The broker's group timing (joins, rebalances) is not.

pub mod lag;
pub mod live;
pub mod workload;

use std::time::{Duration, Instant};

use common::embedded_broker::MockBroker;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use tokio_util::sync::CancellationToken;

use crate::emulator::{Autoscaler, Controller, ScalingSpec};
use crate::report::timeline::{Sample, Timeline};
use crate::scenario::Scenario;
use lag::LagReader;
use live::LiveView;
use workload::Workload;

/// Scenario time between two samples, ms.
const SAMPLE_MS: u64 = 1000;
/// How long the workload runs at the first phase's rate before the clock starts, ms of
/// scenario time (the published run started from a demo already running).
const WARMUP_MS: u64 = 20_000;
/// How long the broker may take to answer before the replay gives up.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the replay runs.
pub struct Setup {
    pub scenario: Scenario,
    pub spec: ScalingSpec,
    /// An external broker; `None` starts the embedded one.
    pub brokers: Option<String>,
    pub speed: u64,
}

/// Runs the replay until its end or until `shutdown`; returns what it recorded.
pub async fn run(
    setup: Setup,
    shutdown: CancellationToken,
) -> anyhow::Result<(Timeline, Vec<String>)> {
    let Setup {
        scenario,
        spec,
        brokers,
        speed,
    } = setup;
    let mut notes = Vec::new();
    let suffix = &uuid_like();
    let (_embedded, brokers, topic, group) = match brokers {
        None => {
            let broker =
                MockBroker::start().map_err(|e| anyhow::anyhow!("embedded broker: {e}"))?;
            broker
                .create_topic("event", scenario.partitions as i32)
                .map_err(|e| anyhow::anyhow!("embedded broker: creating topic event: {e}"))?;
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
            let topic = format!("event-lab-{suffix}");
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
        tokio::task::spawn_blocking(move || LagReader::connect(&b, &g, &t, BROKER_TIMEOUT))
            .await??
    };
    let reader = std::sync::Arc::new(reader);

    let mut timeline = Timeline::new(scenario.clone(), "replay");
    let mut autoscaler = Autoscaler::new(spec, scenario.start_replicas);
    let mut workload = Workload::new(
        &brokers,
        &topic,
        &group,
        scenario.consumer.clone(),
        speed,
        scenario.start_replicas,
    );
    // Warm start: the demo was already running. The group has committed every partition
    // and its replicas have joined before the clock starts.
    {
        let reader = reader.clone();
        let zeros = vec![0i64; reader.partitions() as usize];
        tokio::task::spawn_blocking(move || reader.commit(&zeros)).await??;
    }
    workload.scale_consumers(scenario.start_replicas).await?;
    eprintln!(
        "waiting for {} consumer replica(s) to join group {group}...",
        scenario.start_replicas
    );
    workload.wait_ready(Duration::from_secs(60)).await?;
    workload
        .set_producer(scenario.phases[0].producer_period_ms, 0)
        .await?;
    let warmup = Duration::from_micros(WARMUP_MS * 1000 / speed);
    eprintln!("warming up for {warmup:?} at the first phase's rate before the clock starts...");
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = tokio::time::sleep(warmup) => {}
    }
    let mut live = LiveView::new(scenario.seconds() as f64);
    let end_ms = scenario.seconds() * 1000;
    let started = Instant::now();
    let scenario_now = || (started.elapsed().as_micros() as u64 * speed / 1000).min(end_ms);
    // Phase 0's producer already runs (warm-up).
    let (mut current_phase, mut next_sample, mut last_hpa) =
        (0usize, 0u64, scenario.start_replicas);
    let mut produced_at_sample: Option<(u64, i64)> = None;

    let result: anyhow::Result<()> = async {
        loop {
            let now = scenario_now();
            if now >= end_ms {
                break;
            }
            let phase = timeline.phase_at(now as f64 / 1000.0);
            if phase != current_phase {
                current_phase = phase;
                workload
                    .set_producer(scenario.phases[phase].producer_period_ms, phase)
                    .await?;
            }
            let offsets = {
                let reader = reader.clone();
                tokio::task::spawn_blocking(move || reader.read()).await??
            };
            for d in autoscaler.evaluate(now, &offsets) {
                let before = timeline
                    .decisions
                    .last()
                    .map_or(scenario.start_replicas, |p| p.replicas);
                live.decision(&d, before);
                if d.by == Controller::Hpa {
                    last_hpa = d.desired;
                }
                timeline.decisions.push(d);
            }
            workload.scale_consumers(autoscaler.replicas()).await?;
            if now >= next_sample {
                let end_total: i64 = offsets.iter().map(|o| o.end).sum();
                let rate = match produced_at_sample {
                    Some((t, total)) if now > t => {
                        (end_total - total) as f64 * 1000.0 / (now - t) as f64
                    }
                    _ => 0.0,
                };
                produced_at_sample = Some((now, end_total));
                let reading =
                    crate::emulator::scaler::KafkaScaler::new(autoscaler.spec().trigger.clone())
                        .read(&offsets);
                let sample = Sample {
                    t: now as f64 / 1000.0,
                    phase,
                    period_ms: scenario.phases[phase].producer_period_ms.unwrap_or(0),
                    produced_per_s: rate,
                    total_lag: reading.total_lag,
                    metric: reading.metric,
                    active: reading.active,
                    hpa_desired: last_hpa,
                    replicas: autoscaler.replicas(),
                    running: workload.running(),
                };
                live.sample(&sample, &scenario.phases[phase].name, scenario.phases.len());
                timeline.samples.push(sample);
                next_sample = (now / SAMPLE_MS + 1) * SAMPLE_MS;
            }
            let next_phase = timeline
                .phase_starts
                .iter()
                .map(|s| (*s * 1000.0) as u64)
                .find(|s| *s > now)
                .unwrap_or(end_ms);
            let wake = next_sample
                .min(autoscaler.next_due())
                .min(next_phase)
                .min(end_ms);
            let wait = Duration::from_micros(wake.saturating_sub(scenario_now()) * 1000 / speed);
            tokio::select! {
                _ = shutdown.cancelled() => {
                    timeline.interrupted = true;
                    break;
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
        Ok(())
    }
    .await;
    live.finish();
    eprintln!("stopping the workload (producer flush, consumers commit and leave)...");
    workload.shutdown().await;
    result?;
    Ok((timeline, notes))
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

fn uuid_like() -> String {
    format!("{:08x}", rand::random::<u32>())
}
