//! An API stand-in: an HTTP server in the test process answering as a Kubernetes 1.35 API
//! server does for what `lab record`, `lab doctor` and `kubectl` read of a namespace.
//!
//! - Discovery (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`, `/version`) for
//!   the groups involved: core, apps, autoscaling/v2, keda.sh/v1alpha1, events.k8s.io and
//!   external.metrics.k8s.io (the last only while "served").
//! - Lists (`<Kind>List` with a `resourceVersion`), gets, `deployments/<name>/scale`, and
//!   watches: a chunked stream of `{"type","object"}` lines from the resourceVersion asked
//!   for (changes are kept, so a watch started after a list misses nothing), ended after
//!   `timeoutSeconds` as the server ends them. Field selectors `metadata.name=` and
//!   `involvedObject.name=`.
//! - KEDA's metric from the external metrics API, as `ExternalMetricValueList`, or the
//!   error KEDA's metrics server gives (a 500 without a reason).
//! - `Status` errors shaped as apimachinery's: 404 NotFound, 403 Forbidden (the message
//!   naming user, verb, resource, group and namespace), 500 InternalError.
//!
//! Objects are put as JSON: k8s-openapi's types serialized ([`ApiServer::put_typed`]) or,
//! for KEDA's custom resources, the CRD's JSON. The test changes them while a reader runs,
//! and every change and every metric served is logged with its time.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::broadcast;

mod discovery;

/// Where an object lives: its API path prefix, resource, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// `api/v1`, `apis/apps/v1`, `apis/keda.sh/v1alpha1`.
    pub api: String,
    /// The plural (`scaledobjects`).
    pub resource: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

/// What the external metrics API answers for one metric.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricAnswer {
    /// A quantity, as KEDA's metrics server writes it (`"25"`, `"12500m"`).
    Value(String),
    /// An error KEDA's metrics server gives: HTTP 500, no reason.
    Error(String),
}

/// One thing served, with when.
#[derive(Debug, Clone)]
pub struct Served {
    pub at: SystemTime,
    /// `put scaledobjects/kafka-consumer`, `metric s0-kafka-event`.
    pub what: String,
    pub value: Value,
}

#[derive(Debug, Clone)]
struct Change {
    rv: u64,
    key: Key,
    kind: &'static str,
    object: Value,
}

#[derive(Default)]
struct World {
    rv: u64,
    objects: BTreeMap<Key, Value>,
    changes: Vec<Change>,
    metrics: BTreeMap<String, MetricAnswer>,
    metrics_not_served: bool,
    forbidden: Vec<(String, String)>,
    /// With RBAC: only these (group, resource, verb) are allowed; `*` any resource.
    allowed: Option<Vec<(String, String, String)>>,
    failing: BTreeMap<String, u32>,
    served: Vec<Served>,
}

/// The stand-in, serving on a loopback port until dropped.
pub struct ApiServer {
    address: SocketAddr,
    world: Arc<Mutex<World>>,
    changed: broadcast::Sender<Change>,
    _runtime: tokio::runtime::Runtime,
}

/// The user a stand-in's Forbidden messages name (as a pod's service account).
pub const USER: &str = "system:serviceaccount:lab:lab-record";

impl ApiServer {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let world = Arc::new(Mutex::new(World::default()));
        let (changed, _) = broadcast::channel(1024);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let address = listener.local_addr().expect("an address");
        let (w, c) = (world.clone(), changed.clone());
        let app = axum::Router::new().fallback(move |request: Request<Body>| {
            let (w, c) = (w.clone(), c.clone());
            async move { handle(&w, &c, request).await }
        });
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            address,
            world,
            changed,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A kubeconfig pointing at the stand-in, its context in `namespace`, written into
    /// `dir`; returns its path.
    pub fn kubeconfig(&self, dir: &Path, namespace: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stand-in\n  cluster:\n    server: {}\ncontexts:\n- name: stand-in\n  context:\n    cluster: stand-in\n    user: stand-in\n    namespace: {namespace}\ncurrent-context: stand-in\nusers:\n- name: stand-in\n  user:\n    token: stand-in-token\n",
            self.url()
        );
        std::fs::write(&path, text).expect("kubeconfig written");
        path
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts an object (added or modified) and tells the watches.
    pub fn put(&self, key: Key, mut object: Value) {
        let mut world = self.world();
        world.rv += 1;
        let rv = world.rv;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        object["metadata"]["name"] = json!(key.name);
        if !key.namespace.is_empty() {
            object["metadata"]["namespace"] = json!(key.namespace);
        }
        let kind = match world.objects.insert(key.clone(), object.clone()) {
            Some(_) => "MODIFIED",
            None => "ADDED",
        };
        world.served.push(Served {
            at: SystemTime::now(),
            what: format!("put {}/{}", key.resource, key.name),
            value: object.clone(),
        });
        let change = Change {
            rv,
            key,
            kind,
            object,
        };
        world.changes.push(change.clone());
        let _ = self.changed.send(change);
    }

