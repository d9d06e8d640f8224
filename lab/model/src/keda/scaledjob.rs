//! A ScaledJob (`keda.sh/v1alpha1`) as the API server stores it
//! (apis/keda/v1alpha1/scaledjob_types.go at the pinned KEDA), typed and strict like
//! [`super::model::ScaledObject`], and checked with KEDA's rules into the emulator's
//! [`JobSpec`]: the CRD's markers (pollingInterval >= 1, history limits and
//! minReplicaCount >= 0, maxReplicaCount >= 1, the strategy and calculation enums), the
//! webhook's `verifyTriggers` (scaledjob_webhook.go ValidateCreate), and each Kafka
//! trigger read as its scaler reads it. The emulator runs Kafka triggers; any other type
//! is refused, naming it.

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use super::model::{ObjectMeta, Trigger};
use super::source::ScalerKind;
use super::validate::Collector;
use super::{trigger, Problem, Severity, TriggerReading};
use crate::emulator::jobs::{Calculation, JobSpec, Strategy};
use crate::rules::RuleId;

/// A whole ScaledJob document.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaledJob {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: ScaledJobSpec,
    /// Present in `kubectl get -o yaml` output; never read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaledJobSpec {
    /// A batch/v1 JobSpec (not read by the emulator).
    pub job_target_ref: Value,
    /// Seconds between KEDA's polls (default 30, minimum 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub polling_interval: Option<i32>,
    /// Completed Jobs kept (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub successful_jobs_history_limit: Option<i32>,
    /// Failed Jobs kept (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_jobs_history_limit: Option<i32>,
    /// Deprecated (use rollout.strategy): gradual or immediate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout_strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_source_container_name: Option<String>,
    /// Default 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_replica_count: Option<i32>,
    /// Default 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replica_count: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_strategy: Option<ScalingStrategy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rollout {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScalingStrategy {
    /// default, custom, accurate or eager (default: default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_scaling_queue_length_deduction: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_scaling_running_job_percentage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_pod_conditions: Vec<String>,
    /// min, avg, sum or max (default: max).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multiple_scalers_calculation: Option<String>,
}

/// A ScaledJob read and checked.
#[derive(Debug, Clone)]
pub struct CheckedJob {
    pub name: String,
    pub object: Option<ScaledJob>,
    /// Its Kafka triggers, read once.
    pub triggers: Vec<TriggerReading>,
    pub problems: Vec<Problem>,
    pub not_emulated: Vec<Problem>,
    /// What the emulator runs (absent when an error stops KEDA).
    pub spec: Option<JobSpec>,
}

impl CheckedJob {
    /// The spec, or every reason there is none.
    pub fn into_spec(self) -> Result<JobSpec, Vec<Problem>> {
        super::spec_or_refusals(self.spec, self.problems, self.not_emulated)
    }
}

/// Checks one ScaledJob document: the schema, then every rule.
pub fn check(doc: &Value) -> CheckedJob {
    let name = super::document_name(doc);
    match serde_path_to_error::deserialize::<_, ScaledJob>(doc.clone()) {
        Ok(sj) => validate(&sj),
        Err(e) => CheckedJob {
            name,
            object: None,
            triggers: Vec::new(),
            problems: vec![Problem {
                severity: Severity::Error,
                field: "(schema)".into(),
                rule: RuleId::KedaSchema,
                message: crate::line::one_line(&format!("{}: {}", e.path(), e.inner())),
            }],
            not_emulated: Vec::new(),
            spec: None,
        },
    }
}

fn enum_value(c: &mut Collector, field: &str, value: Option<&str>, allowed: &[&str]) -> String {
    match value {
        None | Some("") => String::new(),
        Some(v) if allowed.contains(&v) => v.to_owned(),
        Some(v) => {
            c.error(
                field,
                RuleId::KedaScaledJob,
                format!(
                    "Unsupported value: {v:?}: supported values: {}",
                    allowed.join(", ")
                ),
            );
            String::new()
        }
    }
}

