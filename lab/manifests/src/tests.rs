//! Every rule of `lab check-manifests`, shown to fire on a broken copy of the repository's
//! manifests (as `kubectl kustomize k8s` renders them: the kustomization's namespace on
//! every object), and to stay quiet on the manifests themselves.

use lab_model::rules::RuleId;
use std::path::Path;

use super::*;

fn k8s() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../k8s")
}

/// The kustomization's `namespace:`.
fn namespace() -> String {
    let text = std::fs::read_to_string(k8s().join("kustomization.yaml")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("namespace: "))
        .unwrap()
        .trim()
        .to_owned()
}

/// The repository's manifests, each file's text with the namespace kustomize sets.
fn repo_text() -> String {
    let ns = namespace();
    [
        "kafka/kafka.yaml",
        "kafka/topic.yaml",
        "producer/deployment.yaml",
        "producer/service.yaml",
        "consumer/deployment.yaml",
        "keda/scaled-object.yaml",
    ]
    .iter()
    .map(|f| {
        std::fs::read_to_string(k8s().join(f)).unwrap().replace(
            "\nmetadata:\n",
            &format!("\nmetadata:\n  namespace: {ns}\n"),
        )
    })
    .collect::<Vec<_>>()
    .join("\n---\n")
}

fn dockerfile() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Dockerfile")).unwrap()
}

fn context() -> Context {
    Context {
        dockerfile: Some(dockerfile()),
        ..Context::default()
    }
}

