//! Each ScaledObject against what it scales and what it reads: the target Deployment
//! exists and leaves its replica count to the HPA; each Kafka trigger reaches, from
//! keda-operator's namespace, the Kafka the apps reach, reads the consumer's group and
//! topic, counts uncommitted partitions as the consumer starts them, and the topic has
//! the partitions `maxReplicaCount` would use. The trigger is the one reading KEDA's rules
//! made of it ([`lab_model::keda::TriggerReading`]); the apps' settings are the binaries' own.

use super::{Checker, Manifests};
use crate::apps::{Deployment, EnvValue, Role};
use crate::cluster::{resolve, Target};
use crate::Document;
use lab_model::keda::model::ScaledObject;
use lab_model::keda::source::KafkaSource;
use lab_model::keda::{Checked, TriggerReading};
use lab_model::rules::RuleId;

/// A trigger's brokers, group and topics as KEDA gets them: written, or read from the
/// scale target's container (`<key>FromEnv`). `None`: from a variable these manifests do
/// not set.
struct Named {
    brokers: Option<Vec<String>>,
    group: Option<String>,
    topics: Vec<String>,
}

impl Named {
    fn of(trigger: &KafkaSource, target: Option<&Deployment>, container: Option<&str>) -> Self {
        let from_env = |var: &Option<String>| {
            var.as_ref()
                .and_then(|v| target.and_then(|d| d.env_var(v, container)))
        };
        let list = |v: String| v.split(',').map(|s| s.trim().to_owned()).collect();
        let written = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
        Named {
            brokers: written(&trigger.bootstrap_servers)
                .or_else(|| from_env(&trigger.from_env.bootstrap_servers).map(list)),
            group: Some(trigger.consumer_group.clone())
                .filter(|g| !g.is_empty())
                .or_else(|| from_env(&trigger.from_env.consumer_group)),
            topics: written(&trigger.topics)
                .or_else(|| from_env(&trigger.from_env.topic).map(list))
                .unwrap_or_default(),
        }
    }
}

/// One trigger being checked: where findings point.
struct At<'a> {
    doc: &'a Document,
    so: &'a ScaledObject,
    index: usize,
}

impl At<'_> {
    fn field(&self, key: &str) -> String {
        format!("spec.triggers[{}].metadata.{key}", self.index)
    }
}

pub(super) fn check(c: &mut Checker, m: &Manifests, doc: &Document, checked: &Checked) {
    let Some(so) = &checked.object else {
        return; // its schema finding is reported; nothing typed to compare
    };
    let target = check_scale_target(c, m, doc, so);
    // The apps the trigger must agree with: the scale target, or else (when the target
    // does not exist) the one Deployment here that reads a consumer's settings.
    let consumer = target.or_else(|| only_consumer(m));
    let producers: Vec<&Deployment> = m
        .deployments
        .iter()
        .filter(|d| d.role() == Some(Role::Producer))
        .collect();
    let container = so
        .spec
        .scale_target_ref
        .env_source_container_name
        .as_deref();
    for reading in &checked.triggers {
        let index = &reading.index;
        let at = At {
            doc,
            so,
            index: *index,
        };
        let named = Named::of(&reading.source, consumer, container);
        let reached = check_hosts(c, m, &at, &named);
        let Some(consumer) = consumer else {
            let why = "no consumer Deployment in these manifests";
            c.skip(RuleId::TriggerMatchesApps, why);
            c.skip(RuleId::OffsetResetMatches, why);
            continue;
        };
        let mut apps = vec![consumer];
        apps.extend(&producers);
        for app in apps {
            check_same_kafka(c, m, &at, &named, &reached, app);
        }
        check_group(c, &at, &named, consumer);
        check_topics(c, &at, &named, consumer, &producers);
        check_offset_reset(c, &at, reading, consumer);
        check_partitions(c, m, &at, &named);
    }
}

