//! Every rule the lab applies to a ScaledObject, with where it comes from: the upstream file
//! and function it follows, and the versions it was read at. A [`super::Problem`] names
//! its rule by id; `lab check-manifests --rules` prints this table and docs/lab.md shows it.

/// One rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    /// What it checks, in one line.
    pub checks: &'static str,
    /// The upstream code (or "lab" for a check KEDA lacks).
    pub source: &'static str,
    /// The upstream versions the rule was read at.
    pub versions: &'static str,
    /// How to mend a manifest that breaks it.
    pub fix: &'static str,
}

const KEDA: &str = "KEDA v2.20.2 and main";

/// The table. Ids are stable: tests and findings refer to them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "keda-schema",
        checks: "fields and types of the ScaledObject CRD; unknown fields are errors (kubectl's strict field validation)",
        source: "apis/keda/v1alpha1/scaledobject_types.go, scaletriggers_types.go (CRD)",
        versions: KEDA,
        fix: "remove the unknown field or give the value the CRD's type (trigger metadata values are quoted strings)",
    },
    Rule {
        id: "keda-api-version",
        checks: "apiVersion keda.sh/v1alpha1, kind ScaledObject",
        source: "apis/keda/v1alpha1/groupversion_info.go",
        versions: KEDA,
        fix: "apiVersion: keda.sh/v1alpha1, kind: ScaledObject",
    },
    Rule {
        id: "keda-crd-minimum",
        checks: "pollingInterval >= 1, cooldownPeriod/initialCooldownPeriod/idle/min >= 0, maxReplicaCount >= 1, at least one trigger, a scaleTargetRef name",
        source: "apis/keda/v1alpha1/scaledobject_types.go (kubebuilder validation markers)",
        versions: KEDA,
        fix: "use a value within the CRD's bounds",
    },
    Rule {
        id: "keda-replica-bounds",
        checks: "minReplicaCount <= maxReplicaCount; idleReplicaCount below minReplicaCount as KEDA computes it",
        source: "apis/keda/v1alpha1/scaledobject_types.go CheckReplicaCountBoundsAreValid, GetHPAMinReplicas; the CRD's CEL rule",
        versions: KEDA,
        fix: "keep idleReplicaCount < minReplicaCount <= maxReplicaCount (or leave idleReplicaCount out)",
    },
    Rule {
        id: "keda-name-length",
        checks: "the ScaledObject's name and its HPA's name fit a label value (63 characters)",
        source: "apis/keda/v1alpha1/scaledobject_webhook.go verifyName",
        versions: KEDA,
        fix: "shorten the name (or set horizontalPodAutoscalerConfig.name)",
    },
    Rule {
        id: "keda-scale-target-kind",
        checks: "scaleTargetRef kind as the API server spells it (kinds are case-sensitive)",
        source: "apis/keda/v1alpha1/gvkr.go ParseGVKR (REST mapper), scaledobject_webhook.go verifyScaledObjects",
        versions: KEDA,
        fix: "spell the kind as the API serves it (Deployment, StatefulSet)",
    },
    Rule {
        id: "keda-triggers",
        checks: "trigger names unique; useCachedMetrics not on cpu/memory/cron",
        source: "apis/keda/v1alpha1/scaletriggers_types.go ValidateTriggers",
        versions: KEDA,
        fix: "give each trigger a unique name; drop useCachedMetrics from cpu/memory/cron triggers",
    },
    Rule {
        id: "keda-metric-type",
        checks: "metricType AverageValue (default) or Value; Utilization is refused for external metrics",
        source: "pkg/scalers/scaler.go GetMetricTargetType; k8s autoscaling/v2 MetricTarget validation",
        versions: KEDA,
        fix: "metricType: AverageValue (or Value), or leave it out",
    },
    Rule {
        id: "keda-fallback",
        checks: "fallback failureThreshold and replicas >= 0, behavior one of the five KEDA knows",
        source: "apis/keda/v1alpha1/scaledobject_types.go CheckFallbackValid and Fallback markers",
        versions: KEDA,
        fix: "fallback.failureThreshold and fallback.replicas >= 0, behavior one of static, currentReplicas, currentReplicasIfHigher, currentReplicasIfLower, scalingModifiers",
    },
    Rule {
        id: "keda-paused-replicas",
        checks: "autoscaling.keda.sh/paused-replicas is a whole number",
        source: "apis/keda/v1alpha1/scaledobject_types.go GetPausedReplicaCount",
        versions: KEDA,
        fix: "a whole number, quoted: autoscaling.keda.sh/paused-replicas: '0'",
    },
    Rule {
        id: "hpa-behavior",
        checks: "HPA behavior as the API server validates it: policy type Pods/Percent, value > 0, periodSeconds 1..1800, window 0..3600, selectPolicy Max/Min/Disabled, tolerance >= 0",
        source: "kubernetes pkg/apis/autoscaling/validation/validation.go validateScalingRules (via KEDA's HPA)",
        versions: "Kubernetes 1.35",
        fix: "use Pods or Percent with value > 0 and periodSeconds 1..1800, stabilizationWindowSeconds 0..3600, selectPolicy Max/Min/Disabled",
    },
    Rule {
        id: "kafka-required",
        checks: "bootstrapServers and consumerGroup are set (or their ...FromEnv form)",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata, apache_kafka_scaler.go apacheKafkaMetadata (typed config: no optional tag)",
        versions: KEDA,
        fix: "set bootstrapServers and consumerGroup in the trigger's metadata",
    },
    Rule {
        id: "kafka-value",
        checks: "each known key's value parses as KEDA parses it: whole numbers as JSON int64, booleans as Go's ParseBool, enums, partitionLimitation lists and ranges, version as sarama.ParseKafkaVersion",
        source: "pkg/scalers/scalersconfig/typed_config.go setConfigValueHelper; kafka_scaler.go parsePartitionLimitation, parseKafkaMetadata",
        versions: KEDA,
        fix: "write the value as KEDA parses it (a quoted plain number, true/false, one of the allowed words)",
    },
    Rule {
        id: "kafka-threshold",
        checks: "lagThreshold > 0, activationLagThreshold >= 0",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata.Validate; apache_kafka_scaler.go Validate",
        versions: KEDA,
        fix: "lagThreshold above 0 (such as '5'), activationLagThreshold 0 or more",
    },
    Rule {
        id: "kafka-exclusive",
        checks: "options KEDA declares mutually exclusive, or that need a topic",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata.Validate; apache_kafka_scaler.go Validate",
        versions: KEDA,
        fix: "keep one of the exclusive options, or give the topic",
    },
    Rule {
        id: "kafka-auth",
        checks: "SASL and TLS settings that KEDA refuses before connecting (username and password for SASL, cert with key, awsRegion for MSK IAM)",
        source: "pkg/scalers/kafka_scaler.go parseTLS, parseSASL; apache_kafka_scaler.go Validate, parseApacheKafkaAuthParams",
        versions: KEDA,
        fix: "reference a TriggerAuthentication holding username/password (and tls/ca), or drop sasl",
    },
    Rule {
        id: "kafka-unknown-key",
        checks: "trigger metadata keys KEDA does not read (KEDA ignores them silently): typos, and keys read only from a TriggerAuthentication",
        source: "lab (KEDA only logs them with KEDA_CHECK_UNEXPECTED_SCALERS_PARAMS=enabled: typed_config.go checkUnexpectedParameterExist)",
        versions: KEDA,
        fix: "fix the key's spelling, or move secrets to a TriggerAuthentication",
    },
    Rule {
        id: "kafka-main-only",
        checks: "keys KEDA main reads that the pinned release ignores (fullMetadata)",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata.FullMetadata (main, after v2.20.2)",
        versions: "KEDA main (2026-08-20)",
        fix: "remove it: the pinned KEDA does not read it",
    },
    Rule {
        id: "not-emulated",
        checks: "settings that change scaling and that the emulator does not reproduce: refused, never ignored",
        source: "lab",
        versions: KEDA,
        fix: "remove the setting to replay this ScaledObject in the lab",
    },
];

/// The rule with `id`. Panics on an unknown id: ids are constants of this crate.
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no rule {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_rule_names_a_source() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(
                RULES[i + 1..].iter().all(|o| o.id != r.id),
                "duplicate {}",
                r.id
            );
            assert!(!r.source.is_empty() && !r.versions.is_empty(), "{}", r.id);
        }
    }
}
