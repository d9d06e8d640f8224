//! KEDA v2.20.2 unit and e2e expectations reproduced through the emulator's public parts
//! (the formula's inputs through KEDA's cache and fallback, the ScaledJob executor over
//! the e2e tests' queues), each test naming the upstream test it follows.

use lab_model::emulator::jobs::{Calculation, JobScaler, JobSpec, ScalerMetrics, Strategy};
use lab_model::emulator::{
    Autoscaler, Controller, Found, Inputs, Observed, Offsets, ScalerError, Start,
};
use lab_model::keda::load_text;

const TWO_TRIGGERS: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: so}
spec:
  scaleTargetRef: {name: target}
  minReplicaCount: 1
  maxReplicaCount: 20
  fallback: {behavior: scalingModifiers, failureThreshold: 3, replicas: 7}
  advanced:
    scalingModifiers: {target: "2", formula: "trigger1 ?? trigger2"}
  triggers:
  - type: metrics-api
    name: trigger1
    metadata: {url: "http://m/api", valueLocation: value, targetValue: "2"}
  - type: metrics-api
    name: trigger2
    metadata: {url: "http://m/api", valueLocation: other, targetValue: "2"}
"#;

fn inputs<'a>(others: &'a [Found<'a>], none: &'a [Offsets]) -> Inputs<'a> {
    Inputs {
        kafka: Observed::Offsets(none),
        others,
        pods: None,
    }
}

/// formula_test.go TestScalingModifierTriggerValue, through the cache and the fallback
/// (threshold 3, behavior scalingModifiers): a failing trigger at or below the threshold
/// is an error (the poll holds, the formula is not what decides); from the fourth failed
/// call on (strictly above 3) the formula reads it as nil; a success reads the value and
/// sets the count back to 0.
#[test]
fn test_scaling_modifier_trigger_value() {
    let spec = load_text(TWO_TRIGGERS, "so.yaml").unwrap().spec;
    let mut a = Autoscaler::new(spec, 1, Start::Active);
    let none: Vec<Offsets> = Vec::new();
    let failing = [
        Found::Error(ScalerError::MetricUnavailable),
        Found::Value(7.0),
    ];
    let mut at = 0;
    let mut polls = Vec::new();
    while polls.len() < 5 {
        for (d, details) in a.evaluate_detailed(at, &inputs(&failing, &none)) {
            if d.by == Controller::Keda {
                polls.push(details);
            }
        }
        at += 30_000;
    }
    let trigger1: Vec<(u32, Option<lab_model::emulator::CallOutcome>)> =
        polls.iter().map(|p| (p[0].failures, p[0].call)).collect();
    use lab_model::emulator::CallOutcome::{Failed, FallbackNil};
    // Each poll's call and the HPA's request in between both count.
    assert_eq!(trigger1[0], (1, Some(Failed)));
    assert_eq!(
        trigger1[1],
        (3, Some(Failed)),
        "at the threshold: still an error"
    );
    assert!(
        trigger1[2..]
            .iter()
            .all(|(n, c)| *n > 3 && *c == Some(FallbackNil)),
        "{trigger1:?}"
    );
    assert_eq!(
        polls[1][2].value_milli,
        Some(7000),
        "nil ?? 7: trigger2's value"
    );
    let healthy = [Found::Value(5.0), Found::Value(7.0)];
    let d = a.evaluate_detailed(at, &inputs(&healthy, &none));
    let poll = &d.iter().find(|(d, _)| d.by == Controller::Keda).unwrap().1;
    assert_eq!((poll[0].failures, poll[2].value_milli), (0, Some(5000)));
}

