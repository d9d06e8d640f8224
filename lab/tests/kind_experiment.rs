//! scripts/kind-experiment, scripts/cluster-lag and scripts/use-registry, run for real with
//! stand-ins for the tools that cannot run here (lab/tests/stand-ins: kind, kubectl, helm
//! and docker keeping state across calls): a whole shortened experiment twice on the same
//! "cluster", a failing read survived, an interrupted run that still reports, the secured
//! lag commands, and `--dry-run` with the pinned versions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_yaml_ng::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn script(name: &str) -> Command {
    let mut c = Command::new("bash");
    c.arg(repo().join("scripts").join(name));
    c
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh state directory for the stand-ins, and the PATH that puts them first.
struct StandIns {
    state: PathBuf,
}

impl StandIns {
    fn new(name: &str) -> Self {
        let state = std::env::temp_dir().join(format!("stand-ins-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        Self { state }
    }

    /// `command` with the stand-ins first on PATH and their state here.
    fn command(&self, mut command: Command) -> Command {
        let stand_ins = repo().join("lab/tests/stand-ins");
        let path = format!("{}:{}", stand_ins.display(), std::env::var("PATH").unwrap());
        command
            .env("PATH", path)
            .env("STANDIN_STATE", &self.state)
            .env("LAB_BIN", env!("CARGO_BIN_EXE_lab"));
        command
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.state.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.state.join(name)).unwrap_or_default()
    }
}

impl Drop for StandIns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// The rows of a timeline.csv, split into cells.
fn rows(timeline: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(timeline)
        .unwrap_or_else(|e| panic!("{}: {e}", timeline.display()))
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

fn assert_reports(out: &Path) {
    for file in ["timeline.csv", "chart.png", "summary.md"] {
        assert!(
            out.join(file).exists(),
            "{file} missing in {}",
            out.display()
        );
    }
}

#[test]
fn the_whole_experiment_runs_twice_on_one_cluster_and_survives_a_failed_read() {
    let tools = StandIns::new("rehearsal");
    let out = tools.state.join("out");

    // First run: nothing exists yet. The third read of KEDA's metric fails.
    let first = tools
        .command(script("kind-experiment"))
        .args(["--phase-seconds", "3", "--out"])
        .arg(&out)
        .env("STANDIN_FAIL_RAW_AT", "3")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&first);
    assert!(first.status.success(), "{stdout}\n{stderr}");
    let calls = tools.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("kind create cluster --name keda-kafka-lab")),
        "{calls:#?}"
    );
    assert!(
        stderr.contains("t=2 s: reading KEDA's metric") && stderr.contains("ServiceUnavailable"),
        "the failed read is reported on stderr: {stderr}"
    );
    let timeline = rows(&out.join("timeline.csv"));
    assert_eq!(
        timeline.len(),
        12,
        "one row a second over 4 x 3 s: {timeline:?}"
    );
    let ts: Vec<u32> = timeline.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(ts, (0..12).collect::<Vec<_>>(), "a fixed one-second grid");
    assert_eq!(
        timeline[2][6], "",
        "the failed read's cell is empty: {:?}",
        timeline[2]
    );
    assert!(
        timeline[3..].iter().all(|r| !r[6].is_empty()),
        "the run went on after the failed read"
    );
    // The produce rate is kept across samples: non-zero while the producer runs at 1000 and
    // 100 ms, zero once it is deleted.
    let rate = |phase: &str| -> Vec<f64> {
        timeline
            .iter()
            .filter(|r| r[1] == phase)
            .skip(1)
            .map(|r| r[4].parse().unwrap())
            .collect()
    };
    assert!(rate("0").iter().all(|r| *r > 0.0), "{timeline:?}");
    assert!(rate("2").iter().all(|r| *r > 5.0), "{timeline:?}");
    assert!(rate("1").iter().all(|r| *r == 0.0), "{timeline:?}");
    assert!(
        timeline.iter().any(|r| r[9] == "3") && timeline.iter().any(|r| r[9] == "0"),
        "replicas follow the phases: {timeline:?}"
    );
    assert_reports(&out);
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("**Gaps**: 1 cell(s) of 12 rows"),
        "{summary}"
    );
    assert!(summary.contains("| period 100 ms | - | 3 "), "{summary}");

    second_run_reuses_the_cluster_and_deletes_in_order(&tools, &out);
}

