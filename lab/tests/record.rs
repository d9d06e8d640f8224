//! `lab record` against the API stand-in and the embedded broker: the recording equals what
//! was served, second by second; failed reads are empty cells, counted and reported; a bad
//! request ends with one line and exit status 2.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use harness::apiserver::MetricAnswer;
use serde_json::Value;
use support::cluster::{StandIn, HPA, METRIC, NAME, NAMESPACE};
use support::{temp_dir, text};

/// A row of the recording's timeline.csv, the cells the test compares.
#[derive(Debug, serde::Deserialize)]
struct Row {
    t_s: f64,
    at: String,
    metric: Option<i64>,
    total_lag: Option<i64>,
    hpa_desired: Option<i32>,
    replicas: Option<i32>,
    running: Option<i32>,
    active: Option<bool>,
    scaling_limited: Option<String>,
    unread: usize,
}

fn rows(dir: &std::path::Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(dir.join("timeline.csv")).unwrap();
    reader.deserialize().map(Result::unwrap).collect()
}

fn parse_at(at: &str) -> SystemTime {
    let t: jiff::Timestamp = at.parse().unwrap();
    SystemTime::UNIX_EPOCH + Duration::from_millis(t.as_millisecond() as u64)
}

/// What the cluster held at a moment: set by the test as it changes it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct State {
    replicas: i32,
    ready: i32,
    desired: i32,
    metric: i64,
    lag: i64,
    active: bool,
    limited: &'static str,
}

