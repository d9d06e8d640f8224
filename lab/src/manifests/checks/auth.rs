//! The security wiring: what the apps and KEDA's trigger must present to the listener
//! they reach, and where the credentials come from.
//!
//! A Strimzi listener with `tls: true` serves certificates signed by the cluster CA (the
//! Secret `<cluster>-cluster-ca-cert`, key `ca.crt`); with `authentication: scram-sha-512`
//! it wants a KafkaUser's name and password (the Secret named after the user, key
//! `password`); with `authorization: simple` the user's ACLs must allow what the client
//! does. The apps read these through `kafka.security.protocol` and friends, the trigger
//! through `tls`, `sasl` and a TriggerAuthentication. Each mismatch would show only in the
//! cluster, as a client that never connects or a ScaledObject that never becomes Ready.

use crate::rules::RuleId;
use serde_yaml_ng::Value;

use super::super::apps::{Deployment, Setting};
use super::super::cluster::{resolve, Target};
use super::super::strimzi::{Kafka, KafkaUser, Listener, CLUSTER_CA_KEYS};
use super::super::Document;
use super::Checker;
use crate::keda::model::ScaledObject;

/// A key of a Secret or ConfigMap: `kind` is "Secret" or "ConfigMap".
struct Reference<'a> {
    doc: &'a Document,
    field: String,
    kind: &'static str,
    name: String,
    key: String,
}

/// The objects the wiring checks look up by name.
pub(super) struct Wiring<'a> {
    documents: &'a [Document],
    kafkas: &'a [(&'a Document, Kafka)],
    users: Vec<(&'a Document, KafkaUser)>,
    namespaces: Vec<&'a str>,
}

