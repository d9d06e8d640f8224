//! Every rule the lab applies, with where it comes from: the upstream file and function
//! it follows, and the versions it was read at. A finding names its rule by [`RuleId`], a
//! closed set: no rule can be named that is not in this table. `lab check-manifests
//! --rules` prints the table and docs/lab.md shows it.

use std::fmt;

/// One rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id findings print (`[kafka-value]`).
    pub id: &'static str,
    /// What it checks, in one line.
    pub checks: &'static str,
    /// The upstream code (or "lab" for a check upstream lacks).
    pub source: &'static str,
    /// The upstream versions the rule was read at.
    pub versions: &'static str,
    /// How to mend a manifest that breaks it.
    pub fix: &'static str,
}

/// Declares [`RuleId`] and each rule's text in one list, so the two cannot drift apart.
macro_rules! rules {
    ($( $variant:ident = $id:literal { $($field:ident: $value:expr),* $(,)? } )*) => {
        /// Which rule a finding follows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $( $variant, )*
        }

        impl RuleId {
            /// Every rule, in the table's order.
            pub const ALL: &'static [RuleId] = &[$( RuleId::$variant, )*];

            pub fn rule(self) -> Rule {
                match self {
                    $( RuleId::$variant => Rule { id: $id, $($field: $value),* }, )*
                }
            }
        }
    };
}

impl RuleId {
    /// The stable id (`kafka-value`).
    pub fn id(self) -> &'static str {
        self.rule().id
    }

    /// How to mend what breaks it.
    pub fn fix(self) -> &'static str {
        self.rule().fix
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

const KEDA: &str = "KEDA v2.20.2 and main";

