//! Consumer replicas as separate processes in one group on Tansu: they split the
//! partitions, consume every event at least once, and hand partitions over on SIGTERM
//! with nothing lost.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::ledger::{read_all, Entry};
use harness::{assignment, unique, wait_for, App, Binary, Tansu};

const PARTITIONS: i32 = 10;

struct Setup {
    tansu: &'static Tansu,
    topic: String,
    group: String,
    dir: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let tansu = Tansu::shared();
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

    fn ledger(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.jsonl"))
    }

    fn consumer(&self, name: &str) -> App {
        App::start(
            Binary::Consumer,
            name,
            &[
                ("kafka.brokers", self.tansu.bootstrap().to_owned()),
                ("kafka.topics", self.topic.clone()),
                ("kafka.groupId", self.group.clone()),
                // Tansu holds the first JoinGroup for session.timeout/2.
                ("kafka.session.timeout", "6000".into()),
                ("ledger.file", self.ledger(name).display().to_string()),
            ],
        )
    }

    fn producer(&self, period_ms: u64) -> App {
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

    fn consumed(&self, names: &[&str]) -> Vec<Entry> {
        let paths: Vec<PathBuf> = names.iter().map(|n| self.ledger(n)).collect();
        read_all(paths).unwrap()
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until the consumers' assignments are disjoint and cover every partition.
fn wait_for_split(consumers: &[&App], timeout: Duration) -> Duration {
    let started = Instant::now();
    wait_for("the group to split all partitions", timeout, || {
        let sets: Vec<BTreeSet<i32>> = consumers.iter().map(|c| assignment(c)).collect();
        let total: usize = sets.iter().map(BTreeSet::len).sum();
        let union: BTreeSet<i32> = sets.iter().flatten().copied().collect();
        (total == PARTITIONS as usize && union.len() == PARTITIONS as usize).then_some(())
    });
    started.elapsed()
}

fn delivered(path: &Path) -> BTreeSet<u64> {
    read_all([path])
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect()
}

/// Waits until every delivered seq is in the consumers' ledgers; returns how many times
/// each was consumed.
fn wait_until_consumed(
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

#[test]
fn three_consumers_split_partitions_and_consume_every_event() {
    let setup = Setup::new();
    let names = ["c1", "c2", "c3"];
    let consumers: Vec<App> = names.iter().map(|n| setup.consumer(n)).collect();
    let took = wait_for_split(
        &consumers.iter().collect::<Vec<_>>(),
        Duration::from_secs(60),
    );
    eprintln!("3 consumers split {PARTITIONS} partitions after {took:?}");
    for c in &consumers {
        assert_eq!(c.get("/health/ready").0, 200, "{} ready", c.name);
        assert!(!assignment(c).is_empty(), "{} has partitions", c.name);
    }

    let mut producer = setup.producer(20);
    std::thread::sleep(Duration::from_secs(3));
    assert!(producer.terminate(Duration::from_secs(15)).0.success());
    let delivered = delivered(&setup.ledger("producer"));
    assert!(
        delivered.len() >= 100,
        "about 3 s at 20 ms: {}",
        delivered.len()
    );

    let counts = wait_until_consumed(&setup, &names, &delivered);
    let by: BTreeMap<String, usize> =
        setup
            .consumed(&names)
            .into_iter()
            .fold(BTreeMap::new(), |mut m, e| {
                *m.entry(e.by).or_default() += 1;
                m
            });
    eprintln!(
        "{} events delivered; consumed per replica: {by:?}",
        delivered.len()
    );
    assert_eq!(by.len(), 3, "every replica consumed some: {by:?}");
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    assert_eq!(duplicates, 0, "a stable group consumes each event once");
}

#[test]
fn sigterm_hands_partitions_over_with_nothing_lost() {
    let setup = Setup::new();
    let names = ["c1", "c2"];
    let mut c1 = setup.consumer("c1");
    let c2 = setup.consumer("c2");
    wait_for_split(&[&c1, &c2], Duration::from_secs(60));
    let mut producer = setup.producer(20);
    std::thread::sleep(Duration::from_secs(2));

    let (status, took) = c1.terminate(Duration::from_secs(20));
    assert!(status.success(), "c1 exit {status:?}");
    assert!(took < Duration::from_secs(12), "c1 drained in {took:?}");
    assert_eq!(
        c1.logged("left the group").len(),
        1,
        "c1 left the group cleanly"
    );
    let moved = wait_for_split(&[&c2], Duration::from_secs(30));
    eprintln!("c1 exited in {took:?}; c2 owned all partitions {moved:?} later");

    std::thread::sleep(Duration::from_secs(2));
    assert!(producer.terminate(Duration::from_secs(15)).0.success());
    let delivered = delivered(&setup.ledger("producer"));
    let counts = wait_until_consumed(&setup, &names, &delivered);
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    eprintln!(
        "{} delivered, all consumed, {duplicates} duplicates",
        delivered.len()
    );
    assert_eq!(
        duplicates, 0,
        "a SIGTERM hand-over commits before it leaves"
    );
}