/// The same stand-ins again: the cluster exists, the registry was stopped (a reboot, say);
/// this run ends with `--delete`.
fn second_run_reuses_the_cluster_and_deletes_in_order(tools: &StandIns, out: &Path) {
    std::fs::write(tools.state.join("registry"), "stopped").unwrap();
    std::fs::remove_file(tools.state.join("calls.log")).unwrap();

    // Second run on the same cluster, deleting everything at the end.
    let second = tools
        .command(script("kind-experiment"))
        .args(["--phase-seconds", "2", "--delete", "--out"])
        .arg(out)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&second);
    assert!(second.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("reusing the kind cluster keda-kafka-lab"),
        "{stdout}"
    );
    let calls = tools.calls();
    assert!(
        !calls.iter().any(|c| c.starts_with("kind create cluster")),
        "{calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c == "docker start kind-registry"),
        "{calls:#?}"
    );
    assert!(
        !calls.iter().any(|c| c.starts_with("docker run")),
        "the stopped registry is started, not created again: {calls:#?}"
    );
    assert!(
        calls.iter().all(|c| !c.starts_with("helm install")),
        "releases are upgraded in place: {calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c.starts_with(
            "kubectl set env -n keda-kafka-lab deployment/kafka-producer-callback kafka.time.period=1000"
        )),
        "the first phase sets its period, whatever the last run left: {calls:#?}"
    );
    assert_eq!(rows(&out.join("timeline.csv")).len(), 8);
    assert_reports(out);
    // --delete: topics and users go first, while Strimzi's operators still run.
    let position = |prefix: &str| {
        calls
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {calls:#?}"))
    };
    let topics = position("kubectl delete -n keda-kafka-lab kafkatopics.kafka.strimzi.io,kafkausers.kafka.strimzi.io --all");
    let demo = position("kubectl delete -n keda-kafka-lab -k .tools/kind-overlay");
    let cluster = position("kind delete cluster --name keda-kafka-lab");
    assert!(topics < demo && demo < cluster, "{calls:#?}");
    assert_eq!(tools.file("kind-clusters").trim(), "");
    assert!(!tools.state.join("registry").exists());
}

#[test]
fn an_interrupted_run_still_writes_its_timeline_and_reports() {
    let tools = StandIns::new("interrupted");
    let out = tools.state.join("out");
    let child = tools
        .command(script("kind-experiment"))
        .args(["--phase-seconds", "30", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let timeline = out.join("timeline.csv");
    let started = Instant::now();
    while std::fs::read_to_string(&timeline).map_or(0, |t| t.lines().count()) < 4 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no rows recorded"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let result = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&result);
    assert_eq!(result.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("kind-experiment: stopped (exit 130)"),
        "{stderr}"
    );
    assert_reports(&out);
    assert!(rows(&timeline).len() >= 3);
    assert!(
        tools
            .calls()
            .iter()
            .any(|c| c.starts_with("kubectl delete -n keda-kafka-lab pod/lab-lag")),
        "the lag pod is removed on the way out"
    );
}

/// Without cargo, the reports come from the `lab` image, run as the calling user so the
/// files it writes into the bind mount are the user's (not uid 1000's).
#[test]
fn without_cargo_the_lab_image_writes_the_reports_as_the_calling_user() {
    let tools = StandIns::new("image-reports");
    let out = tools.state.join("out");
    let without_cargo: Vec<String> = std::env::var("PATH")
        .unwrap()
        .split(':')
        .filter(|dir| !Path::new(dir).join("cargo").exists())
        .map(str::to_owned)
        .collect();
    let path = format!(
        "{}:{}",
        repo().join("lab/tests/stand-ins").display(),
        without_cargo.join(":")
    );
    let result = tools
        .command(script("kind-experiment"))
        .args(["--phase-seconds", "2", "--out"])
        .arg(&out)
        .env("PATH", path)
        .env_remove("LAB_BIN")
        .env("STANDIN_LAB", env!("CARGO_BIN_EXE_lab"))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&result);
    assert!(result.status.success(), "{stdout}\n{stderr}");
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let user = format!("--user {}:{}", id("-u"), id("-g"));
    let calls = tools.calls();
    assert!(
        calls.iter().any(|c| c.starts_with("docker run --rm ")
            && c.contains(&user)
            && c.contains("/keda-kafka-lab:")
            && c.contains(" report /out/timeline.csv")),
        "{user} in {calls:#?}"
    );
    assert_reports(&out);
}

#[test]
fn a_failing_step_ends_the_run_with_its_status_and_the_reports_so_far() {
    let tools = StandIns::new("failing");
    let out = tools.state.join("out");
    // The producer is gone when the third phase wants to set its period: the stand-in's
    // `kubectl apply` is what brings it back, so make that apply fail.
    let wrapper = tools.state.join("bin");
    std::fs::create_dir_all(&wrapper).unwrap();
    std::fs::write(
        wrapper.join("kubectl"),
        format!(
            "#!/usr/bin/env bash\ncase \"$*\" in\n  \"apply -n \"*\" -k .tools/kind-overlay\") [ -f \"$STANDIN_STATE/applied\" ] && {{ echo 'error: the server has asked for the client to provide credentials' >&2; exit 1; }}; touch \"$STANDIN_STATE/applied\" ;;\nesac\nexec {} \"$@\"\n",
            repo().join("lab/tests/stand-ins/kubectl").display()
        ),
    )
    .unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(wrapper.join("kubectl"))
        .status()
        .unwrap();
    let path = format!(
        "{}:{}:{}",
        wrapper.display(),
        repo().join("lab/tests/stand-ins").display(),
        std::env::var("PATH").unwrap()
    );
    let result = tools
        .command(script("kind-experiment"))
        .args(["--phase-seconds", "2", "--out"])
        .arg(&out)
        .env("PATH", path)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&result);
    assert_eq!(result.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("kind-experiment: stopped (exit 1)"),
        "{stderr}"
    );
    assert_eq!(rows(&out.join("timeline.csv")).len(), 4, "phases 1 and 2");
    assert_reports(&out);
}

