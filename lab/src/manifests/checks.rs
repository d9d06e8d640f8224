//! The checks themselves, in the order a cluster meets the objects.

mod auth;

use serde_yaml_ng::Value;

use super::apps::{image_name, pull_policy, Deployment, Setting};
use super::cluster::{resolve, Target};
use super::strimzi::{Kafka, KafkaNodePool, KafkaTopic};
use super::{Context, Document, Finding, Report};
use crate::keda::{self, model::ScaledObject, Severity};
use crate::rules::RuleId;

/// The project's images and the Dockerfile stage each is built from.
const IMAGES: &[(&str, &str)] = &[
    ("kafka-producer-callback", "producer"),
    ("kafka-consumer", "consumer"),
    ("keda-kafka-lab", "lab"),
];

struct Checker<'a> {
    context: &'a Context,
    report: Report,
}

impl Checker<'_> {
    fn find(&mut self, doc: &Document, field: &str, id: RuleId, message: String) {
        self.find_with(doc, field, id, message, None);
    }

    fn find_with(
        &mut self,
        doc: &Document,
        field: &str,
        id: RuleId,
        message: String,
        fix: Option<String>,
    ) {
        self.report.findings.push(Finding {
            file: doc.file.clone(),
            object: doc.object(),
            field: field.to_owned(),
            rule: id,
            message,
            fix: fix.unwrap_or_else(|| id.fix().to_owned()),
        });
    }

    fn skip(&mut self, id: RuleId, why: impl Into<String>) {
        let why = why.into();
        if !self
            .report
            .skipped
            .iter()
            .any(|(r, w)| *r == id && *w == why)
        {
            self.report.skipped.push((id, why));
        }
    }
}

/// A typed custom resource, or a finding naming the path of its first problem.
fn strict<T: serde::de::DeserializeOwned>(
    c: &mut Checker,
    doc: &Document,
    id: RuleId,
) -> Option<T> {
    match serde_path_to_error::deserialize(doc.value.clone()) {
        Ok(v) => Some(v),
        Err(e) => {
            c.find(doc, &e.path().to_string(), id, e.inner().to_string());
            None
        }
    }
}

pub(super) fn run(documents: &[Document], context: &Context) -> super::Report {
    let mut c = Checker {
        context,
        report: Report::default(),
    };
    let mut scaled_objects: Vec<(&Document, ScaledObject)> = Vec::new();
    let mut kafkas: Vec<(&Document, Kafka)> = Vec::new();
    let mut pools: Vec<(&Document, KafkaNodePool)> = Vec::new();
    let mut topics: Vec<(&Document, KafkaTopic)> = Vec::new();
    let mut deployments: Vec<Deployment> = Vec::new();
    for doc in documents {
        match doc.kind() {
            "ScaledObject" => {
                let checked = keda::check(&doc.value);
                for p in &checked.problems {
                    // KEDA's warnings (a key it ignores) are findings here: KEDA would
                    // say nothing, and the setting would do nothing.
                    let message = match p.severity {
                        Severity::Error => p.message.clone(),
                        Severity::Warning => format!("{} (KEDA accepts this silently)", p.message),
                    };
                    c.find(doc, &p.field, p.rule, message);
                }
                for p in &checked.not_emulated {
                    c.report.notes.push(Finding {
                        file: doc.file.clone(),
                        object: doc.object(),
                        field: p.field.clone(),
                        rule: p.rule,
                        message: p.message.clone(),
                        fix: p.rule.fix().to_owned(),
                    });
                }
                if let Ok(so) = keda::model::from_value(&doc.value) {
                    scaled_objects.push((doc, so));
                }
            }
            "Kafka" => kafkas.extend(strict(&mut c, doc, RuleId::StrimziSchema).map(|k| (doc, k))),
            "KafkaNodePool" => {
                pools.extend(strict(&mut c, doc, RuleId::StrimziSchema).map(|k| (doc, k)))
            }
            "KafkaTopic" => {
                topics.extend(strict(&mut c, doc, RuleId::StrimziSchema).map(|k| (doc, k)))
            }
            "Deployment" => {
                check_deployment_shape(&mut c, doc);
                deployments.push(Deployment { doc });
            }
            _ => {}
        }
    }
    let namespaces: Vec<&str> = documents.iter().filter_map(Document::namespace).collect();

    check_strimzi(&mut c, &kafkas, &pools, &topics);
    check_images(&mut c, &deployments);
    if scaled_objects.is_empty() && !documents.iter().any(|d| d.kind() == "ScaledObject") {
        c.report.findings.push(Finding {
            file: documents
                .first()
                .map_or_else(String::new, |d| d.file.clone()),
            object: "(manifests)".into(),
            field: "-".into(),
            rule: RuleId::NoScaledObject,
            message: "no ScaledObject: nothing scales".into(),
            fix: RuleId::NoScaledObject.fix().into(),
        });
    }
    for (doc, so) in &scaled_objects {
        check_scaled_object(&mut c, doc, so, &deployments, &kafkas, &topics, &namespaces);
    }

    // TLS, SASL and ACLs: what each client presents to the listener it reaches.
    let wiring = auth::Wiring::new(&mut c, documents, &kafkas);
    wiring.check_references(&mut c);
    for d in &deployments {
        wiring.check_app(&mut c, d);
    }
    for (doc, so) in &scaled_objects {
        for (i, t) in so.spec.triggers.iter().enumerate() {
            if matches!(t.kind.as_str(), "kafka" | "apache-kafka") {
                wiring.check_trigger(&mut c, doc, so, i);
            }
        }
    }
    c.report
}

