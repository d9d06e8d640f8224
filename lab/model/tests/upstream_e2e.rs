//! KEDA v2.20.2's end-to-end tests reproduced through `lab plan`'s code path
//! (`lab_model::plan::run`): the ScaledObjects those tests apply, the metric values and
//! failures they cause step by step (as trace lines), and the replica counts they wait
//! for. Each test names the upstream test it follows; the sources the values stand in
//! for (a metrics API, a ConfigMap, a workload's pod count, the pods' CPU) are value
//! triggers and pod readings in the trace.

use lab_model::keda::load_text;
use lab_model::trace::parse_trace;

/// The plan's lines for `so` over `trace` from `replicas`, until `until` seconds.
fn plan(so: &str, trace: &str, replicas: u32, until: f64) -> Vec<serde_json::Value> {
    let spec = load_text(so, "so.yaml")
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let samples = parse_trace(trace).unwrap();
    let mut out = Vec::new();
    lab_model::plan::run(spec, &samples, replicas, Some(until), &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The replica count after the last evaluation at or before `t` seconds.
fn at(lines: &[serde_json::Value], t: f64) -> u64 {
    lines
        .iter()
        .rfind(|l| l["t"].as_f64().unwrap() <= t)
        .map_or(0, |l| l["replicas"].as_u64().unwrap())
}

/// Every count from `from` to `to` seconds (inclusive).
fn between(lines: &[serde_json::Value], from: f64, to: f64) -> Vec<u64> {
    lines
        .iter()
        .filter(|l| (from..=to).contains(&l["t"].as_f64().unwrap()))
        .map(|l| l["replicas"].as_u64().unwrap())
        .collect()
}

/// A trace line at `t` with the given trigger readings (JSON object text).
fn line(t: u32, triggers: &str) -> String {
    format!("{{\"t\": {t}, \"partitions\": [], \"triggers\": {triggers}}}\n")
}

const MODIFIERS_SO: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: scaling-modifiers-test-so, namespace: scaling-modifiers-test-ns}
spec:
  scaleTargetRef: {name: scaling-modifiers-test-deployment}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 5}
    scalingModifiers:
      formula: FORMULA
      target: '2'
      activationTarget: '2'
  pollingInterval: 5
  cooldownPeriod: 5
  minReplicaCount: 0
  maxReplicaCount: 10
  fallback: {replicas: 5, failureThreshold: 3}
  triggers:
  - type: metrics-api
    name: metrics_api
    metadata: {url: "http://metrics/api/value", valueLocation: 'value', method: "query"}
    metricType: "AverageValue"
  - type: kubernetes-workload
    name: kw_trig
    metadata: {podSelector: pod=workload-test}
    metricType: "AverageValue"
"#;

/// tests/internals/scaling_modifiers/scaling_modifiers_test.go TestScalingModifiers,
/// testFormula, first ScaledObject (`metrics_api + kw_trig`, static fallback 5):
/// metric 0 and no workload pods: 0 + 0 is not above activationTarget 2, 0 replicas for
/// 60 s; metric 3 and 2 workload pods: 5 -> ceil(5 / 2) = 3; the metrics API scaled to 0:
/// past failureThreshold 3 the fallback makes the composite 2 x 5 -> 5 replicas, held for
/// 60 s; the API back with metric 2: 2 + 2 = 4 -> 2.
#[test]
fn scaling_modifiers_test_formula_with_static_fallback() {
    let so = MODIFIERS_SO.replace("FORMULA", "metrics_api + kw_trig");
    let trace = [
        line(
            0,
            r#"{"metrics_api": {"value": 0}, "kw_trig": {"value": 0}}"#,
        ),
        line(
            60,
            r#"{"metrics_api": {"value": 3}, "kw_trig": {"value": 2}}"#,
        ),
        line(
            180,
            r#"{"metrics_api": {"error": "metric unavailable"}, "kw_trig": {"value": 2}}"#,
        ),
        line(
            300,
            r#"{"metrics_api": {"value": 2}, "kw_trig": {"value": 2}}"#,
        ),
    ]
    .concat();
    let lines = plan(&so, &trace, 0, 420.0);
    assert!(
        between(&lines, 0.0, 59.0).iter().all(|r| *r == 0),
        "held at 0 for 60 s"
    );
    assert_eq!(at(&lines, 120.0), 3, "5 / 2 -> 3");
    assert!(
        between(&lines, 181.0, 299.0).contains(&3),
        "held while failures <= 3"
    );
    assert_eq!(at(&lines, 240.0), 5, "fallback: 2 x 5 replicas");
    assert!(
        between(&lines, 240.0, 299.0).iter().all(|r| *r == 5),
        "5 for 60 s"
    );
    assert_eq!(at(&lines, 400.0), 2, "2 + 2 = 4 -> 2");
}

