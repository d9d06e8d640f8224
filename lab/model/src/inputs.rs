//! What each trigger beyond the first Kafka trigger reads at one instant
//! ([`crate::emulator::Inputs`]): in `simulate` and `replay` another Kafka trigger reads
//! the run's one group and topic (a trigger reading another is refused before the run)
//! and a value trigger the value its phase gives (`trigger_values`); in `plan` each comes
//! from the trace sample (`triggers`). A value the source does not give is a failed read
//! (`metric unavailable`), as KEDA's scaler would fail without its source.

use std::collections::BTreeMap;

use crate::emulator::triggers::{Source, Triggers};
use crate::emulator::{Found, Observed, Offsets, ScalerError};

/// Each of `triggers.others` in a run where the first Kafka trigger sees `kafka` and a
/// phase gives `values` (by trigger name or index).
pub fn from_phase<'a>(
    triggers: &Triggers,
    kafka: Observed<'a>,
    values: &BTreeMap<String, f64>,
) -> Vec<Found<'a>> {
    triggers
        .others
        .iter()
        .map(|t| match &t.source {
            Source::Kafka(_) => match kafka {
                Observed::Offsets(o) => Found::Offsets(o),
                Observed::Error(e) => Found::Error(e),
            },
            Source::Value(_) => values
                .get(&t.key())
                .map_or(Found::Error(ScalerError::MetricUnavailable), |v| {
                    Found::Value(*v)
                }),
            Source::Resource(_) => Found::Error(ScalerError::MetricUnavailable),
        })
        .collect()
}

/// What a trace sample says of one trigger: its partitions, its value, or its error.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Offsets(Vec<Offsets>),
    Value(f64),
    Error(ScalerError),
}

/// Each of `triggers.others` from a trace sample's `recorded` entries (by trigger name
/// or index); `offsets` keeps the partitions they borrow.
pub fn from_recorded<'a>(
    triggers: &Triggers,
    recorded: &'a BTreeMap<String, Recorded>,
) -> Vec<Found<'a>> {
    triggers
        .others
        .iter()
        .map(|t| match recorded.get(&t.key()) {
            Some(Recorded::Offsets(o)) => Found::Offsets(o),
            Some(Recorded::Value(v)) => Found::Value(*v),
            Some(Recorded::Error(e)) => Found::Error(*e),
            None => Found::Error(ScalerError::MetricUnavailable),
        })
        .collect()
}

/// The value triggers `values` does not name (by name or index): what a phase must give.
pub fn missing_values(triggers: &Triggers, values: &BTreeMap<String, f64>) -> Vec<String> {
    triggers
        .others
        .iter()
        .filter(|t| matches!(t.source, Source::Value(_)) && !values.contains_key(&t.key()))
        .map(|t| t.key())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::spec::MetricType;
    use crate::emulator::triggers::{TriggerSpec, ValueTrigger};

    fn with_value() -> Triggers {
        Triggers {
            others: vec![TriggerSpec {
                index: 1,
                name: Some("prom".into()),
                metric: "s1-prometheus".into(),
                source: Source::Value(ValueTrigger {
                    kind: "prometheus".into(),
                    target: 10.0,
                    activation: 0.0,
                }),
                metric_type: MetricType::AverageValue,
                use_cached_metrics: false,
                reads: String::new(),
            }],
            ..Triggers::default()
        }
    }

    #[test]
    fn a_phase_gives_values_by_trigger_name_and_a_missing_one_fails_the_read() {
        let t = with_value();
        let values = BTreeMap::from([("prom".to_owned(), 42.0)]);
        let o: Vec<Offsets> = Vec::new();
        assert_eq!(
            from_phase(&t, Observed::Offsets(&o), &values),
            [Found::Value(42.0)]
        );
        assert_eq!(
            from_phase(&t, Observed::Offsets(&o), &BTreeMap::new()),
            [Found::Error(ScalerError::MetricUnavailable)]
        );
        assert_eq!(missing_values(&t, &BTreeMap::new()), ["prom"]);
    }
}
