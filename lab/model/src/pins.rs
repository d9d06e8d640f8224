//! The versions the project is pinned to, compiled in from the repository's data files:
//! `k8s/versions.env` (Strimzi, Kafka, KEDA, Kubernetes, kind; each with where it was read)
//! and `lab/model/data/strimzi-kafka-versions.yaml` (which Kafka versions each Strimzi release
//! supports). The emulator follows the KEDA and Kubernetes versions named here, and
//! `lab check-manifests` checks a Kafka resource's version against the Strimzi release.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

const VERSIONS_ENV: &str = include_str!("../../../k8s/versions.env");
const STRIMZI_KAFKA_VERSIONS: &str = include_str!("../data/strimzi-kafka-versions.yaml");

/// `k8s/versions.env`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    pub strimzi: String,
    pub kafka: String,
    pub keda: String,
    pub keda_chart: String,
    /// Oldest and newest Kubernetes minor version both KEDA and Strimzi support.
    pub kubernetes_min: String,
    pub kubernetes_max: String,
    pub kind: String,
    pub kind_node_image: String,
}

/// One Strimzi release's row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StrimziRelease {
    pub date: String,
    pub default: String,
    pub supported: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct StrimziTable {
    source: String,
    releases: BTreeMap<String, StrimziRelease>,
}

/// The pins (parsed once; the files are part of the binary, so a bad file is a bug that
/// the unit tests below catch).
pub fn pins() -> &'static Pins {
    static PINS: OnceLock<Pins> = OnceLock::new();
    PINS.get_or_init(|| parse_env(VERSIONS_ENV).expect("k8s/versions.env is well-formed"))
}

/// The Strimzi release `version`'s supported Kafka versions, if the table has it.
pub fn strimzi_release(version: &str) -> Option<&'static StrimziRelease> {
    strimzi_table().releases.get(version)
}

/// Where the Strimzi table was read, with `<release>` standing for the tag.
pub fn strimzi_source() -> &'static str {
    &strimzi_table().source
}

fn strimzi_table() -> &'static StrimziTable {
    static TABLE: OnceLock<StrimziTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_yaml_ng::from_str(STRIMZI_KAFKA_VERSIONS)
            .expect("lab/model/data/strimzi-kafka-versions.yaml is well-formed")
    })
}

/// `KEY=value` lines; `#` starts a comment; blank lines are skipped.
fn parse_env(text: &str) -> Result<Pins, String> {
    let mut values = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: expected KEY=value", n + 1))?;
        values.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    let mut take = |key: &str| {
        values
            .remove(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{key} is missing"))
    };
    Ok(Pins {
        strimzi: take("STRIMZI_VERSION")?,
        kafka: take("KAFKA_VERSION")?,
        keda: take("KEDA_VERSION")?,
        keda_chart: take("KEDA_CHART_VERSION")?,
        kubernetes_min: take("KUBERNETES_MIN")?,
        kubernetes_max: take("KUBERNETES_MAX")?,
        kind: take("KIND_VERSION")?,
        kind_node_image: take("KIND_NODE_IMAGE")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pins_parse_and_agree_with_each_other() {
        let p = pins();
        assert_eq!((p.strimzi.as_str(), p.keda.as_str()), ("1.2.0", "2.20.2"));
        let release = strimzi_release(&p.strimzi).expect("the pinned Strimzi is in the table");
        assert!(
            release.supported.contains(&p.kafka),
            "the pinned Kafka {} is supported by Strimzi {}",
            p.kafka,
            p.strimzi
        );
        assert!(
            p.kind_node_image
                .starts_with(&format!("kindest/node:v{}.", p.kubernetes_max)),
            "kind runs the newest Kubernetes both support"
        );
    }

    #[test]
    fn the_strimzi_table_holds_what_the_issue_quoted() {
        let supported = |r: &str| strimzi_release(r).unwrap().supported.join(" ");
        assert_eq!(supported("0.49.1"), "4.0.0 4.0.1 4.1.0 4.1.1");
        assert_eq!(supported("0.51.0"), "4.1.0 4.1.1 4.2.0");
        assert_eq!(supported("1.1.0"), "4.2.0 4.2.1 4.3.0");
        assert_eq!(supported("1.2.0"), "4.2.0 4.2.1 4.3.0 4.3.1");
        assert!(strimzi_source().contains("<release>"));
    }

    #[test]
    fn env_errors_name_the_line_or_key() {
        assert_eq!(
            parse_env("nonsense").unwrap_err(),
            "line 1: expected KEY=value"
        );
        assert_eq!(
            parse_env("STRIMZI_VERSION=1 # c").unwrap_err(),
            "KAFKA_VERSION is missing"
        );
    }
}
