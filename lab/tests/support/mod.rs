//! What the `lab` binary's test suites share: running it, its output as text, the
//! repository's files, a fresh scratch folder per test, a replay's accounting, and a
//! ScaledObject the emulator must refuse. Each suite uses its own part of it.
#![allow(dead_code)]

pub mod cluster;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `lab` binary cargo built for these tests, to the end.
pub fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(args)
        .output()
        .expect("lab runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A path in the repository, as `lab` takes it on its command line.
pub fn repo(path: &str) -> String {
    lab_model::scenario::repo_root()
        .join(path)
        .display()
        .to_string()
}

/// An empty folder for one test: `lab-<suite>-<name>-<pid>` in the temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let suite = env!("CARGO_CRATE_NAME");
    let dir = std::env::temp_dir().join(format!("lab-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The total row of a replay's `accounting.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub produced: u64,
    pub processed: u64,
    pub duplicated: u64,
    pub lost: u64,
    pub pending: u64,
}

/// The total row of the `accounting.csv` in `dir` (the file is echoed to stderr, for a
/// failing test's output).
pub fn accounting_total(dir: &Path) -> Totals {
    let accounting = std::fs::read_to_string(dir.join("accounting.csv")).unwrap();
    eprintln!("{accounting}");
    let row: Vec<&str> = accounting.lines().last().unwrap().split(',').collect();
    assert_eq!(row[0], "total", "{accounting}");
    let n: Vec<u64> = row[1..].iter().map(|c| c.parse().unwrap()).collect();
    Totals {
        produced: n[0],
        processed: n[1],
        duplicated: n[2],
        lost: n[3],
        pending: n[4],
    }
}

/// The repository's ScaledObject with a RabbitMQ trigger beside its Kafka trigger,
/// written into `dir`: KEDA accepts it, the emulator does not model that trigger type.
pub fn unemulated_scaled_object(dir: &Path) -> PathBuf {
    let so = dir.join("so.yaml");
    let rabbit = std::fs::read_to_string(repo("k8s/keda/scaled-object.yaml"))
        .unwrap()
        + "    - type: rabbitmq\n      metadata: {queueName: orders, mode: QueueLength, value: '5'}\n";
    std::fs::write(&so, rabbit).unwrap();
    so
}

/// `out` failed, naming the trigger type the emulator does not model.
pub fn assert_refused_as_not_emulated(out: &Output) {
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("spec.triggers[1].type: not emulated: a rabbitmq trigger"),
        "{stderr}"
    );
}

/// The event delays a run's `summary.md` notes, seconds: (events, min, p50, p95, max), from
/// `event delay (from its time to its first processing, N events): min A s, p50 B s, ...`.
pub fn delay_note(summary: &str) -> Option<(u64, f64, f64, f64, f64)> {
    let line = summary
        .lines()
        .find(|l| l.starts_with("- event delay (from its time to its first processing, "))?;
    let (head, figures) = line.split_once("): ")?;
    let events = head
        .rsplit(", ")
        .next()?
        .trim_end_matches(" events")
        .parse()
        .ok()?;
    let value = |name: &str| -> Option<f64> {
        figures
            .split(", ")
            .find_map(|f| f.strip_prefix(name))?
            .trim_end_matches(" s")
            .parse()
            .ok()
    };
    Some((
        events,
        value("min ")?,
        value("p50 ")?,
        value("p95 ")?,
        value("max ")?,
    ))
}
