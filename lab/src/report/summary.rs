//! `summary.md`: the table "phase | published | observed" and, for each phase, the chain
//! of decisions that produced what was observed.

use std::fmt::Write as _;

use crate::emulator::{Controller, Decision, ScalingSpec};

use super::timeline::Timeline;

/// The whole summary as Markdown.
pub fn markdown(timeline: &Timeline, spec: &ScalingSpec, notes: &[String]) -> String {
    let scenario = &timeline.scenario;
    let c = &scenario.consumer;
    let mut out = String::new();
    let _ = writeln!(out, "# {} — {}\n", scenario.name, timeline.mode);
    if !scenario.description.is_empty() {
        let _ = writeln!(out, "{}\n", scenario.description);
    }
    let _ = writeln!(
        out,
        "Topic: {} partitions. Consumer: {} ms of work per event, offsets committed every {} ms, session timeout {} ms. \
         ScaledObject: lagThreshold {}, pollingInterval {} s, cooldownPeriod {} s, replicas {}..{}{}.\n",
        scenario.partitions,
        c.processing_ms,
        c.commit_interval_ms,
        c.session_timeout_ms,
        spec.trigger.lag_threshold,
        spec.polling_interval / 1000,
        spec.cooldown_period / 1000,
        spec.min_replicas,
        spec.max_replicas,
        match &spec.behavior {
            Some(b) => format!(
                ", scale-down window {} s, scale-up window {} s",
                b.scale_down.stabilization_window / 1000,
                b.scale_up.stabilization_window / 1000
            ),
            None => ", HPA legacy behavior".into(),
        }
    );
    let _ = writeln!(
        out,
        "\"Observed\" is the replica count held longest over the second half of the phase \
         (time-weighted; the first half is the transition), with the range seen in that half.\n"
    );
    if timeline.interrupted {
        let _ = writeln!(out, "**Interrupted**: the run was stopped before its end; phases not reached show no result.\n");
    }
    let _ = writeln!(
        out,
        "| phase | published | observed | range (2nd half) | at end |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for (i, phase) in scenario.phases.iter().enumerate() {
        let published = phase.published.map_or("-".into(), |p| p.to_string());
        match timeline.outcome(i) {
            Some(o) => {
                let mark = match phase.published {
                    Some(p) if p == o.settled => " ✓",
                    Some(_) => " ✗",
                    None => "",
                };
                let _ = writeln!(
                    out,
                    "| {} | {published} | {}{mark} ({}% of the time) | {}..{} | {} |",
                    phase.name, o.settled, o.settled_share, o.min, o.max, o.at_end
                );
            }
            None => {
                let _ = writeln!(out, "| {} | {published} | not reached | | |", phase.name);
            }
        }
    }
    out.push('\n');
    for (i, phase) in scenario.phases.iter().enumerate() {
        let _ = writeln!(out, "## {}\n", phase.name);
        let _ = writeln!(out, "{}\n", explain(timeline, spec, i));
    }
    if !notes.is_empty() {
        let _ = writeln!(out, "## Notes\n");
        for note in notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    out
}

/// One paragraph: what the producer did, what lag that made, what KEDA and the HPA did.
fn explain(timeline: &Timeline, spec: &ScalingSpec, phase: usize) -> String {
    let Some(outcome) = timeline.outcome(phase) else {
        return "Not reached.".into();
    };
    let t = spec.trigger.lag_threshold;
    let (start, end) = (timeline.phase_starts[phase], timeline.phase_end(phase));
    let half = (start + end) / 2.0;
    let settled: Vec<_> = timeline
        .phase_samples(phase)
        .filter(|s| s.t >= half)
        .collect();
    let mean = |f: &dyn Fn(&super::timeline::Sample) -> f64| {
        settled.iter().map(|s| f(s)).sum::<f64>() / settled.len().max(1) as f64
    };
    let lag = mean(&|s| s.total_lag as f64);
    let metric = mean(&|s| s.metric as f64);
    let rate = mean(&|s| s.produced_per_s);
    let in_phase: Vec<&Decision> = timeline
        .decisions
        .iter()
        .filter(|d| (d.at as f64 / 1000.0) >= start && (d.at as f64 / 1000.0) < end)
        .collect();
    let polls: Vec<_> = in_phase
        .iter()
        .filter(|d| d.by == Controller::Keda)
        .collect();
    let active = polls.iter().filter(|d| d.active).count();
    let mut text = String::new();
    let producer = match timeline.scenario.phases[phase].producer_period_ms {
        Some(p) => format!(
            "The producer sent one event every {p} ms ({rate:.1}/s measured over the second half)."
        ),
        None => "The producer was deleted: nothing was produced.".into(),
    };
    let _ = write!(
        text,
        "{producer} Over the second half the lag averaged {lag:.1} events and the metric {metric:.1}, \
         so the HPA's raw recommendation ceil(metric / {t}) was about {}. KEDA found the trigger active \
         in {active} of its {} polls in this phase. ",
        (metric / t as f64).ceil(),
        polls.len()
    );
    let mut previous = in_phase.first().map(|d| before(timeline, d));
    let changes: Vec<String> = in_phase
        .iter()
        .filter_map(|d| {
            let from = previous.unwrap_or(d.replicas);
            previous = Some(d.replicas);
            (from != d.replicas).then(|| describe_change(d, from, spec))
        })
        .collect();
    if changes.is_empty() {
        let _ = write!(
            text,
            "No controller changed the replica count in this phase. "
        );
    } else {
        let _ = write!(text, "Changes: {}. ", changes.join("; "));
    }
    let _ = write!(
        text,
        "Result: {} replica(s) for {}% of the second half (range {}..{}).",
        outcome.settled, outcome.settled_share, outcome.min, outcome.max
    );
    text
}

/// The replica count before decision `d` (the previous decision's result).
fn before(timeline: &Timeline, d: &Decision) -> u32 {
    let index = timeline
        .decisions
        .iter()
        .position(|x| std::ptr::eq(x, d))
        .unwrap_or(0);
    if index == 0 {
        timeline.scenario.start_replicas
    } else {
        timeline.decisions[index - 1].replicas
    }
}

fn describe_change(d: &Decision, from: u32, spec: &ScalingSpec) -> String {
    let at = d.at as f64 / 1000.0;
    match d.by {
        Controller::Keda if from == 0 => format!("at {at:.0} s KEDA saw the trigger active (lag above {}) at 0 replicas and scaled to {}", spec.trigger.activation_lag_threshold, d.replicas),
        Controller::Keda => format!(
            "at {at:.0} s KEDA had seen no active poll for more than cooldownPeriod {} s and scaled {from} -> {} directly",
            spec.cooldown_period / 1000,
            d.replicas
        ),
        Controller::Hpa => format!(
            "at {at:.0} s the HPA saw metric {} (ceil({} / {}) = {} recommended) and, after stabilization and rate limits, scaled {from} -> {}",
            d.metric,
            d.metric,
            spec.trigger.lag_threshold,
            d.desired,
            d.replicas
        ),
    }
}
