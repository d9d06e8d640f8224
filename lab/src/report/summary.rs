//! `summary.md`: the table "phase | published | observed", for each phase the chain of
//! decisions that produced what was observed, and (for a replay) the accounting of every
//! event.

use std::fmt;

use lab_model::emulator::{
    CallOutcome, Controller, Decision, HpaReason, KedaAction, ScalingSpec, Why,
};
use lab_replay::accounting::Accounting;

use lab_model::markdown::Table;
use lab_model::timeline::Timeline;

/// The whole summary as Markdown.
pub fn markdown(
    timeline: &Timeline,
    spec: &ScalingSpec,
    accounting: Option<&Accounting>,
    notes: &[String],
) -> String {
    Summary {
        timeline,
        spec,
        accounting,
        notes,
    }
    .to_string()
}

struct Summary<'a> {
    timeline: &'a Timeline,
    spec: &'a ScalingSpec,
    accounting: Option<&'a Accounting>,
    notes: &'a [String],
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.header(out)?;
        writeln!(out, "{}", phase_table(self.timeline))?;
        if let Some(a) = self.accounting {
            writeln!(out, "## Every event accounted for\n")?;
            writeln!(
                out,
                "From the producer's and the consumers' ledgers and the group's committed offsets at the end: \
                 lost = below the committed offset and never processed; duplicated = processed more than once \
                 (at-least-once allows it); pending = not yet consumed when the run ended (still in the topic).\n"
            )?;
            writeln!(out, "{}", accounting_table(a))?;
        }
        for (i, phase) in self.timeline.scenario.phases.iter().enumerate() {
            writeln!(out, "## {}\n", phase.name)?;
            writeln!(out, "{}\n", explain(self.timeline, self.spec, i))?;
        }
        let delay = delay_note(self.timeline);
        if !self.notes.is_empty() || delay.is_some() {
            writeln!(out, "## Notes\n")?;
            for note in delay.iter().chain(self.notes) {
                writeln!(out, "- {note}")?;
            }
        }
        Ok(())
    }
}

impl Summary<'_> {
    /// The title, the settings, how to read "observed", and what the run lacked.
    fn header(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (timeline, spec) = (self.timeline, self.spec);
        let scenario = &timeline.scenario;
        let c = &scenario.consumer;
        writeln!(out, "# {} — {}\n", scenario.name, timeline.mode)?;
        if !scenario.description.is_empty() {
            writeln!(out, "{}\n", scenario.description)?;
        }
        let behavior = match &spec.behavior {
            Some(b) => format!(
                ", scale-down window {} s, scale-up window {} s",
                b.scale_down.stabilization_window / 1000,
                b.scale_up.stabilization_window / 1000
            ),
            None => ", HPA legacy behavior".into(),
        };
        writeln!(
            out,
            "Topic: {} partitions. Consumer: {} ms of work per event, offsets committed every {} ms, session timeout {} ms. \
             ScaledObject: lagThreshold {}, pollingInterval {} s, cooldownPeriod {} s, replicas {}..{}{behavior}.\n",
            scenario.partitions,
            c.processing_ms,
            c.commit_interval_ms,
            c.session_timeout_ms,
            spec.trigger.lag_threshold,
            spec.polling_interval / 1000,
            spec.cooldown_period / 1000,
            spec.min_replicas,
            spec.max_replicas,
        )?;
        writeln!(
            out,
            "\"Observed\" is the replica count held longest over the second half of the phase \
             (time-weighted; the first half is the transition), with the range seen in that half.\n"
        )?;
        if timeline.unread_cells > 0 {
            writeln!(
                out,
                "**Gaps**: {} cell(s) of {} rows were empty in the recording (the recorder could not read them); each took the value of the row before.\n",
                timeline.unread_cells,
                timeline.samples.len()
            )?;
        }
        if timeline.expired > 0 {
            writeln!(
                out,
                "**Undelivered**: the producer gave up on {} event(s) held through a broker outage longer than its message.timeout.ms ({} s): they never reached the topic.\n",
                timeline.expired,
                workload::DELIVERY_TIMEOUT.as_secs()
            )?;
        }
        if timeline.interrupted {
            writeln!(out, "**Interrupted**: the run was stopped before its end; phases not reached show no result.\n")?;
        }
        Ok(())
    }
}