/// scaling_modifiers_test.go testFormula, second ScaledObject (`count([kw_trig,
/// metrics_api],{#>1}) > 1 ? 5 : 0`): metric 0 with 2 workload pods counts one value
/// above 1 -> 0, not above activationTarget 2 -> 0 replicas; metric 2: two values -> 5
/// -> ceil(5 / 2) = 3.
#[test]
fn scaling_modifiers_test_count_formula() {
    let so = MODIFIERS_SO.replace(
        "FORMULA",
        "\"count([kw_trig,metrics_api],{#>1}) > 1 ? 5 : 0\"",
    );
    let trace = [
        line(
            0,
            r#"{"metrics_api": {"value": 0}, "kw_trig": {"value": 2}}"#,
        ),
        line(
            120,
            r#"{"metrics_api": {"value": 2}, "kw_trig": {"value": 2}}"#,
        ),
    ]
    .concat();
    let lines = plan(&so, &trace, 2, 240.0);
    assert_eq!(
        at(&lines, 60.0),
        0,
        "count 1: formula 0: inactive: scaled to 0"
    );
    assert_eq!(at(&lines, 200.0), 3);
}

const FALLBACK_SO: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: fallback-sm-so, namespace: fallback-sm-ns}
spec:
  scaleTargetRef: {name: fallback-sm-deployment}
  pollingInterval: 5
  cooldownPeriod: 5
  minReplicaCount: 1
  maxReplicaCount: 20
  fallback: {behavior: scalingModifiers, failureThreshold: 3, replicas: 4}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 5}
    scalingModifiers:
      target: '2'
      formula: 'primary ?? secondary ?? 8'
  triggers:
  - type: kubernetes-resource
    name: primary
    metadata: {resourceKind: ConfigMap, resourceName: primary, key: value, targetValue: '2'}
  - type: kubernetes-resource
    name: secondary
    metadata: {resourceKind: ConfigMap, resourceName: secondary, key: value, targetValue: '2'}
"#;

