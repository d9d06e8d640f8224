//! The checks themselves, in the order a cluster meets the objects: each object's shape
//! ([`shape`], [`strimzi`]), each ScaledObject against the apps and the Kafka it names
//! ([`trigger`]), and what every client presents to the listener it reaches ([`auth`]).

mod auth;
mod shape;
mod strimzi;
mod trigger;

use super::apps::Deployment;
use super::strimzi::{Kafka, KafkaNodePool, KafkaTopic, KafkaUser};
use super::{Context, Document, Finding, Report};
use lab_model::keda::scaledjob::CheckedJob;
use lab_model::keda::{self, Checked, Problem, Severity};
use lab_model::rules::RuleId;

/// Where findings go, with what the checks need besides the documents.
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

/// The documents, typed once: what every check looks things up in.
struct Manifests<'a> {
    documents: &'a [Document],
    /// Each ScaledObject with its one reading by KEDA's rules.
    scaled_objects: Vec<(&'a Document, Checked)>,
    /// Each ScaledJob, likewise.
    scaled_jobs: Vec<(&'a Document, CheckedJob)>,
    deployments: Vec<Deployment<'a>>,
    kafkas: Vec<(&'a Document, Kafka)>,
    pools: Vec<(&'a Document, KafkaNodePool)>,
    topics: Vec<(&'a Document, KafkaTopic)>,
    users: Vec<(&'a Document, KafkaUser)>,
    /// The namespaces the documents name.
    namespaces: Vec<&'a str>,
}

impl<'a> Manifests<'a> {
    /// Types every document it knows; a custom resource that does not fit its schema is
    /// a finding (and is left out of the checks that follow).
    fn read(c: &mut Checker, documents: &'a [Document]) -> Self {
        let mut m = Manifests {
            documents,
            scaled_objects: Vec::new(),
            scaled_jobs: Vec::new(),
            deployments: Vec::new(),
            kafkas: Vec::new(),
            pools: Vec::new(),
            topics: Vec::new(),
            users: Vec::new(),
            namespaces: documents.iter().filter_map(Document::namespace).collect(),
        };
        let values: Vec<serde_yaml_ng::Value> = documents.iter().map(|d| d.value.clone()).collect();
        for doc in documents {
            match doc.kind() {
                "ScaledObject" => {
                    let target = keda::scale_target(&doc.value, &values);
                    let checked = keda::check_with(&doc.value, target.as_ref());
                    if target.is_none() && uses_resources(&checked) {
                        c.skip(RuleId::KedaCpuMemory, format!("{}: its scale target is not a Deployment or StatefulSet of these manifests: KEDA's webhook reads the target's resource requests from the cluster", doc.object()));
                    }
                    m.scaled_objects.push((doc, checked));
                }
                "ScaledJob" => m
                    .scaled_jobs
                    .push((doc, keda::scaledjob::check(&doc.value))),
                "Kafka" => m.kafkas.extend(strict(c, doc).map(|k| (doc, k))),
                "KafkaNodePool" => m.pools.extend(strict(c, doc).map(|p| (doc, p))),
                "KafkaTopic" => m.topics.extend(strict(c, doc).map(|t| (doc, t))),
                "KafkaUser" => m.users.extend(strict(c, doc).map(|u| (doc, u))),
                "Deployment" => m.deployments.push(Deployment { doc }),
                _ => {}
            }
        }
        m
    }

    /// The document of `kind` named `name` in `namespace`.
    fn object(&self, kind: &str, name: &str, namespace: Option<&str>) -> Option<&'a Document> {
        self.documents
            .iter()
            .find(|d| d.kind() == kind && d.name() == name && d.namespace() == namespace)
    }
}

/// A typed custom resource, or a finding naming the path of its first problem.
fn strict<T: serde::de::DeserializeOwned>(c: &mut Checker, doc: &Document) -> Option<T> {
    match serde_path_to_error::deserialize(doc.value.clone()) {
        Ok(v) => Some(v),
        Err(e) => {
            c.find(
                doc,
                &e.path().to_string(),
                RuleId::StrimziSchema,
                e.inner().to_string(),
            );
            None
        }
    }
}

pub(super) fn run(documents: &[Document], context: &Context) -> Report {
    let mut c = Checker {
        context,
        report: Report::default(),
    };
    let m = Manifests::read(&mut c, documents);
    for (doc, checked) in &m.scaled_objects {
        report_keda(&mut c, doc, &checked.problems, &checked.not_emulated);
    }
    for (doc, checked) in &m.scaled_jobs {
        report_keda(&mut c, doc, &checked.problems, &checked.not_emulated);
    }
    c.report.checked = documents
        .iter()
        .filter(|d| checked_kind(d.kind()).is_some())
        .map(Document::object)
        .collect();
    c.report.left_alone = left_alone(documents);
    for d in &m.deployments {
        shape::check_deployment(&mut c, d.doc);
    }
    strimzi::check(&mut c, &m);
    shape::check_images(&mut c, &m.deployments);
    if m.scaled_objects.is_empty() && m.scaled_jobs.is_empty() {
        c.report.findings.push(Finding {
            file: documents
                .first()
                .map_or_else(String::new, |d| d.file.clone()),
            object: "(manifests)".into(),
            field: "-".into(),
            rule: RuleId::NoScaledObject,
            message: "no ScaledObject or ScaledJob: nothing scales".into(),
            fix: RuleId::NoScaledObject.fix().into(),
        });
    }
    for (doc, checked) in &m.scaled_objects {
        trigger::check(&mut c, &m, doc, checked);
        report_advice(&mut c, &m, doc, checked);
    }
    // TLS, SASL and ACLs: what each client presents to the listener it reaches.
    auth::check_references(&mut c, &m);
    for d in &m.deployments {
        auth::check_app(&mut c, &m, d);
    }
    for (doc, checked) in &m.scaled_objects {
        for reading in &checked.triggers {
            auth::check_trigger(&mut c, &m, doc, checked, reading);
        }
    }
    c.report
}

/// The advice on a ScaledObject, with its topic's partition count when a KafkaTopic of
/// these manifests names it.
fn report_advice(c: &mut Checker, m: &Manifests, doc: &Document, checked: &Checked) {
    let partitions = checked
        .triggers
        .iter()
        .flat_map(|r| &r.source.topics)
        .find_map(|topic| {
            m.topics
                .iter()
                .find(|(_, t)| t.topic_name() == topic.as_str())
                .map(|(_, t)| t.spec.partitions)
        });
    for a in lab_model::advice::advise(checked, partitions) {
        c.report.advice.push(Finding {
            file: doc.file.clone(),
            object: doc.object(),
            field: a.field,
            rule: a.rule,
            message: a.message,
            fix: a.rule.fix().to_owned(),
        });
    }
}

/// KEDA's own verdict on a ScaledObject or ScaledJob. Its warnings (a key it ignores)
/// are findings here: KEDA would say nothing, and the setting would do nothing.
fn report_keda(c: &mut Checker, doc: &Document, problems: &[Problem], not_emulated: &[Problem]) {
    // Keys only a newer KEDA reads are advice (see report_advice), not findings.
    for p in problems.iter().filter(|p| p.rule != RuleId::KafkaMainOnly) {
        let message = match p.severity {
            Severity::Error => p.message.clone(),
            Severity::Warning => format!("{} (KEDA accepts this silently)", p.message),
        };
        c.find(doc, &p.field, p.rule, message);
    }
    for p in not_emulated {
        c.report.notes.push(Finding {
            file: doc.file.clone(),
            object: doc.object(),
            field: p.field.clone(),
            rule: p.rule,
            message: p.message.clone(),
            fix: p.rule.fix().to_owned(),
        });
    }
}

/// Whether a ScaledObject has a cpu or memory trigger.
fn uses_resources(checked: &Checked) -> bool {
    checked.object.as_ref().is_some_and(|so| {
        so.spec
            .triggers
            .iter()
            .any(|t| matches!(t.kind.as_str(), "cpu" | "memory"))
    })
}

/// What the checks read of a kind, or `None` when no check reads it.
pub(super) fn checked_kind(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "ScaledObject" => "KEDA's rules, and against the apps and the Kafka it reads",
        "ScaledJob" => "KEDA's rules",
        "Deployment" => {
            "shape, images, settings against the Kafka it reaches; a scale target's requests"
        }
        "StatefulSet" => "a scale target's requests (cpu and memory triggers)",
        "LimitRange" => "default requests of a cpu or memory trigger's target",
        "Kafka" | "KafkaNodePool" | "KafkaTopic" | "KafkaUser" => {
            "Strimzi's schema and versions, listeners, ACLs"
        }
        "TriggerAuthentication" | "Secret" | "ConfigMap" => "the keys the apps and triggers read",
        _ => return None,
    })
}

/// The kinds no check reads, each with how many documents and why they are left alone.
fn left_alone(documents: &[Document]) -> Vec<(String, usize, String)> {
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in documents
        .iter()
        .filter(|d| checked_kind(d.kind()).is_none())
    {
        *kinds.entry(d.kind()).or_default() += 1;
    }
    kinds
        .into_iter()
        .map(|(kind, n)| {
            let why = match kind {
                "Service" => "trigger hosts are checked by the Kafka's bootstrap Service name, which Strimzi creates; a Service object changes no scaling",
                "Namespace" | "ServiceAccount" | "Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding" => "access and placement: kubernetes-validate checks its schema (scripts/check-manifests); no KEDA or Kafka rule reads it",
                "ClusterTriggerAuthentication" => "cluster-scoped: keda-operator reads it from the cluster; the lab reads namespaced TriggerAuthentications",
                "HorizontalPodAutoscaler" => "KEDA makes its own HPA for a ScaledObject; a second HPA on the same target is KEDA's verifyHpas error in a cluster, which the lab cannot see offline",
                _ => "no rule of the lab reads this kind: kubernetes-validate checks its schema (scripts/check-manifests)",
            };
            (if kind.is_empty() { "(no kind)".to_owned() } else { kind.to_owned() }, n, why.to_owned())
        })
        .collect()
}