/// The events' end-to-end delays in one line (`None` when the run measured none, as for
/// a timeline read back by `lab report`): `event delay (from its time to its first
/// processing, 2400 events): min 0.1 s, p50 0.4 s, p95 2.1 s, max 9.8 s`.
pub fn delay_note(timeline: &Timeline) -> Option<String> {
    let mut delays = timeline.event_delays.clone();
    if delays.is_empty() {
        return None;
    }
    delays.sort_unstable();
    // Nearest rank: the smallest delay with at least q of them at or below it.
    let at = |q: f64| {
        let rank = ((q * delays.len() as f64).ceil() as usize).clamp(1, delays.len());
        delays[rank - 1] as f64 / 1000.0
    };
    let (min, p50, p95, max) = (at(0.0), at(0.5), at(0.95), at(1.0));
    Some(format!(
        "event delay (from its time to its first processing, {} events): min {min:.1} s, p50 {p50:.1} s, \
         p95 {p95:.1} s, max {max:.1} s",
        timeline.event_delays.len()
    ))
}

/// "phase | published | observed": each phase's count against the published one.
fn phase_table(timeline: &Timeline) -> Table {
    let mut table = Table::new([
        "phase",
        "published",
        "observed",
        "range (2nd half)",
        "at end",
    ]);
    for (i, phase) in timeline.scenario.phases.iter().enumerate() {
        let published = phase.published.map_or("-".into(), |p| p.to_string());
        match timeline.outcome(i) {
            Some(o) => {
                let mark = match phase.published {
                    Some(p) if p == o.settled => " ✓",
                    Some(_) => " ✗",
                    None => "",
                };
                table.row([
                    phase.name.clone(),
                    published,
                    format!("{}{mark} ({}% of the time)", o.settled, o.settled_share),
                    format!("{}..{}", o.min, o.max),
                    o.at_end.to_string(),
                ]);
            }
            None => {
                table.row([phase.name.as_str(), &published, "not reached", "", ""]);
            }
        }
    }
    table
}

/// Every event, phase by phase and in total.
fn accounting_table(a: &Accounting) -> Table {
    let mut table = Table::new([
        "phase",
        "produced",
        "processed",
        "lost",
        "duplicated",
        "pending",
    ]);
    for r in a.rows.iter().chain([&a.total]) {
        table.row([
            r.phase.clone(),
            r.produced.to_string(),
            r.processed.to_string(),
            r.lost.to_string(),
            r.duplicated.to_string(),
            r.pending.to_string(),
        ]);
    }
    table
}

/// One paragraph: what the producer did, what lag that made, what KEDA and the HPA did.
fn explain(timeline: &Timeline, spec: &ScalingSpec, phase: usize) -> String {
    let Some(outcome) = timeline.outcome(phase) else {
        return "Not reached.".into();
    };
    let (start, end) = (timeline.phase_starts[phase], timeline.phase_end(phase));
    let half = (start + end) / 2.0;
    let settled: Vec<_> = timeline
        .phase_samples(phase)
        .filter(|s| s.t >= half)
        .collect();
    let mean = |f: &dyn Fn(&lab_model::timeline::Sample) -> f64| {
        settled.iter().map(|s| f(s)).sum::<f64>() / settled.len().max(1) as f64
    };
    let lag = mean(&|s| s.total_lag as f64);
    let metric = mean(&|s| s.metric as f64);
    let rate = mean(&|s| s.produced_per_s);
    let mut text: Vec<String> = Vec::new();
    let producer = match timeline.scenario.phases[phase].producer_period_ms {
        Some(p) => format!(
            "The producer sent one event every {p} ms ({rate:.1}/s measured over the second half)."
        ),
        None => "The producer was deleted: nothing was produced.".into(),
    };
    let (proposal, within) = lab_model::emulator::hpa::recommendation(
        spec,
        metric.round() as i64,
        outcome.settled.max(1),
    );
    text.push(format!(
        "{producer} Over the second half the lag averaged {lag:.1} events and the metric {metric:.1}; at {} replica(s) \
         the HPA proposes {proposal} for that metric{}.",
        outcome.settled.max(1),
        if within { " (within its tolerance)" } else { "" }
    ));
    let in_phase: Vec<&Decision> = timeline
        .decisions
        .iter()
        .filter(|d| (d.at as f64 / 1000.0) >= start && (d.at as f64 / 1000.0) < end)
        .collect();
    if timeline.decisions.is_empty() {
        // A timeline recorded on a cluster: the replica changes are all there is.
        let changes: Vec<String> = settled_changes(timeline, phase);
        if changes.is_empty() {
            text.push("The replica count did not change in this phase.".into());
        } else {
            text.push(format!("Replica changes seen: {}.", changes.join("; ")));
        }
    } else {
        let polls: Vec<_> = in_phase
            .iter()
            .filter(|d| d.by == Controller::Keda)
            .collect();
        let active = polls.iter().filter(|d| d.active).count();
        text.push(format!(
            "KEDA found the trigger active in {active} of its {} polls in this phase.",
            polls.len()
        ));
        let changes: Vec<String> = in_phase
            .iter()
            .filter(|d| d.from != d.replicas)
            .map(|d| describe_change(d, spec))
            .collect();
        if changes.is_empty() {
            text.push("No controller changed the replica count in this phase.".into());
        } else {
            text.push(format!("Changes: {}.", changes.join("; ")));
        }
        if let Some(faults) = faults(&in_phase) {
            text.push(faults);
        }
    }
    text.push(format!(
        "Result: {} replica(s) for {}% of the second half (range {}..{}).",
        outcome.settled, outcome.settled_share, outcome.min, outcome.max
    ));
    text.join(" ")
}