fn report_with(text: &str, context: &Context) -> Report {
    let docs =
        documents(text, "manifests.yaml", Path::new(".")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    check(&docs, context)
}

fn report(text: &str) -> Report {
    report_with(text, &context())
}

#[test]
fn the_repository_manifests_pass() {
    let r = report(&repo_text());
    assert_eq!(r.findings, Vec::<Finding>::new());
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert!(r.skipped.is_empty(), "every check applies: {:?}", r.skipped);
    let advice: Vec<RuleId> = r.advice.iter().map(|a| a.rule).collect();
    assert_eq!(
        advice,
        [RuleId::AdviceCooldownNotAbovePolling],
        "the published settings, kept on purpose, get their one advice"
    );
}

/// Advice sees the topic's partitions through the KafkaTopic the trigger names, and a key
/// only a newer KEDA reads is advice, not a finding.
#[test]
fn advice_reads_the_topic_and_keys_newer_than_the_pinned_keda() {
    let text = repo_text()
        .replace("partitions: 10", "partitions: 120")
        .replace(
            "lagThreshold: \"5\"",
            "lagThreshold: \"5\"\n        fullMetadata: \"true\"",
        )
        .replace("  maxReplicaCount: 10\n", "");
    let r = report(&text);
    let advice: Vec<RuleId> = r.advice.iter().map(|a| a.rule).collect();
    assert!(advice.contains(&RuleId::AdviceManyPartitions), "{advice:?}");
    assert!(advice.contains(&RuleId::KafkaMainOnly), "{advice:?}");
    assert!(
        r.findings.iter().all(|f| f.rule != RuleId::KafkaMainOnly),
        "{:?}",
        r.findings
    );
}

/// A broken copy of the manifests, the rule it breaks, and texts the finding and its fix
/// must contain.
type Case = (RuleId, String, String, String);

fn assert_each_caught(good: &str, cases: Vec<Case>) {
    for (rule, broken, message, fix) in cases {
        assert_ne!(broken, good, "{rule}: the broken copy must differ");
        let found = report(&broken).findings;
        assert!(
            found
                .iter()
                .any(|f| f.rule == rule && f.message.contains(&message) && f.fix.contains(&fix)),
            "{rule}: {message:?} / fix {fix:?} not in {found:#?}"
        );
    }
}

/// Each rule of what a cluster enforces that schema validators miss, shown to fail on a
/// broken copy of the manifests.
#[test]
fn every_cluster_rule_catches_its_breakage() {
    let good = repo_text();
    let ns = namespace();
    let fqdn = format!("my-cluster-kafka-bootstrap.{ns}.svc:9092");
    let cases: Vec<Case> = vec![
        // What a cluster enforces that schema validators miss.
        (RuleId::TriggerHostResolvable,
         good.replace(&format!("bootstrapServers: {fqdn}"), "bootstrapServers: my-cluster-kafka-bootstrap:9092"),
         "is a bare Service name: keda-operator resolves it in its own namespace (keda)".into(),
         format!("bootstrapServers: {fqdn}")),
        (RuleId::TriggerHostKafka,
         good.replace(&format!("bootstrapServers: {fqdn}"), "bootstrapServers: my-cluster-kafka-bootstrap.default.svc:9092"),
         "names no bootstrap Service of a Kafka in these manifests".into(),
         format!("bootstrapServers: {fqdn}")),
        (RuleId::TriggerHostKafka,
         good.replace(&format!("bootstrapServers: {fqdn}"), &format!("bootstrapServers: my-cluster-kafka-bootstrap.{ns}.svc:9093")),
         "my-cluster-kafka-bootstrap.keda-kafka-lab.svc:9093 names no bootstrap Service".into(),
         format!("bootstrapServers: {fqdn}")),
        (RuleId::StrimziKafkaVersion,
         good.replace("version: 4.3.1", "version: 4.1.1"),
         "Kafka 4.1.1 is not supported by Strimzi 1.2.0 (it supports 4.2.0, 4.2.1, 4.3.0, 4.3.1".into(),
         "k8s/versions.env".into()),
        (RuleId::ScaleTargetNoReplicas,
         good.replace("spec:\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kafka-consumer", "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: kafka-consumer"),
         "every kubectl apply resets the count".into(),
         "remove spec.replicas".into()),
        (RuleId::OffsetResetMatches,
         good.replace("offsetResetPolicy: earliest", "offsetResetPolicy: latest"),
         "latest while Deployment/kafka-consumer starts at earliest".into(),
         "offsetResetPolicy: earliest".into()),
        (RuleId::OffsetResetMatches,
         good.replace("        offsetResetPolicy: earliest\n", ""),
         "latest (KEDA's default) while Deployment/kafka-consumer starts at earliest".into(),
         "offsetResetPolicy: earliest".into()),
        (RuleId::ImagePullPolicy,
         good.replacen("imagePullPolicy: IfNotPresent", "imagePullPolicy: Always", 1),
         "imagePullPolicy: Always".into(),
         "IfNotPresent".into()),
        (RuleId::ImagePullPolicy,
         good.replace("          imagePullPolicy: IfNotPresent\n", ""),
         "has no tag (or :latest), so Kubernetes pulls it Always".into(),
         "IfNotPresent".into()),
        (RuleId::TriggerMatchesApps,
         good.replace("consumerGroup: event", "consumerGroup: events"),
         "\"events\" is not Deployment/kafka-consumer's group \"event\"".into(),
         "consumerGroup: event".into()),
        (RuleId::TriggerMatchesApps,
         good.replace("        topic: event", "        topic: events"),
         "\"events\" is not a topic Deployment/kafka-consumer reads".into(),
         "topic: event".into()),
        (RuleId::TriggerMatchesApps,
         good.replacen(&format!("value: {fqdn}"), "value: other-kafka-bootstrap:9092", 1),
         "is not the Kafka Deployment/kafka-producer-callback reaches".into(),
         format!("bootstrapServers: other-kafka-bootstrap.{ns}.svc:9092")),
        (RuleId::TriggerTopicExists,
         good.replace("  name: event\n  labels:\n    strimzi.io/cluster", "  name: events\n  labels:\n    strimzi.io/cluster"),
         "\"event\" is not a KafkaTopic here".into(),
         "add the KafkaTopic".into()),
        (RuleId::MaxReplicasPartitions,
         good.replace("  partitions: 10", "  partitions: 3"),
         "10 is above the 3 partitions of topic event".into(),
         "maxReplicaCount <= partitions".into()),
        (RuleId::ScaleTargetExists,
         good.replace("  scaleTargetRef:\n    name: kafka-consumer", "  scaleTargetRef:\n    name: consumer"),
         "names Deployment consumer in namespace keda-kafka-lab, which is not a Deployment here".into(),
         "name the consumer Deployment".into()),
    ];
    assert_each_caught(&good, cases);
}

/// Each of KEDA's, Strimzi's and the API server's rules, shown to fail on a broken copy of
/// the manifests.
#[test]
fn every_keda_strimzi_and_api_rule_catches_its_breakage() {
    let good = repo_text();
    let cases: Vec<Case> = vec![
        // KEDA's own rules.
        (RuleId::KedaScaleTargetKind,
         good.replace("  scaleTargetRef:\n    name: kafka-consumer", "  scaleTargetRef:\n    kind: deployment\n    name: kafka-consumer"),
         "no matches for kind \"deployment\"".into(),
         "Deployment".into()),
        (RuleId::KedaReplicaBounds,
         good.replace("  minReplicaCount: 0\n", "  idleReplicaCount: 0\n"),
         "IdleReplicaCount=0 must be less than MinReplicaCount=0".into(),
         "idleReplicaCount".into()),
        (RuleId::KedaSchema,
         good.replace("  cooldownPeriod: 30", "  cooldownPeriod: 30\n  coolDown: 30"),
         "unknown field `coolDown`".into(),
         "remove the unknown field".into()),
        (RuleId::KedaSchema,
         good.replace("lagThreshold: \"5\"", "lagThreshold: 5"),
         "invalid type: integer `5`, expected a string".into(),
         "quoted strings".into()),
        (RuleId::KafkaUnknownKey,
         good.replace("lagThreshold:", "lagTreshold:"),
         "did you mean lagThreshold?".into(),
         "spelling".into()),
        (RuleId::KedaMetricType,
         good.replace("    - type: kafka\n", "    - type: kafka\n      metricType: Utilization\n"),
         "'Utilization' metric type is unsupported".into(),
         "AverageValue".into()),
        // Strimzi.
        (RuleId::StrimziApiVersion,
         good.replace("kafka.strimzi.io/v1\nkind: KafkaTopic", "kafka.strimzi.io/v1beta2\nkind: KafkaTopic"),
         "kafka.strimzi.io/v1beta2 is not served".into(),
         "kafka.strimzi.io/v1".into()),
        (RuleId::StrimziClusterLabel,
         good.replace("    strimzi.io/cluster: my-cluster\nspec:\n  partitions", "    strimzi.io/cluster: other\nspec:\n  partitions"),
         "label strimzi.io/cluster is Some(\"other\")".into(),
         "strimzi.io/cluster".into()),
        (RuleId::StrimziNodePool,
         good.replace("strimzi.io/cluster: my-cluster\nspec:\n  replicas: 1\n  roles", "strimzi.io/cluster: elsewhere\nspec:\n  replicas: 1\n  roles"),
         "no KafkaNodePool labelled strimzi.io/cluster: my-cluster".into(),
         "KafkaNodePool".into()),
        (RuleId::StrimziSchema,
         good.replace("        tls: false\n", "        tls: false\n        tsl: true\n"),
         "unknown field `tsl`".into(),
         "Strimzi's type".into()),
        // What the API server refuses (the published manifests' typos).
        (RuleId::DeploymentShape,
         good.replace("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  namespace: keda-kafka-lab\n  name: kafka-consumer", "apiVersion: apps/v1 kafka-consumer\nkind: Deployment\nmetadata:\n  namespace: keda-kafka-lab\n  name: kafka-consumer"),
         "apiVersion \"apps/v1 kafka-consumer\" is not apps/v1".into(),
         "apps/v1".into()),
        (RuleId::DeploymentShape,
         good.replace("    matchLabels:\n      app.kubernetes.io/name: kafka-producer-callback", "    matchLabels:\n      app: kafka-producer"),
         "selector app=kafka-producer does not match".into(),
         "selector.matchLabels".into()),
    ];
    assert_each_caught(&good, cases);
    let mut no_stage = context();
    no_stage.dockerfile = Some(dockerfile().replace(" AS consumer", " AS other"));
    let found = report_with(&good, &no_stage).findings;
    assert!(
        found.iter().any(|f| f.rule == RuleId::ImageDockerfileTarget
            && f.message.contains("no stage `AS consumer`")),
        "{found:?}"
    );
    let mut old_strimzi = context();
    old_strimzi.strimzi = "1.1.0".into();
    let found = report_with(&good, &old_strimzi).findings;
    assert!(
        found.iter().any(|f| f.rule == RuleId::StrimziKafkaVersion
            && f.message
                .contains("Kafka 4.3.1 is not supported by Strimzi 1.1.0")),
        "{found:?}"
    );
}

#[test]
fn a_finding_names_file_object_field_rule_and_fix() {
    let broken = repo_text().replace("offsetResetPolicy: earliest", "offsetResetPolicy: latest");
    let docs = documents(&broken, "rendered.yaml", Path::new(".")).unwrap();
    let f = &check(&docs, &context()).findings[0];
    let line = f.to_string();
    assert!(
        line.starts_with("rendered.yaml: ScaledObject/kafka-consumer: spec.triggers[0].metadata.offsetResetPolicy [offset-reset-matches]: "),
        "{line}"
    );
    assert!(
        line.contains("\n    fix: offsetResetPolicy: earliest"),
        "{line}"
    );
}

#[test]
fn origin_annotations_name_the_source_file() {
    let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../../k8s/producer/service.yaml\n";
    let docs = documents(text, "rendered.yaml", Path::new(".tools/render")).unwrap();
    assert_eq!(docs[0].file, "k8s/producer/service.yaml");
}

/// Given the published write-up's own manifests (ScaledObject and two Deployments, no
/// Kafka), every check that applies runs, and the report says which were skipped.
#[test]
fn manifests_without_kafka_get_every_check_that_applies() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/published-writeup.yaml"),
    )
    .unwrap();
    let r = report(&text);
    let has = |rule: RuleId, text: &str| {
        r.findings
            .iter()
            .any(|f| f.rule == rule && f.message.contains(text))
    };
    assert!(
        has(RuleId::ScaleTargetExists, "names Deployment consumer"),
        "{:#?}",
        r.findings
    );
    assert!(has(
        RuleId::TriggerHostResolvable,
        "kafka-cluster-kafka-bootstrap:9092 is a bare Service name"
    ));
    assert!(has(
        RuleId::TriggerMatchesApps,
        "is not the Kafka Deployment/kafka-consumer reaches"
    ));
    assert!(has(
        RuleId::TriggerMatchesApps,
        "\"my-group\" is not Deployment/kafka-consumer's group \"event\""
    ));
    assert!(has(
        RuleId::TriggerMatchesApps,
        "\"test-topic\" is not a topic Deployment/kafka-consumer reads"
    ));
    assert!(has(
        RuleId::OffsetResetMatches,
        "latest while Deployment/kafka-consumer starts at earliest (the consumer's default)"
    ));
    assert!(has(
        RuleId::DeploymentShape,
        "apiVersion \"apps/v1 kafka-consumer\""
    ));
    assert!(has(
        RuleId::DeploymentShape,
        "replicas must be a whole number, not u5"
    ));
    assert!(has(
        RuleId::DeploymentShape,
        "selector app=kafka-producer does not match"
    ));
    assert!(has(RuleId::ImagePullPolicy, "imagePullPolicy: Always"));
    assert!(has(
        RuleId::ImagePullPolicy,
        "\"kafka-consumer\" has no tag"
    ));
    let skipped: Vec<RuleId> = r.skipped.iter().map(|(rule, _)| *rule).collect();
    for rule in [
        RuleId::StrimziKafkaVersion,
        RuleId::StrimziNodePool,
        RuleId::TriggerTopicExists,
        RuleId::MaxReplicasPartitions,
    ] {
        assert!(skipped.contains(&rule), "{rule} skipped: {:?}", r.skipped);
    }
    assert!(r
        .skipped
        .iter()
        .any(|(_, why)| why.contains("no Kafka in these manifests")));
}

