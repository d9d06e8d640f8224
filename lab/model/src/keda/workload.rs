//! The scale target as KEDA's webhook and the HPA read it for cpu and memory triggers: the
//! Deployment's (or StatefulSet's) pod template containers with their requests and
//! limits, and the namespace's LimitRange defaults.
//!
//! - KEDA's admission check, apis/keda/v1alpha1/scaledobject_webhook.go
//!   `verifyCPUMemoryScalers`: every container (or the one `containerName` names) must
//!   set the trigger's resource above 0 in its requests or limits, or a LimitRange of
//!   type Container must give it a default; only apps/v1 Deployment and StatefulSet
//!   targets are checked.
//! - The requests the HPA divides by (replica_calculator.go `calculateRequests`): the sum
//!   over containers; the API server makes a missing request the limit (core/v1
//!   defaults.go SetDefaults_ResourceList via the container's limits), and the LimitRanger
//!   admission gives `defaultRequest` (else `default`).

use serde_yaml_ng::Value;

use super::quantity;
use crate::emulator::triggers::{PodRequests, Resource};

/// One container of the pod template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    /// `resources.requests` (cpu millicores, memory milli-bytes) as written.
    pub requests: (Option<i64>, Option<i64>),
    /// `resources.limits`, likewise.
    pub limits: (Option<i64>, Option<i64>),
}

/// The scale target's pod template and the namespace's LimitRange defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Workload {
    /// `Kind/name`, for messages.
    pub object: String,
    pub containers: Vec<Container>,
    /// A LimitRange (type Container) default request (else default) per resource:
    /// (cpu, memory), milli-units.
    pub limit_range: (Option<i64>, Option<i64>),
}

fn resources(v: Option<&Value>) -> (Option<i64>, Option<i64>) {
    let get = |key: &str| {
        v.and_then(|r| r.get(key))
            .and_then(|q| match q {
                Value::String(s) => quantity::milli(s),
                Value::Number(n) => n.as_f64().map(|f| (f * 1000.0).ceil() as i64),
                _ => None,
            })
            .filter(|m| *m > 0)
    };
    (get("cpu"), get("memory"))
}

impl Workload {
    /// The pod template of a Deployment or StatefulSet document.
    pub fn from_document(doc: &Value) -> Option<Workload> {
        let kind = doc.get("kind")?.as_str()?;
        let name = doc.get("metadata")?.get("name")?.as_str()?;
        let containers = doc
            .get("spec")?
            .get("template")?
            .get("spec")?
            .get("containers")?
            .as_sequence()?
            .iter()
            .map(|c| {
                let r = c.get("resources");
                Container {
                    name: c
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_owned(),
                    requests: resources(r.and_then(|r| r.get("requests"))),
                    limits: resources(r.and_then(|r| r.get("limits"))),
                }
            })
            .collect();
        Some(Workload {
            object: format!("{kind}/{name}"),
            containers,
            limit_range: (None, None),
        })
    }

    /// A LimitRange document's Container defaults, merged in.
    pub fn add_limit_range(&mut self, doc: &Value) {
        let limits = doc
            .get("spec")
            .and_then(|s| s.get("limits"))
            .and_then(Value::as_sequence);
        for item in limits.into_iter().flatten() {
            if item.get("type").and_then(Value::as_str) != Some("Container") {
                continue;
            }
            let request = resources(item.get("defaultRequest"));
            let limit = resources(item.get("default"));
            self.limit_range.0 = self.limit_range.0.or(request.0).or(limit.0);
            self.limit_range.1 = self.limit_range.1.or(request.1).or(limit.1);
        }
    }

    /// verifyCPUMemoryScalers for one trigger: the first container without the resource
    /// (requests or limits above 0, or a LimitRange default), KEDA's error for it.
    pub fn missing_request(&self, resource: Resource, container: Option<&str>) -> Option<String> {
        let pick = |pair: (Option<i64>, Option<i64>)| match resource {
            Resource::Cpu => pair.0,
            Resource::Memory => pair.1,
        };
        if pick(self.limit_range).is_some() {
            return None;
        }
        self.containers
            .iter()
            .filter(|c| container.is_none_or(|n| n == c.name))
            .find(|c| pick(c.requests).or(pick(c.limits)).is_none())
            .map(|c| {
                let r = resource.as_str();
                format!("the scaledobject has a {r} trigger but the container {} doesn't have the {r} request defined", c.name)
            })
    }

    /// The requests per pod the HPA divides usage by.
    pub fn requests(&self) -> PodRequests {
        let effective = |c: &Container, i: usize| {
            let of = |pair: (Option<i64>, Option<i64>)| if i == 0 { pair.0 } else { pair.1 };
            of(c.requests).or(of(c.limits)).or(of(self.limit_range))
        };
        let sum = |i: usize| {
            self.containers
                .iter()
                .map(|c| effective(c, i))
                .sum::<Option<i64>>()
        };
        PodRequests {
            cpu_milli: sum(0),
            // Milli-bytes back to bytes.
            memory_bytes: sum(1).map(|m| m / 1000),
            containers: self
                .containers
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        effective(c, 0),
                        effective(c, 1).map(|m| m / 1000),
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(resources: &str) -> Workload {
        let yaml = format!("kind: Deployment\nmetadata: {{name: c}}\nspec: {{template: {{spec: {{containers: [{{name: app, resources: {resources}}}, {{name: side, resources: {{requests: {{cpu: 50m, memory: 8Mi}}}}}}]}}}}}}");
        Workload::from_document(&serde_yaml_ng::from_str(&yaml).unwrap()).unwrap()
    }

    /// scaledobject_webhook.go verifyCPUMemoryScalers / isWorkloadResourceSet: requests or
    /// limits above 0 pass; neither is KEDA's own error naming the container.
    #[test]
    fn the_webhook_wants_a_request_or_a_limit_in_every_container() {
        assert_eq!(
            workload("{requests: {cpu: 200m}}").missing_request(Resource::Cpu, None),
            None
        );
        assert_eq!(
            workload("{limits: {cpu: 500m}}").missing_request(Resource::Cpu, None),
            None
        );
        assert_eq!(
            workload("{requests: {memory: 16Mi}}").missing_request(Resource::Cpu, None),
            Some("the scaledobject has a cpu trigger but the container app doesn't have the cpu request defined".into())
        );
        assert_eq!(
            workload("{}").missing_request(Resource::Cpu, Some("side")),
            None,
            "containerName: only that container"
        );
        let mut w = workload("{}");
        w.add_limit_range(&serde_yaml_ng::from_str("kind: LimitRange\nspec: {limits: [{type: Container, defaultRequest: {cpu: 100m}}]}").unwrap());
        assert_eq!(
            w.missing_request(Resource::Cpu, None),
            None,
            "a LimitRange default"
        );
        assert_eq!(w.requests().cpu_milli, Some(150));
    }

    /// calculateRequests sums the containers; a limit stands in for a missing request.
    #[test]
    fn requests_sum_the_containers_with_limits_for_missing_requests() {
        let r = workload("{limits: {cpu: 500m, memory: 64Mi}}").requests();
        assert_eq!(r.cpu_milli, Some(550));
        assert_eq!(r.memory_bytes, Some(72 << 20));
        assert_eq!(workload("{}").requests().cpu_milli, None);
    }
}
