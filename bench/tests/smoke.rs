//! The benchmark end to end at a tiny size: every figure on the embedded broker, both
//! references, one run each. Checks that the bench measures and reports, not how fast
//! anything is (benchmarks print figures; tests do not time them).

use std::process::Command;

/// The lab figures (tune, a day's tune, a day's recording) at their smallest.
const TINY_LAB_FIGURES: [&str; 16] = [
    "--tune-seeds",
    "1",
    "--tune-candidates",
    "5",
    "--day-hours",
    "1",
    "--day-seeds",
    "1",
    "--day-candidates",
    "2",
    "--trace-partitions",
    "3",
    "--trace-seeds",
    "1",
    "--trace-candidates",
    "1",
];

#[test]
fn every_figure_is_measured_and_reported() {
    let work = std::env::temp_dir().join(format!("bench-smoke-{}", std::process::id()));
    let out = work.join("bench.md");
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args([
            "--broker",
            "mock",
            "--events",
            "2000",
            "--runs",
            "1",
            "--period-ms",
            "50",
            "--period-seconds",
            "2",
            "--startup-runs",
            "1",
            "--simulate-runs",
            "1",
            "--scaling-events",
            "200",
        ])
        .args(TINY_LAB_FIGURES)
        .arg("--work")
        .arg(&work)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench failed:\n{stdout}\n{stderr}");
    for title in [
        "1. Consumer drain",
        "2. Producer burst",
        "3. Period accuracy",
        "4. Start-up",
        "5. Footprint",
        "6. lab simulate",
        "7. Scale-out",
        "8. lab tune",
        "9. lab tune of a day",
        "10. lab tune --trace of a day's recording",
    ] {
        assert!(stdout.contains(title), "no {title:?} in:\n{stdout}");
    }
    // Every reference ran on the mock cluster and was compared: kcat and confluent-kafka
    // in the drain and the burst, confluent-kafka decoding JSON in the drain.
    for (reference, expected) in [
        ("kcat 1.", 2),
        ("confluent-kafka 2.", 3),
        ("json.loads per record", 1),
    ] {
        let rows: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("mock") && l.contains(reference))
            .collect();
        assert_eq!(rows.len(), expected, "{reference}:\n{stdout}");
        assert!(rows
            .iter()
            .all(|r| r.contains("(met)") || r.contains("(MISSED)")));
    }
    // 2 s at 50 ms: 40 events stamped in the window (count ±1 is the target, not asserted).
    let period = stdout
        .lines()
        .find(|l| l.starts_with("mock") && l.contains("(40)"))
        .unwrap_or_else(|| panic!("no period row expecting 40:\n{stdout}"));
    assert!(period.contains(" ms"), "{period}");
    let markdown = std::fs::read_to_string(&out).expect("--out was written");
    assert!(markdown.starts_with("# Benchmark figures"));
    assert_eq!(markdown.matches("\n## ").count(), 10, "{markdown}");
    // Four group sizes drained the scale-out figure's events.
    let scaled = stdout
        .lines()
        .filter(|l| l.starts_with("mock") && l.contains(" 200 "))
        .count();
    assert_eq!(scaled, 4, "{stdout}");
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn a_bad_option_is_named_and_nothing_runs() {
    let output = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["--runs", "0"])
        .output()
        .expect("bench runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--runs"), "{stderr}");
}

/// `scripts/bench-before-after` end to end at a tiny size, with this build standing in for
/// both trees: three bench runs, then one file with a before and an after part, each holding
/// figures 6, 8, 9 and 10 one heading deeper (what `bench/tests/published.rs` reads in
/// docs/results/bench-lab-day.md).
#[test]
fn the_before_after_script_writes_both_parts_with_every_figure() {
    let work = std::env::temp_dir().join(format!("bench-before-after-{}", std::process::id()));
    let target = work.join("target");
    std::fs::create_dir_all(target.join("release")).unwrap();
    let bench = std::path::PathBuf::from(env!("CARGO_BIN_EXE_bench"));
    for name in ["bench", "lab"] {
        let real = bench.with_file_name(name);
        assert!(real.exists(), "{} is not built", real.display());
        std::os::unix::fs::symlink(&real, target.join("release").join(name)).unwrap();
    }
    let out = work.join("before-after.md");
    let output = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/bench-before-after"
    ))
    .arg("--before-target")
    .arg(&target)
    .args(["--before-commit", "older"])
    .arg("--after-target")
    .arg(&target)
    .arg("--work")
    .arg(work.join("parts"))
    .arg("--out")
    .arg(&out)
    .arg("--")
    .args(TINY_LAB_FIGURES)
    .output()
    .expect("the script runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench-before-after failed:\n{stderr}"
    );
    let file = std::fs::read_to_string(&out).expect("--out was written");
    let (before, after) = file
        .split_once("\n## After: ")
        .unwrap_or_else(|| panic!("no after part:\n{file}"));
    assert!(before.contains("\n## Before: older\n"), "{before}");
    assert!(
        before.contains("-- --tune-seeds 1 --tune-candidates 5"),
        "{before}"
    );
    for part in [before, after] {
        for figure in ["### 6.", "### 8.", "### 9.", "### 10."] {
            // The figure's own section: up to the next figure's heading.
            let section = part
                .split_once(figure)
                .unwrap_or_else(|| panic!("no {figure} in:\n{part}"))
                .1;
            let section = section.split("\n### ").next().unwrap();
            assert!(
                section.contains("\n|---|"),
                "{figure} has no table:\n{part}"
            );
        }
        assert!(
            !part.contains("\n## 6."),
            "a figure kept its level:\n{part}"
        );
    }
    std::fs::remove_dir_all(&work).unwrap();
}