#[test]
fn a_managed_kafka_outside_the_cluster_is_accepted_and_the_kafka_checks_are_skipped() {
    let text = std::fs::read_to_string(k8s().join("keda/scaled-object.yaml"))
        .unwrap()
        .replace(
            "my-cluster-kafka-bootstrap.keda-kafka-lab.svc:9092",
            "pkc-123.eu-west-1.aws.confluent.cloud:9092",
        );
    let r = report(&text);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r
        .skipped
        .iter()
        .any(|(rule, _)| *rule == RuleId::ScaleTargetExists));
}

/// The secured overlay as `kubectl kustomize overlays/secure` renders it.
fn secure_text() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../overlays/secure");
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir)
        .output()
        .expect("kubectl (for kustomize) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_secured_overlay_passes_with_every_wiring_check() {
    let r = report(&secure_text());
    assert_eq!(r.findings, Vec::<Finding>::new());
    // The CA Secret and the users' Secrets are Strimzi's: checked by Strimzi's key names.
    assert!(r.skipped.is_empty(), "every check applies: {:?}", r.skipped);
}

/// Each wiring rule, shown to fail on a broken copy of the secured overlay. The upstream
/// behaviour they pin: Strimzi 1.2.0 user-operator `KafkaUserModel` (the user's Secret is
/// named after it, `getSecretName`; keys `KEY_PASSWORD`, `KEY_SASL_JAAS_CONFIG`;
/// `getScramUserName`), api `KafkaResources.clusterCaCertificateSecretName` and
/// operator-common `Ca.CA_CRT` (`<cluster>-cluster-ca-cert`, `ca.crt`); KEDA v2.20.2
/// `pkg/scalers/kafka_scaler.go` `kafkaMetadata` (`tls`, `sasl` from trigger metadata or
/// authParams; `username`, `password`, `ca` from authParams only).
#[test]
fn every_wiring_rule_catches_its_breakage() {
    let good = secure_text();
    let cases: Vec<(RuleId, String, &str)> = vec![
        (RuleId::StrimziSecretKeys,
         good.replacen("key: password", "key: passwd", 1),
         "has no key \"passwd\"; its keys are password, sasl.jaas.config"),
        (RuleId::StrimziSecretKeys,
         good.replacen("key: ca.crt", "key: ca.pem", 1),
         "Secret my-cluster-cluster-ca-cert (made by Strimzi for Kafka/my-cluster's cluster CA) has no key \"ca.pem\""),
        (RuleId::StrimziSecretKeys,
         good.replace("  consumer: kafka-consumer\n", ""),
         "ConfigMap kafka-users has no key \"consumer\""),
        (RuleId::AppAuthListener,
         good.replacen("value: sasl_ssl", "value: ssl", 1),
         "ssl against Kafka/my-cluster listener tls (port 9093), which wants sasl_ssl"),
        (RuleId::AppAuthListener,
         good.replacen("value: SCRAM-SHA-512", "value: SCRAM-SHA-256", 1),
         "SCRAM-SHA-256 against Kafka/my-cluster listener tls (port 9093)"),
        (RuleId::AppAuthListener,
         good.replacen("value: /etc/kafka-ca/ca.crt", "value: /etc/ssl/certs/ca-certificates.crt", 1),
         "kafka.ssl.ca.location does not point at its ca.crt"),
        (RuleId::TriggerAuthListener,
         good.replace("      tls: enable\n", ""),
         "tls: disable against Kafka/my-cluster listener tls (port 9093), which has tls: true"),
        (RuleId::TriggerAuthListener,
         good.replace("sasl: scram_sha512", "sasl: scram_sha256"),
         "sasl: scram_sha256 against Kafka/my-cluster listener tls"),
        (RuleId::TriggerAuthListener,
         good.replace("  - authenticationRef:\n      name: kafka-consumer\n    metadata:", "  - metadata:"),
         "needs credentials or a CA, and the trigger has no authenticationRef"),
        (RuleId::TriggerAuthListener,
         good.replace("  - key: ca.crt\n    name: my-cluster-cluster-ca-cert\n    parameter: ca\n", ""),
         "no parameter \"ca\""),
        (RuleId::SaslUserMatches,
         good.replace("  consumer: kafka-consumer\n", "  consumer: kafka-reader\n"),
         "user \"kafka-reader\" is no KafkaUser of these manifests"),
        (RuleId::SaslUserMatches,
         good.replace("key: password\n              name: kafka-producer-callback", "key: password\n              name: kafka-consumer"),
         "the password comes from Secret kafka-consumer key password, not from KafkaUser/kafka-producer-callback's Secret"),
        (RuleId::AclCoversApp,
         good.replace("      - Write\n", ""),
         "KafkaUser/kafka-producer-callback, whose ACLs do not allow Write on topic \"event\""),
        (RuleId::AclCoversApp,
         good.replace("        name: event\n        patternType: literal\n        type: group", "        name: events\n        patternType: literal\n        type: group"),
         "whose ACLs do not allow Read on group \"event\""),
    ];
    for (rule, broken, message) in cases {
        assert_ne!(
            broken, good,
            "{rule}: the broken copy must differ ({message})"
        );
        let found = report(&broken).findings;
        assert!(
            found
                .iter()
                .any(|f| f.rule == rule && f.message.contains(message)),
            "{rule}: {message:?} not in {found:#?}"
        );
    }
}

#[test]
fn acls_imply_describe_and_match_prefixes() {
    let user: super::strimzi::KafkaUser = serde_yaml_ng::from_str(
        "apiVersion: kafka.strimzi.io/v1\nkind: KafkaUser\nmetadata: {name: u}\nspec:\n  authentication: {type: scram-sha-512}\n  authorization:\n    type: simple\n    acls:\n      - resource: {type: topic, name: ev, patternType: prefix}\n        operations: [Read]\n      - resource: {type: group, name: g}\n        operations: [Read]\n        type: deny\n",
    )
    .unwrap();
    assert!(user.allows("topic", "event", "Read"));
    assert!(
        user.allows("topic", "event", "Describe"),
        "Read implies Describe"
    );
    assert!(!user.allows("topic", "event", "Write"));
    assert!(!user.allows("topic", "other", "Read"));
    assert!(
        !user.allows("group", "g", "Read"),
        "a deny rule allows nothing"
    );
}