/// tests/internals/fallback/fallback_scaling_modifiers_test.go: primary 16 -> 8
/// replicas; the primary ConfigMap deleted: at or below failureThreshold 3 the count
/// holds, past it the formula reads nil for it and falls to secondary 12 -> 6; both
/// deleted: the literal 8 -> 4 (fallback.replicas is not used: the formula gave a
/// value); both back -> 8.
#[test]
fn fallback_scaling_modifiers_test() {
    let trace = [
        line(0, r#"{"primary": {"value": 16}, "secondary": {"value": 12}}"#),
        line(120, r#"{"primary": {"error": "metric unavailable"}, "secondary": {"value": 12}}"#),
        line(300, r#"{"primary": {"error": "metric unavailable"}, "secondary": {"error": "metric unavailable"}}"#),
        line(480, r#"{"primary": {"value": 16}, "secondary": {"value": 12}}"#),
    ]
    .concat();
    let lines = plan(FALLBACK_SO, &trace, 0, 600.0);
    assert_eq!(at(&lines, 100.0), 8);
    assert_eq!(
        at(&lines, 125.0),
        8,
        "failing, not past the threshold yet: held"
    );
    assert_eq!(at(&lines, 280.0), 6, "secondary 12 / 2");
    assert_eq!(at(&lines, 460.0), 4, "the literal 8 / 2");
    assert_eq!(at(&lines, 590.0), 8, "healthy again");
}

const CPU_DEPLOYMENT: &str = r#"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cpu-test-deployment, namespace: cpu-test-ns}
spec:
  selector: {matchLabels: {run: cpu-test-deployment}}
  template:
    metadata: {labels: {run: cpu-test-deployment}}
    spec:
      containers:
      - name: cpu-test-deployment
        image: registry.k8s.io/hpa-example
        resources: {limits: {cpu: 500m}, requests: {cpu: 200m}}
"#;

/// tests/scalers/cpu/cpu_test.go, scaling out and in on CPU (`cpu` Utilization 50,
/// min 1, max 2, scaleDown stabilization 0; requests.cpu 200m): one pod at 150m (75 %)
/// -> 2 (max); the load gone, 10m each -> 1, and it stays 1.
#[test]
fn cpu_test_scale_out_and_in() {
    let so = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: cpu-test-so, namespace: cpu-test-ns}
spec:
  scaleTargetRef: {name: cpu-test-deployment}
  minReplicaCount: 1
  maxReplicaCount: 2
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 0}
  triggers:
  - type: cpu
    metricType: Utilization
    metadata: {value: "50"}
"#
    .to_owned()
        + CPU_DEPLOYMENT;
    let pods = |cpu: u32| {
        format!("{{\"t\": T, \"partitions\": [], \"pods\": [{{\"cpu_millicores\": {cpu}}}, {{\"cpu_millicores\": {cpu}}}]}}\n")
    };
    let trace = [
        pods(20).replace('T', "0"),
        pods(150).replace('T', "60"),
        pods(10).replace('T', "180"),
    ]
    .concat();
    let lines = plan(&so, &trace, 1, 360.0);
    assert_eq!(at(&lines, 55.0), 1, "10 % of 200m: within min 1");
    assert_eq!(at(&lines, 120.0), 2, "75 % -> ceil(1.5) = 2 (max 2)");
    assert_eq!(at(&lines, 240.0), 1, "5 % -> 1");
    assert!(
        between(&lines, 240.0, 360.0).iter().all(|r| *r == 1),
        "stays 1"
    );
}

/// cpu_test.go, the second ScaledObject (cpu Utilization 50 + kubernetes-workload value
/// 1; min 0, max 5, pollingInterval 1, cooldown 1): with no workload pods the external
/// trigger is inactive and KEDA scales to 0, whatever the cpu trigger (it never makes
/// the ScaledObject active); 5 workload pods -> 5; none again -> 0.
#[test]
fn cpu_test_scale_to_zero_with_an_external_trigger() {
    let so = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: cpu-test-so, namespace: cpu-test-ns}
spec:
  scaleTargetRef: {name: cpu-test-deployment}
  pollingInterval: 1
  cooldownPeriod: 1
  minReplicaCount: 0
  maxReplicaCount: 5
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown: {stabilizationWindowSeconds: 1}
  triggers:
  - type: cpu
    metricType: Utilization
    metadata: {value: "50"}
  - type: kubernetes-workload
    metadata: {podSelector: 'pod=cpu-test-workload', value: '1'}
"#
    .to_owned()
        + CPU_DEPLOYMENT;
    let workload = |t: u32, n: u32| {
        format!("{{\"t\": {t}, \"partitions\": [], \"triggers\": {{\"1\": {{\"value\": {n}}}}}, \"pods\": [{{\"cpu_millicores\": 150}}]}}\n")
    };
    let trace = [workload(0, 0), workload(60, 5), workload(180, 0)].concat();
    let lines = plan(&so, &trace, 1, 300.0);
    assert_eq!(
        at(&lines, 30.0),
        0,
        "inactive external trigger: 0, despite 75 % CPU"
    );
    assert_eq!(at(&lines, 150.0), 5, "5 pods / value 1");
    assert_eq!(at(&lines, 290.0), 0);
}

/// tests/scalers/memory/memory_test.go (requests.memory 50Mi, `memory` Utilization,
/// min 1, max 2; the hpa-example pods here at 8Mi, 16 % of the request): the
/// ScaledObject with value "1" (1 %) -> 2 (max); re-applied with value "45" -> 1.
#[test]
fn memory_test_scale_out_and_in() {
    let so = |value: &str| {
        format!(
            r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {{name: memory-test-so, namespace: memory-test-ns}}
spec:
  scaleTargetRef: {{name: memory-test-deployment}}
  minReplicaCount: 1
  maxReplicaCount: 2
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          stabilizationWindowSeconds: 0
          policies: [{{type: Pods, value: 1, periodSeconds: 10}}]
  triggers:
  - type: memory
    metricType: Utilization
    metadata: {{value: "{value}"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: memory-test-deployment, namespace: memory-test-ns}}
spec:
  selector: {{matchLabels: {{run: memory-test-deployment}}}}
  template:
    metadata: {{labels: {{run: memory-test-deployment}}}}
    spec:
      containers:
      - name: memory-test-deployment
        image: registry.k8s.io/hpa-example
        resources: {{limits: {{memory: 100Mi}}, requests: {{memory: 50Mi}}}}
"#
        )
    };
    let trace = "{\"t\": 0, \"partitions\": [], \"pods\": [{\"memory_bytes\": 8388608}, {\"memory_bytes\": 8388608}]}\n";
    let up = plan(&so("1"), trace, 1, 120.0);
    assert_eq!(at(&up, 100.0), 2, "16 % against 1 %: max 2");
    let down = plan(&so("45"), trace, 2, 120.0);
    assert_eq!(at(&down, 100.0), 1, "16 % against 45 % -> 1");
}

/// memory_test.go, the second ScaledObject (memory Utilization 45 + kubernetes-workload
/// value 1; min 0, max 5, pollingInterval 1, cooldown 1): no workload pods -> 0 whatever
/// the memory; 5 pods -> 5; none -> 0.
#[test]
fn memory_test_scale_to_zero_with_an_external_trigger() {
    let so = CPU_DEPLOYMENT.replace("cpu-test", "memory-test").replace(
        "{limits: {cpu: 500m}, requests: {cpu: 200m}}",
        "{limits: {memory: 100Mi}, requests: {memory: 50Mi}}",
    );
    let so = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: memory-test-so, namespace: memory-test-ns}
spec:
  scaleTargetRef: {name: memory-test-deployment}
  pollingInterval: 1
  cooldownPeriod: 1
  minReplicaCount: 0
  maxReplicaCount: 5
  triggers:
  - type: memory
    metricType: Utilization
    metadata: {value: "45"}
  - type: kubernetes-workload
    metadata: {podSelector: 'pod=memory-test-workload', value: '1'}
"#
    .to_owned()
        + &so;
    let workload = |t: u32, n: u32| {
        format!("{{\"t\": {t}, \"partitions\": [], \"triggers\": {{\"1\": {{\"value\": {n}}}}}, \"pods\": [{{\"memory_bytes\": 41943040}}]}}\n")
    };
    let trace = [workload(0, 0), workload(60, 5), workload(180, 0)].concat();
    let lines = plan(&so, &trace, 1, 300.0);
    assert_eq!(
        at(&lines, 30.0),
        0,
        "inactive external trigger: 0, despite 80 % memory"
    );
    assert_eq!(at(&lines, 150.0), 5);
    assert_eq!(at(&lines, 290.0), 0);
}
