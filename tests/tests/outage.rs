//! Brokers that are not there: at start-up, and taken away mid-run (mock cluster's
//! broker down/up). Nothing hangs, readiness tells the truth, nothing is dropped.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::ledger::read_all;

use harness::{free_port, read_events, start_consumer, unique, wait_for, App, Binary, MockBroker};

#[test]
fn consumer_without_broker_stays_alive_not_ready_and_exits_on_sigterm() {
    let nowhere = format!("127.0.0.1:{}", free_port());
    let mut consumer = App::start(
        Binary::Consumer,
        "consumer",
        &[
            ("kafka.brokers", nowhere),
            ("kafka.close.timeout", "3000".into()),
        ],
    );
    let watched = Instant::now();
    while watched.elapsed() < Duration::from_secs(4) {
        assert_eq!(consumer.get("/health/live").0, 200);
        let (status, body) = consumer.get("/health/ready");
        assert_eq!(status, 503, "{body}");
        assert!(
            body["reason"]
                .as_str()
                .unwrap()
                .contains("has not joined group"),
            "{body}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let warnings = consumer
        .logs()
        .iter()
        .filter(|l| l["level"] == "WARN")
        .count();
    assert!(
        (1..=2).contains(&warnings),
        "logs why, at most once per 10 s: {warnings} warnings in 4 s"
    );
    let (status, took) = consumer.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(5), "bounded exit: {took:?}");
}

#[test]
fn broker_outage_turns_ready_off_and_nothing_is_lost_after_recovery() {
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 10).unwrap();
    let dir = std::env::temp_dir().join(unique("outage"));
    std::fs::create_dir_all(&dir).unwrap();
    let (produced, consumed) = (dir.join("producer.jsonl"), dir.join("consumer.jsonl"));
    let mut producer = App::start(
        Binary::Producer,
        "producer",
        &[
            ("kafka.brokers.host", broker.bootstrap().to_owned()),
            ("kafka.topic", topic.clone()),
            ("kafka.time.period", "100".into()),
            ("ledger.file", produced.display().to_string()),
        ],
    );
    let consumer = start_consumer(
        "consumer",
        broker.bootstrap(),
        &topic,
        &unique("group"),
        &consumed,
    );
    wait_for("ready", Duration::from_secs(20), || {
        (producer.get("/health/ready").0 == 200 && consumer.get("/health/ready").0 == 200)
            .then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));

    broker.broker_down().unwrap();
    let down_at = Instant::now();
    let not_ready = wait_for(
        "not ready during the outage",
        Duration::from_secs(15),
        || (producer.get("/health/ready").0 == 503).then(|| down_at.elapsed()),
    );
    let sent_at_down = producer.get("/stats").1["sent"].as_u64().unwrap();
    std::thread::sleep(Duration::from_secs(10).saturating_sub(down_at.elapsed()));
    let sent_during = producer.get("/stats").1["sent"].as_u64().unwrap() - sent_at_down;
    assert!(
        sent_during >= 50,
        "the producer keeps ticking during the outage: {sent_during}"
    );

    broker.broker_up().unwrap();
    let up_at = Instant::now();
    let ready_again = wait_for("ready after the outage", Duration::from_secs(30), || {
        (producer.get("/health/ready").0 == 200).then(|| up_at.elapsed())
    });
    std::thread::sleep(Duration::from_secs(1));
    let (status, _) = producer.terminate(Duration::from_secs(20));
    assert!(status.success());
    let stopped = producer.wait_for_log("producer stopped", Duration::from_secs(1));
    let (sent, delivered, failed) = (
        stopped["sent"].as_u64().unwrap(),
        stopped["delivered"].as_u64().unwrap(),
        stopped["failed"].as_u64().unwrap(),
    );
    eprintln!("not ready {not_ready:?} after the broker went down; ready {ready_again:?} after it came back; sent {sent}, delivered {delivered}, failed {failed}");
    assert_eq!(
        sent,
        delivered + failed + stopped["undelivered"].as_u64().unwrap()
    );
    assert_eq!(
        failed, 0,
        "a 10 s outage is shorter than message.timeout.ms: everything is delivered"
    );
    let records = read_events(
        broker.bootstrap(),
        &topic,
        10,
        Some(delivered as usize),
        Duration::from_secs(5),
    );
    assert_eq!(
        records.len() as u64,
        delivered,
        "every delivered event is in the topic once (idempotent producer)"
    );
    // The consumer resumes and loses nothing.
    let delivered_seqs: BTreeSet<u64> = read_all([&produced])
        .unwrap()
        .into_iter()
        .map(|e| e.seq)
        .collect();
    let caught_up = Instant::now();
    wait_for(
        "the consumer to process every delivered event",
        Duration::from_secs(60),
        || {
            let seen: BTreeSet<u64> = read_all([&consumed])
                .unwrap()
                .into_iter()
                .map(|e| e.seq)
                .collect();
            delivered_seqs.is_subset(&seen).then_some(())
        },
    );
    eprintln!(
        "consumer caught up {:?} after the producer stopped",
        caught_up.elapsed()
    );
    let _ = std::fs::remove_dir_all(dir);
}
