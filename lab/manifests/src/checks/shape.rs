//! What the API server and the kubelet do with a Deployment on its own: its shape (the API
//! server refuses the rest) and how its images are pulled and built.

use serde_yaml_ng::Value;

use super::Checker;
use crate::apps::{image_name, pull_policy, Deployment};
use crate::Document;
use lab_model::rules::RuleId;

/// The project's images and the Dockerfile stage each is built from.
const IMAGES: &[(&str, &str)] = &[
    ("kafka-producer-callback", "producer"),
    ("kafka-consumer", "consumer"),
    ("keda-kafka-lab", "lab"),
];

pub(super) fn check_deployment(c: &mut Checker, doc: &Document) {
    let v = &doc.value;
    let api = v
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api != "apps/v1" {
        c.find(
            doc,
            "apiVersion",
            RuleId::DeploymentShape,
            format!("apiVersion {api:?} is not apps/v1"),
        );
    }
    let spec = v.get("spec");
    let selector = spec
        .and_then(|s| s.get("selector"))
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_mapping);
    let labels = spec
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_mapping);
    match (selector, labels) {
        (Some(selector), Some(labels)) if !selector.is_empty() => {
            for (key, value) in selector {
                if labels.get(key) != Some(value) {
                    c.find(
                        doc,
                        "spec.selector.matchLabels",
                        RuleId::DeploymentShape,
                        format!(
                            "selector {}={} does not match the pod template's labels: the API server refuses the Deployment",
                            key.as_str().unwrap_or("?"),
                            value.as_str().unwrap_or("?")
                        ),
                    );
                }
            }
        }
        _ => c.find(
            doc,
            "spec.selector",
            RuleId::DeploymentShape,
            "needs spec.selector.matchLabels and spec.template.metadata.labels".into(),
        ),
    }
    if let Some(replicas) = spec.and_then(|s| s.get("replicas")) {
        if !replicas.is_u64() {
            c.find(
                doc,
                "spec.replicas",
                RuleId::DeploymentShape,
                format!(
                    "replicas must be a whole number, not {}",
                    describe(replicas)
                ),
            );
        }
    }
}

pub(super) fn check_images(c: &mut Checker, deployments: &[Deployment]) {
    for d in deployments {
        for (i, container) in d.containers().iter().enumerate() {
            let (policy, explicit) = pull_policy(container);
            if policy == "Always" {
                let image = container
                    .get("image")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let message = if explicit {
                    "imagePullPolicy: Always: every pod start pulls from the registry, so an image loaded with kind or minikube is never used".to_owned()
                } else {
                    format!("image {image:?} has no tag (or :latest), so Kubernetes pulls it Always: an image loaded with kind or minikube is never used")
                };
                c.find(
                    d.doc,
                    &format!("spec.template.spec.containers[{i}].imagePullPolicy"),
                    RuleId::ImagePullPolicy,
                    message,
                );
            }
        }
    }
    let Some(dockerfile) = c.context.dockerfile.clone() else {
        c.skip(RuleId::ImageDockerfileTarget, "no Dockerfile given");
        return;
    };
    for d in deployments {
        for image in d.images() {
            let Some((name, stage)) = IMAGES.iter().find(|(n, _)| image_name(image) == *n) else {
                continue;
            };
            let has_stage = dockerfile.lines().any(|l| {
                l.trim_start().to_ascii_uppercase().starts_with("FROM ")
                    && l.trim_end().ends_with(&format!(" AS {stage}"))
            });
            if !has_stage {
                c.find(
                    d.doc,
                    "spec.template.spec.containers[].image",
                    RuleId::ImageDockerfileTarget,
                    format!("the Dockerfile has no stage `AS {stage}` to build {name}"),
                );
            }
        }
    }
}

fn describe(v: &Value) -> String {
    serde_yaml_ng::to_string(v)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