/// What held or moved the replicas while scaler calls failed: each rule that decided, how
/// often, over which stretch, with the upstream code behind it; `None` when every call
/// read the offsets.
fn faults(in_phase: &[&Decision]) -> Option<String> {
    let failing: Vec<&&Decision> = in_phase
        .iter()
        .filter(|d| !matches!(d.call, CallOutcome::Read | CallOutcome::Cached))
        .collect();
    let (first, last) = (failing.first()?, failing.last()?);
    let mut rules: Vec<(Why, usize)> = Vec::new();
    for d in &failing {
        match rules.iter_mut().find(|(w, _)| *w == d.why) {
            Some((_, n)) => *n += 1,
            None => rules.push((d.why, 1)),
        }
    }
    let held: Vec<String> = rules
        .iter()
        .map(|(why, n)| {
            let name = serde_json::to_value(why)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{name} x{n} ({})", why.upstream())
        })
        .collect();
    let fallback = failing
        .iter()
        .filter(|d| d.call == CallOutcome::Fallback)
        .count();
    Some(format!(
        "Scaler calls failed from {:.0} s to {:.0} s ({} evaluations{}; replicas {} -> {}). The rules that decided: {}.",
        first.at as f64 / 1000.0,
        last.at as f64 / 1000.0,
        failing.len(),
        if fallback > 0 {
            format!(", {fallback} answered by the fallback: pkg/fallback/fallback.go doFallback")
        } else {
            String::new()
        },
        first.from,
        last.replicas,
        held.join("; ")
    ))
}

/// Replica changes between consecutive samples of a phase.
fn settled_changes(timeline: &Timeline, phase: usize) -> Vec<String> {
    let samples: Vec<_> = timeline.phase_samples(phase).collect();
    samples
        .windows(2)
        .filter(|w| w[0].replicas != w[1].replicas)
        .map(|w| {
            format!(
                "at {:.0} s {} -> {} (metric {}, HPA wanted {})",
                w[1].t, w[0].replicas, w[1].replicas, w[1].metric, w[1].hpa_desired
            )
        })
        .collect()
}

fn describe_change(d: &Decision, spec: &ScalingSpec) -> String {
    let at = d.at as f64 / 1000.0;
    let (from, to) = (d.from, d.replicas);
    let t = spec.trigger.lag_threshold;
    match d.why {
        Why::Keda(KedaAction::Activate) => format!(
            "at {at:.0} s KEDA found the trigger active (lag above activationLagThreshold {}) at {from} replicas and scaled to {to}",
            spec.trigger.activation_lag_threshold
        ),
        Why::Keda(KedaAction::Deactivate) => format!(
            "at {at:.0} s KEDA had seen no active poll for cooldownPeriod {} s and scaled {from} -> {to} directly",
            spec.cooldown_period / 1000
        ),
        Why::Keda(KedaAction::RaiseToMin) => {
            format!("at {at:.0} s KEDA raised {from} -> {to} (minReplicaCount)")
        }
        Why::Keda(action) => format!("at {at:.0} s KEDA ({action:?}) {from} -> {to}"),
        Why::Hpa(reason) => {
            let limit = match reason {
                HpaReason::ScaleUpLimit | HpaReason::ScaleDownLimit => ", held back by the behavior's policies",
                HpaReason::TooManyReplicas => ", capped at maxReplicaCount",
                HpaReason::TooFewReplicas => ", raised to the HPA's minReplicas",
                HpaReason::AboveMax => ", above maxReplicas",
                HpaReason::BelowMin => ", below minReplicas",
                _ => "",
            };
            format!(
                "at {at:.0} s the HPA saw metric {} (target {t} per replica: {} proposed) and, after stabilization and rate limits{limit}, scaled {from} -> {to}",
                d.metric, d.desired
            )
        }
    }
}
