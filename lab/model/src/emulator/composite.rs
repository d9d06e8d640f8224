//! KEDA and the HPA over several triggers (the emulator's path for any ScaledObject that
//! is more than one Kafka trigger), read from KEDA v2.20.2 and Kubernetes 1.35:
//!
//! - KEDA's poll, pkg/scaling/scale_handler.go `getScaledObjectState`: every trigger's
//!   scaler is called; the ScaledObject is active when any trigger is (cpu and memory
//!   triggers never are), in error when any call failed unanswered, and then the whole
//!   scalers cache is cleared; with `scalingModifiers` activity is the composite metric
//!   above `activationTarget` (and never with an error); when every trigger is cpu or
//!   memory it is always active (the `cpuMemCount` rule);
//! - the HPA's sync, horizontal.go `computeReplicasForMetrics`: one proposal per metric
//!   (each external metric a request to KEDA's `GetScaledObjectMetrics`, each cpu or
//!   memory trigger a Resource metric from the pods' usage), the largest valid one, and
//!   the partial-failure rule ([`super::hpa::Hpa::sync_proposals`]);
//! - `scalingModifiers`, pkg/scaling/modifiers/formula.go `HandleScalingModifiers`: one
//!   composite metric replaces the external ones; a trigger in fallback (any behavior but
//!   scalingModifiers) makes it `target x replicas` and skips the formula; otherwise the
//!   formula runs over the triggers' values (nil for one past its threshold with
//!   `behavior: scalingModifiers`), a nil result giving `fallback.replicas x target`.

use std::collections::BTreeMap;

use super::cache::{target_of, Found, Scalers, Slot};
use super::failure::{Call, CallOutcome, Observed, ScalerError};
use super::formula::{self, Outcome};
use super::hpa::{external_recommendation, tolerances, Hpa, HpaReason, Sync};
use super::pods::{resource_replicas, PodMetrics};
use super::spec::{Millis, ScalingSpec};
use super::triggers::{Modifiers, Source};

/// What every trigger's source gives at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// What the first Kafka trigger's scaler finds.
    pub kafka: Observed<'a>,
    /// What each of `spec.triggers.others` finds, by position (cpu and memory triggers'
    /// entries are not read; a missing entry is a failed read).
    pub others: &'a [Found<'a>],
    /// The target's pods as the HPA sees them (cpu and memory triggers); `None`: no pod
    /// metrics at all.
    pub pods: Option<&'a PodMetrics>,
}

impl<'a> Inputs<'a> {
    /// Only the first Kafka trigger's offsets or error.
    pub fn kafka(kafka: Observed<'a>) -> Self {
        Self {
            kafka,
            others: &[],
            pods: None,
        }
    }

    fn found(&self, slot: &Slot) -> Found<'a> {
        match slot.other {
            None => match self.kafka {
                Observed::Offsets(o) => Found::Offsets(o),
                Observed::Error(e) => Found::Error(e),
            },
            Some(i) => self
                .others
                .get(i)
                .copied()
                .unwrap_or(Found::Error(ScalerError::MetricUnavailable)),
        }
    }
}

/// One metric's part in an evaluation, as `lab plan` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDetail {
    /// The metric: `s1-prometheus`, `cpu`, `composite-metric`.
    pub metric: String,
    /// Its value, milli-units (`None`: not read, or failed).
    pub value_milli: Option<i64>,
    /// KEDA's poll: whether this trigger was active.
    pub active: Option<bool>,
    /// How its scaler call ended.
    pub call: Option<CallOutcome>,
    /// Its fallback failure count after the call.
    pub failures: u32,
    /// The HPA: this metric's proposal.
    pub proposal: Option<u32>,
    /// Why it could not be read or computed.
    pub error: Option<String>,
}

impl MetricDetail {
    fn named(metric: &str) -> Self {
        Self {
            metric: metric.to_owned(),
            value_milli: None,
            active: None,
            call: None,
            failures: 0,
            proposal: None,
            error: None,
        }
    }
}