#[test]
fn dry_run_prints_every_step_with_the_pinned_versions() {
    let out = script("kind-experiment")
        .args(["--dry-run", "--monitoring", "--delete"])
        .output()
        .unwrap();
    let (text, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let pins = lab::pins::pins();
    let env = versions_env();
    for expected in [
        format!("kind create cluster --name keda-kafka-lab --image {}", pins.kind_node_image),
        format!("helm upgrade --install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator --version {} --namespace keda-kafka-lab", pins.strimzi),
        format!("helm upgrade --install {} prometheus-community/kube-prometheus-stack --version {} --namespace monitoring", env("MONITORING_RELEASE"), env("KUBE_PROMETHEUS_STACK_VERSION")),
        format!("helm upgrade --install keda kedacore/keda --version {} --namespace keda", pins.keda_chart),
        format!("--set prometheus.operator.enabled=true --set prometheus.operator.podMonitor.enabled=true --set prometheus.operator.podMonitor.additionalLabels.release={}", env("MONITORING_RELEASE")),
        "docker build --target lab -t localhost:5001/keda-kafka-lab:0.1.0 .".into(),
        "docker push localhost:5001/kafka-consumer:0.1.0".into(),
        "kubectl apply -n keda-kafka-lab -k .tools/kind-overlay".into(),
        "kubectl apply -n keda-kafka-lab -k k8s/monitoring".into(),
        "kubectl wait -n keda-kafka-lab scaledobject/kafka-consumer --for=condition=Ready".into(),
        r#"args: ["lag", "--brokers", "my-cluster-kafka-bootstrap.keda-kafka-lab.svc:9092", "--group", "event", "--topic", "event", "--watch", "1", "--format", "json"]"#.into(),
        "kubectl delete -n keda-kafka-lab deployment/kafka-producer-callback".into(),
        "kubectl set env -n keda-kafka-lab deployment/kafka-producer-callback kafka.time.period=100".into(),
        "kubectl set env -n keda-kafka-lab deployment/kafka-producer-callback kafka.time.period=10000".into(),
        "report lab-out/kind-experiment/timeline.csv --scenario published".into(),
        "kind delete cluster --name keda-kafka-lab".into(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    // The overlay it writes runs the images it pushed: rendered as `kubectl apply -k` would.
    let overlay = text
        .split("+ tee .tools/kind-overlay/kustomization.yaml <<EOF\n")
        .nth(1)
        .and_then(|rest| rest.split("\nEOF\n").next())
        .expect("the overlay is printed");
    let dir = repo().join(".tools/kind-overlay-test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kustomization.yaml"), overlay).unwrap();
    let rendered = kustomize(".tools/kind-overlay-test");
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
    let published = lab::scenario::Scenario::published().unwrap();
    let expected: Vec<String> = published
        .phases
        .iter()
        .enumerate()
        .map(|(i, p)| format!("== phase {}/4: {} ({} s)", i + 1, p.name, p.seconds))
        .collect();
    assert_eq!(
        phases, expected,
        "the script's phases are the published scenario's"
    );
}

/// A kubectl that answers like the demo's cluster at one instant: 3 consumer replicas
/// wanted, 2 ready, the HPA wants 3, the ScaledObject active, KEDA's metric 15500m, the lag
/// pod's last line.
const ONE_INSTANT_KUBECTL: &str = r#"#!/usr/bin/env bash
case "$*" in
  *jsonpath*) printf 'Deployment=3,2,,;HorizontalPodAutoscaler=,,3,;ScaledObject=,,,True;' ;;
  *--raw*) printf '{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[{"metricName":"s0-kafka-event","metricLabels":null,"timestamp":"2026-12-01T10:00:00Z","value":"15500m"}]}' ;;
  *logs*) printf '{"t":41.0,"partitions":[{"partition":0,"end":100,"committed":90},{"partition":1,"end":57,"committed":44}],"total_lag":23}\n' ;;
  *) exit 1 ;;
