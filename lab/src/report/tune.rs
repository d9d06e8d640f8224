//! What `lab tune` leaves in its directory: `scaled-object.yaml` (the recommendation),
//! `candidates.csv` (every candidate with its figures and rank), `summary.md`, and
//! `chart.svg` (the baseline and the recommendation on the same seed).

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use lab_model::markdown::Table;
use lab_model::timeline::{Sample, Timeline};
use lab_model::tune::{Candidate, Figures, Outcome};

/// One row of `candidates.csv`.
#[derive(Serialize)]
struct Row<'a> {
    rank: usize,
    /// Seeds it was simulated on (fewer than the search's: the race left it behind).
    seeds: usize,
    within_objective: bool,
    misses: String,
    p95_lag: f64,
    p95_delay_s: f64,
    replica_seconds: f64,
    scale_changes: f64,
    lag_threshold: i64,
    activation_lag_threshold: i64,
    polling_s: Option<u32>,
    cooldown_s: Option<u32>,
    min: u32,
    max: u32,
    up_window_s: u32,
    down_window_s: u32,
    down_percent_per_30s: u32,
    partitions: &'a str,
}

fn row(rank: usize, c: &Candidate) -> Row<'static> {
    let k = &c.knobs;
    Row {
        rank,
        seeds: c.seeds.len(),
        within_objective: c.misses.is_empty(),
        misses: c.misses.join("; "),
        p95_lag: c.figures.p95_lag,
        p95_delay_s: c.figures.p95_delay_s,
        replica_seconds: c.figures.replica_seconds,
        scale_changes: c.figures.scale_changes,
        lag_threshold: k.lag_threshold,
        activation_lag_threshold: k.activation_lag_threshold,
        polling_s: (k.min == 0).then_some(k.polling_s),
        cooldown_s: (k.min == 0).then_some(k.cooldown_s),
        min: k.min,
        max: k.max,
        up_window_s: k.up_window_s,
        down_window_s: k.down_window_s,
        down_percent_per_30s: k.down_percent,
        partitions: match k.partitions {
            lab_model::tune::knobs::PartitionOption::Plain => "plain",
            lab_model::tune::knobs::PartitionOption::LimitToPartitionsWithLag => {
                "limitToPartitionsWithLag"
            }
            lab_model::tune::knobs::PartitionOption::EvenDistribution => {
                "ensureEvenDistributionOfPartitions"
            }
        },
    }
}

/// Writes `candidates.csv`, and `scaled-object.yaml` when there is a recommendation.
pub fn write_files(outcome: &Outcome, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("candidates.csv");
    let mut w = csv::Writer::from_path(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    for (i, c) in outcome.ranked.iter().enumerate() {
        w.serialize(row(i + 1, c))?;
    }
    w.flush()?;
    if let Some(best) = outcome.recommendation() {
        let yaml = serde_yaml_ng::to_string(&best.manifest)?;
        std::fs::write(
            dir.join("scaled-object.yaml"),
            format!(
                "# Recommended by `lab tune`: {}.\n# Figures over the tuning seeds: {}.\n{yaml}",
                best.knobs,
                describe(&best.figures)
            ),
        )?;
    }
    Ok(())
}

/// `p95 lag 12, p95 delay 1.8 s, 410 replica-seconds, 6 scale changes`.
pub fn describe(f: &Figures) -> String {
    format!(
        "p95 lag {:.0}, p95 delay {:.1} s, {:.0} replica-seconds, {:.1} scale changes",
        f.p95_lag, f.p95_delay_s, f.replica_seconds, f.scale_changes
    )
}

/// `summary.md`: the objective, how the search went, the baseline and the
/// recommendation side by side, the runners-up with how sure each ranking is, and (with
/// `--verify`) the replay's verdict.
pub fn summary(outcome: &Outcome, scenario: &str, verify: Option<&str>) -> String {
    Summary {
        outcome,
        scenario,
        verify,
    }
    .to_string()
}

struct Summary<'a> {
    outcome: &'a Outcome,
    scenario: &'a str,
    verify: Option<&'a str>,
}

/// `raced: 512 candidates on 2 seeds, the best 171 on 4, the best 57 on all 10`.
fn rounds(outcome: &Outcome) -> String {
    let mut parts = Vec::new();
    for (i, (n, seeds)) in outcome.rounds.iter().enumerate() {
        let last = i + 1 == outcome.rounds.len() && *seeds == outcome.seeds;
        let on = if last && i > 0 {
            format!("on all {seeds}")
        } else {
            format!("on {seeds}")
        };
        parts.push(match i {
            0 => format!("{n} candidates {on} seed(s)"),
            _ => format!("the best {n} {on}"),
        });
    }
    format!("{}: {}", outcome.strategy, parts.join(", "))
}

