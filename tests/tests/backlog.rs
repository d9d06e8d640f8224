//! A replica catching up on a backlog stays inside the memory its Deployment gives it
//! (`k8s/consumer/deployment.yaml`): librdkafka prefetches at most
//! `consumer::PREFETCH_KIB` of records (`queued.max.messages.kbytes`). With librdkafka's
//! default bound (64 MiB) this backlog took the consumer to 57-73 MiB; with the bound but
//! mimalloc 3 (huge pages allowed) to 53-61 MiB in a release build and 60 MiB in a debug
//! one; with mimalloc 2 without huge pages, 26-29 MiB. Mock cluster, producer and
//! consumer binaries.

use std::path::Path;
use std::time::Duration;

use harness::{unique, wait_for, App, Binary, MockBroker};
use serde_json::json;

/// About 36 MiB of event payloads, spread over the manifests' 10 partitions (the mock
/// cluster keeps at most 5 MiB or 100000 records per partition and drops the oldest
/// beyond: `rd_kafka_mock_partition_new` in librdkafka's rdkafka_mock.c).
const BACKLOG: u64 = 300_000;

/// `resources.limits.memory` of the consumer's container, in bytes.
fn memory_limit(manifest: &Path) -> u64 {
    let text = std::fs::read_to_string(manifest).unwrap();
    let deployment: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let limit = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        ["memory"]
        .as_str()
        .expect("a memory limit on the consumer's container");
    let mebibytes: u64 = limit
        .strip_suffix("Mi")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("memory limit {limit:?}: expected <n>Mi"));
    mebibytes * 1024 * 1024
}

/// Peak resident memory of a process (VmHWM), bytes.
fn peak_resident(app: &App) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", app.pid())).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kib * 1024
}

#[test]
fn a_consumer_drains_a_backlog_inside_its_memory_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let limit = memory_limit(&root.join("k8s/consumer/deployment.yaml"));
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 10).unwrap();

    let producer = App::start(
        Binary::Producer,
        "producer",
        &[
            ("kafka.brokers.host", broker.bootstrap().to_owned()),
            ("kafka.topic", topic.clone()),
            ("kafka.time.period", "3600000".into()),
        ],
    );
    let (status, _) = producer.send_json("POST", "/burst", &json!({ "count": BACKLOG }));
    assert_eq!(status, 202);
    let delivered = wait_for(
        "the backlog to be delivered",
        Duration::from_secs(60),
        || {
            let (_, stats) = producer.get("/stats");
            let done = stats["bursting"] == false && stats["in_flight"] == 0;
            done.then(|| stats["delivered"].as_u64().unwrap())
        },
    );
    assert!(delivered >= BACKLOG, "delivered {delivered}");

    let consumer = App::start(
        Binary::Consumer,
        "consumer",
        &[
            ("kafka.brokers", broker.bootstrap().to_owned()),
            ("kafka.topics", topic.clone()),
            ("kafka.groupId", unique("group")),
            ("processing.time", "0".into()),
        ],
    );
    wait_for(
        "the backlog to be consumed",
        Duration::from_secs(120),
        || {
            let (_, stats) = consumer.get("/stats");
            (stats["consumed"].as_u64() >= Some(delivered)).then_some(())
        },
    );
    let peak = peak_resident(&consumer);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "peak resident {:.1} MiB for {delivered} events; limit {:.0} MiB",
        mib(peak),
        mib(limit)
    );
    assert!(
        peak < limit * 3 / 4,
        "peak resident {:.1} MiB: over 3/4 of the Deployment's {:.0} MiB limit",
        mib(peak),
        mib(limit)
    );
}
