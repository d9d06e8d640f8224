//! `lab lag`: a group's lag per partition and what KEDA would make of it.

use std::io::Write;

use crate::emulator::scaler::KafkaScaler;
use crate::emulator::{Offsets, ScalingSpec};

/// Prints the per-partition table and KEDA's reading of it.
pub fn print(
    out: &mut impl Write,
    spec: &ScalingSpec,
    offsets: &[Offsets],
    scaler: &mut KafkaScaler,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>9} {:>12} {:>12} {:>8}",
        "partition", "end", "committed", "lag"
    )?;
    for (p, o) in offsets.iter().enumerate() {
        let (committed, lag) = match o.committed {
            Some(c) => (c.to_string(), (o.end - c).max(0).to_string()),
            None => ("none".to_owned(), "(invalid)".to_owned()),
        };
        writeln!(out, "{p:>9} {:>12} {committed:>12} {lag:>8}", o.end)?;
    }
    let reading = scaler.read(offsets);
    let t = &spec.trigger;
    writeln!(
        out,
        "total lag {} over {} partitions ({} with lag)",
        reading.total_lag,
        offsets.len(),
        reading.partitions_with_lag
    )?;
    writeln!(
        out,
        "KEDA metric {} (lagThreshold {}; capped at partitions x threshold = {})",
        reading.metric,
        t.lag_threshold,
        offsets.len() as i64 * t.lag_threshold
    )?;
    writeln!(
        out,
        "KEDA active: {} (lag {} {} activationLagThreshold {})",
        if reading.active { "yes" } else { "no" },
        reading.total_lag,
        if reading.active { ">" } else { "<=" },
        t.activation_lag_threshold
    )?;
    let (min, max) = (spec.hpa_min(), spec.max_replicas);
    if reading.active {
        let raw = metric_replicas(reading.metric, t.lag_threshold);
        let desired = raw.clamp(min, max);
        writeln!(
            out,
            "desired replicas: {desired} (HPA: ceil({} / {}) = {raw}, within {min}..{max}, before stabilization and rate limits)",
            reading.metric, t.lag_threshold
        )?;
    } else if spec.min_replicas == 0 {
        writeln!(
            out,
            "desired replicas: 0 once inactive for cooldownPeriod {} s (KEDA scales to zero)",
            spec.cooldown_period / 1000
        )?;
    } else {
        writeln!(
            out,
            "desired replicas: {} (minReplicaCount)",
            spec.min_replicas
        )?;
    }
    Ok(())
}

fn metric_replicas(metric: i64, threshold: i64) -> u32 {
    (metric as f64 / threshold as f64).ceil().max(0.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaled_object;

    #[test]
    fn prints_partitions_and_keda_s_reading() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../k8s/keda/scaled-object.yaml");
        let spec = scaled_object::load(&path).unwrap().spec;
        let offsets = [
            Offsets {
                end: 20,
                committed: Some(8),
            },
            Offsets {
                end: 5,
                committed: None,
            },
            Offsets {
                end: 3,
                committed: Some(3),
            },
        ];
        let mut out = Vec::new();
        print(
            &mut out,
            &spec,
            &offsets,
            &mut KafkaScaler::new(spec.trigger.clone()),
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("        0           20            8       12"),
            "{text}"
        );
        assert!(text.contains("none (invalid)"), "{text}");
        assert!(
            text.contains("total lag 13 over 3 partitions (2 with lag)"),
            "{text}"
        );
        assert!(text.contains("KEDA active: yes"), "{text}");
        assert!(
            text.contains("desired replicas: 3 (HPA: ceil(13 / 5) = 3, within 1..10"),
            "{text}"
        );
    }
}