rules! {
    // KEDA's own rules: what KEDA, its webhook or the HPA API refuses or ignores in a ScaledObject.
    KedaSchema = "keda-schema" {
        checks: "fields and types of the ScaledObject CRD; unknown fields are errors (kubectl's strict field validation)",
        source: "apis/keda/v1alpha1/scaledobject_types.go, scaletriggers_types.go (CRD)",
        versions: KEDA,
        fix: "remove the unknown field or give the value the CRD's type (trigger metadata values are quoted strings)",
    }
    KedaApiVersion = "keda-api-version" {
        checks: "apiVersion keda.sh/v1alpha1, kind ScaledObject",
        source: "apis/keda/v1alpha1/groupversion_info.go",
        versions: KEDA,
        fix: "apiVersion: keda.sh/v1alpha1, kind: ScaledObject",
    }
    KedaCrdMinimum = "keda-crd-minimum" {
        checks: "pollingInterval >= 1, cooldownPeriod/initialCooldownPeriod/idle/min >= 0, maxReplicaCount >= 1, at least one trigger, a scaleTargetRef name",
        source: "apis/keda/v1alpha1/scaledobject_types.go (kubebuilder validation markers)",
        versions: KEDA,
        fix: "use a value within the CRD's bounds",
    }
    KedaReplicaBounds = "keda-replica-bounds" {
        checks: "minReplicaCount <= maxReplicaCount; idleReplicaCount below minReplicaCount as KEDA computes it",
        source: "apis/keda/v1alpha1/scaledobject_types.go CheckReplicaCountBoundsAreValid, GetHPAMinReplicas; the CRD's CEL rule",
        versions: KEDA,
        fix: "keep idleReplicaCount < minReplicaCount <= maxReplicaCount (or leave idleReplicaCount out)",
    }
    KedaNameLength = "keda-name-length" {
        checks: "the ScaledObject's name and its HPA's name fit a label value (63 characters)",
        source: "apis/keda/v1alpha1/scaledobject_webhook.go verifyName",
        versions: KEDA,
        fix: "shorten the name (or set horizontalPodAutoscalerConfig.name)",
    }
    KedaScaleTargetKind = "keda-scale-target-kind" {
        checks: "scaleTargetRef kind as the API server spells it (kinds are case-sensitive)",
        source: "apis/keda/v1alpha1/gvkr.go ParseGVKR (REST mapper), scaledobject_webhook.go verifyScaledObjects",
        versions: KEDA,
        fix: "spell the kind as the API serves it (Deployment, StatefulSet)",
    }
    KedaTriggers = "keda-triggers" {
        checks: "trigger names unique; useCachedMetrics not on cpu/memory/cron",
        source: "apis/keda/v1alpha1/scaletriggers_types.go ValidateTriggers",
        versions: KEDA,
        fix: "give each trigger a unique name; drop useCachedMetrics from cpu/memory/cron triggers",
    }
    KedaMetricType = "keda-metric-type" {
        checks: "metricType AverageValue (default) or Value; Utilization is refused for external metrics",
        source: "pkg/scalers/scaler.go GetMetricTargetType; k8s autoscaling/v2 MetricTarget validation",
        versions: KEDA,
        fix: "metricType: AverageValue (or Value), or leave it out",
    }
    KedaFallback = "keda-fallback" {
        checks: "fallback failureThreshold and replicas >= 0, behavior one of the five KEDA knows",
        source: "apis/keda/v1alpha1/scaledobject_types.go CheckFallbackValid and Fallback markers",
        versions: KEDA,
        fix: "fallback.failureThreshold and fallback.replicas >= 0, behavior one of static, currentReplicas, currentReplicasIfHigher, currentReplicasIfLower, scalingModifiers",
    }
    KedaPausedReplicas = "keda-paused-replicas" {
        checks: "autoscaling.keda.sh/paused-replicas is a whole number",
        source: "apis/keda/v1alpha1/scaledobject_types.go GetPausedReplicaCount",
        versions: KEDA,
        fix: "a whole number, quoted: autoscaling.keda.sh/paused-replicas: '0'",
    }
    KedaScalingModifiers = "keda-scaling-modifiers" {
        checks: "scalingModifiers: a formula (with a target), compiled against the named triggers that are not cpu or memory and run once with -1 for each; a target above 0; metricType AverageValue or Value",
        source: "apis/keda/v1alpha1/scaledobject_webhook.go ValidateAndCompileScalingModifiers, validateScalingModifiersFormula, validateScalingModifiersTarget, castToFloatIfNecessary (expr-lang/expr v1.17.8)",
        versions: KEDA,
        fix: "give a formula and a target, name every trigger the formula reads (names without '-'), and return a number",
    }
    KedaCpuMemory = "keda-cpu-memory" {
        checks: "cpu and memory triggers: metricType Utilization or AverageValue, a value (whole percent for Utilization), no deprecated `type`; the target's containers set the resource in requests or limits; not only cpu/memory triggers with minReplicaCount 0",
        source: "pkg/scalers/cpu_memory_scaler.go parseResourceMetadata; apis/keda/v1alpha1/scaledobject_webhook.go verifyCPUMemoryScalers",
        versions: KEDA,
        fix: "set resources.requests.cpu (or memory) on every container of the target, metricType Utilization with a whole value, and minReplicaCount 1 or more with only cpu/memory triggers",
    }
    KedaValueTrigger = "keda-value-trigger" {
        checks: "prometheus, metrics-api, kubernetes-workload and kubernetes-resource triggers: the keys their scalers require, thresholds as numbers (targets above 0 without scalingModifiers)",
        source: "pkg/scalers/prometheus_scaler.go, metrics_api_scaler.go, kubernetes_workload_scaler.go, kubernetes_resource_scaler.go (typed config and Validate)",
        versions: KEDA,
        fix: "give the scaler's required keys, with numbers for the threshold and the activation threshold",
    }
    KedaMetricNames = "keda-metric-names" {
        checks: "no two triggers make the same external metric name (s<index>-<name>)",
        source: "controllers/keda/hpa.go getScaledObjectMetricSpecs",
        versions: KEDA,
        fix: "give each trigger its own topic, query or name",
    }
    KedaScaledJob = "keda-scaledjob" {
        checks: "ScaledJob: schema, jobTargetRef, triggers, scalingStrategy (strategy, multipleScalersCalculation enums), replica counts, pollingInterval",
        source: "apis/keda/v1alpha1/scaledjob_types.go (CRD markers), scaledjob_webhook.go ValidateCreate (verifyTriggers)",
        versions: KEDA,
        fix: "use the CRD's fields and enums (strategy default, custom, accurate or eager)",
    }
    HpaBehavior = "hpa-behavior" {
        checks: "HPA behavior as the API server validates it: policy type Pods/Percent, value > 0, periodSeconds 1..1800, window 0..3600, selectPolicy Max/Min/Disabled, tolerance >= 0",
        source: "kubernetes pkg/apis/autoscaling/validation/validation.go validateScalingRules (via KEDA's HPA)",
        versions: "Kubernetes 1.35",
        fix: "use Pods or Percent with value > 0 and periodSeconds 1..1800, stabilizationWindowSeconds 0..3600, selectPolicy Max/Min/Disabled",
    }
    KafkaRequired = "kafka-required" {
        checks: "bootstrapServers and consumerGroup are set (or their ...FromEnv form)",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata, apache_kafka_scaler.go apacheKafkaMetadata (typed config: no optional tag)",
        versions: KEDA,
        fix: "set bootstrapServers and consumerGroup in the trigger's metadata",
    }
    KafkaValue = "kafka-value" {
        checks: "each known key's value parses as KEDA parses it: whole numbers as JSON int64, booleans as Go's ParseBool, enums, partitionLimitation lists and ranges, version as sarama.ParseKafkaVersion",
        source: "pkg/scalers/scalersconfig/typed_config.go setConfigValueHelper; kafka_scaler.go parsePartitionLimitation, parseKafkaMetadata",
        versions: KEDA,
        fix: "write the value as KEDA parses it (a quoted plain number, true/false, one of the allowed words)",
    }
    KafkaThreshold = "kafka-threshold" {
        checks: "lagThreshold > 0, activationLagThreshold >= 0",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata.Validate; apache_kafka_scaler.go Validate",
        versions: KEDA,
        fix: "lagThreshold above 0 (such as '5'), activationLagThreshold 0 or more",
    }
    KafkaExclusive = "kafka-exclusive" {
        checks: "options KEDA declares mutually exclusive, or that need a topic",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata.Validate; apache_kafka_scaler.go Validate",
        versions: KEDA,
        fix: "keep one of the exclusive options, or give the topic",
    }
    KafkaAuth = "kafka-auth" {
        checks: "SASL and TLS settings that KEDA refuses before connecting (username and password for SASL, cert with key, awsRegion for MSK IAM)",
        source: "pkg/scalers/kafka_scaler.go parseTLS, parseSASL; apache_kafka_scaler.go Validate, parseApacheKafkaAuthParams",
        versions: KEDA,
        fix: "reference a TriggerAuthentication holding username/password (and tls/ca), or drop sasl",
    }
    KafkaUnknownKey = "kafka-unknown-key" {
        checks: "trigger metadata keys KEDA does not read (KEDA ignores them silently): typos, and keys read only from a TriggerAuthentication",
        source: "lab (KEDA only logs them with KEDA_CHECK_UNEXPECTED_SCALERS_PARAMS=enabled: typed_config.go checkUnexpectedParameterExist)",
        versions: KEDA,
        fix: "fix the key's spelling, or move secrets to a TriggerAuthentication",
    }
    KafkaMainOnly = "kafka-main-only" {
        checks: "keys KEDA main reads that the pinned release ignores (fullMetadata)",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata.FullMetadata (main, after v2.20.2)",
        versions: "KEDA main (2026-08-20)",
        fix: "remove it: the pinned KEDA does not read it",
    }
    NotEmulated = "not-emulated" {
        checks: "settings that change scaling and that the emulator does not reproduce: refused, never ignored",
        source: "lab",
        versions: KEDA,
        fix: "remove the setting to replay this ScaledObject in the lab",
    }
    // What a cluster does with the objects together (check-manifests).
    StrimziSchema = "strimzi-schema" {
        checks: "fields and types of Kafka, KafkaNodePool and KafkaTopic (the subset this project writes); unknown fields are errors",
        source: "strimzi api/src/main/java/io/strimzi/api/kafka/model (KafkaSpec, GenericKafkaListener, KafkaNodePoolSpec, KafkaTopicSpec)",
        versions: "Strimzi 1.2.0",
        fix: "remove the unknown field or give the value Strimzi's type",
    }
    StrimziApiVersion = "strimzi-api-version" {
        checks: "kafka.strimzi.io/v1: Strimzi 1.x serves only v1 (v1beta2 removed)",
        source: "strimzi CHANGELOG.md 1.0.0 (\"Remove the v1beta2 API\")",
        versions: "Strimzi 1.0.0-1.2.0",
        fix: "apiVersion: kafka.strimzi.io/v1",
    }
    StrimziKafkaVersion = "strimzi-kafka-version" {
        checks: "spec.kafka.version is one the pinned Strimzi release supports",
        source: "strimzi kafka-versions.yaml at the release tag (lab/model/data/strimzi-kafka-versions.yaml)",
        versions: "Strimzi 0.49.0-1.2.0",
        fix: "a version from the release's supported list (k8s/versions.env pins both)",
    }
    StrimziNodePool = "strimzi-node-pool" {
        checks: "a KafkaNodePool labelled strimzi.io/cluster for each Kafka, in its namespace (Strimzi 1.x has no other way to declare nodes)",
        source: "strimzi CHANGELOG.md 1.0.0; KafkaNodePool CRD",
        versions: "Strimzi 1.0.0-1.2.0",
        fix: "add a KafkaNodePool with label strimzi.io/cluster: <kafka name>",
    }
    StrimziClusterLabel = "strimzi-cluster-label" {
        checks: "a KafkaTopic or KafkaNodePool names, by its strimzi.io/cluster label, a Kafka of these manifests in its own namespace",
        source: "strimzi topic operator and KafkaNodePool reconciliation (label selector strimzi.io/cluster)",
        versions: "Strimzi 1.2.0",
        fix: "label it strimzi.io/cluster: <kafka name> and keep it in the Kafka's namespace",
    }
    TriggerHostResolvable = "trigger-host-resolvable" {
        checks: "every trigger host resolves from keda-operator's namespace: no bare Service names",
        source: "pod DNS search path (<namespace>.svc.cluster.local first); kedacore/keda#5442",
        versions: "KEDA 2.x, Kubernetes DNS",
        fix: "write the Service fully qualified: <service>.<namespace>.svc:<port>",
    }
    TriggerHostKafka = "trigger-host-kafka" {
        checks: "an in-cluster trigger host names the bootstrap Service of a Kafka in these manifests, in the namespace it is deployed to, on one of its listener ports",
        source: "strimzi cluster-operator ListenersUtils.backwardsCompatibleBootstrapServiceName (<cluster>-kafka-bootstrap for internal listeners)",
        versions: "Strimzi 1.2.0",
        fix: "use <cluster>-kafka-bootstrap.<kafka namespace>.svc:<listener port>",
    }
    TriggerMatchesApps = "trigger-matches-apps" {
        checks: "the trigger reads what the apps use: the same Kafka (wherever each resolves it from), the consumer's group, the consumer's and producer's topic",
        source: "lab (KEDA reads whatever it is given: another group or topic scales on nothing)",
        versions: "KEDA 2.x",
        fix: "make the trigger's bootstrapServers, consumerGroup and topic name the apps' brokers, group and topic",
    }
    OffsetResetMatches = "offset-reset-matches" {
        checks: "offsetResetPolicy equals the consumer's kafka.auto.offset.reset (KEDA counts a partition without a committed offset as 1 with latest, its whole log with earliest)",
        source: "pkg/scalers/kafka_scaler.go getLagForPartition (invalidOffset)",
        versions: "KEDA v2.20.2",
        fix: "set both explicitly to the same value",
    }
    TriggerTopicExists = "trigger-topic-exists" {
        checks: "the trigger's topic is a KafkaTopic of these manifests",
        source: "lab",
        versions: "Strimzi 1.2.0",
        fix: "add the KafkaTopic or name an existing one",
    }
    MaxReplicasPartitions = "max-replicas-partitions" {
        checks: "maxReplicaCount is not above the topic's partitions (KEDA caps the metric there; replicas past it sit idle)",
        source: "pkg/scalers/kafka_scaler.go getTotalLag (upper bound = partitions)",
        versions: "KEDA v2.20.2",
        fix: "maxReplicaCount <= partitions",
    }
    ScaleTargetExists = "scale-target-exists" {
        checks: "scaleTargetRef names a Deployment of these manifests, kind spelled as the API serves it",
        source: "KEDA scaledobject_controller.go (the target must exist); REST mapper kinds are case-sensitive",
        versions: "KEDA v2.20.2",
        fix: "name the consumer Deployment",
    }
    ScaleTargetNoReplicas = "scale-target-no-replicas" {
        checks: "the ScaledObject's target sets no spec.replicas: every apply would reset the count the HPA chose",
        source: "Kubernetes docs, Horizontal Pod Autoscaling: migrating Deployments and StatefulSets to horizontal autoscaling",
        versions: "Kubernetes 1.35",
        fix: "remove spec.replicas from the Deployment",
    }
    ImagePullPolicy = "image-pull-policy" {
        checks: "no container is pulled Always (explicitly, or implied by an untagged or :latest image): it defeats kind load and minikube's image load",
        source: "kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Container",
        versions: "Kubernetes 1.35",
        fix: "imagePullPolicy: IfNotPresent, and a version tag",
    }
    ImageDockerfileTarget = "image-dockerfile-target" {
        checks: "each of the project's images has a Dockerfile stage to build it",
        source: "lab",
        versions: "this repository",
        fix: "add the stage or fix the image name",
    }
    DeploymentShape = "deployment-shape" {
        checks: "apps/v1, a selector the pod template's labels match, a whole-number replicas (the API server refuses the rest)",
        source: "kubernetes pkg/apis/apps/validation ValidateDeploymentSpec",
        versions: "Kubernetes 1.35",
        fix: "apiVersion: apps/v1, selector.matchLabels equal to template labels, replicas a number",
    }
    StrimziSecretKeys = "strimzi-secret-keys" {
        checks: "every Secret or ConfigMap key the apps and TriggerAuthentications read exists: in Secrets Strimzi generates by the keys Strimzi writes (a KafkaUser's Secret, named after it: password, sasl.jaas.config; <cluster>-cluster-ca-cert: ca.crt, ca.p12, ca.password), in objects of these manifests by their data",
        source: "strimzi user-operator KafkaUserModel (KEY_PASSWORD, KEY_SASL_JAAS_CONFIG, getSecretName); api KafkaResources.clusterCaCertificateSecretName; operator-common Ca.CA_CRT",
        versions: "Strimzi 1.2.0",
        fix: "name a key the Secret has",
    }
    AppAuthListener = "app-auth-listener" {
        checks: "an app speaks what its listener wants: kafka.security.protocol sasl_ssl / ssl / sasl_plaintext / plaintext for tls and scram-sha-512 on or off, kafka.sasl.mechanism SCRAM-SHA-512, and kafka.ssl.ca.location a file mounted from <cluster>-cluster-ca-cert (Strimzi signs listener certificates with its cluster CA)",
        source: "strimzi GenericKafkaListener (tls, authentication); librdkafka CONFIGURATION.md (security.protocol, sasl.mechanism, ssl.ca.location)",
        versions: "Strimzi 1.2.0, librdkafka 2.12.1",
        fix: "set kafka.security.protocol, kafka.sasl.mechanism and kafka.ssl.ca.location for the listener",
    }
    TriggerAuthListener = "trigger-auth-listener" {
        checks: "the trigger speaks what its listener wants: tls enable with a tls listener, sasl scram_sha512 with scram-sha-512, and an authenticationRef to a TriggerAuthentication giving username, password and ca (KEDA reads those only from authentication parameters), ca from <cluster>-cluster-ca-cert key ca.crt",
        source: "pkg/scalers/kafka_scaler.go kafkaMetadata (tls, sasl: triggerMetadata or authParams; username, password, ca: authParams only)",
        versions: "KEDA v2.20.2",
        fix: "set tls and sasl on the trigger and reference a TriggerAuthentication with username, password and ca",
    }
    SaslUserMatches = "sasl-user-matches" {
        checks: "a SASL user name (an app's kafka.sasl.username, a TriggerAuthentication's username) is a scram-sha-512 KafkaUser of the Kafka it reaches, and the password comes from that user's Secret, key password",
        source: "strimzi user-operator KafkaUserModel.getScramUserName and getSecretName (the Secret is named after the user)",
        versions: "Strimzi 1.2.0",
        fix: "read the password from the Secret named after the user (key password)",
    }
    AclCoversApp = "acl-covers-app" {
        checks: "with simple authorization, a client's KafkaUser ACLs allow what it does: the producer Write on its topic, the consumer Read on its topics and group, KEDA's trigger Describe on topic and group (Read, Write, Delete, Alter imply Describe; an idempotent producer needs no cluster IdempotentWrite since Kafka 3.0, KIP-679)",
        source: "Kafka AclAuthorizer/StandardAuthorizer operation implications; KIP-679",
        versions: "Kafka 4.x, Strimzi 1.2.0",
        fix: "add the ACL to the KafkaUser",
    }
    NoScaledObject = "no-scaled-object" {
        checks: "the manifests hold a ScaledObject (nothing scales without one)",
        source: "lab",
        versions: "this repository",
        fix: "add the ScaledObject",
    }
    // Advice: settings KEDA accepts that users regret (printed, failing only with --strict).
    AdviceCooldownNotAbovePolling = "cooldown-not-above-polling" {
        checks: "advice: cooldownPeriod <= pollingInterval while the workload can reach zero: one idle poll drops it to zero",
        source: "pkg/scaling/executor/scale_scaledobjects.go scaleToZeroOrIdle (lastActiveTime + cooldownPeriod before now); pkg/scaling/scale_handler.go startScaleLoop (a poll every pollingInterval)",
        versions: KEDA,
        fix: "make cooldownPeriod several pollingIntervals (KEDA's default is 300 s at a 30 s poll)",
    }
    AdviceIrrelevantSetting = "webhook-irrelevant-setting" {
        checks: "advice: pollingInterval or cooldownPeriod written where KEDA's webhook warns they are not relevant (minReplicaCount > 0 without idleReplicaCount 0; pollingInterval also without useCachedMetrics)",
        source: "apis/keda/v1alpha1/scaledobject_webhook.go verifyScaledObjects",
        versions: KEDA,
        fix: "remove the setting, or set minReplicaCount 0 (or idleReplicaCount 0) if scaling to zero was meant",
    }
    AdviceLatestNeverCommitted = "latest-never-committed" {
        checks: "advice: offsetResetPolicy latest (written or KEDA's default) with a workload that can reach zero and no scaleToZeroOnInvalidOffset: a partition the group never committed counts lag 1 and keeps the trigger active",
        source: "pkg/scalers/kafka_scaler.go getLagForPartition (invalidOffset with latest returns 1, 0 only with scaleToZeroOnInvalidOffset); kedacore/keda#2033",
        versions: KEDA,
        fix: "set offsetResetPolicy to the consumer's auto.offset.reset (earliest here), or scaleToZeroOnInvalidOffset: \"true\"",
    }
    AdviceNoTopic = "trigger-without-topic" {
        checks: "advice: a kafka trigger without topic: KEDA reads the topics the group has committed on, or every topic when it has committed none",
        source: "pkg/scalers/kafka_scaler.go getTopicPartitions (ListConsumerGroupOffsets, then DescribeTopics); kedacore/keda#8114",
        versions: KEDA,
        fix: "name the topic the consumers read",
    }
    AdviceManyPartitions = "partitions-above-default-max" {
        checks: "advice: a topic with more than 100 partitions and no maxReplicaCount: the HPA's maxReplicas is KEDA's default 100",
        source: "apis/keda/v1alpha1/scaledobject_types.go GetHPAMaxReplicas (defaultHPAMaxReplicas 100)",
        versions: KEDA,
        fix: "set maxReplicaCount to the partition count (more consumers than partitions idle)",
    }
    AdviceNoScaleDown = "no-scale-down-behavior" {
        checks: "advice: no scaleDown behavior: the HPA keeps the highest recommendation of the last 300 s",
        source: "kubernetes pkg/apis/autoscaling/v2/defaults.go GenerateHPAScaleDownRules (stabilizationWindowSeconds 300); pkg/controller/podautoscaler/horizontal.go stabilizeRecommendationWithBehaviors",
        versions: "Kubernetes 1.35",
        fix: "set advanced.horizontalPodAutoscalerConfig.behavior.scaleDown (this repository: a 30 s window, Percent 50 per 30 s)",
    }
    AdviceFallbackValue = "fallback-value-metric" {
        checks: "advice: fallback with a trigger of metricType Value: the fallback metric is divided by the ready replicas, and with none ready there is no fallback",
        source: "pkg/fallback/fallback.go doFallback (Value: divided by getReadyReplicasCount; 0 ready -> \"error performing fallback\")",
        versions: KEDA,
        fix: "use metricType AverageValue (the Kafka scaler's default) with a fallback",
    }
    // The cluster's state, as `lab doctor` reads it: what holds a ScaledObject where it is,
    // and where the cluster disagrees with what KEDA v2.20.2 and Kubernetes 1.35 would do.
    ClusterPaused = "paused" {
        checks: "the ScaledObject carries autoscaling.keda.sh/paused or paused-replicas: KEDA stopped its loop and deleted the HPA; nothing scales",
        source: "controllers/keda/scaledobject_controller.go handlePause; apis/keda/v1alpha1/scaledobject_types.go NeedToBePausedByAnnotation",
        versions: KEDA,
        fix: "remove the annotation (kubectl annotate scaledobject NAME autoscaling.keda.sh/paused-)",
    }
    ClusterFallbackActive = "fallback-active" {
        checks: "the Fallback condition is True: a metric failed more than failureThreshold times and the HPA is served lagThreshold x fallback replicas instead of the lag",
        source: "pkg/fallback/fallback.go GetMetricsWithFallback, doFallback",
        versions: KEDA,
        fix: "mend the scaler's error (the ScaledObject's KEDAScalerFailed events say which); the fallback ends with the first good read",
    }
    ClusterScalerError = "scaler-error" {
        checks: "KEDA's scaler fails (Ready False TriggerError, the HPA's FailedGetExternalMetric): without a fallback the replica count is held where it is, no drop to zero",
        source: "pkg/scaling/executor/scale_scaledobjects.go RequestScale (isError); horizontal.go computeReplicasForMetrics",
        versions: "KEDA v2.20.2, Kubernetes 1.35",
        fix: "read the error in the ScaledObject's events (KEDAScalerFailed) and the HPA's conditions; consider a fallback",
    }
    ClusterMinBlocksZero = "min-blocks-zero" {
        checks: "no lag and the trigger inactive, yet replicas stay at minReplicaCount: KEDA scales to zero only when minReplicaCount is 0 (or idleReplicaCount is 0)",
        source: "pkg/scaling/executor/scale_scaledobjects.go RequestScale -> scaleToZeroOrIdle (only when minReplicaCount 0 or idleReplicaCount set)",
        versions: KEDA,
        fix: "set minReplicaCount: 0 if the consumers may stop when there is nothing to read",
    }
    ClusterAtMax = "hpa-at-max" {
        checks: "the HPA wants more replicas than maxReplicas: ScalingLimited True, TooManyReplicas",
        source: "horizontal.go normalizeDesiredReplicasWithBehaviors (TooManyReplicas)",
        versions: "Kubernetes 1.35",
        fix: "raise maxReplicaCount up to the partition count, or find why the lag stays high",
    }
    ClusterUnconsumedLag = "lag-without-consumer" {
        checks: "partitions whose lag stays while their committed offset does not move: KEDA counts lag no consumer works off (a stuck or unassigned partition), and the HPA keeps asking for more",
        source: "pkg/scalers/kafka_scaler.go getTotalLag (every partition's lag counts); kedacore/keda#5675, #3997",
        versions: KEDA,
        fix: "find why no consumer commits on those partitions (a poison record, a paused partition); excludePersistentLag stops it from scaling out",
    }
    ClusterMetricDisagrees = "metric-disagrees" {
        checks: "KEDA's metric from the external metrics API is not what KEDA's scaler rules give for the lag read from Kafka with the trigger's settings",
        source: "pkg/scalers/kafka_scaler.go GetMetricsAndActivity, getTotalLag; pkg/provider/provider.go GetExternalMetric",
        versions: KEDA,
        fix: "check the trigger's group and topic against the consumers', the KEDA version, and a scalingModifiers formula",
    }
    ClusterHpaBehavior = "hpa-behavior-differs" {
        checks: "the HPA's behavior is not the one the ScaledObject asks for (advanced.horizontalPodAutoscalerConfig.behavior, the API server's defaults filled in): the HPA was edited, or another controller owns it",
        source: "controllers/keda/hpa.go newHPAForScaledObject (behavior copied verbatim); pkg/apis/autoscaling/v2/defaults.go",
        versions: "KEDA v2.20.2, Kubernetes 1.35",
        fix: "change the behavior in the ScaledObject, not in the HPA (KEDA overwrites the HPA)",
    }
    ClusterKedaVersion = "keda-version" {
        checks: "the ScaledObject's status is not what KEDA v2.20.2 writes (no HPAActive condition once the HPA exists): another KEDA version, whose rules may differ from the lab's",
        source: "apis/keda/v1alpha1/condition_types.go (HPAActive, kedacore/keda#7914)",
        versions: KEDA,
        fix: "compare with the lab's pinned KEDA (k8s/versions.env), or upgrade KEDA",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_every_rule_names_a_source() {
        for (i, r) in RuleId::ALL.iter().enumerate() {
            let rule = r.rule();
            assert!(
                RuleId::ALL[i + 1..].iter().all(|o| o.id() != rule.id),
                "duplicate {}",
                rule.id
            );
            assert!(
                rule.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                rule.id
            );
            assert!(
                !rule.source.is_empty() && !rule.versions.is_empty(),
                "{}",
                rule.id
            );
        }
    }
}