fn check_deployment_shape(c: &mut Checker, doc: &Document) {
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

fn check_strimzi(
    c: &mut Checker,
    kafkas: &[(&Document, Kafka)],
    pools: &[(&Document, KafkaNodePool)],
    topics: &[(&Document, KafkaTopic)],
) {
    for (doc, api) in kafkas
        .iter()
        .map(|(d, k)| (*d, &k.api_version))
        .chain(pools.iter().map(|(d, p)| (*d, &p.api_version)))
        .chain(topics.iter().map(|(d, t)| (*d, &t.api_version)))
    {
        if api != "kafka.strimzi.io/v1" {
            c.find(
                doc,
                "apiVersion",
                RuleId::StrimziApiVersion,
                format!("{api} is not served by Strimzi 1.x (only kafka.strimzi.io/v1)"),
            );
        }
    }
    if kafkas.is_empty() {
        let why = "no Kafka in these manifests (installed separately, or managed)";
        for id in [RuleId::StrimziKafkaVersion, RuleId::StrimziNodePool] {
            c.skip(id, why);
        }
        if pools.is_empty() && topics.is_empty() {
            c.skip(RuleId::StrimziClusterLabel, why);
        }
    }
    let strimzi = c.context.strimzi.clone();
    for (doc, kafka) in kafkas {
        match (crate::pins::strimzi_release(&strimzi), &kafka.spec.kafka.version) {
            (None, _) => c.skip(
                RuleId::StrimziKafkaVersion,
                format!("Strimzi {strimzi} is not in lab/data/strimzi-kafka-versions.yaml"),
            ),
            (Some(release), Some(version)) if !release.supported.contains(version) => c.find(
                doc,
                "spec.kafka.version",
                RuleId::StrimziKafkaVersion,
                format!(
                    "Kafka {version} is not supported by Strimzi {strimzi} (it supports {}; source: {})",
                    release.supported.join(", "),
                    crate::pins::strimzi_source().replace("<release>", &strimzi)
                ),
            ),
            _ => {}
        }
        let name = &kafka.metadata.name;
        let own = |labels: &std::collections::BTreeMap<String, String>, ns: Option<&str>| {
            labels.get("strimzi.io/cluster") == Some(name) && ns == doc.namespace()
        };
        if !pools
            .iter()
            .any(|(d, p)| own(&p.metadata.labels, d.namespace()))
        {
            c.find(
                doc,
                "metadata.name",
                RuleId::StrimziNodePool,
                format!("no KafkaNodePool labelled strimzi.io/cluster: {name} in the Kafka's namespace: Strimzi 1.x runs no broker"),
            );
        }
    }
    for (doc, labels) in pools
        .iter()
        .map(|(d, p)| (*d, &p.metadata.labels))
        .chain(topics.iter().map(|(d, t)| (*d, &t.metadata.labels)))
    {
        let cluster = labels.get("strimzi.io/cluster");
        let matches = kafkas
            .iter()
            .any(|(kd, k)| Some(&k.metadata.name) == cluster && kd.namespace() == doc.namespace());
        if !kafkas.is_empty() && !matches {
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

fn check_images(c: &mut Checker, deployments: &[Deployment]) {
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

#[allow(clippy::too_many_arguments)]
fn check_scaled_object(
    c: &mut Checker,
    doc: &Document,
    so: &ScaledObject,
    deployments: &[Deployment],
    kafkas: &[(&Document, Kafka)],
    topics: &[(&Document, KafkaTopic)],
    namespaces: &[&str],
) {
    let target = &so.spec.scale_target_ref;
    let kind = target.kind.as_deref().unwrap_or("Deployment");
    let consumer = deployments.iter().find(|d| {
        d.name() == target.name && d.namespace() == doc.namespace() && kind == "Deployment"
    });
    match consumer {
        Some(d) => {
            if d.replicas().is_some() {
                c.find_with(
                    d.doc,
                    "spec.replicas",
                    RuleId::ScaleTargetNoReplicas,
                    format!("the Deployment is ScaledObject/{}'s target, yet sets spec.replicas: every kubectl apply resets the count KEDA and the HPA chose", so.metadata.name),
                    None,
                );
            }
        }
        None if deployments.is_empty() => c.skip(
            RuleId::ScaleTargetExists,
            "no Deployment in these manifests",
        ),
        None => {
            let names: Vec<&str> = deployments.iter().map(|d| d.name()).collect();
            c.find(
                doc,
                "spec.scaleTargetRef",
                RuleId::ScaleTargetExists,
                format!(
                    "names {kind} {} in namespace {}, which is not a Deployment here (Deployments: {})",
                    target.name,
                    doc.namespace().unwrap_or("(unset)"),
                    names.join(", ")
                ),
            );
        }
    }
    let producers: Vec<&Deployment> = deployments.iter().filter(|d| d.is_producer()).collect();
    // The apps the trigger must agree with: the scale target, or else (when the target
    // does not exist) the one Deployment here that reads a consumer's settings.
    let consumer = consumer.or_else(|| {
        let readers: Vec<&Deployment> = deployments
            .iter()
            .filter(|d| !d.is_producer() && d.setting("kafka.brokers", None) != Setting::Unset)
            .collect();
        match readers.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    });
    for (i, trigger) in so.spec.triggers.iter().enumerate() {
        if !matches!(trigger.kind.as_str(), "kafka" | "apache-kafka") {
            continue;
        }
        let field = |key: &str| format!("spec.triggers[{i}].metadata.{key}");
        let meta = |key: &str| {
            trigger
                .metadata
                .get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let container = target.env_source_container_name.as_deref();
        // `<key>FromEnv` reads the target's container environment.
        let from_env = |key: &str| -> Option<String> {
            let var = meta(&format!("{key}FromEnv"))?;
            consumer.and_then(|d| d.env_var(&var, container))
        };
        let value = |key: &str| meta(key).or_else(|| from_env(key));

        // Brokers, from keda-operator's namespace.
        let brokers = value("bootstrapServers");
        let keda_ns = c.context.keda_namespace.clone();
        let trigger_targets: Vec<Target> = brokers
            .iter()
            .flat_map(|b| b.split(',').map(str::to_owned).collect::<Vec<_>>())
            .filter_map(
                |address| match resolve(&address, Some(&keda_ns), namespaces) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        c.find(
                            doc,
                            &field("bootstrapServers"),
                            RuleId::TriggerHostResolvable,
                            e,
                        );
                        None
                    }
                },
            )
            .collect();
        for t in &trigger_targets {
            check_trigger_host(c, doc, &field("bootstrapServers"), t, kafkas);
        }
        if brokers.is_none() {
            c.skip(
                RuleId::TriggerHostResolvable,
                format!("ScaledObject/{}: bootstrapServers comes from an environment variable not set in these manifests", so.metadata.name),
            );
        }

        // What the apps use.
        let Some(consumer) = consumer else {
            c.skip(
                RuleId::TriggerMatchesApps,
                "no consumer Deployment in these manifests",
            );
            c.skip(
                RuleId::OffsetResetMatches,
                "no consumer Deployment in these manifests",
            );
            continue;
        };
        let app_brokers = |c: &mut Checker, d: &Deployment, key: &str| -> Option<Vec<Target>> {
            let raw = d.effective(key, None)?;
            let resolved: Result<Vec<Target>, String> = raw
                .split(',')
                .map(|a| resolve(a, d.namespace(), namespaces))
                .collect();
            match resolved {
                Ok(t) => Some(t),
                Err(e) => {
                    c.find(d.doc, &format!("env {key}"), RuleId::TriggerMatchesApps, e);
                    None
                }
            }
        };
        let mut apps: Vec<(&Deployment, &str)> = vec![(consumer, "kafka.brokers")];
        apps.extend(producers.iter().map(|p| (*p, "kafka.brokers.host")));
        for (app, key) in apps {
            match app_brokers(c, app, key) {
                Some(app_targets) if !trigger_targets.is_empty() => {
                    let same = app_targets.len() == trigger_targets.len()
                        && app_targets
                            .iter()
                            .all(|a| trigger_targets.iter().any(|t| t.same_as(a)));
                    if !same {
                        c.find_with(
                            doc,
                            &field("bootstrapServers"),
                            RuleId::TriggerMatchesApps,
                            format!(
                                "{:?} (resolved from namespace {keda_ns}) is not the Kafka Deployment/{} reaches with {key}={:?} (from namespace {})",
                                brokers.clone().unwrap_or_default(),
                                app.name(),
                                app.effective(key, None).unwrap_or_default(),
                                app.namespace().unwrap_or("(unset)")
                            ),
                            suggestion(&app_targets).map(|s| format!("bootstrapServers: {s}")),
                        );
                    }
                }
                None => c.skip(
                    RuleId::TriggerMatchesApps,
                    format!(
                        "Deployment/{}: {key} is not set in the manifest (or comes from a Secret)",
                        app.name()
                    ),
                ),
                _ => {}
            }
        }
        let group = value("consumerGroup");
        let app_group = consumer.effective("kafka.groupId", Some("event"));
        if let (Some(group), Some(app_group)) = (&group, &app_group) {
            if group != app_group {
                c.find_with(
                    doc,
                    &field("consumerGroup"),
                    RuleId::TriggerMatchesApps,
                    format!("{group:?} is not Deployment/{}'s group {app_group:?}: KEDA reads another group's lag", consumer.name()),
                    Some(format!("consumerGroup: {app_group}")),
                );
            }
        }
        let trigger_topics: Vec<String> = value("topic")
            .map(|t| t.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
        let consumer_topics: Option<Vec<String>> = consumer
            .effective("kafka.topics", Some("event"))
            .map(|t| t.split(',').map(|s| s.trim().to_owned()).collect());
        if let Some(consumer_topics) = &consumer_topics {
            for t in &trigger_topics {
                if !consumer_topics.contains(t) {
                    c.find_with(
                        doc,
                        &field("topic"),
                        RuleId::TriggerMatchesApps,
                        format!(
                            "{t:?} is not a topic Deployment/{} reads ({})",
                            consumer.name(),
                            consumer_topics.join(", ")
                        ),
                        Some(format!("topic: {}", consumer_topics[0])),
                    );
                }
            }
        }
        for p in &producers {
            if let Some(topic) = p.effective("kafka.topic", Some("event")) {
                if !trigger_topics.is_empty() && !trigger_topics.contains(&topic) {
                    c.find_with(
                        doc,
                        &field("topic"),
                        RuleId::TriggerMatchesApps,
                        format!(
                            "{:?} is not the topic Deployment/{} writes ({topic:?})",
                            trigger_topics.join(","),
                            p.name()
                        ),
                        Some(format!("topic: {topic}")),
                    );
                }
            }
        }
        let policy = meta("offsetResetPolicy").unwrap_or_else(|| "latest".into());
        match consumer.setting("kafka.auto.offset.reset", None) {
            Setting::FromReference { .. } => c.skip(
                RuleId::OffsetResetMatches,
                "the consumer's auto.offset.reset comes from a Secret or ConfigMap",
            ),
            setting => {
                let (app, explicit) = match &setting {
                    Setting::Value { value, .. } => (value.trim().to_owned(), true),
                    _ => ("earliest".to_owned(), false),
                };
                if app != policy {
                    c.find_with(
                        doc,
                        &field("offsetResetPolicy"),
                        RuleId::OffsetResetMatches,
                        format!(
                            "{policy}{} while Deployment/{} starts at {app}{}: KEDA counts a partition without a committed offset as {} lag",
                            if meta("offsetResetPolicy").is_some() { "" } else { " (KEDA's default)" },
                            consumer.name(),
                            if explicit { "" } else { " (the consumer's default)" },
                            if policy == "latest" { "1" } else { "its whole log as" }
                        ),
                        Some(format!("offsetResetPolicy: {app}, and kafka.auto.offset.reset: {app} on the consumer")),
                    );
                }
            }
        }

        // The topic's partitions.
        if topics.is_empty() {
            c.skip(
                RuleId::TriggerTopicExists,
                "no KafkaTopic in these manifests",
            );
            c.skip(
                RuleId::MaxReplicasPartitions,
                "no KafkaTopic in these manifests",
            );
            continue;
        }
        for t in &trigger_topics {
            match topics.iter().find(|(_, kt)| kt.topic_name() == t) {
                Some((_, kt)) => {
                    let max = so.spec.max_replica_count.unwrap_or(100);
                    if max > kt.spec.partitions as i32 {
                        c.find(
                            doc,
                            "spec.maxReplicaCount",
                            RuleId::MaxReplicasPartitions,
                            format!("{max} is above the {} partitions of topic {t}: replicas past that sit idle", kt.spec.partitions),
                        );
                    }
                }
                None => c.find(
                    doc,
                    &field("topic"),
                    RuleId::TriggerTopicExists,
                    format!("{t:?} is not a KafkaTopic here"),
                ),
            }
        }
    }
}

/// A trigger host: resolvable from keda-operator's namespace, and (when Kafka is here)
/// the bootstrap Service of one of its listeners.
fn check_trigger_host(
    c: &mut Checker,
    doc: &Document,
    field: &str,
    target: &Target,
    kafkas: &[(&Document, Kafka)],
) {
    let Target::Service {
        name,
        namespace,
        port,
        bare,
    } = target
    else {
        return;
    };
    let keda_ns = c.context.keda_namespace.clone();
    let bootstraps: Vec<(String, Option<&str>, u16)> = kafkas
        .iter()
        .flat_map(|(d, k)| {
            k.spec
                .kafka
                .listeners
                .iter()
                .map(|l| (l.bootstrap_service(&k.metadata.name), d.namespace(), l.port))
                .collect::<Vec<_>>()
        })
        .collect();
    let fqdn = |svc: &str, ns: Option<&str>, port: u16| {
        format!("{svc}.{}.svc:{port}", ns.unwrap_or("<namespace>"))
    };
    if *bare {
        let in_keda = bootstraps
            .iter()
            .any(|(s, ns, p)| s == name && *ns == Some(keda_ns.as_str()) && p == port);
        if !in_keda {
            let kafka_ns = bootstraps
                .iter()
                .find(|(s, _, _)| s == name)
                .and_then(|(_, ns, _)| *ns)
                .or(doc.namespace());
            c.find_with(
                doc,
                field,
                RuleId::TriggerHostResolvable,
                format!("{name}:{port} is a bare Service name: keda-operator resolves it in its own namespace ({keda_ns}), where it does not exist, so the ScaledObject never becomes Ready"),
                Some(format!("bootstrapServers: {}", fqdn(name, kafka_ns, *port))),
            );
        }
        return;
    }
    if kafkas.is_empty() {
        c.skip(
            RuleId::TriggerHostKafka,
            "no Kafka in these manifests (installed separately, or managed)",
        );
        return;
    }
    let matches = bootstraps
        .iter()
        .any(|(s, ns, p)| s == name && p == port && (ns.is_none() || namespace.as_deref() == *ns));
    if !matches {
        let known: Vec<String> = bootstraps
            .iter()
            .map(|(s, ns, p)| fqdn(s, *ns, *p))
            .collect();
        c.find_with(
            doc,
            field,
            RuleId::TriggerHostKafka,
            format!(
                "{} names no bootstrap Service of a Kafka in these manifests (they are: {})",
                fqdn(name, namespace.as_deref(), *port),
                known.join(", ")
            ),
            known.first().map(|k| format!("bootstrapServers: {k}")),
        );
    }
}

/// How the trigger should write the apps' brokers: fully qualified.
fn suggestion(targets: &[Target]) -> Option<String> {
    let parts: Vec<String> = targets
        .iter()
        .map(|t| match t {
            Target::Service {
                name,
                namespace,
                port,
                ..
            } => {
                format!(
                    "{name}.{}.svc:{port}",
                    namespace.as_deref().unwrap_or("<namespace>")
                )
            }
            Target::External { host, port } => format!("{host}:{port}"),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

fn describe(v: &Value) -> String {
    serde_yaml_ng::to_string(v)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