    /// Puts a k8s-openapi object (its apiVersion and kind filled in).
    pub fn put_typed<K>(&self, namespace: &str, object: &K)
    where
        K: k8s_openapi::Resource
            + serde::Serialize
            + k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
    {
        let mut value = serde_json::to_value(object).expect("serializable");
        value["apiVersion"] = json!(K::API_VERSION);
        value["kind"] = json!(K::KIND);
        let api = match K::GROUP {
            "" => format!("api/{}", K::VERSION),
            group => format!("apis/{group}/{}", K::VERSION),
        };
        let key = Key {
            api,
            resource: K::URL_PATH_SEGMENT.to_owned(),
            namespace: namespace.to_owned(),
            name: object.metadata().name.clone().expect("a named object"),
        };
        self.put(key, value);
    }

    /// Deletes an object and tells the watches.
    pub fn delete(&self, key: &Key) {
        let mut world = self.world();
        if let Some(object) = world.objects.remove(key) {
            world.rv += 1;
            let change = Change {
                rv: world.rv,
                key: key.clone(),
                kind: "DELETED",
                object,
            };
            world.changes.push(change.clone());
            let _ = self.changed.send(change);
        }
    }

    /// What the external metrics API answers for `metric` from now on.
    pub fn set_metric(&self, metric: &str, answer: MetricAnswer) {
        self.world().metrics.insert(metric.to_owned(), answer);
    }

    /// The external metrics API goes away (404, as when KEDA's APIService is absent).
    pub fn metrics_not_served(&self) {
        self.world().metrics_not_served = true;
    }

    /// `verb` on `resource` answers 403 from now on.
    pub fn forbid(&self, verb: &str, resource: &str) {
        self.world()
            .forbidden
            .push((verb.to_owned(), resource.to_owned()));
    }

    /// From now on only `rules` (group, resource, verb; resource `*` for any) are allowed,
    /// as an RBAC Role grants them; anything else answers 403.
    pub fn authorize(&self, rules: Vec<(String, String, String)>) {
        self.world().allowed = Some(rules);
    }

    /// The next `n` requests for `resource` answer 500.
    pub fn fail_next(&self, resource: &str, n: u32) {
        self.world().failing.insert(resource.to_owned(), n);
    }

    /// Everything served so far, in order.
    pub fn served(&self) -> Vec<Served> {
        self.world().served.clone()
    }
}

/// The parts of a request path the stand-in routes on.
#[derive(Debug)]
struct Route {
    api: String,
    namespace: String,
    resource: String,
    name: Option<String>,
    subresource: Option<String>,
}

fn route(path: &str) -> Option<Route> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (api, rest) = match parts.as_slice() {
        ["api", v, rest @ ..] => (format!("api/{v}"), rest),
        ["apis", g, v, rest @ ..] => (format!("apis/{g}/{v}"), rest),
        _ => return None,
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (ns.to_string(), rest),
        rest => (String::new(), rest),
    };
    let (resource, name, subresource) = match rest {
        [r] => (r.to_string(), None, None),
        [r, n] => (r.to_string(), Some(n.to_string()), None),
        [r, n, s] => (r.to_string(), Some(n.to_string()), Some(s.to_string())),
        _ => return None,
    };
    Some(Route {
        api,
        namespace,
        resource,
        name,
        subresource,
    })
}

fn query(request: &Request<Body>) -> BTreeMap<String, String> {
    request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => {
                match u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(code: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("a response")
}

/// A `Status` as apimachinery writes it.
fn status(code: u16, reason: &str, message: String, details: Value) -> Response {
    let mut body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "code": code,
    });
    if !reason.is_empty() {
        body["reason"] = json!(reason);
    }
    if !details.is_null() {
        body["details"] = details;
    }
    respond(StatusCode::from_u16(code).expect("a status code"), body)
}

fn group_of(api: &str) -> &str {
    api.strip_prefix("apis/")
        .and_then(|g| g.split('/').next())
        .unwrap_or("")
}

