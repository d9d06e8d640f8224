//! `lab doctor`: why a ScaledObject is at N replicas, what happens next, and where the
//! cluster disagrees with what KEDA v2.20.2 and Kubernetes 1.35 would do from the same
//! readings. [`look`] reads the cluster once (the offsets twice, a window apart, to see
//! which partitions move); [`diagnose`] is pure: the same look always gives the same
//! diagnosis, every line naming the rule behind it (the emulator's `keda:`/`hpa:` reasons,
//! the lab's rule ids) and its upstream source.

use std::time::Duration;

use lab_kafka::offsets::OffsetReader;
use lab_model::emulator::scaler::{KafkaScaler, Reading};
use lab_model::emulator::spec::Behavior;
use lab_model::emulator::{hpa, HpaReason, KedaAction, Offsets, ScalingSpec, Why};
use lab_model::rules::RuleId;
use serde::Serialize;

use crate::api::Cluster;
use crate::error::ReadError;
use crate::objects::{HpaReading, Replicas, ScaledObjectStatus};
use crate::subject::Subject;

/// One reading of everything the diagnosis needs.
#[derive(Debug, Clone)]
pub struct Look {
    pub status: ScaledObjectStatus,
    /// The HPA (`None`: KEDA has made none, or deleted it when paused).
    pub hpa: Result<Option<HpaReading>, ReadError>,
    pub replicas: Result<Replicas, ReadError>,
    /// KEDA's metric from the external metrics API, milli-units.
    pub metric: Result<i64, ReadError>,
    /// The offsets at the start and at the end of the window.
    pub offsets: Result<(Vec<Offsets>, Vec<Offsets>), String>,
    pub window: Duration,
}

/// Reads the cluster for a diagnosis: the ScaledObject, its HPA, the target, KEDA's
/// metric, and the offsets at the start and the end of `window`.
pub async fn look(
    cluster: &Cluster,
    subject: &Subject,
    reader: Option<std::sync::Arc<OffsetReader>>,
    window: Duration,
) -> Look {
    let offsets = |reader: Option<std::sync::Arc<OffsetReader>>| async move {
        let Some(reader) = reader else {
            return Err("the brokers were not reached".to_owned());
        };
        tokio::task::spawn_blocking(move || reader.read_within(Duration::from_secs(5)))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot read the group's offsets: {e}"))
    };
    let first = offsets(reader.clone()).await;
    tokio::time::sleep(window).await;
    let metric_name = subject.metric.clone().unwrap_or_default();
    let (so, hpa, replicas, metric, last) = tokio::join!(
        cluster.scaled_object(&subject.name),
        async {
            match &subject.hpa {
                Some(name) => match cluster.hpa(name).await {
                    Ok(h) => Ok(Some(HpaReading::of(&h))),
                    Err(ReadError::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                },
                None => Ok(None),
            }
        },
        cluster.replicas(&subject.target.1),
        cluster.external_metric(&metric_name, &subject.name),
        offsets(reader),
    );
    Look {
        status: so.map(|so| ScaledObjectStatus::of(&so)).unwrap_or_default(),
        hpa,
        replicas,
        metric,
        offsets: first.and_then(|f| last.map(|l| (f, l))),
        window,
    }
}

/// A finding: a state to look at, or a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: RuleId,
    /// Something to look at (exit 1); else a note.
    pub look: bool,
    pub text: String,
    /// The upstream code behind the rule.
    pub source: &'static str,
}

/// A rule that holds the replicas, or says what comes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Because {
    /// `keda:<action>` or `hpa:<reason>`, as `lab plan` writes them.
    pub why: Why,
    pub text: String,
    pub source: &'static str,
}

/// Why the ScaledObject is where it is, and what to look at.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// What the cluster shows now, in one line.
    pub now: String,
    pub replicas: Option<i32>,
    /// The rules that hold the replica count where it is.
    pub holds: Vec<Because>,
    /// What KEDA and the HPA do next from these readings.
    pub next: Vec<Because>,
    pub findings: Vec<Finding>,
    /// Reads that failed (exit 2).
    pub unread: Vec<String>,
}

impl Diagnosis {
    /// 0 healthy, 1 something to look at, 2 could not read.
    pub fn exit_code(&self) -> u8 {
        if !self.unread.is_empty() {
            2
        } else if self.findings.iter().any(|f| f.look) {
            1
        } else {
            0
        }
    }

