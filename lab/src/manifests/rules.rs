//! The rules `lab check-manifests` adds to KEDA's ([`crate::keda::rules`]): what a cluster
//! does with the objects together, each with its source.

pub use crate::keda::rules::Rule;

/// The table. Ids are stable: tests and findings refer to them.
pub const RULES: &[Rule] = &[
    Rule {
        id: "strimzi-schema",
        checks: "fields and types of Kafka, KafkaNodePool and KafkaTopic (the subset this project writes); unknown fields are errors",
        source: "strimzi api/src/main/java/io/strimzi/api/kafka/model (KafkaSpec, GenericKafkaListener, KafkaNodePoolSpec, KafkaTopicSpec)",
        versions: "Strimzi 1.2.0",
        fix: "remove the unknown field or give the value Strimzi's type",
    },
    Rule {
        id: "strimzi-api-version",
        checks: "kafka.strimzi.io/v1: Strimzi 1.x serves only v1 (v1beta2 removed)",
        source: "strimzi CHANGELOG.md 1.0.0 (\"Remove the v1beta2 API\")",
        versions: "Strimzi 1.0.0-1.2.0",
        fix: "apiVersion: kafka.strimzi.io/v1",
    },
    Rule {
        id: "strimzi-kafka-version",
        checks: "spec.kafka.version is one the pinned Strimzi release supports",
        source: "strimzi kafka-versions.yaml at the release tag (lab/data/strimzi-kafka-versions.yaml)",
        versions: "Strimzi 0.49.0-1.2.0",
        fix: "a version from the release's supported list (k8s/versions.env pins both)",
    },
    Rule {
        id: "strimzi-node-pool",
        checks: "a KafkaNodePool labelled strimzi.io/cluster for each Kafka, in its namespace (Strimzi 1.x has no other way to declare nodes)",
        source: "strimzi CHANGELOG.md 1.0.0; KafkaNodePool CRD",
        versions: "Strimzi 1.0.0-1.2.0",
        fix: "add a KafkaNodePool with label strimzi.io/cluster: <kafka name>",
    },
    Rule {
        id: "strimzi-cluster-label",
        checks: "a KafkaTopic or KafkaNodePool names, by its strimzi.io/cluster label, a Kafka of these manifests in its own namespace",
        source: "strimzi topic operator and KafkaNodePool reconciliation (label selector strimzi.io/cluster)",
        versions: "Strimzi 1.2.0",
        fix: "label it strimzi.io/cluster: <kafka name> and keep it in the Kafka's namespace",
    },
    Rule {
        id: "trigger-host-resolvable",
        checks: "every trigger host resolves from keda-operator's namespace: no bare Service names",
        source: "pod DNS search path (<namespace>.svc.cluster.local first); kedacore/keda#5442",
        versions: "KEDA 2.x, Kubernetes DNS",
        fix: "write the Service fully qualified: <service>.<namespace>.svc:<port>",
    },
    Rule {
        id: "trigger-host-kafka",
        checks: "an in-cluster trigger host names the bootstrap Service of a Kafka in these manifests, in the namespace it is deployed to, on one of its listener ports",
        source: "strimzi cluster-operator ListenersUtils.backwardsCompatibleBootstrapServiceName (<cluster>-kafka-bootstrap for internal listeners)",
        versions: "Strimzi 1.2.0",
        fix: "use <cluster>-kafka-bootstrap.<kafka namespace>.svc:<listener port>",
    },
    Rule {
        id: "trigger-matches-apps",
        checks: "the trigger reads what the apps use: the same Kafka (wherever each resolves it from), the consumer's group, the consumer's and producer's topic",
        source: "lab (KEDA reads whatever it is given: another group or topic scales on nothing)",
        versions: "KEDA 2.x",
        fix: "make the trigger's bootstrapServers, consumerGroup and topic name the apps' brokers, group and topic",
    },
    Rule {
        id: "offset-reset-matches",
        checks: "offsetResetPolicy equals the consumer's kafka.auto.offset.reset (KEDA counts a partition without a committed offset as 1 with latest, its whole log with earliest)",
        source: "pkg/scalers/kafka_scaler.go getLagForPartition (invalidOffset)",
        versions: "KEDA v2.20.2",
        fix: "set both explicitly to the same value",
    },
    Rule {
        id: "trigger-topic-exists",
        checks: "the trigger's topic is a KafkaTopic of these manifests",
        source: "lab",
        versions: "Strimzi 1.2.0",
        fix: "add the KafkaTopic or name an existing one",
    },
    Rule {
        id: "max-replicas-partitions",
        checks: "maxReplicaCount is not above the topic's partitions (KEDA caps the metric there; replicas past it sit idle)",
        source: "pkg/scalers/kafka_scaler.go getTotalLag (upper bound = partitions)",
        versions: "KEDA v2.20.2",
        fix: "maxReplicaCount <= partitions",
    },
    Rule {
        id: "scale-target-exists",
        checks: "scaleTargetRef names a Deployment of these manifests, kind spelled as the API serves it",
        source: "KEDA scaledobject_controller.go (the target must exist); REST mapper kinds are case-sensitive",
        versions: "KEDA v2.20.2",
        fix: "name the consumer Deployment",
    },
    Rule {
        id: "scale-target-no-replicas",
        checks: "the ScaledObject's target sets no spec.replicas: every apply would reset the count the HPA chose",
        source: "Kubernetes docs, Horizontal Pod Autoscaling: migrating Deployments and StatefulSets to horizontal autoscaling",
        versions: "Kubernetes 1.35",
        fix: "remove spec.replicas from the Deployment",
    },
    Rule {
        id: "image-pull-policy",
        checks: "no container is pulled Always (explicitly, or implied by an untagged or :latest image): it defeats kind load and minikube's image load",
        source: "kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Container",
        versions: "Kubernetes 1.35",
        fix: "imagePullPolicy: IfNotPresent, and a version tag",
    },
    Rule {
        id: "image-dockerfile-target",
        checks: "each of the project's images has a Dockerfile stage to build it",
        source: "lab",
        versions: "this repository",
        fix: "add the stage or fix the image name",
    },
    Rule {
        id: "deployment-shape",
        checks: "apps/v1, a selector the pod template's labels match, a whole-number replicas (the API server refuses the rest)",
        source: "kubernetes pkg/apis/apps/validation ValidateDeploymentSpec",
        versions: "Kubernetes 1.35",
        fix: "apiVersion: apps/v1, selector.matchLabels equal to template labels, replicas a number",
    },
    Rule {
        id: "strimzi-secret-keys",
        checks: "every Secret or ConfigMap key the apps and TriggerAuthentications read exists: in Secrets Strimzi generates by the keys Strimzi writes (a KafkaUser's Secret, named after it: password, sasl.jaas.config; <cluster>-cluster-ca-cert: ca.crt, ca.p12, ca.password), in objects of these manifests by their data",
        source: "strimzi user-operator KafkaUserModel (KEY_PASSWORD, KEY_SASL_JAAS_CONFIG, getSecretName); api KafkaResources.clusterCaCertificateSecretName; operator-common Ca.CA_CRT",
        versions: "Strimzi 1.2.0",
        fix: "name a key the Secret has",
    },
    Rule {
        id: "app-auth-listener",
        checks: "an app speaks what its listener wants: kafka.security.protocol sasl_ssl / ssl / sasl_plaintext / plaintext for tls and scram-sha-512 on or off, kafka.sasl.mechanism SCRAM-SHA-512, and kafka.ssl.ca.location a file mounted from <cluster>-cluster-ca-cert (Strimzi signs listener certificates with its cluster CA)",
        source: "strimzi GenericKafkaListener (tls, authentication); librdkafka CONFIGURATION.md (security.protocol, sasl.mechanism, ssl.ca.location)",
        versions: "Strimzi 1.2.0, librdkafka 2.12.1",
        fix: "set kafka.security.protocol, kafka.sasl.mechanism and kafka.ssl.ca.location for the listener",
    },
    Rule {
        id: "trigger-auth-listener",
        checks: "the trigger speaks what its listener wants: tls enable with a tls listener, sasl scram_sha512 with scram-sha-512, and an authenticationRef to a TriggerAuthentication giving username, password and ca (KEDA reads those only from authentication parameters), ca from <cluster>-cluster-ca-cert key ca.crt",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata (tls, sasl: triggerMetadata or authParams; username, password, ca: authParams only)",
        versions: "KEDA v2.20.2",
        fix: "set tls and sasl on the trigger and reference a TriggerAuthentication with username, password and ca",
    },
    Rule {
        id: "sasl-user-matches",
        checks: "a SASL user name (an app's kafka.sasl.username, a TriggerAuthentication's username) is a scram-sha-512 KafkaUser of the Kafka it reaches, and the password comes from that user's Secret, key password",
        source: "strimzi user-operator KafkaUserModel.getScramUserName and getSecretName (the Secret is named after the user)",
        versions: "Strimzi 1.2.0",
        fix: "read the password from the Secret named after the user (key password)",
    },
    Rule {
        id: "acl-covers-app",
        checks: "with simple authorization, a client's KafkaUser ACLs allow what it does: the producer Write on its topic, the consumer Read on its topics and group, KEDA's trigger Describe on topic and group (Read, Write, Delete, Alter imply Describe; an idempotent producer needs no cluster IdempotentWrite since Kafka 3.0, KIP-679)",
        source: "Kafka AclAuthorizer/StandardAuthorizer operation implications; KIP-679",
        versions: "Kafka 4.x, Strimzi 1.2.0",
        fix: "add the ACL to the KafkaUser",
    },
    Rule {
        id: "no-scaled-object",
        checks: "the manifests hold a ScaledObject (nothing scales without one)",
        source: "lab",
        versions: "this repository",
        fix: "add the ScaledObject",
    },
];

/// The rule with `id` here or in KEDA's table.
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| crate::keda::rules::rule(id))
}
