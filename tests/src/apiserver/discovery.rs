//! Discovery as a 1.35 API server serves it in the legacy (plain JSON) form, which kubectl
//! 1.32 and kube-rs fall back to: `/version`, `/api`, `/apis` and each group version's
//! `APIResourceList`, for the resources the lab reads.

use serde_json::{json, Value};

/// One resource a group version serves: plural, kind, short names.
struct Served {
    plural: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
}

const fn r(plural: &'static str, kind: &'static str, short: &'static [&'static str]) -> Served {
    Served {
        plural,
        kind,
        namespaced: true,
        short,
    }
}

/// Every group version the stand-in serves, with its resources.
fn groups() -> Vec<(&'static str, &'static str, Vec<Served>)> {
    vec![
        (
            "",
            "v1",
            vec![
                r("events", "Event", &["ev"]),
                r("secrets", "Secret", &[]),
                r("configmaps", "ConfigMap", &["cm"]),
            ],
        ),
        (
            "apps",
            "v1",
            vec![
                r("deployments", "Deployment", &["deploy"]),
                r("deployments/scale", "Scale", &[]),
                r("statefulsets", "StatefulSet", &["sts"]),
            ],
        ),
        (
            "autoscaling",
            "v2",
            vec![r(
                "horizontalpodautoscalers",
                "HorizontalPodAutoscaler",
                &["hpa"],
            )],
        ),
        ("events.k8s.io", "v1", vec![r("events", "Event", &["ev"])]),
        (
            "keda.sh",
            "v1alpha1",
            vec![
                r("scaledobjects", "ScaledObject", &["so"]),
                r("scaledobjects/status", "ScaledObject", &[]),
                r(
                    "triggerauthentications",
                    "TriggerAuthentication",
                    &["ta", "triggerauth"],
                ),
                Served {
                    namespaced: false,
                    ..r(
                        "clustertriggerauthentications",
                        "ClusterTriggerAuthentication",
                        &["cta", "clustertriggerauth"],
                    )
                },
            ],
        ),
        // custom-metrics-apiserver lists one placeholder resource, not the metric names.
        (
            "external.metrics.k8s.io",
            "v1beta1",
            vec![r("externalmetrics", "ExternalMetricValueList", &[])],
        ),
    ]
}

/// The kind of a resource's objects (for an empty list's kind).
pub fn kind_of(plural: &str) -> &'static str {
    groups()
        .into_iter()
        .flat_map(|(_, _, resources)| resources)
        .find(|s| s.plural == plural)
        .map_or("Object", |s| s.kind)
}

/// The discovery document at `path`, if it is one; the external metrics group only while
/// it is served.
pub fn discovery(path: &str, metrics_served: bool) -> Option<Value> {
    let groups: Vec<_> = groups()
        .into_iter()
        .filter(|(g, _, _)| metrics_served || *g != "external.metrics.k8s.io")
        .collect();
    match path.trim_end_matches('/') {
        "/version" => Some(json!({
            "major": "1", "minor": "35", "gitVersion": "v1.35.0",
            "gitCommit": "stand-in", "gitTreeState": "clean", "buildDate": "2026-12-01T00:00:00Z",
            "goVersion": "go1.25.0", "compiler": "gc", "platform": "linux/amd64",
        })),
        "/api" => Some(json!({
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
        })),
        "/apis" => Some(json!({
            "kind": "APIGroupList", "apiVersion": "v1",
            "groups": groups.iter().filter(|(g, _, _)| !g.is_empty()).map(|(g, v, _)| {
                let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
                json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
            }).collect::<Vec<_>>(),
        })),
        path => {
            let (group, version, resources) =
                groups.into_iter().find(|(g, v, _)| match g.is_empty() {
                    true => path == format!("/api/{v}"),
                    false => path == format!("/apis/{g}/{v}"),
                })?;
            let group_version = if group.is_empty() {
                version.to_owned()
            } else {
                format!("{group}/{version}")
            };
            Some(json!({
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                "resources": resources.iter().map(|s| json!({
                    "name": s.plural,
                    "singularName": if s.plural.contains('/') { String::new() } else { s.kind.to_ascii_lowercase() },
                    "namespaced": s.namespaced,
                    "kind": s.kind,
                    "verbs": if s.plural.contains('/') { json!(["get"]) } else { json!(["get", "list", "watch"]) },
                    "shortNames": s.short,
                })).collect::<Vec<_>>(),
            }))
        }
    }
}
