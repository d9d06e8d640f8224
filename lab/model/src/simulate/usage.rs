//! The simulated workload with what a cpu or memory trigger needs of it: each replica
//! pod's CPU from the events it processes (`consumer.usage.cpu_busy_millicores` while an
//! event is processed, `cpu_idle_millicores` otherwise) and its working set from the
//! events waiting in its partitions (`memory_base_mib` plus `memory_per_event_bytes` each,
//! up to the consumer's 2 MiB prefetch bound), scraped by metrics-server every 15 s
//! ([`crate::emulator::pipeline`]). Without a cpu or memory trigger nothing is scraped.
//!
//! Also what a run can and cannot feed the ScaledObject's other triggers: a value for
//! each value trigger in every phase, and one consumer group on one topic.

use crate::emulator::pipeline::{MetricsServer, PodUsage};
use crate::emulator::triggers::Source;
use crate::emulator::{Millis, PodMetric, ScalingSpec};
use crate::run::WARMUP_MS;
use crate::scenario::{Scenario, Usage};

use super::model::Model;

/// The consumer's prefetch bound, KiB (consumer/src/lib.rs PREFETCH_KIB, its
/// `queued.max.messages.kbytes`; the lab's tests hold the two equal).
pub const PREFETCH_KIB: u32 = 2048;
const PREFETCH_BYTES: i64 = PREFETCH_KIB as i64 * 1024;

/// The model and, with a cpu or memory trigger, metrics-server's view of its pods.
pub(super) struct Sim {
    pub(super) model: Model,
    /// `None` without cpu or memory triggers.
    metrics: Option<(MetricsServer, Usage, Millis)>,
}

impl Sim {
    pub(super) fn new(model: Model, scenario: &Scenario, spec: &ScalingSpec) -> Self {
        let metrics = spec.triggers.has_resources().then(|| {
            (
                MetricsServer::new(),
                scenario.consumer.usage,
                scenario.consumer.processing_ms,
            )
        });
        Self { model, metrics }
    }

    /// Steps to scenario time `until`, scraping on metrics-server's grid on the way.
    pub(super) fn advance_to(&mut self, until: Millis) {
        while let Some(next) = self
            .metrics
            .as_ref()
            .map(|(m, _, _)| m.next_scrape())
            .filter(|next| *next <= until)
        {
            self.model.advance_to(WARMUP_MS + next);
            self.scrape(next);
        }
        self.model.advance_to(WARMUP_MS + until);
    }

    fn scrape(&mut self, at: Millis) {
        let Some((server, usage, processing_ms)) = &mut self.metrics else {
            return;
        };
        let pods: Vec<PodUsage> = self
            .model
            .pods()
            .map(|(id, joins_at, member, processed, waiting)| {
                let started = joins_at.saturating_sub(WARMUP_MS);
                let busy_ms = processed * *processing_ms * usage.cpu_busy_millicores / 1000;
                let idle_ms = at.saturating_sub(started) * usage.cpu_idle_millicores / 1000;
                let backlog =
                    (waiting.max(0) * usage.memory_per_event_bytes as i64).min(PREFETCH_BYTES);
                PodUsage {
                    id,
                    started_at: member.then_some(started),
                    cpu_ms: busy_ms + idle_ms,
                    memory_bytes: ((usage.memory_base_mib as i64) << 20) + backlog,
                }
            })
            .collect();
        server.scrape(at, pods);
    }

    /// What the HPA reads for the replicas now.
    pub(super) fn readings(&self) -> Vec<PodMetric> {
        let Some((server, _, _)) = &self.metrics else {
            return Vec::new();
        };
        server.readings(self.model.pods().map(|(id, joins_at, member, _, _)| {
            (id, member.then(|| joins_at.saturating_sub(WARMUP_MS)))
        }))
    }
}

/// Refuses what a run (simulated or replayed) cannot feed: a value trigger a phase gives
/// no value for, another Kafka trigger reading another group or topic.
pub fn check(scenario: &Scenario, spec: &ScalingSpec) -> anyhow::Result<()> {
    let t = &spec.triggers;
    for other in &t.others {
        if matches!(other.source, Source::Kafka(_)) && other.reads != t.kafka_reads {
            anyhow::bail!(
                "spec.triggers[{}] reads {} and the first Kafka trigger {}: lab simulate and lab replay run one consumer group on one topic (lab plan replays a trace that records both)",
                other.index,
                other.reads,
                t.kafka_reads
            );
        }
    }
    for phase in &scenario.phases {
        let missing = crate::inputs::missing_values(t, &phase.trigger_values);
        anyhow::ensure!(
            missing.is_empty(),
            "phase {:?} gives no value for trigger {}: add trigger_values: {{{}: <value>}} to the phase",
            phase.name,
            missing.join(", "),
            missing[0]
        );
    }
    Ok(())
}
