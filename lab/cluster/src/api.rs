//! The one seam to the Kubernetes API: every read `lab record` and `lab doctor` make of a
//! namespace, typed (k8s-openapi's types at Kubernetes 1.35, KEDA's custom resources as
//! JSON), each failure a [`ReadError`] naming what was asked. Nothing here shells out.

use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde::de::DeserializeOwned;

use crate::error::{ReadError, Request};
use crate::objects::{quantity_milli, Replicas};

/// KEDA's group and version.
const KEDA: (&str, &str) = ("keda.sh", "v1alpha1");

/// A namespace of a cluster, read through one client.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    namespace: String,
}

impl Cluster {
    /// The cluster of the kubeconfig (`$KUBECONFIG`, `~/.kube/config`) or, inside a pod,
    /// of its service account; `namespace` or the context's own.
    pub async fn connect(namespace: Option<&str>) -> Result<Self, ReadError> {
        let config = kube::Config::infer()
            .await
            .map_err(|e| ReadError::Unreachable(format!("no kubeconfig and not in a pod: {e}")))?;
        let namespace = namespace.map_or(config.default_namespace.clone(), str::to_owned);
        let client = Client::try_from(config).map_err(|e| ReadError::Unreachable(e.to_string()))?;
        Ok(Self { client, namespace })
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn keda_api(&self, kind: &str, plural: &str) -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk(KEDA.0, KEDA.1, kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
        Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
    }

    fn fail(&self, request: Request) -> impl FnOnce(kube::Error) -> ReadError + '_ {
        move |e| ReadError::from_kube(e, request, &self.namespace)
    }

    /// A ScaledObject as the API server stores it (spec and status); a missing one is an
    /// error that lists the namespace's ScaledObjects.
    pub async fn scaled_object(&self, name: &str) -> Result<serde_json::Value, ReadError> {
        let api = self.keda_api("ScaledObject", "scaledobjects");
        match api.get(name).await {
            Ok(object) => Ok(whole(object, "ScaledObject")),
            Err(e) => match ReadError::from_kube(
                e,
                Request::get(KEDA.0, "scaledobjects", name),
                &self.namespace,
            ) {
                ReadError::NotFound {
                    kind,
                    name,
                    namespace,
                    ..
                } => Err(ReadError::NotFound {
                    others: self.names(&api, "scaledobjects").await.ok(),
                    kind,
                    name,
                    namespace,
                }),
                other => Err(other),
            },
        }
    }

