//! `lab tune` as a user runs it: the recommendation, the candidates, the summary, the
//! refusals, and the verify replay on the embedded broker. Small searches: these check
//! what tune writes and decides, not how fast it is (scripts/bench measures that).

mod support;

use support::{
    accounting_total, assert_refused_as_not_emulated, lab, repo, temp_dir, text,
    unemulated_scaled_object,
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
    // The race: the first has every seed, and the summary says how sure it is.
    assert!(
        csv.lines().nth(1).unwrap().starts_with("1,3,true,"),
        "{csv}"
    );
    assert!(summary.contains("raced: "), "{summary}");
    assert!(summary.contains("recommendation ahead on "), "{summary}");
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
    // The published phases: 1000 ms, no producer, 100 ms, 10 s (within a tenth), in the
    // fourth column of the phases table.
    let periods: Vec<String> = summary
        .lines()
        .filter(|l| {
            l.starts_with("| ")
                && l.split('|')
                    .nth(1)
                    .is_some_and(|c| c.trim().parse::<f64>().is_ok())
        })
        .map(|l| l.split('|').nth(4).unwrap().trim().to_owned())
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
    assert!(summary.contains("- Processing: **"), "{summary}");
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

/// A raced search leaves most candidates behind after their first seeds; an exhaustive
/// one gives every candidate every seed. Both name their rounds in the summary.
#[test]
fn a_race_gives_the_finalists_every_seed_and_the_rest_fewer() {
    let seeds_column = |dir: &std::path::Path| -> Vec<usize> {
        let csv = std::fs::read_to_string(dir.join("candidates.csv")).unwrap();
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect()
    };
    let run = |search: &str| {
        let dir = temp_dir(search);
        let out = lab(&[
            "tune",
            "--candidates",
            "30",
            "--seeds",
            "5",
            "--search",
            search,
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        dir
    };
    let raced = run("raced");
    let seeds = seeds_column(&raced);
    // 30 on 2 seeds, the best 10 on all 5; then the best's neighbours on all 5.
    assert_eq!(seeds.iter().filter(|s| **s == 2).count(), 20, "{seeds:?}");
    assert!(seeds.iter().filter(|s| **s == 5).count() >= 10, "{seeds:?}");
    assert_eq!(seeds[0], 5);
    let summary = std::fs::read_to_string(raced.join("summary.md")).unwrap();
    assert!(
        summary.contains("raced: 30 candidates on 2 seed(s), the best 10 on all 5"),
        "{summary}"
    );
    let exhaustive = run("exhaustive");
    assert!(seeds_column(&exhaustive).iter().all(|s| *s == 5));
    let summary = std::fs::read_to_string(exhaustive.join("summary.md")).unwrap();
    assert!(summary.contains("exhaustive: "), "{summary}");
    std::fs::remove_dir_all(raced).unwrap();
    std::fs::remove_dir_all(exhaustive).unwrap();
}

/// `scripts/race-vs-exhaustive` (the comparison docs/lab.md links) end to end at a small
/// size: both searches run, and the table reads their simulations, wall times and
/// recommendations, and how the race's ranking meets the exhaustive one's.
#[test]
fn the_race_versus_exhaustive_script_compares_both_searches() {
    let dir = temp_dir("race-vs-exhaustive");
    let out = std::process::Command::new(repo("scripts/race-vs-exhaustive"))
        .env("LAB_BIN", env!("CARGO_BIN_EXE_lab"))
        .args(["--seeds", "4", "--candidates", "20", "--out"])
        .arg(&dir)
        .output()
        .expect("the script runs");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let simulations = |search: &str| -> usize {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {search} | ")))
            .unwrap_or_else(|| panic!("no {search} row:\n{stdout}"));
        row.split('|').nth(2).unwrap().trim().parse().unwrap()
    };
    assert!(
        simulations("raced") < simulations("exhaustive"),
        "the race ran fewer simulations:\n{stdout}"
    );
    assert!(stdout.contains("| best N (exhaustive) | given every seed by the race | same rank |"));
    assert!(
        stdout.trim_end().ends_with("same recommendation")
            || stdout.trim_end().ends_with("**different recommendations**"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Counts of 0 and beyond reason are refused with the option named, before anything runs.
#[test]
fn absurd_counts_are_refused_naming_the_option() {
    for (option, value) in [
        ("--candidates", "0"),
        ("--candidates", "1000000"),
        ("--seeds", "0"),
        ("--seeds", "5000"),
        ("--search", "fast"),
    ] {
        let out = lab(&["tune", option, value]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{option} {value}: {err}");
        assert!(
            err.contains(option) && err.contains(value),
            "{option} {value}: {err}"
        );
    }
}

/// Ctrl-C during a search: what was evaluated so far is written, marked partial, no
/// recommendation, exit status 130.
#[test]
fn ctrl_c_writes_the_candidates_so_far_as_a_partial_search() {
    use std::io::BufRead;
    let dir = temp_dir("interrupted");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lab"))
        .args([
            "tune",
            "--candidates",
            "3000",
            "--seeds",
            "20",
            "--threads",
            "1",
            "--out",
            dir.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once a plain progress line says simulations are done, interrupt.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no progress line: {seen}"
        );
        seen.push_str(&line);
        if line.starts_with("tune: ") && line.contains(" simulations, ") {
            break;
        }
    }
    assert!(seen.contains("ETA "), "{seen}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let rest: Vec<String> = stderr.lines().map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{}", rest.join("\n"));
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        summary.contains("**Partial search:** stopped after "),
        "{summary}"
    );
    assert!(!dir.join("scaled-object.yaml").exists());
    let csv = std::fs::read_to_string(dir.join("candidates.csv")).unwrap();
    assert!(csv.lines().count() > 1, "{csv}");
    assert!(
        rest.iter()
            .any(|l| l.contains("marked as a partial search")),
        "{rest:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Workloads the fit is never shown (lab/tests/fixtures/fit: 3 to 12 partitions, 20 to
/// 500 ms an event, commits every 500 to 5000 ms), each simulated by `lab simulate` and
/// given to `lab tune --trace` with the published scenario's 50 ms and 2070 ms as the
/// base: the fitted processing time comes within 25 % of the truth, and the commit
/// interval within 15 % where the samples can show it.
#[test]
fn the_fit_recovers_workloads_it_was_never_shown() {
    let dir = temp_dir("held-out");
    let mut files: Vec<_> = std::fs::read_dir(support::repo("lab/tests/fixtures/fit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let mut report = Vec::new();
    for file in &files {
        let truth = lab_model::scenario::Scenario::load(&file.display().to_string()).unwrap();
        let name = truth.name.clone();
        let recorded = dir.join(&name);
        let out = lab(&[
            "simulate",
            "--scenario",
            file.to_str().unwrap(),
            "--out",
            recorded.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
        let tuned = dir.join(format!("{name}-tuned"));
        let trace = recorded.join("trace.jsonl");
        let out = lab(&[
            "tune",
            "--trace",
            trace.to_str().unwrap(),
            "--candidates",
            "1",
            "--seeds",
            "1",
            "--out",
            tuned.to_str().unwrap(),
        ]);
        let summary = text(&out.stderr);
        let fitted = |label: &str| -> u64 {
            let from = summary
                .find(label)
                .unwrap_or_else(|| panic!("{name}: no {label}: {summary}"));
            let rest = &summary[from + label.len()..];
            rest[..rest.find(" ms").unwrap()].parse().unwrap()
        };
        let processing = fitted("Processing: **");
        let want = truth.consumer.processing_ms;
        let error = (processing as f64 - want as f64) / want as f64;
        report.push(format!(
            "{name}: {processing} ms for {want} ms ({:+.0} %)",
            100.0 * error
        ));
        assert!(
            error.abs() <= 0.25,
            "{name}: {processing} ms for {want} ms: {summary}"
        );
        if summary.contains("Commit interval: **") {
            let commit = fitted("Commit interval: **");
            let want = truth.consumer.commit_interval_ms;
            assert!(
                commit.abs_diff(want) as f64 <= 0.15 * want as f64,
                "{name}: commit {commit} ms for {want} ms: {summary}"
            );
        }
    }
    eprintln!("{}", report.join("\n"));
    std::fs::remove_dir_all(dir).unwrap();
}