/// `ahead on 8 of 10 seeds (80 %)`.
fn ahead(outcome: &Outcome, a: &Candidate, b: &Candidate) -> String {
    match outcome.wins(a, b) {
        Some(w) => format!(
            "ahead on {} of {} seeds ({:.0} %)",
            fmt_half(w.share * w.seeds as f64),
            w.seeds,
            100.0 * w.share
        ),
        None => "no seed in common".to_owned(),
    }
}

/// 7 or 7.5 (ties count half).
fn fmt_half(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

impl Summary<'_> {
    fn head(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (outcome, o) = (self.outcome, &self.outcome.objective);
        writeln!(
            out,
            "# lab tune — {}
",
            self.scenario
        )?;
        if let Some(stopped) = outcome.stopped {
            writeln!(
                out,
                "**Partial search:** stopped after {} of {} simulations (Ctrl-C). The candidates below are those \
                 evaluated so far, on the seeds each got; none is recommended.\n",
                stopped.done, stopped.planned
            )?;
        }
        writeln!(
            out,
            "{} candidates simulated ({}; {} simulations with the baseline's {}); {} more left out: KEDA refuses \
             them or they draw advice. Objective: p95 lag at most {:.0}{}, then the fewest replica-seconds, then \
             the fewest scale changes.\n",
            outcome.ranked.len(),
            rounds(outcome),
            outcome.simulations,
            outcome.seeds,
            outcome.rejected,
            o.max_p95_lag,
            o.max_p95_delay_s.map_or(String::new(), |d| format!(" and p95 delay at most {d:.1} s")),
        )
    }

    fn table(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = Table::new([
            "",
            "p95 lag",
            "p95 delay (s)",
            "replica-seconds",
            "scale changes",
        ]);
        let mut line = |name: &str, f: &Figures| {
            table.row([
                name.to_owned(),
                format!("{:.0}", f.p95_lag),
                format!("{:.1}", f.p95_delay_s),
                format!("{:.0}", f.replica_seconds),
                format!("{:.1}", f.scale_changes),
            ]);
        };
        line("baseline", &self.outcome.baseline);
        if let Some(best) = self.outcome.recommendation() {
            line("recommended", &best.figures);
        }
        write!(out, "{table}")
    }
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = self.outcome;
        self.head(out)?;
        self.table(out)?;
        match outcome.recommendation() {
            Some(best) => {
                writeln!(
                    out,
                    "\nRecommended: {}. Written to `scaled-object.yaml`.\n",
                    best.knobs
                )?;
                writeln!(out, "Runners-up, and how often the recommendation ranks ahead of each on the seeds both got:\n")?;
                let runners_up = outcome.ranked.iter().skip(1).take(4);
                for c in runners_up.filter(|c| c.misses.is_empty()) {
                    writeln!(
                        out,
                        "- {}: {}; {} seeds; recommendation {}",
                        c.knobs,
                        describe(&c.figures),
                        c.seeds.len(),
                        ahead(outcome, best, c)
                    )?;
                }
                writeln!(out)?;
            }
            None => {
                let nearest = match outcome.stopped {
                    Some(_) => "\nThe best so far:\n",
                    None => "\n**No candidate meets the objective.** The nearest:\n",
                };
                writeln!(out, "{nearest}")?;
                for c in outcome.ranked.iter().take(5) {
                    let misses = match c.misses.is_empty() {
                        true => "meets the objective".to_owned(),
                        false => format!("misses {}", c.misses.join(", ")),
                    };
                    writeln!(
                        out,
                        "- {}: {} ({misses}; {} seeds)",
                        c.knobs,
                        describe(&c.figures),
                        c.seeds.len()
                    )?;
                }
                writeln!(out)?;
            }
        }
        if let Some(v) = self.verify {
            writeln!(out, "## Verified by replay\n\n{v}\n")?;
        }
        Ok(())
    }
}

/// What one phase of one run did: mean and most replicas running, and the p95 of the lag
/// KEDA reads (nearest rank over the phase's samples).
fn phase_figures(timeline: &Timeline, phase: usize) -> Option<(f64, u32, i64)> {
    let samples: Vec<_> = timeline
        .samples
        .iter()
        .filter(|s| s.phase == phase)
        .collect();
    if samples.is_empty() {
        return None;
    }
    let mean = samples.iter().map(|s| f64::from(s.running)).sum::<f64>() / samples.len() as f64;
    let most = samples.iter().map(|s| s.running).max().unwrap_or(0);
    let mut lags: Vec<i64> = samples.iter().map(|s| s.total_lag).collect();
    lags.sort_unstable();
    let rank = ((0.95 * lags.len() as f64).ceil() as usize).clamp(1, lags.len());
    Some((mean, most, lags[rank - 1]))
}