impl<'a> Wiring<'a> {
    pub(super) fn new(
        c: &mut Checker,
        documents: &'a [Document],
        kafkas: &'a [(&'a Document, Kafka)],
    ) -> Self {
        let users = documents
            .iter()
            .filter(|d| d.kind() == "KafkaUser")
            .filter_map(|d| super::strict(c, d, RuleId::StrimziSchema).map(|u| (d, u)))
            .collect();
        Self {
            documents,
            kafkas,
            users,
            namespaces: documents.iter().filter_map(Document::namespace).collect(),
        }
    }

    fn object(&self, kind: &str, name: &str, namespace: Option<&str>) -> Option<&'a Document> {
        self.documents
            .iter()
            .find(|d| d.kind() == kind && d.name() == name && d.namespace() == namespace)
    }

    /// The listener (and its Kafka) a pod in `from` reaches at `address`.
    fn listener(&self, address: &str, from: Option<&str>) -> Option<(&'a Kafka, &'a Listener)> {
        let Ok(Target::Service {
            name,
            namespace,
            port,
            ..
        }) = resolve(address, from, &self.namespaces)
        else {
            return None;
        };
        self.kafkas.iter().find_map(|(doc, kafka)| {
            let here = namespace.is_none() || doc.namespace() == namespace.as_deref();
            kafka
                .spec
                .kafka
                .listeners
                .iter()
                .find(|l| {
                    here && l.port == port && l.bootstrap_service(&kafka.metadata.name) == name
                })
                .map(|l| (kafka, l))
        })
    }

    fn user(&self, name: &str, namespace: Option<&str>) -> Option<&KafkaUser> {
        self.users
            .iter()
            .find(|(d, u)| u.metadata.name == name && d.namespace() == namespace)
            .map(|(_, u)| u)
    }

    /// The value of a ConfigMap key of these manifests.
    fn config_value(&self, name: &str, key: &str, namespace: Option<&str>) -> Option<String> {
        self.object("ConfigMap", name, namespace)?
            .value
            .get("data")?
            .get(key)?
            .as_str()
            .map(str::to_owned)
    }

    /// Checks that a Secret or ConfigMap key exists: in Strimzi's generated Secrets by
    /// Strimzi's key names, in objects of these manifests by their data.
    fn check_reference(&self, c: &mut Checker, r: &Reference) {
        let ns = r.doc.namespace();
        let generated: Option<(String, &[&str])> = if r.kind == "Secret" {
            self.user(&r.name, ns)
                .map(|u| (format!("KafkaUser/{}", r.name), u.secret_keys()))
                .or_else(|| {
                    self.kafkas.iter().find_map(|(d, k)| {
                        (format!("{}-cluster-ca-cert", k.metadata.name) == r.name
                            && d.namespace() == ns)
                            .then(|| {
                                (
                                    format!("Kafka/{}'s cluster CA", k.metadata.name),
                                    CLUSTER_CA_KEYS,
                                )
                            })
                    })
                })
        } else {
            None
        };
        if let Some((owner, keys)) = generated {
            if !keys.contains(&r.key.as_str()) {
                c.find_with(
                    r.doc,
                    &r.field,
                    RuleId::StrimziSecretKeys,
                    format!(
                        "Secret {} (made by Strimzi for {owner}) has no key {:?}; its keys are {}",
                        r.name,
                        r.key,
                        keys.join(", ")
                    ),
                    keys.first().map(|k| format!("key: {k}")),
                );
            }
            return;
        }
        match self.object(r.kind, &r.name, ns) {
            Some(doc) => {
                let has = ["data", "stringData", "binaryData"].iter().any(|d| {
                    doc.value
                        .get(d)
                        .and_then(|m| m.get(r.key.as_str()))
                        .is_some()
                });
                if !has {
                    c.find(
                        r.doc,
                        &r.field,
                        RuleId::StrimziSecretKeys,
                        format!("{} {} has no key {:?}", r.kind, r.name, r.key),
                    );
                }
            }
            None => c.skip(
                RuleId::StrimziSecretKeys,
                format!("{} {} is not made by these manifests", r.kind, r.name),
            ),
        }
    }

    /// Every Secret and ConfigMap key the Deployments and TriggerAuthentications read.
    pub(super) fn check_references(&self, c: &mut Checker) {
        let mut refs = Vec::new();
        for doc in self.documents {
            match doc.kind() {
                "Deployment" => env_references(doc, &mut refs),
                "TriggerAuthentication" => {
                    for (list, kind) in [
                        ("secretTargetRef", "Secret"),
                        ("configMapTargetRef", "ConfigMap"),
                    ] {
                        for (i, t) in sequence(doc.value.get("spec").and_then(|s| s.get(list)))
                            .iter()
                            .enumerate()
                        {
                            refs.push(Reference {
                                doc,
                                field: format!("spec.{list}[{i}]"),
                                kind,
                                name: text(t, "name"),
                                key: text(t, "key"),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        for r in &refs {
            self.check_reference(c, r);
        }
    }

    /// The apps connect to their listener as it wants: protocol, mechanism, CA, a
    /// KafkaUser's name and password, and ACLs allowing what they do.
    pub(super) fn check_app(&self, c: &mut Checker, app: &Deployment) {
        let producer = app.is_producer();
        let key = if producer {
            "kafka.brokers.host"
        } else {
            "kafka.brokers"
        };
        let Some(brokers) = app.effective(key, None) else {
            return;
        };
        let Some((kafka, listener)) = brokers
            .split(',')
            .find_map(|b| self.listener(b, app.namespace()))
        else {
            c.skip(
                RuleId::AppAuthListener,
                format!(
                    "Deployment/{}: its brokers are no listener of a Kafka here",
                    app.name()
                ),
            );
            return;
        };
        let scram = listener_scram(listener);
        let want = match (listener.tls, scram) {
            (true, true) => "sasl_ssl",
            (true, false) => "ssl",
            (false, true) => "sasl_plaintext",
            (false, false) => "plaintext",
        };
        let listener_name = format!(
            "Kafka/{} listener {} (port {})",
            kafka.metadata.name, listener.name, listener.port
        );
        let protocol = match app.setting("kafka.security.protocol", None) {
            Setting::Value { value, .. } => value.to_ascii_lowercase(),
            Setting::FromReference { .. } => want.to_owned(),
            Setting::Unset => "plaintext".to_owned(),
        };
        if protocol != want {
            c.find_with(
                app.doc,
                "env kafka.security.protocol",
                RuleId::AppAuthListener,
                format!("{protocol} against {listener_name}, which wants {want}"),
                Some(format!("kafka.security.protocol: {want}")),
            );
            return;
        }
        if scram {
            if let Setting::Value { value, .. } = app.setting("kafka.sasl.mechanism", None) {
                if !value.eq_ignore_ascii_case("SCRAM-SHA-512") {
                    c.find_with(
                        app.doc,
                        "env kafka.sasl.mechanism",
                        RuleId::AppAuthListener,
                        format!("{value} against {listener_name}, which authenticates with scram-sha-512"),
                        Some("kafka.sasl.mechanism: SCRAM-SHA-512".into()),
                    );
                }
            }
        }
        if listener.tls && !self.mounts_cluster_ca(app, kafka) {
            c.find_with(
                app.doc,
                "env kafka.ssl.ca.location",
                RuleId::AppAuthListener,
                format!("{listener_name} serves a certificate signed by Strimzi's cluster CA, and kafka.ssl.ca.location does not point at its ca.crt"),
                Some(format!("mount Secret {}-cluster-ca-cert (key ca.crt) and set kafka.ssl.ca.location to the file", kafka.metadata.name)),
            );
        }
        if !scram {
            return;
        }
        let username = match self.env_value(app, "kafka.sasl.username") {
            Some(u) => u,
            None => {
                c.skip(
                    RuleId::SaslUserMatches,
                    format!(
                        "Deployment/{}: its SASL user name is not in these manifests",
                        app.name()
                    ),
                );
                return;
            }
        };
        let password = secret_ref(app, "kafka.sasl.password");
        self.check_user(
            c,
            app.doc,
            "env kafka.sasl.username",
            &username,
            password.as_ref(),
            kafka,
        );
        let Some(user) = self.user(&username, app.namespace()) else {
            return;
        };
        if kafka.spec.kafka.authorization.is_none() {
            return;
        }
        let mut needs: Vec<(&str, String, &str)> = Vec::new();
        if producer {
            if let Some(topic) = app.effective("kafka.topic", Some("event")) {
                needs.push(("topic", topic, "Write"));
            }
        } else {
            for topic in app
                .effective("kafka.topics", Some("event"))
                .unwrap_or_default()
                .split(',')
            {
                needs.push(("topic", topic.trim().to_owned(), "Read"));
            }
            if let Some(group) = app.effective("kafka.groupId", Some("event")) {
                needs.push(("group", group, "Read"));
            }
        }
        self.check_acls(
            c,
            app.doc,
            &format!("Deployment/{}", app.name()),
            user,
            &needs,
        );
    }

    /// The trigger presents what its listener wants, with credentials from a
    /// TriggerAuthentication of these manifests whose user may Describe topic and group.
    pub(super) fn check_trigger(
        &self,
        c: &mut Checker,
        doc: &Document,
        so: &ScaledObject,
        index: usize,
    ) {
        let trigger = &so.spec.triggers[index];
        let meta = |k: &str| trigger.metadata.get(k).map(|v| v.trim().to_owned());
        let Some(brokers) = meta("bootstrapServers") else {
            return;
        };
        let keda_ns = c.context.keda_namespace.clone();
        let Some((kafka, listener)) = brokers
            .split(',')
            .find_map(|b| self.listener(b, Some(&keda_ns)))
        else {
            return;
        };
        let field = |k: &str| format!("spec.triggers[{index}].metadata.{k}");
        let auth = trigger.authentication_ref.as_ref().map(|r| {
            (
                r.name.clone(),
                r.kind
                    .clone()
                    .unwrap_or_else(|| "TriggerAuthentication".into()),
            )
        });
        let auth_doc = auth
            .as_ref()
            .filter(|(_, kind)| kind == "TriggerAuthentication")
            .and_then(|(name, _)| self.object("TriggerAuthentication", name, doc.namespace()));
        let params = auth_doc.map(auth_params).unwrap_or_default();
        let from_auth = |k: &str| params.iter().find(|p| p.parameter == k);
        let tls = meta("tls").unwrap_or_else(|| "disable".into());
        let sasl = meta("sasl").unwrap_or_else(|| "none".into());
        let listener_name = format!(
            "Kafka/{} listener {} (port {})",
            kafka.metadata.name, listener.name, listener.port
        );
        let scram = listener_scram(listener);
        let want_tls = if listener.tls { "enable" } else { "disable" };
        if tls != want_tls && from_auth("tls").is_none() {
            c.find_with(
                doc,
                &field("tls"),
                RuleId::TriggerAuthListener,
                format!(
                    "tls: {tls} against {listener_name}, which has tls: {}",
                    listener.tls
                ),
                Some(format!("tls: {want_tls}")),
            );
        }
        let want_sasl = if scram { "scram_sha512" } else { "none" };
        if sasl != want_sasl && from_auth("sasl").is_none() {
            c.find_with(
                doc,
                &field("sasl"),
                RuleId::TriggerAuthListener,
                format!(
                    "sasl: {sasl} against {listener_name}, which wants {}",
                    if scram { "SCRAM-SHA-512" } else { "no SASL" }
                ),
                Some(format!("sasl: {want_sasl}")),
            );
        }
        if !scram && !listener.tls {
            return;
        }
        let Some((auth_name, auth_kind)) = auth else {
            c.find(
                doc,
                &format!("spec.triggers[{index}].authenticationRef"),
                RuleId::TriggerAuthListener,
                format!("{listener_name} needs credentials or a CA, and the trigger has no authenticationRef"),
            );
            return;
        };
        let Some(auth_doc) = auth_doc else {
            c.skip(
                RuleId::TriggerAuthListener,
                format!("{auth_kind}/{auth_name} is not in these manifests"),
            );
            return;
        };
        let mut required: Vec<&str> = Vec::new();
        if scram {
            required.extend(["username", "password"]);
        }
        if listener.tls {
            required.push("ca");
        }
        for p in required {
            if from_auth(p).is_none() {
                c.find(
                    auth_doc,
                    "spec",
                    RuleId::TriggerAuthListener,
                    format!("no parameter {p:?}: KEDA's Kafka scaler needs it for {listener_name} (it reads {p} only from authentication parameters)"),
                );
            }
        }
        if let Some(ca) = from_auth("ca") {
            let strimzi_ca = format!("{}-cluster-ca-cert", kafka.metadata.name);
            if ca.kind == "Secret" && (ca.name != strimzi_ca || ca.key != "ca.crt") {
                c.find_with(
                    auth_doc,
                    &ca.field,
                    RuleId::TriggerAuthListener,
                    format!("ca comes from {} key {}, not from the CA that signed {listener_name}'s certificate", ca.name, ca.key),
                    Some(format!("name: {strimzi_ca}, key: ca.crt")),
                );
            }
        }
        if !scram {
            return;
        }
        let username = from_auth("username").and_then(|p| match p.kind {
            "ConfigMap" => self.config_value(&p.name, &p.key, auth_doc.namespace()),
            _ => None,
        });
        let Some(username) = username else {
            c.skip(
                RuleId::SaslUserMatches,
                format!(
                    "TriggerAuthentication/{auth_name}: its username is not in these manifests"
                ),
            );
            return;
        };
        let password = from_auth("password").map(|p| (p.name.clone(), p.key.clone()));
        self.check_user(c, auth_doc, "spec", &username, password.as_ref(), kafka);
        if let (Some(user), Some(_)) = (
            self.user(&username, auth_doc.namespace()),
            &kafka.spec.kafka.authorization,
        ) {
            let mut needs = Vec::new();
            if let Some(topic) = meta("topic") {
                needs.push(("topic", topic, "Describe"));
            }
            if let Some(group) = meta("consumerGroup") {
                needs.push(("group", group, "Describe"));
            }
            self.check_acls(
                c,
                doc,
                &format!("ScaledObject/{}'s trigger", so.metadata.name),
                user,
                &needs,
            );
        }
    }

    /// `username` is a SCRAM KafkaUser of `kafka`, and the password is read from its Secret.
    fn check_user(
        &self,
        c: &mut Checker,
        doc: &Document,
        field: &str,
        username: &str,
        password: Option<&(String, String)>,
        kafka: &Kafka,
    ) {
        let Some(user) = self.user(username, doc.namespace()) else {
            c.find(
                doc,
                field,
                RuleId::SaslUserMatches,
                format!(
                    "user {username:?} is no KafkaUser of these manifests in namespace {}",
                    doc.namespace().unwrap_or("(unset)")
                ),
            );
            return;
        };
        if user.cluster() != Some(kafka.metadata.name.as_str()) {
            c.find(
                doc,
                field,
                RuleId::SaslUserMatches,
                format!(
                    "KafkaUser/{username} belongs to {:?}, not to Kafka/{}",
                    user.cluster().unwrap_or("(no strimzi.io/cluster label)"),
                    kafka.metadata.name
                ),
            );
        }
        if user.spec.authentication.as_ref().map(|a| a.kind.as_str()) != Some("scram-sha-512") {
            c.find(
                doc,
                field,
                RuleId::SaslUserMatches,
                format!("KafkaUser/{username} is not a scram-sha-512 user"),
            );
        }
        match password {
            Some((secret, key)) if secret != username || key != "password" => c.find_with(
                doc,
                field,
                RuleId::SaslUserMatches,
                format!("the password comes from Secret {secret} key {key}, not from KafkaUser/{username}'s Secret"),
                Some(format!("secretKeyRef name: {username}, key: password")),
            ),
            None => c.find(doc, field, RuleId::SaslUserMatches, format!("no password read from a Secret for user {username}")),
            _ => {}
        }
    }

    fn check_acls(
        &self,
        c: &mut Checker,
        doc: &Document,
        who: &str,
        user: &KafkaUser,
        needs: &[(&str, String, &str)],
    ) {
        for (kind, name, operation) in needs {
            if !user.allows(kind, name, operation) {
                c.find_with(
                    doc,
                    "-",
                    RuleId::AclCoversApp,
                    format!("{who} connects as KafkaUser/{}, whose ACLs do not allow {operation} on {kind} {name:?}", user.metadata.name),
                    Some(format!("add to KafkaUser/{}: resource {{type: {kind}, name: {name}}}, operations [{operation}]", user.metadata.name)),
                );
            }
        }
    }

    /// The literal value of an app setting, or the ConfigMap value it reads.
    fn env_value(&self, app: &Deployment, dotted: &str) -> Option<String> {
        match app.setting(dotted, None) {
            Setting::Value { value, .. } => Some(value),
            Setting::FromReference { name } => {
                let from = app
                    .env_entry(&name)?
                    .get("valueFrom")?
                    .get("configMapKeyRef")?;
                self.config_value(&text(from, "name"), &text(from, "key"), app.namespace())
            }
            Setting::Unset => None,
        }
    }

    /// Whether `kafka.ssl.ca.location` is a file mounted from the Kafka's cluster CA.
    fn mounts_cluster_ca(&self, app: &Deployment, kafka: &Kafka) -> bool {
        let Some(path) = self.env_value(app, "kafka.ssl.ca.location") else {
            return false;
        };
        let secret = format!("{}-cluster-ca-cert", kafka.metadata.name);
        let pod = app
            .doc
            .value
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"));
        let volumes = sequence(pod.and_then(|p| p.get("volumes")));
        app.containers().iter().any(|container| {
            sequence(container.get("volumeMounts")).iter().any(|mount| {
                let dir = text(mount, "mountPath");
                let Some(file) = path.strip_prefix(&format!("{}/", dir.trim_end_matches('/')))
                else {
                    return false;
                };
                volumes.iter().any(|v| {
                    let Some(s) = v.get("secret") else {
                        return false;
                    };
                    if text(v, "name") != text(mount, "name") || text(s, "secretName") != secret {
                        return false;
                    }
                    match s.get("items").and_then(Value::as_sequence) {
                        Some(items) => items
                            .iter()
                            .any(|i| text(i, "key") == "ca.crt" && text(i, "path") == file),
                        None => file == "ca.crt",
                    }
                })
            })
        })
    }
}

/// Whether the listener authenticates clients with SCRAM-SHA-512.
fn listener_scram(listener: &Listener) -> bool {
    listener.authentication.as_ref().map(|a| a.kind.as_str()) == Some("scram-sha-512")
}

/// A TriggerAuthentication parameter and where it comes from.
#[derive(Default)]
struct Param {
    parameter: String,
    kind: &'static str,
    name: String,
    key: String,
    field: String,
}

fn auth_params(doc: &Document) -> Vec<Param> {
    let spec = doc.value.get("spec");
    let mut out = Vec::new();
    for (list, kind) in [
        ("secretTargetRef", "Secret"),
        ("configMapTargetRef", "ConfigMap"),
    ] {
        for (i, t) in sequence(spec.and_then(|s| s.get(list))).iter().enumerate() {
            out.push(Param {
                parameter: text(t, "parameter"),
                kind,
                name: text(t, "name"),
                key: text(t, "key"),
                field: format!("spec.{list}[{i}]"),
            });
        }
    }
    out
}

/// The Secret name and key an app setting reads (`valueFrom.secretKeyRef`).
fn secret_ref(app: &Deployment, dotted: &str) -> Option<(String, String)> {
    let Setting::FromReference { name } = app.setting(dotted, None) else {
        return None;
    };
    let r = app
        .env_entry(&name)?
        .get("valueFrom")?
        .get("secretKeyRef")?;
    Some((text(r, "name"), text(r, "key")))
}

/// The Secret and ConfigMap keys a Deployment's containers and volumes read.
fn env_references<'a>(doc: &'a Document, out: &mut Vec<Reference<'a>>) {
    let pod = doc
        .value
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("spec"));
    for container in sequence(pod.and_then(|p| p.get("containers"))) {
        for env in sequence(container.get("env")) {
            let from = env.get("valueFrom");
            for (ref_kind, kind) in [("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")] {
                // An optional reference may name what does not exist (yet): nothing to check.
                let optional = |r: &Value| r.get("optional").and_then(Value::as_bool) == Some(true);
                if let Some(r) = from.and_then(|f| f.get(ref_kind)).filter(|r| !optional(r)) {
                    out.push(Reference {
                        doc,
                        field: format!("env {}", text(env, "name")),
                        kind,
                        name: text(r, "name"),
                        key: text(r, "key"),
                    });
                }
            }
        }
    }
    for volume in sequence(pod.and_then(|p| p.get("volumes"))) {
        for (source, kind, name_key) in [
            ("secret", "Secret", "secretName"),
            ("configMap", "ConfigMap", "name"),
        ] {
            let Some(s) = volume.get(source) else {
                continue;
            };
            for item in sequence(s.get("items")) {
                out.push(Reference {
                    doc,
                    field: format!("volume {}", text(volume, "name")),
                    kind,
                    name: text(s, name_key),
                    key: text(item, "key"),
                });
            }
        }
    }
}

fn sequence(v: Option<&Value>) -> Vec<&Value> {
    v.and_then(Value::as_sequence)
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