    /// The diagnosis for people.
    pub fn text(&self) -> String {
        let mut lines = vec![format!("now: {}", self.now)];
        let because =
            |b: &Because| format!("  {:<32} {}  [{}]", why_label(b.why), b.text, b.source);
        if !self.holds.is_empty() {
            let n = self.replicas.map_or("?".into(), |r| r.to_string());
            lines.push(format!("why {n}:"));
            lines.extend(self.holds.iter().map(because));
        }
        if !self.next.is_empty() {
            lines.push("next:".into());
            lines.extend(self.next.iter().map(because));
        }
        for (title, look) in [("look at:", true), ("notes:", false)] {
            let found: Vec<&Finding> = self.findings.iter().filter(|f| f.look == look).collect();
            if !found.is_empty() {
                lines.push(title.into());
                lines.extend(
                    found
                        .iter()
                        .map(|f| format!("  [{}] {}  [{}]", f.rule, f.text, f.source)),
                );
            }
        }
        if !self.unread.is_empty() {
            lines.push("could not read:".into());
            lines.extend(self.unread.iter().map(|u| format!("  {u}")));
        }
        lines.join("\n") + "\n"
    }
}

fn why_label(why: Why) -> String {
    serde_json::to_value(why)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// What the readings say, by KEDA's and the HPA's rules.
pub fn diagnose(subject: &Subject, look: &Look) -> Diagnosis {
    let mut d = Diagnosis {
        now: String::new(),
        replicas: look.replicas.as_ref().ok().map(|r| r.spec),
        holds: Vec::new(),
        next: Vec::new(),
        findings: Vec::new(),
        unread: Vec::new(),
    };
    for (what, error) in [
        ("the HPA", look.hpa.as_ref().err().map(ToString::to_string)),
        (
            "the scale target",
            look.replicas.as_ref().err().map(ToString::to_string),
        ),
        (
            "KEDA's metric",
            look.metric.as_ref().err().map(ToString::to_string),
        ),
        ("the offsets", look.offsets.as_ref().err().cloned()),
    ] {
        if let Some(e) = error {
            d.unread.push(format!("{what}: {e}"));
        }
    }
    let spec = match subject.checked.clone().into_spec() {
        Ok(spec) => spec,
        Err(problems) => {
            let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
            d.now = format!(
                "the lab cannot run this ScaledObject's rules: {}",
                reasons.join("; ")
            );
            return d;
        }
    };
    let facts = Facts::of(&spec, look);
    d.now = facts.now(subject, &spec, look);
    states(&mut d, subject, &spec, &facts, look);
    holds_and_next(&mut d, &spec, &facts, look);
    disagreements(&mut d, subject, &spec, &facts, look);
    advice(&mut d, subject, &facts);
    d
}

/// The numbers every rule below reads.
struct Facts {
    replicas: Option<Replicas>,
    hpa: Option<HpaReading>,
    /// KEDA's metric, whole units.
    keda_metric: Option<i64>,
    /// The scaler's reading of the latest offsets (the lab's own).
    reading: Option<Reading>,
    /// Partitions whose lag stays and whose committed offset did not move in the window.
    unconsumed: Vec<(i32, i64)>,
    partitions: usize,
    paused: bool,
}

impl Facts {
    fn of(spec: &ScalingSpec, look: &Look) -> Self {
        let reading = look
            .offsets
            .as_ref()
            .ok()
            .map(|(_, last)| KafkaScaler::new(spec.trigger.clone()).read(last));
        let unconsumed = match &look.offsets {
            Ok((first, last)) => first
                .iter()
                .zip(last)
                .filter(|(a, b)| {
                    let lag = |o: &Offsets| o.end - o.committed.unwrap_or(0);
                    a.committed == b.committed && lag(a) > 0 && lag(b) > 0
                })
                .map(|(_, b)| (b.partition, b.end - b.committed.unwrap_or(0)))
                .collect(),
            Err(_) => Vec::new(),
        };
        let paused_condition = look.status.condition("Paused").is_some_and(|c| c.is_true());
        Self {
            replicas: look.replicas.as_ref().ok().copied(),
            hpa: look.hpa.as_ref().ok().cloned().flatten(),
            keda_metric: look
                .metric
                .as_ref()
                .ok()
                .map(|m| (*m as f64 / 1000.0).round() as i64),
            partitions: look.offsets.as_ref().map_or(0, |(_, l)| l.len()),
            reading,
            unconsumed,
            paused: spec.annotations.paused || paused_condition,
        }
    }

    fn now(&self, subject: &Subject, spec: &ScalingSpec, look: &Look) -> String {
        let show = |v: Option<String>| v.unwrap_or_else(|| "?".into());
        let replicas = self
            .replicas
            .map(|r| format!("{} replicas ({} ready)", r.spec, r.ready));
        let hpa = match &self.hpa {
            Some(h) => format!(
                "HPA {} desired {} (min {}, max {})",
                h.name, h.desired, h.min, h.max
            ),
            None => "no HPA".into(),
        };
        let lag = self.reading.map(|r| {
            format!(
                "lag {} on {} partitions, trigger {}",
                r.total_lag,
                self.partitions,
                if r.active { "active" } else { "inactive" }
            )
        });
        format!(
            "ScaledObject {} -> {} {}: {}; {hpa}; KEDA's metric {} (lagThreshold {}); {}; window {:.0} s",
            subject.name,
            subject.target.0,
            subject.target.1,
            show(replicas),
            show(self.keda_metric.map(|m| m.to_string())),
            spec.trigger.lag_threshold,
            show(lag),
            look.window.as_secs_f64(),
        )
    }
}

fn finding(d: &mut Diagnosis, rule: RuleId, look: bool, text: String) {
    d.findings.push(Finding {
        rule,
        look,
        text,
        source: rule.rule().source,
    });
}

/// The states users ask about: paused, fallback, a failing scaler, zero blocked by min,
/// capped at max, lag no consumer works off.
fn states(d: &mut Diagnosis, subject: &Subject, spec: &ScalingSpec, f: &Facts, look: &Look) {
    if f.paused {
        let replicas = spec.annotations.paused_replicas.map_or(String::new(), |r| {
            format!(" at {r} replicas (paused-replicas)")
        });
        finding(d, RuleId::ClusterPaused, true, format!("paused{replicas}: KEDA stopped its loop and deleted the HPA; nothing scales until the annotation goes"));
    }
    if look
        .status
        .condition("Fallback")
        .is_some_and(|c| c.is_true())
    {
        let n = spec.fallback.map_or(0, |fb| fb.replicas);
        let failures = look.status.failures().unwrap_or(0);
        finding(d, RuleId::ClusterFallbackActive, true, format!("fallback active: {failures} failed calls (failureThreshold {}); the HPA is served lagThreshold x {n} instead of the lag", spec.fallback.map_or(0, |fb| fb.failure_threshold)));
    }
    let ready = look.status.condition("Ready");
    let scaler_failing = ready.is_some_and(|c| {
        !c.is_true()
            && matches!(
                c.reason.as_deref(),
                Some("TriggerError" | "PartialTriggerError")
            )
    }) || f
        .hpa
        .as_ref()
        .and_then(|h| h.condition("ScalingActive"))
        .is_some_and(|c| c.reason.as_deref() == Some("FailedGetExternalMetric"));
    if scaler_failing {
        let message = ready.and_then(|c| c.message.clone()).unwrap_or_default();
        finding(d, RuleId::ClusterScalerError, true, format!("KEDA's scaler fails ({message}): without a fallback the count is held, no drop to zero (see the ScaledObject's KEDAScalerFailed events)"));
    }
    let (Some(r), Some(reading)) = (f.replicas, f.reading) else {
        return;
    };
    if !reading.active
        && r.spec > 0
        && r.spec as u32 == spec.min_replicas
        && spec.min_replicas >= 1
        && spec.idle_replicas.is_none()
    {
        finding(d, RuleId::ClusterMinBlocksZero, true, format!("no lag above activationLagThreshold ({}), yet {} replica(s): minReplicaCount is {}, and KEDA scales to zero only from minReplicaCount 0", spec.trigger.activation_lag_threshold, r.spec, spec.min_replicas));
    }
    let limited = f
        .hpa
        .as_ref()
        .and_then(|h| h.condition("ScalingLimited"))
        .is_some_and(|c| c.is_true() && c.reason.as_deref() == Some("TooManyReplicas"));
    let at_max = limited
        || (r.spec as u32 >= spec.max_replicas
            && reading.metric > spec.trigger.lag_threshold * spec.max_replicas as i64);
    if at_max {
        let (proposal, _) = hpa::recommendation(
            spec,
            f.keda_metric.unwrap_or(reading.metric),
            r.spec.max(1) as u32,
        );
        finding(d, RuleId::ClusterAtMax, true, format!("at maxReplicaCount {}: the metric asks for {proposal} (ScalingLimited TooManyReplicas)", spec.max_replicas));
    }
    if !f.unconsumed.is_empty() && r.spec > 0 {
        let parts: Vec<String> = f
            .unconsumed
            .iter()
            .map(|(p, lag)| format!("{p} (lag {lag})"))
            .collect();
        let stuck = if at_max { "stuck at max because " } else { "" };
        finding(d, RuleId::ClusterUnconsumedLag, true, format!("{stuck}lag is counted on partitions no consumer works off: {} kept their committed offset for {:.0} s; KEDA counts their lag all the same", parts.join(", "), look.window.as_secs_f64()));
    }
    let _ = subject;
}

/// The rules holding the count, and the next step of each controller.
fn holds_and_next(d: &mut Diagnosis, spec: &ScalingSpec, f: &Facts, look: &Look) {
    let keda = |action: KedaAction, text: String| Because {
        why: Why::Keda(action),
        source: action.upstream(),
        text,
    };
    let hpa_because = |reason: HpaReason, text: String| Because {
        why: Why::Hpa(reason),
        source: reason.upstream(),
        text,
    };
    if f.paused {
        d.holds.push(keda(
            KedaAction::Paused,
            "a pause annotation: KEDA does not scale, and the HPA is deleted".into(),
        ));
        return;
    }
    let (Some(r), Some(reading)) = (f.replicas, f.reading) else {
        return;
    };
    let metric = f.keda_metric.unwrap_or(reading.metric);
    if r.spec == 0 {
        if reading.active {
            d.next.push(keda(KedaAction::Activate, format!("lag {} is above activationLagThreshold {}: KEDA scales 0 -> {} at its next poll (every {} s)", reading.total_lag, spec.trigger.activation_lag_threshold, spec.min_replicas.max(1), spec.polling_interval / 1000)));
        } else {
            d.holds.push(keda(
                KedaAction::Hold,
                format!(
                    "lag {} is not above activationLagThreshold {}: KEDA leaves the workload at 0",
                    reading.total_lag, spec.trigger.activation_lag_threshold
                ),
            ));
        }
        d.holds.push(hpa_because(
            HpaReason::Disabled,
            "at 0 replicas the HPA does nothing (ScalingActive False, ScalingDisabled)".into(),
        ));
        return;
    }
    let (proposal, within) = hpa::recommendation(spec, metric, r.spec as u32);
    let reason = hpa_reason(f.hpa.as_ref(), spec, proposal, within);
    let bound = match reason {
        HpaReason::TooFewReplicas => format!(", raised to minReplicas {}", spec.hpa_min()),
        HpaReason::TooManyReplicas => format!(", capped at maxReplicas {}", spec.max_replicas),
        HpaReason::WithinTolerance => " (within its tolerance: no change)".into(),
        _ => String::new(),
    };
    d.holds.push(hpa_because(reason, format!("metric {metric} at {} replica(s) and lagThreshold {}: the HPA's proposal is {proposal}{bound}", r.spec, spec.trigger.lag_threshold)));
    if !reading.active && spec.min_replicas == 0 {
        let since = look.status.last_active_time.as_deref().unwrap_or("never");
        d.next.push(keda(KedaAction::Deactivate, format!("the trigger is inactive: KEDA drops {} -> 0 at the first poll after lastActiveTime ({since}) + cooldownPeriod {} s", r.spec, spec.cooldown_period / 1000)));
    }
    let bounded = proposal.clamp(spec.hpa_min(), spec.max_replicas);
    if bounded != r.spec as u32 {
        d.next.push(hpa_because(reason, format!("the HPA moves toward {bounded} at its next syncs (every {} s), as fast as its behavior's policies allow", spec.hpa_sync / 1000)));
    }
}

/// The HPA's own reason, as its conditions say, in the emulator's words; where they say
/// nothing particular, the emulator's for the same proposal (bounds, tolerance).
fn hpa_reason(
    hpa: Option<&HpaReading>,
    spec: &ScalingSpec,
    proposal: u32,
    within: bool,
) -> HpaReason {
    let reason = |kind: &str| {
        hpa.and_then(|h| h.condition(kind))
            .and_then(|c| c.reason.clone())
    };
    match (
        reason("ScalingActive").as_deref(),
        reason("ScalingLimited").as_deref(),
    ) {
        (Some("FailedGetExternalMetric"), _) => HpaReason::FailedGetExternalMetric,
        (Some("ScalingDisabled"), _) => HpaReason::Disabled,
        (_, Some("TooManyReplicas")) => HpaReason::TooManyReplicas,
        (_, Some("TooFewReplicas")) => HpaReason::TooFewReplicas,
        (_, Some("ScaleUpLimit")) => HpaReason::ScaleUpLimit,
        (_, Some("ScaleDownLimit")) => HpaReason::ScaleDownLimit,
        _ if within => HpaReason::WithinTolerance,
        _ if proposal < spec.hpa_min() => HpaReason::TooFewReplicas,
        _ if proposal > spec.max_replicas => HpaReason::TooManyReplicas,
        _ => HpaReason::DesiredWithinRange,
    }
}

/// Where the cluster is not what KEDA v2.20.2 and Kubernetes 1.35 would make of the same
/// readings.
fn disagreements(d: &mut Diagnosis, subject: &Subject, spec: &ScalingSpec, f: &Facts, look: &Look) {
    let fallback = look
        .status
        .condition("Fallback")
        .is_some_and(|c| c.is_true());
    if let (Some(keda), Some(reading), Ok((first, _))) = (f.keda_metric, f.reading, &look.offsets) {
        let before = KafkaScaler::new(spec.trigger.clone()).read(first).metric;
        let slack = spec
            .trigger
            .lag_threshold
            .max((keda.max(reading.metric) as f64 * 0.25) as i64);
        let off = |lab: i64| (keda - lab).abs() > slack;
        if !fallback && off(reading.metric) && off(before) {
            finding(d, RuleId::ClusterMetricDisagrees, true, format!("KEDA serves metric {keda}, but the lag read from Kafka gives {} (then {}) by the trigger's settings: KEDA reads another group or topic, or runs another version or a formula", before, reading.metric));
        }
    }
    if let (Some(hpa), false) = (&f.hpa, f.paused) {
        if let Some(text) = behavior_difference(spec.behavior.as_ref(), hpa.behavior.as_ref()) {
            finding(d, RuleId::ClusterHpaBehavior, true, text);
        }
        if hpa.max != spec.max_replicas as i32 || hpa.min != spec.hpa_min() as i32 {
            finding(
                d,
                RuleId::ClusterHpaBehavior,
                true,
                format!(
                    "the HPA has replicas {}..{}, the ScaledObject asks for {}..{}",
                    hpa.min,
                    hpa.max,
                    spec.hpa_min(),
                    spec.max_replicas
                ),
            );
        }
        let reconciled = !look.status.conditions.is_empty();
        if reconciled
            && look.status.condition("HPAActive").is_none()
            && hpa.condition("ScalingActive").is_some()
        {
            finding(d, RuleId::ClusterKedaVersion, true, "the ScaledObject has no HPAActive condition, which KEDA v2.20.2 writes once its HPA reports: this KEDA is another version, and its rules may differ from the lab's".into());
        }
    }
    let _ = subject;
}

/// How the HPA's behavior differs from the one the ScaledObject asks for, if it does.
fn behavior_difference(
    wanted: Option<&Behavior>,
    hpa: Option<&serde_json::Value>,
) -> Option<String> {
    let actual = match hpa {
        None => None,
        Some(json) => {
            let yaml = serde_yaml_ng::to_value(json).ok()?;
            let model: lab_model::keda::model::Behavior = serde_yaml_ng::from_value(yaml).ok()?;
            Some(lab_model::keda::validate::hpa_behavior(&model).ok()?)
        }
    };
    match (wanted, actual.as_ref()) {
        (None, None) => None,
        (Some(w), Some(a)) if w == a => None,
        (None, Some(_)) => Some("the HPA has a behavior the ScaledObject does not ask for (it gives none: the HPA's legacy path)".into()),
        (Some(_), None) => Some("the HPA has no behavior, though the ScaledObject gives one".into()),
        (Some(w), Some(a)) => Some(format!("the HPA's behavior is not the ScaledObject's: scale-down window {} s against {} s, scale-up window {} s against {} s, policies {:?} against {:?}", a.scale_down.stabilization_window / 1000, w.scale_down.stabilization_window / 1000, a.scale_up.stabilization_window / 1000, w.scale_up.stabilization_window / 1000, a.scale_down.policies, w.scale_down.policies)),
    }
}

/// The lab's advice on the ScaledObject's settings, for this topic.
fn advice(d: &mut Diagnosis, subject: &Subject, f: &Facts) {
    let partitions = (f.partitions > 0).then_some(f.partitions as u32);
    for a in lab_model::advice::advise(&subject.checked, partitions) {
        finding(d, a.rule, false, format!("{}: {}", a.field, a.message));
    }
    for other in subject.other_triggers() {
        d.findings.push(Finding {
            rule: RuleId::KedaTriggers,
            look: false,
            text: format!("{other}: not a Kafka trigger; the lab reads the Kafka one only, and the HPA takes the largest proposal of all"),
            source: "horizontal.go computeReplicasForMetrics",
        });
    }
}
