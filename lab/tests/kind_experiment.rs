//! scripts/kind-experiment, scripts/cluster-lab, scripts/cluster-lag and
//! scripts/use-registry, run for real with stand-ins for the tools that cannot run here
//! (lab/tests/stand-ins: kind, kubectl, helm and docker keeping state across calls). The
//! recording is the real `lab record`, in the stand-in's "pod", reading the API stand-in
//! and the embedded broker, which a world thread moves as the producer's phases would: a
//! whole shortened experiment twice on the same "cluster", a failing read survived, an
//! interrupted run that still reports, the secured lag commands, and `--dry-run` with the
//! pinned versions.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harness::apiserver::MetricAnswer;
use serde_yaml_ng::Value;

use lab_model::scenario::repo_root as repo;
use support::cluster::{StandIn, METRIC};

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

/// A fresh state directory for the stand-ins, the PATH that puts them first, and the
/// "cluster" they drive: the API stand-in and the broker, moved by a world thread.
struct StandIns {
    state: PathBuf,
    cluster: Arc<StandIn>,
    stop: Arc<AtomicBool>,
    world: Option<std::thread::JoinHandle<()>>,
}

impl StandIns {
    fn new(name: &str) -> Self {
        let state = std::env::temp_dir().join(format!("stand-ins-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        let cluster = Arc::new(StandIn::start_in("keda-kafka-lab", &state, 10, 0, "0"));
        let stop = Arc::new(AtomicBool::new(false));
        let world = {
            let (cluster, stop, state) = (cluster.clone(), stop.clone(), state.clone());
            std::thread::spawn(move || world(&cluster, &stop, &state))
        };
        Self {
            state,
            cluster,
            stop,
            world: Some(world),
        }
    }

    /// `command` with the stand-ins first on PATH and their state here.
    fn command(&self, mut command: Command) -> Command {
        let stand_ins = repo().join("lab/tests/stand-ins");
        let path = format!("{}:{}", stand_ins.display(), std::env::var("PATH").unwrap());
        command
            .env("PATH", path)
            .env("STANDIN_STATE", &self.state)
            .env("STANDIN_KUBECONFIG", &self.cluster.kubeconfig)
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
        self.stop.store(true, Ordering::Relaxed);
        if let Some(world) = self.world.take() {
            let _ = world.join();
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// What the demo does at one producer setting, as the published run saw it: nothing at
/// all once the producer is deleted; at 100 ms three consumers keep 2 events per partition
/// in flight; slower, one consumer with an event in flight on partition 0.
fn demo_at(producing: bool, period_ms: u64) -> (i32, [i64; 10]) {
    match (producing, period_ms) {
        (false, _) => (0, [0; 10]),
        (true, p) if p <= 100 => (3, [2; 10]),
        (true, _) => (1, std::array::from_fn(|p| i64::from(p == 0))),
    }
}

/// The world: every 200 ms, the producer's events (at the period the stand-in kubectl
/// set) into the broker, the group's commits, and the objects KEDA and the HPA would show.
fn world(cluster: &StandIn, stop: &AtomicBool, state: &Path) {
    let read = |name: &str| {
        std::fs::read_to_string(state.join(name))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let mut last: Option<(i32, [i64; 10])> = None;
    let mut due = 0.0_f64;
    let mut tick = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(200));
        let producing = read("producer") == "1";
        let period: u64 = read("period").parse().unwrap_or(1000);
        let elapsed = tick.elapsed().as_secs_f64();
        tick = Instant::now();
        if producing {
            due += elapsed * 1000.0 / period as f64;
            let events = due.floor() as usize;
            due -= events as f64;
            cluster.produce_spread(events);
        }
        let (replicas, lag) = demo_at(producing, period);
        cluster.commit_each(&lag);
        let total: i64 = lag.iter().sum();
        if read("metric-fails") != "1" {
            cluster
                .api
                .set_metric(METRIC, MetricAnswer::Value(total.to_string()));
        }
        if last != Some((replicas, lag)) {
            last = Some((replicas, lag));
            cluster.put_deployment(replicas, replicas);
            cluster.put_hpa(replicas, replicas.max(1), &total.to_string(), &[]);
            let active = if total > 0 { "True" } else { "False" };
            cluster.put_scaled_object(|so| so["status"]["conditions"][1]["status"] = active.into());
        }
    }
}

/// Makes KEDA's metric fail for `seconds` once the recording has `after` rows.
fn fail_metric_once(tools: &StandIns, after: usize, seconds: f64) -> std::thread::JoinHandle<()> {
    let (cluster, timeline, flag) = (
        tools.cluster.clone(),
        tools.state.join("pod-out/timeline.csv"),
        tools.state.join("metric-fails"),
    );
    std::thread::spawn(move || {
        let started = Instant::now();
        while std::fs::read_to_string(&timeline).map_or(0, |t| t.lines().count()) < after + 1 {
            if started.elapsed() > Duration::from_secs(60) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::write(&flag, "1").unwrap();
        cluster.api.set_metric(
            METRIC,
            MetricAnswer::Error(
                "error when getting metric values metric:s0-kafka-event encountered error".into(),
            ),
        );
        std::thread::sleep(Duration::from_secs_f64(seconds));
        std::fs::write(&flag, "0").unwrap();
        cluster
            .api
            .set_metric(METRIC, MetricAnswer::Value("0".into()));
    })
}

/// The rows of a timeline.csv, split into cells.
fn rows(timeline: &Path) -> Vec<Vec<String>> {
    let mut reader =
        csv::Reader::from_path(timeline).unwrap_or_else(|e| panic!("{}: {e}", timeline.display()));
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
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

    // First run: nothing exists yet. KEDA's metric fails for a second after 3 rows.
    let failing = fail_metric_once(&tools, 3, 1.0);
    let first = tools
        .command(script("kind-experiment"))
        .args(["--phase-seconds", "3", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    failing.join().unwrap();
    let (stdout, stderr) = text(&first);
    assert!(first.status.success(), "{stdout}\n{stderr}");
    let calls = tools.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("kind create cluster --name keda-kafka-lab")),
        "{calls:#?}"
    );
    let timeline = rows(&out.join("timeline.csv"));
    assert!(
        (11..=12).contains(&timeline.len()),
        "one row a second over 4 x 3 s: {timeline:?}"
    );
    let ts: Vec<f64> = timeline.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        ts.windows(2).all(|w| (0.9..=1.1).contains(&(w[1] - w[0]))),
        "a fixed one-second grid: {ts:?}"
    );
    let empty: Vec<&Vec<String>> = timeline.iter().filter(|r| r[6].is_empty()).collect();
    assert!(
        (1..=2).contains(&empty.len()),
        "the failed read's cell is empty: {timeline:?}"
    );
    assert!(
        timeline.last().is_some_and(|r| !r[6].is_empty()),
        "the run went on after the failed read"
    );
    let recording = std::fs::read_to_string(out.join("recording.md")).unwrap();
    assert!(
        recording.contains(&format!("- external metric: {}, the first:", empty.len())),
        "{recording}"
    );
    // The produce rate over the samples' own times: non-zero while the producer runs at
    // 1000 and 100 ms, zero once it is deleted (each phase's first and last rows may
    // straddle the change).
    let rate = |phase: &str| -> Vec<f64> {
        let cells: Vec<f64> = timeline
            .iter()
            .filter(|r| r[1] == phase)
            .map(|r| r[4].parse().unwrap())
            .collect();
        cells[1..cells.len().saturating_sub(1)].to_vec()
    };
    assert!(rate("0").iter().all(|r| *r > 0.0), "{timeline:?}");
    assert!(rate("2").iter().all(|r| *r > 5.0), "{timeline:?}");
    assert!(rate("1").iter().all(|r| *r == 0.0), "{timeline:?}");
    assert!(
        timeline.iter().any(|r| r[9] == "3") && timeline.iter().any(|r| r[9] == "0"),
        "replicas follow the phases: {timeline:?}"
    );
    assert_reports(&out);
    for file in ["trace.jsonl", "events.jsonl", "lab-record.log"] {
        assert!(out.join(file).exists(), "{file}");
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("**Gaps**"), "{summary}");
    assert!(summary.contains("| period 100 ms | - | 3 "), "{summary}");

    second_run_reuses_the_cluster_and_deletes_in_order(&tools, &out, &stdout);
}

/// The same stand-ins again: the cluster exists, the registry was stopped (a reboot, say),
/// the sources changed (a rebuilt image must be what runs); this run ends with `--delete`.
fn second_run_reuses_the_cluster_and_deletes_in_order(tools: &StandIns, out: &Path, first: &str) {
    std::fs::write(tools.state.join("registry"), "stopped").unwrap();
    std::fs::remove_file(tools.state.join("calls.log")).unwrap();
    std::fs::write(tools.state.join("build-generation"), "2").unwrap();

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
    let tag = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("newTag: "))
            .map(str::to_owned)
            .collect()
    };
    // Each run prints the overlay it writes (tee): the tags it made the pods run.
    let (before, after) = (tag(first), tag(&stdout));
    assert!(
        before
            .iter()
            .zip(&after)
            .all(|(b, a)| b != a && a.starts_with("\"0.1.0-")),
        "a rebuilt image gets a new tag: {before:?} -> {after:?}"
    );
    assert!(
        calls.iter().any(|c| c.starts_with(
            "kubectl set env -n keda-kafka-lab deployment/kafka-producer-callback kafka.time.period=1000"
        )),
        "the first phase sets its period, whatever the last run left: {calls:#?}"
    );
    assert!((7..=8).contains(&rows(&out.join("timeline.csv")).len()));
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
    let recording = tools.state.join("pod-out/timeline.csv");
    let timeline = out.join("timeline.csv");
    let started = Instant::now();
    while std::fs::read_to_string(&recording).map_or(0, |t| t.lines().count()) < 4 {
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
            .any(|c| c.starts_with("kubectl delete pod -n keda-kafka-lab lab-record")),
        "the recorder pod is removed on the way out"
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
    let recorded = rows(&out.join("timeline.csv")).len();
    assert!(
        (3..=5).contains(&recorded),
        "phases 1 and 2: {recorded} rows"
    );
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
    let pins = lab_model::pins::pins();
    let env = versions_env();
    for expected in [
        format!("kind create cluster --name keda-kafka-lab --image {}", pins.kind_node_image),
        format!("helm upgrade --install strimzi oci://quay.io/strimzi-helm/strimzi-kafka-operator --version {} --namespace keda-kafka-lab", pins.strimzi),
        format!("helm upgrade --install {} prometheus-community/kube-prometheus-stack --version {} --namespace monitoring", env("MONITORING_RELEASE"), env("KUBE_PROMETHEUS_STACK_VERSION")),
        format!("helm upgrade --install keda kedacore/keda --version {} --namespace keda", pins.keda_chart),
        format!("--set prometheus.operator.enabled=true --set prometheus.operator.podMonitor.enabled=true --set prometheus.operator.podMonitor.additionalLabels.release={}", env("MONITORING_RELEASE")),
        "docker build --target lab -t localhost:5001/keda-kafka-lab:0.1.0 .".into(),
        "docker tag localhost:5001/kafka-consumer:0.1.0 localhost:5001/kafka-consumer:0.1.0-DIGEST".into(),
        "docker push localhost:5001/kafka-consumer:0.1.0-DIGEST".into(),
        "kubectl apply -n keda-kafka-lab -k .tools/kind-overlay".into(),
        "kubectl apply -n keda-kafka-lab -k k8s/monitoring".into(),
        "kubectl wait -n keda-kafka-lab scaledobject/kafka-consumer --for=condition=Ready".into(),
        r#"args: ["record", "--namespace", "keda-kafka-lab", "--scaled-object", "kafka-consumer", "--seconds", "750", "--out", "/out", "--hold", "--scenario", "published"]"#.into(),
        "image: localhost:5001/keda-kafka-lab:0.1.0-DIGEST".into(),
        "serviceAccountName: lab-record".into(),
        "kubectl exec -n keda-kafka-lab lab-record -- lab archive /out | tar -x -C lab-out/kind-experiment".into(),
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
            "localhost:5001/kafka-consumer:0.1.0-DIGEST",
            "localhost:5001/kafka-producer-callback:0.1.0-DIGEST"
        ],
        "{overlay}"
    );

    let phases: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("== phase "))
        .collect();
    let published = lab_model::scenario::Scenario::published().unwrap();
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
        // The cluster CA from Secret my-cluster-cluster-ca-cert, inline: Strimzi mounts no
        // certificate in its broker pods since 0.49 (KafkaCluster.java getVolumeMounts).
        r"ssl.truststore.certificates=-----BEGIN CERTIFICATE-----\nc3RhbmQtaW4gY2x1c3RlciBDQQ==\n-----END CERTIFICATE-----\n",
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

/// `scripts/cluster-lab record` alone: the recorder pod with its ServiceAccount, waited for,
/// its recording brought back, the pod deleted; `doctor` exits with the doctor's status.
#[test]
fn cluster_lab_records_in_the_namespace_and_brings_the_recording_back() {
    let tools = StandIns::new("cluster-lab");
    let out = tools.state.join("out");
    let result = tools
        .command(script("cluster-lab"))
        .args(["record", "--seconds", "3", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&result);
    assert!(result.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("lab record: written 3 rows"), "{stdout}");
    assert_eq!(rows(&out.join("timeline.csv")).len(), 3);
    for file in [
        "trace.jsonl",
        "events.jsonl",
        "recording.md",
        "lab-record.log",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }
    let calls = tools.calls();
    let position = |prefix: &str| {
        calls
            .iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {calls:#?}"))
    };
    assert!(
        position("kubectl apply -k .tools/lab-record-overlay") < position("kubectl apply -f -")
    );
    assert!(
        position("kubectl exec -n keda-kafka-lab lab-record -- lab archive /out")
            < position(
                "kubectl delete pod -n keda-kafka-lab lab-record --ignore-not-found --wait=false"
            )
    );
    // The overlay puts k8s/lab-record's ServiceAccount and Role in the namespace.
    let rendered = kustomize(".tools/lab-record-overlay");
    let docs = documents(&rendered);
    let binding = find(&docs, "RoleBinding", "lab-record");
    assert_eq!(
        binding["subjects"][0]["namespace"].as_str(),
        Some("keda-kafka-lab")
    );
    assert!(
        docs.iter()
            .all(|d| d["kind"] != "Role" || d["metadata"]["name"] != "lab-record-secrets"),
        "secrets only when asked"
    );

    let doctor = tools
        .command(script("cluster-lab"))
        .args(["doctor", "--", "--window", "0"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&doctor);
    assert!(
        stdout.contains("now: ScaledObject kafka-consumer -> Deployment kafka-consumer"),
        "{stdout}\n{stderr}"
    );
    assert!(
        matches!(doctor.status.code(), Some(0 | 1)),
        "the doctor's own status: {stdout}\n{stderr}"
    );
}

/// After scripts/use-registry, the kind overlay matches the names k8s/ now renders, so
/// the pods run the images the experiment built (not the registry's nor an old one).
#[test]
fn the_kind_overlay_matches_the_images_after_use_registry() {
    let dir = std::env::temp_dir().join(format!("kind-use-registry-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for part in ["k8s", "scripts", "Cargo.toml"] {
        assert!(Command::new("cp")
            .arg("-r")
            .arg(repo().join(part))
            .arg(&dir)
            .status()
            .unwrap()
            .success());
    }
    let use_registry = Command::new("bash")
        .arg(dir.join("scripts/use-registry"))
        .arg("registry.example.com/you")
        .output()
        .unwrap();
    assert!(use_registry.status.success(), "{}", text(&use_registry).1);
    let dry = Command::new("bash")
        .arg(dir.join("scripts/kind-experiment"))
        .arg("--dry-run")
        .output()
        .unwrap();
    let (printed, stderr) = text(&dry);
    assert!(dry.status.success(), "{stderr}");
    let overlay = printed
        .split("+ tee .tools/kind-overlay/kustomization.yaml <<EOF\n")
        .nth(1)
        .and_then(|rest| rest.split("\nEOF\n").next())
        .expect("the overlay is printed");
    std::fs::create_dir_all(dir.join(".tools/kind-overlay")).unwrap();
    std::fs::write(dir.join(".tools/kind-overlay/kustomization.yaml"), overlay).unwrap();
    let rendered = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir.join(".tools/kind-overlay"))
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
            "localhost:5001/kafka-consumer:0.1.0-DIGEST",
            "localhost:5001/kafka-producer-callback:0.1.0-DIGEST"
        ],
        "{overlay}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