async fn handle(
    world: &Arc<Mutex<World>>,
    changed: &broadcast::Sender<Change>,
    request: Request<Body>,
) -> Response {
    let path = request.uri().path().to_owned();
    if let Some(body) = discovery::discovery(&path, {
        let w = world.lock().unwrap_or_else(|e| e.into_inner());
        !w.metrics_not_served
    }) {
        return respond(StatusCode::OK, body);
    }
    let q = query(&request);
    let Some(route) = route(&path) else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            Value::Null,
        );
    };
    let watching = q.get("watch").is_some_and(|w| w != "false" && w != "0");
    let verb = match (&route.name, watching) {
        (_, true) => "watch",
        (Some(_), false) if !route.api.starts_with("apis/external.metrics") => "get",
        _ => "list",
    };
    if let Some(refusal) = refuse(world, &route, verb) {
        return refusal;
    }
    if route.api == "apis/external.metrics.k8s.io/v1beta1" {
        return metric(world, &route, &q);
    }
    if watching {
        return watch(world, changed, route, &q);
    }
    let w = world.lock().unwrap_or_else(|e| e.into_inner());
    match (&route.name, &route.subresource) {
        (None, _) => respond(StatusCode::OK, list(&w, &route, &q)),
        (Some(name), sub) => {
            let key = Key {
                api: route.api.clone(),
                resource: route.resource.clone(),
                namespace: route.namespace.clone(),
                name: name.clone(),
            };
            match (w.objects.get(&key), sub.as_deref()) {
                (Some(object), None) => respond(StatusCode::OK, object.clone()),
                (Some(object), Some("scale")) => respond(StatusCode::OK, scale(object)),
                _ => not_found(&route, name),
            }
        }
    }
}

/// A 403 for a forbidden verb, or a 500 for a failing resource.
fn refuse(world: &Arc<Mutex<World>>, route: &Route, verb: &str) -> Option<Response> {
    let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
    let resource = match &route.subresource {
        Some(sub) => format!("{}/{sub}", route.resource),
        None => route.resource.clone(),
    };
    let group = group_of(&route.api).to_owned();
    let granted = |rules: &Vec<(String, String, String)>| {
        rules
            .iter()
            .any(|(g, r, v)| *g == group && (r == "*" || *r == resource) && v == verb)
    };
    let denied = w.forbidden.iter().any(|(v, r)| v == verb && *r == resource)
        || w.allowed.as_ref().is_some_and(|rules| !granted(rules));
    if denied {
        let qualified = if group.is_empty() {
            route.resource.clone()
        } else {
            format!("{}.{group}", route.resource)
        };
        let object = route
            .name
            .as_ref()
            .map_or(String::new(), |n| format!(" \"{n}\""));
        let message = format!(
            "{qualified}{object} is forbidden: User \"{USER}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \"{}\"",
            route.namespace
        );
        let details = json!({"name": route.name, "group": group, "kind": route.resource});
        return Some(status(403, "Forbidden", message, details));
    }
    match w.failing.get_mut(&route.resource) {
        Some(n) if *n > 0 => {
            *n -= 1;
            let message = "Internal error occurred: etcdserver: request timed out".to_owned();
            let details = json!({"causes": [{"message": "etcdserver: request timed out"}]});
            Some(status(500, "InternalError", message, details))
        }
        _ => None,
    }
}

fn not_found(route: &Route, name: &str) -> Response {
    let group = group_of(&route.api);
    let qualified = if group.is_empty() {
        route.resource.clone()
    } else {
        format!("{}.{group}", route.resource)
    };
    let details = json!({"name": name, "group": group, "kind": route.resource});
    status(
        404,
        "NotFound",
        format!("{qualified} \"{name}\" not found"),
        details,
    )
}

/// Whether `object` passes the request's field selector.
fn selected(object: &Value, q: &BTreeMap<String, String>) -> bool {
    let Some(selector) = q.get("fieldSelector") else {
        return true;
    };
    selector.split(',').all(|term| match term.split_once('=') {
        Some(("metadata.name", v)) => object["metadata"]["name"] == v,
        Some(("involvedObject.name", v)) => object["involvedObject"]["name"] == v,
        _ => true,
    })
}

