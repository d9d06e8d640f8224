//! The figures README.md and docs/lab.md publish, read from those files and recomputed:
//!
//! - every table that follows a `<!-- claims: simulate ... -->` marker is the
//!   distribution `lab simulate --seeds N` gives, for each scenario the marker names;
//! - the table after `<!-- claims: consumers --seeds N -->` gives other consumers'
//!   settings and what the published phases do with them;
//! - the table after `<!-- claims: incidents --seeds N -->` gives, for each scenario under
//!   scenarios/ and ScaledObject, the phase's distribution over seeds 1..=N;
//! - the table after `<!-- claims: jobs --seeds N -->` gives, for a ScaledJob scenario and
//!   ScaledJob, the phase's peak of unfinished Jobs and the Jobs created, over the seeds;
//! - README's table of the published replay is docs/results/published-replay.md's, and
//!   that file is what `lab report docs/results/published-replay.csv` writes;
//! - the table after `<!-- claims: quick-replays DIR -->` is, run by run, what the quick
//!   replays kept in DIR say (`scripts/quick-replays --keep DIR` ran them and prints it),
//!   and each run's summary is what `lab report` writes from its files.
//!
//! A change to the model or the emulator that moves a figure fails here until the docs say
//! the new one; a figure edited by hand in the docs fails here too.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use lab_model::markdown::Table;
use lab_model::scenario::Scenario;
use support::repo;

mod support;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `path` with every run of whitespace as one space: a quote found whatever the line breaks.
fn read_flowed(path: &str) -> String {
    read(path).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The rows (cells trimmed, header left out) of the Markdown table at or after `marker`
/// in `text`.
fn table_after(text: &str, marker: &str) -> Vec<Vec<String>> {
    Table::after(text, marker)
        .unwrap_or_else(|| panic!("no table after {marker:?} in the document"))
        .rows()
        .to_vec()
}

/// Every `<!-- claims: ... -->` marker of `text`, with what follows `claims:`.
fn markers(text: &str) -> Vec<(String, String)> {
    text.match_indices("<!-- claims:")
        .map(|(at, _)| {
            let end = text[at..].find("-->").unwrap() + at;
            let marker = text[at..end + 3].to_owned();
            let args = text[at + 12..end].trim().to_owned();
            (marker, args)
        })
        .collect()
}

/// `0: 13, 1: 16, 2: 11` -> {0: 13, 1: 16, 2: 11}.
fn distribution(cell: &str) -> BTreeMap<u32, u64> {
    cell.split(',')
        .map(|pair| {
            let (replicas, seeds) = pair
                .split_once(':')
                .unwrap_or_else(|| panic!("{cell:?} is not `replicas: seeds, ...`"));
            (
                replicas.trim().parse().unwrap(),
                seeds.trim().parse().unwrap(),
            )
        })
        .collect()
}

/// `20 of 40` -> 20.
fn of(cell: &str, seeds: u64) -> u64 {
    let (k, n) = cell
        .split_once(" of ")
        .unwrap_or_else(|| panic!("{cell:?}"));
    assert_eq!(n.trim().parse::<u64>().unwrap(), seeds, "{cell:?}");
    k.trim().parse().unwrap()
}

/// The value of `--flag` in a marker's arguments.
fn flag<'a>(args: &'a str, flag: &str) -> &'a str {
    let mut words = args.split_whitespace();
    words
        .find(|w| *w == flag)
        .and_then(|_| words.next())
        .unwrap_or_else(|| panic!("no {flag} in {args:?}"))
}

fn spread(scenario: &Scenario, seeds: u64) -> lab_model::simulate::Spread {
    let spec = scenario.load_scaled_object().unwrap().spec;
    lab_model::simulate::robustness(scenario, &spec, seeds).unwrap()
}