#[test]
fn the_recording_equals_what_was_served_second_by_second() {
    let dir = temp_dir("record-served");
    let stand_in = StandIn::start(&dir, 4, 1, "0");
    stand_in.produce(5);
    stand_in.commit(0);
    let out = dir.join("out");
    let brokers = stand_in.broker.bootstrap();
    let child = stand_in
        .lab(&[
            "record",
            "-n",
            NAMESPACE,
            "--scaled-object",
            NAME,
            "--seconds",
            "9",
            "--brokers",
            brokers,
            "--out",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let states = serve(&stand_in);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let recorded = rows(&out);
    assert!(
        (8..=10).contains(&recorded.len()),
        "{} rows",
        recorded.len()
    );
    let compared = compare(&recorded, &states);
    assert!(compared >= 6, "only {compared} rows away from a change");
    // The grid: one row a second.
    for pair in recorded.windows(2) {
        let step = pair[1].t_s - pair[0].t_s;
        assert!((0.9..=1.1).contains(&step), "{step}");
    }
    files_beside(&out, &recorded);
    // lab report reads the recording as it reads a replay's timeline.
    let timeline = out.join("timeline.csv");
    let report = support::lab(&[
        "report",
        timeline.to_str().unwrap(),
        "--out",
        dir.join("report").to_str().unwrap(),
    ]);
    assert!(report.status.success(), "{}", text(&report.stderr));
}

/// Serves the cluster's changes at 2.6 s and 5.6 s: the lag and KEDA's scale-out, then the
/// consumers catching up; returns each state with the moment it was set.
fn serve(stand_in: &StandIn) -> Vec<(SystemTime, State)> {
    let mut states = vec![(
        SystemTime::now(),
        State {
            replicas: 1,
            ready: 1,
            desired: 1,
            metric: 0,
            lag: 0,
            active: true,
            limited: "True/TooFewReplicas",
        },
    )];
    let started = Instant::now();
    let at =
        |s: f64| std::thread::sleep(Duration::from_secs_f64(s).saturating_sub(started.elapsed()));
    at(2.6);
    stand_in.produce(3); // lag 3 on each of 4 partitions
    stand_in
        .api
        .set_metric(METRIC, MetricAnswer::Value("12".into()));
    stand_in.put_hpa(1, 3, "12", &[]);
    stand_in.put_deployment(3, 1);
    stand_in.put_event(
        "so.1",
        ("ScaledObject", NAME),
        "Normal",
        "KEDAScaleTargetActivated",
        "Scaled apps/v1.Deployment lab/kafka-consumer from 1 to 3, triggered by s0-kafka-event",
        "keda-operator",
    );
    stand_in.put_event(
        "hpa.1",
        ("HorizontalPodAutoscaler", HPA),
        "Normal",
        "SuccessfulRescale",
        "New size: 3; reason: external metric s0-kafka-event above target",
        "horizontal-pod-autoscaler",
    );
    states.push((
        SystemTime::now(),
        State {
            replicas: 3,
            ready: 1,
            desired: 3,
            metric: 12,
            lag: 12,
            active: true,
            limited: "False/DesiredWithinRange",
        },
    ));
    at(5.6);
    stand_in.commit(0);
    stand_in
        .api
        .set_metric(METRIC, MetricAnswer::Value("0".into()));
    stand_in.put_hpa(3, 3, "0", &[]);
    stand_in.put_deployment(3, 3);
    stand_in.put_scaled_object(|so| {
        so["status"]["conditions"][1] = support::cluster::condition(
            "Active",
            "False",
            "ScalerNotActive",
            "Scaling is not performed because triggers are not active",
        )
    });
    states.push((
        SystemTime::now(),
        State {
            replicas: 3,
            ready: 3,
            desired: 3,
            metric: 0,
            lag: 0,
            active: false,
            limited: "False/DesiredWithinRange",
        },
    ));
    states
}

/// Every row read away from a change (300 ms after, 100 ms before) shows the state
/// served then; returns how many rows were compared.
fn compare(recorded: &[Row], states: &[(SystemTime, State)]) -> usize {
    let mut compared = 0;
    for row in recorded {
        let at = parse_at(&row.at);
        let after = |t: &SystemTime| {
            at.duration_since(*t)
                .is_ok_and(|d| d < Duration::from_millis(300))
        };
        let before = |t: &SystemTime| {
            t.duration_since(at)
                .is_ok_and(|d| d < Duration::from_millis(100))
        };
        if states.iter().skip(1).any(|(t, _)| after(t) || before(t)) {
            continue;
        }
        let state = states
            .iter()
            .rev()
            .find(|(t, _)| *t <= at)
            .map(|(_, s)| *s)
            .unwrap();
        let seen = State {
            replicas: row.replicas.unwrap(),
            ready: row.running.unwrap(),
            desired: row.hpa_desired.unwrap(),
            metric: row.metric.unwrap(),
            lag: row.total_lag.unwrap(),
            active: row.active.unwrap(),
            limited: state.limited,
        };
        // Shown with --nocapture: the recording beside what was served.
        eprintln!(
            "t={:>4} served {state:?}\n       recorded {seen:?}",
            row.t_s
        );
        assert_eq!(seen, state, "row at t={} ({})", row.t_s, row.at);
        assert_eq!(row.unread, 0);
        assert_eq!(row.scaling_limited.as_deref(), Some(state.limited));
        compared += 1;
    }
    compared
}

/// trace.jsonl (a line per row, with the ready replicas: what tune --trace takes),
/// events.jsonl (KEDA's event on the ScaledObject, the HPA's on itself), recording.md.
fn files_beside(out: &std::path::Path, recorded: &[Row]) {
    let trace = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
    let lines: Vec<Value> = trace
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), recorded.len());
    assert!(lines
        .iter()
        .zip(recorded)
        .all(|(l, r)| l["replicas"].as_i64() == r.running.map(i64::from)));
    lab_model::trace::parse_trace(&trace).unwrap();
    let events = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    assert!(
        events.contains("\"reason\":\"KEDAScaleTargetActivated\"")
            && events.contains("\"object\":\"ScaledObject/kafka-consumer\""),
        "{events}"
    );
    assert!(
        events.contains("\"reason\":\"SuccessfulRescale\"")
            && events.contains("\"source\":\"horizontal-pod-autoscaler\""),
        "{events}"
    );
    let notes = std::fs::read_to_string(out.join("recording.md")).unwrap();
    assert!(notes.contains("Every read succeeded"), "{notes}");
}

