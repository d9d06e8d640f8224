//! The code's shape, held by tests.
//!
//! - The crate graph: the lab is six crates, each on its floor (`lab_model` at the bottom,
//!   pure; `lab_manifests`, `lab_kafka`; `lab_replay` and `lab_cluster`; the `lab`
//!   binary on top), and the pure model links no tokio, no rdkafka and no OpenSSL, nor
//!   does the workload's shared crate. Read from `cargo metadata`, so a dependency added
//!   in the wrong place fails here.
//! - Within each crate (the lab's, the services', their shared crates', the bench's), the
//!   top-level modules import each other without a cycle.
//! - No function anywhere in the workspace runs over 120 lines.
//!
//! `cargo test -p keda-kafka-lab --test layout -- --nocapture` prints the crate graph, the
//! module graphs and the longest functions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    lab_model::scenario::repo_root()
}

/// The workspace's packages and, for each, the workspace packages it depends on (normal
/// dependencies only), and every crate it links, transitively.
struct Graph {
    direct: BTreeMap<String, BTreeSet<String>>,
    linked: BTreeMap<String, BTreeSet<String>>,
}

fn cargo_graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // The graph for this machine's platform: what a build here links (and what was
    // downloaded for it).
    let rustc = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc runs");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc names its host");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            &host,
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let name_of = |id: &str| -> String {
        meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let members: BTreeSet<String> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| name_of(id.as_str().unwrap()))
        .collect();
    // Normal (not dev, not build) dependencies of each resolved package.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let from = name_of(node["id"].as_str().unwrap());
        let deps = node["deps"].as_array().unwrap().iter().filter(|d| {
            d["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null())
        });
        let names = deps.map(|d| name_of(d["pkg"].as_str().unwrap()));
        edges.entry(from).or_default().extend(names);
    }
    let mut direct = BTreeMap::new();
    let mut linked = BTreeMap::new();
    for member in &members {
        let deps = edges.get(member).cloned().unwrap_or_default();
        direct.insert(
            member.clone(),
            deps.iter()
                .filter(|d| members.contains(*d))
                .cloned()
                .collect(),
        );
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = deps.into_iter().collect();
        while let Some(next) = todo.pop() {
            if seen.insert(next.clone()) {
                todo.extend(edges.get(&next).into_iter().flatten().cloned());
            }
        }
        linked.insert(member.clone(), seen);
    }
    Graph { direct, linked }
}

/// What each lab crate may depend on within the workspace: exactly these.
const FLOORS: &[(&str, &[&str])] = &[
    ("keda-kafka-workload", &[]),
    ("keda-kafka-lab-model", &["keda-kafka-workload"]),
    (
        "keda-kafka-lab-manifests",
        &[
            "keda-kafka-lab-model",
            "keda-kafka-common",
            "kafka-producer-callback",
            "kafka-consumer",
        ],
    ),
    (
        "keda-kafka-lab-kafka",
        &["keda-kafka-lab-model", "keda-kafka-common"],
    ),
    (
        "keda-kafka-lab-replay",
        &[
            "keda-kafka-lab-model",
            "keda-kafka-lab-kafka",
            "keda-kafka-workload",
            "keda-kafka-common",
            "kafka-producer-callback",
            "kafka-consumer",
        ],
    ),
    (
        "keda-kafka-lab-cluster",
        &[
            "keda-kafka-lab-model",
            "keda-kafka-lab-kafka",
            "keda-kafka-common",
        ],
    ),
];