/// Checks one `claims: simulate --seeds N --scenario a,b` table: a row per phase (name,
/// published, one distribution per scenario) and a last row, every phase as published.
fn check_simulate_table(doc: &str, marker: &str, args: &str) -> usize {
    let seeds: u64 = flag(args, "--seeds").parse().unwrap();
    let scenarios: Vec<Scenario> = flag(args, "--scenario")
        .split(',')
        .map(|name| Scenario::load(name).unwrap())
        .collect();
    let rows = table_after(doc, marker);
    let first = &scenarios[0];
    assert_eq!(rows.len(), first.phases.len() + 1, "{marker}: {rows:?}");
    let columns = rows[0].len();
    for (column, scenario) in scenarios.iter().enumerate() {
        let cell = columns - scenarios.len() + column;
        let spread = spread(scenario, seeds);
        for (i, phase) in scenario.phases.iter().enumerate() {
            assert_eq!(rows[i][0], phase.name, "{marker}");
            assert_eq!(
                rows[i][1],
                phase.published.map_or("-".into(), |p| p.to_string()),
                "{marker}: {} published",
                phase.name
            );
            assert_eq!(
                distribution(&rows[i][cell]),
                spread.counts[i],
                "{marker}: scenario {}, phase {}",
                scenario.name,
                phase.name
            );
        }
        let last = rows.last().unwrap();
        assert_eq!(last[0], "every phase as published", "{marker}");
        assert_eq!(of(&last[cell], seeds), spread.all_as_published, "{marker}");
    }
    scenarios.len()
}

/// Checks the `claims: consumers --seeds N` table: partitions, processing, commit
/// interval, the 100 ms phase's distribution, every phase as published.
fn check_consumers_table(doc: &str, marker: &str, args: &str) -> usize {
    let seeds: u64 = flag(args, "--seeds").parse().unwrap();
    let rows = table_after(doc, marker);
    for row in &rows {
        let number = |cell: &str| -> u64 {
            cell.trim_end_matches(" ms")
                .parse()
                .unwrap_or_else(|_| panic!("{cell:?}"))
        };
        let mut scenario = Scenario::published().unwrap();
        scenario.partitions = number(&row[0]) as u32;
        scenario.consumer.processing_ms = number(&row[1]);
        scenario.consumer.commit_interval_ms = number(&row[2]);
        let spread = spread(&scenario, seeds);
        let at_100 = scenario
            .phases
            .iter()
            .position(|p| p.producer_period_ms == Some(100))
            .unwrap();
        assert_eq!(distribution(&row[3]), spread.counts[at_100], "{row:?}");
        assert_eq!(of(&row[4], seeds), spread.all_as_published, "{row:?}");
    }
    rows.len()
}

/// `` `scenarios/x.yaml` `` -> scenarios/x.yaml.
fn code(cell: &str) -> &str {
    cell.trim_matches('`')
}

/// Checks the `claims: incidents --seeds N` table: incident, scenario file, ScaledObject
/// (a file, or "the scenario's"), phase, the phase's distribution over the seeds.
fn check_incidents_table(doc: &str, marker: &str, args: &str) -> usize {
    let seeds: u64 = flag(args, "--seeds").parse().unwrap();
    let rows = table_after(doc, marker);
    for row in &rows {
        let mut scenario =
            Scenario::load(&repo(code(&row[1]))).unwrap_or_else(|e| panic!("{row:?}: {e:#}"));
        if row[2] != "the scenario's" {
            scenario.scaled_object = repo(code(&row[2])).into();
        }
        let phase = scenario
            .phases
            .iter()
            .position(|p| p.name == row[3])
            .unwrap_or_else(|| panic!("{row:?}: no phase {:?}", row[3]));
        let spread = spread(&scenario, seeds);
        assert_eq!(distribution(&row[4]), spread.counts[phase], "{row:?}");
    }
    rows.len()
}

/// The quick replays kept in `dir`: run-1, run-2, ... as `scripts/quick-replays --keep`
/// writes them.
fn quick_runs(dir: &str) -> Vec<String> {
    (1..)
        .map(|i| format!("{dir}/run-{i}"))
        .take_while(|stem| Path::new(&repo(&format!("{stem}.md"))).is_file())
        .collect()
}

