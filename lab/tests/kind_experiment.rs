//! scripts/kind-experiment, as far as it runs without Docker or a cluster: `--dry-run`
//! prints every command with the pinned versions, and its recorder, run once against a
//! stand-in kubectl that answers as a cluster would, writes a timeline row that
//! `lab report` reads.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script() -> Command {
    let mut c = Command::new("bash");
    c.arg(repo().join("scripts/kind-experiment"));
    c
}

#[test]
fn dry_run_prints_every_step_with_the_pinned_versions() {
    let out = script().arg("--dry-run").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pins = lab::pins::pins();
    for expected in [
        format!("kind create cluster --name keda-kafka-lab --image {}", pins.kind_node_image),
        format!("helm install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator --version {} --namespace keda-kafka-lab", pins.strimzi),
        format!("helm install keda kedacore/keda --version {} --namespace keda", pins.keda_chart),
        "docker build --target lab -t localhost:5001/keda-kafka-lab:0.1.0 .".into(),
        "docker push localhost:5001/kafka-consumer:0.1.0".into(),
        "kubectl apply -n keda-kafka-lab -k .tools/kind-overlay".into(),
        "kubectl wait -n keda-kafka-lab scaledobject/kafka-consumer --for=condition=Ready".into(),
        "lag --brokers my-cluster-kafka-bootstrap.keda-kafka-lab.svc:9092 --group event --topic event --watch 1 --format json".into(),
        "kubectl delete -n keda-kafka-lab deployment/kafka-producer-callback".into(),
        "kubectl set env -n keda-kafka-lab deployment/kafka-producer-callback kafka.time.period=100".into(),
        "kubectl set env -n keda-kafka-lab deployment/kafka-producer-callback kafka.time.period=10000".into(),
        "report lab-out/kind-experiment/timeline.csv --scenario published".into(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    // The overlay it writes runs the images it pushed: rendered as `kubectl apply -k` would.
    let overlay = text
        .split("+ tee .tools/kind-overlay/kustomization.yaml <<EOF\n")
        .nth(1)
        .and_then(|rest| rest.split("\nEOF\n").next())
        .expect("the overlay is printed");
    let dir = repo().join(".tools/kind-overlay");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kustomization.yaml"), overlay).unwrap();
    let rendered = Command::new("kubectl")
        .args(["kustomize", ".tools/kind-overlay"])
        .current_dir(repo())
        .output()
        .expect("kubectl (for kustomize) is installed");
    let rendered = String::from_utf8_lossy(&rendered.stdout);
    let mut images: Vec<&str> = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .collect();
    images.sort();
    assert_eq!(
        images,
        [
            "localhost:5001/kafka-consumer:0.1.0",
            "localhost:5001/kafka-producer-callback:0.1.0"
        ],
        "{overlay}"
    );

    let phases: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("== phase "))
        .collect();
    assert_eq!(
        phases,
        [
            "== phase 1/4: period 1000 ms (120 s)",
            "== phase 2/4: producer deleted (150 s)",
            "== phase 3/4: period 100 ms (240 s)",
            "== phase 4/4: period 10 s (240 s)"
        ]
    );
}

/// A kubectl that answers like the demo's cluster at one instant: 3 consumer replicas
/// wanted, 2 ready, the HPA wants 3, the ScaledObject active, KEDA's metric 15, the lag
/// pod's last line.
const STAND_IN_KUBECTL: &str = r#"#!/usr/bin/env bash
case "$*" in
  *jsonpath*) printf 'Deployment=3,2,,;HorizontalPodAutoscaler=,,3,;ScaledObject=,,,True;' ;;
  *--raw*) printf '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[{"metricName":"s0-kafka-event","metricLabels":null,"timestamp":"2026-12-01T10:00:00Z","value":"15"}]}' ;;
  *logs*) printf '{"t":41.0,"partitions":[{"partition":0,"end":100,"committed":90},{"partition":1,"end":57,"committed":44}],"total_lag":23}\n' ;;
  *) exit 1 ;;
esac
"#;

#[test]
fn the_recorder_writes_a_row_lab_report_reads() {
    let dir = std::env::temp_dir().join(format!("kind-experiment-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let kubectl = dir.join("kubectl");
    std::fs::write(&kubectl, STAND_IN_KUBECTL).unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&kubectl)
        .status()
        .unwrap();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    let out = script()
        .args(["--sample-once", "400", "2", "period 100 ms", "100"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let row = String::from_utf8(out.stdout).unwrap();
    assert_eq!(row, "400,2,period 100 ms,100,0,23,15,true,3,3,2\n");

    let timeline = dir.join("timeline.csv");
    std::fs::write(
        &timeline,
        format!("t_s,phase,phase_name,period_ms,produced_per_s,total_lag,metric,active,hpa_desired,replicas,running\n0,0,period 1000 ms,1000,1,1,1,true,1,1,1\n{row}"),
    )
    .unwrap();
    let report = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args([
            "report",
            timeline.to_str().unwrap(),
            "--scenario",
            "published",
        ])
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("| period 100 ms | 3 | 3 ✓"), "{summary}");
    std::fs::remove_dir_all(dir).unwrap();
}
