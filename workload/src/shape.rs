//! Where each event goes. By default librdkafka's partitioner picks the partition from
//! the event's key (its sequence number, in decimal); a shaped load instead sends a share
//! of the events to one hot partition, or none to some silent partitions (the producer's
//! `kafka.partition.hot.share` and `kafka.partition.silent`). Deterministic by sequence
//! number, so `lab simulate`'s model sends every event where the producer does.

/// How events are spread over the topic's partitions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// The share of events, 0..=1, that go to partition 0 (key skew).
    pub hot_share: f64,
    /// Partitions that get no events.
    pub silent: Vec<i32>,
}

impl Shape {
    /// Whether librdkafka's own partitioner decides (nothing shaped).
    pub fn is_keyed(&self) -> bool {
        self.hot_share <= 0.0 && self.silent.is_empty()
    }

    /// The partition of event `seq` on a topic of `partitions` partitions.
    ///
    /// Keyed: librdkafka's default partitioner, `consistent_random`, which for a non-empty
    /// key takes the CRC-32 of the key modulo the partition count (rdkafka_msg.c
    /// `rd_kafka_msg_partitioner_consistent_random`).
    ///
    /// Shaped: a hot share h sends event `seq` to partition 0 when floor((seq + 1) h)
    /// passes floor(seq h) (exactly h of every run of events); the others go, by the same
    /// CRC-32 of their key, to the partitions neither hot nor silent (partition 0 when
    /// every partition is silent).
    pub fn partition(&self, seq: u64, partitions: u32) -> u32 {
        let partitions = partitions.max(1);
        if self.is_keyed() {
            return key_hash(seq) % partitions;
        }
        let hot = self.hot_share > 0.0
            && ((seq + 1) as f64 * self.hot_share).floor() > (seq as f64 * self.hot_share).floor();
        if hot {
            return 0;
        }
        let takes = |p: u32| {
            let silent = self.silent.iter().any(|s| *s >= 0 && *s as u32 == p);
            let hot = self.hot_share > 0.0 && p == 0;
            !silent && !hot
        };
        let others = (0..partitions).filter(|p| takes(*p)).count() as u32;
        if others == 0 {
            return 0;
        }
        let nth = key_hash(seq) % others;
        (0..partitions)
            .filter(|p| takes(*p))
            .nth(nth as usize)
            .unwrap_or(0)
    }
}

/// The CRC-32 (IEEE) of event `seq`'s key, its decimal digits, written on the stack (the
/// model sends an event per step at high rates; a String per event was a tenth of its
/// time).
pub fn key_hash(seq: u64) -> u32 {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = seq;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    crc32fast::hash(&digits[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hot_share_sends_exactly_that_share_to_partition_0() {
        let shape = Shape {
            hot_share: 0.6,
            silent: vec![],
        };
        let to_0 = (0..1000).filter(|s| shape.partition(*s, 10) == 0).count();
        assert_eq!(to_0, 600);
        assert!((0..1000).all(|s| shape.partition(s, 10) < 10));
    }

    #[test]
    fn silent_partitions_get_nothing_and_keyed_is_librdkafka_s() {
        let shape = Shape {
            hot_share: 0.0,
            silent: vec![3, 7],
        };
        assert!((0..1000).all(|s| !matches!(shape.partition(s, 10), 3 | 7)));
        assert_eq!(
            Shape::default().partition(5, 10),
            crc32fast::hash(b"5") % 10
        );
        assert_eq!(key_hash(123_456_789), crc32fast::hash(b"123456789"));
        // The IEEE CRC-32 check value: the CRC librdkafka's partitioner takes.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        let all_silent = Shape {
            hot_share: 0.0,
            silent: (0..4).collect(),
        };
        assert_eq!(all_silent.partition(9, 4), 0);
    }
}
