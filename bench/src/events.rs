//! The events every client sends and reads: the project's own event JSON (about 150
//! bytes), keyed by sequence number, so references and the project move the same bytes.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use common::event::Event;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;

/// The source name of events the bench writes itself.
pub const SOURCE: &str = "bench";

/// Writes `count` events as `key<TAB>json` lines (what `kcat -P -K '\t'` and the
/// confluent-kafka reference read) and returns the payload size of the first, in bytes.
pub fn write_file(path: &Path, count: u64) -> anyhow::Result<usize> {
    let file = std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut size = 0;
    for seq in 0..count {
        let event = Event::new(SOURCE, seq);
        let payload = event.to_json();
        size = if seq == 0 { payload.len() } else { size };
        out.write_all(event.key().as_bytes())?;
        out.write_all(b"\t")?;
        out.write_all(&payload)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(size)
}

/// Fills `topic` with `count` events as fast as librdkafka allows (not measured).
pub fn prefill(brokers: &str, topic: &str, count: u64) -> anyhow::Result<()> {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "200000")
        .create()
        .context("prefill producer")?;
    for seq in 0..count {
        let event = Event::new(SOURCE, seq);
        let (key, payload) = (event.key(), event.to_json());
        let mut record = BaseRecord::to(topic).key(&key).payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((err, back)) => {
                    if !producer::sender::is_queue_full(&err) {
                        bail!("prefill of {topic}: {err}");
                    }
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .with_context(|| format!("prefill of {topic}: flush"))?;
    Ok(())
}

/// The sum of the high watermarks of `topic`'s partitions: the records in it, on a
/// broker with exact end offsets.
pub fn records_in(brokers: &str, topic: &str, partitions: i32) -> anyhow::Result<i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .context("watermark client")?;
    let mut total = 0;
    for p in 0..partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .with_context(|| format!("watermarks of {topic}/{p}"))?;
        total += high - low;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_file_has_one_keyed_event_per_line() {
        let dir = std::env::temp_dir().join(format!("bench-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.txt");
        let size = write_file(&path, 3).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        for (seq, line) in lines.iter().enumerate() {
            let (key, payload) = line.split_once('\t').unwrap();
            assert_eq!(key, seq.to_string());
            let event = Event::decode(Some(payload.as_bytes())).unwrap();
            assert_eq!((event.seq, event.source.as_str()), (seq as u64, SOURCE));
        }
        assert!((100..300).contains(&size), "{size}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
