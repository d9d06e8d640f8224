//! Several triggers, rule by rule (KEDA v2.20.2 pkg/scaling/scale_handler.go
//! getScaledObjectState and GetScaledObjectMetrics, pkg/fallback/fallback.go; Kubernetes
//! 1.35 horizontal.go computeReplicasForMetrics), through the Autoscaler.

use lab_model::emulator::{
    Autoscaler, Controller, Found, HpaReason, Inputs, KedaAction, Observed, Offsets, PodMetric,
    ScalerError, ScalingSpec, Start, Why,
};

const KAFKA_AND_PROM: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: so}
spec:
  scaleTargetRef: {name: consumer}
  pollingInterval: 30
  cooldownPeriod: 30
  maxReplicaCount: 10
  triggers:
    - type: kafka
      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t, lagThreshold: '5'}
    - type: prometheus
      name: prom
      metadata: {serverAddress: 'http://p:9090', query: q, threshold: '10'}
"#;

fn spec(yaml: &str) -> ScalingSpec {
    lab_model::keda::load_text(yaml, "so.yaml")
        .unwrap_or_else(|e| panic!("{e}"))
        .spec
}

/// Ten partitions, `lag` on the first.
fn offsets(lag: i64) -> Vec<Offsets> {
    Offsets::numbered((0..10).map(|p| (100 + if p == 0 { lag } else { 0 }, Some(100))))
}

/// getScaledObjectState: active when any trigger is (a value above its activation
/// threshold wakes the target at 0 while the lag is 0).
#[test]
fn any_active_trigger_makes_the_scaled_object_active() {
    let mut a = Autoscaler::new(spec(KAFKA_AND_PROM), 0, Start::Created);
    let lag = offsets(0);
    let others = [Found::Value(25.0)];
    let inputs = Inputs {
        kafka: Observed::Offsets(&lag),
        others: &others,
        pods: None,
    };
    let d = a.evaluate_with(0, &inputs);
    assert_eq!((d[0].active, d[0].replicas), (true, 1));
    let d = a.evaluate_with(15_000, &inputs);
    assert_eq!(
        d[0].replicas, 3,
        "ceil(25 / 10): the larger proposal (lag 0 proposes 0)"
    );
}

/// scale_handler_test.go TestCheckScaledObjectFindFirstActiveNotIgnoreOthers: one
/// active trigger and one failing: active and in error, so RequestScale holds without
/// renewing lastActiveTime (PartialTriggerError); and the error clears the whole cache.
#[test]
fn an_active_trigger_beside_a_failing_one_is_active_and_in_error() {
    let mut s = spec(KAFKA_AND_PROM);
    s.trigger.exclude_persistent_lag = true;
    let mut a = Autoscaler::new(s, 2, Start::Active);
    let lag = offsets(30);
    let ok = [Found::Value(1.0)];
    let failing = [Found::Error(ScalerError::MetricUnavailable)];
    let with = |others| Inputs {
        kafka: Observed::Offsets(&lag),
        others,
        pods: None,
    };
    let d = a.evaluate_with(0, &with(&ok));
    assert_eq!(d[0].metric, 30, "first read: nothing to compare with");
    let d = a.evaluate_with(15_000, &with(&ok));
    assert_eq!(d[0].metric, 0, "the same committed offsets: persistent");
    let d = a.evaluate_with(30_000, &with(&failing));
    assert_eq!((d[0].active, d[0].why), (true, Why::Keda(KedaAction::Hold)));
    let d = a.evaluate_with(45_000, &with(&ok));
    assert_eq!(
        d[0].metric, 30,
        "ClearScalersCache dropped every scaler: the Kafka scaler is built again and forgot"
    );
}

/// horizontal.go computeReplicasForMetrics: some metric invalid and the rest proposing
/// fewer than now: no scaling, no recommendation; proposing more: it scales.
#[test]
fn a_failing_metric_blocks_scale_down_but_not_scale_up() {
    let mut a = Autoscaler::new(spec(KAFKA_AND_PROM), 4, Start::Active);
    let failing = [Found::Error(ScalerError::MetricUnavailable)];
    let low = offsets(5);
    let d = a.evaluate_with(
        15_000,
        &Inputs {
            kafka: Observed::Offsets(&low),
            others: &failing,
            pods: None,
        },
    );
    let sync = d.iter().find(|d| d.by == Controller::Hpa).unwrap();
    assert_eq!(
        (sync.replicas, sync.why),
        (4, Why::Hpa(HpaReason::FailedGetExternalMetric))
    );
    let high = offsets(40);
    let d = a.evaluate_with(
        30_000,
        &Inputs {
            kafka: Observed::Offsets(&high),
            others: &failing,
            pods: None,
        },
    );
    let sync = d.iter().find(|d| d.by == Controller::Hpa).unwrap();
    assert_eq!(
        sync.replicas, 8,
        "ceil(40 / 5): scales up past the failing metric"
    );
}