/// Checks the `claims: quick-replays DIR` table: one row per run kept in DIR, with the 100
/// ms phase's observed count (share, range) from its summary, the events lost and
/// processed twice from its accounting, and the p95 delay its summary notes.
fn check_quick_replays_table(doc: &str, marker: &str, args: &str) -> usize {
    let dir = args
        .split_whitespace()
        .nth(1)
        .expect("claims: quick-replays DIR");
    let runs = quick_runs(dir);
    let rows = table_after(doc, marker);
    assert_eq!(
        rows.len(),
        runs.len(),
        "{marker}: a row per run kept in {dir}"
    );
    for (i, (row, stem)) in rows.iter().zip(&runs).enumerate() {
        let summary = read(&format!("{stem}.md"));
        let phase = table_after(&summary, "| phase | published | observed |")
            .into_iter()
            .find(|r| r[0] == "period 100 ms")
            .unwrap_or_else(|| panic!("{stem}.md: no period 100 ms row"));
        let (count, share, range) = outcome(&phase);
        let accounting = read(&format!("{stem}-accounting.csv"));
        let total: Vec<&str> = accounting
            .lines()
            .find(|l| l.starts_with("total,"))
            .unwrap()
            .split(',')
            .collect();
        let p95 = summary
            .lines()
            .find(|l| l.starts_with("- event delay "))
            .and_then(|l| l.split(", p95 ").nth(1))
            .and_then(|p| p.split(',').next())
            .unwrap_or_else(|| panic!("{stem}.md notes no delay"));
        let expected = [
            (i + 1).to_string(),
            format!("{count} for {share} % of the second half ({range})"),
            total[4].to_owned(),
            total[3].to_owned(),
            p95.to_owned(),
        ];
        assert_eq!(row, &expected, "{marker}: run {}", i + 1);
    }
    rows.len()
}

/// Checks the `claims: jobs --seeds N` table: scenario file, ScaledJob (a file, or "the
/// scenario's"), phase, the peak of unfinished Jobs and the Jobs created over the seeds.
fn check_jobs_table(doc: &str, marker: &str, args: &str) -> usize {
    let seeds: u64 = flag(args, "--seeds").parse().unwrap();
    let rows = table_after(doc, marker);
    for row in &rows {
        let mut scenario = Scenario::load(&repo(code(&row[0]))).unwrap();
        if row[1] != "the scenario's" {
            scenario.scaled_object = repo(code(&row[1])).into();
        }
        let phase = scenario
            .phases
            .iter()
            .position(|p| p.name == row[2])
            .unwrap();
        let lab_model::keda::Scalable::Job(job) = scenario.load_scalable().unwrap() else {
            panic!("{row:?}: not a ScaledJob");
        };
        let (mut peaks, mut created) = (BTreeMap::new(), BTreeMap::new());
        for seed in 1..=seeds {
            let t = lab_model::simulate::jobs::run(&scenario, &job.spec, seed).unwrap();
            *peaks.entry(t.peak_unfinished(phase)).or_insert(0u64) += 1;
            *created.entry(t.created_in(phase)).or_insert(0u64) += 1;
        }
        assert_eq!(distribution(&row[3]), peaks, "{row:?}");
        assert_eq!(distribution(&row[4]), created, "{row:?}");
    }
    rows.len()
}

#[test]
fn every_simulated_figure_the_docs_publish_is_what_lab_simulate_gives() {
    let mut tables = 0;
    for path in ["README.md", "docs/lab.md"] {
        let doc = read(path);
        for (marker, args) in markers(&doc) {
            tables += match args.split_whitespace().next() {
                Some("simulate") => check_simulate_table(&doc, &marker, &args),
                Some("consumers") => check_consumers_table(&doc, &marker, &args),
                Some("incidents") => check_incidents_table(&doc, &marker, &args),
                Some("quick-replays") => check_quick_replays_table(&doc, &marker, &args),
                Some("jobs") => check_jobs_table(&doc, &marker, &args),
                Some("replay") => continue,
                _ => panic!("{path}: unknown claims marker {marker}"),
            };
        }
    }
    assert!(tables >= 7, "the docs' tables were all read ({tables})");
}

/// `| period 100 ms | 3 | 3 ✓ (62% of the time) | 2..4 | 4 |` -> (3, 62, "2..4").
fn outcome(row: &[String]) -> (u32, u32, String) {
    let cell = &row[2];
    let count = cell.split_whitespace().next().unwrap().parse().unwrap();
    let share = cell
        .split('(')
        .nth(1)
        .and_then(|s| s.split('%').next())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (count, share, row[3].clone())
}