#[test]
fn a_failed_read_is_an_empty_cell_counted_and_reported() {
    let dir = temp_dir("record-failures");
    let stand_in = StandIn::start(&dir, 2, 1, "0");
    stand_in.produce(2);
    stand_in.commit(0);
    let out = dir.join("out");
    let child = stand_in
        .lab(&[
            "record",
            "-n",
            NAMESPACE,
            "--scaled-object",
            NAME,
            "--seconds",
            "7",
            "--brokers",
            stand_in.broker.bootstrap(),
            "--out",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    // KEDA's metrics server fails for two seconds (a scaler error: 500, no reason).
    stand_in.api.set_metric(
        METRIC,
        MetricAnswer::Error(
            "error when getting metric values metric:s0-kafka-event encountered error".into(),
        ),
    );
    std::thread::sleep(Duration::from_millis(2000));
    stand_in
        .api
        .set_metric(METRIC, MetricAnswer::Value("0".into()));
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let recorded = rows(&out);
    let empty: Vec<&Row> = recorded.iter().filter(|r| r.metric.is_none()).collect();
    assert!((1..=3).contains(&empty.len()), "{recorded:#?}");
    assert!(
        empty.iter().all(|r| r.unread == 1 && r.replicas == Some(1)),
        "only the metric's cell is empty"
    );
    let notes = std::fs::read_to_string(out.join("recording.md")).unwrap();
    assert!(notes.contains(&format!("- external metric: {}, the first: list s0-kafka-event.external.metrics.k8s.io answered 500", empty.len())), "{notes}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("{} failed reads, in recording.md", empty.len())),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_writes_everything_recorded_so_far() {
    let dir = temp_dir("record-interrupted");
    let stand_in = StandIn::start(&dir, 2, 1, "0");
    let out = dir.join("out");
    let child = stand_in
        .lab(&[
            "record",
            "-n",
            NAMESPACE,
            "--scaled-object",
            NAME,
            "--brokers",
            stand_in.broker.bootstrap(),
            "--out",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    assert!(rows(&out).len() >= 3);
    assert!(std::fs::read_to_string(out.join("recording.md"))
        .unwrap()
        .contains("**Interrupted**"));
}

/// Each bad request: one line naming what is wrong, exit status 2.
#[test]
fn bad_requests_end_with_one_line_and_status_2() {
    let dir = temp_dir("record-refusals");
    let stand_in = StandIn::start(&dir, 2, 1, "0");
    let out = dir.join("out");
    let brokers = stand_in.broker.bootstrap().to_owned();
    let run = |name: &str, extra: &[&str]| {
        let mut args = vec![
            "record",
            "-n",
            NAMESPACE,
            "--scaled-object",
            name,
            "--seconds",
            "2",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let output = stand_in.lab(&args).output().unwrap();
        (output.status.code(), text(&output.stderr))
    };
    let (code, stderr) = run("orders", &["--brokers", &brokers]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("ScaledObject orders not found in namespace lab (it has: kafka-consumer)"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let (code, stderr) = run(NAME, &["--brokers", "127.0.0.1:1"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("brokers unreachable"), "{stderr}");

    stand_in.put_scaled_object(|so| so["status"]["hpaName"] = Value::Null);
    let (code, stderr) = run(NAME, &["--brokers", &brokers]);
    assert!(
        code == Some(1) && stderr.contains("has no HPA yet (status.hpaName is unset)"),
        "{code:?} {stderr}"
    );

    stand_in.put_scaled_object(|so| so["spec"]["triggers"][0] = serde_json::json!({"type": "cpu", "metricType": "Utilization", "metadata": {"value": "60"}}));
    let (code, stderr) = run(NAME, &["--brokers", &brokers]);
    assert!(
        code == Some(1) && stderr.contains("has no kafka trigger (triggers[0]: cpu)"),
        "{code:?} {stderr}"
    );

    stand_in.put_scaled_object(|_| {});
    stand_in.api.metrics_not_served();
    let (code, stderr) = run(NAME, &["--brokers", &brokers]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the external metrics API is not served (404"),
        "{stderr}"
    );

    stand_in.api.forbid("get", "scaledobjects");
    let (code, stderr) = run(NAME, &["--brokers", &brokers]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("forbidden: User \"system:serviceaccount:lab:lab-record\" may not get scaledobjects.keda.sh in namespace lab: the Role needs verb \"get\" on resource \"scaledobjects\" in API group \"keda.sh\""), "{stderr}");
}

/// The machine's kubectl reads the stand-in as it reads an API server: discovery, a list
/// with the ScaledObject's short name, a field of its status, the HPA, KEDA's metric.
#[test]
fn kubectl_reads_the_stand_in_as_an_api_server() {
    let dir = temp_dir("record-kubectl");
    let stand_in = StandIn::start(&dir, 2, 1, "7");
    let kubectl = |args: &[&str]| {
        let output = std::process::Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &stand_in.kubeconfig)
            .env("KUBECACHEDIR", dir.join("kube-cache"))
            .output()
            .expect("kubectl runs");
        assert!(
            output.status.success(),
            "kubectl {args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    };
    assert!(kubectl(&["get", "so"]).contains(NAME));
    assert_eq!(
        kubectl(&[
            "get",
            "scaledobject",
            NAME,
            "-o",
            "jsonpath={.status.hpaName}"
        ]),
        HPA
    );
    assert!(kubectl(&["get", "hpa"]).contains(HPA));
    assert_eq!(
        kubectl(&[
            "get",
            "deployment",
            NAME,
            "-o",
            "jsonpath={.status.readyReplicas}"
        ]),
        "1"
    );
    let raw = kubectl(&["get", "--raw", "/apis/external.metrics.k8s.io/v1beta1/namespaces/lab/s0-kafka-event?labelSelector=scaledobject.keda.sh%2Fname%3Dkafka-consumer"]);
    assert!(raw.contains("\"value\":\"7\""), "{raw}");
    stand_in.api.forbid("list", "horizontalpodautoscalers");
    let output = std::process::Command::new("kubectl")
        .args(["get", "hpa"])
        .env("KUBECONFIG", &stand_in.kubeconfig)
        .env("KUBECACHEDIR", dir.join("kube-cache"))
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(stderr.contains("Error from server (Forbidden): horizontalpodautoscalers.autoscaling is forbidden: User \"system:serviceaccount:lab:lab-record\" cannot list resource \"horizontalpodautoscalers\""), "{stderr}");
}

/// The (group, resource, verb) grants of the Roles in `file`.
fn grants(file: &str) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(lab_model::scenario::repo_root().join(file)).unwrap();
    let mut out = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let doc: serde_yaml_ng::Value = serde::Deserialize::deserialize(doc).unwrap();
        for rule in doc["rules"].as_sequence().into_iter().flatten() {
            let strings = |key: &str| -> Vec<String> {
                rule[key]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect()
            };
            for group in strings("apiGroups") {
                for resource in strings("resources") {
                    for verb in strings("verbs") {
                        out.push((group.clone(), resource.clone(), verb.clone()));
                    }
                }
            }
        }
    }
    out
}

/// k8s/lab-record's Role grants exactly the reads lab record and lab doctor make: with it
/// alone both read everything, and without any one of its grants one of them fails to.
#[test]
fn the_role_grants_exactly_the_reads_lab_makes() {
    let dir = temp_dir("record-rbac");
    let stand_in = StandIn::start(&dir, 2, 1, "0");
    stand_in.commit(0);
    let role = grants("k8s/lab-record/rbac.yaml");
    assert!(role.contains(&("external.metrics.k8s.io".into(), "*".into(), "list".into())));
    let brokers = stand_in.broker.bootstrap().to_owned();
    // Whether both commands read everything under `rules`.
    let reads_all = |rules: Vec<(String, String, String)>, name: &str| {
        stand_in.api.authorize(rules);
        let out = dir.join(name);
        let record = stand_in
            .lab(&[
                "record",
                "-n",
                NAMESPACE,
                "--scaled-object",
                NAME,
                "--seconds",
                "2",
                "--brokers",
                &brokers,
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let notes = std::fs::read_to_string(out.join("recording.md")).unwrap_or_default();
        let doctor = stand_in
            .lab(&[
                "doctor",
                "-n",
                NAMESPACE,
                "--scaled-object",
                NAME,
                "--window",
                "0",
                "--brokers",
                &brokers,
            ])
            .output()
            .unwrap();
        record.status.success()
            && notes.contains("Every read succeeded")
            && doctor.status.code() != Some(2)
    };
    assert!(reads_all(role.clone(), "all"), "the Role is enough");
    for (i, grant) in role.iter().enumerate() {
        let mut less = role.clone();
        less.remove(i);
        assert!(
            !reads_all(less, &format!("without-{i}")),
            "{grant:?} is not needed"
        );
    }
}
