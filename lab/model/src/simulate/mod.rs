//! `lab simulate`: the scenario in virtual time with a model of the workload, no broker,
//! driven by the same run loop as the replay ([`crate::run`]). The model itself is in
//! [`model`]; this module is its face to the run loop and the many-seed summary.
//!
//! Deterministic for a given seed.

pub mod jobs;
mod model;
mod ready;
mod usage;

use std::collections::BTreeMap;

use crate::emulator::{Millis, PodMetric, ScalingSpec};
use crate::run::{self, Observation, World, WARMUP_MS};
use crate::scenario::Scenario;
use crate::timeline::Timeline;
use model::Model;
use usage::Sim;
pub use usage::{check as check_triggers, PREFETCH_KIB};

/// Runs `scenario` against the emulator configured by `spec`.
pub fn run(scenario: &Scenario, spec: &ScalingSpec, seed: u64) -> anyhow::Result<Timeline> {
    usage::check(scenario, spec)?;
    let mut model = Sim::new(Model::new(scenario, seed), scenario, spec);
    futures::executor::block_on(run::drive(
        scenario,
        spec,
        &mut model,
        &mut run::Unwatched,
        "simulate",
        run::Keep::Everything,
    ))
}

/// Runs `scenario` keeping its samples and decisions but no trace lines (a chart's run:
/// a trace line holds every partition's offsets).
pub fn samples(scenario: &Scenario, spec: &ScalingSpec, seed: u64) -> anyhow::Result<Timeline> {
    usage::check(scenario, spec)?;
    let mut model = Sim::new(Model::new(scenario, seed), scenario, spec);
    futures::executor::block_on(run::drive(
        scenario,
        spec,
        &mut model,
        &mut run::Unwatched,
        "simulate",
        run::Keep::Samples,
    ))
}

/// Runs `scenario` telling `watch` each sample and decision, keeping nothing else but the
/// events' delays (in the returned timeline): what a tune's figures need of a run.
pub fn watched(
    scenario: &Scenario,
    spec: &ScalingSpec,
    seed: u64,
    watch: &mut dyn run::Watch,
) -> anyhow::Result<Timeline> {
    usage::check(scenario, spec)?;
    let mut model = Sim::new(Model::new(scenario, seed), scenario, spec);
    futures::executor::block_on(run::drive(
        scenario,
        spec,
        &mut model,
        watch,
        "simulate",
        run::Keep::Watched,
    ))
}

/// How often each phase settled at each replica count over seeds 1..=n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spread {
    /// Per phase: replica count -> seeds.
    pub counts: Vec<BTreeMap<u32, u64>>,
    /// Seeds whose every phase matched its published count.
    pub all_as_published: u64,
}

pub fn robustness(scenario: &Scenario, spec: &ScalingSpec, n: u64) -> anyhow::Result<Spread> {
    let mut counts = vec![BTreeMap::<u32, u64>::new(); scenario.phases.len()];
    let mut all_as_published = 0;
    for seed in 1..=n {
        let timeline = run(scenario, spec, seed)?;
        let mut all = true;
        for (i, phase) in scenario.phases.iter().enumerate() {
            let settled = timeline.outcome(i).map(|o| o.settled);
            if let Some(settled) = settled {
                *counts[i].entry(settled).or_default() += 1;
            }
            all &= phase.published.is_none() || phase.published == settled;
        }
        all_as_published += u64::from(all);
    }
    Ok(Spread {
        counts,
        all_as_published,
    })
}

impl World for Sim {
    fn now(&self) -> Millis {
        self.model.clock().saturating_sub(WARMUP_MS)
    }

    async fn warm_up(&mut self, period_ms: Option<u64>, replicas: u32) -> anyhow::Result<()> {
        self.model.start(period_ms, replicas);
        self.model.advance_to(WARMUP_MS);
        Ok(())
    }

    async fn set_producer(&mut self, period_ms: Option<u64>, phase: usize) -> anyhow::Result<()> {
        self.model.new_producer(period_ms, phase);
        Ok(())
    }

    async fn observe(&mut self) -> anyhow::Result<Observation> {
        Ok(self.model.observation())
    }

    async fn scale(&mut self, replicas: u32) -> anyhow::Result<()> {
        self.model.scale_to(replicas);
        Ok(())
    }

    fn running(&self) -> u32 {
        self.model.replica_count()
    }

    fn expired(&self) -> u64 {
        self.model.expired_events()
    }

    fn event_delays(&mut self) -> Vec<Millis> {
        self.model.event_delays()
    }

    fn pods(&mut self) -> Option<Vec<PodMetric>> {
        Some(self.readings())
    }

    async fn advance(&mut self, until: Millis) -> anyhow::Result<bool> {
        self.advance_to(until);
        Ok(true)
    }
}