/// formula_test.go TestCalculateScalingModifiersFormulaFallbackReplicas: both triggers
/// past the threshold read nil, `trigger1 ?? trigger2` is nil, and the composite metric
/// is fallback.replicas x target = 7 x 2 = 14, which the HPA turns into 7 replicas.
#[test]
fn test_calculate_scaling_modifiers_formula_fallback_replicas() {
    let spec = load_text(TWO_TRIGGERS, "so.yaml").unwrap().spec;
    let mut a = Autoscaler::new(spec, 1, Start::Active);
    let none: Vec<Offsets> = Vec::new();
    let both = [
        Found::Error(ScalerError::MetricUnavailable),
        Found::Error(ScalerError::MetricUnavailable),
    ];
    let mut last = Vec::new();
    for at in (0..=120_000).step_by(15_000) {
        last.extend(a.evaluate_detailed(at, &inputs(&both, &none)));
    }
    let (sync, details) = last
        .iter()
        .rev()
        .find(|(d, _)| d.by == Controller::Hpa)
        .unwrap();
    let composite = details
        .iter()
        .find(|d| d.metric == "composite-metric")
        .unwrap();
    assert_eq!(composite.value_milli, Some(14_000));
    assert_eq!(composite.proposal, Some(7));
    assert_eq!(sync.replicas, 7);
}

/// A ScaledJob's executor over one queue trigger (target 1) as the e2e tests' RabbitMQ and
/// Azure queues give it: (queue length, running Jobs, pending Jobs) at each poll.
fn poll(jobs: &JobScaler, queue: f64, running: i64, pending: i64) -> i64 {
    let m = [ScalerMetrics {
        queue_length: queue,
        max_value: queue.min(jobs.spec().max_replicas as f64),
        is_active: queue > 0.0,
    }];
    jobs.decide(0, &m, false, running, pending).created
}

fn scaled_job(strategy: Strategy) -> JobScaler {
    JobScaler::new(JobSpec {
        polling_interval: 5_000,
        min_replicas: 0,
        max_replicas: 10,
        strategy,
        calculation: Calculation::Max,
        pending_pod_conditions: Vec::new(),
        triggers: Vec::new(),
    })
}

/// tests/internals/scaling_strategies/eager_scaling_strategy_test.go (RabbitMQ
/// QueueLength, value 1, maxReplicaCount 10, pollingInterval 5; Jobs sleep and consume
/// nothing): 4 messages -> 4 Jobs; the next poll, the same 4 messages and 4 running
/// Jobs -> 4 more: 8 (the test's second publish lands after it); 8 messages more ->
/// min(10 - 8, 16) = 2 more: 10, and no more.
#[test]
fn eager_scaling_strategy_test() {
    let jobs = scaled_job(Strategy::Eager);
    assert_eq!(poll(&jobs, 4.0, 0, 0), 4);
    assert_eq!(poll(&jobs, 4.0, 4, 0), 4, "8 Jobs");
    assert_eq!(poll(&jobs, 8.0, 8, 0), 2, "10 Jobs");
    assert_eq!(poll(&jobs, 16.0, 10, 0), 0, "maxReplicaCount");
    let default = scaled_job(Strategy::Default);
    assert_eq!(
        poll(&default, 4.0, 4, 0),
        0,
        "the default strategy stays at 4"
    );
}

/// tests/internals/scaling_strategies/accurate_scaling_strategy_test.go (Azure queue,
/// queueLength 1, maxReplicaCount 10; each Job's init container drains one message, then
/// the Job sleeps): 4 messages -> 4 Jobs, nothing more while they are pending (4 - 4);
/// once they drained the queue nothing; 4 more messages with 4 running -> 4 (8 Jobs); 4
/// more with 8 running: 4 + 8 > 10 -> 10 - 8 = 2 (10 Jobs).
#[test]
fn accurate_scaling_strategy_test() {
    let jobs = scaled_job(Strategy::Accurate);
    assert_eq!(poll(&jobs, 4.0, 0, 0), 4);
    assert_eq!(poll(&jobs, 4.0, 4, 4), 0, "pending while draining");
    assert_eq!(poll(&jobs, 0.0, 4, 0), 0, "drained");
    assert_eq!(poll(&jobs, 4.0, 4, 0), 4, "8 Jobs");
    assert_eq!(poll(&jobs, 4.0, 8, 0), 2, "10 Jobs");
}
