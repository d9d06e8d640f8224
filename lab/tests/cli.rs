//! The `lab` binary: plan, simulate and lag outputs, and clear errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::embedded_broker::MockBroker;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .output()
        .expect("lab runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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
    assert_eq!(
        summary,
        [
            (0, "keda", 1),
            (0, "hpa", 1),
            (15, "hpa", 1),
            (30, "keda", 1),
            (30, "hpa", 1),
            (45, "hpa", 1)
        ]
    );
    assert_eq!(lines[0]["metric"], 5);
    assert_eq!(lines[5]["metric"], 0);
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
    assert!(csv.starts_with("t_s,phase,phase_name,period_ms,produced_per_s,total_lag,metric,active,hpa_desired,replicas,running\n"));
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
            "no ScaledObject in this file",
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

#[test]
fn lag_reads_a_real_group_like_keda() {
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
        stdout.contains("        0           15           10        5"),
        "{stdout}"
    );
    assert!(
        stdout.contains("        1           15         none (invalid)"),
        "{stdout}"
    );
    // latest policy: the uncommitted partition counts 1.
    assert!(stdout.contains("total lag 6 over 2 partitions"), "{stdout}");
    assert!(stdout.contains("desired replicas: 2"), "{stdout}");
}