/// The summary's "phase by phase" section: for each phase of the scenario, what the
/// baseline and the recommendation did on seed 1 (the chart's runs): replicas running
/// (mean, most) and the p95 lag. Where a day's trough, peak and burst are told apart.
pub fn phases(names: &[String], baseline: &Timeline, recommended: &Timeline) -> String {
    let mut table = Table::new([
        "phase",
        "produced, events/s",
        "replicas, mean (most): baseline",
        "recommended",
        "p95 lag: baseline",
        "recommended",
    ]);
    for (i, name) in names.iter().enumerate() {
        let (Some(b), Some(r)) = (phase_figures(baseline, i), phase_figures(recommended, i)) else {
            continue;
        };
        // A sample's rate covers the interval since the sample before it, which lies in
        // that sample's phase: a phase's first sample measures the last second before it.
        let rates: Vec<f64> = baseline
            .samples
            .windows(2)
            .filter(|pair| pair[0].phase == i)
            .map(|pair| pair[1].produced_per_s)
            .collect();
        let produced = rates.iter().sum::<f64>() / rates.len().max(1) as f64;
        table.row([
            name.clone(),
            format!("{produced:.2}"),
            format!("{:.2} ({})", b.0, b.1),
            format!("{:.2} ({})", r.0, r.1),
            b.2.to_string(),
            r.2.to_string(),
        ]);
    }
    format!("## Phase by phase (seed 1, the chart's runs)\n\n{table}\n")
}

/// `chart.svg`: replicas and lag over time, baseline and recommendation on one seed.
pub fn chart(baseline: &Timeline, recommended: &Timeline) -> String {
    let (w, h, pad) = (900.0, 240.0, 40.0);
    let t_max = baseline.samples.last().map_or(1.0, |s| s.t).max(1.0);
    // At most this many points a line: a day's 86,400 samples would make a 5 MB picture.
    const MOST_POINTS: usize = 1800;
    let series = |t: &Timeline, value: fn(&Sample) -> f64, top: f64, max: f64| {
        let every = t.samples.len().div_ceil(MOST_POINTS).max(1);
        t.samples
            .iter()
            .step_by(every)
            .map(|s| {
                let x = pad + (s.t / t_max) * (w - 2.0 * pad);
                let y = top + h - pad - (value(s) / max.max(1.0)) * (h - 2.0 * pad);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    type Quantity = fn(&Sample) -> f64;
    let replicas: Quantity = |s| f64::from(s.replicas);
    let lag: Quantity = |s| s.total_lag as f64;
    let peak = |f: Quantity| {
        baseline
            .samples
            .iter()
            .chain(&recommended.samples)
            .map(f)
            .fold(1.0, f64::max)
    };
    let (max_r, max_l) = (peak(replicas), peak(lag));
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{}" font-family="monospace" font-size="12">"#,
        2.0 * h
    );
    for (i, (name, f, max)) in [("replicas", replicas, max_r), ("lag", lag, max_l)]
        .into_iter()
        .enumerate()
    {
        let top = i as f64 * h;
        svg.push_str(&format!(
            r##"<text x="{pad}" y="{}">{name} (max {max:.0}): baseline grey, recommended blue</text><polyline class="baseline {name}" fill="none" stroke="#888" points="{}"/><polyline class="recommended {name}" fill="none" stroke="#1f5fbf" points="{}"/>"##,
            top + 16.0,
            series(baseline, f, top, max),
            series(recommended, f, top, max)
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_both_runs_for_both_quantities() {
        let scenario = lab_model::scenario::Scenario::published().unwrap();
        let spec = scenario.load_scaled_object().unwrap().spec;
        let t = lab_model::simulate::run(&scenario, &spec, 1).unwrap();
        let svg = chart(&t, &t);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let lines: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0].attribute("points").unwrap().split(' ').count(),
            t.samples.len()
        );
    }

    #[test]
    fn phase_by_phase_reads_each_phase_of_both_runs() {
        let scenario = lab_model::scenario::Scenario::published().unwrap();
        let spec = scenario.load_scaled_object().unwrap().spec;
        let t = lab_model::simulate::run(&scenario, &spec, 1).unwrap();
        let mut quiet = t.clone();
        for s in &mut quiet.samples {
            s.running = 7;
            s.total_lag = 0;
        }
        let names: Vec<String> = scenario.phases.iter().map(|p| p.name.clone()).collect();
        let text = phases(&names, &t, &quiet);
        let table = Table::after(&text, "| phase |").unwrap();
        assert_eq!(table.rows().len(), scenario.phases.len());
        // The producer deleted: nothing produced, one replica draining to none.
        let deleted = &table.rows()[1];
        assert_eq!(deleted[1], "0.00", "{text}");
        assert_eq!(deleted[3], "7.00 (7)");
        assert_eq!(deleted[5], "0");
        // At 100 ms the baseline runs several replicas and some lag.
        let busy = &table.rows()[2];
        assert!(
            busy[1].starts_with("9.") || busy[1].starts_with("10."),
            "{busy:?}"
        );
        let mean: f64 = busy[2].split(' ').next().unwrap().parse().unwrap();
        assert!((1.5..=5.0).contains(&mean), "{busy:?}");
        assert_ne!(busy[4], "0");
    }
}