/// pkg/fallback/fallback.go GetMetricsWithFallback per metric: the failing trigger is
/// answered by its own fallback (threshold 0: its first failure), the other keeps its
/// real metric, and the HPA takes the larger.
#[test]
fn each_trigger_falls_back_on_its_own() {
    let yaml = KAFKA_AND_PROM.replace(
        "  triggers:",
        "  fallback: {failureThreshold: 0, replicas: 6}\n  triggers:",
    );
    let mut a = Autoscaler::new(spec(&yaml), 4, Start::Active);
    let lag = offsets(20);
    let failing = [Found::Error(ScalerError::MetricUnavailable)];
    let inputs = Inputs {
        kafka: Observed::Offsets(&lag),
        others: &failing,
        pods: None,
    };
    let d = a.evaluate_detailed(15_000, &inputs);
    let (sync, details) = d.iter().find(|(d, _)| d.by == Controller::Hpa).unwrap();
    assert_eq!(
        sync.replicas, 6,
        "prometheus: 10 x 6 replicas; kafka: 20 / 5 = 4"
    );
    assert_eq!(details[1].value_milli, Some(60_000));
    assert_eq!(details[0].value_milli, Some(20_000));
}

/// Two Kafka triggers on two topics: each reads its own offsets; the larger lag wins.
#[test]
fn two_kafka_triggers_read_their_own_topics() {
    let yaml = KAFKA_AND_PROM.replace(
        "    - type: prometheus\n      name: prom\n      metadata: {serverAddress: 'http://p:9090', query: q, threshold: '10'}",
        "    - type: kafka\n      metadata: {bootstrapServers: 'k:9092', consumerGroup: g, topic: t2, lagThreshold: '5'}",
    );
    let mut a = Autoscaler::new(spec(&yaml), 1, Start::Active);
    let (first, second) = (offsets(4), offsets(33));
    let others = [Found::Offsets(&second)];
    let inputs = Inputs {
        kafka: Observed::Offsets(&first),
        others: &others,
        pods: None,
    };
    let d = a.evaluate_with(15_000, &inputs);
    assert_eq!(
        d[1].replicas, 4,
        "t2's 33 -> ceil(6.6) = 7, limited to max(2 x 1, 4) (no behavior: the legacy path)"
    );
}

/// getScaledObjectState's cpuMemCount rule: only cpu/memory triggers: always active, so
/// KEDA scales 0 -> 1 (the webhook refuses minReplicaCount 0 for them).
#[test]
fn only_cpu_triggers_are_always_active() {
    let yaml = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: so}
spec:
  scaleTargetRef: {name: consumer}
  minReplicaCount: 1
  maxReplicaCount: 4
  triggers:
    - type: cpu
      metricType: Utilization
      metadata: {value: '50'}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: consumer}
spec:
  template:
    spec:
      containers: [{name: c, image: x, resources: {requests: {cpu: 100m}}}]
"#;
    let mut a = Autoscaler::new(spec(yaml), 0, Start::Created);
    let none: Vec<Offsets> = Vec::new();
    let pods = [PodMetric {
        cpu_milli: Some(90),
        ..PodMetric::running(0, 600_000)
    }];
    let inputs = Inputs {
        kafka: Observed::Offsets(&none),
        others: &[],
        pods: Some(&pods),
    };
    let d = a.evaluate_with(0, &inputs);
    assert_eq!((d[0].active, d[0].replicas), (true, 1));
    let d = a.evaluate_with(600_000, &inputs);
    assert!(d.iter().all(|d| d.replicas >= 1), "never to zero: {d:?}");
    assert_eq!(a.replicas(), 2, "90 % of 100m against 50 %: ceil(1.8)");
}
