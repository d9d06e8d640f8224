//! The benchmark end to end at a tiny size: every figure on the embedded broker, both
//! references, one run each. Checks that the bench measures and reports, not how fast
//! anything is (benchmarks print figures; tests do not time them).

use std::process::Command;

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
        ])
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
    ] {
        assert!(stdout.contains(title), "no {title:?} in:\n{stdout}");
    }
    // Both references ran on the mock cluster and were compared.
    for reference in ["kcat 1.", "confluent-kafka 2."] {
        let rows: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with("mock") && l.contains(reference))
            .collect();
        assert_eq!(
            rows.len(),
            2,
            "{reference}: one drain and one burst row:\n{stdout}"
        );
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
    assert_eq!(markdown.matches("\n## ").count(), 6, "{markdown}");
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
