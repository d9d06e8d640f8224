//! A consumer-group fixture on Tansu: a fresh topic and group, consumers and a producer as
//! processes of the real binaries, each writing a ledger of what it delivered or
//! processed, so tests can count lost and duplicated events.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::ledger::{read_all, Entry};

use crate::{assignment, unique, wait_for, App, Binary, Tansu};

pub const PARTITIONS: i32 = 10;

pub struct Setup {
    pub tansu: &'static Tansu,
    pub topic: String,
    pub group: String,
    dir: PathBuf,
}

impl Setup {
    /// A fresh topic (on the shared Tansu) and group, and a folder for the ledgers.
    pub fn start() -> Self {
        Self::on(Tansu::shared())
    }

    fn on(tansu: &'static Tansu) -> Self {
        let topic = unique("event");
        tansu.create_topic(&topic, PARTITIONS);
        let dir = std::env::temp_dir().join(unique("ledgers"));
        std::fs::create_dir_all(&dir).unwrap();
        Setup {
            tansu,
            topic,
            group: unique("group"),
            dir,
        }
    }

    pub fn ledger(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.jsonl"))
    }

    pub fn consumer(&self, name: &str) -> App {
        crate::start_consumer(
            name,
            self.tansu.bootstrap(),
            &self.topic,
            &self.group,
            &self.ledger(name),
        )
    }

    pub fn producer(&self, period_ms: u64) -> App {
        App::start(
            Binary::Producer,
            "producer",
            &[
                ("kafka.brokers.host", self.tansu.bootstrap().to_owned()),
                ("kafka.topic", self.topic.clone()),
                ("kafka.time.period", period_ms.to_string()),
                // Tansu's end offsets are only right for one record per batch.
                ("KAFKA_EXTRA_batch.num.messages", "1".into()),
                ("ledger.file", self.ledger("producer").display().to_string()),
            ],
        )
    }

    pub fn consumed(&self, names: &[&str]) -> Vec<Entry> {
        let paths: Vec<PathBuf> = names.iter().map(|n| self.ledger(n)).collect();
        read_all(paths).unwrap()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn delivered(path: &std::path::Path) -> BTreeSet<u64> {
    read_all([path])
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect()
}

/// Waits until every delivered seq is in the consumers' ledgers; returns how many times
/// each was consumed.
pub fn wait_until_consumed(
    setup: &Setup,
    names: &[&str],
    delivered: &BTreeSet<u64>,
) -> BTreeMap<u64, usize> {
    wait_for(
        "every delivered event to be consumed",
        Duration::from_secs(60),
        || {
            let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
            for e in setup.consumed(names) {
                *counts.entry(e.seq).or_default() += 1;
            }
            delivered
                .iter()
                .all(|s| counts.contains_key(s))
                .then_some(counts)
        },
    )
}

/// Waits until the consumers' assignments are disjoint and cover every partition.
pub fn wait_for_split(consumers: &[&App], timeout: Duration) -> Duration {
    let started = Instant::now();
    wait_for("the group to split all partitions", timeout, || {
        let sets: Vec<BTreeSet<i32>> = consumers.iter().map(|c| assignment(c)).collect();
        let total: usize = sets.iter().map(BTreeSet::len).sum();
        let union: BTreeSet<i32> = sets.iter().flatten().copied().collect();
        (total == PARTITIONS as usize && union.len() == PARTITIONS as usize).then_some(())
    });
    started.elapsed()
}
