//! How each phase ended up: the replica count held longest over its second half.

use serde::Serialize;

use super::{Sample, Timeline};

/// How one phase ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhaseOutcome {
    /// The replica count held longest over the second half of the phase: "the replica
    /// count of a phase".
    pub settled: u32,
    pub min: u32,
    pub max: u32,
    /// The count at the end of the phase.
    pub at_end: u32,
    /// Share of the second half spent at `settled`, percent.
    pub settled_share: u32,
}

impl Timeline {
    /// The outcome of `phase`, or `None` if nothing of its second half was recorded.
    pub fn outcome(&self, phase: usize) -> Option<PhaseOutcome> {
        let (start, end) = (self.phase_starts[phase], self.phase_end(phase));
        let half = (start + end) / 2.0;
        let samples: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| s.t >= half && s.t < end)
            .collect();
        let last = *samples.last()?;
        let mut time_at = std::collections::BTreeMap::<u32, f64>::new();
        for pair in samples.windows(2) {
            *time_at.entry(pair[0].replicas).or_default() += pair[1].t - pair[0].t;
        }
        *time_at.entry(last.replicas).or_default() += (end - last.t).max(0.0);
        let total: f64 = time_at.values().sum();
        let (&settled, &time) = time_at
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))?;
        Some(PhaseOutcome {
            settled,
            min: samples.iter().map(|s| s.replicas).min()?,
            max: samples.iter().map(|s| s.replicas).max()?,
            at_end: last.replicas,
            settled_share: if total > 0.0 {
                (100.0 * time / total).round() as u32
            } else {
                100
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn sample(t: f64, replicas: u32) -> Sample {
        Sample {
            t,
            phase: 0,
            phase_name: "period 1000 ms".into(),
            period_ms: 100,
            produced_per_s: 10.0,
            total_lag: 0,
            metric: 0,
            active: false,
            hpa_desired: 1,
            replicas,
            running: replicas,
            scaler_error: None,
        }
    }

    #[test]
    fn outcome_is_the_time_weighted_mode_of_the_second_half() {
        let mut scenario = Scenario::original();
        scenario.phases.truncate(1);
        scenario.phases[0].seconds = 100;
        let mut timeline = Timeline::new(scenario, "test");
        // First half at 5 (ignored); second half: 3 for 30 s, 4 for 10 s, 3 for 10 s.
        for t in 0..50 {
            timeline.samples.push(sample(t as f64, 5));
        }
        for t in 50..100 {
            let replicas = if (80..90).contains(&t) { 4 } else { 3 };
            timeline.samples.push(sample(t as f64, replicas));
        }
        let outcome = timeline.outcome(0).unwrap();
        assert_eq!(
            (
                outcome.settled,
                outcome.min,
                outcome.max,
                outcome.at_end,
                outcome.settled_share
            ),
            (3, 3, 4, 3, 80)
        );
    }
}
