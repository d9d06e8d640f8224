//! The producer binary against librdkafka's mock cluster: period accuracy, partition
//! spread, run-time rate changes, readiness and the shutdown report.

use std::time::Duration;

use harness::{per_partition, read_events, unique, App, Binary, MockBroker};
use serde_json::json;

fn start_producer(broker: &MockBroker, topic: &str, period_ms: u64) -> App {
    App::start(
        Binary::Producer,
        "producer",
        &[
            ("kafka.brokers.host", broker.bootstrap().to_owned()),
            ("kafka.topic", topic.to_owned()),
            ("kafka.time.period", period_ms.to_string()),
        ],
    )
}

fn times(records: &[harness::Record]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = records
        .iter()
        .map(|r| {
            let e = r.event.as_ref().expect("well-formed event");
            (e.seq, e.time)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn sends_one_event_per_period_spread_over_all_partitions() {
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 10).unwrap();
    let mut producer = start_producer(&broker, &topic, 50);
    harness::wait_for("producer ready", Duration::from_secs(10), || {
        (producer.get("/health/ready").0 == 200).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    let (status, took) = producer.terminate(Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(5), "drain took {took:?}");

    let stopped = producer.wait_for_log("producer stopped", Duration::from_secs(1));
    let delivered = stopped["delivered"].as_u64().unwrap();
    assert_eq!(
        (stopped["failed"].as_u64(), stopped["undelivered"].as_u64()),
        (Some(0), Some(0)),
        "{stopped}"
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
        "every delivered event is in the topic"
    );
    let seq_times = times(&records);
    let seqs: Vec<u64> = seq_times.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (0..delivered).collect::<Vec<_>>(),
        "contiguous sequence numbers"
    );

    // One event per 50 ms over the span the events cover, within one event.
    let span = seq_times.last().unwrap().1 - seq_times[0].1;
    let expected = span / 50 + 1;
    eprintln!("sent {delivered} events over {span} ms: expected {expected}");
    assert!(
        delivered.abs_diff(expected) <= 1,
        "sent {delivered}, expected {expected} for {span} ms"
    );
    assert!(delivered >= 55, "about 3 s at 50 ms: {delivered}");

    let spread = per_partition(&records);
    assert_eq!(spread.len(), 10, "all 10 partitions get events: {spread:?}");
}

#[test]
fn put_period_changes_the_rate_from_the_next_tick() {
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 10).unwrap();
    let mut producer = start_producer(&broker, &topic, 200);
    std::thread::sleep(Duration::from_millis(2100));
    let (status, body) = producer.send_json("PUT", "/period", &json!({ "period_ms": 20 }));
    assert_eq!(
        (status, body["previous_ms"].as_u64()),
        (200, Some(200)),
        "{body}"
    );
    assert_eq!(producer.get("/period").1["period_ms"], 20);
    let changed_at = common::event::now_millis();
    std::thread::sleep(Duration::from_millis(2000));
    let (status, body) = producer.send_json("PUT", "/period", &json!({ "period_ms": 0 }));
    assert_eq!(status, 422, "{body}");
    producer.terminate(Duration::from_secs(15));

    let delivered = producer.wait_for_log("producer stopped", Duration::from_secs(1))["delivered"]
        .as_u64()
        .unwrap();
    let seq_times = times(&read_events(
        broker.bootstrap(),
        &topic,
        10,
        Some(delivered as usize),
        Duration::from_secs(5),
    ));
    let gaps =
        |range: &[(u64, u64)]| -> Vec<u64> { range.windows(2).map(|w| w[1].1 - w[0].1).collect() };
    let split = seq_times.partition_point(|(_, t)| *t < changed_at);
    let (before, after) = (gaps(&seq_times[..split]), gaps(&seq_times[split..]));
    let median = |mut v: Vec<u64>| {
        v.sort();
        v[v.len() / 2]
    };
    let (before_ms, after_ms) = (median(before.clone()), median(after.clone()));
    eprintln!(
        "median gap before {before_ms} ms ({} events), after {after_ms} ms ({} events)",
        before.len() + 1,
        after.len() + 1
    );
    assert!((190..=215).contains(&before_ms), "before: {before:?}");
    assert!((18..=25).contains(&after_ms), "after: {after:?}");
    // The first event after the change comes within one new period of the change
    // (the previous tick was at most 200 ms before it).
    assert!(
        seq_times[split].1 - changed_at <= 40,
        "first event {} ms after the change",
        seq_times[split].1 - changed_at
    );
}

#[test]
fn burst_sends_the_requested_count_and_stats_add_up() {
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 10).unwrap();
    let mut producer = start_producer(&broker, &topic, 3_600_000);
    let (status, body) = producer.send_json("POST", "/burst", &json!({ "count": 5000 }));
    assert_eq!(status, 202, "{body}");
    producer.wait_for_log("burst finished", Duration::from_secs(30));
    let stats = producer.get("/stats").1;
    // One tick at start-up plus the burst.
    assert_eq!(
        (
            stats["delivered"].as_u64(),
            stats["failed"].as_u64(),
            stats["in_flight"].as_u64()
        ),
        (Some(5001), Some(0), Some(0)),
        "{stats}"
    );
    let metrics = producer.get_text("/metrics");
    assert!(
        metrics.contains("events_produced_total{outcome=\"delivered\"} 5001"),
        "{metrics}"
    );
    assert!(
        metrics.contains("producer_period_seconds 3600"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# HELP events_produced_total"),
        "{metrics}"
    );
    assert!(producer.terminate(Duration::from_secs(15)).0.success());
    let records = read_events(
        broker.bootstrap(),
        &topic,
        10,
        Some(5001),
        Duration::from_secs(5),
    );
    assert_eq!(records.len(), 5001);
}

/// `kafka.partition.hot.share` and `kafka.partition.silent`, set as a user sets them on a
/// cluster (`kubectl set env`): librdkafka calls the producer's partitioner with the
/// topic's partition count, and every event lands where `workload::shape` (the rule `lab
/// simulate` replays) says: half on partition 0, none on 3 or 7.
#[test]
fn a_shaped_load_lands_where_the_lab_s_model_sends_it() {
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 10).unwrap();
    let mut producer = App::start(
        Binary::Producer,
        "producer",
        &[
            ("kafka.brokers.host", broker.bootstrap().to_owned()),
            ("kafka.topic", topic.clone()),
            ("kafka.time.period", "5".into()),
            ("KAFKA_PARTITION_HOT_SHARE", "0.5".into()),
            ("kafka.partition.silent", "3,7".into()),
        ],
    );
    harness::wait_for("producer ready", Duration::from_secs(10), || {
        (producer.get("/health/ready").0 == 200).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let (status, _) = producer.terminate(Duration::from_secs(15));
    assert!(status.success(), "exit status {status:?}");
    let stopped = producer.wait_for_log("producer stopped", Duration::from_secs(1));
    let delivered = stopped["delivered"].as_u64().unwrap();
    assert!(delivered >= 100, "{stopped}");
    let records = read_events(
        broker.bootstrap(),
        &topic,
        10,
        Some(delivered as usize),
        Duration::from_secs(5),
    );
    assert_eq!(records.len() as u64, delivered);
    let shape = workload::shape::Shape {
        hot_share: 0.5,
        silent: vec![3, 7],
    };
    for r in &records {
        let seq = r.event.as_ref().expect("well-formed event").seq;
        assert_eq!(
            r.partition as u32,
            shape.partition(seq, 10),
            "event {seq} is where the model sends it"
        );
    }
    let spread = per_partition(&records);
    eprintln!("{spread:?}");
    assert!(
        !spread.contains_key(&3) && !spread.contains_key(&7),
        "{spread:?}"
    );
    assert!(spread[&0].abs_diff(records.len() / 2) <= 1, "{spread:?}");
}
