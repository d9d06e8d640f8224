//! Reading a topic back, with a client of its own.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::event::Event;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// One record read back.
#[derive(Debug, Clone)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    /// The decoded event, or `None` for a malformed payload.
    pub event: Option<Event>,
}

/// Reads `partitions` partitions of `topic` from the beginning until `expected` records
/// were read or nothing new came for `quiet`. Uses assign, not a group, so it disturbs
/// no group; counts records itself rather than trusting end offsets (Tansu's
/// ListOffsets is wrong for multi-record batches).
pub fn read_events(
    brokers: &str,
    topic: &str,
    partitions: i32,
    expected: Option<usize>,
    quiet: Duration,
) -> Vec<Record> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", crate::unique("reader"))
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader client");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).expect("assign");
    let mut out = Vec::new();
    let mut last_new = Instant::now();
    while last_new.elapsed() < quiet && expected.is_none_or(|n| out.len() < n) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            out.push(Record {
                partition: m.partition(),
                offset: m.offset(),
                event: Event::decode(m.payload()).ok(),
            });
            last_new = Instant::now();
        }
    }
    out
}

/// Records per partition.
pub fn per_partition(records: &[Record]) -> BTreeMap<i32, usize> {
    let mut out = BTreeMap::new();
    for r in records {
        *out.entry(r.partition).or_default() += 1;
    }
    out
}
