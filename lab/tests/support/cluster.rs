//! A cluster for `lab record` and `lab doctor` to read: the API stand-in serving the
//! repository's ScaledObject with a status as KEDA v2.20.2 writes it, its HPA and the
//! consumer Deployment as k8s-openapi types, KEDA's metric; and the embedded broker
//! holding the group's offsets, which the test moves by producing and committing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::apiserver::{ApiServer, Key, MetricAnswer};
use harness::MockBroker;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStatus};
use k8s_openapi::api::autoscaling::v2::{
    ExternalMetricStatus, HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition,
    HorizontalPodAutoscalerSpec, HorizontalPodAutoscalerStatus, MetricIdentifier, MetricStatus,
    MetricValueStatus,
};
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use serde_json::{json, Value};

pub const NAMESPACE: &str = "lab";
pub const NAME: &str = "kafka-consumer";
pub const HPA: &str = "keda-hpa-kafka-consumer";
pub const METRIC: &str = "s0-kafka-event";
pub const GROUP: &str = "event";
pub const TOPIC: &str = "event";

/// The stand-in API, the broker, and a kubeconfig pointing at the API.
pub struct StandIn {
    pub api: ApiServer,
    /// The namespace it serves (`lab`, or the demo's `keda-kafka-lab`).
    pub namespace: String,
    pub broker: MockBroker,
    pub kubeconfig: PathBuf,
    pub partitions: i32,
    producer: BaseProducer,
    offsets: lab_kafka::offsets::OffsetReader,
    /// The next partition `produce_spread` writes to.
    spread: std::sync::atomic::AtomicUsize,
}

impl StandIn {
    /// A namespace with the ScaledObject (as `so` changes it), its HPA and Deployment at
    /// `replicas`, KEDA's metric `metric`, and a topic of `partitions` partitions.
    pub fn start(dir: &Path, partitions: i32, replicas: i32, metric: &str) -> Self {
        Self::start_in(NAMESPACE, dir, partitions, replicas, metric)
    }

