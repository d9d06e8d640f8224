//! metrics-server between the pods and the HPA (kubernetes-sigs/metrics-server v0.9.0):
//! every `--metric-resolution` (15 s in its published manifest) it scrapes each pod's
//! cumulative CPU time and working set; the CPU it serves is the rate between a pod's
//! last two scrapes (the window), the memory the last scrape's working set
//! (pkg/storage/pod.go). A pod has a CPU reading once it was scraped twice, or once, if
//! it started at least 10 s before that scrape (then read against its start). The HPA
//! reads what metrics-server last stored: [`super::pods`] does the rest.
//!
//! Whoever runs pods (simulate's model, a replay's processes) tells it, at each scrape,
//! every pod's start, cumulative CPU (ms of CPU time) and working set.

use std::collections::BTreeMap;

use super::pods::PodMetric;
use super::spec::Millis;
use super::triggers::pipeline::{FIRST_SCRAPE, FRESH_CONTAINER, RESOLUTION};

/// One pod at a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodUsage {
    /// The pod's identity (a replica id).
    pub id: u32,
    /// When its container started, ms; `None` while Pending.
    pub started_at: Option<Millis>,
    /// CPU time used since it started, ms.
    pub cpu_ms: u64,
    /// Working set, bytes.
    pub memory_bytes: i64,
}

#[derive(Debug, Clone, Default)]
struct Scrapes {
    started_at: Option<Millis>,
    /// (at, cumulative CPU ms) of the last two scrapes, the older first.
    points: Vec<(Millis, u64)>,
    memory_bytes: Option<i64>,
}

/// metrics-server's store.
#[derive(Debug, Clone, Default)]
pub struct MetricsServer {
    pods: BTreeMap<u32, Scrapes>,
    next: Option<Millis>,
}

impl MetricsServer {
    pub fn new() -> Self {
        Self::default()
    }

    /// When the next scrape is due.
    pub fn next_scrape(&self) -> Millis {
        self.next.unwrap_or(FIRST_SCRAPE)
    }

    /// A scrape at `at` of the pods now running (those not listed are gone).
    pub fn scrape(&mut self, at: Millis, pods: impl IntoIterator<Item = PodUsage>) {
        let mut seen = BTreeMap::new();
        for pod in pods {
            let mut s = self.pods.remove(&pod.id).unwrap_or_default();
            if s.started_at != pod.started_at {
                s = Scrapes {
                    started_at: pod.started_at,
                    ..Scrapes::default()
                };
            }
            if let Some(started) = pod.started_at {
                if s.points.is_empty() && at >= started + FRESH_CONTAINER {
                    s.points.push((started, 0));
                }
                s.points.push((at, pod.cpu_ms));
                if s.points.len() > 2 {
                    s.points.remove(0);
                }
                s.memory_bytes = Some(pod.memory_bytes);
            }
            seen.insert(pod.id, s);
        }
        self.pods = seen;
        self.next = Some(at + RESOLUTION);
    }

    /// What the HPA reads for the pods `ids` (the target's pods now, in order): a pod
    /// metrics-server never read has no reading.
    pub fn readings(&self, ids: impl IntoIterator<Item = (u32, Option<Millis>)>) -> Vec<PodMetric> {
        ids.into_iter()
            .map(|(id, started_at)| {
                let s = self.pods.get(&id).filter(|s| s.started_at == started_at);
                let window = s.and_then(|s| match s.points.as_slice() {
                    [(t0, c0), (t1, c1)] if t1 > t0 => {
                        let milli = (c1.saturating_sub(*c0) * 1000 / (t1 - t0)) as i64;
                        Some((milli, *t1, t1 - t0))
                    }
                    _ => None,
                });
                PodMetric {
                    started_at,
                    ready_since: started_at,
                    cpu_milli: window.map(|w| w.0),
                    memory_bytes: window.and(s.and_then(|s| s.memory_bytes)),
                    at: window.map_or(0, |w| w.1),
                    window: window.map_or(RESOLUTION, |w| w.2),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(id: u32, started: Millis, cpu_ms: u64) -> PodUsage {
        PodUsage {
            id,
            started_at: Some(started),
            cpu_ms,
            memory_bytes: 40 << 20,
        }
    }

    /// metrics-server pkg/storage/pod.go: the CPU rate between the last two scrapes; a pod
    /// read once is served only if it started 10 s or more before that scrape.
    #[test]
    fn cpu_is_the_rate_between_the_last_two_scrapes() {
        let mut ms = MetricsServer::new();
        assert_eq!(ms.next_scrape(), FIRST_SCRAPE);
        ms.scrape(7_000, [usage(1, 0, 700), usage(2, 2_000, 100)]);
        let r = ms.readings([(1, Some(0)), (2, Some(2_000))]);
        assert_eq!(r[0].cpu_milli, None, "started 7 s before its first scrape");
        assert_eq!(r[1].cpu_milli, None);
        ms.scrape(22_000, [usage(1, 0, 3_700), usage(2, 2_000, 100)]);
        let r = ms.readings([(1, Some(0)), (2, Some(2_000)), (3, None)]);
        assert_eq!(
            (r[0].cpu_milli, r[0].at, r[0].window),
            (Some(200), 22_000, 15_000)
        );
        assert_eq!(r[1].cpu_milli, Some(0));
        assert_eq!(r[2].cpu_milli, None, "never scraped: missing");
        let mut ms = MetricsServer::new();
        ms.scrape(12_000, [usage(5, 0, 1_200)]);
        assert_eq!(
            ms.readings([(5, Some(0))])[0].cpu_milli,
            Some(100),
            "12 s old at its first scrape: read against its start"
        );
    }
}