/// Every rule of a typed ScaledJob.
pub fn validate(sj: &ScaledJob) -> CheckedJob {
    let mut c = Collector::default();
    let s = &sj.spec;
    if sj.api_version != "keda.sh/v1alpha1" || sj.kind != "ScaledJob" {
        let m = format!(
            "{}/{} is not served: KEDA serves keda.sh/v1alpha1 ScaledJob",
            sj.api_version, sj.kind
        );
        c.error("apiVersion", RuleId::KedaApiVersion, m);
    }
    for (field, value, min) in [
        ("spec.pollingInterval", s.polling_interval, 1),
        (
            "spec.successfulJobsHistoryLimit",
            s.successful_jobs_history_limit,
            0,
        ),
        (
            "spec.failedJobsHistoryLimit",
            s.failed_jobs_history_limit,
            0,
        ),
        ("spec.minReplicaCount", s.min_replica_count, 0),
        ("spec.maxReplicaCount", s.max_replica_count, 1),
    ] {
        if let Some(v) = value.filter(|v| *v < min) {
            c.error(
                field,
                RuleId::KedaCrdMinimum,
                format!("{v} is below the CRD's minimum {min}"),
            );
        }
    }
    if s.triggers.is_empty() {
        c.error(
            "spec.triggers",
            RuleId::KedaCrdMinimum,
            "no triggers defined in the ScaledObject/ScaledJob",
        );
    }
    super::validate::check_triggers(&mut c, &s.triggers);
    let strategy = s.scaling_strategy.clone().unwrap_or_default();
    let kind = enum_value(
        &mut c,
        "spec.scalingStrategy.strategy",
        strategy.strategy.as_deref(),
        &["default", "custom", "accurate", "eager"],
    );
    let calculation = match enum_value(
        &mut c,
        "spec.scalingStrategy.multipleScalersCalculation",
        strategy.multiple_scalers_calculation.as_deref(),
        &["min", "avg", "sum", "max"],
    )
    .as_str()
    {
        "min" => Calculation::Min,
        "avg" => Calculation::Avg,
        "sum" => Calculation::Sum,
        _ => Calculation::Max,
    };
    let mut readings = Vec::new();
    let mut triggers = Vec::new();
    for (i, t) in s.triggers.iter().enumerate() {
        let scaler = match t.kind.as_str() {
            "kafka" => ScalerKind::Kafka,
            "apache-kafka" => ScalerKind::ApacheKafka,
            other => {
                c.not_emulated(
                    &format!("spec.triggers[{i}].type"),
                    format!("a {other} trigger in a ScaledJob (the emulator runs ScaledJobs with kafka and apache-kafka triggers)"),
                );
                continue;
            }
        };
        let parsed = trigger::parse(scaler, &t.metadata, t.authentication_ref.is_some(), i);
        c.extend(parsed.problems);
        let metric_type = super::validate::metric_type(&mut c, i, t.metric_type.as_deref());
        triggers.push((parsed.trigger.clone(), metric_type));
        readings.push(TriggerReading {
            index: i,
            source: parsed.source,
            trigger: parsed.trigger,
        });
    }
    let (min_replicas, max_replicas) =
        JobSpec::replica_counts(s.min_replica_count, s.max_replica_count);
    let errors = c.problems.iter().any(|p| p.severity == Severity::Error);
    let spec = (!errors && !triggers.is_empty()).then(|| JobSpec {
        polling_interval: s.polling_interval.unwrap_or(30).max(1) as u64 * 1000,
        min_replicas,
        max_replicas,
        strategy: Strategy::new(
            &kind,
            strategy.custom_scaling_queue_length_deduction,
            strategy
                .custom_scaling_running_job_percentage
                .as_deref()
                .unwrap_or(""),
        ),
        calculation,
        pending_pod_conditions: strategy.pending_pod_conditions.clone(),
        triggers,
    });
    CheckedJob {
        name: sj.metadata.name.clone(),
        object: Some(sj.clone()),
        triggers: readings,
        problems: c.problems,
        not_emulated: c.not_emulated,
        spec,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: &str = "
apiVersion: keda.sh/v1alpha1
kind: ScaledJob
metadata: {name: orders}
spec:
  jobTargetRef: {template: {spec: {containers: [{name: c, image: x}]}}}
  maxReplicaCount: 20
  scalingStrategy: {strategy: accurate}
  triggers:
    - type: kafka
      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t, lagThreshold: '5'}
";

    fn checked(yaml: &str) -> CheckedJob {
        check(&serde_yaml_ng::from_str(yaml).unwrap())
    }

    #[test]
    fn a_scaled_job_becomes_the_emulator_s_job_spec() {
        let spec = checked(JOB).into_spec().unwrap();
        assert_eq!(spec.strategy, Strategy::Accurate);
        assert_eq!((spec.min_replicas, spec.max_replicas), (0, 20));
        assert_eq!(spec.triggers[0].0.lag_threshold, 5);
        assert_eq!(spec.polling_interval, 30_000);
    }

    #[test]
    fn enums_unknown_fields_and_other_trigger_types_are_refused_by_name() {
        let bad = JOB.replace("strategy: accurate", "strategy: fastest");
        let e = checked(&bad).into_spec().unwrap_err();
        assert!(
            e[0].message.contains("Unsupported value: \"fastest\""),
            "{e:?}"
        );
        let typo = JOB.replace("maxReplicaCount", "maxReplicas");
        assert!(checked(&typo).problems[0]
            .message
            .contains("unknown field `maxReplicas`"));
        let rabbit = JOB.replace("type: kafka", "type: rabbitmq");
        let e = checked(&rabbit).into_spec().unwrap_err();
        assert!(
            e.iter()
                .any(|p| p.message.contains("a rabbitmq trigger in a ScaledJob")),
            "{e:?}"
        );
    }
}
