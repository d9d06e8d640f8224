//! Proof that nothing is lost while KEDA scales: the replay's producer writes a ledger
//! line per delivered event, every consumer replica one per processed event
//! (common::ledger), and at the end the ledgers are compared with the group's committed
//! offsets.
//!
//! Per phase (the phase an event was delivered in; the warm-up has its own row):
//! - produced: events the broker acknowledged;
//! - processed: of those, events some replica processed;
//! - duplicated: extra processings of an event (at-least-once allows them: a replica that
//!   stops between processing and its next commit hands its partition over at the last
//!   committed offset);
//! - lost: events below the group's final committed offset that no replica processed, the
//!   one thing at-least-once forbids;
//! - pending: events at or past the committed offset and not processed when the replay
//!   ended: still in the topic, lag, not loss.
//!
//! The consumers' ledgers also give each event's end-to-end delay ([`delays`]): from the
//! event's `time` (the producer stamps it) to its first processing.

use anyhow::Context as _;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::ledger::{self, Entry};
use serde::{Deserialize, Serialize};

use lab_model::emulator::{Millis, Offsets};
use lab_model::timeline::Timeline;

/// The replay's two ledger files.
#[derive(Debug, Clone)]
pub struct Ledgers {
    pub producer: PathBuf,
    pub consumers: PathBuf,
}

/// One row of the accounting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub phase: String,
    pub produced: u64,
    pub processed: u64,
    pub duplicated: u64,
    pub lost: u64,
    pub pending: u64,
}

/// Every phase's row and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accounting {
    pub rows: Vec<Row>,
    pub total: Row,
}

impl Ledgers {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            producer: dir.join("producer.jsonl"),
            consumers: dir.join("consumers.jsonl"),
        }
    }

    /// Removes the ledgers of an earlier run in the same directory.
    pub fn clear(&self) -> anyhow::Result<()> {
        for path in [&self.producer, &self.consumers] {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => anyhow::bail!("cannot remove {}: {e}", path.display()),
            }
        }
        Ok(())
    }

    /// Compares the ledgers with the final committed offsets. `epoch_ms` is when
    /// scenario time 0 was (Unix ms); `speed` converts wall time to scenario time.
    pub fn account(
        &self,
        timeline: &Timeline,
        epoch_ms: Option<u64>,
        speed: u64,
        final_offsets: &[Offsets],
    ) -> anyhow::Result<Accounting> {
        let read = |path: &Path| {
            ledger::read_all([path])
                .with_context(|| format!("cannot read the ledger {}", path.display()))
        };
        let delivered = read(&self.producer)?;
        let processed = read(&self.consumers)?;
        Ok(account(
            timeline,
            epoch_ms,
            speed,
            &delivered,
            &processed,
            final_offsets,
        ))
    }
}

impl Ledgers {
    /// Each event's delay, scenario ms, from the consumers' ledger ([`delays`]).
    pub fn delays(&self, epoch_ms: u64, speed: u64, end_ms: Millis) -> anyhow::Result<Vec<Millis>> {
        let processed = ledger::read_all([&self.consumers])
            .with_context(|| format!("cannot read the ledger {}", self.consumers.display()))?;
        Ok(delays(&processed, epoch_ms, speed, end_ms))
    }
}

/// Each event's end-to-end delay in scenario ms, as `lab simulate` counts it: from the
/// event's `time` to the first time a replica processed it (`at`), for the events made
/// in scenario time (`time` at or after `epoch_ms`, scenario time 0 in Unix ms) and
/// processed before the scenario's end (`end_ms`, scenario ms); wall time is multiplied
/// by `speed`. Events still unprocessed at the end have no delay yet, as in the model.
pub fn delays(processed: &[Entry], epoch_ms: u64, speed: u64, end_ms: Millis) -> Vec<Millis> {
    let end_at = epoch_ms + end_ms / speed.max(1);
    let mut first: HashMap<(&str, u64), (u64, u64)> = HashMap::new();
    for e in processed {
        let Some(time) = e.time.filter(|t| *t >= epoch_ms) else {
            continue;
        };
        if e.at > end_at {
            continue;
        }
        first
            .entry((e.source.as_str(), e.seq))
            .and_modify(|(at, _)| *at = (*at).min(e.at))
            .or_insert((e.at, time));
    }
    let mut out: Vec<Millis> = first
        .into_values()
        .map(|(at, time)| at.saturating_sub(time) * speed)
        .collect();
    out.sort_unstable();
    out
}

