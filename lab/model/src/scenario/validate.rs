//! What a scenario may say: each refusal names its field (`phases[2].burst: ...`).

use super::{Phase, Scenario, Window};

impl Scenario {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=1000).contains(&self.partitions),
            "partitions: {} is not 1..=1000",
            self.partitions
        );
        anyhow::ensure!(
            !self.phases.is_empty(),
            "phases: at least one phase is needed"
        );
        anyhow::ensure!(
            self.consumer.commit_interval_ms > 0,
            "consumer.commit_interval_ms must be above 0"
        );
        if let Some(p) = self.consumer.stuck_partition {
            anyhow::ensure!(
                p < self.partitions,
                "consumer.stuck_partition: {p} is no partition of the {}-partition topic",
                self.partitions
            );
        }
        if let Some(h) = self.history {
            anyhow::ensure!(
                h.retained <= h.events,
                "history.retained: {} is more than history.events {}: retention keeps at most what was written",
                h.retained,
                h.events
            );
        }
        for (i, phase) in self.phases.iter().enumerate() {
            self.validate_phase(i, phase)?;
        }
        Ok(())
    }

    fn validate_phase(&self, i: usize, phase: &Phase) -> anyhow::Result<()> {
        anyhow::ensure!(phase.seconds > 0, "phases[{i}].seconds must be above 0");
        if let Some(period) = phase.producer_period_ms {
            anyhow::ensure!(
                (1..=3_600_000).contains(&period),
                "phases[{i}].producer_period_ms: {period} is not 1..=3600000"
            );
        }
        let windows = [
            ("broker_outage", phase.broker_outage),
            (
                "scaler_error",
                phase.scaler_error.as_ref().map(|e| Window {
                    after_s: e.after_s,
                    seconds: e.seconds,
                }),
            ),
        ];
        for (field, window) in windows {
            if let Some(w) = window {
                anyhow::ensure!(
                    w.seconds > 0 && w.after_s + w.seconds <= phase.seconds,
                    "phases[{i}].{field}: after_s {} + seconds {} must lie within the phase's {} s (seconds above 0)",
                    w.after_s,
                    w.seconds,
                    phase.seconds
                );
            }
        }
        if let Some(share) = phase.hot_partition_share {
            anyhow::ensure!(
                (0.0..=1.0).contains(&share),
                "phases[{i}].hot_partition_share: {share} is not a share 0..=1"
            );
        }
        for p in &phase.silent_partitions {
            anyhow::ensure!(
                *p < self.partitions,
                "phases[{i}].silent_partitions: {p} is no partition of the {}-partition topic",
                self.partitions
            );
        }
        anyhow::ensure!(
            (phase.silent_partitions.len() as u32) < self.partitions,
            "phases[{i}].silent_partitions: the producer needs at least one partition to write to"
        );
        if let Some(n) = phase.burst {
            anyhow::ensure!(
                (1..=1_000_000).contains(&n),
                "phases[{i}].burst: {n} is not 1..=1000000 (the producer's POST /burst range)"
            );
            anyhow::ensure!(
                phase.producer_period_ms.is_some(),
                "phases[{i}].burst: a burst is sent by the phase's producer, and this phase has none (set producer_period_ms)"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fault or shape the emulator cannot place is refused with the phase and field.
    #[test]
    fn faults_and_shapes_name_the_field_they_break() {
        let dir = std::env::temp_dir().join(format!("scenario-faults-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.yaml");
        let base =
            "name: f\npartitions: 4\nconsumer: {processing_ms: 0, commit_interval_ms: 1000}\n";
        for (extra, phase, expected) in [
            (
                "",
                "broker_outage: {after_s: 50, seconds: 20}",
                "phases[0].broker_outage: after_s 50 + seconds 20 must lie within the phase's 60 s",
            ),
            (
                "",
                "scaler_error: {error: disk full, seconds: 10}",
                "is no scaler error the emulator knows",
            ),
            (
                "",
                "scaler_error: {error: coordinator moving, seconds: 0}",
                "phases[0].scaler_error: after_s 0 + seconds 0",
            ),
            (
                "",
                "hot_partition_share: 1.5",
                "phases[0].hot_partition_share: 1.5 is not a share 0..=1",
            ),
            (
                "",
                "silent_partitions: [4]",
                "phases[0].silent_partitions: 4 is no partition of the 4-partition topic",
            ),
            (
                "",
                "silent_partitions: [0, 1, 2, 3]",
                "the producer needs at least one partition",
            ),
            ("", "burst: 0", "phases[0].burst: 0 is not 1..=1000000"),
            (
                "history: {events: 10, retained: 11}\n",
                "producer_period_ms: 100",
                "history.retained: 11 is more than history.events 10",
            ),
        ] {
            std::fs::write(
                &path,
                format!("{base}{extra}phases:\n  - name: p\n    seconds: 60\n    {phase}\n"),
            )
            .unwrap();
            let err = format!("{:#}", Scenario::load(path.to_str().unwrap()).unwrap_err());
            assert!(err.contains(expected), "{phase}: {err}");
        }
        std::fs::write(
            &path,
            format!("{base}phases:\n  - {{name: p, seconds: 60, burst: 10}}\n"),
        )
        .unwrap();
        let err = format!("{:#}", Scenario::load(path.to_str().unwrap()).unwrap_err());
        assert!(
            err.contains("phases[0].burst: a burst is sent by the phase's producer"),
            "{err}"
        );
        std::fs::write(&path, format!("{base}consumer_extra: 1\nphases: []\n")).unwrap();
        assert!(Scenario::load(path.to_str().unwrap()).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
