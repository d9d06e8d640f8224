//! The table `lab lag` prints: a group's lag per partition and what KEDA and the HPA
//! would make of it. All arithmetic is the emulator's ([`lab_model::emulator`]): the scaler's reading and the HPA's
//! proposal, never a second formula here.

use std::io::Write;

use lab_model::emulator::scaler::KafkaScaler;
use lab_model::emulator::{hpa, Offsets, ScalingSpec};

/// Prints the per-partition table and KEDA's reading of it, for a workload at `replicas`.
pub fn print(
    out: &mut impl Write,
    spec: &ScalingSpec,
    offsets: &[Offsets],
    scaler: &mut KafkaScaler,
    replicas: u32,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>9} {:>12} {:>12} {:>8}",
        "partition", "end", "committed", "lag"
    )?;
    for o in offsets {
        let (committed, lag) = match o.committed {
            Some(c) => (c.to_string(), (o.end - c).to_string()),
            None => ("none".to_owned(), "(invalid)".to_owned()),
        };
        writeln!(
            out,
            "{:>9} {:>12} {committed:>12} {lag:>8}",
            o.partition, o.end
        )?;
    }
    let reading = scaler.read(offsets);
    let t = &spec.trigger;
    writeln!(
        out,
        "total lag {} over {} partitions ({} counted, {} with lag)",
        reading.total_lag,
        offsets.len(),
        reading.partitions,
        reading.partitions_with_lag
    )?;
    let capped = match reading.cap {
        Some(cap) => format!("capped at {cap}"),
        None => "not capped".into(),
    };
    writeln!(
        out,
        "KEDA metric {} (lagThreshold {t}; {capped})",
        reading.metric,
        t = t.lag_threshold
    )?;
    writeln!(
        out,
        "KEDA active: {} (lag {} {} activationLagThreshold {})",
        if reading.active { "yes" } else { "no" },
        reading.total_lag,
        if reading.active { ">" } else { "<=" },
        t.activation_lag_threshold
    )?;
    if reading.active {
        let (proposal, within) = hpa::recommendation(spec, reading.metric, replicas.max(1));
        let (min, max) = (spec.hpa_min(), spec.max_replicas);
        writeln!(
            out,
            "HPA at {} replica(s): proposes {proposal}{} (bounds {min}..{max}; stabilization and policies come after)",
            replicas.max(1),
            if within { ", within its tolerance" } else { "" }
        )?;
    } else if spec.min_replicas == 0 {
        writeln!(
            out,
            "inactive: KEDA scales to {} once no poll has been active for cooldownPeriod {} s",
            spec.idle_replicas.unwrap_or(0),
            spec.cooldown_period / 1000
        )?;
    } else {
        writeln!(
            out,
            "inactive: the HPA keeps at least minReplicaCount {}",
            spec.min_replicas
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_partitions_and_keda_s_reading() {
        let spec = lab_model::keda::load_text(lab_model::keda::REPOSITORY_SCALED_OBJECT, "repo")
            .unwrap()
            .spec;
        let offsets = Offsets::numbered([(20, Some(8)), (5, None), (3, Some(3))]);
        let mut out = Vec::new();
        print(
            &mut out,
            &spec,
            &offsets,
            &mut KafkaScaler::new(spec.trigger.clone()),
            1,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("        0           20            8       12"),
            "{text}"
        );
        assert!(text.contains("none (invalid)"), "{text}");
        assert!(
            text.contains("total lag 17 over 3 partitions (3 counted, 2 with lag)"),
            "earliest: the uncommitted partition counts its whole log (5): {text}"
        );
        assert!(
            text.contains("KEDA metric 17 (lagThreshold 5; not capped)"),
            "17 / 5 = 3 is not above 3 partitions: {text}"
        );
        assert!(text.contains("KEDA active: yes"), "{text}");
        assert!(
            text.contains("HPA at 1 replica(s): proposes 4 (bounds 1..10"),
            "{text}"
        );
    }
}
