//! Scale churn on Tansu: the consumer group is resized 1 -> 5 -> 2 -> 4 -> 1 -> 3 while the
//! producer sends every 20 ms, replicas being removed with SIGTERM (and, in the second
//! run, partly with SIGKILL). The producer's ledger of delivered events is compared with
//! the consumers' ledgers of processed ones.

use std::collections::BTreeMap;
use std::time::Duration;

use common::ledger::{read_all, Entry};
use harness::group::{delivered, wait_until_consumed, Setup};
use harness::{assignment, App};
use nix::sys::signal::Signal;

/// Never down to 0: on Tansu, members joining a group that every member had left cleanly
/// waited over a minute for an assignment in 3 of 6 runs (a broker bug, not ours: the
/// same consumers rejoin at once on the mock cluster, see the lab's replays).
const SCHEDULE: [usize; 6] = [1, 5, 2, 4, 1, 3];
const STEP: Duration = Duration::from_secs(10);
const PERIOD_MS: u64 = 20;
/// The consumer's default commit interval.
const COMMIT_INTERVAL_MS: u64 = 1000;

struct Churn {
    delivered: usize,
    duplicates: usize,
    /// The most duplicates the SIGKILLs can explain (0 without SIGKILL).
    duplicate_bound: usize,
    kills: usize,
    /// Longest and 99th-percentile stall of a partition that kept its owner, ms.
    pause_max_ms: u64,
    pause_p99_ms: u64,
}

/// Runs the schedule; `kill(n)` says whether the n-th removal is a SIGKILL.
fn churn(kill: impl Fn(usize) -> bool) -> Churn {
    let setup = Setup::start();
    let mut producer = setup.producer(PERIOD_MS);
    let mut consumers: Vec<App> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let (mut removals, mut kills, mut duplicate_bound) = (0, 0, 0);
    let rate_per_partition = 1000.0 / PERIOD_MS as f64 / 10.0;
    for target in SCHEDULE {
        while consumers.len() < target {
            let name = format!("c{}", names.len() + 1);
            consumers.push(setup.consumer(&name));
            names.push(name);
        }
        while consumers.len() > target {
            let mut leaving = consumers.pop().expect("a consumer to remove");
            removals += 1;
            if kill(removals) {
                // What it processed since its last commit is processed again by the
                // partitions' next owner: at most one commit interval of its partitions'
                // events, plus the one in flight (20 % margin for timer and commit latency).
                let owned = assignment(&leaving).len() as f64;
                duplicate_bound += (rate_per_partition * owned * COMMIT_INTERVAL_MS as f64 / 1000.0
                    * 1.2)
                    .ceil() as usize
                    + 1;
                kills += 1;
                leaving.signal(Signal::SIGKILL);
                leaving.wait_exit(Duration::from_secs(5));
            } else {
                let (status, took) = leaving.terminate(Duration::from_secs(20));
                assert!(status.success(), "{} exited {status:?}", leaving.name);
                assert!(
                    took < Duration::from_secs(12),
                    "{} drained in {took:?}",
                    leaving.name
                );
            }
        }
        std::thread::sleep(STEP);
    }
    assert!(producer.terminate(Duration::from_secs(15)).0.success());
    let delivered_seqs = delivered(&setup.ledger("producer"));
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    // Every delivered event consumed (lost = 0), or this panics naming the wait.
    let counts = wait_until_consumed(&setup, &name_refs, &delivered_seqs);
    let duplicates = counts.values().map(|n| n - 1).sum();
    let (pause_max_ms, pause_p99_ms) = pauses(
        &setup.consumed(&name_refs),
        &read_all([setup.ledger("producer")]).unwrap(),
    );
    Churn {
        delivered: delivered_seqs.len(),
        duplicates,
        duplicate_bound,
        kills,
        pause_max_ms,
        pause_p99_ms,
    }
}

/// Stalls of partitions that did not change owner: for consecutive events of a partition
/// processed by the same replica, how much longer the consumer took between them than
/// the producer did (ms).
fn pauses(consumed: &[Entry], produced: &[Entry]) -> (u64, u64) {
    let delivered_at: BTreeMap<u64, u64> = produced.iter().map(|e| (e.seq, e.at)).collect();
    let mut by_partition: BTreeMap<i32, Vec<&Entry>> = BTreeMap::new();
    for e in consumed {
        by_partition.entry(e.partition).or_default().push(e);
    }
    let mut stalls: Vec<u64> = Vec::new();
    for entries in by_partition.values_mut() {
        entries.sort_by_key(|e| (e.offset, e.at));
        for pair in entries.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.by != b.by || b.offset != a.offset + 1 {
                continue;
            }
            let produced_gap = delivered_at
                .get(&b.seq)
                .zip(delivered_at.get(&a.seq))
                .map_or(0, |(b, a)| b.saturating_sub(*a));
            stalls.push((b.at.saturating_sub(a.at)).saturating_sub(produced_gap));
        }
    }
    stalls.sort_unstable();
    let max = stalls.last().copied().unwrap_or(0);
    let p99 = stalls.get(stalls.len() * 99 / 100).copied().unwrap_or(0);
    (max, p99)
}

/// Both runs in one test, one after the other (side by side they load two cores with a
/// dozen processes).
#[test]
fn churn_loses_nothing_sigterm_duplicates_nothing_sigkill_at_most_one_commit_interval() {
    let r = churn(|_| false);
    eprintln!(
        "SIGTERM churn {SCHEDULE:?}: {} delivered, lost 0, {} duplicates; partitions that kept their owner stalled at most {} ms (p99 {} ms)",
        r.delivered, r.duplicates, r.pause_max_ms, r.pause_p99_ms
    );
    assert!(r.delivered >= 2500, "about 60 s at 20 ms: {}", r.delivered);
    assert_eq!(r.duplicates, 0, "SIGTERM commits before leaving");

    // Every other removal is a SIGKILL.
    let r = churn(|n| n % 2 == 1);
    eprintln!(
        "SIGKILL churn {SCHEDULE:?}: {} delivered, lost 0, {} duplicates after {} kills (bound {}); stalls of unmoved partitions max {} ms (p99 {} ms)",
        r.delivered, r.duplicates, r.kills, r.duplicate_bound, r.pause_max_ms, r.pause_p99_ms
    );
    assert!(r.kills >= 3, "kills: {}", r.kills);
    assert!(
        r.duplicates <= r.duplicate_bound,
        "{} duplicates > bound {}",
        r.duplicates,
        r.duplicate_bound
    );
}