fn list(w: &World, route: &Route, q: &BTreeMap<String, String>) -> Value {
    let items: Vec<Value> = w
        .objects
        .iter()
        .filter(|(k, _)| {
            k.api == route.api
                && k.resource == route.resource
                && (route.namespace.is_empty() || k.namespace == route.namespace)
        })
        .map(|(_, v)| v)
        .filter(|v| selected(v, q))
        .cloned()
        .collect();
    let kind = items.first().and_then(|i| i["kind"].as_str()).map_or_else(
        || discovery::kind_of(&route.resource).to_owned(),
        str::to_owned,
    );
    json!({
        "apiVersion": route.api.trim_start_matches("apis/").trim_start_matches("api/"),
        "kind": format!("{kind}List"),
        "metadata": {"resourceVersion": w.rv.to_string()},
        "items": items,
    })
}

/// `deployments/<name>/scale`: an autoscaling/v1 Scale of the Deployment.
fn scale(object: &Value) -> Value {
    json!({
        "apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"]},
        "spec": {"replicas": object["spec"]["replicas"]},
        "status": {"replicas": object["status"]["replicas"], "selector": "app=kafka-consumer"},
    })
}

fn metric(world: &Arc<Mutex<World>>, route: &Route, q: &BTreeMap<String, String>) -> Response {
    let mut w = world.lock().unwrap_or_else(|e| e.into_inner());
    if w.metrics_not_served {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            Value::Null,
        );
    }
    let name = route.resource.clone();
    let answer = w.metrics.get(&name).cloned();
    let selector = q.get("labelSelector").cloned().unwrap_or_default();
    let served = |value: Value| Served {
        at: SystemTime::now(),
        what: format!("metric {name}"),
        value,
    };
    match answer {
        Some(MetricAnswer::Value(v)) if selector.starts_with("scaledobject.keda.sh/name=") => {
            w.served.push(served(json!(v)));
            respond(StatusCode::OK, json!({
                "kind": "ExternalMetricValueList", "apiVersion": "external.metrics.k8s.io/v1beta1", "metadata": {},
                "items": [{"metricName": name, "metricLabels": null, "timestamp": "2026-12-07T00:00:00Z", "value": v}],
            }))
        }
        Some(MetricAnswer::Error(e)) => {
            w.served.push(served(json!({"error": e})));
            status(500, "", format!("rpc error: code = Unknown desc = {e}"), Value::Null)
        }
        _ => status(500, "", format!("rpc error: code = Unknown desc = error when getting metric values no matching metrics found for {name}"), Value::Null),
    }
}

fn watch(
    world: &Arc<Mutex<World>>,
    changed: &broadcast::Sender<Change>,
    route: Route,
    q: &BTreeMap<String, String>,
) -> Response {
    let from: u64 = q
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let timeout = Duration::from_secs(
        q.get("timeoutSeconds")
            .and_then(|t| t.parse().ok())
            .unwrap_or(300),
    );
    let live = changed.subscribe();
    let earlier: Vec<Change> = {
        let w = world.lock().unwrap_or_else(|e| e.into_inner());
        w.changes.iter().filter(|c| c.rv > from).cloned().collect()
    };
    let q = q.clone();
    let wanted = move |c: &Change| {
        c.key.api == route.api
            && c.key.resource == route.resource
            && (route.namespace.is_empty() || c.key.namespace == route.namespace)
            && selected(&c.object, &q)
    };
    let stream = async_stream_lines(earlier, move || live.resubscribe(), wanted, timeout, from);
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .expect("a response")
}

/// The watch's body: the kept changes after `from`, then live ones, each a JSON line,
/// until `timeout`.
fn async_stream_lines(
    earlier: Vec<Change>,
    live: impl FnOnce() -> broadcast::Receiver<Change> + Send + 'static,
    wanted: impl Fn(&Change) -> bool + Send + Sync + 'static,
    timeout: Duration,
    from: u64,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> + Send + 'static {
    fn line(c: &Change) -> String {
        format!("{}\n", json!({"type": c.kind, "object": c.object}))
    }
    let mut sent = from;
    let first: Vec<String> = earlier
        .iter()
        .filter(|c| wanted(c))
        .map(|c| {
            sent = sent.max(c.rv);
            line(c)
        })
        .collect();
    let deadline = tokio::time::Instant::now() + timeout;
    let rest =
        futures::stream::unfold((live(), wanted), move |(mut receiver, wanted)| async move {
            let next = async {
                loop {
                    match receiver.recv().await {
                        Ok(c) if c.rv > sent && wanted(&c) => return Some(line(&c)),
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            };
            match tokio::time::timeout_at(deadline, next).await {
                Ok(Some(text)) => Some((Ok(text), (receiver, wanted))),
                _ => None,
            }
        });
    futures::StreamExt::chain(futures::stream::iter(first.into_iter().map(Ok)), rest)
}
