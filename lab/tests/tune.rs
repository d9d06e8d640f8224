//! `lab tune` as a user runs it: the recommendation, the candidates, the summary, the
//! refusals, and the verify replay on the embedded broker. Small searches: these check
//! what tune writes and decides, not how fast it is (scripts/bench measures that).

mod support;

use support::{
    accounting_total, assert_refused_as_not_emulated, lab, temp_dir, text, unemulated_scaled_object,
};

/// `(p95 lag, replica-seconds)` of a summary row (`| baseline | 160 | 29.8 | 1494 | 19.4 |`).
fn figures(summary: &str, row: &str) -> (f64, f64) {
    let line = summary
        .lines()
        .find(|l| l.starts_with(&format!("| {row} |")))
        .unwrap_or_else(|| panic!("no {row} row in {summary}"));
    let cells: Vec<f64> = line
        .trim_matches('|')
        .split('|')
        .skip(1)
        .map(|c| c.trim().parse().unwrap())
        .collect();
    (cells[0], cells[2])
}

#[test]
fn tune_recommends_a_scaled_object_that_is_better_and_passes_the_checks() {
    let dir = temp_dir("published");
    let out = lab(&[
        "tune",
        "--candidates",
        "40",
        "--seeds",
        "3",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    let (base_lag, base_seconds) = figures(&summary, "baseline");
    let (lag, seconds) = figures(&summary, "recommended");
    assert!(lag <= base_lag, "within the default bound: {summary}");
    assert!(seconds <= base_seconds, "{summary}");
    // KEDA accepts it and it draws no advice: check-manifests would pass it clean.
    let yaml = std::fs::read_to_string(dir.join("scaled-object.yaml")).unwrap();
    assert!(yaml.starts_with("# Recommended by `lab tune`: "));
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    let checked = lab_model::keda::check(&value);
    assert_eq!(checked.errors().count(), 0, "{:?}", checked.problems);
    assert_eq!(lab_model::advice::advise(&checked, Some(10)), []);
    let csv = std::fs::read_to_string(dir.join("candidates.csv")).unwrap();
    assert!(
        csv.lines().count() > 40,
        "40 drawn plus the best's neighbours"
    );
    assert!(csv.lines().nth(1).unwrap().starts_with("1,true,"), "{csv}");
    let svg = std::fs::read_to_string(dir.join("chart.svg")).unwrap();
    assert_eq!(svg.matches("<polyline").count(), 4);
    // The what-if after tune: simulate with the recommendation.
    let whatif = dir.join("whatif");
    let out = lab(&[
        "simulate",
        "--scaled-object",
        dir.join("scaled-object.yaml").to_str().unwrap(),
        "--out",
        whatif.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

/// An objective nothing meets: the nearest candidates and the bound each misses, and a
/// failing exit.
#[test]
fn an_objective_nothing_meets_names_the_bounds_missed() {
    let dir = temp_dir("impossible");
    let out = lab(&[
        "tune",
        "--candidates",
        "10",
        "--seeds",
        "2",
        "--max-p95-lag",
        "0",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no candidate meets the objective"),
        "{}",
        text(&out.stderr)
    );
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("**No candidate meets the objective.**"),
        "{summary}"
    );
    assert!(summary.contains("(misses p95 lag "), "{summary}");
    assert!(!dir.join("scaled-object.yaml").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// A ScaledObject the emulator refuses is refused as `lab plan` refuses it.
#[test]
fn a_scaled_object_the_emulator_refuses_is_refused_as_plan_does() {
    let dir = temp_dir("refused");
    let so = unemulated_scaled_object(&dir);
    let out = lab(&[
        "tune",
        "--scaled-object",
        so.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_refused_as_not_emulated(&out);
    std::fs::remove_dir_all(dir).unwrap();
}

/// --verify replays the recommendation with the real producer and consumers on the
/// embedded broker and says whether the bounds held there, the lag's and the delay's
/// (measured from the consumers' ledgers), with the accounting.
#[test]
fn verify_replays_the_recommendation_on_the_embedded_broker() {
    let dir = temp_dir("verify");
    let scenario = dir.join("short.yaml");
    std::fs::write(
        &scenario,
        "name: short\npartitions: 4\nconsumer: {processing_ms: 100, commit_interval_ms: 500}\nphases:\n  \
         - {name: busy, seconds: 90, producer_period_ms: 100}\n  - {name: idle, seconds: 60}\n",
    )
    .unwrap();
    let out = lab(&[
        "tune",
        "--scenario",
        scenario.to_str().unwrap(),
        "--candidates",
        "20",
        "--seeds",
        "2",
        "--max-p95-delay",
        "120",
        "--verify",
        "--speed",
        "3",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.contains("## Verified by replay"), "{summary}");
    let verdict = summary.split("## Verified by replay").nth(1).unwrap();
    assert!(
        verdict.contains("p95 lag ") && verdict.contains(" against the bound "),
        "{verdict}"
    );
    // The delay bound is checked in the replay too, with the replay's own figure.
    let delay = verdict
        .split("; p95 delay ")
        .nth(1)
        .unwrap_or_else(|| panic!("the verdict names the delay: {verdict}"));
    let (figure, rest) = delay
        .split_once(" s against the bound 120.0 s: **")
        .unwrap();
    let figure: f64 = figure.parse().unwrap();
    assert!(
        figure > 0.0 && figure < 150.0,
        "a delay measured within the 150 s run: {verdict}"
    );
    let met = if figure <= 120.0 { "met**" } else { "missed**" };
    assert!(rest.starts_with(met), "{verdict}");
    assert!(!verdict.contains("measures no"), "{verdict}");
    assert!(summary.contains(" 0 events lost"), "{summary}");
    assert_eq!(accounting_total(&dir.join("verify")).lost, 0);
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--trace`: the recording `lab simulate` wrote (the format scripts/kind-experiment
/// records on a cluster) fits back to its phases, and tune searches on the fitted workload.
#[test]
fn a_recording_is_fitted_and_tuned_on() {
    let dir = temp_dir("trace");
    let recorded = dir.join("recorded");
    let out = lab(&[
        "simulate",
        "--seed",
        "3",
        "--out",
        recorded.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let trace = recorded.join("trace.jsonl");
    let tuned = dir.join("tuned");
    let out = lab(&[
        "tune",
        "--trace",
        trace.to_str().unwrap(),
        "--candidates",
        "10",
        "--seeds",
        "2",
        "--out",
        tuned.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = std::fs::read_to_string(tuned.join("summary.md")).unwrap();
    assert!(
        summary.contains("## The workload, fitted from"),
        "{summary}"
    );
    // The published phases: 1000 ms, no producer, 100 ms, 10 s (within a tenth).
    let periods: Vec<String> = summary
        .lines()
        .filter(|l| l.starts_with("| ") && (l.ends_with(" ms |") || l.ends_with("| none |")))
        .map(|l| l.rsplit('|').nth(1).unwrap().trim().to_owned())
        .collect();
    let ms = |cell: &str| cell.trim_end_matches(" ms").parse::<f64>().ok();
    assert_eq!(periods.len(), 4, "{summary}");
    for (got, want) in periods
        .iter()
        .zip([Some(1000.0), None, Some(100.0), Some(10_000.0)])
    {
        match (ms(got), want) {
            (Some(g), Some(w)) => assert!((g - w).abs() <= w / 10.0, "{got} for {w}: {summary}"),
            (None, None) => assert_eq!(got, "none"),
            _ => panic!("{got} for {want:?}: {summary}"),
        }
    }
    assert!(
        summary.contains("ran the recorded replica count at"),
        "{summary}"
    );
    assert!(tuned.join("scaled-object.yaml").exists());

    // Too short to fit: the error says how much is needed.
    let short = dir.join("short.jsonl");
    let whole = std::fs::read_to_string(&trace).unwrap();
    let first_30: Vec<&str> = whole.lines().take(30).collect();
    std::fs::write(&short, first_30.join("\n")).unwrap();
    let out = lab(&["tune", "--trace", short.to_str().unwrap(), "--seeds", "1"]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("short.jsonl: cannot fit a workload")
            && err.contains("a fit needs at least 120 s and 20 events"),
        "{err}"
    );
}
