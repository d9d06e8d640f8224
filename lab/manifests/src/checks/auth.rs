//! The security wiring: what the apps and KEDA's trigger must present to the listener
//! they reach, and where the credentials come from.
//!
//! A Strimzi listener with `tls: true` serves certificates signed by the cluster CA (the
//! Secret `<cluster>-cluster-ca-cert`, key `ca.crt`); with `authentication: scram-sha-512`
//! it wants a KafkaUser's name and password (the Secret named after the user, key
//! `password`); with `authorization: simple` the user's ACLs must allow what the client
//! does. The apps read these through `kafka.security.protocol` and friends (the binaries'
//! own settings), the trigger through `tls`, `sasl` and a TriggerAuthentication (the one
//! reading of it). Each mismatch would show only in the cluster, as a client that never
//! connects or a ScaledObject that never becomes Ready.

use common::kafka::security;
use serde_yaml_ng::Value;

use super::{Checker, Manifests};
use crate::apps::{Deployment, EnvValue, Role};
use crate::cluster::{resolve, Target};
use crate::strimzi::{Kafka, KafkaUser, Listener, CLUSTER_CA_KEYS};
use crate::Document;
use lab_model::keda::source::{KafkaSource, SaslMode};
use lab_model::keda::{Checked, TriggerReading};
use lab_model::rules::RuleId;

/// A key of a Secret or ConfigMap that something reads.
struct Reference<'a> {
    doc: &'a Document,
    field: String,
    kind: RefKind,
    name: String,
    key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Secret,
    ConfigMap,
}

impl RefKind {
    fn as_str(self) -> &'static str {
        match self {
            RefKind::Secret => "Secret",
            RefKind::ConfigMap => "ConfigMap",
        }
    }
}

/// The listener (and its Kafka) a pod in `from` reaches at `address`.
fn listener<'m>(
    m: &'m Manifests,
    address: &str,
    from: Option<&str>,
) -> Option<(&'m Kafka, &'m Listener)> {
    let Ok(Target::Service {
        name,
        namespace,
        port,
        ..
    }) = resolve(address, from, &m.namespaces)
    else {
        return None;
    };
    m.kafkas.iter().find_map(|(doc, kafka)| {
        let here = namespace.is_none() || doc.namespace() == namespace.as_deref();
        kafka
            .spec
            .kafka
            .listeners
            .iter()
            .find(|l| here && l.port == port && l.bootstrap_service(&kafka.metadata.name) == name)
            .map(|l| (kafka, l))
    })
}

fn user<'m>(m: &'m Manifests, name: &str, namespace: Option<&str>) -> Option<&'m KafkaUser> {
    m.users
        .iter()
        .find(|(d, u)| u.metadata.name == name && d.namespace() == namespace)
        .map(|(_, u)| u)
}

/// The value of a ConfigMap key of these manifests.
fn config_value(m: &Manifests, name: &str, key: &str, namespace: Option<&str>) -> Option<String> {
    m.object("ConfigMap", name, namespace)?
        .value
        .get("data")?
        .get(key)?
        .as_str()
        .map(str::to_owned)
}

/// Every Secret and ConfigMap key the Deployments and TriggerAuthentications read exists:
/// in Strimzi's generated Secrets by Strimzi's key names, in objects of these manifests by
/// their data.
pub(super) fn check_references(c: &mut Checker, m: &Manifests) {
    let mut refs = Vec::new();
    for doc in m.documents {
        match doc.kind() {
            "Deployment" => env_references(doc, &mut refs),
            "TriggerAuthentication" => {
                refs.extend(auth_params(doc).into_iter().map(|p| Reference {
                    doc,
                    field: p.field,
                    kind: p.kind,
                    name: p.name,
                    key: p.key,
                }))
            }
            _ => {}
        }
    }
    for r in &refs {
        check_reference(c, m, r);
    }
}

/// The Secret a Strimzi operator writes under `name` in `ns`, and the keys it writes.
fn generated_secret(
    m: &Manifests,
    name: &str,
    ns: Option<&str>,
) -> Option<(String, &'static [&'static str])> {
    if let Some(u) = user(m, name, ns) {
        return Some((format!("KafkaUser/{name}"), u.secret_keys()));
    }
    m.kafkas.iter().find_map(|(d, k)| {
        (format!("{}-cluster-ca-cert", k.metadata.name) == name && d.namespace() == ns).then(|| {
            (
                format!("Kafka/{}'s cluster CA", k.metadata.name),
                CLUSTER_CA_KEYS,
            )
        })
    })
}

