//! The Strimzi resources on their own: the API version Strimzi 1.x serves, a Kafka version
//! the pinned release supports, a node pool for every Kafka, and a `strimzi.io/cluster`
//! label on pools and topics that names a Kafka beside them.

use std::collections::BTreeMap;

use super::{Checker, Manifests};
use crate::Document;
use lab_model::rules::RuleId;

pub(super) fn check(c: &mut Checker, m: &Manifests) {
    check_api_versions(c, m);
    if m.kafkas.is_empty() {
        let why = "no Kafka in these manifests (installed separately, or managed)";
        for id in [RuleId::StrimziKafkaVersion, RuleId::StrimziNodePool] {
            c.skip(id, why);
        }
        if m.pools.is_empty() && m.topics.is_empty() {
            c.skip(RuleId::StrimziClusterLabel, why);
        }
    }
    check_kafkas(c, m);
    check_cluster_labels(c, m);
}

fn check_api_versions(c: &mut Checker, m: &Manifests) {
    let versions = m
        .kafkas
        .iter()
        .map(|(d, k)| (*d, &k.api_version))
        .chain(m.pools.iter().map(|(d, p)| (*d, &p.api_version)))
        .chain(m.topics.iter().map(|(d, t)| (*d, &t.api_version)));
    for (doc, api) in versions {
        if api != "kafka.strimzi.io/v1" {
            c.find(
                doc,
                "apiVersion",
                RuleId::StrimziApiVersion,
                format!("{api} is not served by Strimzi 1.x (only kafka.strimzi.io/v1)"),
            );
        }
    }
}

/// Each Kafka: a version the pinned Strimzi supports, and a node pool of its own.
fn check_kafkas(c: &mut Checker, m: &Manifests) {
    let strimzi = c.context.strimzi.clone();
    for (doc, kafka) in &m.kafkas {
        match (lab_model::pins::strimzi_release(&strimzi), &kafka.spec.kafka.version) {
            (None, _) => c.skip(
                RuleId::StrimziKafkaVersion,
                format!("Strimzi {strimzi} is not in lab/model/data/strimzi-kafka-versions.yaml"),
            ),
            (Some(release), Some(version)) if !release.supported.contains(version) => c.find(
                doc,
                "spec.kafka.version",
                RuleId::StrimziKafkaVersion,
                format!(
                    "Kafka {version} is not supported by Strimzi {strimzi} (it supports {}; source: {})",
                    release.supported.join(", "),
                    lab_model::pins::strimzi_source().replace("<release>", &strimzi)
                ),
            ),
            _ => {}
        }
        let name = &kafka.metadata.name;
        let own = |labels: &BTreeMap<String, String>, pool: &Document| {
            labels.get("strimzi.io/cluster") == Some(name) && pool.namespace() == doc.namespace()
        };
        if !m.pools.iter().any(|(d, p)| own(&p.metadata.labels, d)) {
            c.find(
                doc,
                "metadata.name",
                RuleId::StrimziNodePool,
                format!("no KafkaNodePool labelled strimzi.io/cluster: {name} in the Kafka's namespace: Strimzi 1.x runs no broker"),
            );
        }
    }
}

/// Pools and topics name, by their `strimzi.io/cluster` label, a Kafka in their namespace.
fn check_cluster_labels(c: &mut Checker, m: &Manifests) {
    if m.kafkas.is_empty() {
        return;
    }
    let labelled = m
        .pools
        .iter()
        .map(|(d, p)| (*d, &p.metadata.labels))
        .chain(m.topics.iter().map(|(d, t)| (*d, &t.metadata.labels)));
    for (doc, labels) in labelled {
        let cluster = labels.get("strimzi.io/cluster");
        let matches = m
            .kafkas
            .iter()
            .any(|(kd, k)| Some(&k.metadata.name) == cluster && kd.namespace() == doc.namespace());
        if !matches {
            c.find(
                doc,
                "metadata.labels[strimzi.io/cluster]",
                RuleId::StrimziClusterLabel,
                format!(
                    "label strimzi.io/cluster is {cluster:?}, which is no Kafka in namespace {}: no operator reconciles it",
                    doc.namespace().unwrap_or("(unset)")
                ),
            );
        }
    }
}
