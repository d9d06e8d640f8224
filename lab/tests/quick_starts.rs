//! Every command the README's quick starts show runs here, or is rendered by its
//! `--dry-run`: the commands are read from README.md (every line of the section's `sh`
//! blocks, and every inline `cargo ...` command of its text), and a command this test does
//! not know fails it, so a quick start cannot show one that nothing runs.
//!
//! - `lab replay --quick`: rendered by `--dry-run` (its phases and settings); the replay
//!   itself is what `scripts/quick-replays` runs for the README's five-run figures;
//! - `lab simulate --seeds 40`: run, and its distributions are README's table;
//! - `cargo run -p keda-kafka-lab --bin lab` and `cargo install --locked --path lab`: the
//!   package and binary they name, as `cargo metadata` reads the package at `lab/` (an
//!   install is a release build of several minutes);
//! - `scripts/kind-experiment`: `--dry-run` as shown, and the short run rendered by
//!   `--dry-run` (a real run needs Docker and kind; `lab/tests/kind_experiment.rs` runs it
//!   end to end against stand-ins);
//! - `lab check-manifests your.yaml`: on the repository's manifests;
//! - `lab doctor` and `lab record`: against the Kubernetes API stand-in and the embedded
//!   broker (`record` for 2 s instead of 600);
//! - `scripts/cluster-lab doctor`: rendered by `--dry-run`.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Output};

use lab_model::markdown::Table;
use support::cluster::{StandIn, NAME, NAMESPACE};
use support::{lab, repo, temp_dir, text};

/// The README's "Quick starts" section.
fn quick_starts() -> String {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let start = readme
        .find("\n## Quick starts\n")
        .expect("a Quick starts section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    rest[..end].to_owned()
}

/// The commands of `section`: each line of its `sh` blocks (a trailing `# comment`
/// dropped) and each inline `cargo ...` code span of its text (whitespace joined).
fn commands(section: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut prose = String::new();
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = !in_block && line.trim() == "```sh";
            continue;
        }
        if in_block {
            let command = line.split("  #").next().unwrap().trim();
            if !command.is_empty() {
                out.push(command.to_owned());
            }
        } else {
            prose.push_str(line);
            prose.push(' ');
        }
    }
    for (i, span) in prose.split('`').enumerate() {
        let span = span.split_whitespace().collect::<Vec<_>>().join(" ");
        if i % 2 == 1 && span.starts_with("cargo ") && !out.contains(&span) {
            out.push(span);
        }
    }
    out
}

fn succeeded(out: &Output, what: &str) -> String {
    assert!(out.status.success(), "{what}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn script(name: &str, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(repo(&format!("scripts/{name}")))
        .args(args)
        .output()
        .unwrap()
}

/// The package at `lab/` and its binaries, as `cargo metadata` reads them.
fn lab_package_binaries() -> (String, Vec<String>) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(repo("lab/Cargo.toml"))
        .output()
        .unwrap();
    let metadata: serde_json::Value =
        serde_json::from_str(&succeeded(&out, "cargo metadata")).unwrap();
    let manifest = std::path::Path::new(&repo("lab/Cargo.toml"))
        .canonicalize()
        .unwrap();
    let package = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            std::path::Path::new(p["manifest_path"].as_str().unwrap())
                .canonicalize()
                .is_ok_and(|m| m == manifest)
        })
        .expect("the package at lab/");
    let bins = package["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    (package["name"].as_str().unwrap().to_owned(), bins)
}

/// `--dry-run` of the quick replay lists the scenario's phases at 1x.
fn replay_quick() {
    let plan = succeeded(&lab(&["replay", "--quick", "--dry-run"]), "replay --quick");
    let quick = lab_model::scenario::Scenario::load("quick").unwrap();
    assert!(plan.starts_with("replay quick at 1x: "), "{plan}");
    for phase in &quick.phases {
        assert!(
            plan.contains(&format!("phase {:?}: {} s, ", phase.name, phase.seconds)),
            "{plan}"
        );
    }
}