fn check_reference(c: &mut Checker, m: &Manifests, r: &Reference) {
    let ns = r.doc.namespace();
    let generated = (r.kind == RefKind::Secret)
        .then(|| generated_secret(m, &r.name, ns))
        .flatten();
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
    let kind = r.kind.as_str();
    match m.object(kind, &r.name, ns) {
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
                    format!("{kind} {} has no key {:?}", r.name, r.key),
                );
            }
        }
        None => c.skip(
            RuleId::StrimziSecretKeys,
            format!("{kind} {} is not made by these manifests", r.name),
        ),
    }
}

/// An app connects to its listener as it wants: protocol, mechanism, CA, then (with
/// SCRAM) a KafkaUser's name and password and ACLs allowing what it does.
pub(super) fn check_app(c: &mut Checker, m: &Manifests, app: &Deployment) {
    let Some(role) = app.role() else {
        return;
    };
    let Some(brokers) = app.list(role.brokers()) else {
        return;
    };
    let Some((kafka, listener)) = brokers.iter().find_map(|b| listener(m, b, app.namespace()))
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
    let described = listener.describe(&kafka.metadata.name);
    let want = listener.protocol();
    // A protocol from a Secret is taken to fit; an unset one is the binaries' default.
    let protocol = match app.env(&security::SECURITY_PROTOCOL, None) {
        EnvValue::FromReference { .. } => Some(want),
        _ => app.protocol(),
    };
    if protocol != Some(want) {
        let shown = app.value(&security::SECURITY_PROTOCOL).unwrap_or_default();
        c.find_with(
            app.doc,
            &format!("env {}", security::SECURITY_PROTOCOL.key),
            RuleId::AppAuthListener,
            format!(
                "{} against {described}, which wants {}",
                shown.to_ascii_lowercase(),
                want.as_str()
            ),
            Some(format!(
                "{}: {}",
                security::SECURITY_PROTOCOL.key,
                want.as_str()
            )),
        );
        return;
    }
    if listener.scram() {
        if let EnvValue::Value { value, .. } = app.env(&security::SASL_MECHANISM, None) {
            if !value.eq_ignore_ascii_case("SCRAM-SHA-512") {
                c.find_with(
                    app.doc,
                    &format!("env {}", security::SASL_MECHANISM.key),
                    RuleId::AppAuthListener,
                    format!("{value} against {described}, which authenticates with scram-sha-512"),
                    Some(format!("{}: SCRAM-SHA-512", security::SASL_MECHANISM.key)),
                );
            }
        }
    }
    if listener.tls && !mounts_cluster_ca(m, app, kafka) {
        c.find_with(
            app.doc,
            &format!("env {}", security::SSL_CA_LOCATION.key),
            RuleId::AppAuthListener,
            format!("{described} serves a certificate signed by Strimzi's cluster CA, and {} does not point at its ca.crt", security::SSL_CA_LOCATION.key),
            Some(format!("mount Secret {}-cluster-ca-cert (key ca.crt) and set {} to the file", kafka.metadata.name, security::SSL_CA_LOCATION.key)),
        );
    }
    if listener.scram() {
        check_app_user(c, m, app, role, kafka);
    }
}

/// The app's SCRAM user exists for that Kafka, its password is that user's, and its ACLs
/// allow what the app does.
fn check_app_user(c: &mut Checker, m: &Manifests, app: &Deployment, role: Role, kafka: &Kafka) {
    let Some(username) = env_value(m, app, &security::SASL_USERNAME) else {
        c.skip(
            RuleId::SaslUserMatches,
            format!(
                "Deployment/{}: its SASL user name is not in these manifests",
                app.name()
            ),
        );
        return;
    };
    let password = secret_ref(app, &security::SASL_PASSWORD);
    let field = format!("env {}", security::SASL_USERNAME.key);
    check_user(c, m, app.doc, &field, &username, password.as_ref(), kafka);
    let Some(user) = user(m, &username, app.namespace()) else {
        return;
    };
    if kafka.spec.kafka.authorization.is_none() {
        return;
    }
    let mut needs: Vec<(&str, String, &str)> = Vec::new();
    match role {
        Role::Producer => {
            if let Some(topic) = app.value(&producer::config::TOPIC) {
                needs.push(("topic", topic, "Write"));
            }
        }
        Role::Consumer => {
            for topic in app.list(&consumer::config::TOPICS).unwrap_or_default() {
                needs.push(("topic", topic, "Read"));
            }
            if let Some(group) = app.value(&consumer::config::GROUP_ID) {
                needs.push(("group", group, "Read"));
            }
        }
    }
    check_acls(
        c,
        app.doc,
        &format!("Deployment/{}", app.name()),
        user,
        &needs,
    );
}

