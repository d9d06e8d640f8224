//! Consumer replicas as separate processes in one group on Tansu: they split the
//! partitions, consume every event at least once, and hand partitions over on SIGTERM
//! with nothing lost.

use std::collections::BTreeMap;
use std::time::Duration;

use harness::group::{delivered, wait_for_split, wait_until_consumed, Setup, PARTITIONS};
use harness::{assignment, App};

#[test]
fn three_consumers_split_partitions_and_consume_every_event() {
    let setup = Setup::start();
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
    let setup = Setup::start();
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
