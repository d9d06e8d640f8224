//! `lab replay` against the embedded broker: replicas follow lag up and down, each
//! event's delay is measured from the ledgers, Ctrl-C still leaves reports, and `--quick`
//! is the published run shortened, refusing what would distort it.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use support::{accounting_total, delay_note, lab, temp_dir, text};

/// (phase, total_lag, replicas) per sample of a timeline.csv.
fn timeline(dir: &Path) -> Vec<(usize, i64, u32)> {
    let csv = std::fs::read_to_string(dir.join("timeline.csv")).unwrap();
    csv.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (
                f[1].parse().unwrap(),
                f[5].parse().unwrap(),
                f[9].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn replicas_follow_lag_up_and_down() {
    let dir = temp_dir("replay");
    let scenario = dir.join("up-down.toml");
    // One replica handles 1000/400 = 2.5 events/s; the producer sends 10/s.
    std::fs::write(
        &scenario,
        r#"name = "up-down"
partitions = 4
[consumer]
processing_ms = 400
commit_interval_ms = 500
[[phases]]
name = "busy"
seconds = 120
producer_period_ms = 100
[[phases]]
name = "idle"
seconds = 180
"#,
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args([
            "replay",
            "--scenario",
            scenario.to_str().unwrap(),
            "--speed",
            "4",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    eprintln!(
        "replay took {:?}\n{}",
        started.elapsed(),
        String::from_utf8_lossy(&out.stdout)
    );

    let samples = timeline(&dir);
    let busy: Vec<_> = samples.iter().filter(|s| s.0 == 0).collect();
    let idle: Vec<_> = samples.iter().filter(|s| s.0 == 1).collect();
    let max_lag = busy.iter().map(|s| s.1).max().unwrap();
    let max_replicas = busy.iter().map(|s| s.2).max().unwrap();
    assert!(
        max_lag > 20,
        "the producer outpaces one replica: lag {max_lag}"
    );
    assert!(
        max_replicas >= 3,
        "lag drives the HPA up (partition cap 4): {max_replicas}"
    );
    let last = idle.last().unwrap();
    assert_eq!(
        (last.1, last.2),
        (0, 0),
        "lag drained and KEDA scaled to zero: {last:?}"
    );
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("## busy") && summary.contains("## idle"),
        "{summary}"
    );
    // The broker's offsets as `lab lag --record` reads them, with the consumers running:
    // a recording `lab tune --trace` can fit.
    let trace = lab_model::trace::read_trace(&dir.join("trace.jsonl")).unwrap();
    assert!(
        trace.iter().any(|s| s.replicas >= Some(3)) && trace.iter().all(|s| s.replicas.is_some()),
        "{trace:?}"
    );
    // Nothing is lost while KEDA scales: every event below the group's final committed
    // offset was processed (the ledgers of the producer and every replica).
    let total = accounting_total(&dir);
    assert!(total.produced > 1000, "{total:?}");
    assert_eq!(total.lost, 0, "{total:?}");
    assert!(
        total.processed + total.pending == total.produced,
        "every produced event is processed or still pending: {total:?}"
    );
    assert!(
        summary.contains("## Every event accounted for"),
        "{summary}"
    );
    assert!(dir.join("chart.png").exists() && dir.join("replay.log").exists());
    // Each event's delay, from its `time` to its first processing (the consumers'
    // ledgers): one per event made and processed in scenario time, each at least the
    // 400 ms of processing, none as long as the run.
    let (events, min, p50, p95, max) = delay_note(&summary).expect("the delays are noted");
    assert!(
        events > 1000 && events <= total.processed,
        "{events} delays of {total:?}"
    );
    assert!(min >= 0.4, "at least the processing time: {summary}");
    assert!(min <= p50 && p50 <= p95 && p95 <= max, "{summary}");
    assert!(max < 300.0, "below the run's 300 s: {summary}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--quick` is the built-in `quick`: the published topic, consumer, ScaledObject and
/// periods, each phase shortened (what README and docs/lab.md say), at 1x. It refuses a
/// --speed that would distort it and a --scenario it would replace, naming the options;
/// --speed above 1 elsewhere runs with a warning naming the option.
#[test]
fn quick_is_the_published_run_shortened_and_refuses_what_would_distort_it() {
    let out = lab(&["replay", "--quick", "--dry-run"]);
    let plan = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let published = lab_model::scenario::Scenario::published().unwrap();
    let seconds = lab_model::scenario::builtin::QUICK_PHASE_SECONDS;
    assert!(
        plan.starts_with(&format!(
            "replay quick at 1x: {} s of phases after a 20 s warm-up",
            seconds.iter().sum::<u64>()
        )),
        "{plan}"
    );
    for (phase, seconds) in published.phases.iter().zip(seconds) {
        let producer = phase
            .producer_period_ms
            .map_or("no producer".into(), |p| format!("period {p} ms"));
        let line = format!(
            "phase {:?}: {seconds} s, {producer}, published {}",
            phase.name,
            phase.published.unwrap()
        );
        assert!(plan.contains(&line), "{line:?} not in {plan}");
    }
    for setting in [
        "topic: 10 partitions; consumer: 50 ms per event, commits every 2070 ms, session timeout 6000 ms, 1 replica(s)",
        "scaled object: k8s/keda/scaled-object.yaml: lagThreshold 5, pollingInterval 30 s, cooldownPeriod 30 s, replicas 0..10",
        "broker: the embedded librdkafka mock cluster",
    ] {
        assert!(plan.contains(setting), "{setting:?} not in {plan}");
    }
    assert!(!plan.contains("warning"), "{plan}");
    // The docs say the same lengths.
    let said = format!(
        "{}, {}, {} and {} s",
        seconds[0], seconds[1], seconds[2], seconds[3]
    );
    for doc in ["README.md", "docs/lab.md", "docs/architecture.md"] {
        let text = std::fs::read_to_string(support::repo(doc))
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains(&said), "{doc} does not say {said:?}");
    }

    for (args, expected) in [
        (
            &["replay", "--quick", "--speed", "5"][..],
            "--speed 5: --quick replays at 1x only",
        ),
        (
            &["replay", "--quick", "--scenario", "published"][..],
            "'--quick' cannot be used with '--scenario <SCENARIO>'",
        ),
    ] {
        let out = lab(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let out = lab(&["replay", "--quick", "--speed", "1", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = lab(&["replay", "--speed", "5", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(
            "warning: --speed 5: the broker's group timing (joins, rebalances, session timeouts) does not speed up"
        ),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn ctrl_c_stops_cleanly_and_still_writes_reports() {
    let dir = temp_dir("interrupt");
    let child = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args(["replay", "--speed", "20", "--out", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(12));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let stopped = Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stopped.elapsed() < Duration::from_secs(30),
        "stopped in {:?}",
        stopped.elapsed()
    );
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("**Interrupted**"), "{summary}");
    assert!(timeline(&dir).len() > 5, "what was recorded is kept");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A scenario's broker outage is real: the embedded broker goes down (every connection
/// closed and refused) and comes back. The lag reader fails as KEDA's scaler would, the
/// emulator holds the count (scale_handler.go checkScalers / horizontal.go
/// FailedGetExternalMetric), the producer holds its events inside message.timeout.ms, and
/// the accounting still finds every event: 0 lost.
#[test]
fn a_broker_outage_takes_the_broker_away_and_loses_nothing() {
    let dir = temp_dir("outage");
    let scenario = dir.join("outage.yaml");
    std::fs::write(
        &scenario,
        "name: outage\npartitions: 4\nconsumer: {processing_ms: 100, commit_interval_ms: 500}\nphases:\n  \
         - {name: busy, seconds: 60, producer_period_ms: 100}\n  \
         - {name: outage, seconds: 60, producer_period_ms: 100, broker_outage: {after_s: 10, seconds: 20}}\n  \
         - {name: after, seconds: 90, producer_period_ms: 100}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lab"))
        .args([
            "replay",
            "--scenario",
            scenario.to_str().unwrap(),
            "--speed",
            "2",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(dir.join("timeline.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let t = |r: &Vec<&str>| r[0].parse::<f64>().unwrap();
    let inside: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| (72.0..88.0).contains(&t(r)))
        .collect();
    assert!(!inside.is_empty());
    assert!(
        inside.iter().all(|r| r[11] == "broker-unreachable"),
        "every read inside the outage failed: {inside:?}"
    );
    let decisions = std::fs::read_to_string(dir.join("decisions.csv")).unwrap();
    let during: Vec<Vec<&str>> = decisions
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|d| (72.0..88.0).contains(&d[0].parse::<f64>().unwrap()))
        .collect();
    assert!(!during.is_empty());
    assert!(
        during.iter().all(|d| d[4] == d[6] && d[8] != "read"),
        "no count changed while the scaler failed: {during:?}"
    );
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("Scaler calls failed from"), "{summary}");
    assert!(!summary.contains("**Undelivered**"), "{summary}");
    let total = accounting_total(&dir);
    assert!(total.produced > 1500, "{total:?}");
    assert_eq!(total.lost, 0, "{total:?}");
    assert_eq!(total.processed + total.pending, total.produced, "{total:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