/// What KEDA's poll found over every trigger (the default: nothing yet).
#[derive(Debug, Clone, Default)]
pub struct PollState {
    pub active: bool,
    pub error: bool,
    /// The cache could not be built: `checkScalers` returns before `RequestScale`.
    pub no_scaler: Option<ScalerError>,
    /// The first Kafka trigger's call, for the decision's `metric` and `call`.
    pub primary: Option<Call>,
    pub primary_failures: u32,
    pub details: Vec<MetricDetail>,
}

/// KEDA's cache and the HPA's view for a ScaledObject of several triggers.
#[derive(Debug, Clone)]
pub struct Composite {
    pub scalers: Scalers,
}

impl Composite {
    pub fn new(spec: &ScalingSpec) -> Self {
        Self {
            scalers: Scalers::new(spec),
        }
    }

    fn metric_name<'s>(spec: &'s ScalingSpec, slot: &Slot) -> &'s str {
        match slot.other {
            None => &spec.triggers.kafka_metric,
            Some(i) => &spec.triggers.others[i].metric,
        }
    }

    fn uses_cached(spec: &ScalingSpec, slot: &Slot) -> bool {
        match slot.other {
            None => spec.use_cached_metrics,
            Some(i) => spec.triggers.others[i].use_cached_metrics,
        }
    }

    /// Every slot called once (live, or from KEDA's record when `cached`), with each
    /// call's detail.
    fn call_all(
        &mut self,
        spec: &ScalingSpec,
        inputs: &Inputs,
        replicas: u32,
        cached: bool,
    ) -> (Vec<Call>, Vec<MetricDetail>) {
        let mut calls = Vec::with_capacity(self.scalers.slots.len());
        let mut details = Vec::with_capacity(self.scalers.slots.len());
        for i in 0..self.scalers.slots.len() {
            let slot = &self.scalers.slots[i];
            let found = inputs.found(slot);
            let call = if cached && Self::uses_cached(spec, slot) {
                self.scalers.call_cached(spec, i, found, replicas)
            } else {
                self.scalers.call(spec, i, found, replicas)
            };
            let slot = &self.scalers.slots[i];
            let mut d = MetricDetail::named(Self::metric_name(spec, slot));
            d.value_milli = call
                .error()
                .is_none()
                .then(|| call.metric_milli())
                .flatten();
            d.active = Some(call.active());
            d.call = Some(call.outcome());
            d.failures = slot.failures;
            d.error = call.error().map(|e| e.as_str().to_owned());
            calls.push(call);
            details.push(d);
        }
        (calls, details)
    }

    /// getScaledObjectState over every trigger.
    pub fn poll(&mut self, spec: &ScalingSpec, inputs: &Inputs, replicas: u32) -> PollState {
        let mut state = PollState::default();
        if let Err(e) = self.scalers.build(&|s| inputs.found(s)) {
            state.no_scaler = Some(e);
            state.primary = Some(Call::NoScaler(e));
            return state;
        }
        let (calls, mut details) = self.call_all(spec, inputs, replicas, false);
        for (slot, call) in self.scalers.slots.iter_mut().zip(&calls) {
            if Self::uses_cached(spec, slot) {
                slot.record = call.record();
            }
            if slot.other.is_none() {
                state.primary = Some(*call);
                state.primary_failures = slot.failures;
            }
        }
        state.error = calls.iter().any(|c| c.error().is_some());
        state.active = calls.iter().any(|c| c.active());
        if state.error {
            self.scalers.clear();
        }
        if let Some(m) = &spec.triggers.modifiers {
            let composite = self.composite(spec, m, &calls, replicas);
            let mut d = MetricDetail::named(Modifiers::METRIC);
            match &composite {
                Ok(milli) => d.value_milli = Some(*milli),
                Err(e) => d.error = Some(e.clone()),
            }
            state.active = !state.error
                && composite.is_ok_and(|milli| milli as f64 / 1000.0 > m.activation_target);
            d.active = Some(state.active);
            details.push(d);
        }
        if spec.triggers.only_resources() && !state.error {
            state.active = true;
        }
        state.details = details;
        state
    }

    /// HandleScalingModifiers: the composite metric, milli-units.
    fn composite(
        &self,
        spec: &ScalingSpec,
        m: &Modifiers,
        calls: &[Call],
        _replicas: u32,
    ) -> Result<i64, String> {
        if let Some(milli) = calls.iter().find_map(|c| match c {
            Call::Fallback { metric_milli } => Some(*metric_milli),
            _ => None,
        }) {
            return Ok(milli);
        }
        let mut data = BTreeMap::new();
        for (slot, call) in self.scalers.slots.iter().zip(calls) {
            let name = match slot.other {
                None => spec.triggers.kafka_name.as_deref(),
                Some(i) => spec.triggers.others[i].name.as_deref(),
            };
            let Some(name) = name else { continue };
            let value = match call {
                Call::FallbackNil => None,
                c if c.error().is_some() => continue,
                c => c.metric_milli().map(|v| v as f64 / 1000.0),
            };
            data.insert(name.to_owned(), value);
        }
        match m.formula.evaluate(&data)? {
            Outcome::Value(v) => Ok(formula::milli(v)),
            Outcome::Nil => match &spec.fallback {
                Some(f) => Ok(formula::milli(f64::from(f.replicas) * m.target)),
                None => Err(
                    "scalingModifiers formula evaluated to nil but no fallback is configured"
                        .into(),
                ),
            },
        }
    }

    /// The HPA's sync: a proposal per metric, then the HPA's rules.
    pub fn sync(
        &mut self,
        spec: &ScalingSpec,
        hpa: &mut Hpa,
        now: Millis,
        inputs: &Inputs,
        replicas: u32,
    ) -> (Sync, PollState) {
        let mut state = PollState::default();
        if replicas == 0 {
            // ScalingDisabled: no metric is asked for.
            return (hpa.sync_proposals(spec, now, 0, &[]), state);
        }
        let mut proposals = Vec::new();
        self.resource_proposals(
            spec,
            inputs,
            now,
            replicas,
            true,
            &mut proposals,
            &mut state,
        );
        if let Some(m) = &spec.triggers.modifiers {
            let p = self.composite_request(spec, m, inputs, replicas, &mut state);
            proposals.push(p);
        } else {
            for i in 0..self.scalers.slots.len() {
                let p = self.external_request(spec, i, inputs, replicas, &mut state);
                proposals.push(p);
            }
        }
        self.resource_proposals(
            spec,
            inputs,
            now,
            replicas,
            false,
            &mut proposals,
            &mut state,
        );
        (hpa.sync_proposals(spec, now, replicas, &proposals), state)
    }

    /// One external metric's request (GetScaledObjectMetrics for one trigger's metric).
    fn external_request(
        &mut self,
        spec: &ScalingSpec,
        i: usize,
        inputs: &Inputs,
        replicas: u32,
        state: &mut PollState,
    ) -> Result<(u32, bool), HpaReason> {
        let slot = &self.scalers.slots[i];
        let mut d = MetricDetail::named(Self::metric_name(spec, slot));
        let primary = slot.other.is_none();
        if let Err(e) = self.scalers.build(&|s| inputs.found(s)) {
            d.call = Some(CallOutcome::NoScaler);
            d.error = Some(e.as_str().to_owned());
            if primary {
                state.primary = Some(Call::NoScaler(e));
            }
            state.details.push(d);
            return Err(HpaReason::FailedGetExternalMetric);
        }
        let slot = &self.scalers.slots[i];
        let found = inputs.found(slot);
        let call = if Self::uses_cached(spec, slot) {
            self.scalers.call_cached(spec, i, found, replicas)
        } else {
            self.scalers.call(spec, i, found, replicas)
        };
        let slot = &self.scalers.slots[i];
        if slot.other.is_none() {
            state.primary = Some(call);
            state.primary_failures = slot.failures;
        }
        d.call = Some(call.outcome());
        d.failures = slot.failures;
        d.active = Some(call.active());
        let result = match (call.error(), call.metric_milli()) {
            (None, Some(milli)) => {
                let (target, metric_type) = target_of(spec, slot);
                let p = external_recommendation(spec, milli, target, metric_type, replicas);
                d.value_milli = Some(milli);
                d.proposal = Some(p.0);
                Ok(p)
            }
            (e, _) => {
                d.error = Some(e.map_or("no metric", |e| e.as_str()).to_owned());
                self.scalers.clear();
                Err(HpaReason::FailedGetExternalMetric)
            }
        };
        state.details.push(d);
        result
    }

    /// The composite metric's request: every trigger queried, through the formula.
    fn composite_request(
        &mut self,
        spec: &ScalingSpec,
        m: &Modifiers,
        inputs: &Inputs,
        replicas: u32,
        state: &mut PollState,
    ) -> Result<(u32, bool), HpaReason> {
        let mut d = MetricDetail::named(Modifiers::METRIC);
        if let Err(e) = self.scalers.build(&|s| inputs.found(s)) {
            d.call = Some(CallOutcome::NoScaler);
            d.error = Some(e.as_str().to_owned());
            state.primary = Some(Call::NoScaler(e));
            state.details.push(d);
            return Err(HpaReason::FailedGetExternalMetric);
        }
        let (calls, details) = self.call_all(spec, inputs, replicas, true);
        for (slot, call) in self.scalers.slots.iter().zip(&calls) {
            if slot.other.is_none() {
                state.primary = Some(*call);
                state.primary_failures = slot.failures;
            }
        }
        state.details.extend(details);
        let error = calls.iter().any(|c| c.error().is_some());
        let fallback = calls.iter().any(|c| matches!(c, Call::Fallback { .. }));
        if error {
            self.scalers.clear();
        }
        let result = if error && !fallback {
            d.error = Some(format!("metric:{} encountered error", Modifiers::METRIC));
            Err(HpaReason::FailedGetExternalMetric)
        } else {
            match self.composite(spec, m, &calls, replicas) {
                Ok(milli) => {
                    let target = (m.target * 1000.0) as i64;
                    let p = external_recommendation(spec, milli, target, m.metric_type, replicas);
                    d.value_milli = Some(milli);
                    d.proposal = Some(p.0);
                    Ok(p)
                }
                Err(e) => {
                    // HandleScalingModifiers logs and returns no metrics: the HPA gets an
                    // empty list ("no metrics returned from external metrics API").
                    d.error = Some(e);
                    Err(HpaReason::FailedGetExternalMetric)
                }
            }
        };
        state.details.push(d);
        result
    }

    /// The cpu and memory triggers' Resource metrics (ContainerResource ones when
    /// `containers`, the others otherwise: the HPA's metric order, KEDA sorting by type).
    #[allow(clippy::too_many_arguments)]
    fn resource_proposals(
        &self,
        spec: &ScalingSpec,
        inputs: &Inputs,
        now: Millis,
        replicas: u32,
        containers: bool,
        proposals: &mut Vec<Result<(u32, bool), HpaReason>>,
        state: &mut PollState,
    ) {
        for t in &spec.triggers.others {
            let Source::Resource(r) = &t.source else {
                continue;
            };
            if r.container.is_some() != containers {
                continue;
            }
            let mut d = MetricDetail::named(&t.metric);
            let result = match inputs.pods {
                None => Err(format!(
                    "unable to get metrics for resource {}: no pod metrics",
                    r.resource.as_str()
                )),
                Some(pods) => resource_replicas(
                    r,
                    &spec.triggers.requests,
                    pods,
                    now,
                    replicas,
                    tolerances(spec.behavior.as_ref()),
                ),
            };
            match result {
                Ok(p) => {
                    d.proposal = Some(p.0);
                    proposals.push(Ok(p));
                }
                Err(e) => {
                    d.error = Some(e);
                    proposals.push(Err(HpaReason::FailedGetResourceMetric));
                }
            }
            state.details.push(d);
        }
    }
}
