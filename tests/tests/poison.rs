//! A consumer given poison records logs and counts each one, stores its offset, and
//! goes on consuming the good events around it (mock cluster, consumer binary).

use std::time::Duration;

use common::event::Event;
use common::ledger::read_all;
use harness::{start_consumer, unique, wait_for, MockBroker};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;

#[test]
fn poison_events_are_counted_skipped_and_consumption_goes_on() {
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 1).unwrap();
    let ledger = std::env::temp_dir().join(format!("{}.jsonl", unique("ledger")));

    let huge = vec![b'x'; 1024 * 1024];
    let poison: Vec<(&str, Option<&[u8]>)> = vec![
        ("not_json", Some(b"hello, world")),
        ("wrong_shape", Some(br#"{"seq":"one","name":7}"#)),
        ("wrong_shape", Some(b"[1,2,3]")),
        ("empty", None),
        ("empty", Some(b"")),
        ("not_utf8", Some(b"\xff\xfe\xfd")),
        ("too_large", Some(&huge)),
    ];
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("message.max.bytes", "2000000")
        .create()
        .unwrap();
    let good: Vec<Event> = (0..poison.len() as u64 + 1)
        .map(|seq| Event::new("test", seq))
        .collect();
    for (i, event) in good.iter().enumerate() {
        let payload = event.to_json();
        producer
            .send(BaseRecord::to(&topic).key("k").payload(&payload))
            .unwrap();
        if let Some((_, bad)) = poison.get(i) {
            let mut record: BaseRecord<str, [u8]> = BaseRecord::to(&topic).key("k");
            if let Some(bad) = bad {
                record = record.payload(bad);
            }
            producer.send(record).unwrap();
        }
    }
    producer.flush(Duration::from_secs(10)).unwrap();

    let consumer = start_consumer(
        "consumer",
        broker.bootstrap(),
        &topic,
        &unique("group"),
        &ledger,
    );
    let consumed = wait_for(
        "the good events to be consumed",
        Duration::from_secs(60),
        || {
            let entries = read_all([&ledger]).unwrap();
            (entries.len() >= good.len()).then_some(entries)
        },
    );
    let seqs: Vec<u64> = consumed.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (0..good.len() as u64).collect::<Vec<_>>(),
        "every good event, in order, once"
    );

    // events_consumed_total counts stored offsets: it follows the ledger by one batch.
    let metrics = wait_for(
        "events_consumed_total to count every good event",
        Duration::from_secs(10),
        || {
            let metrics = consumer.get_text("/metrics");
            metrics
                .contains(&format!("events_consumed_total {}", good.len()))
                .then_some(metrics)
        },
    );
    for reason in ["not_json", "wrong_shape", "empty", "not_utf8", "too_large"] {
        let expected = poison.iter().filter(|(r, _)| *r == reason).count();
        let line = format!("events_malformed_total{{reason=\"{reason}\"}} {expected}");
        assert!(metrics.contains(&line), "missing {line}:\n{metrics}");
    }
    let skipped = consumer.logged("skipping a malformed event");
    assert_eq!(
        skipped.len(),
        poison.len(),
        "each poison record logged once"
    );
    assert!(
        skipped
            .iter()
            .all(|l| l["offset"].is_i64() && l["reason"].is_string()),
        "{skipped:?}"
    );
    let (_, stats) = consumer.get("/stats");
    assert_eq!(stats["malformed"], poison.len(), "{stats}");
    assert_eq!(stats["consumed"], good.len(), "{stats}");
    assert_eq!(consumer.get("/health/ready").0, 200, "still ready");
    let _ = std::fs::remove_file(ledger);
}

/// `kafka.partition.stuck`, set as a user sets it on a cluster: the replica pauses that
/// partition whenever it is assigned it, so none of its events is processed (as behind a
/// poison record KEDA keeps counting), while the other partitions are read as usual.
#[test]
fn a_stuck_partition_is_never_read_and_the_others_are() {
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 2).unwrap();
    let ledger = std::env::temp_dir().join(format!("{}.jsonl", unique("ledger")));
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .unwrap();
    for seq in 0..20u64 {
        let payload = Event::new("test", seq).to_json();
        let partition = (seq % 2) as i32;
        producer
            .send(
                BaseRecord::to(&topic)
                    .key("k")
                    .payload(&payload)
                    .partition(partition),
            )
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
    let consumer = harness::App::start(
        harness::Binary::Consumer,
        "consumer",
        &[
            ("kafka.brokers", broker.bootstrap().to_owned()),
            ("kafka.topics", topic.clone()),
            ("kafka.groupId", unique("group")),
            ("kafka.session.timeout", "6000".into()),
            ("KAFKA_PARTITION_STUCK", "1".into()),
            ("ledger.file", ledger.display().to_string()),
        ],
    );
    wait_for(
        "partition 0's events to be consumed",
        Duration::from_secs(60),
        || (read_all([&ledger]).unwrap().len() >= 10).then_some(()),
    );
    consumer.wait_for_log(
        "stuck partitions paused: this replica will not get past their head",
        Duration::from_secs(5),
    );
    // Time for partition 1 to have been read, were it not stuck.
    std::thread::sleep(Duration::from_secs(2));
    let consumed = read_all([&ledger]).unwrap();
    assert_eq!(consumed.len(), 10, "only partition 0's ten events");
    assert!(consumed.iter().all(|e| e.partition == 0), "{consumed:?}");
}