/// The target exists, and sets no `spec.replicas` (every apply would reset the count).
fn check_scale_target<'m>(
    c: &mut Checker,
    m: &'m Manifests,
    doc: &Document,
    so: &ScaledObject,
) -> Option<&'m Deployment<'m>> {
    let target = &so.spec.scale_target_ref;
    let kind = target.kind.as_deref().unwrap_or("Deployment");
    let found = m.deployments.iter().find(|d| {
        d.name() == target.name && d.namespace() == doc.namespace() && kind == "Deployment"
    });
    match found {
        Some(d) if d.replicas().is_some() => c.find(
            d.doc,
            "spec.replicas",
            RuleId::ScaleTargetNoReplicas,
            format!("the Deployment is ScaledObject/{}'s target, yet sets spec.replicas: every kubectl apply resets the count KEDA and the HPA chose", so.metadata.name),
        ),
        Some(_) => {}
        None if m.deployments.is_empty() => {
            c.skip(RuleId::ScaleTargetExists, "no Deployment in these manifests")
        }
        None => {
            let names: Vec<&str> = m.deployments.iter().map(|d| d.name()).collect();
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
    found
}

fn only_consumer<'m>(m: &'m Manifests) -> Option<&'m Deployment<'m>> {
    let readers: Vec<&Deployment> = m
        .deployments
        .iter()
        .filter(|d| {
            d.role() == Some(Role::Consumer)
                && d.env(&consumer::config::BROKERS, None) != EnvValue::Unset
        })
        .collect();
    match readers.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// The trigger's hosts as keda-operator resolves them from its namespace: each resolvable
/// and, when the Kafka is here, one of its bootstrap Services. Returns where they lead.
fn check_hosts(c: &mut Checker, m: &Manifests, at: &At, named: &Named) -> Vec<Target> {
    let Some(brokers) = &named.brokers else {
        c.skip(
            RuleId::TriggerHostResolvable,
            format!("ScaledObject/{}: bootstrapServers comes from an environment variable not set in these manifests", at.so.metadata.name),
        );
        return Vec::new();
    };
    let keda_ns = c.context.keda_namespace.clone();
    let mut reached = Vec::new();
    for address in brokers {
        match resolve(address, Some(&keda_ns), &m.namespaces) {
            Ok(target) => {
                check_host(c, m, at, &target);
                reached.push(target);
            }
            Err(e) => c.find(
                at.doc,
                &at.field("bootstrapServers"),
                RuleId::TriggerHostResolvable,
                e,
            ),
        }
    }
    reached
}

/// A trigger host: resolvable from keda-operator's namespace, and (when Kafka is here)
/// the bootstrap Service of one of its listeners.
fn check_host(c: &mut Checker, m: &Manifests, at: &At, target: &Target) {
    let Target::Service {
        name,
        namespace,
        port,
        bare,
    } = target
    else {
        return;
    };
    let field = at.field("bootstrapServers");
    let keda_ns = c.context.keda_namespace.clone();
    let bootstraps: Vec<(String, Option<&str>, u16)> = m
        .kafkas
        .iter()
        .flat_map(|(d, k)| {
            k.spec
                .kafka
                .listeners
                .iter()
                .map(|l| (l.bootstrap_service(&k.metadata.name), d.namespace(), l.port))
        })
        .collect();
    if *bare {
        let in_keda = bootstraps
            .iter()
            .any(|(s, ns, p)| s == name && *ns == Some(keda_ns.as_str()) && p == port);
        if !in_keda {
            let kafka_ns = bootstraps
                .iter()
                .find(|(s, _, _)| s == name)
                .and_then(|(_, ns, _)| *ns)
                .or(at.doc.namespace());
            c.find_with(
                at.doc,
                &field,
                RuleId::TriggerHostResolvable,
                format!("{name}:{port} is a bare Service name: keda-operator resolves it in its own namespace ({keda_ns}), where it does not exist, so the ScaledObject never becomes Ready"),
                Some(format!("bootstrapServers: {}", fqdn(name, kafka_ns, *port))),
            );
        }
        return;
    }
    if m.kafkas.is_empty() {
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
            at.doc,
            &field,
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

/// The trigger reaches the Kafka `app` reaches (each resolved from its own namespace).
fn check_same_kafka(
    c: &mut Checker,
    m: &Manifests,
    at: &At,
    named: &Named,
    reached: &[Target],
    app: &Deployment,
) {
    let Some(setting) = app.role().map(Role::brokers) else {
        return;
    };
    let Some(brokers) = app.list(setting) else {
        c.skip(
            RuleId::TriggerMatchesApps,
            format!(
                "Deployment/{}: {} is not set in the manifest (or comes from a Secret)",
                app.name(),
                setting.key
            ),
        );
        return;
    };
    let resolved: Result<Vec<Target>, String> = brokers
        .iter()
        .map(|a| resolve(a, app.namespace(), &m.namespaces))
        .collect();
    let app_targets = match resolved {
        Ok(t) => t,
        Err(e) => {
            let field = format!("env {}", setting.key);
            c.find(app.doc, &field, RuleId::TriggerMatchesApps, e);
            return;
        }
    };
    let same = app_targets.len() == reached.len()
        && app_targets
            .iter()
            .all(|a| reached.iter().any(|t| t.same_as(a)));
    if reached.is_empty() || same {
        return;
    }
    c.find_with(
        at.doc,
        &at.field("bootstrapServers"),
        RuleId::TriggerMatchesApps,
        format!(
            "{:?} (resolved from namespace {}) is not the Kafka Deployment/{} reaches with {}={:?} (from namespace {})",
            named.brokers.as_deref().unwrap_or_default().join(","),
            c.context.keda_namespace,
            app.name(),
            setting.key,
            brokers.join(","),
            app.namespace().unwrap_or("(unset)")
        ),
        suggestion(&app_targets).map(|s| format!("bootstrapServers: {s}")),
    );
}

fn check_group(c: &mut Checker, at: &At, named: &Named, consumer: &Deployment) {
    let (Some(group), Some(app_group)) =
        (&named.group, consumer.value(&consumer::config::GROUP_ID))
    else {
        return;
    };
    if *group != app_group {
        c.find_with(
            at.doc,
            &at.field("consumerGroup"),
            RuleId::TriggerMatchesApps,
            format!("{group:?} is not Deployment/{}'s group {app_group:?}: KEDA reads another group's lag", consumer.name()),
            Some(format!("consumerGroup: {app_group}")),
        );
    }
}

/// The trigger's topics are ones the consumer reads and the producer writes.
fn check_topics(
    c: &mut Checker,
    at: &At,
    named: &Named,
    consumer: &Deployment,
    producers: &[&Deployment],
) {
    if let Some(consumer_topics) = consumer.list(&consumer::config::TOPICS) {
        for t in named.topics.iter().filter(|t| !consumer_topics.contains(t)) {
            c.find_with(
                at.doc,
                &at.field("topic"),
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
    for p in producers {
        let Some(topic) = p.value(&producer::config::TOPIC) else {
            continue;
        };
        if !named.topics.is_empty() && !named.topics.contains(&topic) {
            c.find_with(
                at.doc,
                &at.field("topic"),
                RuleId::TriggerMatchesApps,
                format!(
                    "{:?} is not the topic Deployment/{} writes ({topic:?})",
                    named.topics.join(","),
                    p.name()
                ),
                Some(format!("topic: {topic}")),
            );
        }
    }
}

/// KEDA counts a partition without a committed offset by `offsetResetPolicy`; the consumer
/// starts it by `kafka.auto.offset.reset`. They must agree.
fn check_offset_reset(c: &mut Checker, at: &At, reading: &TriggerReading, consumer: &Deployment) {
    let trigger = &reading.trigger;
    let setting = &consumer::config::AUTO_OFFSET_RESET;
    if let EnvValue::FromReference { .. } = consumer.env(setting, None) {
        c.skip(
            RuleId::OffsetResetMatches,
            "the consumer's auto.offset.reset comes from a Secret or ConfigMap",
        );
        return;
    }
    let explicit = consumer.env(setting, None) != EnvValue::Unset;
    let app = consumer
        .value(setting)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let policy = trigger.offset_reset.as_str();
    if app == policy {
        return;
    }
    c.find_with(
        at.doc,
        &at.field("offsetResetPolicy"),
        RuleId::OffsetResetMatches,
        format!(
            "{policy}{} while Deployment/{} starts at {app}{}: KEDA counts a partition without a committed offset as {} lag",
            if reading.source.offset_reset_given { "" } else { " (KEDA's default)" },
            consumer.name(),
            if explicit { "" } else { " (the consumer's default)" },
            if policy == "latest" { "1" } else { "its whole log as" }
        ),
        Some(format!("offsetResetPolicy: {app}, and {}: {app} on the consumer", setting.key)),
    );
}

/// Each topic is a KafkaTopic here, with at least `maxReplicaCount` partitions.
fn check_partitions(c: &mut Checker, m: &Manifests, at: &At, named: &Named) {
    if m.topics.is_empty() {
        c.skip(
            RuleId::TriggerTopicExists,
            "no KafkaTopic in these manifests",
        );
        c.skip(
            RuleId::MaxReplicasPartitions,
            "no KafkaTopic in these manifests",
        );
        return;
    }
    for t in &named.topics {
        match m.topics.iter().find(|(_, kt)| kt.topic_name() == t) {
            Some((_, kt)) => {
                let max = at.so.spec.max_replicas();
                if max > kt.spec.partitions as i32 {
                    c.find(
                        at.doc,
                        "spec.maxReplicaCount",
                        RuleId::MaxReplicasPartitions,
                        format!("{max} is above the {} partitions of topic {t}: replicas past that sit idle", kt.spec.partitions),
                    );
                }
            }
            None => c.find(
                at.doc,
                &at.field("topic"),
                RuleId::TriggerTopicExists,
                format!("{t:?} is not a KafkaTopic here"),
            ),
        }
    }
}

fn fqdn(service: &str, namespace: Option<&str>, port: u16) -> String {
    format!(
        "{service}.{}.svc:{port}",
        namespace.unwrap_or("<namespace>")
    )
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
            } => fqdn(name, namespace.as_deref(), *port),
            Target::External { host, port } => format!("{host}:{port}"),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}