    async fn names(
        &self,
        api: &Api<DynamicObject>,
        resource: &str,
    ) -> Result<Vec<String>, ReadError> {
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(self.fail(Request::list(KEDA.0, resource.to_owned())))?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect())
    }

    /// A TriggerAuthentication (or ClusterTriggerAuthentication) as stored.
    pub async fn trigger_authentication(
        &self,
        name: &str,
        cluster_scoped: bool,
    ) -> Result<serde_json::Value, ReadError> {
        let (kind, plural) = match cluster_scoped {
            true => (
                "ClusterTriggerAuthentication",
                "clustertriggerauthentications",
            ),
            false => ("TriggerAuthentication", "triggerauthentications"),
        };
        let gvk = GroupVersionKind::gvk(KEDA.0, KEDA.1, kind);
        let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
        let api: Api<DynamicObject> = match cluster_scoped {
            true => Api::all_with(self.client.clone(), &resource),
            false => Api::namespaced_with(self.client.clone(), &self.namespace, &resource),
        };
        api.get(name)
            .await
            .map(|o| whole(o, kind))
            .map_err(self.fail(Request::get(KEDA.0, plural, name)))
    }

    pub async fn hpa(&self, name: &str) -> Result<HorizontalPodAutoscaler, ReadError> {
        self.get(name, "autoscaling", "horizontalpodautoscalers")
            .await
    }

    pub async fn secret(&self, name: &str) -> Result<Secret, ReadError> {
        self.get(name, "", "secrets").await
    }

    pub async fn deployment(&self, name: &str) -> Result<Deployment, ReadError> {
        self.get(name, "apps", "deployments").await
    }

    async fn get<K>(&self, name: &str, group: &'static str, plural: &str) -> Result<K, ReadError>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::<K>::namespaced(self.client.clone(), &self.namespace)
            .get(name)
            .await
            .map_err(self.fail(Request::get(group, plural, name)))
    }

    /// The scale target's replicas: its `spec.replicas` and ready replicas.
    pub async fn replicas(&self, name: &str) -> Result<Replicas, ReadError> {
        Ok(Replicas::of(&self.deployment(name).await?))
    }

    /// Events in the namespace about `names` (a ScaledObject, its HPA), oldest first.
    pub async fn events(&self, names: &[&str]) -> Result<Vec<Event>, ReadError> {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut events = api
            .list(&ListParams::default())
            .await
            .map_err(self.fail(Request::list("", "events")))?
            .items;
        events.retain(|e| {
            e.involved_object
                .name
                .as_deref()
                .is_some_and(|n| names.contains(&n))
        });
        Ok(events)
    }

    /// KEDA's metric as the HPA requests it (`horizontal.go` through the external metrics
    /// client: GET `/apis/external.metrics.k8s.io/v1beta1/namespaces/NS/METRIC` with the
    /// ScaledObject's label selector), in milli-units: the sum of the items, as the HPA's
    /// `GetExternalMetric` sums them.
    pub async fn external_metric(
        &self,
        metric: &str,
        scaled_object: &str,
    ) -> Result<i64, ReadError> {
        let path = format!(
            "/apis/external.metrics.k8s.io/v1beta1/namespaces/{}/{metric}?labelSelector=scaledobject.keda.sh%2Fname%3D{scaled_object}",
            self.namespace
        );
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| ReadError::Unreachable(e.to_string()))?;
        let asked = Request::list("external.metrics.k8s.io", metric.to_owned());
        let list: serde_json::Value = match self.client.request(request).await {
            Ok(list) => list,
            Err(kube::Error::Api(status)) if matches!(status.code, 404 | 503) => {
                return Err(ReadError::MetricsNotServed {
                    code: status.code,
                    message: lab_model::line::one_line(&status.message),
                })
            }
            Err(e) => return Err(ReadError::from_kube(e, asked, &self.namespace)),
        };
        let items = list["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return Err(ReadError::Api {
                request: Box::new(asked),
                code: 200,
                reason: String::new(),
                message: "no metrics returned from external metrics API".into(),
            });
        }
        items
            .iter()
            .map(|item| item["value"].as_str().and_then(quantity_milli))
            .sum::<Option<i64>>()
            .ok_or_else(|| ReadError::Api {
                request: Box::new(Request::list("external.metrics.k8s.io", metric.to_owned())),
                code: 200,
                reason: String::new(),
                message: format!("a value that is not a quantity: {list}"),
            })
    }

    /// Every version of the ScaledObject `name` as it changes (None: deleted), from a
    /// watch that lists first and re-watches on its own; an error is yielded and the watch
    /// goes on after a backoff.
    pub fn watch_scaled_object(
        &self,
        name: &str,
    ) -> impl Stream<Item = Result<Option<serde_json::Value>, ReadError>> + Send + 'static {
        let api = self.keda_api("ScaledObject", "scaledobjects");
        self.watch_named(api, name, Request::watch(KEDA.0, "scaledobjects"))
            .map(|r| r.map(|o| o.map(|o| whole(o, "ScaledObject"))))
    }

    /// Every version of the HPA `name` as it changes.
    pub fn watch_hpa(
        &self,
        name: &str,
    ) -> impl Stream<Item = Result<Option<HorizontalPodAutoscaler>, ReadError>> + Send + 'static
    {
        let api = Api::namespaced(self.client.clone(), &self.namespace);
        self.watch_named(
            api,
            name,
            Request::watch("autoscaling", "horizontalpodautoscalers"),
        )
    }

    /// Every version of the Deployment `name` as it changes.
    pub fn watch_deployment(
        &self,
        name: &str,
    ) -> impl Stream<Item = Result<Option<Deployment>, ReadError>> + Send + 'static {
        let api = Api::namespaced(self.client.clone(), &self.namespace);
        self.watch_named(api, name, Request::watch("apps", "deployments"))
    }

    /// Every event of the namespace as it is recorded or updated.
    pub fn watch_events(&self) -> impl Stream<Item = Result<Event, ReadError>> + Send + 'static {
        let api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
        let namespace = self.namespace.clone();
        watch(api, watcher::Config::default()).filter_map(move |item| {
            let namespace = namespace.clone();
            async move {
                match item {
                    Ok(watcher::Event::Apply(e) | watcher::Event::InitApply(e)) => Some(Ok(e)),
                    Ok(_) => None,
                    Err(e) => Some(Err(watch_error(
                        e,
                        Request::watch("", "events"),
                        &namespace,
                    ))),
                }
            }
        })
    }

    fn watch_named<K>(
        &self,
        api: Api<K>,
        name: &str,
        request: Request,
    ) -> impl Stream<Item = Result<Option<K>, ReadError>> + Send + 'static
    where
        K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
    {
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let namespace = self.namespace.clone();
        watch(api, config).filter_map(move |item| {
            let (namespace, request) = (namespace.clone(), request.clone());
            async move {
                match item {
                    Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                        Some(Ok(Some(o)))
                    }
                    Ok(watcher::Event::Delete(_)) => Some(Ok(None)),
                    // A (re)list that found nothing: the object is gone.
                    Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                    Err(e) => Some(Err(watch_error(e, request, &namespace))),
                }
            }
        })
    }
}

/// A watcher on `api`, retried with kube's default backoff after an error (each error is
/// still yielded, so the recorder can mark its cells empty).
fn watch<K>(
    api: Api<K>,
    config: watcher::Config,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    use kube::runtime::WatchStreamExt;
    watcher(api, config).default_backoff()
}

fn watch_error(error: watcher::Error, request: Request, namespace: &str) -> ReadError {
    match error {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => ReadError::from_kube(e, request, namespace),
        watcher::Error::WatchError(status) => {
            ReadError::from_kube(kube::Error::Api(status), request, namespace)
        }
        other => ReadError::Unreachable(other.to_string()),
    }
}

/// A custom resource as one JSON document: apiVersion, kind, metadata and its data.
fn whole(object: DynamicObject, kind: &str) -> serde_json::Value {
    let mut value = object.data;
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), format!("{}/{}", KEDA.0, KEDA.1).into());
        map.insert("kind".into(), kind.into());
        map.insert(
            "metadata".into(),
            serde_json::to_value(&object.metadata).unwrap_or_default(),
        );
    }
    value
}