/// The trigger presents what its listener wants (`tls`, `sasl`), with credentials from a
/// TriggerAuthentication of these manifests whose user may Describe topic and group.
pub(super) fn check_trigger(
    c: &mut Checker,
    m: &Manifests,
    doc: &Document,
    checked: &Checked,
    reading: &TriggerReading,
) {
    let (Some(so), t) = (&checked.object, &reading.source) else {
        return;
    };
    let keda_ns = c.context.keda_namespace.clone();
    let Some((kafka, listener)) = t
        .bootstrap_servers
        .iter()
        .find_map(|b| listener(m, b, Some(&keda_ns)))
    else {
        return;
    };
    let field = |k: &str| format!("spec.triggers[{}].metadata.{k}", reading.index);
    let trigger = &so.spec.triggers[reading.index];
    let auth_ref = trigger.authentication_ref.as_ref();
    let auth_kind = auth_ref
        .and_then(|r| r.kind.clone())
        .unwrap_or_else(|| "TriggerAuthentication".into());
    let auth_doc = auth_ref
        .filter(|_| auth_kind == "TriggerAuthentication")
        .and_then(|r| m.object("TriggerAuthentication", &r.name, doc.namespace()));
    let params = auth_doc.map(auth_params).unwrap_or_default();
    let from_auth = |k: &str| params.iter().any(|p| p.parameter == k);
    let described = listener.describe(&kafka.metadata.name);
    if t.tls != listener.tls && !from_auth("tls") {
        let (tls, want) = (enable(t.tls), enable(listener.tls));
        c.find_with(
            doc,
            &field("tls"),
            RuleId::TriggerAuthListener,
            format!(
                "tls: {tls} against {described}, which has tls: {}",
                listener.tls
            ),
            Some(format!("tls: {want}")),
        );
    }
    let want_sasl = if listener.scram() {
        SaslMode::ScramSha512
    } else {
        SaslMode::None
    };
    if t.sasl != want_sasl && !from_auth("sasl") {
        c.find_with(
            doc,
            &field("sasl"),
            RuleId::TriggerAuthListener,
            format!(
                "sasl: {} against {described}, which wants {}",
                t.sasl.as_str(),
                if listener.scram() {
                    "SCRAM-SHA-512"
                } else {
                    "no SASL"
                }
            ),
            Some(format!("sasl: {}", want_sasl.as_str())),
        );
    }
    if !listener.scram() && !listener.tls {
        return;
    }
    let Some(auth_ref) = auth_ref else {
        c.find(
            doc,
            &format!("spec.triggers[{}].authenticationRef", reading.index),
            RuleId::TriggerAuthListener,
            format!(
                "{described} needs credentials or a CA, and the trigger has no authenticationRef"
            ),
        );
        return;
    };
    let Some(auth_doc) = auth_doc else {
        c.skip(
            RuleId::TriggerAuthListener,
            format!("{auth_kind}/{} is not in these manifests", auth_ref.name),
        );
        return;
    };
    let wiring = TriggerAuth {
        doc: auth_doc,
        params: &params,
        kafka,
        listener,
    };
    wiring.check_parameters(c);
    if listener.scram() {
        wiring.check_user(c, m, doc, so, t, &auth_ref.name);
    }
}

fn enable(on: bool) -> &'static str {
    if on {
        "enable"
    } else {
        "disable"
    }
}

/// A trigger's TriggerAuthentication, checked against the listener it must satisfy.
struct TriggerAuth<'a> {
    doc: &'a Document,
    params: &'a [Param],
    kafka: &'a Kafka,
    listener: &'a Listener,
}

