//! How each phase's producer spreads its events over the partitions: the producer's own
//! rule ([`workload::shape`]), with the phase's hot share and silent partitions.

use super::Scenario;

impl Scenario {
    /// How phase `i`'s producer spreads its events over the partitions.
    pub fn shape(&self, i: usize) -> workload::shape::Shape {
        let p = &self.phases[i];
        workload::shape::Shape {
            hot_share: p.hot_partition_share.unwrap_or(0.0),
            silent: p.silent_partitions.iter().map(|s| *s as i32).collect(),
        }
    }
}
