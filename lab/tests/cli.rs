//! The `lab` binary: plan, simulate and lag outputs, and clear errors.

mod support;

use std::process::Command;
use std::time::Duration;

use lab_kafka::embedded_broker::MockBroker;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use support::{
    assert_refused_as_not_emulated, lab, repo, temp_dir, text, unemulated_scaled_object,
};

#[test]
fn plan_prints_one_json_line_per_evaluation() {
    let dir = temp_dir("plan");
    let trace = dir.join("trace.jsonl");
    std::fs::write(
        &trace,
        "{\"t\": 0, \"partitions\": [{\"end\": 100, \"committed\": 40}]}\n{\"t\": 45, \"partitions\": [{\"end\": 100, \"committed\": 100}]}\n",
    )
    .unwrap();
    let out = lab(&[
        "plan",
        "--scaled-object",
        &repo("k8s/keda/scaled-object.yaml"),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(u64, &str, u64)> = lines
        .iter()
        .map(|l| {
            (
                l["t"].as_u64().unwrap(),
                l["by"].as_str().unwrap(),
                l["replicas"].as_u64().unwrap(),
            )
        })
        .collect();
    // Lag 60 on one partition: capped at 1 x 5, so one replica; at 45 s the lag is gone.
    // The HPA's first sync comes one sync period after KEDA creates it.
    assert_eq!(
        summary,
        [
            (0, "keda", 1),
            (15, "hpa", 1),
            (30, "keda", 1),
            (30, "hpa", 1),
            (45, "hpa", 1)
        ]
    );
    assert_eq!(lines[0]["metric"], 5);
    assert_eq!(lines[4]["metric"], 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn simulate_writes_every_report() {
    let dir = temp_dir("simulate");
    let out = lab(&[
        "simulate",
        "--scenario",
        "published",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("period 100 ms"), "{stdout}");
    for file in ["timeline.csv", "chart.svg", "chart.png", "summary.md"] {
        assert!(
            dir.join(file).metadata().is_ok_and(|m| m.len() > 100),
            "{file} written"
        );
    }
    let png = std::fs::read(dir.join("chart.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let csv = std::fs::read_to_string(dir.join("timeline.csv")).unwrap();
    assert!(csv.starts_with("t_s,phase,phase_name,period_ms,produced_per_s,total_lag,metric,active,hpa_desired,replicas,running,scaler_error\n"));
    assert_eq!(
        csv.lines().count(),
        751,
        "one sample per second of the 750 s scenario, plus the header"
    );
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("| phase | published | observed |"),
        "{summary}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn errors_name_what_is_wrong() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["simulate", "--scenario", "nope"],
            "unknown scenario \"nope\"",
        ),
        (
            &[
                "plan",
                "--scaled-object",
                "/no/such.yaml",
                "--trace",
                "/tmp/x",
            ],
            "cannot read /no/such.yaml",
        ),
        (
            &[
                "plan",
                "--scaled-object",
                &repo("k8s/kafka/topic.yaml"),
                "--trace",
                "/tmp/x",
            ],
            "no ScaledObject or ScaledJob in this file",
        ),
        (&["replay", "--speed", "0"], "0 is not in 1..=100"),
        (
            &[
                "lag",
                "--brokers",
                "127.0.0.1:9",
                "--group",
                "g",
                "--topic",
                "t",
            ],
            "did not answer within",
        ),
    ];
    for (args, expected) in cases {
        let out = lab(args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            stderr.contains(expected),
            "{args:?}: {expected:?} not in {stderr:?}"
        );
    }
}

/// The embedded broker with topic `event` (2 partitions, 15 events each) and group
/// `lab-test`, which committed 10 on partition 0 and nothing on partition 1.
fn group_with_lag() -> MockBroker {
    let broker = MockBroker::start().unwrap();
    broker.create_topic("event", 2).unwrap();
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .unwrap();
    for i in 0..30 {
        let key = i.to_string();
        producer
            .send(
                BaseRecord::to("event")
                    .key(&key)
                    .payload("{}")
                    .partition(i % 2),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
    // The group committed 10 on partition 0 and nothing on partition 1.
    let committer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "lab-test")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("event", 0, Offset::Offset(10))
        .unwrap();
    committer.commit(&tpl, CommitMode::Sync).unwrap();
    broker
}

#[test]
fn lag_reads_a_real_group_like_keda() {
    let broker = group_with_lag();
    let dir = temp_dir("lag");
    let record = dir.join("trace.jsonl");
    let out = lab(&[
        "lag",
        "--brokers",
        broker.bootstrap(),
        "--group",
        "lab-test",
        "--topic",
        "event",
        "--record",
        record.to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("        0           15           10        5"),
        "{stdout}"
    );
    assert!(
        stdout.contains("        1           15         none (invalid)"),
        "{stdout}"
    );
    // earliest (the repository's policy): the uncommitted partition counts its whole log.
    assert!(
        stdout.contains("total lag 20 over 2 partitions (2 counted, 2 with lag)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("KEDA metric 10 (lagThreshold 5; capped at 10)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("HPA at 1 replica(s): proposes 2"),
        "{stdout}"
    );
    // What it read is a trace `lab plan` takes.
    let trace = std::fs::read_to_string(&record).unwrap();
    let line: serde_json::Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
    assert_eq!(line["total_lag"], 20);
    assert_eq!(line["partitions"][1]["end"], 15);
    let plan = lab(&[
        "plan",
        "--scaled-object",
        &repo("k8s/keda/scaled-object.yaml"),
        "--trace",
        record.to_str().unwrap(),
        "--until",
        "15",
    ]);
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    assert!(
        text(&plan.stdout).contains("\"metric\":10"),
        "{}",
        text(&plan.stdout)
    );
    // --format json: one trace line per reading on stdout.
    let json = lab(&[
        "lag",
        "--brokers",
        broker.bootstrap(),
        "--group",
        "lab-test",
        "--topic",
        "event",
        "--format",
        "json",
    ]);
    let line: serde_json::Value = serde_json::from_str(text(&json.stdout).trim()).unwrap();
    assert_eq!(line["partitions"][0]["committed"], 10);
    assert!(
        text(&json.stderr).contains("[cooldown-not-above-polling]"),
        "advice goes to stderr with --format json"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `lab lag` prints the advice on the ScaledObject it applies, for the live group.
#[test]
fn lag_prints_advice_for_the_live_group() {
    let broker = group_with_lag();
    let out = lab(&[
        "lag",
        "--brokers",
        broker.bootstrap(),
        "--group",
        "lab-test",
        "--topic",
        "event",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "advice: k8s/keda/scaled-object.yaml: spec.cooldownPeriod [cooldown-not-above-polling]"
        ),
        "{stdout}"
    );
    let latest = lab(&[
        "lag",
        "--brokers",
        broker.bootstrap(),
        "--group",
        "lab-test",
        "--topic",
        "event",
        "--scaled-object",
        &repo("scenarios/scaled-objects/latest.yaml"),
    ]);
    let latest_out = text(&latest.stdout);
    assert!(
        latest_out.contains("[latest-never-committed]"),
        "{latest_out}"
    );
    assert!(
        latest_out.contains("this group: partitions [1] have no committed offset"),
        "{latest_out}"
    );
}

/// `lab report` renders the same phase table and explanations from a timeline that
/// `simulate` wrote.
#[test]
fn report_reproduces_the_summary_of_a_run() {
    let dir = temp_dir("report");
    let out = lab(&[
        "simulate",
        "--scenario",
        "published",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let original = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    let again = dir.join("again");
    let out = lab(&[
        "report",
        dir.join("timeline.csv").to_str().unwrap(),
        "--scenario",
        "published",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rendered = std::fs::read_to_string(again.join("summary.md")).unwrap();
    let body = |s: &str| {
        s.split("## Notes")
            .next()
            .unwrap()
            .replacen("— simulate", "— report", 1)
    };
    assert_eq!(body(&rendered), body(&original));
    assert!(again.join("chart.png").exists());
    // Without a scenario: phases as the timeline names them, nothing published.
    let out = lab(&[
        "report",
        dir.join("timeline.csv").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bare = std::fs::read_to_string(again.join("summary.md")).unwrap();
    assert!(bare.contains("| period 100 ms | - |"), "{bare}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn check_manifests_reports_findings_skips_and_rules() {
    let out = lab(&[
        "check-manifests",
        &repo("lab/tests/fixtures/published-writeup.yaml"),
        "--dockerfile",
        &repo("Dockerfile"),
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("[scale-target-exists]"), "{stderr}");
    assert!(stderr.contains("    fix: "), "{stderr}");
    assert!(stderr.contains("finding(s) in the manifests"), "{stderr}");
    assert!(
        text(&out.stdout).contains("skipped strimzi-kafka-version: no Kafka in these manifests"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("advice: ") && text(&out.stdout).contains("    source: "),
        "{}",
        text(&out.stdout)
    );
    let rules = lab(&["check-manifests", "--rules"]);
    assert!(rules.status.success());
    assert!(text(&rules.stdout).contains("trigger-host-resolvable\n    checks:"));
}

/// Advice never fails the run, unless --strict: the repository's manifests pass with
/// their one advice, and fail on it with --strict.
#[test]
fn advice_fails_check_manifests_only_with_strict() {
    let dir = temp_dir("strict");
    let rendered = dir.join("rendered.yaml");
    let kustomize = Command::new("kubectl")
        .args(["kustomize", &repo("k8s")])
        .output()
        .expect("kubectl (for kustomize) is installed");
    assert!(kustomize.status.success(), "{}", text(&kustomize.stderr));
    std::fs::write(&rendered, &kustomize.stdout).unwrap();
    let args = [
        "check-manifests",
        rendered.to_str().unwrap(),
        "--dockerfile",
        &repo("Dockerfile"),
    ];
    let out = lab(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no findings, 1 advice"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("[cooldown-not-above-polling]"));
    let strict = lab(&[&args[..], &["--strict"]].concat());
    assert!(!strict.status.success());
    assert!(
        text(&strict.stderr).contains("1 advice (--strict fails on advice)"),
        "{}",
        text(&strict.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help_names_the_versions_the_emulator_follows() {
    let out = lab(&["--help"]);
    let help = text(&out.stdout);
    assert!(help.contains("KEDA 2.20.2"), "{help}");
    assert!(help.contains("Kubernetes 1.35 HPA controller"), "{help}");
}

/// A ScaledObject whose scaling the emulator cannot reproduce is refused, by name.
#[test]
fn plan_refuses_what_it_cannot_emulate() {
    let dir = temp_dir("refuse");
    let so = dir.join("so.yaml");
    let text_so = std::fs::read_to_string(repo("k8s/keda/scaled-object.yaml"))
        .unwrap()
        .replace("  triggers:", "  advanced2: {}\n  triggers:");
    std::fs::write(&so, text_so).unwrap();
    let trace = dir.join("trace.jsonl");
    std::fs::write(&trace, "{\"t\": 0, \"partitions\": []}\n").unwrap();
    let out = lab(&[
        "plan",
        "--scaled-object",
        so.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown field `advanced2`"),
        "{}",
        text(&out.stderr)
    );
    let so = unemulated_scaled_object(&dir);
    let out = lab(&[
        "plan",
        "--scaled-object",
        so.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_refused_as_not_emulated(&out);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Output into a pipe that closes early (`lab ... | head -1`) ends the process quietly,
/// by SIGPIPE as any Unix tool does, never with a panic.
#[test]
fn a_closed_output_pipe_ends_lab_quietly() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(["check-manifests", "--rules"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before lab writes a line (its start-up takes far longer than this).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert!(
        out.status.success() || out.status.signal() == Some(13),
        "{:?}",
        out.status
    );
}

/// `lab lag --watch` goes on through a failed read: an error sample in the trace (the one
/// a scaler would meet), a line on stderr, then readings again once the broker is back.
#[test]
fn lag_watch_survives_a_failed_read() {
    let broker = group_with_lag();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lab"))
        .args([
            "lag",
            "--brokers",
            broker.bootstrap(),
            "--group",
            "lab-test",
            "--topic",
            "event",
            "--watch",
            "1",
            "--format",
            "json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    broker.broker_down().unwrap();
    std::thread::sleep(std::time::Duration::from_secs(8));
    broker.broker_up().unwrap();
    // librdkafka reconnects with a backoff of up to 10 s (reconnect.backoff.max.ms).
    std::thread::sleep(std::time::Duration::from_secs(20));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let errors = lines
        .iter()
        .position(|l| l["error"] == "broker unreachable");
    let first_error = errors.unwrap_or_else(|| panic!("no error sample: {lines:?}"));
    assert!(
        lines[..first_error].iter().any(|l| l["total_lag"] == 20),
        "{lines:?}"
    );
    assert!(
        lines[first_error..].iter().any(|l| l["total_lag"] == 20),
        "readings again after the outage: {lines:?}"
    );
    assert!(
        text(&out.stderr).contains("the read failed"),
        "{}",
        text(&out.stderr)
    );
}

/// The repository's ScaledObject with `extra` added after its Kafka trigger and `doc`
/// after it (another YAML document), written into `dir`.
fn scaled_object_with(dir: &std::path::Path, name: &str, extra: &str, doc: &str) -> String {
    let so = std::fs::read_to_string(repo("k8s/keda/scaled-object.yaml")).unwrap() + extra + doc;
    let path = dir.join(name);
    std::fs::write(&path, so).unwrap();
    path.display().to_string()
}

const DEPLOYMENT: &str = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kafka-consumer}\nspec:\n  template:\n    spec:\n      containers:\n        - {name: kafka-consumer, image: kafka-consumer:0.1.0, resources: {requests: {memory: 16Mi}}}\n";

const CPU_TRIGGER: &str =
    "    - type: cpu\n      metricType: Utilization\n      metadata: {value: '50'}\n";

/// Bad input gets one clear line naming it and a non-zero exit: a formula construct
/// outside the evaluated subset, a cpu trigger whose Deployment lacks cpu requests
/// (KEDA's own admission error, scaledobject_webhook.go verifyCPUMemoryScalers), a cpu
/// trigger without its Deployment.
#[test]
fn plan_refuses_bad_input_naming_it() {
    let dir = temp_dir("refusals");
    let trace = dir.join("trace.jsonl");
    std::fs::write(&trace, "{\"t\": 0, \"partitions\": []}\n").unwrap();
    let formula = std::fs::read_to_string(repo("k8s/keda/scaled-object.yaml"))
        .unwrap()
        .replace("  advanced:\n", "  advanced:\n    scalingModifiers: {formula: 'lag in [1, 2] ? 10 : lag', target: '5'}\n")
        .replace("    - type: kafka\n", "    - type: kafka\n      name: lag\n");
    std::fs::write(dir.join("formula.yaml"), formula).unwrap();
    let cases = [
        (dir.join("formula.yaml").display().to_string(), "spec.advanced.scalingModifiers.formula: not emulated: the `in` operator (1:4) is outside the expr subset"),
        (scaled_object_with(&dir, "no-request.yaml", CPU_TRIGGER, DEPLOYMENT), "spec.triggers[1].type: the scaledobject has a cpu trigger but the container kafka-consumer doesn't have the cpu request defined [keda-cpu-memory]"),
        (scaled_object_with(&dir, "no-target.yaml", CPU_TRIGGER, ""), "not emulated: a cpu trigger needs the scale target's cpu requests"),
    ];
    for (so, expected) in cases {
        let out = lab(&[
            "plan",
            "--scaled-object",
            &so,
            "--trace",
            trace.to_str().unwrap(),
        ]);
        assert!(!out.status.success(), "{so}");
        assert!(
            text(&out.stderr).contains(expected),
            "{expected:?} not in {}",
            text(&out.stderr)
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Several triggers through `lab plan`: a value trigger's values from the trace; each
/// line lists every metric with its value and, for the HPA, its proposal.
#[test]
fn plan_runs_several_triggers_from_the_trace() {
    let dir = temp_dir("several");
    let prom = "    - type: prometheus\n      name: prom\n      metadata: {serverAddress: 'http://prometheus:9090', query: 'sum(rate(x[1m]))', threshold: '10'}\n";
    let so = scaled_object_with(&dir, "so.yaml", prom, "");
    let trace = dir.join("trace.jsonl");
    std::fs::write(&trace, "{\"t\": 0, \"partitions\": [{\"end\": 10, \"committed\": 10}], \"triggers\": {\"prom\": {\"value\": 35}}}\n{\"t\": 40, \"partitions\": [{\"end\": 10, \"committed\": 10}], \"triggers\": {\"prom\": {\"value\": 35}}}\n").unwrap();
    let out = lab(&[
        "plan",
        "--scaled-object",
        &so,
        "--trace",
        trace.to_str().unwrap(),
        "--replicas",
        "0",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        (lines[0]["active"].as_bool(), lines[0]["replicas"].as_u64()),
        (Some(true), Some(1)),
        "prometheus 35 > 0 wakes it"
    );
    let sync = &lines[1];
    assert_eq!(sync["metrics"][1]["metric"], "s1-prometheus");
    assert_eq!(sync["metrics"][1]["proposal"], 4, "ceil(35 / 10)");
    assert_eq!(sync["replicas"], 4);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A ScaledJob: `lab plan` gives one line per poll with the Jobs created, and `lab
/// simulate` writes jobs.csv.
#[test]
fn scaled_jobs_plan_and_simulate() {
    let dir = temp_dir("jobs");
    let trace = dir.join("trace.jsonl");
    std::fs::write(
        &trace,
        "{\"t\": 0, \"partitions\": [{\"end\": 100, \"committed\": 40}]}\n",
    )
    .unwrap();
    let out = lab(&[
        "plan",
        "--scaled-job",
        &repo("scenarios/scaled-objects/scaledjob-default.yaml"),
        "--trace",
        trace.to_str().unwrap(),
        "--until",
        "20",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "polls at 0, 10, 20 s");
    assert_eq!(
        (
            lines[0]["queue_length"].as_i64(),
            lines[0]["max_scale"].as_i64(),
            lines[0]["created"].as_i64()
        ),
        (Some(10), Some(1), Some(1)),
        "lag 60 capped at 1 partition x 10"
    );
    assert_eq!(lines[1]["created"], 0, "default: maxScale 1 - 1 unfinished");
    let out = lab(&[
        "simulate",
        "--scenario",
        &repo("scenarios/scaledjob-piles-up-jobs.yaml"),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let jobs = std::fs::read_to_string(dir.join("jobs.csv")).unwrap();
    assert!(
        jobs.starts_with("t,phase,total_lag,pending,running,done,created\n"),
        "{jobs}"
    );
    assert!(dir.join("job-decisions.csv").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// check-manifests says what it checked and which kinds it leaves alone, and why; KEDA's
/// own admission error for a cpu trigger without requests; a ScaledJob's enum error.
#[test]
fn check_manifests_lists_what_it_checked_and_left_alone() {
    let dir = temp_dir("listed");
    let service = "---\napiVersion: v1\nkind: Service\nmetadata: {name: kafka-consumer}\nspec: {ports: [{port: 8080}]}\n";
    let job = std::fs::read_to_string(repo("scenarios/scaled-objects/scaledjob-default.yaml"))
        .unwrap()
        .replace("strategy: default", "strategy: fastest");
    let file = scaled_object_with(
        &dir,
        "all.yaml",
        CPU_TRIGGER,
        &format!("{DEPLOYMENT}{service}---\n{job}"),
    );
    let out = lab(&[
        "check-manifests",
        &file,
        "--dockerfile",
        &repo("Dockerfile"),
    ]);
    assert!(!out.status.success());
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("checked 3 document(s): ScaledObject/kafka-consumer, Deployment/kafka-consumer, ScaledJob/event-jobs"), "{stdout}");
    assert!(stdout.contains("left alone: Service (1): trigger hosts are checked by the Kafka's bootstrap Service name"), "{stdout}");
    assert!(stderr.contains("the scaledobject has a cpu trigger but the container kafka-consumer doesn't have the cpu request defined"), "{stderr}");
    assert!(stderr.contains("ScaledJob/event-jobs: spec.scalingStrategy.strategy [keda-scaledjob]: Unsupported value: \"fastest\""), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// simulate's memory model bounds a replica's backlog by the consumer's prefetch.
#[test]
fn the_model_s_prefetch_bound_is_the_consumer_s() {
    assert_eq!(lab_model::simulate::PREFETCH_KIB, consumer::PREFETCH_KIB);
}