/// `lab simulate --seeds 40` prints the README's 40-seed table (`replicas: seeds`).
fn simulate_seeds_40(readme: &str) {
    let dir = temp_dir("simulate-40");
    let printed = succeeded(
        &lab(&["simulate", "--seeds", "40", "--out", dir.to_str().unwrap()]),
        "simulate --seeds 40",
    );
    let table = Table::after(
        readme,
        "<!-- claims: simulate --seeds 40 --scenario published -->",
    )
    .expect("README's 40-seed table")
    .rows()
    .to_vec();
    let scenario = lab_model::scenario::Scenario::published().unwrap();
    let spread = printed
        .split("over seeds 1..=40:")
        .nth(1)
        .unwrap_or_else(|| panic!("no distribution in {printed}"));
    for (row, phase) in table.iter().zip(&scenario.phases) {
        let line = spread
            .lines()
            .find(|l| l.trim_start().starts_with(&phase.name))
            .unwrap_or_else(|| panic!("{} not in {spread}", phase.name));
        let counts: BTreeMap<u32, u64> = line
            .split(": ")
            .skip(1)
            .collect::<Vec<_>>()
            .join(": ")
            .split(", ")
            .map(|c| {
                let (replicas, seeds) = c.split_once(" replica(s) x").unwrap();
                (
                    replicas.trim().parse().unwrap(),
                    seeds.trim().parse().unwrap(),
                )
            })
            .collect();
        let cell: BTreeMap<u32, u64> = row[2]
            .split(", ")
            .map(|c| {
                let (r, s) = c.split_once(": ").unwrap();
                (r.parse().unwrap(), s.parse().unwrap())
            })
            .collect();
        assert_eq!(
            counts, cell,
            "{}: README {row:?}, printed {line}",
            phase.name
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// `lab check-manifests` on the repository's manifests ends as the README says.
fn check_manifests() {
    let files: Vec<String> = [
        "k8s/kafka/kafka.yaml",
        "k8s/kafka/topic.yaml",
        "k8s/producer/deployment.yaml",
        "k8s/consumer/deployment.yaml",
        "k8s/keda/scaled-object.yaml",
    ]
    .iter()
    .map(|f| repo(f))
    .collect();
    let mut args = vec!["check-manifests"];
    args.extend(files.iter().map(String::as_str));
    let printed = succeeded(&lab(&args), "check-manifests");
    let last = printed.lines().last().unwrap();
    assert!(
        last.starts_with(
            "manifests: 6 documents checked against KEDA 2.20.2, Strimzi 1.2.0 and Kubernetes 1.35: no findings"
        ),
        "{last}"
    );
}

/// `lab doctor` and `lab record` with the README's options, against the API stand-in.
fn doctor_and_record() {
    let dir = temp_dir("own-cluster");
    let stand_in = StandIn::start(&dir, 4, 1, "0");
    stand_in.produce(2);
    stand_in.commit(0);
    let doctor = stand_in
        .lab(&["doctor", "--namespace", NAMESPACE, "--scaled-object", NAME])
        .output()
        .unwrap();
    let printed = text(&doctor.stdout);
    assert!(
        matches!(doctor.status.code(), Some(0 | 1)) && printed.starts_with("now:"),
        "exit {:?}: {printed}{}",
        doctor.status.code(),
        text(&doctor.stderr)
    );
    let record = stand_in
        .lab(&[
            "record",
            "--namespace",
            NAMESPACE,
            "--scaled-object",
            NAME,
            "--seconds",
            "2",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    succeeded(&record, "record");
    let out = dir.join(format!("lab-out/record-{NAME}"));
    for file in ["timeline.csv", "trace.jsonl", "recording.md"] {
        assert!(out.join(file).is_file(), "{} has no {file}", out.display());
    }
    lab_model::trace::read_trace(&out.join("trace.jsonl")).unwrap();
    drop(stand_in);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn every_quick_start_command_runs_or_is_rendered_by_dry_run() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let section = quick_starts();
    let found = commands(&section);
    let (package, bins) = lab_package_binaries();
    let cargo_run = format!("cargo run --release -p {package} --bin lab --");
    assert!(bins.contains(&"lab".to_owned()), "{bins:?}");
    let mut ran = Vec::new();
    let mut own_cluster = false;
    for command in &found {
        let lab_args = command
            .strip_prefix(&cargo_run)
            .map(str::trim)
            .or_else(|| command.strip_prefix("lab "));
        match (command.as_str(), lab_args) {
            (_, Some("replay --quick")) => replay_quick(),
            (_, Some("simulate --seeds 40")) => simulate_seeds_40(&readme),
            (_, Some("check-manifests your.yaml")) => check_manifests(),
            (
                _,
                Some(
                    "doctor --namespace NS --scaled-object NAME"
                    | "record --namespace NS --scaled-object NAME --seconds 600",
                ),
            ) => {
                if !own_cluster {
                    doctor_and_record();
                    own_cluster = true;
                }
            }
            ("cargo install --locked --path lab", _) => {} // the package and its binary, above
            ("scripts/kind-experiment --dry-run", _) => {
                let plan = succeeded(&script("kind-experiment", &["--dry-run"]), command);
                assert!(plan.contains("+ kind create cluster --name keda-kafka-lab"));
            }
            ("scripts/kind-experiment --phase-seconds 30", _) => {
                let plan = succeeded(
                    &script("kind-experiment", &["--phase-seconds", "30", "--dry-run"]),
                    command,
                );
                for phase in [
                    "period 1000 ms",
                    "producer deleted",
                    "period 100 ms",
                    "period 10 s",
                ] {
                    assert!(plan.contains(&format!(": {phase} (30 s)")), "{plan}");
                }
            }
            ("scripts/cluster-lab doctor --namespace NS --scaled-object NAME", _) => {
                let plan = succeeded(
                    &script(
                        "cluster-lab",
                        &[
                            "doctor",
                            "--namespace",
                            "NS",
                            "--scaled-object",
                            "NAME",
                            "--dry-run",
                        ],
                    ),
                    command,
                );
                assert!(
                    plan.contains(
                        r#"args: ["doctor", "--namespace", "NS", "--scaled-object", "NAME"]"#
                    ),
                    "{plan}"
                );
            }
            _ => panic!("README's quick starts show {command:?}, which no test here runs"),
        }
        ran.push(command.as_str());
    }
    for needed in [
        "replay --quick",
        "simulate --seeds 40",
        "cargo install --locked --path lab",
        "scripts/kind-experiment --dry-run",
        "lab doctor --namespace NS --scaled-object NAME",
    ] {
        assert!(
            ran.iter().any(|c| c.ends_with(needed)),
            "{needed:?} not among the quick starts' commands: {ran:?}"
        );
    }
}

/// The reader of commands, on a section written the README's way.
#[test]
fn commands_are_read_from_blocks_and_inline_cargo_spans() {
    let section = "## Quick starts\n\nRun `cargo run -p x --bin y -- a\n--b 1` or `lab plan`.\n\
                   ```sh\nlab a   # a comment\n\nscripts/b --c  # another\n```\n\
                   ```text\nnot a command\n```\n";
    assert_eq!(
        commands(section),
        [
            "lab a",
            "scripts/b --c",
            "cargo run -p x --bin y -- a --b 1"
        ]
    );
}

/// The host sizes the kind quick start and docs/kubernetes.md give are the manifests'
/// limits: the producer and maxReplicaCount consumers at their CPU and memory limits.
#[test]
fn the_kind_host_size_is_the_manifests_limits() {
    let yaml = |path: &str| -> serde_yaml_ng::Value {
        serde_yaml_ng::from_str(&std::fs::read_to_string(repo(path)).unwrap()).unwrap()
    };
    let limits = |path: &str| -> (f64, f64) {
        let deployment = yaml(path);
        let limits =
            &deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"];
        let cpu = limits["cpu"].as_str().unwrap();
        let memory = limits["memory"].as_str().unwrap();
        (
            cpu.strip_suffix('m').unwrap().parse::<f64>().unwrap() / 1000.0,
            memory.strip_suffix("Mi").unwrap().parse().unwrap(),
        )
    };
    let max = yaml("k8s/keda/scaled-object.yaml")["spec"]["maxReplicaCount"]
        .as_u64()
        .unwrap() as f64;
    let (producer_cpu, producer_memory) = limits("k8s/producer/deployment.yaml");
    let (consumer_cpu, consumer_memory) = limits("k8s/consumer/deployment.yaml");
    let said = format!(
        "{} CPUs and {} MiB",
        producer_cpu + max * consumer_cpu,
        producer_memory + max * consumer_memory
    );
    for doc in ["README.md", "docs/kubernetes.md"] {
        let text = std::fs::read_to_string(repo(doc))
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains(&said), "{doc} does not say {said:?}");
        assert!(text.contains("not a tested minimum"), "{doc}");
    }
}