impl TriggerAuth<'_> {
    fn param(&self, parameter: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.parameter == parameter)
    }

    /// username and password with SCRAM, ca with TLS (KEDA reads them only from
    /// authentication parameters), and the ca from the Kafka's cluster CA.
    fn check_parameters(&self, c: &mut Checker) {
        let described = self.listener.describe(&self.kafka.metadata.name);
        let mut required: Vec<&str> = Vec::new();
        if self.listener.scram() {
            required.extend(["username", "password"]);
        }
        if self.listener.tls {
            required.push("ca");
        }
        for p in required.into_iter().filter(|p| self.param(p).is_none()) {
            c.find(
                self.doc,
                "spec",
                RuleId::TriggerAuthListener,
                format!("no parameter {p:?}: KEDA's Kafka scaler needs it for {described} (it reads {p} only from authentication parameters)"),
            );
        }
        let strimzi_ca = format!("{}-cluster-ca-cert", self.kafka.metadata.name);
        if let Some(ca) = self.param("ca") {
            if ca.kind == RefKind::Secret && (ca.name != strimzi_ca || ca.key != "ca.crt") {
                c.find_with(
                    self.doc,
                    &ca.field,
                    RuleId::TriggerAuthListener,
                    format!("ca comes from {} key {}, not from the CA that signed {described}'s certificate", ca.name, ca.key),
                    Some(format!("name: {strimzi_ca}, key: ca.crt")),
                );
            }
        }
    }

    /// The username is a SCRAM user of the Kafka, the password its own, and its ACLs let
    /// KEDA Describe the trigger's topic and group.
    fn check_user(
        &self,
        c: &mut Checker,
        m: &Manifests,
        doc: &Document,
        so: &lab_model::keda::model::ScaledObject,
        t: &KafkaSource,
        auth_name: &str,
    ) {
        let ns = self.doc.namespace();
        let username = self
            .param("username")
            .filter(|p| p.kind == RefKind::ConfigMap)
            .and_then(|p| config_value(m, &p.name, &p.key, ns));
        let Some(username) = username else {
            c.skip(
                RuleId::SaslUserMatches,
                format!(
                    "TriggerAuthentication/{auth_name}: its username is not in these manifests"
                ),
            );
            return;
        };
        let password = self
            .param("password")
            .map(|p| (p.name.clone(), p.key.clone()));
        check_user(
            c,
            m,
            self.doc,
            "spec",
            &username,
            password.as_ref(),
            self.kafka,
        );
        let Some(user) = user(m, &username, ns) else {
            return;
        };
        if self.kafka.spec.kafka.authorization.is_none() {
            return;
        }
        let mut needs = Vec::new();
        if let Some(topic) = t.topics.first() {
            needs.push(("topic", topic.clone(), "Describe"));
        }
        if !t.consumer_group.is_empty() {
            needs.push(("group", t.consumer_group.clone(), "Describe"));
        }
        let who = format!("ScaledObject/{}'s trigger", so.metadata.name);
        check_acls(c, doc, &who, user, &needs);
    }
}

/// `username` is a SCRAM KafkaUser of `kafka`, and the password is read from its Secret.
fn check_user(
    c: &mut Checker,
    m: &Manifests,
    doc: &Document,
    field: &str,
    username: &str,
    password: Option<&(String, String)>,
    kafka: &Kafka,
) {
    let Some(user) = user(m, username, doc.namespace()) else {
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
        None => c.find(
            doc,
            field,
            RuleId::SaslUserMatches,
            format!("no password read from a Secret for user {username}"),
        ),
        _ => {}
    }
}

fn check_acls(
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
fn env_value(m: &Manifests, app: &Deployment, setting: &common::config::Setting) -> Option<String> {
    match app.env(setting, None) {
        EnvValue::Value { value, .. } => Some(value),
        EnvValue::FromReference { name } => {
            let from = app
                .env_entry(&name)?
                .get("valueFrom")?
                .get("configMapKeyRef")?;
            config_value(m, &text(from, "name"), &text(from, "key"), app.namespace())
        }
        EnvValue::Unset => None,
    }
}

/// Whether `kafka.ssl.ca.location` is a file mounted from the Kafka's cluster CA.
fn mounts_cluster_ca(m: &Manifests, app: &Deployment, kafka: &Kafka) -> bool {
    let Some(path) = env_value(m, app, &security::SSL_CA_LOCATION) else {
        return false;
    };
    let secret = format!("{}-cluster-ca-cert", kafka.metadata.name);
    let volumes = sequence(app.pod().and_then(|p| p.get("volumes")));
    let mounted_ca = |mount: &Value, file: &str| {
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
    };
    app.containers().iter().any(|container| {
        sequence(container.get("volumeMounts")).iter().any(|mount| {
            let dir = text(mount, "mountPath");
            path.strip_prefix(&format!("{}/", dir.trim_end_matches('/')))
                .is_some_and(|file| mounted_ca(mount, file))
        })
    })
}

/// A TriggerAuthentication parameter and where it comes from.
struct Param {
    parameter: String,
    kind: RefKind,
    name: String,
    key: String,
    field: String,
}

fn auth_params(doc: &Document) -> Vec<Param> {
    let spec = doc.value.get("spec");
    let mut out = Vec::new();
    for (list, kind) in [
        ("secretTargetRef", RefKind::Secret),
        ("configMapTargetRef", RefKind::ConfigMap),
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
fn secret_ref(app: &Deployment, setting: &common::config::Setting) -> Option<(String, String)> {
    let EnvValue::FromReference { name } = app.env(setting, None) else {
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
            for (ref_kind, kind) in [
                ("secretKeyRef", RefKind::Secret),
                ("configMapKeyRef", RefKind::ConfigMap),
            ] {
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
            ("secret", RefKind::Secret, "secretName"),
            ("configMap", RefKind::ConfigMap, "name"),
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