/// Every replay summary under docs/results/ is what `lab report` makes of the timeline,
/// decisions and accounting beside it (only the title's mode and the replay's own notes
/// differ).
#[test]
fn the_replay_summaries_the_docs_link_are_what_lab_report_writes_from_their_files() {
    let file = repo;
    let quick: Vec<(String, String, Option<String>, &str)> =
        quick_runs("docs/results/quick-replays")
            .into_iter()
            .map(|stem| {
                let stem = stem.trim_start_matches("docs/results/").to_owned();
                (stem, "quick".to_owned(), None, "quick")
            })
            .collect();
    assert!(quick.len() >= 5, "the quick replays the README quotes");
    for (stem, scenario, scaled_object, name) in [
        (
            "published-replay".to_owned(),
            "published".to_owned(),
            None,
            "published",
        ),
        (
            "shapes-eager-replay".to_owned(),
            file("scenarios/shapes-eager.yaml"),
            None,
            "shapes-eager",
        ),
        (
            "shapes-cooperative-replay".to_owned(),
            file("scenarios/shapes-cooperative.yaml"),
            None,
            "shapes-cooperative",
        ),
        (
            "broker-outage-frozen-replay".to_owned(),
            file("scenarios/broker-outage-frozen.yaml"),
            Some(file("scenarios/scaled-objects/fallback.yaml")),
            "broker-outage-frozen",
        ),
    ]
    .into_iter()
    .chain(quick)
    {
        let out = std::env::temp_dir().join(format!(
            "claims-report-{}-{}",
            stem.replace('/', "-"),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&out);
        let report = Command::new(env!("CARGO_BIN_EXE_lab"))
            .arg("report")
            .arg(repo(&format!("docs/results/{stem}.csv")))
            .args(["--scenario", &scenario, "--out"])
            .arg(&out)
            .args(
                scaled_object
                    .iter()
                    .flat_map(|so| ["--scaled-object", so.as_str()]),
            )
            .output()
            .unwrap();
        assert!(
            report.status.success(),
            "{stem}: {}",
            String::from_utf8_lossy(&report.stderr)
        );
        let written = std::fs::read_to_string(out.join("summary.md")).unwrap();
        let recorded = read(&format!("docs/results/{stem}.md"));
        let recorded = recorded.split("\n## Notes\n").next().unwrap().replacen(
            &format!("# {name} — replay"),
            &format!("# {name} — report"),
            1,
        );
        assert_eq!(written.trim_end(), recorded.trim_end(), "{stem}");
        std::fs::remove_dir_all(out).unwrap();
    }
}

/// README's table of the published replay says what docs/results/published-replay.md says.
#[test]
fn the_readme_quotes_the_published_replay_as_its_summary_has_it() {
    let summary = read("docs/results/published-replay.md");
    let readme = read("README.md");
    let (marker, _) = markers(&readme)
        .into_iter()
        .find(|(_, args)| args.starts_with("replay"))
        .expect("a claims: replay marker in README.md");
    let quoted = table_after(&readme, &marker);
    let recorded = table_after(&summary, "| phase | published | observed |");
    let scenario = Scenario::published().unwrap();
    for (i, phase) in scenario.phases.iter().enumerate() {
        let row = recorded
            .iter()
            .find(|r| r[0] == phase.name)
            .unwrap_or_else(|| panic!("{} not in the summary", phase.name));
        let (count, share, range) = outcome(row);
        // README: `| period 100 ms | 3 | 3 for 62 % of the second half (2..4) |`.
        let cell = &quoted[i][2];
        let expected = format!("{count} for {share} % of the second half ({range})");
        assert!(
            cell.starts_with(&expected),
            "{}: README says {cell:?}, the summary {expected:?}",
            phase.name
        );
    }
    let total = summary
        .lines()
        .find(|l| l.starts_with("| total |"))
        .unwrap();
    let cells: Vec<&str> = total.trim_matches('|').split('|').map(str::trim).collect();
    let every = &quoted[scenario.phases.len()][2];
    let expected = format!(
        "{} produced, {} processed, {} lost, {} processed twice, {} still in the topic",
        cells[1], cells[2], cells[3], cells[4], cells[5]
    );
    assert!(every.starts_with(&expected), "{every:?} vs {expected:?}");
}

/// docs/lab.md's eager-versus-cooperative figures are the two replay summaries': the lag
/// averaged over the second half, and the events processed twice.
#[test]
fn the_assignment_comparison_quotes_its_replays() {
    let figures = |stem: &str| {
        let summary = read(&format!("docs/results/{stem}.md"));
        let lag = summary
            .split("Over the second half the lag averaged ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap()
            .to_owned();
        let total = summary
            .lines()
            .find(|l| l.starts_with("| total |"))
            .unwrap();
        let twice = total
            .trim_matches('|')
            .split('|')
            .nth(4)
            .unwrap()
            .trim()
            .to_owned();
        (lag, twice)
    };
    let (eager_lag, eager_twice) = figures("shapes-eager-replay");
    let (coop_lag, coop_twice) = figures("shapes-cooperative-replay");
    let doc = read_flowed("docs/lab.md");
    for quoted in [
        format!("averaging {eager_lag} events (eager) and {coop_lag} (cooperative)"),
        format!("eager processed {eager_twice} events twice, cooperative {coop_twice}"),
    ] {
        assert!(doc.contains(&quoted), "docs/lab.md does not say {quoted:?}");
    }
}

/// docs/lab.md's account of the replay with a broker outage is what its summary says.
#[test]
fn the_outage_replay_is_quoted_as_its_summary_has_it() {
    let summary = read("docs/results/broker-outage-frozen-replay.md");
    let total = summary
        .lines()
        .find(|l| l.starts_with("| total |"))
        .unwrap();
    let cells: Vec<&str> = total.trim_matches('|').split('|').map(str::trim).collect();
    let doc = read_flowed("docs/lab.md");
    let quoted = format!(
        "{} events produced, {} processed, {} lost, {} processed twice",
        cells[1], cells[2], cells[3], cells[4]
    );
    assert!(doc.contains(&quoted), "docs/lab.md does not say {quoted:?}");
    assert!(doc.contains(&format!("{} still in the topic at the end", cells[5])));
    assert!(
        summary
            .contains("Scaler calls failed from 150 s to 165 s (3 evaluations; replicas 4 -> 4)"),
        "{summary}"
    );
}

/// The baseline and recommended rows of a tune summary: p95 lag, p95 delay,
/// replica-seconds, scale changes, as written.
fn tune_rows(summary: &str) -> (Vec<String>, Vec<String>) {
    let row = |name: &str| -> Vec<String> {
        let line = summary
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no {name} row"));
        line.trim_matches('|')
            .split('|')
            .skip(1)
            .map(|c| c.trim().to_owned())
            .collect()
    };
    (row("baseline"), row("recommended"))
}

/// The four figures of a tune summary's row, recomputed: `spec` on `scenario` over seeds
/// 1..=`seeds`, pooled as tune pools them.
fn tune_figures(
    scenario: &Scenario,
    spec: &lab_model::emulator::ScalingSpec,
    seeds: u64,
) -> Vec<String> {
    let timelines: Vec<_> = (1..=seeds)
        .map(|seed| lab_model::simulate::run(scenario, spec, seed).unwrap())
        .collect();
    let f = lab_model::tune::Figures::of(&timelines);
    vec![
        format!("{:.0}", f.p95_lag),
        format!("{:.1}", f.p95_delay_s),
        format!("{:.0}", f.replica_seconds),
        format!("{:.1}", f.scale_changes),
    ]
}

/// A tune result kept in `dir` (docs/results/...): its summary's two rows are what the
/// scenario's ScaledObject and the recommendation written beside it give over `seeds`.
fn check_tune_result(dir: &str, scenario: &Scenario, seeds: u64) -> (Vec<String>, Vec<String>) {
    let summary = read(&format!("{dir}/summary.md"));
    let (b, r) = tune_rows(&summary);
    let baseline = scenario.load_scaled_object().unwrap().spec;
    assert_eq!(
        b,
        tune_figures(scenario, &baseline, seeds),
        "{dir}: baseline"
    );
    let recommended = lab_model::keda::load(Path::new(&repo(&format!("{dir}/scaled-object.yaml"))))
        .unwrap()
        .spec;
    assert_eq!(
        r,
        tune_figures(scenario, &recommended, seeds),
        "{dir}: recommended"
    );
    (b, r)
}

/// docs/results/tune-published/summary.md's two rows are what the baseline and the
/// recommendation it wrote give over its 20 seeds, and README quotes them.
#[test]
fn the_tune_figures_are_what_the_two_scaled_objects_give() {
    let (b, r) = check_tune_result(
        "docs/results/tune-published",
        &Scenario::published().unwrap(),
        20,
    );
    let summary = read("docs/results/tune-published/summary.md");
    let readme = read_flowed("README.md");
    for quoted in [
        format!("p95 lag {} -> {} events", b[0], r[0]),
        format!("{} -> {} replica-seconds", b[2], r[2]),
        format!("{} -> {} scale changes", b[3], r[3]),
        format!("p95 delay {} s -> {} s", b[1], r[1]),
        verified(&summary),
        format!("the best {} run on all 20", finalists(&summary, 20)),
    ] {
        assert!(readme.contains(&quoted), "README does not say {quoted:?}");
    }
}

/// docs/results/tune-diurnal (`lab tune --scenario diurnal --seeds 10 --candidates 500`):
/// its two rows are what the two ScaledObjects give over the day's 10 seeds, and
/// docs/lab.md quotes them, with the phases it names (trough, burst, peak) as the
/// summary's phase-by-phase table gives them.
#[test]
fn the_diurnal_tune_figures_are_what_the_two_scaled_objects_give() {
    let (b, r) = check_tune_result(
        "docs/results/tune-diurnal",
        &Scenario::diurnal().unwrap(),
        10,
    );
    let doc = read_flowed("docs/lab.md");
    let changes = |c: &str| format!("{:.0}", c.parse::<f64>().unwrap());
    for quoted in [
        format!("p95 lag {} -> {} events", b[0], r[0]),
        format!("{} -> {} replica-seconds", b[2], r[2]),
        format!(
            "{} -> {} scale changes a day",
            changes(&b[3]),
            changes(&r[3])
        ),
        format!("p95 delay {} -> {} s", b[1], r[1]),
    ] {
        assert!(doc.contains(&quoted), "docs/lab.md does not say {quoted:?}");
    }
    let summary = read("docs/results/tune-diurnal/summary.md");
    let phases = Table::after(&summary, "| phase |").unwrap();
    let phase = |name: &str| {
        phases
            .rows()
            .iter()
            .find(|row| row[0] == name)
            .unwrap_or_else(|| panic!("no {name} row"))
            .clone()
    };
    // The trough: nothing runs on either.
    for hour in ["03:00", "04:00"] {
        assert_eq!(phase(hour)[2..4], ["0.00 (0)", "0.00 (0)"], "{hour}");
    }
    let burst = phase("02:00");
    let noon = phase("12:00");
    for quoted in [
        format!(
            "({} and {} replicas over the hour)",
            burst[2].split(' ').next().unwrap(),
            burst[3].split(' ').next().unwrap()
        ),
        format!(
            "the published settings run {:.1} replicas on average, up to {}, with a p95 lag of {}",
            noon[2].split(' ').next().unwrap().parse::<f64>().unwrap(),
            noon[2].split(['(', ')']).nth(1).unwrap(),
            noon[4]
        ),
        format!(
            "the recommendation runs {} with a p95 lag of {}",
            noon[3].split(['(', ')']).nth(1).unwrap(),
            noon[5]
        ),
    ] {
        assert!(doc.contains(&quoted), "docs/lab.md does not say {quoted:?}");
    }
    assert!(burst[2].ends_with("(10)") && burst[3].ends_with("(10)"));
}

/// How many candidates a raced search ran on all `seeds`: `the best 56 on all 20` in the
/// summary's first line.
fn finalists(summary: &str, seeds: u32) -> String {
    summary
        .split(&format!(" on all {seeds};"))
        .next()
        .and_then(|s| s.split_whitespace().last())
        .filter(|n| n.parse::<u32>().is_ok())
        .unwrap_or_else(|| panic!("no \"the best N on all {seeds}\" in {summary}"))
        .to_owned()
}

/// `it kept p95 lag at 20 and p95 delay at 9.8 s in 525 replica-seconds, 0 events lost`, from
/// the summary's verify paragraph.
fn verified(summary: &str) -> String {
    let paragraph = summary
        .split("## Verified by replay")
        .nth(1)
        .expect("the tune summary was verified by replay");
    // The word after `marker`, and the word before it.
    let after = |marker: &str| -> String {
        paragraph
            .split(marker)
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no {marker:?} in {paragraph}"))
            .to_owned()
    };
    let before = |marker: &str| -> String {
        paragraph
            .split(marker)
            .next()
            .and_then(|s| s.split_whitespace().last())
            .unwrap()
            .to_owned()
    };
    format!(
        "it kept p95 lag at {} and p95 delay at {} s in {} replica-seconds, {} events lost",
        after("p95 lag "),
        after("p95 delay "),
        before(" replica-seconds ("),
        before(" events lost")
    )
}

/// Every lab test docs/upstream-tests.md names as reproducing an upstream test exists: a
/// `fn <name>(` in the lab's sources and tests.
#[test]
fn the_upstream_tests_page_names_tests_that_exist() {
    fn sources(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut code = String::new();
    sources(Path::new(&repo("lab")), &mut code);
    let doc = read("docs/upstream-tests.md");
    let mut named = 0;
    for (at, _) in doc.match_indices("<!-- upstream-tests -->") {
        for row in Table::after(&doc[at..], "<!-- upstream-tests -->")
            .unwrap()
            .rows()
        {
            for name in row[2].split('`').skip(1).step_by(2) {
                let is_fn = name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !is_fn {
                    continue;
                }
                assert!(
                    code.contains(&format!("fn {name}(")),
                    "{name} is named in docs/upstream-tests.md and exists nowhere"
                );
                named += 1;
            }
        }
    }
    assert!(named >= 20, "{named} tests named");
}

/// docs/lab.md's comparison of the raced and the exhaustive search quotes what
/// `scripts/race-vs-exhaustive` wrote in docs/results/tune-race-vs-exhaustive.md: the
/// simulations of each, the same recommendation, and how the rankings meet.
#[test]
fn the_race_versus_exhaustive_figures_are_the_scripts() {
    let results = read("docs/results/tune-race-vs-exhaustive.md");
    let searches = table_after(&results, "| search |");
    let (raced, exhaustive) = (&searches[0], &searches[1]);
    assert_eq!((&raced[0][..], &exhaustive[0][..]), ("raced", "exhaustive"));
    assert_eq!(raced[3], exhaustive[3], "the same recommendation");
    assert!(results.trim_end().ends_with("same recommendation"));
    let ranks = table_after(&results, "| best N (exhaustive) |");
    let row = |n: &str| {
        ranks
            .iter()
            .find(|r| r[0] == n)
            .unwrap_or_else(|| panic!("no best {n} row in {ranks:?}"))
    };
    let (twenty, finalists) = (row("20"), ranks.last().unwrap());
    let doc = read_flowed("docs/lab.md");
    for quoted in [
        format!(
            "the race ran {} simulations against {} and recommended the same settings",
            raced[1], exhaustive[1]
        ),
        format!(
            "of the exhaustive search's best 20 it gave all {} every seed, at the same ranks,",
            twenty[1]
        ),
        format!(
            "the {} candidates it ran on every seed (its finalists and the best one's neighbours) held {} of the exhaustive search's best {}",
            finalists[0], finalists[2], finalists[0]
        ),
    ] {
        assert!(doc.contains(&quoted), "docs/lab.md lacks {quoted:?}");
    }
    assert_eq!((&twenty[1][..], &twenty[2][..]), ("20", "20"));
    assert_eq!(finalists[1], finalists[2], "given every seed = same rank");
    // docs/performance.md splits the tune's speed-up into the race's and the model's.
    let performance = read_flowed("docs/performance.md");
    let quoted = format!(
        "the race alone gives {} -> {} on today's model",
        exhaustive[2], raced[2]
    );
    assert!(
        performance.contains(&quoted),
        "docs/performance.md lacks {quoted:?}"
    );
}