    /// [`StandIn::start`] in `namespace`.
    pub fn start_in(
        namespace: &str,
        dir: &Path,
        partitions: i32,
        replicas: i32,
        metric: &str,
    ) -> Self {
        let api = ApiServer::start();
        let broker = MockBroker::start().unwrap();
        broker.create_topic(TOPIC, partitions).unwrap();
        let kubeconfig = api.kubeconfig(dir, namespace);
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap())
            .create()
            .unwrap();
        let offsets = lab_kafka::offsets::OffsetReader::connect(
            broker.bootstrap(),
            &Default::default(),
            GROUP,
            TOPIC,
            Duration::from_secs(10),
        )
        .unwrap();
        let stand_in = Self {
            api,
            namespace: namespace.to_owned(),
            broker,
            kubeconfig,
            partitions,
            producer,
            offsets,
            spread: Default::default(),
        };
        stand_in.put_scaled_object(|_| {});
        stand_in.put_hpa(replicas, replicas, metric, &[]);
        stand_in.put_deployment(replicas, replicas);
        stand_in
            .api
            .set_metric(METRIC, MetricAnswer::Value(metric.into()));
        stand_in
    }

    /// The repository's ScaledObject pointing at the embedded broker, with KEDA's status,
    /// changed by `edit` (the JSON as stored).
    pub fn put_scaled_object(&self, edit: impl FnOnce(&mut Value)) {
        let text = std::fs::read_to_string(
            lab_model::scenario::repo_root().join("k8s/keda/scaled-object.yaml"),
        )
        .unwrap();
        let mut so: Value = serde_yaml_ng::from_str(&text).unwrap();
        so["spec"]["triggers"][0]["metadata"]["bootstrapServers"] = json!(self.broker.bootstrap());
        so["metadata"]["uid"] = json!("0f1e2d3c-0000-4000-8000-000000000001");
        so["status"] = json!({
            "scaleTargetKind": "apps/v1.Deployment",
            "scaleTargetGVKR": {"group": "apps", "version": "v1", "kind": "Deployment", "resource": "deployments"},
            "originalReplicaCount": 1,
            "lastActiveTime": "2026-12-07T00:00:00Z",
            "externalMetricNames": [METRIC],
            "hpaName": HPA,
            "triggersTypes": "kafka",
            "conditions": [
                condition("Ready", "True", "ScaledObjectReady", "ScaledObject is defined correctly and is ready for scaling"),
                condition("Active", "True", "ScalerActive", "Scaling is performed because triggers are active"),
                condition("Fallback", "False", "NoFallbackFound", "No fallbacks are active on this scaled object"),
                json!({"type": "Paused", "status": "False"}),
                condition("HPAActive", "True", "HPAActive", "HPA is actively scaling"),
            ],
        });
        edit(&mut so);
        self.api
            .put(self.key("apis/keda.sh/v1alpha1", "scaledobjects", NAME), so);
    }

    /// KEDA's HPA for the ScaledObject: min 1, max 10, the ScaledObject's behavior, at
    /// `current` wanting `desired`, reporting `metric` per pod; `limited`: ScalingLimited's
    /// reason (none: DesiredWithinRange).
    pub fn put_hpa(&self, current: i32, desired: i32, metric: &str, limited: &[&str]) {
        let reason = limited.first().copied();
        let conditions = vec![
            hpa_condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"),
            hpa_condition("ScalingActive", "True", "ValidMetricFound", "the HPA was able to successfully calculate a replica count from external metric s0-kafka-event"),
            match reason {
                Some(r) => hpa_condition("ScalingLimited", "True", r, "the desired replica count is more than the maximum replica count"),
                // Lag 0 at 1 replica: the proposal 0 is raised to minReplicas 1.
                None if metric == "0" && current <= 1 => hpa_condition("ScalingLimited", "True", "TooFewReplicas", "the desired replica count is less than the minimum replica count"),
                None => hpa_condition("ScalingLimited", "False", "DesiredWithinRange", "the desired count is within the acceptable range"),
            },
        ];
        let behavior = serde_json::from_value(json!({"scaleDown": {"stabilizationWindowSeconds": 30, "selectPolicy": "Max", "policies": [{"type": "Percent", "value": 50, "periodSeconds": 30}]}, "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}})).unwrap();
        let hpa = HorizontalPodAutoscaler {
            metadata: ObjectMeta {
                name: Some(HPA.into()),
                ..Default::default()
            },
            spec: Some(HorizontalPodAutoscalerSpec {
                min_replicas: Some(1),
                max_replicas: 10,
                behavior: Some(behavior),
                scale_target_ref: serde_json::from_value(
                    json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": NAME}),
                )
                .unwrap(),
                ..Default::default()
            }),
            status: Some(HorizontalPodAutoscalerStatus {
                current_replicas: (current > 0).then_some(current),
                desired_replicas: desired,
                current_metrics: Some(vec![MetricStatus {
                    type_: "External".into(),
                    external: Some(ExternalMetricStatus {
                        metric: MetricIdentifier {
                            name: METRIC.into(),
                            selector: None,
                        },
                        current: MetricValueStatus {
                            average_value: Some(Quantity(metric.into())),
                            ..Default::default()
                        },
                    }),
                    ..Default::default()
                }]),
                conditions: Some(conditions),
                ..Default::default()
            }),
        };
        self.api.put_typed(&self.namespace, &hpa);
    }

    /// The consumer Deployment at `replicas`, `ready` of them ready.
    pub fn put_deployment(&self, replicas: i32, ready: i32) {
        let deployment = Deployment {
            metadata: ObjectMeta {
                name: Some(NAME.into()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                ..Default::default()
            }),
            status: Some(DeploymentStatus {
                replicas: Some(replicas),
                ready_replicas: (ready > 0).then_some(ready),
                ..Default::default()
            }),
        };
        self.api.put_typed(&self.namespace, &deployment);
    }

    /// An event about `object` (kind, name), recorded by `source`.
    pub fn put_event(
        &self,
        name: &str,
        object: (&str, &str),
        kind: &str,
        reason: &str,
        message: &str,
        source: &str,
    ) {
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(format!("uid-{name}")),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some(object.0.into()),
                name: Some(object.1.into()),
                namespace: Some(NAMESPACE.into()),
                ..Default::default()
            },
            type_: Some(kind.into()),
            reason: Some(reason.into()),
            message: Some(message.into()),
            reporting_component: Some(source.into()),
            count: Some(1),
            ..Default::default()
        };
        self.api.put_typed(&self.namespace, &event);
    }

    /// Produces `per_partition` events to each partition.
    pub fn produce(&self, per_partition: usize) {
        for p in 0..self.partitions {
            for _ in 0..per_partition {
                self.producer
                    .send(BaseRecord::<str, str>::to(TOPIC).payload("{}").partition(p))
                    .unwrap();
            }
        }
        self.producer.flush(Duration::from_secs(10)).unwrap();
    }

    /// Produces `events` events, one partition after the other (continuing where the last
    /// call stopped).
    pub fn produce_spread(&self, events: usize) {
        for _ in 0..events {
            let n = self
                .spread
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let p = (n % self.partitions as usize) as i32;
            self.producer
                .send(BaseRecord::<str, str>::to(TOPIC).payload("{}").partition(p))
                .unwrap();
        }
        self.producer.flush(Duration::from_secs(10)).unwrap();
    }

    /// Commits each partition `lag[p]` short of its end (as far as it has events).
    pub fn commit_each(&self, lag: &[i64]) {
        let offsets = self.offsets.read().unwrap();
        let at: Vec<i64> = offsets
            .iter()
            .map(|o| (o.end - lag.get(o.partition as usize).copied().unwrap_or(0)).max(0))
            .collect();
        self.offsets.commit(&at).unwrap();
    }

    /// Commits the group at every partition's end (no lag), or `lag` short of it.
    pub fn commit(&self, lag: i64) {
        let ends: Vec<i64> = self
            .offsets
            .read()
            .unwrap()
            .iter()
            .map(|o| (o.end - lag).max(0))
            .collect();
        self.offsets.commit(&ends).unwrap();
    }

    /// `lab` with the stand-in's kubeconfig.
    pub fn lab(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lab"));
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("RUST_LOG", "warn");
        command
    }
}

impl StandIn {
    /// Where the stand-in keeps an object of its namespace.
    pub fn key(&self, api: &str, resource: &str, name: &str) -> Key {
        Key {
            api: api.into(),
            resource: resource.into(),
            namespace: self.namespace.clone(),
            name: name.into(),
        }
    }
}

pub fn condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": kind, "status": status, "reason": reason, "message": message})
}

fn hpa_condition(
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
) -> HorizontalPodAutoscalerCondition {
    HorizontalPodAutoscalerCondition {
        type_: kind.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: None,
    }
}