esac
"#;

#[test]
fn the_recorder_writes_a_row_lab_report_reads() {
    let tools = StandIns::new("instant");
    let kubectl = tools.state.join("kubectl");
    std::fs::write(&kubectl, ONE_INSTANT_KUBECTL).unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(&kubectl)
        .status()
        .unwrap();
    let path = format!(
        "{}:{}",
        tools.state.display(),
        std::env::var("PATH").unwrap()
    );
    let out = script("kind-experiment")
        .args(["--sample-once", "400", "2", "period 100 ms", "100"])
        .env("PATH", path)
        .output()
        .unwrap();
    let (row, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(row, "400,2,period 100 ms,100,0,23,15,true,3,3,2\n");

    let timeline = tools.state.join("timeline.csv");
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
    assert!(report.status.success(), "{}", text(&report).1);
    let summary = std::fs::read_to_string(tools.state.join("summary.md")).unwrap();
    assert!(summary.contains("| period 100 ms | 3 | 3 ✓"), "{summary}");
}

fn versions_env() -> impl Fn(&str) -> String {
    let text = std::fs::read_to_string(repo().join("k8s/versions.env")).unwrap();
    move |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key} not in k8s/versions.env"))
            .to_owned()
    }
}

fn kustomize(dir: &str) -> String {
    let out = Command::new("kubectl")
        .args(["kustomize", dir])
        .current_dir(repo())
        .output()
        .expect("kubectl (for kustomize) is installed");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    stdout
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind}/{name}"))
}