/// The accounting of `delivered` and `processed` entries (see the module header).
pub fn account(
    timeline: &Timeline,
    epoch_ms: Option<u64>,
    speed: u64,
    delivered: &[Entry],
    processed: &[Entry],
    final_offsets: &[Offsets],
) -> Accounting {
    let mut times: HashMap<(&str, u64), u64> = HashMap::new();
    for e in processed {
        *times.entry((e.source.as_str(), e.seq)).or_default() += 1;
    }
    let committed: HashMap<i32, i64> = final_offsets
        .iter()
        .map(|o| (o.partition, o.committed.unwrap_or(0)))
        .collect();
    let phases = &timeline.scenario.phases;
    let mut rows: Vec<Row> = std::iter::once("warm-up".to_owned())
        .chain(phases.iter().map(|p| p.name.clone()))
        .map(|phase| Row {
            phase,
            produced: 0,
            processed: 0,
            duplicated: 0,
            lost: 0,
            pending: 0,
        })
        .collect();
    for e in delivered {
        let row = match epoch_ms {
            Some(epoch) if e.at >= epoch => {
                1 + timeline.phase_at(((e.at - epoch) * speed) as f64 / 1000.0)
            }
            _ => 0,
        };
        let row = &mut rows[row];
        row.produced += 1;
        match times.get(&(e.source.as_str(), e.seq)).copied().unwrap_or(0) {
            0 if e.offset < committed.get(&e.partition).copied().unwrap_or(0) => row.lost += 1,
            0 => row.pending += 1,
            n => {
                row.processed += 1;
                row.duplicated += n - 1;
            }
        }
    }
    let total = rows.iter().fold(
        Row {
            phase: "total".into(),
            produced: 0,
            processed: 0,
            duplicated: 0,
            lost: 0,
            pending: 0,
        },
        |mut t, r| {
            t.produced += r.produced;
            t.processed += r.processed;
            t.duplicated += r.duplicated;
            t.lost += r.lost;
            t.pending += r.pending;
            t
        },
    );
    Accounting { rows, total }
}

impl Accounting {
    /// `accounting.csv`: one row per phase and the total.
    pub fn write_csv(&self, path: &Path) -> anyhow::Result<()> {
        let mut w = csv::Writer::from_path(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        for row in self.rows.iter().chain([&self.total]) {
            w.serialize(row)?;
        }
        w.flush()?;
        Ok(())
    }

    pub fn read_csv(path: &Path) -> anyhow::Result<Self> {
        let mut r = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut rows: Vec<Row> = r
            .deserialize()
            .collect::<Result<_, _>>()
            .with_context(|| format!("{}", path.display()))?;
        let total = rows
            .pop()
            .filter(|t| t.phase == "total")
            .ok_or_else(|| anyhow::anyhow!("{}: no total row", path.display()))?;
        Ok(Self { rows, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lab_model::scenario::Scenario;

    fn entry(seq: u64, partition: i32, offset: i64, at: u64, by: &str) -> Entry {
        Entry {
            source: "producer-0".into(),
            seq,
            partition,
            offset,
            by: by.into(),
            at,
            time: None,
        }
    }

    /// A consumer's line: event `seq` made at `time`, processed at `at`.
    fn processed(seq: u64, time: u64, at: u64) -> Entry {
        Entry {
            time: Some(time),
            ..entry(seq, 0, seq as i64, at, "c1")
        }
    }

    #[test]
    fn delays_count_each_event_once_from_its_time_to_its_first_processing() {
        let epoch = 1_000_000;
        let ledger = [
            processed(0, epoch - 10, epoch + 5), // made in the warm-up: no delay
            processed(1, epoch + 100, epoch + 400), // 300 ms
            processed(1, epoch + 100, epoch + 9_000), // processed again: the first counts
            processed(2, epoch + 1_000, epoch + 1_050), // 50 ms
            processed(3, epoch + 1_000, epoch + 70_000), // after the end (60 s): not yet
            Entry {
                time: None,
                ..processed(4, epoch + 1, epoch + 2)
            }, // an older ledger without `time`
        ];
        assert_eq!(delays(&ledger, epoch, 1, 60_000), [50, 300]);
        // At 4x a wall millisecond is four of scenario time; the end is 15 s of wall time.
        assert_eq!(delays(&ledger, epoch, 4, 60_000), [200, 1200]);
    }

    #[test]
    fn lost_duplicated_and_pending_are_told_apart() {
        let timeline = Timeline::new(Scenario::original(), "test");
        // Scenario t = 0 at epoch 1_000_000; phase 2 ("period 100 ms") starts at 270 s.
        let epoch = 1_000_000;
        let delivered = [
            entry(0, 0, 0, epoch - 5, "p"),       // warm-up, processed
            entry(1, 0, 1, epoch + 10, "p"),      // phase 1, processed twice
            entry(2, 1, 0, epoch + 271_000, "p"), // phase 3, below committed, never processed: lost
            entry(3, 1, 1, epoch + 272_000, "p"), // phase 3, at the committed offset: pending
        ];
        let processed = [
            entry(0, 0, 0, 0, "c1"),
            entry(1, 0, 1, 0, "c1"),
            entry(1, 0, 1, 0, "c2"),
        ];
        let offsets = Offsets::numbered([(2, Some(2)), (2, Some(1))]);
        let a = account(&timeline, Some(epoch), 1, &delivered, &processed, &offsets);
        let row = |name: &str| a.rows.iter().find(|r| r.phase == name).unwrap().clone();
        assert_eq!((row("warm-up").produced, row("warm-up").processed), (1, 1));
        assert_eq!(row("period 1000 ms").duplicated, 1);
        let busy = row("period 100 ms");
        assert_eq!((busy.produced, busy.lost, busy.pending), (2, 1, 1));
        assert_eq!(
            (
                a.total.produced,
                a.total.processed,
                a.total.lost,
                a.total.duplicated
            ),
            (4, 2, 1, 1)
        );
        let dir = std::env::temp_dir().join(format!("accounting-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("accounting.csv");
        a.write_csv(&path).unwrap();
        assert_eq!(Accounting::read_csv(&path).unwrap(), a);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
