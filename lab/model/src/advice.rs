//! Advice: settings KEDA accepts and users come to regret. Below KEDA's own errors and the
//! cluster checks, each advice names the upstream code that makes the setting behave as it
//! does; `lab check-manifests` prints them (and fails on them only with `--strict`), and
//! `lab lag` prints them for the live group it reads.

use std::fmt;

use crate::emulator::spec::OffsetReset;
use crate::keda::model::ScaledObjectSpec;
use crate::keda::{Checked, TriggerReading};
use crate::rules::RuleId;

/// One advice on one ScaledObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    /// Path in the object (`spec.cooldownPeriod`).
    pub field: String,
    pub rule: RuleId,
    pub message: String,
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}]: {}\n    source: {}\n    change: {}",
            self.field,
            self.rule,
            self.message,
            self.rule.rule().source,
            self.rule.fix()
        )
    }
}

/// KEDA's default `maxReplicaCount` (scaledobject_types.go defaultHPAMaxReplicas).
const DEFAULT_MAX_REPLICAS: u32 = 100;

/// Every advice for a ScaledObject KEDA's rules read (`checked`); `partitions` is the
/// topic's partition count when it is known (a KafkaTopic manifest, the live topic).
pub fn advise(checked: &Checked, partitions: Option<u32>) -> Vec<Advice> {
    let mut out: Vec<Advice> = checked
        .problems
        .iter()
        .filter(|p| p.rule == RuleId::KafkaMainOnly)
        .map(|p| Advice {
            field: p.field.clone(),
            rule: p.rule,
            message: p.message.clone(),
        })
        .collect();
    let Some(so) = &checked.object else {
        return out;
    };
    let spec = &so.spec;
    let mut add = |field: &str, rule: RuleId, message: String| {
        out.push(Advice {
            field: field.to_owned(),
            rule,
            message,
        })
    };
    let scales_to_zero = spec.min_replicas() == 0 || spec.idle_replica_count == Some(0);
    if scales_to_zero && spec.cooldown_period() <= spec.polling_interval() {
        add(
            "spec.cooldownPeriod",
            RuleId::AdviceCooldownNotAbovePolling,
            format!(
                "cooldownPeriod {} s is not above pollingInterval {} s: the first idle poll after an active one is already a cooldown past it, so one idle poll drops the workload to zero (the published run's 0-1 flapping at 1000 ms and 10 s)",
                spec.cooldown_period(),
                spec.polling_interval()
            ),
        );
    }
    for (field, message) in irrelevant_settings(spec, checked) {
        add(field, RuleId::AdviceIrrelevantSetting, message.to_owned());
    }
    for reading in &checked.triggers {
        let at = format!("spec.triggers[{}].metadata", reading.index);
        for (rule, message) in trigger_advice(reading, scales_to_zero) {
            add(&at, rule, message);
        }
    }
    if let Some(p) = partitions {
        if spec.max_replica_count.is_none() && p > DEFAULT_MAX_REPLICAS {
            add(
                "spec.maxReplicaCount",
                RuleId::AdviceManyPartitions,
                format!("the topic has {p} partitions but maxReplicaCount is unset: KEDA gives the HPA its default 100, so at most 100 consumers share {p} partitions"),
            );
        }
    }
    if spec
        .behavior()
        .and_then(|b| b.scale_down.as_ref())
        .is_none()
    {
        add(
            "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown",
            RuleId::AdviceNoScaleDown,
            "no scaleDown behavior: the HPA's default holds the highest recommendation of the last 300 s, so consumers stay scaled out 5 minutes after the lag is gone".into(),
        );
    }
    let value_metric = so
        .spec
        .triggers
        .iter()
        .position(|t| t.metric_type.as_deref() == Some("Value"));
    if let (Some(_), Some(i)) = (&spec.fallback, value_metric) {
        add(
            &format!("spec.triggers[{i}].metricType"),
            RuleId::AdviceFallbackValue,
            "fallback with metricType Value: the fallback metric is divided by the ready replicas, and with none ready there is no fallback at all (\"error performing fallback\"): at 0 replicas a failing scaler gets no fallback".into(),
        );
    }
    out
}