/// The lag pod for the secured overlay reaches the listener the overlay opens, with the
/// credentials of a KafkaUser whose ACLs let it read the group's offsets, and trusts the
/// cluster CA: each checked against `kubectl kustomize overlays/secure`.
#[test]
fn the_secured_lag_pod_presents_what_the_secured_listener_wants() {
    let out = script("cluster-lag")
        .args(["--manifest", "--secure"])
        .output()
        .unwrap();
    let (manifest, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let pod: Value = serde_yaml_ng::from_str(&manifest).unwrap();
    let overlay = documents(&kustomize("overlays/secure"));

    let listener = find(&overlay, "Kafka", "my-cluster")["spec"]["kafka"]["listeners"][0].clone();
    assert_eq!(listener["tls"].as_bool(), Some(true));
    assert_eq!(
        listener["authentication"]["type"].as_str(),
        Some("scram-sha-512")
    );
    let container = &pod["spec"]["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let port = listener["port"].as_u64().unwrap();
    assert_eq!(
        &args[..3],
        [
            "lag",
            "--brokers",
            &format!("my-cluster-kafka-bootstrap.keda-kafka-lab.svc:{port}")
        ]
    );
    let env = |name: &str| {
        container["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|e| e["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    assert_eq!(
        env("kafka.security.protocol")["value"].as_str(),
        Some("sasl_ssl")
    );
    assert_eq!(
        env("kafka.sasl.mechanism")["value"].as_str(),
        Some("SCRAM-SHA-512")
    );
    // The user name from the ConfigMap the apps use; the password from that user's Secret.
    let user_ref = &env("kafka.sasl.username")["valueFrom"]["configMapKeyRef"];
    let users = find(&overlay, "ConfigMap", "kafka-users");
    let user = users["data"][user_ref["key"].as_str().unwrap()]
        .as_str()
        .unwrap();
    let password_ref = &env("kafka.sasl.password")["valueFrom"]["secretKeyRef"];
    assert_eq!(
        password_ref["name"].as_str(),
        Some(user),
        "Strimzi names the Secret after the user"
    );
    assert_eq!(password_ref["key"].as_str(), Some("password"));
    let kafka_user = find(&overlay, "KafkaUser", user);
    assert_eq!(
        kafka_user["spec"]["authentication"]["type"].as_str(),
        Some("scram-sha-512")
    );
    let acls = kafka_user["spec"]["authorization"]["acls"]
        .as_sequence()
        .unwrap();
    let allows = |kind: &str, name: &str, operation: &str| {
        acls.iter().any(|acl| {
            acl["resource"]["type"].as_str() == Some(kind)
                && acl["resource"]["name"].as_str() == Some(name)
                && acl["operations"]
                    .as_sequence()
                    .is_some_and(|ops| ops.iter().any(|o| o.as_str() == Some(operation)))
        })
    };
    assert!(
        allows("group", "event", "Describe") && allows("topic", "event", "Describe"),
        "reading a group's offsets needs Describe on group and topic: {acls:?}"
    );
    // The CA: the file named by kafka.ssl.ca.location is the cluster CA's ca.crt.
    let ca = env("kafka.ssl.ca.location")["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let mount = &container["volumeMounts"][0];
    let volume = &pod["spec"]["volumes"][0];
    assert_eq!(mount["name"], volume["name"]);
    assert_eq!(
        volume["secret"]["secretName"].as_str(),
        Some("my-cluster-cluster-ca-cert")
    );
    let item = &volume["secret"]["items"][0];
    assert_eq!(item["key"].as_str(), Some("ca.crt"));
    assert_eq!(
        ca,
        format!(
            "{}/{}",
            mount["mountPath"].as_str().unwrap(),
            item["path"].as_str().unwrap()
        )
    );
}

#[test]
fn cluster_lag_runs_the_lab_image_in_the_namespace_and_removes_it() {
    let tools = StandIns::new("cluster-lag");
    let out = tools.command(script("cluster-lag")).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let calls = tools.calls();
    let expected = [
        "kubectl delete pod -n keda-kafka-lab lab-lag --ignore-not-found --wait=true",
        "kubectl apply -f -",
        "kubectl wait -n keda-kafka-lab pod/lab-lag --for=condition=Ready --timeout=120s",
        "kubectl logs -n keda-kafka-lab -f pod/lab-lag",
        "kubectl delete pod -n keda-kafka-lab lab-lag --ignore-not-found --wait=false",
    ];
    assert_eq!(calls, expected, "{calls:#?}");
    let pod: Value = serde_yaml_ng::from_str(&tools.file("pod.yaml")).unwrap();
    // The lab image from the registry and tag the apps run (k8s/kustomization.yaml).
    let registry = versions_env()("IMAGE_REGISTRY");
    assert_eq!(
        pod["spec"]["containers"][0]["image"].as_str(),
        Some(format!("{registry}/keda-kafka-lab:0.1.0").as_str())
    );
    assert_eq!(
        pod["spec"]["containers"][0]["args"][8].as_str(),
        Some("5"),
        "--watch 5"
    );
    assert!(stdout.contains("total_lag"), "{stdout}");
}

#[test]
fn kafka_s_own_tool_logs_in_with_the_user_s_secret_never_on_a_command_line() {
    let tools = StandIns::new("kafka-tool");
    let out = tools
        .command(script("cluster-lag"))
        .args(["--kafka-tool", "--secure"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("LOG-END-OFFSET"), "{stdout}");
    let sent = tools.file("exec-stdin");
    for line in [
        "security.protocol=SASL_SSL",
        "sasl.mechanism=SCRAM-SHA-512",
        r#"sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="kafka-consumer" password="stand-in-password";"#,
        "ssl.truststore.type=PEM",
        "ssl.truststore.location=/opt/kafka/cluster-ca-certs/ca.crt",
    ] {
        assert!(sent.lines().any(|l| l == line), "{line:?} not in {sent}");
    }
    let exec = tools
        .calls()
        .into_iter()
        .find(|c| c.starts_with("kubectl exec -i"))
        .unwrap();
    assert!(
        exec.contains("--bootstrap-server my-cluster-kafka-bootstrap:9093"),
        "{exec}"
    );
    assert!(
        !tools
            .calls()
            .iter()
            .any(|c| c.contains("stand-in-password")),
        "the password travels on stdin only"
    );
}

#[test]
fn use_registry_points_the_manifests_at_your_images() {
    let dir = std::env::temp_dir().join(format!("use-registry-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // A copy of k8s/ to edit, rendered as `kubectl apply -k` would.
    let copy = Command::new("cp")
        .arg("-r")
        .arg(repo().join("k8s"))
        .arg(&dir)
        .status()
        .unwrap();
    assert!(copy.success());
    let out = script("use-registry")
        .args(["registry.example.com:5000/you", "--kustomization"])
        .arg(dir.join("kustomization.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let rendered = Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap();
    let rendered = text(&rendered).0;
    let mut images: Vec<&str> = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .collect();
    images.sort();
    assert_eq!(
        images,
        [
            "registry.example.com:5000/you/kafka-consumer:0.1.0",
            "registry.example.com:5000/you/kafka-producer-callback:0.1.0"
        ]
    );
    for bad in ["reg/you:1.0", "reg@sha256:ab", ""] {
        let out = script("use-registry")
            .arg(bad)
            .arg("--kustomization")
            .arg(dir.join("kustomization.yaml"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(text(&out).1.contains("use-registry:"), "{bad:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// kube-prometheus-stack's Prometheus selects PodMonitors by `release: <its release>`
/// (templates/prometheus/prometheus.yaml, podMonitorSelectorNilUsesHelmValues: true in
/// chart 88.5.3): k8s/monitoring's carry the release the guide and the script install.
#[test]
fn the_pod_monitors_carry_the_label_kube_prometheus_stack_selects() {
    let release = versions_env()("MONITORING_RELEASE");
    let docs = documents(&kustomize("k8s/monitoring"));
    let monitors: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"].as_str() == Some("PodMonitor"))
        .collect();
    assert_eq!(monitors.len(), 2);
    for m in monitors {
        assert_eq!(
            m["metadata"]["labels"]["release"].as_str(),
            Some(release.as_str()),
            "{m:?}"
        );
        assert!(
            m["spec"]["selector"]["matchLabels"]
                .get("release")
                .is_none(),
            "the label is not added to the pod selector"
        );
    }
    // Without the Operator: the prometheus chart's kubernetes-pods job keeps pods annotated
    // prometheus.io/scrape and scrapes the annotated port and path.
    let apps = documents(&kustomize("k8s"));
    for name in ["kafka-producer-callback", "kafka-consumer"] {
        let template = &find(&apps, "Deployment", name)["spec"]["template"];
        let annotations = &template["metadata"]["annotations"];
        let port = template["spec"]["containers"][0]["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|p| p["name"].as_str() == Some("http"))
            .unwrap()["containerPort"]
            .as_u64()
            .unwrap();
        assert_eq!(
            annotations["prometheus.io/scrape"].as_str(),
            Some("true"),
            "{name}"
        );
        assert_eq!(
            annotations["prometheus.io/port"].as_str(),
            Some(port.to_string().as_str())
        );
        assert_eq!(annotations["prometheus.io/path"].as_str(), Some("/metrics"));
    }
    let guide = std::fs::read_to_string(repo().join("docs/kubernetes.md")).unwrap();
    assert!(
        guide.contains(&format!(
            "helm upgrade --install {release} prometheus-community/kube-prometheus-stack"
        )),
        "the guide installs the release the label names"
    );
    assert!(guide.contains(&format!(
        "--set prometheus.operator.podMonitor.additionalLabels.release={release}"
    )));
}
