//! k8s/monitoring holds true: every query of the Grafana dashboard is in the rules file
//! `promtool check rules` parses (scripts/check-manifests), the PodMonitors scrape the port
//! the Deployments name, and every metric a query reads is exported: by the producer or
//! the consumer (read from their `GET /metrics` while they run on the mock cluster), or by
//! KEDA or kube-state-metrics (names checked against their sources, listed below).

use std::collections::BTreeSet;
use std::time::Duration;

use harness::{start_consumer, try_wait_for, unique, App, Binary, MockBroker};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use serde_json::Value;

const MONITORING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../k8s/monitoring");

/// Metrics the dashboard reads from other exporters, with where each name is defined.
const EXTERNAL: &[(&str, &str)] = &[
    (
        "keda_scaler_metrics_value",
        "kedacore/keda v2.20.2 pkg/metricscollector/prommetrics.go (namespace keda, subsystem scaler)",
    ),
    (
        "kube_horizontalpodautoscaler_status_desired_replicas",
        "kube-state-metrics docs/metrics/workload/horizontalpodautoscaler-metrics.md",
    ),
    (
        "kube_deployment_status_replicas_available",
        "kube-state-metrics docs/metrics/workload/deployment-metrics.md",
    ),
];

/// PromQL words that are neither functions nor metrics.
const KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "and",
    "or",
    "unless",
];

/// The metric names an expression selects: identifiers outside `{...}`, `[...]` and
/// strings that are not functions (followed by `(`), keywords, or grouping labels.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    let mut skip_group = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' | '[' | '"' | '\'' => {
                let close = match c {
                    '{' => '}',
                    '[' => ']',
                    q => q,
                };
                i += 1;
                while i < chars.len() && chars[i] != close {
                    if chars[i] == '"' && close == '}' {
                        i += 1;
                        while i < chars.len() && chars[i] != '"' {
                            i += 1;
                        }
                    }
                    i += 1;
                }
                i += 1;
            }
            '(' if skip_group => {
                while i < chars.len() && chars[i] != ')' {
                    i += 1;
                }
                skip_group = false;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i]))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let rest: String = chars[i..].iter().collect();
                let rest = rest.trim_start();
                // An aggregation reads `sum by (label) (...)` as well as `sum(...)`.
                let call = rest.starts_with('(')
                    || rest.starts_with("by ")
                    || rest.starts_with("by(")
                    || rest.starts_with("without");
                if matches!(
                    word.as_str(),
                    "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                ) {
                    skip_group = true;
                } else if !call && !KEYWORDS.contains(&word.as_str()) {
                    names.insert(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[test]
fn metric_names_are_found_in_promql() {
    assert_eq!(
        metric_names(r#"max by (topic, partition) (consumer_lag{topic="event"})"#),
        BTreeSet::from(["consumer_lag".to_owned()])
    );
    assert_eq!(
        metric_names(r#"sum(rate(a_total{x="}{"}[1m])) / ignoring (pod) b + count(c)"#),
        BTreeSet::from(["a_total".into(), "b".into(), "c".into()])
    );
}

fn dashboard_queries() -> Vec<String> {
    let text = std::fs::read_to_string(format!("{MONITORING}/dashboard.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("dashboard.json is JSON");
    dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| {
            t["expr"]
                .as_str()
                .expect("every target has an expr")
                .to_owned()
        })
        .collect()
}

#[test]
fn the_rules_file_holds_exactly_the_dashboard_queries() {
    let text = std::fs::read_to_string(format!("{MONITORING}/queries.rules.yaml")).unwrap();
    let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let in_rules: Vec<String> = rules["groups"][0]["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| r["expr"].as_str().unwrap().to_owned())
        .collect();
    let queries = dashboard_queries();
    assert!(queries.len() >= 6, "{queries:?}");
    assert_eq!(
        in_rules, queries,
        "queries.rules.yaml drifted from dashboard.json"
    );
}

#[test]
fn pod_monitors_scrape_the_port_the_deployments_name() {
    let monitors = std::fs::read_to_string(format!("{MONITORING}/pod-monitors.yaml")).unwrap();
    for doc in monitors.split("\n---\n") {
        let monitor: serde_yaml_ng::Value = serde_yaml_ng::from_str(doc).unwrap();
        let app = monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
            .as_str()
            .unwrap()
            .to_owned();
        let dir = if app == "kafka-consumer" {
            "consumer"
        } else {
            "producer"
        };
        let path = format!("{MONITORING}/../{dir}/deployment.yaml");
        let deployment: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let template = &deployment["spec"]["template"];
        assert_eq!(
            template["metadata"]["labels"]["app.kubernetes.io/name"].as_str(),
            Some(app.as_str())
        );
        let ports: Vec<&str> = template["spec"]["containers"][0]["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        let endpoint = &monitor["spec"]["podMetricsEndpoints"][0];
        assert!(
            ports.contains(&endpoint["port"].as_str().unwrap()),
            "{app}: {ports:?}"
        );
        assert_eq!(endpoint["path"].as_str(), Some("/metrics"));
    }
}

/// Metric families in a Prometheus text exposition (`# TYPE name kind` lines).
fn families(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_metric_the_dashboard_reads_is_exported() {
    let broker = MockBroker::start().unwrap();
    let topic = unique("event");
    broker.create_topic(&topic, 2).unwrap();
    // One malformed record, so that events_malformed_total exists.
    let raw: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .unwrap();
    raw.send(
        BaseRecord::<str, [u8]>::to(&topic)
            .key("k")
            .payload(b"not json"),
    )
    .unwrap();
    raw.flush(Duration::from_secs(10)).unwrap();
    let producer = App::start(
        Binary::Producer,
        "producer",
        &[
            ("kafka.brokers.host", broker.bootstrap().to_owned()),
            ("kafka.topic", topic.clone()),
            ("kafka.time.period", "20".into()),
        ],
    );
    let ledger = std::env::temp_dir().join(format!("{}.jsonl", unique("ledger")));
    let consumer = start_consumer(
        "consumer",
        broker.bootstrap(),
        &topic,
        &unique("group"),
        &ledger,
    );

    let wanted: BTreeSet<String> = dashboard_queries()
        .iter()
        .flat_map(|q| metric_names(q))
        .collect();
    let ours: BTreeSet<String> = wanted
        .iter()
        .filter(|m| !EXTERNAL.iter().any(|(name, _)| name == *m))
        .cloned()
        .collect();
    assert!(ours.len() >= 6, "{ours:?}");
    // consumer_lag appears with librdkafka's first statistics (every 5 s).
    let scrape = || -> BTreeSet<String> {
        families(&producer.get_text("/metrics"))
            .union(&families(&consumer.get_text("/metrics")))
            .cloned()
            .collect()
    };
    let waited = try_wait_for(
        "every metric the dashboard reads",
        Duration::from_millis(200),
        Duration::from_secs(30),
        || ours.is_subset(&scrape()).then_some(()),
    );
    let exported = scrape();
    let missing: Vec<&String> = ours.difference(&exported).collect();
    assert!(
        waited.is_ok() && missing.is_empty(),
        "the dashboard reads {missing:?}, which neither binary exports (they export {exported:?})"
    );
    eprintln!("exported: {exported:?}");
    for (name, source) in EXTERNAL {
        assert!(
            name.starts_with("keda_") || name.starts_with("kube_"),
            "{name} ({source})"
        );
    }
}