/// KEDA's webhook warnings (verifyScaledObjects): pollingInterval and cooldownPeriod
/// written where they change nothing.
fn irrelevant_settings(
    spec: &ScaledObjectSpec,
    checked: &Checked,
) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let idle_not_zero = spec.idle_replica_count != Some(0);
    let cached = checked
        .object
        .iter()
        .flat_map(|so| &so.spec.triggers)
        .any(|t| t.use_cached_metrics);
    if spec.polling_interval.is_some() && spec.min_replicas() > 0 && idle_not_zero && !cached {
        out.push(("spec.pollingInterval", "PollingInterval is configured but is not relevant: it matters only when minReplicaCount = 0 or idleReplicaCount = 0 or useCachedMetrics is enabled (KEDA's webhook says so and changes nothing)"));
    }
    if spec.cooldown_period.is_some() && spec.min_replicas() > 0 && idle_not_zero {
        out.push(("spec.cooldownPeriod", "CooldownPeriod is configured but is not relevant: it matters only when minReplicaCount = 0 or idleReplicaCount = 0 (KEDA's webhook says so and changes nothing)"));
    }
    out
}

/// Advice on one kafka trigger; `scales_to_zero`: the ScaledObject can reach zero.
fn trigger_advice(reading: &TriggerReading, scales_to_zero: bool) -> Vec<(RuleId, String)> {
    let (t, source) = (&reading.trigger, &reading.source);
    let mut out = Vec::new();
    if scales_to_zero && t.offset_reset == OffsetReset::Latest && !t.scale_to_zero_on_invalid_offset
    {
        out.push((
            RuleId::AdviceLatestNeverCommitted,
            format!(
                "offsetResetPolicy latest{} without scaleToZeroOnInvalidOffset: every partition the group never committed counts a lag of 1, so a partition no event reaches keeps the trigger active and the workload never scales to zero",
                if source.offset_reset_given { "" } else { " (KEDA's default)" }
            ),
        ));
    }
    if !source.has_topic() {
        out.push((
            RuleId::AdviceNoTopic,
            "no topic: KEDA reads the topics the group has committed offsets on (ListConsumerGroupOffsets), so a topic counts no lag before the group's first commit on it, and a group that never committed gets the lag of every topic on the cluster (kedacore/keda#8114)".into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advice(yaml: &str) -> Vec<RuleId> {
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap();
        advise(&crate::keda::check(&value), Some(10))
            .into_iter()
            .map(|a| a.rule)
            .collect()
    }

    fn so(spec: &str, metadata: &str) -> String {
        format!(
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {{name: s}}\nspec:\n  scaleTargetRef: {{name: c}}\n{spec}  triggers:\n    - type: kafka\n      metadata:\n        bootstrapServers: b:9092\n        consumerGroup: g\n{metadata}"
        )
    }

    const SCALE_DOWN: &str = "  advanced:\n    horizontalPodAutoscalerConfig:\n      behavior:\n        scaleDown: {stabilizationWindowSeconds: 30}\n";
    const TOPIC: &str = "        topic: t\n        offsetResetPolicy: earliest\n";

    /// The repository's ScaledObject: cooldownPeriod 30 = pollingInterval 30 with
    /// minReplicaCount 0 (scale_scaledobjects.go scaleToZeroOrIdle).
    #[test]
    fn the_published_settings_get_the_cooldown_advice_only() {
        let text = std::fs::read_to_string(
            crate::scenario::repo_root().join("k8s/keda/scaled-object.yaml"),
        )
        .unwrap();
        assert_eq!(advice(&text), [RuleId::AdviceCooldownNotAbovePolling]);
        let fine = so(&format!("  cooldownPeriod: 300\n{SCALE_DOWN}"), TOPIC);
        assert_eq!(advice(&fine), []);
    }

    /// apis/keda/v1alpha1/scaledobject_webhook.go verifyScaledObjects.
    #[test]
    fn polling_and_cooldown_with_min_above_zero_are_irrelevant() {
        let text = so(
            &format!(
                "  minReplicaCount: 1\n  pollingInterval: 10\n  cooldownPeriod: 60\n{SCALE_DOWN}"
            ),
            TOPIC,
        );
        assert_eq!(
            advice(&text),
            [
                RuleId::AdviceIrrelevantSetting,
                RuleId::AdviceIrrelevantSetting
            ]
        );
        let idle = so(&format!("  idleReplicaCount: 0\n  minReplicaCount: 1\n  pollingInterval: 10\n  cooldownPeriod: 60\n{SCALE_DOWN}"), TOPIC);
        assert_eq!(advice(&idle), [], "idleReplicaCount 0 makes both matter");
    }

    /// pkg/scalers/kafka_scaler.go getLagForPartition: invalid offset with latest -> 1.
    #[test]
    fn latest_without_scale_to_zero_on_invalid_offset_keeps_the_trigger_active() {
        let spec = format!("  cooldownPeriod: 300\n{SCALE_DOWN}");
        assert_eq!(
            advice(&so(&spec, "        topic: t\n")),
            [RuleId::AdviceLatestNeverCommitted],
            "latest is KEDA's default"
        );
        let fixed = "        topic: t\n        offsetResetPolicy: latest\n        scaleToZeroOnInvalidOffset: \"true\"\n";
        assert_eq!(advice(&so(&spec, fixed)), []);
        let min_one = format!("  minReplicaCount: 1\n{SCALE_DOWN}");
        assert_eq!(
            advice(&so(&min_one, "        topic: t\n")),
            [],
            "never at zero anyway"
        );
    }

    /// kafka_scaler.go getTopicPartitions without a topic: ListConsumerGroupOffsets.
    #[test]
    fn a_trigger_without_topic_is_advised() {
        let spec = format!("  cooldownPeriod: 300\n{SCALE_DOWN}");
        assert_eq!(
            advice(&so(&spec, "        offsetResetPolicy: earliest\n")),
            [RuleId::AdviceNoTopic]
        );
    }

    /// scaledobject_types.go GetHPAMaxReplicas: 100 when unset.
    #[test]
    fn more_partitions_than_the_default_max_is_advised() {
        let value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&so(&format!("  cooldownPeriod: 300\n{SCALE_DOWN}"), TOPIC))
                .unwrap();
        let checked = crate::keda::check(&value);
        assert_eq!(advise(&checked, Some(100)), []);
        let rules: Vec<RuleId> = advise(&checked, Some(120))
            .into_iter()
            .map(|a| a.rule)
            .collect();
        assert_eq!(rules, [RuleId::AdviceManyPartitions]);
    }

    /// Kubernetes pkg/apis/autoscaling/v2/defaults.go GenerateHPAScaleDownRules: 300 s.
    #[test]
    fn no_scale_down_behavior_is_advised() {
        assert_eq!(
            advice(&so("  cooldownPeriod: 300\n", TOPIC)),
            [RuleId::AdviceNoScaleDown]
        );
    }

    /// pkg/fallback/fallback.go doFallback: Value divides by the ready replicas.
    #[test]
    fn fallback_with_a_value_metric_is_advised() {
        let text = so(&format!("  cooldownPeriod: 300\n  fallback: {{failureThreshold: 3, replicas: 5}}\n{SCALE_DOWN}"), TOPIC)
            .replace("    - type: kafka\n", "    - type: kafka\n      metricType: Value\n");
        assert_eq!(advice(&text), [RuleId::AdviceFallbackValue]);
    }

    /// Keys only KEDA main reads: advice, not a finding (the user may run a newer KEDA).
    #[test]
    fn keys_newer_than_the_pinned_keda_are_advised() {
        let text = so(
            &format!("  cooldownPeriod: 300\n{SCALE_DOWN}"),
            &format!("{TOPIC}        fullMetadata: \"true\"\n"),
        );
        assert_eq!(advice(&text), [RuleId::KafkaMainOnly]);
    }
}
