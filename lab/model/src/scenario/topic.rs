//! The topic's partition count, from the repository's KafkaTopic manifest (the built-in
//! scenarios run on the manifests' topic).

use anyhow::Context as _;

/// The repository's KafkaTopic manifest, compiled in.
pub(super) const TOPIC_MANIFEST: &str = include_str!("../../../../k8s/kafka/topic.yaml");

/// `spec.partitions` of a KafkaTopic manifest (`shown` names it in errors).
pub fn manifest_partitions(text: &str, shown: &str) -> anyhow::Result<u32> {
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).with_context(|| shown.to_string())?;
    let partitions = doc
        .get("spec")
        .and_then(|s| s.get("partitions"))
        .and_then(serde_yaml_ng::Value::as_u64)
        .ok_or_else(|| anyhow::anyhow!("{shown}: no spec.partitions"))?;
    Ok(partitions as u32)
}
