//! Where each event goes: by default librdkafka's partitioner picks the partition from the
//! key (`seq`); the lab can shape the load instead, for its workload-shape scenarios (a
//! hot partition taking a share of the events, partitions that get none). Deterministic
//! by sequence number, so `lab simulate`'s model sends every event where the replay's
//! producer does.

/// How events are spread over the topic's partitions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// The topic's partition count (needed when the shape picks partitions itself).
    pub partitions: i32,
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

    /// The partition for event `seq`: `None` when librdkafka's partitioner picks it from
    /// the key. A hot share h sends event `seq` to partition 0 when floor((seq + 1) h)
    /// passes floor(seq h) (exactly h of every run of events); the others go, by the
    /// CRC32 of their key as librdkafka's consistent_random partitioner does, to the
    /// partitions neither hot nor silent.
    pub fn partition(&self, seq: u64) -> Option<i32> {
        if self.is_keyed() {
            return None;
        }
        let hot = self.hot_share > 0.0
            && ((seq + 1) as f64 * self.hot_share).floor() > (seq as f64 * self.hot_share).floor();
        if hot {
            return Some(0);
        }
        let hot_partition = |p: i32| self.hot_share > 0.0 && p == 0;
        let others: Vec<i32> = (0..self.partitions)
            .filter(|p| !self.silent.contains(p) && !hot_partition(*p))
            .collect();
        if others.is_empty() {
            return Some(0);
        }
        let key = seq.to_string();
        Some(others[crc32(key.as_bytes()) as usize % others.len()])
    }
}

/// CRC-32 (IEEE), as librdkafka's consistent_random partitioner hashes keys.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hot_share_sends_exactly_that_share_to_partition_0() {
        let shape = Shape {
            partitions: 10,
            hot_share: 0.6,
            silent: vec![],
        };
        let to_0 = (0..1000).filter(|s| shape.partition(*s) == Some(0)).count();
        assert_eq!(to_0, 600);
        assert!((0..1000).all(|s| shape.partition(s).is_some_and(|p| (0..10).contains(&p))));
    }

    #[test]
    fn silent_partitions_get_nothing_and_keyed_is_librdkafka_s() {
        let shape = Shape {
            partitions: 10,
            hot_share: 0.0,
            silent: vec![3, 7],
        };
        assert!((0..1000).all(|s| !matches!(shape.partition(s), Some(3) | Some(7))));
        assert_eq!(Shape::default().partition(5), None);
        // The IEEE CRC-32 check value.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
