//! A typed ScaledObject checked with KEDA's rules and turned into the emulator's
//! [`ScalingSpec`]. Each check names its rule ([`crate::rules`]) and follows the upstream
//! code named there; defaults are KEDA's (pkg/scaling/executor/scale_executor.go,
//! scaledobject_types.go) and the HPA API server's (pkg/apis/autoscaling/v2/defaults.go).
//!
//! Anything that changes scaling is either emulated or listed in `not_emulated` with the
//! reason: never ignored.

pub use super::behavior::hpa_behavior;
use super::model::{self, ScaledObject};
use super::workload::Workload;
use super::{trigger, Checked, Problem, Severity};
use crate::emulator::spec::{
    Annotations, Behavior, Fallback, FallbackBehavior, KafkaTrigger, MetricType, Millis,
    ScalingSpec, SelectPolicy, HPA_SYNC,
};
use crate::rules::RuleId;

/// Kinds with a /scale subresource that every cluster serves, by apiVersion.
const BUILT_IN_SCALABLE: &[(&str, &str)] = &[
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("v1", "ReplicationController"),
];

/// A label value's maximum length (verifyName).
const MAX_LABEL_VALUE: usize = 63;

/// Where a validation's problems go: KEDA's errors and warnings, and what the emulator
/// does not reproduce.
#[derive(Debug, Default)]
pub struct Collector {
    pub(super) problems: Vec<Problem>,
    pub(super) not_emulated: Vec<Problem>,
}

impl Collector {
    pub(super) fn error(&mut self, field: &str, rule: RuleId, message: impl Into<String>) {
        self.problems.push(Problem {
            severity: Severity::Error,
            field: field.to_owned(),
            rule,
            message: message.into(),
        });
    }

    pub(super) fn warning(&mut self, field: &str, rule: RuleId, message: impl Into<String>) {
        self.problems.push(Problem {
            severity: Severity::Warning,
            field: field.to_owned(),
            rule,
            message: message.into(),
        });
    }

    pub(super) fn not_emulated(&mut self, field: &str, message: impl Into<String>) {
        self.not_emulated.push(Problem {
            severity: Severity::Error,
            field: field.to_owned(),
            rule: RuleId::NotEmulated,
            message: format!("not emulated: {}", message.into()),
        });
    }

    /// Problems found elsewhere (a trigger's metadata).
    pub(super) fn extend(&mut self, problems: Vec<Problem>) {
        self.problems.extend(problems);
    }

    fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

/// Every rule, in the order KEDA meets them, without the scale target (a cpu or memory
/// trigger is then not emulated).
pub fn validate(so: &ScaledObject) -> Checked {
    validate_with(so, None)
}

/// [`validate`] with the scale target's pod template, when known (KEDA's webhook reads
/// it for cpu and memory triggers; the HPA divides by its requests).
pub fn validate_with(so: &ScaledObject, target: Option<&Workload>) -> Checked {
    let mut c = Collector::default();
    let spec = &so.spec;
    check_kind(&mut c, so);
    check_crd_minimums(&mut c, spec);
    check_replica_bounds(&mut c, spec);
    check_name(&mut c, so);
    check_scale_target(&mut c, &spec.scale_target_ref);
    check_triggers(&mut c, &spec.triggers);
    check_fallback(&mut c, so);
    let behavior = spec
        .behavior()
        .map(|b| super::behavior::parse_behavior(&mut c, b));
    let annotations = parse_annotations(&mut c, &so.metadata.annotations);
    let read = super::triggers::read(&mut c, so, target);
    check_only_resources(&mut c, so, &read.triggers, target);
    let mut triggers = read.triggers;
    triggers.modifiers = super::modifiers::read(&mut c, so);
    if let Some(w) = target {
        triggers.requests = w.requests();
    }
    let (trigger, metric_type, use_cached_metrics) =
        read.primary
            .unwrap_or((KafkaTrigger::default(), MetricType::AverageValue, false));
    let scaling = (!c.has_errors() && triggers.count() > 0).then(|| ScalingSpec {
        target: spec.scale_target_ref.name.clone(),
        polling_interval: seconds(spec.polling_interval()),
        cooldown_period: seconds(spec.cooldown_period()),
        initial_cooldown_period: seconds(spec.initial_cooldown_period()),
        min_replicas: spec.min_replicas().max(0) as u32,
        max_replicas: spec.max_replicas().max(1) as u32,
        idle_replicas: spec.idle_replica_count.map(|n| n.max(0) as u32),
        behavior: with_paused_directions(behavior.flatten(), &annotations),
        hpa_sync: HPA_SYNC,
        trigger,
        metric_type,
        use_cached_metrics,
        annotations,
        fallback: fallback(spec),
        triggers,
    });
    Checked {
        name: so.metadata.name.clone(),
        problems: c.problems,
        not_emulated: c.not_emulated,
        spec: scaling,
        object: Some(so.clone()),
        triggers: read.kafka,
    }
}

/// scaledobject_webhook.go verifyCPUMemoryScalers, after the containers: only cpu and
/// memory triggers with minReplicaCount unset or 0 (checked when the target is a
/// Deployment or StatefulSet the webhook can read).
fn check_only_resources(
    c: &mut Collector,
    so: &ScaledObject,
    triggers: &crate::emulator::triggers::Triggers,
    target: Option<&Workload>,
) {
    let all = !so.spec.triggers.is_empty()
        && so
            .spec
            .triggers
            .iter()
            .all(|t| matches!(t.kind.as_str(), "cpu" | "memory"));
    if all && target.is_some() && so.spec.min_replica_count.unwrap_or(0) == 0 {
        c.error(
            "spec.minReplicaCount",
            RuleId::KedaCpuMemory,
            "scaledobject has only cpu/memory triggers AND minReplica is 0 (scale to zero doesn't work in this case)",
        );
    }
    let _ = triggers;
}

fn seconds(value: i32) -> Millis {
    value.max(0) as u64 * 1000
}

/// paused-scale-in/out: KEDA gives the HPA a behavior with that direction Disabled,
/// creating one if there is none (controllers/keda/hpa.go newHPAForScaledObject); the API
/// server fills in the rest.
fn with_paused_directions(behavior: Option<Behavior>, a: &Annotations) -> Option<Behavior> {
    let mut behavior = behavior;
    if a.paused_scale_in {
        behavior
            .get_or_insert_with(Behavior::defaults)
            .scale_down
            .select = SelectPolicy::Disabled;
    }
    if a.paused_scale_out {
        behavior
            .get_or_insert_with(Behavior::defaults)
            .scale_up
            .select = SelectPolicy::Disabled;
    }
    behavior
}

fn check_kind(c: &mut Collector, so: &ScaledObject) {
    if so.api_version != "keda.sh/v1alpha1" || so.kind != "ScaledObject" {
        c.error(
            "apiVersion",
            RuleId::KedaApiVersion,
            format!(
                "{}/{} is not served: KEDA serves keda.sh/v1alpha1 ScaledObject",
                so.api_version, so.kind
            ),
        );
    }
}

/// CRD validation markers (scaledobject_types.go).
fn check_crd_minimums(c: &mut Collector, spec: &model::ScaledObjectSpec) {
    for (field, value, min) in [
        ("spec.pollingInterval", spec.polling_interval, 1),
        ("spec.cooldownPeriod", spec.cooldown_period, 0),
        (
            "spec.initialCooldownPeriod",
            spec.initial_cooldown_period,
            0,
        ),
        ("spec.idleReplicaCount", spec.idle_replica_count, 0),
        ("spec.minReplicaCount", spec.min_replica_count, 0),
        ("spec.maxReplicaCount", spec.max_replica_count, 1),
    ] {
        if let Some(v) = value.filter(|v| *v < min) {
            let message = format!("{v} is below the CRD's minimum {min}");
            c.error(field, RuleId::KedaCrdMinimum, message);
        }
    }
    if spec.scale_target_ref.name.is_empty() {
        c.error(
            "spec.scaleTargetRef.name",
            RuleId::KedaCrdMinimum,
            "must not be empty",
        );
    }
    if spec.triggers.is_empty() {
        c.error(
            "spec.triggers",
            RuleId::KedaCrdMinimum,
            "no triggers defined in the ScaledObject",
        );
    }
}

/// CheckReplicaCountBoundsAreValid and the CRD's CEL rule. KEDA compares idleReplicaCount
/// with GetHPAMinReplicas when minReplicaCount is set (so `minReplicaCount: 0` counts as
/// 1 there) and with 0 when it is not.
fn check_replica_bounds(c: &mut Collector, spec: &model::ScaledObjectSpec) {
    let max = spec.max_replicas();
    if let Some(min) = spec.min_replica_count {
        if min > max {
            c.error(
                "spec.minReplicaCount",
                RuleId::KedaReplicaBounds,
                format!(
                    "minReplicaCount must be less than or equal to maxReplicaCount ({min} > {max})"
                ),
            );
        }
    }
    let min_for_idle = match spec.min_replica_count {
        Some(min) if min > 0 => min,
        Some(_) => 1,
        None => 0,
    };
    if let Some(idle) = spec.idle_replica_count {
        if idle >= min_for_idle {
            c.error(
                "spec.idleReplicaCount",
                RuleId::KedaReplicaBounds,
                format!("IdleReplicaCount={idle} must be less than MinReplicaCount={min_for_idle}"),
            );
        }
    }
}

/// verifyName.
fn check_name(c: &mut Collector, so: &ScaledObject) {
    let name = &so.metadata.name;
    if name.len() > MAX_LABEL_VALUE {
        c.error(
            "metadata.name",
            RuleId::KedaNameLength,
            format!(
                "{} characters: at most {MAX_LABEL_VALUE} (it is a label value)",
                name.len()
            ),
        );
    }
    let hpa = so.spec.hpa_name(name);
    if hpa.len() > MAX_LABEL_VALUE {
        c.error(
            "spec.advanced.horizontalPodAutoscalerConfig.name",
            RuleId::KedaNameLength,
            format!("the HPA name {hpa:?} has {} characters: at most {MAX_LABEL_VALUE}; set a shorter horizontalPodAutoscalerConfig.name", hpa.len()),
        );
    }
}

/// ParseGVKR through the REST mapper: kinds are case-sensitive.
fn check_scale_target(c: &mut Collector, target: &model::ScaleTarget) {
    let api = target.api_version.as_deref().unwrap_or("apps/v1");
    let kind = target.kind.as_deref().unwrap_or("Deployment");
    if BUILT_IN_SCALABLE.contains(&(api, kind)) {
        return;
    }
    if let Some((right_api, right_kind)) = BUILT_IN_SCALABLE
        .iter()
        .find(|(_, k)| k.eq_ignore_ascii_case(kind))
    {
        c.error(
            "spec.scaleTargetRef.kind",
            RuleId::KedaScaleTargetKind,
            format!("no matches for kind {kind:?} in version {api:?}: kinds are case-sensitive; this is {right_api} {right_kind}"),
        );
    } else {
        c.warning(
            "spec.scaleTargetRef.kind",
            RuleId::KedaScaleTargetKind,
            format!("{api} {kind} is not a built-in scalable kind: it works only if a custom resource with a /scale subresource serves it"),
        );
    }
}

/// ValidateTriggers (`apis/keda/v1alpha1/scaletriggers_types.go`), for ScaledObjects and
/// ScaledJobs alike.
pub(super) fn check_triggers(c: &mut Collector, triggers: &[model::Trigger]) {
    let mut names = Vec::new();
    for (i, t) in triggers.iter().enumerate() {
        if t.use_cached_metrics && matches!(t.kind.as_str(), "cpu" | "memory" | "cron") {
            c.error(
                &format!("spec.triggers[{i}].useCachedMetrics"),
                RuleId::KedaTriggers,
                format!(
                    "property \"useCachedMetrics\" is not supported for {:?} scaler",
                    t.kind
                ),
            );
        }
        if let Some(name) = t.name.as_deref().filter(|n| !n.is_empty()) {
            if names.contains(&name) {
                c.error(
                    &format!("spec.triggers[{i}].name"),
                    RuleId::KedaTriggers,
                    format!(
                        "triggerName {name:?} is defined multiple times in the \
                         ScaledObject/ScaledJob, but it must be unique"
                    ),
                );
            }
            names.push(name);
        }
    }
}

/// GetMetricTargetType, and what the HPA API accepts for an external metric's target.
pub(super) fn metric_type(c: &mut Collector, index: usize, value: Option<&str>) -> MetricType {
    let field = format!("spec.triggers[{index}].metricType");
    match value {
        None | Some("") | Some("AverageValue") => MetricType::AverageValue,
        Some("Value") => MetricType::Value,
        Some("Utilization") => {
            c.error(
                &field,
                RuleId::KedaMetricType,
                "'Utilization' metric type is unsupported for external metrics, allowed values are 'Value' or 'AverageValue'",
            );
            MetricType::AverageValue
        }
        Some(other) => {
            c.error(
                &field,
                RuleId::KedaMetricType,
                format!("{other:?}: the HPA's metric target type must be Value or AverageValue (case-sensitive)"),
            );
            MetricType::AverageValue
        }
    }
}

/// `fallback` as the emulator runs it (counts below 0 are the webhook's error; whether it
/// is valid for a formula's target, fallback.go HasValidFallback, is the emulator's:
/// `emulator::cache::fallback_valid`).
fn fallback(spec: &model::ScaledObjectSpec) -> Option<Fallback> {
    let f = spec.fallback.as_ref()?;
    let behavior = match f.behavior.as_deref() {
        Some("currentReplicas") => FallbackBehavior::CurrentReplicas,
        Some("currentReplicasIfHigher") => FallbackBehavior::CurrentReplicasIfHigher,
        Some("currentReplicasIfLower") => FallbackBehavior::CurrentReplicasIfLower,
        Some("scalingModifiers") => FallbackBehavior::ScalingModifiers,
        _ => FallbackBehavior::Static,
    };
    Some(Fallback {
        failure_threshold: f.failure_threshold.max(0) as u32,
        replicas: f.replicas.max(0) as u32,
        behavior,
    })
}

/// CheckFallbackValid and the Fallback markers.
fn check_fallback(c: &mut Collector, so: &ScaledObject) {
    let Some(f) = &so.spec.fallback else { return };
    if f.failure_threshold < 0 || f.replicas < 0 {
        c.error(
            "spec.fallback",
            RuleId::KedaFallback,
            format!(
                "FailureThreshold={} & Replicas={} must both be greater than or equal to 0",
                f.failure_threshold, f.replicas
            ),
        );
    }
    let behaviors = [
        "static",
        "currentReplicas",
        "currentReplicasIfHigher",
        "currentReplicasIfLower",
        "scalingModifiers",
    ];
    match f.behavior.as_deref() {
        None | Some("") => {}
        Some(b) if behaviors.contains(&b) => {
            let formula = so
                .spec
                .advanced
                .as_ref()
                .and_then(|a| a.scaling_modifiers.as_ref())
                .and_then(|m| m.formula.as_deref())
                .is_some_and(|f| !f.is_empty());
            if b == "scalingModifiers" && !formula {
                c.error(
                    "spec.fallback.behavior",
                    RuleId::KedaFallback,
                    "scalingModifiers fallback behavior requires scalingModifiers.formula to be defined",
                );
            }
        }
        Some(b) => c.error(
            "spec.fallback.behavior",
            RuleId::KedaFallback,
            format!("{b:?} must be one of {}", behaviors.join(", ")),
        ),
    }
    let only_resource = so
        .spec
        .triggers
        .iter()
        .all(|t| matches!(t.kind.as_str(), "cpu" | "memory"));
    if only_resource && !super::triggers::uses_modifiers(so) {
        c.error(
            "spec.fallback",
            RuleId::KedaFallback,
            "at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback to be enabled",
        );
    }
}

/// The `autoscaling.keda.sh/*` annotations (scaledobject_types.go getBoolAnnotation: a
/// value that is not a boolean counts as true).
fn parse_annotations(
    c: &mut Collector,
    annotations: &std::collections::BTreeMap<String, String>,
) -> Annotations {
    let flag = |name: &str| {
        annotations
            .get(&format!("autoscaling.keda.sh/{name}"))
            .map(|v| trigger::go_parse_bool(v).unwrap_or(true))
            .unwrap_or(false)
    };
    let paused_replicas = annotations
        .get("autoscaling.keda.sh/paused-replicas")
        .and_then(|v| match v.parse::<i32>() {
            Ok(n) if n >= 0 => Some(n as u32),
            _ => {
                c.error(
                    "metadata.annotations[autoscaling.keda.sh/paused-replicas]",
                    RuleId::KedaPausedReplicas,
                    format!("{v:?} is not a replica count"),
                );
                None
            }
        });
    Annotations {
        paused: flag("paused") || paused_replicas.is_some(),
        paused_replicas,
        paused_scale_in: flag("paused-scale-in"),
        paused_scale_out: flag("paused-scale-out"),
        force_activation: flag("force-activation"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::*;
    use crate::emulator::spec::{Policy, PolicyKind, ScalingRules};
    use crate::keda::source::ScalerKind;

    fn checked(yaml: &str) -> Checked {
        check(&serde_yaml_ng::from_str(yaml).unwrap())
    }

    const MINIMAL: &str = "
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: so}
spec:
  scaleTargetRef: {name: kafka-consumer}
  triggers:
    - type: kafka
      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t}
";

    fn errors(yaml: &str) -> Vec<String> {
        checked(yaml).errors().map(|p| p.to_string()).collect()
    }

    fn refusals(yaml: &str) -> Vec<String> {
        checked(yaml)
            .into_spec()
            .err()
            .unwrap_or_default()
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn defaults_are_keda_s_and_the_api_server_s() {
        let s = checked(MINIMAL).into_spec().unwrap();
        assert_eq!(
            (
                s.polling_interval,
                s.cooldown_period,
                s.min_replicas,
                s.max_replicas
            ),
            (30_000, 300_000, 0, 100)
        );
        assert_eq!(s.trigger.lag_threshold, 10);
        assert!(s.behavior.is_none(), "no behavior: the HPA's legacy path");
        assert_eq!(s.metric_type, MetricType::AverageValue);
    }

    #[test]
    fn partial_behavior_gets_kubernetes_defaults() {
        let yaml = MINIMAL.replace(
            "  triggers:",
            "  advanced: {horizontalPodAutoscalerConfig: {behavior: {scaleDown: {policies: [{type: Pods, value: 1, periodSeconds: 60}], tolerance: 50m}}}}\n  triggers:",
        );
        let b = checked(&yaml).into_spec().unwrap().behavior.unwrap();
        assert_eq!(b.scale_down.stabilization_window, 300_000);
        assert_eq!(b.scale_down.select, SelectPolicy::Max);
        assert_eq!(b.scale_down.tolerance, Some(0.05));
        assert_eq!(b.scale_up, ScalingRules::default_up());
    }

    /// CheckReplicaCountBoundsAreValid (apis/keda/v1alpha1/scaledobject_types.go): the
    /// webhook compares idleReplicaCount with GetHPAMinReplicas, which is 1 for an
    /// explicit `minReplicaCount: 0`, and with 0 when minReplicaCount is unset.
    #[test]
    fn idle_replica_count_is_checked_as_check_replica_count_bounds_are_valid_does() {
        let idle_no_min = MINIMAL.replace("  triggers:", "  idleReplicaCount: 0\n  triggers:");
        assert!(
            errors(&idle_no_min)[0]
                .contains("IdleReplicaCount=0 must be less than MinReplicaCount=0"),
            "{:?}",
            errors(&idle_no_min)
        );
        let idle_min_zero = MINIMAL.replace(
            "  triggers:",
            "  idleReplicaCount: 0\n  minReplicaCount: 0\n  triggers:",
        );
        assert!(
            errors(&idle_min_zero).is_empty(),
            "GetHPAMinReplicas makes it 1"
        );
        let idle_equals_min = MINIMAL.replace(
            "  triggers:",
            "  idleReplicaCount: 2\n  minReplicaCount: 2\n  triggers:",
        );
        assert!(errors(&idle_equals_min)[0]
            .contains("IdleReplicaCount=2 must be less than MinReplicaCount=2"));
        let min_above_max = MINIMAL.replace(
            "  triggers:",
            "  minReplicaCount: 3\n  maxReplicaCount: 2\n  triggers:",
        );
        assert!(errors(&min_above_max)[0]
            .contains("minReplicaCount must be less than or equal to maxReplicaCount"));
    }

    #[test]
    fn kinds_are_case_sensitive_as_the_rest_mapper_is() {
        let yaml = MINIMAL.replace(
            "{name: kafka-consumer}",
            "{name: kafka-consumer, kind: deployment}",
        );
        let e = errors(&yaml);
        assert!(e[0].contains("no matches for kind \"deployment\""), "{e:?}");
        let rollout = MINIMAL.replace(
            "{name: kafka-consumer}",
            "{name: r, kind: Rollout, apiVersion: argoproj.io/v1alpha1}",
        );
        assert!(
            errors(&rollout).is_empty(),
            "a custom resource may serve /scale"
        );
    }

    /// ValidateTriggers (apis/keda/v1alpha1/scaletriggers_types.go, v2.20.2): a trigger
    /// name used twice, and useCachedMetrics on cpu, memory or cron, with KEDA's words.
    #[test]
    fn trigger_names_are_unique_and_cached_metrics_refused_where_keda_refuses_them() {
        let named = MINIMAL.replace(
            "    - type: kafka\n      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t}",
            "    - type: kafka\n      name: lag\n      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t}\n    - type: kafka\n      name: lag\n      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: u}",
        );
        assert!(
            errors(&named).iter().any(|e| e.contains(
                "triggerName \"lag\" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique"
            )),
            "{:?}",
            errors(&named)
        );
        let cached = MINIMAL.replace(
            "  triggers:\n",
            "  triggers:\n    - type: cpu\n      useCachedMetrics: true\n      metricType: Utilization\n      metadata: {value: '50'}\n",
        );
        assert!(
            errors(&cached)
                .iter()
                .any(|e| e
                    .contains("property \"useCachedMetrics\" is not supported for \"cpu\" scaler")),
            "{:?}",
            errors(&cached)
        );
    }

    /// GetMetricTargetType (pkg/scalers/scaler.go).
    #[test]
    fn metric_type_utilization_and_unknown_types_are_refused() {
        let util = MINIMAL.replace(
            "    - type: kafka",
            "    - type: kafka\n      metricType: Utilization",
        );
        assert!(errors(&util)[0].contains("'Utilization' metric type is unsupported"));
        let typo = MINIMAL.replace(
            "    - type: kafka",
            "    - type: kafka\n      metricType: averageValue",
        );
        assert!(errors(&typo)[0].contains("must be Value or AverageValue"));
        let value = MINIMAL.replace(
            "    - type: kafka",
            "    - type: kafka\n      metricType: Value",
        );
        assert_eq!(
            checked(&value).into_spec().unwrap().metric_type,
            MetricType::Value
        );
    }

    #[test]
    fn apache_kafka_triggers_are_validated_and_emulated() {
        let yaml = MINIMAL.replace("type: kafka", "type: apache-kafka");
        let reading = checked(&yaml);
        assert_eq!(reading.triggers[0].source.scaler, ScalerKind::ApacheKafka);
        assert!(reading.into_spec().is_ok());
        let no_topic = yaml.replace(", topic: t}", "}");
        assert!(refusals(&no_topic)[0].contains("not emulated: apache-kafka without a topic"));
    }

    /// Several triggers, formulas and cpu triggers are read and run; what cannot be run
    /// is refused, naming it: a formula KEDA refuses (expr's checker), a construct
    /// outside the evaluated subset, a trigger type the emulator does not model, a cpu
    /// trigger whose target is unknown.
    #[test]
    fn what_changes_scaling_is_emulated_or_refused_never_ignored() {
        let modifiers = MINIMAL.replace(
            "  triggers:",
            "  advanced: {scalingModifiers: {formula: 'kafka * 2', target: '5'}}\n  triggers:",
        );
        assert!(refusals(&modifiers)[0]
            .contains("error validating formula in ScalingModifiers: unknown name kafka"));
        let named = modifiers.replace("    - type: kafka", "    - type: kafka\n      name: kafka");
        let spec = checked(&named).into_spec().unwrap();
        assert_eq!(spec.triggers.modifiers.unwrap().target, 5.0);
        let unsupported = named.replace("'kafka * 2'", "'kafka in [1] ? 1 : 0'");
        assert!(refusals(&unsupported)[0].contains(
            "spec.advanced.scalingModifiers.formula: not emulated: the `in` operator (1:6)"
        ));
        let cpu = MINIMAL.replace(
            "  triggers:",
            "  triggers:\n    - type: cpu\n      metricType: Utilization\n      metadata: {value: '50'}",
        );
        assert!(refusals(&cpu).iter().any(
            |r| r.contains("not emulated: a cpu trigger needs the scale target's cpu requests")
        ));
        let rabbit = MINIMAL.replace(
            "    - type: kafka",
            "    - type: rabbitmq\n      metadata: {queueName: q}\n    - type: kafka",
        );
        assert!(refusals(&rabbit)
            .iter()
            .any(|r| r.contains("spec.triggers[0].type: not emulated: a rabbitmq trigger")));
        let two = MINIMAL.to_owned()
            + "    - type: kafka\n      metadata: {bootstrapServers: 'k:9092', consumerGroup: g2, topic: t}\n";
        let spec = checked(&two).into_spec().unwrap();
        assert_eq!(spec.triggers.others[0].reads, "g2/t");
    }

    /// controllers/keda/hpa.go newHPAForScaledObject: paused-scale-in sets the HPA's
    /// scaleDown selectPolicy to Disabled, creating a behavior when there is none.
    #[test]
    fn paused_annotations_become_what_keda_does() {
        let yaml = MINIMAL.replace(
            "metadata: {name: so}",
            "metadata: {name: so, annotations: {autoscaling.keda.sh/paused-scale-in: 'true', autoscaling.keda.sh/paused-replicas: '4'}}",
        );
        let spec = checked(&yaml).into_spec().unwrap();
        let b = spec.behavior.unwrap();
        assert_eq!(b.scale_down.select, SelectPolicy::Disabled);
        assert_eq!(b.scale_up, ScalingRules::default_up());
        assert_eq!(
            (spec.annotations.paused, spec.annotations.paused_replicas),
            (true, Some(4))
        );
        let bad = MINIMAL.replace(
            "metadata: {name: so}",
            "metadata: {name: so, annotations: {autoscaling.keda.sh/paused-replicas: 'four'}}",
        );
        assert!(errors(&bad)[0].contains("\"four\" is not a replica count"));
    }

    #[test]
    fn schema_errors_name_the_path() {
        for (yaml, expected) in [
            (MINIMAL.replace("topic: t}", "topic: t, lagThreshold: 5}"), "spec.triggers[0].metadata.lagThreshold: invalid type: integer `5`, expected a string"),
            (MINIMAL.replace("  triggers:", "  maxReplicaCount: u5\n  triggers:"), "spec.maxReplicaCount: invalid type: string \"u5\""),
            (MINIMAL.replace("  triggers:", "  coolDown: 30\n  triggers:"), "unknown field `coolDown`"),
        ] {
            let e = errors(&yaml);
            assert!(e[0].contains(expected), "{expected:?} not in {e:?}");
        }
    }

    #[test]
    fn behavior_values_are_checked_as_the_hpa_api_does() {
        for (rules, expected) in [
            (
                "{policies: [{type: Pod, value: 1, periodSeconds: 15}]}",
                "\"Pod\" must be Pods or Percent",
            ),
            (
                "{policies: [{type: Pods, value: 0, periodSeconds: 15}]}",
                "must be greater than zero",
            ),
            (
                "{policies: [{type: Pods, value: 1, periodSeconds: 1801}]}",
                "1801 must be 1..=1800",
            ),
            ("{stabilizationWindowSeconds: 3601}", "must be 0..=3600"),
            ("{selectPolicy: max}", "must be Max, Min or Disabled"),
            ("{policies: []}", "at least one Policy"),
            ("{tolerance: '-0.1'}", "not a quantity of 0 or more"),
        ] {
            let yaml = MINIMAL.replace(
                "  triggers:",
                &format!("  advanced: {{horizontalPodAutoscalerConfig: {{behavior: {{scaleUp: {rules}}}}}}}\n  triggers:"),
            );
            let e = errors(&yaml);
            assert!(
                e.iter().any(|m| m.contains(expected)),
                "{rules}: {expected:?} not in {e:?}"
            );
        }
    }

    #[test]
    fn the_repository_scaled_object_is_the_published_intent() {
        let checked =
            crate::keda::check_text(crate::keda::REPOSITORY_SCALED_OBJECT, "repo").unwrap();
        let source = checked.triggers[0].source.clone();
        let loaded = crate::keda::loaded(checked, "repo").unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let s = loaded.spec;
        assert_eq!(
            (
                s.target.as_str(),
                s.cooldown_period,
                s.max_replicas,
                s.polling_interval
            ),
            ("kafka-consumer", 30_000, 10, 30_000)
        );
        assert_eq!(
            (
                s.trigger.lag_threshold,
                source.consumer_group.as_str(),
                source.topics.as_slice()
            ),
            (5, "event", ["event".to_owned()].as_slice())
        );
        let b = s.behavior.unwrap();
        assert_eq!(
            b.scale_up,
            ScalingRules::default_up(),
            "scale-up defaults filled in"
        );
        assert_eq!(b.scale_down.stabilization_window, 30_000);
        assert_eq!(
            b.scale_down.policies,
            [Policy {
                kind: PolicyKind::Percent,
                value: 50,
                period: 30_000
            }]
        );
    }
}
