//! `lab doctor` names the rule for cluster states taken from what users report to KEDA,
//! each served by the API stand-in as KEDA v2.20.2 and Kubernetes 1.35 write them, with
//! the group's offsets in the embedded broker:
//!
//! - stuck at max because lag is counted on partitions no consumer works off
//!   (kedacore/keda#5675, #3997: lag KEDA keeps counting);
//! - scale to zero blocked by minReplicaCount (kedacore/keda#2314's question);
//! - fallback active (pkg/fallback/fallback.go);
//! - paused (autoscaling.keda.sh/paused);
//! - the HPA's ScalingLimited by maxReplicas;
//! - KEDA's metric disagreeing with the lag;
//!
//! and a healthy one exits 0. Exit status: 0 healthy, 1 something to look at, 2 could not
//! read.

mod support;

use std::time::Duration;

use harness::apiserver::MetricAnswer;
use serde_json::{json, Value};
use support::cluster::{condition, StandIn, HPA, METRIC, NAME, NAMESPACE};
use support::{temp_dir, text};

/// `lab doctor --format json` and its text, with the exit status.
fn doctor(stand_in: &StandIn, window: &str) -> (Option<i32>, Value, String) {
    let args = |format: &str| {
        vec![
            "doctor",
            "-n",
            NAMESPACE,
            "--scaled-object",
            NAME,
            "--window",
            window,
            "--brokers",
            stand_in.broker.bootstrap(),
            "--format",
            format,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let run = |format: &str| {
        let a = args(format);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        stand_in.lab(&refs).output().unwrap()
    };
    let json_run = run("json");
    let stdout = text(&json_run.stdout);
    let diagnosis: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", text(&json_run.stderr)));
    let text_run = run("text");
    assert_eq!(text_run.status.code(), json_run.status.code());
    // Shown with --nocapture: each case's diagnosis as a user reads it.
    eprintln!(
        "--- lab doctor (exit {:?})\n{}",
        text_run.status.code(),
        text(&text_run.stdout)
    );
    (json_run.status.code(), diagnosis, text(&text_run.stdout))
}

fn rules(diagnosis: &Value, look: bool) -> Vec<String> {
    diagnosis["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["look"] == look)
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

fn holds(diagnosis: &Value) -> Vec<String> {
    diagnosis["holds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["why"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn stuck_at_max_with_lag_no_consumer_works_off() {
    let dir = temp_dir("doctor-stuck-at-max");
    let stand_in = StandIn::start(&dir, 10, 10, "5");
    stand_in.produce(30);
    stand_in.commit(30); // every partition 30 behind, and nobody commits
    stand_in
        .api
        .set_metric(METRIC, MetricAnswer::Value("50".into()));
    stand_in.put_hpa(10, 10, "5", &["TooManyReplicas"]);
    let (code, d, text) = doctor(&stand_in, "2");
    assert_eq!(code, Some(1), "{text}");
    let look = rules(&d, true);
    assert!(
        look.contains(&"hpa-at-max".to_owned())
            && look.contains(&"lag-without-consumer".to_owned()),
        "{look:?}"
    );
    assert!(
        text.contains("stuck at max because lag is counted on partitions no consumer works off"),
        "{text}"
    );
    assert_eq!(holds(&d), ["hpa:too-many-replicas"], "{text}");
    assert!(
        text.contains("horizontal.go normalizeDesiredReplicas"),
        "each rule names its source: {text}"
    );
}

#[test]
fn at_max_while_the_consumers_work_off_the_lag() {
    let dir = temp_dir("doctor-at-max");
    let stand_in = StandIn::start(&dir, 10, 10, "5");
    stand_in.produce(30);
    stand_in.commit(30);
    stand_in
        .api
        .set_metric(METRIC, MetricAnswer::Value("50".into()));
    stand_in.put_hpa(10, 10, "5", &["TooManyReplicas"]);
    // The consumers commit during the doctor's window: every partition moves.
    let working = std::thread::scope(|scope| {
        scope.spawn(|| {
            for lag in [28, 26, 24, 22, 20, 18, 16, 14] {
                std::thread::sleep(Duration::from_millis(400));
                stand_in.commit(lag);
            }
        });
        doctor(&stand_in, "2")
    });
    let (code, d, text) = working;
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(rules(&d, true), ["hpa-at-max"], "{text}");
}

#[test]
fn scale_to_zero_blocked_by_min_replica_count() {
    let dir = temp_dir("doctor-min");
    let stand_in = StandIn::start(&dir, 4, 1, "0");
    stand_in.produce(3);
    stand_in.commit(0);
    stand_in.put_scaled_object(|so| {
        so["spec"]["minReplicaCount"] = json!(1);
        so["status"]["conditions"][1] = condition(
            "Active",
            "False",
            "ScalerNotActive",
            "Scaling is not performed because triggers are not active",
        );
    });
    let (code, d, text) = doctor(&stand_in, "1");
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(rules(&d, true), ["min-blocks-zero"], "{text}");
    assert!(
        text.contains("KEDA scales to zero only from minReplicaCount 0"),
        "{text}"
    );
}

#[test]
fn fallback_active() {
    let dir = temp_dir("doctor-fallback");
    let stand_in = StandIn::start(&dir, 4, 2, "15");
    stand_in.produce(1);
    stand_in.commit(0);
    stand_in
        .api
        .set_metric(METRIC, MetricAnswer::Value("30".into()));
    stand_in.put_scaled_object(|so| {
        so["spec"]["fallback"] = json!({"failureThreshold": 3, "replicas": 6});
        so["status"]["health"] = json!({METRIC: {"numberOfFailures": 5, "status": "Failing"}});
        so["status"]["conditions"][2] = condition(
            "Fallback",
            "True",
            "FallbackExists",
            "At least one trigger is falling back on this scaled object",
        );
    });
    let (code, d, text) = doctor(&stand_in, "1");
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(
        rules(&d, true),
        ["fallback-active"],
        "a fallback's metric is no disagreement: {text}"
    );
    assert!(
        text.contains("5 failed calls (failureThreshold 3); the HPA is served lagThreshold x 6"),
        "{text}"
    );
    assert!(text.contains("pkg/fallback/fallback.go"), "{text}");
}

#[test]
fn paused() {
    let dir = temp_dir("doctor-paused");
    let stand_in = StandIn::start(&dir, 4, 2, "0");
    stand_in.commit(0);
    stand_in.put_scaled_object(|so| {
        so["metadata"]["annotations"] = json!({"autoscaling.keda.sh/paused": "true"});
        so["status"]["conditions"][3] = condition(
            "Paused",
            "True",
            "ScaledObjectPaused",
            "ScaledObject is paused",
        );
    });
    stand_in
        .api
        .delete(&stand_in.key("apis/autoscaling/v2", "horizontalpodautoscalers", HPA));
    let (code, d, text) = doctor(&stand_in, "1");
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(rules(&d, true), ["paused"], "{text}");
    assert_eq!(holds(&d), ["keda:paused"], "{text}");
}

#[test]
fn keda_s_metric_disagrees_with_the_lag() {
    let dir = temp_dir("doctor-metric");
    let stand_in = StandIn::start(&dir, 4, 1, "0");
    stand_in.produce(10);
    stand_in.commit(10);
    let (code, d, text) = doctor(&stand_in, "1");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        rules(&d, true).contains(&"metric-disagrees".to_owned()),
        "{text}"
    );
    assert!(
        text.contains("KEDA serves metric 0, but the lag read from Kafka gives 20"),
        "{text}"
    );
}

#[test]
fn a_healthy_scaled_object_exits_0_with_its_rules_and_advice() {
    let dir = temp_dir("doctor-healthy");
    let stand_in = StandIn::start(&dir, 4, 1, "0");
    stand_in.produce(2);
    stand_in.commit(0);
    stand_in.put_scaled_object(|so| {
        so["status"]["conditions"][1] = condition(
            "Active",
            "False",
            "ScalerNotActive",
            "Scaling is not performed because triggers are not active",
        );
    });
    let (code, d, text) = doctor(&stand_in, "1");
    assert_eq!(code, Some(0), "{text}");
    assert!(rules(&d, true).is_empty(), "{text}");
    // Still: the rule holding it, KEDA's next step, and advice on the settings.
    assert_eq!(holds(&d), ["hpa:too-few-replicas"], "{text}");
    assert!(
        text.contains("the HPA's proposal is 0, raised to minReplicas 1"),
        "{text}"
    );
    assert!(
        text.contains("keda:deactivate") && text.contains("cooldownPeriod 30 s"),
        "{text}"
    );
    assert!(
        rules(&d, false).contains(&"cooldown-not-above-polling".to_owned()),
        "{text}"
    );
}

#[test]
fn what_it_cannot_read_exits_2() {
    let dir = temp_dir("doctor-unread");
    let stand_in = StandIn::start(&dir, 2, 1, "0");
    stand_in.api.set_metric(
        METRIC,
        MetricAnswer::Error(
            "error when getting metric values metric:s0-kafka-event encountered error".into(),
        ),
    );
    let (code, d, text) = doctor(&stand_in, "0");
    assert_eq!(code, Some(2), "{text}");
    assert!(
        d["unread"][0]
            .as_str()
            .unwrap()
            .starts_with("KEDA's metric: list s0-kafka-event.external.metrics.k8s.io answered 500"),
        "{text}"
    );
    stand_in.api.forbid("get", "scaledobjects");
    let output = stand_in
        .lab(&["doctor", "-n", NAMESPACE, "--scaled-object", NAME])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text_of(&output.stderr).contains("may not get scaledobjects.keda.sh"));
}

fn text_of(bytes: &[u8]) -> String {
    text(bytes)
}
