//! The replay's consumer pods as metrics-server reads them, for cpu and memory triggers:
//! each replica's consume loop runs on its own thread named `consume`
//! (consumer/src/lib.rs), and its CPU time is that thread's utime + stime in
//! `/proc/self/task/<tid>/stat` (clock ticks of USER_HZ, 100 on Linux); the process's
//! resident memory (`VmRSS` in `/proc/self/status`) is shared equally among the live
//! consume threads. They go through the emulator's metrics-server
//! ([`lab_model::emulator::pipeline`]) on its 15 s grid of scenario time.
//!
//! What differs from a cluster: a replica's librdkafka threads are not counted (their
//! names do not say which client they serve), threads are matched to pods by identity,
//! not by the Deployment's pod names, and a replica asked for whose thread has not
//! started yet is a Pending pod.

use std::collections::BTreeMap;

use lab_model::emulator::pipeline::{MetricsServer, PodUsage};
use lab_model::emulator::{Millis, PodMetric};

/// USER_HZ: the unit of /proc's utime and stime.
const TICKS_PER_S: u64 = 100;

/// One `consume` thread's CPU time, ms, from its /proc stat line.
fn cpu_ms(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces: fields count
    // from after its closing parenthesis; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks * 1000 / TICKS_PER_S)
}

/// The live `consume` threads of this process: (thread id, CPU ms).
pub fn consume_threads() -> Vec<(u32, u64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut out: Vec<(u32, u64)> = tasks
        .flatten()
        .filter_map(|t| {
            let tid: u32 = t.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(t.path().join("comm")).ok()?;
            if comm.trim_end() != "consume" {
                return None;
            }
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            Some((tid, cpu_ms(&stat)?))
        })
        .collect();
    out.sort_unstable();
    out
}

/// This process's resident memory, bytes.
fn resident_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// metrics-server over the replay's consume threads.
#[derive(Debug, Default)]
pub struct PodCpu {
    server: MetricsServer,
    /// When each thread was first seen, scenario ms.
    started: BTreeMap<u32, Millis>,
}

impl PodCpu {
    pub fn new() -> Self {
        Self::default()
    }

    /// Scrapes if a scrape is due at scenario time `now` (`speed`: scenario ms per wall
    /// ms, so that the rate comes out in cores of the real process).
    pub fn scrape_if_due(&mut self, now: Millis, speed: u64) {
        if now < self.server.next_scrape() {
            return;
        }
        let threads = consume_threads();
        let memory = resident_bytes() / threads.len().max(1) as i64;
        self.started
            .retain(|tid, _| threads.iter().any(|(t, _)| t == tid));
        let pods: Vec<PodUsage> = threads
            .iter()
            .map(|&(tid, cpu)| PodUsage {
                id: tid,
                started_at: Some(*self.started.entry(tid).or_insert(now)),
                cpu_ms: cpu * speed,
                memory_bytes: memory,
            })
            .collect();
        self.server.scrape(now, pods);
    }

    /// The target's pods: the live threads' readings, and a Pending pod for each replica
    /// of `replicas` without a thread yet.
    pub fn readings(&self, replicas: u32) -> Vec<PodMetric> {
        let mut pods = self
            .server
            .readings(self.started.iter().map(|(tid, at)| (*tid, Some(*at))));
        while (pods.len() as u32) < replicas {
            pods.push(PodMetric {
                started_at: None,
                ready_since: None,
                ..PodMetric::running(0, 0)
            });
        }
        pods
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread named `consume` that spins is read back from /proc with its CPU time.
    #[test]
    fn a_consume_thread_s_cpu_is_read_from_proc() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let spinning = std::thread::Builder::new()
            .name("consume".into())
            .spawn(move || {
                let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
                let mut x = 0u64;
                while std::time::Instant::now() < until {
                    x = x.wrapping_add(1);
                }
                let _ = rx.recv();
                x
            })
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        let threads = consume_threads();
        let ours = threads.iter().map(|(_, ms)| *ms).max().unwrap_or(0);
        assert!((200..=400).contains(&ours), "{threads:?}");
        let mut pods = PodCpu::new();
        pods.scrape_if_due(7_000, 1);
        assert_eq!(
            pods.readings(2).len(),
            2,
            "one live thread, one Pending pod"
        );
        tx.send(()).unwrap();
        spinning.join().unwrap();
    }

    #[test]
    fn stat_lines_with_spaces_in_the_name_are_read() {
        let stat = "4242 (consume x) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(cpu_ms(stat), Some(3000));
    }
}