#[test]
fn the_crates_stand_on_their_floors_and_the_model_is_pure() {
    let graph = cargo_graph();
    for (member, deps) in &graph.direct {
        let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
        println!("{member} -> {}", deps.join(", "));
    }
    for (member, allowed) in FLOORS {
        let deps: Vec<&str> = graph.direct[*member].iter().map(String::as_str).collect();
        let mut allowed = allowed.to_vec();
        allowed.sort();
        assert_eq!(deps, allowed, "{member}'s workspace dependencies");
    }
    for pure in ["keda-kafka-lab-model", "keda-kafka-workload"] {
        let linked = &graph.linked[pure];
        for heavy in [
            "tokio",
            "rdkafka",
            "rdkafka-sys",
            "openssl-sys",
            "openssl-src",
            "kube",
        ] {
            assert!(!linked.contains(heavy), "{pure} links {heavy}");
        }
    }
    // The Kubernetes client is the cluster crate's alone (and the `lab` binary's, through it).
    for (member, linked) in &graph.linked {
        let ours = [
            "keda-kafka-lab-cluster",
            "keda-kafka-lab",
            "keda-kafka-bench",
        ];
        if linked.contains("kube-client") && !ours.contains(&member.as_str()) {
            panic!("{member} links kube");
        }
    }
    // The binaries link nothing of the lab.
    for app in [
        "kafka-producer-callback",
        "kafka-consumer",
        "keda-kafka-common",
    ] {
        let lab: Vec<&String> = graph.linked[app]
            .iter()
            .filter(|c| c.starts_with("keda-kafka-lab"))
            .collect();
        assert!(lab.is_empty(), "{app} links {lab:?}");
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | ".git" | ".tools" | "lab-out" | "corpus" | "artifacts"
            ) {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// The workspace's crates whose modules are held to no import cycle: the lab's six, the
/// two services, their shared crates and the benchmark.
const CRATES: &[&str] = &[
    "lab/src",
    "lab/model/src",
    "lab/manifests/src",
    "lab/kafka/src",
    "lab/replay/src",
    "lab/cluster/src",
    "producer/src",
    "consumer/src",
    "common/src",
    "workload/src",
    "bench/src",
];

/// The top-level module of a crate's src a file belongs to (`report/chart.rs` -> `report`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_owned();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// Module -> the top-level modules it names through `crate::`, in the crate at `src`.
fn import_graph(src: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = workspace().join(src);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                deps.insert(name);
            }
        }
    }
    graph
}

/// A cycle of the graph, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn each_crate_s_modules_import_each_other_without_a_cycle() {
    for src in CRATES {
        let graph = import_graph(src);
        println!("== {src}");
        for (module, deps) in &graph {
            println!(
                "{module} -> {}",
                deps.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        assert_eq!(find_cycle(&graph), None, "an import cycle in {src}");
    }
}

/// Each function of `text`: its name, first line, and length in lines.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let after_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
            "pub async fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p));
        let Some(rest) = after_fn else { continue };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let mut depth = 0i32;
        let mut opened = false;
        for (end, body) in lines.iter().enumerate().skip(start) {
            let code = strip_literals(body);
            if !opened && code.trim_end().ends_with(';') {
                break; // a declaration without a body
            }
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                out.push((name, start + 1, end - start + 1));
                break;
            }
        }
    }
    out
}

/// A line without its string and char literals and its comment, for brace counting.
fn strip_literals(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match (in_string, c) {
            (true, '\\') => {
                chars.next();
            }
            (true, '"') => in_string = false,
            (true, _) => {}
            (false, '"') => in_string = true,
            (false, '\'') => {
                // A char literal ('{', '\n'); a lifetime has no closing quote nearby.
                let rest: String = chars.clone().take(3).collect();
                if let Some(close) = rest.find('\'') {
                    for _ in 0..=close {
                        chars.next();
                    }
                }
            }
            (false, '/') if chars.peek() == Some(&'/') => break,
            (false, _) => out.push(c),
        }
    }
    out
}

#[test]
fn no_function_runs_over_120_lines() {
    let mut files = Vec::new();
    rust_files(&workspace(), &mut files);
    let mut all: Vec<(usize, String)> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = file
            .strip_prefix(workspace())
            .unwrap()
            .display()
            .to_string();
        for (name, line, length) in functions(&text) {
            all.push((length, format!("{shown}:{line} {name}")));
        }
    }
    all.sort_by(|a, b| b.cmp(a));
    for (length, at) in all.iter().take(5) {
        println!("{length:>4} lines  {at}");
    }
    let long: Vec<_> = all.iter().filter(|(length, _)| *length > 120).collect();
    assert!(long.is_empty(), "functions over 120 lines: {long:#?}");
}

#[test]
fn the_scanner_measures_what_it_says() {
    let text =
        "fn a() {\n    let s = \"}\";\n    if x { y('{') }\n}\nfn b();\npub fn c() -> X {\n}\n";
    assert_eq!(
        functions(text),
        [("a".to_owned(), 1, 4), ("c".to_owned(), 6, 2)]
    );
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
